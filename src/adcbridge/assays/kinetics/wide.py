"""Wide instrument exports (one column per curve) to the long sensorgram table.

Two layouts are recognised:

* **one time column** plus one response column per cycle (anabel/TraceDrawer/Scrubber style:
  ``Time, Conc_0.78125nM, Conc_1.5625nM, ...``);
* **paired X/Y columns**, one pair per cycle (Biacore and Octet curve exports: ``Cycle 3 ... X``,
  ``Cycle 3 ... Y``, or ``..._X``/``..._Y``).

The concentration of each curve is read from its header (a number followed by M, mM, uM/µM, nM, pM or fM) or
given explicitly.  This function takes a DataFrame; reading the file belongs to :mod:`adcbridge.io`.

Problems of the table are :class:`~adcbridge.validation.TableError` in the one message shape of
:mod:`adcbridge.validation` (the file and its line when the table came from
:func:`~adcbridge.io.read_table`, else ``the wide export`` and the 1-based data row)::

    spr.csv: column 'Conc_5nM', line 14: expected a finite number, got 'inf'
    spr.csv: no time column 'Time' and no X/Y column pairs (columns: t, 5nM)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from adcbridge import validation

from .options import molar_factor

__all__ = ["sensorgrams_from_wide", "sensorgram_table"]

TABLE = "the wide export"          # what the errors call a wide export built in Python (no file)

_CONC = re.compile(r"(?<![A-Za-z0-9.])(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                   r"\s*_?(?P<unit>[mupnfµμ]?M)(?![A-Za-z])")
_XY = re.compile(r"^(?P<stem>.*?)[\s_.-]*(?P<axis>[XxYy])$")


def _header_conc(header: str):
    """(value, unit) of the last concentration in a header, or None."""
    hits = list(_CONC.finditer(str(header)))
    if not hits:
        return None
    m = hits[-1]
    return float(m.group("num")), m.group("unit").replace("μ", "u").replace("µ", "u")


def _pairs(columns: list[str]):
    """[(label, x_column, y_column)] when the columns come in X/Y pairs, else None."""
    if len(columns) < 2 or len(columns) % 2:
        return None
    out = []
    for x, y in zip(columns[0::2], columns[1::2]):
        mx, my = _XY.match(str(x)), _XY.match(str(y))
        if not (mx and my and mx.group("axis").upper() == "X" and my.group("axis").upper() == "Y"
                and mx.group("stem").strip() == my.group("stem").strip()):
            return None
        out.append((mx.group("stem").strip(), x, y))
    return out


def sensorgrams_from_wide(data: pd.DataFrame, *, time: str | None = "Time", concentrations=None,
                          conc_unit: str | None = None) -> pd.DataFrame:
    """Turn a wide sensorgram export into the long table of :func:`~adcbridge.assays.kinetics.fit_kinetics`.

    ``time`` names the shared time column (``None`` or absent: the columns must come in X/Y pairs).
    ``concentrations`` (one per curve, in ``conc_unit``) overrides the concentrations read from the headers;
    ``conc_unit`` without ``concentrations`` must agree with the unit in every header (a ValueError otherwise).
    Returns columns ``cycle`` (1, 2, ... in column order), ``label`` (the header), ``conc`` (molar),
    ``conc_unit`` (``"M"``), ``time`` and ``response``; empty cells (curves of unequal length) are dropped.

    >>> import pandas as pd
    >>> wide = pd.DataFrame({"Time": [0, 1], "Conc_1nM": [0.0, 0.5], "Conc_2nM": [0.0, 0.9]})
    >>> long = sensorgrams_from_wide(wide)
    >>> long["cycle"].tolist(), long["conc"].tolist()
    ([1, 1, 2, 2], [1e-09, 1e-09, 2e-09, 2e-09])
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"the wide sensorgram export must be a pandas DataFrame, got {type(data).__name__}")
    columns = [str(c) for c in data.columns]
    frame = data.copy()                  # keeps the index and df.attrs: errors name the file's lines
    frame.columns = columns
    if time is not None and time in columns:
        curves = [(c, time, c) for c in columns if c != time]
    else:
        curves = _pairs(columns)
        if curves is None:
            raise validation.table_error(frame, f"no time column {time!r} and no X/Y column pairs "
                                                f"(columns: {', '.join(columns) or 'none'})", table=TABLE,
                                         column=time)
    if not curves:
        raise validation.table_error(frame, f"no response columns (columns: {', '.join(columns)})", table=TABLE)
    if concentrations is not None:
        concs = np.asarray(concentrations, dtype=float).ravel()
        if concs.size != len(curves):
            raise ValueError(f"concentrations: {concs.size} values for {len(curves)} curves "
                             f"({[c[0] for c in curves]})")
        if not np.all(np.isfinite(concs) & (concs >= 0)):
            raise ValueError(f"concentrations must be finite numbers >= 0; got {concs.tolist()}")
        if conc_unit is None:
            raise ValueError("concentrations are given without conc_unit (M, mM, uM, nM, pM, fM)")
        concs = concs * molar_factor(conc_unit)
    else:
        concs = []
        expected = None if conc_unit is None else molar_factor(conc_unit)
        for label, _, _ in curves:
            found = _header_conc(label)
            if found is None:
                raise validation.table_error(frame, f"column {label!r}: no concentration in the header (e.g. "
                                                    f"'Conc_12.5nM'); give concentrations= and conc_unit=",
                                             table=TABLE, column=label)
            if expected is not None and molar_factor(found[1]) != expected:
                raise validation.table_error(
                    frame, f"column {label!r} gives its concentration in {found[1]}, which contradicts the unit given "
                           f"(conc_unit, --conc-unit) {conc_unit!r}; leave it out (the headers carry the unit) or give "
                           f"the concentrations (concentrations=, --concentrations)", table=TABLE, column=label)
            concs.append(found[0] * molar_factor(found[1]))
        concs = np.asarray(concs)
    # empty cells end curves of unequal length; text, inf and NaN written as a number are named, never dropped
    numbers = {col: validation.numeric_column(frame, col, allow_missing=True, table=TABLE)
               for col in dict.fromkeys(c for _, x, y in curves for c in (x, y))}
    parts = []
    for k, ((label, xcol, ycol), c) in enumerate(zip(curves, concs), start=1):
        x, y = numbers[xcol], numbers[ycol]
        orphan = np.flatnonzero(np.isnan(x) & ~np.isnan(y))
        if orphan.size:                  # a response without its time
            pos = int(orphan[0])
            word = validation.row_place(frame, pos).split()[0]
            raise validation.cell_error(frame, xcol, pos, f"a time (column {ycol!r} has a response on this {word})",
                                        table=TABLE)
        keep = ~np.isnan(y)
        parts.append(pd.DataFrame({"cycle": k, "label": label, "conc": float(c), "conc_unit": "M",
                                   "time": x[keep], "response": y[keep]}))
    return pd.concat(parts, ignore_index=True)


