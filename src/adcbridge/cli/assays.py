"""``adcbridge fit ...``: dose-response, binding kinetics and internalization (thin layer over
:mod:`adcbridge.assays`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import (
    FORMAT,
    Format,
    about_file,
    bound,
    emit,
    floats,
    frame,
    name_values,
    names,
    output_file,
    png_bytes,
    png_path,
)

fit_app = typer.Typer(help="Assay fits: dose-response curves, SPR/BLI kinetics, internalization.",
                      no_args_is_help=True)


class InternalizationMethod(str, Enum):
    quench = "quench"
    acid_strip = "acid_strip"


class TimeUnit(str, Enum):
    s = "s"
    min = "min"
    h = "h"
    day = "day"


class DrModel(str, Enum):
    LL4 = "LL4"
    LL5 = "LL5"
    W14 = "W14"
    W24 = "W24"
    LL3 = "LL3"


def _read(path: Path):
    from adcbridge.io.nca_files import read_concentrations
    return read_concentrations(path)


def _save_plot(fig, path: Path | None, option: str = "--plot") -> None:
    if path is None:
        return
    from adcbridge.io import write_bytes
    write_bytes(png_path(path, option), png_bytes(fig))


PLOT = typer.Option(None, "--plot", help="Save a PNG of the data and the fit.")


def _frame(df) -> str:
    return frame(df, digits=5)


def _issues(issues) -> str:
    """The result's issues as text lines (empty when there are none)."""
    return "".join(f"\n{i.severity}: {i.message}" for i in issues)


@fit_app.command("dose-response")
def dose_response(data: Path = typer.Argument(..., help="Long table: concentration, response, optional curve."),
                  x: str = typer.Option("conc", "--x", help="Concentration column."),
                  y: str = typer.Option("response", "--y", help="Response column."),
                  curve: Optional[str] = typer.Option(None, "--curve", help="Curve (group) column."),
                  model: DrModel = typer.Option(DrModel.LL4, "--model", help="drc model."),
                  parallel: bool = typer.Option(False, "--parallel",
                                                help="Common slope and asymptotes, separate ED50s."),
                  se: str = typer.Option("drc", "--se", help="Standard errors: drc or jacobian."),
                  fix: list[str] = typer.Option([], "--fix", help="Hold a parameter, e.g. c=0 (bottom) or d=100 "
                                                                  "(top); repeatable."),
                  ed_interval: str = typer.Option("delta", "--ed-interval",
                                                  help="ED interval in the JSON: delta or tfls (log scale)."),
                  x_unit: Optional[str] = typer.Option(None, "--x-unit", help="Unit of the concentrations (e.g. "
                                                                              "nM), for tables and the plot."),
                  y_unit: Optional[str] = typer.Option(None, "--y-unit", help="Unit of the response (e.g. %, "
                                                                              "MFI), for tables and the plot."),
                  plot: Optional[Path] = PLOT,
                  format: Format = FORMAT):
    """Fit dose-response curves (EC50/IC50) with drc's models; ED10/50/90, relative potency, parallelism."""
    from adcbridge.assays.dose_response import fit_dose_response
    if parallel and curve is None:
        raise typer.BadParameter("compares the curves of --curve (a common slope): give --curve, the column that "
                                 "names each curve", param_hint="'--parallel'")
    png_path(plot, "--plot")                         # before the fit: a figure that cannot be written fails now
    fixed = name_values(fix, "--fix")
    table = _read(data)
    try:
        fit = fit_dose_response(table, model=model.value, x=x, y=y, curve=curve, parallel=parallel, se=se,
                                fixed=fixed, ed_interval=ed_interval, x_unit=x_unit, y_unit=y_unit)
    except ValueError as exc:
        raise about_file(exc, data) from None
    if plot:
        from adcbridge.report import plot_dose_response
        _save_plot(plot_dose_response(fit), plot)
    text = _frame(fit.table) + "\n\n" + _frame(fit.ed_table)
    if fit.parallelism is not None:
        t = fit.parallelism
        text += (f"\n\nparallelism ({t.reduced} vs {t.full}): F({t.df_num}, {t.df_den}) = {t.f:.4g}, "
                 f"p = {t.p:.4g}")
    if len(fit.curves) > 1:
        text += "\n\nrelative potency (ED50 ratio)\n" + _frame(fit.relative_potency())
    emit(fit.to_record(), format, text + _issues(fit.issues), wrote=[plot])


