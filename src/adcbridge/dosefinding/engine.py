"""The trial engine shared by every design: Monte Carlo and exact enumeration over one policy interface.

A design's *policy* works on a :class:`TrialState`, a batch of trials (Monte Carlo) or of distinct trial
histories (exact enumeration), all as arrays:

* ``next_cohort(state) -> (dose, size)``: where the next cohort goes and how many patients it has;
* ``record(state, dose, size, dlt, rows)``: add the cohort's outcome and apply the design's rules, in place, for
  the rows in ``rows``; a finished trial gets ``active = False`` and an ``end`` code;
* ``select(state) -> mtd``: the selected dose (0-based; -1 = none) of finished trials;
* ``state_key(state)``: integer columns that determine the future of a trial (for merging identical states).

**Monte Carlo** (:func:`run_monte_carlo`) gives every patient of every trial a latent uniform ``u``; patient k of
trial t has a DLT at dose j iff ``u[t, k] < p_true[j]``.  Designs run with the same seed therefore see the same
patients (common random numbers), and paired comparisons have small Monte Carlo error.  Trials are simulated in
fixed chunks (:data:`CHUNK` trials, fewer for designs with more than 64 patients so that a chunk holds at most
:data:`CHUNK_PATIENTS` uniforms), each with its own child of ``numpy.random.SeedSequence(seed)``, so results depend
only on the design, the seed and the number of trials, and memory stays bounded for any number of trials.

**Exact** enumeration (:func:`run_exact`) expands every state by every cohort outcome with its binomial
probability, merges identical states, and accumulates the finished ones: no random numbers at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["TrialState", "Policy", "EndReason", "run_monte_carlo", "run_exact", "OcSums", "CHUNK"]

CHUNK = 50_000                 # trials per chunk ...
CHUNK_PATIENTS = 3_200_000     # ... and at most this many latent uniforms per chunk (25 MB)


def chunk_size(max_patients: int, chunk: int = CHUNK) -> int:
    """Trials per chunk: CHUNK, fewer for designs with many patients (bounded memory)."""
    return max(1, min(chunk, CHUNK_PATIENTS // max(max_patients, 1)))


class EndReason:
    """``TrialState.end`` codes."""

    RUNNING = 0
    COMPLETED = 1       # maximum sample size / number of cohorts reached
    SAFETY_STOP = 2     # stopped for toxicity: no MTD
    EARLY_STOP = 3      # stopped early with an MTD (e.g. BOIN's n_earlystop, 3+3 finishing)


@dataclass
class TrialState:
    """A batch of trials.  ``aux`` holds design-specific per-trial integer arrays."""

    n: np.ndarray
    y: np.ndarray
    dose: np.ndarray
    active: np.ndarray
    end: np.ndarray
    total: np.ndarray
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def start(cls, size: int, n_doses: int, dose: int, **aux: int) -> TrialState:
        return cls(
            n=np.zeros((size, n_doses), dtype=np.int32),
            y=np.zeros((size, n_doses), dtype=np.int32),
            dose=np.full(size, dose, dtype=np.int32),
            active=np.ones(size, dtype=bool),
            end=np.zeros(size, dtype=np.int8),
            total=np.zeros(size, dtype=np.int32),
            aux={k: np.full(size, v, dtype=np.int32) for k, v in aux.items()},
        )

    def __len__(self) -> int:
        return self.dose.shape[0]

    def _map(self, f) -> TrialState:
        return TrialState(f(self.n), f(self.y), f(self.dose), f(self.active), f(self.end), f(self.total),
                          {k: f(v) for k, v in self.aux.items()})

    def take(self, index) -> TrialState:
        return self._map(lambda a: a[index])

    def repeat(self, counts) -> TrialState:
        return self._map(lambda a: np.repeat(a, counts, axis=0))

    def add(self, rows: np.ndarray, dose: np.ndarray, size: np.ndarray, dlt: np.ndarray) -> None:
        """Add ``size`` patients with ``dlt`` DLTs at ``dose`` for the trials in ``rows`` (boolean mask)."""
        if rows.all():
            flat = np.arange(len(rows)) * self.n.shape[1] + dose
            self.n.ravel()[flat] += size
            self.y.ravel()[flat] += dlt
            self.total += size
            return
        r = np.flatnonzero(rows)
        flat = r * self.n.shape[1] + dose[r]
        self.n.ravel()[flat] += size[r]
        self.y.ravel()[flat] += dlt[r]
        self.total[r] += size[r]

    def finish(self, rows: np.ndarray, reason: int) -> None:
        self.active &= ~rows
        self.end[rows] = reason


class Policy(Protocol):
    n_doses: int
    max_patients: int

    def initial(self, size: int) -> TrialState: ...
    def next_cohort(self, state: TrialState) -> tuple[np.ndarray, np.ndarray]: ...
    def record(self, state: TrialState, dose: np.ndarray, size: np.ndarray, dlt: np.ndarray,
               rows: np.ndarray) -> None: ...
    def select(self, state: TrialState) -> np.ndarray: ...
    def state_key(self, state: TrialState) -> np.ndarray: ...
    def overdose_denominator(self, state: TrialState) -> np.ndarray: ...


@dataclass
class OcSums:
    """Weighted sums (and sums of squares) of per-trial outcomes; ``weight`` = number of trials or 1 (exact)."""

    n_doses: int
    weight: float = 0.0
    sel: np.ndarray = None
    sel_none: float = 0.0
    n: np.ndarray = None
    n_sq: np.ndarray = None
    y: np.ndarray = None
    y_sq: np.ndarray = None
    n_tot: float = 0.0
    n_tot_sq: float = 0.0
    y_tot: float = 0.0
    y_tot_sq: float = 0.0
    safety_stop: float = 0.0
    early_stop: float = 0.0
    od60: float = 0.0
    od80: float = 0.0
    trials: dict | None = None

    def __post_init__(self):
        J = self.n_doses
        for name in ("sel", "n", "n_sq", "y", "y_sq"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(J))

    def accumulate(self, mtd, n, y, end, over_frac, w=None) -> None:
        """Add finished trials (``w`` = probability weights for exact enumeration, None = 1 each)."""
        J = self.n_doses
        nt, yt = np.einsum("ij->i", n), np.einsum("ij->i", y)      # (einsum: fast on short integer rows)
        if w is None:                      # Monte Carlo: integer sums
            self.weight += len(mtd)
            self.sel += np.bincount(mtd[mtd >= 0], minlength=J)[:J]
            self.n += np.einsum("ij->j", n, dtype=np.int64)
            self.n_sq += np.einsum("ij,ij->j", n, n, dtype=np.int64)
            self.y += np.einsum("ij->j", y, dtype=np.int64)
            self.y_sq += np.einsum("ij,ij->j", y, y, dtype=np.int64)
            self.n_tot += float(nt.sum())
            self.n_tot_sq += float(np.dot(nt.astype(np.int64), nt))
            self.y_tot += float(yt.sum())
            self.y_tot_sq += float(np.dot(yt.astype(np.int64), yt))
            self.sel_none += np.count_nonzero(mtd < 0)
            self.safety_stop += np.count_nonzero(end == EndReason.SAFETY_STOP)
            self.early_stop += np.count_nonzero(end == EndReason.EARLY_STOP)
            self.od60 += np.count_nonzero(over_frac > 0.6)
            self.od80 += np.count_nonzero(over_frac > 0.8)
            return
        w = np.asarray(w, dtype=float)
        nf, yf, ntf, ytf = n.astype(float), y.astype(float), nt.astype(float), yt.astype(float)
        self.weight += w.sum()
        self.sel += np.bincount(mtd[mtd >= 0], weights=w[mtd >= 0], minlength=J)[:J]
        self.n += w @ nf
        self.n_sq += w @ (nf * nf)
        self.y += w @ yf
        self.y_sq += w @ (yf * yf)
        self.n_tot += w @ ntf
        self.n_tot_sq += w @ (ntf * ntf)
        self.y_tot += w @ ytf
        self.y_tot_sq += w @ (ytf * ytf)
        self.sel_none += w[mtd < 0].sum()
        self.safety_stop += w[end == EndReason.SAFETY_STOP].sum()
        self.early_stop += w[end == EndReason.EARLY_STOP].sum()
        self.od60 += w[over_frac > 0.6].sum()
        self.od80 += w[over_frac > 0.8].sum()


def _finished(policy: Policy, state: TrialState, p_true: np.ndarray, target: float):
    mtd = policy.select(state)
    over = p_true > target
    denom = policy.overdose_denominator(state).astype(float)
    over_frac = state.n[:, over].sum(axis=1) / np.where(denom > 0, denom, 1.0)
    return mtd, over_frac


def _cohort_dlts(u: np.ndarray, enrolled: np.ndarray, rows: np.ndarray, cohort: np.ndarray,
                 p: np.ndarray) -> np.ndarray:
    """DLTs among the next ``cohort`` patients of each trial: patients ``enrolled .. enrolled + cohort - 1``, whose
    latent uniforms are ``u[patient, trial]`` (patient-major, so one patient number is a contiguous row)."""
    width = int(cohort.max())
    dlt = np.zeros(len(cohort), dtype=np.int32)
    if width == 0:
        return dlt
    live = enrolled[rows]
    first = int(live.min())
    same_start = first == int(live.max()) and first + width <= u.shape[0]
    full = int(cohort[rows].min()) == width
    trials = np.arange(len(cohort))
    for k in range(width):
        if same_start:
            uk = u[first + k]
        else:
            uk = u[np.minimum(enrolled + k, u.shape[0] - 1), trials]
        hit = uk < p
        if not full:
            hit &= k < cohort
        dlt += hit
    return dlt


def run_monte_carlo(policy: Policy, p_true: np.ndarray, target: float, n_trials: int, seed: int,
                    chunk: int = CHUNK, keep_trials: bool = False) -> OcSums:
    """Simulate ``n_trials`` trials (see the module docstring for the random-number scheme).

    With ``keep_trials`` the per-trial MTD (0-based, -1 none), sample size, DLT count and end code are kept in
    ``sums.trials`` (for paired comparisons of designs run on the same patients).
    """
    p_true = np.asarray(p_true, dtype=float)
    sums = OcSums(policy.n_doses)
    kept: list[tuple] = []
    chunk = chunk_size(policy.max_patients, chunk)
    n_chunks = -(-n_trials // chunk)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    for c, ss in enumerate(children):
        size = min(chunk, n_trials - c * chunk)
        rng = np.random.default_rng(ss)
        u = rng.random((policy.max_patients, size))
        state = policy.initial(size)
        while state.active.any():
            rows = state.active.copy()
            dose, cohort = policy.next_cohort(state)
            cohort = np.where(rows, cohort, 0).astype(np.int32)
            dlt = _cohort_dlts(u, state.total, rows, cohort, p_true[dose])
            policy.record(state, dose, cohort, dlt, rows)
        mtd, over_frac = _finished(policy, state, p_true, target)
        sums.accumulate(mtd, state.n, state.y, state.end, over_frac)
        if keep_trials:
            kept.append((mtd.astype(np.int16), state.total.copy(), state.y.sum(axis=1), state.end.copy()))
    if keep_trials:
        sums.trials = {k: np.concatenate([t[i] for t in kept]) for i, k in
                       enumerate(("mtd", "n_total", "dlt_total", "end"))}
    return sums


def _merge(state: TrialState, prob: np.ndarray, key: np.ndarray) -> tuple[TrialState, np.ndarray]:
    key = np.ascontiguousarray(key.astype(np.int32))
    view = key.view(np.dtype((np.void, key.dtype.itemsize * key.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=prob, minlength=first.size)
    return state.take(first), merged


def binomial_pmf(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial probabilities ``C(n, k) p^k (1-p)^(n-k)`` for whole arrays of small cohort sizes ``n`` (exact
    binomial coefficients; ``0^0 = 1``, so p = 0 or 1 gives probabilities 0 and 1)."""
    k, n = np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64)
    top = int(n.max()) if n.size else 0
    comb = np.array([[math.comb(m, j) for j in range(top + 1)] for m in range(top + 1)], dtype=float)
    p = np.asarray(p, dtype=float)
    return comb[n, k] * np.power(p, k) * np.power(1.0 - p, n - k)


