"""comb-boin's live decision keeps elimination sticky (as BOIN's): a combination eliminated by the data at the end
of an earlier cohort stays eliminated when it is treated again (a deviation) and its rate falls below the cutoff --
in ``eliminated``, never the next combination, never the MTD -- the reason cites the data at elimination, and
each cohort treated at an eliminated combination is a ``treated_eliminated_dose`` warning."""

from adcbridge.dosefinding import comb_boin, next_dose
from tests.clirun import run
from tests.filehelpers import comb_history as _cohorts


def _warnings(r, code="treated_eliminated_dose"):
    return [i.message for i in r.issues if i.code == code]


WATERFALL = comb_boin(0.3, grid=(3, 4), mtd_contour=True)
W5 = [(1, 1, 0), (2, 1, 0), (3, 1, 3)]
ROW3 = ((3, 1), (3, 2), (3, 3), (3, 4))
STICKY_31 = ("(3, 1) and the rest of its subtrial's path are eliminated (3/3 DLTs at (3, 1) when it was "
             "eliminated: Pr(DLT rate > 0.3) > 0.95); de-escalate to (2, 1) (subtrial 1)")


def test_waterfall_eliminates_at_3_of_3():
    r = next_dose(WATERFALL, _cohorts(W5))
    assert r.eliminated == ROW3 and r.next_dose == (2, 1) and r.rule == "deescalate"
    assert _warnings(r) == []


def test_waterfall_keeps_the_elimination_after_two_more_cohorts():
    r = next_dose(WATERFALL, _cohorts(W5 + [(3, 1, 0)] * 2))
    assert r.eliminated == ROW3
    assert r.next_dose == (2, 1) and r.decision == "de-escalate" and r.rule == "eliminate"
    assert r.reason == "3/9 DLTs at (3, 1): " + STICKY_31
    assert r.mtd is None
    assert _warnings(r) == ["cohort 4 (P10, P11, P12) was treated at (3, 1), which had been eliminated",
                            "cohort 5 (P13, P14, P15) was treated at (3, 1), which had been eliminated"]
    assert [d["cohort"] for d in r.extra["off_protocol"]] == [4, 5]


def test_waterfall_never_makes_an_eliminated_combination_a_subtrial_mtd():
    r = next_dose(WATERFALL, _cohorts(W5 + [(3, 1, 0)] * 3))     # n_earlystop = 12 at (3, 1): not a stop now
    assert r.eliminated == ROW3 and r.next_dose == (2, 1) and r.rule == "eliminate"
    assert r.reason == "3/12 DLTs at (3, 1): " + STICKY_31
    assert "its MTD is (3, 1)" not in r.reason
    assert len(_warnings(r)) == 3
    short = comb_boin(0.3, grid=(3, 4), mtd_contour=True, subtrial_cohorts=(5, 2, 2))
    r = next_dose(short, _cohorts(W5 + [(3, 1, 0)] * 2))        # the first subtrial used its cohorts
    assert r.rule == "next_subtrial" and r.next_dose == (2, 2) and r.eliminated == ROW3
    assert r.reason == "subtrial 1 used its cohorts; its MTD is (2, 1): start subtrial 2 at (2, 2)"


def test_waterfall_contour_never_selects_an_eliminated_combination():
    d = comb_boin(0.3, grid=(2, 3), mtd_contour=True, subtrial_cohorts=(3, 1))
    r = next_dose(d, _cohorts([(1, 1, 0), (2, 1, 3), (2, 1, 0), (1, 1, 0), (1, 2, 0)]))
    assert r.rule == "subtrials_complete" and r.select_mtd
    assert r.eliminated == ((2, 1), (2, 2), (2, 3)) and r.mtd == [(1, 2)]
    assert _warnings(r) == ["cohort 3 (P7, P8, P9) was treated at (2, 1), which had been eliminated"]


def test_waterfall_on_the_command_line(tmp_path, capsys):
    rows = ["patient,cohort,dose_a,dose_b,dlt"]
    for c, (a, b, y) in enumerate(W5 + [(3, 1, 0)] * 2, start=1):
        rows += [f"{3 * (c - 1) + i + 1},{c},{a},{b},{int(i < y)}" for i in range(3)]
    h = tmp_path / "w6.csv"
    h.write_text("\n".join(rows) + "\n")
    code, out, err = run(capsys, "next", "--design", "comb-boin", "--grid", "3x4", "--target", "0.3",
                         "--mtd-contour", "--history", h)
    assert code == 0, err
    assert "eliminated doses: (3, 1), (3, 2), (3, 3), (3, 4)" in out and "next dose: (2, 1)" in out
    assert "warning: cohort 4 (10, 11, 12) was treated at (3, 1), which had been eliminated" in out


ONE = comb_boin(0.3, grid=(3, 3))
QUADRANT_21 = ((2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3))


def test_one_mtd_keeps_the_quadrant_eliminated():
    r = next_dose(ONE, _cohorts([(1, 1, 0), (2, 1, 3), (2, 1, 0)]))
    assert r.eliminated == QUADRANT_21
    assert r.next_dose == (1, 1) and r.decision == "de-escalate" and r.rule == "eliminate"
    assert r.reason == ("3/6 DLTs at (2, 1): (2, 1) and the combinations with more of both agents are eliminated "
                        "(3/3 DLTs at (2, 1) when it was eliminated: Pr(DLT rate > 0.3) > 0.95); de-escalate to "
                        "(1, 1)")
    assert _warnings(r) == ["cohort 3 (P7, P8, P9) was treated at (2, 1), which had been eliminated"]
    assert r.mtd is None


def test_one_mtd_never_selects_an_eliminated_combination():
    d = comb_boin(0.3, grid=(3, 3), n_cohorts=5)
    r = next_dose(d, _cohorts([(1, 1, 0), (2, 1, 3), (2, 1, 0), (2, 1, 0), (2, 1, 0)]))   # (2, 1): 3/12
    assert r.rule == "max_sample_size" and r.select_mtd
    assert r.eliminated == QUADRANT_21 and r.mtd == (1, 1)
    assert len(_warnings(r)) == 3


def test_one_mtd_combination_eliminated_by_another_one():
    r = next_dose(ONE, _cohorts([(1, 1, 0), (1, 2, 0), (2, 2, 3), (2, 3, 0)]))
    assert r.eliminated == ((2, 2), (2, 3), (3, 2), (3, 3))
    assert r.next_dose == (1, 3) and r.rule == "eliminate"
    assert r.reason == ("0/3 DLTs at (2, 3): (2, 3) is eliminated: (2, 2) and the combinations with more of both "
                        "agents are eliminated (3/3 DLTs at (2, 2): Pr(DLT rate > 0.3) > 0.95); de-escalate to "
                        "(1, 3)")
    assert _warnings(r) == ["cohort 4 (P10, P11, P12) was treated at (2, 3), which had been eliminated"]


def test_one_mtd_on_the_protocol_nothing_is_warned():
    r = next_dose(ONE, _cohorts([(1, 1, 0), (1, 2, 3)]))
    assert r.eliminated == ((1, 2), (1, 3), (2, 2), (2, 3), (3, 2), (3, 3)) and r.next_dose == (1, 1)
    assert r.reason.startswith("3/3 DLTs at (1, 2): Pr(DLT rate > 0.3) > 0.95; this combination")
    assert r.issues == ()
