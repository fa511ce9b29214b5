"""Plain-language protocol paragraphs generated from a design spec (adcbridge's own wording).

Each design gives its text (:meth:`~.design.DoseFindingDesign.protocol_text`); the texts of BOIN, 3+3 and CRM
are written here, sharing the wording of doses and rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .boin.design import BoinDesign
    from .crm.design import CrmDesign
    from .threeplusthree import ThreePlusThreeDesign

__all__ = ["protocol_text", "boin_text", "three_plus_three_text", "crm_text"]


def _doses(design) -> str:
    """'at the dose levels 1, 2.1, 4.2 mg/kg' or 'at 5 dose levels'."""
    if design.dose_levels:
        return "at the dose levels " + ", ".join(f"{v:g}" for v in design.dose_levels) + f" {design.dose_unit}"
    return f"at {design.n_doses} dose levels"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(100 * x - round(100 * x)) < 1e-9 else f"{100 * x:.1f}%"


def boin_text(d: BoinDesign) -> str:
    from .boin.boundaries import decision_table
    t = decision_table(d)
    parts = [
        f"Dose escalation follows the Bayesian optimal interval (BOIN) design (Liu and Yuan, 2015) with a target "
        f"dose-limiting toxicity (DLT) rate of {_pct(d.target)}. Patients are enrolled in cohorts of "
        f"{d.cohort_size}, up to {d.n_cohorts} cohorts ({d.max_sample_size} patients), "
        f"{_doses(d)}, starting at dose level {d.start_dose}.",
        f"After each cohort, the DLT rate observed at the current dose is compared with two boundaries derived "
        f"from the DLT rates deemed sub-therapeutic ({_pct(d.phi1)}) and overly toxic ({_pct(d.phi2)}): if it is "
        f"at most {t.lambda_e:.3f} the next cohort receives the next higher dose; if it is above "
        f"{t.lambda_d:.3f} the next cohort receives the next lower dose; otherwise the dose is kept. The "
        f"decision table in the protocol lists these rules as numbers of DLTs for each number of patients. "
        f"Dose levels are never skipped.",
        f"For safety, once at least 3 patients have been treated at a dose, the dose and all higher doses are "
        f"eliminated if the posterior probability (beta(1, 1) prior) that its DLT rate exceeds {_pct(d.target)} "
        f"is above {d.cutoff_eli:g}; an eliminated dose is not used again. If the lowest dose is eliminated the "
        f"trial stops and no dose is declared the maximum tolerated dose (MTD).",
    ]
    if d.extrasafe:
        parts.append(f"As an additional safety rule, the trial stops if, with at least 3 patients at the lowest "
                     f"dose, the posterior probability that its DLT rate exceeds {_pct(d.target)} is above "
                     f"{d.cutoff_eli - d.offset:g}.")
    if d.uses_titration:
        parts.append("Accelerated titration is used at the start: single patients are treated at successive dose "
                     "levels from dose level 1 until the first DLT, after which the cohort at that dose is "
                     f"completed to {d.cohort_size} patients and the rules above apply.")
    if d.n_earlystop < d.max_sample_size:
        parts.append(f"The trial stops early when {d.n_earlystop} patients have been treated at the current dose "
                     f"and the rules call for staying at that dose.")
    parts.append(
        "At the end of the trial, the DLT rates are estimated by isotonic regression (pooled adjacent violators "
        "with beta(0.05, 0.05) posterior means), and the MTD is the dose, among those treated and not eliminated, "
        f"whose estimate is closest to {_pct(d.target)}" +
        (f", provided its estimate does not exceed {t.lambda_d:.3f}." if d.bound_mtd else "."))
    return " ".join(parts[:2]) + "\n\n" + " ".join(parts[2:])


def three_plus_three_text(d: ThreePlusThreeDesign) -> str:
    if d.variant == "escalation-only":
        body = ("Cohorts of 3 patients are treated. With no DLT in 3 patients the dose is escalated; with 1 DLT, 3 "
                "more patients are treated at the same dose and the dose is escalated if none of them has a DLT. "
                "With 2 or more DLTs the dose is considered to exceed the MTD and escalation stops; the MTD is the "
                "next lower dose (none if this happens at the first dose level), and the highest dose is the MTD if "
                "it is passed.")
    else:
        body = ("Cohorts of 3 patients are treated. With no DLT in 3 patients the dose is escalated; with 1 DLT, 3 "
                "more patients are treated at the same dose and the dose is escalated if none of them has a DLT. "
                "With 2 or more DLTs (of 3 or of 6 patients) the dose exceeds the MTD: the next lower dose is "
                "expanded to 6 patients if it has only 3, and it is the MTD if at most 1 of its 6 patients has a "
                "DLT, otherwise the process repeats one level lower. If the first dose level exceeds the MTD the "
                "trial stops without an MTD. At the highest dose, 3 patients without DLT are followed by 3 more, "
                "and the highest dose is the MTD if at most 1 of the 6 has a DLT.")
    return (f"Dose escalation follows the 3+3 design ({d.variant} variant) {_doses(d)}, "
            f"starting at dose level {d.start_dose}. " + body)


def crm_text(d: CrmDesign) -> str:
    sk = ", ".join(f"{v:.3f}" for v in d.skeleton_values())
    model = ("a power (empiric) model, p = skeleton^exp(beta)" if d.model == "empiric" else
             f"a one-parameter logistic model with intercept {d.logistic_intercept:g}")
    text = (f"Dose escalation follows the continual reassessment method (CRM) with a target DLT rate of "
            f"{_pct(d.target)}, cohorts of {d.cohort_size} and at most {d.n_cohorts} cohorts "
            f"({d.max_sample_size} patients), {_doses(d)}, starting at dose level {d.start_dose}. "
            f"The dose-toxicity relationship is described by {model}, with skeleton ({sk}) and a normal prior on "
            f"beta with mean 0 and variance {d.prior_var:.3g}. After each cohort the posterior mean of beta is "
            f"updated and the next cohort receives the dose whose estimated DLT rate is closest to the target, "
            + ("" if d.allow_skipping else "never more than one level above the current dose and ")
            + "without escalating right after a cohort whose DLT rate is at least the target.")
    if d.stop_cutoff is not None:
        text += (f" The trial stops without an MTD if, with at least {d.stop_min_n} patients at the lowest dose, "
                 f"the posterior probability that its DLT rate exceeds the target is above {d.stop_cutoff:g}.")
    return text + " The MTD is the dose recommended after the last cohort."


def rules_text(design) -> str:
    """The protocol rules of ``design`` (:mod:`.rules`) as sentences, in the order they apply."""
    parts = []
    for r in design.rules:
        if r.kind == "no_skipping":
            parts.append("No dose level is skipped: the next cohort is treated at most one level above the highest "
                         "dose level tried so far.")
        elif r.kind == "stop_when_lowest_too_toxic":
            target = r.target if r.target is not None else design.oc_target
            parts.append(f"The trial stops without an MTD if, with at least {r.min_n} patients at the lowest dose, "
                         f"the posterior probability (beta(1, 1) prior) that its DLT rate exceeds {_pct(target)} is "
                         f"above {r.cutoff:g}.")
        elif r.kind == "stop_at_n":
            parts.append(f"The trial stops once {r.n} patients have been treated (the last cohort is reduced to the "
                         f"places left), and the MTD is selected.")
        elif r.kind == "max_cohorts":
            parts.append(f"The trial stops after {r.k} cohorts, and the MTD is selected.")
        elif r.kind == "stop_at_n_on_dose":
            parts.append(f"The trial stops when the dose level recommended for the next cohort already has {r.n} "
                         f"patients, and the MTD is selected.")
    return "Protocol rules: " + " ".join(parts)


def protocol_text(design) -> str:
    """A protocol paragraph describing ``design`` (any registered design) in plain language."""
    from .decide import check_design
    return check_design(design).protocol_text()
