"""The `adcbridge nca` and `adcbridge nca-stats` commands."""

import pandas as pd
import pytest

from tests.clirun import run
from tests.refdata import REFERENCE

CYNO = REFERENCE / "nca" / "data" / "cyno_adc_sd.csv"
ARGS = ["nca", str(CYNO), "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--route", "ROUTE",
        "--duration", "TINF", "--group", "SEX,DOSE", "--analyte", "ANALYTE", "--blq", "BLQ", "--metabolite", "PAYLOAD",
        "--conc-unit", "CONCU"]


def test_nca_writes_the_long_cdisc_table(capsys, tmp_path):
    out = tmp_path / "pp.csv"
    code, text, _ = run(capsys, *ARGS, "--out", out, "--wide", tmp_path / "wide.csv",
                        "--summary", tmp_path / "summary.csv")
    assert code == 0 and "90 profiles" in text
    pp = pd.read_csv(out)
    assert list(pp.columns) == ["SEX", "DOSE", "ID", "PPCAT", "PPTESTCD", "PPSTRESN", "PPSTRESU", "EXCLUDE_REASON"]
    row = pp[(pp.ID == "SD001") & (pp.PPCAT == "ADC") & (pp.PPTESTCD == "CMAX")].iloc[0]
    assert row.PPSTRESN == pytest.approx(8.607) and row.PPSTRESU == "ug/mL"
    payload_auc = pp[(pp.PPCAT == "PAYLOAD") & (pp.PPTESTCD == "AUCLST")]
    assert (payload_auc.PPSTRESU == "h*ng/mL").all()
    assert pp[(pp.PPCAT == "PAYLOAD") & (pp.PPTESTCD == "CLO")].EXCLUDE_REASON.str.contains("no dose").all()
    assert len(pd.read_csv(tmp_path / "wide.csv")) == 90


def test_nca_config_file(capsys, tmp_path):
    cfg = tmp_path / "nca.yaml"
    cfg.write_text("columns: {subject: ID, time: TIME, conc: CONC, dose: DOSE, analyte: ANALYTE, groups: [SEX, DOSE],"
                   " blq: BLQ, route: ROUTE, duration: TINF}\n"
                   "options: {auc_method: linear, partial_aucs: [[0, 168]], metabolites: [PAYLOAD]}\n"
                   "lambda_z:\n  - {SEX: M, DOSE: 0.3, ID: SD001, ANALYTE: ADC, time: 168, action: exclude,"
                   " reason: outlier}\n")
    code, text, err = run(capsys, "nca", CYNO, "--config", cfg, "--out", tmp_path / "pp.csv")
    assert code == 0, err
    pp = pd.read_csv(tmp_path / "pp.csv")
    assert "AUCINT" in set(pp.PPTESTCD) and "lambda_z points chosen by the user" in text


def test_nca_stats(capsys, tmp_path):
    run(capsys, *ARGS, "--out", tmp_path / "pp.csv")
    code, text, _ = run(capsys, "nca-stats", tmp_path / "pp.csv", "--out", tmp_path / "stats")
    assert code == 0 and "proportional" in text
    pm = pd.read_csv(tmp_path / "stats" / "power_model.csv")
    row = pm[(pm.PPCAT == "ADC") & (pm.PPTESTCD == "CMAX") & (pm.subset == "all doses 0.3-30")].iloc[0]
    assert row.slope == pytest.approx(0.998922862684324, rel=1e-9)      # R reference (dp_power_model_smith.csv)
    assert (tmp_path / "stats" / "sex_comparison.csv").exists()


@pytest.mark.parametrize("extra,needle", [
    (["--subject", "NOPE"], "missing column"),
    (["--auc-method", "cubic"], "--auc-method"),
    (["--partial", "0-x"], "--partial"),
    (["--conc-unit", "mg"], "concentration unit"),
])
def test_nca_bad_arguments(capsys, tmp_path, extra, needle):
    args = [a for a in ARGS if a not in ("--conc-unit", "CONCU")] + extra + ["--out", tmp_path / "pp.csv"]
    code, out, err = run(capsys, *args)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_nca_bad_data_names_file_row_and_column(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,CONC\n1,0,0\n1,1,5\n1,1,4\n")
    code, _, err = run(capsys, "nca", bad, "--subject", "ID", "--time", "TIME", "--conc", "CONC",
                       "--out", tmp_path / "o.csv")
    assert code == 2 and str(bad) in err and "line 4 (ID 1)" in err and "'TIME'" in err
    assert not (tmp_path / "o.csv").exists()


def test_nca_multiple_dose_and_plots(capsys, tmp_path):
    md = REFERENCE / "nca" / "data" / "cyno_adc_md.csv"
    dosing = REFERENCE / "nca" / "data" / "cyno_adc_md_dosing.csv"
    code, text, err = run(capsys, "nca", md, "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE",
                          "--route", "ROUTE", "--duration", "TINF", "--group", "SEX", "--analyte", "ANALYTE",
                          "--blq", "BLQ", "--metabolite", "PAYLOAD", "--conc-unit", "CONCU", "--dosing", dosing,
                          "--tau", "TAU", "--out", tmp_path / "md.csv", "--plots", tmp_path / "plots")
    assert code == 0, err
    pp = pd.read_csv(tmp_path / "md.csv")
    assert {"DOSENO", "PPSTINT", "PPENINT"} <= set(pp.columns)
    assert {"AUCTAU", "CTROUGH", "ARAUC", "AILAMZ", "LINIDX", "CLSS"} <= set(pp.PPTESTCD)
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    assert {"individual.png", "mean.png", "lambda_z_ADC_1.png"} <= names
