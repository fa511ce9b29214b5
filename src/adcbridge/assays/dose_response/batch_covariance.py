"""Standard errors of the batch fit: every curve's variance-covariance matrix at once.

``"drc"``: V = s^2 (J'J - sum_i r_i H_i)^-1, the inverse Hessian of the RSS as drc reports it (the second
derivatives H_i of the model by central differences of the analytic Jacobian); ``"jacobian"``: V = s^2 (J'J)^-1,
the Gauss-Newton form.  Both are those of :mod:`.fit`, computed for a stack of curves; each matrix is tested and
inverted column-scaled.
"""

from __future__ import annotations

import numpy as np

from .batch_curves import CurveStack

__all__ = ["covariances"]


def covariances(curves: CurveStack, phi, lx, y, w, n_obs, kind: str):
    """((N, P, P) variance-covariance matrices on the natural scale of the free parameters, (N,) condition
    numbers of the column-scaled J'J).  At extreme estimates (a steep step, e far out) the derivatives overflow:
    such a curve gets NaN standard errors and an infinite condition number (not identifiable), silently."""
    with np.errstate(all="ignore"):
        return _covariances_at(curves, phi, lx, y, w, n_obs, kind)


def _covariances_at(curves: CurveStack, phi, lx, y, w, n_obs, kind: str):
    N, P = phi.shape
    theta = curves.natural(phi)
    r, J = curves.evaluate(phi, lx, y, w, natural=True)
    JT = np.swapaxes(J, 1, 2)
    jtj = JT @ J
    A = jtj
    df = n_obs - P
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.einsum("nm,nm->n", r, r) / df
    if kind == "drc":
        free_theta = theta[:, curves.free]
        S = np.zeros_like(A)
        shape = [k for k, j in enumerate(curves.free) if j in (0, 3, 4)]
        for k in shape:
            # central differences of the analytic Jacobian in b, e, f.  e and f are positive and may be tiny
            # (doses in mol/L): a step relative to the value keeps them positive; b gets an absolute floor.  The
            # rows of c and d need none: f is linear in them, so d2f/dc dtheta is minus, and d2f/dd dtheta plus,
            # d g/dtheta, already in the shape rows' c and d columns (S is symmetrised below)
            j = curves.free[k]
            h = 1e-5 * np.abs(free_theta[:, k]) if j >= 3 else 1e-5 * (np.abs(free_theta[:, k]) + 1e-3)
            up, down = theta.copy(), theta.copy()
            up[:, j] += h
            down[:, j] -= h
            dj = (curves.evaluate(curves.internal(up), lx, y, w, True)[1]
                  - curves.evaluate(curves.internal(down), lx, y, w, True)[1]) / (2 * h[:, None, None])
            S[:, k, :] = np.einsum("nm,nmp->np", r, dj)
        linear = [k for k, j in enumerate(curves.free) if j in (1, 2)]
        for k in linear:
            S[:, k, shape] = S[:, shape, k]
        A = A - 0.5 * (S + np.swapaxes(S, 1, 2))
    d = np.sqrt(np.einsum("npp->np", jtj))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = jtj / (d[:, :, None] * d[:, None, :])
        cond = np.full(N, np.inf)
        fin = np.all(np.isfinite(scaled), axis=(1, 2))
        lam = np.abs(np.linalg.eigvalsh(scaled[fin]))       # symmetric: the 2-norm condition number
        cond[fin] = lam.max(axis=1) / lam.min(axis=1)
    V = np.full((N, P, P), np.nan)
    ok = np.all(np.isfinite(A), axis=(1, 2)) & (df > 0) & np.all(d > 0, axis=1)
    if ok.any():
        # test and invert the column-scaled matrix: parameters on very different scales (e ~ 1e-9 M) would
        # otherwise make a well-determined fit look singular
        dd = d[ok][:, :, None] * d[ok][:, None, :]
        As = A[ok] / dd
        eig = np.linalg.eigvalsh(As)
        good = np.zeros(N, dtype=bool)
        good[ok] = eig.min(axis=1) > 1e-13 * np.abs(eig).max(axis=1)
        if good.any():
            sub = good[ok]
            V[good] = _inverse(As[sub]) / dd[sub] * s2[good, None, None]
    return V, cond


def _inverse(A):
    """Batched inverse; a matrix that is numerically singular gets NaN."""
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out = np.full_like(A, np.nan)
        for i, a in enumerate(A):
            try:
                out[i] = np.linalg.inv(a)
            except np.linalg.LinAlgError:
                pass
        return out
