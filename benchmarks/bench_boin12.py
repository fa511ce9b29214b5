"""Speed of BOIN12 operating characteristics against the recorded run times of the reference.

The three ``get_oc`` scenarios of the reference data (``tests/reference/data/boin/boin12.json``): 10,000 trials
each through ``adcbridge.dosefinding.simulate`` (the whole call: scenario checks, simulation, OBD selection,
summary; best of 3 after a warm-up), against phase12designs 0.2.0 ``oc_boin12`` at 10,000 trials on this
machine kind as recorded in ``../shared/reference/boin/README.md`` and the JSON's ``timings`` (R is not
installable here).  Also the whole command-line process when ``adcbridge simulate --design boin12`` exists.

Run:  python benchmarks/bench_boin12.py      (prints; RESULTS.md is kept by hand)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchkit import best_of  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from adcbridge.dosefinding import boin12, simulate

DATA = Path(__file__).parents[1] / "tests" / "reference" / "data" / "boin" / "boin12.json"
N_TRIALS = 10_000


def scenarios():
    ref = json.loads(DATA.read_text())
    recorded = {c["id"]: c["elapsed_sec_ntrial10000"] for c in ref["timings"]["cases"]}
    for case in ref["get_oc"]:
        a = case["args"]
        design = boin12(a["target_t"], a["lower_e"], a["ndose"], cohort_size=a["cohortsize"], cohorts=a["ncohort"],
                        start_dose=a["startdose"], utility=(a["u1"], a["u2"]), cutoff_eli=a["psafe"],
                        cutoff_futility=a["pfutility"])
        yield case["id"], design, a["prob"]["pT"], a["prob"]["pE"], recorded[case["id"]]


def cli_seconds(design, p_true, q_true) -> float | None:
    """Wall time of the whole ``adcbridge simulate`` process, when the command takes boin12."""
    exe = shutil.which("adcbridge") or str(Path(sys.executable).with_name("adcbridge"))
    cmd = [exe, "simulate", "--design", "boin12", "--target", str(design.target), "--efficacy-min",
           str(design.efficacy_min), "--doses", str(design.n_doses), "--cohort-size", str(design.cohort_size),
           "--cohorts", str(design.n_cohorts), "--start-dose", str(design.start_dose),
           "--utility", ",".join(f"{u:g}" for u in design.utility), "--cutoff-eli", str(design.cutoff_eli),
           "--cutoff-futility", str(design.cutoff_futility), "--p-true", ",".join(map(str, p_true)),
           "--q-true", ",".join(map(str, q_true)), "--trials", str(N_TRIALS), "--seed", "1", "--format", "json"]
    best = None
    for _ in range(3):
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return None
        best = min(best or 1e9, time.perf_counter() - t)
    return best


def main() -> None:
    print(f"BOIN12, {N_TRIALS:,} trials per scenario (whole simulate() call, best of 3)")
    print(f"{'scenario':45s} {'adcbridge s':>12s} {'R oc_boin12 s':>14s} {'ratio':>7s} {'CLI s':>7s}")
    for name, design, p, q, r_time in scenarios():
        run = lambda: simulate(design, p, n_trials=N_TRIALS, seed=1, q_true=q)  # noqa: E731
        t = best_of(run, 3, warmup=True)
        cli = cli_seconds(design, p, q)
        print(f"{name:45s} {t:12.4f} {r_time:14.3f} {r_time / t:6.0f}x {'n/a' if cli is None else f'{cli:.2f}':>7s}")


if __name__ == "__main__":
    main()
