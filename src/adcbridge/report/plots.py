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

    Returns the matplotlib Figure; the true DLT probabilities of the first result are drawn on a second axis.
    """
    labels = labels or [r.design for r in results]
    J = len(results[0].selection_pct)
    x = np.arange(1, J + 1)
    width = 0.8 / len(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for k, (r, lab) in enumerate(zip(results, labels)):
        off = (k - (len(results) - 1) / 2) * width
        err = r.se["selection_pct"] if r.se else None
        axes[0].bar(x + off, r.selection_pct, width, yerr=err, label=lab, capsize=2)
        err = r.se["patients_mean"] if r.se else None
        axes[1].bar(x + off, r.patients_mean, width, yerr=err, label=lab, capsize=2)
    ticks = results[0].table["dose_label"].tolist()
    for ax, ylab in zip(axes, ["Selected as MTD (%)", "Mean patients treated"]):
        ax.set_xticks(x, ticks, rotation=30 if len(ticks[0]) > 3 else 0)
        ax.set_xlabel("Dose level")
        ax.set_ylabel(ylab)
        twin = ax.twinx()
        twin.plot(x, results[0].p_true, "k.--", label="true DLT probability")
        twin.axhline(results[0].target, color="grey", lw=0.8, ls=":")
        twin.set_ylim(0, 1)
        twin.set_ylabel("True DLT probability")
    axes[0].legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
