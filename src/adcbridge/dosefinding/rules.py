"""Protocol rules that work on any design, added as wrappers that read like the protocol::

    >>> from adcbridge.dosefinding import crm
    >>> from adcbridge.dosefinding.rules import stop_at_n, stop_at_n_on_dose, stop_when_lowest_too_toxic
    >>> d = stop_when_lowest_too_toxic(stop_at_n_on_dose(stop_at_n(crm(0.25, 5), 24), 9), 0.9)
    >>> [r.kind for r in d.rules]
    ['stop_at_n', 'stop_at_n_on_dose', 'stop_when_lowest_too_toxic']

A rule is part of the design's spec (its ``rules``), so a design with rules is registered, recorded, replayed and
simulated like any other.  The rules act after the design's own decision, in this order, both in the simulation
policy (:class:`RuledPolicy`) and in the live decision (:func:`apply_rules`) -- one set of rules, checked by the
conformance test:

1. ``no_skipping`` -- the next dose is at most one level above the highest dose tried;
2. ``stop_when_lowest_too_toxic(cutoff, min_n)`` -- with at least ``min_n`` patients at dose 1, stop with no MTD
   when Pr(DLT rate at dose 1 > target | data) > ``cutoff`` (beta(1, 1) prior; the extra safety rule);
3. ``stop_at_n(n)`` -- stop once ``n`` patients have been treated (the last cohort is cut to the places left);
4. ``max_cohorts(k)`` -- stop after ``k`` cohorts;
5. ``stop_at_n_on_dose(n)`` -- stop when the dose recommended next already has ``n`` patients.

Stops 3-5 select the MTD by the design's own rule (BOIN: isotonic regression; CRM: the model's recommendation;
3+3: an MTD only when its own rules reached one, so a 3+3 trial cut short has none).

**Native rules.**  Where a design has the rule among its own parameters, the wrapper sets that parameter instead,
so the design keeps its published behaviour and speed: BOIN's ``stop_at_n_on_dose`` is its ``n_earlystop`` (BOIN's
rule also requires the decision to be "stay", as in the BOIN package), its ``stop_when_lowest_too_toxic`` its
extra safety rule (cut-off ``cutoff_eli - offset``, so ``cutoff`` must be below ``cutoff_eli``), and
``max_cohorts`` is ``n_cohorts`` for BOIN and CRM.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adcbridge.spec import field_path, house_words

from .engine import EndReason, TrialState

__all__ = ["StopAtN", "StopAtNOnDose", "StopWhenLowestTooToxic", "NoSkipping", "MaxCohorts", "ProtocolRule",
           "stop_at_n", "stop_at_n_on_dose", "stop_when_lowest_too_toxic", "extra_safety_at_lowest", "no_skipping",
           "max_cohorts", "RuledPolicy", "apply_rules"]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class NoSkipping(_Rule):
    """The next dose is at most one level above the highest dose tried."""

    kind: Literal["no_skipping"] = "no_skipping"


class StopWhenLowestTooToxic(_Rule):
    """Stop, no MTD, when Pr(p_1 > target | data) > cutoff with at least min_n patients at dose 1."""

    kind: Literal["stop_when_lowest_too_toxic"] = "stop_when_lowest_too_toxic"
    cutoff: float = Field(gt=0.5, lt=1.0, strict=False)
    min_n: int = Field(3, ge=1)
    target: float | None = Field(None, gt=0.0, lt=1.0, strict=False)


class StopAtN(_Rule):
    """Stop once n patients have been treated."""

    kind: Literal["stop_at_n"] = "stop_at_n"
    n: int = Field(ge=1)


class MaxCohorts(_Rule):
    """Stop after k cohorts."""

    kind: Literal["max_cohorts"] = "max_cohorts"
    k: int = Field(ge=1)


class StopAtNOnDose(_Rule):
    """Stop when the dose recommended next already has n patients."""

    kind: Literal["stop_at_n_on_dose"] = "stop_at_n_on_dose"
    n: int = Field(ge=1)


ProtocolRule = Annotated[Union[NoSkipping, StopWhenLowestTooToxic, StopAtN, MaxCohorts, StopAtNOnDose],
                         Field(discriminator="kind")]

_ORDER = ("no_skipping", "stop_when_lowest_too_toxic", "stop_at_n", "max_cohorts", "stop_at_n_on_dose")
_RULES = {"no_skipping": NoSkipping, "stop_when_lowest_too_toxic": StopWhenLowestTooToxic, "stop_at_n": StopAtN,
          "max_cohorts": MaxCohorts, "stop_at_n_on_dose": StopAtNOnDose}


def parse_rule(value, design: str = "the design"):
    """One rule from its record (``{"kind": "stop_at_n", "n": 24}``) or a rule object; a one-line ValueError
    names what is wrong (an unknown kind, a missing or bad parameter)."""
    if isinstance(value, tuple(_RULES.values())):
        return value
    if not isinstance(value, dict) or "kind" not in value:
        raise ValueError(f"has a rule that is not an object with a 'kind' ({', '.join(_ORDER)}): {value!r}")
    cls = _RULES.get(value["kind"])
    if cls is None:
        raise ValueError(f"has an unknown rule kind {value['kind']!r} (the rules are {', '.join(_ORDER)})")
    try:
        return cls(**value)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = field_path(err["loc"]) if err["loc"] else "rule"
        msg = house_words(str(err["msg"]))
        if err["type"] == "extra_forbidden":
            msg = "is not a parameter of this rule"
        raise ValueError(f"has the rule {value['kind']} whose '{where}' {msg[0].lower() + msg[1:]} (got "
                         f"{err.get('input')!r})") from None


def check_rules(design) -> None:
    """The rules of ``design`` taken together: each kind once, and none that can never act."""
    kinds = [r.kind for r in design.rules]
    twice = sorted({k for k in kinds if kinds.count(k) > 1})
    if twice:
        raise ValueError(f"{design.spec_name} has the rule {twice[0]} twice; give each rule once.")
    cap = getattr(design, "max_sample_size", None)
    for r in design.rules:
        if r.kind == "stop_at_n" and cap is not None and r.n >= cap:
            raise ValueError(f"the rule stop_at_n({r.n}) never acts: {design.spec_name} stops at its maximum "
                             f"sample size of {cap}.")
        design.check_rule(r)


# ------------------------------------------------------------------------------------------------ wrappers
def _add(design, kind: str, **params):
    from .decide import check_design
    design = check_design(design)
    try:
        rule = parse_rule({"kind": kind, **params}, design.spec_name)
    except ValueError as exc:
        raise ValueError(f"{kind}: {design.spec_name} {exc}") from None
    native = design.native_rule(rule)
    if native is not None:
        return native
    if any(r.kind == rule.kind for r in design.rules):
        raise ValueError(f"{design.spec_name} already has the rule {rule.kind}; give each rule once.")
    rules = sorted(design.rules + (rule,), key=lambda r: _ORDER.index(r.kind))
    return design.replace(rules=tuple(r.model_dump() for r in rules))


def no_skipping(design):
    """``design`` whose next dose is at most one level above the highest dose tried."""
    return _add(design, "no_skipping")


def stop_when_lowest_too_toxic(design, cutoff: float, min_n: int = 3, target: float | None = None):
    """``design`` that stops with no MTD when Pr(DLT rate at dose 1 > target | data) > ``cutoff`` with at least
    ``min_n`` patients there (``target``: the design's, required for designs without one such as 3+3)."""
    return _add(design, "stop_when_lowest_too_toxic", cutoff=cutoff, min_n=min_n, target=target)


def extra_safety_at_lowest(design, offset: float = 0.05):
    """BOIN's extra safety rule on any design: stop when Pr(p_1 > target) > 0.95 - ``offset`` (BOIN: its
    ``cutoff_eli - offset``) with at least 3 patients at dose 1."""
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not 0 <= offset < 0.5:
        raise ValueError(f"extra_safety_at_lowest: the offset must be a number in [0, 0.5); got {offset!r}")
    cutoff = round(getattr(design, "cutoff_eli", 0.95) - offset, 12)
    return _add(design, "stop_when_lowest_too_toxic", cutoff=cutoff, min_n=3)


def stop_at_n(design, n: int):
    """``design`` that stops once ``n`` patients have been treated."""
    return _add(design, "stop_at_n", n=n)


def max_cohorts(design, k: int):
    """``design`` that stops after ``k`` cohorts."""
    return _add(design, "max_cohorts", k=k)


def stop_at_n_on_dose(design, n: int):
    """``design`` that stops when the dose recommended next already has ``n`` patients."""
    return _add(design, "stop_at_n_on_dose", n=n)


# ----------------------------------------------------------------------------------------- shared pieces
def _lowest_target(design, rule: StopWhenLowestTooToxic) -> float:
    target = rule.target if rule.target is not None else design.oc_target
    if target is None:
        raise ValueError(f"stop_when_lowest_too_toxic needs a target for {design.spec_name}.")
    return target


def _prob_above(target: float, y, n) -> np.ndarray:
    from .boin.boundaries import posterior_prob_above
    return posterior_prob_above(target, np.asarray(y), np.asarray(n))


# ------------------------------------------------------------------------------------- simulation policy
class RuledPolicy:
    """The policy of a design with rules: the design's own policy, then the rules (module docstring order)."""

    def __init__(self, design, base):
        self.design, self.base, self.rules = design, base, design.rules
        self.n_doses = base.n_doses
        cap = next((r.n for r in self.rules if r.kind == "stop_at_n"), None)
        self.max_patients = base.max_patients if cap is None else min(base.max_patients, cap)

    def initial(self, size: int) -> TrialState:
        s = self.base.initial(size)
        s.aux["rule_cohorts"] = np.zeros(size, dtype=np.int32)
        return s

    def next_cohort(self, s: TrialState):
        dose, size = self.base.next_cohort(s)
        for r in self.rules:
            if r.kind == "stop_at_n":
                size = np.minimum(size, np.maximum(r.n - s.total, 0)).astype(np.int32)
        return dose, size

    def record(self, s: TrialState, dose, size, dlt, rows) -> None:
        self.base.record(s, dose, size, dlt, rows)
        s.aux["rule_cohorts"] += rows
        live = rows & s.active
        J = self.n_doses
        for r in self.rules:
            if r.kind == "no_skipping":
                tried = s.n > 0
                highest = np.where(tried.any(axis=1), J - 1 - np.argmax(tried[:, ::-1], axis=1), -1)
                np.minimum(s.dose, np.where(live, highest + 1, s.dose), out=s.dose)
            elif r.kind == "stop_when_lowest_too_toxic":
                n1, y1 = s.n[:, 0], s.y[:, 0]
                hit = live & (n1 >= r.min_n) & (_prob_above(_lowest_target(self.design, r), y1, n1) > r.cutoff)
                s.finish(hit, EndReason.SAFETY_STOP)
            elif r.kind == "stop_at_n":
                s.finish(live & (s.total >= r.n), EndReason.COMPLETED)
            elif r.kind == "max_cohorts":
                s.finish(live & (s.aux["rule_cohorts"] >= r.k), EndReason.COMPLETED)
            elif r.kind == "stop_at_n_on_dose":
                at_next = s.n[np.arange(len(s)), s.dose]
                s.finish(live & (at_next >= r.n), EndReason.EARLY_STOP)
            live = live & s.active

    def select(self, s: TrialState) -> np.ndarray:
        return np.where(s.end == EndReason.SAFETY_STOP, -1, self.base.select(s))

    def state_key(self, s: TrialState) -> np.ndarray:
        return np.column_stack([self.base.state_key(s), s.aux["rule_cohorts"]])

    def overdose_denominator(self, s: TrialState) -> np.ndarray:
        return self.base.overdose_denominator(s)


# ----------------------------------------------------------------------------------------- live decision
def apply_rules(design, history, decision):
    """The live decision of a design with rules: the design's own ``decision`` on ``history``, then the rules."""
    import dataclasses
    if decision.decision == "stop" or not design.rules:
        return decision
    n, y, _ = history.counts(design.n_doses)
    cohorts = len({p.cohort for p in history.patients if not p.backfill})
    total = int(n.sum())
    nxt, size, rule, reason = decision.next_dose, decision.next_cohort_size, decision.rule, decision.reason
    stop = None                                        # (rule, reason, mtd selected?)
    for r in design.rules:
        if r.kind == "no_skipping":
            highest = int(np.flatnonzero(n > 0).max()) + 1 if (n > 0).any() else 0
            if nxt > highest + 1:
                nxt, rule = highest + 1, "no_skipping"
                reason += f"; no skipping: at most one level above the highest dose tried ({highest})"
        elif r.kind == "stop_when_lowest_too_toxic":
            target = _lowest_target(design, r)
            p = float(_prob_above(target, y[:1], n[:1])[0])
            if n[0] >= r.min_n and p > r.cutoff:
                stop = ("stop_when_lowest_too_toxic", f"{y[0]}/{n[0]} DLTs at dose 1: Pr(DLT rate > {target:g}) = "
                                                      f"{p:.3f} > {r.cutoff:g}: stop the trial, no MTD", False)
        elif r.kind == "stop_at_n":
            size = min(size, r.n - total)
            if total >= r.n:
                stop = ("stop_at_n", f"{total} patients treated (stop at {r.n}): stop and select the MTD", True)
        elif r.kind == "max_cohorts":
            if cohorts >= r.k:
                stop = ("max_cohorts", f"{cohorts} cohorts treated (at most {r.k}): stop and select the MTD", True)
        elif r.kind == "stop_at_n_on_dose":
            if n[nxt - 1] >= r.n:
                stop = ("stop_at_n_on_dose", f"dose {nxt}, recommended next, already has {n[nxt - 1]} patients "
                                             f"(stop at {r.n}): stop and select the MTD", True)
        if stop:
            rule_name, why, select = stop
            mtd = design.select_from_counts(n, y) if select else None
            if select and mtd is None:
                why = why.replace("stop and select the MTD", f"stop; no MTD ({design.spec_name} names one only "
                                                             f"where its own rules reach it)")
            return dataclasses.replace(decision, table=decision.__dict__["_table"], next_dose=None,
                                       next_cohort_size=None, decision="stop", rule=rule_name, reason=why,
                                       select_mtd=select, mtd=mtd)
    from .nextdose import move
    return dataclasses.replace(decision, table=decision.__dict__["_table"], next_dose=nxt, next_cohort_size=size,
                               decision=move(decision.current_dose, nxt), rule=rule, reason=reason)
