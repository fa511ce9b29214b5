"""comb-boin: bad input gets one-line errors naming the parameter, row or column; the rules' own choices
(deterministic ties, no error when (1, 1) is eliminated, quadrant elimination) and reproducible simulation."""

import numpy as np
import pytest

from adcbridge.dosefinding import History, Patient, comb_boin, next_dose, simulate
from adcbridge.spec import SpecError
from tests.filehelpers import comb_history as _history


@pytest.mark.parametrize("options,message", [
    ({"start_dose": (0, 1)}, r"^The 'start_dose' parameter of comb-boin must be a pair of levels"),
    ({"start_dose": (4, 1)}, r"^The 'start_dose' parameter of comb-boin must be a combination of the 3x5 grid"),
    ({"grid": (9, 2)}, r"^The 'grid' parameter of comb-boin must be \(J, K\)"),
    ({"grid": "3by5"}, r"^The 'grid' parameter of comb-boin must be J x K"),
    ({"target": 0.7}, r"^The 'target' parameter of comb-boin must be in \[0.05, 0.6\]"),
    ({"p_saf": 0.29}, r"^The 'p_saf' parameter of comb-boin"),
    ({"dose_levels_a": (1.0, 2.0)}, r"^The 'dose_levels_a' parameter of comb-boin must have 3 values"),
    ({"subtrial_cohorts": (3, 3, 3)}, r"^The 'subtrial_cohorts' parameter of comb-boin is for the waterfall"),
    ({"mtd_contour": True, "subtrial_cohorts": (3, 3)}, (r"^The 'subtrial_cohorts' parameter of comb-boin must "
                                                        r"give J = 3")),
    ({"mtd_contour": True, "start_dose": (2, 1)}, r"^The 'start_dose' parameter of comb-boin must be \(1, 1\)"),
])
def test_bad_spec(options, message):
    with pytest.raises(SpecError, match=message):
        comb_boin(**{"target": 0.3, "grid": (3, 5), **options})


def test_grid_text_and_rotation_message():
    assert comb_boin(0.3, grid="3x5").grid == (3, 5)
    with pytest.raises(SpecError, match="rotate the grid to 3x4"):
        comb_boin(0.3, grid=(4, 3), mtd_contour=True)
    assert comb_boin(0.3, grid=(4, 3)).n_doses == 12          # the one-MTD rules need no J <= K


@pytest.mark.parametrize("p_true,message", [
    ([[0.1, 0.2], [0.2, 0.3]], r"must be a 3 x 5 grid .* Got shape 2x2"),
    ([[0.1] * 5] * 2 + [[0.1] * 4 + [1.2]], r"probabilities in \[0, 1\]"),
    ("0.1,x;0.2", "rows separated by ';'"),
])
def test_bad_p_true(p_true, message):
    with pytest.raises(ValueError, match=message):
        simulate(comb_boin(0.3, grid=(3, 5)), p_true, n_trials=10, seed=1)


def test_bad_histories_name_the_patient_and_column():
    d = comb_boin(0.3, grid=(2, 3))
    with pytest.raises(ValueError, match=r"^The 'outcomes' argument gives one dose level .* cannot describe a "
                                         r"comb-boin trial \(two agents: each patient has dose_a and dose_b\)"):
        next_dose(d, "1NNN")
    with pytest.raises(ValueError, match=r"^The 'outcomes' argument: cohort 1 \('1NNN'\): .*two agents"):
        next_dose(d, History.from_outcomes("1NNN", 3))
    with pytest.raises(ValueError, match=r"column 'dose_b', patient row 4 .*outside 1..3"):
        next_dose(d, _history([(1, 1, 0), (1, 4, 0)]))
    with pytest.raises(ValueError, match=r"column 'dose_a', patient row 4 .*skips untried"):
        next_dose(d, _history([(1, 1, 0), (2, 2, 0)]))
    with pytest.raises(ValueError, match=r"column 'dose_a', patient row 1 .*starts at \(1, 1\)"):
        next_dose(d, _history([(1, 2, 0)]))
    pending = History((Patient("P1", 1, None, None, dose_a=1, dose_b=1),))
    with pytest.raises(ValueError, match=r"column 'dlt', patient row 1 .*pending"):
        next_dose(d, pending)


def test_ties_are_broken_towards_the_lower_level_of_agent_a():
    d = comb_boin(0.3, grid=(2, 3))
    up = next_dose(d, _history([(1, 1, 0)]))
    assert up.next_dose == (1, 2) and up.to_record()["tie_break"].startswith("equal scores")
    # at (2, 2) 2/3 de-escalates; (1, 2) and (2, 1) both 0/3 tie: the lower level of agent A, (1, 2)
    down = next_dose(d, _history([(1, 1, 0), (1, 2, 0), (2, 1, 0), (2, 2, 2)]))
    assert (down.decision, down.next_dose) == ("de-escalate", (1, 2)) and "tie_break" in down.to_record()


