"""Unit tests of adcbridge.assays.dose_response: input checks, issues, models, JSON, contract, batch vs single."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.dose_response import (
    MODELS,
    DoseResponseBatch,
    DoseResponseFit,
    fit_curves_array,
    fit_dose_response,
    fit_dose_response_batch,
    get_model,
)
from adcbridge.results import Result
from adcbridge.spec import SpecError
from tests.refdata import REFERENCE

ALBA = pd.read_csv(REFERENCE / "fit" / "data" / "drc_S.alba.csv")
SPINACH = pd.read_csv(REFERENCE / "fit" / "data" / "drc_spinach.csv")
RYE = pd.read_csv(REFERENCE / "fit" / "data" / "drc_ryegrass.csv")


def _curve(b=1.5, c=5.0, d=100.0, e=1.0, noise=1.0, seed=1, doses=(0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100),
           reps=2, model="LL.4", f=1.0):
    rng = np.random.default_rng(seed)
    x = np.repeat(np.asarray(doses, dtype=float), reps)
    y = get_model(model).predict(x, np.array([b, c, d, e, f])) + rng.normal(0, noise, x.size)
    return pd.DataFrame({"conc": x, "response": y})


# ----------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("column, other", [("conc", "response"), ("response", "conc")])
def test_missing_column_is_named(column, other):
    data = _curve().drop(columns=column)
    with pytest.raises(ValueError, match=rf"^missing column '{column}' \(columns: {other}\)$"):
        fit_dose_response(data)


def test_missing_curve_column_is_named():
    with pytest.raises(ValueError, match=r"^missing column 'plate' \(columns: conc, response\)$"):
        fit_dose_response(_curve(), curve="plate")


def test_non_numeric_concentration_names_column_and_row():
    data = _curve().astype({"conc": object})
    data.loc[3, "conc"] = "1 nM"
    with pytest.raises(ValueError, match=r"^column 'conc', row 4: expected a number >= 0, got '1 nM'$"):
        fit_dose_response(data)


def test_negative_concentration_names_the_curve():
    data = ALBA.copy()
    data.loc[40, "Dose"] = -1
    label = data.loc[40, "Herbicide"]
    with pytest.raises(ValueError, match=rf"^column 'Dose', row 41 \(Herbicide '{label}'\): expected a number >= 0, "
                                         rf"got '-1'$"):
        fit_dose_response(data, x="Dose", y="DryMatter", curve="Herbicide")


def test_constant_response_names_the_curve():
    data = ALBA.copy()
    data.loc[data["Herbicide"] == "Bentazone", "DryMatter"] = 2.0
    with pytest.raises(ValueError, match="curve 'Bentazone' has a constant response"):
        fit_dose_response(data, x="Dose", y="DryMatter", curve="Herbicide")


def test_too_few_concentrations_names_the_curve():
    data = ALBA[~((ALBA["Herbicide"] == "Glyphosate") & (ALBA["Dose"] > 20))]
    with pytest.raises(ValueError, match="curve 'Glyphosate' has 3 distinct concentration.*fewer than its 4"):
        fit_dose_response(data, x="Dose", y="DryMatter", curve="Herbicide")


def test_too_few_concentrations_in_a_shared_model_is_an_issue():
    """With common b, c, d a curve needs only its own e: three doses are enough, but it is flagged."""
    data = ALBA[~((ALBA["Herbicide"] == "Glyphosate") & (ALBA["Dose"] > 20))]
    fit = fit_dose_response(data, x="Dose", y="DryMatter", curve="Herbicide", parallel=True)
    codes = [i.code for i in fit.issues]
    assert "few_concentrations" in codes and "parallelism_not_tested" in codes
    assert fit.parallelism is None


def test_infinite_and_empty_input():
    data = _curve()
    data.loc[0, "response"] = np.inf
    with pytest.raises(ValueError, match=r"^column 'response', row 1: expected a finite number, got 'inf'$"):
        fit_dose_response(data)
    with pytest.raises(ValueError, match="no rows"):
        fit_dose_response(_curve().iloc[:0])


def test_missing_values_are_left_out_and_reported():
    data = _curve()
    data.loc[[2, 5], "response"] = np.nan
    fit = fit_dose_response(data)
    assert fit.statistics["n"] == len(data) - 2
    assert any(i.code == "missing_values" and "rows 3, 6" in i.message for i in fit.issues)


@pytest.mark.parametrize("options, message", [
    ({"model": "LL.7"}, "'model' parameter of fit_dose_response must be one of"),
    ({"fixed": {"e": 1.0}}, "can fix only b, c, d or f"),
    ({"model": "LL.3", "fixed": {"c": 1.0}}, "which model LL.3 already fixes"),
    ({"shared": ("c", "z")}, "must name parameters"),
    ({"shared": ("c",), "fixed": {"c": 0.0}}, "which 'fixed' fixes"),
    ({"ed_levels": (0, 50)}, "strictly between 0 and 100"),
    ({"se": "sandwich"}, "'se' parameter"),
])
def test_bad_options_raise_spec_errors(options, message):
    with pytest.raises(SpecError, match=message):
        fit_dose_response(_curve(), **options)


# --------------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("b", [1.7, -1.3])
def test_jacobian_matches_finite_differences(name, b):
    model = get_model(name)
    theta = np.array([b, 2.0, 9.0, 1.5, 0.7 if name == "LL.5" else 1.0])
    x = np.array([0.0, 0.05, 0.5, 1.5, 4.0, 40.0])
    jac = model.jacobian(x, theta)
    for j in range(5):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric = (model.predict(x, up) - model.predict(x, down)) / (2 * h)
        assert np.allclose(jac[:, j], numeric, rtol=1e-6, atol=1e-8), (name, j)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("b", [2.0, -2.0])
def test_relative_ed_is_p_percent_of_the_effect_from_the_control(name, b):
    model = get_model(name)
    theta = np.array([b, 1.0, 11.0, 3.0, 0.6 if name == "LL.5" else 1.0])
    control = model.predict(np.array([0.0]), theta)[0]
    other = theta[1] + theta[2] - control                 # the other asymptote
    for p in (10, 50, 90):
        ed, grad = model.effective_dose(p, theta)
        response = model.predict(np.array([ed]), theta)[0]
        assert (control - response) / (control - other) == pytest.approx(p / 100, rel=1e-10)
        assert grad[1] == grad[2] == 0.0                  # relative EDs do not depend on c and d


@pytest.mark.parametrize("name", sorted(MODELS))
def test_absolute_ed_gradient_includes_the_asymptotes(name):
    model = get_model(name)
    theta = np.array([1.4, 1.0, 11.0, 3.0, 0.6 if name == "LL.5" else 1.0])
    ed, grad = model.effective_dose(4.0, theta, type="absolute")
    assert model.predict(np.array([ed]), theta)[0] == pytest.approx(4.0, rel=1e-10)
    for j in range(5):
        if name != "LL.5" and j == 4 or name == "LL.3" and j == 1:
            continue
        h = 1e-6 * abs(theta[j])
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric = (model.effective_dose(4.0, up, "absolute")[0] - model.effective_dose(4.0, down, "absolute")[0]) / (
            2 * h)
        assert grad[j] == pytest.approx(numeric, rel=1e-5, abs=1e-9), (name, j)
    assert grad[1] != 0 and grad[2] != 0


def test_model_aliases():
    assert get_model("ll4").name == "LL.4" and get_model("W24").name == "W2.4"
    with pytest.raises(ValueError, match="unknown dose-response model"):
        get_model("LL.9")


# ------------------------------------------------------------------------------------------------ fitting
def test_zero_doses_are_the_control_asymptote():
    fit = fit_dose_response(RYE, x="conc", y="rootl")
    b, c, d, _, _ = fit.curve_parameters_array()[0]
    assert b > 0 and fit.predict([0.0])[0] == pytest.approx(d)
    assert fit.predict([1e9])[0] == pytest.approx(c, abs=1e-6)


def test_increasing_curve_has_negative_b_and_positive_hill_slope():
    data = _curve(b=-1.2, c=2.0, d=90.0, e=0.5)
    fit = fit_dose_response(data)
    params = fit.curve_parameters().iloc[0]
    assert params["b"] == pytest.approx(-1.2, rel=0.1) and params["e"] == pytest.approx(0.5, rel=0.15)
    prism = fit.prism_terms().set_index("term")["estimate"]
    assert prism["HillSlope"] > 0 and prism["Top"] == pytest.approx(params["d"])
    ed = fit.ed([10, 90]).set_index("level")["estimate"]
    assert ed[10.0] < ed[90.0]                            # ED10 is still 10 % of the effect from the control


def test_fixed_bottom_equals_ll3():
    ll3 = fit_dose_response(RYE, x="conc", y="rootl", model="LL.3")
    fixed = fit_dose_response(RYE, x="conc", y="rootl", model="LL.4", fixed={"c": 0.0})
    assert np.allclose(fixed.estimates, ll3.estimates, rtol=1e-7)
    assert fixed.terms == ("b:(Intercept)", "d:(Intercept)", "e:(Intercept)")
    contract = fixed.to_record()
    assert contract["curves"][0]["params"]["c"] == {"estimate": 0.0, "se": None, "fixed": True}


def test_fixed_top_and_slope():
    data = _curve(b=1.0, c=5.0, d=100.0, e=2.0)
    fit = fit_dose_response(data, fixed={"d": 100.0, "b": 1.0})
    assert fit.terms == ("c:(Intercept)", "e:(Intercept)")
    assert fit.curve_parameters_array()[0, 2] == 100.0


def test_shared_parameters_layout():
    fit = fit_dose_response(ALBA, x="Dose", y="DryMatter", curve="Herbicide", shared=("c", "d"),
                            test_parallelism=False)
    assert fit.terms == ("b:Glyphosate", "b:Bentazone", "c:(Intercept)", "d:(Intercept)", "e:Glyphosate",
                         "e:Bentazone")
    params = fit.curve_parameters()
    assert params["c"].nunique() == 1 and params["b"].nunique() == 2
    with pytest.raises(ValueError, match="not estimated separately"):
        fit.compare_parameters("c")
    with pytest.raises(ValueError, match="name the curve"):
        fit.predict([1.0])


def test_w14_keeps_its_orientation():
    """A mirrored W1.4 (b < 0, c > d) is a W2.4 curve: the fit stays with drc's orientation (c < d)."""
    fit = fit_dose_response(RYE, x="conc", y="rootl", model="W1.4")
    b, c, d, *_ = fit.curve_parameters_array()[0]
    assert b > 0 and c < d
    assert fit.rss == pytest.approx(6.02415085862733, rel=1e-8)


