"""Concentration-time plots of an NCA: individual and mean curves (linear and log), dose-normalised means,
and the lambda_z fit of every profile.

Figures come one at a time (a generator), so a study with thousands of profiles never holds every page in
memory; they are plain :class:`matplotlib.figure.Figure` objects (no pyplot state).  The lambda_z pages (30
panels each) use a fixed layout, no minor ticks and plain tick labels: constrained layout and log-axis mathtext
labels made each page take seconds to render.

Axis labels carry the units of the analysis (the result's options: ``units`` and ``conc_units_by_analyte``,
else the PP table's ``PPSTRESU``).  BLQ/zero (and negative) concentrations are left out of the log panels: they
are masked (NaN), so a curve breaks there instead of dropping to the axis floor.
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


def _label(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


def _pp_unit(result: NcaResult, code: str, analyte) -> str | None:
    """The unit of parameter ``code`` in the PP table (of ``analyte`` when the table has PPCAT), or None."""
    t = result.table
    if t is None or "PPSTRESU" not in t.columns or "PPTESTCD" not in t.columns:
        return None
    rows = t[t["PPTESTCD"].astype(str) == code]
    if analyte is not None and "PPCAT" in rows.columns:
        rows = rows[rows["PPCAT"].astype(str) == str(analyte)]
    units = [str(u) for u in rows["PPSTRESU"].dropna().unique() if str(u)]
    return units[0] if len(units) == 1 else None


def _units(result: NcaResult, analyte=None) -> dict[str, str | None]:
    """``time``, ``conc`` and ``conc_per_dose`` units of one analyte's profiles: from the result's options, else
    from the PP table (TMAX, CMAX, CMAXD); None where neither says."""
    spec = getattr(result, "spec", None)
    try:
        units = spec.units_for(analyte) if hasattr(spec, "units_for") else spec.units
        return {k: units.unit(k) for k in ("time", "conc", "conc_per_dose")}
    except Exception:  # noqa: BLE001 -- a spec without units: fall back to the table
        return {"time": _pp_unit(result, "TMAX", analyte), "conc": _pp_unit(result, "CMAX", analyte),
                "conc_per_dose": _pp_unit(result, "CMAXD", analyte)}


def _positive(values):
    """Values for a log axis: zero/negative (BLQ) values masked as NaN so the line breaks there."""
    v = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values.astype(float)
    return v.where(v > 0)


def _grid(nrow: int, ncol: int, figsize, constrained: bool = True):
    fig = Figure(figsize=figsize, layout="constrained" if constrained else None)
    return fig, fig.subplots(nrow, ncol, squeeze=False)


def concentration_plots(data: pd.DataFrame, result: NcaResult, *, time: str, conc: str,
                        dose: str | None = None) -> Iterator[tuple[str, Figure]]:
    """``(name, figure)`` pairs, one at a time: ``individual``, ``mean`` (each with a linear and a log panel per
    analyte), ``dose_normalised`` (when a dose column is given) and ``lambda_z_<analyte>_<page>``.  Axes are
    labelled with the analysis' units; BLQ/zero concentrations are left out of the log panels (masked, the line
    breaks)."""
    pts, keys, analyte = _profiles(result)
    subject = result.subject_column or keys[-1]
    groups = [k for k in keys if k not in (subject, "DOSENO")]
    # multiple dose: each dosing interval is analysed on the time after its dose, and so it is drawn -- the means
    # are per dose number (a mean over doses 1-3 at the same time after dose would hide the accumulation)
    per_dose = "DOSENO" in keys
    time_name = "time after dose" if per_dose else "time"
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
                y = _positive(prof["conc"]) if log else prof["conc"]
                ax.plot(prof["time"], y, "-", color=colour, lw=0.7, alpha=0.7, label=g)
        u = _units(result, a)
        for ax, log in zip(axes[i], (False, True)):
            ax.set_title(f"{a or 'concentration'}: individual profiles ({'log' if log else 'linear'} scale)")
            ax.set_xlabel(_label(time_name, u["time"]))
            ax.set_ylabel(_label("concentration", u["conc"]))
            if log:
                ax.set_yscale("log")
    handles = [Line2D([], [], color=c, label=g) for g, c in colours.items()]
    axes[0][1].legend(handles=handles, fontsize=7, loc="upper right", title="group" if groups else None,
                      title_fontsize=7)
    yield "individual", fig

    fig, axes = _grid(len(analytes), 2, (11, 3.6 * len(analytes)))
    for i, a in enumerate(analytes):
        sub = pts if a is None else pts[pts[analyte] == a]
        u = _units(result, a)
        by = (groups or ["_all"]) + (["DOSENO"] if per_dose else [])
        sub = sub.assign(_all="all")
        for _gkey, grp in sub.groupby(by, sort=False, dropna=False):
            stats = grp.groupby("time")["conc"].agg(["mean", "std"]).reset_index()
            label = _group_label(grp.iloc[0], groups) + (f", dose {grp.iloc[0]['DOSENO']}" if per_dose else "")
            for ax, log in zip(axes[i], (False, True)):
                m = _positive(stats["mean"]) if log else stats["mean"]
                ax.errorbar(stats["time"], m, yerr=None if log else stats["std"], marker="o", ms=3, lw=1,
                            capsize=2, label=label, color=colours.get(label))
        for ax, log in zip(axes[i], (False, True)):
            ax.set_title(f"{a or 'concentration'}: mean {'' if log else '(SD) '}by group"
                         f"{' and dose number' if per_dose else ''}, {'log' if log else 'linear'} scale")
            ax.set_xlabel(_label(time_name, u["time"]))
            ax.set_ylabel(_label("mean concentration", u["conc"]))
            if log:
                ax.set_yscale("log")
            ax.legend(fontsize=7)
    yield "mean", fig

    if dose and dose in data.columns and "DOSENO" not in keys:
        dose_of = data.groupby(subject)[dose].first()
        fig, axes = _grid(1, len(analytes), (5.5 * len(analytes), 4))
        for i, a in enumerate(analytes):
            u = _units(result, a)
            sub = pts if a is None else pts[pts[analyte] == a]
            sub = sub.assign(_dose=sub[subject].map(dose_of))
            sub = sub[sub["_dose"] > 0].assign(_dn=lambda f: f["conc"] / f["_dose"])
            for dval, grp in sub.groupby("_dose"):
                stats = grp.groupby("time")["_dn"].mean()
                axes[0][i].plot(stats.index, _positive(stats), marker="o", ms=3, label=f"{dval:g}")
            axes[0][i].set_yscale("log")
            axes[0][i].set_title(f"{a or 'concentration'}: mean concentration / dose")
            axes[0][i].set_xlabel(_label("time", u["time"]))
            axes[0][i].set_ylabel(_label("concentration / dose", u["conc_per_dose"]))
            dose_unit = u["conc_per_dose"].rsplit("/(", 1)[-1].rstrip(")") if u["conc_per_dose"] else None
            axes[0][i].legend(title=_label("dose", dose_unit), fontsize=7)
        yield "dose_normalised", fig
    yield from lambda_z_plots(result)


def _plain(value, _pos) -> str:
    return f"{value:g}"


def lambda_z_plots(result: NcaResult) -> Iterator[tuple[str, Figure]]:
    """One panel per profile, 30 to a page: log concentrations, the points used for lambda_z, user exclusions
    and the fit; ``(name, figure)`` pairs one page at a time.  BLQ/zero concentrations are left out (log axes);
    every panel is labelled with the time and concentration units, one legend per page names the series."""
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
            fig.subplots_adjust(left=0.75 / (2.6 * ncol), right=1 - 0.1 / (2.6 * ncol),
                                bottom=0.85 / (2.2 * nrow), top=1 - 0.25 / (2.2 * nrow), wspace=0.35, hspace=0.75)
            u = _units(result, None if name == "all" else chunk[0][1].iloc[0][analyte])
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
                ax.plot(pos["time"], pos["conc"], "o", ms=3, color="0.6", label="observed")
                used = pos[pos["used_for_lambda_z"]]
                ax.plot(used["time"], used["conc"], "o", ms=4, color="C0", label="used for lambda_z")
                excl = pos[pos["user_excluded"]]
                ax.plot(excl["time"], excl["conc"], "x", ms=6, color="C3", label="excluded by the user")
                row = fit.loc[key] if key in fit.index else None
                if row is not None and np.isfinite(row.get("LAMZ", np.nan)):
                    tt = np.linspace(row["LAMZLL"], row["LAMZUL"], 20)
                    ax.plot(tt, row["CLSTP"] * np.exp(-row["LAMZ"] * (tt - row["TLST"])), "-", color="C1",
                            label="lambda_z fit")
                    ax.set_title(f"{label(key)}: t1/2 {row['LAMZHL']:.3g}, R2adj {row['R2ADJ']:.3f}", fontsize=7)
                else:
                    ax.set_title(f"{label(key)}: no lambda_z", fontsize=7)
                ax.tick_params(which="both", labelsize=6)
                ax.set_xlabel(_label("time", u["time"]), fontsize=6, labelpad=1)
                ax.set_ylabel(_label("conc.", u["conc"]), fontsize=6, labelpad=1)
            fig.legend(handles=[Line2D([], [], ls="", marker="o", ms=3, color="0.6", label="observed"),
                                Line2D([], [], ls="", marker="o", ms=4, color="C0", label="used for lambda_z"),
                                Line2D([], [], ls="", marker="x", ms=6, color="C3", label="excluded by the user"),
                                Line2D([], [], color="C1", label="lambda_z fit")],
                       loc="lower center", ncol=4, fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.0))
            yield f"lambda_z_{name}_{page + 1}", fig
