"""Whole-process times of ``adcbridge sweep`` (issue 14): the command a user runs, start-up, the Dask cluster's
start and the writing of the outputs included, in this process (``--workers 0``) and on local clusters of 1 and 2
worker processes (scaling on this 2-core machine kind), with the peak memory of the largest process.

Four sweep files: A (the trial engine's designs), B (not tuned on: other targets, scenarios, two sample sizes),
C (the designs with their own simulator: TITE-BOIN, BOIN12, backfill) and D (the combination design, one MTD and
the waterfall).  Beside each, the recorded time of the references for the same trials on this machine kind
(``shared/reference/boin/README.md``; R is not installed here), at the low end of each reference's range:
BOIN ``get.oc`` 4.9 s per 10,000 trials, TITEgBOIN 7 s, ``get.oc.comb`` 4 s (one MTD) and 34 s (waterfall),
the BOIN12 reference 3.1 s, bfboin 35.5 s.

    python benchmarks/bench_sweep.py [--trials 200000] [--write]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml
from benchkit import write_section

ADC = str(Path(sys.executable).with_name("adcbridge"))
#: recorded reference seconds per simulated trial (low end of each range: the ratio is the conservative one)
REFERENCE_PER_TRIAL = {"boin": 4.9e-4, "3+3": 4.9e-4, "crm": 4.9e-4, "tite-boin": 7e-4, "boin12": 3.1e-4,
                       "boin-backfill": 35.5e-4, "comb-boin": 4e-4, "comb-boin-contour": 34e-4}

SWEEPS = {
    "sweep A (BOIN, BOIN extra-safe, 3+3 x 2 scenarios)": {
        "designs": [{"name": "boin", "target": 0.3, "n_doses": 5}, {"name": "3+3", "n_doses": 5},
                    {"name": "boin", "label": "boin-extrasafe", "target": 0.3, "n_doses": 5, "extrasafe": True}],
        "scenarios": [{"name": "S1", "p_true": [0.05, 0.10, 0.20, 0.30, 0.50], "target": 0.3},
                      {"name": "S2", "p_true": [0.30, 0.40, 0.50, 0.60, 0.70], "target": 0.3}],
        "seed": 2026},
    "sweep B (BOIN at two sample sizes x 3 scenarios, not tuned on)": {
        "designs": [{"name": "boin", "target": 0.25, "n_doses": 6, "n_earlystop": 12}],
        "scenarios": [{"name": "T1", "p_true": [0.02, 0.05, 0.10, 0.25, 0.40, 0.55]},
                      {"name": "T2", "p_true": [0.10, 0.25, 0.40, 0.50, 0.60, 0.70]},
                      {"name": "T3", "p_true": [0.01, 0.02, 0.03, 0.05, 0.08, 0.12]}],
        "sample_sizes": [8, 12], "seed": 7},
    "sweep C (TITE-BOIN, BOIN12, backfill x 1 scenario)": {
        "designs": [{"name": "tite-boin", "target": 0.3, "n_doses": 5, "n_cohorts": 12},
                    {"name": "boin12", "target": 0.35, "efficacy_min": 0.25, "n_doses": 5, "n_cohorts": 10},
                    {"name": "boin-backfill", "target": 0.3, "n_doses": 5, "n_cohorts": 10, "n_cap": 12}],
        "scenarios": [{"name": "U1", "p_true": [0.05, 0.10, 0.20, 0.30, 0.45], "q_true": [0.1, 0.2, 0.35, 0.4, 0.45],
                       "accrual_rate": 2.0}],
        "seed": 11},
    "sweep D (combination BOIN, one MTD and the waterfall, 3x4 grid)": {
        "designs": [{"name": "comb-boin", "target": 0.3, "grid": [3, 4], "n_cohorts": 16},
                    {"name": "comb-boin", "label": "comb-contour", "target": 0.3, "grid": [3, 4],
                     "mtd_contour": True}],
        "scenarios": [{"name": "G1", "p_true": [[0.02, 0.05, 0.10, 0.20], [0.05, 0.10, 0.20, 0.30],
                                                [0.10, 0.20, 0.30, 0.45]]}],
        "seed": 13},
}


def _reference_seconds(sweep: dict, trials: int) -> float:
    """The references' recorded time for the same trials, design by design."""
    per_cell = len(sweep["scenarios"]) * len(sweep.get("sample_sizes") or [1]) * trials
    return sum(per_cell * REFERENCE_PER_TRIAL[d["name"] + ("-contour" if d.get("mtd_contour") else "")]
               for d in sweep["designs"])


def _time(args: list[str]) -> tuple[float, float]:
    """Wall seconds of the command, and the peak resident memory (MiB) of the largest process it ran (the
    command or one of its Dask workers: GNU time's maximum resident set size, over the command's descendants)."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name, *args], check=True, capture_output=True)
        wall = time.perf_counter() - start
        return wall, int(Path(f.name).read_text().split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200_000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for title, sweep in SWEEPS.items():
            path = Path(tmp) / "sweep.yaml"
            path.write_text(yaml.safe_dump({**sweep, "trials": args.trials}))
            n_cells = len(sweep["designs"]) * len(sweep["scenarios"]) * len(sweep.get("sample_sizes") or [1])
            total = n_cells * args.trials
            ref = _reference_seconds(sweep, args.trials)
            for workers in ("0", "1", "2"):
                out = Path(tmp) / f"{len(rows)}-out{workers}"
                t, mib = _time([ADC, "sweep", str(path), "--out", str(out), "--workers", workers, "--quiet"])
                rows.append(f"| {title} | {n_cells} x {args.trials:,} = {total:,} | {workers} | {t:.1f} | "
                            f"{total / t:,.0f} | {mib:,.0f} | {ref:,.0f} | {ref / t:,.0f}x |")
                print(rows[-1], flush=True)
    text = (f"adcbridge, Python {platform.python_version()}, {platform.machine()}, {date.today()}; whole process "
            f"(`adcbridge sweep ... --workers N`), one run each; peak memory is that of the largest process (the "
            f"command or one Dask worker); the references' times are recorded ones for the same trials.\n\n"
            "| sweep | trials | workers | wall (s) | trials/s | peak memory (MiB) | references recorded, same trials "
            "(s) | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")
    print(text)
    if args.write:
        write_section("sweep", "Simulation sweeps on Dask (issue 14)", text)


if __name__ == "__main__":
    main()
