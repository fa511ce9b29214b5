"""The combination BOIN design's rules in protocol wording."""

from __future__ import annotations

from .tables import comb_tables

__all__ = ["protocol_text"]


def protocol_text(design) -> str:
    J, K = design.grid
    t = comb_tables(design, 3)
    phi = design.target
    common = (
        f"Dose-finding follows the Bayesian optimal interval (BOIN) design for drug combinations with a target DLT "
        f"rate of {phi:g}, on a grid of {J} levels of agent A and {K} levels of agent B, in cohorts of "
        f"{design.cohort_size}. With n patients and y DLTs at the current combination, the next cohort escalates "
        f"if y/n <= {t.lambda_e:.4f} (lambda_e), de-escalates if y/n > {t.lambda_d:.4f} (lambda_d), and stays "
        f"otherwise. A combination with at least 3 patients and Pr(DLT rate > {phi:g} | data) > "
        f"{design.cutoff_eli:g} (beta(1, 1) prior) is eliminated together with every combination with at least as "
        f"much of both agents; if (1, 1) is eliminated the trial stops with no MTD.")
    if design.extrasafe:
        common += (f" The trial also stops for safety when Pr(DLT rate at (1, 1) > {phi:g} | data) > "
                   f"{design.cutoff_eli - design.offset:g}.")
    if design.uses_titration:
        common += (f" The trial starts with an accelerated titration: single patients are treated from "
                   f"{design.dose_label(design.start_dose)} up the grid, raising agent B and agent A in turn (the "
                   f"other agent when one is at its highest level), until the first DLT or ({J}, {K}); the cohort "
                   f"at that combination is then completed to {design.cohort_size} patients (together, the first "
                   f"cohort) and the rules above apply.")
    if not design.mtd_contour:
        return common + (
            f" An escalation goes to (a + 1, b) or (a, b + 1), a de-escalation to (a - 1, b) or (a, b - 1), "
            f"choosing the open combination with the larger posterior probability (Jeffreys prior) that its DLT "
            f"rate lies in ({t.lambda_e:.4f}, {t.lambda_d:.4f}), plus 0.0005 per patient already treated there; "
            f"an escalation is not made to a combination whose row (to its left) or column (below it) has an "
            f"observed DLT rate >= lambda_d; equal scores go to the lower level of agent A. The trial stops after "
            f"{design.n_cohorts} cohorts ({design.max_sample_size} patients), or when {design.earlystop} patients "
            f"have been treated at the current combination and the decision is to stay. The MTD is the "
            f"combination whose isotonic estimate of the DLT rate (bivariate isotonic regression) is closest to "
            f"{phi:g}.")
    cohorts = ", ".join(map(str, design.cohorts_per_subtrial))
    return common + (
        f" The MTD contour is found by the waterfall design: the first subtrial escalates along (1, 1), ..., "
        f"({J}, 1), ..., ({J}, {K}); each later subtrial escalates agent B at the next lower level of agent A, "
        f"starting right of the previous subtrial's MTD. Subtrials have {cohorts} cohorts and end early when "
        f"{design.earlystop} patients have been treated at the combination they go to. At the end, one MTD per "
        f"level of agent A is selected by bivariate isotonic regression (combinations eliminated in the "
        f"subtrials counted as 1.1): the combination closest to {phi:g}.")
