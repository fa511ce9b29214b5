"""Speed and objective reached by target-mediated (ODE) PK fits: pooled Michaelis-Menten (``mm``) and QSS TMDD
(``qss``) fits of ``adcbridge.pk.fit_pk`` against the scipy code a pharmacometrician would otherwise write.

Data (as ``tests/unit/test_pk_review2.py``): 0.5-h infusions of 0.3, 1, 3, 10 and 30 mg/kg, samples 0.5-504 h,
10 % proportional noise (seed 0).  ``mm``: truth CL 0.5, V1 40, Q 1.2, V2 40, Vmax 20, Km 1; 10 animals (the
five doses twice), every sample used (as in the test).  ``qss``: truth CL 0.5, V1 40, Q 1.2, V2 40, R0 1,
kdeg 0.05, kint 0.1, Kss 0.1; total drug (``Ctot``), one animal per dose, samples below 0.05 ug/mL flagged BLQ
and excluded.

* adcbridge: ``fit_pk(d, model, pooled=True, n_starts=2 | 3)`` -- staged starts (linear 2cmt core, then a grid
  of target parameters), all starts advanced together by Levenberg-Marquardt scoring, observed-Hessian SEs and
  issue checks included; best of 3 runs.  Also ``n_starts=1, start=<the reference's start>`` from each of the
  reference's starts (one run each): the same optimisation problem as the reference, SEs still included.
* reference (scipy 1.x; R's deSolve/nlmixr cannot be installed here -- no CRAN): the model ODE written out in
  this file (not adcbridge's right-hand side), solved per dose profile by ``solve_ivp(method="LSODA")`` with the
  tolerances adcbridge's fits use (rtol 1e-10, atol 1e-12; infusion and post-infusion solved as two segments;
  the ``mm`` study's two animals per dose share one solve); objective the same -2 log-likelihood,
  ``OFV = sum[log(2 pi g^2) + (y - f)^2 / g^2]``, ``g = sigma f``, over log-parameters with log sigma estimated
  jointly, minimised by ``scipy.optimize.minimize`` in two ways: ``L-BFGS-B`` (bounds = adcbridge's, central-
  difference gradient with relative step 1e-4 -- a forward difference at the default step is swamped by the
  ODE's error; ``maxiter`` 200) and ``Nelder-Mead`` (adaptive, ``maxfev`` 4000, ``xatol = fatol = 1e-6``), one
  run each.  Starts: (a) the truth, (b) the model's default start (``get_model(name).start()``) with CL/V1/Q/V2
  from a pooled linear 2cmt ``fit_pk``; sigma from the residuals at the start, clipped to [0.02, 2] as adcbridge
  does.
* Before timing, the reference predictions at the truth and at start (b) are checked against
  ``adcbridge.pk.simulate`` (relative difference <= 1e-6); every OFV in the table is recomputed by the reference
  objective from the final estimates (adcbridge's own OFV agrees; the largest difference is printed).

Run:  python benchmarks/bench_pk_tmdd.py [--write]     (about 9.5 minutes on the 2-core machine; ``--write``
updates the ``pk_tmdd`` section of benchmarks/RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from benchkit import write_section  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from scipy.integrate import solve_ivp
from scipy.optimize import minimize

import adcbridge.pk.predict as _predict
from adcbridge import __version__
from adcbridge.pk import Regimen, fit_pk, simulate
from adcbridge.pk.models import get_model

HERE = Path(__file__).parent
T = np.array([0.5, 1, 2, 4, 8, 24, 48, 72, 168, 336, 504.0])
DOSES = [0.3, 1, 3, 10, 30]
TINF = 0.5
MM_TRUTH = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "Vmax": 20.0, "Km": 1.0}
QSS_TRUTH = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "R0": 1.0, "kdeg": 0.05, "kint": 0.1, "Kss": 0.1}
LOG2PI = float(np.log(2 * np.pi))
CHECK_FLOOR = 1e-6                             # ug/mL: the prediction check's 1e-6 criterion holds above this
RTOL, ATOL = 1e-10, 1e-12                      # adcbridge's ODE_FIT_OPTIONS
LBFGSB = {"method": "L-BFGS-B", "jac": "3-point", "options": {"finite_diff_rel_step": 1e-4, "maxiter": 200}}
OFV_TOL = 0.01                                 # "reached the best OFV": within this of the case's lowest
NELDER = {"method": "Nelder-Mead", "options": {"maxfev": 4000, "adaptive": True, "xatol": 1e-6, "fatol": 1e-6}}


# ------------------------------------------------------------------------------------------------------ data
def mm_study(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, dose in enumerate(DOSES * 2):
        c = simulate("mm", MM_TRUTH, Regimen.single(dose, TINF), T)[0]
        rows += [(f"S{i}", t, y, dose) for t, y in zip(T, c * np.exp(0.1 * rng.standard_normal(c.size)))]
    return pd.DataFrame(rows, columns=["ID", "TIME", "CONC", "DOSE"])


def qss_study(lloq: float = 0.05, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, dose in enumerate(DOSES):
        c = simulate("qss", QSS_TRUTH, Regimen.single(dose, TINF), T, output="Ctot")[0]
        rows += [(f"S{i}", t, y, dose) for t, y in zip(T, c * np.exp(0.1 * rng.standard_normal(c.size)))]
    d = pd.DataFrame(rows, columns=["ID", "TIME", "CONC", "DOSE"]).assign(ANALYTE="Ctot")
    return d.assign(BLQ=(d["CONC"] < lloq).astype(int))


# ------------------------------------------------------------------------------------------- the reference
def mm_rhs(t, x, CL, V1, Q, V2, Vmax, Km, rate):
    """Amounts (ug/kg) in central and peripheral; linear + Michaelis-Menten elimination from the central."""
    c1, c2 = x[0] / V1, x[1] / V2
    return np.array([rate - CL * c1 - Q * (c1 - c2) - Vmax * c1 / (Km + c1), Q * (c1 - c2)])


def qss_rhs(t, x, CL, V1, Q, V2, R0, kdeg, kint, Kss, rate):
    """QSS TMDD (Gibiansky 2008): total central amount, peripheral amount, total target (ug/mL)."""
    ctot = x[0] / V1
    d = ctot - x[2] - Kss
    c = 0.5 * (d + np.sqrt(d * d + 4 * Kss * ctot))                  # free drug
    flow = Q * (c - x[1] / V2)
    bound = ctot - c
    return np.array([rate - CL * c - flow - kint * bound * V1, flow, kdeg * (R0 - x[2]) - (kint - kdeg) * bound])


REF_MODELS = {"mm": (mm_rhs, lambda th: np.zeros(2)), "qss": (qss_rhs, lambda th: np.array([0.0, 0.0, th[4]]))}


class Reference:
    """The reference objective: one LSODA solve per distinct dose profile, -2 log-likelihood with proportional
    error (log-parameters, log sigma last)."""

    def __init__(self, name: str, d: pd.DataFrame):
        self.name = name
        self.names = list(get_model(name).names)
        self.rhs, self.x0 = REF_MODELS[name]
        if "BLQ" in d:
            d = d[d["BLQ"] == 0]
        d = d[d["TIME"] > 0]
        self.profiles = []
        for dose, g in d.groupby("DOSE"):
            t = g["TIME"].to_numpy(float)
            tu = np.unique(t)
            self.profiles.append((float(dose), tu, np.searchsorted(tu, t)))
        self.y = np.concatenate([g["CONC"].to_numpy(float) for _, g in d.groupby("DOSE")])
        self.n_ofv = self.n_solves = self.n_rhs = 0

    def profile(self, th, dose, times, method="LSODA", rtol=RTOL, atol=ATOL):
        rate = 1000 * dose / TINF
        before = times < TINF
        s1 = solve_ivp(self.rhs, (0.0, TINF), self.x0(th), method=method, args=(*th, rate), rtol=rtol, atol=atol,
                       t_eval=np.append(times[before], TINF))
        s2 = solve_ivp(self.rhs, (TINF, times[-1]), s1.y[:, -1], method=method, args=(*th, 0.0), rtol=rtol,
                       atol=atol, t_eval=times[~before])
        self.n_solves += 1
        self.n_rhs += s1.nfev + s2.nfev
        if s1.status < 0 or s2.status < 0:
            return np.full(times.size, np.nan)
        return np.concatenate([s1.y[0, :-1], s2.y[0]]) / th[1]

    def predict(self, th):
        return np.concatenate([self.profile(th, dose, tu)[idx] for dose, tu, idx in self.profiles])

    def ofv(self, phi):
        self.n_ofv += 1
        with np.errstate(all="ignore"):
            f = self.predict(np.exp(phi[:-1]))
            if not np.all(np.isfinite(f)) or np.any(f <= 0):
                return 1e10                                  # an unsolvable trial point: rejected
            g2 = np.exp(2 * phi[-1]) * f * f
            return float(np.sum(LOG2PI + np.log(g2) + (self.y - f) ** 2 / g2))

    def sigma_start(self, th):
        f = self.predict(th)
        return float(np.clip(np.sqrt(np.mean(((self.y - f) / f) ** 2)), 0.02, 2.0))

    def bounds(self):
        b = get_model(self.name).bounds()
        return [(np.log(b[n][0]), np.log(b[n][1])) for n in self.names] + [(np.log(1e-8), np.log(1e4))]

    def fit(self, start: dict, how: dict) -> dict:
        th = np.array([start[n] for n in self.names])
        x0 = np.log(np.append(th, self.sigma_start(th)))
        self.n_ofv = self.n_solves = self.n_rhs = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            r = minimize(self.ofv, x0, bounds=self.bounds(), **how)
            sec = time.perf_counter() - t0
        return {"sec": sec, "phi": r.x, "ofv": self.ofv(r.x), "iters": int(r.nit), "evals": self.n_ofv - 1,
                "solves": self.n_solves - len(self.profiles), "converged": bool(r.success),
                "message": str(r.message)}


# --------------------------------------------------------------------------------------------- adcbridge
class _CountODE:
    """Counts adcbridge's batched ODE solves (calls of ``solve_model_ode``) and the systems in them."""

    def __init__(self):
        self.calls = self.systems = 0
        self._orig = _predict.solve_model_ode

    def __call__(self, model, p, times, *a, **k):
        self.calls += 1
        self.systems += np.atleast_2d(times).shape[0]
        return self._orig(model, p, times, *a, **k)

    def __enter__(self):
        _predict.solve_model_ode = self
        return self

    def __exit__(self, *exc):
        _predict.solve_model_ode = self._orig