def test_both_standard_error_flavours_are_kept():
    fit = fit_dose_response(RYE, x="conc", y="rootl", se="jacobian")
    assert np.allclose(fit.table["se"], fit.standard_errors("jacobian"))
    assert not np.allclose(fit.standard_errors("jacobian"), fit.standard_errors("drc"))
    with pytest.raises(ValueError, match="'drc' or 'jacobian'"):
        fit.vcov("sandwich")


# -------------------------------------------------------------------------------------------------- issues
def test_ed50_outside_the_doses_is_flagged():
    data = _curve(e=500.0, doses=(0, 0.1, 1, 3, 10, 30), noise=0.5)
    fit = fit_dose_response(data)
    assert any(i.code == "ed50_outside_doses" for i in fit.issues)


def test_step_between_two_doses_is_not_identifiable():
    x = np.repeat([0.01, 0.1, 1, 10, 100], 2)
    y = np.where(x < 1, 100.0, 0.0) + np.tile([0.3, -0.3], 5)
    fit = fit_dose_response(pd.DataFrame({"conc": x, "response": y}))
    assert any(i.code == "non_identifiable" and i.severity == "error" for i in fit.issues)


def test_relative_potency_needs_two_curves():
    with pytest.raises(ValueError, match="at least two curves"):
        fit_dose_response(RYE, x="conc", y="rootl").relative_potency()


