"""Speed of the designs beyond the MTD (issue 14), as a user runs them: the whole ``adcbridge simulate`` process for
10,000 trials (start-up included), and the ``simulate`` call alone, on one reference scenario per design and on a
second scenario not tuned on, beside the reference's recorded time for 10,000 trials on this machine kind
(``shared/reference/boin/README.md``, "Recorded run times"; R and these R packages cannot be installed here, so the
references are not re-run).  The recorded R figures are function-call times inside a running R session (R's own
start-up and package loading excluded), so the whole-process ratio is the conservative one.

    python benchmarks/bench_beyond_mtd.py [--write]

The per-design scripts (``bench_tite_boin.py``, ``bench_comb_boin.py``, ``bench_boin12.py``,
``bench_boin_backfill.py``) time every reference scenario of each design.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchkit import best_of, write_section

ADC = str(Path(sys.executable).with_name("adcbridge"))

# design, scenario label, CLI flags, recorded R seconds for 10,000 trials (range by scenario), reference
CASES = [
    ("tite-boin", "TITE-BOIN paper scenario (reference)",
     "--target 0.3 --p-true 0.05,0.1,0.2,0.3,0.45,0.6 --accrual-rate 3", (7, 26), "TITEgBOIN get_oc_TITE_QuasiBOIN"),
    ("tite-boin", "late onset, slow accrual (not tuned on)",
     "--target 0.25 --p-true 0.02,0.06,0.12,0.25,0.4 --accrual-rate 1 --late-onset 0.8 --late-window 0.3 "
     "--max-pending 0.34", (7, 26), "TITEgBOIN get_oc_TITE_QuasiBOIN"),
    ("comb-boin", "3x5 grid, one MTD (reference)",
     "--target 0.3 --p-true '0.01,0.03,0.1,0.2,0.3;0.03,0.05,0.15,0.3,0.6;0.08,0.1,0.3,0.6,0.75' --cohorts 20 "
     "--n-earlystop 12", (4, 6), "BOIN get.oc.comb"),
    ("comb-boin", "4x4 grid, one MTD (not tuned on)",
     "--target 0.25 --p-true '0.02,0.05,0.1,0.2;0.05,0.1,0.2,0.3;0.1,0.2,0.3,0.45;0.2,0.3,0.45,0.6' --cohorts 16",
     (4, 6), "BOIN get.oc.comb"),
    ("comb-boin", "3x5 grid, waterfall (reference)",
     "--target 0.3 --p-true '0.01,0.03,0.1,0.2,0.3;0.03,0.05,0.15,0.3,0.6;0.08,0.1,0.3,0.6,0.75' --mtd-contour",
     (34, 62), "BOIN get.oc.comb, mtd.contour"),
    ("boin12", "BOIN12 scenario (reference)",
     "--target 0.35 --efficacy-min 0.25 --p-true 0.05,0.1,0.15,0.2,0.25 --q-true 0.1,0.25,0.4,0.45,0.5 "
     "--utility 80,20", (3, 6), "phase12designs oc_boin12"),
    ("boin12", "plateau efficacy (not tuned on)",
     "--target 0.3 --efficacy-min 0.2 --p-true 0.03,0.08,0.15,0.3,0.45 --q-true 0.2,0.4,0.42,0.43,0.44",
     (3, 6), "phase12designs oc_boin12"),
    ("boin-backfill", "uniform accrual, random backfill (reference)",
     "--target 0.25 --p-true 0.05,0.1,0.2,0.3,0.45 --q-true 0.1,0.2,0.3,0.35,0.4 --n-cap 9 --accrual uniform "
     "--backfill-assign random --bound-mtd", (36, 121), "bfboin get.oc.bf"),
    ("boin-backfill", "Poisson accrual, lowest backfill (not tuned on)",
     "--target 0.3 --p-true 0.08,0.15,0.3,0.45 --q-true 0.3,0.3,0.35,0.35 --n-cap 6 --accrual poisson "
     "--accrual-rate 1.5 --backfill-assign lowest", (36, 121), "bfboin get.oc.bf"),
]


def _process(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(args)}\n{done.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for design, label, flags, (r_lo, r_hi), ref in CASES:
        cmd = [ADC, "simulate", "--design", design, *shlex.split(flags), "--trials", "10000", "--seed", "1",
               "--format", "json"]
        whole = min(_process(cmd) for _ in range(args.repeats))
        call = _call_time(design, flags, args.repeats)
        rows.append(f"| {design} | {label} | {whole:.2f} | {call:.3f} | {r_lo}-{r_hi} ({ref}) | "
                    f"{r_lo / whole:.0f}-{r_hi / whole:.0f}x | {r_lo / call:.0f}-{r_hi / call:.0f}x |")
        print(rows[-1], flush=True)
    start_up = min(_process([ADC, "version"]) for _ in range(args.repeats))
    text = (f"adcbridge, Python {platform.python_version()}, {platform.machine()}, {date.today()}; 10,000 trials, "
            f"seed 1; best of {args.repeats}.  `adcbridge version` (start-up alone): {start_up:.2f} s.\n\n"
            "| design | scenario | whole process (s) | `simulate` call (s) | R recorded, 10,000 trials (s) | "
            "ratio, whole process | ratio, call |\n|---|---|---:|---:|---|---:|---:|\n" + "\n".join(rows) + "\n")
    print(text)
    if args.write:
        write_section("beyond_mtd", "Designs beyond the MTD: 10,000 simulated trials (issue 14)", text)


def _call_time(design: str, flags: str, repeats: int) -> float:
    """The ``simulate`` call alone, in this process (spec and scenario from the same flags)."""
    from adcbridge.cli.designs import build_from_flags, scenario_from_flags
    from adcbridge.cli.dosefinding import _p_true
    from adcbridge.dosefinding import simulate
    parts = shlex.split(flags)
    given = {}
    i = 0
    while i < len(parts):
        flag = parts[i]
        if i + 1 < len(parts) and not parts[i + 1].startswith("--"):
            given[flag] = parts[i + 1]
            i += 2
        else:
            given[flag] = True
            i += 1
    p_true = _p_true(given.pop("--p-true"))
    scenario_flags = {k: given.pop(k) for k in list(given) if k in ("--q-true", "--accrual-rate", "--accrual",
                                                                    "--late-onset", "--late-window")}
    if isinstance(p_true[0], list):
        given["--grid"] = f"{len(p_true)}x{len(p_true[0])}"
    typed = {}
    for k, v in given.items():
        try:
            typed[k] = int(v) if isinstance(v, str) and v.isdigit() else float(v) if isinstance(v, str) and \
                v.replace(".", "", 1).isdigit() else v
        except ValueError:
            typed[k] = v
    spec = build_from_flags(design, None, None if isinstance(p_true[0], list) else len(p_true), typed)
    for k in ("--accrual-rate", "--late-onset", "--late-window"):
        if k in scenario_flags:
            scenario_flags[k] = float(scenario_flags[k])
    scenario = scenario_from_flags(spec, design, scenario_flags)
    simulate(spec, p_true, n_trials=200, seed=1, **scenario)
    return best_of(lambda: simulate(spec, p_true, n_trials=10_000, seed=1, **scenario), repeats)


if __name__ == "__main__":
    main()
