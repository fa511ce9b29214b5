"""``adcbridge pk ...``: compartmental PK fits and simulations (a thin layer over :mod:`adcbridge.pk`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import (
    FORMAT,
    Format,
    about_file,
    emit,
    floats,
    frame,
    name_value_units,
    name_values,
    png_bytes,
    png_path,
)
from adcbridge.cli.translation import ModalityOption

pk_app = typer.Typer(help="Compartmental PK: fit 1/2/3-compartment, TMDD and ADC models; simulate regimens.",
                     no_args_is_help=True)


class PkModel(str, Enum):
    one = "1cmt"
    two = "2cmt"
    three = "3cmt"
    adc = "adc"
    mm = "mm"
    qss = "qss"


class Route(str, Enum):
    infusion = "infusion"
    bolus = "bolus"


class ErrorModel(str, Enum):
    proportional = "proportional"
    combined = "combined"
    additive = "additive"
    log = "log"


class TimeUnit(str, Enum):
    h = "h"
    day = "day"


def _read(path: Path):
    from adcbridge.io.nca_files import read_concentrations
    return read_concentrations(path)


@pk_app.command("fit")
def fit(data: Path = typer.Argument(..., help="Long concentration table (CSV/Excel): ID, TIME, CONC, DOSE, ..."),
        model: PkModel = typer.Option(PkModel.two, "--model", help="PK model."),
        route: Route = typer.Option(Route.infusion, "--route", help="Dosing route."),
        tinf: str = typer.Option("0.5", "--tinf", help="Infusion duration (h) or the name of a column; "
                                                   "default 0.5 h, the cynomolgus studies' infusion."),
        error: ErrorModel = typer.Option(ErrorModel.proportional, "--error", help="Residual error model."),
        by: str = typer.Option("ID", "--by", help="Subject column (one fit per subject)."),
        pooled: bool = typer.Option(False, "--pooled", help="Naive pooled fit (one parameter set)."),
        group: list[str] = typer.Option([], "--group", help="With --pooled: one pooled fit per group column."),
        analyte: list[str] = typer.Option([], "--analyte", help="Analyte(s) to fit (repeatable)."),
        dosing: Optional[Path] = typer.Option(None, "--dosing", help="Dosing table (ID, TDOSE, DOSE[, TINF])."),
        time: str = typer.Option("TIME", "--time", help="Time column (h unless --time-unit day)."),
        conc: str = typer.Option("CONC", "--conc", help="Concentration column."),
        dose: str = typer.Option("DOSE", "--dose", help="Dose column (mg/kg or mg)."),
        blq: str = typer.Option("BLQ", "--blq", help="BLQ flag column (if present; else CONC = 0 is BLQ)."),
        analyte_column: str = typer.Option("ANALYTE", "--analyte-column", help="Analyte column (if present)."),
        time_unit: TimeUnit = typer.Option(TimeUnit.h, "--time-unit", help="Unit of the time columns."),
        rate_time: TimeUnit = typer.Option(TimeUnit.h, "--rate-time", help="Clearances per h or per day."),
        fix: list[str] = typer.Option([], "--fix", help="Fix a parameter, NAME=VALUE (repeatable)."),
        n_starts: int = typer.Option(5, "--n-starts", help="Starts per fit."),
        seed: int = typer.Option(1, "--seed", help="Seed of the perturbed starts."),
        plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of the individual fits."),
        gof: Optional[Path] = typer.Option(None, "--gof", help="Save a PNG of the goodness-of-fit panels."),
        format: Format = FORMAT):
    """Fit a compartmental model by maximum likelihood; estimates with SE and RSE, OFV, AIC, BIC per fit."""
    from adcbridge.pk import fit_pk
    png_path(plot, "--plot"), png_path(gof, "--gof")
    table = _read(data)
    dose_table = _read(dosing) if dosing else None
    try:
        tinf_value: float | str = float(tinf)
    except ValueError:
        tinf_value = tinf
    try:
        res = fit_pk(table, model.value, dosing=dose_table, route=route.value, tinf=tinf_value, error=error.value,
                     subject=by, pooled=pooled, group=tuple(group), analytes=tuple(analyte) or None, time=time,
                     conc=conc, dose=dose, blq=blq, analyte=analyte_column, time_unit=time_unit.value,
                     rate_time=rate_time.value, fixed=name_values(fix, "--fix"), n_starts=n_starts, seed=seed)
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        source = dosing if dosing is not None and "dosing table" in message else data   # name the file at fault
        raise about_file(exc, source) from None
    if plot or gof:
        from adcbridge.io import staged_outputs
        from adcbridge.report.pk_plots import plot_pk_gof, plot_pk_individual
        with staged_outputs(make_folders=False) as stage:  # both plots or neither
            if plot:
                stage.bytes(plot, png_bytes(plot_pk_individual(res)))
            if gof:
                stage.bytes(gof, png_bytes(plot_pk_gof(res)))
    cols = ["id", "parameter", "estimate", "se", "rse", "unit"]
    text = frame(res.table[cols], digits=5) + "\n\n" + frame(
        res.fit_statistics[["id", "n", "n_blq", "ofv", "aic", "bic", "converged"]], digits=6)
    if res.issues:
        text += "\n\n" + "\n".join(f"{i.severity}: {i.code}: {i.message}" for i in res.issues)
    emit(res.to_record(), format, text, wrote=[plot, gof])


@pk_app.command("simulate")
def simulate(model: PkModel = typer.Option(PkModel.two, "--model", help="PK model."),
             param: list[str] = typer.Option([], "--param", help="Parameter NAME=VALUE (repeatable)."),
             params: Optional[Path] = typer.Option(None, "--params", help="CSV of parameter sets (one per row)."),
             dose: float = typer.Option(..., "--dose", help="Dose (mg/kg or mg)."),
             tau: Optional[float] = typer.Option(None, "--tau", help="Dosing interval (h)."),
             n: int = typer.Option(1, "--n", help="Number of doses."),
             tinf: float = typer.Option(0.0, "--tinf", help="Infusion duration (h); default 0 = bolus (pk fit "
                                                                  "assumes 0.5 h, pk project 1.5 h)."),
             times: Optional[str] = typer.Option(None, "--times", help="Comma-separated times (h)."),
             tmax: Optional[float] = typer.Option(None, "--tmax", help="Last time of an even grid (h)."),
             points: int = typer.Option(100, "--points", min=2, max=100_000,
                                        help="Grid points with --tmax (2 to 100,000)."),
             output: Optional[str] = typer.Option(None, "--output", help="Analyte (ADC model: ADC, TAb, PAYLOAD)."),
             rate_time: TimeUnit = typer.Option(TimeUnit.h, "--rate-time", help="Clearances per h or per day."),
             cycle: Optional[int] = typer.Option(None, "--cycle", help="Also report exposure over dosing cycle k."),
             format: Format = FORMAT):
    """Simulate concentrations of a regimen (repeated every --tau, --n times) and optionally its exposure."""
    import numpy as np
    import pandas as pd

    from adcbridge.pk import Regimen, exposure
    from adcbridge.pk import simulate as sim
    if params and param:
        raise typer.BadParameter("give the parameters as --param NAME=VALUE or as a --params table, not both",
                                 param_hint="'--param'")
    values: dict | pd.DataFrame = _read(params) if params else name_values(param, "--param")
    if times and tmax is not None:
        raise typer.BadParameter("give --times or --tmax (with --points), not both", param_hint="'--times'")
    if times:
        grid = np.array(floats(times, "--times"))
        if np.any(grid < 0) or np.any(np.diff(grid) <= 0):
            raise typer.BadParameter(f"must be increasing times >= 0 (h), got {times!r}", param_hint="'--times'")
    elif tmax is not None:
        if not (np.isfinite(tmax) and tmax > 0):
            raise typer.BadParameter(f"must be a time > 0 (h), got {tmax:g}", param_hint="'--tmax'")
        grid = np.linspace(0.0, tmax, points)
    else:
        raise typer.BadParameter("give --times or --tmax", param_hint="'--times'")
    regimen = Regimen.repeated(dose, tau, n, tinf) if tau else Regimen.single(dose, tinf)
    if n > 1 and not tau:
        raise typer.BadParameter("several doses need --tau", param_hint="'--tau'")
    c = sim(model.value, values, regimen, grid, output=output, rate_time=rate_time.value)
    out = {"model": model.value, "time": grid.tolist(), "conc": c.tolist()}
    text = frame(pd.DataFrame(c.T, columns=[f"set{k}" for k in range(c.shape[0])]).assign(time=grid)
                 [["time"] + [f"set{k}" for k in range(c.shape[0])]], digits=6)
    if cycle:
        e = exposure(model.value, values, regimen, cycle=cycle, output=output, rate_time=rate_time.value)
        out["exposure"] = e.drop(columns=["output"]).to_dict("records")
        text += "\n\n" + frame(e, digits=6)
    emit(out, format, text)


@pk_app.command("project")
def pk_project(param: list[str] = typer.Option(..., "--param", help="Animal parameter NAME=VALUE:UNIT, e.g. "
                                                                   "CL=20:mL/day/kg (repeatable)."),
               species: str = typer.Option("cynomolgus", "--from", help="Species the parameters come from."),
               model: str = typer.Option("2cmt", "--model", help="Linear model: 1cmt, 2cmt or 3cmt."),
               modality: ModalityOption = typer.Option(ModalityOption.adc, "--modality",
                                                       help="Clearance exponent: adc 1.0, antibody 0.85."),
               body_weight: Optional[float] = typer.Option(None, "--body-weight",
                                                           help="Animal body weight (kg); default per species."),
               human_weight: float = typer.Option(70.0, "--human-weight", help="Human body weight (kg)."),
               dose: str = typer.Option("1,3,10", "--dose", help="Candidate human doses (mg/kg), comma-separated."),
               tau_day: float = typer.Option(21.0, "--tau-day", help="Dosing interval (days)."),
               n_doses: int = typer.Option(1, "--n-doses", help="Number of doses."),
               cycle: Optional[int] = typer.Option(None, "--cycle", help="Cycle of the exposure table "
                                                                         "(default: the last)."),
               infusion_h: float = typer.Option(1.5, "--infusion-h", "--tinf",
                                                help="Human infusion duration (h); default 1.5 h, a clinical ADC "
                                                     "infusion (pk fit assumes 0.5 h for animals)."),
               plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of the predicted profiles."),
               format: Format = typer.Option(Format.text, "--format", help="Output format.")):
    """Human PK projection: scale an animal compartmental parameter set by allometry and predict human profiles
    and exposure (Cmax, AUC over a cycle, Ctrough) at candidate doses."""
    from adcbridge.translation.projection import project_human_pk
    from adcbridge.translation.units import json_records
    png_path(plot, "--plot")                         # before the projection: a figure that cannot be written fails now
    doses = floats(dose, "--dose")
    proj = project_human_pk(name_value_units(param, "--param"), species, model=model,
                            modality=modality.value.replace("-", "_"),
                            body_weight_kg=body_weight, human_weight_kg=human_weight, tau_day=tau_day,
                            n_doses=n_doses, infusion_h=infusion_h)
    table = proj.exposure(doses, cycle=cycle)
    if plot is not None:
        from adcbridge.io import write_bytes
        from adcbridge.report.translation_plots import plot_human_projection
        write_bytes(png_path(plot, "--plot"), png_bytes(plot_human_projection(proj, doses)))
    contract = {**proj.to_record(), "exposure": json_records(table),
                "units": {"dose": "mg/kg", "cmax": "ug/mL", "ctrough": "ug/mL", "cavg": "ug/mL",
                          "auc": "ug*day/mL"}}
    half = ", ".join(f"{k.replace('t_half_', 't1/2 ')} {v:.3g} d" for k, v in contract["half_lives_day"].items()
                     if k != "t_half_terminal" or len(contract["half_lives_day"]) == 1)
    cols = ["name", "animal_value", "animal_unit", "exponent", "human_value", "human_unit"]
    text = "\n".join([f"{species} -> human ({human_weight:g} kg), {model}, {modality.value} exponents; {half}",
                      frame(proj.table[cols], digits=4),
                      f"exposure, cycle {int(table['cycle'].iloc[0])} of {n_doses} every {tau_day:g} days "
                      f"(Cmax, Ctrough ug/mL; AUC ug*day/mL):",
                      frame(table[["dose", "dose_mg", "cmax", "ctrough", "cavg", "auc"]], digits=4),
                      *(f"{i.severity}: {i.message}" for i in proj.issues)])
    emit(contract, format, text, wrote=[plot])
