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

from .boundaries import NONE_BELOW, Boin12Tables

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


_STOPS = np.isin(np.arange(len(Rule.names)), Rule.stops)


@dataclass
class StepResult:
    """One decision for each trial of the batch (0-based doses; ``next_dose`` -1 when the trial stops or ends)."""

    next_dose: np.ndarray
    rule: np.ndarray
    raw_desirability: np.ndarray      # (B, J) before elimination
    flagged: np.ndarray               # (B, J) the elimination flags
    candidates: np.ndarray            # (B, 3) the candidates of step 8 in order, -1 = none
    chosen: np.ndarray                # the choice of step 7 or 8, before exploration (-1: neither was reached)
    tied: np.ndarray                  # (B, 3) candidates sharing the top desirability exactly (step 8)

    @property
    def desirability(self) -> np.ndarray:
        """(B, J) after elimination (0 for eliminated doses)."""
        return np.where(self.flagged, 0.0, self.raw_desirability)

    @property
    def stop(self) -> np.ndarray:
        return _STOPS[self.rule]

    @property
    def end(self) -> np.ndarray:
        return self.rule == Rule.DOSE_FULL

    def take(self, rows) -> StepResult:
        """The decisions of some trials."""
        return StepResult(*(getattr(self, f)[rows] for f in ("next_dose", "rule", "raw_desirability", "flagged",
                                                              "candidates", "chosen", "tied")))


def _at(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return a.ravel()[np.arange(a.shape[0]) * a.shape[1] + idx]


def eliminate(t: Boin12Tables, n, y_tox, y_eff, tox_flag, fut_flag, cur):
    """Steps 1-2 at the current doses ``cur`` (in place on the flag arrays (B, J)); returns the per-trial
    (toxicity hit, futility hit)."""
    nd, yt, ye = _at(n, cur), _at(y_tox, cur), _at(y_eff, cur)
    tox_hit = yt >= t.eliminate_ge[nd]
    fut_hit = (ye <= t.futility_le[nd]) & (t.futility_le[nd] != NONE_BELOW)
    J = n.shape[1]
    rows = np.flatnonzero(tox_hit)
    tox_flag[rows] |= np.arange(J)[None, :] >= cur[rows, None]
    rows = np.flatnonzero(fut_hit)
    fut_flag[rows, cur[rows]] = True
    return tox_hit, fut_hit


def choose(t: Boin12Tables, n, y_tox, raw_desirability, flagged, tox_hit, cur, r, n_max_total: int) -> StepResult:
    """Steps 3-10 for a batch: ``raw_desirability`` (B, J) as :func:`~.boundaries.desirability` gives it,
    ``flagged`` the flags after steps 1-2, ``r`` the uniforms (B, 3), ``n_max_total`` = N."""
    B, J = n.shape
    at = np.arange(B) * J
    nd, yt = n.ravel()[at + cur], y_tox.ravel()[at + cur]
    raw, ff = raw_desirability.ravel(), flagged.ravel()
    L, U = np.full(B, -1), np.full(B, J)                                      # step 6 (column by column:
    for j in range(J):                                                        # J is small, B is large)
        L = np.where(~flagged[:, j] & (j < cur), j, L)
        U = np.where(~flagged[:, J - 1 - j] & (J - 1 - j > cur), J - 1 - j, U)
    has_l, has_u = L >= 0, U < J
    U = np.where(has_u, U, -1)
    deesc = yt >= t.deescalate_ge[nd]
    # step 8: candidates (d, L, U) compacted in this order, the k-th with the k-th uniform; first maximum wins
    up_ok = has_u & ((nd < 6) | (yt <= t.escalate_le[nd]))
    c1 = np.where(has_l, L, np.where(up_ok, U, -1))
    c2 = np.where(has_l & up_ok, U, -1)
    v0 = np.where(ff[at + cur], 0.0, raw[at + cur])
    i1, i2 = at + np.maximum(c1, 0), at + np.maximum(c2, 0)
    v1 = np.where(c1 >= 0, np.where(ff[i1], 0.0, raw[i1]), -np.inf)
    v2 = np.where(c2 >= 0, np.where(ff[i2], 0.0, raw[i2]), -np.inf)
    j0, j1, j2 = v0 + r[:, 0] * JITTER, v1 + r[:, 1] * JITTER, v2 + r[:, 2] * JITTER
    chosen = np.where(j1 > j0, c1, cur)
    chosen = np.where(j2 > np.maximum(j0, j1), c2, chosen)
    top = np.maximum(v0, np.maximum(v1, v2))
    cand = np.stack([cur, c1, c2], axis=1)
    t0, t1, t2 = v0 == top, (v1 == top) & (c1 >= 0), (v2 == top) & (c2 >= 0)
    tie = (t0.astype(np.int8) + t1 + t2) > 1
    tied = np.where(np.stack([t0 & tie, t1 & tie, t2 & tie], axis=1), cand, -1)
    # the rules, from the lowest priority up (a later line overrides an earlier one)
    explore = has_u & (nd >= 9) & (n.ravel()[at + np.maximum(U, 0)] == 0) & ~deesc           # step 10
    nxt = np.where(explore, U, chosen)
    rule = np.where(explore, Rule.EXPLORATION, Rule.DESIRABILITY)
    rule = np.where(ff[at + chosen], Rule.CHOSEN_ELIMINATED, rule)                             # step 9
    cur_flagged = ff[at + cur]
    rule = np.where(deesc, np.where(has_l, Rule.DEESCALATE,                                     # step 7
                                    np.where(cur_flagged, Rule.STOP_NO_LOWER, Rule.STAY_NO_LOWER)), rule)
    nxt = np.where(deesc, np.where(has_l, L, cur), nxt)
    chosen = np.where(deesc, nxt, chosen)
    full = nd >= n_max_total                                                                  # step 5
    all_flagged = ~has_l & ~has_u & cur_flagged                                               # step 3
    rule = np.where(full, Rule.DOSE_FULL, rule)
    rule = np.where(all_flagged, Rule.ALL_ELIMINATED, rule)
    rule = np.where(tox_hit & (cur == 0), Rule.TOXICITY_STOP, rule)                           # step 1
    no_choice = deesc | full | all_flagged
    cand[no_choice] = -1
    tied[no_choice] = -1
    chosen = np.where(full | all_flagged, -1, chosen)
    nxt = np.where(_STOPS[rule] | (rule == Rule.DOSE_FULL), -1, nxt)
    return StepResult(nxt, rule, raw_desirability, flagged, cand, chosen, tied)


def tie_uniforms(digest: str) -> np.ndarray:
    """The three uniforms of the live decision: a generator seeded from the history's SHA-256 digest (hex), so
    the same history always gives the same draw (shape (1, 3))."""
    return np.random.default_rng(int(digest[:32], 16)).random((1, 3))
