"""Operating characteristics of BF-BOIN, simulated in time (the reference: bfboin 0.1.1 ``get.oc.bf``).

:func:`simulate_backfill` runs the event loop of :mod:`.events` on chunks of trials, each seeded from
``numpy.random.SeedSequence(seed).spawn(...)`` in a chunking fixed by the number of trials alone, so a seed
gives the same result bit for bit.  Scenario options (:attr:`BackfillBoinDesign.scenario_options`):

* ``q_true`` -- the true response probability of each dose (the reference's ``p.response.true``; default 1 at
  every dose: every escalation patient responds);
* ``accrual`` -- ``'uniform'`` (gaps U(0, 2 / rate), the default) or ``'poisson'`` (exponential gaps);
* ``accrual_rate`` -- patients per unit of time (the reference's ``n.per.month``; default 3).

The record (per trial, then averaged; Monte Carlo SEs under ``se``) matches ``get.oc.bf``: ``selection_pct``
(selpercent), ``no_mtd_pct`` (percentstop), ``patients_mean`` / ``dlt_mean`` (npatients / ntox: escalation
patients plus the backfill patients whose assessment ended before the end of the last escalation cohort's),
``n_mean`` (totaln), ``dlt_total_mean`` (totaltox), ``duration_mean`` (duration); besides them ``stop_pct``
(toxicity stops), ``early_stop_pct`` (n_earlystop), ``pcs``, and in ``extra``: ``patients_pct``
(percentpatients, a ratio of means, SE by the delta method), ``backfill_patients_mean`` (backfill patients
treated per dose), ``backfill_counted_mean`` (those counted), ``backfill_uncounted_mean`` (backfill patients still
in their window at the end, per trial), ``referred_mean`` (patients referred away) and ``arrivals_mean``.
"""

from __future__ import annotations

import math

import numpy as np

from adcbridge.results import ColumnTable, make_provenance

from ..oc import OperatingCharacteristics, true_mtd
from .events import TrialOutcomes, run_trials
from .timing import RandomDraws

__all__ = ["CHUNK", "check_scenario", "simulate_backfill"]

CHUNK = 20_000           # trials per chunk (the chunking depends on the number of trials only)


#: the most patients arriving per DLT window that a backfill simulation takes: every arrival is simulated, so the
#: run time grows with the rate (1,000 per window: ~1 s per 100 trials), and trials accrue far more slowly
MAX_ARRIVALS_PER_WINDOW = 100.0


def check_scenario(design, p_true, q_true=None, accrual="uniform", accrual_rate=3.0):
    """Validated (p_true, q_true, accrual, accrual_rate); errors name the argument."""
    J = design.n_doses

    def probs(name, v):
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"The '{name}' argument must be numbers in [0, 1]. Got {v!r}.") from None
        if a.ndim != 1 or a.size != J:
            raise ValueError(f"The '{name}' argument must have one probability per dose ({J}). Got "
                             f"{a.size}: {a.tolist()}.")
        if not np.all(np.isfinite(a)) or np.any((a < 0) | (a > 1)):
            raise ValueError(f"The '{name}' argument must be probabilities in [0, 1]. Got {a.tolist()}.")
        return a
    p = probs("p_true", p_true)
    if np.any(p >= 1):
        raise ValueError(f"The 'p_true' argument must be below 1 at every dose: the DLT times follow a Weibull "
                         f"distribution with P(T < window) = p. Got {p.tolist()}.")
    q = np.ones(J) if q_true is None else probs("q_true", q_true)
    if accrual not in ("uniform", "poisson"):
        raise ValueError(f"The 'accrual' argument must be 'uniform' or 'poisson'. Got {accrual!r}.")
    if isinstance(accrual_rate, bool) or not isinstance(accrual_rate, (int, float, np.integer, np.floating)) \
            or not math.isfinite(accrual_rate) or accrual_rate <= 0:
        raise ValueError(f"The 'accrual_rate' argument must be a positive, finite number of patients per unit of time. "
                         f"Got {accrual_rate!r}.")
    if accrual_rate * design.dlt_window > MAX_ARRIVALS_PER_WINDOW:
        raise ValueError(f"The 'accrual_rate' argument must be at most {MAX_ARRIVALS_PER_WINDOW:g} patients per DLT "
                         f"window (dlt_window {design.dlt_window:g}): every arrival is simulated, and "
                         f"{accrual_rate:g} per unit of time is {accrual_rate * design.dlt_window:g} per window. "
                         f"Got {accrual_rate!r}.")
    return p, q, accrual, float(accrual_rate)


class _Sums:
    """Running sums (and sums of squares) of the per-trial values over chunks."""

    def __init__(self):
        self.w = 0
        self.s: dict[str, np.ndarray] = {}

    def add(self, name: str, v: np.ndarray) -> None:
        v = np.asarray(v, dtype=float)
        s1, s2 = v.sum(axis=0), (v * v).sum(axis=0)
        if name in self.s:
            self.s[name] += s1
            self.s[name + "^2"] += s2
        else:
            self.s[name], self.s[name + "^2"] = s1, s2

    def mean(self, name: str):
        return self.s[name] / self.w

    def se(self, name: str):
        W = self.w
        m = self.s[name] / W
        var = np.maximum(self.s[name + "^2"] - W * m * m, 0.0) / max(W - 1, 1)
        return np.sqrt(var / W)


