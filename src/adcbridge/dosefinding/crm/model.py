"""One-parameter CRM dose-toxicity models, their skeletons and the Bayesian posterior by quadrature.

Models (conventions of R dfcrm; beta ~ Normal(0, prior_sd^2), prior_sd = sqrt(1.34) by default):

* **empiric** (power): ``p_j(beta) = s_j ** exp(beta)``;
* **logistic** with fixed intercept a0 (default 3): ``p_j(beta) = 1 / (1 + exp(-a0 - exp(beta) * x_j))`` with the
  scaled doses ``x_j = logit(s_j) - a0`` so that ``p_j(0) = s_j`` (requires every s_j < expit(a0)).

The skeleton s can come from the indifference-interval method of Lee & Cheung (2009): with target theta,
half-width delta and prior MTD level nu, every dose's indifference interval is [theta - delta, theta + delta]:

* empiric: ``log s_(nu+k) = log(theta) * r**k`` with ``r = log(theta + delta) / log(theta - delta)``;
* logistic: ``x_(nu+k) = x_nu * R**k`` with ``x_nu = logit(theta) - a0`` and
  ``R = (logit(theta + delta) - a0) / (logit(theta - delta) - a0)``.

The posterior of beta is computed by the trapezoidal rule on a uniform grid over [-10, 10] (step 0.05), which
converges geometrically for these smooth, fast-decaying integrands (mean and variance agree with adaptive
quadrature to ~1e-10).  The grid is shifted so that beta* -- where p_1(beta) equals the target -- is a node, and
Pr(p_1 > target | data) = Pr(beta < beta* | data) is the half-line sum with Euler-Maclaurin end corrections
(derivatives up to the seventh by 9-point central differences), a fixed linear combination of the grid weights.
That is accurate to ~1e-3 or better when the posterior is wide compared with the step; wherever the result lies
within 0.01 of a decision cut-off, or the posterior sd is below 0.05 (:meth:`CrmModel.prob_lowest_too_toxic`), it
is recomputed on a grid ten times finer, accurate to ~1e-9, so stopping decisions are exact.  Many trials are
handled at once: the log-likelihood of every trial at every node is a matrix product.  The dose-toxicity estimate
is the plug-in ``p_j(E[beta | data])``, as dfcrm reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logit

__all__ = ["indifference_skeleton", "CrmModel", "Posterior"]

GRID_LIMIT = 10.0
COARSE_STEP = 0.05
FINE_STEP = 0.005
REFINE_BAND = 0.01
NARROW_SD = 0.05          # posteriors narrower than this are always recomputed on the fine grid


def indifference_skeleton(target: float, halfwidth: float, prior_mtd: int, n_doses: int,
                          model: str = "empiric", intercept: float = 3.0) -> tuple[float, ...]:
    """Skeleton with equal indifference intervals [target - halfwidth, target + halfwidth] (Lee & Cheung 2009).

    ``prior_mtd`` is the 1-based level whose skeleton value is the target.

    >>> [round(v, 6) for v in indifference_skeleton(0.25, 0.05, 3, 5)]
    [0.083973, 0.156741, 0.25, 0.3545, 0.460343]
    """
    if not 0 < target < 1:
        raise ValueError(f"The 'target' parameter must be in (0, 1). Got {target}.")
    if not (0 < halfwidth < min(target, 1 - target)):
        raise ValueError(f"The 'halfwidth' parameter must be in (0, min(target, 1 - target)). Got {halfwidth}.")
    if not 1 <= prior_mtd <= n_doses:
        raise ValueError(f"The 'prior_mtd' parameter must be a level in 1..{n_doses}. Got {prior_mtd}.")
    k = np.arange(1, n_doses + 1) - prior_mtd
    if model == "empiric":
        r = np.log(target + halfwidth) / np.log(target - halfwidth)
        s = np.exp(np.log(target) * r ** k)
    elif model == "logistic":
        lo, hi = logit(target - halfwidth) - intercept, logit(target + halfwidth) - intercept
        if not (lo < 0 and hi < 0):
            raise ValueError(f"The 'intercept' parameter ({intercept}) is too low for target {target} +- "
                             f"{halfwidth}: logit(target + halfwidth) must be below it.")
        s = expit(intercept + (logit(target) - intercept) * (hi / lo) ** k)
    else:
        raise ValueError(f"The 'model' parameter must be 'empiric' or 'logistic'. Got {model!r}.")
    return tuple(float(v) for v in s)


def _central_difference(order: int, half: int = 4) -> np.ndarray:
    """Weights of the central finite-difference derivative of ``order`` on offsets -half..half (unit step)."""
    k = np.arange(-half, half + 1, dtype=float)
    rhs = np.zeros(k.size)
    rhs[order] = math.factorial(order)
    return np.linalg.solve(np.vander(k, increasing=True).T, rhs)


# Euler-Maclaurin: sum'_(k<=0) h f(kh) - int_(-inf)^0 f = sum_j B_2j h^2j / (2j)! f^(2j-1)(0)
_EM_TERMS = [(order, bernoulli / math.factorial(order + 1))
             for order, bernoulli in ((1, 1 / 6), (3, -1 / 30), (5, 1 / 42), (7, -1 / 30))]


@dataclass(frozen=True)
class Posterior:
    """Posterior summaries for a batch of trials (arrays over trials)."""

    mean: np.ndarray            # E[beta | data]
    var: np.ndarray             # Var[beta | data]
    p_hat: np.ndarray           # plug-in toxicity estimates, shape (B, J)
    p_lowest_above_target: np.ndarray   # Pr(p_1 > target | data) (NaN without a target)


class _Grid:
    """Trapezoidal rule of step ``h`` on [-GRID_LIMIT, GRID_LIMIT] with beta* on a node."""

    def __init__(self, model: CrmModel, h: float):
        a = model.beta_star if model.beta_star is not None and np.isfinite(model.beta_star) else 0.0
        k = np.arange(int(np.ceil((-GRID_LIMIT - a) / h)), int(np.floor((GRID_LIMIT - a) / h)) + 1)
        self.beta = a + h * k
        w = np.full(self.beta.size, h)
        w[[0, -1]] *= 0.5
        self.log_weight = np.log(w) - 0.5 * (self.beta / model.prior_sd) ** 2
        self.log_p, self.log_q = (x.T for x in model.log_prob(self.beta))        # (J, G) each
        self.lower_tail = None if model.beta_star is None else self._lower_tail(model.beta_star)

    def _lower_tail(self, beta_star: float) -> np.ndarray:
        """c with Pr(beta < beta*) = c @ w for normalised weights w (w_k = h f_k): the half-line trapezoid sum
        minus the Euler-Maclaurin terms B_2j h^2j/(2j)! f^(2j-1)(beta*), j = 1..4 (9-point differences)."""
        beta = self.beta
        c = (beta < beta_star).astype(float)
        if not np.isfinite(beta_star) or not (beta[4] < beta_star < beta[-5]):
            return c
        k0 = int(np.argmin(np.abs(beta - beta_star)))
        c[k0] += 0.5
        for order, coef in _EM_TERMS:       # h^(order+1) f^(order) ~ h (D . f) = D . w
            c[k0 - 4:k0 + 5] -= coef * _central_difference(order)
        return c

    def weights(self, n: np.ndarray, y: np.ndarray) -> np.ndarray:
        log_post = y @ self.log_p + (n - y) @ self.log_q + self.log_weight      # (B, G)
        log_post -= log_post.max(axis=1, keepdims=True)
        w = np.exp(log_post)
        return w / w.sum(axis=1, keepdims=True)


class CrmModel:
    """A one-parameter CRM model with its quadrature (see the module docstring).

    ``target`` (optional) is needed for Pr(p_1 > target | data); its beta* is put on a grid node.
    """

    def __init__(self, skeleton, model: str = "empiric", intercept: float = 3.0, prior_sd: float = 1.34 ** 0.5,
                 target: float | None = None):
        s = np.asarray(skeleton, dtype=float)
        if s.ndim != 1 or s.size == 0 or np.any(~np.isfinite(s)) or np.any((s <= 0) | (s >= 1)):
            raise ValueError(f"The 'skeleton' parameter must be probabilities in (0, 1). Got {s.tolist()}.")
        if np.any(np.diff(s) <= 0):
            raise ValueError(f"The 'skeleton' parameter must be strictly increasing. Got {s.tolist()}.")
        if model not in ("empiric", "logistic"):
            raise ValueError(f"The 'model' parameter must be 'empiric' or 'logistic'. Got {model!r}.")
        if not prior_sd > 0:
            raise ValueError(f"The 'prior_sd' parameter must be > 0. Got {prior_sd}.")
        self.skeleton, self.model, self.intercept, self.prior_sd = s, model, float(intercept), float(prior_sd)
        if model == "logistic":
            self.x = logit(s) - intercept
            if np.any(self.x >= 0):
                raise ValueError(f"The 'skeleton' values must be below expit(intercept) = {expit(intercept):.4f} "
                                 f"for the logistic model. Got {s.tolist()}.")
        self.target = target
        self.beta_star = None if target is None else self._beta_star(target)
        self._coarse = _Grid(self, COARSE_STEP)
        self._fine: _Grid | None = None

    def _beta_star(self, target: float) -> float:
        """beta* with p_1(beta*) = target; p_1 decreases in beta, so p_1 > target iff beta < beta*."""
        if not 0 < target < 1:
            raise ValueError(f"The 'target' parameter must be in (0, 1). Got {target}.")
        s1 = self.skeleton[0]
        if self.model == "empiric":
            return float(np.log(np.log(target) / np.log(s1)))
        ratio = (logit(target) - self.intercept) / self.x[0]
        return float(np.log(ratio)) if ratio > 0 else -np.inf

    def prob(self, beta) -> np.ndarray:
        """Toxicity probabilities at parameter value(s) ``beta``: shape (..., J)."""
        b = np.exp(np.asarray(beta, dtype=float))[..., None]
        if self.model == "empiric":
            return self.skeleton ** b
        return expit(self.intercept + b * self.x)

    def log_prob(self, beta) -> tuple[np.ndarray, np.ndarray]:
        """(log p, log(1 - p)) at ``beta``, accurate where p underflows or rounds to 1."""
        b = np.exp(np.asarray(beta, dtype=float))[..., None]
        if self.model == "empiric":
            log_p = b * np.log(self.skeleton)
            return log_p, np.log(-np.expm1(log_p))
        eta = self.intercept + b * self.x
        return log_expit(eta), log_expit(-eta)

    def posterior(self, n: np.ndarray, y: np.ndarray, fine: bool = False) -> Posterior:
        """Posterior for each row of per-dose counts ``n``, ``y`` (shape (B, J)); ``fine`` uses the fine grid."""
        n = np.atleast_2d(np.asarray(n, dtype=float))
        y = np.atleast_2d(np.asarray(y, dtype=float))
        grid = self._fine_grid() if fine else self._coarse
        w = grid.weights(n, y)
        mean = w @ grid.beta
        var = w @ (grid.beta ** 2) - mean ** 2
        above = np.clip(w @ grid.lower_tail, 0, 1) if grid.lower_tail is not None else np.full(len(mean), np.nan)
        return Posterior(mean, np.maximum(var, 0.0), self.prob(mean), above)

    def prob_lowest_too_toxic(self, post: Posterior, n, y, cutoff: float) -> np.ndarray:
        """Pr(p_1 > target | data) from ``post``, recomputed on the fine grid where it lies within REFINE_BAND of
        ``cutoff`` (so that comparisons with the cut-off are exact)."""
        p = post.p_lowest_above_target.copy()
        near = np.flatnonzero((np.abs(p - cutoff) < REFINE_BAND) | (post.var < NARROW_SD ** 2))
        if near.size:
            n, y = np.atleast_2d(n), np.atleast_2d(y)
            p[near] = self.posterior(n[near], y[near], fine=True).p_lowest_above_target
        return p

    def _fine_grid(self) -> _Grid:
        if self._fine is None:
            self._fine = _Grid(self, FINE_STEP)
        return self._fine
