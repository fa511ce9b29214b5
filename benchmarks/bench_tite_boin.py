"""Speed of TITE-BOIN operating characteristics against the reference TITEgBOIN 0.4.0 ``get_oc_TITE_QuasiBOIN``.

Scenarios: the four TITE cases of ``tests/reference/data/boin/tite.json`` (A4 defaults, A4 with accrual 1, A2 with
maxpen 0.33, the package's man-page example with maxt 28 and accrual 10).  adcbridge: ``simulate`` of 10,000
trials, the whole call, best of 3 (after one warm-up call).  Reference: R needs 7-26 s for 10,000 trials by scenario
on this machine kind (``../shared/reference/boin/README.md``, "Recorded run times"); the per-scenario figure shown
is 5 x the time the reference file records for its 2,000-trial run (``elapsed_sec``), and the ratio against the
lower end of the recorded range (7 s) is shown too.  R is not installed here, so nothing of R is run now.

Run:  python benchmarks/bench_tite_boin.py
"""

from __future__ import annotations

import json
import platform
import tracemalloc
from pathlib import Path

from benchkit import best_of  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from adcbridge import __version__
from adcbridge.dosefinding import simulate, tite_boin

REF = Path(__file__).parents[1] / "tests" / "reference" / "data" / "boin" / "tite.json"
N_TRIALS = 10_000
R_RECORDED_LOW = 7.0       # s per 10,000 trials, fastest scenario (README "Recorded run times")


def scenarios():
    for case in json.loads(REF.read_text())["get_oc_TITE_QuasiBOIN"]:
        a = case["args"]
        if not a["TITE"]:
            continue
        design = tite_boin(a["target"], len(a["prob"]), max_pending=a.get("maxpen") or 0.5,
                           dlt_window=a.get("maxt") or 1.0)
        options = {"accrual_rate": a.get("accrual") or 3.0, "late_onset": a.get("alpha1") or 0.5,
                   "late_window": a.get("alpha2") or 0.5}
        yield case["id"], design, a["prob"], options, 5 * case["elapsed_sec"]


def main() -> str:
    lines = [f"adcbridge {__version__}, Python {platform.python_version()}, {platform.machine()}; "
             f"{N_TRIALS:,} trials, best of 3",
             "",
             "| scenario | adcbridge (s) | trials/s | R est. 10k (s) | ratio | ratio vs 7 s |",
             "|---|---|---|---|---|---|"]
    for name, design, p, options, r_time in scenarios():
        simulate(design, p, 1000, seed=1, **options)                   # warm-up
        t = best_of(lambda d=design, p=p, o=options: simulate(d, p, N_TRIALS, seed=1, **o), 3)
        lines.append(f"| {name} | {t:.3f} | {N_TRIALS / t:,.0f} | {r_time:.1f} | {r_time / t:,.0f}x | "
                     f"{R_RECORDED_LOW / t:,.0f}x |")
    name, design, p, options, _ = next(iter(scenarios()))
    tracemalloc.start()
    simulate(design, p, 100_000, seed=1, **options)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    t = best_of(lambda: simulate(design, p, 100_000, seed=1, **options), 1)
    lines += ["", f"100,000 trials of {name}: {t:.2f} s, peak traced memory {peak:.0f} MiB"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