def run_exact(policy: Policy, p_true: np.ndarray, target: float, max_states: int = 2_000_000) -> tuple[OcSums, int]:
    """Exact expected outcomes by enumerating every cohort outcome; returns (sums, number of finished states).

    Raises ``ValueError`` when more than ``max_states`` distinct states are alive at once.
    """
    p_true = np.asarray(p_true, dtype=float)
    sums = OcSums(policy.n_doses)
    state = policy.initial(1)
    prob = np.ones(1)
    n_terminal = 0
    while len(state):
        dose, size = policy.next_cohort(state)
        counts = size.astype(np.int64) + 1
        parent = np.repeat(np.arange(len(state)), counts)
        start = np.cumsum(counts) - counts
        dlt = (np.arange(parent.size) - start[parent]).astype(np.int32)
        child = state.repeat(counts)
        c_dose, c_size = dose[parent], size[parent].astype(np.int32)
        c_prob = prob[parent] * binomial_pmf(dlt, c_size, p_true[c_dose])
        possible = c_prob > 0                    # p_true of 0 or 1 makes some outcomes impossible
        if not possible.all():
            child, c_dose, c_size, dlt, c_prob = (child.take(possible), c_dose[possible], c_size[possible],
                                                   dlt[possible], c_prob[possible])
        policy.record(child, c_dose, c_size, dlt, np.ones(len(child), dtype=bool))
        done = ~child.active
        if done.any():
            fin = child.take(done)
            key = np.column_stack([policy.state_key(fin), fin.end])
            fin, fin_prob = _merge(fin, c_prob[done], key)
            mtd, over_frac = _finished(policy, fin, p_true, target)
            sums.accumulate(mtd, fin.n, fin.y, fin.end, over_frac, fin_prob)
            n_terminal += len(fin)
        alive = child.take(~done)
        if not len(alive):
            break
        state, prob = _merge(alive, c_prob[~done], policy.state_key(alive))
        if len(state) > max_states:
            raise ValueError(f"exact enumeration needs more than max_states = {max_states} live states; "
                             f"use Monte Carlo instead")
    return sums, n_terminal
