"""Speed of adcbridge.pk: batched individual 2-cmt fits of the 30 animals of the synthetic cynomolgus study (ADC),
against a per-animal scipy ``least_squares`` loop and R ``nls``; and simulation of 10,000 parameter sets.

* adcbridge ``fit_pk`` (all animals x starts advanced together; maximum likelihood, proportional error, observed
  Hessian SEs included), with 5 starts (default) and 1 start, and with the ``log`` error model (the
  log-transform-both-sides objective the scipy loop and R ``nls`` minimise);
* scipy: one ``least_squares(method="lm")`` per animal on the same closed-form model, LTBS residuals
  ``log y - log f``, start from the model's default values (one start, no SEs);
* R 4.2.2: ``nls`` per animal (LTBS, closed form), run now if ``Rscript`` is installed;
* ``simulate``: 10,000 parameter sets x 100 times (2cmt, one 0.5-h infusion; and Q3W x 6);
  ``exposure`` of cycle 6 for 10,000 sets.

Each timing is the best of 3 repeats after a warm-up.  Run:  python benchmarks/bench_pk.py  (prints Markdown)
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from benchkit import best_of as _best_of  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from scipy.optimize import least_squares

from adcbridge import __version__
from adcbridge.pk import Regimen, exposure, fit_pk, simulate


def best_of(f, repeats=3):
    return _best_of(f, repeats, warmup=True)


DATA = Path(__file__).parents[1] / "tests" / "reference" / "data" / "nca" / "data" / "cyno_adc_sd.csv"

R_SCRIPT = r"""
d <- read.csv("%s")
d <- d[d$ANALYTE == "ADC" & d$BLQ == 0 & d$TIME > 0, ]
conc2 <- function(t, dose, tinf, lCL, lV1, lQ, lV2) {
  CL <- exp(lCL); V1 <- exp(lV1); Q <- exp(lQ); V2 <- exp(lV2)
  k10 <- CL / V1; k12 <- Q / V1; k21 <- Q / V2; s <- k10 + k12 + k21
  root <- sqrt(s^2 - 4 * k10 * k21); a <- (s + root) / 2; b <- (s - root) / 2
  A <- (a - k21) / (V1 * (a - b)); B <- (k21 - b) / (V1 * (a - b)); rate <- 1000 * dose / tinf
  tm <- pmin(t, tinf); af <- pmax(t - tinf, 0)
  rate * (A / a * (1 - exp(-a * tm)) * exp(-a * af) + B / b * (1 - exp(-b * tm)) * exp(-b * af))
}
best <- Inf
for (rep in 1:3) {
  t0 <- proc.time()[["elapsed"]]; ok <- 0
  for (id in unique(d$ID)) {
    x <- d[d$ID == id, ]
    f <- try(nls(log(CONC) ~ log(conc2(TIME, DOSE, TINF, lCL, lV1, lQ, lV2)), data = x,
                 start = list(lCL = log(0.8), lV1 = log(40), lQ = log(1.2), lV2 = log(40)),
                 control = nls.control(maxiter = 500, tol = 1e-6, minFactor = 1e-12)), silent = TRUE)
    if (!inherits(f, "try-error")) ok <- ok + 1
  }
  best <- min(best, proc.time()[["elapsed"]] - t0)
}
cat(best, ok, "\n")
"""



def two_cmt_infusion(t, dose, tinf, cl, v1, q, v2):
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    root = np.sqrt(s * s - 4 * k10 * k21)
    a, b = (s + root) / 2, (s - root) / 2
    A, B = (a - k21) / (v1 * (a - b)), (k21 - b) / (v1 * (a - b))
    rate = 1000 * dose / tinf
    tm, af = np.minimum(t, tinf), np.maximum(t - tinf, 0)
    return rate * (A / a * -np.expm1(-a * tm) * np.exp(-a * af) + B / b * -np.expm1(-b * tm) * np.exp(-b * af))


def scipy_loop(d):
    out = []
    for _, x in d.groupby("ID"):
        t, y, dose = x["TIME"].to_numpy(), x["CONC"].to_numpy(), x["DOSE"].iloc[0]

        def res(p):
            return np.log(y) - np.log(two_cmt_infusion(t, dose, 0.5, *np.exp(p)))

        out.append(least_squares(res, np.log([0.8, 40, 1.2, 40]), method="lm").x)
    return np.array(out)


def simulated_study(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    """``n`` animals of the study's design (3 mg/kg, 0.5-h infusion, 11 samples to 504 h), between-animal CV ~20 %,
    10 % proportional error: a simulation-estimation sized problem, in the layout of the reference file."""
    rng = np.random.default_rng(seed)
    t = np.array([0.5, 1, 2, 4, 8, 24, 48, 72, 168, 336, 504.0])
    p = {k: v * np.exp(s * rng.standard_normal(n)) for k, v, s in (("CL", 20 / 24, 0.25), ("V1", 40, 0.15),
                                                                    ("Q", 30 / 24, 0.2), ("V2", 40, 0.2))}
    c = simulate("2cmt", p, Regimen.single(3.0, 0.5), t) * np.exp(0.1 * rng.standard_normal((n, t.size)))
    return pd.DataFrame({"ID": np.repeat([f"S{i:05d}" for i in range(n)], t.size), "TIME": np.tile(t, n),
                         "DOSE": 3.0, "TINF": 0.5, "ANALYTE": "ADC", "BLQ": 0, "CONC": c.ravel()})


def r_loop(path: Path, n: int) -> tuple[float, str] | None:
    if not shutil.which("Rscript"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT % path.as_posix())
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=True).stdout
        sec, ok = out.split()
        return float(sec), f"{ok}/{n}"


def main():
    raw = pd.read_csv(DATA)
    adc = raw[raw["ANALYTE"] == "ADC"]
    used = adc[(adc["BLQ"] == 0) & (adc["TIME"] > 0)]
    rows = []
    for label, kw in (("adcbridge fit_pk, proportional ML, 5 starts", {}),
                      ("adcbridge fit_pk, proportional ML, 1 start", {"n_starts": 1}),
                      ("adcbridge fit_pk, log (LTBS) ML, 1 start", {"n_starts": 1, "error": "log"})):
        rows.append((label, best_of(lambda kw=kw: fit_pk(adc, "2cmt", **kw)), "estimates, SEs, AIC/BIC, issues"))
    rows.append(("scipy least_squares loop (LTBS, 1 start)", best_of(lambda: scipy_loop(used)), "estimates only"))
    r = r_loop(DATA, 30)
    if r is not None:
        rows.append((f"R nls loop (LTBS, 1 start; {r[1]} converged)", r[0], "estimates, GN SEs"))
    big = simulated_study()
    big_rows = [("adcbridge fit_pk, log (LTBS) ML, 1 start", best_of(lambda: fit_pk(big, "2cmt", n_starts=1,
                                                                                    error="log"), 1)),
                ("scipy least_squares loop (LTBS, 1 start)", best_of(lambda: scipy_loop(big), 1))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sim.csv"
        big.to_csv(path, index=False)
        r = r_loop(path, 3000)
    if r is not None:
        big_rows.append((f"R nls loop (LTBS, 1 start; {r[1]} converged)", r[0]))
    rng = np.random.default_rng(1)
    n = 10_000
    pars = {k: v * np.exp(0.3 * rng.standard_normal(n)) for k, v in {"CL": 0.8, "V1": 40, "Q": 1.2,
                                                                      "V2": 40}.items()}
    grid = np.linspace(0, 504, 100)
    sim = [("simulate 10,000 sets x 100 times, single infusion",
            best_of(lambda: simulate("2cmt", pars, Regimen.single(3.0, 0.5), grid))),
           ("simulate 10,000 sets x 100 times, Q3W x 6",
            best_of(lambda: simulate("2cmt", pars, Regimen.repeated(3.0, 504, 6, 0.5), np.linspace(0, 3024, 100)))),
           ("exposure (Cmax, Ctrough, exact AUC) of cycle 6, 10,000 sets",
            best_of(lambda: exposure("2cmt", pars, Regimen.repeated(3.0, 504, 6, 0.5), cycle=6), 1))]
    print(f"## adcbridge.pk (adcbridge {__version__}, Python {platform.python_version()}, {os.cpu_count()} cores)\n")
    print("Individual 2-cmt fits, 30 animals (ADC, synthetic cynomolgus study):\n")
    print("| method | seconds | output |\n|---|---:|---|")
    for label, sec, what in rows:
        print(f"| {label} | {sec:.3f} | {what} |")
    print("\n3,000 simulated animals (11 samples each):\n")
    print("| method | seconds | ratio to adcbridge |\n|---|---:|---:|")
    for label, sec in big_rows:
        print(f"| {label} | {sec:.2f} | {sec / big_rows[0][1]:.1f}x |")
    print("\n| simulation | seconds |\n|---|---:|")
    for label, sec in sim:
        print(f"| {label} | {sec:.3f} |")


if __name__ == "__main__":
    main()