def adcbridge_fit(ref: Reference, d, name, repeats, **kw) -> dict:
    times = []
    for _ in range(repeats):
        with _CountODE() as cnt:
            t0 = time.perf_counter()
            r = fit_pk(d, name, pooled=True, **kw)
            times.append(time.perf_counter() - t0)
    est = r.table.set_index("parameter")["estimate"]
    phi = np.log([est[n] for n in ref.names] + [est["sigma_prop"]])
    st = r.fit_statistics.iloc[0]
    return {"sec": min(times), "phi": phi, "ofv": ref.ofv(phi), "own_ofv": float(st["ofv"]),
            "iters": int(st["iterations"]), "evals": cnt.calls, "solves": cnt.systems,
            "converged": bool(st["converged"]), "issues": sorted({i.code for i in r.issues})}


# ------------------------------------------------------------------------------------------------ checks
def check_reference(ref: Reference, params: dict, output: str) -> np.ndarray:
    """Largest relative differences over the sample times of (0) the reference predictions from
    ``adcbridge.pk.simulate``, (1) the reference from a tight solve of the same equations (DOP853, rtol 1e-13,
    atol 1e-30), (2) ``simulate`` from that tight solve -- where the tight solve is >= ``CHECK_FLOOR`` ug/mL --
    and (3) the reference from ``simulate`` at all sample times, with (4) the smallest concentration."""
    th = np.array([params[n] for n in ref.names])
    worst = np.zeros(5)
    worst[4] = np.inf
    for dose, tu, _ in ref.profiles:
        mine = ref.profile(th, dose, tu)
        tight = ref.profile(th, dose, tu, "DOP853", 1e-13, 1e-30)
        theirs = simulate(ref.name, params, Regimen.single(dose, TINF), tu, output=output)[0]
        big = tight >= CHECK_FLOOR
        worst[:4] = np.maximum(worst[:4], [np.max(np.abs(mine / theirs - 1)[big]),
                                           np.max(np.abs(mine / tight - 1)[big]),
                                           np.max(np.abs(theirs / tight - 1)[big]), np.max(np.abs(mine / theirs - 1))])
        worst[4] = min(worst[4], tight.min())
    if worst[0] > 1e-6 or worst[1] > 1e-6:
        raise AssertionError(f"{ref.name}: reference predictions differ from adcbridge.pk.simulate by {worst[0]:.2e} "
                             f"and from a tight solve by {worst[1]:.2e}")
    return worst


