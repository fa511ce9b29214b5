"""``adcbridge boin ...``, ``adcbridge simulate`` and ``adcbridge demo``: dose-finding designs (thin layer over
:mod:`adcbridge.dosefinding`)."""

from __future__ import annotations

import json
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import FORMAT, Format, emit, floats, frame, ints, png_bytes, png_path, rows_csv, rows_text
from adcbridge.cli.designs import (
    DESIGN,
    _registered,
    build_from_flags,
    scenario_error,
    scenario_from_flags,
    with_design_flags,
)

boin_app = typer.Typer(help="BOIN design: decision table, next dose, MTD selection, protocol outputs.",
                       no_args_is_help=True)


class TableFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


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
TITRATION = typer.Option(False, "--titration", help="Accelerated titration: one patient per dose until the first "
                                                    "DLT, then cohorts.")
OFFSET = typer.Option(0.05, "--offset", help="Offset of the extra safety rule's cut-off.")


def _boin(**params):
    """The BOIN spec of a ``boin`` command's options; its error in the house's words (``must be >= 1``, never
    pydantic's ``should be greater than or equal to 1``), named by its flag where the user gave it."""
    from adcbridge.dosefinding import BoinDesign
    from adcbridge.spec import SpecError, house_words
    try:
        return BoinDesign(**params)
    except SpecError as exc:
        raise ValueError(house_words(str(exc).splitlines()[0])) from None


