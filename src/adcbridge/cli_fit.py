"""``adcbridge fit ...``: dose-response, binding kinetics and internalization (thin layer over
:mod:`adcbridge.assays`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from adcbridge.cli_common import Format, emit, frame, png_bytes

fit_app = typer.Typer(help="Assay fits: dose-response curves, SPR/BLI kinetics, internalization.",
                      no_args_is_help=True)


class DrModel(str, Enum):
    LL4 = "LL4"
    LL5 = "LL5"
    W14 = "W14"
    W24 = "W24"
    LL3 = "LL3"


def _read(path: Path):
    from adcbridge.io.nca_files import read_concentrations
    return read_concentrations(path)


def _save_plot(fig, path: Path | None) -> None:
    if path is None:
        return
    from adcbridge.io import write_bytes
    write_bytes(path, png_bytes(fig))


PLOT = typer.Option(None, "--plot", help="Save a PNG of the data and the fit.")


def _frame(df) -> str:
    return frame(df, digits=5)


@fit_app.command("dose-response")
def dose_response(data: Path = typer.Argument(..., help="Long table: concentration, response, optional curve."),
                  x: str = typer.Option("conc", "--x", help="Concentration column."),
                  y: str = typer.Option("response", "--y", help="Response column."),
                  curve: Optional[str] = typer.Option(None, "--curve", help="Curve (group) column."),
                  model: DrModel = typer.Option(DrModel.LL4, "--model", help="drc model."),
                  parallel: bool = typer.Option(False, "--parallel",
                                                help="Common slope and asymptotes, separate ED50s."),
                  se: str = typer.Option("drc", "--se", help="Standard errors: drc or jacobian."),
                  plot: Optional[Path] = PLOT,
                  format: Format = typer.Option(Format.text, "--format")):
    """Fit dose-response curves (EC50/IC50) with drc's models; ED10/50/90, relative potency, parallelism."""
    from adcbridge.assays.dose_response import fit_dose_response
    table = _read(data)
    try:
        fit = fit_dose_response(table, model=model.value, x=x, y=y, curve=curve, parallel=parallel, se=se)
    except ValueError as exc:
        raise ValueError(f"{data}: {str(exc).splitlines()[0]}") from None
    if plot:
        from adcbridge.report import plot_dose_response
        _save_plot(plot_dose_response(fit), plot)
    text = _frame(fit.table) + "\n\n" + _frame(fit.ed_table)
    if fit.parallelism is not None:
        text += f"\n\nparallelism: {fit.parallelism}"
    emit(fit.to_contract(), format, text)


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
                        format: Format = typer.Option(Format.text, "--format")):
    """Fit one model to thousands of curves independently (plates, screens, bootstrap samples)."""
    from adcbridge.assays.dose_response import fit_dose_response_batch
    table = _read(data)
    try:
        batch = fit_dose_response_batch(table, model=model.value, x=x, y=y, curve=curve, se=se)
    except ValueError as exc:
        raise ValueError(f"{data}: {str(exc).splitlines()[0]}") from None
    if out is not None:
        from adcbridge.io import write_table
        write_table(out, batch.table)
    if plot or ed50_plot:
        from adcbridge.report.batch_plots import plot_batch_ed50, plot_dose_response_batch
        _save_plot(plot_dose_response_batch(batch, table) if plot else None, plot)
        _save_plot(plot_batch_ed50(batch) if ed50_plot else None, ed50_plot)
    t = batch.table
    status = {str(k): int(v) for k, v in t["status"].value_counts().items()}
    ed = t["ed50"].to_numpy(float)
    ok = ed[(t["status"] == "converged").to_numpy() & np.isfinite(ed)]
    summary = {"model": batch.spec.model, "n_curves": len(t), "status": status,
               "median_ed50": float(np.median(ok)) if ok.size else None,
               "issues": [{"code": i.code, "message": i.message, "severity": i.severity} for i in batch.issues],
               "table": None if out is None else str(out)}
    text = "\n".join([f"{len(t)} curves fitted with {batch.spec.model}: " +
                      ", ".join(f"{k} {v}" for k, v in status.items()),
                      f"median ED50 (converged curves): {summary['median_ed50']:.4g}" if ok.size else
                      "no converged curve", *(f"{i.severity}: {i.message}" for i in batch.issues),
                      f"per-curve table: {out}" if out else _frame(t.head(20))])
    emit(summary, format, text)