def test_lowest_combination_eliminated_stops_without_error():
    d = comb_boin(0.3, grid=(2, 3))
    r = next_dose(d, _history([(1, 1, 3)]))
    assert (r.decision, r.rule, r.mtd, r.next_dose) == ("stop", "eliminate", None, None)
    assert r.select_mtd is False and len(r.eliminated) == 6


def test_simulation_is_reproducible_and_grids_are_j_by_k():
    d = comb_boin(0.3, grid=(2, 3))
    p = [[0.05, 0.1, 0.3], [0.1, 0.3, 0.5]]
    a = simulate(d, p, n_trials=500, seed=3)
    b = simulate(d, p, n_trials=500, seed=3)
    assert a.selection_pct == b.selection_pct and a.patients_mean == b.patients_mean
    assert np.array(a.selection_pct).shape == (2, 3) and np.array(a.se["patients_mean"]).shape == (2, 3)
    assert len(a.table) == 6 and {"dose_a", "dose_b"} <= set(a.table.columns)
    assert abs(np.sum(a.selection_pct) + a.no_mtd_pct - 100) < 1e-9
    w = simulate(comb_boin(0.3, grid=(2, 3), mtd_contour=True), p, n_trials=300, seed=3)
    assert "patients_contour_pct" in w.to_record()


def test_pathways_cover_every_dlt_count():
    t = comb_boin(0.3, grid=(2, 3)).pathways(2)
    assert len(t) >= 4 and t["cohort_1"].str.startswith("(1, 1)").all()


def test_waterfall_eliminates_along_subtrial_paths():
    """The waterfall's final selection eliminates what its single-agent subtrials eliminated: from the first
    too-toxic combination of each subtrial's path on (3/3 is too toxic at target 0.3: Pr(p > 0.3 | Beta(4, 1))
    = 1 - 0.3^4 > 0.95), not a quadrant."""
    from adcbridge.dosefinding.comb.selection import eliminated_cells
    from adcbridge.dosefinding.comb.tables import comb_tables
    X = comb_tables(comb_boin(0.3, grid=(3, 4), mtd_contour=True), 30).eliminate_ge
    n = np.array([[[3, 6, 3, 0], [3, 0, 6, 0], [3, 6, 3, 0]]])
    y = np.array([[[0, 0, 3, 0], [0, 0, 1, 0], [0, 1, 3, 0]]])
    path = eliminated_cells(n, y, X, "path")[0].astype(int).tolist()
    # row 1's subtrial (1,2)-(1,4): (1,3) on; the first subtrial (1,1),(2,1),(3,1),(3,2),(3,3),(3,4): (3,3) on;
    # (2,3) 1/6 stays (a quadrant from (1,3) would take it)
    assert path == [[0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 1, 1]]
    assert eliminated_cells(n, y, X, "quadrant")[0, 1, 2]


def test_titration_zigzags_up_the_grid_live_and_simulated():
    """Accelerated titration: single patients up the grid, the agents in turn (B first) while both can go up,
    until a DLT or the top combination, whose cohort is then completed; the titration and its completion are
    cohort 1 (so 4 cohorts = the titration + 3 cohorts of 3)."""
    d = comb_boin(0.3, grid=(3, 4), n_cohorts=4, titration=True)
    path = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4)]
    oc = simulate(d, np.zeros((3, 4)), n_trials=50, seed=1)           # no DLT: up to the top combination
    expected = np.zeros((3, 4))
    for a, b in path:
        expected[a - 1, b - 1] = 1
    expected[2, 3] += 2 + 3 * 3
    assert np.array_equal(np.array(oc.patients_mean), expected)
    cohorts = [(a, b, 0) for a, b in path]
    for k, (a, b) in enumerate(path[1:], start=1):
        r = next_dose(d, _history(cohorts[:k], size=1))
        assert (r.rule, r.next_dose, r.next_cohort_size) == ("titration", (a, b), 1)
    r = next_dose(d, _history(cohorts, size=1))
    assert (r.rule, r.decision, r.next_dose, r.next_cohort_size) == ("titration_fill", "stay", (3, 4), 2)
    # a DLT ends it at once; the completed cohort then follows the rules (1/3: stay)
    r = next_dose(d, _history([(1, 1, 0), (1, 2, 1)], size=1))
    assert (r.rule, r.next_dose, r.next_cohort_size) == ("titration_fill", (1, 2), 2)
    with pytest.raises(ValueError, match="does not follow the accelerated titration at cohort 2"):
        next_dose(d, _history([(1, 1, 0), (2, 1, 0)], size=1))
    with pytest.raises(SpecError, match="'titration' parameter of comb-boin is for the one-MTD design"):
        comb_boin(0.3, grid=(3, 4), mtd_contour=True, titration=True)
