"""Multiple-dose NCA: one analysis per dosing interval, steady-state and accumulation parameters.

Doses come as a separate table (subject, dose time, dose, and optionally the interval tau).  Dose k of a subject
defines the interval [t_k, t_k + tau_k], tau_k being the time to the next dose (or the ``tau`` column, which the
last dose needs unless every interval has the same length).  Each interval is analysed like a single dose on
time after dose, with these differences:

* the sample at the dose time is the **pre-dose** (trough) concentration of that dose -- never replaced by an
  imputed 0 (for dose 1 a missing dose-time sample is 0, as for a single dose; for a later dose the interval AUC
  is then missing with a reason);
* the sample at t_k + tau is both the trough of interval k and the pre-dose sample of dose k + 1;
* after the **last** dose every later sample belongs to its interval (washout), so its lambda_z, AUCinf and
  half-life use the whole terminal phase, while the interval parameters stop at tau.

Per interval, besides the single-dose parameters (lambda_z from the interval's own points):

* ``AUCTAU`` = AUC from t_k to t_k + tau (the end interpolated, or extrapolated with lambda_z as for partial AUCs);
* ``CMAX``/``TMAX`` as usual, ``CMIN`` = minimum observed concentration in [t_k, t_k + tau], ``CTROUGH`` =
  concentration observed at t_k + tau; ``CAVG`` = AUCTAU / tau; ``FLUCP`` = 100 (Cmax - Cmin) / Cavg (the % peak-
  trough fluctuation); ``SWING`` = 100 (Cmax - Cmin) / Cmin; ``PTROUGHR`` = Cmax / Ctrough;
* ``CLSS`` (intravascular) or ``CLFSS`` (extravascular) = dose / AUCTAU; ``VZSS``/``VZFSS`` = CLss / lambda_z;
* accumulation against the subject's first interval (dose-normalised, so unequal doses compare):
  ``ARAUC`` = AUCTAU_k / AUCTAU_1, ``ARCMAX``, ``ARCTROUGH`` likewise; ``AILAMZ`` = 1 / (1 - exp(-lambda_z,1 tau))
  the theoretical accumulation index from the first interval's lambda_z; ``LINIDX`` = AUCTAU_k / AUCIFO_1 (the
  linearity or time-invariance index: 1 when the kinetics are linear and stationary).

CDISC has no codes for several of these; the names above are adcbridge's, listed in the registry.  Interval rows
carry ``DOSENO`` and the absolute interval in ``PPSTINT``/``PPENINT``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adcbridge.results import Issue, make_provenance

from .analysis import NcaResult, _lambda_z_points, _long_table, lambda_z_masks
from .engine import NcaOptions, _first_reason, compute_parameters
from .profiles import build_profiles

__all__ = ["run_nca_multiple_dose", "dosing_intervals"]


def dosing_intervals(dosing: pd.DataFrame, *, subject: str, dose_time: str, dose: str,
                     tau: str | None = None, groups: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per dose: subject, DOSENO (1, 2, ...), _start, _end (= _start + tau), _tau, _dose, _last; checked."""
    missing = [c for c in (subject, dose_time, dose, tau) if c and c not in dosing.columns]
    if missing:
        raise ValueError(f"the dosing table lacks column(s) {missing}; it has {list(dosing.columns)}")
    d = dosing.reset_index(drop=True)
    for col in (dose_time, dose) + ((tau,) if tau else ()):
        vals = pd.to_numeric(d[col], errors="coerce")
        if vals.isna().any():
            i = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise ValueError(f"dosing row {i + 1}, column '{col}': not a number ({d[col].iloc[i]!r})")
        d[col] = vals
    bad = np.flatnonzero((d[dose] <= 0).to_numpy())
    if bad.size:
        raise ValueError(f"dosing row {bad[0] + 1}, column '{dose}': dose must be > 0")
    keys = [g for g in groups if g in d.columns] + [subject]
    rows = []
    for key, g in d.groupby(keys, sort=False, dropna=False):
        who = ", ".join(f"{k}={v}" for k, v in zip(keys, key if isinstance(key, tuple) else (key,)))
        times = g[dose_time].to_numpy(dtype=float)
        if np.any(np.diff(times) <= 0):
            raise ValueError(f"dosing of {who}: dose times must be strictly increasing (column '{dose_time}')")
        gaps = np.diff(times)
        given = g[tau].to_numpy(dtype=float) if tau else None
        for k, t0 in enumerate(times):
            if given is not None and np.isfinite(given[k]):
                length = given[k]
            elif k < len(times) - 1:
                length = gaps[k]
            elif gaps.size and np.allclose(gaps, gaps[0]):
                length = gaps[0]
            else:
                why = "there is one dose" if not gaps.size else "the intervals differ"
                raise ValueError(f"dosing of {who}: the last dose needs its interval (a '{tau or 'tau'}' column) "
                                 f"because {why}")
            if length <= 0:
                raise ValueError(f"dosing of {who}, dose {k + 1}: tau must be > 0")
            if k < len(times) - 1 and t0 + length > times[k + 1] + 1e-9 * max(1.0, abs(times[k + 1])):
                raise ValueError(f"dosing of {who}, dose {k + 1}: tau = {length:g} reaches past the next dose "
                                 f"at {times[k + 1]:g} (dosing row {int(g.index[k]) + 1})")
            rec = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
            rec.update({"DOSENO": k + 1, "_start": t0, "_end": t0 + length, "_tau": length,
                        "_dose": float(g[dose].iloc[k]), "_last": k == len(times) - 1})
            rows.append(rec)
    return pd.DataFrame(rows)


