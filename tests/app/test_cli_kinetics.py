"""`adcbridge fit kinetics`: long and wide inputs, the unit option, bad input as one-line errors (exit 2), and
the JSON contract with issues -- also for fits whose SEs the data do not determine."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.clirun import run
from tests.refdata import REFERENCE

KIN = REFERENCE / "fit" / "kinetics"
ORACLE = json.loads((KIN / "kinetics_oracle.json").read_text())
LONG = ["--conc", "conc_M", "--time", "time_s", "--response", "response_RU"]
TIMES = ["--t-on", 60, "--t-off", 360]


def _clean() -> pd.DataFrame:
    return pd.read_csv(KIN / "spr_mck_clean.csv")


def _write(tmp_path, df: pd.DataFrame, name="data.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _error(capsys, *args) -> str:
    code, out, err = run(capsys, "fit", "kinetics", *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert "Traceback" not in err and "Warning" not in err
    return err


def test_json_contract_has_flags_and_issues(capsys):
    code, out, err = run(capsys, "fit", "kinetics", KIN / "spr_mck_bulk_drift.csv", *TIMES, "--conc-unit", "M",
                         *LONG, "--format", "json")
    assert code == 0 and err == ""
    naive = json.loads(out)
    assert {"ka", "kd", "KD", "rmax", "chi2", "flags", "issues"} <= set(naive)
    assert "systematic_residuals" in naive["flags"]
    issue = next(i for i in naive["issues"] if i["code"] == "systematic_residuals")
    assert set(issue) == {"code", "message", "severity"} and issue["severity"] == "warning" and issue["message"]
    assert [i["code"] for i in naive["issues"] if i["severity"] != "info"] == naive["flags"]
    code, out, _ = run(capsys, "fit", "kinetics", KIN / "spr_mck_bulk_drift.csv", *TIMES, "--conc-unit", "M", *LONG,
                       "--bulk", "--drift", "--format", "json")
    full = json.loads(out)
    assert code == 0 and full["flags"] == [] and full["issues"] == []
    assert full["KD"]["estimate"] == pytest.approx(ORACLE["B_full"]["KD"], rel=1e-6)


def test_constant_and_all_zero_responses_are_bad_input(capsys, tmp_path):
    for value in (0.0, 5.0):
        path = _write(tmp_path, _clean().assign(response_RU=value))
        for fmt in ("json", "text"):
            err = _error(capsys, path, *TIMES, "--conc-unit", "M", *LONG, "--format", fmt)
            assert str(path) in err and "cycle 1" in err and "constant" in err


def test_undetermined_ses_are_null_in_json_and_na_in_text(capsys, tmp_path):
    t = np.arange(0.0, 400.0, 5.0)                       # a square pulse: ka and kd not determined
    pulse = pd.DataFrame({"cycle": 1, "conc": 1000.0, "time": t,
                          "response": np.where((t >= 50) & (t <= 200), 80.0, 0.0)})
    path = _write(tmp_path, pulse)
    code, out, err = run(capsys, "fit", "kinetics", path, "--t-on", 50, "--t-off", 200, "--conc-unit", "nM",
                         "--format", "json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["KD"]["se"] is None and obj["ka"]["se"] is None and "non_identifiable" in obj["flags"]
    assert any(i["code"] == "non_identifiable" and "do not determine" in i["message"] for i in obj["issues"])
    code, out, err = run(capsys, "fit", "kinetics", path, "--t-on", 50, "--t-off", 200, "--conc-unit", "nM")
    assert code == 0 and err == "" and "SE n/a" in out and "non_identifiable" in out


def test_conc_unit_is_optional_with_a_unit_column_and_must_agree(capsys, tmp_path):
    path = _write(tmp_path, _clean().assign(conc_unit="M"))
    code, out, err = run(capsys, "fit", "kinetics", path, *TIMES, *LONG, "--format", "json")
    assert code == 0 and err == ""
    assert json.loads(out)["ka"]["estimate"] == pytest.approx(ORACLE["A_global"]["ka"], rel=1e-6)
    code, out, _ = run(capsys, "fit", "kinetics", path, *TIMES, *LONG, "--conc-unit", "M", "--format", "json")
    assert code == 0 and json.loads(out)["ka"]["estimate"] == pytest.approx(ORACLE["A_global"]["ka"], rel=1e-6)
    err = _error(capsys, path, *TIMES, *LONG, "--conc-unit", "nM", "--format", "json")
    assert "'nM'" in err and "column 'conc_unit'" in err and "'M'" in err
    err = _error(capsys, KIN / "spr_mck_clean.csv", *TIMES, *LONG)            # no unit anywhere
    assert "unit" in err


@pytest.mark.parametrize("file,key,extra", [("spr_mck_clean_wide.csv", "A_global", []),
                                            ("spr_mck_bulk_drift_wide.csv", "B_full", ["--bulk", "--drift"])])
def test_wide_exports_are_detected(capsys, file, key, extra):
    code, out, err = run(capsys, "fit", "kinetics", KIN / file, *TIMES, *extra, "--format", "json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    for name in ("ka", "kd", "KD"):
        assert obj[name]["estimate"] == pytest.approx(ORACLE[key][name], rel=1e-6)
    code, again, _ = run(capsys, "fit", "kinetics", KIN / file, *TIMES, *extra, "--conc-unit", "nM", "--format",
                         "json")                                 # the headers' own unit: accepted
    assert code == 0 and json.loads(again)["KD"] == obj["KD"]


def test_wide_exports_with_explicit_concentrations(capsys, tmp_path):
    wide = pd.read_csv(KIN / "spr_mck_clean_wide.csv")
    plain = _write(tmp_path, wide.rename(columns=lambda c: c.replace("Conc_", "S").replace("nM", "")))
    code, out, err = run(capsys, "fit", "kinetics", plain, *TIMES, "--conc-unit", "pM", "--concentrations",
                         "781.25,1562.5,3125,6250,12500", "--format", "json")
    assert code == 0 and err == ""
    assert json.loads(out)["KD"]["estimate"] == pytest.approx(ORACLE["A_global"]["KD"], rel=1e-6)
    assert "column 'S0.78125': no concentration" in _error(capsys, plain, *TIMES)
    assert "2 values for 5 curves" in _error(capsys, plain, *TIMES, "--conc-unit", "nM", "--concentrations", "1,2")
    assert "Invalid value for '--concentrations': expected comma-separated numbers" in _error(
        capsys, plain, *TIMES, "--conc-unit", "nM", "--concentrations", "1,x")
    assert "contradicts" in _error(capsys, KIN / "spr_mck_clean_wide.csv", *TIMES, "--conc-unit", "uM")
    assert "wide export only" in _error(capsys, KIN / "spr_mck_clean.csv", *TIMES, "--conc-unit", "M", *LONG,
                                        "--concentrations", "1,2,3,4,5")


def test_time_axis_not_on_the_injection_clock_is_bad_input(capsys, tmp_path):
    clean = _clean()
    zeroed = clean.assign(time_s=clean["time_s"] - 60.0)
    for df in (zeroed, zeroed[zeroed["time_s"] >= 0]):    # with and without the baseline
        err = _error(capsys, _write(tmp_path, df), *TIMES, "--conc-unit", "M", *LONG, "--format", "json")
        assert "cycle 1" in err and "before the injection start (60 s)" in err and "'time_s'" in err
    late = _write(tmp_path, clean[clean["time_s"] >= 100])
    assert "cycle 1" in _error(capsys, late, *TIMES, "--conc-unit", "M", *LONG)


@pytest.mark.parametrize("change,needle", [
    (lambda d: d.assign(conc_M=d["conc_M"].astype(object).where(d["cycle"] != 4, "abc")), "cycle 4"),
    (lambda d: d.assign(conc_M=d["conc_M"].where(d["cycle"] != 4, -1e-9)),
     "(cycle 4): expected a number >= 0, got '-1e-09'"),
    (lambda d: d.assign(response_RU=d["response_RU"].where(d.index != 200)),
     "column 'response_RU', line 202 (cycle 1): expected a number, got an empty cell"),
])
def test_bad_values_name_the_cycle_and_column(capsys, tmp_path, change, needle):
    err = _error(capsys, _write(tmp_path, change(_clean())), *TIMES, "--conc-unit", "M", *LONG)
    assert needle in err


def test_missing_injection_times_are_a_usage_error(capsys):
    code, _, err = run(capsys, "fit", "kinetics", KIN / "spr_mck_clean.csv", "--conc-unit", "M", *LONG)
    assert code == 2 and "--t-on" in err


@pytest.mark.parametrize("unit,extra", [("nM", []), ("fM", ["--bulk", "--drift", "--mass-transport"])])
def test_a_wrong_unit_prints_no_numpy_warnings(capsys, unit, extra):
    with warnings.catch_warnings(record=True) as caught:       # molar data read as nM: ka ~1e15, steps overflow
        warnings.simplefilter("always")
        code, out, err = run(capsys, "fit", "kinetics", KIN / "spr_mck_bulk_drift.csv", *TIMES, "--conc-unit", unit,
                             *LONG, *extra, "--format", "json")
    assert code == 0 and err == "" and not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    obj = json.loads(out)
    assert obj["flags"] and len(obj["issues"]) >= len(obj["flags"])
