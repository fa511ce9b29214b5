"""The `adcbridge nca` and `adcbridge nca-stats` commands."""

import json

import pandas as pd
import pytest

from tests.clirun import override, run
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
    code, text, err = run(capsys, "nca", CYNO, "--config", cfg, "--conc-unit", "CONCU", "--out", tmp_path / "pp.csv")
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
    (["--conc-unit", "mg"], "--conc-unit mg disagrees with the table's unit column 'CONCU'"),
    ([], "the table has a concentration-unit column 'CONCU' (ng/mL, ug/mL): give --conc-unit CONCU"),
])
def test_nca_bad_arguments(capsys, tmp_path, extra, needle):
    keep_unit = bool(extra) and "--conc-unit" not in extra        # the unit column unless the case is about it
    args = override([a for a in ARGS if keep_unit or a not in ("--conc-unit", "CONCU")], *extra) + \
        ["--out", tmp_path / "pp.csv"]
    code, out, err = run(capsys, *args)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_nca_bad_data_names_file_row_and_column(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,CONC\n1,0,0\n1,1,5\n1,1,4\n")
    code, _, err = run(capsys, "nca", bad, "--subject", "ID", "--time", "TIME", "--conc", "CONC",
                       "--out", tmp_path / "o.csv")
    assert code == 2 and err.count(str(bad)) == 1 and "line 4 (ID 1)" in err and "'TIME'" in err
    assert not (tmp_path / "o.csv").exists()


MD = REFERENCE / "nca" / "data" / "cyno_adc_md.csv"
MD_DOSING = REFERENCE / "nca" / "data" / "cyno_adc_md_dosing.csv"
MD_ARGS = ["--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--route", "ROUTE",
           "--duration", "TINF", "--group", "SEX", "--analyte", "ANALYTE", "--blq", "BLQ", "--metabolite", "PAYLOAD",
           "--conc-unit", "CONCU", "--tau", "TAU"]


def _md_subset(tmp_path, subjects=("MD001", "MD016")):
    """Two subjects (one per sex) of the multiple-dose study: every code path, few plots to render."""
    md, dosing = pd.read_csv(MD), pd.read_csv(MD_DOSING)
    md[md.ID.isin(subjects)].to_csv(tmp_path / "md.csv", index=False)
    dosing[dosing.ID.isin(subjects)].to_csv(tmp_path / "dosing.csv", index=False)
    return tmp_path / "md.csv", tmp_path / "dosing.csv"


def test_nca_multiple_dose_and_plots(capsys, tmp_path):
    md, dosing = _md_subset(tmp_path)
    code, text, err = run(capsys, "nca", md, *MD_ARGS, "--dosing", dosing, "--out", tmp_path / "md_pp.csv",
                          "--plots", tmp_path / "plots")
    assert code == 0, err
    pp = pd.read_csv(tmp_path / "md_pp.csv")
    assert {"DOSENO", "PPSTINT", "PPENINT"} <= set(pp.columns)
    assert {"AUCTAU", "CTROUGH", "ARAUC", "AILAMZ", "LINIDX", "CLSS"} <= set(pp.PPTESTCD)
    assert set(pp.SEX) == {"M", "F"} and pp.ID.nunique() == 2
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    assert names == {"individual.png", "mean.png", "lambda_z_ADC_1.png", "lambda_z_PAYLOAD_1.png",
                     "lambda_z_TAb_1.png"}
    assert all((tmp_path / "plots" / n).read_bytes().startswith(b"\x89PNG") for n in names)


def test_nca_multiple_dose_matches_the_library_on_the_whole_study(capsys, tmp_path):
    from adcbridge.nca import NcaOptions, run_nca_multiple_dose
    code, _, err = run(capsys, "nca", MD, *MD_ARGS, "--dosing", MD_DOSING, "--out", tmp_path / "md.parquet")
    assert code == 0, err
    got = pd.read_parquet(tmp_path / "md.parquet")
    data = pd.read_csv(MD)
    units = {a: u for a, u in data.groupby("ANALYTE")["CONCU"].first().items()}
    ref = run_nca_multiple_dose(data, pd.read_csv(MD_DOSING), subject="ID", time="TIME", conc="CONC",
                                dose_time="TDOSE", dose="DOSE", tau="TAU", analyte="ANALYTE", groups=["SEX"],
                                blq="BLQ", route="ROUTE", duration="TINF",
                                options=NcaOptions(metabolites=("PAYLOAD",), conc_units_by_analyte=units)).table
    assert len(got) == len(ref) > 10_000
    assert got.PPSTRESN.equals(ref.PPSTRESN.reset_index(drop=True))
    assert list(got.PPTESTCD) == list(ref.PPTESTCD.astype(str))


def test_nca_plots_folder_that_cannot_be_written_leaves_nothing(capsys, tmp_path):
    md, dosing = _md_subset(tmp_path, subjects=("MD001",))
    (tmp_path / "plots").write_text("a file where the plots folder should go")
    outs = [tmp_path / "out" / "pp.csv", tmp_path / "out" / "wide.csv", tmp_path / "out" / "summary.parquet"]
    code, _, err = run(capsys, "nca", md, *MD_ARGS, "--dosing", dosing, "--out", outs[0], "--wide", outs[1],
                       "--summary", outs[2], "--plots", tmp_path / "plots")
    assert code == 2 and "plots" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()              # no table, no temporary file, not even the folder
    assert (tmp_path / "plots").is_file()


def test_nca_parquet_outputs_and_json_record(capsys, tmp_path):
    code, text, err = run(capsys, *ARGS, "--out", tmp_path / "pp.parquet", "--wide", tmp_path / "w.parquet",
                          "--summary", tmp_path / "s.parquet", "--format", "json")
    assert code == 0, err
    record = json.loads(text)
    assert set(record) == {"profiles", "rows", "written", "issues"}
    assert record["profiles"] == 90 and record["rows"] == 3510 and len(record["written"]) == 3
    pp = pd.read_parquet(tmp_path / "pp.parquet")
    assert len(pp) == 3510 and list(pp.columns)[-4:] == ["PPTESTCD", "PPSTRESN", "PPSTRESU", "EXCLUDE_REASON"]
    csv_code, _, _ = run(capsys, *ARGS, "--out", tmp_path / "pp.csv")
    assert csv_code == 0
    assert pd.read_csv(tmp_path / "pp.csv").PPSTRESN.equals(pp.PPSTRESN)     # same values, CSV or Parquet
    from adcbridge.nca import run_nca
    from adcbridge.nca.run import nca_setup
    data = pd.read_csv(CYNO)
    setup = nca_setup(data, subject="ID", time="TIME", conc="CONC", dose="DOSE", route="ROUTE", duration="TINF",
                      groups=["SEX", "DOSE"], analyte="ANALYTE", blq="BLQ", metabolites=["PAYLOAD"],
                      conc_unit="CONCU")
    library = run_nca(data, **setup.run_nca_kwargs()).table
    assert pp.PPSTRESN.equals(library.PPSTRESN)                           # bit for bit, NaN where NaN
    assert pp.EXCLUDE_REASON.isna().equals(library.EXCLUDE_REASON.isna())
    assert len(pd.read_parquet(tmp_path / "w.parquet")) == 90
    assert {"N", "mean", "geometric_mean"} <= set(pd.read_parquet(tmp_path / "s.parquet").columns)


def test_nca_unknown_output_suffix_fails_before_any_work(capsys, tmp_path):
    code, _, err = run(capsys, *ARGS, "--out", tmp_path / "pp.xlsx")
    assert code == 2 and "use .csv or .parquet" in err and not list(tmp_path.iterdir())


def test_nca_builds_the_wide_table_only_when_asked(capsys, tmp_path, monkeypatch):
    from adcbridge.nca.analysis import NcaResult

    def refuse(self):
        raise AssertionError("the wide table was built without --wide or --summary")
    monkeypatch.setattr(NcaResult, "wide", refuse)
    code, text, err = run(capsys, *ARGS, "--out", tmp_path / "pp.csv")
    assert code == 0, err
    assert "90 profiles" in text
    with pytest.raises(AssertionError, match="without --wide"):
        run(capsys, *ARGS, "--out", tmp_path / "pp2.csv", "--wide", tmp_path / "w.csv")
    assert not (tmp_path / "pp2.csv").exists()


def test_options_that_need_a_missing_column_are_refused(capsys, tmp_path):
    theoph = REFERENCE / "nca" / "data" / "theoph.csv"
    code, _, err = run(capsys, "nca", theoph, "--subject", "Subject", "--time", "Time", "--conc", "conc", "--dose",
                       "Dose", "--metabolite", "PAYLOAD", "--out", tmp_path / "pp.csv")
    assert code == 2 and "need an analyte column" in err and not (tmp_path / "pp.csv").exists()
    code, _, err = run(capsys, *override(ARGS, "--metabolite", "METAB"), "--out", tmp_path / "pp.csv")
    assert code == 2 and "metabolite 'METAB' is not in column 'ANALYTE'" in err
    code, _, err = run(capsys, *ARGS, "--out", tmp_path / "pp.csv")
    assert code == 0
    code, _, err = run(capsys, "nca-stats", tmp_path / "pp.csv", "--sex", "GENDER", "--out", tmp_path / "st")
    assert code == 2 and "'--sex'" in err and "no column 'GENDER'" in err and not (tmp_path / "st").exists()


def test_pk_fit_refuses_an_analyte_without_an_analyte_column(capsys):
    code, _, err = run(capsys, "pk", "fit", REFERENCE / "pk" / "r_oracle_input.csv", "--analyte", "PAYLOAD",
                       "--tinf", "TINF")
    assert code == 2 and "no analyte column" in err and err.count("\n") == 1


def test_a_dosing_table_error_names_the_dosing_file(capsys, tmp_path):
    code, _, err = run(capsys, "nca", MD, "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE",
                       "--route", "iv-infusion", "--duration", "0.5", "--analyte", "ANALYTE", "--conc-unit", "CONCU",
                       "--metabolite", "PAYLOAD", "--dosing", REFERENCE / "nca" / "data" / "cyno_adc_md_dosing.csv",
                       "--dose-time", "TDOSEX", "--out", tmp_path / "md.csv")
    assert code == 2 and err.startswith(f"adcbridge: error: {REFERENCE / 'nca' / 'data' / 'cyno_adc_md_dosing.csv'}: ")


def test_nca_plots_beyond_the_stated_limit_are_refused_before_writing(capsys, tmp_path, monkeypatch):
    import adcbridge.nca.run as nca_run
    monkeypatch.setattr(nca_run, "PLOT_PROFILES", 40)          # the cynomolgus set has 90 profiles
    code, _, err = run(capsys, *ARGS, "--out", tmp_path / "pp.csv", "--plots", tmp_path / "plots")
    assert code == 2 and "at most 40 profiles" in err and err.count("\n") == 1
    assert not (tmp_path / "pp.csv").exists() and not (tmp_path / "plots").exists()


def test_nca_outputs_in_a_missing_folder_are_refused_and_plots_folders_made(capsys, tmp_path):
    # file outputs used to make their missing parent folders (a typo made a tree); --plots is a folder, made
    code, _, err = run(capsys, *ARGS, "--out", tmp_path / "nodir" / "pp.csv")
    assert code == 2 and err.count("\n") == 1
    assert f"the folder {tmp_path / 'nodir'} does not exist; create it first or choose another path" in err
    assert not (tmp_path / "nodir").exists()
    code, _, err = run(capsys, *ARGS, "--out", tmp_path / "pp.csv", "--plots", tmp_path / "a" / "plots")
    assert code == 2 and f"the folder {tmp_path / 'a'} does not exist" in err and not (tmp_path / "pp.csv").exists()


def test_nca_plots_limit_is_stated_in_the_help():
    import typer

    from adcbridge.cli import app
    from adcbridge.nca.run import PLOT_PROFILES
    nca = typer.main.get_command(app).commands["nca"]
    plots = next(p for p in nca.params if "--plots" in p.opts)
    assert f"at most {PLOT_PROFILES:,} profiles" in plots.help
