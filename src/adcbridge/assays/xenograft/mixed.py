"""Linear mixed models of log tumour volume, fitted with statsmodels ``MixedLM`` (one grouping factor: the
animal), and the designs the growth-rate analysis uses."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

from .lmm_inference import LmmBlocks, LmmInference, lmm_inference

__all__ = ["MixedFit", "fit_mixed", "growth_design"]


@dataclass(frozen=True)
class MixedFit:
    """A fitted mixed model: variance components ``G`` (random effects) and ``s2`` (residual), the log
    likelihood (REML or ML, with nlme's constants, evaluated at the fitted components), the GLS inference at
    those components and the optimiser's verdict."""

    names: tuple[str, ...]
    G: np.ndarray
    s2: float
    llf: float
    reml: bool
    n_obs: int
    n_groups: int
    converged: bool
    message: str
    inference: LmmInference

    @property
    def beta(self) -> np.ndarray:
        return self.inference.beta

    @property
    def n_params(self) -> int:
        """Fixed effects plus variance parameters (what nlme's AIC counts)."""
        q = self.G.shape[0]
        return len(self.names) + q * (q + 1) // 2 + 1

    @property
    def aic(self) -> float:
        return -2 * self.llf + 2 * self.n_params

    @property
    def bic(self) -> float:
        n = self.n_obs - (len(self.names) if self.reml else 0)
        return -2 * self.llf + np.log(n) * self.n_params

    def index(self, name: str) -> int:
        return self.names.index(name)


def fit_mixed(y: np.ndarray, X: np.ndarray, Z: np.ndarray, groups: np.ndarray, names, *, reml: bool = True
              ) -> MixedFit:
    """Fit y = X b + Z u_animal + e by (RE)ML with statsmodels, then compute the GLS estimate and its
    covariance at the fitted variance components (what nlme/lme4 report)."""
    model = sm.MixedLM(y, X, groups=groups, exog_re=Z)
    fit, message = None, ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("lbfgs", "bfgs", "powell", "nm"):
            try:
                r = model.fit(reml=reml, method=[method], maxiter=2000)
            except (np.linalg.LinAlgError, ValueError) as exc:      # pragma: no cover - numerical failure
                message = f"{method}: {exc}"
                continue
            if fit is None or (np.isfinite(r.llf) and r.llf > fit.llf + 1e-9):
                fit = r
            if r.converged:
                break
    if fit is None:                                                   # pragma: no cover
        raise ValueError(f"the mixed model could not be fitted ({message})")
    G = np.atleast_2d(np.asarray(fit.cov_re, dtype=float))
    s2 = float(fit.scale)
    inference = lmm_inference(LmmBlocks.from_arrays(y, X, Z, groups), G, s2)
    n_groups = len(set(np.asarray(groups).tolist()))
    llf = inference.loglik_reml if reml else inference.loglik_ml
    return MixedFit(names=tuple(names), G=G, s2=s2, llf=float(llf), reml=reml, n_obs=len(y),
                    n_groups=n_groups, converged=bool(fit.converged), message=message or
                    ("converged" if fit.converged else "the optimiser did not report convergence"),
                    inference=inference)


def growth_design(t: np.ndarray, group: np.ndarray, groups: tuple[str, ...], *, interaction: bool = True
                  ) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded design of ``ln V ~ day * group`` (R's names: ``(Intercept)``, ``day``, ``group<g>``,
    ``day:group<g>``), the first group the reference; ``interaction=False`` drops the ``day:group`` columns."""
    cols, names = [np.ones_like(t), t], ["(Intercept)", "day"]
    for g in groups[1:]:
        cols.append((group == g).astype(float))
        names.append(f"group{g}")
    if interaction:
        for g in groups[1:]:
            cols.append((group == g) * t)
            names.append(f"day:group{g}")
    return np.column_stack(cols), names
