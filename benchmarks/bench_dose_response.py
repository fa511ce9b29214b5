"""Speed and quality of the batched dose-response fit: 10,000 LL.4 curves of 8 points, on two data sets.

* ``reference``: the reference's benchmark set (``tests/reference/data/fit/bench/bench_curves.csv``, seed 777);
* ``other``: 10,000 curves drawn with other true parameters (``benchmarks/data/dose_response_other.py``, seed
  20261125: increasing and decreasing curves, ED50s up to half a decade beyond the doses, 5 % inactive curves).

adcbridge's ``fit_dose_response_batch`` with its defaults (drc-type standard errors, ED50s, per-curve fallback)
is timed from the in-memory long table to the per-curve table, best of 5 after a warm-up (``benchkit.best_of``);
so are the Gauss-Newton-SE variant and ``fit_curves_array`` on arrays.  In the same run a plain scipy loop --
``scipy.optimize.curve_fit`` per curve from drc's self-starter, the usual way to do it in Python -- is timed once
as the reference ratio.

Quality (issue 10, item 6): the RSS of adcbridge must be no worse than the per-curve scipy fit (relative 1e-6) on
every curve that has a finite optimum.  A curve has one when a fit -- adcbridge's or scipy's -- reaches an RSS
below that of every limiting curve of LL.4 (step, power curve, constant: ``batch.limit_rss``, computed here for
every curve) by more than ``LIMIT_MARGIN``; on the other curves the least RSS is approached only as parameters run
to infinity, and any two fits stop at arbitrary points on the way out.  Both shares are reported.  drc's time on
this machine kind for the reference set (99 s) is quoted from the reference notes (R is not installed here).

What the user runs is timed too: ``adcbridge fit dose-response-batch DATA.csv ... --out fits.csv`` as a new
process (start-up, reading the CSV and writing the per-curve table included), best of 3, beside the same scipy
loop run as a new process on the same CSV (``python bench_dose_response.py --scipy-loop DATA.csv``: start-up,
reading, fitting), timed once in the same run.

Run:  python benchmarks/bench_dose_response.py [--write]     (--write updates the section of RESULTS.md)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from benchkit import (  # benchmarks/ is on sys.path when run as a script
    best_of,
    write_section,
)
from scipy.optimize import curve_fit

from adcbridge import __version__
from adcbridge.assays.dose_response import (
    fit_curves_array,
    fit_dose_response_batch,
    get_model,
    long_to_arrays,
    self_start,
)
from adcbridge.assays.dose_response.batch import LIMIT_MARGIN, limit_rss

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("dose_response_other", HERE / "data" / "dose_response_other.py")
OTHER = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(OTHER)
REFERENCE = HERE.parent / "tests" / "reference" / "data" / "fit" / "bench" / "bench_curves.csv"
DRC_S = 99.0
TARGET_S, TOLERANCE = 0.5, 1e-6


def _ll4(x, b, c, d, e):
    return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


def scipy_loop(X, Y):
    """curve_fit per curve from drc's self-starter (p0); a failed curve gets RSS = inf."""
    start = self_start(get_model("LL.4"), X, Y, np.isfinite(X) & np.isfinite(Y))[:, :4]
    rss = np.full(len(X), np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(X)):
            ok = np.isfinite(X[i]) & np.isfinite(Y[i])
            try:
                p, _ = curve_fit(_ll4, X[i, ok], Y[i, ok], p0=start[i])
            except (RuntimeError, ValueError):
                continue
            r = Y[i, ok] - _ll4(X[i, ok], *p)
            rss[i] = r @ r if np.isfinite(r).all() else np.inf
    return rss


def whole_process(data: pd.DataFrame) -> tuple[float, float]:
    """(adcbridge command, scipy loop script): wall times of new processes on the same CSV file."""
    adc = str(Path(sys.executable).with_name("adcbridge"))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "curves.csv"
        data.to_csv(csv, index=False)
        cmd = [adc, "fit", "dose-response-batch", str(csv), "--x", "conc", "--y", "resp", "--curve", "curve",
               "--out", str(Path(tmp) / "fits.csv")]
        subprocess.run(cmd, check=True, capture_output=True)            # warm-up (file cache)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--scipy-loop", str(csv)], check=True, capture_output=True)
        return best, time.perf_counter() - t0


