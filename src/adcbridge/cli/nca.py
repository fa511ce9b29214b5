"""``adcbridge nca`` and ``adcbridge nca-stats``: non-compartmental analysis and its statistics (thin layer over
:mod:`adcbridge.nca`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import FORMAT, Format, frame, names, png_bytes

_frame, _png = frame, png_bytes


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
            dose_time: Optional[str] = typer.Option(None, "--dose-time", help="Dose-time column of --dosing "
                                                                            "(default TDOSE)."),
            tau: Optional[str] = typer.Option(None, "--tau", help="Dosing-interval column of --dosing."),
            predose_window: float = typer.Option(0.0, "--predose-window",
                                                 help="Samples this long before a dose count as pre-dose "
                                                      "(multiple dose)."),
            sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
            plots: Optional[Path] = typer.Option(None, "--plots",
                                                 help="Folder for concentration-time plots (PNG, 30 profiles a "
                                                      "page; at most 1,000 profiles)."),
            out: Path = typer.Option(..., "--out", help="Long CDISC PP table to write (.csv or .parquet)."),
            wide: Optional[Path] = typer.Option(None, "--wide",
                                                help="Also write the wide table (.csv or .parquet)."),
            summary: Optional[Path] = typer.Option(None, "--summary",
                                                   help="Also write group summaries (.csv or .parquet)."),
            format: Format = FORMAT):
    """Non-compartmental analysis: the long CDISC PP table (and optionally wide and summary tables)."""
    from adcbridge.io import staged_outputs
    from adcbridge.io.files import probe_output_file, probe_output_folder
    from adcbridge.io.nca_files import NcaConfig, load_nca_config, read_concentrations
    from adcbridge.io.table_writer import table_suffix
    from adcbridge.nca.run import PLOT_PROFILES, ChunkLimitError, nca_setup, stream_nca
    from adcbridge.spec import SpecError

    for path in (out, wide, summary):
        if path is not None:
            table_suffix(path)                       # a bad suffix fails before any work
    if plots is not None:                            # and so does a place that cannot take the outputs (in the
        probe_output_folder(plots)                   # order they are written)
    made = Path(plots).resolve() if plots is not None and not Path(plots).exists() else None
    for path in (out, wide, summary):
        if path is not None and Path(path).resolve().parent != made:    # a table in the --plots folder to be made:
            probe_output_file(path)                                      # that folder was probed
    cfg = load_nca_config(config) if config else NcaConfig()
    col = cfg.columns
    subject, time, conc = subject or col.subject, time or col.time, conc or col.conc
    for name, value in (("--subject", subject), ("--time", time), ("--conc", conc)):
        if not value:
            raise typer.BadParameter("is required (or give it under columns: in --config)", param_hint=f"'{name}'")
    if dosing is None:
        given = [f for f, v in (("--dose-time", dose_time), ("--tau", tau)) if v is not None]
        if given:
            raise typer.BadParameter("names a column of the --dosing table, which is not given",
                                     param_hint=f"'{given[0]}'")
    dose_time = "TDOSE" if dose_time is None else dose_time
    table = read_concentrations(data, sheet=sheet)
    doses = read_concentrations(dosing) if dosing is not None else None

    def located(text: str) -> ValueError:
        """The library's error with the file it is about in front (unless it names a file already)."""
        where = (config if text.startswith("lambda_z selection") else
                 dosing if text.startswith(("dosing", "the dosing table")) else data)
        named = any(text.startswith(f"{p}:") for p in (data, dosing, config) if p is not None)
        return ValueError(text if named else f"{where}: {text}")

    try:
        setup = nca_setup(table, subject=subject, time=time, conc=conc, dose=dose or col.dose,
                          analyte=analyte or col.analyte, groups=names(group, "--group") if group else col.groups,
                          blq=blq or col.blq, lloq=lloq or col.lloq, route=route or cfg.route or col.route,
                          duration=duration if duration is not None else (col.duration or cfg.duration),
                          options=cfg.options, auc_method=auc_method, partial_aucs=_partials(partial),
                          metabolites=names(metabolite, "--metabolite") if metabolite else None,
                          time_unit=time_unit, conc_unit=conc_unit, dose_unit=dose_unit, lambda_z=cfg.lambda_z)
    except SpecError:                                # an option's value: its own message names the option
        raise
    except ValueError as exc:
        raise located(str(exc)) from None
    run = stream_nca(table, setup, dosing=doses, dose_time=dose_time, tau=tau, predose_window=predose_window,
                     wide=wide is not None, summary=summary is not None, keep_result=plots is not None,
                     chunk_profiles=PLOT_PROFILES if plots is not None else None)

    def long_tables():
        try:
            yield from run
        except ChunkLimitError:
            raise typer.BadParameter(f"plots are drawn for at most {run.chunk_profiles:,} profiles",
                                     param_hint="'--plots'") from None
        except ValueError as exc:
            raise located(str(exc)) from None

    with staged_outputs(make_folders=False) as stage:  # every output appears, or none of them
        if plots:
            stage.folder(plots)                          # made (not its parents); removed again on failure
        written = [stage.table_chunks(out, long_tables())]
        if wide:
            written.append(stage.table_chunks(wide, [run.wide()]))
        if summary:
            written.append(stage.table_chunks(summary, [run.summary()]))
        if plots:
            if run.profiles > PLOT_PROFILES:             # one multiple-dose chunk holds them all
                raise typer.BadParameter(f"plots are drawn for at most {PLOT_PROFILES:,} profiles; this analysis has "
                                         f"{run.profiles:,}", param_hint="'--plots'")
            from adcbridge.report.nca_plots import concentration_plots
            for name, fig in concentration_plots(table, run.result(), time=time, conc=conc,
                                                 dose=None if dosing is not None else setup.dose):
                written.append(stage.bytes(plots / f"{name}.png", _png(fig)))
    issues = [i.message for i in run.issues]
    if format == Format.json:
        typer.echo(json.dumps({"profiles": run.profiles, "rows": run.rows, "written": [str(p) for p in written],
                               "issues": issues}, indent=2))
    else:
        typer.echo(f"NCA of {run.profiles} profiles ({setup.options.auc_method}): {run.rows} parameter rows")
        for message in issues:
            typer.echo(f"  note: {message}")
        typer.echo("\n".join(f"wrote {p}" for p in written))


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
    from adcbridge.io import staged_outputs
    from adcbridge.io.files import probe_output_folder
    from adcbridge.io.nca_files import read_concentrations
    from adcbridge.nca import Subset, dose_normalised_anova, power_model, sex_comparison

    probe_output_folder(out)                         # before any work: a folder that cannot be made fails now
    pp = read_concentrations(table)
    for column in ("PPTESTCD", "PPSTRESN", dose):
        if column not in pp.columns:
            raise ValueError(f"{table}: missing column '{column}'")
    wanted = names(parameters, "--parameters")
    present = set(pp["PPTESTCD"].astype(str))
    absent = [w for w in wanted if w not in present]
    if absent:
        raise typer.BadParameter(f"{absent[0]!r} is not a PPTESTCD of {table} (it has {', '.join(sorted(present))})",
                                 param_hint="'--parameters'")
    pp = pp[pp["PPTESTCD"].isin(wanted)]
    if pp.empty:
        raise typer.BadParameter(f"none of {wanted} is in {table}", param_hint="'--parameters'")
    by = ("PPCAT", "PPTESTCD") if "PPCAT" in pp.columns else ("PPTESTCD",)
    if sex and sex not in pp.columns and sex != "SEX":
        raise typer.BadParameter(f"{table} has no column {sex!r} (columns: {', '.join(map(str, pp.columns))})",
                                 param_hint="'--sex'")
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
    with staged_outputs(make_folders=False) as stage:  # all tables or none; the folder made, not its parents
        stage.folder(out)
        written = [stage.table(out / name, frame) for name, frame in results.items()]
    notes = [] if use_sex or not sex else [f"no {sex} column in {table}: sex comparisons skipped"]
    if format == Format.json:
        typer.echo(json.dumps({"written": [str(p) for p in written], "notes": notes}, indent=2))
        return
    cols = [c for c in [*by, "subset", "slope", "slope_ci_low", "slope_ci_high", "conclusion"] if c in pm.table]
    typer.echo(_frame(pm.table[cols]))
    typer.echo("".join(f"note: {n}\n" for n in notes) + "\n".join(f"wrote {p}" for p in written))
