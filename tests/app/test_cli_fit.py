"""`adcbridge fit dose-response|kinetics|internalization`: contracts against the reference values."""

import json

import pandas as pd
import pytest

from tests.clirun import run
from tests.refdata import REFERENCE

FIT = REFERENCE / "fit"


def test_dose_response_contract(capsys):
    code, out, _ = run(capsys, "fit", "dose-response", FIT / "data" / "drc_ryegrass.csv", "--x", "conc", "--y",
                       "rootl", "--model", "LL4", "--format", "json")
    obj = json.loads(out)
    assert code == 0 and {"curves", "rss", "df_residual", "parallelism"} <= set(obj)
    e = obj["curves"][0]["params"]["e"]
    assert e["estimate"] == pytest.approx(3.05795, rel=1e-5) and e["se"] == pytest.approx(0.18573, rel=1e-3)
    assert obj["df_residual"] == 20 and obj["parallelism"] is None


def test_dose_response_parallelism(capsys):
    code, out, _ = run(capsys, "fit", "dose-response", FIT / "data" / "drc_S.alba.csv", "--x", "Dose", "--y",
                       "DryMatter", "--curve", "Herbicide", "--parallel", "--format", "json")
    obj = json.loads(out)
    assert code == 0 and obj["parallelism"]["p"] == pytest.approx(0.0507, abs=2e-4)


def test_kinetics_contract(capsys):
    code, out, _ = run(capsys, "fit", "kinetics", FIT / "kinetics" / "spr_mck_clean.csv", "--t-on", 60, "--t-off",
                       360, "--conc-unit", "M", "--conc", "conc_M", "--time", "time_s", "--response", "response_RU",
                       "--format", "json")
    obj = json.loads(out)
    assert code == 0 and {"ka", "kd", "KD", "rmax", "chi2", "flags"} <= set(obj)
    assert obj["ka"]["estimate"] == pytest.approx(1.000558e6, rel=1e-5)
    assert obj["KD"]["ci_low"] < obj["KD"]["estimate"] < obj["KD"]["ci_high"]


def test_internalization(capsys):
    code, out, _ = run(capsys, "fit", "internalization", FIT / "internalization" / "internalization_pct.csv",
                       "--format", "json")
    obj = json.loads(out)
    assert code == 0 and len(obj["fits"]) >= 2 and obj["comparison"] is not None


@pytest.mark.parametrize("args,needle", [
    (["fit", "dose-response", FIT / "data" / "drc_ryegrass.csv", "--x", "nope"], "nope"),
    (["fit", "dose-response", FIT / "data" / "drc_ryegrass.csv", "--x", "conc", "--y", "rootl", "--model", "LL9"],
     "--model"),
    (["fit", "kinetics", FIT / "kinetics" / "spr_mck_clean.csv", "--t-on", 60, "--t-off", 360, "--conc-unit", "M"],
     "column"),
    (["fit", "internalization", FIT / "internalization" / "internalization_pct.csv", "--compare", "A"],
     "--compare"),
])
def test_bad_arguments(capsys, args, needle):
    code, out, err = run(capsys, *args)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_fit_plots(capsys, tmp_path):
    for args in (["dose-response", FIT / "data" / "drc_S.alba.csv", "--x", "Dose", "--y", "DryMatter", "--curve",
                  "Herbicide"],
                 ["kinetics", FIT / "kinetics" / "spr_mck_clean.csv", "--t-on", 60, "--t-off", 360, "--conc-unit",
                  "M", "--conc", "conc_M", "--time", "time_s", "--response", "response_RU"],
                 ["internalization", FIT / "internalization" / "internalization_pct.csv"]):
        png = tmp_path / f"{args[0]}.png"
        code, _, err = run(capsys, "fit", *args, "--plot", png)
        assert code == 0, err
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_xenograft(capsys, tmp_path):
    code, out, err = run(capsys, "fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--control",
                         "Vehicle", "--tgi", "all", "--day", 14, "--day", 21, "--animal", "mouse", "--volume",
                         "volume_mm3", "--format", "json")
    assert code == 0, err
    obj = json.loads(out)
    assert {"tgi", "growth_rates", "time_to_endpoint", "group_summary"} <= set(obj)
    png, km = tmp_path / "volumes.png", tmp_path / "km.png"
    code, out, err = run(capsys, "fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--control",
                         "Vehicle", "--tgi", "delta_v", "--day", 21, "--animal", "mouse", "--volume", "volume_mm3",
                         "--plot", png, "--km-plot", km)
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG" and km.read_bytes()[:4] == b"\x89PNG"
    code, out, err = run(capsys, "fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--control",
                         "Nope", "--tgi", "all", "--day", 14, "--animal", "mouse", "--volume", "volume_mm3")
    assert code == 2 and "Nope" in err and err.count("\n") == 1


