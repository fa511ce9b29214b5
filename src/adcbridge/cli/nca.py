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
    groups = names(group, "--group") if group else col.groups
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
        opts["metabolites"] = tuple(names(metabolite, "--metabolite"))
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
    wanted = names(parameters, "--parameters")
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
