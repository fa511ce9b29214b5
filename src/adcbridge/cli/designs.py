"""``adcbridge next``: the live decision of any registered dose-finding design, and the one layer that turns
design flags into a design spec (also used by ``adcbridge simulate``).

A design flag is the spec parameter's name with dashes (``--cutoff-eli`` is ``cutoff_eli``); a flag given for a
design that has no such parameter is refused, naming the designs that have it -- never ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import FORMAT, Format, emit, floats, rows_text

# flag -> spec parameter, for the flags whose name differs from the parameter's
_PARAMETER_OF_FLAG = {"--cohorts": "n_cohorts"}


def _registered(name: str) -> str:
    from adcbridge.dosefinding.registry import design_names
    if name not in design_names():
        raise typer.BadParameter(f"unknown design {name!r}; the registered designs are {', '.join(design_names())}",
                                 param_hint="'--design'")
    return name


def build_from_flags(design: str, doses: str | None, n_doses: int | None, given: dict[str, object]):
    """The spec of registered ``design`` from the flags the user gave (``given``: flag -> value; None and False
    mean not given).  ``doses`` is a number of levels or the dose values (``n_doses`` when it is already known
    from elsewhere, e.g. the length of ``--p-true``)."""
    from adcbridge.dosefinding.registry import design_class, design_names
    cls = design_class(_registered(design))
    params: dict[str, object] = {}
    for flag, value in given.items():
        if value is None or value is False:
            continue
        if flag == "--no-safety-stop":                 # a switch setting a parameter to None
            if given.get("--stop-cutoff") is not None:
                raise typer.BadParameter("turns the safety stop off: not with --stop-cutoff",
                                         param_hint="'--no-safety-stop'")
            flag, value = "--stop-cutoff", None
            name = "stop_cutoff"
            if name not in cls.model_fields:
                raise typer.BadParameter(f"applies to --design crm, not {design}", param_hint="'--no-safety-stop'")
            params[name] = None
            continue
        name = _PARAMETER_OF_FLAG.get(flag, flag.lstrip("-").replace("-", "_"))
        if name not in cls.model_fields:
            having = [d for d in design_names() if name in design_class(d).model_fields]
            raise typer.BadParameter(f"applies to --design {' or '.join(having) or 'none'}, not {design}",
                                     param_hint=f"'{flag}'")
        params[name] = value
    if doses is not None:
        levels = floats(doses, "--doses")
        if len(levels) == 1 and levels[0] == int(levels[0]) and levels[0] >= 1:
            params["n_doses"] = int(levels[0])
        elif len(levels) >= 2:
            params["n_doses"], params["dose_levels"] = len(levels), tuple(levels)
        else:
            raise typer.BadParameter(f"give the number of dose levels or the dose values (two or more), got "
                                     f"{doses!r}", param_hint="'--doses'")
        if n_doses is not None and params["n_doses"] != n_doses:
            raise typer.BadParameter(f"has {params['n_doses']} levels but the scenario has {n_doses}",
                                     param_hint="'--doses'")
    elif n_doses is not None:
        params["n_doses"] = n_doses
    if "dose_unit" in params and "dose_levels" not in params:
        raise typer.BadParameter("labels dose values: give --doses as the doses (e.g. 1,2.1,4.2), not their number",
                                 param_hint="'--dose-unit'")
    if "offset" in params and not params.get("extrasafe"):
        raise typer.BadParameter("sets the cut-off of the extra safety rule: give it with --extrasafe",
                                 param_hint="'--offset'")
    if params.get("titration") and params.get("cohort_size") == 1:
        raise typer.BadParameter("has no effect with --cohort-size 1 (every cohort is one patient already)",
                                 param_hint="'--titration'")
    if "skeleton" in params:
        params["skeleton"] = tuple(floats(str(params["skeleton"]), "--skeleton"))
    if "target" in cls.model_fields and "target" not in params:
        raise typer.BadParameter(f"is required for --design {design}", param_hint="'--target'")
    return cls(**params)


# The design flags of `next` (and their help), shared with `simulate` -------------------------------------------
DESIGN = typer.Option("boin", "--design", help="Registered design: boin, 3+3 or crm.")
TARGET = typer.Option(None, "--target", help="Target DLT probability (boin: 0.05-0.6; crm: 0-1; not for 3+3).")
COHORT_SIZE = typer.Option(None, "--cohort-size", help="Patients per cohort (boin, crm; default 3).")
COHORTS = typer.Option(None, "--cohorts", help="Maximum number of cohorts (boin, crm; default 10).")
START_DOSE = typer.Option(None, "--start-dose", help="Starting dose level (default 1).")
N_EARLYSTOP = typer.Option(None, "--n-earlystop", help="boin: stop when this many patients are at the current "
                                                       "dose and the decision is to stay (default 100).")
P_SAF = typer.Option(None, "--p-saf", help="boin: highest DLT rate deemed sub-therapeutic (default 0.6 x target).")
P_TOX = typer.Option(None, "--p-tox", help="boin: lowest DLT rate deemed overly toxic (default 1.4 x target).")
CUTOFF_ELI = typer.Option(None, "--cutoff-eli", help="boin: posterior probability cut-off for eliminating a dose "
                                                     "(default 0.95).")
EXTRASAFE = typer.Option(False, "--extrasafe", help="boin: the extra safety stopping rule at the lowest dose.")
OFFSET = typer.Option(None, "--offset", help="boin: offset of the extra safety rule's cut-off (default 0.05).")
TITRATION = typer.Option(False, "--titration", help="boin: accelerated titration (one patient per dose until the "
                                                    "first DLT).")
BOUND_MTD = typer.Option(False, "--bound-mtd", help="boin: select only doses whose estimate is <= lambda_d.")
SKELETON = typer.Option(None, "--skeleton", help="crm: skeleton, e.g. 0.05,0.12,0.25,0.40,0.55 (default: "
                                                 "indifference-interval skeleton).")
MODEL = typer.Option(None, "--model", help="crm: empiric or logistic (default empiric).")
INTERCEPT = typer.Option(None, "--intercept", help="crm: logistic intercept (default 3).")
PRIOR_VAR = typer.Option(None, "--prior-var", help="crm: prior variance of beta (default 1.34).")
HALFWIDTH = typer.Option(None, "--halfwidth", help="crm: indifference-interval half-width (default 0.05).")
PRIOR_MTD = typer.Option(None, "--prior-mtd", help="crm: prior MTD level of the skeleton (default the middle "
                                                   "dose).")
ALLOW_SKIPPING = typer.Option(False, "--allow-skipping", help="crm: let the next dose skip untried levels.")
STOP_CUTOFF = typer.Option(None, "--stop-cutoff", help="crm: stop when Pr(DLT rate at dose 1 > target) exceeds this "
                                                       "(default 0.9).")
NO_SAFETY_STOP = typer.Option(False, "--no-safety-stop", help="crm: no safety stop (dfcrm's simulator has none).")
VARIANT = typer.Option(None, "--variant", help="3+3: de-escalation or escalation-only (default de-escalation).")


def next_cmd(design: str = DESIGN, target: Optional[float] = TARGET,
             doses: str = typer.Option(..., "--doses", help="Number of dose levels, or the doses, e.g. 1,2.1,4.2."),
             dose_unit: Optional[str] = typer.Option(None, "--dose-unit", help="Unit of the dose values."),
             outcomes: Optional[str] = typer.Option(None, "--outcomes", help="Cohorts so far, e.g. '1NNN 2NTN'."),
             history: Optional[Path] = typer.Option(None, "--history",
                                                    help="Patient table: patient, cohort, dose, dlt (0/1, empty = "
                                                         "pending); optional dose_time, assess_time, efficacy, "
                                                         "backfill."),
             cohort_size: Optional[int] = COHORT_SIZE, cohorts: Optional[int] = COHORTS,
             start_dose: Optional[int] = START_DOSE, n_earlystop: Optional[int] = N_EARLYSTOP,
             p_saf: Optional[float] = P_SAF, p_tox: Optional[float] = P_TOX,
             cutoff_eli: Optional[float] = CUTOFF_ELI, extrasafe: bool = EXTRASAFE,
             offset: Optional[float] = OFFSET, titration: bool = TITRATION, bound_mtd: bool = BOUND_MTD,
             skeleton: Optional[str] = SKELETON, model: Optional[str] = MODEL,
             intercept: Optional[float] = INTERCEPT, prior_var: Optional[float] = PRIOR_VAR,
             halfwidth: Optional[float] = HALFWIDTH, prior_mtd: Optional[int] = PRIOR_MTD,
             allow_skipping: bool = ALLOW_SKIPPING, stop_cutoff: Optional[float] = STOP_CUTOFF,
             no_safety_stop: bool = NO_SAFETY_STOP, variant: Optional[str] = VARIANT,
             sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet of --history (default: the "
                                                                       "first)."),
             format: Format = FORMAT):
    """Next-dose decision of a live trial under any registered design, with the rule that fired."""
    from adcbridge.dosefinding import next_dose
    spec = build_from_flags(design, doses, None, {
        "--target": target, "--dose-unit": dose_unit, "--cohort-size": cohort_size, "--cohorts": cohorts,
        "--start-dose": start_dose, "--n-earlystop": n_earlystop, "--p-saf": p_saf, "--p-tox": p_tox,
        "--cutoff-eli": cutoff_eli, "--extrasafe": extrasafe, "--offset": offset, "--titration": titration,
        "--bound-mtd": bound_mtd, "--skeleton": skeleton, "--model": model, "--intercept": intercept,
        "--prior-var": prior_var, "--halfwidth": halfwidth, "--prior-mtd": prior_mtd,
        "--allow-skipping": allow_skipping, "--stop-cutoff": stop_cutoff, "--no-safety-stop": no_safety_stop,
        "--variant": variant})
    if (outcomes is None) == (history is None):
        raise typer.BadParameter("give exactly one of --outcomes or --history", param_hint="'--outcomes'")
    if history is not None:
        from adcbridge.io.history import read_history
        trial = read_history(history, sheet=sheet)
    elif sheet is not None:
        raise typer.BadParameter("reads a sheet of an Excel --history", param_hint="'--sheet'")
    else:
        trial = outcomes
    decision = next_dose(spec, trial)
    emit(decision.to_record(), format, decision_text(decision))


def decision_text(decision) -> str:
    """A decision as plain text: the decision, the rule and its reason, then the per-dose estimates."""
    lines = [f"design: {decision.design}", f"decision: {decision.decision}",
             f"next dose: {decision.next_dose if decision.next_dose else '-'}"
             + (f" (cohort of {decision.next_cohort_size})" if decision.next_dose else ""),
             f"rule: {decision.rule}", f"reason: {decision.reason}",
             f"eliminated doses: {', '.join(map(str, decision.eliminated)) or 'none'}"]
    if decision.decision == "stop":
        lines.append(f"MTD: {decision.mtd if decision.mtd is not None else 'none'}")
    if decision.model_recommendation is not None:
        lines.append(f"model recommendation: dose {decision.model_recommendation}")
    if decision.posterior:
        lines.append("posterior: " + ", ".join(f"{k} {v:.4g}" for k, v in decision.posterior.items()))
    lines += [f"{i.severity}: {i.message}" for i in decision.issues]
    rows = [{k: r[k] for k in ("dose", "n", "dlt", "pending", "p_hat")} for r in decision.estimates()]
    return "\n".join(lines) + "\n\n" + rows_text(rows, missing="-")

