"""Speed of BF-BOIN (``boin-backfill``) operating characteristics against the reference, bfboin 0.1.1 ``get.oc.bf``.

The three reference scenarios of ``tests/reference/data/boin/backfill.json`` at 10,000 trials: the whole
``simulate`` call, best of 3 (after one warm-up call), against the reference's recorded 10,000-trial time on this
machine kind (R is not installed here; ``timings`` in the reference file: 67.3 / 121.4 / 35.5 s).  Also the
trials per second per core and, optionally, the whole command-line process (``adcbridge simulate``) when the
command line knows the design.

Run:  python benchmarks/bench_boin_backfill.py [--cli]
(It prints; benchmarks/RESULTS.md is updated by hand from its output.)
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchkit import best_of

from adcbridge import __version__
from adcbridge.dosefinding import simulate
from adcbridge.dosefinding.backfill.design import BackfillBoinDesign

HERE = Path(__file__).parent
REFERENCE = HERE.parent / "tests" / "reference" / "data" / "boin" / "backfill.json"
N = 10_000


def design_of(a) -> BackfillBoinDesign:
    return BackfillBoinDesign(
        target=a["target"], n_doses=len(a["p.true"]), cohort_size=a["cohortsize"], n_cohorts=a["ncohort"],
        n_earlystop=a["n.earlystop"], start_dose=a["startdose"], p_saf=a["p.saf"], p_tox=a["p.tox"],
        cutoff_eli=a["cutoff.eli"], extrasafe=a["extrasafe"], offset=a["offset"], bound_mtd=a["boundMTD"],
        n_cap=a["n.cap"], dlt_window=a["dlt.window"], three_plus_three=a["three.plus.three"],
        backfill_assign=a["backfill.assign"])


def cli_seconds(case) -> float | None:
    """Wall time of the whole ``adcbridge simulate`` process for the case (None if the CLI lacks the design)."""
    exe = shutil.which("adcbridge") or str(Path(sys.executable).with_name("adcbridge"))
    a = case["args"]
    cmd = [exe, "simulate", "--design", "boin-backfill", "--target", str(a["target"]),
           "--p-true", ",".join(map(str, a["p.true"])), "--q-true", ",".join(map(str, a["p.response.true"])),
           "--cohort-size", str(a["cohortsize"]), "--cohorts", str(a["ncohort"]), "--n-cap", str(a["n.cap"]),
           "--accrual", a["accrual"], "--accrual-rate", str(a["n.per.month"]), "--dlt-window", str(a["dlt.window"]),
           "--backfill-assign", a["backfill.assign"], "--trials", str(N), "--seed", "1", "--format", "json"]
    if a["three.plus.three"]:
        cmd.append("--three-plus-three")
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0 if done.returncode == 0 else None


def main(with_cli: bool) -> None:
    ref = json.loads(REFERENCE.read_text())
    print(f"adcbridge {__version__}, Python {platform.python_version()}, {platform.machine()}; "
          f"{N:,} trials per scenario, best of 3")
    print(f"{'scenario':55s} {'adcbridge s':>11s} {'trials/s':>10s} {'bfboin s':>9s} {'ratio':>7s}"
          + (f" {'CLI s':>7s}" if with_cli else ""))
    for case in ref["get_oc_bf"]:
        a = case["args"]
        design = design_of(a)

        def run(design=design, a=a):
            return simulate(design, a["p.true"], n_trials=N, seed=1, q_true=a["p.response.true"],
                            accrual=a["accrual"], accrual_rate=a["n.per.month"])
        run()
        t = best_of(run, 3)
        r = case["timing"]["elapsed_sec_ntrial10000"]
        line = f"{case['id']:55s} {t:11.3f} {N / t:10,.0f} {r:9.1f} {r / t:6.0f}x"
        if with_cli:
            c = cli_seconds(case)
            line += f" {c:7.2f}" if c is not None else "     n/a"
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true", help="also time the whole command-line process")
    main(parser.parse_args().cli)
