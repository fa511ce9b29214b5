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

The posterior of beta is computed on a fixed grid (trapezoidal rule on [-10, 10] with 401 nodes; the integrand
is smooth and decays fast, so the rule converges geometrically -- the tests check it against adaptive
quadrature).  Many trials are handled at once: the log-likelihood of every trial at every node is a matrix product.
The dose-toxicity estimate is the plug-in ``p_j(E[beta | data])``, as dfcrm reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logit

__all__ = ["indifference_skeleton", "CrmModel", "Posterior"]

GRID_LIMIT = 10.0
GRID_NODES = 401


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


@dataclass(frozen=True)
class Posterior:
    """Posterior summaries for a batch of trials (arrays over trials)."""

    mean: np.ndarray            # E[beta | data]
    var: np.ndarray             # Var[beta | data]
    p_hat: np.ndarray           # plug-in toxicity estimates, shape (B, J)
    p_lowest_above_target: np.ndarray   # Pr(p_1 > target | data)


class CrmModel:
    """A one-parameter CRM model on a fixed quadrature grid (see the module docstring)."""

    def __init__(self, skeleton, model: str = "empiric", intercept: float = 3.0, prior_sd: float = 1.34 ** 0.5):
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
        self.beta = np.linspace(-GRID_LIMIT, GRID_LIMIT, GRID_NODES)
        w = np.full(GRID_NODES, self.beta[1] - self.beta[0])
        w[[0, -1]] *= 0.5
        self.log_weight = np.log(w) - 0.5 * (self.beta / prior_sd) ** 2
        self.log_p, self.log_q = (a.T for a in self.log_prob(self.beta))      # (J, G) each

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

    def posterior(self, n: np.ndarray, y: np.ndarray, target: float) -> Posterior:
        """Posterior for each row of per-dose counts ``n``, ``y`` (shape (B, J))."""
        n = np.atleast_2d(np.asarray(n, dtype=float))
        y = np.atleast_2d(np.asarray(y, dtype=float))
        log_post = y @ self.log_p + (n - y) @ self.log_q + self.log_weight      # (B, G)
        log_post -= log_post.max(axis=1, keepdims=True)
        w = np.exp(log_post)
        w /= w.sum(axis=1, keepdims=True)
        mean = w @ self.beta
        var = w @ (self.beta ** 2) - mean ** 2
        p_hat = self.prob(mean)
        above = (self.prob(self.beta)[:, 0] > target).astype(float)             # p_1(beta) > target
        return Posterior(mean, np.maximum(var, 0.0), p_hat, w @ above)
