"""`adcbridge next`: the live decision of every registered design, its JSON contract, patient histories, and
CRM's posterior against dfcrm (tests/reference/data/crm/dfcrm_cases.json)."""

import json

import pytest

from adcbridge.dosefinding import NextDose
from tests.clirun import run
from tests.refdata import load_reference

CONTRACT = {"design", "next_dose", "decision", "rule", "reason", "eliminated", "mtd", "model_recommendation",
            "estimates", "posterior"}
DFCRM = load_reference("crm", "dfcrm_cases.json")["crm"]


def _json(capsys, *args):
    code, out, err = run(capsys, "next", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("args", [
    ["--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN"],
    ["--design", "3+3", "--doses", "5", "--outcomes", "1NNN 2NTN"],
    ["--design", "crm", "--target", "0.25", "--doses", "5", "--outcomes", "1NNN 2NTN"],
])
def test_contract_keys_for_every_design(capsys, args):
    rec = _json(capsys, *args)
    assert CONTRACT <= set(rec)
    assert [e["dose"] for e in rec["estimates"]] == [1, 2, 3, 4, 5]
    assert {"dose", "n", "dlt", "pending", "p_hat"} <= set(rec["estimates"][0])
    assert rec["estimates"][1]["n"] == 3 and rec["estimates"][1]["dlt"] == 1
    assert rec["decision"] in ("escalate", "stay", "de-escalate", "stop")
    again = NextDose.replay_record(rec)                  # the record alone decides again, identically
    assert again.to_record()["next_dose"] == rec["next_dose"] and again.rule == rec["rule"]


@pytest.mark.parametrize("case", [c for c in DFCRM if "outcomes" in c], ids=lambda c: c["id"])
def test_crm_posterior_and_recommendation_match_dfcrm(capsys, case):
    rec = _json(capsys, "--design", "crm", "--target", str(case["target"]), "--doses", str(len(case["skeleton"])),
                "--skeleton", ",".join(map(str, case["skeleton"])), "--model", case["model"],
                *(["--intercept", str(case["intercept"])] if case["model"] == "logistic" else []),
                "--prior-var", str(case["prior_var"]), "--allow-skipping", "--outcomes", case["outcomes"])
    assert rec["posterior"]["beta_mean"] == pytest.approx(case["estimate"], rel=1e-7)
    assert rec["posterior"]["beta_sd"] == pytest.approx(case["post_var"] ** 0.5, rel=1e-7)
    assert rec["model_recommendation"] == case["mtd"]
    assert [e["p_hat"] for e in rec["estimates"]] == pytest.approx(case["ptox"], rel=1e-6)


@pytest.mark.parametrize("case", [c for c in DFCRM if "level" in c], ids=lambda c: c["id"])
def test_crm_from_a_patient_history_matches_dfcrm(capsys, tmp_path, case):
    rows = ["patient,cohort,dose,dlt"] + [f"S{k},{k},{lev},{t}" for k, (lev, t) in
                                          enumerate(zip(case["level"], case["tox"]), start=1)]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n")
    args = ["--design", "crm", "--target", str(case["target"]), "--doses", str(len(case["skeleton"])),
            "--skeleton", ",".join(map(str, case["skeleton"])), "--model", case["model"],
            "--prior-var", str(case["prior_var"]), "--history", tmp_path / "h.csv"]
    code, _, err = run(capsys, "next", *args)
    assert code == 2 and (f"column 'dose', line 2 (patient 'S1'): the first cohort is at level {case['level'][0]}, "
                          f"but crm starts at level 1") in err
    rec = _json(capsys, *args, "--allow-skipping")
    assert rec["posterior"]["beta_mean"] == pytest.approx(case["estimate"], rel=1e-7)
    assert rec["model_recommendation"] == case["mtd"]
    assert [p["patient"] for p in rec["history"]][:2] == ["S1", "S2"]


def test_three_plus_three_gives_its_mtd_as_a_value(capsys):
    rec = _json(capsys, "--design", "3+3", "--doses", "4", "--outcomes", "1NNN 2NNN 3TTN 2NNN")
    assert rec["decision"] == "stop" and rec["mtd"] == 2 and rec["next_dose"] is None
    rec = _json(capsys, "--design", "3+3", "--doses", "4", "--outcomes", "1TTN")
    assert rec["decision"] == "stop" and rec["mtd"] is None


def test_boin_stop_gives_the_selected_mtd(capsys):
    rec = _json(capsys, "--target", "0.3", "--doses", "3", "--cohorts", "2", "--outcomes", "1NNN 2NTN")
    assert rec["decision"] == "stop" and rec["rule"] == "max_sample_size" and rec["mtd"] == 2


def test_boin_next_prints_the_same_record(capsys):
    a = _json(capsys, "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN")
    code, out, _ = run(capsys, "boin", "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN",
                       "--format", "json")
    b = json.loads(out)
    a.pop("provenance"), b.pop("provenance")
    assert code == 0 and a == b


def _history(tmp_path, text):
    path = tmp_path / "history.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,expected", [
    ("patient,cohort,dose,dlt\nA,1,1,0\nB,1,1,0\nC,1,1,0\nD,2,2,\n",
     "column 'dlt', line 5 (patient 'D'): the outcome is pending"),
    ("patient,cohort,dose,dlt\nA,1,1,0\nB,1,1,0\nC,1,1,0\nD,2,3,0\n",
     "column 'dose', line 5 (patient 'D'): level 3 skips untried level 2"),
    ("patient,cohort,dose,dlt,dose_time,assess_time\nA,1,1,1,10,4\n",
     "column 'assess_time', line 2 (patient 'A'): a DLT marked before dosing"),
    ("patient,cohort,dose,dlt\nA,1,1,2\n", "column 'dlt', line 2 (patient 'A'): expected 0, 1 or empty (pending)"),
    ("patient,cohort,dose,dlt,asess_time\nA,1,1,0,3\n", "unknown column(s) ['asess_time'] (did you mean "
                                                         "'asess_time' -> 'assess_time'?)"),
    ("patient,cohort,level,DLT\nA,1,1,0\n", "unknown column(s) ['level', 'DLT'] (did you mean 'level' -> 'dose', "
                                           "'DLT' -> 'dlt'?)"),
    ("patient,cohort,dose,dlt\nA,1,1,0\nA,1,1,0\n", "column 'patient', line 3 (patient 'A'): the id appears twice"),
    ("patient,cohort,dose,dlt\nA,1,1,0\nB,1,2,0\n", "column 'dose', line 3 (patient 'B'): cohort 1 is at level 1"),
    ("patient,cohort,dose,dlt\nA,1,7,0\n", "column 'dose', line 2 (patient 'A'): level 7 is outside 1..5"),
    ("patient,cohort,dose,dlt\nA,1,1,0\nB,2,1,1\nC,3,1,0\nC2,2,2,0\n",
     "column 'cohort', line 5 (patient 'C2'): cohort 2 comes after cohort 3"),
    ("patient,cohort,dose,dlt\nA,1,1,0\nB,3,1,1\n",
     "column 'cohort', line 3 (patient 'B'): cohort 3 follows cohort 1: cohort 2 is missing; number the cohorts 1, 2, "
     "3, ... in enrolment order"),
    ("patient,cohort,dose,dlt\nA,2,1,0\n", "column 'cohort', line 2 (patient 'A'): the first cohort is numbered 2"),
    ("patient,cohort,dose,dlt\nA,1,2,0\n", "column 'dose', line 2 (patient 'A'): the first cohort is at level 2, "
                                              "but boin starts at level 1"),
    ("patient,cohort,dose,dlt,dose_time\nA,1,1,0,-2\n", "column 'dose_time', line 2 (patient 'A'): expected a time"),
    ("patient,cohort,dose,dlt\n", "history.csv: the table has a header but no data rows"),
    ("patient,cohort,dose\nA,1,1\n", "column 'dlt'"),
    ("patient,cohort,dose,dlt,backfill\nA,1,1,0,1\n",
     "column 'backfill', line 2 (patient 'A'): boin has no backfill cohorts"),
])
def test_bad_histories_name_the_row_and_column(capsys, tmp_path, text, expected):
    path = _history(tmp_path, text)
    code, out, err = run(capsys, "next", "--target", "0.3", "--doses", "5", "--history", path)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert expected in err and "history.csv" in err


