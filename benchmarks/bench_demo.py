"""Whole-process times of the main job, ``adcbridge demo`` (the bundled JSKN003-like study, issue 13), and of the
same study on a second data set generated from the same truths with another seed (not tuned on).

Beside it, timed in the same run: the way the same analyses are run without a study file -- one ``adcbridge``
process per analysis with the same flags (what a user stitching commands runs; the report, the dependency handling
and the SVG copies are the study's extra work, the separate commands write no report).  The design comparison is
``adcbridge trial`` on the same three designs and scenarios.  Also the whole-process time of ``adcbridge
validate`` (the issue's target: <= 120 s).

    python benchmarks/bench_demo.py [--repeats 3] [--write]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from benchkit import best_of, write_section

import adcbridge

HERE = Path(__file__).parent
ROOT = HERE.parent
ADC = str(Path(sys.executable).with_name("adcbridge"))
STUDY = ROOT / "src" / "adcbridge" / "examples" / "jskn003_study"


def _separate_commands(study_file: Path, work: Path) -> list[list[str]]:
    """One command line per analysis of the study (the study's own flag mapping, outputs to ``work``)."""
    from adcbridge.study import load_study
    from adcbridge.study.kinds import KINDS, _flags
    study = load_study(study_file)
    cmds = []
    for analysis_id in study.order:
        a = study.analysis(analysis_id)
        kind = KINDS[a.kind]
        if kind.command is None:
            continue
        argv = [ADC, *kind.command, *(str(p) for p in study.data_paths(a))]
        if a.kind == "nca-stats":
            argv.append(str(work / f"{a.of}.csv"))
        if a.kind == "fih":
            argv = [ADC, "fih", "--config", str(study.data_paths(a)[0])]
        argv += _flags(kind, a.options, study.folder)
        for flag, pattern in kind.outputs:
            name = pattern.format(id=a.id).replace("results/", "").replace("figures/", "")
            argv += [flag, str(work / name)]
        cmds.append(argv)
    cmds.append([ADC, "trial", "--trials", "5000", "--out", str(work / "trial")])
    return cmds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        second = tmp / "second"
        shutil.copytree(STUDY, second)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_example_study.py"), "--out",
                        str(second / "data"), "--seed", "7"], check=True, capture_output=True)
        for label, study in (("bundled (adcbridge demo)", None), ("second data set (seed 7)", second / "study.yaml")):
            out = tmp / "out"
            cmd = [ADC, "demo", "--out", str(out), "--force", "--quiet"] if study is None else \
                [ADC, "run", str(study), "--out", str(out), "--force", "--quiet"]
            t_study = best_of(lambda: subprocess.run(cmd, check=True, capture_output=True), args.repeats)
            work = tmp / "work"

            def separate():
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                for c in _separate_commands(study or STUDY / "study.yaml", work):
                    subprocess.run(c, check=True, capture_output=True)

            rows.append((label, t_study, best_of(separate, args.repeats)))
        validate = [ADC, "validate", "--out", str(tmp / "qualification"), "--force"]
        t_validate = best_of(lambda: subprocess.run(validate, check=True, capture_output=True), args.repeats)
    lines = [f"adcbridge {adcbridge.__version__}, Python {platform.python_version()}, {platform.machine()}, "
             f"{date.today().isoformat()}; whole processes, best of {args.repeats}.", "",
             "| study | `adcbridge demo` / `run` (s) | the same analyses as separate commands (s) | target |",
             "|---|---:|---:|---|"]
    for label, t_study, t_sep in rows:
        lines.append(f"| {label} | {t_study:.1f} | {t_sep:.1f} | <= 60 s: {'met' if t_study <= 60 else 'NOT met'} |")
    lines += ["", "The study run does more than the separate commands: the dependency order, the SVG copy of every "
                  "figure, the conclusions and the self-contained HTML report (about 6 MB with 30 figures).", "",
              f"`adcbridge validate` (422 bundled reference comparisons, whole process): {t_validate:.1f} s "
              f"(target <= 120 s: {'met' if t_validate <= 120 else 'NOT met'}).  No reference tool runs these "
              f"comparisons in one process, so there is no ratio; the reference tools' own times for the same "
              f"cases are in the sections above (BOIN, NCA, dose-response)."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("demo", "The main job: `adcbridge demo`, the bundled study (issue 13)\n\n"
                      "`python benchmarks/bench_demo.py --write`", text)


if __name__ == "__main__":
    main()
