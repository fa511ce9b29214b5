"""Monte Carlo simulation of BOIN12 trials, all trials of a chunk advancing together as arrays.

Each trial (as the reference ``oc_boin12``, SPEC 7.7): start at ``start_dose``; for each of the ``n_cohorts``
cohorts, ``cohort_size`` patients at the current dose, each with a DLT with probability ``p_true[d]`` and,
independently, a response with probability ``q_true[d]``; then the decision of :mod:`.kernel` -- after the last
cohort too, so a stop there leaves the trial without an OBD.  A trial that was not stopped ends with the OBD
selection of :mod:`.selection`.

Random numbers: trials run in chunks of :data:`CHUNK` (the last one shorter), chunk i with the generator of the
i-th child of ``numpy.random.SeedSequence(seed)``; at every cohort each trial of the chunk -- running or not --
draws ``cohort_size`` toxicity uniforms, ``cohort_size`` efficacy uniforms and 3 tie-breaking uniforms (one
array per cohort), so the
results depend only on the design, the scenario, the seed and the number of trials.

:func:`logged_decisions` runs the same loop trial by trial history: it keeps every patient, derives the
tie-breaking uniforms from each history's digest as the live decision does, and yields what was decided on and
what was decided (the conformance test's cases).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..history import History, Patient
from ..nextdose import move
from .boundaries import boin12_tables, desirability
from .decision import record_rule
from .kernel import choose, eliminate, tie_uniforms
from .selection import select_obd

__all__ = ["simulate_boin12", "run_chunk", "logged_decisions", "CHUNK", "check_scenario"]

#: trials per chunk (fixed, so that results depend on the seed and the number of trials only)
CHUNK = 20_000
#: the largest desirability lookup table (entries) built for the simulator
_TABLE_MAX = 4_000_000


def check_scenario(design, p_true, q_true) -> tuple[np.ndarray, np.ndarray]:
    """The true DLT and response probabilities as arrays, or a ValueError naming the argument."""
    if q_true is None:
        raise ValueError("boin12 needs the true response probabilities: give 'q_true' (one per dose) besides "
                         "'p_true'.")
    out = []
    for name, v in (("p_true", p_true), ("q_true", q_true)):
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"The '{name}' argument must be probabilities in [0, 1]. Got {v!r}.") from None
        if a.ndim != 1 or a.size != design.n_doses:
            raise ValueError(f"The '{name}' argument must have one probability per dose ({design.n_doses}). "
                             f"Got {a.size}: {a.ravel().tolist()}.")
        if not np.all(np.isfinite(a)) or np.any((a < 0) | (a > 1)):
            raise ValueError(f"The '{name}' argument must be probabilities in [0, 1]. Got {a.tolist()}.")
        out.append(a)
    return out[0], out[1]


@lru_cache(maxsize=32)
def _desirability_lookup(design):
    """R(n, yT, yE) for the simulator: a table built by :func:`~.boundaries.desirability` itself (the same
    numbers as the live decision's), or the function when the table would be too large."""
    N = design.max_sample_size
    u11, u00 = design.utility
    ub = boin12_tables(design).benchmark
    if (N + 1) ** 3 > _TABLE_MAX:
        return lambda n, yt, ye: desirability(n, yt, ye, u11, u00, ub)
    g = np.arange(N + 1)
    with np.errstate(all="ignore"):
        table = desirability(g[:, None, None], g[None, :, None], g[None, None, :], u11, u00, ub)
    table.setflags(write=False)
    stride = (N + 1) ** 2
    flat = table.ravel()
    return lambda n, yt, ye: flat[n * stride + yt * (N + 1) + ye]


def run_chunk(design, p, q, size: int, rng, logger=None):
    """Simulate ``size`` trials; returns (n, DLTs, responses (size, J)), the 0-based OBD (-1 when stopped) and
    the stop flags.  ``logger`` (logging mode only) supplies the tie uniforms and receives every decision.

    Every trial of the chunk goes through each step (finished ones add no patients, and re-applying the
    elimination rules to unchanged counts changes nothing); only running trials take the decision."""
    J, c, K, N = design.n_doses, design.cohort_size, design.n_cohorts, design.max_sample_size
    t = boin12_tables(design)
    lookup = _desirability_lookup(design)
    n = np.zeros((size, J), dtype=np.int64)
    yt, ye = n.copy(), n.copy()
    tox, fut = np.zeros((size, J), dtype=bool), np.zeros((size, J), dtype=bool)
    raw = np.full((size, J), t.prior_desirability)    # each dose's desirability, updated where patients come
    cur = np.full(size, design.start_dose - 1, dtype=np.int64)
    active = np.ones(size, dtype=bool)
    stopped = np.zeros(size, dtype=bool)
    flat = np.arange(size) * J
    for k in range(K):
        u = rng.random((2 * c + 3, size))               # patient-major: toxicity, efficacy, then the ties
        if not active.any():
            break
        pc, qc = p[cur], q[cur]
        hit_t, hit_e = u[:c] < pc, u[c:2 * c] < qc
        at = flat + cur
        n.ravel()[at] += c * active
        yt.ravel()[at] += hit_t.sum(axis=0) * active
        ye.ravel()[at] += hit_e.sum(axis=0) * active
        raw.ravel()[at] = lookup(n.ravel()[at], yt.ravel()[at], ye.ravel()[at])
        tox_hit, _ = eliminate(t, n, yt, ye, tox, fut, cur)
        flagged = tox | fut
        r = u[2 * c:].T
        if logger is not None:
            rows = np.flatnonzero(active)
            r = np.zeros((size, 3))
            r[rows] = logger.ties(rows, cur[rows], hit_t[:, rows].T, hit_e[:, rows].T)
        step = choose(t, n, yt, raw, flagged, tox_hit, cur, r, N)
        stop = step.stop & active
        done = (stop | step.end | (k == K - 1)) & active
        if logger is not None:
            rows = np.flatnonzero(active)
            logger.decided(rows, cur[rows], step.take(rows), done[rows], stop[rows], (n, yt, ye, flagged))
        stopped |= stop
        active &= ~done
        cur = np.where(active, step.next_dose, cur)
    obd = np.full(size, -1, dtype=np.int64)
    chosen = np.flatnonzero(~stopped)
    if chosen.size:
        obd[chosen] = select_obd(design, n[chosen], yt[chosen], ye[chosen], (tox | fut)[chosen]).obd
    return n, yt, ye, obd, stopped


def simulate_boin12(design, p_true, *, n_trials: int, seed: int, target: float | None = None, q_true=None):
    """Operating characteristics of ``design`` (see :mod:`.oc` for what they are)."""
    from .oc import OcAccumulator
    p, q = check_scenario(design, p_true, q_true)
    acc = OcAccumulator(design, p, q, target)
    n_chunks = -(-n_trials // CHUNK)
    for i, ss in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        size = min(CHUNK, n_trials - i * CHUNK)
        acc.add(*run_chunk(design, p, q, size, np.random.default_rng(ss)))
    return acc.result(n_trials=n_trials, seed=seed)


class _Logger:
    """Logging mode: keeps each trial's patients, draws the ties from their digest, logs the decisions."""

    def __init__(self, design, size: int):
        self.design = design
        self.patients: list[list[Patient]] = [[] for _ in range(size)]
        self.cohort = np.zeros(size, dtype=np.int64)
        self.histories: dict[int, History] = {}
        self.cases: list[tuple[History, dict]] = []

    def ties(self, rows, d, hit_t, hit_e) -> np.ndarray:
        out = np.empty((rows.size, 3))
        for i, row in enumerate(rows):
            self.cohort[row] += 1
            pts = self.patients[row]
            for a, b in zip(hit_t[i], hit_e[i]):
                pts.append(Patient(f"P{len(pts) + 1}", int(self.cohort[row]), int(d[i]) + 1, bool(a),
                                   efficacy=bool(b)))
            self.histories[row] = History(tuple(pts))
            out[i] = tie_uniforms(self.histories[row].digest())[0]
        return out

    def decided(self, rows, d, step, done, stop, counts) -> None:
        n, yt, ye, flagged = counts
        N = self.design.max_sample_size
        for i, row in enumerate(rows):
            h = self.histories[row]
            code = int(step.rule[i])
            obd = mtd = None
            if done[i] and not stop[i]:
                sel = select_obd(self.design, n[row:row + 1], yt[row:row + 1], ye[row:row + 1],
                                 flagged[row:row + 1])
                obd, mtd = int(sel.obd[0]) + 1, int(sel.mtd[0]) + 1
            nxt = None if done[i] else int(step.next_dose[i]) + 1
            self.cases.append((h, {"next_dose": nxt, "decision": "stop" if nxt is None else move(int(d[i]) + 1, nxt),
                                   "rule": record_rule(code, len(h), N), "obd": obd, "mtd": mtd,
                                   "tied_doses": [int(v) + 1 for v in step.tied[i] if v >= 0]}))


def _conformance_scenarios(J: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Scenarios that make every rule fire: a plateau of efficacy, toxic doses, futile doses."""
    return [(np.linspace(0.05, 0.5, J), np.linspace(0.2, 0.65, J)),
            (np.linspace(0.25, 0.75, J), np.full(J, 0.35)),
            (np.linspace(0.02, 0.3, J), np.linspace(0.05, 0.2, J))]


def logged_decisions(design, n_trials: int = 40, seed: int = 1):
    """``(history, expected)`` at every decision of ``n_trials`` simulated trials (spread over three scenarios)
    in logging mode; ``expected`` holds ``next_dose``, ``decision``, ``rule``, ``obd``, ``mtd`` and
    ``tied_doses`` as the simulator decided them."""
    scenarios = _conformance_scenarios(design.n_doses)
    sizes = [n_trials // 3 + (i < n_trials % 3) for i in range(3)]
    for (p, q), size, ss in zip(scenarios, sizes, np.random.SeedSequence(seed).spawn(3)):
        if size == 0:
            continue
        logger = _Logger(design, size)
        run_chunk(design, p, q, size, np.random.default_rng(ss), logger)
        yield from logger.cases
