"""Operating characteristics of a dose-finding design under one scenario of true DLT probabilities.

Definitions (per trial, then averaged over trials -- Monte Carlo -- or over all outcome paths -- exact):

* ``selection_pct[j]``: % of trials selecting dose j as the MTD; ``no_mtd_pct``: % selecting none (this is the
  reference's ``percentstop``: a safety stop or an MTD selection that finds no admissible dose);
* ``stop_pct``: % of trials stopped early for safety (the lowest dose eliminated, the extra safety rule, 3+3
  or CRM safety stops); ``early_stop_pct``: % stopped early *with* an MTD (BOIN's n_earlystop, 3+3 completion);
* ``patients_mean[j]``, ``dlt_mean[j]``: mean patients and DLTs at dose j; ``n_mean``, ``dlt_total_mean``: totals;
* ``overdose60_pct``/``overdose80_pct``: % of trials treating more than 60% / 80% of the maximum sample size at
  doses whose true DLT probability exceeds the target (for 3+3, which has no maximum, of the trial's own sample
  size).  The reference computes these only when a dose's true probability equals the target exactly, which
  then marks the same doses;
* ``duration_mean``: mean trial duration, for designs simulated in time (TITE-BOIN, backfill);
* for drug combinations the per-dose lists (``selection_pct``, ``patients_mean``, ``dlt_mean`` and their SEs) are
  J x K grids (rows = levels of agent A); designs add their own keys through ``extra``;
* ``pcs``: percent correct selection.  The true MTD is the dose whose true probability is closest to the target
  (several on exact ties), provided it does not exceed the overly-toxic rate (p_tox, 1.4 x target by default);
  when every dose exceeds it, the correct decision is to select no dose and ``pcs`` is the no-MTD %.

Monte Carlo standard errors (``se``) are ``sd / sqrt(n_trials)`` with the sample standard deviation of the
per-trial values (for percentages, of the 0/100 indicator).  Exact results have no standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from adcbridge.results import ColumnTable, Result

from .engine import OcSums

__all__ = ["OperatingCharacteristics", "oc_from_sums", "true_mtd"]


@dataclass(frozen=True, eq=False)
class OperatingCharacteristics(Result):
    """Operating characteristics (see the module docstring).  ``table`` has one row per dose."""

    method: str = "monte-carlo"
    design: str = ""
    target: float = float("nan")
    p_true: tuple[float, ...] = ()
    n_trials: int | None = None
    seed: int | None = None
    selection_pct: tuple[float, ...] = ()
    no_mtd_pct: float = float("nan")
    stop_pct: float = float("nan")
    early_stop_pct: float = float("nan")
    pcs: float = float("nan")
    patients_mean: tuple[float, ...] = ()
    dlt_mean: tuple[float, ...] = ()
    n_mean: float = float("nan")
    dlt_total_mean: float = float("nan")
    overdose60_pct: float = float("nan")
    overdose80_pct: float = float("nan")
    se: dict[str, object] | None = None
    n_terminal_states: int | None = None
    #: mean trial duration (designs simulated in time: TITE-BOIN, backfill), in the design's time unit
    duration_mean: float | None = None
    #: the design's own operating characteristics beside the shared ones (BOIN12's OBD selection, backfill's
    #: patients per dose, ...), keys of the record; their Monte Carlo SEs are under ``se``
    extra: dict[str, object] | None = None
    #: for pooling runs exactly (sweeps), not part of the record: ratio key -> the co-moment
    #: ``sum((a - r b) * (b - mean(b)))`` of a ratio of means ``r = mean(a) / mean(b)`` (``b``: each trial's number
    #: of patients) over this run's trials (see :mod:`adcbridge.sweep.moments`)
    ratio_comoments: dict[str, object] | None = None

    result_type: ClassVar[str] = "OperatingCharacteristics"

    def record_body(self) -> dict:
        """The command-line JSON contract (plus a few extra keys)."""
        out = {
            "design": self.design, "method": self.method, "target": self.target, "p_true": list(self.p_true),
            "selection_pct": list(self.selection_pct), "no_mtd_pct": self.no_mtd_pct, "stop_pct": self.stop_pct,
            "early_stop_pct": self.early_stop_pct, "pcs": self.pcs,
            "patients_mean": list(self.patients_mean), "dlt_mean": list(self.dlt_mean), "n_mean": self.n_mean,
            "dlt_total_mean": self.dlt_total_mean, "overdose60_pct": self.overdose60_pct,
            "overdose80_pct": self.overdose80_pct, "n_trials": self.n_trials, "seed": self.seed,
            "se": self.se,
        }
        if self.n_terminal_states is not None:
            out["n_terminal_states"] = self.n_terminal_states
        if self.duration_mean is not None:
            out["duration_mean"] = self.duration_mean
        if self.extra:
            out.update(self.extra)
        return out


def _se_mean(total: np.ndarray | float, total_sq: np.ndarray | float, n: float):
    mean = np.asarray(total) / n
    var = (np.asarray(total_sq) - n * mean * mean) / max(n - 1, 1)
    return np.sqrt(np.maximum(var, 0.0) / n)


def _se_pct(p_pct: np.ndarray | float, n: float):
    p = np.asarray(p_pct) / 100.0
    return 100.0 * np.sqrt(np.maximum(p * (1 - p), 0.0) * n / max(n - 1, 1) / n)


def true_mtd(p_true, target: float, toxic: float) -> np.ndarray:
    """0-based indices of the true MTD(s): closest to ``target`` and not above ``toxic`` (empty: none)."""
    p = np.asarray(p_true, dtype=float)
    dist = np.abs(p - target)
    closest = np.flatnonzero(np.isclose(dist, dist.min(), rtol=0, atol=1e-12))
    return closest[p[closest] <= toxic + 1e-12]


def oc_from_sums(sums: OcSums, *, spec, design_name: str, target: float, p_true, method: str,
                 n_trials: int | None, seed: int | None, provenance, dose_labels=None,
                 n_terminal_states: int | None = None, toxic: float | None = None) -> OperatingCharacteristics:
    """Turn accumulated sums into an :class:`OperatingCharacteristics` result (``toxic``: the overly toxic rate
    used for the true MTD, default 1.4 x target)."""
    W = sums.weight
    p_true = np.asarray(p_true, dtype=float)
    sel = 100 * sums.sel / W
    pts = sums.n / W
    dlt = sums.y / W
    correct = true_mtd(p_true, target, 1.4 * target if toxic is None else toxic)
    no_mtd = 100 * sums.sel_none / W
    vals = dict(
        no_mtd_pct=no_mtd, stop_pct=100 * sums.safety_stop / W,
        early_stop_pct=100 * sums.early_stop / W, pcs=float(sel[correct].sum()) if correct.size else no_mtd,
        n_mean=sums.n_tot / W, dlt_total_mean=sums.y_tot / W,
        overdose60_pct=100 * sums.od60 / W, overdose80_pct=100 * sums.od80 / W,
    )
    se = None
    J = len(p_true)
    se_cols = {"selection_se": np.full(J, np.nan), "patients_se": np.full(J, np.nan), "dlt_se": np.full(J, np.nan)}
    if method == "monte-carlo":
        s_sel, s_pts, s_dlt = _se_pct(sel, W), _se_mean(sums.n, sums.n_sq, W), _se_mean(sums.y, sums.y_sq, W)
        se = {
            "selection_pct": s_sel.tolist(), "patients_mean": s_pts.tolist(), "dlt_mean": s_dlt.tolist(),
            "no_mtd_pct": float(_se_pct(vals["no_mtd_pct"], W)), "stop_pct": float(_se_pct(vals["stop_pct"], W)),
            "early_stop_pct": float(_se_pct(vals["early_stop_pct"], W)), "pcs": float(_se_pct(vals["pcs"], W)),
            "n_mean": float(_se_mean(sums.n_tot, sums.n_tot_sq, W)),
            "dlt_total_mean": float(_se_mean(sums.y_tot, sums.y_tot_sq, W)),
            "overdose60_pct": float(_se_pct(vals["overdose60_pct"], W)),
            "overdose80_pct": float(_se_pct(vals["overdose80_pct"], W)),
        }
        se_cols = {"selection_se": s_sel, "patients_se": s_pts, "dlt_se": s_dlt}
    table = ColumnTable({             # a DataFrame only when someone reads ``oc.table`` (fast start-up)
        "dose": np.arange(1, J + 1),
        "dose_label": [str(j) for j in range(1, J + 1)] if dose_labels is None else list(dose_labels),
        "p_true": p_true, "selection_pct": sel, "selection_se": se_cols["selection_se"],
        "patients_mean": pts, "patients_se": se_cols["patients_se"],
        "dlt_mean": dlt, "dlt_se": se_cols["dlt_se"],
    })
    return OperatingCharacteristics(
        spec=spec, table=table, provenance=provenance, method=method, design=design_name, target=float(target),
        p_true=tuple(float(v) for v in p_true), n_trials=n_trials, seed=seed,
        selection_pct=tuple(float(v) for v in sel), patients_mean=tuple(float(v) for v in pts),
        dlt_mean=tuple(float(v) for v in dlt), se=se, n_terminal_states=n_terminal_states,
        **{k: float(v) for k, v in vals.items()})
