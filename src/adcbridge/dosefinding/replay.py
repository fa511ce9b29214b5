"""Replaying a design's simulation policy on a live trial's cohorts: the live decision of a design whose rules
live only in its policy (3+3), with nothing written twice."""

from __future__ import annotations

import numpy as np

__all__ = ["replay_policy"]


def replay_policy(design, cohorts):
    """(policy, state) after feeding ``cohorts`` to ``design``'s own policy, one trial.  Each cohort must be at the
    dose and of the size the policy called for, and the trial must not have ended before it; otherwise the error
    names the cohort.  The state's ``dose`` (0-based) and ``active`` then give the next step."""
    policy = design._policy()
    state = policy.initial(1)
    for k, c in enumerate(cohorts, start=1):
        if not state.active[0]:
            raise ValueError(f"The 'outcomes' argument continues after the {design.spec_name} trial ended "
                             f"(cohort {k}, {c}).")
        dose, size = policy.next_cohort(state)
        if c.dose != int(dose[0]) + 1 or c.n != int(size[0]):
            raise ValueError(f"The 'outcomes' argument does not follow the {design.spec_name} rules at cohort {k} "
                             f"({c}): expected {int(size[0])} patients at dose {int(dose[0]) + 1}.")
        policy.record(state, np.array([c.dose - 1], dtype=np.int32), np.array([c.n], dtype=np.int32),
                      np.array([c.n_dlt], dtype=np.int32), np.array([True]))
    return policy, state