# ------------------------------------------------------------------------------------- JSON and contract
def test_json_round_trip_keeps_everything():
    fit = fit_dose_response(ALBA, x="Dose", y="DryMatter", curve="Herbicide", parallel=True, x_unit="g/ha")
    again = Result.from_json(fit.to_json())
    assert isinstance(again, DoseResponseFit)
    assert again.spec == fit.spec and again.curves == fit.curves and again.terms == fit.terms
    assert np.array_equal(again.estimates, fit.estimates) and np.array_equal(again.vcov_drc, fit.vcov_drc)
    assert np.array_equal(again.index, fit.index)
    pd.testing.assert_frame_equal(again.table, fit.table)
    pd.testing.assert_frame_equal(again.ed_table, fit.ed_table)
    pd.testing.assert_frame_equal(again.observations, fit.observations)
    assert again.parallelism == fit.parallelism and again.statistics == fit.statistics
    assert again.issues == fit.issues and again.provenance == fit.provenance
    pd.testing.assert_frame_equal(again.relative_potency(), fit.relative_potency())
    assert again.to_record() == fit.to_record()


def test_contract_shape():
    fit = fit_dose_response(SPINACH, x="DOSE", y="SLOPE", curve="CURVE", model="LL4")
    contract = json.loads(json.dumps(fit.to_record(), allow_nan=False))
    assert set(contract) >= {"curves", "rss", "df_residual", "parallelism"}
    assert [c["curve"] for c in contract["curves"]] == ["1", "2", "3", "4", "5"]
    first = contract["curves"][0]
    assert set(first["params"]) == {"b", "c", "d", "e"}
    assert set(first["params"]["e"]) == {"estimate", "se", "term"}
    assert set(first["ed"]) == {"10", "50", "90"}
    assert set(first["ed"]["50"]) >= {"estimate", "ci_low", "ci_high"}
    assert first["ed"]["50"]["interval"] == "delta"
    assert contract["df_residual"] == 85
    assert contract["parallelism"]["f"] == pytest.approx(104.035, rel=1e-4)
    single = fit_dose_response(RYE, x="conc", y="rootl", ed_interval="tfls").to_record()
    assert single["parallelism"] is None
    assert single["curves"][0]["ed"]["50"]["ci_low"] == pytest.approx(2.6940644559558, rel=1e-5)


