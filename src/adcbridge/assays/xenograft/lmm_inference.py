"""Small-sample inference for a linear mixed model with one grouping factor (animals): GLS fixed effects at given
variance components, and F tests with containment (nlme), Satterthwaite (lmerTest) and Kenward-Roger (pbkrtest)
denominator degrees of freedom.

The model is y_i = X_i b + Z_i u_i + e_i per animal i, u_i ~ N(0, G), e_i ~ N(0, s2 I), so
V_i = Z_i G Z_i' + s2 I = sum_r theta_r G_ri, with theta the variance components in pbkrtest's order (the lower
triangle of G by columns, then s2) and G_ri the matching derivative matrices (Z_j Z_k' + Z_k Z_j' for a
covariance).  Everything is computed animal by animal (V is block diagonal), so memory grows with the largest
animal's series, not with the study.

* Phi = (sum X_i' V_i^-1 X_i)^-1 is the covariance of the GLS estimate (R ``vcov`` of ``lme``/``lmer``).
* log likelihoods (nlme's constants): ML -1/2 [N ln 2 pi + sum ln|V_i| + r'V^-1 r]; REML
  -1/2 [(N - p) ln 2 pi + sum ln|V_i| + ln|X'V^-1 X| + r'V^-1 r], r = y - X b.
* P_r = -X' V^-1 G_r V^-1 X, Q_rs = X' V^-1 G_r V^-1 G_s V^-1 X and IE2_rs = tr(P G_r P G_s), the expected
  information of the REML criterion times 2, with P the REML projection (pbkrtest's ``vcovAdj``).
* **Satterthwaite** (lmerTest): the observed Hessian H of the REML deviance (-2 log REML likelihood) in theta,
  A = 2 H^-1, d Phi / d theta_r = -Phi P_r Phi; a one-row contrast l has df = 2 (l Phi l')^2 / (g' A g), g the
  gradient of l Phi l'.  A q-row hypothesis is decomposed along the eigenvectors of L Phi L' (lmerTest's
  ``contestMD``): E = sum nu_m / (nu_m - 2), df = 2 E / (E - q).
* **Kenward-Roger** (pbkrtest 0.5, Kenward & Roger 1997): W = 2 IE2^-1, Phi_A = Phi + 2 Phi U Phi with
  U = sum_rs W_rs (Q_rs - P_r Phi P_s) (the second-derivative term R is 0 for variance components), and the
  scaled F and its df from A1, A2 as in ``pbkrtest:::.KR_adjust``.
* **Containment** (nlme): a term constant within every animal is tested on (number of animals - number of such
  columns - intercept) df, any other term (and the intercept) on N - number of animals - number of within-animal
  columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["LmmBlocks", "LmmInference", "lmm_inference", "containment_df"]


@dataclass(frozen=True)
class LmmBlocks:
    """Per-animal design blocks: response ``y``, fixed-effects design ``X`` and random-effects design ``Z``."""

    y: tuple[np.ndarray, ...]
    X: tuple[np.ndarray, ...]
    Z: tuple[np.ndarray, ...]

    @classmethod
    def from_arrays(cls, y, X, Z, groups) -> LmmBlocks:
        groups = np.asarray(groups)
        idx = [np.flatnonzero(groups == g) for g in dict.fromkeys(groups.tolist())]
        return cls(tuple(y[i] for i in idx), tuple(X[i] for i in idx), tuple(Z[i] for i in idx))


def _g_matrices(Z: np.ndarray) -> list[np.ndarray]:
    """G_r for the lower triangle of G (by columns, as pbkrtest) and the residual."""
    q = Z.shape[1]
    out = []
    for k in range(q):
        for j in range(k, q):
            if j == k:
                out.append(np.outer(Z[:, j], Z[:, j]))
            else:
                out.append(np.outer(Z[:, j], Z[:, k]) + np.outer(Z[:, k], Z[:, j]))
    out.append(np.eye(Z.shape[0]))
    return out


def theta_from(G: np.ndarray, s2: float) -> np.ndarray:
    q = G.shape[0]
    return np.array([G[j, k] for k in range(q) for j in range(k, q)] + [s2])


@dataclass(frozen=True)
class LmmInference:
    """GLS estimate ``beta``, its covariance ``phi``, the KR-adjusted ``phi_adj`` and the pieces the F tests
    need (``P``, ``W`` = 2 IE2^-1, ``A`` = 2 H^-1 and ``dphi`` = d Phi / d theta)."""

    beta: np.ndarray
    phi: np.ndarray
    phi_adj: np.ndarray
    P: tuple[np.ndarray, ...]
    W: np.ndarray
    A: np.ndarray
    dphi: tuple[np.ndarray, ...]
    loglik_ml: float = float("nan")
    loglik_reml: float = float("nan")

    # ---------------------------------------------------------------------------------------- Satterthwaite
    def _nu(self, lv: np.ndarray) -> tuple[float, float]:
        var = float(lv @ self.phi @ lv)
        g = np.array([float(lv @ d @ lv) for d in self.dphi])
        return var, 2 * var ** 2 / float(g @ self.A @ g)

    def satterthwaite(self, L: np.ndarray, rhs: float = 0.0) -> dict:
        """F test of L beta = rhs with Satterthwaite's df (lmerTest's ``contestMD``)."""
        L = np.atleast_2d(L)
        d, vec = np.linalg.eigh(L @ self.phi @ L.T)
        order = np.argsort(d)[::-1]
        d, vec = d[order], vec[:, order]
        keep = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0)
        q = int(keep.sum())
        PtL = (vec.T @ L)[:q]
        t2 = (PtL @ self.beta - rhs) ** 2 / d[:q]
        F = float(t2.sum() / q)
        nu = np.array([self._nu(PtL[m])[1] for m in range(q)])
        if q == 1:
            df = float(nu[0])
        elif np.all(np.abs(np.diff(nu)) < 1e-8):
            df = float(nu.mean())
        elif np.any(nu <= 2):
            df = 2.0
        else:
            E = float(np.sum(nu / (nu - 2)))
            df = 2 * E / (E - q)
        return {"num_df": q, "den_df": df, "F": F, "p": float(stats.f.sf(F, q, df))}

    # ---------------------------------------------------------------------------------------- Kenward-Roger
    def kenward_roger(self, L: np.ndarray, rhs: float = 0.0) -> dict:
        """F test of L beta = rhs with the Kenward-Roger adjusted covariance, scaling and df (pbkrtest)."""
        L = np.atleast_2d(L)
        phi = self.phi
        theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
        tp = theta @ phi
        u = [tp @ P @ phi for P in self.P]
        n = len(self.P)
        A1 = A2 = 0.0
        for i in range(n):
            for j in range(i, n):
                e = 1.0 if i == j else 2.0
                A1 += e * self.W[i, j] * np.trace(u[i]) * np.trace(u[j])
                A2 += e * self.W[i, j] * float(np.sum(u[i] * u[j].T))
        q = int(np.linalg.matrix_rank(L))
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        c1 = g / (3 * q + 2 * (1 - g))
        c2 = (q - g) / (3 * q + 2 * (1 - g))
        c3 = (q + 2 - g) / (3 * q + 2 * (1 - g))
        V0 = 1 + c1 * B
        V0 = 0.0 if abs(V0) < 1e-10 else V0
        V1, V2 = 1 - c2 * B, 1 - c3 * B
        rho = (1 / q) * ((1 - A2 / q) / V1) ** 2 * V0 / V2
        df = 4 + (q + 2) / (q * rho - 1)
        scale = 1.0 if abs(df - 2) < 1e-2 else df * (1 - A2 / q) / (df - 2)
        r = L @ self.beta - rhs
        wald = float(r @ np.linalg.solve(L @ self.phi_adj @ L.T, r)) / q
        F = scale * wald
        return {"num_df": q, "den_df": float(df), "F": float(F), "p": float(stats.f.sf(F, q, df)),
                "F_unscaled": wald, "scale": float(scale)}

    def wald(self, L: np.ndarray, df: float, rhs: float = 0.0) -> dict:
        """Wald F test of L beta = rhs with the given denominator df (nlme's ``anova``)."""
        L = np.atleast_2d(L)
        r = L @ self.beta - rhs
        q = int(np.linalg.matrix_rank(L))
        F = float(r @ np.linalg.solve(L @ self.phi @ L.T, r)) / q
        return {"num_df": q, "den_df": float(df), "F": F, "p": float(stats.f.sf(F, q, df))}


def lmm_inference(blocks: LmmBlocks, G: np.ndarray, s2: float) -> LmmInference:
    """GLS fixed effects and the Satterthwaite/Kenward-Roger pieces at variance components ``G`` and ``s2``."""
    p = blocks.X[0].shape[1]
    per = []
    M = np.zeros((p, p))
    Xy = np.zeros(p)
    logdet_v = 0.0
    for y, X, Z in zip(blocks.y, blocks.X, blocks.Z):
        V = Z @ G @ Z.T + s2 * np.eye(len(y))
        logdet_v += float(np.linalg.slogdet(V)[1])
        Vinv = np.linalg.inv(V)
        T = Vinv @ X
        M += X.T @ T
        Xy += T.T @ y
        per.append((y, X, Z, Vinv, T))
    phi = np.linalg.inv(M)
    beta = phi @ Xy
    n = sum(len(y) for y in blocks.y)
    quad = sum(float((y - X @ beta) @ Vinv @ (y - X @ beta)) for y, X, Z, Vinv, T in per)
    loglik_ml = -0.5 * (n * np.log(2 * np.pi) + logdet_v + quad)
    loglik_reml = -0.5 * ((n - p) * np.log(2 * np.pi) + logdet_v + float(np.linalg.slogdet(M)[1]) + quad)
    n_par = len(_g_matrices(blocks.Z[0]))
    P = [np.zeros((p, p)) for _ in range(n_par)]
    Q = {(r, s): np.zeros((p, p)) for r in range(n_par) for s in range(n_par)}
    K = np.zeros((n_par, n_par))
    quad1 = np.zeros((n_par, n_par))          # sum a_r' V^-1 a_s
    Ta = np.zeros((n_par, p))                 # sum T' a_r
    for y, X, Z, Vinv, T in per:
        Gs = _g_matrices(Z)
        e = Vinv @ (y - X @ beta)
        GV = [Gr @ Vinv for Gr in Gs]
        a = [Gr @ e for Gr in Gs]
        GT = [Gr @ T for Gr in Gs]
        for r in range(n_par):
            P[r] -= T.T @ GT[r]
            Ta[r] += T.T @ a[r]
            for s in range(n_par):
                Q[r, s] += GT[r].T @ Vinv @ GT[s]
                K[r, s] += float(np.sum(GV[r] * GV[s].T))
                quad1[r, s] += float(a[r] @ Vinv @ a[s])
    IE2 = np.empty((n_par, n_par))
    for r in range(n_par):
        for s in range(n_par):
            IE2[r, s] = K[r, s] - 2 * float(np.sum(phi * Q[r, s])) + float(np.sum((phi @ P[r]) * (P[s] @ phi)))
    ypgpgpy = quad1 - Ta @ phi @ Ta.T
    H = -IE2 + 2 * ypgpgpy
    W = 2 * np.linalg.pinv(IE2)
    U = np.zeros((p, p))
    for r in range(n_par):
        for s in range(n_par):
            U += W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
    U = (U + U.T) / 2
    phi_adj = phi + 2 * phi @ U @ phi
    A = 2 * np.linalg.pinv(H)
    dphi = tuple(-phi @ Pr @ phi for Pr in P)
    return LmmInference(beta=beta, phi=phi, phi_adj=phi_adj, P=tuple(P), W=W, A=A, dphi=dphi, loglik_ml=loglik_ml,
                        loglik_reml=loglik_reml)


def containment_df(X: np.ndarray, groups: np.ndarray, intercept_col: int | None = 0) -> np.ndarray:
    """nlme's denominator df per column of ``X`` for one grouping level (see the module docstring)."""
    groups = np.asarray(groups)
    n, p = X.shape
    n_groups = len(set(groups.tolist()))
    within = np.zeros(p, dtype=bool)
    order = np.argsort(groups, kind="stable")
    gs = groups[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    for j in range(p):
        if j == intercept_col:
            continue
        col = X[order, j]
        mins = np.minimum.reduceat(col, starts)
        maxs = np.maximum.reduceat(col, starts)
        within[j] = bool(np.any(np.abs(maxs - mins) > 1e-12 * max(1.0, np.max(np.abs(col)))))
    n_between = int(np.sum(~within)) - (1 if intercept_col is not None else 0)
    df_between = n_groups - n_between - (1 if intercept_col is not None else 0)
    df_within = n - n_groups - int(np.sum(within))
    out = np.where(within, df_within, df_between).astype(float)
    if intercept_col is not None:
        out[intercept_col] = max(df_within, df_between)
    return out