def run(name: str, data: pd.DataFrame) -> dict:
    opts = {"x": "conc", "y": "resp", "curve": "curve"}
    X, Y, _ = long_to_arrays(data, **opts)
    t_drc = best_of(lambda: fit_dose_response_batch(data, **opts), 5, warmup=True)
    t_jac = best_of(lambda: fit_dose_response_batch(data, se="jacobian", **opts), 5, warmup=True)
    t_arr = best_of(lambda: fit_curves_array(X, Y, "LL.4", se="jacobian"), 5, warmup=True)
    batch = fit_dose_response_batch(data, **opts)
    t0 = time.perf_counter()
    scipy_rss = scipy_loop(X, Y)
    t_scipy = time.perf_counter() - t0
    table = batch.table
    rss = table["rss"].to_numpy(float)
    w = np.isfinite(X) & np.isfinite(Y)
    lim, _ = limit_rss(get_model("LL.4"), np.array([np.nan] * 4 + [1.0]), np.where(w, X, 1.0), Y, w)
    finite = np.fmin(rss, scipy_rss) < lim * (1 - LIMIT_MARGIN)
    as_good = ~(rss > scipy_rss * (1 + TOLERANCE))
    return {"name": name, "n": len(X), "t_drc": t_drc, "t_jac": t_jac, "t_arr": t_arr, "t_scipy": t_scipy,
            "finite": finite, "as_good": as_good, "better": rss < scipy_rss * (1 - TOLERANCE),
            "scipy_failed": int((~np.isfinite(scipy_rss)).sum()),
            "status": table["status"].value_counts().to_dict(), "n_scipy": int((table["method"] == "scipy").sum()),
            "issues": [i.code for i in batch.issues], "process": whole_process(data)}


def report(results: list[dict]) -> str:
    lines = [
        (f"adcbridge {__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
         f"{platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; 10,000 LL.4 curves x 8 points "
         f"per set, wall time from the in-memory long table, best of 5 after a warm-up; the scipy loop once, in the "
         f"same run.  `python benchmarks/bench_dose_response.py --write`."),
        "",
        ("| data set | `fit_dose_response_batch` (defaults: drc SEs, ED50, fallback) | Gauss-Newton SEs | "
         "`fit_curves_array` | scipy `curve_fit` loop | speed-up vs scipy | finite optimum: no worse than scipy |"),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        f = r["finite"]
        lines.append(f"| {r['name']} | {r['t_drc']:.3f} s | {r['t_jac']:.3f} s | {r['t_arr']:.3f} s | "
                     f"{r['t_scipy']:.2f} s | {r['t_scipy'] / r['t_drc']:.0f}x | {r['as_good'][f].sum():,} of "
                     f"{f.sum():,} ({100 * r['as_good'][f].mean():.2f} %) |")
    lines += ["", "What the user runs, whole process (start-up, reading the CSV, writing the per-curve table), "
                  "best of 3:",
              "", "| data set | `adcbridge fit dose-response-batch ... --out fits.csv` | scipy loop script on the same "
              "CSV | ratio |", "|---|---:|---:|---:|"]
    for r in results:
        cmd, ref = r["process"]
        lines.append(f"| {r['name']} | {cmd:.2f} s | {ref:.2f} s | {ref / cmd:.1f}x |")
    lines.append("")
    met = all(r["t_drc"] <= TARGET_S and r["as_good"][r["finite"]].all() for r in results)
    lines.append(f"Target (issue 10, item 6): <= {TARGET_S} s with the defaults and no curve with a finite optimum "
                 f"worse than scipy by more than {TOLERANCE:g} relatively, on both sets: "
                 f"{'met' if met else 'NOT met'}.  drc on the reference set: {DRC_S:.0f} s (recorded), "
                 f"{DRC_S / results[0]['t_drc']:.0f}x slower.")
    for r in results:
        f, g = r["finite"], r["as_good"]
        status = ", ".join(f"{k} {v:,}" for k, v in sorted(r["status"].items()))
        lines += ["", (f"*{r['name']}*: {f.sum():,} curves have a finite optimum, {(~f).sum():,} none (their least "
                       f"RSS is that of a limiting curve).  Batch outcome: {status}; {r['n_scipy']} curves refitted by "
                       f"the per-curve scipy fallback.  Over all curves {g.sum():,} ({100 * g.mean():.2f} %) are no "
                       f"worse than scipy and {r['better'].sum():,} better by more than {TOLERANCE:g}; scipy failed "
                       f"on {r['scipy_failed']}.  Issues: {', '.join(r['issues']) or 'none'}.")]
    return "\n".join(lines)


def main() -> str:
    sets = [("reference (`bench/bench_curves.csv`)", pd.read_csv(REFERENCE)),
            ("other (`benchmarks/data/dose_response_other.py`)", OTHER.make_curves())]
    return report([run(name, data) for name, data in sets])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="update the dose-response section of benchmarks/RESULTS.md")
    ap.add_argument("--scipy-loop", type=Path, help="(internal) run only the scipy loop on this CSV, as a process")
    args = ap.parse_args()
    if args.scipy_loop:
        scipy_loop(*long_to_arrays(pd.read_csv(args.scipy_loop), x="conc", y="resp", curve="curve")[:2])
        sys.exit(0)
    text = main()
    print(text)
    if args.write:
        write_section("dose_response", "Dose-response, 10,000 LL.4 curves (issue 4)", text)
