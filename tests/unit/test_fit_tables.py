"""One parameter table for every fit result (adcbridge.fitting.FitResult): the columns, intervals at any level in
closed form, the covariance, the JSON round trip, and the issue thresholds as options of the fit."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adcbridge.assays.dose_response import fit_dose_response
from adcbridge.assays.internalization import fit_internalization
from adcbridge.assays.kinetics import fit_kinetics, fit_steady_state
from adcbridge.assays.xenograft import fit_growth_rates, tumour_volumes
from adcbridge.fitting import CI_METHODS, FitResult
from adcbridge.pk import fit_pk
from adcbridge.results import Result, json_ready
from tests.refdata import REFERENCE

FIT = REFERENCE / "fit"


def _kinetics(**options):
    data = pd.read_csv(FIT / "kinetics" / "spr_mck_clean.csv")
    data = data[data["time_s"] % 10 == 0]                # every 10th second: a small, fast fit
    return fit_kinetics(data, t_on=60, t_off=360, conc_unit="M", rmax="local", bulk=True, cycle="cycle",
                        conc="conc_M", time="time_s", response="response_RU", **options)


def _steady_state():
    points = pd.DataFrame({"conc": [1.0, 3.0, 10.0, 30.0, 100.0], "response": [9.0, 21.0, 40.0, 52.0, 58.0]})
    return fit_steady_state(points, conc_unit="nM")


def _dose_response():
    data = pd.read_csv(FIT / "data" / "drc_spinach.csv")
    return fit_dose_response(data, x="DOSE", y="SLOPE", curve="CURVE", model="LL4", shared=("b",),
                             test_parallelism=False)


def _dose_response_fixed():
    data = pd.read_csv(FIT / "data" / "drc_ryegrass.csv")
    return fit_dose_response(data, x="conc", y="rootl", fixed={"c": 0})


def _internalization():
    return fit_internalization(pd.read_csv(FIT / "internalization" / "internalization_pct.csv"))


def _pk(**options):
    data = pd.read_csv(REFERENCE / "pk" / "r_oracle_input.csv")
    return fit_pk(data, "2cmt", tinf="TINF", blq=None, n_starts=2, fixed={"Q": 1.0}, **options)


def _growth():
    data = pd.read_csv(FIT / "xenograft" / "xenograft_synthetic.csv")
    return fit_growth_rates(tumour_volumes(data, animal="mouse", volume="volume_mm3"), control="Vehicle")


MAKERS = {"kinetics": _kinetics, "steady_state": _steady_state, "dose_response": _dose_response,
          "dose_response_fixed": _dose_response_fixed, "internalization": _internalization, "pk": _pk,
          "growth": _growth}
KEYS = {"kinetics": ["cycle", "injection"], "steady_state": [], "dose_response": ["curve"],
        "dose_response_fixed": ["curve"], "internalization": ["antibody", "model"], "pk": ["id"],
        "growth": ["group"]}
_CACHE: dict = {}


@pytest.fixture(params=list(MAKERS))
def fit(request):
    if request.param not in _CACHE:
        _CACHE[request.param] = MAKERS[request.param]()
    return request.param, _CACHE[request.param]


def _quantile(level, df):
    df = np.asarray(df, dtype=float)
    return np.where(np.isinf(df), stats.norm.ppf(0.5 + level / 2),
                    stats.t.ppf(0.5 + level / 2, np.where(np.isinf(df), 1.0, df)))


def test_every_fit_has_the_table_with_its_identifying_columns_first(fit):
    name, r = fit
    assert isinstance(r, FitResult)
    p = r.parameters()
    head = KEYS[name] + ["term", "estimate", "se", "ci_low", "ci_high", "unit", "df", "ci_method"]
    assert list(p.columns[:len(head)]) == head
    assert set(p["ci_method"]) <= set(CI_METHODS) and len(p) >= len(r.table)
    assert p.index.equals(pd.RangeIndex(len(p)))


def test_the_table_at_the_fits_own_level_keeps_the_intervals_it_always_had(fit):
    name, r = fit
    p = r.parameters().iloc[:len(r.table)]              # fixed and joint-fit rows follow the table's rows
    np.testing.assert_allclose(p["estimate"], r.table["slope" if name == "growth" else "estimate"], rtol=1e-12)
    np.testing.assert_allclose(p["ci_low"], r.table["ci_low"], rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(p["ci_high"], r.table["ci_high"], rtol=1e-10, equal_nan=True)


def test_a_90_percent_interval_is_narrower_than_a_95_percent_one(fit):
    _, r = fit
    wide, narrow = r.conf_int(0.95), r.conf_int(0.9)
    ok = np.isfinite(wide["ci_low"]) & np.isfinite(wide["ci_high"]) & (r.parameters()["se"].to_numpy() > 0)
    assert ok.sum() >= 2
    assert (narrow["ci_low"][ok] > wide["ci_low"][ok]).all() and (narrow["ci_high"][ok] < wide["ci_high"][ok]).all()


@pytest.mark.parametrize("level", [0.8, 0.99])
def test_intervals_at_any_level_are_the_closed_form_wald_intervals(fit, level):
    _, r = fit
    p = r.parameters(level)
    est, se, q = p["estimate"].to_numpy(), p["se"].to_numpy(), _quantile(level, p["df"])
    for method, (lo, hi) in {"wald": (est - q * se, est + q * se),
                             "log_wald": (est * np.exp(-q * se / est), est * np.exp(q * se / est))}.items():
        rows = p["ci_method"].isin([f"{method}_t", f"{method}_normal"]).to_numpy()
        np.testing.assert_allclose(p["ci_low"][rows], lo[rows], rtol=1e-12)
        np.testing.assert_allclose(p["ci_high"][rows], hi[rows], rtol=1e-12)
    t_rows = p["ci_method"].str.endswith("_t").to_numpy()
    assert np.isfinite(p["df"][t_rows]).all() and np.isinf(p["df"][p["ci_method"].str.endswith("_normal")]).all()
    fixed = (p["ci_method"] == "fixed").to_numpy()
    assert p.loc[fixed, ["se", "ci_low", "ci_high"]].isna().all().all()
    ci = r.conf_int(level)
    np.testing.assert_array_equal(ci["ci_low"].to_numpy(), p["ci_low"].to_numpy())


def test_the_covariance_has_the_squared_standard_errors_on_its_diagonal(fit):
    _, r = fit
    cov = r.cov_params()
    se = r.parameters()["se"].to_numpy()
    np.testing.assert_allclose(np.diag(cov.to_numpy()), se ** 2, rtol=1e-9, equal_nan=True)
    finite = np.isfinite(cov.to_numpy())
    np.testing.assert_allclose(cov.to_numpy()[finite], cov.to_numpy().T[finite], rtol=1e-9, atol=0)
    assert cov.index.equals(r.conf_int().index) and cov.columns.equals(cov.index)


def test_the_covariance_of_one_fit_of_many():
    r = _CACHE.get("pk") or MAKERS["pk"]()
    one = r.cov_params(id="SD009")
    assert list(one.index.get_level_values("term")) == ["CL", "V1", "V2", "sigma_prop", "Q"]
    assert np.isfinite(one.to_numpy()[:4, :4]).all() and np.isnan(one.to_numpy()[4]).all()    # Q is fixed
    both = r.cov_params(id=["SD002", "SD009"]).to_numpy()
    assert np.isnan(both[:5, 5:]).all()                                # two subjects: not estimated together
    with pytest.raises(ValueError, match="cannot select by 'subject'"):
        r.cov_params(subject="SD009")


def test_the_derived_rows_of_the_covariance_follow_the_delta_method():
    k = _CACHE.get("kinetics") or MAKERS["kinetics"]()
    v = k.vcov.set_index("parameter")
    ka, kd = k.ka, k.kd
    g = np.array([-kd / ka ** 2, 1 / ka])
    var_kd = g @ v.loc[["ka", "kd"], ["ka", "kd"]].to_numpy() @ g
    assert k.cov_params(term="KD").iloc[0, 0] == pytest.approx(var_kd, rel=1e-12)
    i = fit_internalization(pd.read_csv(FIT / "internalization" / "internalization_pct.csv"))
    c = i.cov_params(antibody="bsADC", model="y0_fixed")
    kk = i.estimate("bsADC", "k")
    assert c.iloc[2, 1] == pytest.approx(-np.log(2) / kk ** 2 * c.iloc[1, 1], rel=1e-12)   # cov(half-time, k)


def test_bad_levels_are_refused_with_the_parameter_named(fit):
    _, r = fit
    for level in (0, 1, 1.5, "high"):
        with pytest.raises(ValueError, match="'level'"):
            r.parameters(level)


def test_the_json_round_trip_keeps_the_table_and_the_covariance(fit):
    _, r = fit
    back = Result.from_json(r.to_json())
    for level in (None, 0.9):
        pd.testing.assert_frame_equal(back.parameters(level), r.parameters(level))
    pd.testing.assert_frame_equal(back.cov_params(), r.cov_params())


def test_the_record_carries_the_table_where_the_contract_allows(fit):
    name, r = fit
    record = json.loads(json.dumps(r.to_record(), allow_nan=False))
    if name in ("kinetics", "steady_state"):             # published contracts with exactly these keys
        assert "parameters" not in record
    else:
        assert record["parameters"] == json_ready(r.parameters())


def test_profile_intervals_exist_at_the_fits_own_level_only():
    i = _CACHE.get("internalization") or MAKERS["internalization"]()
    own, other = i.parameters(), i.parameters(0.9)
    assert own["profile_low"].notna().all() and other["profile_low"].isna().all()
    joint = own[own["model"] == "joint"]
    assert set(joint["antibody"]) == set(i.spec.compare) and set(joint["term"]) == {"plateau", "k"}


# --------------------------------------------------------------------------------- thresholds as options
def _codes(result):
    return {issue.code for issue in result.issues}


def test_kinetics_identifiability_thresholds_are_options():
    k = _CACHE.get("kinetics") or MAKERS["kinetics"]()
    assert "non_identifiable" not in _codes(k)
    strict = _kinetics(max_relative_se=1e-6)
    assert "non_identifiable" in _codes(strict) and strict.spec.max_relative_se == 1e-6
    pd.testing.assert_frame_equal(strict.parameters(), k.parameters())      # the thresholds change issues only


def test_pk_thresholds_are_options_with_the_old_defaults():
    r = _CACHE.get("pk") or MAKERS["pk"]()
    assert (r.spec.max_relative_se, r.spec.max_correlation) == (0.5, 0.95)
    assert not {"high_rse", "high_correlation"} & _codes(r)
    strict = _pk(max_relative_se=0.001, max_correlation=0.01)
    assert {"high_rse", "high_correlation"} <= _codes(strict)
    assert any("RSE > 0.1%" in i.message for i in strict.issues)
    pd.testing.assert_frame_equal(strict.parameters(), r.parameters())     # the thresholds change issues only


def test_internalization_plateau_threshold_is_an_option():
    data = pd.read_csv(FIT / "internalization" / "internalization_pct.csv")
    r = _CACHE.get("internalization") or MAKERS["internalization"]()
    assert r.spec.max_plateau_ratio == 1.5 and "plateau_extrapolated" not in _codes(r)
    strict = fit_internalization(data, max_plateau_ratio=0.5)
    assert "plateau_extrapolated" in _codes(strict)


def test_explicit_default_thresholds_give_the_same_issues():
    r = _CACHE.get("internalization") or MAKERS["internalization"]()
    again = fit_internalization(pd.read_csv(FIT / "internalization" / "internalization_pct.csv"),
                                max_plateau_ratio=1.5)
    assert again.issues == r.issues
