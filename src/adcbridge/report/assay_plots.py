"""Plots of the assay analyses: dose-response curves with confidence bands, SPR/BLI sensorgrams with the global
fit and its residuals, and internalization time courses with their one-phase fits.

Every function takes the frozen result of the analysis and returns a matplotlib Figure; nothing is refitted --
curves come from the result's own ``predict``/``predict_interval`` or its stored fitted values.  Artists carry a
``gid`` (``observed``, ``fitted``, ``ci_band``, ``ed50``, ``mean``, ``injection``, ``residual``, ...) so that a
caller (or a test) can find them.

>>> import pandas as pd
>>> from adcbridge.assays.dose_response import fit_dose_response
>>> d = pd.DataFrame({"conc": [0, 0, 1, 1, 3, 3, 10, 10, 30, 30, 100, 100],
...                   "response": [100, 98, 97, 99, 85, 88, 52, 49, 18, 21, 5, 7]})
>>> fig = plot_dose_response(fit_dose_response(d))
>>> [a.get_xscale() for a in fig.axes]
['log']
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd

from adcbridge.assays.dose_response import DoseResponseFit
from adcbridge.assays.internalization import InternalizationResult, one_phase
from adcbridge.assays.kinetics import KineticsResult

__all__ = ["plot_dose_response", "plot_internalization", "plot_sensorgrams"]

_GRID = 300
_MOLAR_UNITS = (("M", 1.0), ("mM", 1e-3), ("µM", 1e-6), ("nM", 1e-9), ("pM", 1e-12), ("fM", 1e-15))


def _label(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


def _fmt(v: float) -> str:
    return "NA" if v is None or not np.isfinite(v) else f"{v:.3g}"


def _issue_note(fig, issues) -> None:
    """A footnote with the result's warnings and errors (a plot of a flagged fit must say so)."""
    flagged = [i for i in issues if getattr(i, "severity", "warning") != "info"]
    if flagged:
        text = "; ".join(f"{i.code}" for i in flagged[:4]) + (" ..." if len(flagged) > 4 else "")
        fig.text(0.01, 0.005, f"Issues: {text}", fontsize=7, color="C3", ha="left", va="bottom")


# --------------------------------------------------------------------------------------------- dose-response
def _zero_position(positive: np.ndarray) -> tuple[float, float]:
    """(x where zero doses are drawn, x of the axis break) on a log axis: one decade below the lowest positive
    dose's decade, the break halfway (geometrically) between them -- drc's ``bp`` and Prism's axis gap."""
    lo = float(positive.min())
    x0 = 10.0 ** (math.floor(math.log10(lo)) - 1)
    if lo / x0 < 5:                     # keep the zero column well apart from the first dose
        x0 /= 10.0
    return x0, math.sqrt(x0 * lo)