@fit_app.command("dose-response-batch")
def dose_response_batch(data: Path = typer.Argument(..., help="Long table: curve, concentration, response."),
                        x: str = typer.Option("conc", "--x", help="Concentration column."),
                        y: str = typer.Option("response", "--y", help="Response column."),
                        curve: str = typer.Option("curve", "--curve", help="Curve (well, compound, replicate)."),
                        model: DrModel = typer.Option(DrModel.LL4, "--model", help="drc model."),
                        se: str = typer.Option("drc", "--se", help="Standard errors: drc or jacobian."),
                        out: Optional[Path] = typer.Option(None, "--out", help="Write the per-curve table (CSV)."),
                        plot: Optional[Path] = typer.Option(None, "--plot",
                                                            help="Save a PNG of 16 curves (doubtful ones first)."),
                        ed50_plot: Optional[Path] = typer.Option(None, "--ed50-plot",
                                                                 help="Save a PNG of the ED50 distribution."),
                        format: Format = FORMAT):
    """Fit one model to thousands of curves independently (plates, screens, bootstrap samples)."""
    from adcbridge.assays.dose_response import fit_dose_response_batch
    if out is not None:                              # before the fits: a table that cannot be written fails now
        from adcbridge.io.table_writer import table_suffix
        table_suffix(out, (".csv", ".parquet", ".json"))
    output_file(out), png_path(plot, "--plot"), png_path(ed50_plot, "--ed50-plot")
    table = _read(data)
    try:
        batch = fit_dose_response_batch(table, model=model.value, x=x, y=y, curve=curve, se=se)
    except ValueError as exc:
        raise about_file(exc, data) from None
    from adcbridge.io import staged_outputs
    with staged_outputs(make_folders=False) as stage:  # the table and the plots, all or none
        if out is not None:
            stage.table(out, batch.table)
        if plot or ed50_plot:
            from adcbridge.report.batch_plots import plot_batch_ed50, plot_dose_response_batch
            if plot:
                stage.bytes(plot, png_bytes(plot_dose_response_batch(batch, table)))
            if ed50_plot:
                stage.bytes(ed50_plot, png_bytes(plot_batch_ed50(batch)))
    record = batch.to_record()
    record["table"] = None if out is None else str(out)
    median = record["median_ed50"]
    text = "\n".join([f"{record['n_curves']} curves fitted with {record['model']}: "
                      + ", ".join(f"{k} {v}" for k, v in record["status"].items() if v),
                      f"median ED50 (converged curves): {median:.4g}" if median is not None else
                      "no converged curve with an ED50", *(f"{i.severity}: {i.message}" for i in batch.issues),
                      "" if out else _frame(batch.table.head(20))]).rstrip("\n")
    emit(record, format, text, wrote=[out, plot, ed50_plot])


@fit_app.command("kinetics")
def kinetics(data: Path = typer.Argument(..., help="Sensorgrams: a long table (cycle, conc, time, response) or a "
                                                   "wide export (time plus one column per curve, or X/Y pairs)."),
             t_on: float = typer.Option(..., "--t-on", help="Injection start (s)."),
             t_off: float = typer.Option(..., "--t-off", help="Injection end (s)."),
             conc_unit: Optional[str] = typer.Option(
                 None, "--conc-unit", help="Unit of the conc column or of --concentrations (M, nM, pM, ...); "
                                           "optional when the table has a conc_unit column or the wide headers "
                                           "carry the unit (then it must agree)."),
             rmax: str = typer.Option("global", "--rmax", help="global or local Rmax."),
             bulk: bool = typer.Option(False, "--bulk", help="Fit a bulk refractive-index step per injection."),
             drift: bool = typer.Option(False, "--drift", help="Fit a linear baseline drift."),
             mass_transport: bool = typer.Option(False, "--mass-transport", help="Two-compartment model."),
             cycle: str = typer.Option("cycle", "--cycle", help="Cycle column (a table without it is read as a "
                                                                "wide export)."),
             conc: str = typer.Option("conc", "--conc", help="Analyte concentration column."),
             time: str = typer.Option("time", "--time", help="Time column (s); in a wide export 'Time' also works."),
             response: str = typer.Option("response", "--response", help="Response column (RU or nm)."),
             concentrations: Optional[str] = typer.Option(
                 None, "--concentrations", help="Wide export: the curves' concentrations in column order, "
                                                "comma-separated, in --conc-unit (default: read from the headers, "
                                                "e.g. Conc_12.5nM)."),
             plot: Optional[Path] = PLOT,
             format: Format = FORMAT):
    """Global 1:1 (Langmuir) fit of SPR/BLI sensorgrams: ka, kd, KD with SEs and CIs, quality flags."""
    from adcbridge.assays.kinetics import fit_kinetics, sensorgram_table
    png_path(plot, "--plot")                         # before the fit: a figure that cannot be written fails now
    table = _read(data)
    try:
        concs = floats(concentrations, "--concentrations")
        long, wide = sensorgram_table(table, cycle=cycle, time=time, concentrations=concs, conc_unit=conc_unit)
        columns = dict(cycle="cycle", conc="conc", time="time", response="response") if wide else \
            dict(cycle=cycle, conc=conc, time=time, response=response)
        fit = fit_kinetics(long, t_on=t_on, t_off=t_off, conc_unit=None if wide else conc_unit, rmax=rmax, bulk=bulk,
                           drift="global" if drift else "none", mass_transport=mass_transport, **columns)
    except ValueError as exc:
        raise about_file(exc, data) from None
    if plot:
        from adcbridge.report import plot_sensorgrams
        _save_plot(plot_sensorgrams(fit), plot)
    c = fit.to_record()
    text = ""
    if format != Format.json:
        def num(v, spec):               # a value the data do not determine (non-finite) is null in the contract
            return "n/a" if v is None else f"{v:{spec}}"

        text = (f"ka = {num(c['ka']['estimate'], '.5g')} 1/(M s) (SE {num(c['ka']['se'], '.3g')}), "
                f"kd = {num(c['kd']['estimate'], '.5g')} 1/s (SE {num(c['kd']['se'], '.3g')}), "
                f"KD = {num(c['KD']['estimate'], '.4g')} M [{bound(c['KD']['ci_low'], c['KD']['estimate'])}, "
                f"{bound(c['KD']['ci_high'], c['KD']['estimate'])}], Chi2 {num(c['chi2'], '.4g')}\n"
                f"flags: {', '.join(c['flags']) or 'none'}")
        text += "".join(f"\n{i['severity']}: {i['message']}" for i in c["issues"])
    emit(c, format, text, wrote=[plot])


