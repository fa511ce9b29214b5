"""``adcbridge run``: a study file from the raw preclinical package to the trial design, with its report (thin
layer over :mod:`adcbridge.study`)."""

from __future__ import annotations

from pathlib import Path

import typer


def run_cmd(study: Path = typer.Argument(..., help="The study file (YAML)."),
            out: Path = typer.Option(..., "--out", help="Output folder: report.html, summary.json, results/, "
                                                        "figures/ (written all at once)."),
            force: bool = typer.Option(False, "--force", help="Replace the output folder if it exists."),
            quiet: bool = typer.Option(False, "--quiet", help="No progress lines.")):
    """Run every analysis of a study file and write its results and an HTML report; exit 1 if an analysis
    failed (the others still run)."""
    from adcbridge.study import load_study, run_study
    from adcbridge.study.run import check_output_folder
    spec = load_study(study)                       # every problem of the file, before any work
    check_output_folder(out, force)

    def progress(i: int, n: int, analysis_id: str, status: str) -> None:
        if not quiet:
            typer.echo(f"[{i}/{n}] {analysis_id}: {status}", err=True)

    result = run_study(spec, out, force=force, progress=progress)
    for a in result.analyses:
        line = a.outcome.conclusion if a.outcome else a.error
        typer.echo(f"{a.id} ({a.kind}) {a.status}: {line}")
    typer.echo(f"wrote {out / 'report.html'}")
    if not result.ok:
        raise typer.Exit(1)
