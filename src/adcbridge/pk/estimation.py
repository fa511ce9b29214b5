"""Maximum-likelihood estimation of many independent fits at once (vectorised Levenberg-Marquardt scoring).

A *unit* is what one parameter set describes: one animal (individual fits) or a group of animals (naive pooled
fits).  Every unit is fitted from several starts; all (unit, start) pairs -- *combos* -- are advanced together,
so one model evaluation serves every animal and every start.

Parameters are ``phi = (log theta_free, log sigma)``.  For each combo the objective is the ``OFV`` of
:mod:`adcbridge.pk.errors`, with its gradient (exact given ``df``, so the optimum is a true stationary point of the
likelihood) and a curvature ``H``::

    grad  = sum [ (1/g^2 - r^2/g^4) dg^2 - 2 r/g^2 df ]
    H_exp = sum [ 2 df df' / g^2 + dg^2 dg^2' / g^4 ]          (E[d^2 OFV], Fisher scoring)
    H_obs = H_exp + sum [ (2 r^2/g^6 - 2/g^4) dg^2 dg^2' + (1/g^2 - r^2/g^4) d2g^2
                          + 2 r/g^4 (dg^2 df' + df dg^2') ]

``H_obs`` is the Hessian of the OFV without the model's second derivatives ``d2f``.  With the combined error model
it is used where it is positive definite, else ``H_exp``: with Fisher scoring alone, a combined-error fit whose
two SDs trade off along a shallow valley converged linearly and stopped unconverged at 300 iterations; with
``H_obs`` it converges in 26.  With one SD per analyte scoring is kept (``H_obs`` made 3,000 log-error 2cmt fits
15 % slower: 24.7 iterations on average against 20.4).
A parameter at a bound whose gradient points out of the box is held (removed from the step's system).

``df`` by central differences (step 1e-6 on the log scale).  The step solves ``(H + mu diag H) d = -grad``, projected
onto the bounds and then scaled down so that no log-parameter moves by more than 2 per iteration (a trial step
never jumps to the bounds; a parameter held at its bound does not shrink the others' steps); it is
accepted if the OFV decreases (then mu / 10, else mu x 10).  Convergence: a decrease below ``1e-12 (1 + |OFV|)``
with every ``|d| < 1e-8``, or ``mu`` reaching 1e10 with the predicted decrease below ``1e-9``, or (a flat valley
of the objective, e.g. the correlated target parameters of a TMDD model: the estimates then crawl along it with
ever smaller gains), for models solved by the ODE only, a total decrease below ``1e-6 (1 + |OFV|)`` over the last
10 accepted iterations -- the objective is then converged to that tolerance while the parameters along the valley
are not determined, which the standard errors and correlations report.  The ODE's own accuracy (``rtol`` 1e-10,
finite-difference derivatives) does not support chasing the valley further; closed-form models, whose
derivatives are accurate, go on to the first rule (R's optimum to 1e-8).

Predictions: a sample exactly at a bolus time is that dose's pre-dose sample (the dose does not count there yet).
ODE models are solved with :data:`ODE_FIT_OPTIONS`: a parameter set the solver cannot handle within its work limit
gets OFV = inf, so the trial step is rejected.

Covariance of ``phi``: ``2 H_obs^-1`` with ``H_obs`` the observed Hessian of the OFV by central second differences
(step 1e-4; the default, as R's ``optim(hessian = TRUE)``), or ``2 H^-1`` (expected information).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LOG2PI, variance, variance_curvature
from .predict import predict_arrays

__all__ = ["Batch", "Estimator"]

_TINY = 1e-300
_FLAT_WINDOW, _FLAT_TOL = 10, 1e-6   # converged: OFV fell by < 1e-6 (1 + |OFV|) over the last 10 accepted steps
_MAX_STEP = 2.0          # largest change of any log-parameter in one iteration (about a factor of 7.4)
#: the ODE in fits: LSODA (Adams, or BDF when stiff) with a work limit, and NaN (OFV = inf: a rejected step) for a
#: parameter set it cannot solve -- an optimiser's trial step never hangs or aborts the fit
ODE_FIT_OPTIONS = {"method": "LSODA", "rtol": 1e-10, "atol": 1e-12, "max_rhs": 20_000, "on_fail": "nan"}


@dataclass
class Batch:
    """R padded rows (profiles): ``times``, ``y``, ``mask``, ``out_idx`` (R, T); doses (R, D); ``unit`` (R,)."""

    times: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    out_idx: np.ndarray
    dose_time: np.ndarray
    amount: np.ndarray
    duration: np.ndarray
    unit: np.ndarray


class Estimator:
    """The objective and its derivatives for combos of (unit, start) (see the module docstring)."""

    def __init__(self, model, batch: Batch, outputs, free, fixed, error, n_err, *, method="auto"):
        self.model, self.b, self.outputs = model, batch, list(outputs)
        self.free, self.fixed, self.error, self.method = list(free), fixed, error, method
        self.p, self.q = len(self.free), n_err
        self.rows_of = [np.flatnonzero(batch.unit == u) for u in range(int(batch.unit.max()) + 1)]
        ylog = np.log(np.where(batch.mask, batch.y, 1.0))
        self.y = ylog if error == "log" else np.where(batch.mask, batch.y, 0.0)
        self.jac_const = 2 * np.where(batch.mask, ylog, 0.0).sum(axis=1) if error == "log" else 0.0
        self.n_eval = 0
        self.uses_ode = not model.closed_form or method == "ode"

    # ------------------------------------------------------------------------------------------- layout
    def expand(self, units):
        """Row indices and owning combo of every expanded row (combos' rows are contiguous)."""
        rows = [self.rows_of[u] for u in units]
        owner = np.repeat(np.arange(len(units)), [r.size for r in rows])
        starts = np.concatenate([[0], np.cumsum([r.size for r in rows])[:-1]])
        return np.concatenate(rows), owner, starts

    def predict(self, log_theta, rows):
        """Raw predictions (Rexp, T) for structural log-parameters (Rexp, p) of the expanded rows."""
        params = {n: np.exp(log_theta[:, j]) for j, n in enumerate(self.free)}
        for n, v in self.fixed.items():
            params[n] = v[self.b.unit[rows]]
        self.n_eval += 1
        with np.errstate(all="ignore"):
            out = predict_arrays(self.model, self.model.hourly(params), self.b.times[rows], self.b.dose_time[rows],
                                 self.b.amount[rows], self.b.duration[rows], self.outputs, method=self.method,
                                 exclude_at_dose=True, ode_options=ODE_FIT_OPTIONS)
        idx = self.b.out_idx[rows]
        f = np.zeros(idx.shape)
        for k, o in enumerate(self.outputs):
            f = np.where(idx == k, out[o], f)
        return f

    def _transform(self, f):
        return np.log(np.maximum(f, _TINY)) if self.error == "log" else f

    # --------------------------------------------------------------------------------------- objective
    def ofv(self, phi, units):
        rows, owner, starts = self.expand(units)
        f = self._transform(self.predict(phi[owner, :self.p], rows))
        return self._ofv_rows(f, phi[owner, self.p:], rows, starts)

    def _ofv_rows(self, f, log_sigma, rows, starts):
        m = self.b.mask[rows]
        v, _, _ = variance(self.error, f, log_sigma, self.b.out_idx[rows])
        v = np.maximum(v, _TINY)
        r = self.y[rows] - f
        per_row = np.where(m, LOG2PI + np.log(v) + r * r / v, 0.0).sum(axis=1)
        if self.error == "log":
            per_row = per_row + self.jac_const[rows]
        out = np.add.reduceat(per_row, starts)
        return np.where(np.isfinite(out), out, np.inf)

    def derivatives(self, phi, units, step=1e-6, observed=True):
        """OFV (K,), gradient (K, P) and curvature H (K, P, P): for the combined error model the Hessian of the
        OFV without the model's second derivatives where that is positive definite, else (and for the other
        error models, or ``observed=False``) the expected information."""
        rows, owner, starts = self.expand(units)
        n, p = rows.size, self.p
        base = phi[owner, :p]
        pert = np.concatenate([base[None], base[None] + step * np.eye(p)[:, None, :],
                               base[None] - step * np.eye(p)[:, None, :]])           # (1 + 2p, n, p)
        allf = self.predict(pert.reshape((1 + 2 * p) * n, p), np.tile(rows, 1 + 2 * p)).reshape(1 + 2 * p, n, -1)
        allf = self._transform(allf)
        f = allf[0]
        df = np.moveaxis((allf[1:1 + p] - allf[1 + p:]) / (2 * step), 0, -1)        # (n, T, p)
        ls = phi[owner, p:]
        v, dv_df, dvar = variance(self.error, f, ls, self.b.out_idx[rows])
        v = np.maximum(v, _TINY)
        m = self.b.mask[rows]
        r = self.y[rows] - f
        dg2 = np.concatenate([dv_df[..., None] * df, dvar], axis=-1)                  # (n, T, P)
        dfa = np.concatenate([df, np.zeros(dvar.shape)], axis=-1)
        w1 = np.where(m, 1 / v - r * r / v ** 2, 0.0)
        w2 = np.where(m, 2 * r / v, 0.0)
        grad = np.einsum("nt,ntp->np", w1, dg2) - np.einsum("nt,ntp->np", w2, dfa)
        H = (np.einsum("nt,ntp,ntq->npq", np.where(m, 2 / v, 0.0), dfa, dfa)
             + np.einsum("nt,ntp,ntq->npq", np.where(m, 1 / v ** 2, 0.0), dg2, dg2))
        H = np.add.reduceat(H, starts)
        ofv = self._ofv_rows(f, ls, rows, starts)
        if observed and self.error == "combined":
            # the terms whose expectation is zero (the model's second derivatives d2f are still left out)
            v_ff, dvar_df = variance_curvature(self.error, f, ls, self.b.out_idx[rows])
            d2v = np.zeros(dg2.shape + (dg2.shape[-1],))                               # (n, T, P, P)
            d2v[..., :p, :p] = v_ff[..., None, None] * df[..., :, None] * df[..., None, :]
            cross = dvar_df[..., None, :] * df[..., :, None]                           # (n, T, p, q)
            d2v[..., :p, p:] = cross
            d2v[..., p:, :p] = np.swapaxes(cross, -1, -2)
            q = dvar.shape[-1]
            d2v[..., p + np.arange(q), p + np.arange(q)] = 2 * dvar
            extra = (np.einsum("nt,ntp,ntq->npq", np.where(m, 2 * r * r / v ** 3 - 2 / v ** 2, 0.0), dg2, dg2)
                     + np.einsum("nt,ntpq->npq", w1, d2v)
                     + np.einsum("nt,ntp,ntq->npq", np.where(m, 2 * r / v ** 2, 0.0), dg2, dfa)
                     + np.einsum("nt,ntp,ntq->npq", np.where(m, 2 * r / v ** 2, 0.0), dfa, dg2))
            H_obs = H + np.add.reduceat(extra, starts)
            with np.errstate(all="ignore"):
                lam = np.linalg.eigvalsh(np.where(np.isfinite(H_obs), H_obs, 0.0))
            pd_ = np.all(np.isfinite(H_obs), axis=(1, 2)) & (lam[:, 0] > 1e-10 * np.abs(lam[:, -1]))
            H = np.where(pd_[:, None, None], H_obs, H)
        return ofv, np.add.reduceat(grad, starts), H

    # ----------------------------------------------------------------------------------------- optimiser
    def minimise(self, phi0, units, lower, upper, *, max_iter=300):
        """Levenberg-Marquardt scoring from ``phi0`` (K, P); returns phi, OFV, converged, iterations."""
        phi = np.clip(np.array(phi0, dtype=float), lower, upper)
        K, P = phi.shape
        units = np.asarray(units)
        ofv, grad, H = self.derivatives(phi, units)
        mu = np.full(K, 1e-3)
        active = np.isfinite(ofv)
        converged = np.zeros(K, bool)
        iters = np.zeros(K, int)
        history = np.full((K, _FLAT_WINDOW), np.inf)      # OFV after each of the last accepted iterations
        for _ in range(max_iter):
            act = np.flatnonzero(active)
            if act.size == 0:
                break
            iters[act] += 1
            Hf, gf = _free_system(H[act], grad[act], phi[act], lower, upper)
            d = np.diagonal(Hf, axis1=1, axis2=2)
            d = np.maximum(d, 1e-10 * np.maximum(d.max(axis=1, keepdims=True), 1e-300))
            A = Hf + mu[act, None, None] * (d[:, :, None] * np.eye(P))
            try:
                delta = -np.linalg.solve(A, gf[..., None])[..., 0]
            except np.linalg.LinAlgError:
                delta = -gf / (d * (1 + mu[act, None]))
            # project onto the bounds first, then cap: a parameter held at its bound does not shrink the others
            delta = np.where(np.isfinite(delta), delta, 0.0)
            delta = np.clip(phi[act] + delta, lower, upper) - phi[act]
            big = np.abs(delta).max(axis=1, keepdims=True)
            delta = np.where(big > _MAX_STEP, delta * (_MAX_STEP / np.where(big > 0, big, 1.0)), delta)
            trial = np.clip(phi[act] + delta, lower, upper)
            step = trial - phi[act]
            f_trial = self.ofv(trial, units[act])
            ok = np.isfinite(f_trial) & (f_trial <= ofv[act])
            acc, rej = act[ok], act[~ok]
            if acc.size:
                new_ofv, new_grad, new_H = self.derivatives(trial[ok], units[acc])
                # the derivative solve (the point and its perturbations together) can fail where the point alone
                # did not (ODE work limit): such a step counts as rejected
                good = np.isfinite(new_ofv) & np.all(np.isfinite(new_grad), axis=1)
                rej = np.concatenate([rej, acc[~good]])
                decrease = (ofv[acc] - f_trial[ok])[good]
                step = step[ok][good]
                acc = acc[good]
                phi[acc] = trial[ok][good]
                mu[acc] = np.maximum(mu[acc] / 10, 1e-12)
                ofv[acc], grad[acc], H[acc] = new_ofv[good], new_grad[good], new_H[good]
                done = (decrease <= 1e-12 * (1 + np.abs(ofv[acc]))) & (np.abs(step).max(axis=1) < 1e-8)
                history[acc] = np.column_stack([history[acc, 1:], ofv[acc]])
                with np.errstate(invalid="ignore"):
                    flat = history[acc, 0] - ofv[acc] <= _FLAT_TOL * (1 + np.abs(ofv[acc]))
                if self.uses_ode:
                    done |= flat
                converged[acc[done]] = True
                active[acc[done]] = False
            if rej.size:
                mu[rej] *= 10
                stuck = mu[rej] > 1e10
                if stuck.any():
                    s = rej[stuck]
                    Hs, gs = _free_system(H[s], grad[s], phi[s], lower, upper)
                    pred = np.abs(np.einsum("kp,kp->k", gs, _newton(Hs, gs)))
                    converged[s] = np.isfinite(ofv[s]) & (pred < 1e-9 * (1 + np.abs(ofv[s])))
                    active[s] = False
        return phi, ofv, converged, iters

    def observed_hessian(self, phi, units, step=1e-4):
        """Observed Hessian of the OFV (K, P, P) by central second differences on the log scale."""
        K, P = phi.shape
        E = np.eye(P) * step
        pert = [np.zeros(P)]
        for i in range(P):
            pert += [E[i], -E[i]]
        pairs = [(i, j) for i in range(P) for j in range(i + 1, P)]
        for i, j in pairs:
            pert += [E[i] + E[j], E[i] - E[j], -E[i] + E[j], -E[i] - E[j]]
        pert = np.array(pert)                                                   # (M, P)
        M = pert.shape[0]
        allphi = (phi[:, None, :] + pert[None]).reshape(K * M, P)
        F = self.ofv(allphi, np.repeat(np.asarray(units), M)).reshape(K, M)
        H = np.zeros((K, P, P))
        F = np.where(np.isfinite(F), F, np.nan)
        for i in range(P):
            H[:, i, i] = (F[:, 1 + 2 * i] - 2 * F[:, 0] + F[:, 2 + 2 * i]) / step ** 2
        for k, (i, j) in enumerate(pairs):
            c = 1 + 2 * P + 4 * k
            H[:, i, j] = H[:, j, i] = (F[:, c] - F[:, c + 1] - F[:, c + 2] + F[:, c + 3]) / (4 * step ** 2)
        return H


def _free_system(H, g, phi, lower, upper):
    """Curvature and gradient restricted to the parameters free to move: a parameter at a bound whose gradient
    points out of the box is held (its row and column become the identity, its gradient 0), so neither the step
    nor the predicted decrease counts a move the bounds forbid."""
    held = ((phi <= lower + 1e-12) & (g > 0)) | ((phi >= upper - 1e-12) & (g < 0))
    if not held.any():
        return H, g
    free = ~held
    Hf = H * (free[:, :, None] & free[:, None, :]) + held[:, :, None] * np.eye(H.shape[-1])
    return Hf, np.where(held, 0.0, g)


def _newton(H, g):
    """The Newton step ``-H^+ g`` per combo (pseudo-inverse)."""
    out = np.full(g.shape, np.inf)
    ok = np.all(np.isfinite(H), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
    if ok.any():
        out[ok] = -np.einsum("kpq,kq->kp", np.linalg.pinv(H[ok]), g[ok])
    return out
