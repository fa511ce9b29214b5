"""Operating-characteristic plots: selection % and patients per dose for one or several results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from adcbridge.dosefinding import OperatingCharacteristics  # noqa: E402

__all__ = ["plot_oc"]


def plot_oc(results: list[OperatingCharacteristics], labels: list[str] | None = None, title: str | None = None):
    """Grouped bars of selection % and mean patients by dose (one group per dose, one bar per result).

    The selection panel ends with a "no MTD" group (trials stopped without selecting a dose), so its bars add up
    to 100 %.  The true DLT probabilities of the first result and the target DLT rate are drawn on a second axis
    and named in the legend.  Returns the matplotlib Figure.
    """
    labels = labels or [r.design for r in results]
    J = len(results[0].selection_pct)
    x = np.arange(1, J + 1)
    width = 0.8 / len(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for k, (r, lab) in enumerate(zip(results, labels)):
        off = (k - (len(results) - 1) / 2) * width
        color = f"C{k}"
        sel = list(r.selection_pct) + [r.no_mtd_pct]
        err = (list(r.se["selection_pct"]) + [r.se.get("no_mtd_pct", 0.0)]) if r.se else None
        axes[0].bar(np.append(x, J + 1) + off, sel, width, yerr=err, label=lab, capsize=2, color=color)
        err = r.se["patients_mean"] if r.se else None
        axes[1].bar(x + off, r.patients_mean, width, yerr=err, label=lab, capsize=2, color=color)
    ticks = results[0].table["dose_label"].tolist()
    rot = 30 if len(ticks[0]) > 3 else 0
    axes[0].set_xticks(np.append(x, J + 1), ticks + ["no MTD"], rotation=rot)
    axes[1].set_xticks(x, ticks, rotation=rot)
    handles = []
    for ax, ylab in zip(axes, ["Selected as MTD (% of trials)", "Mean patients treated"]):
        ax.set_xlabel("Dose level")
        ax.set_ylabel(ylab)
        twin = ax.twinx()
        curve, = twin.plot(x, results[0].p_true, "k.--", label="true DLT probability")
        line = twin.axhline(results[0].target, color="grey", lw=0.9, ls=":",
                            label=f"target DLT rate ({results[0].target:g})")
        twin.set_ylim(0, 1)
        twin.set_ylabel("True DLT probability")
        handles = [curve, line]
    bars, names = axes[0].get_legend_handles_labels()
    fig.legend(bars + handles, names + [h.get_label() for h in handles], loc="outside lower center",
               ncol=len(bars) + 2, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig
