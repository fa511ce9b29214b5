"""Smoke tests of the assay plots on the reference data: each returns a Figure with the expected panels and
artists (found by their ``gid``), and renders to PNG."""

import dataclasses
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.dose_response import DoseResponseFit, fit_dose_response
from adcbridge.assays.internalization import (
    analyze_internalization,
    fit_internalization,
)
from adcbridge.assays.kinetics import fit_kinetics
from adcbridge.report.assay_plots import (
    plot_dose_response,
    plot_internalization,
    plot_sensorgrams,
)
from tests.refdata import REFERENCE

FIT = REFERENCE / "fit"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _gid(ax, gid, kind="lines"):
    return [a for a in getattr(ax, kind) if a.get_gid() == gid]


def _renders(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    assert buf.getvalue()[:4] == b"\x89PNG"


# ------------------------------------------------------------------------------------------- dose-response
@pytest.fixture(scope="module")
def alba_fit():
    alba = pd.read_csv(FIT / "data" / "drc_S.alba.csv")
    return fit_dose_response(alba, x="Dose", y="DryMatter", curve="Herbicide", x_unit="g/ha", y_unit="g/pot")


def test_dose_response_log_axis_with_bands_ed50_and_zero_dose_column(alba_fit):
    fig = plot_dose_response(alba_fit)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert len(_gid(ax, "observed")) == 2 and len(_gid(ax, "fitted")) == 2
    assert len(_gid(ax, "ci_band", "collections")) == 2
    assert len([c for c in ax.containers if c.lines[0].get_gid() == "ed50"]) == 2
    # every observation is drawn; zero doses sit left of the axis break, labelled "0"
    assert sum(len(line.get_xdata()) for line in _gid(ax, "observed")) == len(alba_fit.observations)
    x_break = _gid(ax, "axis_break")[0].get_xdata()[0]
    zero_x = np.concatenate([line.get_xdata() for line in _gid(ax, "observed")])
    n_zero = int((alba_fit.observations["x"] == 0).sum())
    assert n_zero > 0 and int((zero_x < x_break).sum()) == n_zero
    assert ax.get_xticklabels()[0].get_text() == "0"
    assert any(t.get_text() == "//" for t in ax.texts)
    # the ED50 marker sits at the fitted ED50 on the curve
    ed = alba_fit.ed_table.query("level == 50")
    marker_x = sorted(c.lines[0].get_xdata()[0] for c in ax.containers if c.lines[0].get_gid() == "ed50")
    assert marker_x == pytest.approx(sorted(ed["estimate"]))
    assert "g/ha" in ax.get_xlabel() and "g/pot" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("Glyphosate: ED50") for lab in labels)
    _renders(fig)


def test_dose_response_linear_axis_without_bands(alba_fit):
    fig = plot_dose_response(alba_fit, log_x=False, ci=False)
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and not _gid(ax, "ci_band", "collections") and not _gid(ax, "axis_break")
    assert len(_gid(ax, "fitted")) == 2


def test_dose_response_band_is_the_fits_own_interval():
    x = np.tile([0.1, 0.3, 1, 3, 10, 30, 100], 2)          # increasing, no zero dose, one curve
    y = 5 + 90 / (1 + (8 / x) ** 1.2) + np.tile([1.0, -1.0], 7)
    fit = fit_dose_response(pd.DataFrame({"conc": x, "response": y}))
    fig = plot_dose_response(fit)
    ax = fig.axes[0]
    assert not _gid(ax, "axis_break") and len(_gid(ax, "fitted")) == 1
    grid = _gid(ax, "fitted")[0].get_xdata()
    band = _gid(ax, "ci_band", "collections")[0].get_paths()[0].vertices
    expected = fit.predict_interval(grid)
    assert band[:, 1].max() == pytest.approx(expected["upper"].max())
    assert band[:, 1].min() == pytest.approx(expected["lower"].min())