def plot_dose_response(fit: DoseResponseFit, log_x: bool = True, ci: bool = True, *, title: str | None = None):
    """Observed responses, fitted curves, pointwise confidence bands and ED50s of a dose-response fit.

    One panel; per curve (one colour each): every observation (``gid="observed"``), the fitted mean
    (``"fitted"``), the pointwise confidence band of the mean from :meth:`DoseResponseFit.predict_interval`
    (delta method at the fit's ``confidence`` level, ``"ci_band"``; ``ci=False`` leaves it out) and the ED50 as a
    diamond on the curve with its confidence interval as a horizontal bar (``"ed50"``; the interval is the
    spec's ``ed_interval``, on a log axis the log-scale interval when the delta one reaches below zero).

    With ``log_x`` (default) the dose axis is logarithmic and zero doses are drawn as in drc and Prism: in a
    column one decade below the lowest dose, labelled ``0``, separated from the positive doses by an axis break
    (``//``); the curve is drawn from the break.  The legend gives each curve's ED50 and its interval.

    Returns the matplotlib Figure."""
    obs = fit.observations
    if obs is None:
        raise ValueError("the fit holds no observations to plot")
    spec = fit.spec
    x_all = obs["x"].to_numpy(float)
    positive = x_all[x_all > 0]
    if log_x and positive.size == 0:
        raise ValueError("a log dose axis needs positive doses; use log_x=False")
    has_zero = bool(np.any(x_all == 0))
    if log_x:
        lo_pos, hi = float(positive.min()), float(positive.max())
        x0, x_break = _zero_position(positive) if has_zero else (None, lo_pos / 1.5)
        grid = np.logspace(math.log10(x_break), math.log10(hi * 1.5), _GRID)
    else:
        x0, x_break = 0.0, None
        grid = np.linspace(0.0, float(x_all.max()) * 1.05, _GRID)
    ed = fit.ed_table
    ed50 = ed[ed["level"] == 50] if ed is not None and "level" in ed.columns else pd.DataFrame()
    level = round(100 * spec.confidence)

    many = len(fit.curves) > 3
    fig, ax = plt.subplots(figsize=(9.5 if many else 7, 4.6), constrained_layout=True)
    for k, curve in enumerate(fit.curves):
        colour = f"C{k % 10}"
        sub = obs[obs["curve"].astype(str) == str(curve)]
        xs = sub["x"].to_numpy(float)
        if log_x and has_zero:            # zero doses in their column, curves side by side (dodged)
            step = min(1.12, 1.6 ** (1 / max(len(fit.curves) - 1, 1)))
            xs = np.where(xs == 0, x0 * step ** (k - (len(fit.curves) - 1) / 2), xs)
        name = str(curve) if spec.curve is not None else "observed"
        label = name
        row = ed50[ed50["curve"].astype(str) == str(curve)]
        e50 = lo50 = hi50 = np.nan
        if not row.empty:
            r = row.iloc[0]
            e50 = float(r["estimate"])
            lo50, hi50 = (float(r["ci_low"]), float(r["ci_high"]))
            if spec.ed_interval == "tfls" or (log_x and not lo50 > 0):
                lo50, hi50 = float(r["ci_low_log"]), float(r["ci_high_log"])
            label = f"{name}: ED50 {_fmt(e50)} ({level}% CI {_fmt(lo50)}–{_fmt(hi50)})"
        ax.plot(xs, sub["y"].to_numpy(float), "o", ms=4, color=colour, alpha=0.75, mec="none", label=label,
                gid="observed")
        one = len(fit.curves) == 1
        if ci:
            band = fit.predict_interval(grid, None if one else curve)
            ax.fill_between(grid, band["lower"], band["upper"], color=colour, alpha=0.1 if many else 0.18, lw=0,
                            gid="ci_band")
            mean = band["prediction"].to_numpy()
        else:
            mean = fit.predict(grid, None if one else curve)
        ax.plot(grid, mean, "-", color=colour, lw=1.6, gid="fitted")
        if np.isfinite(e50) and e50 > 0:
            y50 = float(np.asarray(fit.predict([e50], None if one else curve)).reshape(-1)[0])
            xerr = None
            if np.isfinite(lo50) and np.isfinite(hi50):
                xerr = [[max(e50 - lo50, 0.0)], [max(hi50 - e50, 0.0)]]
            ax.errorbar([e50], [y50], xerr=xerr, fmt="D", ms=6, color=colour, mec="black", mew=0.6, capsize=3,
                        lw=1.2, zorder=5, gid="ed50")
    if log_x:
        ax.set_xscale("log")
        left = (x0 / 1.8) if has_zero else lo_pos / 2.5
        ax.set_xlim(left, hi * 2.0)
        if has_zero:
            ticks = [t for t in ax.get_xticks() if x_break < t <= hi * 2.0]
            ax.set_xticks([x0] + ticks, ["0"] + [f"{t:g}" for t in ticks])
            ax.set_xticks([], minor=True)
            trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
            ax.text(x_break, 0.0, "//", transform=trans, ha="center", va="center", fontsize=11, clip_on=False,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5}, zorder=10, gid="axis_break")
            ax.axvline(x_break, color="0.85", lw=0.8, ls=":", zorder=0, gid="axis_break")
    else:
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    ax.set_xlabel(_label(spec.x, spec.x_unit) + (" [log scale]" if log_x else ""))
    ax.set_ylabel(_label(spec.y, spec.y_unit))
    where = {"loc": "center left", "bbox_to_anchor": (1.01, 0.5), "frameon": False} if many else {"loc": "best"}
    ax.legend(fontsize=8, framealpha=0.85, title=f"{fit.description()}" + (
        f"\nband: {level}% CI of the mean" if ci else ""), title_fontsize=8, **where)
    ax.grid(True, which="major", lw=0.3, alpha=0.5)
    if title is None:
        title = f"Dose-response fit ({spec.model})"
        par = fit.parallelism
        if par is not None and np.isfinite(par.p):
            title += f"; parallelism F({par.df_num}, {par.df_den}) = {par.f:.3g}, p = {par.p:.2g}"
    ax.set_title(title, fontsize=10)
    _issue_note(fig, fit.issues)
    return fig


