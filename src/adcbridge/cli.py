"""The ``adcbridge`` command: a thin layer mapping commands onto library calls.

Every command prints text by default and JSON with ``--format json``.  Bad arguments exit with status 2 and one
line naming the argument (no traceback).
"""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Optional

import typer

from adcbridge import __version__
from adcbridge.cli_common import Format, emit, frame, png_bytes
from adcbridge.dosefinding import (BoinDesign, CrmDesign, ThreePlusThreeDesign, compare_designs, decision_table,
                                   dose_transition_pathways, exact_oc, next_dose, protocol_text, select_mtd, simulate)

app = typer.Typer(help="adcbridge: from an ADC's preclinical package to a first-in-human dose-escalation trial.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
boin_app = typer.Typer(help="BOIN design: decision table, next dose, MTD selection, protocol outputs.",
                       no_args_is_help=True)
app.add_typer(boin_app, name="boin")


def _register_fit() -> None:
    from adcbridge.cli_fit import fit_app
    app.add_typer(fit_app, name="fit")


_register_fit()


def _register_translation() -> None:
    from adcbridge.cli_translation import fih, translate_app
    app.command("fih")(fih)
    app.add_typer(translate_app, name="translate")


_register_translation()


def _register_pk() -> None:
    from adcbridge.cli_pk import pk_app
    from adcbridge.cli_translation import pk_project
    pk_app.command("project")(pk_project)
    app.add_typer(pk_app, name="pk")


_register_pk()


class TableFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


class DesignKind(str, Enum):
    boin = "boin"
    three_plus_three = "3+3"
    crm = "crm"


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=f"'{name}'") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise typer.BadParameter(f"expected comma-separated finite numbers, got {text!r}", param_hint=f"'{name}'")
    return values


def _ints(text: str | None, name: str) -> list[int] | None:
    vals = _floats(text, name)
    if vals is None:
        return None
    if any(v != int(v) for v in vals):
        raise typer.BadParameter(f"expected comma-separated whole numbers, got {text!r}", param_hint=f"'{name}'")
    return [int(v) for v in vals]


_emit, _frame = emit, frame


# Options shared by the BOIN commands --------------------------------------------------------------------------
TARGET = typer.Option(..., "--target", help="Target DLT probability (0.05-0.6).")
COHORT_SIZE = typer.Option(3, "--cohort-size", help="Patients per cohort.")
COHORTS = typer.Option(10, "--cohorts", help="Maximum number of cohorts.")
N_EARLYSTOP = typer.Option(100, "--n-earlystop", help="Stop when this many patients are at the current dose and "
                                                      "the decision is to stay.")
P_SAF = typer.Option(None, "--p-saf", help="Highest DLT rate deemed sub-therapeutic (default 0.6 x target).")
P_TOX = typer.Option(None, "--p-tox", help="Lowest DLT rate deemed overly toxic (default 1.4 x target).")
CUTOFF_ELI = typer.Option(0.95, "--cutoff-eli", help="Posterior probability cut-off for eliminating a dose.")
EXTRASAFE = typer.Option(False, "--extrasafe", help="Apply the extra safety stopping rule at the lowest dose.")
OFFSET = typer.Option(0.05, "--offset", help="Offset of the extra safety rule's cut-off.")
FORMAT = typer.Option(Format.text, "--format", help="Output format.")


@boin_app.command("table")
def boin_table(target: float = TARGET, cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS,
               n_earlystop: int = N_EARLYSTOP, p_saf: Optional[float] = P_SAF, p_tox: Optional[float] = P_TOX,
               cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
               full: bool = typer.Option(False, "--full", help="Rows up to the maximum sample size, not only up to "
                                                               "n_earlystop."),
               format: TableFormat = typer.Option(TableFormat.text, "--format", help="Output format."),
               out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of the screen.")):
    """The BOIN decision table: escalate / de-escalate / eliminate counts for every number of patients."""
    from adcbridge.io import write_text
    from adcbridge.report import decision_table_html, decision_table_markdown

    design = BoinDesign(target=target, n_doses=1, cohort_size=cohort_size, n_cohorts=cohorts,
                        n_earlystop=n_earlystop, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli,
                        extrasafe=extrasafe, offset=offset)
    result = decision_table(design, full=full)
    if format == TableFormat.json:
        text = json.dumps(result.to_contract(), indent=2)
    elif format == TableFormat.csv:
        text = result.table.to_csv(index=False).rstrip("\n")
    elif format == TableFormat.markdown:
        text = decision_table_markdown(result)
    elif format == TableFormat.html:
        text = decision_table_html(result)
    else:
        text = (f"lambda_e = {result.lambda_e:.4f}, lambda_d = {result.lambda_d:.4f}\n"
                + _frame(result.table.astype(object).where(result.table.notna(), "NA")))
    if out:
        write_text(out, text + "\n")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)


