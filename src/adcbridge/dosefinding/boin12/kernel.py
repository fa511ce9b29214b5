"""BOIN12's decision after a cohort, written once as array functions over a batch of trials.

The simulator calls these on every trial still running; the live decision (:mod:`.decision`) calls them on a
batch of one.  One set of rules (SPEC 7.4; phase12designs 0.2.0 ``oc_boin12``), after the cohort at the current
dose d has been added to the counts, with the elimination flags carried from earlier cohorts:

1. toxicity elimination: #DLT at d >= X(n_d) flags d and every dose above it; at dose 1 the trial stops;
2. futility elimination: #responses at d <= F(n_d) flags dose d only (so flagged doses can leave holes);
3. every dose flagged: stop;
4. desirabilities (:func:`~.boundaries.desirability`; 0 for flagged doses, the prior value for untried ones);
5. n_d >= N (every patient at this dose): the trial ends and the OBD is selected;
6. L = the highest unflagged dose below d, U = the lowest unflagged dose above d (possibly two or more levels
   away, skipping futility-flagged doses);
7. #DLT >= D(n_d): go to L; without L stay at d, or stop if d itself is flagged;
8. otherwise the candidates are d, L (if any) and U (if any, and n_d < 6 or #DLT <= Esc(n_d)); the k-th
   candidate gets the k-th uniform r_k and the dose maximising ``R + r_k * 1e-15`` is chosen (first maximum):
   exact ties are broken by the uniforms;
9. a flagged chosen dose (only d itself can be) stops the trial, even when higher doses are open;
10. exploration: if U exists, n_d >= 9, U is untried and #DLT < D(n_d), go to U whatever step 8 chose.

The uniforms ``r`` are an input: the simulator draws them (random tie-breaks, as the reference); the live
decision derives them from the history's digest (:func:`tie_uniforms`), so it is deterministic and replays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boundaries import NEVER, NONE_BELOW, Boin12Tables

__all__ = ["Rule", "StepResult", "eliminate", "choose", "tie_uniforms", "JITTER"]

#: the scale of the tie-breaking uniforms (the reference's runif() * 1e-15)
JITTER = 1e-15


class Rule:
    """Codes of the rule that fired (``names`` gives the record's ``rule`` word)."""

    TOXICITY_STOP = 0       # dose 1 eliminated for toxicity
    ALL_ELIMINATED = 1      # every dose flagged
    DOSE_FULL = 2           # n_d >= N: the trial ends, select the OBD
    DEESCALATE = 3
    STAY_NO_LOWER = 4       # de-escalation called for, no open lower dose
    STOP_NO_LOWER = 5       # ... and the current dose is itself flagged
    DESIRABILITY = 6        # the candidate of highest desirability
    CHOSEN_ELIMINATED = 7   # step 9
    EXPLORATION = 8         # step 10

    names = ("toxicity_stop", "all_eliminated", "dose_full", "deescalate", "stay_no_lower", "stop_no_lower",
             "desirability", "chosen_eliminated", "exploration")
    stops = (TOXICITY_STOP, ALL_ELIMINATED, STOP_NO_LOWER, CHOSEN_ELIMINATED)


@dataclass
class StepResult:
    """One decision for each trial of the batch (0-based doses; ``next_dose`` -1 when the trial stops or ends)."""

    next_dose: np.ndarray
    rule: np.ndarray
    desirability: np.ndarray          # (B, J) after elimination
    candidates: np.ndarray            # (B, 3) the candidates of step 8 in order, -1 = none
    chosen: np.ndarray                # the choice of step 7 or 8, before exploration (-1: neither was reached)
    tied: np.ndarray                  # (B, 3) candidates sharing the top desirability exactly (step 8)

    @property
    def stop(self) -> np.ndarray:
        return np.isin(self.rule, Rule.stops)

    @property
    def end(self) -> np.ndarray:
        return self.rule == Rule.DOSE_FULL


def _at(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return a[np.arange(a.shape[0]), idx]


def eliminate(t: Boin12Tables, n, y_tox, y_eff, tox_flag, fut_flag, cur):
    """Steps 1-2 at the current doses ``cur`` (in place on the flag arrays (B, J)); returns the per-trial
    (toxicity hit, futility hit)."""
    nd, yt, ye = _at(n, cur), _at(y_tox, cur), _at(y_eff, cur)
    tox_hit = yt >= t.eliminate_ge[nd]
    fut_hit = (ye <= t.futility_le[nd]) & (t.futility_le[nd] != NONE_BELOW)
    J = n.shape[1]
    tox_flag |= tox_hit[:, None] & (np.arange(J)[None, :] >= cur[:, None])
    rows = np.flatnonzero(fut_hit)
    fut_flag[rows, cur[rows]] = True
    return tox_hit, fut_hit


def choose(t: Boin12Tables, n, y_tox, raw_desirability, flagged, tox_hit, cur, r, n_max_total: int) -> StepResult:
    """Steps 3-10 for a batch: ``raw_desirability`` (B, J) as :func:`~.boundaries.desirability` gives it,
    ``flagged`` the flags after steps 1-2, ``r`` the uniforms (B, 3), ``n_max_total`` = N."""
    B, J = n.shape
    rows = np.arange(B)
    nd, yt = n[rows, cur], y_tox[rows, cur]
    R = np.where(flagged, 0.0, raw_desirability)
    rule = np.full(B, Rule.DESIRABILITY, dtype=np.int8)
    nxt = np.full(B, -1, dtype=np.int64)
    idx = np.arange(J)[None, :]
    open_ = ~flagged
    below = open_ & (idx < cur[:, None])
    above = open_ & (idx > cur[:, None])
    L = np.where(below.any(axis=1), J - 1 - np.argmax(below[:, ::-1], axis=1), -1)
    U = np.where(above.any(axis=1), np.argmax(above, axis=1), -1)
    deesc = yt >= t.deescalate_ge[nd]
    # step 8: candidates (d, L, U) compacted in this order, each with its uniform
    up_ok = (U >= 0) & ((nd < 6) | (yt <= t.escalate_le[nd]))
    cand = np.full((B, 3), -1, dtype=np.int64)
    cand[:, 0] = cur
    cand[:, 1] = np.where(L >= 0, L, np.where(up_ok, U, -1))
    cand[:, 2] = np.where((L >= 0) & up_ok, U, -1)
    valid = cand >= 0
    Rc = np.where(valid, np.take_along_axis(R, np.maximum(cand, 0), axis=1), -np.inf)
    chosen = np.take_along_axis(cand, np.argmax(Rc + r * JITTER, axis=1)[:, None], axis=1)[:, 0]
    tied = np.where(valid & (Rc == Rc.max(axis=1, keepdims=True)), cand, -1)
    tied = np.where((tied >= 0).sum(axis=1, keepdims=True) > 1, tied, -1)
    explore = (U >= 0) & (nd >= 9) & (n[rows, np.maximum(U, 0)] == 0) & ~deesc
    # the rules, last written wins: from the lowest priority up
    nxt[:] = chosen
    rule[explore] = Rule.EXPLORATION
    nxt[explore] = U[explore]
    chosen_flagged = flagged[rows, chosen]
    rule[chosen_flagged] = Rule.CHOSEN_ELIMINATED
    step7 = deesc
    rule[step7] = np.where(L[step7] >= 0, Rule.DEESCALATE,
                           np.where(flagged[step7, cur[step7]], Rule.STOP_NO_LOWER, Rule.STAY_NO_LOWER))
    nxt[step7] = np.where(L[step7] >= 0, L[step7], cur[step7])
    chosen = np.where(step7, np.where(L >= 0, L, cur), chosen)
    cand[step7] = -1
    tied[step7] = -1
    full = nd >= n_max_total
    rule[full] = Rule.DOSE_FULL
    all_flagged = flagged.all(axis=1)
    rule[all_flagged] = Rule.ALL_ELIMINATED
    rule[tox_hit & (cur == 0)] = Rule.TOXICITY_STOP
    done = full | all_flagged
    chosen[done] = -1
    cand[done] = -1
    tied[done] = -1
    nxt[np.isin(rule, Rule.stops) | (rule == Rule.DOSE_FULL)] = -1
    return StepResult(nxt, rule, R, cand, chosen, tied)


def tie_uniforms(digest: str) -> np.ndarray:
    """The three uniforms of the live decision: a generator seeded from the history's SHA-256 digest (hex), so
    the same history always gives the same draw (shape (1, 3))."""
    return np.random.default_rng(int(digest[:32], 16)).random((1, 3))
