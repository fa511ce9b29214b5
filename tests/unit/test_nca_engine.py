"""NCA engine behaviour: closed-form answers, bad input, BLQ rules, manual lambda_z, summaries."""

import math

import numpy as np
import pandas as pd
import pytest

from adcbridge.nca import BlqRules, NcaOptions, run_nca

UNITS = {"time": "h", "conc": "ug/mL", "dose": "mg"}


def one(times, conc, route="extravascular", dose=100.0, duration=0.0, **opts):
    df = pd.DataFrame({"ID": 1, "TIME": times, "CONC": conc, "DOSE": dose})
    r = run_nca(df, subject="ID", time="TIME", conc="CONC", dose="DOSE", default_route=route,
                default_duration=duration, options=NcaOptions(units=UNITS, **opts))
    return r, r.wide().iloc[0]


def test_monoexponential_bolus_closed_form():
    """C = 10 exp(-0.1 t): lambda_z 0.1, C0 10, AUCinf = 100, CL = D/AUC, Vz = CL/lambda, MRT = 1/k."""
    t = np.array([0.5, 1, 2, 4, 8, 12, 24, 48])
    c = 10 * np.exp(-0.1 * t)
    _, w = one(t, c, route="iv-bolus", auc_method="lin-up-log-down")
    assert w["LAMZ"] == pytest.approx(0.1, rel=1e-12)
    assert w["C0"] == pytest.approx(10, rel=1e-12)
    assert w["AUCIFO"] == pytest.approx(100, rel=1e-12)          # log trapezoids are exact for an exponential
    assert w["AUMCIFO"] == pytest.approx(1000, rel=1e-10)        # integral of t C = C0 / k^2
    assert w["MRTIVIFO"] == pytest.approx(10, rel=1e-10)
    assert w["CLO"] == pytest.approx(1000 * 100 / 100, rel=1e-12)   # mg / (h*ug/mL) -> 1000 mL/h
    assert w["VZO"] == pytest.approx(w["CLO"] / 0.1, rel=1e-12)
    assert w["LAMZNPT"] == 8 and w["R2ADJ"] == pytest.approx(1)


def test_infusion_mrt_is_corrected_by_half_the_duration():
    t = np.array([1, 2, 4, 8, 12, 24])
    c = 5 * np.exp(-0.2 * t)
    _, w = one(t, c, route="iv-infusion", duration=1.0)
    assert w["MRTIVIFO"] == pytest.approx(w["AUMCIFO"] / w["AUCIFO"] - 0.5, rel=1e-12)
    assert w["VSSO"] == pytest.approx(w["CLO"] * w["MRTIVIFO"], rel=1e-12)


def test_linear_trapezoid_by_hand():
    _, w = one([0, 1, 2, 4], [0, 10, 8, 4], auc_method="linear")
    assert w["AUCLST"] == pytest.approx(5 + 9 + 12)
    assert w["CMAX"] == 10 and w["TMAX"] == 1 and w["TLST"] == 4


def test_partial_auc_inside_and_beyond_the_data():
    t = np.array([0, 1, 2, 4, 8, 12])
    c = np.r_[0, 10 * np.exp(-0.2 * t[1:])]
    _, w = one(t, c, auc_method="lin-up-log-down", partial_aucs=((0, 1), (2, 12), (0, 24)))
    assert w["AUCINT_0-1"] == pytest.approx(10 * np.exp(-0.2) / 2)
    assert w["AUCINT_2-12"] == pytest.approx(50 * (np.exp(-0.4) - np.exp(-2.4)), rel=1e-12)
    # beyond Tlast the lambda_z line is followed: exact for an exponential
    assert w["AUCINT_0-24"] - w["AUCLST"] == pytest.approx(50 * (np.exp(-2.4) - np.exp(-4.8)), rel=1e-9)


@pytest.mark.parametrize("rules,expected", [
    (BlqRules(), 5 + 9 + 20),                  # middle BLQ dropped: 8 -> 2 over 2..6 h
    (BlqRules(middle="keep"), 5 + 9 + 8 + 2),  # kept as 0
    (BlqRules(middle=1.0), 5 + 9 + 9 + 3),     # replaced by a number
])
def test_blq_rules(rules, expected):
    df = pd.DataFrame({"ID": 1, "TIME": [0, 1, 2, 4, 6], "CONC": [0, 10, 8, 0, 2], "BLQ": [1, 0, 0, 1, 0]})
    r = run_nca(df, subject="ID", time="TIME", conc="CONC", blq="BLQ",
                options=NcaOptions(auc_method="linear", blq=rules, units=UNITS))
    assert r.wide()["AUCLST"].iloc[0] == pytest.approx(expected)