@boin_app.command("next")
def boin_next(target: float = TARGET,
              doses: int = typer.Option(..., "--doses", help="Number of dose levels."),
              outcomes: Optional[str] = typer.Option(None, "--outcomes", help="Cohorts so far, e.g. '1NNN 2NTN'."),
              n: Optional[str] = typer.Option(None, "--n", help="Patients per dose, e.g. 3,6,0 (with --dlt)."),
              dlt: Optional[str] = typer.Option(None, "--dlt", help="DLTs per dose, e.g. 0,1,0 (with --n)."),
              current_dose: Optional[int] = typer.Option(None, "--current-dose", help="Current dose (with --n)."),
              data: Optional[Path] = typer.Option(None, "--data", help="CSV with columns dose, n, dlt "
                                                                       "(with --current-dose)."),
              cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS, n_earlystop: int = N_EARLYSTOP,
              p_saf: Optional[float] = P_SAF, p_tox: Optional[float] = P_TOX, cutoff_eli: float = CUTOFF_ELI,
              extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
              start_dose: int = typer.Option(1, "--start-dose", help="Starting dose level."),
              format: Format = FORMAT):
    """Next-dose decision of a live BOIN trial, with the rule that fired."""
    design = BoinDesign(target=target, n_doses=doses, cohort_size=cohort_size, n_cohorts=cohorts,
                        n_earlystop=n_earlystop, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli,
                        extrasafe=extrasafe, offset=offset, start_dose=start_dose)
    given = [x is not None for x in (outcomes, n or dlt, data)]
    if sum(given) != 1:
        raise typer.BadParameter("give exactly one of --outcomes, --n/--dlt or --data", param_hint="'--outcomes'")
    if outcomes is not None:
        decision = next_dose(design, outcomes, current_dose=current_dose)
    else:
        if data is not None:
            from adcbridge.io import read_dose_counts
            counts = read_dose_counts(data, doses)
            n_list, dlt_list = list(counts.n), list(counts.dlt)
        else:
            n_list, dlt_list = _ints(n, "--n"), _ints(dlt, "--dlt")
            if n_list is None or dlt_list is None:
                raise typer.BadParameter("--n and --dlt go together", param_hint="'--dlt'")
        if current_dose is None:
            raise typer.BadParameter("is required with --n/--dlt or --data", param_hint="'--current-dose'")
        decision = next_dose(design, n=n_list, dlt=dlt_list, current_dose=current_dose)
    text = (f"decision: {decision.decision}\nnext dose: {decision.next_dose if decision.next_dose else '-'}\n"
            f"rule: {decision.rule}\nreason: {decision.reason}\n"
            f"eliminated doses: {', '.join(map(str, decision.eliminated)) or 'none'}")
    _emit(decision.to_contract(), format, text)


@boin_app.command("mtd")
def boin_mtd(target: float = TARGET,
             n: str = typer.Option(..., "--n", help="Patients per dose, e.g. 3,6,9,3."),
             dlt: str = typer.Option(..., "--dlt", help="DLTs per dose, e.g. 0,1,3,2."),
             cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
             bound_mtd: bool = typer.Option(False, "--bound-mtd", help="Only doses with estimate <= lambda_d."),
             p_tox: Optional[float] = P_TOX, format: Format = FORMAT):
    """Select the MTD by isotonic regression, with per-dose estimates and 95% credible intervals."""
    n_list, dlt_list = _ints(n, "--n"), _ints(dlt, "--dlt")
    if len(n_list) != len(dlt_list):
        raise typer.BadParameter(f"has {len(dlt_list)} values but --n has {len(n_list)}", param_hint="'--dlt'")
    design = BoinDesign(target=target, n_doses=len(n_list), cutoff_eli=cutoff_eli, extrasafe=extrasafe,
                        offset=offset, bound_mtd=bound_mtd, p_tox=p_tox)
    result = select_mtd(design, n_list, dlt_list)
    text = f"MTD: {result.mtd if result.mtd is not None else 'none'}\n" + _frame(
        result.table.drop(columns=["admissible"]))
    _emit(result.to_contract(), format, text)