@fit_app.command("kinetics")
def kinetics(data: Path = typer.Argument(..., help="Long sensorgrams: cycle, conc, time, response."),
             t_on: float = typer.Option(..., "--t-on", help="Injection start (s)."),
             t_off: float = typer.Option(..., "--t-off", help="Injection end (s)."),
             conc_unit: str = typer.Option(..., "--conc-unit", help="Unit of the conc column (M, nM, pM, ...)."),
             rmax: str = typer.Option("global", "--rmax", help="global or local Rmax."),
             bulk: bool = typer.Option(False, "--bulk", help="Fit a bulk refractive-index step per injection."),
             drift: bool = typer.Option(False, "--drift", help="Fit a linear baseline drift."),
             mass_transport: bool = typer.Option(False, "--mass-transport", help="Two-compartment model."),
             cycle: str = typer.Option("cycle", "--cycle", help="Cycle column."),
             conc: str = typer.Option("conc", "--conc", help="Analyte concentration column."),
             time: str = typer.Option("time", "--time", help="Time column (s)."),
             response: str = typer.Option("response", "--response", help="Response column (RU or nm)."),
             plot: Optional[Path] = PLOT,
             format: Format = typer.Option(Format.text, "--format")):
    """Global 1:1 (Langmuir) fit of SPR/BLI sensorgrams: ka, kd, KD with SEs and CIs, quality flags."""
    from adcbridge.assays.kinetics import fit_kinetics
    table = _read(data)
    try:
        fit = fit_kinetics(table, t_on=t_on, t_off=t_off, conc_unit=conc_unit, rmax=rmax, bulk=bulk,
                           drift="global" if drift else "none", mass_transport=mass_transport, cycle=cycle,
                           conc=conc, time=time, response=response)
    except ValueError as exc:
        raise ValueError(f"{data}: {str(exc).splitlines()[0]}") from None
    if plot:
        from adcbridge.report import plot_sensorgrams
        _save_plot(plot_sensorgrams(fit), plot)
    c = fit.to_contract()
    text = (f"ka = {c['ka']['estimate']:.5g} 1/(M s) (SE {c['ka']['se']:.3g}), kd = {c['kd']['estimate']:.5g} 1/s "
            f"(SE {c['kd']['se']:.3g}), KD = {c['KD']['estimate']:.4g} M [{c['KD']['ci_low']:.4g}, "
            f"{c['KD']['ci_high']:.4g}], Chi2 {c['chi2']:.4g}\nflags: {', '.join(c['flags']) or 'none'}")
    emit(c, format, text)


@fit_app.command("internalization")
def internalization(data: Path = typer.Argument(..., help="% internalized per antibody and time, or raw MFI."),
                    controls: Optional[Path] = typer.Option(None, "--controls",
                                                            help="4 degC quench controls (with raw MFI input)."),
                    antibody: str = typer.Option("adc", "--antibody", help="Antibody column."),
                    time: str = typer.Option("time_h", "--time", help="Time column."),
                    value: str = typer.Option("pct_internalized", "--value", help="% internalized column."),
                    compare: Optional[str] = typer.Option(None, "--compare", help="Two antibodies, e.g. A,B."),
                    plot: Optional[Path] = PLOT,
                    format: Format = typer.Option(Format.text, "--format")):
    """Internalization kinetics: one-phase fits (plateau, rate, half-time) and F tests between two antibodies."""
    from adcbridge.assays.internalization import analyze_internalization, fit_internalization
    table = _read(data)
    opts = {}
    if compare:
        pair = tuple(p.strip() for p in compare.split(","))
        if len(pair) != 2:
            raise typer.BadParameter(f"expected two antibodies, got {compare!r}", param_hint="'--compare'")
        opts["compare"] = pair
    try:
        if value in table.columns:
            res = fit_internalization(table, antibody=antibody, time=time, value=value, **opts)
        else:
            ctrl = _read(controls) if controls else None
            res = analyze_internalization(table, ctrl, antibody=antibody, time=time, **opts)
    except ValueError as exc:
        raise ValueError(f"{data}: {str(exc).splitlines()[0]}") from None
    if plot:
        from adcbridge.report import plot_internalization
        _save_plot(plot_internalization(res), plot)
    emit(res.to_contract(), format, _frame(res.table))


@fit_app.command("xenograft")
def xenograft(data: Path = typer.Argument(..., help="Tumour volumes: group, animal, day, volume (long)."),
              control: str = typer.Option(..., "--control", help="The control (vehicle) group."),
              tgi: list[str] = typer.Option(..., "--tgi", help="TGI definition(s) by name, or 'all' (repeatable)."),
              day: list[float] = typer.Option(..., "--day", help="Evaluation day(s) (repeatable)."),
              group: str = typer.Option("group", "--group", help="Group column."),
              animal: str = typer.Option("animal", "--animal", help="Animal column."),
              day_column: str = typer.Option("day", "--day-column", help="Day column."),
              volume: str = typer.Option("volume", "--volume", help="Tumour volume column."),
              humane_endpoint: Optional[float] = typer.Option(None, "--humane-endpoint",
                                                              help="Volume at which animals leave the study."),
              dropout: str = typer.Option("available", "--dropout", help="available or carry_forward."),
              plot: Optional[Path] = typer.Option(None, "--plot",
                                                  help="Save a PNG of the tumour volumes (animals and group means)."),
              km_plot: Optional[Path] = typer.Option(None, "--km-plot",
                                                     help="Save a PNG of the Kaplan-Meier time to endpoint."),
              format: Format = typer.Option(Format.text, "--format")):
    """Xenograft efficacy: TGI under named definitions, T/C, regression, growth rates, time to endpoint."""
    from adcbridge.assays.xenograft import analyze_xenograft
    table = _read(data)
    try:
        res = analyze_xenograft(table, group=group, animal=animal, day=day_column, volume=volume, control=control,
                                tgi=tuple(tgi), days=tuple(day), humane_endpoint=humane_endpoint, dropout=dropout)
    except ValueError as exc:
        raise ValueError(f"{data}: {str(exc).splitlines()[0]}") from None
    if plot or km_plot:
        from adcbridge.report.xenograft_plots import plot_time_to_endpoint, plot_tumour_volumes
        _save_plot(plot_tumour_volumes(res) if plot else None, plot)
        _save_plot(plot_time_to_endpoint(res) if km_plot else None, km_plot)
    emit(res.to_contract(), format, _frame(res.table))
