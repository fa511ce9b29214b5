"""From a long concentration table (one row per sample) to the padded arrays of a fit.

Columns (configurable): subject ``ID``, time ``TIME`` (h), concentration ``CONC``, dose ``DOSE`` (mg/kg, one
dose per subject at time 0 unless a dosing table is given -- or unless the concentration table has a dose-time
column ``TDOSE`` (option ``dose_time``) with several values for a subject: then each distinct dose time is a dose,
with the ``DOSE`` and the ``tinf`` column of its rows), BLQ flag ``BLQ`` (optional), analyte ``ANALYTE``
(optional; required by the ADC model).  A dosing table (multiple doses) has the subject column, ``TDOSE`` (h),
``DOSE`` and optionally a duration column.

**BLQ (M1, Beal 2001):** samples flagged BLQ -- or, without a flag column, with concentration 0 -- are excluded
and counted.  A sample exactly at a dose time is that dose's pre-dose sample (the convention of the data: the dose
does not count yet there, in fits and predictions); samples before or at the first dose therefore carry no
information (the model predicts 0) and are excluded and counted as pre-dose.  Missing concentrations are dropped.

Errors name the column, the row and the subject, in the one message shape of :mod:`adcbridge.validation`
(the file's line number for a table read from a file, else the 1-based data row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge import validation

from .estimation import Batch

__all__ = ["PKData", "prepare_data"]


@dataclass
class PKData:
    batch: Batch
    subjects: list[str]
    outputs: list[str]
    analytes: list[str]
    units: list[str]                     # label of each fit unit
    observations: pd.DataFrame           # the used samples: subject, analyte, time, dv (row order of the batch)
    dosing: pd.DataFrame                 # subject, time, amount, duration
    n_blq: dict[str, int]
    n_predose: dict[str, int]
    n_missing: int


def _numeric(df, column, what, *, key=None, allow_missing=True, min=None):
    """The column as floats (NaN where empty, if ``allow_missing``); a TableError in the one message shape of
    :mod:`adcbridge.validation` for text, infinite values or values below ``min``."""
    return validation.numeric_column(df, column, table=f"the {what}", key=key, allow_missing=allow_missing, min=min)


def _require(df, columns, what):
    validation.require_columns(df, columns, table=f"the {what}")


def _analyte_map(model, data, analyte, analytes):
    if analytes is not None and isinstance(analytes, str):
        analytes = [analytes]
    has = analyte is not None and analyte in data.columns
    if not has and analytes is not None:
        raise ValueError(f"analytes {list(analytes)} were chosen but the table has no analyte column "
                         f"({analyte!r}); name it with --analyte-column / analyte=")
    if not has:
        if len(model.outputs) > 1:
            raise ValueError(f"model {model.name} needs an analyte column ({analyte!r} not found); its outputs are "
                             f"{list(model.outputs)}")
        return None, {None: model.outputs[0]}
    present = [str(a) for a in pd.unique(data[analyte].astype(str))]
    chosen = present if analytes is None else [str(a) for a in analytes]
    for a in chosen:
        if a not in present:
            raise ValueError(f"analyte {a!r} is not in column {analyte!r} (analytes: {present})")
    if len(model.outputs) == 1:
        if len(chosen) != 1:
            raise ValueError(f"column {analyte!r} has several analytes {chosen}; model {model.name} fits one: "
                             f"choose it (analytes=... / --analyte)")
        return chosen, {chosen[0]: model.outputs[0]}
    lower = {o.lower(): o for o in model.outputs}
    mapping = {}
    for a in chosen:
        if a.lower() not in lower:
            raise ValueError(f"analyte {a!r} is not an output of model {model.name} {list(model.outputs)}")
        mapping[a] = lower[a.lower()]
    return chosen, mapping


def _dosing(data, ids, subject, dose, dosing, dose_time, route, tinf, time_unit):
    if route not in ("infusion", "bolus"):
        raise ValueError(f"route must be 'infusion' or 'bolus'; got {route!r}")
    src_rows = None                      # rows of the concentration table that define the doses (tinf column)
    scale = 24.0 if time_unit == "day" else 1.0
    if dosing is None:
        _require(data, [dose], "concentration table")
        amount = _numeric(data, dose, "concentration table", key=subject, min=0)
        subj = data[subject].astype(str).to_numpy()
        used = np.isin(subj, ids)
        if dose_time in data.columns:
            td = _numeric(data, dose_time, "concentration table", key=subject) * scale
            per_t = pd.DataFrame({"subject": subj, "time": td}).dropna()
            per_t = per_t[per_t["subject"].isin(ids)]
            multi = per_t.groupby("subject")["time"].nunique()
        else:
            multi = pd.Series(dtype=int)
        if (multi > 1).any():            # a multiple-dose table: one dose per distinct dose time of a subject
            validation.constant_within(data, [subject, dose_time], dose, np.where(used, amount, np.nan),
                                       what="one dose per dose time; give a dosing table",
                                       table="the concentration table")
            fr = pd.DataFrame({"subject": subj, "time": td, "amount": amount, "_row": np.arange(len(data))})
            fr = fr[fr["subject"].isin(ids)].dropna(subset=["time"])
            spread = fr.groupby(["subject", "time"])["amount"].agg(["min", "max"])
            bad = spread[~(spread["min"] == spread["max"])]
            if len(bad):                  # no dose value at all at a dose time
                (sb, tb) = bad.index[0]
                pos = int(fr.loc[(fr["subject"] == sb) & (fr["time"] == tb), "_row"].iloc[0])
                raise validation.cell_error(data, dose, pos, "a dose", key=[subject, dose_time],
                                            table="the concentration table")
            first = fr.drop_duplicates(["subject", "time"]).sort_values(["subject", "time"], kind="stable")
            d = first[["subject", "time", "amount"]].reset_index(drop=True)
            src_rows = first["_row"].to_numpy()
        else:
            validation.constant_within(data, subject, dose, np.where(used, amount, np.nan),
                                       what="one dose per subject; give a dosing table for several doses",
                                       table="the concentration table")
            per = pd.DataFrame({"subject": subj, "amount": amount}).dropna()
            lo = per[per["subject"].isin(ids)].groupby("subject", sort=False)["amount"].min()
            for sid in ids:
                if sid not in lo.index:
                    pos = int(np.flatnonzero(subj == sid)[0])
                    raise validation.cell_error(data, dose, pos, "a dose (the subject has none)", key=subject,
                                                table="the concentration table")
            rows = [(sid, 0.0, float(lo[sid])) for sid in ids]
            d = pd.DataFrame(rows, columns=["subject", "time", "amount"])
    else:
        _require(dosing, [subject, dose_time, dose], "dosing table")
        validation.label_column(dosing, subject, what="a subject", table="the dosing table")
        d = pd.DataFrame({"subject": dosing[subject].astype(str).to_numpy(),
                          "time": _numeric(dosing, dose_time, "dosing table", key=subject, allow_missing=False)
                          * scale,
                          "amount": _numeric(dosing, dose, "dosing table", key=subject, allow_missing=False, min=0)})
    if (d["amount"] < 0).any() or d["amount"].isna().any():
        i = int(np.flatnonzero((d["amount"] < 0) | d["amount"].isna())[0])
        raise ValueError(f"column {dose!r}: row {i + 1} (subject {d['subject'].iloc[i]!r}) has no valid dose "
                         f"({d['amount'].iloc[i]!r})")
    if isinstance(tinf, str):
        what = "dosing table" if dosing is not None else "concentration table"
        table = dosing if dosing is not None else data
        _require(table, [tinf], what)
        full = _numeric(table, tinf, what, key=subject, min=0)
        if dosing is not None:
            pos = np.arange(len(dosing))
        elif src_rows is not None:
            pos = np.asarray(src_rows, dtype=int)
        else:                              # the first row of each subject
            first = pd.Series(np.arange(len(data))).groupby(data[subject].astype(str).to_numpy(), sort=False).first()
            pos = first.reindex(d["subject"]).to_numpy(dtype=int)
        dur = full[pos]
        if route != "bolus":
            blank = np.zeros(len(table), bool)
            blank[pos[np.isnan(dur)]] = True
            validation.fail_first(table, tinf, blank, "an infusion duration >= 0", key=subject, table=f"the {what}")
        d["duration"] = np.where(route == "bolus", 0.0, dur)
    else:
        if not (np.isfinite(tinf) and tinf >= 0):
            raise ValueError(f"the infusion duration must be >= 0 h; got {tinf!r}")
        d["duration"] = 0.0 if route == "bolus" else float(tinf)
    if (d["duration"] < 0).any() or d["duration"].isna().any():
        raise ValueError("the infusion duration must be a number >= 0 for every dose")
    missing = sorted(set(ids) - set(d["subject"]))
    if missing:
        raise ValueError(f"subject {missing[0]!r} has no dose in the dosing table")
    return d[d["subject"].isin(ids)].reset_index(drop=True)


def prepare_data(data: pd.DataFrame, model, *, subject="ID", time="TIME", conc="CONC", dose="DOSE", blq="BLQ",
                 analyte="ANALYTE", analytes=None, dosing=None, dose_time="TDOSE", route="infusion", tinf=0.5,
                 time_unit="h", groups=None) -> PKData:
    """Validate and arrange ``data`` (see the module docstring).  ``groups``: None (one unit per subject), () (one
    pooled unit) or column names (one pooled unit per group)."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a DataFrame; got {type(data).__name__}")
    _require(data, [subject, time, conc], "concentration table")
    if data.empty:
        raise validation.table_error(data, "the concentration table has no rows")
    chosen, amap = _analyte_map(model, data, analyte, analytes)
    df = data                             # not re-indexed: errors name the rows (lines) of the table as given
    validation.label_column(df, subject, what="a subject", table="the concentration table")
    t = _numeric(df, time, "concentration table", key=subject, allow_missing=False)
    c = _numeric(df, conc, "concentration table", key=subject, min=0)
    sid = df[subject].astype(str).to_numpy()
    an = df[analyte].astype(str).to_numpy() if chosen is not None else np.full(len(df), None, dtype=object)
    keep = np.isin(an, chosen) if chosen is not None else np.ones(len(df), bool)
    validation.sorted_within(df, [subject] + ([analyte] if chosen is not None else []), time,
                             np.where(keep, t, np.nan), strict=False, table="the concentration table")
    t = t * (24.0 if time_unit == "day" else 1.0)
    flag = np.zeros(len(df), bool)
    if blq is not None and blq in df.columns:
        flag = _numeric(df, blq, "concentration table", key=subject) > 0
    flag |= c == 0
    missing = np.isnan(c) & ~flag
    ids = [str(s) for s in pd.unique(sid[keep])]
    doses = _dosing(df, ids, subject, dose, dosing, dose_time, route, tinf, time_unit)
    first = doses.sort_values("time").groupby("subject").first()
    t_first = first["time"].reindex(sid).to_numpy()
    predose = t <= t_first                 # a sample at a dose time is that dose's pre-dose sample (predicts 0)
    use = keep & ~flag & ~missing & ~predose
    total = doses.groupby("subject")["amount"].sum()
    undosed = use & (c > 0) & (total.reindex(sid).to_numpy() <= 0)
    if undosed.any():                       # a linear model predicts 0 for ever: no fit can explain them
        pos = int(np.flatnonzero(undosed)[0])
        raise validation.cell_error(df, conc, pos, "0 for a subject given no dose (its doses add up to 0; a "
                                    "measurable concentration needs a dose, or leave the subject out)", c[pos],
                                    key=subject)
    counts = pd.DataFrame({"s": sid, "blq": keep & flag & ~predose, "pre": keep & predose}).groupby("s").sum()
    n_blq = {s: int(counts.at[s, "blq"]) for s in ids}
    n_pre = {s: int(counts.at[s, "pre"]) for s in ids}
    outputs = list(dict.fromkeys(amap[a] for a in (chosen or [None])))
    out_of = {a: outputs.index(o) for a, o in amap.items()}
    obs = pd.DataFrame({"subject": sid[use], "analyte": an[use] if chosen is not None else model.outputs[0],
                        "time": t[use], "dv": c[use], "row": np.flatnonzero(use) + 1})
    rank = {s: r for r, s in enumerate(ids)}
    obs = obs.assign(_r=obs["subject"].map(rank)).sort_values("_r", kind="stable")
    r_obs = obs.pop("_r").to_numpy()
    obs = obs.reset_index(drop=True)
    pos = obs.groupby("subject", sort=False).cumcount().to_numpy()
    R = len(ids)
    n_per = np.bincount(r_obs, minlength=R)
    T = max(1, int(n_per.max()) if R else 1)
    times, y = np.zeros((R, T)), np.ones((R, T))
    mask, oidx = np.zeros((R, T), bool), np.zeros((R, T), int)
    times[r_obs, pos], y[r_obs, pos], mask[r_obs, pos] = obs["time"].to_numpy(), obs["dv"].to_numpy(), True
    last = np.zeros(R)
    has = n_per > 0
    last[has] = times[np.flatnonzero(has), n_per[has] - 1]
    times = np.where(mask, times, last[:, None])               # padding repeats each subject's last time
    keys = obs["analyte"] if chosen is not None else pd.Series([None] * len(obs), dtype=object)
    oidx[r_obs, pos] = [out_of[a] for a in keys]
    ds = doses.assign(_r=doses["subject"].map(rank)).sort_values(["_r", "time"], kind="stable")
    r_d = ds["_r"].to_numpy()
    pos_d = ds.groupby("subject", sort=False).cumcount().to_numpy()
    D = int(np.bincount(r_d, minlength=R).max())
    dt, amt, dur = np.zeros((R, D)), np.zeros((R, D)), np.zeros((R, D))
    dmask = np.zeros((R, D), bool)
    dt[r_d, pos_d], amt[r_d, pos_d], dur[r_d, pos_d] = ds["time"], ds["amount"], ds["duration"]
    dmask[r_d, pos_d] = True
    n_d = dmask.sum(axis=1)
    dt = np.where(dmask, dt, dt[np.arange(R), np.maximum(n_d - 1, 0)][:, None])   # padding: last dose time, 0 mg
    if groups is None:
        units, unit_idx = ids, np.arange(R)
    else:
        if groups:
            _require(df, list(groups), "concentration table")
            first_row = df.drop_duplicates(subject).set_index(df.drop_duplicates(subject)[subject].astype(str))
            lab = [", ".join(f"{g}={first_row.loc[s, g]}" for g in groups) for s in ids]
        else:
            lab = ["pooled"] * R
        units = list(dict.fromkeys(lab))
        where = {u: i for i, u in enumerate(units)}
        unit_idx = np.array([where[x] for x in lab])
    batch = Batch(times, y, mask, oidx, dt, amt, dur, unit_idx)
    return PKData(batch, ids, outputs, list(chosen) if chosen else [model.outputs[0]], units, obs, doses, n_blq,
                  n_pre, int(np.sum(keep & missing)))