@boin_app.command("protocol")
def boin_protocol(target: float = TARGET,
                  doses: str = typer.Option(..., "--doses", help="Dose levels, e.g. 1,2.1,4.2 (or a count)."),
                  dose_unit: str = typer.Option("mg/kg", "--dose-unit"),
                  cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS, n_earlystop: int = N_EARLYSTOP,
                  cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
                  titration: bool = typer.Option(False, "--titration"),
                  pathways: int = typer.Option(3, "--pathways", help="Cohorts in the dose-transition table."),
                  out: Path = typer.Option(..., "--out", help="Folder for the protocol files.")):
    """Write protocol material: decision table (CSV, Markdown, HTML), protocol paragraph, dose pathways."""
    from adcbridge.io import write_table, write_text
    from adcbridge.report import decision_table_html, decision_table_markdown

    levels = _floats(doses, "--doses")
    if len(levels) == 1 and (levels[0] != int(levels[0]) or levels[0] < 1):
        raise typer.BadParameter(f"give the dose levels (two or more values) or their number, got {doses!r}",
                                 param_hint="'--doses'")
    if pathways < 1 or (cohort_size + 1) ** pathways > 100_000:
        raise typer.BadParameter(f"must be between 1 and the number of cohorts giving at most 100,000 pathways, "
                                 f"got {pathways}", param_hint="'--pathways'")
    kw = dict(n_doses=int(levels[0])) if len(levels) == 1 else dict(n_doses=len(levels), dose_levels=tuple(levels))
    design = BoinDesign(target=target, cohort_size=cohort_size, n_cohorts=cohorts, n_earlystop=n_earlystop,
                        cutoff_eli=cutoff_eli, extrasafe=extrasafe, offset=offset, titration=titration,
                        dose_unit=dose_unit, **kw)
    table = decision_table(design)
    written = [
        write_table(out / "decision_table.csv", table.table),
        write_text(out / "decision_table.md", decision_table_markdown(table)),
        write_text(out / "decision_table.html", decision_table_html(table)),
        write_text(out / "protocol.txt", protocol_text(design) + "\n"),
        write_table(out / "dose_transition_pathways.csv", dose_transition_pathways(design, pathways)),
        write_text(out / "design.json", design.model_dump_json(indent=2) + "\n"),
    ]
    for p in written:
        typer.echo(f"wrote {p}")


_ONLY = {"titration": "boin", "extrasafe": "boin", "n_earlystop": "boin", "bound_mtd": "boin", "p_saf": "boin",
         "p_tox": "boin", "cutoff_eli": "boin", "offset": "boin", "skeleton": "crm", "halfwidth": "crm",
         "prior_mtd": "crm", "model": "crm", "variant": "3+3"}


def _check_applicable(design: "DesignKind", **given: bool) -> None:
    """Refuse options that the chosen design would silently ignore."""
    for name, used in given.items():
        if used and _ONLY[name] != design.value:
            raise typer.BadParameter(f"applies to --design {_ONLY[name]} only, not {design.value}",
                                     param_hint=f"'--{name.replace('_', '-')}'")


