"""The result of a next-dose decision, shared by every design."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from adcbridge.results import Result, json_ready

from .history import History

__all__ = ["NextDose", "move"]


def _issue_kinds(issues) -> list | None:
    """The codes and severities of a record's issues, in order (their wording may change between versions; a
    warning removed, added or changed in kind may not)."""
    if not isinstance(issues, list):
        return issues
    return [(i.get("code"), i.get("severity")) if isinstance(i, dict) else i for i in issues]


def move(current: int, next_dose: int | None) -> str:
    """The decision word for going from dose ``current`` to ``next_dose`` (None: the trial stops)."""
    if next_dose is None:
        return "stop"
    return "escalate" if next_dose > current else "de-escalate" if next_dose < current else "stay"

#: the keys of the command-line contract that identify a decision (replay compares them)
DECISION_KEYS = ("design", "next_dose", "decision", "rule", "reason", "eliminated", "mtd", "model_recommendation",
                 "estimates", "posterior", "current_dose", "next_cohort_size", "select_mtd")


@dataclass(frozen=True, eq=False)
class NextDose(Result):
    """A dose-finding decision.

    ``next_dose`` is 1-based (None when the trial stops) and ``next_cohort_size`` the number of patients the next
    cohort should have; ``decision`` is one of ``escalate``, ``stay``, ``de-escalate``, ``stop``; ``rule`` names
    the rule that fired and ``reason`` says it in words; ``eliminated`` lists eliminated dose levels;
    ``select_mtd`` is True when the trial stops and an MTD is to be selected, and ``mtd`` is that MTD (None
    while the trial goes on or when it stops without one); ``model_recommendation`` is a model-based design's own
    pick before safety restrictions (CRM: the dose whose estimate is closest to the target; None for
    rule-based designs) and ``posterior`` its posterior summaries (CRM: ``beta_mean``, ``beta_sd``).

    For a drug combination, ``next_dose``, ``current_dose`` and ``mtd`` are ``(a, b)`` level pairs (``mtd`` a
    list of pairs for an MTD contour).

    ``table`` has one row per dose: ``dose``, ``n`` (patients with a known outcome), ``dlt``, ``pending`` and
    ``p_hat`` (CRM: the plug-in posterior estimate; BOIN and 3+3: the observed rate, None without patients),
    plus the design's own columns.

    The decision keeps what it decided on: the design (``spec``, and ``design``, its registry name) and the
    patient ``history`` (or, for a BOIN decision from per-dose counts, ``counts``), so :meth:`replay` decides
    again and gives the same decision.
    """

    design: str = ""
    next_dose: int | None = None
    next_cohort_size: int | None = None
    current_dose: int = 1
    decision: str = "stay"
    rule: str = ""
    reason: str = ""
    eliminated: tuple[int, ...] = ()
    select_mtd: bool = False
    mtd: int | None = None
    model_recommendation: int | None = None
    posterior: dict[str, float] | None = None
    history: History | None = None          # None for a decision from per-dose counts
    counts: dict[str, Any] | None = None
    #: the design's own keys of the record, beside the shared ones (TITE-BOIN's ``suspend_accrual``, BOIN12's
    #: ``obd``, ...); they are part of the decision (replay compares them)
    extra: dict[str, Any] | None = None

    result_type: ClassVar[str] = "NextDose"

    def estimates(self) -> list[dict]:
        """The per-dose rows of the record: dose, n, dlt, pending, p_hat (and the design's own columns)."""
        rows = self.__dict__["_table"]
        rows = rows.records() if hasattr(rows, "records") else rows.to_dict("records")
        out = []
        for r in rows:
            n = r.get("n")
            p_hat = r.get("p_hat", (r["dlt"] / n) if n else None)
            out.append({"dose": r["dose"], "n": n, "dlt": r.get("dlt"), "pending": r.get("pending", 0),
                        "p_hat": p_hat, **{k: v for k, v in r.items() if k not in ("dose", "n", "dlt", "pending",
                                                                                      "p_hat")}})
        return out

    def record_body(self) -> dict:
        body = {"design": self.design, "next_dose": self.next_dose, "decision": self.decision, "rule": self.rule,
                "reason": self.reason, "eliminated": list(self.eliminated), "mtd": self.mtd,
                "model_recommendation": self.model_recommendation, "estimates": self.estimates(),
                "posterior": self.posterior, "current_dose": self.current_dose,
                "next_cohort_size": self.next_cohort_size, "select_mtd": self.select_mtd}
        if self.extra:
            body.update(self.extra)
        if self.history is not None:
            body["history"] = self.history.records()
            if self.history.followup_window is not None:     # the window the times are in (TITE-BOIN's replay)
                body["followup_window"] = self.history.followup_window
            if self.history.time_origin is not None:         # day 0 of the times: messages name the dates
                body["time_origin"] = self.history.time_origin
        if self.counts is not None:
            body["counts"] = self.counts
        return body

    def replay(self) -> NextDose:
        """Decide again on the same design and data (the check of an audit trail): a new :class:`NextDose`,
        whose :meth:`same_decision` with this one is True unless the library's rules changed."""
        from .decide import _next_dose, next_dose
        if self.history is not None:
            return _next_dose(self.spec, self.history, None, {}, replay=True)
        if self.counts is not None:
            return next_dose(self.spec, n=self.counts["n"], dlt=self.counts["dlt"],
                             current_dose=self.counts["current_dose"])
        raise ValueError("this decision kept no history to replay")

    def same_decision(self, other: NextDose) -> bool:
        """Whether ``other`` is the same decision (every contract key, the spec and the data; not the time)."""
        a, b = self.to_record(), other.to_record()
        keys = DECISION_KEYS + ("spec", "history", "counts") + tuple(sorted(set(self.extra or ()) |
                                                                          set(other.extra or ())))
        return all(a.get(k) == b.get(k) for k in keys)

    @classmethod
    def check_record(cls, record: dict) -> list[str]:
        """The keys of a decision's record that differ from the decision the record's own design and history give
        today: an empty list means the record is what adcbridge decides on its data (an edited decision, reason or
        estimate shows up here, and ``issues`` when a warning was removed, added or changed in code or severity;
        an issue's wording is not compared)."""
        decision = cls.replay_record(record)
        again = decision.to_record()
        keys = DECISION_KEYS + tuple(sorted(decision.extra or ()))
        differ = [k for k in keys if json_ready(record.get(k)) != again.get(k)]
        if _issue_kinds(record.get("issues")) != _issue_kinds(again.get("issues")):   # a warning removed or added
            differ.append("issues")
        return differ

    @classmethod
    def replay_record(cls, record: dict) -> NextDose:
        """Decide again from a decision's record (``to_record()`` or the JSON of ``adcbridge next``), on its
        history as recorded (a record made before :func:`~.decide.next_dose` refused the history columns a design
        does not use -- a conduct app's BOIN decision with dosing dates -- still replays)."""
        from .decide import _next_dose, next_dose
        from .registry import design_from_record
        design = design_from_record(record)
        if record.get("history") is not None:
            history = History.from_records(record["history"])
            window, origin = record.get("followup_window"), record.get("time_origin")
            if window is not None or origin is not None:
                history = dataclasses.replace(history, followup_window=None if window is None else float(window),
                                              time_origin=origin)
            return _next_dose(design, history, None, {}, replay=True)
        if record.get("counts") is not None:
            c = record["counts"]
            missing = [k for k in ("n", "dlt", "current_dose") if not isinstance(c, dict) or k not in c]
            if missing:
                raise ValueError(f"the record's counts lack {missing}; they hold n, dlt and current_dose.")
            return next_dose(design, n=c["n"], dlt=c["dlt"], current_dose=c["current_dose"])
        raise ValueError("the record holds no history to replay")
