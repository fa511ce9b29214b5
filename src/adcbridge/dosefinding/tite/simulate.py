"""Operating characteristics of TITE-BOIN in time (TITEgBOIN 0.4.0 ``get_oc_TITE_QuasiBOIN``), and the logged
decisions of the conformance test.

Trials are simulated together as arrays (:mod:`.trials`), in chunks of a fixed number of trials (depending only on
the design's maximum sample size), each with its own child of ``numpy.random.SeedSequence(seed)``: a seed gives
the same results, bit for bit, however the trials are later split among workers.

Besides the shared keys (:class:`~adcbridge.dosefinding.oc.OperatingCharacteristics`; ``no_mtd_pct`` is the
reference's ``percentstop``, ``stop_pct`` the safety stops, ``early_stop_pct`` the ``n_earlystop`` stops) the result
has ``duration_mean`` (TITEgBOIN's ``duration``) and, in ``extra``: ``duration_sd`` (``sdduration``),
``patients_pct`` (``nptsdosepct``: 100 x mean patients per dose / mean sample size), ``pca`` (% of patients at the
true MTD), ``pos`` (% of trials selecting a dose above the true MTD) and ``poa`` (% of patients treated above it),
each with its Monte Carlo SE under ``se`` (delta method for the ratios of means).  Above the true MTD means above
the highest true MTD; when no dose qualifies as the true MTD (all overly toxic) every dose counts as above it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from adcbridge.results import make_provenance

from ..engine import OcSums
from ..history import History, Patient
from ..oc import oc_from_sums, true_mtd
from .kernel import RULES, SUSPENDED
from .times import check_scenario
from .trials import run_chunk

__all__ = ["simulate_tite", "logged_decisions", "CHUNK_PATIENTS"]

#: patient slots per chunk (bounded memory: about 30 bytes per slot), at most MAX_CHUNK trials
CHUNK_PATIENTS = 600_000
MAX_CHUNK = 20_000


def _chunk(design) -> int:
    return max(1, min(MAX_CHUNK, CHUNK_PATIENTS // design.max_sample_size))


def _check_p(design, p_true) -> np.ndarray:
    """The core's check of ``p_true`` (one probability in [0, 1] per dose)."""
    from ..simulate import _check_p_true
    return _check_p_true(design, p_true)


def _ratio(a_sum, a_sq, b_sum, b_sq, ab, w):
    """100 x mean(a) / mean(b) and its delta-method SE."""
    ma, mb = a_sum / w, b_sum / w
    r = ma / mb if mb > 0 else float("nan")
    var = (a_sq - 2 * r * ab + r * r * b_sq) / w - (ma - r * mb) ** 2
    se = np.sqrt(max(var, 0.0) * w / max(w - 1, 1) / w) / mb if mb > 0 else float("nan")
    return 100 * r, 100 * se


def _comoment(a_sum, b_sum, b_sq, ab) -> float:
    """``sum((a - r b) * (b - mean(b)))`` at ``r = mean(a) / mean(b)``, from the sums: ``sum(a b) - r sum(b^2)``
    (the term ``mean(b) sum(a - r b)`` is zero); NaN when no patient was treated."""
    return float(ab - a_sum / b_sum * b_sq) if b_sum > 0 else float("nan")