def _design_from_options(design: DesignKind, target, n_doses, cohort_size, cohorts, start_dose, n_earlystop,
                         titration, extrasafe, offset, cutoff_eli, bound_mtd, p_saf, p_tox, skeleton, halfwidth,
                         prior_mtd, model, variant):
    if design == DesignKind.boin:
        return BoinDesign(target=target, n_doses=n_doses, cohort_size=cohort_size, n_cohorts=cohorts,
                          start_dose=start_dose, n_earlystop=n_earlystop, titration=titration, extrasafe=extrasafe,
                          offset=offset, cutoff_eli=cutoff_eli, bound_mtd=bound_mtd, p_saf=p_saf, p_tox=p_tox)
    if design == DesignKind.three_plus_three:
        return ThreePlusThreeDesign(n_doses=n_doses, start_dose=start_dose, variant=variant)
    sk = _floats(skeleton, "--skeleton")
    if sk is None and halfwidth is None:
        halfwidth, prior_mtd = 0.05, prior_mtd or (n_doses + 1) // 2
    return CrmDesign(target=target, n_doses=n_doses, skeleton=None if sk is None else tuple(sk),
                     halfwidth=halfwidth, prior_mtd=prior_mtd, model=model, cohort_size=cohort_size,
                     n_cohorts=cohorts, start_dose=start_dose)


@app.command("simulate")
def simulate_cmd(design: DesignKind = typer.Option(DesignKind.boin, "--design", help="Design to simulate."),
                 target: float = TARGET,
                 p_true: str = typer.Option(..., "--p-true", help="True DLT probability per dose, e.g. "
                                                                  "0.05,0.1,0.2,0.3,0.5."),
                 cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS,
                 trials: int = typer.Option(10000, "--trials", help="Number of simulated trials."),
                 seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (recorded in the output)."),
                 start_dose: int = typer.Option(1, "--start-dose"), n_earlystop: int = N_EARLYSTOP,
                 titration: bool = typer.Option(False, "--titration"), extrasafe: bool = EXTRASAFE,
                 offset: float = OFFSET, cutoff_eli: float = CUTOFF_ELI,
                 bound_mtd: bool = typer.Option(False, "--bound-mtd"), p_saf: Optional[float] = P_SAF,
                 p_tox: Optional[float] = P_TOX,
                 skeleton: Optional[str] = typer.Option(None, "--skeleton", help="CRM skeleton, comma-separated (default: indifference-interval "
                                                     "skeleton, half-width 0.05, prior MTD at the middle dose)."),
                 halfwidth: Optional[float] = typer.Option(None, "--halfwidth", help="CRM indifference half-width."),
                 prior_mtd: Optional[int] = typer.Option(None, "--prior-mtd", help="CRM prior MTD level."),
                 model: str = typer.Option("empiric", "--model", help="CRM model: empiric or logistic."),
                 variant: str = typer.Option("de-escalation", "--variant",
                                             help="3+3 variant: de-escalation or escalation-only."),
                 exact: bool = typer.Option(False, "--exact", help="Exact operating characteristics (enumeration)."),
                 plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of selection and patients."),
                 format: Format = FORMAT):
    """Operating characteristics of a design under one scenario (Monte Carlo or exact)."""
    probs = _floats(p_true, "--p-true")
    _check_applicable(design, titration=titration, extrasafe=extrasafe, n_earlystop=n_earlystop != 100,
                      bound_mtd=bound_mtd, p_saf=p_saf is not None, p_tox=p_tox is not None,
                      cutoff_eli=cutoff_eli != 0.95, offset=offset != 0.05, skeleton=skeleton is not None,
                      halfwidth=halfwidth is not None, prior_mtd=prior_mtd is not None, model=model != "empiric",
                      variant=variant != "de-escalation")
    spec = _design_from_options(design, target, len(probs), cohort_size, cohorts, start_dose, n_earlystop,
                                titration, extrasafe, offset, cutoff_eli, bound_mtd, p_saf, p_tox, skeleton,
                                halfwidth, prior_mtd, model, variant)
    tgt = target
    oc = exact_oc(spec, probs, target=tgt) if exact else simulate(spec, probs, n_trials=trials, seed=seed, target=tgt)
    if plot:
        from adcbridge.io import write_bytes
        from adcbridge.report import plot_oc
        write_bytes(plot, _png(plot_oc([oc], [design.value])))
    head = (f"{design.value} {'exact' if exact else f'Monte Carlo, {trials} trials, seed {oc.seed}'}: "
            f"no MTD {oc.no_mtd_pct:.2f}%, safety stop {oc.stop_pct:.2f}%, PCS {oc.pcs:.2f}%, "
            f"mean N {oc.n_mean:.2f}, mean DLTs {oc.dlt_total_mean:.2f}")
    _emit(oc.to_contract(), format, head + "\n" + _frame(oc.table))


_png = png_bytes