def test_dose_response_batch(capsys, tmp_path):
    data = pd.read_csv(FIT / "bench" / "bench_curves.csv")
    small = tmp_path / "plate.csv"
    data[data["curve"] <= 50].to_csv(small, index=False)
    out, png, hist = tmp_path / "fits.csv", tmp_path / "curves.png", tmp_path / "ed50.png"
    code, stdout, err = run(capsys, "fit", "dose-response-batch", small, "--y", "resp", "--out", out, "--plot", png,
                            "--ed50-plot", hist, "--format", "json")
    assert code == 0, err
    obj = json.loads(stdout)
    assert obj["result_type"] == "DoseResponseBatch" and obj["model"] == "LL.4" and obj["table"] == str(out)
    assert obj["n_curves"] == 50 and sum(obj["status"].values()) == 50
    assert list(obj["status"]) == ["converged", "not_identifiable", "diverged", "not_converged", "failed"]
    table = pd.read_csv(out)
    assert len(table) == 50 and {"curve", "b", "c", "d", "e", "ed50", "status"} <= set(table.columns)
    converged = table.loc[table["status"] == "converged", "ed50"]
    assert obj["median_ed50"] == pytest.approx(converged.median(), rel=1e-12)
    assert obj["status"]["converged"] == len(converged)
    code, stdout, err = run(capsys, "fit", "dose-response-batch", small, "--y", "resp", "--out", out)
    assert code == 0, err
    counts = table["status"].value_counts()
    shown = ", ".join(f"{k} {counts[k]}" for k in obj["status"] if k in counts)          # no zero counts
    assert stdout.splitlines()[0] == f"50 curves fitted with LL.4: {shown}"
    assert png.read_bytes()[:4] == b"\x89PNG" and hist.read_bytes()[:4] == b"\x89PNG"
    code, _, err = run(capsys, "fit", "dose-response-batch", small, "--y", "nope")
    assert code == 2 and "nope" in err and err.count("\n") == 1


def test_dose_response_relative_potency_and_fixed_parameters(capsys):
    args = ["fit", "dose-response", FIT / "data" / "drc_S.alba.csv", "--x", "Dose", "--y", "DryMatter", "--curve",
            "Herbicide", "--parallel"]
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    rp = json.loads(out)["relative_potency"]
    assert len(rp) == 1 and {"delta", "fieller", "log"} <= set(rp[0])
    assert rp[0]["estimate"] == pytest.approx(2.35074, rel=1e-5)          # drc EDcomp, S.alba parallel
    code, out, err = run(capsys, *args, "--fix", "c=0", "--format", "json")
    assert code == 0, err
    curve = json.loads(out)["curves"][0]["params"]
    assert curve["c"] == {"estimate": 0.0, "se": None, "fixed": True}
    code, _, err = run(capsys, *args, "--fix", "c")
    assert code == 2 and "--fix" in err


