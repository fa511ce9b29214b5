"""The result of a next-dose decision, shared by every design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from adcbridge.results import Result

__all__ = ["NextDose"]


@dataclass(frozen=True, eq=False)
class NextDose(Result):
    """A dose-finding decision.

    ``next_dose`` is 1-based (None when the trial stops) and ``next_cohort_size`` the number of patients the next
    cohort should have; ``decision`` is one of ``escalate``, ``stay``, ``de-escalate``, ``stop``; ``rule`` names
    the rule that fired and ``reason`` says it in words; ``eliminated`` lists eliminated dose levels;
    ``select_mtd`` is True when the trial stops and an MTD is to be selected; ``table`` has per-dose counts.
    """

    next_dose: int | None = None
    next_cohort_size: int | None = None
    current_dose: int = 1
    decision: str = "stay"
    rule: str = ""
    reason: str = ""
    eliminated: tuple[int, ...] = ()
    select_mtd: bool = False

    result_type: ClassVar[str] = "NextDose"

    def record_body(self) -> dict:
        return {"next_dose": self.next_dose, "decision": self.decision, "reason": self.reason,
                "eliminated": list(self.eliminated), "rule": self.rule, "current_dose": self.current_dose,
                "next_cohort_size": self.next_cohort_size, "select_mtd": self.select_mtd}
