"""The TITE-BOIN decision table for protocols: the decision at the current dose for every number of patients
n, of DLTs observed and of patients pending, with the follow-up thresholds that decide it.

With m patients pending whose follow-up fractions sum to F (0 <= F < m), the effective sample size is
``n - m + F`` and the rate ``y / (n - m + F)``, so (:mod:`.kernel`)

* escalate  iff ``F >= y / lambda_e - (n - m)``  (always when y = 0),
* de-escalate iff ``F <= y / lambda_d - (n - m)``,

after the elimination rule (``y >= X(n)`` with n counting the pending patients, n >= n_eli) and the suspension rule
(``m > max_pending * n``).  The table gives these thresholds on F, in DLT windows ("total follow-up of the pending
patients"), as protocols of TITE designs show them.  It describes the current dose only: escalation is further
blocked at the highest dose or under an eliminated dose; at the lowest dose a de-escalation means staying -- or,
while patients there are pending, suspending accrual.

    >>> from adcbridge.dosefinding import tite_boin
    >>> t = tite_boin(0.3, 5).decision_table(6)
    >>> t[(t.n == 3) & (t.dlt == 0) & (t.pending == 1)].decision.item()
    'escalate'
"""

from __future__ import annotations

import pandas as pd

from .kernel import tite_rules

__all__ = ["tite_decision_table"]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def tite_decision_table(design, n_max: int | None = None) -> pd.DataFrame:
    """One row per (n, dlt, pending) for n = 1..``n_max`` (default: the maximum sample size, at most 12):
    ``suspend``, ``eliminate``, ``escalate_if_followup_ge`` (0: always; missing: never),
    ``deescalate_if_followup_le`` (missing: never; m: always) and the ``decision`` in words.  ``attrs`` holds
    lambda_e and lambda_d."""
    if n_max is None:
        n_max = min(design.max_sample_size, 12)
    if isinstance(n_max, bool) or not isinstance(n_max, int) or n_max < 1:
        raise ValueError(f"The 'n_max' argument must be a positive integer. Got {n_max!r}.")
    r = tite_rules(design, n_max)
    rows = []
    for n in range(1, n_max + 1):
        for m in range(0, n + 1):
            for y in range(0, n - m + 1):
                done = n - m
                elim = bool(y >= r.eliminate_ge[n])
                suspend = m > r.max_pending * n
                if m == 0:
                    esc = 0.0 if y / n <= r.lambda_e else None
                    de = 0.0 if y / n >= r.lambda_d else None
                else:
                    a, b = y / r.lambda_e - done, y / r.lambda_d - done
                    esc = 0.0 if a <= 0 else None if a >= m else a
                    de = None if b < 0 else min(b, float(m))
                rows.append({"n": n, "dlt": y, "pending": m, "suspend": suspend, "eliminate": elim,
                             "escalate_if_followup_ge": esc, "deescalate_if_followup_le": de,
                             "decision": _words(elim, suspend, esc, de, m)})
    out = pd.DataFrame(rows)
    out.attrs.update(lambda_e=r.lambda_e, lambda_d=r.lambda_d)
    return out


def _words(elim: bool, suspend: bool, esc, de, m: int) -> str:
    if elim:
        return "eliminate"
    if suspend:
        return "suspend accrual"
    if esc == 0.0:
        return "escalate"
    if de is not None and de >= m:
        return "de-escalate"
    parts = []
    if de is not None:
        parts.append(f"de-escalate if follow-up <= {_fmt(de)}")
    if esc is not None:
        parts.append(f"escalate if follow-up >= {_fmt(esc)}")
    return ", ".join(parts + ["else stay"]) if parts else "stay"
