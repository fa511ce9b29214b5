"""Helpers shared by the command-line modules: output format, list and NAME=VALUE option parsers, JSON/text
output, tables, PNG bytes.  Nothing here imports the science packages, pandas or matplotlib at module level."""

from __future__ import annotations

import contextvars
import json
import math
import re
from enum import Enum

import typer

__all__ = ["Format", "FORMAT", "emit", "frame", "png_bytes", "name_values", "name_value_units", "floats", "ints",
           "names",
           "rows_text", "rows_csv", "flag_message",
           "about_file", "png_path", "output_file"]


class Format(str, Enum):
    text = "text"
    json = "json"


FORMAT = typer.Option(Format.text, "--format", help="Output format: text, or json (the result's record).")


def emit(obj: dict, fmt: Format, text: str, wrote=()) -> None:
    """Print ``obj`` as strict JSON with ``--format json``, else ``text`` followed by a ``wrote PATH`` line for
    every file written (``wrote``; None entries skipped)."""
    if fmt == Format.json:
        typer.echo(json.dumps(obj, indent=2, allow_nan=False, default=float))
        return
    typer.echo(text + "".join(f"\nwrote {p}" for p in wrote if p is not None))


#: An interval bound smaller than this fraction of its estimate is zero to the precision shown, and printed as 0
#: (a log-scale interval with a huge SE gives ``exp(log est - z se) = 2e-33``). JSON keeps the computed value.
NEGLIGIBLE = 1e-12


def bound(v, estimate, spec: str = ".4g") -> str:
    """An interval bound as text: ``n/a`` when undetermined (None or non-finite), ``0`` when negligible beside its
    ``estimate`` (see :data:`NEGLIGIBLE`), else ``v`` in format ``spec``."""
    import math
    if v is None or not math.isfinite(v):
        return "n/a"
    if estimate is not None and math.isfinite(estimate) and abs(v) < NEGLIGIBLE * abs(estimate):
        return "0"
    return f"{v:{spec}}"


def _interval_base(column: str, columns) -> str | None:
    """The estimate column an interval column (``ci_low``, ``slope_ci_high``, ``gmr_ci_low_welch``) bounds."""
    for end in ("ci_low", "ci_high", "ci_lower", "ci_upper"):
        if end in column:
            head, tail = column.split(end, 1)
            base = (head.rstrip("_") or "estimate") + tail
            return base if base in columns else None
    return None


def frame(df, digits: int = 4) -> str:
    """A table as plain text; a column that holds nothing (all None, e.g. the curve label of a single curve) is left
    out and other None cells are blank, so no 'None' is printed; an interval bound negligible beside its estimate
    (:data:`NEGLIGIBLE`) is printed as 0."""
    empty = [c for c in df.columns if df[c].dtype == object and df[c].isna().all()]
    df = df.drop(columns=empty)
    for c in df.columns:
        base = _interval_base(str(c), df.columns)
        if base is not None and df[c].dtype.kind == "f" and df[base].dtype.kind in "fi":
            tiny = df[c].abs() < NEGLIGIBLE * df[base].abs()
            if tiny.any():
                df = df.assign(**{c: df[c].mask(tiny, 0.0)})
    for c in df.columns:
        if df[c].dtype == object and df[c].isna().any():
            df = df.assign(**{c: df[c].where(df[c].notna(), "")})
    return df.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")


