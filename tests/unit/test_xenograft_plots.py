"""Smoke tests of the xenograft plots on the reference study: the expected artists (found by ``gid``) are
drawn from the analysis' own tables, and the figures render."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.xenograft import analyze_xenograft
from adcbridge.report.xenograft_plots import plot_time_to_endpoint, plot_tumour_volumes
from tests.refdata import REFERENCE

DATA = REFERENCE / "fit" / "xenograft" / "xenograft_synthetic.csv"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def study():
    data = pd.read_csv(DATA)
    kw = dict(animal="mouse", volume="volume_mm3", control="Vehicle", tgi="delta_v", days=[14, 21])
    return data, analyze_xenograft(data, **kw), analyze_xenograft(data, humane_endpoint=1500.0, **kw)


def _gid(ax, gid):
    return [a for a in ax.lines if a.get_gid() == gid]


def _renders(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_spaghetti_has_one_line_per_animal_and_means_match_the_summary(study):
    data, result, _ = study
    fig = plot_tumour_volumes(result)
    left, right = fig.axes
    lines = _gid(left, "animal")
    assert len(lines) == data["mouse"].nunique()
    assert sum(len(line.get_xdata()) for line in lines) == len(data)
    means = [c for c in right.containers if c.lines[0].get_gid() == "mean"]
    assert len(means) == data["group"].nunique()
    vehicle = result.group_summary[result.group_summary["group"] == "Vehicle"]
    np.testing.assert_allclose(np.asarray(means[0].lines[0].get_ydata(), float), vehicle["mean"].to_numpy())
    assert [line.get_xdata()[0] for line in _gid(right, "evaluation_day")] == [14, 21]
    assert not _gid(left, "left_study") and not _gid(left, "humane_endpoint")
    _renders(fig)


def test_humane_endpoint_and_dropouts_are_marked(study):
    _, _, result = study
    assert result.left_study                              # the reference study has animals above 1500 mm3
    left = plot_tumour_volumes(result, log_y=True, error="sd").axes[0]
    assert len(_gid(left, "left_study")) == len(result.left_study)
    assert _gid(left, "humane_endpoint")[0].get_ydata()[0] == 1500.0
    assert left.get_yscale() == "log"
    with pytest.raises(ValueError, match="error must be"):
        plot_tumour_volumes(result, error="ci")


def test_kaplan_meier_steps_end_at_the_estimated_survival(study):
    _, result, _ = study
    fig = plot_time_to_endpoint(result)
    ax = fig.axes[0]
    steps = _gid(ax, "km")
    km = result.time_to_endpoint.km
    assert len(steps) == len(result.time_to_endpoint.table)     # a group without events is a flat line at 1
    vehicle = km[km["group"] == "Vehicle"].sort_values("time")
    assert steps[0].get_ydata()[-1] == pytest.approx(vehicle["survival"].iloc[-1])
    assert "log-rank" in ax.get_title()
    _renders(fig)
