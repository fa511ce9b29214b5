"""Every figure of the report: axis labels with units, a legend entry (or a legend) for every data or model line,
and no zero/negative value drawn on a log axis (BLQ samples are masked, the line breaks)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tests.refdata import REFERENCE  # noqa: E402

FIT = REFERENCE / "fit"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _sup(fig, which):
    text = getattr(fig, f"_sup{which}label", None)
    return text.get_text() if text is not None else ""


def check(fig, *, x_unit=None, y_unit=None, log_y_required=False):
    """The figure's visible axes: labels (the axes' own, else the figure's shared one) non-empty and holding the
    unit where one is known; every Line2D with data labelled or in an axes with a legend; log axes draw no y <= 0."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert axes
    saw_log = False
    for ax in axes:
        xl = ax.get_xlabel() or _sup(fig, "x")
        yl = ax.get_ylabel() or _sup(fig, "y")
        shared_x = ax.get_shared_x_axes().get_siblings(ax)
        if not xl and len(shared_x) > 1:                 # a panel above a labelled one, sharing its time axis
            xl = next((a.get_xlabel() for a in shared_x if a.get_xlabel()), "")
        assert xl, f"axes {ax.get_title()!r} has no x label"
        assert yl, f"axes {ax.get_title()!r} has no y label"
        if x_unit:
            assert x_unit in xl, (xl, x_unit)
        if y_unit and "fraction" not in yl.lower():       # a Kaplan-Meier fraction has no unit
            assert y_unit in yl, (yl, y_unit)
        has_legend = ax.get_legend() is not None or bool(fig.legends)
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size == 0 or line.get_transform() != ax.transData:
                continue                                 # empty, or a reference line (axhline/axvline)
            assert has_legend or not line.get_label().startswith("_"), \
                f"unlabelled line {line.get_gid()!r} in {ax.get_title()!r}"
            if ax.get_yscale() == "log":
                saw_log = True
                finite = y[np.isfinite(y)]
                assert (finite > 0).all(), f"y <= 0 on a log axis ({line.get_gid()!r}, {ax.get_title()!r})"
    if log_y_required:
        assert saw_log


# ---------------------------------------------------------------------------------------------------- NCA
@pytest.fixture(scope="module")
def nca():
    from adcbridge.nca import NcaOptions, run_nca
    rows = []
    for i, (grp, dose) in enumerate([("low", 1.0), ("low", 1.0), ("high", 3.0), ("high", 3.0)]):
        c = dose * np.array([0.0, 10, 8, 4, 2, 1, 0.0])          # pre-dose and last samples BLQ (zero)
        rows.append(pd.DataFrame({"ID": f"S{i}", "GRP": grp, "TIME": [0, 1, 2, 4, 8, 12, 24], "CONC": c,
                                  "DOSE": dose}))
    data = pd.concat(rows, ignore_index=True)
    opts = NcaOptions(units={"time": "h", "conc": "ng/mL", "dose": "mg/kg"})
    return data, run_nca(data, subject="ID", time="TIME", conc="CONC", dose="DOSE", groups=["GRP"], options=opts)


def test_nca_figures(nca):
    from adcbridge.report.nca_plots import concentration_plots
    data, result = nca
    names = []
    for name, fig in concentration_plots(data, result, time="TIME", conc="CONC", dose="DOSE"):
        names.append(name)
        y_unit = "ng/mL" if name != "dose_normalised" else "(ng/mL)/(mg/kg)"
        check(fig, x_unit="h", y_unit=y_unit, log_y_required=True)
    assert names[:3] == ["individual", "mean", "dose_normalised"] and names[3].startswith("lambda_z")


def test_nca_units_fall_back_to_the_pp_table(nca):
    import dataclasses

    from adcbridge.report.nca_plots import _units
    _, result = nca
    bare = dataclasses.replace(result, spec=None) if dataclasses.is_dataclass(result) else result
    u = _units(bare)
    assert u["time"] == "h" and u["conc"] == "ng/mL"


# ----------------------------------------------------------------------------------------------------- PK
@pytest.fixture(scope="module")
def pk_fit():
    from adcbridge.pk import Regimen, fit_pk, simulate
    t = np.array([0.5, 1, 4, 24, 72, 168])
    rows = []
    for i, dose in enumerate([1.0, 3.0]):
        c = simulate("2cmt", {"CL": 0.5, "V1": 40, "Q": 1.2, "V2": 40}, Regimen.single(dose, 0.5), t)[0]
        c = c * (1 + 0.05 * np.sin(np.arange(t.size) + i))
        c[-1] = 0.0                                                # a BLQ sample at the end
        rows.append(pd.DataFrame({"ID": f"A{i}", "TIME": t, "CONC": c, "DOSE": dose}))
    return fit_pk(pd.concat(rows), "2cmt", pooled=True, n_starts=1, blq=None, analyte=None)


