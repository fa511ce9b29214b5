"""3+3 against closed-form exact operating characteristics (Storer 1989; Lin & Shih 2001)."""

from itertools import product

import numpy as np
import pytest
from scipy.stats import binom

from adcbridge.dosefinding import exact_oc, simulate, three_plus_three
from tests.refdata import load_reference

REF = load_reference("threeplusthree_storer.json")


@pytest.mark.parametrize("case", REF["scenarios"], ids=[c["id"] for c in REF["scenarios"]])
def test_escalation_only_exact(case):
    p = case["p_true"]
    oc = exact_oc(three_plus_three(len(p), variant="escalation-only"), p)
    sel = [oc.no_mtd_pct / 100] + [v / 100 for v in oc.selection_pct]
    np.testing.assert_allclose(sel, case["p_mtd_none_then_doses"], atol=6e-7)
    assert oc.n_mean == pytest.approx(case["n_mean"], abs=6e-7)
    assert oc.dlt_total_mean == pytest.approx(case["dlt_total_mean"], abs=6e-7)
    if "patients_mean" in case:
        np.testing.assert_allclose(oc.patients_mean, case["patients_mean"], atol=6e-6)


def test_pass_probability():
    pp = REF["pass_probability"]
    for p, q in zip(pp["p"], pp["q"]):
        oc = exact_oc(three_plus_three(2, variant="escalation-only"), [p, 0.999999])
        # passing dose 1 = selecting dose 1 or 2 (dose 2 is almost surely too toxic)
        assert (oc.selection_pct[0] + oc.selection_pct[1]) / 100 == pytest.approx(q, abs=6e-7)


def _deescalation_two_doses(p1, p2):
    """Hand enumeration of the de-escalation variant on two doses -> P(MTD = none, 1, 2)."""
    b = lambda k, p: binom.pmf(k, 3, p)                        # noqa: E731
    # dose 1: pass with 0/3, or 1/3 then 0/3 -> arrives at dose 2 with 3 (0/3) or 6 (1/6) patients at dose 1
    pass3, pass6 = b(0, p1), b(1, p1) * b(0, p1)
    # dose 2 (top): MTD = 2 if <= 1/6 there (0/3 is confirmed by 3 more)
    top_ok = b(0, p2) * (b(0, p2) + b(1, p2)) + b(1, p2) * b(0, p2)
    exceed2 = 1 - top_ok
    # exceeded at dose 2: dose 1 is the MTD if it has 6; with 3 (0/3) it is expanded: MTD if 0 or 1 of 3 more
    mtd1 = exceed2 * (pass6 + pass3 * (b(0, p1) + b(1, p1)))
    mtd2 = (pass3 + pass6) * top_ok
    return 1 - mtd1 - mtd2, mtd1, mtd2


@pytest.mark.parametrize("p1,p2", list(product([0.05, 0.2, 0.4], [0.1, 0.3, 0.6])))
def test_deescalation_variant_two_doses(p1, p2):
    oc = exact_oc(three_plus_three(2), [p1, p2])
    none, m1, m2 = _deescalation_two_doses(p1, p2)
    assert oc.no_mtd_pct / 100 == pytest.approx(none, abs=1e-12)
    assert oc.selection_pct[0] / 100 == pytest.approx(m1, abs=1e-12)
    assert oc.selection_pct[1] / 100 == pytest.approx(m2, abs=1e-12)


def test_monte_carlo_agrees_with_exact():
    p = [0.05, 0.10, 0.20, 0.35, 0.50, 0.70]
    design = three_plus_three(6)
    ex, mc = exact_oc(design, p), simulate(design, p, n_trials=100_000, seed=11)
    z = (np.array(mc.selection_pct) - ex.selection_pct) / np.maximum(mc.se["selection_pct"], 1e-3)
    assert np.all(np.abs(z) < 4)
    assert abs(mc.n_mean - ex.n_mean) / mc.se["n_mean"] < 4
