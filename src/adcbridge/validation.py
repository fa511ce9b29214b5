"""Checking the columns of an input table, with one message shape for every bad cell.

Every science package validates its tables through these functions, so every table error reads the same::

    conc.csv: missing column 'TIME' (columns: ID, TM, CONC)
    conc.csv: column 'CONC', line 14 (ID 'SD001'): expected a number >= 0, got '-3.1'

that is ``[source: ]column 'NAME', PLACE[ (KEY 'value', ...)]: expected WHAT, got 'VALUE'``.

* **source** -- the file the table came from: ``df.attrs["source"]``, which :func:`adcbridge.io.read_table` sets,
  or the ``source=`` argument; else a description given by the caller (``table="the dosing table"``); else
  nothing (a table built in Python).
* **place** -- the row as the user sees it.  For a table read from a CSV/TSV file it is the file's line number
  (``line 14`` is the data row with index 12: line 1 is the header; blank lines that were skipped are counted).
  For an Excel sheet it is the sheet's row number (``row 14``), for a Parquet file the 1-based data row.  For a
  table built in Python, which has no lines, it is the 1-based data row (``row 13``).  A table read from a file
  keeps these numbers after rows are filtered out (they follow the index labels), so a validator must not
  reset the index before it reports.
* **key** -- optional context naming the row's subject, cycle, animal... (``ID 'SD001'``).
* **value** -- the cell exactly as read (``'-3.1'``, ``'inf'``, ``'1 nM'``), or ``an empty cell``.

The errors are :class:`TableError`, a :class:`ValueError` that also carries ``source``, ``column``, ``line``
(the place) and ``value`` for programs.

This module is science-neutral and reads no file: :mod:`adcbridge.io` reads, the science packages import this.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TableError", "cell_error", "constant_within", "fail_first", "label_column", "numeric_column",
           "require_columns", "row_place", "row_places", "show_value", "sorted_within", "table_error", "table_source"]

_EMPTY = object()
#: text that means "no value" in a cell of a table built in Python (read_table already turns these into NaN)
MISSING_TEXT = frozenset({"", "NA", "NAN", "N/A", "NULL", "NONE", "."})


class TableError(ValueError):
    """A table failed a check.  ``source`` (file or description), ``column``, ``line`` (``"line 14"``) and
    ``value`` (the cell as shown) are None where they do not apply."""

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None,
                 line: str | None = None, value: Any = None):
        super().__init__(message)
        self.source = source
        self.column = column
        self.line = line
        self.value = value


def table_source(df: pd.DataFrame, source: str | None = None, table: str | None = None) -> str | None:
    """The name errors give the table: ``source``, else ``df.attrs["source"]``, else ``table``."""
    if source:
        return str(source)
    found = getattr(df, "attrs", {}).get("source")
    return str(found) if found else table


def _prefix(src: str | None) -> str:
    return f"{src}: " if src else ""


def table_error(df: pd.DataFrame, message: str, *, source: str | None = None, table: str | None = None,
                column: str | None = None) -> TableError:
    """A :class:`TableError` for a problem of the table (not of one cell): ``message`` behind the source."""
    src = table_source(df, source, table)
    return TableError(_prefix(src) + message, source=src, column=column)


def row_place(df: pd.DataFrame, pos: int) -> str:
    """Where the row at position ``pos`` of ``df`` is, as the user sees it: ``"line 14"`` (CSV/TSV),
    ``"row 14"`` (Excel, Parquet) or ``"row 13"`` (1-based data row of a table built in Python)."""
    attrs = getattr(df, "attrs", {})
    first = attrs.get("first_line")
    if attrs.get("source") and first is not None:
        label = df.index[pos]
        if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)) and label >= 0:
            line = int(label) + int(first)
            for skipped in attrs.get("skipped_lines", ()):
                if skipped <= line:
                    line += 1
                else:
                    break
            return f"{attrs.get('line_word', 'line')} {line}"
    return f"row {pos + 1}"


def row_places(df: pd.DataFrame, positions: Iterable[int], limit: int = 10) -> str:
    """Several rows in the words of :func:`row_place`: ``"rows 3, 6"``, ``"lines 4, 7, ..."`` (at most
    ``limit`` shown)."""
    positions = [int(p) for p in positions]
    places = [row_place(df, p).split(" ", 1) for p in positions[:limit]]
    if not places:
        return ""
    word = places[0][0] + ("s" if len(positions) > 1 else "")
    return f"{word} " + ", ".join(n for _, n in places) + (" ..." if len(positions) > limit else "")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return isinstance(value, (float, np.floating)) and math.isnan(value)
    except TypeError:
        return False


def show_value(value: Any) -> str:
    """A cell as the message shows it: ``'-3.1'``, ``'inf'``, ``'1 nM'``; ``an empty cell`` when missing."""
    if _is_missing(value):
        return "an empty cell"
    if isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (float, np.floating)):
        text = format(float(value), ".15g")
    else:
        text = str(value)
    return repr(text)


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _key_value(value: Any) -> str:
    """A key cell as the message names the row: ``'SD001'`` for text, ``2`` for a number (2.0 read as 2)."""
    value = _scalar(value)
    if _is_missing(value):
        return "(empty)"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return repr(value)


def _key_text(df: pd.DataFrame, pos: int, key: str | Sequence[str] | None) -> str:
    if key is None:
        return ""
    cols = [key] if isinstance(key, str) else list(key)
    parts = [f"{c} {_key_value(df[c].iloc[pos])}" for c in cols if c in df.columns]
    return f" ({', '.join(parts)})" if parts else ""


def cell_error(df: pd.DataFrame, column: str, pos: int, expected: str, value: Any = _EMPTY, *,
               key: str | Sequence[str] | None = None, source: str | None = None,
               table: str | None = None) -> TableError:
    """The error for the cell of ``column`` at row position ``pos``: ``expected`` says what the cell should
    hold ("a number >= 0"); ``value`` defaults to the cell itself; ``key`` columns name the row's subject."""
    if value is _EMPTY:
        value = df[column].iloc[pos]
    src = table_source(df, source, table)
    place = row_place(df, pos)
    shown = show_value(value)
    message = f"{_prefix(src)}column {column!r}, {place}{_key_text(df, pos, key)}: expected {expected}, got {shown}"
    return TableError(message, source=src, column=column, line=place, value=shown)


