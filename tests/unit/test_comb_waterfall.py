"""comb-boin's waterfall design (MTD contour): the one-MTD design's number of cohorts is refused (the subtrials
have their own), a history off the waterfall's protocol is decided with a visible note, and the contour's
operating characteristics account for every trial in every row."""

import json

import numpy as np
import pytest

from adcbridge.dosefinding import (
    NextDose,
    comb_boin,
    next_dose,
    simulate,
)
from adcbridge.dosefinding.comb.logs import _history, conformance_scenario
from adcbridge.dosefinding.comb.simulate import run_trials
from adcbridge.spec import SpecError
from tests.clirun import run
from tests.filehelpers import comb_history as _cohorts


# ------------------------------------------------------------------------------------ 1. n_cohorts (--cohorts)
def test_waterfall_refuses_the_one_mtd_number_of_cohorts():
    with pytest.raises(SpecError, match=r"^The 'n_cohorts' parameter of comb-boin is for the one-MTD design \(on the "
                                        r"command line --cohorts, in a sweep sample_sizes\); the waterfall .*"
                                        r"subtrial_cohorts: J = 3 numbers .* = \[10, 6, 6\] here; .*Got 20\.$"):
        comb_boin(0.3, grid=(3, 5), mtd_contour=True, n_cohorts=20)
    w = comb_boin(0.3, grid=(3, 5), mtd_contour=True, cohort_size=2)
    assert w.n_cohorts is None and w.cohorts_per_subtrial == (14, 8, 8) and w.max_sample_size == 60
    assert w.replace(n_earlystop=9).n_cohorts is None                        # a re-validated copy still builds
    with pytest.raises(SpecError, match="'n_cohorts' parameter of comb-boin is for the one-MTD design"):
        comb_boin(0.3, grid=(3, 5), n_cohorts=12).replace(mtd_contour=True)
    one = comb_boin(0.3, grid=(3, 5))
    assert one.n_cohorts == 10 and one.max_sample_size == 30 and one.replace(cohort_size=2).n_cohorts == 10
    assert type(one).model_validate_json(one.model_dump_json()) == one


