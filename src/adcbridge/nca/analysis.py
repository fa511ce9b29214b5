"""Run an NCA on a long concentration table and get the CDISC PP table, a wide table and group summaries.

>>> import pandas as pd
>>> from adcbridge.nca import run_nca, NcaOptions
>>> df = pd.DataFrame({"ID": [1] * 6, "TIME": [0, 1, 2, 4, 8, 12], "CONC": [0, 10, 8, 4, 2, 1], "DOSE": 100})
>>> r = run_nca(df, subject="ID", time="TIME", conc="CONC", dose="DOSE",
...             options=NcaOptions(auc_method="linear", units={"time": "h", "conc": "ug/mL", "dose": "mg"}))
>>> round(float(r.wide()["AUCLST"].iloc[0]), 6)
44.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from adcbridge.results import Issue, Result, make_provenance

from .engine import NcaOptions, compute_parameters
from .parameters import REGISTRY
from .profiles import Profiles, build_profiles
from .summary import describe

__all__ = ["NcaResult", "run_nca", "run_nca_in_chunks", "lambda_z_masks", "combine_issues", "CHUNK_PROFILES"]

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
        """One row per profile, one column per parameter (partial AUCs as ``AUCINT_<start>-<end>``), profiles and
        parameters in the order they first appear in ``table``."""
        t = self.table
        keys = list(self.key_columns) + (["PPCAT"] if "PPCAT" in t.columns else [])
        name = t["PPTESTCD"].astype(object).to_numpy()
        part = name == "AUCINT"
        if part.any():
            name = name.copy()
            name[part] = ("AUCINT_" + t.loc[part, "PPSTINT"].map("{:.10g}".format) + "-"
                          + t.loc[part, "PPENINT"].map("{:.10g}".format)).to_numpy()
        profile = (t.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if keys
                   else np.zeros(len(t), dtype=np.intp))
        column, names = pd.factorize(name)
        n = int(profile.max()) + 1 if len(t) else 0
        seen = np.zeros((n, len(names)), dtype=np.int32)
        np.add.at(seen, (profile, column), 1)
        if (seen > 1).any():
            raise ValueError("the NCA table has a parameter twice for one profile; cannot make it wide")
        values = np.full((n, len(names)), np.nan)
        values[profile, column] = t["PPSTRESN"].to_numpy(dtype=float)
        first = np.unique(profile, return_index=True)[1]
        ids = t.iloc[first][keys].reset_index(drop=True)
        return pd.concat([ids, pd.DataFrame(values, columns=list(names))], axis=1)

    def describe(self, by: list[str] | None = None) -> pd.DataFrame:
        """Group summaries (N, mean, SD, CV%, geometric mean and CV%, median, min, max) per parameter; ``by``
        defaults to the key columns without the subject (so dose number stays for multiple dose) plus the
        analyte.  Partial AUCs are summarised per interval (``AUCINT_<start>-<end>``)."""
        subject = self.subject_column or (self.key_columns[-1] if self.key_columns else None)
        default = [k for k in self.key_columns if k != subject] + (["PPCAT"] if "PPCAT" in self.table else [])
        by = list(by) if by is not None else default
        missing = [c for c in by if c not in self.table.columns]
        if missing:
            raise ValueError(f"cannot summarise by {missing}: the table has {list(self.table.columns)}")
        used = [*by, "PPTESTCD", "PPSTRESN"] + [c for c in ("PPSTINT", "PPENINT") if c in self.table.columns]
        t = self.table[list(dict.fromkeys(used))]          # only the columns summarised: large tables stay cheap
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
        issues.append(_counted("lambda_z_missing", n_missing_lz, prof.n_profiles))
    if excl.any() or incl.any():
        issues.append(_counted("lambda_z_manual", int((excl | incl).any(axis=1).sum())))
    n_pre = int(np.sum(prof.time < 0))
    if n_pre:
        issues.append(_counted("pre_dose_samples", n_pre))
    n_missing = int(np.sum(np.isfinite(prof.time) & np.isnan(prof.conc) & ~prof.blq.astype(bool)))
    if n_missing:
        issues.append(_counted("missing_concentrations", n_missing))
    return NcaResult(spec=options, table=table, issues=tuple(issues),
                     provenance=make_provenance(options, data), key_columns=tuple(key_columns),
                     subject_column=subject, lambda_z_points=points)


# issues that count something: over chunks the counts add up (see combine_issues)
_COUNTED = {
    "lambda_z_missing": "{} of {} profiles have no lambda_z (see EXCLUDE_REASON)",
    "lambda_z_manual": "lambda_z points chosen by the user in {} profiles",
    "pre_dose_samples": "{} samples before the dose (time < 0) left out",
    "missing_concentrations": "{} samples without a concentration (an empty cell, not BLQ) left out",
}


def _counted(code: str, *counts: int) -> Issue:
    return Issue(code, _COUNTED[code].format(*counts), "info")


def combine_issues(issue_lists, n_profiles: int | None = None) -> tuple[Issue, ...]:
    """The issues of several chunks of one analysis as one list, in order of first appearance: counted issues
    (missing lambda_z, user-chosen lambda_z points, pre-dose samples) with their counts added up (``n_profiles``,
    the whole analysis's count, as the denominator of missing lambda_z), others once per distinct message."""
    found: dict[str, list[Issue]] = {}
    for issues in issue_lists:
        for issue in issues:
            found.setdefault(issue.code, []).append(issue)
    out = []
    for code, group in found.items():
        if code in _COUNTED and len(group) > 1:
            pattern = re.compile(re.escape(_COUNTED[code]).replace(r"\{\}", r"(\d+)") + "$")
            parsed = [pattern.match(i.message) for i in group]
            if all(parsed):
                sums = np.sum([[int(g) for g in m.groups()] for m in parsed], axis=0).tolist()
                if code == "lambda_z_missing" and n_profiles is not None:
                    sums[1] = n_profiles
                out.append(Issue(code, _COUNTED[code].format(*sums), group[0].severity))
                continue
        out.extend(dict.fromkeys(group))          # Issue is a frozen dataclass: equal messages once
    return tuple(out)


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
    """The long table, built from index arrays: one row per profile and applicable parameter (then its partial
    AUCs), profiles in order; PPTESTCD and PPSTRESU as categories (sorted), EXCLUDE_REASON None when a value
    exists."""
    P = prof.n_profiles
    codes = [c for c in SINGLE_DOSE_ORDER if c in params.values]
    K = len(codes)
    route_of, route_names = pd.factorize(np.asarray(prof.route, dtype=object), use_na_sentinel=False)
    applicable = np.array([[r in REGISTRY[code].routes for code in codes] for r in route_names],
                          dtype=bool).reshape(len(route_names), K)[route_of]                  # (P, K)
    p_idx, k_idx = np.nonzero(applicable)
    values = np.column_stack([params.get(code) for code in codes])
    vals = values[p_idx, k_idx]
    missing = np.flatnonzero(~np.isfinite(vals))          # reasons only where a value is missing (the few rows)
    why = np.full(len(vals), None, dtype=object)
    if missing.size:
        reasons = np.column_stack([params.why(code) for code in codes])
        given = _none_for_missing(reasons[p_idx[missing], k_idx[missing]])
        why[missing] = np.where(given == None, np.where(np.isinf(vals[missing]), "division by zero",  # noqa: E711
                                                        "not computable"), given)
        vals[missing] = np.nan
    # units: one row of units per analyte, as category codes
    if analyte:
        ana_of, ana_names = pd.factorize(prof.keys[analyte].to_numpy(), use_na_sentinel=False)
    else:
        ana_of, ana_names = np.zeros(P, dtype=np.intp), [None]
    unit_rows = [[options.units_for(a).unit(REGISTRY[code].unit) for code in codes] for a in ana_names]
    unit_names = sorted({u for row in unit_rows for u in row if u is not None})
    unit_code = np.array([[unit_names.index(u) if u is not None else -1 for u in row] for row in unit_rows],
                         dtype=np.int32).reshape(len(unit_rows), K)
    test_names = sorted(codes + (["AUCINT"] if options.partial_aucs else []))
    test_code = np.array([test_names.index(c) for c in codes], dtype=np.int32)
    rows_p, rows_t, rows_u, rows_v, rows_why = [p_idx], [test_code[k_idx]], [unit_code[ana_of[p_idx], k_idx]], \
        [vals], [why]
    rows_st, rows_en = [np.full(len(p_idx), np.nan)], [np.full(len(p_idx), np.nan)]
    if options.partial_aucs:
        every = np.arange(P)
        auc_unit = unit_code[ana_of, codes.index("AUCLST")]
        for j, (a, b) in enumerate(options.partial_aucs):
            v = parts[:, j]
            rows_p.append(every)
            rows_t.append(np.full(P, test_names.index("AUCINT"), dtype=np.int32))
            rows_u.append(auc_unit)
            rows_v.append(v)
            rows_why.append(np.where(np.isfinite(v), None, _none_for_missing(part_reasons[:, j])))
            rows_st.append(np.full(P, float(a)))
            rows_en.append(np.full(P, float(b)))
    p_all = np.concatenate(rows_p)
    order = np.argsort(p_all, kind="stable") if len(rows_p) > 1 else slice(None)   # each profile's rows together
    p_all = p_all[order]
    cols = {k: _take(prof.keys[k], p_all) for k in key_columns}
    if analyte:
        cols["PPCAT"] = _take(prof.keys[analyte], p_all)
    # few distinct strings, many rows: categories keep large tables small
    reason = np.concatenate(rows_why)[order] if len(rows_why) > 1 else why
    return pd.DataFrame({
        **cols,
        "PPTESTCD": _categories(np.concatenate(rows_t)[order], test_names),
        "PPSTRESN": np.concatenate(rows_v)[order].astype(float),
        "PPSTRESU": _categories(np.concatenate(rows_u)[order], unit_names),
        "EXCLUDE_REASON": pd.Series(reason, dtype=object),
        "PPSTINT": np.concatenate(rows_st)[order], "PPENINT": np.concatenate(rows_en)[order]})


def _none_for_missing(reasons: np.ndarray) -> np.ndarray:
    """Object array of reasons with None for every missing one (None or NaN)."""
    reasons = np.asarray(reasons, dtype=object)
    return np.where(pd.isna(reasons), None, reasons)


def _take(column: pd.Series, rows: np.ndarray):
    """``column``'s values at ``rows``, keeping its dtype (text stays Arrow-backed: no per-string conversion)."""
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy()[rows]
    return column.array.take(rows)


def _categories(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical of the (sorted) ``names`` that occur, from codes into ``names`` (-1: missing)."""
    used = np.zeros(len(names) + 1, dtype=bool)
    used[codes] = True                                  # code -1 marks the last slot
    keep = np.flatnonzero(used[:-1])
    remap = np.full(len(names) + 1, -1, dtype=np.int32)
    remap[keep] = np.arange(len(keep))
    return pd.Categorical.from_codes(remap[codes], categories=[names[i] for i in keep])


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