# ------------------------------------------------------------------------------------------------ kinetics
def _molar_unit(values) -> tuple[str, float]:
    """A readable concentration unit for molar values: the largest in which the top concentration is >= 1."""
    top = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    if top <= 0:
        return "M", 1.0
    for unit, factor in _MOLAR_UNITS:
        if top / factor >= 1:
            return unit, factor
    return _MOLAR_UNITS[-1]


def _injection_marks(ax, injections: pd.DataFrame, colours: dict, *, label: bool) -> None:
    """Injection start (solid) and stop (dashed) lines and a light band while sample flows; grey when every cycle
    shares the schedule, else in each cycle's colour."""
    inj = injections[["cycle", "t_on", "t_off"]]
    per_cycle = inj.groupby("cycle", sort=False)[["t_on", "t_off"]].apply(lambda g: tuple(map(tuple, g.to_numpy())))
    shared = per_cycle.nunique() == 1
    rows = [(None, *pair) for pair in per_cycle.iloc[0]] if shared else \
        [(c, *pair) for c, pairs in per_cycle.items() for pair in pairs]
    for i, (cycle, t_on, t_off) in enumerate(rows):
        colour = "0.35" if cycle is None else colours.get(cycle, "0.35")
        first = label and i == 0
        ax.axvspan(t_on, t_off, color="0.5" if cycle is None else colour, alpha=0.06, lw=0, gid="injection")
        ax.axvline(t_on, color=colour, ls="-", lw=0.8, alpha=0.8, gid="injection",
                   label="injection start" if first else None)
        ax.axvline(t_off, color=colour, ls="--", lw=0.8, alpha=0.8, gid="injection",
                   label="injection stop" if first else None)


