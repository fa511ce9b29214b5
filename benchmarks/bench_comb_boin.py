"""comb-boin: time ``simulate`` of 10,000 trials on the reference's get.oc.comb scenarios (whole call, best of 3)
against BOIN 2.7.2's recorded times for 10,000 trials (/work/shared/reference/boin/README.md, "Recorded run
times": get.oc.comb 4-6 s, waterfall 34-62 s; R is not installable here).  Run: python benchmarks/bench_comb_boin.py
(on a busy machine, OPENBLAS_NUM_THREADS=1 avoids BLAS threads competing with other processes).
"""

import time

import numpy as np

from adcbridge.dosefinding import comb_boin, simulate

P1 = [[0.01, 0.03, 0.1, 0.2, 0.3], [0.03, 0.05, 0.15, 0.3, 0.6], [0.08, 0.1, 0.3, 0.6, 0.75]]
P2 = [[0.05, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.45], [0.2, 0.3, 0.45, 0.6]]
CASES = [
    ("man_single_mtd", comb_boin(0.3, grid=(3, 5), n_cohorts=20, n_earlystop=12), P1, 4.0),
    ("p2_single_default_earlystop", comb_boin(0.3, grid=(3, 4), n_cohorts=16), P2, 4.0),
    ("man_single_mtd_titration", comb_boin(0.3, grid=(3, 5), n_cohorts=20, n_earlystop=12, titration=True), P1,
     4.0),
    ("man_waterfall", comb_boin(0.3, grid=(3, 5), mtd_contour=True, subtrial_cohorts=(10, 5, 5),
                                n_earlystop=12), P1, 34.0),
    ("p2_waterfall_default_ncohort", comb_boin(0.3, grid=(3, 4), mtd_contour=True), P2, 34.0),
]


def main() -> None:
    simulate(CASES[0][1], CASES[0][2], n_trials=100, seed=1)          # imports, caches
    print(f"{'scenario':32s} {'best of 3 (s)':>14s} {'R (s, fastest recorded)':>24s} {'ratio':>7s}")
    for name, design, p, r_time in CASES:
        times = []
        for k in range(3):
            t = time.perf_counter()
            simulate(design, np.array(p), n_trials=10_000, seed=k)
            times.append(time.perf_counter() - t)
        best = min(times)
        print(f"{name:32s} {best:14.3f} {r_time:24.1f} {r_time / best:7.0f}x")


if __name__ == "__main__":
    main()