@pytest.mark.parametrize("args,expected", [
    (["--design", "tite", "--doses", "4", "--outcomes", "1NNN"], "registered designs are boin, 3+3, crm"),
    (["--design", "3+3", "--target", "0.3", "--doses", "4", "--outcomes", "1NNN"],
     "'--target': applies to --design boin or crm or "),
    (["--design", "crm", "--target", "0.3", "--doses", "4", "--extrasafe", "--outcomes", "1NNN"],
     "'--extrasafe': applies to --design boin or "),
    (["--doses", "4", "--outcomes", "1NNN"], "'--target': is required for --design boin"),
    (["--target", "0.3", "--doses", "4"], "exactly one of --outcomes or --history"),
    (["--target", "0.3", "--doses", "4,,5", "--outcomes", "1NNN"], "'--doses'"),
    (["--design", "crm", "--target", "0.3", "--doses", "4", "--model", "probit", "--outcomes", "1NNN"],
     "'--model'"),
])
def test_bad_flags_are_refused(capsys, args, expected):
    code, out, err = run(capsys, "next", *args)
    assert code == 2 and out == "" and expected in err and err.count("\n") == 1


def test_crm_safety_stop_can_be_turned_off(capsys):
    on = _json(capsys, "--design", "crm", "--target", "0.3", "--doses", "4", "--outcomes", "1TTT")
    off = _json(capsys, "--design", "crm", "--target", "0.3", "--doses", "4", "--no-safety-stop", "--outcomes", "1TTT")
    assert on["decision"] == "stop" and on["rule"] == "safety_stop"
    assert off["decision"] == "stay" and off["spec"]["stop_cutoff"] is None
    code, _, err = run(capsys, "next", "--design", "crm", "--target", "0.3", "--doses", "4", "--no-safety-stop",
                       "--stop-cutoff", "0.8", "--outcomes", "1TTT")
    assert code == 2 and "not with --stop-cutoff" in err