def test_lloq_column_marks_blq():
    df = pd.DataFrame({"ID": 1, "TIME": [0, 1, 2, 4, 8], "CONC": [0, 10, 5, 2, 0.04], "LLOQ": 0.05})
    w = run_nca(df, subject="ID", time="TIME", conc="CONC", lloq="LLOQ",
                options=NcaOptions(units=UNITS)).wide().iloc[0]
    assert w["TLST"] == 4


def test_manual_lambda_z_exclusion_is_reported_with_its_reason():
    t = [0, 1, 2, 4, 8, 12, 24]
    c = [0, 10, 8, 4, 2, 3.0, 0.25]       # 12 h looks contaminated
    df = pd.DataFrame({"ID": 1, "TIME": t, "CONC": c})
    sel = pd.DataFrame({"ID": [1], "time": [12], "action": ["exclude"], "reason": ["sample haemolysed"]})
    r = run_nca(df, subject="ID", time="TIME", conc="CONC", options=NcaOptions(units=UNITS),
                lambda_z_selection=sel)
    pts = r.lambda_z_points
    row = pts[pts["time"] == 12].iloc[0]
    assert row["user_excluded"] and not row["used_for_lambda_z"] and row["user_reason"] == "sample haemolysed"
    assert any(i.code == "lambda_z_manual" for i in r.issues)
    forced = pd.DataFrame({"ID": [1, 1, 1], "time": [4, 8, 24], "action": "include"})
    w = run_nca(df, subject="ID", time="TIME", conc="CONC", options=NcaOptions(units=UNITS),
                lambda_z_selection=forced).wide().iloc[0]
    assert (w["LAMZNPT"], w["LAMZLL"], w["LAMZUL"]) == (3, 4, 24)
    with pytest.raises(ValueError, match="no sample at time 5"):
        run_nca(df, subject="ID", time="TIME", conc="CONC", options=NcaOptions(units=UNITS),
                lambda_z_selection=pd.DataFrame({"ID": [1], "time": [5], "action": ["exclude"]}))


def test_missing_values_carry_reasons_and_the_batch_goes_on():
    df = pd.DataFrame({"ID": [1] * 4 + [2] * 4, "TIME": [0, 1, 2, 4] * 2, "CONC": [0, 5, 4, 3, 0, 0, 0, 0]})
    r = run_nca(df, subject="ID", time="TIME", conc="CONC", options=NcaOptions(units=UNITS))
    t = r.table.set_index(["ID", "PPTESTCD"])
    assert t.loc[(1, "LAMZ"), "EXCLUDE_REASON"].startswith("fewer than 3")
    assert t.loc[(2, "TMAX"), "EXCLUDE_REASON"] == "no measurable concentration"
    assert t.loc[(2, "AUCLST"), "PPSTRESN"] == 0
    assert t.loc[(1, "CLFO"), "EXCLUDE_REASON"] == "no dose"


@pytest.mark.parametrize("frame,match", [
    (dict(TIME=[0, 1, 1], CONC=[0, 1, 2]),
     r"^column 'TIME', row 3 \(ID 1\): expected more than 1 \(the value on row 2\), got '1'$"),
    (dict(TIME=[0, 2, 1], CONC=[0, 1, 2]),
     r"^column 'TIME', row 3 \(ID 1\): expected more than 2 \(the value on row 2\), got '1'$"),
    (dict(TIME=[0, 1, 2], CONC=[0, -1, 2]), r"^column 'CONC', row 2 \(ID 1\): expected a number >= 0, got '-1'$"),
    (dict(TIME=[0, 1, 2], CONC=[0, "abc", 2]), r"^column 'CONC', row 2 \(ID 1\): expected a number >= 0, got 'abc'$"),
    (dict(TIME=[0, None, 2], CONC=[0, 1, 2]), r"^column 'TIME', row 2 \(ID 1\): expected a number, got an empty cell$"),
    (dict(TIME=[0, 1, np.inf], CONC=[0, 1, 2]),
     r"^column 'TIME', row 3 \(ID 1\): expected a finite number, got 'inf'$"),
])
def test_bad_input_names_row_and_column(frame, match):
    df = pd.DataFrame({"ID": 1, **frame})
    with pytest.raises(ValueError, match=match):
        run_nca(df, subject="ID", time="TIME", conc="CONC", options=NcaOptions(units=UNITS))


