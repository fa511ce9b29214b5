"""Nonlinear least squares shared by the assay fits (binding kinetics, steady-state affinity, internalization).

A model supplies only a residual function ``fun(x) -> r`` (observed minus predicted, any sign); this module
does the rest, the same way for every model:

* the fit: :func:`scipy.optimize.least_squares` with Levenberg-Marquardt (MINPACK) at tight tolerances, with a
  central-difference Jacobian;
* the covariance: the Gauss-Newton form ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)`` and ``J`` from a
  fourth-order (five-point) central difference at the optimum -- what R's ``nls``, ``minpack.lm`` + ``numDeriv``,
  scipy's ``curve_fit`` and GraphPad Prism report (not drc's Hessian of the RSS);
* Wald-t and profile (likelihood-ratio) confidence intervals, and the extra-sum-of-squares F test of nested
  models.

Parameters that must stay positive (rate constants) are best fitted on a log scale by the caller: the
Gauss-Newton covariance is invariant to such a reparametrisation (delta method), so standard errors do not
depend on the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = ["NlsFit", "nls_fit", "jacobian", "profile_interval", "extra_sum_of_squares_test", "t_quantile"]

Residuals = Callable[[np.ndarray], np.ndarray]


def _steps(x: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(np.abs(x), 1.0)


def jacobian(fun: Residuals, x: np.ndarray, *, rel_step: float = 1e-4, order: int = 4) -> np.ndarray:
    """Jacobian of ``fun`` at ``x`` by central differences (``order`` 2: 3-point, 4: 5-point stencil)."""
    x = np.asarray(x, dtype=float)
    h = _steps(x, rel_step)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        if order == 2:
            cols.append((fun(x + e) - fun(x - e)) / (2 * h[j]))
        else:
            cols.append((8 * (fun(x + e) - fun(x - e)) - (fun(x + 2 * e) - fun(x - 2 * e))) / (12 * h[j]))
    return np.column_stack(cols) if cols else np.zeros((fun(x).size, 0))


@dataclass(frozen=True)
class NlsFit:
    """A least-squares fit: estimates ``x`` (fit scale), ``vcov`` (``s^2 (J'J)^-1``, NaN when ``J`` is rank
    deficient), residuals, RSS, residual degrees of freedom, the Jacobian at the optimum and the optimiser's
    verdict.  ``rank`` is the numerical rank of ``J`` (columns scaled to unit length); ``condition`` its
    condition number."""

    names: tuple[str, ...]
    x: np.ndarray
    vcov: np.ndarray
    residuals: np.ndarray
    jac: np.ndarray
    rss: float
    n: int
    df: int
    rank: int
    condition: float
    converged: bool
    message: str
    nfev: int

    @property
    def p(self) -> int:
        return int(self.x.size)

    @property
    def sigma2(self) -> float:
        return self.rss / self.df if self.df > 0 else float("nan")

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def corr(self) -> np.ndarray:
        se = self.se
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.vcov / np.outer(se, se)

    def wald_interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        q = t_quantile(level, self.df)
        return self.x - q * self.se, self.x + q * self.se


def t_quantile(level: float, df: int) -> float:
    """Two-sided quantile of Student's t for a ``level`` confidence interval (normal when df is infinite)."""
    return float(stats.t.ppf(0.5 + level / 2.0, df)) if df > 0 else float("nan")


def covariance(J: np.ndarray, rss: float, df: int) -> tuple[np.ndarray, int, float]:
    """``s^2 (J'J)^-1`` by the SVD of the column-scaled ``J``; NaN matrix when rank deficient."""
    p = J.shape[1]
    if p == 0:
        return np.zeros((0, 0)), 0, 1.0
    norms = np.linalg.norm(J, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    _, s, vt = np.linalg.svd(J / safe, full_matrices=False)
    tol = s[0] * max(J.shape) * np.finfo(float).eps if s.size and s[0] > 0 else 0.0
    rank = int(np.sum(s > tol)) if s.size and s[0] > 0 else 0
    rank = min(rank, int(np.sum(norms > 0)))
    condition = float(s[0] / s[-1]) if s[-1] > 0 else float("inf")
    if rank < p or df <= 0:
        return np.full((p, p), np.nan), rank, condition
    inv = (vt.T / s**2) @ vt
    return (rss / df) * inv / np.outer(safe, safe), rank, condition


def nls_fit(fun: Residuals, x0, names, *, tol: float = 1e-14, max_nfev: int | None = None) -> NlsFit:
    """Minimise ``sum(fun(x)**2)`` from ``x0`` by Levenberg-Marquardt and return an :class:`NlsFit`."""
    x0 = np.asarray(x0, dtype=float)
    names = tuple(names)
    r0 = fun(x0)
    n = int(r0.size)
    if not np.all(np.isfinite(r0)):
        raise ValueError("the model cannot be evaluated at the starting values")
    if n <= x0.size:
        raise ValueError(f"{n} observations cannot determine {x0.size} parameters")
    sol = optimize.least_squares(fun, x0, jac=lambda x: jacobian(fun, x, rel_step=1e-6, order=2), method="lm",
                                 x_scale="jac", ftol=tol, xtol=tol, gtol=tol,
                                 max_nfev=max_nfev or 200 * (x0.size + 1))
    x = sol.x
    res = fun(x)
    rss = float(res @ res)
    df = n - x.size
    J = jacobian(fun, x, rel_step=1e-4, order=4)
    vcov, rank, condition = covariance(J, rss, df)
    finite = bool(np.all(np.isfinite(x)) and np.isfinite(rss))
    return NlsFit(names, x, vcov, res, J, rss, n, df, rank, condition, bool(sol.status > 0 and finite),
                  str(sol.message), int(sol.nfev))


def _profile_rss(fun: Residuals, fit: NlsFit, j: int, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
    free = np.arange(fit.p) != j

    def sub(z):
        x = fit.x.copy()
        x[free] = z
        x[j] = value
        return fun(x)

    if not free.any():
        r = sub(np.zeros(0))
        return float(r @ r), start
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = optimize.least_squares(sub, start, jac=lambda z: jacobian(sub, z, rel_step=1e-6, order=2),
                                         method="lm", x_scale="jac", ftol=1e-13, xtol=1e-13, gtol=1e-13)
            r = sub(sol.x)
    except ValueError:                   # the model cannot be evaluated here (e.g. exp overflow far out)
        return float("nan"), start
    rss = float(r @ r)
    return (rss, sol.x) if np.isfinite(rss) else (float("nan"), start)


def profile_interval(fun: Residuals, fit: NlsFit, j: int, level: float = 0.95) -> tuple[float, float]:
    """Profile confidence interval of parameter ``j``: the values where the signed root
    ``tau = sign(b - b_hat) sqrt((RSS_profile(b) - RSS_min) / s^2)`` reaches ``-/+ t(level, df)`` -- the interval
    that R's ``confint`` gives for an ``nls`` fit (MASS ``profile.nls``), solved exactly instead of
    interpolated.  NaN where the profile does not reach the cut-off, or where the model cannot be evaluated
    before it does."""
    cutoff = t_quantile(level, fit.df)
    s2 = fit.sigma2
    se = fit.se[j]
    if not (np.isfinite(se) and se > 0 and np.isfinite(s2) and s2 > 0):
        return float("nan"), float("nan")
    others = np.delete(fit.x, j)
    bounds = []
    for sign in (-1.0, 1.0):
        start = others.copy()

        def tau(b):
            nonlocal start
            rss, start = _profile_rss(fun, fit, j, b, start)
            return np.sqrt(max(rss - fit.rss, 0.0) / s2) - cutoff if np.isfinite(rss) else float("nan")

        inner, step = fit.x[j], cutoff * se
        outer = inner + sign * step
        found = False
        for _ in range(40):
            if tau(outer) > 0:
                found = True
                break
            inner, step = outer, step * 1.6
            outer = inner + sign * step
        start = others.copy()
        if not found or not tau(inner) < 0:          # no crossing, or a profile too flat/noisy to bracket
            bounds.append(float("nan"))
            continue
        try:
            bounds.append(float(optimize.brentq(tau, min(inner, outer), max(inner, outer),
                                                xtol=1e-13 * max(abs(fit.x[j]), se), rtol=1e-13)))
        except ValueError:                           # the profile is not monotone between the brackets
            bounds.append(float("nan"))
    return bounds[0], bounds[1]


def extra_sum_of_squares_test(rss_reduced: float, df_reduced: int, rss_full: float, df_full: int) -> dict:
    """F test of a nested (reduced) model against the full one:
    ``F = ((RSS_r - RSS_f) / (df_r - df_f)) / (RSS_f / df_f)`` (R ``anova.nls``, Prism's extra sum of squares)."""
    df1 = df_reduced - df_full
    f = ((rss_reduced - rss_full) / df1) / (rss_full / df_full)
    return {"f": float(f), "df1": int(df1), "df2": int(df_full), "p": float(stats.f.sf(f, df1, df_full)),
            "rss_reduced": float(rss_reduced), "rss_full": float(rss_full)}