def fail_first(df: pd.DataFrame, column: str, bad: Any, expected: str, values: Any = None, **kw) -> None:
    """Raise :func:`cell_error` for the first row where the boolean mask ``bad`` is true (nothing if none).
    ``values`` (same length) replaces the cells shown, e.g. parsed numbers."""
    bad = np.asarray(bad, dtype=bool)
    hits = np.flatnonzero(bad)
    if hits.size:
        pos = int(hits[0])
        value = _EMPTY if values is None else np.asarray(values, dtype=object)[pos]
        raise cell_error(df, column, pos, expected, value, **kw)


def require_columns(df: pd.DataFrame, names: Iterable[str | None], *, source: str | None = None,
                    table: str | None = None) -> None:
    """A :class:`TableError` naming the missing columns (None entries are skipped)::

        conc.csv: missing column 'TIME' (columns: ID, TM, CONC)
    """
    if not hasattr(df, "columns") or not hasattr(df, "attrs"):
        shown = f" {df!r}" if isinstance(df, (str, bytes)) or hasattr(df, "__fspath__") else ""
        raise TableError(f"{_prefix(source or table)}expected a table (a pandas DataFrame; read a file with "
                         f"adcbridge.io.read_table), got {type(df).__name__}{shown}", source=source or table)
    wanted = [n for n in dict.fromkeys(names) if n is not None]
    missing = [n for n in wanted if n not in df.columns]
    if missing:
        src = table_source(df, source, table)
        what = "column" if len(missing) == 1 else "columns"
        listed = ", ".join(map(str, df.columns)) or "none"
        raise TableError(f"{_prefix(src)}missing {what} {', '.join(repr(m) for m in missing)} (columns: {listed})",
                         source=src, column=missing[0])


