"""Running the command line in-process for the CLI tests."""

from adcbridge.cli import main


def run(capsys, *args):
    """Exit code, stdout and stderr of ``adcbridge ARGS`` (arguments converted with ``str``)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err