def test_dose_response_of_a_json_round_trip_and_a_parallel_fit(alba_fit):
    again = DoseResponseFit.from_json(alba_fit.to_json())
    assert len(_gid(plot_dose_response(again).axes[0], "fitted")) == 2
    parallel = fit_dose_response(pd.read_csv(FIT / "data" / "drc_S.alba.csv"), x="Dose", y="DryMatter",
                                 curve="Herbicide", parallel=True)
    assert len(_gid(plot_dose_response(parallel).axes[0], "ci_band", "collections")) == 2


# ------------------------------------------------------------------------------------------------ kinetics
@pytest.fixture(scope="module")
def spr_fit():
    spr = pd.read_csv(FIT / "kinetics" / "spr_mck_clean.csv")
    return fit_kinetics(spr, t_on=60, t_off=360, conc_unit="M", conc="conc_M", time="time_s",
                        response="response_RU")


def test_sensorgrams_with_fit_residuals_and_injection_marks(spr_fit):
    fig = plot_sensorgrams(spr_fit)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
    top, bottom = fig.axes
    n_cycles = spr_fit.fitted["cycle"].nunique()
    assert len(_gid(top, "observed")) == n_cycles and len(_gid(top, "fitted")) == n_cycles
    assert len(_gid(bottom, "residual")) == n_cycles
    # one start and one stop line (shared schedule) in each panel, at the given times
    for ax in (top, bottom):
        xs = sorted(line.get_xdata()[0] for line in _gid(ax, "injection"))
        assert xs == [60.0, 360.0]
    fitted = np.concatenate([line.get_ydata() for line in _gid(top, "fitted")])
    assert np.allclose(fitted, spr_fit.fitted["fitted"])
    assert top.get_ylabel() == "Response (RU)" and bottom.get_xlabel() == "Time (s)"
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert "cycle 1: 0.781 nM" in labels and "injection start" in labels
    assert "KD" in top.get_title()
    _renders(fig)


def test_sensorgrams_of_single_cycle_kinetics_mark_every_injection():
    on = np.array([40.0, 240.0, 440.0])
    t = np.arange(0.0, 900.0, 2.0)
    y = np.zeros_like(t)
    for a, c in zip(on, [5e-9, 20e-9, 80e-9]):
        y += 30 * c / (c + 5e-9) * (1 - np.exp(-(1e5 * c + 1e-3) * np.clip(t - a, 0, 150))) * \
            np.exp(-1e-3 * np.clip(t - a - 150, 0, None)) * 0.5
    y += np.random.default_rng(1).normal(0, 0.2, t.size)
    fit = fit_kinetics(pd.DataFrame({"cycle": 1, "time": t, "response": y}),
                       injections=pd.DataFrame({"t_on": on, "t_off": on + 150, "conc": [5.0, 20.0, 80.0]}),
                       conc_unit="nM")
    fig = plot_sensorgrams(fit)
    top = fig.axes[0]
    assert len(_gid(top, "injection")) == 6
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert "cycle 1: 5, 20, 80 nM" in labels


# ------------------------------------------------------------------------------------------- internalization
@pytest.fixture(scope="module")
def internalization():
    pct = pd.read_csv(FIT / "internalization" / "internalization_pct.csv")
    return pct, fit_internalization(pct)


def test_internalization_points_means_curves_and_half_times(internalization):
    pct, result = internalization
    fig = plot_internalization(result)                   # the result keeps the observations it was fitted to
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    n_ab = pct["adc"].nunique()
    assert len(_gid(ax, "fitted")) == n_ab and len(_gid(ax, "observed")) == n_ab
    assert len([c for c in ax.containers if c.lines[0].get_gid() == "mean"]) == n_ab
    assert sum(len(line.get_xdata()) for line in _gid(ax, "observed")) == len(pct)
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "half_time"]
    assert len(notes) == n_ab and all(n.startswith("t½ = ") and " h" in n for n in notes)
    half = result.estimate("bsADC", "half_time")
    drop = [line for line in _gid(ax, "half_time") if line.get_linestyle() == ":"]
    assert any(line.get_xdata()[0] == pytest.approx(half) for line in drop)
    assert ax.get_xlabel() == "Time (h)" and ax.get_ylabel() == "Internalized (%)"
    assert "p = " in ax.get_title()
    _renders(fig)