def test_pk_figures(pk_fit):
    from adcbridge.report.pk_plots import plot_pk_gof, plot_pk_individual
    gof = plot_pk_gof(pk_fit)
    check(gof, log_y_required=True)
    assert "ug/mL" in gof.axes[0].get_xlabel() and "ug/mL" in gof.axes[0].get_ylabel()
    assert "(h)" in gof.axes[1].get_xlabel()
    check(plot_pk_individual(pk_fit), x_unit="h", y_unit="ug/mL", log_y_required=True)


# ------------------------------------------------------------------------------------------------ xenograft
@pytest.fixture(scope="module")
def xenograft():
    from adcbridge.assays.xenograft import analyze_xenograft
    data = pd.read_csv(FIT / "xenograft" / "xenograft_synthetic.csv")
    return analyze_xenograft(data, animal="mouse", volume="volume_mm3", control="Vehicle", tgi="delta_v",
                             days=[14, 21], humane_endpoint=1500.0)


def test_xenograft_figures(xenograft):
    from adcbridge.report.xenograft_plots import plot_time_to_endpoint, plot_tumour_volumes
    check(plot_tumour_volumes(xenograft), x_unit="day", y_unit="mm3")
    check(plot_tumour_volumes(xenograft, log_y=True, error="sd"), x_unit="day", y_unit="mm3", log_y_required=True)
    check(plot_time_to_endpoint(xenograft), x_unit="day")


def test_xenograft_log_axis_masks_zero_volumes(xenograft):
    import dataclasses

    from adcbridge.report.xenograft_plots import plot_tumour_volumes
    vol = xenograft.volumes.copy()
    vol.loc[vol.index[-1], "volume"] = 0.0                       # a complete regression
    zeroed = dataclasses.replace(xenograft, volumes=vol)
    check(plot_tumour_volumes(zeroed, log_y=True), y_unit="mm3", log_y_required=True)


# ---------------------------------------------------------------------------------------------------- assays
def test_assay_figures():
    from adcbridge.assays.dose_response import fit_dose_response
    from adcbridge.assays.internalization import fit_internalization
    from adcbridge.assays.kinetics import fit_kinetics
    from adcbridge.report.assay_plots import plot_dose_response, plot_internalization, plot_sensorgrams
    alba = pd.read_csv(FIT / "data" / "drc_S.alba.csv")
    fit = fit_dose_response(alba, x="Dose", y="DryMatter", curve="Herbicide", x_unit="g/ha", y_unit="g/pot")
    check(plot_dose_response(fit, ci=False), x_unit="g/ha", y_unit="g/pot")
    spr = pd.read_csv(FIT / "kinetics" / "spr_mck_clean.csv")
    kin = fit_kinetics(spr, t_on=60, t_off=360, conc_unit="M", conc="conc_M", time="time_s", response="response_RU")
    check(plot_sensorgrams(kin), x_unit="s", y_unit="RU")
    pct = pd.read_csv(FIT / "internalization" / "internalization_pct.csv")
    check(plot_internalization(fit_internalization(pct)), x_unit="h", y_unit="%")


def test_batch_figures():
    from adcbridge.assays.dose_response import fit_dose_response_batch
    from adcbridge.report.batch_plots import plot_batch_ed50, plot_dose_response_batch
    data = pd.read_csv(FIT / "bench" / "bench_curves.csv")
    data = data[data["curve"].isin(data["curve"].unique()[:6])]
    batch = fit_dose_response_batch(data, x="conc", y="resp", curve="curve")   # no units known: names only
    fig = plot_dose_response_batch(batch, data, max_curves=6)
    check(fig)
    assert _sup(fig, "x").startswith("conc") and _sup(fig, "y") == "resp"
    check(plot_batch_ed50(batch))


# ------------------------------------------------------------------------------------------------ translation
def test_translation_figure():
    from adcbridge.report.translation_plots import plot_human_projection
    from adcbridge.translation.projection import project_human_pk
    cyno = {"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg"), "Q": (30.0, "mL/day/kg"), "V2": (40.0, "mL/kg")}
    proj = project_human_pk(cyno, "cynomolgus", model="2cmt", n_doses=2)
    check(plot_human_projection(proj, [1.0, 3.0]), x_unit="day", y_unit="ug/mL", log_y_required=True)