# ---------------------------------------------------------------------------------------------------- batch
def test_batch_matches_single_fits():
    batch = fit_dose_response_batch(SPINACH, x="DOSE", y="SLOPE", curve="CURVE")
    assert isinstance(batch, DoseResponseBatch)
    for row in batch.table.itertuples():
        single = fit_dose_response(SPINACH[SPINACH["CURVE"] == row.curve], x="DOSE", y="SLOPE")
        est = np.array([row.b, row.c, row.d, row.e])
        assert np.allclose(est, single.estimates, rtol=1e-5)
        assert np.allclose([row.se_b, row.se_c, row.se_d, row.se_e], single.standard_errors(), rtol=1e-4)
        assert row.rss == pytest.approx(single.rss, rel=1e-9)
        assert row.ed50_se == pytest.approx(single.ed_table.loc[1, "se"], rel=1e-4)
        assert row.status == "converged" and row.identifiable


@pytest.mark.parametrize("name", ["LL.5", "W1.4", "W2.4", "LL.3"])
def test_batch_other_models(name):
    data = pd.concat([_curve(model=name, seed=s, e=e, f=0.7).assign(curve=s) for s, e in ((1, 0.3), (2, 3.0))])
    batch = fit_dose_response_batch(data, model=name, se="jacobian")
    for row in batch.table.itertuples():
        single = fit_dose_response(data[data["curve"] == row.curve], model=name)
        assert row.rss <= single.rss * (1 + 1e-8)


def test_batch_flags_curves_it_cannot_fit_and_goes_on():
    good = _curve().assign(curve="good")
    constant = _curve().assign(curve="constant", response=7.0)
    few = _curve(doses=(0, 1, 10)).assign(curve="few")
    batch = fit_dose_response_batch(pd.concat([good, constant, few]))
    table = batch.table.set_index("curve")
    assert table.loc["good", "status"] == "converged"
    assert table.loc["constant", "status"] == "failed" and table.loc["constant", "reason"] == "constant response"
    assert "3 distinct concentration" in table.loc["few", "reason"]
    assert any(i.code == "curves_not_fitted" and "2 of 3" in i.message for i in batch.issues)
    again = Result.from_json(batch.to_json())
    pd.testing.assert_frame_equal(again.table, batch.table)


def test_batch_status_not_identifiable_when_the_rss_is_flat_along_a_valley():
    # LL.3 (c = 0): only the top dose falls, to 59 %.  b grows while e follows it toward that dose and the RSS stays
    # flat (below every limiting curve: a least RSS exists, but not one set of parameters)
    y = [97.0, 106.7, 107.1, 97.8, 100.3, 88.7, 105.4, 58.8]
    fit = fit_curves_array(10.0 ** np.linspace(-3, 2, 8), y, "LL.3")
    assert fit.status.tolist() == ["not_identifiable"] and fit.converged[0] and not fit.identifiable[0]
    assert fit.reason[0].startswith("parameters not identifiable") and fit.rss[0] < fit.rss_limit[0]


