"""Speed and memory of the NCA on 10,000 profiles x 12 samples (the reference's benchmark data set).

adcbridge runs the full single-dose parameter set (both AUC methods timed) from the in-memory table to the long
CDISC table.  The reference tools' timings on this machine kind are recorded in the project's reference notes
(NonCompart 0.8.0: 30 s; PKNCA 0.12.1: 329 s); R NonCompart/PKNCA are not installable here (no CRAN access), so
they are quoted, not re-run.  Growth to 1,000,000 profiles is checked on a replicated data set.

Run:  python benchmarks/bench_nca.py [--write] [--million]
"""

from __future__ import annotations

import argparse
import gzip
import platform
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from adcbridge import __version__
from adcbridge.nca import NcaOptions, run_nca

from benchkit import best_of, write_section  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

HERE = Path(__file__).parent
DATA = HERE.parent / "tests" / "reference" / "data" / "nca" / "large_10000x12.csv.gz"
NONCOMPART_S, PKNCA_S = 30.0, 329.0


def load() -> pd.DataFrame:
    with gzip.open(DATA) as fh:
        d = pd.read_csv(fh)
    return d.assign(DOSE=100.0)


def run(d: pd.DataFrame, method: str):
    return run_nca(d, subject="ID", time="TIME", conc="CONC", dose="DOSE",
                   options=NcaOptions(auc_method=method, units={"dose": "mg"}))



def main(million: bool) -> str:
    d = load()
    run(d, "linear")
    lines = [f"adcbridge {__version__}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; "
             f"wall time from the in-memory table to the long CDISC table (all single-dose parameters), best of 5.",
             "", "| data | AUC method | adcbridge (s) | vs NonCompart (30 s) | vs PKNCA (329 s) |", "|---|---|---:|---:|---:|"]
    for method in ("linear", "lin-up-log-down"):
        t = best_of(lambda: run(d, method), 5)
        lines.append(f"| 10,000 x 12 | {method} | {t:.3f} | {NONCOMPART_S / t:.0f}x | {PKNCA_S / t:.0f}x |")
    tracemalloc.start()
    run(d, "lin-up-log-down")
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    lines.append(f"\nPeak Python memory for 10,000 profiles: {peak:.0f} MiB.")
    if million:
        from adcbridge.nca.analysis import run_nca_in_chunks
        lines.append("\nChunked (`run_nca_in_chunks`, 50,000 profiles per chunk; each chunk's long table discarded "
                     "after counting, as when streamed to disk):")
        for copies in (10, 100):
            big = pd.concat([d.assign(ID=d["ID"] + k * 100_000) for k in range(copies)], ignore_index=True)

            def chunked():
                return sum(len(r.table) for r in run_nca_in_chunks(
                    big, subject="ID", time="TIME", conc="CONC", dose="DOSE",
                    options=NcaOptions(units={"dose": "mg"})))
            t0 = time.perf_counter()
            rows = chunked()
            t = time.perf_counter() - t0
            tracemalloc.start()                     # memory measured in a second run (tracemalloc slows it down)
            chunked()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            lines.append(f"- {copies * 10_000:,} profiles ({rows:,} rows): {t:.1f} s ({t / copies:.3f} s per "
                         f"10,000), peak Python memory {peak:.0f} MiB beyond the input table.")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--million", action="store_true", help="also time 100,000 and 1,000,000 profiles")
    a = ap.parse_args()
    text = main(a.million)
    print(text)
    if a.write:
        write_section("nca", "NCA, 10,000 profiles (issue 3)\n\n`python benchmarks/bench_nca.py --write --million`", text)
