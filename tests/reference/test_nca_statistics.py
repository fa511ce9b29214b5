"""Dose proportionality and sex comparisons of NCA parameters against R 4.2.2 (reference set
``shared/reference/nca/dose_proportionality/``, see tests/reference/SOURCES.md).

The R calls that produced the expected values (per analyte x parameter; P = PKNCA 0.12.1 lin-up/log-down cmax,
auclast, aucinf.obs of the synthetic cynomolgus single-dose study)::

    fit <- lm(log(P) ~ log(DOSE), d); confint(fit, level = 0.90)          # dp_power_model_smith.csv, per subset
    anova(lm(log(P / DOSE) ~ factor(DOSE), d))                            # dp_dose_normalised_anova.csv
    t.test(log(P[F]), log(P[M]), var.equal = TRUE / FALSE, conf.level = 0.90)   # sex_comparison.csv, per dose
    anova(lm(log(P / DOSE) ~ factor(DOSE) + SEX)); anova(lm(log(P / DOSE) ~ factor(DOSE) * SEX))
    lm(log(P) ~ log(DOSE) + SEX)

Every numeric column of every row must match at relative 1e-9 (absolute 1e-12 near 0); labels exactly.
"""

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adcbridge.nca import proportionality, statistics
from adcbridge.nca import sex as sex_module
from adcbridge.nca.proportionality import (
    DoseNormalisedAnova,
    PowerModel,
    PowerModelSpec,
    Subset,
    dose_normalised_anova,
    power_model,
    smith_criterion,
)
from adcbridge.nca.sex import SexComparison, sex_comparison
from adcbridge.results import Result
from adcbridge.spec import SpecError

DATA = Path(__file__).parent / "data" / "nca" / "dose_proportionality"
RTOL, ATOL = 1e-9, 1e-12
KEYS = ("ANALYTE", "param")
SUBSETS = [Subset(), Subset(dose_min=1), Subset(sex="M"), Subset(sex="F")]

POWER_COLUMNS = {  # R reference column -> adcbridge column
    "n": "n", "dose_min": "dose_min", "dose_max": "dose_max", "r": "dose_ratio", "intercept_a": "intercept",
    "slope_b": "slope", "se_b": "slope_se", "b_lo90": "slope_ci_low", "b_hi90": "slope_ci_high", "df": "df_resid",
    "sigma": "sigma", "crit_lower": "crit_low", "crit_upper": "crit_high", "Rdnm": "rdnm", "rho1": "rho1",
    "rho2": "rho2", "Rdnm_lo90": "rdnm_ci_low", "Rdnm_hi90": "rdnm_ci_high"}
POWER_LABELS = {"ANALYTE": "ANALYTE", "subset": "subset", "param": "param", "proportional": "proportional",
                "conclusion": "conclusion"}
ANOVA_COLUMNS = {"F_dose": "f_dose", "df1": "df_dose", "df2": "df_resid", "p_dose": "p_dose"}
SEX_COLUMNS = {
    "DOSE": "dose", "n_M": "n_male", "n_F": "n_female", "GMR_F_over_M": "gmr", "GMR_lo90_pooled": "gmr_ci_low",
    "GMR_hi90_pooled": "gmr_ci_high", "t_pooled": "t", "df_pooled": "df", "p_pooled": "p", "t_welch": "t_welch",
    "df_welch": "df_welch", "p_welch": "p_welch", "GMR_lo90_welch": "gmr_ci_low_welch",
    "GMR_hi90_welch": "gmr_ci_high_welch", "F_sex": "f_sex", "p_F_sex": "p_f_sex",
    "F_interaction": "f_interaction", "p_interaction": "p_interaction", "slope_b": "slope", "b_lo90": "slope_ci_low",
    "b_hi90": "slope_ci_high"}
SEX_ANALYSES = {"t-test per dose (log), F vs M": "t_test_per_dose",
                "ANOVA log(param/dose) ~ factor(DOSE) + SEX (type I, SEX last)": "anova_dose_sex",
                "power model with sex: log(param) ~ log(dose) + SEX": "power_model_sex"}


