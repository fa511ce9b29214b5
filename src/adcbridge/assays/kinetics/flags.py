"""Quality checks of a kinetics fit.  Each problem becomes an :class:`~adcbridge.results.Issue`; the codes of
the warnings are the result's ``flags``.

=============================  =====================================================================
code                           raised when
=============================  =====================================================================
``not_converged``              the optimiser stopped without meeting its tolerances
``non_identifiable``           the Jacobian is rank deficient, a rate constant's relative SE exceeds
                               ``max_relative_se``, or two of ka, kd, kt, global Rmax correlate
                               beyond ``max_correlation``
``ka_out_of_range``            ka outside the instrument's ``ka_range``
``kd_out_of_range``            kd outside the instrument's ``kd_range``
``rmax_far_from_theoretical``  fitted/theoretical Rmax outside ``rmax_ratio_range`` (only with
                               ``rmax_theoretical``)
``rmax_negative``              an Rmax estimate is negative or zero
``dissociation_too_short``     the fitted complex decays by less than 5 % over the longest
                               dissociation phase (kd rests on the association phase alone)
``response_before_injection``  a cycle's mean response before its first injection exceeds 10 % of
                               its largest response (is the time axis the one of t_on/t_off?)
``systematic_residuals``       the lag-1 autocorrelation of the residuals (within cycles) exceeds
                               ``max_residual_autocorrelation``: the model misses a feature of the
                               data (bulk step, drift, heterogeneity, mass transport)
``mass_transport_limited``     (info) ka Rmax / kt > 0.1 in the mass-transport model
=============================  =====================================================================
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import Issue

from .data import Sensorgrams
from .options import KineticsOptions

__all__ = ["quality_issues"]


def quality_issues(options: KineticsOptions, sg: Sensorgrams, *, converged: bool, message: str, rank: int,
                   n_par: int, rates: dict[str, float], se_log: dict[str, float], corr: dict[tuple[str, str], float],
                   rmax: np.ndarray, residuals: np.ndarray) -> list[Issue]:
    issues: list[Issue] = []
    if not converged:
        issues.append(Issue("not_converged", f"the least-squares fit did not converge: {message}", "error"))
    reasons = []
    if rank < n_par:
        reasons.append(f"the Jacobian has rank {rank} < {n_par} parameters")
    for name, se in se_log.items():
        if not np.isfinite(se) or se > options.max_relative_se:
            reasons.append(f"{name} has relative SE {se:.3g}")
    for (a, b), r in corr.items():
        if np.isfinite(r) and abs(r) > options.max_correlation:
            reasons.append(f"corr({a}, {b}) = {r:.4f}")
    if reasons:
        issues.append(Issue("non_identifiable", "the data do not determine the parameters: " + "; ".join(reasons)))
    for name, (lo, hi) in (("ka", options.ka_range), ("kd", options.kd_range)):
        v = rates[name]
        if not (lo <= v <= hi):
            unit = "1/(M*s)" if name == "ka" else "1/s"
            issues.append(Issue(f"{name}_out_of_range",
                                f"{name} = {v:.4g} {unit} is outside the instrument's range [{lo:g}, {hi:g}]"))
    if np.any(rmax <= 0):
        issues.append(Issue("rmax_negative", f"Rmax estimate {float(np.min(rmax)):.4g} is not positive"))
    if options.rmax_theoretical is not None:
        ratio = rmax / options.rmax_theoretical
        lo, hi = options.rmax_ratio_range
        if np.any((ratio < lo) | (ratio > hi)):
            worst = float(ratio[np.argmax(np.abs(np.log(np.abs(ratio) + 1e-300)))])
            issues.append(Issue("rmax_far_from_theoretical",
                                f"fitted/theoretical Rmax = {worst:.3g} (theoretical {options.rmax_theoretical:g}), "
                                f"outside [{lo:g}, {hi:g}]"))
    inj = sg.injections
    longest = 0.0
    for k in range(sg.n_cycles):
        last_off = float(inj.loc[inj["cycle_index"] == k, "t_off"].max())
        tk = sg.time[sg.cycle == k]
        longest = max(longest, float(tk[-1] - last_off))
    if rates["kd"] * longest < -np.log(0.95):
        issues.append(Issue("dissociation_too_short",
                            f"the complex decays by {100 * (1 - np.exp(-rates['kd'] * longest)):.2g} % over the "
                            f"longest dissociation ({longest:g} s): kd is poorly determined; extend the dissociation"))
    for k, label in enumerate(sg.cycles):
        rows = sg.cycle == k
        first_on = float(inj.loc[inj["cycle_index"] == k, "t_on"].min())
        y, t = sg.response[rows], sg.time[rows]
        pre = y[t < first_on]
        top = float(np.max(np.abs(y)))
        if pre.size >= 3 and top > 0 and abs(float(np.mean(pre))) > 0.1 * top:
            issues.append(Issue("response_before_injection",
                                f"cycle {label!r}: the mean response before the injection start ({first_on:g} s) is "
                                f"{float(np.mean(pre)):.3g}, against at most {top:.3g}; check that t_on/t_off are on "
                                f"the data's time axis"))
            break
    same = sg.cycle[1:] == sg.cycle[:-1]
    denom = float(residuals @ residuals)
    exact = np.sqrt(denom / residuals.size) <= 1e-9 * float(np.max(np.abs(sg.response)))   # rounding noise only
    if denom > 0 and same.any() and not exact:
        lag1 = float(np.sum(residuals[1:][same] * residuals[:-1][same]) / denom)
        if lag1 > options.max_residual_autocorrelation:
            issues.append(Issue("systematic_residuals",
                                f"the residuals are serially correlated (lag-1 autocorrelation {lag1:.2f} > "
                                f"{options.max_residual_autocorrelation:g}): the model misses a feature of the data "
                                f"(bulk step, drift, heterogeneity, mass transport?)"))
    if "kt" in rates:
        factor = rates["ka"] * float(np.max(rmax)) / rates["kt"]
        if factor > 0.1:
            issues.append(Issue("mass_transport_limited", f"ka Rmax / kt = {factor:.3g}: binding is influenced by "
                                                          f"mass transport", "info"))
    return issues
