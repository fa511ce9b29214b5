"""``adcbridge pk project`` and ``adcbridge fih --config`` with a projected human model."""

import json
from pathlib import Path

import pytest

from tests.clirun import run

EXAMPLE = Path(__import__("adcbridge").__file__).parent / "examples" / "jskn003_fih.yaml"
PARAMS = ["--param", "CL=20:mL/day/kg", "--param", "V1=40:mL/kg", "--param", "Q=30:mL/day/kg", "--param",
          "V2=40:mL/kg"]


def test_project_contract_and_closed_form(capsys, tmp_path):
    png = tmp_path / "human.png"
    code, out, err = run(capsys, "pk", "project", "--from", "cynomolgus", *PARAMS, "--dose", "1.6,3.2",
                         "--tau-day", 2000, "--plot", png, "--format", "json")
    assert code == 0, err
    obj = json.loads(out)
    cl = next(p for p in obj["parameters"] if p["name"] == "CL")
    assert cl["human_value"] == pytest.approx(20 * 3.5 / 1000 * 20)      # b = 1: 1.4 L/day for 70 kg
    auc = [e["auc"] for e in obj["exposure"]]
    assert auc[0] == pytest.approx(1.6 * 70 / 1.4, rel=1e-6)             # AUC = dose / CL
    assert auc[1] == pytest.approx(2 * auc[0], rel=1e-9)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_project_text_and_bad_input(capsys):
    code, out, err = run(capsys, "pk", "project", *PARAMS, "--modality", "antibody", "--n-doses", 3)
    assert code == 0, err
    assert "exposure, cycle 3 of 3" in out and "CL" in out
    code, _, err = run(capsys, "pk", "project", "--param", "CL=20:mL/day/kg", "--model", "2cmt")
    assert code == 2 and "missing" in err and err.count("\n") == 1
    code, _, err = run(capsys, "pk", "project", *PARAMS, "--dose", "0")
    assert code == 2 and "positive" in err


def test_fih_plan_with_projected_human_exposure(capsys):
    code, out, err = run(capsys, "fih", "--config", EXAMPLE, "--format", "json")
    assert code == 0, err
    obj = json.loads(out)
    levels = obj["ladder"]["levels"]
    # CL exponent 1: human AUC per mg/kg equals the animal's, so the AUC margin at a dose d is
    # animal AUC / (d x 70 / 1.4 L/day) over the first (single-dose) cycle, up to the 21-day truncation
    # (both AUCs over the first 21-day interval: animal AUC(0-504 h) = AUClast of the single-dose study)
    first = levels[0]
    assert first["auc_margin"] == pytest.approx(1678.6 / first["auc"], rel=1e-12)
    assert first["auc"] == pytest.approx(first["dose"] * 70 / 1.4, rel=0.02)
    assert obj["boin"]["dose_levels"] == obj["ladder"]["doses"]


def test_example_animal_auc_is_the_first_interval_auclast():
    """The example's animal AUC is AUC(0-504 h) = AUClast of the 30 mg/kg ADC group of the single-dose study
    (the same 21-day window as the human cycle-1 AUC), recomputed by NCA."""
    import pandas as pd
    import yaml

    from adcbridge.nca import run_nca
    data = Path(__file__).resolve().parents[1] / "reference" / "data" / "nca" / "data" / "cyno_adc_sd.csv"
    d = pd.read_csv(data)
    d = d[(d.ANALYTE == "ADC") & (d.DOSE == 30)]
    res = run_nca(d, subject="ID", time="TIME", conc="CONC", analyte="ANALYTE", dose="DOSE", blq="BLQ",
                  lloq="LLOQ", route="ROUTE", duration="TINF", groups=["DOSE"]).table
    auclast = res.loc[res.PPTESTCD == "AUCLST", "PPSTRESN"]
    tlast = res.loc[res.PPTESTCD == "TLST", "PPSTRESN"]
    assert len(auclast) == 6 and (tlast == 504).all()
    cfg = yaml.safe_load(Path(EXAMPLE).read_text())
    assert cfg["exposure"]["animal_auc"] == pytest.approx(auclast.mean() / 24, abs=0.05)       # 1678.6
    assert cfg["exposure"]["human_model"]["tau_day"] * 24 == 504