def test_batch_record_summarises_the_batch_without_its_table():
    data = pd.concat([_curve(seed=1, e=0.5).assign(curve="a"), _curve(seed=2, e=2.0).assign(curve="b"),
                      _curve(seed=3, e=8.0).assign(curve="c"), _curve().assign(curve="constant", response=7.0)])
    batch = fit_dose_response_batch(data)
    record = batch.to_record()
    assert list(record) == ["result_type", "model", "n_curves", "status", "median_ed50", "spec", "issues",
                            "provenance"]
    assert record["model"] == "LL.4" and record["n_curves"] == 4
    assert record["status"] == {"converged": 3, "not_identifiable": 0, "diverged": 0, "not_converged": 0,
                                "failed": 1}
    assert record["median_ed50"] == pytest.approx(float(batch.table["ed50"].iloc[1]))
    assert [i["code"] for i in record["issues"]] == [i.code for i in batch.issues]
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert Result.from_json(batch.to_json()).to_record() == record


def test_batch_arrays_with_ragged_curves_and_fixed_parameters():
    x = np.array([[0, 0.1, 1, 10, 100, np.nan], [0.01, 0.1, 1, 10, 100, 1000]])
    theta = np.array([[1.0, 0.0, 100.0, 2.0, 1.0], [2.0, 0.0, 80.0, 20.0, 1.0]])
    y = get_model("LL.4").predict(np.nan_to_num(x), theta[:, None, :]) + np.array([0.5, -0.5, 0.4, -0.4, 0.3, -0.3])
    out = fit_curves_array(x, y, "LL.4", fixed={"c": 0.0})
    assert np.all(out.params[:, 1] == 0.0) and np.all(np.isnan(out.se[:, 1]))
    assert list(out.n_obs) == [5, 6] and list(out.df_residual) == [2, 3]
    assert np.allclose(out.params[:, 3], [2.0, 20.0], rtol=0.05)
    with pytest.raises(ValueError, match="must not be negative"):
        fit_curves_array(-x, y)


def test_batch_bad_input_names_the_column():
    with pytest.raises(ValueError, match="curve column 'well' is missing"):
        fit_dose_response_batch(_curve(), curve="well")
    data = _curve().assign(curve=1)
    data.loc[4, "conc"] = -3
    with pytest.raises(ValueError, match=r"'conc' must not be negative: row 5 \(curve '1'\)"):
        fit_dose_response_batch(data)


@pytest.mark.parametrize("se", ["drc", "jacobian"])
def test_batch_standard_errors_do_not_depend_on_the_dose_unit(se):
    # doses in mol/L put e near 1e-10: the SEs must be those of the same data in nmol/L, rescaled, and agree
    # with the single-curve fit
    rng = np.random.default_rng(0)
    x = np.tile(10.0 ** np.linspace(-12, -6, 8), (3, 1))
    e = np.array([3e-10, 1e-9, 5e-9])[:, None]
    y = 5 + 95 / (1 + np.exp(1.2 * (np.log(x) - np.log(e)))) + rng.normal(0, 2, x.shape)
    molar, nano = fit_curves_array(x, y, se=se), fit_curves_array(x * 1e9, y, se=se)
    assert molar.identifiable.all() and np.isfinite(molar.se).sum() == 12
    np.testing.assert_allclose(molar.se[:, 3], nano.se[:, 3] / 1e9, rtol=1e-5)
    np.testing.assert_allclose(molar.se[:, :3], nano.se[:, :3], rtol=1e-5)
    single = fit_dose_response(pd.DataFrame({"conc": x[0], "response": y[0]}), se=se)
    np.testing.assert_allclose(molar.se[0, 3], single.table["se"].iloc[3], rtol=1e-4)


def test_too_many_curves_for_a_joint_fit_point_to_the_batch_fit():
    """200 curves in a joint fit ran > 300 s and printed 15,000 pairwise potencies; now a clear limit."""
    from adcbridge.assays.dose_response.fit import MAX_JOINT_CURVES
    n = MAX_JOINT_CURVES + 1
    x = np.tile([0.1, 1, 10, 100, 1000], n)
    df = pd.DataFrame({"conc": x, "response": 100 / (1 + x / 10), "curve": np.repeat([f"c{i}" for i in range(n)], 5)})
    with pytest.raises(ValueError, match="fit many independent curves with fit_dose_response_batch"):
        fit_dose_response(df, curve="curve")
