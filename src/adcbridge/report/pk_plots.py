"""Goodness-of-fit plots of a compartmental PK fit (:class:`adcbridge.pk.PKFitResult`).

* :func:`plot_pk_gof` -- observed vs predicted (identity line; log axes by default), weighted residuals vs time
  and vs prediction (zero line, +-2 band), and a normal Q-Q plot of the weighted residuals;
* :func:`plot_pk_individual` -- one panel per subject: observations (one colour per analyte) with the fitted
  curve; log concentration axis by default.

Nothing is refitted: curves come from :meth:`PKFitResult.curves`.  Artists carry a ``gid`` (``observed``,
``fitted``, ``identity``, ``wres``, ``zero``, ``qq``).  Each function returns a matplotlib Figure.

Axes carry the fit's units: times in h (the fit's internal unit), concentrations in each analyte's model output
unit (:meth:`output_unit`, e.g. ug/mL, the ADC model's payload in ng/mL).  BLQ/zero (and negative) observations
and predictions are left out of log panels (masked, so a line breaks instead of dropping to the axis floor).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter
from scipy import stats

__all__ = ["plot_pk_gof", "plot_pk_individual"]


def _issue_note(fig, issues) -> None:
    flagged = [i for i in issues if i.severity != "info"]
    if flagged:
        codes = sorted({i.code for i in flagged})
        fig.text(0.01, 0.005, f"Issues: {', '.join(codes)} ({len(flagged)})", fontsize=7, color="C3")


def _conc_unit_text(result, analytes) -> str | None:
    """The concentration unit of the analytes (``"ug/mL"``, or ``"ADC, TAb: ug/mL; PAYLOAD: ng/mL"`` when they
    differ); None when the fit's model cannot say."""
    try:
        from adcbridge.pk.result import _output_of
        model = result.model()
        units = {str(a): model.output_unit(_output_of(model, a)) for a in dict.fromkeys(analytes)}
    except Exception:  # noqa: BLE001 -- a result without a usable model: label without a unit
        return None
    if len(set(units.values())) == 1:
        return next(iter(units.values()))
    by_unit: dict[str, list[str]] = {}
    for a, u in units.items():
        by_unit.setdefault(u, []).append(a)
    return "; ".join(f"{', '.join(names)}: {u}" for u, names in by_unit.items())


