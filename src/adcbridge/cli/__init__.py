"""The ``adcbridge`` command: a thin layer mapping commands onto library calls.

One module per science package (:mod:`.dosefinding`, :mod:`.nca`, :mod:`.assays`, :mod:`.pk`,
:mod:`.translation`) plus shared option types and output helpers (:mod:`.common`).  A command parses its
arguments, calls one library function and writes; heavy imports happen inside the command that needs them.
Every command prints text by default and JSON (the result's record) with ``--format json``.  Bad arguments exit
with status 2 and one line naming the argument (no traceback).
"""

from __future__ import annotations

import sys

import typer

from adcbridge import __version__
from adcbridge.cli.common import flag_message
from adcbridge.cli.assays import fit_app
from adcbridge.cli.designs import next_cmd
from adcbridge.cli.dosefinding import boin_app, demo, simulate_cmd
from adcbridge.cli.nca import nca_cmd, nca_stats_cmd
from adcbridge.cli.pk import pk_app
from adcbridge.cli.translation import fih, translate_app

__all__ = ["app", "main"]

app = typer.Typer(help="adcbridge: from an ADC's preclinical package to a first-in-human dose-escalation trial.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(boin_app, name="boin")
app.command("next")(next_cmd)
app.command("simulate")(simulate_cmd)
app.command("demo")(demo)
app.command("nca")(nca_cmd)
app.command("nca-stats")(nca_stats_cmd)
app.add_typer(fit_app, name="fit")
app.add_typer(pk_app, name="pk")
app.command("fih")(fih)
app.add_typer(translate_app, name="translate")


@app.command("version")
def version():
    """Print the adcbridge version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning bad arguments into one line and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args or ["--help"], prog_name="adcbridge", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except ValueError as exc:                 # invalid input caught by the library
        typer.echo(f"adcbridge: error: {flag_message(str(exc).splitlines()[0], args)}", err=True)
        return 2
    except OSError as exc:                    # a path that cannot be read or written
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        typer.echo(f"adcbridge: error: {where}{exc.strerror or exc}", err=True)
        return 2
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):   # a usage error of the parser
            text = " ".join(exc.format_message().split()).replace("Value error, ", "")
            if not text:                       # a command group called without a command: its help was shown
                return 0
            typer.echo(f"adcbridge: error: {text}", err=True)
            return 2
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

