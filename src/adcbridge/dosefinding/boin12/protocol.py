"""BOIN12's rules in protocol wording, with the design's numbers."""

from __future__ import annotations

from ..protocol import _doses, _pct
from .boundaries import boin12_tables

__all__ = ["boin12_text"]


def boin12_text(d) -> str:
    t = boin12_tables(d)
    u11, u00 = d.utility
    fit = ("a model average of unimodal (umbrella-shaped) isotonic fits, one per possible peak dose, weighted by "
           "their likelihood" if d.efficacy_fit == "unimodal" else "isotonic regression (non-decreasing)")
    first = (
        f"Dose finding follows the BOIN12 design (Lin et al., 2020), which seeks the optimal biological dose (OBD) "
        f"from toxicity and efficacy, with a target dose-limiting toxicity (DLT) rate of {_pct(d.target)} and a "
        f"lowest acceptable response rate of {_pct(d.efficacy_min)}. Patients are enrolled in cohorts of "
        f"{d.cohort_size}, {d.n_cohorts} cohorts ({d.max_sample_size} patients), {_doses(d)}, starting at dose "
        f"level {d.start_dose}. Each patient's outcome is scored on a utility scale: 100 for a response without "
        f"DLT, {u11:g} for a response with DLT, {u00:g} for neither, 0 for a DLT without response. A dose's "
        f"desirability is the posterior probability (beta(1, 1) prior on the quasi-binomial utility) that its "
        f"mean utility exceeds the benchmark {t.benchmark:.4g}; an untried dose has desirability "
        f"{t.prior_desirability:.4g}.")
    second = (
        f"After each cohort, with at least 3 patients at the current dose, the dose and all higher doses are "
        f"eliminated if the posterior probability that its DLT rate exceeds {_pct(d.target)} is above "
        f"{d.cutoff_eli:g}, and the dose alone is eliminated if the posterior probability that its response rate "
        f"is below {_pct(d.efficacy_min)} is above {d.cutoff_futility:g}; eliminated doses are not used again, "
        f"and the trial stops without an OBD if the lowest dose is eliminated for toxicity or every dose is "
        f"eliminated. If the number of DLTs at the current dose reaches the BOIN de-escalation count (DLT rate "
        f"deemed sub-therapeutic {_pct(d.phi1)}, overly toxic {_pct(d.phi2)}), the next cohort receives the next "
        f"lower dose that is not eliminated. Otherwise the next cohort receives, among the current dose, the next "
        f"lower and the next higher non-eliminated doses, the one of highest desirability; the higher dose is "
        f"admissible while fewer than 6 patients are at the current dose or when its DLT count allows BOIN "
        f"escalation. Exact ties are broken at random (in a live trial by a draw seeded from the trial's data, so "
        f"the decision can be reproduced). The trial stops without an OBD if the chosen dose is itself eliminated "
        f"for futility. Once 9 or more patients are at the current dose and the next higher dose is untried, it "
        f"is tried next unless the DLT count calls for de-escalation.")
    third = (
        f"At the end of the trial, DLT rates are estimated by isotonic regression and response rates by {fit}; "
        f"the estimated MTD is the dose whose estimated DLT rate is closest to {_pct(d.target)}, and the OBD is "
        f"the dose of highest estimated utility ({u11:g} x response rate + {u00:g} x (1 - DLT rate)) among the "
        f"non-eliminated, treated doses up to the estimated MTD.")
    return first + "\n\n" + second + "\n\n" + third