@app.command("demo")
def demo(trials: int = typer.Option(10000, "--trials", help="Simulated trials per scenario and design."),
         seed: int = typer.Option(2026, "--seed", help="Random seed (common to all designs)."),
         spec: Optional[Path] = typer.Option(None, "--spec", help="Trial YAML (default: the bundled example)."),
         out: Optional[Path] = typer.Option(None, "--out", help="Also write tables, plots and the protocol text "
                                                                "to this folder.")):
    """The bundled example trial: BOIN decision table and operating characteristics for a few scenarios."""
    from adcbridge.io import load_trial_spec, write_bytes, write_json, write_table, write_text
    from adcbridge.report import decision_table_html, decision_table_markdown, oc_summary_table, plot_oc

    if trials < 1:
        raise typer.BadParameter(f"must be at least 1, got {trials}", param_hint="'--trials'")
    if spec is None:
        spec_path = resources.files("adcbridge.examples").joinpath("jskn003_trial.yaml")
        with resources.as_file(spec_path) as p:
            trial = load_trial_spec(p)
    else:
        trial = load_trial_spec(spec)
    boin = trial.build_design("boin")
    table = decision_table(boin)
    typer.echo(f"{trial.name}\n{'=' * len(trial.name)}\n")
    typer.echo(f"Design: BOIN, target DLT rate {boin.target:g}, doses "
               f"{', '.join(f'{v:g}' for v in boin.dose_levels)} {boin.dose_unit}, cohorts of {boin.cohort_size}, "
               f"{boin.max_sample_size} patients.\n")
    typer.echo(f"Decision table (lambda_e = {table.lambda_e:.4f}, lambda_d = {table.lambda_d:.4f}):")
    typer.echo(_frame(table.cohort_table().astype(object).where(table.cohort_table().notna(), "NA")) + "\n")
    designs = {"BOIN": boin, "3+3": trial.build_design("3+3"), "CRM": trial.build_design("crm")}
    summaries, comparisons = [], []
    for k, sc in enumerate(trial.scenarios, start=1):
        cmp = compare_designs(designs, sc.p_true, n_trials=trials, seed=seed, target=boin.target)
        oc = cmp.results[0]
        comparisons.append((sc, cmp))
        summaries.append(oc)
        typer.echo(f"Scenario {k}: {sc.name} (true DLT probabilities {', '.join(f'{p:g}' for p in sc.p_true)})")
        typer.echo(_frame(oc.table[["dose_label", "p_true", "selection_pct", "patients_mean", "dlt_mean"]]))
        typer.echo(f"  no MTD {oc.no_mtd_pct:.1f}%  safety stop {oc.stop_pct:.1f}%  PCS {oc.pcs:.1f}%  "
                   f"mean N {oc.n_mean:.1f}  >60% of patients overdosed {oc.overdose60_pct:.1f}%")
        cols = ["design", "pcs", "pcs_diff", "pcs_diff_se", "no_mtd_pct", "n_mean", "dlt_mean"]
        typer.echo("  Same simulated patients under BOIN, 3+3 and CRM (differences vs BOIN with paired SEs):")
        typer.echo("  " + _frame(cmp.table[cols]).replace("\n", "\n  ") + "\n")
    typer.echo(f"({trials} simulated trials per scenario and design, seed {seed}.)")
    if out:
        summary = oc_summary_table(summaries, [s.name for s in trial.scenarios])
        files = [
            write_table(out / "decision_table.csv", table.table),
            write_text(out / "decision_table.md", decision_table_markdown(table)),
            write_text(out / "decision_table.html", decision_table_html(table)),
            write_text(out / "protocol.txt", protocol_text(boin) + "\n"),
            write_table(out / "oc_summary.csv", summary),
            write_table(out / "dose_transition_pathways.csv", dose_transition_pathways(boin, 3)),
        ]
        for k, (sc, cmp) in enumerate(comparisons, start=1):
            files.append(write_bytes(out / f"oc_scenario{k}.png",
                                     _png(plot_oc(list(cmp.results), list(cmp.names), title=sc.name))))
            files.append(write_json(out / f"oc_scenario{k}.json",
                                    {"scenario": sc.name, "designs": {n: r.to_contract()
                                                                     for n, r in zip(cmp.names, cmp.results)}}))
        typer.echo("\n" + "\n".join(f"wrote {p}" for p in files))


