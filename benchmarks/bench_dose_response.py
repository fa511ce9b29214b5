"""Speed of the batched dose-response fit: 10,000 LL.4 curves of 8 points (the reference's benchmark set).

adcbridge's ``fit_dose_response_batch`` (vectorised Levenberg-Marquardt over all curves, drc-type standard
errors and ED50s included) is timed from the in-memory long table to the per-curve table, best of 5 after a
warm-up.  In the same run a plain scipy loop -- ``scipy.optimize.curve_fit`` per curve from drc's self-starter,
the usual way to do it in Python -- is timed once, and the quality criterion of issue 4 is checked: the share of
curves whose residual sum of squares is no worse than the per-curve scipy fit (relative 1e-6).  drc's time on
this machine kind (99 s) is quoted from the reference notes (R is not installed here).

Run:  python benchmarks/bench_dose_response.py          (prints a Markdown section; RESULTS.md is not edited)
"""

from __future__ import annotations

import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from adcbridge import __version__
from adcbridge.assays.dose_response import (fit_curves_array, fit_dose_response_batch, get_model, long_to_arrays,
                                            self_start)

HERE = Path(__file__).parent
DATA = HERE.parent / "tests" / "reference" / "data" / "fit" / "bench" / "bench_curves.csv"
DRC_S, SCIPY_RECORDED_S = 99.0, 3.2
TARGET_S, TARGET_SHARE = 0.5, 0.999


def timed(f, k=5):
    times, out = [], None
    for _ in range(k):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times)), out


def _ll4(x, b, c, d, e):
    return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


def scipy_loop(X, Y):
    """curve_fit per curve from drc's self-starter (p0); a failed curve gets RSS = inf."""
    start = self_start(get_model("LL.4"), X, Y)[:, :4]
    rss = np.full(len(X), np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(X)):
            ok = np.isfinite(X[i])
            try:
                p, _ = curve_fit(_ll4, X[i, ok], Y[i, ok], p0=start[i])
            except (RuntimeError, ValueError):
                continue
            r = Y[i, ok] - _ll4(X[i, ok], *p)
            rss[i] = r @ r if np.isfinite(r).all() else np.inf
    return rss


def main() -> str:
    data = pd.read_csv(DATA)
    X, Y, _ = long_to_arrays(data, x="conc", y="resp", curve="curve")
    n = len(X)
    fit_dose_response_batch(data, x="conc", y="resp", curve="curve")            # warm-up
    t_drc, med_drc, batch = timed(lambda: fit_dose_response_batch(data, x="conc", y="resp", curve="curve"))
    t_jac, med_jac, _ = timed(lambda: fit_dose_response_batch(data, x="conc", y="resp", curve="curve",
                                                              se="jacobian"))
    t_arr, med_arr, _ = timed(lambda: fit_curves_array(X, Y, "LL.4", se="jacobian"))
    t0 = time.perf_counter()
    scipy_rss = scipy_loop(X, Y)
    t_scipy = time.perf_counter() - t0

    table = batch.table
    rss = table["rss"].to_numpy()
    as_good = rss <= scipy_rss * (1 + 1e-6)
    scipy_ok = np.isfinite(scipy_rss)
    better = scipy_ok & (rss < scipy_rss * (1 - 1e-6))
    status = table["status"].value_counts().to_dict()
    share = as_good.mean()
    lines = [
        f"adcbridge {__version__}, Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; 10,000 LL.4 curves x 8 points "
        f"(`bench/bench_curves.csv`), wall time from the in-memory long table, best (median) of 5 after a warm-up.",
        "",
        "| fit | time (s) | vs scipy loop, this run | vs drc (99 s, recorded) |",
        "|---|---:|---:|---:|",
        f"| `fit_dose_response_batch`, drc-type SEs + ED50 | {t_drc:.3f} ({med_drc:.3f}) | "
        f"{t_scipy / t_drc:.0f}x | {DRC_S / t_drc:.0f}x |",
        f"| `fit_dose_response_batch`, Gauss-Newton SEs + ED50 | {t_jac:.3f} ({med_jac:.3f}) | "
        f"{t_scipy / t_jac:.0f}x | {DRC_S / t_jac:.0f}x |",
        f"| `fit_curves_array` (arrays in, no table) | {t_arr:.3f} ({med_arr:.3f}) | {t_scipy / t_arr:.0f}x | "
        f"{DRC_S / t_arr:.0f}x |",
        f"| scipy `curve_fit` loop from drc's self-starter (this run; recorded 3.2 s) | {t_scipy:.2f} | 1x | "
        f"{DRC_S / t_scipy:.0f}x |",
        "",
        f"Quality: {as_good.sum():,} of {n:,} curves ({100 * share:.2f} %) have an RSS no worse than the per-curve "
        f"scipy fit (relative 1e-6); scipy failed on {(~scipy_ok).sum()} curves (counted as no worse); among the "
        f"{scipy_ok.sum():,} it fitted, {100 * as_good[scipy_ok].mean():.2f} % are no worse and {better.sum():,} "
        f"better by more than 1e-6.  Target: <= {TARGET_S} s and >= {100 * TARGET_SHARE:.1f} %: "
        f"{'met' if t_drc <= TARGET_S and share >= TARGET_SHARE else 'NOT met'}.",
        f"Batch outcome: {', '.join(f'{k} {v:,}' for k, v in sorted(status.items()))} (`status`); "
        f"{int((table['method'] == 'scipy').sum())} curves needed the per-curve scipy fallback; "
        f"{int((~table['identifiable']).sum())} flagged not identifiable.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print("## Dose-response, 10,000 LL.4 curves (issue 4)\n")
    print("`python benchmarks/bench_dose_response.py`\n")
    print(main())
