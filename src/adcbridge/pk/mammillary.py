"""Linear mammillary models (central compartment 1, peripherals 2..n) in closed form.

With concentrations ``C`` and volumes ``V``, the system is ``V dC/dt = -L C + input`` where ``L`` is symmetric:
``L_11 = CL + sum_j Q_j``, ``L_1j = L_j1 = -Q_j``, ``L_jj = Q_j``.  The rate matrix ``V^-1 L`` has the
eigenvalues of the symmetric ``S = V^-1/2 L V^-1/2 = U diag(lambda) U'`` (real, positive), so a unit bolus into
the central compartment gives the central concentration::

    C1(t) = sum_i (U_1i^2 / V1) exp(-lambda_i t)          (1000 x for ug/mL per mg/kg dose)

The coefficients ``U_1i^2 / V1`` are positive and sum to ``1 / V1``; ``sum_i U_1i^2 / lambda_i = (S^-1)_11 = V1 /
CL``, so ``AUC(0, inf) = dose / CL`` exactly.  ``numpy.linalg.eigh`` works on all N parameter sets at once.  The
3-compartment macro constants (A, B, C; alpha, beta, gamma) are these coefficients and eigenvalues.
"""

from __future__ import annotations

import numpy as np

from .units import MG_TO_UG

__all__ = ["mammillary_exponentials", "mammillary_rhs", "macro_constants"]


def _L(cl, v1, peripherals):
    cl = np.atleast_1d(np.asarray(cl, dtype=float))
    n = 1 + len(peripherals)
    N = np.broadcast_shapes(cl.shape, np.shape(v1), *[np.shape(q) for q, _ in peripherals], *[np.shape(v) for _, v
                                                                                                 in peripherals])
    L = np.zeros(N + (n, n))
    V = np.zeros(N + (n,))
    L[..., 0, 0] = cl
    V[..., 0] = v1
    for j, (q, v) in enumerate(peripherals, start=1):
        L[..., 0, 0] += q
        L[..., 0, j] = L[..., j, 0] = -np.asarray(q)
        L[..., j, j] = q
        V[..., j] = v
    return L, V


def mammillary_exponentials(cl, v1, peripherals=()) -> tuple[np.ndarray, np.ndarray]:
    """(B, lam), each (N, n): central concentration (ug/mL) per mg/kg bolus, ``sum B exp(-lam t)``.
    ``peripherals`` is a sequence of (Q_j, V_j); clearances per hour."""
    L, V = _L(cl, v1, peripherals)
    r = 1.0 / np.sqrt(V)
    S = L * r[..., :, None] * r[..., None, :]
    lam, U = np.linalg.eigh(S)
    B = MG_TO_UG * U[..., 0, :] ** 2 / V[..., :1]
    return B, lam


def macro_constants(cl, v1, peripherals=()) -> dict[str, np.ndarray]:
    """Macro constants per mg/kg: ``A_i`` (ug/mL) and ``lambda_i`` (1/h), slowest last (alpha > beta > gamma)."""
    B, lam = mammillary_exponentials(cl, v1, peripherals)
    order = np.argsort(-lam, axis=-1)
    return {"coef": np.take_along_axis(B, order, -1), "lam": np.take_along_axis(lam, order, -1)}


def mammillary_rhs(x, cl, v1, peripherals, rate_in):
    """d(amounts)/dt of the same system (amounts ug/kg, ``x`` (n, N)); input into compartment 1."""
    c1 = x[0] / v1
    dx = np.empty_like(x)
    dx[0] = rate_in - cl * c1
    for j, (q, v) in enumerate(peripherals, start=1):
        flow = q * (c1 - x[j] / v)
        dx[0] -= flow
        dx[j] = flow
    return dx