def _bounds_text(min: float | None, above: float | None, max: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    elif min is not None:
        parts.append(f">= {min:g}")
    if max is not None:
        parts.append(f"<= {max:g}")
    return (" " + " and ".join(parts)) if parts else ""


def numeric_column(df: pd.DataFrame, name: str, *, source: str | None = None, table: str | None = None,
                   min: float | None = None, above: float | None = None, max: float | None = None,
                   allow_missing: bool = False, finite: bool = True,
                   key: str | Sequence[str] | None = None) -> np.ndarray:
    """Column ``name`` as floats (NaN where missing, when ``allow_missing``), checked cell by cell.

    Raises :class:`TableError` for the first cell that is text other than a number, missing (unless
    ``allow_missing``), infinite (unless ``finite=False``; ``inf`` is never dropped silently), below ``min``,
    not above ``above`` or above ``max``.  ``expected`` in the message states every condition::

        conc.csv: column 'CONC', line 14: expected a number >= 0, got '-3.1'
    """
    require_columns(df, [name], source=source, table=table)
    raw = df[name]
    kw = {"key": key, "source": source, "table": table}
    bounds = _bounds_text(min, above, max)
    if pd.api.types.is_bool_dtype(raw):
        fail_first(df, name, np.ones(len(raw), bool), f"a number{bounds}", **kw)
    if pd.api.types.is_numeric_dtype(raw):
        values = np.array(raw.to_numpy(dtype=float, na_value=np.nan), dtype=float)       # a writable copy
        not_number = np.zeros(len(values), bool)
    else:
        parsed = pd.to_numeric(raw, errors="coerce")
        values = np.array(parsed.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        absent = raw.isna().to_numpy()
        text = raw.astype(str).str.strip().str.upper()
        empty = absent | text.isin(MISSING_TEXT).to_numpy()
        not_number = np.isnan(values) & ~empty
    fail_first(df, name, not_number, f"a number{bounds}", **kw)
    nan = np.isnan(values)
    if not allow_missing:
        fail_first(df, name, nan, f"a number{bounds}", **kw)
    if finite:
        fail_first(df, name, np.isinf(values), f"a finite number{bounds}", values=values, **kw)
    with np.errstate(invalid="ignore"):
        out_of_range = np.zeros(len(values), bool)
        if above is not None:
            out_of_range |= ~nan & ~(values > above)
        elif min is not None:
            out_of_range |= ~nan & ~(values >= min)
        if max is not None:
            out_of_range |= ~nan & ~(values <= max)
    fail_first(df, name, out_of_range, f"a number{bounds}", values=values if raw.dtype.kind in "fiu" else None, **kw)
    return values


def label_column(df: pd.DataFrame, name: str, *, what: str = "a label", source: str | None = None,
                 table: str | None = None, key: str | Sequence[str] | None = None) -> pd.Series:
    """Column ``name`` after checking that no cell is empty (``expected a label, got an empty cell``)."""
    require_columns(df, [name], source=source, table=table)
    raw = df[name]
    empty = raw.isna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        empty = empty | (raw.astype(str).str.strip().eq("").to_numpy() & ~empty)
    fail_first(df, name, empty, what, key=key, source=source, table=table)
    return raw


def _group_codes(df: pd.DataFrame, by: Sequence[str]) -> np.ndarray:
    if not by:
        return np.zeros(len(df), dtype=np.intp)
    return df.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()


def sorted_within(df: pd.DataFrame, by: str | Sequence[str], column: str, values: np.ndarray | None = None, *,
                  strict: bool = True, source: str | None = None, table: str | None = None) -> None:
    """Raise :class:`TableError` unless ``column`` increases (strictly, by default) from row to row within
    each group of the ``by`` columns, in the order given::

        conc.csv: column 'TIME', line 5 (ID 1): expected more than 1 (the value on line 4), got '1'

    ``values`` are the column's numbers when already parsed (default: the column itself)."""
    by = [by] if isinstance(by, str) else list(by)
    v = np.asarray(df[column] if values is None else values, dtype=float)
    codes = _group_codes(df, by)
    order = np.lexsort((np.arange(len(v)), codes))             # rows of each group together, original order
    same = codes[order][1:] == codes[order][:-1]
    step = v[order][1:] - v[order][:-1]
    bad = same & ((step <= 0) if strict else (step < 0))
    hits = np.flatnonzero(bad)
    if hits.size:
        pos, prev = int(order[hits[0] + 1]), int(order[hits[0]])
        word = "more than" if strict else "at least"
        raise cell_error(df, column, pos, f"{word} {v[prev]:g} (the value on {row_place(df, prev)})",
                         v[pos] if values is not None else _EMPTY, key=by or None, source=source, table=table)


def constant_within(df: pd.DataFrame, by: str | Sequence[str], column: str, values: Any = None, *,
                    what: str = "", skip_missing: bool = True, source: str | None = None,
                    table: str | None = None) -> None:
    """Raise :class:`TableError` unless ``column`` holds one value within each group of the ``by`` columns
    (empty cells are skipped unless ``skip_missing=False``)::

        conc.csv: column 'DOSE', line 9 (ID 'SD001'): expected '3' as on line 2 (one dose per profile), got '5'

    ``what`` explains the rule in the message; ``values`` replaces the column's cells."""
    by = [by] if isinstance(by, str) else list(by)
    cells = pd.Series(np.asarray(df[column] if values is None else values, dtype=object))
    codes = _group_codes(df, by)
    counts = cells.groupby(codes).nunique(dropna=skip_missing)
    bad_groups = counts.index[counts.to_numpy() > 1]
    if not len(bad_groups):
        return
    cur = cells.to_numpy()
    first_of: dict[int, int] = {}
    for pos in np.flatnonzero(np.isin(codes, bad_groups)):     # only the rows of offending groups
        g, a = int(codes[pos]), cur[pos]
        if skip_missing and _is_missing(a):
            continue
        if g not in first_of:
            first_of[g] = int(pos)
            continue
        b = cur[first_of[g]]
        if (_is_missing(a) and _is_missing(b)) or (not _is_missing(a) and not _is_missing(b) and a == b):
            continue
        ref = show_value(b)
        note = f" ({what})" if what else ""
        raise cell_error(df, column, int(pos), f"{ref} as on {row_place(df, first_of[g])}{note}", a,
                         key=by or None, source=source, table=table)
