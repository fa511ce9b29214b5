"""``adcbridge pk fit|simulate`` (the pk Typer app mounted on a test parent, as cli.py mounts it)."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from adcbridge.cli.pk import pk_app
from tests.refdata import REFERENCE

CYNO = REFERENCE / "nca" / "data" / "cyno_adc_sd.csv"
app = typer.Typer()
app.add_typer(pk_app, name="pk")


@app.callback()
def _root():
    """test parent"""


def run(*args):
    return CliRunner().invoke(app, ["pk", *map(str, args)])


def test_fit_json_contract():
    r = run("fit", CYNO, "--model", "2cmt", "--analyte", "ADC", "--rate-time", "day", "--format", "json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output)
    assert obj["model"] == "2cmt" and len(obj["fits"]) == 30
    f = obj["fits"][0]
    assert set(f["parameters"]) == {"CL", "V1", "Q", "V2", "sigma_prop"}
    assert f["parameters"]["CL"]["unit"] == "mL/day/kg" and f["parameters"]["CL"]["rse"] > 0
    assert {"objective", "aic", "bic", "n"} <= set(f)


def test_fit_plots_and_adc_model(tmp_path):
    small = tmp_path / "four.csv"
    d = pd.read_csv(CYNO)
    d[d["ID"].isin(["SD013", "SD014", "SD019", "SD020"])].to_csv(small, index=False)
    png, gof = tmp_path / "fits.png", tmp_path / "gof.png"
    r = run("fit", small, "--model", "adc", "--pooled", "--rate-time", "day", "--plot", png, "--gof", gof,
            "--format", "json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output)
    assert "sigma_prop[PAYLOAD]" in obj["fits"][0]["parameters"]
    assert png.read_bytes()[:4] == b"\x89PNG" and gof.read_bytes()[:4] == b"\x89PNG"


def test_fit_pooled_text():
    r = run("fit", CYNO, "--model", "2cmt", "--analyte", "ADC", "--pooled", "--group", "DOSE", "--error",
            "combined")
    assert r.exit_code == 0, r.output
    assert "DOSE=30.0" in r.output and "sigma_add" in r.output


@pytest.mark.parametrize("change,message", [
    (lambda d: d.drop(columns="CONC"), "missing column 'CONC'"),
    (lambda d: d.assign(CONC=np.where(d.index == 3, -2.0, d["CONC"])),
     "column 'CONC', line 5 (ID 'SD001'): expected a number >= 0, got '-2'"),
    (lambda d: d.assign(TIME=np.where(d.index == 2, 99.0, d["TIME"])),
     "column 'TIME', line 5 (ID 'SD001', ANALYTE 'ADC'): expected at least 99 (the value on line 4)"),
])
def test_fit_bad_input_is_one_line_naming_the_file(tmp_path, change, message):
    path = tmp_path / "bad.csv"
    change(pd.read_csv(CYNO)).to_csv(path, index=False)
    r = run("fit", path, "--analyte", "ADC")
    assert r.exit_code != 0 and isinstance(r.exception, ValueError)
    text = str(r.exception)
    assert "\n" not in text and str(path) in text and message in text


def test_unknown_model_is_a_usage_error():
    r = run("fit", CYNO, "--model", "4cmt")
    assert r.exit_code == 2 and "4cmt" in r.output


def test_simulate_with_exposure():
    r = run("simulate", "--model", "2cmt", "--param", "CL=20", "--param", "V1=40", "--param", "Q=30", "--param",
            "V2=40", "--rate-time", "day", "--dose", "3", "--tau", "504", "--n", "3", "--tinf", "0.5", "--tmax",
            "1512", "--points", "7", "--cycle", "3", "--format", "json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output)
    assert len(obj["time"]) == 7 and len(obj["conc"][0]) == 7
    assert obj["exposure"][0]["auc"] == pytest.approx(3000 / (20 / 24), rel=1e-3)   # AUCtau at steady state
    bad = run("simulate", "--param", "CL20", "--dose", "1", "--tmax", "10")
    assert bad.exit_code == 2


@pytest.mark.parametrize("args,needle", [
    (["--param", "FOO=1", "--param", "CL=1", "--param", "V=10", "--tmax", "24"], "has no parameter 'FOO'"),
    (["--param", "CL=1", "--param", "V=10", "--tmax", "-5"], "'--tmax': must be a time > 0"),
    (["--param", "CL=1", "--param", "V=10", "--tmax", "504", "--points", "100000000"], "--points"),
    (["--param", "CL=1", "--param", "CL=2", "--param", "V=10", "--tmax", "24"], "gives CL twice"),
])
def test_simulate_refuses_unknown_parameters_bad_grids_and_unbounded_sizes(capsys, args, needle):
    from adcbridge.cli import main
    code = main(["pk", "simulate", "--model", "1cmt", "--dose", "1", *args])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1


def test_simulate_bounds_the_number_of_concentrations_in_the_library():
    from adcbridge.pk import Regimen, simulate
    from adcbridge.pk.simulate import MAX_CONCENTRATIONS
    with pytest.raises(ValueError, match="concentrations at once"):
        simulate("1cmt", {"CL": np.full(1000, 1.0), "V": 10.0}, Regimen.single(1.0),
                 np.linspace(0, 24, MAX_CONCENTRATIONS // 1000 + 1))
    with pytest.raises(ValueError, match="has no parameter 'Vd'"):
        simulate("1cmt", {"CL": 1.0, "Vd": 10.0, "V": 10.0}, Regimen.single(1.0), [1.0])


def test_measurable_concentrations_without_a_dose_are_refused(tmp_path):
    """A subject with dose 0 and measurable concentrations used to end 'not converged' at OFV 2e303, exit 0."""
    from adcbridge.pk import fit_pk
    d = pd.read_csv(REFERENCE / "pk" / "r_oracle_input.csv")
    d.loc[d.ID == "SD002", "DOSE"] = 0
    with pytest.raises(ValueError, match=r"column 'CONC', row 1 \(ID 'SD002'\): expected 0 for a subject given no "
                                         r"dose"):
        fit_pk(d, "2cmt", tinf="TINF")