@fit_app.command("internalization")
def internalization(data: Path = typer.Argument(..., help="% internalized per antibody and time, or raw MFI."),
                    controls: Optional[Path] = typer.Option(None, "--controls",
                                                            help="4 degC quench controls (with raw MFI input)."),
                    antibody: str = typer.Option("adc", "--antibody", help="Antibody column."),
                    time: str = typer.Option("time_h", "--time", help="Time column."),
                    value: str = typer.Option("pct_internalized", "--value", help="% internalized column."),
                    compare: Optional[str] = typer.Option(None, "--compare", help="Two antibodies, e.g. A,B."),
                    compare_y0: str = typer.Option("fixed", "--compare-y0",
                                                   help="Model of the comparison: fixed (Y0 = 0) or free."),
                    background: float = typer.Option(0.0, "--background",
                                                     help="MFI of unstained/isotype cells, subtracted (raw MFI)."),
                    quench_efficiency: Optional[float] = typer.Option(None, "--quench-efficiency",
                                                                      help="Known QE instead of --controls."),
                    method: InternalizationMethod = typer.Option(InternalizationMethod.quench, "--method",
                                                                 help="quench or acid_strip (label)."),
                    unquenched: str = typer.Option("MFI_unquenched", "--unquenched", help="Raw MFI column."),
                    quenched: str = typer.Option("MFI_quenched", "--quenched", help="Quenched MFI column."),
                    time_unit: TimeUnit = typer.Option(TimeUnit.h, "--time-unit", help="Unit of the time column."),
                    plot: Optional[Path] = PLOT,
                    format: Format = FORMAT):
    """Internalization kinetics: one-phase fits (plateau, rate, half-time) and F tests between two antibodies.

    The input is either % internalized (the --value column) or raw MFI (the --unquenched and --quenched columns,
    with --controls or --quench-efficiency and --background)."""
    from adcbridge.assays.internalization import analyze_internalization, fit_internalization
    png_path(plot, "--plot")                         # before the fit: a figure that cannot be written fails now
    table = _read(data)
    opts = {"compare_y0": compare_y0, "time_unit": time_unit.value}
    if compare:
        pair = tuple(names(compare, "--compare"))
        if len(pair) != 2 or pair[0] == pair[1]:
            raise typer.BadParameter(f"expected two different antibodies, got {compare!r}", param_hint="'--compare'")
        opts["compare"] = pair
    try:
        if value in table.columns:
            res = fit_internalization(table, antibody=antibody, time=time, value=value, **opts)
        elif unquenched in table.columns and quenched in table.columns:
            ctrl = _read(controls) if controls else None
            res = analyze_internalization(table, ctrl, antibody=antibody, time=time, unquenched=unquenched,
                                          quenched=quenched, background=background,
                                          quench_efficiency=quench_efficiency, method=method.value, **opts)
        else:
            raise ValueError(f"neither a % internalized column {value!r} (--value) nor raw MFI columns "
                             f"{unquenched!r} and {quenched!r} (--unquenched, --quenched); columns: "
                             f"{list(map(str, table.columns))}")
    except ValueError as exc:
        raise about_file(exc, data) from None
    if plot:
        from adcbridge.report import plot_internalization
        _save_plot(plot_internalization(res), plot)
    record = res.to_record()
    emit(record, format, _frame(res.table) + _comparison_text(record.get("comparison")) + _issues(res.issues),
         wrote=[plot])