def _accumulate(sums: _Sums, o: TrialOutcomes, J: int, correct: np.ndarray) -> None:
    sums.w += o.mtd.size
    sel = o.mtd[:, None] == np.arange(J)[None, :]
    total = o.n.sum(axis=1)
    pct = {"sel": 100.0 * sel, "none": 100.0 * (o.mtd < 0), "stop": 100.0 * o.stop, "early": 100.0 * o.early,
           "pcs": 100.0 * (np.isin(o.mtd, correct) if correct.size else o.mtd < 0),
           "n": o.n, "y": o.y, "n_tot": total, "y_tot": o.y.sum(axis=1), "dur": o.duration,
           "bf": o.backfill, "bf_counted": o.backfill_counted,
           "bf_uncounted": (o.backfill - o.backfill_counted).sum(axis=1), "referred": o.referred,
           "arrivals": o.arrivals}
    for k, v in pct.items():
        sums.add(k, v)
    # cross products for the delta-method SE of patients_pct = mean(n_j) / mean(total)
    cross = (o.n * total[:, None]).sum(axis=0).astype(float)
    sums.s["n*tot"] = sums.s.get("n*tot", 0) + cross


def _patients_pct(sums: _Sums):
    W = sums.w
    mn, mt = sums.mean("n"), float(sums.mean("n_tot"))
    if mt <= 0:
        return np.full(mn.shape, np.nan), np.full(mn.shape, np.nan)
    r = mn / mt
    var_n = (sums.s["n^2"] - W * mn * mn) / max(W - 1, 1)
    var_t = (float(sums.s["n_tot^2"]) - W * mt * mt) / max(W - 1, 1)
    cov = (sums.s["n*tot"] - W * mn * mt) / max(W - 1, 1)
    var_r = (var_n - 2 * r * cov + r * r * var_t) / (mt * mt)
    return 100 * r, 100 * np.sqrt(np.maximum(var_r, 0.0) / W)


def simulate_backfill(design, p_true, *, n_trials: int, seed: int, target: float | None = None, q_true=None,
                      accrual: str = "uniform", accrual_rate: float = 3.0) -> OperatingCharacteristics:
    """Monte Carlo operating characteristics of ``design`` (see the module docstring)."""
    p, q, accrual, rate = check_scenario(design, p_true, q_true, accrual, accrual_rate)
    J = design.n_doses
    tgt = design.target if target is None else float(target)
    correct = true_mtd(p, tgt, design.phi2)
    n_chunks = -(-n_trials // CHUNK)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    sums = _Sums()
    for k, child in enumerate(children):
        size = min(CHUNK, n_trials - k * CHUNK)
        draws = RandomDraws(np.random.default_rng(child), p, q, design.dlt_window, accrual, rate)
        _accumulate(sums, run_trials(design, p, draws, size), J, correct)
    return _result(design, sums, p, q, tgt, accrual, rate, n_trials, seed)


def _result(design, sums: _Sums, p, q, tgt, accrual, rate, n_trials, seed) -> OperatingCharacteristics:
    J = design.n_doses
    m, se = sums.mean, sums.se
    pct, pct_se = _patients_pct(sums)
    def fl(v):
        return float(np.asarray(v))

    def tl(v):
        return [float(x) for x in np.asarray(v)]

    extra = {"patients_pct": tl(pct), "backfill_patients_mean": tl(m("bf")),
             "backfill_counted_mean": tl(m("bf_counted")), "backfill_uncounted_mean": fl(m("bf_uncounted")),
             "referred_mean": fl(m("referred")), "arrivals_mean": fl(m("arrivals")),
             "q_true": [float(v) for v in q], "accrual": accrual, "accrual_rate": rate}
    se_all = {"selection_pct": tl(se("sel")), "no_mtd_pct": fl(se("none")), "stop_pct": fl(se("stop")),
              "early_stop_pct": fl(se("early")), "pcs": fl(se("pcs")), "patients_mean": tl(se("n")),
              "dlt_mean": tl(se("y")), "n_mean": fl(se("n_tot")), "dlt_total_mean": fl(se("y_tot")),
              "duration_mean": fl(se("dur")), "patients_pct": tl(pct_se), "backfill_patients_mean": tl(se("bf")),
              "backfill_counted_mean": tl(se("bf_counted")), "backfill_uncounted_mean": fl(se("bf_uncounted")),
              "referred_mean": fl(se("referred")), "arrivals_mean": fl(se("arrivals")),
              "overdose60_pct": float("nan"), "overdose80_pct": float("nan")}
    labels = design.dose_labels() or [str(j) for j in range(1, J + 1)]
    table = ColumnTable({
        "dose": np.arange(1, J + 1), "dose_label": labels, "p_true": p, "q_true": q,
        "selection_pct": m("sel"), "selection_se": se("sel"), "patients_mean": m("n"), "patients_se": se("n"),
        "dlt_mean": m("y"), "dlt_se": se("y"), "backfill_patients_mean": m("bf"),
        "backfill_patients_se": se("bf"), "patients_pct": pct})
    return OperatingCharacteristics(
        spec=design, table=table, provenance=make_provenance(design, p, q, accrual, rate, n_trials, seed=seed),
        method="monte-carlo", design=design.spec_name, target=float(tgt), p_true=tuple(float(v) for v in p),
        n_trials=int(n_trials), seed=int(seed), selection_pct=tuple(tl(m("sel"))), no_mtd_pct=fl(m("none")),
        stop_pct=fl(m("stop")), early_stop_pct=fl(m("early")), pcs=fl(m("pcs")),
        patients_mean=tuple(tl(m("n"))), dlt_mean=tuple(tl(m("y"))), n_mean=fl(m("n_tot")),
        dlt_total_mean=fl(m("y_tot")), se=se_all, duration_mean=fl(m("dur")), extra=extra)
