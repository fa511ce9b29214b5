"""PK fits on simulated data: exact recovery, error models, pooled fits, issues, BLQ, bad input, JSON."""

import json

import numpy as np
import pandas as pd
import pytest

from adcbridge.pk import PKFitResult, Regimen, fit_pk, simulate
from adcbridge.results import Result

TRUE = {"CL": 0.8, "V1": 40.0, "Q": 1.2, "V2": 40.0}
TIMES = np.array([0.0, 0.5, 1, 2, 4, 8, 24, 48, 72, 168, 336, 504])


def study(model="2cmt", params=TRUE, doses=(0.3, 3.0, 30.0), per_dose=3, cv=0.0, seed=0, duration=0.5):
    rng = np.random.default_rng(seed)
    rows = []
    for i, dose in enumerate(np.repeat(doses, per_dose)):
        c = simulate(model, params, Regimen.single(dose, duration), TIMES)[0]
        c = c * (1 + cv * rng.standard_normal(c.size))
        rows.append(pd.DataFrame({"ID": f"S{i + 1:02d}", "TIME": TIMES, "CONC": np.round(c, 12), "DOSE": dose}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("error", ["proportional", "combined", "additive", "log"])
def test_noise_free_individual_fits_are_exact(error):
    d = study()
    r = fit_pk(d, "2cmt", error=error, n_starts=3)
    est = r.estimates()
    for k, v in TRUE.items():
        np.testing.assert_allclose(est[k], v, rtol=1e-6)
    assert r.fit_statistics["converged"].all()
    assert r.fit_statistics["n_predose"].eq(1).all()          # the sample at the start of the infusion


def test_noisy_fit_statistics_and_table():
    d = study(cv=0.1, per_dose=4)
    r = fit_pk(d, "2cmt")
    st = r.fit_statistics
    assert set(st.columns) >= {"id", "n", "ofv", "aic", "bic", "converged", "starts_at_best"}
    assert np.allclose(st["aic"], st["ofv"] + 2 * 5) and np.allclose(st["bic"], st["ofv"] + 5 * np.log(st["n"]))
    t = r.table
    assert list(t.columns) == ["id", "parameter", "estimate", "se", "rse", "ci_low", "ci_high", "unit", "kind",
                               "fixed"]
    cl = t[t["parameter"] == "CL"]
    assert np.allclose(cl["rse"], 100 * cl["se"] / cl["estimate"])
    assert (cl["ci_low"] < cl["estimate"]).all() and (cl["estimate"] < cl["ci_high"]).all()
    p = r.predictions
    assert len(p) == st["n"].sum() and np.allclose(p["res"], p["dv"] - p["pred"])
    assert np.isclose(p["wres"].std(), 1.0, atol=0.25)
    # the per-subject fit of a batch equals the fit of that subject alone
    one = fit_pk(d[d["ID"] == "S05"], "2cmt")
    assert one.estimate("CL") == pytest.approx(r.estimate("CL", "S05"), rel=1e-6)
    assert one.fit_statistics["ofv"].iloc[0] == pytest.approx(st.set_index("id").loc["S05", "ofv"], abs=1e-8)


def test_expected_and_observed_standard_errors_are_close():
    d = study(cv=0.1, per_dose=2, seed=3)
    a = fit_pk(d, "2cmt", se="observed").table
    b = fit_pk(d, "2cmt", se="expected").table
    cl = (a["parameter"] == "CL").to_numpy()
    np.testing.assert_allclose(a["se"][cl], b["se"][cl], rtol=0.35)


def test_pooled_fit_and_groups():
    d = study(cv=0.05, per_dose=3, seed=1)
    r = fit_pk(d, "2cmt", pooled=True)
    assert list(r.estimates().index) == ["pooled"]
    assert r.estimate("CL") == pytest.approx(0.8, rel=0.05)
    assert set(r.subject_unit["id"]) == {"pooled"} and len(r.subject_unit) == 9
    g = fit_pk(d, "2cmt", pooled=True, group="DOSE")
    assert list(g.estimates().index) == ["DOSE=0.3", "DOSE=3.0", "DOSE=30.0"]


def test_fixed_parameters_and_units():
    d = study()
    r = fit_pk(d, "2cmt", fixed={"V2": 40.0}, rate_time="day")
    row = r.table[(r.table["parameter"] == "V2")].iloc[0]
    assert bool(row["fixed"]) and row["estimate"] == 40.0 and np.isnan(row["se"])
    assert r.estimate("CL", "S01") == pytest.approx(0.8 * 24, rel=1e-6)
    assert r.table.set_index("parameter").loc["CL", "unit"].iloc[0] == "mL/day/kg"


def test_michaelis_menten_fit_recovers_the_truth():
    truth = {**TRUE, "CL": 0.5, "Vmax": 30.0, "Km": 2.0}
    d = study("mm", truth, doses=(0.3, 1.0, 3.0, 30.0), per_dose=1, cv=0.05, seed=4)
    r = fit_pk(d, "mm", pooled=True, n_starts=1)
    assert r.fit_statistics["converged"].all()
    for k, v in truth.items():
        assert r.estimate(k) == pytest.approx(v, rel=0.25), k
    assert r.estimate("sigma_prop") == pytest.approx(0.05, rel=0.3)


def test_unidentifiable_fit_is_flagged_not_silent():
    d = study("1cmt", {"CL": 0.8, "V": 50.0}, per_dose=1, cv=0.05)
    r = fit_pk(d, "3cmt", n_starts=2)
    codes = {i.code for i in r.issues}
    assert codes & {"covariance_failed", "high_rse", "at_bound", "high_correlation"}, codes


def test_blq_rows_are_excluded_and_counted():
    d = study(doses=(3.0,), per_dose=2)
    d["BLQ"] = 0
    d.loc[d["TIME"] >= 336, ["CONC", "BLQ"]] = [0.0, 1]
    r = fit_pk(d, "2cmt")
    assert r.fit_statistics["n_blq"].tolist() == [2, 2]
    assert any(i.code == "blq_excluded" and "4 BLQ" in i.message for i in r.issues)
    assert r.fit_statistics["n"].tolist() == [9, 9]


def test_too_few_observations():
    d = study(doses=(3.0,), per_dose=2)
    d = d[(d["ID"] == "S01") | (d["TIME"] <= 2)]
    r = fit_pk(d, "2cmt")
    assert any(i.code == "too_few_observations" and "S02" in i.message for i in r.issues)
    assert np.isnan(r.estimate("CL", "S02")) and r.estimate("CL", "S01") == pytest.approx(0.8, rel=1e-6)


@pytest.mark.parametrize("change,match", [
    (lambda d: d.drop(columns="CONC"), "missing column 'CONC'"),
    (lambda d: d.assign(CONC=np.where(d.index == 5, -1.0, d["CONC"])),
     r"^the concentration table: column 'CONC', row 6 \(ID 'S01'\): expected a number >= 0, got '-1'$"),
    (lambda d: d.assign(TIME=np.where(d.index == 3, 100.0, d["TIME"])),
     r"column 'TIME', row 5 \(ID 'S01'\): expected at least 100 \(the value on row 4\), got '[0-9.]+'$"),
    (lambda d: d.assign(CONC=d["CONC"].astype(object).where(d.index != 7, "abc")),
     r"column 'CONC', row 8 \(ID 'S01'\): expected a number >= 0, got 'abc'$"),
    (lambda d: d.assign(DOSE=np.where(d.index == 2, 5.0, d["DOSE"])),
     r"column 'DOSE', row 3 \(ID 'S01'\): expected '[0-9.]+' as on row 1 \(one dose per subject; .*\), got '5'$"),
    (lambda d: d.assign(ANALYTE=np.where(d.index % 2 == 0, "ADC", "TAb")), "several analytes"),
])
def test_bad_input_is_named(change, match):
    with pytest.raises(ValueError, match=match):
        fit_pk(change(study(per_dose=1)), "2cmt")


def test_bad_options():
    d = study(per_dose=1)
    with pytest.raises(ValueError, match="'model' parameter of pk fit"):
        fit_pk(d, "5cmt")
    with pytest.raises(ValueError, match="'error' parameter of pk fit"):
        fit_pk(d, "2cmt", error="exponential")
    with pytest.raises(ValueError, match="no parameter 'CLX'"):
        fit_pk(d, "2cmt", fixed={"CLX": 1.0})
    with pytest.raises(ValueError, match="needs an analyte column"):
        fit_pk(d, "adc")


def test_result_round_trips_through_json():
    r = fit_pk(study(cv=0.1, per_dose=1), "2cmt", n_starts=2)
    back = Result.from_json(r.to_json())
    assert isinstance(back, PKFitResult) and back.spec == r.spec
    pd.testing.assert_frame_equal(back.table, r.table)
    pd.testing.assert_frame_equal(back.predictions, r.predictions)
    c = r.to_record()
    json.dumps(c, allow_nan=False)
    assert set(c["fits"][0]["parameters"]["CL"]) == {"estimate", "se", "rse", "ci_low", "ci_high", "unit", "fixed"}
    assert {"objective", "aic", "bic", "n"} <= set(c["fits"][0])
    curves = back.curves(n=50)
    # 50 even points per subject plus the dose time, the infusion end and points just after them
    per = curves.groupby("subject").size()
    assert len(per) == 3 and (per >= 50).all() and (per <= 50 + 8).all() and (curves["pred"] >= 0).all()
    ends = r.dosing["time"] + r.dosing["duration"]
    for sid, end in zip(r.dosing["subject"], ends):
        assert np.isclose(curves.loc[curves["subject"] == sid, "time"], end).any()


def test_missing_concentrations_are_reported_not_silently_dropped():
    t = np.array([0.5, 1, 4, 24, 72, 168, 336])
    c = simulate("2cmt", {"CL": 0.8, "V1": 40, "Q": 1.2, "V2": 40}, Regimen.single(3.0, 0.5), t)[0]
    d = pd.DataFrame({"ID": "a", "TIME": t, "DOSE": 3.0, "CONC": c * (1 + 0.05 * np.sin(np.arange(7)))})
    d.loc[2, "CONC"] = np.nan
    r = fit_pk(d, "2cmt", n_starts=1)
    issue = [i for i in r.issues if i.code == "missing_excluded"]
    assert issue and issue[0].message.startswith("1 sample") and int(r.fit_statistics["n"].iloc[0]) == 6


def test_uninformed_parameters_are_named_and_the_others_keep_their_standard_errors():
    from tests.refdata import REFERENCE
    d = pd.read_csv(REFERENCE / "nca" / "data" / "cyno_adc_sd.csv")
    d = d[d["ID"] == "SD013"]
    r = fit_pk(d, "adc", analytes=("ADC", "TAb"), tinf=0.5, rate_time="day", n_starts=1)   # no payload data
    msg = [i.message for i in r.issues if i.code == "covariance_failed"]
    assert msg and "do not inform CLpl, Vpl" in msg[0]
    se = r.table.set_index("parameter")["se"]
    assert np.isnan(se[["CLpl", "Vpl"]]).all() and np.isfinite(se[["CLcat", "CLdec", "V1", "Q", "V2"]]).all()
