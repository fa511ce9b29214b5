"""The dose-finding core: what every design provides.

A design is an inert, validated spec (a :class:`~adcbridge.spec.Spec`) registered by name
(:mod:`.registry`).  It provides:

* :meth:`DoseFindingDesign.policy` -- its conduct as a vectorised policy for the trial engine
  (:mod:`.engine`), used by Monte Carlo and exact operating characteristics;
* :meth:`DoseFindingDesign.decide` -- its live decision on a patient-level :class:`~.history.History`;
* :meth:`DoseFindingDesign.protocol_text` -- its rules in protocol wording;
* what the shared code needs to know about it: whether it uses pending outcomes or backfill patients, whether it
  may skip untried doses, the first dose of a trial, the overly toxic rate defining the true MTD.

**One set of rules.**  The live decision either replays the policy on the history (3+3) or is a separate path
kept for its explanations and its tolerance of real-world deviations (BOIN, CRM); for those, the conformance
test ``tests/unit/test_design_conformance.py`` proves that the live decision equals the policy's on every
dose-transition pathway of the first six cohorts, for every registered design.

Adding a design: write its spec class (this base), its policy and its decision in its own module, and add one
line to :data:`.registry.DESIGNS` and one entry to the conformance test's specs (the test fails for a
registered design without one).  ``docs/dosefinding.md`` works through an example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, field_validator, model_validator

from adcbridge.spec import Spec

from .rules import ProtocolRule

if TYPE_CHECKING:
    from .history import History
    from .nextdose import NextDose

__all__ = ["DoseFindingDesign", "HISTORY_USES"]

#: the history columns a design may ignore: column -> (the design's ClassVar saying it uses the column, what the
#: column holds); :meth:`DoseFindingDesign.refuse_unused_columns` refuses a column whose design does not use it
HISTORY_USES = {"efficacy": ("uses_efficacy", "efficacy outcomes"),
                "dose_time": ("uses_times", "dosing times"), "assess_time": ("uses_times", "assessment times"),
                "followup": ("uses_followup", "follow-up fractions")}


class DoseFindingDesign(Spec):
    """Base of every registered dose-finding design (see the module docstring).

    Subclasses set ``spec_name`` (the registry name) and declare ``n_doses``, ``start_dose``, ``dose_levels``
    and ``dose_unit`` among their fields."""

    spec_name: ClassVar[str] = "design"

    #: protocol rules added with the wrappers of :mod:`.rules` (stop at N, no skipping, ...), applied after the
    #: design's own decision in the same order in the policy and the live decision
    rules: tuple[ProtocolRule, ...] = Field(default=())

    @field_validator("rules", mode="before")
    @classmethod
    def _parse_rules(cls, value):
        from .rules import parse_rule
        if value is None:
            return ()
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValueError(f"must be a list of protocol rules, got {value!r}")
        return tuple(parse_rule(v, cls.spec_name) for v in value)

    @model_validator(mode="after")
    def _check_rules(self):
        if self.rules:
            from .rules import check_rules
            check_rules(self)
        return self

    #: whether decisions use patients whose DLT outcome is still pending (time-to-event designs)
    uses_pending: ClassVar[bool] = False
    #: whether the design has backfill patients
    uses_backfill: ClassVar[bool] = False
    #: whether :func:`~.decide.next_dose` replays the decision after each earlier cohort to refuse patients
    #: enrolled after a stop (designs that enrol while outcomes are pending decide on data that the history no
    #: longer shows as it was, and set this False)
    checks_course: ClassVar[bool] = True
    #: the truths and conduct settings of a scenario the design's own simulator takes besides ``p_true``
    #: (e.g. ``q_true``, ``accrual_rate``), named as the keyword arguments of :meth:`simulate_oc`
    scenario_options: ClassVar[tuple[str, ...]] = ()
    #: the scenario options among ``scenario_options`` the simulator cannot do without (BOIN12's ``q_true``)
    required_scenario_options: ClassVar[tuple[str, ...]] = ()
    #: whether the design reads a history's efficacy outcomes, its dosing/assessment times, or pending patients'
    #: follow-up fractions (:func:`~.decide.next_dose` refuses a column the design would ignore:
    #: :meth:`refuse_unused_columns`)
    uses_efficacy: ClassVar[bool] = False
    uses_times: ClassVar[bool] = False
    uses_followup: ClassVar[bool] = False
    #: why the outcome grammar (``"1NNN 2NTN"``: one dose level and the DLTs of each cohort) cannot describe the
    #: design's trial (None: it can); :func:`~.decide.next_dose` then refuses outcomes and asks for a history
    outcomes_cannot: ClassVar[str | None] = None
    #: True for a design whose decision lists the cohorts treated elsewhere than its rules gave (the waterfall's
    #: ``off_protocol``); for the others :func:`~.decide.next_dose` warns ``dose_deviation`` when replaying the course
    reports_deviations: ClassVar[bool] = False
    #: parameters a design inherits but holds fixed (not offered as flags: setting them would change nothing)
    fixed_parameters: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------------------------ what a design does
    def _policy(self):
        """The design's own vectorised conduct for the trial engine (:class:`~.engine.Policy`)."""
        raise NotImplementedError(f"{self.spec_name} has no simulation policy")

    def _decision(self, history: History) -> NextDose:
        """The design's own next-dose decision on ``history`` (already checked by :meth:`check_history`)."""
        raise NotImplementedError(f"{self.spec_name} has no live decision")

    def _protocol_text(self) -> str:
        """The design's own rules as a protocol paragraph."""
        raise NotImplementedError(f"{self.spec_name} has no protocol text")

    def simulate_oc(self, p_true, *, n_trials: int, seed: int, target: float | None = None, **scenario):
        """The design's own Monte Carlo simulator, for designs the trial engine cannot run (time, pending
        patients, two agents, efficacy): an :class:`~.oc.OperatingCharacteristics` with ``seed`` recorded.
        ``scenario`` holds the :attr:`scenario_options`.  Designs without one are run by the engine on
        :meth:`policy`."""
        raise NotImplementedError(f"{self.spec_name} has no simulator of its own")

    @property
    def has_own_simulator(self) -> bool:
        """Whether :meth:`simulate_oc` replaces the trial engine for this design."""
        return type(self).simulate_oc is not DoseFindingDesign.simulate_oc

    @classmethod
    def conformance_specs(cls) -> list:
        """For designs with their own simulator: specs covering the options that change the rules (at least
        two), for the conformance test."""
        raise NotImplementedError(f"{cls.spec_name} gives no conformance specs")

    def conformance_cases(self, n_trials: int = 40, seed: int = 1):
        """For designs with their own simulator: ``(history, expected)`` pairs logged by the simulator at its
        decision points -- the history it decided on (pending patients with their ``followup``) and what it
        decided (``next_dose`` (None for a stop), and the design's own keys such as ``suspend_accrual``,
        ``mtd``, ``obd``).  The conformance test checks that the live decision on each history is the same."""
        raise NotImplementedError(f"{self.spec_name} logs no decisions")

    def pathways(self, n_cohorts: int = 3):
        """The dose-transition pathways of the first ``n_cohorts`` cohorts (a table for protocols); by default
        every DLT count of every cohort through the live decision (:func:`~.paths.dose_transition_pathways`)."""
        from .paths import dose_transition_pathways
        return dose_transition_pathways(self, n_cohorts)

    def select_from_counts(self, n, y) -> int | None:
        """The MTD (1-based, None for none) the design selects from per-dose counts when a protocol rule stops
        the trial."""
        raise NotImplementedError(f"{self.spec_name} selects no MTD from counts")

    def check_rule(self, rule) -> None:
        """Refuse a protocol rule this design cannot follow (a ValueError); by default every rule is fine."""

    def native_rule(self, rule):
        """This design with ``rule`` set through its own parameters (None when it has no such parameter; the
        rule is then added to :attr:`rules`)."""
        return None

    # ------------------------------------------------------------------- the design with its protocol rules
    def policy(self):
        """The vectorised conduct for the trial engine (:class:`~.engine.Policy`): the design's own policy, with
        its protocol rules when it has any."""
        base = self._policy()
        if not self.rules:
            return base
        from .rules import RuledPolicy
        return RuledPolicy(self, base)

    def decide(self, history: History) -> NextDose:
        """The next-dose decision on ``history`` (already checked by :meth:`check_history`): the design's own,
        then its protocol rules."""
        decision = self._decision(history)
        if not self.rules:
            return decision
        from .rules import apply_rules
        return apply_rules(self, history, decision)

    def protocol_text(self) -> str:
        """The design's rules, then its protocol rules, as protocol paragraphs."""
        text = self._protocol_text()
        if self.rules:
            from .protocol import rules_text
            text += "\n\n" + rules_text(self)
        return text

    # ----------------------------------------------------------------------------- what the core asks of it
    @property
    def allows_skipping(self) -> bool:
        """Whether patients may be treated at a dose above the next untried one."""
        return False

    @property
    def first_dose(self) -> int:
        """The 1-based dose of the first cohort."""
        return self.start_dose

    @property
    def oc_target(self) -> float | None:
        """The target DLT rate of operating characteristics (None for designs without one, e.g. 3+3)."""
        return getattr(self, "target", None)

    def overly_toxic(self, target: float) -> float:
        """The DLT rate above which a dose is overly toxic, for the true MTD of a scenario: 1.4 x target."""
        return 1.4 * target

    def check_outcome_windows(self, history) -> tuple:
        """For a design with times and a DLT window (``uses_times``, ``dlt_window``: TITE-BOIN, BF-BOIN): refuse a
        patient without a DLT assessed less than one window after dosing, or a DLT assessed after the window, where
        he has both times (:meth:`History.check_complete_windows`, not strict); return a warning when the window
        looks like another unit than the times (:meth:`History.window_issues`).  :func:`~.decide.next_dose` calls
        it on a new decision, not when replaying a stored one (a record keeps replaying as it was decided)."""
        window = getattr(self, "dlt_window", None)
        if self.uses_times and window is not None:
            history.check_complete_windows(window, strict=False)
        return self.outcome_window_issues(history)

    def outcome_window_issues(self, history) -> tuple:
        """The warnings of :meth:`check_outcome_windows` without its refusals (a stored decision's replay gives the
        same issues as the decision)."""
        window = getattr(self, "dlt_window", None)
        return history.window_issues(window) if self.uses_times and window is not None else ()

    @classmethod
    def refuse_unused_columns(cls, history: History) -> None:
        """Refuse a history column (:data:`HISTORY_USES`: ``efficacy``, ``dose_time``, ``assess_time``,
        ``followup``) this design does not use when a patient has a value in it -- the design would ignore it,
        a silent wrong answer.  The :class:`~adcbridge.validation.TableError` (a ValueError) names the history's
        file (when read from one), the first such patient's row and the column, and the designs that use it::

            h.csv: column 'efficacy', line 2 (patient 'P1'): boin does not use efficacy outcomes (boin12 or
            boin-backfill do): remove the column or leave it empty
        """
        for column, (flag, what) in HISTORY_USES.items():
            if getattr(cls, flag, False) or history.first_with(column) is None:
                continue
            from .registry import design_class, design_names
            users = " or ".join(d for d in design_names() if getattr(design_class(d), flag, False)) or "none"
            history.refuse_column(column, f"{cls.spec_name} does not use {what} ({users} do): remove the column or "
                                          f"leave it empty")

    def check_history(self, history: History) -> History:
        """The checks every design shares (:meth:`History.check`), with this design's allowances."""
        return history.check(self.n_doses, start_dose=self.first_dose, allow_skipping=self.allows_skipping,
                             pending=self.uses_pending, backfill=self.uses_backfill, design=self.spec_name,
                             dose_values=getattr(self, "dose_levels", None), dose_unit=getattr(self, "dose_unit", ""))

    def dose_label(self, level: int) -> str:
        """Label of 1-based dose ``level``: ``'3 (4.2 mg/kg)'`` or ``'3'``."""
        if self.dose_levels is None:
            return str(level)
        return f"{level} ({self.dose_levels[level - 1]:g} {self.dose_unit})"

    def dose_labels(self) -> list[str] | None:
        """Labels of the dose values (``'4.2 mg/kg'``), None without dose values."""
        if self.dose_levels is None:
            return None
        return [f"{v:g} {self.dose_unit}" for v in self.dose_levels]


def cohorts_option(cohorts: int | None, options: dict, builder: str, default: int = 10) -> int:
    """The number of cohorts a builder (``boin(..., cohorts=10)``) gets, also as the field's own name
    ``n_cohorts`` in ``options`` (removed from them): the spec's field and the builder's argument name one thing.
    Both given with different values is refused; neither gives ``default``."""
    if "n_cohorts" not in options:
        return default if cohorts is None else cohorts
    n = options.pop("n_cohorts")
    if cohorts is not None and cohorts != n:
        raise ValueError(f"{builder}() got cohorts={cohorts!r} and n_cohorts={n!r}: they name the same number; give "
                         f"one of them.")
    return n
