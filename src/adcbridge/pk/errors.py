"""Residual error models and the -2 log-likelihood that every fit minimises.

With prediction ``f``, observation ``y`` and residual ``r = y - f``, observations are normal with variance ``g^2``:

==================  ============================  ================================================================
``error``           variance ``g^2``              parameters (estimated on the log scale, one set per analyte)
==================  ============================  ================================================================
``proportional``    ``(b f)^2``                   ``sigma_prop`` (b, a CV as a fraction)
``additive``        ``a^2``                       ``sigma_add`` (a, concentration units)
``combined``        ``a^2 + (b f)^2``             ``sigma_add``, ``sigma_prop``
``log``             ``s^2`` on ``log y``          ``sigma_log`` (log-transform-both-sides: ``log y = log f + e``)
==================  ============================  ================================================================

Objective (extended least squares = maximum likelihood, Sheiner & Beal 1980)::

    OFV = -2 log L = sum_i [ log(2 pi g_i^2) + r_i^2 / g_i^2 ]      (+ 2 sum log y_i for ``log``)

so the error-model parameters are estimated jointly with the structural ones; for ``log`` the Jacobian term makes
the OFV the likelihood of ``y`` on the original scale (comparable across error models by AIC).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ERROR_MODELS", "error_names", "variance", "variance_curvature", "LOG2PI"]

LOG2PI = float(np.log(2 * np.pi))
ERROR_MODELS = {"proportional": ("sigma_prop",), "additive": ("sigma_add",), "combined": ("sigma_add", "sigma_prop"),
                "log": ("sigma_log",)}


def error_names(error: str, outputs: list[str]) -> list[str]:
    """Names of the error parameters, e.g. ``sigma_prop`` (one output) or ``sigma_prop[ADC]``."""
    if error not in ERROR_MODELS:
        raise ValueError(f"The 'error' parameter must be one of {sorted(ERROR_MODELS)}. Got {error!r}.")
    base = ERROR_MODELS[error]
    if len(outputs) == 1:
        return list(base)
    return [f"{b}[{o}]" for o in outputs for b in base]


def variance(error: str, f: np.ndarray, log_sigma: np.ndarray, out_idx: np.ndarray):
    """``g^2`` (R, T), ``d g^2 / d f`` (R, T) and ``d g^2 / d log_sigma`` (R, T, q) for per-output error
    parameters ``log_sigma`` (R, q) (``q = n_outputs x len(ERROR_MODELS[error])``)."""
    k = len(ERROR_MODELS[error])
    sig = np.exp(log_sigma)
    R, T = f.shape
    q = sig.shape[1]
    col = out_idx * k                                         # first error column of each observation's output
    rows = np.arange(R)[:, None]
    dvar = np.zeros((R, T, q))
    if error in ("proportional", "additive", "log"):
        s2 = sig[rows, col] ** 2
        if error == "proportional":
            v = s2 * f * f
            dv_df = 2 * s2 * f
        else:
            v = s2
            dv_df = np.zeros_like(f)
        np.put_along_axis(dvar, col[..., None], (2 * v)[..., None], axis=2)
        return v, dv_df, dvar
    a2 = sig[rows, col] ** 2
    b2 = sig[rows, col + 1] ** 2
    v = a2 + b2 * f * f
    np.put_along_axis(dvar, col[..., None], (2 * a2)[..., None], axis=2)
    np.put_along_axis(dvar, (col + 1)[..., None], (2 * b2 * f * f)[..., None], axis=2)
    return v, 2 * b2 * f, dvar


def variance_curvature(error: str, f: np.ndarray, log_sigma: np.ndarray, out_idx: np.ndarray):
    """Second derivatives of ``g^2``: ``d2 g^2 / df2`` (R, T) and ``d2 g^2 / (df dlog_sigma)`` (R, T, q).  (The
    pure error-parameter second derivative is ``2 d g^2 / dlog_sigma_k`` on the diagonal, zero elsewhere.)"""
    k = len(ERROR_MODELS[error])
    sig = np.exp(log_sigma)
    R, T = f.shape
    col = out_idx * k
    rows = np.arange(R)[:, None]
    dvar_df = np.zeros((R, T, sig.shape[1]))
    if error in ("additive", "log"):
        return np.zeros_like(f), dvar_df
    b2 = sig[rows, col + (1 if error == "combined" else 0)] ** 2
    np.put_along_axis(dvar_df, (col + (1 if error == "combined" else 0))[..., None], (4 * b2 * f)[..., None],
                      axis=2)
    return 2 * b2 * np.ones_like(f), dvar_df