def sensorgram_table(data: pd.DataFrame, *, cycle: str = "cycle", time: str = "time", concentrations=None,
                     conc_unit: str | None = None) -> tuple[pd.DataFrame, bool]:
    """``(long_table, was_wide)``: a table with the ``cycle`` column is the long table and is returned as it is;
    a table without it is read as a wide export (:func:`sensorgrams_from_wide`, time column ``time`` or
    ``Time``, else X/Y pairs), whose long table has columns ``cycle, conc, conc_unit, time, response`` (molar
    concentrations from the headers, or ``concentrations`` in ``conc_unit``).

    >>> wide = pd.DataFrame({"Time": [0, 1], "Conc_1nM": [0.0, 0.5]})
    >>> long, was_wide = sensorgram_table(wide)
    >>> was_wide, long["conc"].tolist()
    (True, [1e-09, 1e-09])
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"the sensorgram data must be a pandas DataFrame, got {type(data).__name__}")
    if cycle in data.columns:
        if concentrations is not None:
            raise ValueError(f"concentrations apply to a wide export only; this table has a {cycle!r} column, so it "
                             f"is the long table and its concentrations are in its own column")
        return data, False
    columns = [str(c) for c in data.columns]
    wide_time = time if time in columns else ("Time" if "Time" in columns else time)
    why = (f"no column {cycle!r}, so it was read as a wide export (a time column and one column per curve, or X/Y "
           f"column pairs), and")
    try:
        long = sensorgrams_from_wide(data, time=wide_time, concentrations=concentrations, conc_unit=conc_unit)
    except validation.TableError as exc:
        if exc.line is not None:         # a bad cell: the message already names the file, column, line and value
            raise
        text = str(exc).splitlines()[0]
        if exc.source and text.startswith(f"{exc.source}: "):
            text = text[len(exc.source) + 2:]
        raise validation.table_error(data, f"{why} {text}", table="the sensorgram table", column=exc.column) from None
    except ValueError as exc:
        raise ValueError(f"the table has {why} {str(exc).splitlines()[0]}") from None
    return long, True
