"""The model evaluated for a stack of N curves at once, on the scale the batch iteration works on.

Parameters are stored per curve as the free ones of (b, c, d, e, f) with e and f on the log scale (``phi``);
fixed parameters are filled in from ``fixed_values``.  Besides the plain residuals and Jacobian
(:meth:`CurveStack.evaluate`) the stack gives the *variable projection* of the levels: f = c + (d - c) g is
linear in c and d, so for each shape psi = (b, ln e[, ln f]) their least-squares values follow directly
(:meth:`CurveStack.project`, :meth:`CurveStack.projected_rss`).  Used by :mod:`.batch_iterate`,
:mod:`.batch_fallback` and :mod:`.batch_covariance`.
"""

from __future__ import annotations

import numpy as np

from .models import DoseResponseModel

__all__ = ["CurveStack"]


class CurveStack:
    """Evaluation of the model for a stack of curves on the internal scale (free parameters, ln e, ln f)."""

    def __init__(self, model: DoseResponseModel, fixed_values: np.ndarray):
        self.model = model
        self.fixed_values = fixed_values
        self.free = np.flatnonzero(~np.isfinite(fixed_values))
        self.log = np.array([k for k, j in enumerate(self.free) if j in (3, 4)], dtype=np.intp)
        self.shape = np.array([j for j in (0, 3, 4) if j in self.free], dtype=np.intp)
        self.shape_log = np.array([k for k, j in enumerate(self.shape) if j in (3, 4)], dtype=np.intp)
        self.c_free, self.d_free = 1 in self.free, 2 in self.free
        self.gc_shape = (1,) + tuple(self.shape)        # columns d f / dc (= 1 - g at c = 0, d = 1) and the shape

    def natural(self, phi):
        theta = np.broadcast_to(self.fixed_values, phi.shape[:-1] + (5,)).copy()
        vals = phi.copy()
        with np.errstate(over="ignore"):
            vals[..., self.log] = np.exp(vals[..., self.log])
        theta[..., self.free] = vals
        return theta

    def internal(self, theta):
        phi = theta[..., self.free].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            phi[..., self.log] = np.log(phi[..., self.log])
        return phi

    def evaluate(self, phi, lx, y, w, natural: bool = False):
        """(residuals y - f with zeros off the mask, Jacobian of f in the free parameters)."""
        theta = self.natural(phi)
        pred, J = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=self.free)
        if not natural:
            J[..., self.log] *= theta[:, None, self.free[self.log]]
        if w.all():
            return y - pred, J
        return np.where(w, y - pred, 0.0), np.where(w[..., None], J, 0.0)

    # ---- variable projection: the levels c, d are linear; the iteration runs on the shape (b, ln e, ln f) only
    def shape_theta(self, psi, levels=None):
        """(N, 5) parameters from shape values psi (free b, ln e, ln f) and levels (c, d; default 0 and 1)."""
        theta = np.broadcast_to(self.fixed_values, psi.shape[:-1] + (5,)).copy()
        theta[..., 1:3] = (0.0, 1.0) if levels is None else levels
        vals = psi.copy()
        with np.errstate(over="ignore"):
            vals[..., self.shape_log] = np.exp(vals[..., self.shape_log])
        theta[..., self.shape] = vals
        return theta

    def projected_rss(self, psi, lx, y, w):
        """The least RSS over the levels for each shape psi (the residual sum of squares of :meth:`project`)."""
        theta = self.shape_theta(psi)
        g, j = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=(1,))
        wf = w.astype(float)
        c_fix, d_fix = self.fixed_values[1], self.fixed_values[2]
        if self.c_free and self.d_free:
            n = wf.sum(axis=1)
            u = np.where(((g * wf).sum(axis=1) <= 0.5 * n)[:, None], g, j[..., 0]) * wf
            uc = (u - (u.sum(axis=1) / n)[:, None]) * wf
            yc = (y - ((y * wf).sum(axis=1) / n)[:, None]) * wf
            s_uu = (uc * uc).sum(axis=1)
            rss = (yc * yc).sum(axis=1) - (uc * yc).sum(axis=1) ** 2 / s_uu
        elif self.c_free or self.d_free:
            u = (g if self.d_free else j[..., 0]) * wf
            yy = (y - (c_fix if self.d_free else d_fix)) * wf
            s_uu = (u * u).sum(axis=1)
            rss = (yy * yy).sum(axis=1) - (u * yy).sum(axis=1) ** 2 / s_uu
        else:
            r = (y - c_fix - (d_fix - c_fix) * g) * wf
            return (r * r).sum(axis=1)
        return np.where(s_uu > 1e-300, np.maximum(rss, 0.0), np.inf)

    def project(self, psi, lx, y, w):
        """(residuals, Jacobian in psi, levels (N, 2)) with the levels at their least-squares values for each
        shape: f = c + (d - c) g.  The Jacobian is Kaufman's, P (d f / d psi) with P the projection off the span
        of the level regressors.  When all of a curve's g are near 1 the regression uses 1 - g (computed without
        cancellation), so a curve running out to a power-law limit keeps its precision."""
        theta = self.shape_theta(psi)
        g, j = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=self.gc_shape)
        gc, dg = j[..., 0], j[..., 1:]
        dg[..., self.shape_log] *= theta[:, None, self.shape[self.shape_log]]
        dense = bool(w.all())
        wf = None if dense else w.astype(float)
        wf3 = None if dense else wf[..., None]

        def masked(a, m):                                  # a * mask, skipped when every point counts
            return a if dense else a * m
        c_fix, d_fix = self.fixed_values[1], self.fixed_values[2]
        if self.c_free and self.d_free:
            n = np.full(len(g), g.shape[1], dtype=float) if dense else wf.sum(axis=1)
            use_g = masked(g, wf).sum(axis=1) <= 0.5 * n
            u = masked(np.where(use_g[:, None], g, gc), wf)
            du = np.where(use_g[:, None, None], dg, -dg)
            u_bar, y_bar = u.sum(axis=1) / n, masked(y, wf).sum(axis=1) / n
            uc, yc = masked(u - u_bar[:, None], wf), masked(y - y_bar[:, None], wf)
            s_uu = np.einsum("nm,nm->n", uc, uc)
            k = np.einsum("nm,nm->n", uc, yc) / s_uu
            r = yc - k[:, None] * uc
            alpha = y_bar - k * u_bar
            levels = np.stack([np.where(use_g, alpha, alpha + k), np.where(use_g, alpha + k, alpha)], axis=1)
            v = masked(k[:, None, None] * du, wf3)
            v = masked(v - v.sum(axis=1, keepdims=True) / n[:, None, None], wf3)
            # Golub-Pereyra: P (d f / d psi) plus the term of the projection's own derivative
            J = (v - uc[..., None] * (np.einsum("nm,nmq->nq", uc, v) / s_uu[:, None])[:, None, :]
                 + uc[..., None] * (np.einsum("nmq,nm->nq", du, r) / s_uu[:, None])[:, None, :])
            bad = ~(s_uu > 1e-300)
        elif self.c_free or self.d_free:
            # one free level: f = c + (d - c) g with c fixed, or f = d + (c - d)(1 - g) with d fixed
            u, du, off = (g, dg, c_fix) if self.d_free else (gc, -dg, d_fix)
            u = masked(u, wf)
            yy = masked(y - off, wf)
            s_uu = np.einsum("nm,nm->n", u, u)
            k = np.einsum("nm,nm->n", u, yy) / s_uu
            r = yy - k[:, None] * u
            levels = np.stack([np.full_like(k, c_fix), c_fix + k] if self.d_free
                              else [d_fix + k, np.full_like(k, d_fix)], axis=1)
            v = masked(k[:, None, None] * du, wf3)
            J = (v - u[..., None] * (np.einsum("nm,nmq->nq", u, v) / s_uu[:, None])[:, None, :]
                 + u[..., None] * (np.einsum("nmq,nm->nq", du, r) / s_uu[:, None])[:, None, :])
            bad = ~(s_uu > 1e-300)
        else:
            r = masked(y - c_fix - (d_fix - c_fix) * g, wf)
            J = masked((d_fix - c_fix) * dg, wf3)
            levels = np.broadcast_to([c_fix, d_fix], (len(psi), 2)).copy()
            bad = np.zeros(len(psi), dtype=bool)
        r[bad] = np.inf
        return r, J, levels
