"""Internalization against the R oracle (reference set ``shared/reference/fit/internalization/``, see
tests/reference/SOURCES.md).

The oracle (R 4.2.2, background MFI 150)::

    QE  = 1 - (mean(Q4C) - bkg) / (mean(U4C) - bkg)                          # per antibody
    pct = 100 * (Q - U * (1 - QE)) / (U * QE)                                 # U, Q minus bkg
    nls(pct ~ Plateau * (1 - exp(-k * t)), start = list(Plateau = 50, k = 0.2))          # Y0 fixed at 0
    nls(pct ~ Y0 + (Plateau - Y0) * (1 - exp(-k * t)), start = list(Y0 = 0, Plateau = 50, k = 0.2))
    summary(fit)$coefficients; confint.default-style Wald t: est -/+ qt(0.975, df) SE; confint(fit) (profile)
    joint: nls(pct ~ P[adc] * (1 - exp(-k[adc] * t))) vs shared k / shared plateau / one curve: anova(reduced, full)
    k1 - k2 and log(k1/k2) with delta-method SEs from the joint vcov; AUC(0-24 h): trapezoid of the mean pct

Tolerances (every number of ``internalization_oracle.json`` is compared):

* QE, % internalized, AUC, RSS: relative 1e-9 (closed forms / the same optimum);
* estimates, half-times and Wald CIs: relative 1e-6, or 1e-3 of the SE (R's ``nls`` stops at a relative-offset
  criterion of 1e-5: its T-DXd Y0 of 0.039 sits 6e-6, 1.7e-5 SE, away from the optimum, and that fit's k 1e-6
  relative);
* SEs 1e-5, t values 1e-6 relative or 1e-3 absolute; p values 1e-3 (they amplify the t differences);
* profile CIs 1e-4 (R interpolates the profile with a spline; adcbridge solves for the exact root);
* F statistics and their p values 1e-7, the k contrasts 1e-6.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.internalization import analyze_internalization, fit_internalization

DATA = Path(__file__).parent / "data" / "fit" / "internalization"
ORACLE = json.loads((DATA / "internalization_oracle.json").read_text())
MODELS = {"one_phase_Y0_fixed0": "y0_fixed", "one_phase_Y0_free": "y0_free"}
NAMES = {"Plateau": "plateau", "k": "k", "Y0": "Y0"}
_CACHE: dict = {}


def _result():
    if "r" not in _CACHE:
        raw = pd.read_csv(DATA / "internalization_raw_mfi.csv")
        controls = pd.read_csv(DATA / "internalization_4C_controls.csv")
        _CACHE["r"] = analyze_internalization(raw, controls, background=ORACLE["background_MFI"])
    return _CACHE["r"]


def _close(a, b, rtol, atol=0.0):
    return abs(a - b) <= max(rtol * abs(b), atol)


def _check_params(rows: pd.DataFrame, ref_params, name_map):
    for p in ref_params:
        row = rows[rows["parameter"] == name_map[p["param"]]].iloc[0]
        se = p["se"]
        assert _close(row["estimate"], p["estimate"], 1e-6, 1e-3 * se), p["param"]
        assert _close(row["se"], se, 1e-5), p["param"]
        assert _close(row["t"], p["t"], 1e-6, 1e-3), p["param"]
        assert _close(row["p"], p["p"], 1e-3), p["param"]
        assert _close(row["ci_low"], p["lower_wald_t"], 1e-6, 1e-3 * se), p["param"]
        assert _close(row["ci_high"], p["upper_wald_t"], 1e-6, 1e-3 * se), p["param"]
        assert _close(row["profile_low"], p["lower_profile"], 1e-4, 1e-4 * se), p["param"]
        assert _close(row["profile_high"], p["upper_profile"], 1e-4, 1e-4 * se), p["param"]


def test_quench_efficiency_and_percent_internalized():
    r = _result()
    qe = dict(zip(r.quench["antibody"], r.quench["quench_efficiency"]))
    for ab, value in ORACLE["QE_estimated"].items():
        assert _close(qe[ab], value, 1e-12)
    ref = pd.read_csv(DATA / "internalization_pct.csv")
    assert np.allclose(r.percent["QE"], ref["QE"], rtol=1e-12, atol=0)
    assert np.allclose(r.percent["pct_internalized"], ref["pct_internalized"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("antibody", ["bsADC", "T-DXd"])
@pytest.mark.parametrize("key", list(MODELS))
def test_one_phase_fits(antibody, key):
    r, ref = _result(), ORACLE["fits"][antibody][key]
    model = MODELS[key]
    rows = r.table[(r.table["antibody"] == antibody) & (r.table["model"] == model)]
    _check_params(rows, ref["params"], NAMES)
    stat = r.fit_statistics[(r.fit_statistics["antibody"] == antibody) & (r.fit_statistics["model"] == model)].iloc[0]
    assert _close(stat["rss"], ref["rss"], 1e-9) and stat["rss"] <= ref["rss"] * (1 + 1e-12)
    assert stat["df"] == ref["df"]
    half = rows[rows["parameter"] == "half_time"].iloc[0]
    assert _close(half["estimate"], ref["half_time_h"], 1e-6, 1e-3 * half["se"])
    if "sy_x" in ref:
        assert _close(stat["sy_x"], ref["sy_x"], 1e-9)


def test_joint_fit_with_separate_parameters():
    r = _result()
    names = {"P1": "plateau_bsADC", "P2": "plateau_T-DXd", "k1": "k_bsADC", "k2": "k_T-DXd"}
    _check_params(r.comparison_parameters, ORACLE["compare"]["full"], names)


@pytest.mark.parametrize("test", ["k_equal", "plateau_equal", "all_equal"])
def test_extra_sum_of_squares_f_tests(test):
    ref = ORACLE["compare"][test]
    row = _result().comparison_tests.set_index("test").loc[test]
    assert _close(row["f"], ref["F"], 1e-7) and _close(row["p"], ref["p"], 1e-7)
    assert (row["df1"], row["df2"]) == (ref["df1"], ref["df2"])
    assert _close(row["rss_reduced"], ref["rss_reduced"], 1e-9) and _close(row["rss_full"], ref["rss_full"], 1e-9)


def test_rate_contrasts():
    ref = ORACLE["compare"]
    c = _result().comparison_contrasts.set_index("contrast")
    assert _close(c.loc["k_ratio", "estimate"], ref["ratio_k_bsADC_over_TDXd"], 1e-6)
    for name in ("k_diff", "log_k_ratio"):
        assert _close(c.loc[name, "estimate"], ref[name]["estimate"], 1e-6)
        assert _close(c.loc[name, "se"], ref[name]["se"], 1e-6)


def test_auc():
    auc = _result().auc
    assert list(auc["antibody"]) == ["bsADC", "T-DXd"]
    assert np.allclose(auc["auc"], ORACLE["AUC_0_24_pct_h"], rtol=1e-9, atol=0)
    assert list(auc["t_end"]) == [24.0, 24.0]


def test_fit_from_percentages_matches_and_contract_is_json():
    ref = pd.read_csv(DATA / "internalization_pct.csv")
    r = fit_internalization(ref)
    assert _close(r.estimate("bsADC", "k"), ORACLE["fits"]["bsADC"]["one_phase_Y0_fixed0"]["params"][1]["estimate"],
                  1e-6)
    c = _result().to_record()
    assert c["comparison"]["antibodies"] == ["bsADC", "T-DXd"]
    assert _close(c["comparison"]["k_equal"]["f"], ORACLE["compare"]["k_equal"]["F"], 1e-7)
    json.dumps(c, allow_nan=False)
