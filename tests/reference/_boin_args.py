"""Map the R argument names of BOIN 2.7.2 calls (as recorded in the reference JSON) onto adcbridge's."""

from adcbridge.dosefinding import BoinDesign

R_TO_ADCBRIDGE = {
    "target": "target", "ncohort": "n_cohorts", "cohortsize": "cohort_size", "n.earlystop": "n_earlystop",
    "p.saf": "p_saf", "p.tox": "p_tox", "cutoff.eli": "cutoff_eli", "extrasafe": "extrasafe", "offset": "offset",
    "startdose": "start_dose", "titration": "titration", "boundMTD": "bound_mtd",
}


def design_from_r(args: dict, n_doses: int) -> BoinDesign:
    kw = {R_TO_ADCBRIDGE[k]: v for k, v in args.items() if k in R_TO_ADCBRIDGE}
    return BoinDesign(n_doses=n_doses, **kw)
