"""``adcbridge run``: a study file from the raw preclinical package to the trial design, with its report (thin
layer over :mod:`adcbridge.study`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _run(spec, out: Path, force: bool, quiet: bool) -> None:
    from adcbridge.study import run_study
    from adcbridge.study.run import check_output_folder
    check_output_folder(out, force, spec)     # before any work (--force: an empty folder or a previous run's output)

    import sys
    bar = None
    if not quiet and sys.stderr.isatty():             # a live progress bar on a terminal (rich)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=Console(stderr=True), transient=True)
        task = bar.add_task("analyses", total=len(spec.order))

    def progress(i: int, n: int, analysis_id: str, status: str) -> None:
        if bar is not None:
            bar.update(task, advance=1, description=f"{analysis_id}: {status}")
        elif not quiet:                                # a log: one line an analysis
            typer.echo(f"[{i}/{n}] {analysis_id}: {status}", err=True)

    if bar is not None:
        with bar:
            result = run_study(spec, out, force=force, progress=progress)
    else:
        result = run_study(spec, out, force=force, progress=progress)
    for a in result.analyses:
        line = a.outcome.conclusion if a.outcome else a.error
        typer.echo(f"{a.id} ({a.kind}) {a.status}: {line}")
    typer.echo(f"wrote {out / 'report.html'}")
    if not result.ok:
        raise typer.Exit(1)


def run_cmd(study: Path = typer.Argument(..., help="The study file (YAML)."),
            out: Path = typer.Option(..., "--out", help="Output folder: report.html, summary.json, results/, "
                                                        "figures/ (written all at once)."),
            force: bool = typer.Option(False, "--force", help="Replace the output folder if it is a previous run's "
                                                              "output (or empty)."),
            quiet: bool = typer.Option(False, "--quiet", help="No progress display (the conclusions are still "
                                                              "printed).")):
    """Run every analysis of a study file and write its results and an HTML report; exit 1 if an analysis
    failed (the others still run)."""
    from adcbridge.study import load_study
    _run(load_study(study), out, force, quiet)     # load_study: every problem of the file, before any work


def demo_cmd(out: Path = typer.Option(Path("adcbridge_demo"), "--out", help="Output folder of the report."),
             force: bool = typer.Option(False, "--force", help="Replace the output folder if it is a previous run's "
                                                               "output (or empty)."),
             trials: Optional[int] = typer.Option(None, "--trials", min=1, max=1_000_000,
                                                  help="Simulated trials per scenario and design (default: the "
                                                       "study's, 5,000)."),
             seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Random seed (default: the study's, "
                                                                            "2026)."),
             quiet: bool = typer.Option(False, "--quiet", help="No progress display (the conclusions are still "
                                                               "printed).")):
    """The main job: the bundled JSKN003-like study, from the raw data to the trial design, in DIR/report.html.

    Binding, internalization, cytotoxicity, xenografts, cynomolgus PK, toxicology, FIH start dose and ladder, human
    PK projection, and the BOIN design with its operating characteristics against 3+3 and CRM."""
    from importlib import resources

    from adcbridge.study import load_study
    with resources.as_file(resources.files("adcbridge.examples").joinpath("jskn003_study")) as folder:
        spec = load_study(Path(folder) / "study.yaml")
        if seed is not None:
            spec.file.seed = seed
        if trials is not None:
            for a in spec.file.analyses:
                if a.kind == "simulate":
                    a.options["trials"] = trials
        _run(spec, out, force, quiet)


def init_cmd(folder: Path = typer.Argument(..., help="Folder for the template study (must not exist, or be empty)."),
             force: bool = typer.Option(False, "--force", help="Replace the folder if it is a template written by "
                                                               "adcbridge init (or empty).")):
    """Write a template study to edit: the bundled study file (every key explained), its data and README.

    Run it with `adcbridge run FOLDER/study.yaml --out DIR`."""
    from importlib import resources

    from adcbridge.study.template import write_template
    with resources.as_file(resources.files("adcbridge.examples").joinpath("jskn003_study")) as source:
        written = write_template(Path(source), folder, force=force)     # --force: only a previous template
    typer.echo(f"wrote {folder}/ ({len(written)} files); run it with: adcbridge run {folder / 'study.yaml'} --out "
               f"{folder / 'report'}")

