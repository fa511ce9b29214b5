"""Single-dose non-compartmental analysis of many profiles at once.

Conventions (see ``docs/nca.md`` for the choices where PKNCA, NonCompart and Phoenix WinNonlin disagree):

* **Dose-time sample.** Extravascular and infusion profiles without a sample at the dose time (t = 0) get
  (0, 0); an IV bolus gets (0, C0), C0 being the log-linear back-extrapolation of the first two samples when
  they decline (C1 > C2 > 0), else the first measurable concentration (a measured positive value at t = 0 is
  used as it is).  C0 therefore enters every AUC, AUMC, CL, Vz, MRT and Vss of a bolus (Phoenix/NonCompart;
  PKNCA 0.12.1's native AUCs start from an imputed 0 instead).
* **Observed parameters** (Cmax, Tmax -- first occurrence --, Tlast, Clast, Tlag, Ceoi) use observed samples
  only.  A profile without a measurable concentration has Cmax 0 and AUCs 0; Tmax, Tlast, Clast and everything
  that needs lambda_z are missing with a reason.
* **AUC** by the chosen method (:mod:`.auc`) to Tlast (AUCLST) and to the last sample (AUCALL); extrapolation to
  infinity from the observed or the predicted Clast (suffix O / P).
* **lambda_z** by the best-fit rule (:mod:`.lambda_z`) on the measurable samples after Tmax (at or after Tmax for
  a bolus) and after the end of an infusion, minus user-excluded points; or on user-chosen points.
* **Route-specific**: CL/F, Vz/F and MRT (extravascular); CL, Vz, MRT corrected by half the infusion duration,
  and Vss = CL x MRT (intravascular).
* **Partial AUCs** [a, b]: inside the data the end points are interpolated with the AUC method's rule; past
  the last sample, if the last sample is measurable, the lambda_z line is evaluated at b and the segment from
  the observed Clast to it is integrated (log rule when falling) -- the Phoenix/NonCompart rule; if the last
  sample is BLQ, nothing is added after it.
* A parameter that cannot be computed is missing with a reason; the batch goes on.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from adcbridge.spec import Spec

from .auc import interpolate, segment_areas, uses_log
from .blq import BlqRules, apply_blq_rules, compact
from .lambda_z import fit_lambda_z
from .parameters import NcaUnits
from .profiles import Profiles

__all__ = ["NcaOptions", "compute_parameters", "ProfileParameters"]

LN2 = np.log(2.0)


class NcaOptions(Spec):
    """Options of a non-compartmental analysis."""

    spec_name: ClassVar[str] = "nca"
    auc_method: Literal["linear", "lin-up-log-down"] = "lin-up-log-down"
    blq: BlqRules = Field(default_factory=BlqRules)
    lambda_z_min_points: int = Field(3, ge=3)
    lambda_z_tolerance: float = Field(1e-4, ge=0, le=0.1)
    partial_aucs: tuple[tuple[float, float], ...] = ()
    metabolites: tuple[str, ...] = ()
    units: NcaUnits = Field(default_factory=NcaUnits)
    conc_units_by_analyte: dict[str, str] = Field(default_factory=dict)

    @field_validator("conc_units_by_analyte")
    @classmethod
    def _conc_units(cls, v):
        for unit in v.values():
            NcaUnits(conc=unit)
        return v

    def units_for(self, analyte) -> NcaUnits:
        """The units of one analyte's profiles (its own concentration unit when given)."""
        unit = self.conc_units_by_analyte.get(str(analyte)) if analyte is not None else None
        return self.units if unit is None else self.units.replace(conc=unit)

    @field_validator("partial_aucs")
    @classmethod
    def _intervals(cls, v):
        for a, b in v:
            if not (0 <= a < b):
                raise ValueError(f"must be intervals (start, end) with 0 <= start < end; got ({a}, {b})")
        names = [f"{a:.10g}-{b:.10g}" for a, b in v]
        if len(set(names)) != len(names):
            raise ValueError(f"must not repeat an interval; got {names}")
        return v


