"""Running the command line in-process for the CLI tests."""

from adcbridge.cli import main


def run(capsys, *args):
    """Exit code, stdout and stderr of ``adcbridge ARGS`` (arguments converted with ``str``)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def override(args, *extra):
    """``args`` with the options of ``extra`` (``--flag value`` pairs or bare flags) put in place of the same options
    in ``args``: the command line refuses an option given twice."""
    flags = {str(a) for a in extra if str(a).startswith("--")}
    out, skip = [], False
    for k, a in enumerate(args):
        if skip:
            skip = False
            continue
        if str(a) in flags:
            skip = k + 1 < len(args) and not str(args[k + 1]).startswith("--")
            continue
        out.append(a)
    return out + list(extra)