def _label(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


def _log_masked(values, log: bool) -> np.ndarray:
    """Values for an axis: on a log axis zero/negative values become NaN (not drawn)."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan) if log else v


def _colours(analytes):
    return {a: f"C{k % 10}" for k, a in enumerate(dict.fromkeys(analytes))}


def plot_pk_gof(result, log: bool = True, *, title: str | None = None):
    """Four goodness-of-fit panels of a PK fit (see the module docstring).  ``log``: log axes for the observed
    vs predicted panel and the prediction axis of the residual panel; BLQ/zero observations and predictions are
    left out of the log axes."""
    p = result.predictions.dropna(subset=["pred"])
    if p.empty:
        raise ValueError("the fit holds no predictions to plot")
    col = _colours(p["analyte"])
    unit = _conc_unit_text(result, p["analyte"])
    fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), constrained_layout=True)
    ax = axes[0, 0]
    for a, sub in p.groupby("analyte", sort=False):
        ax.plot(_log_masked(sub["pred"], log), _log_masked(sub["dv"], log), "o", ms=3.5, alpha=0.7, color=col[a],
                mec="none", label=str(a), gid="observed")
    pos = p[["pred", "dv"]].to_numpy(float)
    pos = pos[pos > 0] if log else pos.ravel()
    lo, hi = float(pos.min()), float(pos.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, gid="identity", label="identity")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(_label("predicted", unit))
    ax.set_ylabel(_label("observed", unit))
    ax.set_title("Observed vs predicted")
    ax.legend(fontsize=8, title="analyte" if len(col) > 1 else None, title_fontsize=8)
    for ax, x, label in ((axes[0, 1], "time", "time (h)"), (axes[1, 0], "pred", _label("predicted", unit))):
        for a, sub in p.groupby("analyte", sort=False):
            xs = _log_masked(sub[x], log and x == "pred")
            ax.plot(xs, sub["wres"], "o", ms=3.5, alpha=0.7, color=col[a], mec="none", gid="wres", label=str(a))
        ax.axhline(0, color="k", lw=1, gid="zero", label="zero")
        for s in (-2, 2):
            ax.axhline(s, color="0.6", lw=0.8, ls=":", label="±2" if s > 0 else "_±2")
        ax.set_xlabel(label)
        ax.set_ylabel("weighted residual")
        if x == "pred" and log:
            ax.set_xscale("log")
        ax.set_title(f"Weighted residuals vs {'time' if x == 'time' else 'prediction'}")
        ax.legend(fontsize=7, title="analyte" if len(col) > 1 else None, title_fontsize=7)
    ax = axes[1, 1]
    w = np.sort(p["wres"].to_numpy(float))
    q = stats.norm.ppf((np.arange(1, w.size + 1) - 0.5) / w.size)
    ax.plot(q, w, "o", ms=3, color="C0", mec="none", gid="qq", label="weighted residuals")
    lim = [min(q.min(), w.min()), max(q.max(), w.max())]
    ax.plot(lim, lim, "k--", lw=1, gid="identity", label="identity")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel("weighted residual")
    ax.set_title("Normal Q-Q")
    ax.legend(fontsize=8)
    spec = result.spec
    fig.suptitle(title or f"{spec.model} ({spec.error} error, {'pooled' if spec.pooled else 'individual'} fits)")
    _issue_note(fig, result.issues)
    return fig


def plot_pk_individual(result, subjects=None, log: bool = True, *, max_panels: int = 36, ncols: int | None = None,
                       title: str | None = None):
    """Observations and fitted curves per subject (at most ``max_panels`` subjects, in data order).  Axes are
    labelled with time (h) and the analytes' concentration units; on a log axis BLQ/zero observations and
    predictions are left out (masked)."""
    p = result.predictions
    ids = list(dict.fromkeys(p["subject"])) if subjects is None else [str(s) for s in subjects]
    unknown = [s for s in ids if s not in set(p["subject"])]
    if unknown:
        raise ValueError(f"subject {unknown[0]!r} is not in the fit")
    ids = ids[:max_panels]
    curves = result.curves()
    col = _colours(p["analyte"])
    unit = _conc_unit_text(result, p["analyte"])
    n = len(ids)
    nc = ncols or min(6, max(1, math.ceil(math.sqrt(n))))
    nr = math.ceil(n / nc)
    fig, axes = plt.subplots(nr, nc, figsize=(2.6 * nc + 1, 2.2 * nr + 0.8), squeeze=False, sharex=True,
                             constrained_layout=True)
    for k, sid in enumerate(ids):
        ax = axes[k // nc, k % nc]
        for a, sub in p[p["subject"] == sid].groupby("analyte", sort=False):
            ax.plot(sub["time"], _log_masked(sub["dv"], log), "o", ms=3.5, color=col[a], mec="none",
                    label=f"{a} observed", gid="observed")
        for a, sub in curves[curves["subject"] == sid].groupby("analyte", sort=False):
            y = sub["pred"].to_numpy(float)
            t = sub["time"].to_numpy(float)
            ax.plot(t, _log_masked(y, log), "-", lw=1.2, color=col[a], gid="fitted", label=f"{a} fitted")
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())      # short decades would label every minor tick
        ax.set_title(str(sid), fontsize=9)
        ax.tick_params(labelsize=7)
    for k in range(n, nr * nc):
        axes[k // nc, k % nc].set_visible(False)
        if k >= nc:                                   # the panel above has no visible panel below it
            axes[k // nc - 1, k % nc].xaxis.set_tick_params(labelbottom=True)
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=c, marker="o", ms=3.5, mec="none", lw=1.2, label=str(a)) for a, c in col.items()]
    axes[0, 0].legend(handles=handles, fontsize=7, title="points: observed\nlines: fitted", title_fontsize=6.5)
    fig.supxlabel("time (h)")
    fig.supylabel(_label("concentration", unit))
    fig.suptitle(title or f"{result.spec.model}: {'pooled fit' if result.spec.pooled else 'individual fits'}, "
                          f"by subject")
    _issue_note(fig, result.issues)
    return fig
