"""``adcbridge validate``: installation and operational qualification -- the bundled reference comparisons re-run
on this installation, written up as a dated report (thin layer over :mod:`adcbridge.qualification`)."""

from __future__ import annotations

from pathlib import Path

import typer

from adcbridge.cli.common import FORMAT, Format, emit


def validate_cmd(out: Path = typer.Option(Path("adcbridge_validation"), "--out",
                                          help="Output folder: validation.json and validation.html (written all at "
                                               "once)."),
                 force: bool = typer.Option(False, "--force", help="Replace the output folder if it is a previous "
                                                                   "report of adcbridge validate (or empty)."),
                 fmt: Format = FORMAT):
    """Installation qualification: re-run the bundled reference comparisons and write a dated report.

    BOIN, CRM, 3+3, drc, NCA, SPR kinetics, internalization, xenograft and translation checks run on this
    installation; exit 1 if any check fails."""
    from adcbridge.qualification.checks import run_checks
    from adcbridge.qualification.report import JSON_NAME, check_output_folder, write_report
    check_output_folder(out, force)            # before any work: a folder that may not be replaced is refused

    def progress(area, results, seconds: float) -> None:
        if fmt == Format.text:
            passed = sum(r.passed for r in results)
            failed = [r.id for r in results if not r.passed]
            tail = f"; FAILED: {', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}" if failed else ""
            typer.echo(f"{area.id}: {passed}/{len(results)} passed ({seconds:.1f} s){tail}")

    run = run_checks(progress=progress)
    html = write_report(run, out, force=force)
    verdict = "PASS" if run.passed else "FAIL"
    summary = {"result": verdict, "passed": run.passed, "checks_total": len(run.checks),
               "checks_passed": run.n_passed, "failed_checks": [c.id for c in run.checks if not c.passed],
               "areas": [{k: a[k] for k in ("area", "checks", "passed", "seconds")} for a in run.areas],
               "report": str(html), "json": str(out / JSON_NAME)}
    emit(summary, fmt, f"{verdict}: {run.n_passed} of {len(run.checks)} checks passed ({run.seconds:.1f} s)",
         wrote=[html, out / JSON_NAME])
    if not run.passed:
        raise typer.Exit(1)