def run_nca_multiple_dose(data: pd.DataFrame, dosing: pd.DataFrame, *, subject: str, time: str, conc: str,
                          dose_time: str, dose: str, tau: str | None = None, analyte: str | None = None,
                          groups: list[str] | tuple[str, ...] = (), blq: str | None = None, lloq: str | None = None,
                          route: str | None = None, duration: str | None = None,
                          default_route: str = "extravascular", default_duration: float = 0.0,
                          options: NcaOptions | None = None, lambda_z_selection: pd.DataFrame | None = None,
                          predose_window: float = 0.0) -> NcaResult:
    """Multiple-dose NCA (see the module docstring); ``time`` is time since the first dose.

    A sample taken up to ``predose_window`` before a dose (and any within 1e-9 of it) counts as taken at the dose
    time: it is that dose's pre-dose sample and the previous interval's trough.  ``lambda_z_selection`` rows need
    the key columns, ``DOSENO`` and the time after that dose.
    """
    if predose_window < 0:
        raise ValueError(f"The 'predose_window' argument must be >= 0. Got {predose_window}.")
    options = options or NcaOptions()
    if subject not in data.columns:
        raise ValueError(f"missing column(s) ['{subject}']; the table has {list(data.columns)}")
    intervals = dosing_intervals(dosing, subject=subject, dose_time=dose_time, dose=dose, tau=tau, groups=groups)
    join = [g for g in groups if g in intervals.columns] + [subject]
    have = data[join].drop_duplicates().merge(intervals[join].drop_duplicates(), on=join, how="left", indicator=True)
    lost = have[have["_merge"] == "left_only"]
    if len(lost):
        raise ValueError(f"{', '.join(f'{k}={lost.iloc[0][k]}' for k in join)} has concentrations but no dose in "
                         f"the dosing table")
    base = data.reset_index(drop=True).drop(columns=["DOSENO"], errors="ignore").copy()
    base["_row"] = np.arange(len(base)) + 1
    t_abs = pd.to_numeric(base[time], errors="coerce")
    merged = base.assign(_t=t_abs).merge(intervals, on=join, how="inner")
    # samples just before a dose (within the pre-dose window) belong to that dose's start
    tol = 1e-9 * np.maximum(1.0, np.abs(merged["_start"]))
    near_start = (merged["_t"] < merged["_start"]) & (merged["_t"] >= merged["_start"] - predose_window - tol)
    merged.loc[near_start, "_t"] = merged.loc[near_start, "_start"]
    near_end = (np.abs(merged["_t"] - merged["_end"]) <= tol) | (
        (merged["_t"] < merged["_end"]) & (merged["_t"] >= merged["_end"] - predose_window - tol)
        & ~merged["_last"])
    merged.loc[near_end, "_t"] = merged.loc[near_end, "_end"]
    inside = (merged["_t"] >= merged["_start"]) & ((merged["_t"] <= merged["_end"]) | merged["_last"])
    frame = merged[inside].copy()
    frame["_tad"] = frame["_t"] - frame["_start"]
    frame = frame.sort_values(["DOSENO", "_row"], kind="stable")
    key_groups = [*groups, subject]
    prof = build_profiles(frame.drop(columns=[time]).rename(columns={"_tad": time}), subject="DOSENO", time=time,
                          conc=conc, analyte=analyte, groups=key_groups, dose="_dose", blq=blq, lloq=lloq,
                          route=route, duration=duration, default_route=default_route,
                          default_duration=default_duration)
    keys = prof.keys
    iv = keys.merge(intervals, on=[*join, "DOSENO"], how="left")
    tau_p = iv["_tau"].to_numpy(dtype=float)
    later = keys["DOSENO"].to_numpy() > 1
    all_keys = [*key_groups, "DOSENO"] + ([analyte] if analyte else [])
    excl, incl, sel_reasons = lambda_z_masks(prof, lambda_z_selection, all_keys)
    ana = keys[analyte].to_numpy() if analyte else None
    params, parts, part_reasons, (auctau, tau_reason), fit, (t, c, row, meas) = compute_parameters(
        prof, options, ana, excl, incl, later_dose=later, interval_end=tau_p)
    _steady_state(params, prof, t, c, tau_p, auctau, tau_reason, options, ana)
    params.dose_of_profile = prof.dose.astype(float)
    _accumulation(params, keys, subject, analyte, groups, tau_p)
    table = _long_table(prof, params, parts, part_reasons, options, [*key_groups, "DOSENO"], analyte)
    idx = table[[*key_groups, "DOSENO"]].merge(iv[[*key_groups, "DOSENO", "_start", "_end"]].drop_duplicates(),
                                               on=[*key_groups, "DOSENO"], how="left")
    table["PPSTINT"] = table["PPSTINT"].where(table["PPTESTCD"] == "AUCINT", idx["_start"].to_numpy())
    table["PPENINT"] = table["PPENINT"].where(table["PPTESTCD"] == "AUCINT", idx["_end"].to_numpy())
    points = _lambda_z_points(prof, fit, t, c, row, excl, incl, sel_reasons, [*key_groups, "DOSENO"], analyte)
    issues = [Issue("multiple_dose", f"{int(intervals['DOSENO'].max())} dosing intervals per subject at most; "
                                     f"accumulation is relative to each subject's first interval", "info")]
    return NcaResult(spec=options, table=table, issues=tuple(issues), provenance=make_provenance(options, data, dosing),
                     key_columns=tuple([*key_groups, "DOSENO"]), subject_column=subject, lambda_z_points=points)


