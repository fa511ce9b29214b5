"""``adcbridge pk ...``: compartmental PK fits and simulations (a thin layer over :mod:`adcbridge.pk`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli_common import Format, emit, frame, name_values, png_bytes

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


def _save(fig, path: Path) -> None:
    from adcbridge.io import write_bytes
    write_bytes(path, png_bytes(fig))


@pk_app.command("fit")
def fit(data: Path = typer.Argument(..., help="Long concentration table (CSV/Excel): ID, TIME, CONC, DOSE, ..."),
        model: PkModel = typer.Option(PkModel.two, "--model", help="PK model."),
        route: Route = typer.Option(Route.infusion, "--route", help="Dosing route."),
        tinf: str = typer.Option("0.5", "--tinf", help="Infusion duration (h) or the name of a column."),
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
        format: Format = typer.Option(Format.text, "--format")):
    """Fit a compartmental model by maximum likelihood; estimates with SE and RSE, OFV, AIC, BIC per fit."""
    from adcbridge.pk import fit_pk
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
        raise ValueError(f"{source}: {message}") from None
    if plot:
        from adcbridge.report.pk_plots import plot_pk_individual
        _save(plot_pk_individual(res), plot)
    if gof:
        from adcbridge.report.pk_plots import plot_pk_gof
        _save(plot_pk_gof(res), gof)
    cols = ["id", "parameter", "estimate", "se", "rse", "unit"]
    text = frame(res.table[cols], digits=5) + "\n\n" + frame(
        res.fit_statistics[["id", "n", "n_blq", "ofv", "aic", "bic", "converged"]], digits=6)
    if res.issues:
        text += "\n\n" + "\n".join(f"{i.severity}: {i.code}: {i.message}" for i in res.issues)
    emit(res.to_contract(), format, text)


@pk_app.command("simulate")
def simulate(model: PkModel = typer.Option(PkModel.two, "--model", help="PK model."),
             param: list[str] = typer.Option([], "--param", help="Parameter NAME=VALUE (repeatable)."),
             params: Optional[Path] = typer.Option(None, "--params", help="CSV of parameter sets (one per row)."),
             dose: float = typer.Option(..., "--dose", help="Dose (mg/kg or mg)."),
             tau: Optional[float] = typer.Option(None, "--tau", help="Dosing interval (h)."),
             n: int = typer.Option(1, "--n", help="Number of doses."),
             tinf: float = typer.Option(0.0, "--tinf", help="Infusion duration (h); 0 = bolus."),
             times: Optional[str] = typer.Option(None, "--times", help="Comma-separated times (h)."),
             tmax: Optional[float] = typer.Option(None, "--tmax", help="Last time of an even grid (h)."),
             points: int = typer.Option(100, "--points", help="Grid points with --tmax."),
             output: Optional[str] = typer.Option(None, "--output", help="Analyte (ADC model: ADC, TAb, PAYLOAD)."),
             rate_time: TimeUnit = typer.Option(TimeUnit.h, "--rate-time", help="Clearances per h or per day."),
             cycle: Optional[int] = typer.Option(None, "--cycle", help="Also report exposure over dosing cycle k."),
             format: Format = typer.Option(Format.text, "--format")):
    """Simulate concentrations of a regimen (repeated every --tau, --n times) and optionally its exposure."""
    import numpy as np
    import pandas as pd

    from adcbridge.pk import Regimen, exposure
    from adcbridge.pk import simulate as sim
    values: dict | pd.DataFrame = _read(params) if params else name_values(param, "--param")
    if times:
        try:
            grid = np.array([float(v) for v in times.split(",") if v.strip()])
        except ValueError:
            raise typer.BadParameter(f"expected comma-separated numbers, got {times!r}", param_hint="'--times'") \
                from None
    elif tmax:
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
