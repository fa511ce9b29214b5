"""``adcbridge sweep``: simulation sweeps over designs x scenarios x sample sizes, on Dask or in this process."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def sweep_cmd(sweep: Path = typer.Argument(..., help="The sweep file (YAML): designs, scenarios, sample_sizes, "
                                                     "trials, seed."),
              out: Path = typer.Option(..., "--out", help="Output folder: results.parquet, summary.html, sweep.json "
                                                          "(written all at once)."),
              workers: int | None = typer.Option(None, "--workers", min=0,
                                                 help="Local Dask worker processes (default: one per CPU); 0 runs "
                                                      "in this process."),
              scheduler: str | None = typer.Option(None, "--scheduler",
                                                   help="Address of a running Dask scheduler, tcp://HOST:PORT, e.g. "
                                                        "tcp://10.0.0.5:8786 (its workers need adcbridge)."),
              force: bool = typer.Option(False, "--force", help="Replace the output folder if it is a previous "
                                                                "sweep's output (its sweep.json, results.parquet, "
                                                                "summary.html and nothing else)."),
              quiet: bool = typer.Option(False, "--quiet", help="No progress display.")):
    """Operating characteristics of designs x scenarios x sample sizes, 1e5-1e6 trials a cell, reproducible bit for
    bit whatever the number of workers."""
    from adcbridge.io.files import check_new_folder
    from adcbridge.sweep import load_sweep, run_sweep, write_sweep
    from adcbridge.sweep.run import scheduler_problem
    from adcbridge.sweep.write import SWEEP_OUTPUT
    if workers is not None and scheduler is not None:
        raise typer.BadParameter("runs on local workers; --scheduler names a running cluster: give one of them",
                                 param_hint="'--workers'")
    if scheduler is not None and (problem := scheduler_problem(scheduler)):
        raise typer.BadParameter(problem, param_hint="'--scheduler'")
    spec = load_sweep(sweep)
    check_new_folder(out, force, keep=[sweep], previous=SWEEP_OUTPUT)     # --force: only a previous sweep's output
    bar = None
    if not quiet and sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        bar = Progress(TextColumn("trials"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                       TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        task = bar.add_task("trials", total=None)
    state = {"step": 0}

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(task, completed=done, total=total)
        elif not quiet:
            step = int(10 * done / total)
            if step > state["step"] or done == total:
                state["step"] = step
                typer.echo(f"{done:,}/{total:,} trials", err=True)

    if bar is not None:
        with bar:
            result = run_sweep(spec, workers=workers, scheduler=scheduler, progress=progress)
    else:
        result = run_sweep(spec, workers=workers, scheduler=scheduler, progress=progress)
    write_sweep(result, out, force=force)
    typer.echo(f"{len(result.cells)} cells x {spec.trials:,} trials, seed {spec.seed}, {result.runner}")
    typer.echo(f"wrote {out / 'results.parquet'}, {out / 'summary.html'}, {out / 'sweep.json'}")
