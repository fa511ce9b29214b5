"""Speed and memory of BOIN operating characteristics, side by side with R on the same machine.

Design: 5 doses, p_true = (0.05, 0.1, 0.2, 0.3, 0.5), target 0.3, 10 cohorts of 3 (the reference's benchmark).

* adcbridge Monte Carlo (``simulate``) at 1e3 .. 1e6 trials: best of several repeats, wall time;
  peak memory of the 1e6 run (tracemalloc: Python-visible allocations);
* adcbridge exact enumeration (``exact_oc``);
* R: a plain R loop of the same rules (``r/boin_oc_loop.R``), if ``Rscript`` is installed, run now; and the
  recorded timings of the reference ``BOIN::get.oc`` (0.50 / 4.9 / 48.1 s for 1e3 / 1e4 / 1e5 trials on this
  machine kind, from the project's reference notes) and of simFastBOIN 2.0.0 (C++; 0.0017 / 0.0089 / 0.100 s).

Run:  python benchmarks/bench_boin_oc.py [--write]   (--write updates the BOIN section of RESULTS.md)
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import time
import tracemalloc
from pathlib import Path

from benchkit import best_of, write_section  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from adcbridge import __version__
from adcbridge.dosefinding import boin, exact_oc, simulate

HERE = Path(__file__).parent
P_TRUE = [0.05, 0.1, 0.2, 0.3, 0.5]
DESIGN = boin(0.3, 5, cohort_size=3, cohorts=10)
GET_OC = {1_000: 0.50, 10_000: 4.9, 100_000: 48.1}
SIMFAST = {1_000: 0.0017, 10_000: 0.0089, 100_000: 0.100}



def r_loop(n: int) -> float | None:
    if not shutil.which("Rscript"):
        return None
    out = subprocess.run(["Rscript", str(HERE / "r" / "boin_oc_loop.R"), str(n), "1"], capture_output=True,
                         text=True, check=True).stdout
    return float(out.split()[0])


def main() -> str:
    simulate(DESIGN, P_TRUE, 1000, seed=1)           # warm-up (imports, tables)
    rows = []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        t = best_of(lambda: simulate(DESIGN, P_TRUE, n, seed=1), 7 if n <= 100_000 else 3)
        r = r_loop(n) if n <= 100_000 else None
        rows.append((n, t, r))
    tracemalloc.start()
    simulate(DESIGN, P_TRUE, 1_000_000, seed=1)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    t_exact = best_of(lambda: exact_oc(DESIGN, P_TRUE), 5)

    lines = [
        f"adcbridge {__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}; wall time, best of repeats.",
        "",
        "| trials | adcbridge (s) | R loop, same rules, this run (s) | ratio vs R loop | BOIN::get.oc recorded (s) "
        "| ratio vs get.oc | simFastBOIN C++ recorded (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, t, r in rows:
        rl = f"{r:.3f}" if r is not None else "n/a"
        rr = f"{r / t:.0f}x" if r is not None else "n/a"
        g = GET_OC.get(n)
        lines.append(f"| {n:,} | {t:.4f} | {rl} | {rr} | {g if g else 'n/a'} | "
                     f"{f'{g / t:.0f}x' if g else 'n/a'} | {SIMFAST.get(n, 'n/a')} |")
    lines += ["", f"Peak Python memory of the 1,000,000-trial run (chunks of 50,000 trials): {peak:.0f} MiB.",
              f"Exact operating characteristics of the same design (enumeration, no Monte Carlo error): "
              f"{t_exact:.3f} s (the reference's R enumerator: about 3.6 s)."]
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="update the BOIN section of benchmarks/RESULTS.md")
    text = main()
    print(text)
    if ap.parse_args().write:
        write_section("boin_oc", "BOIN operating characteristics (issue 2)", text)
