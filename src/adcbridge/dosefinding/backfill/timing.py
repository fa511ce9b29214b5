"""Time and outcome model of the BF-BOIN simulation (the reference's, SPEC section 8.2), and the sources of the
random draws.

* Arrivals: the first patient at time 0, then gaps U(0, 2 / rate) (``accrual='uniform'``) or Exp(rate)
  (``'poisson'``), ``rate`` patients per unit of time.
* Each treated patient has a latent DLT time T ~ Weibull(shape_j, scale_j) at his dose j, with
  ``shape_j = [log(-log(1 - p_j)) - log(-log(1 - p_j / 2))] / log 2`` and
  ``scale_j = W (-log(1 - p_j))^(-1 / shape_j)`` (W = the DLT window), so that P(T < W) = p_j and
  P(T < W / 2) = p_j / 2.  A DLT iff T < W; the assessment ends at arrival + min(T, W).  A dose with p_j = 0
  never gives a DLT (T = infinity; the reference cannot run it).
* Escalation patients have a response, Bernoulli(q_j), known at arrival + W; backfill patients have none.

A draw source hands out, per step of the event loop, the draws of the trials (rows) that need them:
:class:`RandomDraws` from a numpy Generator (Monte Carlo) and :class:`ReplayDraws` from recorded values (a
logged reference trial replayed exactly).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RandomDraws", "ReplayDraws", "weibull_parameters"]


def weibull_parameters(p_true, dlt_window: float) -> tuple[np.ndarray, np.ndarray]:
    """(shape, scale) of the DLT-time Weibull distribution of each dose (NaN for p = 0: no DLT)."""
    p = np.asarray(p_true, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = (np.log(-np.log(1 - p)) - np.log(-np.log(1 - p / 2))) / np.log(2)
        scale = dlt_window * (-np.log(1 - p)) ** (-1 / shape)
    return np.where(p > 0, shape, np.nan), np.where(p > 0, scale, np.nan)


class RandomDraws:
    """Draws from ``rng``: arrival gaps, Weibull DLT times, responses, the uniform of a random backfill dose."""

    def __init__(self, rng: np.random.Generator, p_true, q_true, dlt_window: float, accrual: str, rate: float):
        self.rng = rng
        self.shape, self.scale = weibull_parameters(p_true, dlt_window)
        self.q = np.asarray(q_true, dtype=float)
        self.poisson = accrual == "poisson"
        self.rate = float(rate)

    def arrival(self, step: int, ids: np.ndarray, clock: np.ndarray) -> np.ndarray:
        """Arrival times of the next patient of the trials ``ids`` (whose last arrival was at ``clock``)."""
        if step == 0:
            return np.zeros(ids.size)
        if self.poisson:
            return clock + self.rng.exponential(1.0 / self.rate, ids.size)
        return clock + self.rng.random(ids.size) * (2.0 / self.rate)

    def dlt_time(self, step: int, ids: np.ndarray, dose: np.ndarray) -> np.ndarray:
        u = self.rng.random(ids.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.scale[dose] * (-np.log1p(-u)) ** (1.0 / self.shape[dose])
        return np.where(np.isnan(self.shape[dose]), np.inf, t)

    def response(self, step: int, ids: np.ndarray, dose: np.ndarray) -> np.ndarray:
        return self.rng.random(ids.size) < self.q[dose]

    def pick(self, step: int, ids: np.ndarray, open_mask: np.ndarray) -> np.ndarray:
        """A uniform per row (the rows with two or more open doses need one)."""
        return self.rng.random(ids.size)


class ReplayDraws:
    """Recorded draws, indexed by trial and arrival number: ``clock`` (arrival times), ``tstar`` (latent DLT times
    of treated patients), ``response`` (0/1 of escalation patients) and ``chosen`` (the 0-based backfill dose
    drawn for random assignment; -1 elsewhere)."""

    def __init__(self, clock, tstar, response, chosen):
        self.clock = np.asarray(clock, dtype=float)
        self.tstar = np.asarray(tstar, dtype=float)
        self.response_ = np.asarray(response, dtype=float)
        self.chosen = np.asarray(chosen, dtype=np.int64)

    def arrival(self, step, ids, clock):
        return self.clock[ids, step]

    def dlt_time(self, step, ids, dose):
        return self.tstar[ids, step]

    def response(self, step, ids, dose):
        return self.response_[ids, step] > 0.5

    def pick(self, step, ids, open_mask):
        """The uniform that makes :func:`~.rules.pick_backfill` choose the recorded dose."""
        chosen = self.chosen[ids, step]
        rank = np.take_along_axis(np.cumsum(open_mask, axis=1), np.maximum(chosen, 0)[:, None], axis=1)[:, 0] - 1
        return (rank + 0.5) / np.maximum(open_mask.sum(axis=1), 1)