def test_internalization_without_stored_observations_draws_curves_only(internalization):
    pct, result = internalization
    bare = dataclasses.replace(result, observed=None)    # e.g. a document written before results kept them
    ax = plot_internalization(bare).axes[0]
    assert len(_gid(ax, "fitted")) == 2 and not _gid(ax, "observed")
    assert "fitted curves only" in ax.get_legend().get_title().get_text()
    ax = plot_internalization(bare, pct).axes[0]          # observations given explicitly
    assert sum(len(line.get_xdata()) for line in _gid(ax, "observed")) == len(pct)
    raw = pd.read_csv(FIT / "internalization" / "internalization_raw_mfi.csv")
    controls = pd.read_csv(FIT / "internalization" / "internalization_4C_controls.csv")
    ax = plot_internalization(analyze_internalization(raw, controls), model="y0_free").axes[0]
    assert len(_gid(ax, "observed")) == 2
    with pytest.raises(ValueError, match="model must be one of"):
        plot_internalization(result, model="two_phase")
    with pytest.raises(ValueError, match="no column 'pct'"):
        plot_internalization(result, raw, value="pct")


# ------------------------------------------------------------------------------------------- batch of curves
@pytest.fixture(scope="module")
def batch():
    from adcbridge.assays.dose_response import fit_dose_response_batch
    data = pd.read_csv(FIT / "bench" / "bench_curves.csv")
    data = data[data["curve"].isin(data["curve"].unique()[:200])]
    return data, fit_dose_response_batch(data, x="conc", y="resp", curve="curve")


def test_batch_panels_draw_data_fits_and_ed50(batch):
    from adcbridge.report.batch_plots import plot_dose_response_batch
    data, result = batch
    fig = plot_dose_response_batch(result, data, max_curves=6)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 6
    for ax in panels:
        assert len(_gid(ax, "observed")) == 1 and len(_gid(ax, "fitted")) == 1
    first = str(result.table["curve"].iloc[0])
    fig = plot_dose_response_batch(result, data, curves=[first])
    ax = [a for a in fig.axes if a.get_visible()][0]
    assert ax.get_title().startswith(f"{first}: ")
    n_obs = int((data["curve"].astype(str) == first).sum())
    assert len(_gid(ax, "observed")[0].get_xdata()) == n_obs
    ed50 = float(result.table["ed50"].iloc[0])
    assert _gid(ax, "ed50")[0].get_xdata()[0] == pytest.approx(ed50)
    _renders(fig)
    with pytest.raises(ValueError, match="not in the batch"):
        plot_dose_response_batch(result, data, curves=["nope"])
    with pytest.raises(ValueError, match="no column 'conc'"):
        plot_dose_response_batch(result, data.rename(columns={"conc": "dose"}))


def test_batch_ed50_histogram_counts_every_curve_with_an_ed50(batch):
    from adcbridge.report.batch_plots import plot_batch_ed50
    _, result = batch
    fig = plot_batch_ed50(result)
    ax = fig.axes[0]
    ed = result.table["ed50"].to_numpy(float)
    n_ok = int(np.sum(np.isfinite(ed) & (ed > 0)))
    heights = {}
    for p in ax.patches:                       # stacked bars: the top of each stack counts all statuses
        if p.get_gid() == "ed50_histogram":
            heights[p.get_x()] = max(heights.get(p.get_x(), 0), p.get_y() + p.get_height())
    assert sum(heights.values()) == n_ok
    assert _gid(ax, "median")
    _renders(fig)