def simulate_tite(design, p_true, *, n_trials: int, seed: int, target: float | None = None, accrual_rate=3.0,
                  late_onset=0.5, late_window=0.5, accrual="poisson"):
    """Monte Carlo operating characteristics of ``design`` (see the module docstring and :mod:`.trials`)."""
    p = _check_p(design, p_true)
    rate, a1, a2, accrual = check_scenario(accrual_rate, late_onset, late_window, accrual)
    tgt = design.target if target is None else float(target)
    J, max_n = design.n_doses, design.max_sample_size
    correct = true_mtd(p, tgt, design.overly_toxic(tgt))
    above = np.arange(J) > (correct.max() if correct.size else -1)
    over = p > tgt
    sums = OcSums(J)
    acc = np.zeros(12)      # duration, duration^2, pos, n_tot, n_tot^2, mtd pts, ^2, x n_tot, above pts, ^2, x n_tot
    chunk = _chunk(design)
    n_chunks = -(-n_trials // chunk)
    for c, ss in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        size = min(chunk, n_trials - c * chunk)
        batch, mtd = run_chunk(design, p, size, np.random.default_rng(ss), rate, a1, a2, accrual)
        n, y = batch.final_counts()
        sums.accumulate(mtd, n, y, batch.end, n[:, over].sum(axis=1) / max_n)
        dur = batch.duration()
        nt = n.sum(axis=1).astype(float)
        at = n[:, correct].sum(axis=1).astype(float)
        ab = n[:, above].sum(axis=1).astype(float)
        acc += [dur.sum(), np.sum(dur * dur),     # not a BLAS dot: the same bits whatever its threads
                np.count_nonzero((mtd >= 0) & above[np.maximum(mtd, 0)]), nt.sum(), nt @ nt,
                at.sum(), at @ at, at @ nt, ab.sum(), ab @ ab, ab @ nt, 0.0]
    w = float(n_trials)
    oc = oc_from_sums(sums, spec=design, design_name=design.spec_name, target=tgt, p_true=p, method="monte-carlo",
                      n_trials=n_trials, seed=seed, provenance=make_provenance(design, p, n_trials, rate, a1, a2,
                                                                               accrual, seed=seed),
                      dose_labels=design.dose_labels(), toxic=design.overly_toxic(tgt))
    dur_mean = acc[0] / w
    dur_sd = float(np.sqrt(max(acc[1] - w * dur_mean ** 2, 0.0) / max(w - 1, 1)))
    pos = 100 * acc[2] / w
    pca, pca_se = _ratio(acc[5], acc[6], acc[3], acc[4], acc[7], w)
    poa, poa_se = _ratio(acc[8], acc[9], acc[3], acc[4], acc[10], w)
    pts_pct = [100 * v / oc.n_mean if oc.n_mean > 0 else float("nan") for v in oc.patients_mean]
    se = dict(oc.se)
    se.update({"duration_mean": dur_sd / np.sqrt(w), "pos": 100 * np.sqrt(pos / 100 * (1 - pos / 100) / max(w - 1, 1)),
               "pca": pca_se, "poa": poa_se})
    extra = {"duration_sd": dur_sd, "patients_pct": pts_pct, "pca": pca, "pos": pos, "poa": poa,
             "scenario": {"accrual_rate": rate, "late_onset": a1, "late_window": a2, "accrual": accrual,
                          "dlt_window": design.dlt_window}}
    return dataclasses.replace(oc, table=oc.table_with(patients_pct=pts_pct), duration_mean=float(dur_mean),
                               extra=extra, se=se, ratio_comoments={"pca": _comoment(acc[5], acc[3], acc[4], acc[7]),
                                                                    "poa": _comoment(acc[8], acc[3], acc[4], acc[10])})


# ------------------------------------------------------------------------------------- conformance logging
def _history(batch, b: int, k: int, now: float | None) -> History:
    """Trial ``b``'s first ``k`` cohorts as the live history at time ``now`` (None: every outcome known)."""
    d = batch.design
    patients = []
    for i in range(k * d.cohort_size):
        c = i // d.cohort_size
        known = now is None or batch.resolve[b, i] <= now
        dlt = bool(batch.dlt[b, i]) if known else None
        follow = None if known else float((now - batch.enter[b, i]) / d.dlt_window)
        patients.append(Patient(f"P{i + 1}", c + 1, int(batch.cohort_dose[b, c]) + 1, dlt, followup=follow))
    return History(tuple(patients))


def logged_decisions(design, p_true, *, n_trials: int = 40, seed: int = 1, accrual_rate=3.0, late_onset=0.5,
                     late_window=0.5, accrual="poisson"):
    """``(history, expected)`` at every decision the simulator takes in ``n_trials`` trials (and, for trials that
    enrol every cohort, the final stop on complete data with the selected MTD): the conformance cases."""
    p = _check_p(design, p_true)
    rate, a1, a2, accrual = check_scenario(accrual_rate, late_onset, late_window, accrual)
    cases = []

    def log(batch, rows, k, out):
        for i, b in enumerate(rows):
            nxt, code = int(out.next_dose[i]), int(out.code[i])
            cases.append((_history(batch, int(b), k, float(batch.clock[b])),
                          {"next_dose": None if nxt < 0 else nxt + 1, "decision": RULES[code][1],
                           "rule": RULES[code][0], "suspend_accrual": code in SUSPENDED}))

    batch, mtd = run_chunk(design, p, n_trials, np.random.default_rng(np.random.SeedSequence(seed)), rate, a1, a2,
                           accrual, log=log)
    for b in np.flatnonzero(batch.cohorts == design.n_cohorts):
        cases.append((_history(batch, int(b), design.n_cohorts, None),
                      {"next_dose": None, "decision": "stop", "suspend_accrual": False,
                       "mtd": None if mtd[b] < 0 else int(mtd[b]) + 1}))
    return cases