@pytest.mark.parametrize("command,args", [
    ("simulate", ["--p-true", "0.05,0.1,0.2;0.1,0.2,0.3", "--trials", "50"]),
    ("next", ["--grid", "2x3", "--history", None]),
])
def test_cohorts_flag_is_refused_for_the_waterfall_on_the_command_line(tmp_path, capsys, command, args):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose_a,dose_b,dlt\nP1,1,1,1,0\nP2,1,1,1,0\nP3,1,1,1,0\n")
    args = [h if a is None else a for a in args]
    code, out, err = run(capsys, command, "--design", "comb-boin", "--target", "0.3", "--mtd-contour", "--cohorts",
                         "20", *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "Invalid value for '--cohorts': is for the one-MTD design" in err and "subtrial_cohorts" in err
    assert "--cohort-size" in err
    code, _, err = run(capsys, command, "--design", "comb-boin", "--target", "0.3", "--mtd-contour", *args)
    assert code == 0, err


def test_sweep_sample_sizes_are_refused_for_the_waterfall(tmp_path):
    from adcbridge.sweep.plan import plan_sweep
    from adcbridge.sweep.spec import load_sweep
    f = tmp_path / "sweep.yaml"
    f.write_text("designs:\n  - name: comb-boin\n    target: 0.3\n    grid: [2, 3]\n    mtd_contour: true\n"
                 "scenarios:\n  - name: S1\n    p_true: [[0.05, 0.1, 0.2], [0.1, 0.2, 0.3]]\n"
                 "sample_sizes: [10, 15]\ntrials: 100\nseed: 1\n")
    with pytest.raises(ValueError, match=r"sample_sizes\[1\] .*comb-boin: is for the one-MTD design"):
        plan_sweep(load_sweep(f))


# ------------------------------------------------------------------------------------ 2. off-protocol histories
def test_off_protocol_cohorts_are_decided_with_a_note():
    d = comb_boin(0.3, grid=(2, 3), mtd_contour=True)
    # after (1, 1) 0/3 the first subtrial escalates to (2, 1); the trial went to (1, 2) (row 1's subtrial)
    r = next_dose(d, _cohorts([(1, 1, 0), (1, 2, 1)]))
    assert (r.decision, r.next_dose) == ("stay", (1, 2))
    assert r.extra["off_protocol"] == [{"cohort": 2, "patients": ["P4", "P5", "P6"], "dose": [1, 2],
                                        "protocol_dose": [2, 1], "after_cohort": 1}]
    assert [(i.code, i.severity) for i in r.issues] == [("off_protocol", "warning")]
    assert ("cohort 2 (P4, P5, P6) was treated at (1, 2); after cohort 1 the waterfall gave (2, 1)"
            in r.issues[0].message)
    rec = json.loads(json.dumps(r.to_record()))
    assert rec["off_protocol"] == r.extra["off_protocol"] and NextDose.check_record(rec) == []
    # skipping a combination inside the subtrial
    r = next_dose(d, _cohorts([(1, 1, 0), (2, 1, 0), (2, 3, 0)]))
    assert [(x["cohort"], x["dose"], x["protocol_dose"]) for x in r.extra["off_protocol"]] == [(3, [2, 3], [2, 2])]
    # on protocol: no note
    r = next_dose(d, _cohorts([(1, 1, 0), (2, 1, 0), (2, 2, 0)]))
    assert "off_protocol" not in r.extra and r.issues == ()


def test_subtrials_entered_again_are_decided_not_crashed():
    """Back and forth between subtrials (an IndexError before): a subtrial keeps the number of its first entry
    and counts every cohort on its path."""
    d = comb_boin(0.3, grid=(2, 3), mtd_contour=True)
    r = next_dose(d, _cohorts([(1, 1, 0), (1, 2, 0), (2, 1, 0), (1, 2, 0)]))
    assert r.extra["subtrial"]["number"] == 2 and r.next_dose == (1, 3)
    assert [x["cohort"] for x in r.extra["off_protocol"]] == [2, 3, 4]
    assert len(r.issues) == 3


def test_off_protocol_note_on_the_command_line(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose_a,dose_b,dlt\nP1,1,1,1,0\nP2,1,1,1,0\nP3,1,1,1,0\n"
                 "P4,2,1,2,0\nP5,2,1,2,1\nP6,2,1,2,0\n")
    code, out, err = run(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "2x3",
                         "--mtd-contour", "--history", h)
    assert code == 0, err
    assert "warning: cohort 2 (P4, P5, P6) was treated at (1, 2); after cohort 1 the waterfall gave (2, 1)" in out


@pytest.mark.parametrize("spec", [comb_boin(0.3, grid=(3, 4), mtd_contour=True),
                                  comb_boin(0.25, grid=(2, 4), mtd_contour=True, subtrial_cohorts=(5, 4),
                                            n_earlystop=9, extrasafe=True)])
def test_simulated_waterfall_trials_are_on_protocol_at_every_cohort(spec):
    """Whole simulated trials (not only their first cohorts): after every cohort the live decision gives the
    simulator's next combination and finds no off-protocol cohort, and at the end the simulator's contour."""
    K = spec.grid[1]
    (runs,) = run_trials(spec, conformance_scenario(spec), 12, 7, log=True)
    trials: dict[int, list] = {}
    for live, cur, dlt, nxt, _, size in runs.log:
        for t, c, y, x in zip(live, cur, dlt, nxt):
            trials.setdefault(int(t), []).append((int(c), int(y), int(size), int(x)))
    points = 0
    for t, cohorts in trials.items():
        for k in range(1, len(cohorts) + 1):
            r = spec.decide(_history(spec, [c[:3] for c in cohorts[:k]]))
            x = cohorts[k - 1][3]
            assert r.next_dose == (None if x < 0 else (x // K + 1, x % K + 1))
            assert "off_protocol" not in r.extra and r.issues == ()
            points += 1
        sel = runs.selected[t]
        assert r.mtd == ([(i + 1, int(np.flatnonzero(sel[i])[0]) + 1) for i in range(spec.grid[0]) if sel[i].any()]
                         or None)
    assert points > 80


# ------------------------------------------------------------------------------------ 3. the contour's OCs
@pytest.mark.parametrize("p_true", [
    [[0.05, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.45], [0.2, 0.3, 0.45, 0.6]],
    [[0.3, 0.45, 0.55, 0.6], [0.45, 0.55, 0.6, 0.7], [0.5, 0.6, 0.7, 0.8]],      # safety stops, a row without MTD
])
def test_each_row_selection_plus_its_no_mtd_share_is_100(p_true):
    oc = simulate(comb_boin(0.3, grid=(3, 4), mtd_contour=True), p_true, n_trials=3000, seed=11)
    rec = oc.to_record()
    rows = np.array(rec["selection_pct"]).sum(axis=1) + np.array(rec["no_mtd_row_pct"])
    np.testing.assert_allclose(rows, 100.0, rtol=0, atol=1e-9)
    assert min(rec["no_mtd_row_pct"]) >= rec["no_mtd_pct"] >= rec["stop_pct"] - 1e-9
    assert all(0 <= v <= 100 for v in rec["pcs_row"]) and rec["pcs"] <= min(rec["pcs_row"]) + 1e-9
    assert len(rec["se"]["no_mtd_row_pct"]) == len(rec["se"]["pcs_row"]) == 3
    from adcbridge.sweep.combine import check_poolable
    check_poolable(oc.record_body())


def test_row_pcs_counts_no_selection_as_correct_in_a_row_without_true_mtd():
    # row 3 has no combination at or below p_tox = 0.42: its correct selection is none
    p = [[0.05, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]
    oc = simulate(comb_boin(0.3, grid=(3, 4), mtd_contour=True), p, n_trials=2000, seed=5)
    assert oc.extra["pcs_row"][2] == pytest.approx(oc.extra["no_mtd_row_pct"][2])
    assert not np.array(oc.table["true_mtd"]).reshape(3, 4)[2].any()
