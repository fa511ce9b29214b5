"""The TITE-BOIN rules in protocol wording (adcbridge's own text, with the design's numbers)."""

from __future__ import annotations

from ..protocol import _doses, _pct
from .kernel import tite_rules

__all__ = ["tite_boin_text"]


def tite_boin_text(d) -> str:
    """Two paragraphs: conduct with pending patients, then safety, stopping and selection."""
    t = tite_rules(d)
    w = f"{d.dlt_window:g}"
    first = [
        f"Dose escalation follows the time-to-event Bayesian optimal interval (TITE-BOIN) design (Yuan et al., 2018; "
        f"Lin and Yuan, 2020) with a target dose-limiting toxicity (DLT) rate of {_pct(d.target)} and a DLT "
        f"assessment window of {w} time units. Patients are enrolled in cohorts of {d.cohort_size}, up to "
        f"{d.n_cohorts} cohorts ({d.max_sample_size} patients), {_doses(d)}, starting at dose level {d.start_dose}; "
        f"a new cohort may be enrolled while earlier patients are still within their DLT window.",
        f"When a new patient is to be enrolled, a patient still within the window without a DLT counts as the "
        f"fraction of the window completed: the effective sample size at the current dose is the number of "
        f"patients with a complete assessment plus these fractions, and the DLT rate is the number of DLTs observed "
        f"divided by it. If this rate is at most {t.lambda_e:.4f} the next cohort receives the next higher dose; "
        f"if it is at least {t.lambda_d:.4f} the next cohort receives the next lower dose; otherwise the dose is "
        f"kept (boundaries from the sub-therapeutic rate {_pct(d.phi1)} and the overly toxic rate "
        f"{_pct(d.phi2)}). Dose levels are never skipped.",
        (f"Accrual is suspended while more than {100 * d.max_pending:g}% of the patients at the current dose are "
         f"still within their DLT window, and" if d.max_pending > 0 else
         "Accrual is suspended while any patient at the current dose is still within the DLT window, and") +
        " at the lowest dose while the rate calls for de-escalation and patients there are pending; the decision "
        "is taken again when further follow-up or outcomes are available.",
    ]
    second = [
        f"For safety, once at least {d.n_eli} patients (including those still in follow-up) have been treated at a "
        f"dose, the dose and all higher doses are eliminated if the posterior probability (beta(1, 1) prior, DLTs "
        f"observed so far) that its DLT rate exceeds {_pct(d.target)} is above {d.cutoff_eli:g}; an eliminated "
        f"dose is not used again and the next cohort receives the highest remaining dose below it. If the lowest "
        f"dose is eliminated the trial stops and no dose is declared the maximum tolerated dose (MTD).",
    ]
    if d.extrasafe:
        second.append(f"As an additional safety rule, the trial stops if, with at least {d.n_eli} patients at the "
                      f"lowest dose, the posterior probability that its DLT rate exceeds {_pct(d.target)} is above "
                      f"{d.cutoff_eli - d.offset:g}.")
    if d.n_earlystop < d.max_sample_size:
        second.append(f"Enrolment stops early when {d.n_earlystop} patients have been treated at the current dose "
                      f"and the rules call for staying at that dose.")
    second.append("At the end of the trial, once every patient's DLT assessment is complete, the DLT rates are "
                  "estimated by isotonic regression (pooled adjacent violators with beta(0.005, 0.005) posterior "
                  "means), and the MTD is the dose, among those treated and not eliminated, whose estimate is "
                  f"closest to {_pct(d.target)}.")
    return " ".join(first) + "\n\n" + " ".join(second)