def rows_text(rows: list[dict], missing: str = "NA", digits: int = 4) -> str:
    """Row objects as a plain-text table (right-aligned columns, like :func:`frame`) without pandas."""
    if not rows:
        return ""
    cols = list(rows[0])

    def cell(v) -> str:
        if v is None:
            return missing
        if isinstance(v, float):
            return f"{v:.{digits}g}"
        return str(v)

    body = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in body)) for i, c in enumerate(cols)]
    lines = [" ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(line, widths)) for line in body]
    return "\n".join(lines)


def rows_csv(rows: list[dict]) -> str:
    """Row objects as CSV text (header line, missing values empty, no trailing newline) without pandas."""
    import csv
    import io
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().rstrip("\n")


#: When a study runs a command, it sets this to a dict: every figure the command renders to PNG is then also
#: rendered to SVG, kept as ``{png bytes: svg bytes}`` so the study can write the SVG beside the PNG file that
#: holds those bytes (:mod:`adcbridge.study.kinds`).  None (the default) renders PNG only.
SVG_COPIES: contextvars.ContextVar[dict | None] = contextvars.ContextVar("SVG_COPIES", default=None)


def png_bytes(fig) -> bytes:
    """A matplotlib figure rendered to PNG (the figure is closed); also to SVG into :data:`SVG_COPIES` when a
    study asks for it (no date in the SVG, fixed element ids: the same figure gives the same bytes)."""
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    png = buf.getvalue()
    copies = SVG_COPIES.get()
    if copies is not None:
        import matplotlib
        svg = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "adcbridge", "svg.fonttype": "none"}):
            fig.savefig(svg, format="svg", metadata={"Date": None})
        copies[png] = svg.getvalue()
    plt.close(fig)
    return png


def name_values(values: list[str], option: str) -> dict[str, float]:
    """``["CL=0.8", "V1=40"]`` -> ``{"CL": 0.8, "V1": 40.0}``; a bad item is a usage error naming ``option``."""
    out = {}
    for item in values:
        name, sep, number = item.partition("=")
        try:
            value = float(number)
        except ValueError:
            sep = ""
        if not sep or not name.strip() or not math.isfinite(value):
            raise typer.BadParameter(f"expected NAME=NUMBER (e.g. c=0), got {item!r}", param_hint=f"'{option}'")
        if name.strip() in out:
            raise typer.BadParameter(f"gives {name.strip()} twice", param_hint=f"'{option}'")
        out[name.strip()] = value
    return out


def floats(text: str | None, option: str) -> list[float] | None:
    """``"1,2.5,4"`` -> ``[1.0, 2.5, 4.0]`` (None stays None).

    Every entry must be a finite number: an empty entry (``"1,,2"``, a trailing comma), text, NaN or inf is a
    usage error naming ``option`` -- never silently dropped, since dropping one would shift the dose levels."""
    if text is None:
        return None
    parts = _entries(text, option, "numbers like 1,2.5,4")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=f"'{option}'") from None
    if not all(math.isfinite(v) for v in values):
        raise typer.BadParameter(f"expected comma-separated finite numbers, got {text!r}", param_hint=f"'{option}'")
    return values


def ints(text: str | None, option: str) -> list[int] | None:
    """``"3,6,0"`` -> ``[3, 6, 0]``; the rules of :func:`floats` plus every entry a whole number."""
    values = floats(text, option)
    if values is None:
        return None
    if any(v != int(v) for v in values):
        raise typer.BadParameter(f"expected comma-separated whole numbers, got {text!r}", param_hint=f"'{option}'")
    return [int(v) for v in values]


def name_value_units(items: list[str], option: str) -> dict[str, tuple[float, str]]:
    """``["CL=18.2:mL/day/kg"]`` -> ``{"CL": (18.2, "mL/day/kg")}``; a malformed or repeated name is a usage
    error naming ``option``."""
    out: dict[str, tuple[float, str]] = {}
    for item in items:
        name, sep, rest = item.partition("=")
        value, sep2, unit = rest.partition(":")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            sep = ""
        if not (sep and sep2 and name and unit.strip()) or not math.isfinite(number):
            raise typer.BadParameter(f"expected NAME=VALUE:UNIT (e.g. CL=18.2:mL/day/kg), got {item!r}",
                                     param_hint=f"'{option}'")
        if name in out:
            raise typer.BadParameter(f"gives {name} twice", param_hint=f"'{option}'")
        out[name] = (number, unit.strip())
    return out


