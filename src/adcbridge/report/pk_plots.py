"""Goodness-of-fit plots of a compartmental PK fit (:class:`adcbridge.pk.PKFitResult`).

* :func:`plot_pk_gof` -- observed vs predicted (identity line; log axes by default), weighted residuals vs time
  and vs prediction (zero line, +-2 band), and a normal Q-Q plot of the weighted residuals;
* :func:`plot_pk_individual` -- one panel per subject: observations (one colour per analyte) with the fitted
  curve; log concentration axis by default.

Nothing is refitted: curves come from :meth:`PKFitResult.curves`.  Artists carry a ``gid`` (``observed``,
``fitted``, ``identity``, ``wres``, ``zero``, ``qq``).  Each function returns a matplotlib Figure.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter
import numpy as np
from scipy import stats

__all__ = ["plot_pk_gof", "plot_pk_individual"]


def _issue_note(fig, issues) -> None:
    flagged = [i for i in issues if i.severity != "info"]
    if flagged:
        codes = sorted({i.code for i in flagged})
        fig.text(0.01, 0.005, f"Issues: {', '.join(codes)} ({len(flagged)})", fontsize=7, color="C3")


def _colours(analytes):
    return {a: f"C{k % 10}" for k, a in enumerate(dict.fromkeys(analytes))}


def plot_pk_gof(result, log: bool = True, *, title: str | None = None):
    """Four goodness-of-fit panels of a PK fit (see the module docstring).  ``log``: log axes for the observed
    vs predicted panel and the prediction axis of the residual panel."""
    p = result.predictions.dropna(subset=["pred"])
    if p.empty:
        raise ValueError("the fit holds no predictions to plot")
    col = _colours(p["analyte"])
    fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), constrained_layout=True)
    ax = axes[0, 0]
    for a, sub in p.groupby("analyte", sort=False):
        ax.plot(sub["pred"], sub["dv"], "o", ms=3.5, alpha=0.7, color=col[a], mec="none", label=str(a),
                gid="observed")
    pos = p[["pred", "dv"]].to_numpy(float)
    pos = pos[pos > 0] if log else pos.ravel()
    lo, hi = float(pos.min()), float(pos.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, gid="identity")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("predicted")
    ax.set_ylabel("observed")
    ax.set_title("Observed vs predicted")
    if len(col) > 1:
        ax.legend(fontsize=8)
    for ax, x, label in ((axes[0, 1], "time", "time (h)"), (axes[1, 0], "pred", "predicted")):
        for a, sub in p.groupby("analyte", sort=False):
            ax.plot(sub[x], sub["wres"], "o", ms=3.5, alpha=0.7, color=col[a], mec="none", gid="wres")
        ax.axhline(0, color="k", lw=1, gid="zero")
        for s in (-2, 2):
            ax.axhline(s, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel(label)
        ax.set_ylabel("weighted residual")
        if x == "pred" and log:
            ax.set_xscale("log")
        ax.set_title(f"Weighted residuals vs {'time' if x == 'time' else 'prediction'}")
    ax = axes[1, 1]
    w = np.sort(p["wres"].to_numpy(float))
    q = stats.norm.ppf((np.arange(1, w.size + 1) - 0.5) / w.size)
    ax.plot(q, w, "o", ms=3, color="C0", mec="none", gid="qq")
    lim = [min(q.min(), w.min()), max(q.max(), w.max())]
    ax.plot(lim, lim, "k--", lw=1, gid="identity")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel("weighted residual")
    ax.set_title("Normal Q-Q")
    spec = result.spec
    fig.suptitle(title or f"{spec.model} ({spec.error} error, {'pooled' if spec.pooled else 'individual'} fits)")
    _issue_note(fig, result.issues)
    return fig


def plot_pk_individual(result, subjects=None, log: bool = True, *, max_panels: int = 36, ncols: int | None = None,
                       title: str | None = None):
    """Observations and fitted curves per subject (at most ``max_panels`` subjects, in data order)."""
    p = result.predictions
    ids = list(dict.fromkeys(p["subject"])) if subjects is None else [str(s) for s in subjects]
    unknown = [s for s in ids if s not in set(p["subject"])]
    if unknown:
        raise ValueError(f"subject {unknown[0]!r} is not in the fit")
    ids = ids[:max_panels]
    curves = result.curves()
    col = _colours(p["analyte"])
    n = len(ids)
    nc = ncols or min(6, max(1, math.ceil(math.sqrt(n))))
    nr = math.ceil(n / nc)
    fig, axes = plt.subplots(nr, nc, figsize=(2.6 * nc + 1, 2.2 * nr + 0.8), squeeze=False, sharex=True,
                             constrained_layout=True)
    for k, sid in enumerate(ids):
        ax = axes[k // nc, k % nc]
        for a, sub in p[p["subject"] == sid].groupby("analyte", sort=False):
            ax.plot(sub["time"], sub["dv"], "o", ms=3.5, color=col[a], mec="none", label=str(a), gid="observed")
        for a, sub in curves[curves["subject"] == sid].groupby("analyte", sort=False):
            y = sub["pred"].to_numpy(float)
            t = sub["time"].to_numpy(float)
            keep = y > 0 if log else np.ones(y.size, bool)
            ax.plot(t[keep], y[keep], "-", lw=1.2, color=col[a], gid="fitted")
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())      # short decades would label every minor tick
        ax.set_title(str(sid), fontsize=9)
        ax.tick_params(labelsize=7)
    for k in range(n, nr * nc):
        axes[k // nc, k % nc].set_visible(False)
        if k >= nc:                                   # the panel above has no visible panel below it
            axes[k // nc - 1, k % nc].xaxis.set_tick_params(labelbottom=True)
    if len(col) > 1:
        axes[0, 0].legend(fontsize=7)
    fig.supxlabel("time (h)")
    fig.supylabel("concentration")
    fig.suptitle(title or f"{result.spec.model}: {'pooled fit' if result.spec.pooled else 'individual fits'}, "
                          f"by subject")
    _issue_note(fig, result.issues)
    return fig
