"""Whole-process times of the commands a statistician runs during a dose-escalation meeting (issue 10).

Each command is run as a user runs it -- a new process, Python start-up and imports included -- and timed as the
best of ``--repeats`` runs, beside the reference timed in the same run: ``Rscript`` running the same BOIN decision
table and next-dose decision in base R (``benchmarks/r/boin_decision.R``; R's own start-up included) and a bare
``Rscript -e 0``.  Two designs: the bundled example's (target 0.3, 5 doses, cohorts of 3) and a second one that
the code was not tuned on (target 0.25, 7 doses, cohorts of 4, four cohorts so far).

    python benchmarks/bench_startup.py [--repeats 7] [--write]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchkit import write_section

import adcbridge

HERE = Path(__file__).parent
ADC = str(Path(sys.executable).with_name("adcbridge"))
R_SCRIPT = str(HERE / "r" / "boin_decision.R")

DESIGNS = {
    "A: target 0.3, 5 doses, cohorts of 3": dict(
        next=["boin", "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN"],
        table=["boin", "table", "--target", "0.3"],
        r=["0.3", "5", "3", "10", "1:3:0,2:3:1", "2"]),
    "B: target 0.25, 7 doses, cohorts of 4": dict(
        next=["boin", "next", "--target", "0.25", "--doses", "7", "--cohort-size", "4", "--cohorts", "8",
              "--outcomes", "1NNNN 2NNNN 3NTNN 3TNTN"],
        table=["boin", "table", "--target", "0.25", "--cohort-size", "4", "--cohorts", "8", "--format", "json"],
        r=["0.25", "7", "4", "8", "1:4:0,2:4:0,3:8:3", "3"]),
}

HELP = [["--help"], ["boin", "--help"], ["boin", "next", "--help"], ["simulate", "--help"], ["nca", "--help"],
        ["fit", "dose-response", "--help"], ["pk", "fit", "--help"], ["fih", "--help"], ["translate", "--help"]]


def wall(cmd: list[str], repeats: int) -> float:
    """Best-of-``repeats`` wall time of running ``cmd`` as a new process (after one untimed warm-up run)."""
    subprocess.run(cmd, check=True, capture_output=True)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="Write the section of benchmarks/RESULTS.md.")
    a = ap.parse_args()
    rscript = shutil.which("Rscript")
    python_bare = wall([sys.executable, "-c", "pass"], a.repeats)
    r_bare = wall([rscript, "-e", "0"], a.repeats) if rscript else None
    rows = []
    for name, d in DESIGNS.items():
        r_time = wall([rscript, R_SCRIPT, *d["r"]], a.repeats) if rscript else None
        for what in ("next", "table"):
            t = wall([ADC, *d[what]], a.repeats)
            rows.append((name, "adcbridge " + " ".join(x if " " not in x else f'"{x}"' for x in d[what]), t, r_time))
    helps = [(" ".join(h), wall([ADC, *h], a.repeats)) for h in HELP]
    lines = [f"adcbridge {adcbridge.__version__}, Python {platform.python_version()}, {platform.machine()}, "
             f"{date.today().isoformat()}; whole process (start-up and imports included), best of {a.repeats} "
             f"runs after a warm-up.  Bare `python -c pass`: {python_bare:.3f} s"
             + (f"; bare `Rscript -e 0`: {r_bare:.3f} s." if r_bare else "; R not installed."), "",
             "| design | command | adcbridge (s) | Rscript, same decision in base R (s) | ratio R / adcbridge |",
             "|---|---|---:|---:|---:|"]
    for name, cmd, t, r in rows:
        lines.append(f"| {name} | `{cmd}` | {t:.3f} | {'n/a' if r is None else f'{r:.3f}'} | "
                     f"{'n/a' if r is None else f'{r / t:.2f}x'} |")
    lines += ["", "| `--help` of | time (s) |", "|---|---:|"]
    lines += [f"| `adcbridge {h}` | {t:.3f} |" for h, t in helps]
    worst = max([t for *_, t, _ in rows] + [t for _, t in helps])
    lines += ["", f"Slowest of these: {worst:.3f} s.  Target: every one <= 0.3 s: "
                  f"{'met' if worst <= 0.3 else 'NOT met'}."]
    text = "\n".join(lines)
    print(text)
    if a.write:
        write_section("startup", "Command start-up (issue 10)",
                      f"`python benchmarks/bench_startup.py --write`\n\n{text}")


if __name__ == "__main__":
    main()