def _partials(text: str | None) -> tuple[tuple[float, float], ...] | None:
    if not text:
        return None
    out = []
    for part in text.split(","):
        a, sep, b = part.strip().partition("-")
        try:
            out.append((float(a), float(b)))
        except ValueError:
            raise typer.BadParameter(f"expected intervals like 0-24,0-168, got {text!r}",
                                     param_hint="'--partial'") from None
    return tuple(out)


@app.command("nca")
def nca_cmd(data: Path = typer.Argument(..., help="Concentration table (CSV or Excel), one row per sample."),
            subject: Optional[str] = typer.Option(None, "--subject", help="Subject column."),
            time: Optional[str] = typer.Option(None, "--time", help="Time column."),
            conc: Optional[str] = typer.Option(None, "--conc", help="Concentration column."),
            dose: Optional[str] = typer.Option(None, "--dose", help="Dose column."),
            route: Optional[str] = typer.Option(None, "--route",
                                                help="extravascular, iv-bolus, iv-infusion, or a route column."),
            duration: Optional[str] = typer.Option(None, "--duration",
                                                   help="Infusion duration, or a duration column."),
            auc_method: Optional[str] = typer.Option(None, "--auc-method", help="linear or lin-up-log-down."),
            group: Optional[str] = typer.Option(None, "--group", help="Grouping columns, e.g. SEX,DOSE."),
            analyte: Optional[str] = typer.Option(None, "--analyte", help="Analyte column (-> PPCAT)."),
            blq: Optional[str] = typer.Option(None, "--blq", help="BLQ flag column."),
            lloq: Optional[str] = typer.Option(None, "--lloq", help="LLOQ column."),
            partial: Optional[str] = typer.Option(None, "--partial", help="Partial AUC intervals, e.g. 0-24,0-168."),
            metabolite: Optional[str] = typer.Option(None, "--metabolite",
                                                     help="Analytes without a dose of their own, e.g. PAYLOAD."),
            time_unit: Optional[str] = typer.Option(None, "--time-unit", help="h, day or min (default h)."),
            conc_unit: Optional[str] = typer.Option(None, "--conc-unit",
                                                    help="e.g. ug/mL (default), ng/mL, or a unit column."),
            dose_unit: Optional[str] = typer.Option(None, "--dose-unit", help="e.g. mg/kg (default), mg."),
            config: Optional[Path] = typer.Option(None, "--config", help="nca.yaml with columns and options."),
            dosing: Optional[Path] = typer.Option(None, "--dosing",
                                                  help="Dosing table for a multiple-dose analysis (one row per dose)."),
            dose_time: str = typer.Option("TDOSE", "--dose-time", help="Dose-time column of --dosing."),
            tau: Optional[str] = typer.Option(None, "--tau", help="Dosing-interval column of --dosing."),
            predose_window: float = typer.Option(0.0, "--predose-window",
                                                 help="Samples this long before a dose count as pre-dose "
                                                      "(multiple dose)."),
            sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
            plots: Optional[Path] = typer.Option(None, "--plots", help="Folder for concentration-time plots (PNG)."),
            out: Path = typer.Option(..., "--out", help="Long CDISC PP table (CSV) to write."),
            wide: Optional[Path] = typer.Option(None, "--wide", help="Also write the wide table (CSV)."),
            summary: Optional[Path] = typer.Option(None, "--summary", help="Also write group summaries (CSV)."),
            format: Format = FORMAT):
    """Non-compartmental analysis: the long CDISC PP table (and optionally wide and summary tables)."""
    import pandas as pd

    from adcbridge.io import write_bytes, write_csv_chunks, write_table
    from adcbridge.io.nca_files import NcaConfig, load_nca_config, read_concentrations
    from adcbridge.nca import NcaOptions

    cfg = load_nca_config(config) if config else NcaConfig()
    table = read_concentrations(data, sheet=sheet)
    doses = read_concentrations(dosing) if dosing is not None else None
    col = cfg.columns
    subject, time, conc = subject or col.subject, time or col.time, conc or col.conc
    for name, value in (("--subject", subject), ("--time", time), ("--conc", conc)):
        if not value:
            raise typer.BadParameter("is required (or give it under columns: in --config)", param_hint=f"'{name}'")
    groups = [g.strip() for g in group.split(",")] if group else col.groups
    route_value = route or cfg.route or col.route or "extravascular"
    route_col = route_value if route_value in table.columns else None
    dur_value = duration if duration is not None else (col.duration or cfg.duration)
    dur_col = dur_value if isinstance(dur_value, str) and dur_value in table.columns else None
    try:
        default_duration = 0.0 if dur_col or dur_value is None else float(dur_value)
    except ValueError:
        raise typer.BadParameter(f"is neither a number nor a column of {data}: {dur_value!r}",
                                 param_hint="'--duration'") from None
    opts = dict(cfg.options)
    if auc_method:
        opts["auc_method"] = auc_method
    if partial:
        opts["partial_aucs"] = _partials(partial)
    if metabolite:
        opts["metabolites"] = tuple(m.strip() for m in metabolite.split(","))
    units = dict(opts.get("units", {}))
    if conc_unit and conc_unit in table.columns:          # a unit column: one concentration unit per analyte
        by = analyte or col.analyte
        if not by:
            raise typer.BadParameter("a unit column needs --analyte", param_hint="'--conc-unit'")
        per = table.groupby(by)[conc_unit].unique()
        multi = [a for a, u in per.items() if len(u) > 1]
        if multi:
            raise ValueError(f"{data}: column '{conc_unit}': analyte {multi[0]} has several units {list(per[multi[0]])}")
        opts["conc_units_by_analyte"] = {str(a): str(u[0]) for a, u in per.items()}
        conc_unit = None
    units.update({k: v for k, v in (("time", time_unit), ("conc", conc_unit), ("dose", dose_unit)) if v})
    opts["units"] = units
    options = NcaOptions(**opts)
    selection = pd.DataFrame(cfg.lambda_z) if cfg.lambda_z else None
    if selection is not None and "time" not in selection.columns:
        raise ValueError(f"{config}: every lambda_z entry needs a 'time'")
    common = dict(subject=subject, time=time, conc=conc, analyte=analyte or col.analyte, groups=groups,
                  blq=blq or col.blq, lloq=lloq or col.lloq, route=route_col, duration=dur_col,
                  default_route=route_value if not route_col else "extravascular",
                  default_duration=default_duration, options=options, lambda_z_selection=selection)
    long_cols = None if (options.partial_aucs or dosing is not None) else ["PPSTINT", "PPENINT"]
    try:
        if doses is not None:
            from adcbridge.nca import run_nca_multiple_dose
            chunks = iter([run_nca_multiple_dose(table, doses, dose_time=dose_time, dose=dose or col.dose or "DOSE",
                                                 tau=tau, predose_window=predose_window, **common)])
        else:
            from adcbridge.nca.analysis import run_nca_in_chunks
            chunks = run_nca_in_chunks(table, dose=dose or col.dose, **common)
        results, wides, n_prof, n_rows, issues = [], [], 0, 0, {}

        def long_tables():
            nonlocal n_prof, n_rows
            for r in chunks:                      # one chunk at a time: bounded memory for any number of profiles
                w = r.wide()
                n_prof += len(w)
                if wide or summary:
                    wides.append(w)
                if plots or summary:
                    results.append(r)
                for i in r.issues:
                    issues[i.code] = i.message
                t = r.table.drop(columns=long_cols) if long_cols else r.table
                n_rows += len(t)
                yield t

        written = [write_csv_chunks(out, long_tables())]
    except ValueError as exc:
        text = str(exc)
        where = config if text.startswith("lambda_z selection") else dosing if text.startswith("dosing") else data
        raise ValueError(f"{where}: {text}") from None
    if wide:
        written.append(write_table(wide, pd.concat(wides, ignore_index=True)))
    if summary:
        longs = pd.concat([r.table for r in results], ignore_index=True)
        merged = type(results[0])(spec=results[0].spec, table=longs, key_columns=results[0].key_columns,
                                  subject_column=results[0].subject_column)
        written.append(write_table(summary, merged.describe()))
    if plots:
        if len(results) > 1:
            raise typer.BadParameter("plots are drawn for at most 50,000 profiles", param_hint="'--plots'")
        from adcbridge.report.nca_plots import concentration_plots
        for name, fig in concentration_plots(table, results[0], time=time, conc=conc,
                                             dose=None if dosing is not None else (dose or col.dose)).items():
            written.append(write_bytes(plots / f"{name}.png", _png(fig)))
    if format == Format.json:
        typer.echo(json.dumps({"profiles": n_prof, "rows": n_rows, "written": [str(p) for p in written],
                               "issues": list(issues.values())}, indent=2))
    else:
        typer.echo(f"NCA of {n_prof} profiles ({options.auc_method}): {n_rows} parameter rows")
        for message in issues.values():
            typer.echo(f"  note: {message}")
        typer.echo("\n".join(f"wrote {p}" for p in written))