def _long_input() -> pd.DataFrame:
    wide = pd.read_csv(DATA / "dp_input_pknca_linuplogdown.csv")
    return wide.melt(id_vars=["ANALYTE", "ID", "SEX", "DOSE"], value_vars=["cmax", "auclast", "aucinf.obs"],
                     var_name="param", value_name="value")


@pytest.fixture(scope="module")
def long_input():
    return _long_input()


@pytest.fixture(scope="module")
def results(long_input):
    opts = dict(value="value", dose="DOSE", by=KEYS)
    return {"power": power_model(long_input, subsets=SUBSETS, **opts),
            "anova": dose_normalised_anova(long_input, **opts),
            "sex": sex_comparison(long_input, sex="SEX", **opts)}


def _aligned(ref: pd.DataFrame, ours: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Join the reference and adcbridge rows one to one on ``keys`` (reference columns suffixed ``_ref``)."""
    assert len(ours) == len(ref)
    assert not ours.duplicated(keys).any() and not ref.duplicated(keys).any()
    joined = ref.add_suffix("_ref").merge(ours, left_on=[k + "_ref" for k in keys], right_on=keys, how="inner",
                                          validate="one_to_one")
    assert len(joined) == len(ref), "some reference rows have no counterpart"
    return joined


def _compare(joined: pd.DataFrame, ref_col: str, our_col: str) -> float:
    expected = joined[ref_col + "_ref"].to_numpy(float)
    actual = joined[our_col].to_numpy(float)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=ref_col)
    finite = np.isfinite(expected) & (expected != 0)
    return float(np.max(np.abs(actual[finite] / expected[finite] - 1), initial=0.0))


# ------------------------------------------------------------------------------------------- power model
def _power_joined(results):
    ref = pd.read_csv(DATA / "dp_power_model_smith.csv")
    assert set(ref.columns) == set(POWER_COLUMNS) | set(POWER_LABELS), "a reference column is not compared"
    return _aligned(ref, results["power"].table, ["ANALYTE", "subset", "param"])


@pytest.mark.parametrize("ref_col", sorted(POWER_COLUMNS))
def test_power_model_matches_r(results, ref_col):
    _compare(_power_joined(results), ref_col, POWER_COLUMNS[ref_col])


def test_power_model_labels_and_conclusions_match_r(results):
    j = _power_joined(results)
    assert list(j["conclusion_ref"]) == list(j["conclusion"])
    assert list(j["proportional_ref"].astype(bool)) == list(j["proportional"])
    assert set(j["subset"]) == {"all doses 0.3-30", "1-30", "males", "females"}
    assert (j["conclusion"] == "not proportional").sum() == 0 and j["rho2"].notna().sum() == 2


# --------------------------------------------------------------------------------- dose-normalised ANOVA
@pytest.mark.parametrize("ref_col", sorted(ANOVA_COLUMNS))
def test_dose_normalised_anova_matches_r(results, ref_col):
    ref = pd.read_csv(DATA / "dp_dose_normalised_anova.csv")
    assert set(ref.columns) == set(ANOVA_COLUMNS) | set(KEYS)
    _compare(_aligned(ref, results["anova"].table, list(KEYS)), ref_col, ANOVA_COLUMNS[ref_col])


# ---------------------------------------------------------------------------------------- sex comparison
def _sex_joined(results):
    ref = pd.read_csv(DATA / "sex_comparison.csv")
    assert set(ref.columns) == set(SEX_COLUMNS) | {"ANALYTE", "param", "analysis"}
    assert set(ref["analysis"]) == set(SEX_ANALYSES)
    ref["analysis"] = ref["analysis"].map(SEX_ANALYSES)
    ref["dose_key"] = ref["DOSE"].fillna(-1.0)
    ours = results["sex"].table.assign(dose_key=lambda t: t["dose"].fillna(-1.0))
    return _aligned(ref, ours, ["ANALYTE", "param", "analysis", "dose_key"])


@pytest.mark.parametrize("ref_col", sorted(SEX_COLUMNS))
def test_sex_comparison_matches_r(results, ref_col):
    _compare(_sex_joined(results), ref_col, SEX_COLUMNS[ref_col])


def test_sex_comparison_row_types(results):
    t = results["sex"].table
    assert t.groupby("analysis").size().to_dict() == {"t_test_per_dose": 45, "anova_dose_sex": 9,
                                                      "power_model_sex": 9}
    anova = results["sex"].rows("anova_dose_sex")
    np.testing.assert_allclose(anova["f_sex"], anova["t"] ** 2, rtol=1e-12)
    assert (anova[["df_interaction", "df_interaction_resid"]].to_numpy() == [4, 20]).all()
    assert "slope" not in anova.columns and "t_welch" not in anova.columns


def test_max_relative_differences_are_recorded(results):
    """Not an assertion beyond 1e-9: keeps the measured agreement visible with ``pytest -s``."""
    worst = {}
    pj, sj = _power_joined(results), _sex_joined(results)
    aj = _aligned(pd.read_csv(DATA / "dp_dose_normalised_anova.csv"), results["anova"].table, list(KEYS))
    worst["power"] = max(_compare(pj, a, b) for a, b in POWER_COLUMNS.items())
    worst["anova"] = max(_compare(aj, a, b) for a, b in ANOVA_COLUMNS.items())
    worst["sex"] = max(_compare(sj, a, b) for a, b in SEX_COLUMNS.items())
    print("max relative difference vs R:", worst)
    assert max(worst.values()) < RTOL


# -------------------------------------------------------------------------------------- results and JSON
@pytest.mark.parametrize("name,cls", [("power", PowerModel), ("anova", DoseNormalisedAnova),
                                      ("sex", SexComparison)])
def test_results_round_trip_through_json(results, name, cls):
    r = results[name]
    text = r.to_json()
    json.loads(text)
    back = Result.from_json(text)
    assert type(back) is cls
    assert back.spec == r.spec and back.provenance == r.provenance and back.issues == r.issues
    pd.testing.assert_frame_equal(back.table, r.table)
    assert r.provenance.input_hash is not None


def test_spec_options_and_by_free_analysis(long_input):
    one = long_input[(long_input.ANALYTE == "ADC") & (long_input.param == "cmax")]
    spec = PowerModelSpec(value="value", by=())
    r = power_model(one, spec, confidence=0.95)
    assert r.spec.confidence == 0.95 and spec.confidence == 0.90 and r.spec.by == ()
    assert r.table.loc[0, "subset"] == "all doses 0.3-30"
    wider = r.table.loc[0, "slope_ci_high"] - r.table.loc[0, "slope_ci_low"]
    narrow = power_model(one, spec).table.loc[0]
    assert wider > narrow["slope_ci_high"] - narrow["slope_ci_low"]
    assert power_model(one, value="value", by=(), subsets=[{"label": "mine", "sex": "F", "dose_min": 1}]) \
        .table.loc[0, ["subset", "n"]].tolist() == ["mine", 12]
    assert power_model(one, value="value", by=(), subsets=[Subset(sex="M", dose_max=10)]).table.loc[0, "subset"] \
        == "males 0.3-10"


def test_missing_values_are_dropped_with_an_issue(long_input):
    d = long_input.copy()
    d.loc[d.index[:2], "value"] = np.nan
    r = dose_normalised_anova(d, value="value", by=KEYS)
    assert [i.code for i in r.issues] == ["missing_value"]
    assert "ANALYTE='ADC'" in r.issues[0].message and "2 row(s)" in r.issues[0].message
    assert r.table.loc[0, "n"] == 28
    Result.from_json(r.to_json())


def test_smith_criterion_conclusions_and_rho():
    s = smith_criterion([1.0, 1.5, 0.5, 1.04], [0.97, 1.4, 0.4, 0.99], [1.03, 1.6, 0.6, 1.09], [100, 100, 100, 100])
    assert s["conclusion"].tolist() == ["proportional", "not proportional", "not proportional", "inconclusive"]
    assert s["proportional"].tolist() == [True, False, False, False]
    np.testing.assert_allclose(s["rho2"][:3], [np.nan, 1.25 ** (1 / 0.4), 0.8 ** (1 / -0.4)], rtol=1e-14)
    np.testing.assert_allclose(s["rho1"], [1.25 ** (1 / 0.03), 1.25 ** (1 / 0.6), 0.8 ** (1 / -0.6),
                                           1.25 ** (1 / 0.09)], rtol=1e-14)
    # asymmetric limits: rho1 is the tighter of the two constraints
    a = smith_criterion([1.0], [0.98], [1.01], [10], theta_low=0.9, theta_high=1.25)
    np.testing.assert_allclose(a["rho1"], min(0.9 ** (1 / -0.02), 1.25 ** (1 / 0.01)), rtol=1e-14)


def test_rho_beyond_the_largest_double_is_missing_with_an_issue():
    dose = np.repeat([1.0, 10.0, 100.0], 3)
    noise = np.tile([-1e-7, 0.0, 1e-7], 3)
    d = pd.DataFrame({"DOSE": dose, "PPSTRESN": np.exp(1.0001 * np.log(dose) + noise)})
    r = power_model(d, by=())
    row = r.table.loc[0]
    # the interval excludes 1 (so rho2 exists) but lies inside the critical region
    assert row["slope_ci_low"] > 1 and row["conclusion"] == "proportional"
    assert np.isnan(row[["rho1", "rho2"]].astype(float)).all()
    assert [i.code for i in r.issues] == ["rho1_overflow", "rho2_overflow"]
    json.loads(r.to_json())


def test_docstring_examples_run():
    for module in (statistics, proportionality, sex_module):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, module.__name__


# ---------------------------------------------------------------------------------------------- bad input
OPTS = dict(value="value", by=KEYS)


@pytest.mark.parametrize("func", [power_model, dose_normalised_anova, sex_comparison])
@pytest.mark.parametrize("column", ["value", "DOSE", "ANALYTE", "param"])
def test_missing_columns_are_named(long_input, func, column):
    with pytest.raises(ValueError, match=rf"^missing column '{column}' \(columns: [^)]*\)$"):
        func(long_input.drop(columns=column), **OPTS)


def test_missing_sex_column_is_named(long_input):
    with pytest.raises(ValueError, match=r"^missing column 'SEX' \(columns: ANALYTE, ID, DOSE, param, value\)$"):
        sex_comparison(long_input.drop(columns="SEX"), **OPTS)
    with pytest.raises(ValueError, match="column 'SEX'"):
        power_model(long_input.drop(columns="SEX"), subsets=[Subset(sex="F")], **OPTS)
    power_model(long_input.drop(columns="SEX"), **OPTS)      # not needed without a sex subset


@pytest.mark.parametrize("func", [power_model, dose_normalised_anova, sex_comparison])
@pytest.mark.parametrize("column,bad,match", [
    ("value", 0.0, r"^column 'value', row 6 \(ANALYTE 'ADC', param 'cmax'\): expected a number > 0, got '0'$"),
    ("value", -2.0, r"^column 'value', row 6 .*: expected a number > 0, got '-2'$"),
    ("value", np.inf, r"^column 'value', row 6 .*: expected a finite number > 0, got 'inf'$"),
    ("value", "abc", r"^column 'value', row 6 .*: expected a number > 0, got 'abc'$"),
    ("DOSE", 0.0, r"^column 'DOSE', row 6 .*: expected a number > 0, got '0'$"),
    ("DOSE", -1.0, r"^column 'DOSE', row 6 .*: expected a number > 0, got '-1'$"),
    ("DOSE", np.nan, r"^column 'DOSE', row 6 .*: expected a number > 0, got an empty cell$"),
    ("DOSE", "1 mg", r"^column 'DOSE', row 6 .*: expected a number > 0, got '1 mg'$"),
])
def test_bad_values_name_column_and_row(long_input, func, column, bad, match):
    d = long_input.copy()
    d[column] = d[column].astype(object)
    d.loc[5, column] = bad
    with pytest.raises(ValueError, match=match):
        func(d, **OPTS)


def test_unknown_sex_code_is_named(long_input):
    d = long_input.copy()
    d.loc[7, "SEX"] = "U"
    with pytest.raises(ValueError, match=r"^column 'SEX', row 8 \(ANALYTE 'ADC', param 'cmax'\): expected 'F' or 'M', "
                                         r"got 'U'$"):
        sex_comparison(d, **OPTS)
    r = sex_comparison(d.replace({"SEX": {"F": "female", "M": "male", "U": "male"}}), female="female",
                       male="male", **OPTS)
    assert r.table.loc[0, "n_male"] == 3


@pytest.mark.parametrize("func", [power_model, dose_normalised_anova, sex_comparison])
def test_fewer_than_two_dose_levels_names_the_group(long_input, func):
    d = long_input[~((long_input.ANALYTE == "TAb") & (long_input.param == "auclast") & (long_input.DOSE != 3))]
    with pytest.raises(ValueError, match="ANALYTE='TAb', param='auclast'.*at least 2 dose levels.*\\[3.0\\]"):
        func(d, **OPTS)


def test_power_model_subset_problems_are_named(long_input):
    with pytest.raises(ValueError, match="subset '1-1'.*at least 2 dose levels"):
        power_model(long_input, subsets=[Subset(dose_min=1, dose_max=1)], **OPTS)
    with pytest.raises(ValueError, match="subset 'none'.*holds no values"):
        power_model(long_input, subsets=[Subset(label="none", dose_min=1000)], **OPTS)
    two = long_input.groupby(["ANALYTE", "param", "DOSE"]).head(1)
    two = two[two.DOSE.isin([1, 3])]
    with pytest.raises(ValueError, match="at least 3 values"):
        power_model(two, **OPTS)
    with pytest.raises(ValueError, match="at least 2 values"):
        dose_normalised_anova(two, **OPTS)


@pytest.mark.parametrize("sex,name", [("F", "female"), ("M", "male")])
def test_a_sex_with_fewer_than_two_animals_names_the_group(long_input, sex, name):
    d = long_input.drop(index=long_input.index[(long_input.ANALYTE == "PAYLOAD") & (long_input.param == "cmax")
                                               & (long_input.DOSE == 10) & (long_input.SEX == sex)][:2])
    with pytest.raises(ValueError, match=f"ANALYTE='PAYLOAD', param='cmax', dose 10: the {name} group has 1 "
                                         f"animal\\(s\\)"):
        sex_comparison(d, **OPTS)


@pytest.mark.parametrize("options,param", [
    (dict(confidence=1.2), "confidence"), (dict(confidence=0), "confidence"), (dict(theta_low=1.1), "theta_low"),
    (dict(theta_high=0.9), "theta_high"), (dict(value=""), "value"), (dict(subsets=[]), "subsets"),
    (dict(alpha=0.1), "alpha"),
])
def test_bad_options_are_spec_errors_naming_the_parameter(long_input, options, param):
    with pytest.raises(SpecError, match=f"'{param}'") as err:
        power_model(long_input, **{**OPTS, **options})
    assert "\n" not in str(err.value)


def test_relational_option_errors(long_input):
    with pytest.raises(SpecError, match="must name different columns"):
        power_model(long_input, value="DOSE", by=KEYS)
    with pytest.raises(SpecError, match="'female' and 'male' parameters of sex_comparison must differ"):
        sex_comparison(long_input, female="M", **OPTS)
    with pytest.raises(SpecError, match="A subset's 'sex' must be"):
        power_model(long_input, subsets=[Subset(sex="X")], **OPTS)
    with pytest.raises(SpecError, match="'dose_min' parameter of subset must not exceed 'dose_max'"):
        Subset(dose_min=10, dose_max=1)
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        power_model(long_input.to_dict(), **OPTS)
    with pytest.raises(ValueError, match="spec must be a PowerModelSpec"):
        power_model(long_input, Subset())
    with pytest.raises(ValueError, match="analysis must be one of"):
        sex_comparison(long_input, **OPTS).rows("t-test")
