"""Patient histories of a dose-finding trial from a table (CSV, TSV, Excel, Parquet).

Columns (:data:`adcbridge.dosefinding.history.HISTORY_COLUMNS`): ``patient``, ``cohort``, ``dose`` (or ``dose_a``
and ``dose_b`` for a drug combination), ``dlt`` required; ``dose_time``, ``assess_time``, ``efficacy``, ``backfill``,
``followup`` optional.  ``dlt`` and ``efficacy`` are 0 or 1 (or true / false, in any case), or empty while
pending; ``backfill`` 0 or 1 (or true / false; empty = 0); ``followup`` the fraction of the DLT window a pending
patient has completed (0..1); times are numbers (days) or ISO dates (``2026-03-01``, turned into days from the
first dosing date, kept as the history's ``time_origin``, so that messages show the dates again).  Rows are the
patients in enrolment order; an empty row between patients is refused (it may be a deleted patient), while
empty rows after the last patient are ignored.  A bad cell is named by file, line and column in the message shape of
:mod:`adcbridge.validation`; an unknown column is refused (a misspelt ``asess_time`` must not be ignored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adcbridge import validation
from adcbridge.dosefinding.history import HISTORY_COLUMNS, History, Patient

from .tables import read_table

__all__ = ["read_history"]


#: the cells a 0/1 column (dlt, efficacy, backfill) accepts besides empty: 0 and 1, and true/false in any case
#: (as spreadsheets and R write them), read as 1/0
_BINARY_TEXT = {"0": False, "1": True, "0.0": False, "1.0": True, "false": False, "true": True}


def _binary(df: pd.DataFrame, column: str, *, pending: bool) -> list[bool | None]:
    """0/1 (or true/false, any case) cells as False/True; empty as None (pending) when ``pending``, else False.
    Any other cell (``yes``, ``2``) is refused, naming the file, line and column and the accepted values."""
    validation.require_columns(df, [column])
    values: list[bool | None] = []
    bad = np.zeros(len(df), dtype=bool)
    for i, cell in enumerate(df[column].tolist()):
        if isinstance(cell, (bool, np.bool_)):
            values.append(bool(cell))
        elif cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA:
            values.append(None)
        elif isinstance(cell, (int, float, np.integer, np.floating)):
            bad[i] = cell not in (0, 1)
            values.append(bool(cell == 1))
        else:
            text = str(cell).strip()
            if text.upper() in validation.MISSING_TEXT:
                values.append(None)
            else:
                bad[i] = text.lower() not in _BINARY_TEXT
                values.append(_BINARY_TEXT.get(text.lower()))
    empty = ("pending" if column == "dlt" else "not yet known") if pending else "0"
    what = f"0, 1 or empty ({empty}), or true/false"
    validation.fail_first(df, column, bad, what, key="patient")
    return values if pending else [bool(v) for v in values]


def _times(df: pd.DataFrame) -> tuple[dict[str, np.ndarray], str | None]:
    """``dose_time`` and ``assess_time`` as days: numbers as they are, or ISO dates (2026-03-01) as days from the
    earliest dosing date (returned as the origin); a column mixing the two is refused."""
    present = [c for c in ("dose_time", "assess_time") if c in df.columns and df[c].notna().any()]  # empty: no kind
    text = {c: df[c] for c in present if not pd.api.types.is_numeric_dtype(df[c])}
    dated = {}
    for c, raw in text.items():
        cells = raw.dropna().astype(str).str.strip()
        cells = cells[cells != ""]
        if len(cells) and cells.str.match(r"^\d{4}-\d{2}-\d{2}").all():
            parsed = pd.to_datetime(raw.astype(str).str.strip().replace("", None), errors="coerce",
                                    format="ISO8601")
            bad = parsed.isna().to_numpy() & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
            validation.fail_first(df, c, bad, "a date (YYYY-MM-DD) or empty", key="patient")
            dated[c] = parsed
    if dated and len(dated) != len(present):
        plain = [c for c in present if c not in dated][0]
        raise validation.table_error(df, f"column {plain!r} holds numbers but {sorted(dated)[0]!r} holds dates; "
                                         f"give both as dates or both as days")
    out = {c: np.full(len(df), np.nan) for c in ("dose_time", "assess_time")}
    origin = None
    if dated:
        first = dated.get("dose_time", next(iter(dated.values()))).min()
        if pd.isna(first):
            first = min(v.min() for v in dated.values())
        first = first.normalize()               # day 0 starts at midnight of the first date (shown as that date)
        origin = first.date().isoformat()
        for c, v in dated.items():
            out[c] = ((v - first) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    else:
        for c, raw in text.items():     # a date in another form (01/05/2026, 5.1.2026) is not a day number
            cells = raw.astype(str).str.strip()
            other = cells.str.match(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}$").to_numpy() & raw.notna().to_numpy()
            validation.fail_first(df, c, other, "a day number or a date written YYYY-MM-DD (ISO 8601: a date such "
                                                "as 01/05/2026 reads differently in different countries)",
                                  key="patient")
        for c in present:
            out[c] = validation.numeric_column(df, c, allow_missing=True, key="patient")
    return out, origin


def _near_column(name: str) -> str | None:
    """The history column an unknown one likely means: the same name in another case (``DLT``), a usual synonym
    (``level``, ``toxicity``, ``response``), or a close spelling."""
    import difflib
    low = name.strip().lower()
    synonyms = {"level": "dose", "dose_level": "dose", "doselevel": "dose", "toxicity": "dlt", "tox": "dlt",
                "response": "efficacy", "resp": "efficacy", "id": "patient", "subject": "patient"}
    if low in HISTORY_COLUMNS:
        return low
    if low in synonyms:
        return synonyms[low]
    near = difflib.get_close_matches(low, list(HISTORY_COLUMNS), n=1)
    return near[0] if near else None


def read_history(path: str | Path, sheet: str | None = None) -> History:
    """The patients of a trial from the table at ``path`` (see the module docstring)."""
    df = read_table(path, sheet=sheet, text_columns=("patient",))
    df.columns = [str(c).strip() for c in df.columns]
    unknown = [c for c in df.columns if c not in HISTORY_COLUMNS]
    if unknown:
        hints = [f"{c!r} -> {m!r}" for c in unknown if (m := _near_column(c))]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise validation.table_error(df, f"unknown column(s) {unknown}{hint}; a history has the columns "
                                         f"{', '.join(HISTORY_COLUMNS)} (patient, cohort, dose (or dose_a and "
                                         f"dose_b) and dlt required).")
    combination = "dose" not in df.columns and ("dose_a" in df.columns or "dose_b" in df.columns)
    if "dose" in df.columns and ("dose_a" in df.columns or "dose_b" in df.columns):
        raise validation.table_error(df, "give the dose level (column 'dose') or the levels of a combination "
                                         "(columns 'dose_a' and 'dose_b'), not both.")
    levels = ("dose_a", "dose_b") if combination else ("dose",)
    validation.require_columns(df, ("patient", "cohort") + levels + ("dlt",))
    if df.empty:
        raise validation.table_error(df, "the history has no patient (a header without rows).")
    skipped = df.attrs.get("skipped_lines", ())
    if skipped:                 # read_table drops empty rows; inside a history one may be a deleted patient
        word = df.attrs.get("line_word", "line")
        raise validation.table_error(df, f"{word} {skipped[0]} is empty; a history has one row per patient, in "
                                         f"enrolment order: delete the empty {word} or fill in the patient")
    ids = validation.label_column(df, "patient", what="a patient id").astype(str).str.strip()
    whole = {}
    for column in ("cohort",) + levels:
        values = validation.numeric_column(df, column, min=1, key="patient")
        what = "a whole number >= 1" if column == "cohort" else \
            "a dose level, a whole number >= 1 (1 = the lowest dose; the level's number, not the dose itself)"
        validation.fail_first(df, column, values != np.floor(values), what, key="patient")
        whole[column] = values.astype(int)
    dlt = _binary(df, "dlt", pending=True)
    times, origin = _times(df)
    efficacy = _binary(df, "efficacy", pending=True) if "efficacy" in df.columns else [None] * len(df)
    backfill = _binary(df, "backfill", pending=False) if "backfill" in df.columns else [False] * len(df)
    followup = (validation.numeric_column(df, "followup", allow_missing=True, min=0, max=1, key="patient")
                if "followup" in df.columns else np.full(len(df), np.nan))

    def opt(a, i):
        return None if np.isnan(a[i]) else float(a[i])

    patients = tuple(
        Patient(ids.iloc[i], int(whole["cohort"][i]), None if combination else int(whole["dose"][i]), dlt[i],
                opt(times["dose_time"], i), opt(times["assess_time"], i), efficacy[i], backfill[i],
                opt(followup, i), int(whole["dose_a"][i]) if combination else None,
                int(whole["dose_b"][i]) if combination else None)
        for i in range(len(df)))
    places = tuple(validation.row_place(df, i) for i in range(len(df)))
    return History(patients, source=validation.table_source(df) or str(path), places=places, time_origin=origin)
