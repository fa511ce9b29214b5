"""Helpers shared by the command-line modules: output format, JSON/text output, tables, PNG bytes."""

from __future__ import annotations

import json
from enum import Enum

import typer

__all__ = ["Format", "emit", "frame", "png_bytes", "name_values"]


class Format(str, Enum):
    text = "text"
    json = "json"


def emit(obj: dict, fmt: Format, text: str) -> None:
    """Print ``obj`` as strict JSON with ``--format json``, else ``text``."""
    typer.echo(json.dumps(obj, indent=2, allow_nan=False, default=float) if fmt == Format.json else text)


def frame(df, digits: int = 4) -> str:
    """A table as plain text."""
    return df.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")


def png_bytes(fig) -> bytes:
    """A matplotlib figure rendered to PNG (the figure is closed)."""
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def name_values(values: list[str], option: str) -> dict[str, float]:
    """``["CL=0.8", "V1=40"]`` -> ``{"CL": 0.8, "V1": 40.0}``; a bad item is a usage error naming ``option``."""
    out = {}
    for item in values:
        name, sep, number = item.partition("=")
        try:
            value = float(number)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=NUMBER (e.g. c=0), got {item!r}", param_hint=f"'{option}'")
        out[name.strip()] = value
    return out
