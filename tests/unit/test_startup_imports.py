"""Fast start-up: the commands a statistician runs at a dose-escalation meeting load neither pandas, scipy nor
matplotlib, and ``--help`` loads no science package.  (Import sets, not timings: the times are measured by
benchmarks/bench_startup.py.)"""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import betainc

from adcbridge.dosefinding.boin.boundaries import posterior_prob_above

HEAVY = ("pandas", "scipy", "matplotlib", "statsmodels", "pyarrow", "openpyxl")

PROBE = """
import contextlib, io, json, sys
from adcbridge.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main({args!r})
print(json.dumps({{"code": code, "loaded": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def _loaded(*args: str) -> dict:
    text = PROBE.format(args=list(args), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ("boin", "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN"),
    ("boin", "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN", "--format", "json"),
    ("boin", "next", "--target", "0.3", "--doses", "3", "--n", "3,3,0", "--dlt", "0,1,0", "--current-dose", "2"),
    ("next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN", "--format", "json"),
    ("next", "--design", "3+3", "--doses", "5", "--outcomes", "1NNN 2NTN"),
    ("boin", "table", "--target", "0.3"),
    ("boin", "table", "--target", "0.25", "--extrasafe", "--format", "json"),
    ("boin", "table", "--target", "0.3", "--format", "csv"),
    ("--help",),
    ("boin", "--help"),
    ("nca", "--help"),
    ("pk", "fit", "--help"),
    ("fit", "dose-response", "--help"),
    ("version",),
])
def test_fast_commands_load_no_heavy_library(args):
    got = _loaded(*args)
    assert got["code"] == 0 and got["loaded"] == []


def test_exact_binomial_posterior_equals_the_incomplete_beta_function():
    """The scipy-free posterior tail used by the decision table equals 1 - I_t(y + 1, n - y + 1)."""
    for target in (0.05, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6):
        n = np.arange(0, 301)[:, None]
        y = np.arange(0, 301)[None, :]
        ok = y <= n
        exact = posterior_prob_above(target, np.broadcast_to(y, (301, 301))[ok], np.broadcast_to(n, (301, 301))[ok])
        yy, nn = np.broadcast_to(y, (301, 301))[ok], np.broadcast_to(n, (301, 301))[ok]
        ref = 1.0 - betainc(yy + 1.0, nn - yy + 1.0, target)
        np.testing.assert_allclose(exact, ref, rtol=1e-12, atol=1e-14)


def test_a_non_integer_prior_uses_the_incomplete_beta_function():
    got = posterior_prob_above(0.3, np.array([1, 2]), np.array([3, 6]), 0.05, 0.05)
    np.testing.assert_allclose(got, 1.0 - betainc(np.array([1.05, 2.05]), np.array([2.05, 4.05]), 0.3), rtol=1e-14)


def test_posterior_is_continuous_across_the_table_limit():
    """Up to EXACT_TABLE_MAX the table is summed, beyond it scipy's betainc: both agree at the switch."""
    from adcbridge.dosefinding.boin.boundaries import EXACT_TABLE_MAX
    for n in (EXACT_TABLE_MAX - 1, EXACT_TABLE_MAX + 1, 5000):
        y = np.array([0, n // 10, n // 4, n // 3, n])
        np.testing.assert_allclose(posterior_prob_above(0.25, y, np.full(5, n)),
                                   1.0 - betainc(y + 1.0, n - y + 1.0, 0.25), rtol=1e-10, atol=1e-14)


SIM = ["simulate", "--trials", "200", "--seed", "1", "--doses", "3", "--p-true", "0.1,0.2,0.3"]


@pytest.mark.parametrize("args, allowed", [
    (["--design", "boin", "--target", "0.3"], ()),
    (["--design", "3+3"], ()),
    (["--design", "3+3", "--exact"], ()),
    (["--design", "tite-boin", "--target", "0.3"], ()),
    (["--design", "boin-backfill", "--target", "0.3", "--q-true", "0.2,0.3,0.4"], ()),
    (["--design", "boin12", "--target", "0.3", "--efficacy-min", "0.2", "--q-true", "0.2,0.3,0.4"], ("scipy",)),
    (["--design", "crm", "--target", "0.3"], ("scipy",)),          # the model's logit/expit
])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_simulate_loads_no_pandas(args, allowed, fmt):
    """A 10,000-trial `simulate` is mostly start-up: its table is printed from columns, never a DataFrame
    (BOIN12's desirability and CRM's model use scipy's special functions)."""
    argv = [a for a in SIM if not (args[-1] == "--exact" and a in ("--trials", "200", "--seed", "1"))]
    got = _loaded(*argv, *args, "--format", fmt)
    assert got["code"] == 0 and set(got["loaded"]) <= set(allowed)


@pytest.mark.parametrize("contour", [[], ["--mtd-contour"]], ids=["one-mtd", "waterfall"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_combination_simulate_loads_no_pandas(contour, fmt):
    """The combination design's OC table is built from columns too; scipy (the regularized incomplete beta of its
    dose-finding scores) is the only heavy import."""
    got = _loaded("simulate", "--design", "comb-boin", "--target", "0.3", "--trials", "200", "--seed", "1",
                  "--p-true", "0.05,0.1,0.2;0.1,0.2,0.3", *contour, "--format", fmt)
    assert got["code"] == 0 and set(got["loaded"]) <= {"scipy"}
