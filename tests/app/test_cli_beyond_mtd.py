"""The command line of the designs beyond the MTD (issue 14): `next`, `simulate` and `pathways` for TITE-BOIN,
drug-combination BOIN, BOIN12 and BOIN with backfill, with the records the issue names and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.clirun import override, run

TITE_HISTORY = """patient,cohort,dose,dlt,dose_time,assess_time
P1,1,1,0,2026-01-05,2026-02-02
P2,1,1,0,2026-01-07,2026-02-04
P3,1,1,0,2026-01-09,2026-02-06
P4,2,2,1,2026-02-03,2026-02-20
P5,2,2,,2026-02-05,
P6,2,2,,2026-02-10,
"""


def _json(capsys, *args):
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_tite_boin_decides_on_follow_up_from_dates(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text(TITE_HISTORY)
    rec = _json(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h,
                "--dlt-window", "28", "--today", "2026-03-01")
    # dose 2: 1 DLT, 2 pending followed 24 and 19 of 28 days: ESS = 1 + 24/28 + 19/28; 2 > 0.5 x 3 pending
    assert rec["suspend_accrual"] is True and rec["decision"] == "suspend" and rec["next_dose"] == 2
    followup = {r["patient"]: r.get("followup") for r in rec["history"]}
    assert followup["P5"] == pytest.approx(24 / 28) and followup["P6"] == pytest.approx(19 / 28)
    from adcbridge.dosefinding import NextDose
    assert NextDose.check_record(rec) == []


def test_tite_boin_follow_up_given_as_fractions(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt,followup\nP1,1,1,0,\nP2,1,1,0,\nP3,1,1,0,\nP4,2,2,0,\nP5,2,2,,0.9\n"
                 "P6,2,2,0,\n")
    rec = _json(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h)
    assert rec["suspend_accrual"] is False and rec["decision"] == "escalate" and rec["next_dose"] == 3


@pytest.mark.parametrize("args,message", [
    (["--today", "2026-03-01"], "'--today': needs --dlt-window"),
    (["--today", "21", "--dlt-window", "28"], "expected a date (YYYY-MM-DD, or with a time"),
    (["--dlt-window", "28", "--today", "2026-02-01"],
     "line 2 (patient 'P1'): assessed on 2026-02-02, after --today 2026-02-01"),
    (["--dlt-window", "28"], "line 6: patient P5 is pending: his follow-up counts from his dose_time to the date of "
                             "the decision; give it with --today"),
    ([], "line 2 (patient 'P1'): the history has times: give --dlt-window"),
])
def test_tite_boin_bad_follow_up_is_one_line(tmp_path, capsys, args, message):
    h = tmp_path / "h.csv"
    h.write_text(TITE_HISTORY)
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5",
                         "--history", h, *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_today_is_refused_for_designs_without_pending_patients(tmp_path, capsys):
    code, _, err = run(capsys, "next", "--target", "0.3", "--doses", "4", "--outcomes", "1NNN",
                       "--dlt-window", "28", "--today", "3")
    assert code == 2 and "'--dlt-window': applies to --design" in err


def test_tite_boin_simulation_records_duration_and_seed(capsys):
    rec = _json(capsys, "simulate", "--design", "tite-boin", "--target", "0.25", "--p-true",
                "0.05,0.1,0.25,0.4,0.55", "--trials", "2000", "--seed", "3", "--accrual-rate", "2",
                "--late-onset", "0.7", "--late-window", "0.5", "--max-pending", "0.5")
    assert rec["seed"] == 3 and rec["n_trials"] == 2000 and rec["duration_mean"] > 0
    assert rec["se"]["duration_mean"] > 0 and len(rec["selection_pct"]) == 5
    again = _json(capsys, "simulate", "--design", "tite-boin", "--target", "0.25", "--p-true",
                  "0.05,0.1,0.25,0.4,0.55", "--trials", "2000", "--seed", "3", "--accrual-rate", "2",
                  "--late-onset", "0.7", "--late-window", "0.5", "--max-pending", "0.5")
    assert again["selection_pct"] == rec["selection_pct"]


@pytest.mark.parametrize("args,message", [
    (["--design", "boin", "--accrual-rate", "2"], "'--accrual-rate': applies to --design"),
    (["--design", "tite-boin", "--q-true", "0.1,0.2,0.3,0.4,0.5"], "'--q-true': applies to --design"),
    (["--design", "tite-boin", "--exact"], "'--exact'"),
    (["--design", "boin", "--p-true", "0.1,0.2;0.3,0.4"], "has rows (';') for a combination"),
])
def test_simulate_refuses_flags_the_design_does_not_take(capsys, args, message):
    base = ["simulate", "--target", "0.25", "--p-true", "0.05,0.1,0.25,0.4,0.55", "--trials", "100"]
    code, out, err = run(capsys, *override(base, *args))
    assert code == 2 and message in err and err.count("\n") == 1


def test_backfill_decision_and_simulation(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt,efficacy,backfill,dose_time,assess_time\n"
                 "P1,1,1,0,1,0,0,1\nP2,1,1,0,0,0,0.1,1.1\nP3,1,1,0,0,0,0.2,1.2\n"
                 "P4,2,2,,,0,1.3,\nP5,2,2,,,0,1.4,\nP6,2,2,,,0,1.5,\n")
    rec = _json(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4", "--history", h,
                "--dlt-window", "1")
    assert rec["backfill_open"] == [1] and rec["backfill_dose"] == 1
    sim = _json(capsys, "simulate", "--design", "boin-backfill", "--target", "0.25", "--p-true",
                "0.05,0.1,0.25,0.4", "--q-true", "0.2,0.3,0.4,0.4", "--n-cap", "9", "--accrual", "poisson",
                "--accrual-rate", "3", "--backfill-assign", "lowest", "--trials", "2000", "--seed", "1")
    assert sim["duration_mean"] > 0 and len(sim["backfill_patients_mean"]) == 4 and sim["seed"] == 1


def test_pathways_for_every_single_agent_design(capsys):
    for design, flags in [("boin", ["--target", "0.3"]), ("3+3", []), ("tite-boin", ["--target", "0.3"]),
                          ("boin-backfill", ["--target", "0.25"])]:
        rec = _json(capsys, "pathways", "--design", design, *flags, "--doses", "4", "--n-cohorts", "2")
        assert rec["design"] == design and len(rec["pathways"]) >= 8
        first = rec["pathways"][0]
        assert first["cohort_1"] == "1: 0/3" and first["dose_after_1"] == 2


COMB_HISTORY = """patient,cohort,dose_a,dose_b,dlt
P1,1,1,1,0
P2,1,1,1,0
P3,1,1,1,0
P4,2,1,2,0
P5,2,1,2,1
P6,2,1,2,0
"""


def test_combination_next_dose_is_a_pair(tmp_path, capsys):
    h = tmp_path / "c.csv"
    h.write_text(COMB_HISTORY)
    rec = _json(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "3x5", "--history", h)
    # 1/3 at (1, 2): lambda_e(0.3) = 0.2365 < 0.333 <= lambda_d = 0.3585 -> stay
    assert rec["next_dose"] == [1, 2] and rec["current_dose"] == [1, 2] and rec["decision"] == "stay"
    from adcbridge.dosefinding import NextDose
    assert NextDose.check_record(rec) == []


@pytest.mark.parametrize("args,message", [
    (["--doses", "5"], "'--doses': does not apply to --design comb-boin"),
    (["--grid", "3by5"], "'--grid': expected the levels of A by the levels of B"),
    (["--grid", "3x5", "--start-dose", "1,1,1"], "'--start-dose'"),
])
def test_combination_bad_flags(tmp_path, capsys, args, message):
    h = tmp_path / "c.csv"
    h.write_text(COMB_HISTORY)
    code, _, err = run(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--history", h, *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_single_agent_history_for_a_combination_is_refused(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\n")
    code, _, err = run(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "3x5", "--history", h)
    assert code == 2 and "h.csv" in err and err.count("\n") == 1


def test_combination_simulation_gives_grids(capsys):
    rec = _json(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true",
                "0.05,0.1,0.2;0.1,0.2,0.3", "--trials", "1000", "--seed", "2")
    assert [len(r) for r in rec["selection_pct"]] == [3, 3] and [len(r) for r in rec["se"]["selection_pct"]] == [3, 3]
    code, _, err = run(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true",
                       "0.05,0.1,0.2;0.1,0.2", "--trials", "10")
    assert code == 2 and "rows of the grid have different lengths" in err
    code, _, err = run(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true", "0.05,0.1,0.2",
                       "--trials", "10")
    assert code == 2 and "needs the grid of the combination" in err
    code, _, err = run(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true",
                       "0.05,0.1;0.1,0.2", "--grid", "3x3", "--trials", "10")
    assert code == 2 and "'--grid': is 3x3 but --p-true is a 2x2 grid" in err


BOIN12_HISTORY = """patient,cohort,dose,dlt,efficacy
P1,1,1,0,0
P2,1,1,0,1
P3,1,1,0,0
P4,2,2,0,1
P5,2,2,1,1
P6,2,2,0,0
"""


def test_boin12_record_has_obd_and_efficacy_estimates(tmp_path, capsys):
    h = tmp_path / "e.csv"
    h.write_text(BOIN12_HISTORY)
    rec = _json(capsys, "next", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--doses", "4",
                "--history", h)
    assert "obd" in rec and rec["obd"] is None and rec["decision"] in ("stay", "escalate", "de-escalate")
    est = {r["dose"]: r for r in rec["estimates"]}
    assert est[2]["q_hat"] == pytest.approx(2 / 3) and est[1]["q_hat"] == pytest.approx(1 / 3)
    # utility of dose 2 with the default weights u11 = 60, u00 = 40: (tox, eff) = (0,1) 100, (1,1) 60, (0,0) 40
    assert est[2]["utility"] == pytest.approx((100 + 60 + 40) / 3)
    from adcbridge.dosefinding import NextDose
    assert NextDose.check_record(rec) == []


def test_boin12_refuses_a_missing_efficacy_outcome_and_needs_q_true(tmp_path, capsys):
    h = tmp_path / "e.csv"
    h.write_text(BOIN12_HISTORY.replace("P6,2,2,0,0", "P6,2,2,0,"))
    code, _, err = run(capsys, "next", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25",
                       "--doses", "4", "--history", h)
    assert code == 2 and "P6" in err and err.count("\n") == 1
    code, _, err = run(capsys, "simulate", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25",
                       "--p-true", "0.05,0.1,0.2,0.35", "--trials", "100")
    assert code == 2 and "'--q-true': is required for --design boin12" in err and err.count("\n") == 1
    rec = _json(capsys, "simulate", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--p-true",
                "0.05,0.1,0.2,0.35", "--q-true", "0.1,0.3,0.5,0.5", "--utility", "60,40", "--trials", "2000",
                "--seed", "1")
    assert rec["seed"] == 1 and len(rec["responses_mean"]) == 4 and "favourable_pct" in rec