def test_xenograft_zero_volume_needs_a_floor_named_with_the_users_column(capsys, tmp_path):
    data = pd.read_csv(FIT / "xenograft" / "xenograft_synthetic.csv")
    data.loc[(data["mouse"] == "ADC_10mpk_m1") & (data["day"] == 21), "volume_mm3"] = 0.0   # complete regression
    path = tmp_path / "regression.csv"
    data.to_csv(path, index=False)
    args = ["fit", "xenograft", path, "--control", "Vehicle", "--tgi", "delta_v", "--day", 21, "--animal", "mouse",
            "--volume", "volume_mm3"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "'volume_mm3'" in err and "--volume-floor" in err and err.count("\n") == 1
    code, out, err = run(capsys, *args, "--volume-floor", 1, "--endpoint-fold", 3, "--format", "json")
    assert code == 0, err
    obj = json.loads(out)
    assert obj["time_to_endpoint"]["target_value"] == 3.0


def test_internalization_from_raw_mfi_with_background(capsys):
    base = FIT / "internalization"
    args = ["fit", "internalization", base / "internalization_raw_mfi.csv", "--controls",
            base / "internalization_4C_controls.csv", "--format", "json"]
    code, out, err = run(capsys, *args, "--background", 150)
    assert code == 0, err
    qe = json.loads(out)["quench_efficiency"]
    ref = pd.read_csv(base / "internalization_pct.csv").groupby("adc")["QE"].first()
    for antibody, value in qe.items():
        assert value == pytest.approx(ref[antibody], rel=1e-9)      # the reference subtracts a background of 150
    code, _, err = run(capsys, "fit", "internalization", base / "internalization_4C_controls.csv")
    assert code == 2 and "--value" in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [
    ["fit", "dose-response", "{f}", "--x", "conc", "--y", "response"],
    ["pk", "fit", "{f}", "--conc", "response", "--time", "conc"],
])
def test_a_table_error_names_the_file_once(capsys, tmp_path, args):
    f = tmp_path / "bad.csv"
    f.write_text("ID,conc,response,DOSE\nA,1,2,1\nA,-1,3,1\n")
    code, _, err = run(capsys, *[a.replace("{f}", str(f)) for a in args])
    assert code == 2 and err.count(str(f)) == 1 and err.count("\n") == 1, err


@pytest.mark.parametrize("args,needle,left", [
    (["fit", "internalization", FIT / "internalization" / "internalization_pct.csv", "--compare", "bsADC,bsADC"],
     "'--compare': expected two different antibodies", []),
    (["fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--animal", "mouse", "--volume",
      "volume_mm3", "--control", "Vehicle", "--tgi", "delta_v", "--day", "21", "--plot", "{tmp}/v.png",
      "--km-plot", "{tmp}/blocked/km.png"], "blocked: is a file, so the folder for the output cannot be made",
     ["v.png"]),
    (["fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--animal", "mouse", "--volume",
      "volume_mm3", "--control", "Vehicle", "--tgi", "delta_v", "--day", "21", "--plot", "{tmp}/v.txt"],
     "'--plot': writes a PNG image", []),
    (["boin", "table", "--target", "0.3", "--out", "{tmp}/t.parquet"], "--format text writes .txt", []),
    (["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "V=10", "--params", "{tmp}/p.csv",
      "--dose", "1", "--tmax", "24"], "not both", []),
])
def test_outputs_all_or_none_and_conflicting_options(capsys, tmp_path, args, needle, left):
    (tmp_path / "blocked").write_text("a file where a folder is needed")
    (tmp_path / "p.csv").write_text("CL,V\n1,10\n")
    code, _, err = run(capsys, *[str(a).replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("blocked", "p.csv")) == []


def test_xenograft_takes_comma_separated_definitions_and_days(capsys):
    args = ["fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--animal", "mouse", "--volume",
            "volume_mm3", "--control", "Vehicle", "--format", "json"]
    code, out, err = run(capsys, *args, "--tgi", "delta_v,tc_mean", "--day", "14,21")
    code2, out2, _ = run(capsys, *args, "--tgi", "delta_v", "--tgi", "tc_mean", "--day", "14", "--day", "21")
    assert code == code2 == 0 and json.loads(out)["tgi"] == json.loads(out2)["tgi"]
    assert json.loads(out)["days"] == [14.0, 21.0]
