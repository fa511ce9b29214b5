"""Below-the-limit (BLQ) samples and missing values.

A BLQ sample's position decides what happens to it: **before** the first measurable concentration, **between**
the first and the last measurable one, or **after** the last.  Each position has a rule: ``"keep"`` (as 0),
``"drop"`` (remove the sample; the curve is then interpolated across it) or a number (use that
concentration).  The default is PKNCA's: keep BLQs before the first measurable value (as 0), drop those in the
middle, keep those after Tlast (so AUCall drops linearly to 0 at the first of them).  NonCompart and
Phoenix's default keep every BLQ as 0; ``BlqRules(middle="keep")`` reproduces that.  A profile without any
measurable value has all its BLQs "before".  BLQ samples never enter lambda_z.  Missing concentrations (NaN,
not flagged BLQ) are removed.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Union

import numpy as np
from pydantic import field_validator

from adcbridge.spec import Spec

__all__ = ["BlqRules", "apply_blq_rules", "compact"]

Rule = Union[Literal["keep", "drop"], float]


class BlqRules(Spec):
    """What to do with BLQ samples before, between and after the measurable ones (see the module docstring)."""

    spec_name: ClassVar[str] = "blq rules"
    before: Rule = "keep"
    middle: Rule = "drop"
    after: Rule = "keep"

    @field_validator("before", "middle", "after")
    @classmethod
    def _rule(cls, v):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise ValueError("must be 'keep', 'drop' or a concentration >= 0")
        return v


def compact(keep: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """Move the kept entries of every row to the left (order preserved); pad with NaN (floats), -1 (ints) or
    False (bools)."""
    order = np.argsort(~keep, axis=1, kind="stable")
    n_kept = keep.sum(axis=1)
    inside = np.arange(keep.shape[1])[None, :] < n_kept[:, None]
    out = []
    for a in arrays:
        b = np.take_along_axis(a, order, axis=1)
        pad = np.nan if b.dtype.kind == "f" else (False if b.dtype.kind == "b" else -1)
        out.append(np.where(inside, b, pad))
    width = max(int(n_kept.max(initial=0)), 1)
    return [b[:, :width] for b in out]


def apply_blq_rules(time: np.ndarray, conc: np.ndarray, blq: np.ndarray, rules: BlqRules,
                    row: np.ndarray | None = None):
    """Apply ``rules``; returns compacted (time, conc, row, was_blq) arrays without dropped or missing samples.

    Kept BLQ samples get concentration 0 (or the rule's number) and stay flagged in ``was_blq``.
    """
    valid = np.isfinite(time)
    measurable = valid & ~blq & np.isfinite(conc) & (conc > 0)
    is_blq = valid & blq
    M = time.shape[1]
    idx = np.arange(M)[None, :]
    any_meas = measurable.any(axis=1)
    first = np.where(any_meas, measurable.argmax(axis=1), M)
    last = np.where(any_meas, M - 1 - measurable[:, ::-1].argmax(axis=1), M)
    before = is_blq & (idx < first[:, None])
    middle = is_blq & (idx > first[:, None]) & (idx < last[:, None])
    after = is_blq & (idx > last[:, None]) & any_meas[:, None]
    c = np.where(is_blq, 0.0, conc)
    keep = measurable.copy()
    for where, rule in ((before, rules.before), (middle, rules.middle), (after, rules.after)):
        if rule == "drop":
            continue
        keep |= where
        if rule != "keep":
            c = np.where(where, float(rule), c)
    row = np.zeros_like(time, dtype=np.int64) if row is None else row
    return compact(keep, time, c, row, is_blq)
