"""Terminal elimination rate constant lambda_z, by the best-fit rule, for many profiles at once.

Candidate points of a profile are its measurable concentrations (> 0, not BLQ) after Tmax -- at or after Tmax
for an IV bolus, as in Phoenix/NonCompart -- and after the end of an infusion, minus any point the user excluded.
Every window of the last k candidate points (k >= 3; windows always end at the last measurable concentration)
is fitted by ordinary least squares of ln(C) on t.  With adj R^2 = 1 - (1 - R^2)(k - 1)/(k - 2):

1. the best adj R^2 is taken over **all** windows, whatever their slope;
2. the windows within ``tolerance`` (1e-4) of it are kept, and of those the ones with a negative slope;
3. the window with the most points wins.

So a rising tail that fits best gives no lambda_z (the reason says so) -- PKNCA's rule.  NonCompart drops rising
windows before step 1 and can report a lambda_z from a poor declining fit (adj R^2 0.21 in the reference's
edge case E05); adcbridge deliberately does not.  With ``include`` the user's points are fitted as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LambdaZFit", "fit_lambda_z"]


@dataclass(frozen=True)
class LambdaZFit:
    """Per-profile results (arrays of length P; NaN / 0 where there is no fit, with ``reason``)."""

    lambda_z: np.ndarray
    intercept: np.ndarray        # b0: ln C = b0 - lambda_z t
    r2: np.ndarray
    adj_r2: np.ndarray
    corrxy: np.ndarray
    n_points: np.ndarray
    t_first: np.ndarray
    t_last: np.ndarray
    used: np.ndarray             # (P, M) points used
    reason: np.ndarray           # object: None when fitted


def fit_lambda_z(t: np.ndarray, c: np.ndarray, candidate: np.ndarray, min_points: int = 3,
                 tolerance: float = 1e-4, include: np.ndarray | None = None) -> LambdaZFit:
    """Best-fit lambda_z for each row (see the module docstring).

    ``candidate`` (P, M) marks the eligible points; ``include`` (P, M), where a row has any True, replaces the
    search by a fit of exactly those points.
    """
    P, M = t.shape
    reason = np.full(P, None, dtype=object)
    forced = np.zeros(P, dtype=bool) if include is None else include.any(axis=1)
    pts = np.where(forced[:, None], include if include is not None else candidate, candidate)
    pts = pts & np.isfinite(t) & np.isfinite(c) & (c > 0)
    K = pts.sum(axis=1)
    # move each row's points to the right end (original order kept) so that windows are suffixes
    order = np.argsort(pts, axis=1, kind="stable")
    ts = np.take_along_axis(t, order, axis=1)
    ls = np.log(np.where(pts, c, 1.0))
    ls = np.take_along_axis(ls, order, axis=1)
    inside = np.arange(M)[None, :] >= (M - K)[:, None]
    t_end = ts[:, -1:]
    l_end = ls[:, -1:]
    x = np.where(inside, ts - t_end, 0.0)          # centred on the last point: better conditioned sums
    y = np.where(inside, ls - l_end, 0.0)

    def rsum(a):                                     # sums over the last k points, k = 1..M (column k-1)
        return np.cumsum(a[:, ::-1], axis=1)

    n = np.arange(1, M + 1, dtype=float)[None, :]
    Sx, Sy, Sxx, Sxy, Syy = rsum(x), rsum(y), rsum(x * x), rsum(x * y), rsum(y * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        vxx = n * Sxx - Sx * Sx
        vxy = n * Sxy - Sx * Sy
        vyy = n * Syy - Sy * Sy
        slope = vxy / vxx
        r2 = np.where(vyy > 0, vxy * vxy / (vxx * vyy), np.nan)
        adj = 1 - (1 - r2) * (n - 1) / (n - 2)
    valid = (n >= min_points) & (n <= K[:, None])
    adj_valid = np.where(valid, adj, np.nan)
    with np.errstate(invalid="ignore"):
        best = np.where(valid.any(axis=1), np.nanmax(np.where(np.isnan(adj_valid), -np.inf, adj_valid), axis=1),
                        np.nan)
        near = valid & (adj_valid > best[:, None] - tolerance) & (slope < 0)
    # forced rows: the single window of all their points
    k_forced = K
    chosen_k = np.where(near.any(axis=1), M - np.argmax(near[:, ::-1], axis=1), 0)
    chosen_k = np.where(forced, np.where(K >= 2, k_forced, 0), chosen_k)
    ok = chosen_k > 0
    col = np.clip(chosen_k - 1, 0, M - 1)[:, None]
    pick = lambda a: np.take_along_axis(a, col, axis=1)[:, 0]          # noqa: E731
    lam = np.where(ok, -pick(slope), np.nan)
    if forced.any():
        bad = forced & ok & ~(lam > 0)
        reason[bad] = "the selected lambda_z points do not decline"
        ok &= ~bad
        lam = np.where(ok, lam, np.nan)
    kk = np.where(ok, chosen_k, 0).astype(float)
    mean_x = pick(Sx) / np.maximum(kk, 1)
    mean_y = pick(Sy) / np.maximum(kk, 1)
    # intercept in original coordinates: ln C = b0 - lam t
    b0 = np.where(ok, (mean_y + l_end[:, 0]) + lam * (mean_x + t_end[:, 0]), np.nan)
    r2c = np.where(ok, pick(r2), np.nan)
    adjc = np.where(ok, pick(adj), np.nan)
    if forced.any():
        adjc = np.where(forced & ok & (kk <= 2), np.nan, adjc)
    used_sorted = inside & (np.arange(M)[None, :] >= (M - kk)[:, None]) & ok[:, None]
    used = np.zeros_like(pts)
    np.put_along_axis(used, order, used_sorted, axis=1)
    t_first = np.where(ok, np.take_along_axis(ts, np.clip(M - kk, 0, M - 1).astype(int)[:, None], axis=1)[:, 0],
                       np.nan)
    t_last = np.where(ok, t_end[:, 0], np.nan)
    no_fit = ~ok & (reason == None)                                   # noqa: E711
    few = no_fit & (K < min_points)
    reason[few] = f"fewer than {min_points} measurable concentrations in the terminal phase"
    reason[no_fit & ~few] = "the best-fitting terminal window does not decline (rising or flat tail)"
    return LambdaZFit(lambda_z=lam, intercept=b0, r2=r2c, adj_r2=adjc, corrxy=np.where(ok, -np.sqrt(r2c), np.nan),
                      n_points=kk.astype(int), t_first=t_first, t_last=t_last, used=used, reason=reason)
