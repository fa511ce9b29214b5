"""The ``adcbridge`` command: a thin layer mapping commands onto library calls.

One module per science package (:mod:`.dosefinding`, :mod:`.nca`, :mod:`.assays`, :mod:`.pk`,
:mod:`.translation`) plus shared option types and output helpers (:mod:`.common`).  A command parses its
arguments, calls one library function and writes; heavy imports happen inside the command that needs them.
Every command prints text by default and JSON (the result's record) with ``--format json``.  Bad arguments exit
with status 2 and one line naming the argument (no traceback).
"""

from __future__ import annotations

import re
import sys

import typer

from adcbridge import __version__
from adcbridge.cli.assays import fit_app
from adcbridge.cli.common import flag_message
from adcbridge.cli.conduct import audit_app, backup_cmd, db_app, serve_cmd, users_app
from adcbridge.cli.designs import next_cmd, pathways_cmd
from adcbridge.cli.dosefinding import boin_app, simulate_cmd, trial_cmd
from adcbridge.cli.nca import nca_cmd, nca_stats_cmd
from adcbridge.cli.pk import pk_app
from adcbridge.cli.qualification import validate_cmd
from adcbridge.cli.study import demo_cmd, init_cmd, run_cmd
from adcbridge.cli.sweep import sweep_cmd
from adcbridge.cli.translation import fih, translate_app

__all__ = ["app", "main"]

