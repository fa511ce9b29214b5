"""The per-curve fallback of the batch fit: a bounded scipy refit, only where it can help.

It runs on the curves the batch did not converge on whose RSS already beats rss_limit (a finite optimum exists;
e.g. a valley that used up ``max_iter``), or whose limit is unknown.  Each is refitted with
:func:`scipy.optimize.least_squares` (``method="lm"``, at most 50 (p + 1) evaluations) from the batch point --
and from the self-starter only if that run fails outright --; the result is kept if it is no worse, and
``method`` says ``scipy``.  At most ``max_fallback`` curves (default 100) are refitted, in curve order, so the
fallback costs at most max_fallback x 50 (p + 1) model evaluations of one curve (about 1 ms per curve that
converges, 15 ms per curve that does not); the others keep the batch result and an issue (``fallback_capped``,
or ``fallback_off`` with ``fallback=False``) says how many.  Curves without a finite optimum are never refitted:
no refit can find what does not exist.  On the two 10,000-curve LL.4 benchmark sets no curve needs it.
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import Issue

from .batch_curves import CurveStack
from .batch_limits import LIMIT_MARGIN

__all__ = ["refit_curves"]

_FALLBACK_NFEV = 50            # scipy evaluations per refitted curve and free parameter (+1)


def refit_curves(curves: CurveStack, lx, y, w, start, ok, phi, rss, rss_limit, converged, diverged, method, *,
                 fallback: bool, max_fallback: int):
    """Refit the candidates one by one, updating ``phi``, ``rss``, ``converged`` and ``method`` in place.
    Candidates: fitted (``ok``), neither converged nor diverged, finite RSS, and ``finite`` -- beating their
    rss_limit or without one.  Returns (finite (N,) bool, skipped: the candidates left unrefitted (beyond
    ``max_fallback``, or all with ``fallback=False``), issues)."""
    finite = ~(rss >= rss_limit * (1 - LIMIT_MARGIN))          # beats the limit, or no limit known
    todo = np.flatnonzero(ok & ~converged & ~diverged & np.isfinite(rss) & finite)
    skipped = todo[max_fallback:] if fallback else todo
    issues = []
    if skipped.size:
        issues.append(Issue("fallback_capped" if fallback else "fallback_off",
                            f"{skipped.size} of {todo.size} curves that did not converge in the batch but have a "
                            f"finite optimum kept the batch result"
                            + (f" (max_fallback={max_fallback})" if fallback else " (fallback=False)")))
    for i in todo[:max_fallback] if fallback else ():
        sel = w[i]
        best = _scipy_refit(curves, lx[i, sel], y[i, sel], [curves.natural(phi[i][None, :])[0], start[i]])
        if best is not None and not best[1] > rss[i]:
            phi[i], rss[i], converged[i] = best
            method[i] = "scipy"
    return finite, skipped, issues


def _scipy_refit(curves: CurveStack, lx, y, starts):
    """Per-curve fallback on one curve's points (lx = ln doses): least_squares ('lm', at most
    _FALLBACK_NFEV (p + 1) evaluations) from the first start, and from the next only if a run fails outright
    (error or non-finite result; a run that used up its evaluations still creeping would creep from there too).
    (phi, rss, converged) of the lowest RSS, or None."""
    from scipy.optimize import least_squares  # imported only when a curve is refitted (fast start-up)
    model = curves.model
    columns = tuple(curves.free)
    best = None
    for start in starts:
        phi0 = curves.internal(start[None, :])[0]
        if not np.all(np.isfinite(phi0)):
            continue

        def fun(p):
            return model.evaluate(None, curves.natural(p[None, :])[0], logx=lx) - y

        def jac(p):
            theta = curves.natural(p[None, :])[0]
            J = model.evaluate(None, theta, jacobian=True, logx=lx, columns=columns)[1]
            J[:, curves.log] *= theta[curves.free[curves.log]]
            return J
        try:
            with np.errstate(all="ignore"):               # scipy's trial points may overflow; they are rejected
                res = least_squares(fun, phi0, jac=jac, method="lm", x_scale="jac", ftol=1e-12, xtol=1e-12,
                                    gtol=1e-12, max_nfev=_FALLBACK_NFEV * (phi0.size + 1))
        except (ValueError, np.linalg.LinAlgError):
            continue
        rss = float(res.fun @ res.fun)
        if np.isfinite(rss) and np.all(np.isfinite(res.x)):
            if best is None or rss < best[1]:
                best = (res.x, rss, res.status > 0)
            break
    return best