def plot_sensorgrams(result: KineticsResult, *, title: str | None = None):
    """Observed sensorgrams with the global fit (top) and the residuals (bottom) of a kinetics fit.

    Top panel: each cycle's observed response in its own colour (``gid="observed"``, labelled by its analyte
    concentration in a readable unit) and the fitted curve in black (``"fitted"``; it includes any bulk step and
    drift the model fitted).  Bottom panel: residuals (observed - fitted, ``"residual"``) per cycle with a zero
    line.  Both panels mark the injections: a solid line at the start, a dashed one at the stop and a light band
    while sample flows (``"injection"``; per cycle, in its colour, when cycles differ).  The title gives ka, kd,
    KD with their CIs and Chi2; flagged issues are listed at the foot.

    Returns the matplotlib Figure (two axes sharing the time axis)."""
    fitted = result.fitted
    if fitted is None or "fitted" not in fitted.columns:
        raise ValueError("the kinetics result holds no fitted values to plot")
    unit_y = getattr(result.spec, "response_unit", "RU")
    cycles = list(pd.unique(fitted["cycle"]))
    conc_unit, factor = _molar_unit(fitted["conc_M"].to_numpy(float))
    colours = {c: plt.cm.viridis(0.9 * i / max(len(cycles) - 1, 1)) for i, c in enumerate(cycles)}
    injections = result.injections
    multi_injection = injections is not None and injections.groupby("cycle").size().max() > 1

    fig, (ax, axr) = plt.subplots(2, 1, figsize=(8.5, 6.4), sharex=True, constrained_layout=True,
                                  gridspec_kw={"height_ratios": [3, 1.2]})
    for c in cycles:
        sub = fitted[fitted["cycle"] == c]
        t = sub["time"].to_numpy(float)
        if multi_injection:
            concs = injections.loc[injections["cycle"] == c, "conc_M"].to_numpy(float) / factor
            conc_text = ", ".join(f"{v:.3g}" for v in concs) + f" {conc_unit}"
        else:
            conc_text = f"{float(sub['conc_M'].max()) / factor:.3g} {conc_unit}"
        ax.plot(t, sub["response"], "-", color=colours[c], lw=1.3, alpha=0.8, label=f"cycle {c}: {conc_text}",
                gid="observed")
        ax.plot(t, sub["fitted"], "-", color="black", lw=0.8, gid="fitted",
                label=f"fit ({result.model})" if c == cycles[-1] else None)
        axr.plot(t, sub["residual"], "-", color=colours[c], lw=0.5, alpha=0.7, gid="residual",
                 label=f"cycle {c} residual")
    if injections is not None and not injections.empty:
        _injection_marks(ax, injections, colours, label=True)
        _injection_marks(axr, injections, colours, label=False)
    axr.axhline(0.0, color="black", lw=0.8, gid="zero")
    lim = float(np.nanmax(np.abs(fitted["residual"]))) * 1.15 or 1.0
    axr.set_ylim(-lim, lim)
    ax.set_ylabel(f"Response ({unit_y})")
    axr.set_ylabel(f"Residual ({unit_y})")
    axr.set_xlabel("Time (s)")
    axr.set_title("Residuals (observed − fitted), coloured by cycle", fontsize=8)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title="analyte", title_fontsize=8,
              frameon=False)
    for a in (ax, axr):
        a.grid(True, lw=0.3, alpha=0.5)
    if title is None:
        try:
            parts = []
            for name, unit in (("ka", "1/(M·s)"), ("kd", "1/s"), ("KD", "M")):
                row = result.table[result.table["parameter"] == name].iloc[0]
                parts.append(f"{name} {row['estimate']:.4g} {unit} ({row['ci_low']:.4g}–{row['ci_high']:.4g})")
            level = round(100 * result.spec.confidence)
            title = ", ".join(parts[:2]) + f"\n{parts[2]}; {level}% CIs; Chi² {result.chi2:.3g} {unit_y}²"
        except (IndexError, KeyError):
            title = f"{result.model} fit"
    ax.set_title(title, fontsize=10)
    _issue_note(fig, result.issues)
    return fig


# ------------------------------------------------------------------------------------------- internalization
def _observations(result: InternalizationResult, data, antibody: str, time: str, value: str):
    """The fitted % internalized: ``data`` if given (columns named by ``antibody``, ``time``, ``value``), else the
    result's ``observed`` table (standard columns), else None."""
    if data is None:
        return None if result.observed is None else result.observed
    missing = [c for c in (antibody, time, value) if c not in data.columns]
    if missing:
        raise ValueError(f"the internalization data has no column {missing[0]!r} (columns: "
                         f"{list(map(str, data.columns))}); name the columns with antibody=, time=, value=")
    return pd.DataFrame({"antibody": data[antibody].astype(str), "time": pd.to_numeric(data[time]),
                         "value": pd.to_numeric(data[value])})