app = typer.Typer(help="adcbridge: from an ADC's preclinical package to a first-in-human dose-escalation trial.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(boin_app, name="boin")
app.command("next")(next_cmd)
app.command("simulate")(simulate_cmd)
app.command("sweep")(sweep_cmd)
app.command("pathways")(pathways_cmd)
app.command("trial")(trial_cmd)
app.command("demo")(demo_cmd)
app.command("nca")(nca_cmd)
app.command("nca-stats")(nca_stats_cmd)
app.add_typer(fit_app, name="fit")
app.add_typer(pk_app, name="pk")
app.command("fih")(fih)
app.command("run")(run_cmd)
app.command("init")(init_cmd)
app.command("validate")(validate_cmd)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.command("serve")(serve_cmd)
app.command("backup")(backup_cmd)
app.add_typer(translate_app, name="translate")


@app.command("version")
def version():
    """Print the adcbridge version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning bad arguments into one line and exit status 2.  A warning raised while a
    command succeeds is printed as one line ``adcbridge: warning: ...`` on stderr (never Python's two-line form
    with a source path); when the command fails, its error is the one line."""
    import warnings
    args = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", DeprecationWarning)          # as Python's own defaults: not for users
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        code = _run(args)
    if code == 0:
        seen = set()
        for w in caught:
            text = str(w.message).splitlines()[0] if str(w.message) else w.category.__name__
            if text not in seen:
                seen.add(text)
                prefix = "" if issubclass(w.category, UserWarning) and w.category is UserWarning else \
                    f"{w.category.__name__}: "
                typer.echo(f"adcbridge: warning: {prefix}{text}", err=True)
    return code


def _leaf(command, args: list[str]):
    """The command that runs and its own arguments (walking down the command groups), or (None, [])."""
    for k, token in enumerate(args):
        if not hasattr(command, "commands"):
            return command, args[k:]
        if token == "--":
            return None, []
        if not token.startswith("-") and token in command.commands:
            command = command.commands[token]
    return None, []


def _is_path(param) -> bool:
    """Whether a parameter takes a file or folder (annotated ``Path``)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return "Path" in repr(annotation) or type(getattr(param, "type", None)).__name__ == "Path"


def empty_path(command, args: list[str]) -> str | None:
    """The message for an empty file or folder name (``--out ""``), or None: ``Path("")`` is the current folder,
    so ``boin protocol --out ""`` would write its files there."""
    command, args = _leaf(command, args)
    if command is None:
        return None
    params = command.get_params(command.context_class(command))
    owner = {opt: p for p in params if getattr(p, "param_type_name", "") == "option"
             for opt in (*p.opts, *p.secondary_opts)}
    paths = [p for p in params if getattr(p, "param_type_name", "") == "argument" and _is_path(p)]
    k = 0
    while k < len(args):
        token = args[k]
        if token == "--":
            break
        name, eq, value = token.partition("=")
        param = owner.get(name if token.startswith("--") else token)
        if param is not None and not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            if not eq:
                k += 1
                value = args[k] if k < len(args) else None
            if value is not None and not value.strip() and _is_path(param):
                return f"Invalid value for '{name}': an empty path; give a file or folder name"
        elif param is None and not token.strip() and paths:
            return f"Invalid value for '{paths[0].name.upper()}': an empty path; give a file or folder name"
        k += 1
    return None


def repeated_option(command, args: list[str]) -> str | None:
    """The message for an option given twice on the command line (``--target 0.3 ... --target 0.25``), or None.
    Click keeps the last one silently; a command line that says two things is refused instead.  Options that take
    several values by repetition (``multiple``) and counters are exempt; ``--x`` and ``--no-x`` count as one.
    (Typer carries its own copy of Click, so groups and options are recognised by what they have.)"""
    command, args = _leaf(command, args)
    if command is None:
        return None
    owner = {}
    for param in command.get_params(command.context_class(command)):
        if getattr(param, "param_type_name", "") == "option" and not getattr(param, "multiple", False) \
                and not getattr(param, "count", False):
            for opt in (*param.opts, *param.secondary_opts):
                owner[opt] = param
    seen: dict[int, str] = {}
    for token in args:
        if token == "--":
            break
        opt = token.split("=", 1)[0] if token.startswith("--") else token
        param = owner.get(opt)
        if param is None:
            continue
        if id(param) in seen:
            return f"Invalid value for '{opt}': given more than once; give it once (the last would silently win)"
        seen[id(param)] = token
    return None


_PARSER_SENTENCE = re.compile(r"^(?P<head>.*Invalid value for '(?P<flag>-[\w-]+)'(?: / '[^']*')*: )"
                              r"(?P<rest>Input should be .*)$")


def parser_words(text: str, args: list[str]) -> str:
    """A parser's message in the house's words, with the value given: Typer checks an option's type and range
    with pydantic (``Invalid value for '--trials': Input should be a valid integer, unable to parse string as an
    integer``), which becomes ``Invalid value for '--trials': must be a whole number. Got 2.5.`` (a number as
    typed, other text quoted).  A whole number in exponent notation is read before (:func:`whole_numbers`)."""
    m = _PARSER_SENTENCE.match(text)
    if not m:
        return text
    from adcbridge.spec import house_words
    words = house_words(m.group("rest")).rstrip(".")
    flag, value = m.group("flag"), None
    for k, token in enumerate(args):
        if token == flag and k + 1 < len(args):
            value = args[k + 1]
        elif token.startswith(flag + "="):
            value = token.split("=", 1)[1]
    if value is None:
        return m.group("head") + words + "."
    try:
        float(value)
        shown = value                       # a number as typed
    except ValueError:
        shown = repr(value)
    return m.group("head") + words + f". Got {shown}."


_EXPONENT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


def _takes_int(param) -> bool:
    import typing
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation is int or (typing.get_origin(annotation) is not None and int in typing.get_args(annotation))


def whole_numbers(command, args: list[str]) -> list[str]:
    """``args`` with a whole number written in exponent notation (``--trials 1e5``) given to a whole-number option
    as digits (``100000``), as the parser reads ``100000.0`` and YAML files read ``trials: 1e5``; a fraction
    (``1.5e0``) is left for the parser to refuse."""
    leaf, rest = _leaf(command, args)
    if leaf is None:
        return args
    owner = {opt: p for p in leaf.get_params(leaf.context_class(leaf)) if getattr(p, "param_type_name", "") == "option"
             and _takes_int(p) for opt in (*p.opts, *p.secondary_opts)}
    out, offset = list(args), len(args) - len(rest)
    for k, token in enumerate(rest):
        if token == "--":
            break
        name, eq, value = token.partition("=")
        if eq and name in owner and _EXPONENT.match(value) and float(value).is_integer():
            out[offset + k] = f"{name}={int(float(value))}"
        elif token in owner and k + 1 < len(rest) and _EXPONENT.match(rest[k + 1]) and float(rest[k + 1]).is_integer():
            out[offset + k + 1] = str(int(float(rest[k + 1])))
    return out


def _run(args: list[str]) -> int:
    try:
        command = typer.main.get_command(app)
        args = whole_numbers(command, args)
        refused = repeated_option(command, args) or empty_path(command, args)
        if refused:
            typer.echo(f"adcbridge: error: {refused}", err=True)
            return 2
        rv = command(args=args or ["--help"], prog_name="adcbridge", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except ValueError as exc:                 # invalid input caught by the library
        if getattr(exc, "problems", None):    # a file with several problems (a study file): all of them
            typer.echo(f"adcbridge: error: {exc}", err=True)
            return 2
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
            text = parser_words(text, args)
            typer.echo(f"adcbridge: error: {text}", err=True)
            return 2
        if type(exc).__name__ == "OperationalError" and type(exc).__module__.startswith("sqlalchemy"):
            first = str(getattr(exc, "orig", None) or exc).splitlines()[0]     # a database that cannot be reached
            typer.echo(f"adcbridge: error: the database cannot be used: {first}", err=True)
            return 2
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

