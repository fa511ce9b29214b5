"""``adcbridge run``: a study file from the raw preclinical package to the trial design, with its report (thin
layer over :mod:`adcbridge.study`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _run_output_problem(folder: Path) -> str | None:
    """None when ``folder`` holds the summary.json of a study run and, in results/ and figures/, only files named
    after its analyses; else why not (see :data:`RUN_OUTPUT`)."""
    import json
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        summary = None
    if not (isinstance(summary, dict) and {"study", "adcbridge", "analyses"} <= set(summary)
            and isinstance(summary["analyses"], dict)):
        return "has no summary.json of a study run"
    ids = set(summary["analyses"])
    for sub in ("results", "figures"):
        if not (folder / sub).is_dir():
            continue
        try:
            names = sorted(p.name for p in (folder / sub).iterdir())
        except OSError as exc:
            return f"has a {sub}/ that cannot be listed ({exc.strerror or exc})"
        others = [n for n in names if n.split(".")[0] not in ids]       # ids hold no '.'
        if others:
            return f"holds {sub}/{others[0]}, which is not a file of the analyses in its summary.json"
    return None


def _run_output():
    """What ``adcbridge run`` (and ``demo``) writes into its output folder, so that ``--force`` replaces a previous
    run's output and nothing else."""
    from adcbridge.io.files import PreviousOutput
    return PreviousOutput("adcbridge run or demo", files=("report.html", "summary.json"),
                          folders=("results", "figures"), check=_run_output_problem)


def _run(spec, out: Path, force: bool, quiet: bool) -> None:
    from adcbridge.io.files import check_previous_output
    from adcbridge.study import run_study
    from adcbridge.study.run import check_output_folder
    check_output_folder(out, force, spec)
    check_previous_output(out, force, _run_output())     # --force: only an empty folder or a previous run's output

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

    from adcbridge.io.files import check_previous_output
    from adcbridge.study.template import write_template
    with resources.as_file(resources.files("adcbridge.examples").joinpath("jskn003_study")) as source:
        check_previous_output(folder, force, _template_output(Path(source)))
        written = write_template(Path(source), folder, force=force)
    typer.echo(f"wrote {folder}/ ({len(written)} files); run it with: adcbridge run {folder / 'study.yaml'} --out "
               f"{folder / 'report'}")


def _template_output(source: Path):
    """What ``adcbridge init`` writes (the bundled study folder ``source``): study.yaml, README.md and data/, its
    README.md starting with the bundled one's title -- so that ``--force`` replaces a previous template and nothing
    else."""
    from adcbridge.io.files import PreviousOutput

    def problem(folder: Path) -> str | None:
        def title(path: Path) -> str | None:
            try:
                with open(path, encoding="utf-8") as fh:
                    return fh.readline().strip()
            except (OSError, UnicodeDecodeError):
                return None
        if not (folder / "study.yaml").is_file() or title(folder / "README.md") != title(source / "README.md"):
            return "has no study.yaml and README.md of the template study"
        return None
    return PreviousOutput("adcbridge init", files=("study.yaml", "README.md"), folders=("data",), check=problem)