def _steady_state(params, prof, t, c, tau, auctau, tau_reason, options, analyte):
    P = prof.n_profiles
    obs = np.isfinite(t)
    within = obs & (t <= tau[:, None] + 1e-9)
    any_in = within.any(axis=1)
    cmin = np.where(any_in, np.min(np.where(within, c, np.inf), axis=1), np.nan)
    cmax_tau = np.where(any_in, np.max(np.where(within, c, -np.inf), axis=1), np.nan)
    at_end = obs & np.isclose(t, tau[:, None], rtol=0, atol=1e-9)
    ctrough = np.where(at_end.any(axis=1), np.nansum(np.where(at_end, c, 0), axis=1), np.nan)
    no_end = np.where(at_end.any(axis=1), None, "no sample at the end of the dosing interval")
    none = np.where(any_in, None, "no sample in the interval")
    cavg = auctau / tau
    params.set("AUCTAU", auctau, tau_reason)
    params.set("CMIN", cmin, none)
    params.set("CTROUGH", ctrough, no_end)
    params.set("CAVG", cavg, tau_reason)
    with np.errstate(divide="ignore", invalid="ignore"):
        params.set("FLUCP", 100 * (cmax_tau - cmin) / cavg, _first_reason(none, tau_reason))
        params.set("SWING", np.where(cmin > 0, 100 * (cmax_tau - cmin) / cmin, np.nan),
                   _first_reason(none, np.where(cmin > 0, None, "Cmin is 0 (BLQ)")))
        params.set("PTROUGHR", np.where(ctrough > 0, cmax_tau / ctrough, np.nan),
                   _first_reason(no_end, np.where(ctrough > 0, None, "Ctrough is 0 (BLQ)")))
    is_metab = np.zeros(P, dtype=bool) if analyte is None else np.isin(analyte, list(options.metabolites))
    dose_reason = np.where(is_metab, "metabolite/payload analyte: no dose of its own", None)
    k = np.array([options.units_for(a).clearance_factor for a in analyte]) if analyte is not None and \
        options.conc_units_by_analyte else options.units.clearance_factor
    with np.errstate(divide="ignore", invalid="ignore"):
        clss = np.where(is_metab | ~(auctau > 0), np.nan, k * prof.dose / auctau)
    reason = _first_reason(dose_reason, tau_reason, np.where(auctau == 0, "AUCTAU is 0", None))
    lam_reason = _first_reason(reason, params.why("LAMZ"))
    for ev_code, iv_code, value, why in (("CLFSS", "CLSS", clss, reason),
                                         ("VZFSS", "VZSS", clss / params.get("LAMZ"), lam_reason)):
        ev = prof.route == "extravascular"
        params.set(ev_code, np.where(ev, value, np.nan), why)
        params.set(iv_code, np.where(~ev, value, np.nan), why)


