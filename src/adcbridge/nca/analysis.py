"""Run an NCA on a long concentration table and get the CDISC PP table, a wide table and group summaries.

>>> import pandas as pd
>>> from adcbridge.nca import run_nca, NcaOptions
>>> df = pd.DataFrame({"ID": [1] * 6, "TIME": [0, 1, 2, 4, 8, 12], "CONC": [0, 10, 8, 4, 2, 1], "DOSE": 100})
>>> r = run_nca(df, subject="ID", time="TIME", conc="CONC", dose="DOSE",
...             options=NcaOptions(auc_method="linear", units={"time": "h", "conc": "ug/mL", "dose": "mg"}))
>>> round(float(r.wide()["AUCLST"].iloc[0]), 6)
50.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from adcbridge.results import Issue, Result, make_provenance

from .engine import NcaOptions, compute_parameters
from .parameters import REGISTRY
from .profiles import Profiles, build_profiles
from .summary import describe

__all__ = ["NcaResult", "run_nca", "run_nca_in_chunks", "lambda_z_masks", "CHUNK_PROFILES"]

CHUNK_PROFILES = 50_000

SINGLE_DOSE_ORDER = [c for c in REGISTRY if c != "AUCINT"]


@dataclass(frozen=True, eq=False)
class NcaResult(Result):
    """NCA results.

    ``table`` is the long CDISC PP table: the key columns (groups, subject), ``PPCAT`` (analyte, when given),
    ``PPTESTCD``, ``PPSTRESN``, ``PPSTRESU``, ``EXCLUDE_REASON`` (why a value is missing), and ``PPSTINT`` /
    ``PPENINT`` for partial AUCs (``AUCINT``).  ``lambda_z_points`` lists every sample with whether it was used
    for lambda_z and any user exclusion with its reason.
    """

    key_columns: tuple[str, ...] = ()
    subject_column: str = ""
    lambda_z_points: pd.DataFrame | None = None

    result_type: ClassVar[str] = "NcaResult"

    def wide(self) -> pd.DataFrame:
        """One row per profile, one column per parameter (partial AUCs as ``AUCINT_<start>-<end>``)."""
        t = self.table.copy()
        t["PPTESTCD"] = t["PPTESTCD"].astype(object)
        name = t["PPTESTCD"].where(t["PPTESTCD"] != "AUCINT", "AUCINT_" + t["PPSTINT"].map("{:.10g}".format) + "-"
                                   + t["PPENINT"].map("{:.10g}".format))
        keys = list(self.key_columns) + (["PPCAT"] if "PPCAT" in t.columns else [])
        t["_name"] = name
        t["_profile"] = t.groupby(keys, sort=False, dropna=False).ngroup()
        wide = t.pivot(index="_profile", columns="_name", values="PPSTRESN")
        ids = t.drop_duplicates("_profile").set_index("_profile")[keys]
        wide = ids.join(wide.reindex(columns=list(dict.fromkeys(name))))
        return wide.reset_index(drop=True).rename_axis(columns=None)

    def describe(self, by: list[str] | None = None) -> pd.DataFrame:
        """Group summaries (N, mean, SD, CV%, geometric mean and CV%, median, min, max) per parameter; ``by``
        defaults to the key columns without the subject (so dose number stays for multiple dose) plus the
        analyte.  Partial AUCs are summarised per interval (``AUCINT_<start>-<end>``)."""
        subject = self.subject_column or (self.key_columns[-1] if self.key_columns else None)
        default = [k for k in self.key_columns if k != subject] + (["PPCAT"] if "PPCAT" in self.table else [])
        by = list(by) if by is not None else default
        t = self.table.copy()
        t["PPTESTCD"] = t["PPTESTCD"].astype(object)
        part = t["PPTESTCD"] == "AUCINT"
        if part.any():
            t.loc[part, "PPTESTCD"] = ("AUCINT_" + t.loc[part, "PPSTINT"].map("{:.10g}".format).astype(str) + "-"
                                       + t.loc[part, "PPENINT"].map("{:.10g}".format).astype(str))
        return describe(t, by + ["PPTESTCD"])


def lambda_z_masks(prof: Profiles, selection: pd.DataFrame | None, key_columns: list[str]):
    """(exclude, include, reasons) (P, M) arrays from a table with the key columns, ``time``, ``action``
    (``exclude`` or ``include``) and optionally ``reason``.  Unknown profiles or times are errors."""
    P, M = prof.time.shape
    excl = np.zeros((P, M), dtype=bool)
    incl = np.zeros((P, M), dtype=bool)
    reasons = np.full((P, M), None, dtype=object)
    if selection is None or selection.empty:
        return excl, incl, reasons
    needed = [*key_columns, "time", "action"]
    missing = [c for c in needed if c not in selection.columns]
    if missing:
        raise ValueError(f"the lambda_z point selection lacks column(s) {missing}")
    index = {tuple(r): i for i, r in enumerate(prof.keys[key_columns].itertuples(index=False, name=None))}
    for n, rec in enumerate(selection.to_dict("records"), start=1):
        key = tuple(rec[k] for k in key_columns)
        if key not in index:
            raise ValueError(f"lambda_z selection row {n}: no profile {dict(zip(key_columns, key))}")
        p = index[key]
        try:
            when = float(rec["time"])
        except (TypeError, ValueError):
            raise ValueError(f"lambda_z selection row {n}: 'time' must be a number, got {rec['time']!r}") from None
        hit = np.flatnonzero(np.isclose(prof.time[p], when, rtol=0, atol=1e-9))
        if not hit.size:
            raise ValueError(f"lambda_z selection row {n}: profile {dict(zip(key_columns, key))} has no sample at "
                             f"time {rec['time']}")
        action = str(rec["action"]).strip().lower()
        if action not in ("exclude", "include"):
            raise ValueError(f"lambda_z selection row {n}: action must be 'exclude' or 'include', got {action!r}")
        (excl if action == "exclude" else incl)[p, hit[0]] = True
        reasons[p, hit[0]] = rec.get("reason") or f"{action}d by the user"
    return excl, incl, reasons


def run_nca(data: pd.DataFrame, *, subject: str, time: str, conc: str, analyte: str | None = None,
            groups: list[str] | tuple[str, ...] = (), dose: str | None = None, blq: str | None = None,
            lloq: str | None = None, route: str | None = None, duration: str | None = None,
            default_route: str = "extravascular", default_duration: float = 0.0,
            options: NcaOptions | None = None, lambda_z_selection: pd.DataFrame | None = None) -> NcaResult:
    """Single-dose NCA of every profile in ``data`` (see :mod:`adcbridge.nca.engine` for the conventions)."""
    options = options or NcaOptions()
    prof = build_profiles(data, subject=subject, time=time, conc=conc, analyte=analyte, groups=groups, dose=dose,
                          blq=blq, lloq=lloq, route=route, duration=duration, default_route=default_route,
                          default_duration=default_duration)
    key_columns = list(dict.fromkeys([*groups, subject]))
    all_keys = key_columns + ([analyte] if analyte else [])
    excl, incl, sel_reasons = lambda_z_masks(prof, lambda_z_selection, all_keys)
    ana = prof.keys[analyte].to_numpy() if analyte else None
    params, parts, part_reasons, _, fit, (t, c, row, meas) = compute_parameters(prof, options, ana, excl, incl)
    table = _long_table(prof, params, parts, part_reasons, options, key_columns, analyte)
    points = _lambda_z_points(prof, fit, t, c, row, excl, incl, sel_reasons, key_columns, analyte)
    issues = []
    n_missing_lz = int(np.sum(~np.isfinite(params.get("LAMZ"))))
    if n_missing_lz:
        issues.append(Issue("lambda_z_missing", f"{n_missing_lz} of {prof.n_profiles} profiles have no lambda_z "
                                                f"(see EXCLUDE_REASON)", "info"))
    if excl.any() or incl.any():
        issues.append(Issue("lambda_z_manual", f"lambda_z points chosen by the user in "
                                               f"{int((excl | incl).any(axis=1).sum())} profiles", "info"))
    n_pre = int(np.sum(prof.time < 0))
    if n_pre:
        issues.append(Issue("pre_dose_samples", f"{n_pre} samples before the dose (time < 0) left out", "info"))
    return NcaResult(spec=options, table=table, issues=tuple(issues),
                     provenance=make_provenance(options, data), key_columns=tuple(key_columns),
                     subject_column=subject, lambda_z_points=points)


def run_nca_in_chunks(data: pd.DataFrame, *, chunk_profiles: int = CHUNK_PROFILES, **kwargs):
    """Yield :func:`run_nca` results for consecutive groups of at most ``chunk_profiles`` profiles, so that any
    number of profiles runs in bounded memory (write each chunk's tables as they come).  Keyword arguments are
    those of :func:`run_nca`; a profile is never split between chunks."""
    keys = [*kwargs.get("groups", ()), kwargs["subject"]] + ([kwargs["analyte"]] if kwargs.get("analyte") else [])
    missing = [k for k in dict.fromkeys(keys) if k not in data.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the table has {list(data.columns)}")
    if data.empty:
        raise ValueError("the concentration table has no rows")
    key_list = list(dict.fromkeys(keys))
    pid = data.groupby(key_list, sort=False, dropna=False).ngroup().to_numpy()
    n = int(pid.max()) + 1
    selection = kwargs.pop("lambda_z_selection", None)
    sel_pid = None
    if selection is not None and not selection.empty:
        missing = [k for k in key_list if k not in selection.columns]
        if missing:
            raise ValueError(f"the lambda_z point selection lacks column(s) {missing}")
        ids = data[key_list].drop_duplicates().assign(_pid=lambda f: np.arange(len(f)))
        merged = selection.reset_index(drop=True).merge(ids, on=key_list, how="left")
        unknown = np.flatnonzero(merged["_pid"].isna().to_numpy())
        if unknown.size:
            row = selection.iloc[int(unknown[0])]
            raise ValueError(f"lambda_z selection row {unknown[0] + 1}: no profile "
                             f"{ {k: row[k] for k in key_list} }")
        sel_pid = merged["_pid"].to_numpy(dtype=int)
    for start in range(0, n, chunk_profiles):
        rows = (pid >= start) & (pid < start + chunk_profiles)
        chunk_sel = None
        if sel_pid is not None:
            chunk_sel = selection[(sel_pid >= start) & (sel_pid < start + chunk_profiles)]
        yield run_nca(data[rows], lambda_z_selection=chunk_sel, **kwargs)


def _long_table(prof: Profiles, params, parts, part_reasons, options: NcaOptions, key_columns, analyte):
    P = prof.n_profiles
    routes = prof.route
    codes = [c for c in SINGLE_DOSE_ORDER if c in params.values]
    applicable = np.array([[r in REGISTRY[code].routes for code in codes] for r in routes])    # (P, K)
    values = np.column_stack([params.get(code) for code in codes])
    reasons = np.column_stack([params.why(code) for code in codes])
    p_idx, k_idx = np.nonzero(applicable)
    analytes = prof.keys[analyte].to_numpy() if analyte else np.full(P, None, dtype=object)
    unit_table = {a: np.array([options.units_for(a).unit(REGISTRY[code].unit) for code in codes], dtype=object)
                  for a in dict.fromkeys(analytes.tolist())}
    units = np.empty((P, len(codes)), dtype=object)
    for a, row_units in unit_table.items():
        units[analytes == a] = row_units
    vals = values[p_idx, k_idx]
    why = reasons[p_idx, k_idx]
    why = np.where(np.isfinite(vals), None, np.where(why == None, np.where(np.isinf(vals), "division by zero",  # noqa: E711
                                                                         "not computable"), why))
    vals = np.where(np.isfinite(vals), vals, np.nan)
    cols = {k: prof.keys[k].to_numpy()[p_idx] for k in key_columns}
    if analyte:
        cols["PPCAT"] = prof.keys[analyte].to_numpy()[p_idx]
    frame = pd.DataFrame({**cols, "PPTESTCD": np.array(codes, dtype=object)[k_idx], "PPSTRESN": vals,
                          "PPSTRESU": units[p_idx, k_idx], "EXCLUDE_REASON": why,
                          "PPSTINT": np.nan, "PPENINT": np.nan, "_p": p_idx})
    frames = [frame]
    for j, (a, b) in enumerate(options.partial_aucs):
        cols = {k: prof.keys[k].to_numpy() for k in key_columns}
        if analyte:
            cols["PPCAT"] = prof.keys[analyte].to_numpy()
        v = parts[:, j]
        frames.append(pd.DataFrame({**cols, "PPTESTCD": "AUCINT", "PPSTRESN": v,
                                    "PPSTRESU": units[:, codes.index("AUCLST")],
                                    "EXCLUDE_REASON": np.where(np.isfinite(v), None, part_reasons[:, j]),
                                    "PPSTINT": float(a), "PPENINT": float(b), "_p": np.arange(P)}))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frame
    if len(frames) > 1:        # keep each profile's rows together
        out = out.iloc[np.argsort(out["_p"].to_numpy(), kind="stable")].reset_index(drop=True)
    out = out.drop(columns="_p")
    reason = out["EXCLUDE_REASON"].astype(object)
    out["EXCLUDE_REASON"] = reason.where(reason.notna(), None)
    # few distinct strings, many rows: categories keep large tables small
    for col in ("PPTESTCD", "PPSTRESU"):
        out[col] = out[col].astype("category")
    return out


def _lambda_z_points(prof, fit, t, c, row, excl, incl, sel_reasons, key_columns, analyte):
    """One row per cleaned sample: used for lambda_z or not, and user choices with reasons."""
    P, M = t.shape
    ok = np.isfinite(t)
    p_idx, j_idx = np.nonzero(ok)
    rows = row[p_idx, j_idx]
    # map user choices (on original samples) through the original row numbers
    size = int(max(prof.row.max(initial=0), rows.max(initial=0))) + 1
    on = prof.row > 0
    ex_by_row = np.zeros(size, dtype=bool)
    in_by_row = np.zeros(size, dtype=bool)
    why_by_row = np.full(size, None, dtype=object)
    ex_by_row[prof.row[on]] = excl[on]
    in_by_row[prof.row[on]] = incl[on]
    why_by_row[prof.row[on]] = sel_reasons[on]
    ex, inc, why = ex_by_row[rows], in_by_row[rows], why_by_row[rows]
    cols = {k: prof.keys[k].to_numpy()[p_idx] for k in key_columns}
    if analyte:
        cols["PPCAT"] = prof.keys[analyte].to_numpy()[p_idx]
    return pd.DataFrame({**cols, "time": t[p_idx, j_idx], "conc": c[p_idx, j_idx], "row": rows,
                         "used_for_lambda_z": fit.used[p_idx, j_idx], "user_excluded": ex, "user_included": inc,
                         "user_reason": why})
