"""Replaying a design's simulation policy on a live trial's cohorts: the live decision of a design whose rules
live only in its policy (3+3), with nothing written twice."""

from __future__ import annotations

import numpy as np

__all__ = ["replay_policy"]


def replay_policy(design, cohorts, history=None):
    """(policy, state) after feeding ``cohorts`` to ``design``'s own policy, one trial.  Each cohort must be at the
    dose and of the size the policy called for, and the trial must not have ended before it; otherwise the error
    names the cohort -- as given in the outcome grammar, or by the row of its first patient when ``history`` (the
    history the cohorts come from) was read from a table (:func:`~.history.cohort_error`).  The state's ``dose``
    (0-based) and ``active`` then give the next step.  A last cohort with fewer patients than the rules call for is
    refused (the design decides on whole cohorts) unless the rules decide the same whatever the others' outcomes."""
    from .history import History, cohort_error
    if history is None:
        history = History.from_cohorts(cohorts)
    policy = design._policy()
    state = policy.initial(1)
    for k, c in enumerate(cohorts, start=1):
        if not state.active[0]:
            raise cohort_error(history, k, f"comes after the {design.spec_name} trial ended")
        dose, size = policy.next_cohort(state)
        if k == len(cohorts) and c.dose == int(dose[0]) + 1 and c.n < int(size[0]):
            decided = _whatever_the_rest(design, cohorts, history, int(size[0]))
            if decided is not None:
                return decided
            raise cohort_error(history, k, f"is incomplete: it has {c.n} of the {int(size[0])} patients the "
                                           f"{design.spec_name} rules call for at dose {c.dose}, and "
                                           f"{design.spec_name} decides on whole cohorts: enrol the other "
                                           f"{int(size[0]) - c.n} there, then decide", column="cohort")
        if c.dose != int(dose[0]) + 1 or c.n != int(size[0]):
            after = f"after cohort {k - 1}" if k > 1 else "at the start"
            raise cohort_error(history, k, f"does not follow the {design.spec_name} rules: {after} they call for "
                                           f"{int(size[0])} patients at dose {int(dose[0]) + 1}, and it has {c.n} "
                                           f"at dose {c.dose}")
        policy.record(state, np.array([c.dose - 1], dtype=np.int32), np.array([c.n], dtype=np.int32),
                      np.array([c.n_dlt], dtype=np.int32), np.array([True]))
    return policy, state


def _whatever_the_rest(design, cohorts, history, size: int):
    """(policy, state) for a last cohort with fewer patients than the rules call for when the rules decide the
    same whatever the others' outcomes (3+3 after 2 DLTs in a cohort: the dose exceeds the MTD), else None."""
    from .outcomes import Cohort
    c = cohorts[-1]
    missing = size - c.n
    ends = [replay_policy(design, [*cohorts[:-1], Cohort(c.dose, c.dlt + (tox,) * missing)], history)
            for tox in (False, True)]
    (_, a), (_, b) = ends
    same = all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("dose", "active")) and \
        all(np.array_equal(a.aux[key], b.aux[key]) for key in a.aux)
    return ends[0] if same else None