class ProfileParameters:
    """Parameter values (P,) and reasons (P,) per PPTESTCD, plus partial AUCs and lambda_z point use."""

    def __init__(self, n_profiles: int):
        self.P = n_profiles
        self.values: dict[str, np.ndarray] = {}
        self.reasons: dict[str, np.ndarray] = {}

    def set(self, code: str, value, reason=None, where_missing: str | None = None) -> None:
        v = np.asarray(value, dtype=float) * np.ones(self.P)
        r = np.full(self.P, None, dtype=object) if reason is None else np.asarray(reason, dtype=object).copy()
        if where_missing:
            r[np.isnan(v) & (r == None)] = where_missing                        # noqa: E711
        self.values[code] = v
        self.reasons[code] = r

    def get(self, code: str) -> np.ndarray:
        return self.values[code]

    def why(self, code: str) -> np.ndarray:
        return self.reasons[code]


def _first_reason(*reasons: np.ndarray) -> np.ndarray:
    out = np.full(len(reasons[0]), None, dtype=object)
    for r in reasons:
        fill = (out == None) & (r != None)                                      # noqa: E711
        out[fill] = r[fill]
    return out


def _c0(t: np.ndarray, c: np.ndarray, predose: np.ndarray | None = None) -> np.ndarray:
    """Bolus C0 from the cleaned samples (see the module docstring).  Where ``predose`` is True a sample at the
    dose time is the pre-dose (trough) concentration of a later dose, not C0."""
    P = t.shape[0]
    at0 = (t == 0) & (c > 0)
    if predose is not None:
        at0 &= ~predose[:, None]
    measured = np.where(at0.any(axis=1), np.nansum(np.where(at0, c, 0), axis=1), np.nan)
    after = np.isfinite(t) & (t > 0) & np.isfinite(c)
    tt, cc = compact(after, t, c)
    if tt.shape[1] < 2:
        tt = np.pad(tt, ((0, 0), (0, 2 - tt.shape[1])), constant_values=np.nan)
        cc = np.pad(cc, ((0, 0), (0, 2 - cc.shape[1])), constant_values=np.nan)
    t1, t2, c1, c2 = tt[:, 0], tt[:, 1], cc[:, 0], cc[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        back = c1 * np.exp(np.log(c1 / c2) * t1 / (t2 - t1))
    first_pos = np.take_along_axis(cc, np.argmax(cc > 0, axis=1)[:, None], axis=1)[:, 0]
    first_pos = np.where((cc > 0).any(axis=1), first_pos, np.nan)
    declining = (c1 > c2) & (c2 > 0)
    return np.where(np.isfinite(measured), measured, np.where(declining, back, first_pos)) * np.ones(P)


def compute_parameters(prof: Profiles, options: NcaOptions, analyte: np.ndarray | None = None,
                       lambda_z_exclude: np.ndarray | None = None, lambda_z_include: np.ndarray | None = None,
                       later_dose: np.ndarray | None = None, interval_end: np.ndarray | None = None):
    """All single-dose parameters of every profile.

    ``lambda_z_exclude`` / ``lambda_z_include`` are (P, M) masks over the profile's original samples.
    ``later_dose`` (P,) marks dosing intervals after the first dose: their sample at the dose time is the pre-dose
    concentration (kept, never replaced by an imputed 0), and without one the interval AUC is missing.
    ``interval_end`` (P,) asks for the AUC from the dose to that time (AUCTAU).  Returns (ProfileParameters,
    partial AUCs (P, n), their reasons, AUC to ``interval_end`` with reasons, lambda_z fit, cleaned arrays).
    """
    P = prof.n_profiles
    route = prof.route
    dur = np.where(route == "iv-infusion", prof.duration, 0.0)
    bolus, ev = route == "iv-bolus", route == "extravascular"
    out = ProfileParameters(P)

    # user masks ride along through the cleaning as extra columns
    excl = np.zeros(prof.time.shape, dtype=bool) if lambda_z_exclude is None else lambda_z_exclude
    incl = np.zeros(prof.time.shape, dtype=bool) if lambda_z_include is None else lambda_z_include
    pre_dose = prof.time < 0                  # samples before the dose are not part of a single-dose profile
    conc_in = np.where(pre_dose, np.nan, prof.conc)
    blq_in = prof.blq & ~pre_dose
    t, c, row, was_blq = apply_blq_rules(prof.time, conc_in, blq_in, options.blq, prof.row)
    flags = excl.astype(np.int64) + 2 * incl.astype(np.int64)
    _, _, flag_rows, _ = apply_blq_rules(prof.time, conc_in, blq_in, options.blq, flags)
    excl_c, incl_c = (flag_rows & 1).astype(bool), (flag_rows & 2).astype(bool)
    excl_c &= np.isfinite(t)
    incl_c &= np.isfinite(t)

    # --- observed parameters
    obs = np.isfinite(t)
    any_obs = obs.any(axis=1)
    meas = obs & (c > 0) & ~was_blq
    any_meas = meas.any(axis=1)
    cz = np.where(obs, c, -np.inf)
    imax = np.argmax(cz, axis=1)
    cmax = np.where(any_obs, np.take_along_axis(c, imax[:, None], axis=1)[:, 0], np.nan)
    tmax = np.where(any_meas, np.take_along_axis(t, imax[:, None], axis=1)[:, 0], np.nan)
    M = t.shape[1]
    ilast = np.where(any_meas, M - 1 - np.argmax(meas[:, ::-1], axis=1), 0)
    tlast = np.where(any_meas, np.take_along_axis(t, ilast[:, None], axis=1)[:, 0], np.nan)
    clast = np.where(any_meas, np.take_along_axis(c, ilast[:, None], axis=1)[:, 0], np.nan)
    none = np.where(any_meas, None, "no measurable concentration")
    out.set("CMAX", cmax, np.where(any_obs, None, "no sample"))
    out.set("TMAX", tmax, none)
    out.set("TLST", tlast, none)
    out.set("CLST", clast, none)

    # Ceoi (infusion)
    at_end = obs & np.isclose(t, dur[:, None], rtol=0, atol=1e-9) & (dur[:, None] > 0)
    ceoi = np.where(at_end.any(axis=1), np.nansum(np.where(at_end, c, 0), axis=1), np.nan)
    out.set("CEOI", ceoi, np.where(at_end.any(axis=1), None, "no sample at the end of the infusion"))

    # --- dose-time sample
    later = np.zeros(P, dtype=bool) if later_dose is None else np.asarray(later_dose, dtype=bool)
    c0 = np.where(bolus, _c0(t, c, later), np.nan)
    out.set("C0", c0, where_missing="no measurable concentration after the dose")
    first_t = t[:, 0]
    insert = any_obs & (first_t > 0) & ~later
    fix_bolus0 = bolus & any_obs & (first_t == 0) & (~(c[:, 0] > 0) | later)
    c_observed = c
    c = c.copy()
    c[fix_bolus0, 0] = c0[fix_bolus0]
    origin_c = np.where(bolus, c0, 0.0)
    ta = np.concatenate([np.where(insert, 0.0, np.nan)[:, None], t], axis=1)
    ca = np.concatenate([np.where(insert, origin_c, np.nan)[:, None], c], axis=1)
    ma = np.concatenate([np.zeros((P, 1), dtype=bool), meas], axis=1)
    ta, ca, ma = compact(np.isfinite(ta), ta, ca, ma)
    if ta.shape[1] < 2:                          # every profile one point (a lone sample at the dose time): pad
        pad = np.full((P, 2 - ta.shape[1]), np.nan)
        ta, ca = np.concatenate([ta, pad], axis=1), np.concatenate([ca, pad], axis=1)
        ma = np.concatenate([ma, np.zeros(pad.shape, dtype=bool)], axis=1)
    ma = ma.astype(bool)

    # Tlag (extravascular): time of the sample before the first increase, the dose-time (0, 0) included
    oka = np.isfinite(ta)
    rise = oka[:, 1:] & oka[:, :-1] & (ca[:, 1:] > ca[:, :-1])
    has_rise = rise.any(axis=1)
    tlag = np.where(has_rise, np.take_along_axis(ta, np.argmax(rise, axis=1)[:, None], axis=1)[:, 0], np.nan)
    out.set("TLAG", np.where(ev, tlag, np.nan), np.where(has_rise, None, "the concentration never increases"))

    # --- AUC / AUMC
    seg_auc, seg_aumc = segment_areas(ta, ca, options.auc_method)
    cum_auc = np.concatenate([np.zeros((P, 1)), np.nancumsum(seg_auc, axis=1)], axis=1)
    cum_aumc = np.concatenate([np.zeros((P, 1)), np.nancumsum(seg_aumc, axis=1)], axis=1)
    Ma = ta.shape[1]
    ilast_a = np.where(any_meas, Ma - 1 - np.argmax(ma[:, ::-1], axis=1), 0)
    iend_a = np.isfinite(ta).sum(axis=1) - 1
    pick = lambda a, i: np.take_along_axis(a, np.maximum(i, 0)[:, None], axis=1)[:, 0]   # noqa: E731
    auclast = np.where(any_meas, pick(cum_auc, ilast_a), np.where(any_obs, 0.0, np.nan))
    aumclast = np.where(any_meas, pick(cum_aumc, ilast_a), np.where(any_obs, 0.0, np.nan))
    aucall = np.where(any_obs, pick(cum_auc, iend_a), np.nan)
    out.set("AUCLST", auclast, np.where(any_obs, None, "no sample"))
    out.set("AUCALL", aucall, np.where(any_obs, None, "no sample"))
    out.set("AUMCLST", aumclast, np.where(any_obs, None, "no sample"))

    # --- lambda_z
    after_tmax = np.where(bolus[:, None], t >= tmax[:, None], t > tmax[:, None])
    after_inf = np.where((route == "iv-infusion")[:, None], t > dur[:, None], True)
    candidate = meas & after_tmax & after_inf & ~excl_c
    fit = fit_lambda_z(t, c, candidate, options.lambda_z_min_points, options.lambda_z_tolerance,
                       include=incl_c & meas)
    lz_reason = _first_reason(np.asarray(none, dtype=object), fit.reason)
    lam = fit.lambda_z
    out.set("LAMZ", lam, lz_reason)
    out.set("LAMZHL", LN2 / lam, lz_reason)
    out.set("LAMZNPT", np.where(np.isfinite(lam), fit.n_points, np.nan), lz_reason)
    out.set("LAMZLL", fit.t_first, lz_reason)
    out.set("LAMZUL", fit.t_last, lz_reason)
    out.set("LAMZSPN", (fit.t_last - fit.t_first) / (LN2 / lam), lz_reason)
    out.set("R2", fit.r2, lz_reason)
    out.set("R2ADJ", fit.adj_r2, _first_reason(lz_reason, np.where(np.isfinite(lam) & np.isnan(fit.adj_r2),
                                                                    "only 2 points", None)))
    out.set("CORRXY", fit.corrxy, lz_reason)
    clastp = np.exp(fit.intercept - lam * tlast)
    out.set("CLSTP", clastp, lz_reason)

    aucifo = auclast + clast / lam
    aucifp = auclast + clastp / lam
    aumcifo = aumclast + clast * tlast / lam + clast / lam ** 2
    aumcifp = aumclast + clastp * tlast / lam + clastp / lam ** 2
    out.set("AUCIFO", aucifo, lz_reason)
    out.set("AUCIFP", aucifp, lz_reason)
    out.set("AUCPEO", 100 * (1 - auclast / aucifo), lz_reason)
    out.set("AUCPEP", 100 * (1 - auclast / aucifp), lz_reason)
    out.set("AUMCIFO", aumcifo, lz_reason)
    out.set("AUMCIFP", aumcifp, lz_reason)
    out.set("AUMCPEO", 100 * (1 - aumclast / aumcifo), lz_reason)
    out.set("AUMCPEP", 100 * (1 - aumclast / aumcifp), lz_reason)
    imputed = (insert | fix_bolus0) & bolus
    back = np.where(imputed, seg_auc[:, 0], np.nan)
    back_reason = _first_reason(lz_reason, np.where(imputed, None,
                                                    "a sample at the dose time: nothing back-extrapolated"))
    out.set("AUCPBEO", 100 * back / aucifo, back_reason)
    out.set("AUCPBEP", 100 * back / aucifp, back_reason)

    # --- MRT (no dose needed)
    half = dur / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        mrt_last = aumclast / auclast
        mrt_o, mrt_p = aumcifo / aucifo, aumcifp / aucifp
    zero_auc = np.where(auclast > 0, None, "AUClast is 0")
    is_metab = np.zeros(P, dtype=bool) if analyte is None else np.isin(analyte, list(options.metabolites))
    metab = np.where(is_metab, "metabolite/payload analyte: no dose of its own", None)
    for code, val, why in (("MRTEVLST", mrt_last, zero_auc), ("MRTEVIFO", mrt_o, lz_reason),
                           ("MRTEVIFP", mrt_p, lz_reason), ("MRTIVLST", mrt_last - half, zero_auc),
                           ("MRTIVIFO", mrt_o - half, lz_reason), ("MRTIVIFP", mrt_p - half, lz_reason)):
        out.set(code, np.where(is_metab, np.nan, val), _first_reason(metab, none, why))

    # --- dose-based
    dose = prof.dose.astype(float)
    dose_reason = np.where(is_metab, "metabolite/payload analyte: no dose of its own",
                           np.where(~np.isfinite(dose), "no dose", np.where(dose == 0, "dose is 0 (control)", None)))
    dose = np.where(is_metab | (dose == 0), np.nan, dose)
    if analyte is None or not options.conc_units_by_analyte:
        k = options.units.clearance_factor
    else:
        factor = {a: options.units_for(a).clearance_factor for a in dict.fromkeys(analyte.tolist())}
        k = np.array([factor[a] for a in analyte.tolist()])          # one unit lookup per analyte, not per profile
    with np.errstate(divide="ignore", invalid="ignore"):
        out.set("CMAXD", cmax / dose, _first_reason(dose_reason, out.why("CMAX")))
        out.set("AUCLSTD", auclast / dose, _first_reason(dose_reason, out.why("AUCLST")))
        out.set("AUCIFOD", aucifo / dose, _first_reason(dose_reason, lz_reason))
        out.set("AUCIFPD", aucifp / dose, _first_reason(dose_reason, lz_reason))
        cl_o, cl_p = k * dose / aucifo, k * dose / aucifp
    dz = _first_reason(dose_reason, lz_reason)
    for code, val in (("CLFO", cl_o), ("CLFP", cl_p), ("CLO", cl_o), ("CLP", cl_p), ("VZFO", cl_o / lam),
                      ("VZFP", cl_p / lam), ("VZO", cl_o / lam), ("VZP", cl_p / lam),
                      ("VSSO", cl_o * (mrt_o - half)), ("VSSP", cl_p * (mrt_p - half))):
        out.set(code, val, dz)

    # --- partial AUCs
    parts = np.full((P, len(options.partial_aucs)), np.nan)
    part_reason = np.full((P, len(options.partial_aucs)), None, dtype=object)
    cum_at = _cumulative_auc_at(ta, ca, cum_auc, iend_a, ilast_a, any_meas, lam, fit.intercept, options.auc_method)
    no_start = np.where(later & ~(first_t == 0), "no pre-dose sample at the dose time", None)
    t_end = np.take_along_axis(ta, iend_a[:, None], axis=1)[:, 0]
    beyond_meas = any_meas & (ilast_a == iend_a)
    for j, (a, b) in enumerate(options.partial_aucs):
        va, ra = cum_at(a)
        vb, rb = cum_at(b)
        value = vb - va
        # an interval starting after the last (measurable) sample: the area under the lambda_z line itself
        after = beyond_meas & (a >= t_end)
        with np.errstate(over="ignore", invalid="ignore"):
            line = (np.exp(fit.intercept - lam * a) - np.exp(fit.intercept - lam * b)) / lam
        value = np.where(after, line, value)
        value = np.where(np.isfinite(t_end), value, np.nan)
        parts[:, j] = np.where(no_start == None, value, np.nan)                        # noqa: E711
        part_reason[:, j] = _first_reason(no_start, ra, rb)
    to_end = (np.full(P, np.nan), np.full(P, None, dtype=object))
    if interval_end is not None:
        v, r = cum_at(np.asarray(interval_end, dtype=float))
        to_end = (np.where(no_start == None, v, np.nan), _first_reason(no_start, r))   # noqa: E711
    return out, parts, part_reason, to_end, fit, (t, c_observed, row, meas)


def _cumulative_auc_at(ta, ca, cum_auc, iend, ilast, any_meas, lam, b0, method):
    """A function x -> (AUC from the dose to x for every profile, reasons)."""
    P = ta.shape[0]
    t_end = np.take_along_axis(ta, iend[:, None], axis=1)[:, 0]
    c_end = np.take_along_axis(ca, iend[:, None], axis=1)[:, 0]
    last_measurable = any_meas & (ilast == iend)

    def at(x):
        """x: a time, or one time per profile."""
        reason = np.full(P, None, dtype=object)
        x = np.broadcast_to(np.asarray(x, dtype=float), (P,))
        inside = x <= t_end
        # segment index j with ta[j] <= x < ta[j+1] (x == t_end -> last point)
        j = np.sum(np.where(np.isfinite(ta), ta <= x[:, None], False), axis=1) - 1
        j = np.clip(j, 0, ta.shape[1] - 1)
        j2 = np.clip(j + 1, 0, ta.shape[1] - 1)
        t1, c1 = np.take_along_axis(ta, j[:, None], 1)[:, 0], np.take_along_axis(ca, j[:, None], 1)[:, 0]
        t2, c2 = np.take_along_axis(ta, j2[:, None], 1)[:, 0], np.take_along_axis(ca, j2[:, None], 1)[:, 0]
        cx = interpolate(t1, c1, t2, c2, x, method)
        part, _ = segment_areas(np.column_stack([t1, x]), np.column_stack([c1, cx]), method)
        within = np.take_along_axis(cum_auc, j[:, None], 1)[:, 0] + np.where(x > t1, part[:, 0], 0.0)
        # past the last sample
        c_pred = np.exp(b0 - lam * x)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.log(c_end / c_pred) / (x - t_end)
            tail_log = (c_end - c_pred) / k
        tail_lin = (x - t_end) * (c_end + c_pred) / 2
        tail = np.where(uses_log(c_end, c_pred, "lin-up-log-down"), tail_log, tail_lin)
        total_end = np.take_along_axis(cum_auc, iend[:, None], 1)[:, 0]
        beyond = np.where(last_measurable, total_end + tail, total_end)
        value = np.where(inside, within, beyond)
        reason[~inside & last_measurable & ~np.isfinite(lam)] = "needs lambda_z to extrapolate past the last sample"
        reason[~np.isfinite(t_end)] = "no sample"
        return value, reason

    return at
