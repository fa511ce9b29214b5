"""The second dose-response benchmark set: 10,000 LL.4 curves x 8 points drawn with other true parameters than the
reference's ``bench/bench_curves.csv`` (issue 10, item 6).

How it is made (``make_curves()``; numpy ``default_rng(SEED)``, SEED = 20261125, draws in this order):

* doses: the reference's plate, 10^seq(-3, 2, length = 8), the same 8 for every curve;
* slope: |b| ~ U(0.5, 3) (the reference: 0.7 to 2); 25 % of the curves increasing (b < 0; binding-type curves,
  the reference has none);
* asymptotes: c ~ N(10, 5), d ~ N(90, 5) (the reference: N(5, 2) and N(100, 5)); 5 % of the curves inactive
  (d = c: a flat curve, as in a screen);
* ED50: log10 e ~ U(-3.5, 2.5), i.e. anywhere in the doses and up to half a decade beyond either end (the
  reference: 0.01 to 10, inside the doses);
* noise: N(0, 5) on every point, as in the reference.

About 40 % of these curves have no finite least-squares optimum (inactive curves, ED50s beyond the doses,
steps with at most one point on the slope), against about 3 % in the reference set.  ``DRAWS_SHA256`` is the
hash of the random draws: ``make_curves`` refuses to return a different set (a numpy whose generator stream
changed).  ``python benchmarks/data/dose_response_other.py OUT.csv`` writes the long table (curve, conc, resp)
for other tools (drc, Prism).
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pandas as pd

SEED = 20261125
N_CURVES = 10_000
DOSES = 10.0 ** np.linspace(-3.0, 2.0, 8)
DRAWS_SHA256 = "bae0d1632a3daee867575376202e3e2d84b709403fe9cc84ebce8e6e55144fe2"


def _draws():
    rng = np.random.default_rng(SEED)
    n = N_CURVES
    size = rng.uniform(0.5, 3.0, n)
    up = rng.random(n) < 0.25
    c = rng.normal(10.0, 5.0, n)
    d = rng.normal(90.0, 5.0, n)
    log10_e = rng.uniform(-3.5, 2.5, n)
    inactive = rng.random(n) < 0.05
    noise = rng.normal(0.0, 5.0, (n, DOSES.size))
    return size, up, c, d, log10_e, inactive, noise


def draws_hash() -> str:
    """SHA-256 of the random draws (portable: no transcendental function involved)."""
    h = hashlib.sha256()
    for a in _draws():
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def true_params() -> pd.DataFrame:
    """The true (b, c, d, e) of every curve, drc's LL.4 parameterisation (b > 0: decreasing)."""
    size, up, c, d, log10_e, inactive, _ = _draws()
    return pd.DataFrame({"curve": np.arange(1, N_CURVES + 1), "b": np.where(up, -size, size), "c": c,
                         "d": np.where(inactive, c, d), "e": 10.0 ** log10_e, "inactive": inactive})


def make_curves(check: bool = True) -> pd.DataFrame:
    """The long table (curve, conc, resp): y = c + (d - c) / (1 + exp(b (ln x - ln e))) + noise."""
    if check and draws_hash() != DRAWS_SHA256:
        raise RuntimeError("this numpy draws a different set from seed 20261125 than the one benchmarked")
    p = true_params()
    noise = _draws()[-1]
    b, c, d, e = (p[k].to_numpy()[:, None] for k in "bcde")
    x = np.broadcast_to(DOSES, noise.shape)
    y = c + (d - c) / (1.0 + np.exp(b * (np.log(x) - np.log(e)))) + noise
    return pd.DataFrame({"curve": np.repeat(p["curve"].to_numpy(), DOSES.size), "conc": x.ravel(),
                         "resp": y.ravel()})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/data/dose_response_other.py OUT.csv")
    make_curves().to_csv(sys.argv[1], index=False)
