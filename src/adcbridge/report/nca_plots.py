"""Concentration-time plots of an NCA: individual and mean curves (linear and log), dose-normalised means,
and the lambda_z fit of every profile.

Figures come one at a time (a generator), so a study with thousands of profiles never holds every page in
memory; they are plain :class:`matplotlib.figure.Figure` objects (no pyplot state).  The lambda_z pages (30
panels each) use a fixed layout, no minor ticks and plain tick labels: constrained layout and log-axis mathtext
labels made each page take seconds to render.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from adcbridge.nca import NcaResult

__all__ = ["concentration_plots", "lambda_z_plots"]

PANELS_PER_PAGE = 30


def _profiles(result: NcaResult) -> tuple[pd.DataFrame, list[str], str | None]:
    pts = result.lambda_z_points
    keys = list(result.key_columns)
    analyte = "PPCAT" if "PPCAT" in pts.columns else None
    return pts, keys, analyte


def _group_label(row, cols) -> str:
    return ", ".join(f"{c} {row[c]}" for c in cols) if cols else "all"


def _grid(nrow: int, ncol: int, figsize, constrained: bool = True):
    fig = Figure(figsize=figsize, layout="constrained" if constrained else None)
    return fig, fig.subplots(nrow, ncol, squeeze=False)


def concentration_plots(data: pd.DataFrame, result: NcaResult, *, time: str, conc: str,
                        dose: str | None = None) -> Iterator[tuple[str, Figure]]:
    """``(name, figure)`` pairs, one at a time: ``individual``, ``mean`` (each with a linear and a log panel per
    analyte), ``dose_normalised`` (when a dose column is given) and ``lambda_z_<analyte>_<page>``."""
    pts, keys, analyte = _profiles(result)
    subject = result.subject_column or keys[-1]
    groups = [k for k in keys if k not in (subject, "DOSENO")]
    analytes = list(dict.fromkeys(pts[analyte])) if analyte else [None]
    fig, axes = _grid(len(analytes), 2, (11, 3.6 * len(analytes)))
    colours = {}
    for i, a in enumerate(analytes):
        sub = pts if a is None else pts[pts[analyte] == a]
        for _, prof in sub.groupby([*groups, subject] + (["DOSENO"] if "DOSENO" in keys else []), sort=False,
                                   dropna=False):
            g = _group_label(prof.iloc[0], groups)
            colour = colours.setdefault(g, f"C{len(colours) % 10}")
            for ax, log in zip(axes[i], (False, True)):
                y = prof["conc"].where(prof["conc"] > 0) if log else prof["conc"]
                ax.plot(prof["time"], y, "-", color=colour, lw=0.7, alpha=0.7)
        for ax, log in zip(axes[i], (False, True)):
            ax.set_title(f"{a or 'concentration'} ({'log' if log else 'linear'} scale)")
            ax.set_xlabel("time")
            ax.set_ylabel("concentration")
            if log:
                ax.set_yscale("log")
    handles = [Line2D([], [], color=c, label=g) for g, c in colours.items()]
    axes[0][1].legend(handles=handles, fontsize=7, loc="upper right")
    yield "individual", fig

    fig, axes = _grid(len(analytes), 2, (11, 3.6 * len(analytes)))
    for i, a in enumerate(analytes):
        sub = pts if a is None else pts[pts[analyte] == a]
        by = groups or ["_all"]
        sub = sub.assign(_all="all")
        for gkey, grp in sub.groupby(by, sort=False, dropna=False):
            stats = grp.groupby("time")["conc"].agg(["mean", "std"]).reset_index()
            label = _group_label(grp.iloc[0], groups)
            for ax, log in zip(axes[i], (False, True)):
                m = stats["mean"].where(stats["mean"] > 0) if log else stats["mean"]
                ax.errorbar(stats["time"], m, yerr=None if log else stats["std"], marker="o", ms=3, lw=1,
                            capsize=2, label=label, color=colours.get(label))
        for ax, log in zip(axes[i], (False, True)):
            ax.set_title(f"{a or 'concentration'}: mean (SD) by group, {'log' if log else 'linear'} scale")
            ax.set_xlabel("time")
            ax.set_ylabel("concentration")
            if log:
                ax.set_yscale("log")
    axes[0][0].legend(fontsize=7)
    yield "mean", fig

    if dose and dose in data.columns and "DOSENO" not in keys:
        dose_of = data.groupby(subject)[dose].first()
        fig, axes = _grid(1, len(analytes), (5.5 * len(analytes), 4))
        for i, a in enumerate(analytes):
            sub = pts if a is None else pts[pts[analyte] == a]
            sub = sub.assign(_dose=sub[subject].map(dose_of))
            sub = sub[sub["_dose"] > 0].assign(_dn=lambda f: f["conc"] / f["_dose"])
            for dval, grp in sub.groupby("_dose"):
                stats = grp.groupby("time")["_dn"].mean()
                axes[0][i].plot(stats.index, stats.where(stats > 0), marker="o", ms=3, label=f"{dval:g}")
            axes[0][i].set_yscale("log")
            axes[0][i].set_title(f"{a or 'concentration'}: mean concentration / dose")
            axes[0][i].set_xlabel("time")
            axes[0][i].legend(title="dose", fontsize=7)
        yield "dose_normalised", fig
    yield from lambda_z_plots(result)


def _plain(value, _pos) -> str:
    return f"{value:g}"


def lambda_z_plots(result: NcaResult) -> Iterator[tuple[str, Figure]]:
    """One panel per profile, 30 to a page: log concentrations, the points used for lambda_z, user exclusions
    and the fit; ``(name, figure)`` pairs one page at a time."""
    pts, keys, analyte = _profiles(result)
    wide = result.wide()
    prof_keys = keys + ([analyte] if analyte else [])
    subject = result.subject_column or keys[-1]

    def label(key) -> str:
        """The subject, and the dose number of a multiple-dose interval."""
        named = dict(zip(prof_keys, key if isinstance(key, tuple) else (key,)))
        return f"{named[subject]}" + (f" dose {named['DOSENO']}" if "DOSENO" in named else "")

    profiles = list(pts.groupby(prof_keys, sort=False, dropna=False))
    fit = wide.set_index(prof_keys)
    by_analyte: dict[str, list] = {}
    for key, prof in profiles:
        by_analyte.setdefault(str(prof.iloc[0][analyte]) if analyte else "all", []).append((key, prof))
    for name, items in by_analyte.items():
        for page in range(math.ceil(len(items) / PANELS_PER_PAGE)):
            chunk = items[page * PANELS_PER_PAGE:(page + 1) * PANELS_PER_PAGE]
            ncol = min(6, len(chunk))
            nrow = math.ceil(len(chunk) / ncol)
            fig, axes = _grid(nrow, ncol, (2.6 * ncol, 2.2 * nrow), constrained=False)
            fig.subplots_adjust(left=0.5 / (2.6 * ncol), right=1 - 0.1 / (2.6 * ncol), bottom=0.3 / (2.2 * nrow),
                                top=1 - 0.25 / (2.2 * nrow), wspace=0.3, hspace=0.5)
            for ax in axes.ravel()[len(chunk):]:
                ax.axis("off")
            for ax, (key, prof) in zip(axes.ravel(), chunk):
                pos = prof[prof["conc"] > 0]
                decades = np.log10(pos["conc"].max() / pos["conc"].min()) if len(pos) else 0.0
                ax.set_yscale("log")
                ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 2.5 else (1.0,), numticks=6))
                ax.yaxis.set_minor_locator(NullLocator())
                ax.yaxis.set_major_formatter(FuncFormatter(_plain))
                ax.xaxis.set_major_locator(MaxNLocator(4))
                ax.plot(pos["time"], pos["conc"], "o", ms=3, color="0.6")
                used = pos[pos["used_for_lambda_z"]]
                ax.plot(used["time"], used["conc"], "o", ms=4, color="C0")
                excl = pos[pos["user_excluded"]]
                ax.plot(excl["time"], excl["conc"], "x", ms=6, color="C3")
                row = fit.loc[key] if key in fit.index else None
                if row is not None and np.isfinite(row.get("LAMZ", np.nan)):
                    tt = np.linspace(row["LAMZLL"], row["LAMZUL"], 20)
                    ax.plot(tt, row["CLSTP"] * np.exp(-row["LAMZ"] * (tt - row["TLST"])), "-", color="C1")
                    ax.set_title(f"{label(key)}: t1/2 {row['LAMZHL']:.3g}, R2adj {row['R2ADJ']:.3f}", fontsize=7)
                else:
                    ax.set_title(f"{label(key)}: no lambda_z", fontsize=7)
                ax.tick_params(which="both", labelsize=6)
            yield f"lambda_z_{name}_{page + 1}", fig