@app.command("nca-stats")
def nca_stats_cmd(table: Path = typer.Argument(..., help="Long CDISC PP table written by 'adcbridge nca'."),
                  dose: str = typer.Option("DOSE", "--dose", help="Dose column of the table."),
                  sex: Optional[str] = typer.Option("SEX", "--sex", help="Sex column ('' to skip sex tests)."),
                  female: str = typer.Option("F", "--female", help="Code for females."),
                  male: str = typer.Option("M", "--male", help="Code for males."),
                  parameters: str = typer.Option("CMAX,AUCLST,AUCIFO", "--parameters",
                                                 help="PPTESTCDs to analyse."),
                  out: Path = typer.Option(..., "--out", help="Folder for the result tables (CSV)."),
                  format: Format = FORMAT):
    """Dose proportionality (power model, Smith criterion, dose-normalised ANOVA) and sex comparisons."""
    from adcbridge.io import write_table
    from adcbridge.io.nca_files import read_concentrations
    from adcbridge.nca import Subset, dose_normalised_anova, power_model, sex_comparison

    pp = read_concentrations(table)
    for column in ("PPTESTCD", "PPSTRESN", dose):
        if column not in pp.columns:
            raise ValueError(f"{table}: missing column '{column}'")
    wanted = [p.strip() for p in parameters.split(",") if p.strip()]
    pp = pp[pp["PPTESTCD"].isin(wanted)]
    if pp.empty:
        raise typer.BadParameter(f"none of {wanted} is in {table}", param_hint="'--parameters'")
    by = ("PPCAT", "PPTESTCD") if "PPCAT" in pp.columns else ("PPTESTCD",)
    use_sex = bool(sex) and sex in pp.columns
    subsets = [Subset()] + ([Subset(sex=male), Subset(sex=female)] if use_sex else [])
    common = dict(value="PPSTRESN", dose=dose, by=by)
    try:
        pm = power_model(pp, subsets=subsets, **common, **(dict(sex=sex, female=female, male=male) if use_sex else {}))
        anova = dose_normalised_anova(pp, **common)
        results = {"power_model.csv": pm.table, "dose_normalised_anova.csv": anova.table}
        if use_sex:
            results["sex_comparison.csv"] = sex_comparison(pp, sex=sex, female=female, male=male, **common).table
    except ValueError as exc:
        raise ValueError(f"{table}: {exc}") from None
    written = [write_table(out / name, frame) for name, frame in results.items()]
    if format == Format.json:
        typer.echo(json.dumps({"written": [str(p) for p in written]}, indent=2))
        return
    cols = [c for c in [*by, "subset", "slope", "slope_ci_low", "slope_ci_high", "conclusion"] if c in pm.table]
    typer.echo(_frame(pm.table[cols]))
    typer.echo("\n".join(f"wrote {p}" for p in written))


@app.command("version")
def version():
    """Print the adcbridge version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning bad arguments into one line and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args or ["--help"], prog_name="adcbridge", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except ValueError as exc:                 # invalid input caught by the library
        typer.echo(f"adcbridge: error: {str(exc).splitlines()[0]}", err=True)
        return 2
    except OSError as exc:                    # a path that cannot be read or written
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        typer.echo(f"adcbridge: error: {where}{exc.strerror or exc}", err=True)
        return 2
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):   # a usage error of the parser
            text = " ".join(exc.format_message().split())
            typer.echo(f"adcbridge: error: {text}", err=True)
            return 2
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