def _comparison_text(c: dict | None) -> str:
    """The comparison of two antibodies as the JSON gives it: the F tests and the rate ratio."""
    if not c:
        return ""
    a, b = c["antibodies"]
    lines = [f"\n\ncomparison of {a} and {b} (joint fit, extra-sum-of-squares F tests):"]
    for key, what in (("k_equal", "same rate k"), ("plateau_equal", "same plateau"), ("all_equal", "one curve")):
        t = c.get(key)
        if t:
            lines.append(f"  {what}: F({t['df1']:g}, {t['df2']:g}) = {t['f']:.4g}, p = {t['p']:.3g}")
    r = c.get("k_ratio")
    if r:
        lines.append(f"  k ratio {a}/{b}: {r['estimate']:.4g} [{bound(r['ci_low'], r['estimate'])}, "
                     f"{bound(r['ci_high'], r['estimate'])}]")
    return "\n".join(lines)


@fit_app.command("xenograft")
def xenograft(data: Path = typer.Argument(..., help="Tumour volumes: group, animal, day, volume (long)."),
              control: str = typer.Option(..., "--control", help="The control (vehicle) group."),
              tgi: list[str] = typer.Option(..., "--tgi", help="TGI definition(s) by name, or 'all' (repeatable "
                                                               "or comma-separated)."),
              day: list[str] = typer.Option(..., "--day", help="Evaluation day(s) (repeatable or comma-separated)."),
              group: str = typer.Option("group", "--group", help="Group column."),
              animal: str = typer.Option("animal", "--animal", help="Animal column."),
              day_column: str = typer.Option("day", "--day-column", help="Day column."),
              volume: str = typer.Option("volume", "--volume", help="Tumour volume column."),
              humane_endpoint: Optional[float] = typer.Option(None, "--humane-endpoint",
                                                              help="Volume at which animals leave the study."),
              dropout: str = typer.Option("available", "--dropout", help="available or carry_forward."),
              baseline_day: Optional[float] = typer.Option(None, "--baseline-day",
                                                           help="Day of V0 (default: the first day)."),
              volume_floor: Optional[float] = typer.Option(None, "--volume-floor",
                                                           help="Raise volumes below this before taking logs "
                                                                "(needed when tumours regress to 0)."),
              endpoint_fold: Optional[float] = typer.Option(None, "--endpoint-fold",
                                                            help="Time-to-endpoint target: fold x V0 (default 4)."),
              endpoint_volume: Optional[float] = typer.Option(None, "--endpoint-volume",
                                                              help="Time-to-endpoint target: an absolute volume."),
              doubling_time: Optional[float] = typer.Option(None, "--doubling-time",
                                                            help="Control doubling time (days) for log cell kill."),
              plot: Optional[Path] = typer.Option(None, "--plot",
                                                  help="Save a PNG of the tumour volumes (animals and group means)."),
              km_plot: Optional[Path] = typer.Option(None, "--km-plot",
                                                     help="Save a PNG of the Kaplan-Meier time to endpoint."),
              format: Format = FORMAT):
    """Xenograft efficacy: TGI under named definitions, T/C, regression, growth rates, time to endpoint."""
    from adcbridge.assays.xenograft import analyze_xenograft
    png_path(plot, "--plot"), png_path(km_plot, "--km-plot")
    definitions = tuple(n for t in tgi for n in names(t, "--tgi"))
    days = tuple(v for d in day for v in floats(d, "--day"))
    table = _read(data)
    try:
        res = analyze_xenograft(table, group=group, animal=animal, day=day_column, volume=volume, control=control,
                                tgi=definitions, days=days, humane_endpoint=humane_endpoint, dropout=dropout,
                                baseline_day=baseline_day, volume_floor=volume_floor, endpoint_fold=endpoint_fold,
                                endpoint_volume=endpoint_volume, doubling_time=doubling_time)
    except ValueError as exc:
        raise about_file(exc, data) from None
    if plot or km_plot:
        from adcbridge.io import staged_outputs
        from adcbridge.report.xenograft_plots import plot_time_to_endpoint, plot_tumour_volumes
        with staged_outputs(make_folders=False) as stage:  # both plots or neither
            if plot:
                stage.bytes(plot, png_bytes(plot_tumour_volumes(res)))
            if km_plot:
                stage.bytes(km_plot, png_bytes(plot_time_to_endpoint(res)))
    emit(res.to_record(), format, _frame(res.table) + _issues(res.issues), wrote=[plot, km_plot])
