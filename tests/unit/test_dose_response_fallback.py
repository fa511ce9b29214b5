"""The batch dose-response fit on curves without a finite optimum, its per-curve fallback and its warnings
(issue 10, item 6)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeWarning, curve_fit, minimize_scalar

from adcbridge.assays.dose_response import (
    batch,
    batch_fallback,
    fit_curves_array,
    fit_dose_response_batch,
    get_model,
    self_start,
)
from adcbridge.assays.dose_response.batch import LIMIT_MARGIN, limit_rss

DOSES = 10.0 ** np.linspace(-3, 2, 8)
LL4_FREE = np.array([np.nan, np.nan, np.nan, np.nan, 1.0])


def _ll4(x, b, c, d, e):
    return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


def _scipy_rss(x, y, p0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, _ = curve_fit(_ll4, x, y, p0=p0, maxfev=20000)
    r = y - _ll4(x, *p)
    return float(r @ r)


def _long(X, Y):
    return pd.DataFrame({"curve": np.repeat(np.arange(len(X)), X.shape[1]), "conc": X.ravel(),
                         "response": Y.ravel()})


@pytest.fixture
def refits(monkeypatch):
    """Counts the curves handed to the per-curve scipy fallback."""
    calls = []
    original = batch_fallback._scipy_refit

    def spy(curves, lx, y, starts):
        calls.append(y.copy())
        return original(curves, lx, y, starts)
    monkeypatch.setattr(batch_fallback, "_scipy_refit", spy)
    return calls


# ------------------------------------------------------------------------------------ no finite optimum
def test_curves_without_a_finite_optimum_get_a_status_and_no_refit(refits):
    X = np.tile(DOSES, (3, 1))
    Y = np.array([[5.26, 5.53, 5.77, 6.10, 7.81, 10.17, 14.70, 24.04],      # a power curve: ED50 beyond the doses
                  [99.3, 98.7, 99.4, 100.0, -0.3, 1.8, 0.8, 1.3],           # a clean step
                  [49.5, 49.7, 50.4, 51.0, 49.9, 51.4, 49.3, 50.4]])        # no effect
    fit = fit_curves_array(X, Y)
    assert fit.status.tolist() == ["diverged"] * 3
    assert fit.method.tolist() == ["batch"] * 3 and refits == []
    assert fit.limit.tolist() == ["power", "step", "step"]
    assert all(r.startswith("no finite least-squares estimate") for r in fit.reason)
    assert not fit.identifiable.any() and np.isnan(fit.se).all() and np.isnan(fit.ed50_se).all()
    # the limits are the closed forms: the best a + beta x^p, the two group means of the step
    assert fit.rss_limit[0] == pytest.approx(_best_power(DOSES, Y[0], lambda p: _power_rss(DOSES, Y[0], p)),
                                             rel=1e-9)
    low, high = Y[1, :4], Y[1, 4:]
    assert fit.rss_limit[1] == pytest.approx(((low - low.mean()) ** 2).sum() + ((high - high.mean()) ** 2).sum(),
                                             rel=1e-12)
    # the reported fit is on its way out: its RSS is that of the limit to 1e-7, never below it
    assert np.all(fit.rss >= fit.rss_limit * (1 - LIMIT_MARGIN)) and np.all(fit.rss <= fit.rss_limit * (1 + 1e-7))
    table = fit_dose_response_batch(_long(X, Y))
    codes = {i.code for i in table.issues}
    assert "no_finite_estimate" in codes and "scipy_fallback" not in codes
    assert table.table["limit"].tolist() == ["power", "step", "step"]
    assert table.table["rss_limit"].to_numpy() == pytest.approx(fit.rss_limit, rel=1e-12)


def _best_power(x, y, profile):
    """The least of ``profile(p)`` over p: a grid, then a bounded scalar minimisation in the best cell."""
    grid = np.linspace(-3, 3, 601)
    vals = [profile(p) if p else np.inf for p in grid]
    k = int(np.argmin(vals))
    res = minimize_scalar(profile, bounds=(grid[k] - 0.01, grid[k] + 0.01), method="bounded",
                          options={"xatol": 1e-10})
    return min(res.fun, vals[k])


def _power_rss(x, y, p):
    A = np.column_stack([np.ones_like(x), x ** p])
    r = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    return float(r @ r)


def test_limiting_curves_match_brute_force():
    rng = np.random.default_rng(3)
    X = np.tile(np.r_[0.0, DOSES[:-1]], (40, 1))                 # with a zero dose: x^p needs p > 0
    X[::2] = DOSES
    Y = 50 + 30 * rng.standard_normal(1) + rng.normal(0, 10, X.shape)
    Y[:, 5:] += 40
    w = np.ones(X.shape, dtype=bool)
    rss, _ = limit_rss(get_model("LL.4"), LL4_FREE, X, Y, w)
    for x, y, got in zip(X, Y, rss):
        best = ((y - y.mean()) ** 2).sum()
        for t in np.unique(x)[:-1]:                               # two-level splits
            lo, hi = y[x <= t], y[x > t]
            best = min(best, ((lo - lo.mean()) ** 2).sum() + ((hi - hi.mean()) ** 2).sum())
        for t in np.unique(x)[1:-1]:                              # a dose at a level between the two others
            lo, at, hi = y[x < t], y[x == t], y[x > t]
            if t > 0 and (at.mean() - lo.mean()) * (hi.mean() - at.mean()) > 0:
                best = min(best, ((lo - lo.mean()) ** 2).sum() + ((hi - hi.mean()) ** 2).sum())
        for p in np.linspace(-4, 4, 4001):                        # a + beta x^p
            if p == 0 or (p < 0 and np.any(x == 0)):
                continue
            best = min(best, _power_rss(x, y, p))
        assert got <= best * (1 + 1e-9)                            # as good as every candidate tried here
        assert got >= best * (1 - 1e-3)                            # and no better than the grid allows


def test_limits_with_a_fixed_asymptote_and_weibull():
    X = np.tile(DOSES, (2, 1))
    Y = np.array([3.0 * DOSES ** 0.4 + np.array([0.1, -0.1, 0.05, 0, -0.05, 0.1, -0.1, 0.0]),
                  [90.0, 91.0, 89.0, 90.5, 10.0, 9.0, 11.0, 10.5]])
    fit = fit_curves_array(X, Y, "LL.3")                            # c = 0: the power curve 3 x^0.4 is a limit
    assert fit.status.tolist() == ["diverged", "diverged"] and fit.limit.tolist() == ["power", "step"]
    # the step's low level is the fixed c = 0 of LL.3 (not the high doses' mean); the dose at 10 may sit at a
    # level of its own between d and c
    low, high = Y[1, :4], Y[1, 4:]
    two = ((low - low.mean()) ** 2).sum() + (high ** 2).sum()
    three = ((low - low.mean()) ** 2).sum() + (high[1:] ** 2).sum()
    assert fit.rss_limit[1] == pytest.approx(min(two, three), rel=1e-12) and three < two
    def through_zero(p):                                            # y = beta x^p: a = c = 0
        u = DOSES ** p
        return float(((Y[0] - (Y[0] @ u) / (u @ u) * u) ** 2).sum())
    assert fit.rss_limit[0] == pytest.approx(_best_power(DOSES, Y[0], through_zero), rel=1e-9)
    weibull = fit_curves_array(X, Y, "W1.4")
    assert weibull.status[1] == "diverged" and weibull.limit[1] == "step"


# ------------------------------------------------------------------------------------------- the fallback
def test_fallback_rescues_a_curve_with_a_finite_optimum(refits):
    rng = np.random.default_rng(7)
    X = np.tile(DOSES, (2, 1))
    Y = np.vstack([_ll4(DOSES, 1.2, 5, 100, 0.3) + rng.normal(0, 3, 8),
                   [99.0, 101.0, 100.5, 98.5, 2.0, 1.0, 3.0, 2.5]])        # no finite optimum
    batch_only = fit_curves_array(X, Y, max_iter=5, fallback=False)       # too few steps for either curve
    assert batch_only.status.tolist() == ["not_converged", "not_converged"]
    assert batch_only.rss[0] < batch_only.rss_limit[0]                     # a finite optimum exists
    assert not batch_only.rss[1] < batch_only.rss_limit[1]                 # none is known
    assert [i.code for i in batch_only.issues] == ["fallback_off"]
    fit = fit_curves_array(X, Y, max_iter=5)
    assert len(refits) == 1 and np.array_equal(refits[0], Y[0])             # only the curve that can gain
    assert fit.method.tolist() == ["scipy", "batch"] and fit.status.tolist() == ["converged", "not_converged"]
    assert "no finite optimum is known" in fit.reason[1]
    assert fit.rss[0] < batch_only.rss[0]
    assert fit.rss[0] <= _scipy_rss(DOSES, Y[0], [1, 0, 100, 1]) * (1 + 1e-9)
    full = fit_curves_array(X, Y)                                          # and the batch alone gets there too
    assert full.method[0] == "batch" and full.rss[0] == pytest.approx(fit.rss[0], rel=1e-9)


def test_fallback_is_capped_with_an_issue(refits):
    rng = np.random.default_rng(11)
    X = np.tile(DOSES, (3, 1))
    Y = np.vstack([_ll4(DOSES, 1.0 + 0.3 * k, 5, 100, 0.3 * (k + 1)) + rng.normal(0, 3, 8) for k in range(3)])
    table = fit_dose_response_batch(_long(X, Y), max_iter=4, max_fallback=1).table
    capped = fit_dose_response_batch(_long(X, Y), max_iter=4, max_fallback=1)
    assert len(refits) == 2                                                 # one curve in each of the two fits
    issue = next(i for i in capped.issues if i.code == "fallback_capped")
    assert issue.message.startswith("2 of 3 curves") and "max_fallback=1" in issue.message
    assert table["method"].tolist() == ["scipy", "batch", "batch"]
    assert table["status"].tolist()[1:] == ["not_converged", "not_converged"]
    assert all("not refitted" in r for r in table["reason"].tolist()[1:])


# --------------------------------------------------------------------------------------------- warnings
def test_numpy_and_scipy_warnings_become_issues(monkeypatch, recwarn):
    original = batch.covariances

    def noisy(*args):
        np.array([0.0]) / np.array([0.0])                                  # numpy: invalid value in divide
        np.array([0.0]) / np.array([0.0])
        warnings.warn("covariance of the parameters could not be estimated", OptimizeWarning, stacklevel=2)
        return original(*args)
    monkeypatch.setattr(batch, "covariances", noisy)
    data = _long(np.tile(DOSES, (2, 1)), np.vstack([_ll4(DOSES, 1.5, 5, 100, 0.5) + 0.5 * np.sin(np.arange(8)),
                                                    _ll4(DOSES, 1.0, 0, 90, 2.0) + 0.5 * np.cos(np.arange(8))]))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")                                      # anything that escapes would raise
        fit = fit_dose_response_batch(data)
    assert len(recwarn) == 0
    found = {i.message.split(" during")[0]: i for i in fit.issues if i.code == "numerical_warning"}
    assert set(found) == {"2 x RuntimeWarning 'invalid value encountered in divide'",
                          "1 x OptimizeWarning 'covariance of the parameters could not be estimated'"}
    assert all(i.severity == "info" for i in found.values())
    assert fit.table["status"].tolist() == ["converged", "converged"]


def test_hard_curves_fit_silently():
    # ED50s far beyond the doses, inactive and increasing curves, steps: the iteration meets overflow on the way
    # out; none of it reaches the user
    rng = np.random.default_rng(2024)
    n = 300
    b = rng.uniform(0.3, 5, n) * rng.choice([-1, 1], n)
    e = 10 ** rng.uniform(-6, 5, n)
    d = np.where(rng.random(n) < 0.2, 10.0, 90.0)
    Y = 10 + (d - 10)[:, None] / (1 + np.exp(b[:, None] * (np.log(DOSES) - np.log(e)[:, None])))
    Y = Y + rng.normal(0, 5, Y.shape)
    X = np.tile(DOSES, (n, 1))
    X[:5, -1] = np.nan                                                      # a few ragged curves
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        fit = fit_curves_array(X, Y)
    assert not [i for i in fit.issues if i.code == "numerical_warning"]
    assert set(fit.status) <= {"converged", "diverged", "not_identifiable"}
    assert np.all(np.isfinite(fit.rss))
    # a curve that converged (to a finite optimum) is fitted at least as well as scipy from drc's start
    finite = np.flatnonzero((fit.status == "converged") & ~(fit.rss >= fit.rss_limit * (1 - LIMIT_MARGIN)))
    assert finite.size > 50 and (fit.status == "diverged").sum() > 100
    for i in finite[:30]:
        ok = np.isfinite(X[i])
        p0 = self_start(get_model("LL.4"), X[i, ok], Y[i, ok])[:4]
        try:
            reference = _scipy_rss(X[i, ok], Y[i, ok], p0)
        except RuntimeError:                                                # scipy gave up: nothing to compare
            continue
        assert fit.rss[i] <= reference * (1 + 1e-6)


def test_out_of_range_responses_are_refused_per_curve():
    X = np.tile(DOSES, (2, 1))
    Y = np.vstack([_ll4(DOSES, 1.5, 5, 100, 0.5), _ll4(DOSES, 1.5, 5, 100, 0.5) * 1e160])
    Y[0] += 0.1 * np.sin(np.arange(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_curves_array(X, Y)
    assert fit.status.tolist() == ["converged", "failed"]
    assert "rescale" in fit.reason[1]