def plot_internalization(result: InternalizationResult, data: pd.DataFrame | None = None, *,
                         model: str = "y0_fixed", antibody: str = "adc", time: str = "time_h",
                         value: str = "pct_internalized", title: str | None = None):
    """% internalized over time with the one-phase fits of an internalization analysis.

    Per antibody (one colour each): the individual replicates (small open circles, ``gid="observed"``), the mean
    and SD at each time (filled circles with bars, ``"mean"``), the fitted one-phase curve of ``model``
    (``"y0_fixed"``, Y0 = 0, default, or ``"y0_free"``; ``gid="fitted"``) and the half-time: a dotted drop line
    at t1/2 to the curve, annotated with t1/2 and its profile-likelihood CI (``"half_time"``).  The legend gives
    plateau and t1/2; when the result compares two antibodies the F-test of a shared rate is in the title.

    The observations are those the result was fitted to (its ``observed`` table); ``data`` (columns named by
    ``antibody``, ``time``, ``value``) overrides them.  A result without observations (an old JSON document) gets
    the fitted curves only, and the plot says so.

    Returns the matplotlib Figure."""
    table = result.table
    if model not in set(table["model"]):
        raise ValueError(f"model must be one of {sorted(set(table['model']))}; got {model!r}")
    unit = getattr(result.spec, "time_unit", "h")
    level = round(100 * result.spec.confidence)
    obs = _observations(result, data, antibody, time, value)
    names = list(pd.unique(table["antibody"]))
    t_max = float(obs["time"].max()) if obs is not None else 5 * max(result.estimate(n, "half_time", model)
                                                                       for n in names)
    grid = np.linspace(0.0, t_max * 1.02, _GRID)

    fig, ax = plt.subplots(figsize=(7, 4.6), constrained_layout=True)
    for i, name in enumerate(names):
        colour = f"C{i % 10}"
        rows = table[(table["antibody"] == name) & (table["model"] == model)].set_index("parameter")
        plateau, k = float(rows.loc["plateau", "estimate"]), float(rows.loc["k", "estimate"])
        y0 = float(rows.loc["Y0", "estimate"]) if "Y0" in rows.index else 0.0
        half = rows.loc["half_time"]
        if obs is not None:
            sub = obs[obs["antibody"] == str(name)]
            ax.plot(sub["time"], sub["value"], "o", ms=3.5, mfc="none", mec=colour, mew=0.8, alpha=0.7,
                    gid="observed", label=f"_{name} replicates")
            stats = sub.groupby("time")["value"].agg(["mean", "std"]).reset_index()
            ax.errorbar(stats["time"], stats["mean"], yerr=stats["std"].fillna(0.0), fmt="o", ms=5, color=colour,
                        capsize=2.5, lw=1, zorder=4, gid="mean")
        ax.plot(grid, one_phase(grid, plateau, k, y0), "-", color=colour, lw=1.6, gid="fitted",
                label=f"{name}: plateau {plateau:.3g} %, t½ {float(half['estimate']):.3g} {unit}")
        th = float(half["estimate"])
        if np.isfinite(th) and 0 < th <= grid[-1]:
            yh = float(one_phase(th, plateau, k, y0))
            ax.plot([th, th], [0, yh], ":", color=colour, lw=1.1, gid="half_time")
            ax.plot([th], [yh], "s", ms=5, color=colour, mec="black", mew=0.5, zorder=5, gid="half_time")
            lo, hi = float(half.get("profile_low", np.nan)), float(half.get("profile_high", np.nan))
            ci_text = f"\n({level}% CI {lo:.3g}–{hi:.3g})" if np.isfinite(lo) and np.isfinite(hi) else ""
            ax.annotate(f"t½ = {th:.3g} {unit}{ci_text}", (th, yh), xytext=(8, -4 - 12 * i),
                        textcoords="offset points", fontsize=7.5, color=colour, ha="left", va="top",
                        gid="half_time")
    ax.set_xlim(left=-0.02 * grid[-1])
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.set_xlabel(f"Time ({unit})")
    ax.set_ylabel("Internalized (%)")
    model_text = "Y0 = 0" if model == "y0_fixed" else "Y0 free"
    handles, labels = ax.get_legend_handles_labels()
    note = "points: replicates (open), mean ± SD (filled)" if obs is not None else \
        "observations not given: fitted curves only"
    ax.legend(handles, labels, fontsize=8, loc="lower right", title=f"one-phase fit ({model_text}); {note}",
              title_fontsize=7.5, framealpha=0.85)
    ax.grid(True, lw=0.3, alpha=0.5)
    if title is None:
        title = "Internalization"
        tests = result.comparison_tests
        if tests is not None and "k_equal" in set(tests["test"]):
            r = tests[tests["test"] == "k_equal"].iloc[0]
            pair = " vs ".join(result.spec.compare or ())
            title += f": {pair}, shared-rate F test F = {r['f']:.3g}, p = {r['p']:.2g}"
    ax.set_title(title, fontsize=10)
    _issue_note(fig, result.issues)
    return fig