# -------------------------------------------------------------------------------------------------- main
def _reading(name, case_rows, best) -> str:
    """One data-driven paragraph per case: speed ratios, who reached the best OFV, who did not."""
    base, same = case_rows[0][1], [r for _, r in case_rows[1:3]]
    refs = [(label.replace("scipy ", "").replace(" + LSODA, start:", " from"), r) for label, r in case_rows[3:]]
    good = [(lab, r) for lab, r in refs if r["ofv"] - best <= OFV_TOL]
    bad = [f"{lab} ({r['ofv'] - best:+.4f}, {'stopped as converged' if r['converged'] else 'not converged'})"
           for lab, r in refs if r["ofv"] - best > OFV_TOL]
    text = (f"**{name}**: adcbridge's default fit took {base['sec']:.1f} s (SEs and checks included) and reached "
            + ("the best OFV of the case" if base["ofv"] - best <= OFV_TOL else
               f"an OFV {base['ofv'] - best:.4f} above the best") + "; from the reference's two starts, one start "
            f"each, {same[0]['sec']:.1f} and {same[1]['sec']:.1f} s.  The scipy reference took "
            f"{min(r['sec'] for _, r in refs):.1f}-{max(r['sec'] for _, r in refs):.1f} s "
            f"({min(r['sec'] for _, r in refs) / base['sec']:.1f}-{max(r['sec'] for _, r in refs) / base['sec']:.1f}x "
            f"the default fit); {len(good)} of {len(refs)} runs reached the best OFV within {OFV_TOL:g}")
    if good:
        lab, r = min(good, key=lambda x: x[1]["sec"])
        text += f" (fastest: {lab}, {r['sec']:.1f} s = {r['sec'] / base['sec']:.1f}x)"
    text += "." if not bad else f"; not: {', '.join(bad)}."
    lower = [lab for lab, r in refs if r["ofv"] < base["ofv"] - 1e-3]
    if lower:
        text += (f"  The reference found a lower OFV than adcbridge's default fit ({', '.join(lower)}, by up to "
                 f"{base['ofv'] - min(r['ofv'] for _, r in refs):.4f}).")
    return text