def test_history_from_an_excel_sheet(capsys, tmp_path):
    import pandas as pd
    path = tmp_path / "trial.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["other sheet"]}).to_excel(xl, sheet_name="notes", index=False)
        pd.DataFrame({"patient": ["001", "002", "003"], "cohort": [1, 1, 1], "dose": [1, 1, 1],
                      "dlt": [0, 0, 1]}).to_excel(xl, sheet_name="patients", index=False)
    rec = _json(capsys, "--target", "0.3", "--doses", "4", "--history", path, "--sheet", "patients")
    assert rec["decision"] == "stay" and [p["patient"] for p in rec["history"]] == ["001", "002", "003"]
    code, _, err = run(capsys, "next", "--target", "0.3", "--doses", "4", "--outcomes", "1NNN", "--sheet", "x")
    assert code == 2 and "'--sheet'" in err


@pytest.mark.parametrize("cell,message", [
    ("4", "level 4 skips untried level 3 (the highest level tried before is 2); the dose column holds dose levels "
          "(1 to 4), not doses: for the dose 4 mg/kg write its level, 3"),
    ("8", "level 8 is outside 1..4")])                           # level 4 would skip level 3: no advice
def test_a_dose_value_in_the_dose_column_is_named_as_one(tmp_path, capsys, cell, message):
    # found: with --doses 1,2,4,8 a cell 4 (the dose of level 3) was refused as a skip with no hint of levels
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\n" + "".join(f"P{i},{(i + 2) // 3},{(i + 2) // 3},0\n" for i in range(1, 7))
                 + f"P7,3,{cell},0\n")
    code, out, err = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "1,2,4,8", "--history", h)
    assert code == 2 and err.strip() == f"adcbridge: error: {h}: column 'dose', line 8 (patient 'P7'): {message}"
    code, out, err = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "4", "--history", h)
    assert code == 2 and "not doses" not in err                     # no dose values: no hint
    h.write_text(h.read_text().replace("P7,3,", "P7,3,3,0\nP8,4,").replace("P8,4,4,0", "P8,4,8,0"))
    code, out, err = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "1,2,4,8", "--history", h)
    if cell == "8":         # after level 3, a cell 8 is the dose of level 4, the next level: the hint says so
        assert err.strip().endswith("level 8 is outside 1..4; the dose column holds dose levels (1 to 4), not doses: "
                                    "for the dose 8 mg/kg write its level, 4")
