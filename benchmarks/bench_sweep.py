"""Whole-process times of ``adcbridge sweep`` (issue 14): the command a user runs, start-up, the Dask cluster's
start and the writing of the outputs included, in this process (``--workers 0``) and on a local cluster of 2
worker processes, on two sweep files: the one below and a second with other designs and scenarios (not tuned on).

Beside it, the recorded time of the reference for the same number of trials: BOIN's ``get.oc`` runs 10,000 trials
in 4.9 s on this machine kind (``shared/reference/boin/README.md``; R is not installed here), i.e. about 490 s per
million trials of one design and scenario.

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
GET_OC_PER_TRIAL = 4.9 / 10_000          # BOIN::get.oc, recorded, seconds per simulated trial

SWEEPS = {
    "sweep A (BOIN, CRM, 3+3 x 2 scenarios)": {
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
}


def _time(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


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
            for workers in ("0", "2"):
                out = Path(tmp) / f"out{workers}"
                t = _time([ADC, "sweep", str(path), "--out", str(out), "--workers", workers, "--quiet", "--force"])
                ref = total * GET_OC_PER_TRIAL
                rows.append(f"| {title} | {n_cells} x {args.trials:,} = {total:,} | {workers} | {t:.1f} | "
                            f"{total / t:,.0f} | {ref:,.0f} | {ref / t:,.0f}x |")
                print(rows[-1], flush=True)
    text = (f"adcbridge, Python {platform.python_version()}, {platform.machine()}, {date.today()}; whole process "
            f"(`adcbridge sweep ... --workers N`), one run each.\n\n"
            "| sweep | trials | workers | wall (s) | trials/s | get.oc recorded, same trials (s) | ratio |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")
    print(text)
    if args.write:
        write_section("sweep", "Simulation sweeps on Dask (issue 14)", text)


if __name__ == "__main__":
    main()