@boin_app.command("table")
def boin_table(target: float = TARGET, cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS,
               n_earlystop: int = N_EARLYSTOP, p_saf: Optional[float] = P_SAF, p_tox: Optional[float] = P_TOX,
               cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
               full: bool = typer.Option(False, "--full", help="Rows up to the maximum sample size, not only up to "
                                                               "n_earlystop."),
               format: TableFormat = typer.Option(TableFormat.text, "--format", help="Output format."),
               out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of the screen.")):
    """The BOIN decision table: escalate / de-escalate / eliminate counts for every number of patients."""
    from adcbridge.dosefinding import decision_table

    design = _boin(target=target, n_doses=1, cohort_size=cohort_size, n_cohorts=cohorts,
                        n_earlystop=n_earlystop, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli,
                        extrasafe=extrasafe, offset=offset)
    result = decision_table(design, full=full)
    if format == TableFormat.json:
        text = json.dumps(result.to_record(), indent=2)
    elif format == TableFormat.csv:
        text = rows_csv(result.rows())
    elif format == TableFormat.markdown:
        from adcbridge.report import decision_table_markdown
        text = decision_table_markdown(result)
    elif format == TableFormat.html:
        from adcbridge.report import decision_table_html
        text = decision_table_html(result)
    else:
        text = (f"lambda_e = {result.lambda_e:.4f}, lambda_d = {result.lambda_d:.4f}\n" + rows_text(result.rows()))
    if out:
        from adcbridge.io import write_text
        expected = {"text": (".txt",), "json": (".json",), "csv": (".csv",), "markdown": (".md", ".markdown"),
                    "html": (".html", ".htm")}[format.value]
        if not Path(out).is_dir() and Path(out).suffix.lower() not in expected:
            raise typer.BadParameter(f"--format {format.value} writes {' or '.join(expected)}, not {str(out)!r}",
                                     param_hint="'--out'")
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
    from adcbridge.dosefinding import next_dose
    design = _boin(target=target, n_doses=doses, cohort_size=cohort_size, n_cohorts=cohorts,
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
            n_list, dlt_list = ints(n, "--n"), ints(dlt, "--dlt")
            if n_list is None or dlt_list is None:
                raise typer.BadParameter("--n and --dlt go together", param_hint="'--dlt'")
        if current_dose is None:
            raise typer.BadParameter("is required with --n/--dlt or --data", param_hint="'--current-dose'")
        decision = next_dose(design, n=n_list, dlt=dlt_list, current_dose=current_dose)
    from adcbridge.cli.designs import decision_text
    _emit(decision.to_record(), format, decision_text(decision))


@boin_app.command("mtd")
def boin_mtd(target: float = TARGET,
             n: str = typer.Option(..., "--n", help="Patients per dose, e.g. 3,6,9,3."),
             dlt: str = typer.Option(..., "--dlt", help="DLTs per dose, e.g. 0,1,3,2."),
             cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
             bound_mtd: bool = typer.Option(False, "--bound-mtd", help="Only doses with estimate <= lambda_d."),
             p_tox: Optional[float] = P_TOX, format: Format = FORMAT):
    """Select the MTD by isotonic regression, with per-dose estimates and 95% credible intervals."""
    from adcbridge.dosefinding import select_mtd
    n_list, dlt_list = ints(n, "--n"), ints(dlt, "--dlt")
    if len(n_list) != len(dlt_list):
        raise typer.BadParameter(f"has {len(dlt_list)} values but --n has {len(n_list)}", param_hint="'--dlt'")
    design = _boin(target=target, n_doses=len(n_list), cutoff_eli=cutoff_eli, extrasafe=extrasafe,
                        offset=offset, bound_mtd=bound_mtd, p_tox=p_tox)
    result = select_mtd(design, n_list, dlt_list)
    why = "".join(f" ({i.message.removeprefix('no MTD: ')})" for i in result.issues if i.code == "no_mtd")
    text = f"MTD: {result.mtd if result.mtd is not None else 'none'}{why}\n" + _frame(
        result.table.drop(columns=["admissible"]))
    _emit(result.to_record(), format, text)


@boin_app.command("protocol")
def boin_protocol(target: float = TARGET,
                  doses: str = typer.Option(..., "--doses", help="Dose levels, e.g. 1,2.1,4.2 (or a count)."),
                  dose_unit: str = typer.Option("mg/kg", "--dose-unit", help="Unit of the dose levels."),
                  cohort_size: int = COHORT_SIZE, cohorts: int = COHORTS, n_earlystop: int = N_EARLYSTOP,
                  cutoff_eli: float = CUTOFF_ELI, extrasafe: bool = EXTRASAFE, offset: float = OFFSET,
                  titration: bool = TITRATION,
                  pathways: int = typer.Option(3, "--pathways", help="Cohorts in the dose-transition table."),
                  out: Path = typer.Option(..., "--out", help="New folder for the protocol files (written all at "
                                                              "once)."),
                  force: bool = typer.Option(False, "--force", help="Replace --out if it is a previous output of "
                                                                    "boin protocol (or empty).")):
    """Write protocol material: decision table (CSV, Markdown, HTML), protocol paragraph, dose pathways."""
    from adcbridge.dosefinding import decision_table
    from adcbridge.io import staged_outputs
    from adcbridge.io.files import check_new_folder, output_folder

    check_new_folder(out, force, previous=_protocol_output())       # fail now, not after the tables

    levels = floats(doses, "--doses")
    if len(levels) == 1 and (levels[0] != int(levels[0]) or levels[0] < 1):
        raise typer.BadParameter(f"give the dose levels (two or more values) or their number, got {doses!r}",
                                 param_hint="'--doses'")
    if pathways < 1 or (cohort_size + 1) ** pathways > 100_000:
        raise typer.BadParameter(f"must be between 1 and the number of cohorts giving at most 100,000 pathways, "
                                 f"got {pathways}", param_hint="'--pathways'")
    kw = dict(n_doses=int(levels[0])) if len(levels) == 1 else dict(n_doses=len(levels), dose_levels=tuple(levels))
    design = _boin(target=target, cohort_size=cohort_size, n_cohorts=cohorts, n_earlystop=n_earlystop,
                        cutoff_eli=cutoff_eli, extrasafe=extrasafe, offset=offset, titration=titration,
                        dose_unit=dose_unit, **kw)
    table = decision_table(design)
    with output_folder(out, force, previous=_protocol_output()) as staging:   # the whole folder at once
        with staged_outputs(make_folders=False) as stage:
            written = _stage_protocol(stage, staging, design, table, pathways)
            written.append(stage.text(staging / "design.json", design.model_dump_json(indent=2) + "\n"))
    for p in written:
        typer.echo(f"wrote {out / p.name}")


def _protocol_output():
    """What ``adcbridge boin protocol --out`` writes (``--force`` replaces only such a folder)."""
    from adcbridge.io.files import PreviousOutput
    return PreviousOutput("adcbridge boin protocol", check=_protocol_output_problem,
                          files=("decision_table.csv", "decision_table.md", "decision_table.html", "protocol.txt",
                                 "dose_transition_pathways.csv", "design.json"))


def _protocol_output_problem(folder: Path) -> str | None:
    return None if (folder / "design.json").is_file() and (folder / "protocol.txt").is_file() else \
        "has no design.json and protocol.txt of boin protocol"


def _stage_protocol(stage, out: Path, design, table, pathways: int) -> list[Path]:
    """Stage the protocol material of a BOIN design: decision table (CSV, Markdown, HTML), protocol paragraph and
    dose-transition pathways."""
    from adcbridge.dosefinding import dose_transition_pathways, protocol_text
    from adcbridge.report import decision_table_html, decision_table_markdown
    return [stage.table(out / "decision_table.csv", table.table),
            stage.text(out / "decision_table.md", decision_table_markdown(table)),
            stage.text(out / "decision_table.html", decision_table_html(table)),
            stage.text(out / "protocol.txt", protocol_text(design) + "\n"),
            stage.table(out / "dose_transition_pathways.csv", dose_transition_pathways(design, pathways))]


@with_design_flags
def simulate_cmd(design: str = DESIGN,
                 target: Optional[float] = typer.Option(None, "--target",
                                                        help="Target DLT probability: the design's and the one "
                                                             "operating characteristics use (PCS, overdosing; also "
                                                             "for 3+3, default 0.3)."),
                 p_true: str = typer.Option(..., "--p-true", help="True DLT probability per dose, e.g. "
                                                                  "0.05,0.1,0.2,0.3,0.5 (comb-boin: rows of the grid "
                                                                  "by agent A, e.g. '0.05,0.1;0.1,0.2')."),
                 doses: Optional[str] = typer.Option(None, "--doses", help="The dose values, e.g. 1,2.1,4.2 (for "
                                                                          "labels; as many as --p-true)."),
                 trials: Optional[int] = typer.Option(None, "--trials", help="Number of simulated trials (default "
                                                                             "10,000; not with --exact)."),
                 seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (recorded in the output; not "
                                                                         "with --exact)."),
                 q_true: Optional[str] = typer.Option(None, "--q-true", help="boin12, boin-backfill: true response "
                                                                             "probability per dose."),
                 accrual_rate: Optional[float] = typer.Option(None, "--accrual-rate",
                                                              help="tite-boin, boin-backfill: patients arriving per "
                                                                   "unit of time (per DLT window when it is 1)."),
                 accrual: Optional[str] = typer.Option(None, "--accrual", help="tite-boin, boin-backfill: arrivals "
                                                                               "uniform or poisson."),
                 late_onset: Optional[float] = typer.Option(None, "--late-onset",
                                                            help="tite-boin: share of the DLTs in the last "
                                                                 "--late-window fraction of the window (default "
                                                                 "0.5)."),
                 late_window: Optional[float] = typer.Option(None, "--late-window",
                                                             help="tite-boin: the late part of the DLT window, as a "
                                                                  "fraction (default 0.5)."),
                 exact: bool = typer.Option(False, "--exact", help="Exact operating characteristics (enumeration)."),
                 plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of selection and patients."),
                 format: Format = FORMAT, flags: dict | None = None):
    """Operating characteristics of any registered design under one scenario (Monte Carlo or exact)."""
    from adcbridge.dosefinding import exact_oc, simulate
    from adcbridge.dosefinding.registry import design_class
    probs = _p_true(p_true)
    cls = design_class(_registered(design))
    grid = (flags or {}).get("--grid")
    derived: dict[str, tuple[str, str]] = {}
    if isinstance(probs[0], list):
        if "grid" not in cls.model_fields:
            raise typer.BadParameter(f"has rows (';') for a combination, but --design {design} has one agent",
                                     param_hint="'--p-true'")
        rows, cols = len(probs), len(probs[0])
        shape = f"{rows}x{cols}"
        if grid is not None and grid.lower().replace(" ", "") != shape:
            raise typer.BadParameter(f"is {grid} but --p-true is a {shape} grid", param_hint="'--grid'")
        if (flags or {}).get("--mtd-contour") and rows > cols:
            raise typer.BadParameter(f"is a {shape} grid ({rows} levels of agent A, the rows, by {cols} of agent B), "
                                     f"but the waterfall design (--mtd-contour) needs agent A to have no more "
                                     f"levels than agent B: give agent A as the agent with fewer levels, i.e. "
                                     f"transpose --p-true to {cols}x{rows} (each column becomes a row) and swap the "
                                     f"agents' doses", param_hint="'--p-true'")
        if grid is None:
            derived["grid"] = ("--p-true", f"is a {shape} grid (rows: levels of agent A; columns: agent B)")
        grid = shape
    elif "grid" in cls.model_fields:
        raise typer.BadParameter(f"--design {design} needs the grid of the combination: rows separated by ';', e.g. "
                                 f"'0.05,0.1;0.1,0.2'", param_hint="'--p-true'")
    elif doses is None:
        derived["n_doses"] = ("--p-true", f"has {len(probs)} values, one per dose level")
    spec = build_from_flags(design, doses, None if isinstance(probs[0], list) else len(probs),
                            {**(flags or {}), "--target": target if "target" in cls.model_fields else None,
                             "--grid": grid}, command="simulate", derived=derived)
    if plot is not None:                             # checked before the simulation, not after it
        png_path(plot, "--plot")
        if spec.has_own_simulator:
            raise typer.BadParameter(f"draws the trial engine's designs; for {design} use the JSON or a sweep's "
                                     f"summary", param_hint="'--plot'")
    given = {"--q-true": q_true, "--accrual-rate": accrual_rate, "--accrual": accrual, "--late-onset": late_onset,
             "--late-window": late_window}
    scenario = scenario_from_flags(spec, design, given)
    if exact and spec.has_own_simulator:
        raise typer.BadParameter(f"enumerates the trial engine's designs (boin, 3+3, crm), not {design}: simulate "
                                 f"it (Monte Carlo)", param_hint="'--exact'")
    if exact and (trials is not None or seed is not None):
        raise typer.BadParameter("exact operating characteristics enumerate every trial: no --trials or --seed",
                                 param_hint="'--trials'" if trials is not None else "'--seed'")
    trials = 10_000 if trials is None else trials
    try:
        oc = (exact_oc(spec, probs, target=target) if exact
              else simulate(spec, probs, n_trials=trials, seed=seed, target=target, **scenario))
    except ValueError as exc:
        raise scenario_error(exc, given) from None
    if plot:
        from adcbridge.io import write_bytes
        from adcbridge.report import plot_oc
        write_bytes(png_path(plot, "--plot"), _png(plot_oc([oc], [design])))
    head = (f"{design} {'exact' if exact else f'Monte Carlo, {trials} trials, seed {oc.seed}'}: "
            f"no MTD {oc.no_mtd_pct:.2f}%, safety stop {oc.stop_pct:.2f}%, PCS {oc.pcs:.2f}%, "
            f"mean N {oc.n_mean:.2f}, mean DLTs {oc.dlt_total_mean:.2f}"
            + (f", mean duration {oc.duration_mean:.2f}" if oc.duration_mean is not None else ""))
    notes = "".join(f"\n{i.severity}: {i.message}" for i in oc.issues)
    _emit(oc.to_record(), format, head + "\n" + _oc_rows_text(oc) + _contour_rows_text(oc) + notes, wrote=[plot])


def _contour_rows_text(oc) -> str:
    """For an MTD contour: per row of the grid, the share of trials with no MTD in that row (the row's selection
    percentages plus it make 100) and the row's correct selection."""
    extra = oc.extra or {}
    if "no_mtd_row_pct" not in extra:
        return ""
    lines = [f"  row A={a}: no MTD in the row {none:.2f}%, correct selection {pcs:.2f}%"
             for a, (none, pcs) in enumerate(zip(extra["no_mtd_row_pct"], extra.get("pcs_row") or []), start=1)]
    return "\nper row of agent A (the contour):\n" + "\n".join(lines)


def _oc_rows_text(oc) -> str:
    """The OC table as text without pandas; a column with no value (the SEs of exact results) is left out."""
    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and v != v)
    rows = oc.table_rows()
    keep = [c for c in (rows[0] if rows else {}) if not all(missing(r[c]) for r in rows)]
    return rows_text([{c: (None if missing(r[c]) else r[c]) for c in keep} for r in rows])


def _p_true(text: str):
    """``--p-true``: one probability per dose, or rows of a combination's grid separated by ';'."""
    if ";" not in text:
        return floats(text, "--p-true")
    rows = [floats(r, "--p-true") for r in text.split(";")]
    if len({len(r) for r in rows}) != 1:
        raise typer.BadParameter(f"the rows of the grid have different lengths: {[len(r) for r in rows]}",
                                 param_hint="'--p-true'")
    return rows


_png = png_bytes


def _trial_output_problem(folder: Path) -> str | None:
    return None if (folder / "oc_summary.csv").is_file() and (folder / "protocol.txt").is_file() else \
        "has no oc_summary.csv and protocol.txt of a trial"


def _trial_output():
    """What ``adcbridge trial --out`` writes (``--force`` replaces only such a folder); scenario files by number."""
    from adcbridge.io.files import PreviousOutput
    return PreviousOutput("adcbridge trial", check=_trial_output_problem,
                          files=("decision_table.csv", "decision_table.md", "decision_table.html", "protocol.txt",
                                 "dose_transition_pathways.csv", "oc_summary.csv")
                          + tuple(f"oc_scenario{k}.{ext}" for k in range(1, 1001) for ext in ("png", "json")))


def trial_cmd(spec: Optional[Path] = typer.Argument(None, help="Trial YAML: design (boin), doses, scenarios, options "
                                                              "for boin, 3+3 and crm (default: the bundled "
                                                              "example)."),
              trials: int = typer.Option(10000, "--trials", help="Simulated trials per scenario and design."),
              seed: int = typer.Option(2026, "--seed", help="Random seed (common to all designs)."),
              out: Optional[Path] = typer.Option(None, "--out", help="Also write tables, plots and the protocol "
                                                                     "text to this new folder (written all at "
                                                                     "once)."),
              force: bool = typer.Option(False, "--force", help="Replace the --out folder if it is a previous "
                                                                "output of adcbridge trial (or empty).")):
    """A dose-finding trial file: BOIN decision table, and BOIN vs 3+3 vs CRM on its scenarios.

    The designs are simulated on the same patients (common random numbers)."""
    from adcbridge.dosefinding import compare_designs, decision_table
    from adcbridge.dosefinding.simulate import MAX_TRIALS
    from adcbridge.io import load_trial_spec, staged_outputs
    from adcbridge.report import oc_summary_table, plot_oc
    if not 1 <= trials <= MAX_TRIALS:               # before anything is printed (one range, one message)
        raise typer.BadParameter(f"must be a whole number in [1, {MAX_TRIALS}], got {trials}", param_hint="'--trials'")
    from adcbridge.io.files import check_new_folder
    if out:                                          # fail now, not after the simulations
        check_new_folder(out, force, keep=[spec] if spec else (), previous=_trial_output())
    elif force:
        raise typer.BadParameter("replaces the --out folder: give --out", param_hint="'--force'")
    if spec is None:
        spec_path = resources.files("adcbridge.examples").joinpath("jskn003_trial.yaml")
        with resources.as_file(spec_path) as p:
            trial = load_trial_spec(p)
    else:
        trial = load_trial_spec(spec)
    where = spec if spec is not None else "the bundled trial"
    if trial.design != "boin":           # the command's table, protocol text and headline are BOIN's
        raise ValueError(f"{where}: design {trial.design!r}: adcbridge trial writes the BOIN decision table and "
                         f"protocol and compares BOIN with 3+3 and CRM, so it runs design: boin only; for "
                         f"{trial.design} use adcbridge simulate --design {trial.design} (or a sweep, or pathways)")
    unused = [k for k in trial.options if k not in ("boin", "3+3", "crm")]
    if unused:
        raise ValueError(f"{where}: options for {', '.join(unused)}: adcbridge trial runs boin, 3+3 and crm, so "
                         f"they would change nothing; remove them")
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
        from adcbridge.io.files import output_folder
        with output_folder(out, force, keep=[spec] if spec else (), previous=_trial_output()) as staging:
            with staged_outputs(make_folders=False) as stage:   # the whole folder at once: old or new, never a mix
                files = _stage_protocol(stage, staging, boin, table, 3)
                files.append(stage.table(staging / "oc_summary.csv", summary))
                for k, (sc, cmp) in enumerate(comparisons, start=1):
                    files.append(stage.bytes(staging / f"oc_scenario{k}.png",
                                             _png(plot_oc(list(cmp.results), list(cmp.names), title=sc.name))))
                    record = {"scenario": sc.name,
                              "designs": {n: r.to_record() for n, r in zip(cmp.names, cmp.results)}}
                    files.append(stage.text(staging / f"oc_scenario{k}.json",
                                            json.dumps(record, indent=2, allow_nan=False) + "\n"))
        typer.echo("\n" + "\n".join(f"wrote {out / p.name}" for p in files))
