"""Internalization: exact recovery of noise-free one-phase curves, the quench correction, bad input and the
JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.internalization import (
    InternalizationResult,
    analyze_internalization,
    fit_internalization,
    one_phase,
    percent_internalized,
    quench_efficiency,
)
from adcbridge.results import Result

TIMES = np.repeat([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0], 3)


def _pct(plateau, k, y0=0.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return one_phase(TIMES, plateau, k, y0) + rng.normal(0, noise, TIMES.size) if noise else \
        one_phase(TIMES, plateau, k, y0)


def _two(noise=0.0):
    return pd.concat([pd.DataFrame({"adc": "A", "time_h": TIMES, "pct_internalized": _pct(70, 0.35, noise=noise)}),
                      pd.DataFrame({"adc": "B", "time_h": TIMES,
                                    "pct_internalized": _pct(45, 0.15, noise=noise, seed=1)})])


def test_noise_free_curves_are_recovered_exactly():
    r = fit_internalization(pd.DataFrame({"adc": "A", "time_h": TIMES, "pct_internalized": _pct(62, 0.21, 3.0)}))
    assert r.estimate("A", "plateau", "y0_free") == pytest.approx(62, rel=1e-9)
    assert r.estimate("A", "k", "y0_free") == pytest.approx(0.21, rel=1e-9)
    assert r.estimate("A", "Y0", "y0_free") == pytest.approx(3.0, rel=1e-8)
    assert r.estimate("A", "half_time", "y0_free") == pytest.approx(np.log(2) / 0.21, rel=1e-9)
    assert r.comparison_tests is None


def test_quench_correction_inverts_the_measurement_model():
    """Simulate MFIs from a known internalized fraction and QE, then recover both."""
    qe, bkg, total = 0.9, 120.0, 10_000.0
    frac = one_phase(TIMES, 0.6, 0.3)
    u = np.full(TIMES.size, total) + bkg
    q = total * (frac + (1 - frac) * (1 - qe)) + bkg
    raw = pd.DataFrame({"adc": "A", "time_h": TIMES, "MFI_unquenched": u, "MFI_quenched": q})
    controls = pd.DataFrame({"adc": "A", "MFI_unquenched_4C": [total + bkg] * 3,
                             "MFI_quenched_4C": [total * (1 - qe) + bkg] * 3})
    assert quench_efficiency(controls, background=bkg)["quench_efficiency"].iloc[0] == pytest.approx(qe, rel=1e-12)
    pct = percent_internalized(raw, qe, background=bkg)
    assert np.allclose(pct["pct_internalized"], 100 * frac, rtol=1e-10, atol=1e-10)
    r = analyze_internalization(raw, controls, background=bkg)
    assert r.estimate("A", "plateau") == pytest.approx(60, rel=1e-9)
    uncorrected = percent_internalized(raw, 1.0, background=bkg)["pct_internalized"].iloc[0]
    assert uncorrected == pytest.approx(10.0)           # SPEC pitfall 15: 1 - QE reads as internalized


def test_comparison_of_identical_curves_is_not_significant():
    data = _two(noise=1.0)
    same = pd.concat([data[data["adc"] == "A"], data[data["adc"] == "A"].assign(adc="A2")])
    r = fit_internalization(same)
    tests = r.comparison_tests.set_index("test")
    assert tests.loc["k_equal", "f"] == pytest.approx(0, abs=1e-8) and tests.loc["all_equal", "p"] > 0.99
    r2 = fit_internalization(data, compare_y0="free")
    assert r2.comparison_tests.set_index("test").loc["k_equal", "p"] < 1e-6
    assert "Y0_A" in set(r2.comparison_parameters["parameter"])


@pytest.mark.parametrize("change,kwargs,match", [
    (lambda d: d.assign(time_h=d["time_h"].astype(object).where(d.index != 4, "x")), {},
     r"^the internalization table: column 'time_h', row 5 \(adc 'A'\): expected a number >= 0, got 'x'$"),
    (lambda d: d.assign(time_h=-d["time_h"] - 1), {}, r"column 'time_h', row 1 \(adc 'A'\): expected a number >= 0, "
                                                     r"got '-1'"),
    (lambda d: d[d["time_h"].isin([0.0, 1.0, 24.0])], {}, "antibody 'A': 3 distinct times"),
    (lambda d: d, {"compare": ("A", "C")}, "antibody 'C' is not in column 'adc'"),
    (lambda d: d.drop(columns="pct_internalized"), {}, r"^the internalization table: missing column 'pct_internalized' "
                                                         r"\(columns: adc, time_h\)$"),
])
def test_bad_input_names_the_column_or_antibody(change, kwargs, match):
    data = _two().reset_index(drop=True)
    with pytest.raises(ValueError, match=match):
        fit_internalization(change(data), **kwargs)


def test_bad_mfi_input():
    raw = pd.DataFrame({"adc": "A", "time_h": TIMES, "MFI_unquenched": 1000.0, "MFI_quenched": 300.0})
    with pytest.raises(ValueError, match="quench efficiency is missing"):
        analyze_internalization(raw)
    with pytest.raises(ValueError, match=r"^the MFI table: column 'MFI_unquenched', row 1 \(adc 'A'\): expected "
                                         r"an MFI above the background \(2000\), got '1000'$"):
        percent_internalized(raw, 0.9, background=2000.0)
    with pytest.raises(ValueError, match="no quench efficiency"):
        percent_internalized(raw, {"B": 0.9})
    controls = pd.DataFrame({"adc": "A", "MFI_unquenched_4C": [1000.0], "MFI_quenched_4C": [1200.0]})
    with pytest.raises(ValueError, match=r"quench efficiency from the 4 C controls is -0.2"):
        quench_efficiency(controls)
    with pytest.raises(ValueError, match="'quench_efficiency'"):
        analyze_internalization(raw, quench_efficiency=1.5)


def test_round_trip_and_contract():
    data = _two(noise=0.8)
    raw = pd.DataFrame({"adc": data["adc"], "time_h": data["time_h"], "MFI_unquenched": 10_000.0,
                        "MFI_quenched": 10_000.0 * (data["pct_internalized"] / 100 * 0.92 + 0.08)})
    r = analyze_internalization(raw, quench_efficiency=0.92)
    text = r.to_json()
    back = Result.from_json(text)
    assert type(back) is InternalizationResult and back.spec == r.spec and back.issues == r.issues
    for name in ("table", "fit_statistics", "percent", "quench", "comparison_parameters", "comparison_tests",
                 "comparison_contrasts", "auc"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(r, name))
    c = r.to_record()
    assert c["comparison"]["antibodies"] == ["A", "B"] and set(c["quench_efficiency"]) == {"A", "B"}
    assert {f["model"] for f in c["fits"]} == {"y0_fixed", "y0_free"}
    assert back.to_record() == c
    json.dumps(c, allow_nan=False)


_T = np.repeat([0, 0.5, 1, 2, 4, 8, 24.0], 3)


def _one(y, name="A"):
    return pd.DataFrame({"adc": name, "time_h": _T, "pct_internalized": y})


def test_a_non_internalizing_control_is_fitted_and_flagged_not_crashed():
    # an isotype control: noise around 0 -- the profile search must not overflow exp(-k t)
    rng = np.random.default_rng(1)
    r = fit_internalization(_one(rng.normal(0, 1, _T.size), "isotype"))
    codes = {i.code for i in r.issues}
    assert {"non_identifiable", "not_determined"} & codes
    assert all(i.severity in ("warning", "error") for i in r.issues if i.code != "no_comparison")


def test_a_curve_without_plateau_is_flagged_and_its_half_time_interval_is_not_negative():
    rng = np.random.default_rng(1)
    r = fit_internalization(_one(2 * _T + rng.normal(0, 0.5, _T.size)))
    assert "plateau_extrapolated" in {i.code for i in r.issues}
    half = r.table[(r.table["parameter"] == "half_time")]
    for col in ("profile_low", "profile_high"):
        v = half[col].to_numpy(float)
        assert np.all(np.isnan(v) | (v > 0))


def test_comparison_resting_on_an_undetermined_fit_is_flagged():
    rng = np.random.default_rng(1)
    good = 60 * (1 - np.exp(-0.3 * _T)) + rng.normal(0, 1, _T.size)
    linear = 2 * _T + rng.normal(0, 0.5, _T.size)
    r = fit_internalization(pd.concat([_one(good, "A"), _one(linear, "B")]))
    assert "comparison_unreliable" in {i.code for i in r.issues}
    assert r.comparison_tests["converged"].all()
    assert r.to_record()["issues"]


def test_constant_percentages_are_bad_input():
    with pytest.raises(ValueError, match="antibody 'A': column 'pct_internalized' is constant"):
        fit_internalization(_one(np.zeros(_T.size)))


def test_well_determined_reference_fits_raise_no_quality_issue():
    from tests.refdata import REFERENCE
    pct = pd.read_csv(REFERENCE / "fit" / "internalization" / "internalization_pct.csv")
    r = fit_internalization(pct)
    assert not [i for i in r.issues if i.code in ("non_identifiable", "not_determined", "comparison_unreliable")]