def _accumulation(params, keys, subject, analyte, groups, tau):
    """Ratios against the first interval of the same subject (and analyte), dose-normalised."""
    group_cols = [*groups, subject] + ([analyte] if analyte else [])
    gid = keys.groupby(group_cols, sort=False, dropna=False).ngroup().to_numpy()
    first = np.full(gid.max() + 1, -1)
    doseno = keys["DOSENO"].to_numpy()
    for p in np.argsort(doseno, kind="stable"):
        if first[gid[p]] < 0 and doseno[p] == 1:
            first[gid[p]] = p
    ref = first[gid]
    has_ref = ref >= 0
    refp = np.where(has_ref, ref, 0)
    dose = params.dose_of_profile
    dn = np.where(np.isfinite(dose) & (dose > 0), 1.0 / dose, np.nan)
    base_reason = np.where(has_ref, None, "no first-dose interval for this subject")

    def ratio(code, value_code):
        v = params.get(value_code) * dn
        zero = np.where(has_ref & (v[refp] == 0), f"{value_code} of the first interval is 0", None)
        r = np.where(has_ref & (v[refp] != 0), v / v[refp], np.nan)
        params.set(code, r, _first_reason(base_reason, zero, params.why(value_code), params.why(value_code)[refp]))

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio("ARAUC", "AUCTAU")
        ratio("ARCMAX", "CMAX")
        ratio("ARCTROUGH", "CTROUGH")
        lam1 = params.get("LAMZ")[refp]
        params.set("AILAMZ", np.where(has_ref, 1 / (1 - np.exp(-lam1 * tau)), np.nan),
                   _first_reason(base_reason, params.why("LAMZ")[refp]))
        auc1 = params.get("AUCIFO")[refp] * dn[refp]
        params.set("LINIDX", np.where(has_ref, params.get("AUCTAU") * dn / auc1, np.nan),
                   _first_reason(base_reason, params.why("AUCTAU"), params.why("AUCIFO")[refp]))