def test_missing_column_and_bad_dose():
    df = pd.DataFrame({"ID": 1, "TIME": [0, 1], "CONC": [0, 1], "DOSE": [0, 0]})
    with pytest.raises(ValueError, match=r"^missing column 'T' \(columns: ID, TIME, CONC, DOSE\)$"):
        run_nca(df, subject="ID", time="T", conc="CONC")
    with pytest.raises(ValueError, match=r"^column 'DOSE', row 1 \(ID 1\): expected a number >= 0, got '-1'$"):
        run_nca(df.assign(DOSE=-1.0), subject="ID", time="TIME", conc="CONC", dose="DOSE")
    control = run_nca(df.assign(CONC=[0, 1.0]), subject="ID", time="TIME", conc="CONC", dose="DOSE",
                      options=NcaOptions(units=UNITS)).table.set_index("PPTESTCD")
    assert control.loc["CMAXD", "EXCLUDE_REASON"] == "dose is 0 (control)"
    with pytest.raises(ValueError, match="infusion duration"):
        run_nca(df.assign(DOSE=1), subject="ID", time="TIME", conc="CONC", default_route="iv-infusion")
    with pytest.raises(ValueError, match="units"):
        NcaOptions(units={"conc": "mg"})


def test_group_summaries():
    df = pd.DataFrame({"ID": np.repeat([1, 2, 3], 4), "SEX": np.repeat(["M", "M", "F"], 4),
                       "TIME": [0, 1, 2, 4] * 3, "CONC": [0, 10, 5, 2, 0, 20, 10, 4, 0, 30, 15, 6]})
    r = run_nca(df, subject="ID", groups=["SEX"], time="TIME", conc="CONC", options=NcaOptions(units=UNITS))
    s = r.describe().set_index(["SEX", "PPTESTCD"])
    cmax = s.loc[("M", "CMAX")]
    assert cmax["N"] == 2 and cmax["mean"] == 15 and cmax["geometric_mean"] == pytest.approx(math.sqrt(200))
    assert cmax["geometric_CV%"] == pytest.approx(100 * math.sqrt(math.expm1(np.var(np.log([10, 20]), ddof=1))))
    assert s.loc[("F", "CMAX"), "N"] == 1 and np.isnan(s.loc[("F", "CMAX"), "SD"])


def test_pre_dose_samples_are_left_out_of_a_single_dose_profile():
    with_pre = pd.DataFrame({"ID": 1, "TIME": [-1, 0.5, 1, 2, 4, 8], "CONC": [0, 5, 8, 6, 3, 1.5], "DOSE": 100.0})
    without = with_pre[with_pre["TIME"] >= 0]
    a = run_nca(with_pre, subject="ID", time="TIME", conc="CONC", dose="DOSE", options=NcaOptions(units=UNITS))
    b = run_nca(without, subject="ID", time="TIME", conc="CONC", dose="DOSE", options=NcaOptions(units=UNITS))
    for code in ("AUCLST", "TLAG", "AUCIFO", "CMAX"):
        assert a.wide()[code].iloc[0] == pytest.approx(b.wide()[code].iloc[0])


def test_partial_auc_after_the_last_sample_follows_the_lambda_z_line():
    t = np.array([0, 1, 2, 4, 8, 12, 24])
    c = np.r_[0, 10 * np.exp(-0.15 * t[1:])]
    _, w = one(t, c, partial_aucs=((48, 72), (24, 48)))
    expected = 10 * (np.exp(-0.15 * 48) - np.exp(-0.15 * 72)) / 0.15
    assert w["AUCINT_48-72"] == pytest.approx(expected, rel=1e-9)
    assert w["AUCINT_24-48"] == pytest.approx(10 * (np.exp(-0.15 * 24) - np.exp(-0.15 * 48)) / 0.15, rel=1e-9)


def test_blq_flag_vocabulary():
    df = pd.DataFrame({"ID": 1, "TIME": [0, 1, 2, 4], "CONC": [0, 0.01, 5, 2], "BLQ": ["BQL", "<LLOQ", "", "N"]})
    w = run_nca(df, subject="ID", time="TIME", conc="CONC", blq="BLQ", options=NcaOptions(units=UNITS)).wide()
    assert w["TLAG"].iloc[0] == 1                       # the 0.01 flagged <LLOQ is BLQ
    with pytest.raises(ValueError, match=r"^column 'BLQ', row 2 \(ID 1\): expected a BLQ code \(.*\) or a 'measurable' "
                                         r"code \(.*\), got 'maybe'$"):
        run_nca(df.assign(BLQ=["0", "maybe", "0", "0"]), subject="ID", time="TIME", conc="CONC", blq="BLQ")


def test_bolus_with_blq_at_the_dose_time_reports_the_back_extrapolation():
    t = np.array([0, 0.5, 1, 2, 4, 8])
    c = np.r_[0, 10 * np.exp(-0.2 * t[1:])]
    _, w = one(t, c, route="iv-bolus")
    assert w["C0"] == pytest.approx(10) and w["AUCPBEO"] > 0


def test_repeated_partial_intervals_are_rejected():
    with pytest.raises(ValueError, match="repeat"):
        NcaOptions(partial_aucs=((0, 24), (0, 24)))
