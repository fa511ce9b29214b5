"""Patient histories of a dose-finding trial from a table (CSV, TSV, Excel, Parquet).

Columns (:data:`adcbridge.dosefinding.history.HISTORY_COLUMNS`): ``patient``, ``cohort``, ``dose``, ``dlt``
required; ``dose_time``, ``assess_time``, ``efficacy``, ``backfill`` optional.  ``dlt`` and ``efficacy`` are 0 or 1,
or empty while pending; ``backfill`` 0 or 1 (empty = 0); times are numbers (days) or empty.  Rows are the patients in
enrolment order.  A bad cell is named by file, line and column in the message shape of
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


def _binary(df: pd.DataFrame, column: str, *, pending: bool) -> list[bool | None]:
    """0/1 cells as False/True; empty as None (pending) when ``pending``, else False."""
    values = validation.numeric_column(df, column, allow_missing=True, key="patient")
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    what = "0, 1 or empty (pending)" if pending else "0, 1 or empty (0)"
    validation.fail_first(df, column, bad, what, key="patient")
    return [None if np.isnan(v) else bool(v) for v in values] if pending else [bool(v == 1.0) for v in values]


def read_history(path: str | Path, sheet: str | None = None) -> History:
    """The patients of a trial from the table at ``path`` (see the module docstring)."""
    df = read_table(path, sheet=sheet, text_columns=("patient",))
    df.columns = [str(c).strip() for c in df.columns]
    unknown = [c for c in df.columns if c not in HISTORY_COLUMNS]
    if unknown:
        raise validation.table_error(df, f"unknown column(s) {unknown}; a history has the columns "
                                         f"{', '.join(HISTORY_COLUMNS)} (the first four required).")
    validation.require_columns(df, HISTORY_COLUMNS[:4])
    if df.empty:
        raise validation.table_error(df, "the history has no patient (a header without rows).")
    ids = validation.label_column(df, "patient", what="a patient id").astype(str).str.strip()
    whole = {}
    for column, low in (("cohort", 1), ("dose", 1)):
        values = validation.numeric_column(df, column, min=low, key="patient")
        validation.fail_first(df, column, values != np.floor(values), f"a whole number >= {low}", key="patient")
        whole[column] = values.astype(int)
    dlt = _binary(df, "dlt", pending=True)
    times = {c: (validation.numeric_column(df, c, allow_missing=True, key="patient") if c in df.columns
                 else np.full(len(df), np.nan)) for c in ("dose_time", "assess_time")}
    efficacy = _binary(df, "efficacy", pending=True) if "efficacy" in df.columns else [None] * len(df)
    backfill = _binary(df, "backfill", pending=False) if "backfill" in df.columns else [False] * len(df)
    patients = tuple(
        Patient(ids.iloc[i], int(whole["cohort"][i]), int(whole["dose"][i]), dlt[i],
                None if np.isnan(times["dose_time"][i]) else float(times["dose_time"][i]),
                None if np.isnan(times["assess_time"][i]) else float(times["assess_time"][i]),
                efficacy[i], backfill[i])
        for i in range(len(df)))
    places = tuple(validation.row_place(df, i) for i in range(len(df)))
    return History(patients, source=validation.table_source(df) or str(path), places=places)
