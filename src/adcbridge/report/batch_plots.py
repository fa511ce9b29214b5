"""Plots of a batch of dose-response fits (a plate, a screen, a bootstrap): small multiples of chosen curves with
their data, and the distribution of the ED50s by fit status.

A batch result keeps one row per curve, not the observations (10,000 curves would carry their raw data into
every JSON document), so the curve panels take the long table the batch was fitted to."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from adcbridge.assays.dose_response import DoseResponseBatch  # noqa: E402
from adcbridge.assays.dose_response.models import PARAMETERS, get_model  # noqa: E402

__all__ = ["plot_dose_response_batch", "plot_batch_ed50"]

_GRID = 120
_STATUS_COLOURS = {"converged": "C0", "not_identifiable": "C1", "not_converged": "C3", "diverged": "C3",
                   "failed": "0.4"}


def _label(name: str, unit) -> str:
    return f"{name} ({unit})" if unit else str(name)


def _theta(batch: DoseResponseBatch, row: pd.Series) -> np.ndarray:
    model = get_model(batch.spec.model)
    values = {p: float(row[p]) for p in PARAMETERS if p in row.index and p not in model.fixed}
    return model.full({**batch.spec.fixed, **values})


def _choose(batch: DoseResponseBatch, curves, max_curves: int) -> pd.DataFrame:
    table = batch.table
    if curves is None:
        # the doubtful curves first (those a reviewer must look at), then the rest in table order
        doubtful = table["status"] != "converged"
        return pd.concat([table[doubtful], table[~doubtful]]).head(max_curves)
    wanted = [str(c) for c in curves]
    labels = table["curve"].astype(str)
    missing = [c for c in wanted if c not in set(labels)]
    if missing:
        raise ValueError(f"curve {missing[0]!r} is not in the batch ({len(table)} curves)")
    return table.set_index(labels).loc[wanted].reset_index(drop=True)


def plot_dose_response_batch(batch: DoseResponseBatch, data: pd.DataFrame, *, curves=None, max_curves: int = 16,
                             log_x: bool = True):
    """Small multiples: one panel per curve with its observations (``gid="observed"``), the fitted curve
    (``"fitted"``, absent for a failed fit) and the ED50 (``"ed50"``).  ``data`` is the long table the batch was
    fitted to (the spec's ``x``, ``y`` and ``curve`` columns).  ``curves`` picks curves by label; by default the
    first ``max_curves`` with the doubtful ones (status other than ``converged``) first.  A panel's title gives the
    curve, its status and ED50; doubtful fits have a red title.  Zero doses sit one decade below the lowest
    positive dose on a log axis.  The shared axis labels carry the spec's ``x_unit`` and ``y_unit``; each panel
    labels its observations and fit (one legend on the first panel).  Returns the Figure."""
    spec = batch.spec
    missing = [c for c in (spec.x, spec.y, spec.curve) if c not in data.columns]
    if missing:
        raise ValueError(f"the data has no column {missing[0]!r} (the batch was fitted with x={spec.x!r}, "
                         f"y={spec.y!r}, curve={spec.curve!r})")
    if max_curves < 1:
        raise ValueError(f"max_curves must be at least 1; got {max_curves}")
    chosen = _choose(batch, curves, max_curves)
    model = get_model(spec.model)
    n = len(chosen)
    ncol = min(4, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol, 2.5 * nrow), squeeze=False, sharey=True,
                             constrained_layout=True)
    labels = data[spec.curve].astype(str)
    for ax, (_, row) in zip(axes.flat, chosen.iterrows()):
        sub = data[labels == str(row["curve"])]
        x = pd.to_numeric(sub[spec.x]).to_numpy(float)
        y = pd.to_numeric(sub[spec.y]).to_numpy(float)
        positive = x[x > 0]
        lo = float(positive.min()) if positive.size else 1.0
        hi = float(positive.max()) if positive.size else 10.0
        if log_x:
            x_plot = np.where(x > 0, x, lo / 10)
            grid = np.logspace(math.log10(lo / 1.5), math.log10(hi * 1.5), _GRID)
            ax.set_xscale("log")
        else:
            x_plot, grid = x, np.linspace(0.0, hi * 1.05, _GRID)
        colour = _STATUS_COLOURS.get(str(row["status"]), "C0")
        ax.plot(x_plot, y, "o", ms=3.5, color="0.25", gid="observed", label="observed")
        ed50 = float(row["ed50"])
        if row["method"] != "failed":
            theta = _theta(batch, row)
            ax.plot(grid, model.predict(grid, theta), "-", color=colour, lw=1.4, gid="fitted", label="fitted")
            if np.isfinite(ed50) and ed50 > 0:
                ax.plot([ed50], [float(model.predict(np.array([ed50]), theta)[0])], "D", ms=5, color=colour,
                        mec="black", mew=0.5, gid="ed50", label="ED50")
        status = str(row["status"])
        ed_text = f"ED50 {ed50:.3g}" if np.isfinite(ed50) else "no ED50"
        ax.set_title(f"{row['curve']}: {status}, {ed_text}", fontsize=8,
                     color="C3" if status != "converged" else "black")
        ax.tick_params(labelsize=7)
        ax.grid(True, lw=0.3, alpha=0.5)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{spec.model} fits: {n} of {len(batch.table)} curves", fontsize=10)
    axes.flat[0].legend(fontsize=6.5, loc="best")
    fig.supxlabel(_label(spec.x, getattr(spec, "x_unit", None)) + (" [log scale]" if log_x else ""), fontsize=9)
    fig.supylabel(_label(spec.y, getattr(spec, "y_unit", None)), fontsize=9)
    return fig


def plot_batch_ed50(batch: DoseResponseBatch, *, bins: int = 40):
    """The distribution of log10 ED50 across the batch, stacked by fit status (``gid="ed50_histogram"``), with
    the number of curves per status in the legend and the median ED50 of the converged curves as a dashed line
    (``"median"``).  Returns the Figure."""
    table = batch.table
    ed = table["ed50"].to_numpy(float)
    ok = np.isfinite(ed) & (ed > 0)
    if not ok.any():
        raise ValueError("no curve of the batch has a finite, positive ED50 to plot")
    log_ed = np.log10(ed[ok])
    edges = np.histogram_bin_edges(log_ed, bins=bins)
    status = table["status"].astype(str).to_numpy()[ok]
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    kinds = [k for k in _STATUS_COLOURS if np.any(status == k)]
    counts = {k: int(np.sum(table["status"].astype(str) == k)) for k in _STATUS_COLOURS}
    ax.hist([log_ed[status == k] for k in kinds], bins=edges, stacked=True,
                            color=[_STATUS_COLOURS[k] for k in kinds], label=[f"{k} ({counts[k]})" for k in kinds])
    for patch in ax.patches:
        patch.set_gid("ed50_histogram")
    conv = log_ed[status == "converged"]
    if conv.size:
        med = float(np.median(conv))
        ax.axvline(med, color="black", ls="--", lw=1, gid="median")
        ax.annotate(f"median {10 ** med:.3g}", (med, ax.get_ylim()[1]), xytext=(4, -12), textcoords="offset points",
                    fontsize=8)
    no_ed = int(np.sum(~ok))
    x_unit = getattr(batch.spec, "x_unit", None)
    ax.set_xlabel(f"log10 ED50 ({batch.spec.x}" + (f", {x_unit})" if x_unit else ")"))
    ax.set_ylabel("Curves")
    ax.legend(fontsize=8, title="status (curves)", title_fontsize=8)
    ax.set_title(f"ED50 of {len(table)} {batch.spec.model} fits" + (f"; {no_ed} without an ED50" if no_ed else ""),
                 fontsize=10)
    ax.grid(True, lw=0.3, alpha=0.5)
    return fig
