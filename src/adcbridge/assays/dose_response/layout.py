"""How the fitted parameters map onto the curves (drc's ``pmodels``) and the least-squares problem they define.

The parameter vector is ordered as drc orders it: by parameter (b, c, d, e, f), then by curve.  A parameter that
is shared gets one term named ``"<p>:(Intercept)"``; a curve-specific one gets ``"<p>:<curve>"`` per curve (a
single curve uses ``(Intercept)`` too, as drc does).  ``index[k, j]`` is the position of parameter j of curve k in
the vector, or -1 when the parameter is fixed (its value is then ``fixed_values[j]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .models import PARAMETERS, DoseResponseModel

__all__ = ["LeastSquaresProblem", "ParameterLayout"]

_LOG_SCALE = (3, 4)            # e and f are optimised on the log scale (kept positive)


@dataclass(frozen=True)
class ParameterLayout:
    model: DoseResponseModel
    labels: tuple[str, ...]
    shared: tuple[str, ...]
    fixed: dict

    @property
    def fixed_values(self) -> np.ndarray:
        merged = {**self.model.fixed, **self.fixed}
        return np.array([float(merged.get(p, np.nan)) for p in PARAMETERS])

    @property
    def free(self) -> tuple[str, ...]:
        return tuple(p for p in self.model.free if p not in self.fixed)

    @cached_property
    def _built(self):
        terms, params, curves = [], [], []
        index = np.full((len(self.labels), 5), -1, dtype=np.intp)
        for j, p in enumerate(PARAMETERS):
            if p not in self.free:
                continue
            if p in self.shared or len(self.labels) == 1:
                index[:, j] = len(terms)
                terms.append(f"{p}:(Intercept)")
                params.append(p)
                curves.append(None)
            else:
                for k, label in enumerate(self.labels):
                    index[k, j] = len(terms)
                    terms.append(f"{p}:{label}")
                    params.append(p)
                    curves.append(label)
        return index, tuple(terms), tuple(params), tuple(curves)

    @property
    def index(self) -> np.ndarray:
        return self._built[0]

    @property
    def terms(self) -> tuple[str, ...]:
        return self._built[1]

    @property
    def term_parameters(self) -> tuple[str, ...]:
        return self._built[2]

    @property
    def term_curves(self) -> tuple[str | None, ...]:
        return self._built[3]

    @property
    def n_parameters(self) -> int:
        return len(self.terms)

    def curve_parameters(self) -> list[int]:
        """Number of curve-specific parameters of each curve (all free ones when there is one curve)."""
        n_specific = sum(1 for p in self.free if p not in self.shared or len(self.labels) == 1)
        return [n_specific] * len(self.labels)

    def full(self, theta: np.ndarray) -> np.ndarray:
        """(K, 5) parameters (b, c, d, e, f) of every curve from the vector ``theta``."""
        index = self.index
        out = np.where(index >= 0, np.asarray(theta, dtype=float)[np.maximum(index, 0)], self.fixed_values)
        return out

    def pack(self, full: np.ndarray) -> np.ndarray:
        """The vector from (K, 5) per-curve values; a shared parameter takes the median over curves."""
        index = self.index
        theta = np.empty(self.n_parameters)
        for pos in range(self.n_parameters):
            k, j = np.nonzero(index == pos)
            theta[pos] = np.median(full[k, j])
        return theta

    def log_positions(self) -> np.ndarray:
        """Positions in the vector of parameters optimised on the log scale (e, f)."""
        params = self.term_parameters
        return np.array([i for i, p in enumerate(params) if PARAMETERS.index(p) in _LOG_SCALE], dtype=np.intp)


class LeastSquaresProblem:
    """Residuals, Jacobian and second-order terms of the residual sum of squares for one layout and data."""

    def __init__(self, layout: ParameterLayout, x: np.ndarray, y: np.ndarray, curve: np.ndarray):
        self.layout = layout
        self.model = layout.model
        self.x, self.y, self.curve = x, y, curve
        self.index = layout.index
        self.n_parameters = layout.n_parameters
        self.logpos = layout.log_positions()
        self.rows = np.arange(len(y))

    # natural-scale vector <-> optimiser vector (ln e, ln f)
    def to_internal(self, theta):
        phi = np.array(theta, dtype=float)
        phi[self.logpos] = np.log(phi[self.logpos])
        return phi

    def to_natural(self, phi):
        theta = np.array(phi, dtype=float)
        theta[self.logpos] = np.exp(theta[self.logpos])
        return theta

    def per_observation(self, theta):
        return self.layout.full(theta)[self.curve]

    def predict(self, theta):
        return self.model.predict(self.x, self.per_observation(theta))

    def residuals(self, theta):
        return self.y - self.predict(theta)

    def rss(self, theta) -> float:
        r = self.residuals(theta)
        return float(r @ r)

    def jacobian(self, theta) -> np.ndarray:
        """d fitted / d theta (natural scale), shape (n, P)."""
        j5 = self.model.jacobian(self.x, self.per_observation(theta))
        out = np.zeros((len(self.y), self.n_parameters))
        idx = self.index[self.curve]
        for j in range(5):
            ok = idx[:, j] >= 0                 # fixed parameters have no column
            out[self.rows[ok], idx[ok, j]] = j5[ok, j]
        return out

    # for scipy.optimize.least_squares on the internal scale: residual = fitted - y
    def fun_internal(self, phi):
        return -self.residuals(self.to_natural(phi))

    def jac_internal(self, phi):
        theta = self.to_natural(phi)
        jac = self.jacobian(theta)
        jac[:, self.logpos] *= theta[self.logpos]
        return jac

    def second_order_term(self, theta, scale: np.ndarray | None = None) -> np.ndarray:
        """sum_i r_i d^2 f_i / d theta d theta' (P x P) by central differences of the analytic Jacobian."""
        theta = np.asarray(theta, dtype=float)
        r = self.residuals(theta)
        scale = np.ones_like(theta) if scale is None else scale
        out = np.zeros((self.n_parameters, self.n_parameters))
        for k in range(self.n_parameters):
            h = 1e-5 * (abs(theta[k]) + 1e-3 * scale[k])
            up, down = theta.copy(), theta.copy()
            up[k] += h
            down[k] -= h
            out[k] = r @ ((self.jacobian(up) - self.jacobian(down)) / (2 * h))
        return 0.5 * (out + out.T)

    def parameter_scales(self) -> np.ndarray:
        """Typical magnitudes for finite-difference steps: response range for c, d; median dose for e; 1 else."""
        yr = float(np.ptp(self.y)) or 1.0
        pos = self.x[self.x > 0]
        xm = float(np.median(pos)) if pos.size else 1.0
        table = {"b": 1.0, "c": yr, "d": yr, "e": xm, "f": 1.0}
        return np.array([table[p] for p in self.layout.term_parameters])

    def covariances(self, theta: np.ndarray):
        """(V_drc, V_jacobian, J'J) at ``theta``: s^2 (J'J - sum r_i H_i)^-1 and s^2 (J'J)^-1 with s^2 = RSS/(n - p);
        a matrix that cannot be inverted (drc's: not positive definite) is all NaN."""
        theta = np.asarray(theta, dtype=float)
        n, P = len(self.y), self.n_parameters
        r = self.residuals(theta)
        s2 = float(r @ r) / (n - P)
        J = self.jacobian(theta)
        jtj = J.T @ J
        nan = np.full((P, P), np.nan)
        try:
            v_jac = s2 * np.linalg.inv(jtj)
        except np.linalg.LinAlgError:
            v_jac = nan
        observed = jtj - self.second_order_term(theta, self.parameter_scales())
        try:
            np.linalg.cholesky(observed)
            v_drc = s2 * np.linalg.inv(observed)
        except np.linalg.LinAlgError:
            v_drc = nan
        return v_drc, v_jac, jtj
