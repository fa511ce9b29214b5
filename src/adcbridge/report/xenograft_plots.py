"""Plots of a xenograft efficacy analysis: tumour volume per animal (spaghetti), the group mean curves and the
Kaplan-Meier time to endpoint.  Every function takes a :class:`~adcbridge.assays.xenograft.XenograftResult`
and returns a matplotlib Figure; artists carry a ``gid`` so tests and the report can find them.  Axes are
labelled with the analysis' ``volume_unit`` and ``time_unit``; on a log volume axis zero volumes (complete
regressions) are left out (masked, the line breaks) and error bars stop above zero."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from adcbridge.assays.xenograft import XenograftResult  # noqa: E402

__all__ = ["plot_tumour_volumes", "plot_time_to_endpoint"]


def _colours(groups) -> dict[str, str]:
    return {g: f"C{i % 10}" for i, g in enumerate(groups)}


def _groups(result: XenograftResult) -> list[str]:
    return list(dict.fromkeys(result.volumes["group"]))


def _unit(result: XenograftResult, name: str) -> str | None:
    unit = getattr(result.spec, name, None)
    return str(unit) if unit else None


def _label(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


def _masked(values, log: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan) if log else v


def _spaghetti(ax, result: XenograftResult, colours: dict[str, str], log: bool = False) -> None:
    vol = result.volumes
    left = set(result.left_study)
    marked = False
    for g in colours:
        first = True
        for animal, sub in vol[vol["group"] == g].groupby("animal", sort=False):
            ax.plot(sub["day"], _masked(sub["volume"], log), "-", color=colours[g], lw=0.8, alpha=0.65,
                    gid="animal", label=g if first else f"_{g}")
            first = False
            if animal in left:                        # follow-up ended at the humane endpoint
                ax.plot(sub["day"].iloc[-1:], _masked(sub["volume"].iloc[-1:], log), "x", color=colours[g], ms=6,
                        mew=1.4, gid="left_study", label="left at the humane endpoint" if not marked else None)
                marked = True
    he = result.spec.humane_endpoint
    if he is not None:
        ax.axhline(he, color="0.3", ls="--", lw=0.9, gid="humane_endpoint")
        ax.annotate("humane endpoint", (ax.get_xlim()[0], he), xytext=(4, 3), textcoords="offset points",
                    fontsize=7.5, color="0.3")
    ax.set_title("Individual animals" + (" (× left at the humane endpoint)" if left else ""), fontsize=10)


def _means(ax, result: XenograftResult, colours: dict[str, str], error: str, log: bool = False) -> None:
    summary = result.group_summary
    for g in colours:
        s = summary[summary["group"] == g]
        mean = _masked(s["mean"], log)
        yerr = s[error].fillna(0.0).to_numpy(float) if error in ("sd", "sem") else None
        if yerr is not None and log:                  # a log axis: bars stop above zero (none at a masked mean)
            yerr = np.where(np.isfinite(mean), yerr, 0.0)
            yerr = np.vstack([np.where(mean - yerr > 0, yerr, 0.0), yerr])
        ax.errorbar(s["day"], mean, yerr=yerr, fmt="o-", ms=4, lw=1.4, capsize=2.5, color=colours[g],
                    label=f"{g} (n = {int(s['n'].iloc[0])})", gid="mean")
    for d in result.spec.days:
        ax.axvline(d, color="0.5", ls=":", lw=0.9, gid="evaluation_day")
    text = {"sd": "mean ± SD", "sem": "mean ± SEM", "none": "mean"}[error]
    how = "animals on study" if result.spec.dropout == "available" else "last volume carried forward"
    ax.set_title(f"Group {text} ({how}); dotted: evaluation day", fontsize=10)


def plot_tumour_volumes(result: XenograftResult, *, log_y: bool = False, error: str = "sem"):
    """Tumour volume over time: left, every animal as a line coloured by group (``gid="animal"``; an animal that
    left the study at the humane endpoint ends in a cross, ``"left_study"``; the endpoint is a dashed line,
    ``"humane_endpoint"``); right, the group means with ``error`` bars (``"sem"``, default, ``"sd"`` or
    ``"none"``; ``gid="mean"``) computed as the analysis did (its ``dropout`` rule), with the evaluation days as
    dotted lines (``"evaluation_day"``).  ``log_y`` draws volumes on a log axis, leaving zero volumes out (masked,
    the line breaks) and dropping a lower error bar that would reach zero.  Axes carry the analysis'
    ``volume_unit`` and ``time_unit``.  Returns the Figure."""
    if error not in ("sem", "sd", "none"):
        raise ValueError(f"error must be 'sem', 'sd' or 'none'; got {error!r}")
    if result.volumes is None or result.group_summary is None:
        raise ValueError("the xenograft result holds no volumes to plot")
    colours = _colours(_groups(result))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True, constrained_layout=True)
    _spaghetti(left, result, colours, log_y)
    _means(right, result, colours, error, log_y)
    for ax in (left, right):
        ax.set_xlabel(_label("Time", _unit(result, "time_unit")))
        ax.set_ylabel(_label("Tumour volume", _unit(result, "volume_unit")))
        ax.grid(True, lw=0.3, alpha=0.5)
        if log_y:
            ax.set_yscale("log")
    left.legend(fontsize=8, loc="upper left", title="group", title_fontsize=8)
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Tumour growth (control: {result.spec.control})", fontsize=11)
    return fig


def plot_time_to_endpoint(result: XenograftResult):
    """Kaplan-Meier curves of the time to the endpoint volume per group (step functions, ``gid="km"``; censored
    animals as ``+``, ``"censored"``), with the log-rank test and the medians in the title and legend."""
    tte = result.time_to_endpoint
    if tte is None or tte.km is None:
        raise ValueError("the xenograft result holds no time-to-endpoint analysis")
    colours = _colours(_groups(result))
    fig, ax = plt.subplots(figsize=(7, 4.4), constrained_layout=True)
    medians = dict(zip(tte.table["group"], tte.table["median"]))
    time_unit = _unit(result, "time_unit")
    censored = False
    for g, colour in colours.items():
        km = tte.km[tte.km["group"] == g].sort_values("time")
        follow_up = float(tte.animals.loc[tte.animals["group"] == g, "time"].max())
        t = np.concatenate([[0.0], km["time"].to_numpy(float)])
        s = np.concatenate([[1.0], km["survival"].to_numpy(float)])
        if follow_up > t[-1]:                          # the curve runs on, flat, to the last follow-up
            t, s = np.append(t, follow_up), np.append(s, s[-1])
        med = medians.get(g, np.nan)
        label = (f"{g}: median {med:.3g}{' ' + time_unit if time_unit else ''}" if pd.notna(med)
                 else f"{g}: median not reached")
        ax.step(t, s, where="post", color=colour, lw=1.5, gid="km", label=label)
        cens = tte.animals[(tte.animals["group"] == g) & (tte.animals["event"] == 0)]
        if len(cens):
            idx = np.searchsorted(t, cens["time"].to_numpy(float), side="right") - 1
            y = s[np.clip(idx, 0, s.size - 1)]                 # the step's value at each censoring time
            ax.plot(cens["time"], y, "+", color=colour, ms=8, mew=1.2, gid="censored",
                    label="censored" if not censored else None)
            censored = True
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel(_label("Time", time_unit))
    ax.set_ylabel("Fraction below the endpoint")
    ax.grid(True, lw=0.3, alpha=0.5)
    ax.legend(fontsize=8, loc="lower left")
    target, value = tte.spec.target
    title = f"Time to endpoint ({value:g} × V0)" if target == "fold" else \
        f"Time to endpoint (volume {value:g}" \
        f"{' ' + _unit(result, 'volume_unit') if _unit(result, 'volume_unit') else ''})"
    if tte.logrank is not None and len(tte.logrank):
        lr = tte.logrank.iloc[0]
        title += f"; log-rank χ² = {lr['statistic']:.3g}, df = {int(lr['df'])}, p = {lr['p']:.2g}"
    ax.set_title(title, fontsize=10)
    return fig