def main() -> str:
    cases = [("mm", mm_study(), MM_TRUTH, 2, "C", "10 animals (2 per dose), 110 samples, none BLQ-flagged"),
             ("qss", qss_study(), QSS_TRUTH, 3, "Ctot", "5 animals, 55 samples, 6 BLQ excluded")]
    rows, checks, notes, readings, ofv_gap = [], [], [], [], 0.0
    for name, d, truth, n_starts, output, what in cases:
        ref = Reference(name, d)
        lin = fit_pk(d, "2cmt", pooled=True)
        default = get_model(name).start()
        default.update({k: lin.estimate(k) for k in ("CL", "V1", "Q", "V2")})
        starts = (("truth", truth), ("default + linear 2cmt", default))
        w = np.array([check_reference(ref, s, output) for _, s in starts])
        checks.append(f"{name}: reference vs `simulate` {w[:, 0].max():.1e}, reference vs tight solve "
                      f"{w[:, 1].max():.1e}, `simulate` vs tight solve {w[:, 2].max():.1e}; at all sample times "
                      f"reference vs `simulate` {w[:, 3].max():.1e} (predictions down to {w[:, 4].min():.1e} ug/mL)")
        case_rows = []
        a = adcbridge_fit(ref, d, name, 3, n_starts=n_starts)
        ofv_gap = max(ofv_gap, abs(a["own_ofv"] - a["ofv"]))
        case_rows.append((f"adcbridge `fit_pk`, {n_starts} staged starts (best of 3)", a))
        for sname, s in starts:
            a1 = adcbridge_fit(ref, d, name, 1, n_starts=1, start=s)
            ofv_gap = max(ofv_gap, abs(a1["own_ofv"] - a1["ofv"]))
            case_rows.append((f"adcbridge `fit_pk`, 1 start: {sname}", a1))
        for sname, s in starts:
            for label, how in (("L-BFGS-B", LBFGSB), ("Nelder-Mead", NELDER)):
                r = ref.fit(s, how)
                case_rows.append((f"scipy {label} + LSODA, start: {sname}", r))
                if not r["converged"]:
                    notes.append(f"{name}, scipy {label} from {sname}: {r['message']}")
        best = min(r["ofv"] for _, r in case_rows)
        base = case_rows[0][1]["sec"]
        for label, r in case_rows:
            est = dict(zip(ref.names + ["sigma"], np.exp(r["phi"])))
            rows.append(f"| {name} | {label} | {r['sec']:.2f} | {r['sec'] / base:.1f}x | {r['ofv']:.4f} | "
                        f"{r['ofv'] - best:.4f} | {r['iters']} | {r['evals']:,} | {r['solves']:,} | "
                        f"{'yes' if r['converged'] else 'no'} | "
                        + ", ".join(f"{k} {v:.3g}" for k, v in est.items()) + " |")
        for label, r in case_rows[:3]:
            if not r["converged"]:
                notes.append(f"{name}, {label}: not converged")
        notes.append(f"{name} data: {what}; adcbridge's issues (default fit): "
                     f"{', '.join(case_rows[0][1]['issues']) or 'none'}")
        readings.append(_reading(name, case_rows, best))
    lines = [
        (f"adcbridge {__version__}, Python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, pandas {pd.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d')}; wall time (s).  Reference: scipy `minimize` on the same -2 log-likelihood "
        f"(proportional error, sigma joint) with the ODE written out in the script and solved per dose profile "
        f"by `solve_ivp(LSODA)`, rtol 1e-10 / atol 1e-12 as adcbridge's fits; R's deSolve/nlmixr are not "
        f"installable here (no CRAN), so this scipy code is the reference baseline.  OFV recomputed by the "
        f"reference objective for every row (constant n log 2 pi included); 'vs best' is the difference to the "
        f"lowest OFV of the model's rows.  adcbridge rows: best of 3 runs (default fit) or one run; scipy rows: "
        f"one run, L-BFGS-B capped at 200 iterations, Nelder-Mead at 4,000 objective evaluations."),
        "",
        ("| model | fit | time (s) | time vs adcbridge | OFV | vs best | iterations | OFV evaluations | "
        "profile ODE solves | converged | estimates |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        *readings[:1], "", *readings[1:],
        "",
        ("Caveats.  adcbridge's times include its staged start (linear 2cmt fit and a grid of 24 / 72 target "
        "points), standard errors (observed Hessian by finite differences) and issue checks; the scipy times are "
        "the optimisation only.  The reference's right-hand side is plain Python called once per LSODA step per "
        "profile (a compiled right-hand side, or deSolve with compiled code, would be faster); it is the code a "
        "pharmacometrician writes with scipy, not the fastest possible one.  The model's default start for qss "
        "(R0 1, kdeg 0.05, kint 0.1, Kss 0.1) equals the simulation truth, so for qss start (b) differs from (a) "
        "only in CL/V1/Q/V2; for mm the defaults are Vmax 10, Km 1 (truth 20, 1).  Scipy's 'converged' is its "
        "own stopping test (L-BFGS-B: relative reduction of the OFV), not a guarantee of the optimum."),
        "",
        ("Iterations: adcbridge's Levenberg-Marquardt iterations of the best start; scipy's `nit`.  OFV "
        "evaluations: adcbridge's batched ODE solves (all starts, grid points, finite-difference columns and "
        "the Hessian's points in one call each); scipy's objective calls (finite-difference gradients "
        "included).  Profile ODE solves: systems integrated (adcbridge: stacked in one LSODA call; scipy: one "
        "call per distinct dose)."),
        (f"Check before timing, at the truth and at start (b), largest relative difference over the sample times "
        f"where the prediction is >= {CHECK_FLOOR:g} ug/mL (tight solve: the reference equations by DOP853, rtol "
        f"1e-13, atol 1e-30): {'; '.join(checks)}.  Below that level both solvers' atol (1e-12 ug/kg) limits "
        f"the relative accuracy.  adcbridge's own OFV vs the reference objective at its estimates: largest "
        f"difference {ofv_gap:.1e}."),
        *[f"- {n}" for n in notes],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="update the pk_tmdd section of benchmarks/RESULTS.md")
    a = ap.parse_args()
    t_all = time.perf_counter()
    text = main()
    text += f"\n\nWhole benchmark: {time.perf_counter() - t_all:.0f} s."
    print(text)
    if a.write:
        write_section("pk_tmdd", "Target-mediated PK fits (mm, qss) vs a scipy reference\n\n"
                      "`python benchmarks/bench_pk_tmdd.py --write`", text)