def names(text: str | None, option: str) -> list[str] | None:
    """``"SEX,DOSE"`` -> ``["SEX", "DOSE"]`` (None stays None); an empty entry is a usage error naming ``option``."""
    return None if text is None else _entries(text, option, "names like A,B")


def _entries(text: str, option: str, example: str) -> list[str]:
    """The comma-separated entries of ``text``, stripped; an empty one is a usage error naming ``option``."""
    parts = [p.strip() for p in text.split(",")]
    if any(p == "" for p in parts):
        raise typer.BadParameter(f"has an empty entry in {text!r}; give comma-separated {example}",
                                 param_hint=f"'{option}'")
    return parts


#: specification parameters whose command-line flag is not ``--`` + the name with dashes
#: (the first of several candidates that the user typed is named)
FLAG_OF_PARAMETER = {"n_cohorts": ("--cohorts",), "n_doses": ("--doses",), "dose_levels": ("--doses",),
                     "n_trials": ("--trials",), "cohorts": ("--cohorts",), "fixed": ("--fix",),
                     "partial_aucs": ("--partial",), "body_weight_kg": ("--body-weight",),
                     "human_weight_kg": ("--human-weight",), "animal_dose": ("--hnstd", "--std10"),
                     "exponents": ("--exponent",), "start_dose": ("--start-dose", "--start"),
                     "n_levels": ("--levels",), "units": ("--conc-unit", "--time-unit", "--dose-unit")}

_SPEC_SENTENCE = re.compile(r"The '(?P<param>[A-Za-z_][A-Za-z0-9_]*)' (?:parameter(?: of [A-Za-z0-9+_ -]+?)?|"
                            r"argument)(?P<sep> \(|:? )")


def flag_message(message: str, args: list[str]) -> str:
    """A specification's error in the words of the command line: ``The 'n_cohorts' parameter of boin should be
    ...`` becomes ``Invalid value for '--cohorts': should be ...`` when the user gave ``--cohorts``.  Messages about
    parameters the user did not give as flags keep the specification's names."""
    def flag_for(param: str) -> str | None:
        for flag in FLAG_OF_PARAMETER.get(param, ()) + ("--" + param.replace("_", "-"),):   # pk's --n-doses too
            if any(a == flag or a.startswith(flag + "=") for a in args):
                return flag
        return None

    m = _SPEC_SENTENCE.search(message)
    if m and (flag := flag_for(m.group("param"))):
        head, rest = message[:m.start()], message[m.end():]
        if m.group("sep") == " (":
            return f"{head}Invalid value for '{flag}' ({rest}"
        return f"{head}Invalid value for '{flag}': {rest}"
    return message


def about_file(exc: ValueError, path) -> ValueError:
    """A library error about the table read from ``path``, with the file named once in front: unchanged when it
    already names a file (a table check's message starts with its source) or is about an option's value (a
    specification error, which names the parameter)."""
    from adcbridge.spec import SpecError
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, SpecError) or getattr(exc, "source", None) or text.startswith(f"{path}:"):
        return ValueError(text)
    return ValueError(f"{path}: {text}")


def png_path(path, option: str):
    """``path`` for a PNG figure: a name ending in ``.png`` (any case), else a usage error naming ``option`` (a
    figure written under another suffix would not open as what its name says); and a place that can take it, else
    an OSError naming ``path`` (:func:`output_file`).  Called before the work, so that a figure that cannot be
    written fails the command at once, not after the computation."""
    if path is not None and not str(path).lower().endswith(".png"):
        raise typer.BadParameter(f"writes a PNG image: give a file name ending in .png, got {str(path)!r}",
                                 param_hint=f"'{option}'")
    return output_file(path)


def output_file(path):
    """``path`` of a single output file, checked before the work (:func:`adcbridge.io.files.probe_output_file`):
    an OSError naming ``path`` when its folder is missing or cannot take files (``/proc``, a read-only folder),
    when it is a folder or an existing read-only file.  None stays None."""
    if path is not None:
        from adcbridge.io.files import probe_output_file
        probe_output_file(path)
    return path
