"""Goodness-of-fit plots of PK fits: figures with the expected panels and artists (by gid), PNG output."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from adcbridge.pk import Regimen, fit_pk, simulate
from adcbridge.report.pk_plots import plot_pk_gof, plot_pk_individual


@pytest.fixture(scope="module")
def fit():
    t = np.array([0.5, 1, 4, 24, 72, 168, 336])
    rows = []
    rng = np.random.default_rng(2)
    for i, dose in enumerate([1.0, 3.0, 10.0]):
        for a in ("ADC", "TAb", "PAYLOAD"):
            c = simulate("adc", {"CLcat": 0.5, "CLdec": 0.33, "V1": 40, "Q": 1.2, "V2": 40, "CLpl": 250,
                                 "Vpl": 1500}, Regimen.single(dose, 0.5), t, output=a)[0]
            rows.append(pd.DataFrame({"ID": f"A{i}", "TIME": t, "CONC": c * (1 + 0.1 * rng.standard_normal(t.size)),
                                      "DOSE": dose, "ANALYTE": a}))
    return fit_pk(pd.concat(rows), "adc", pooled=True, n_starts=2)


def _gids(fig):
    return {a.get_gid() for ax in fig.axes for a in ax.get_children() if a.get_gid()}


def test_gof_panels(fit):
    fig = plot_pk_gof(fit)
    assert len(fig.axes) == 4 and fig.axes[0].get_xscale() == "log"
    assert {"observed", "identity", "wres", "zero", "qq"} <= _gids(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    assert buf.getvalue()[:4] == b"\x89PNG"
    lin = plot_pk_gof(fit, log=False)
    assert lin.axes[0].get_xscale() == "linear"
    plt.close(lin)


def test_individual_panels(fit):
    fig = plot_pk_individual(fit)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3 and {"observed", "fitted"} <= _gids(fig)
    assert len([ln for ln in visible[0].get_lines() if ln.get_gid() == "fitted"]) == 3      # three analytes
    plt.close(fig)
    with pytest.raises(ValueError, match="'Z9' is not in the fit"):
        plot_pk_individual(fit, subjects=["Z9"])


def test_pooled_title_and_time_labels_above_an_empty_panel(fit):
    fig = plot_pk_individual(fit, ncols=2)                    # 3 subjects in 2 x 2: the bottom-right panel is empty
    assert "pooled fit" in fig._suptitle.get_text()
    top_right = fig.axes[1]
    fig.canvas.draw()
    assert any(t.get_visible() and t.get_text() for t in top_right.get_xticklabels())
    plt.close(fig)
