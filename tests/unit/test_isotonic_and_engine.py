import numpy as np
import pytest

from adcbridge.dosefinding import boin, compare_designs, crm, three_plus_three
from adcbridge.dosefinding.isotonic import pava, pava_rows


def test_pava_known_answers():
    np.testing.assert_allclose(pava([1, 3, 2, 4]), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(pava([3, 2, 1]), [2, 2, 2])
    np.testing.assert_allclose(pava([1, 3, 2], [1, 1, 3]), [1, 2.25, 2.25])
    np.testing.assert_allclose(pava([0.2, 0.2, 0.1]), [0.5 / 3] * 3)


def test_pava_rows_are_isotonic_and_minimise_weighted_squares():
    rng = np.random.default_rng(0)
    x, w = rng.random((500, 6)), rng.random((500, 6)) + 0.1
    fit = pava_rows(x, w)
    assert np.all(np.diff(fit, axis=1) >= -1e-12)
    # the weighted mean is preserved within each fitted row
    np.testing.assert_allclose((fit * w).sum(1), (x * w).sum(1), rtol=1e-12)
    # no isotonic perturbation does better (check against a few random isotonic candidates)
    loss = ((fit - x) ** 2 * w).sum(1)
    for _ in range(20):
        cand = np.sort(rng.random((500, 6)), axis=1)
        assert np.all(((cand - x) ** 2 * w).sum(1) >= loss - 1e-12)


def test_common_random_numbers_give_small_paired_errors():
    p = [0.05, 0.1, 0.2, 0.3, 0.5]
    designs = {"boin": boin(0.3, 5), "boin-es12": boin(0.3, 5, n_earlystop=12), "3+3": three_plus_three(5)}
    cmp = compare_designs(designs, p, n_trials=20_000, seed=9)
    t = cmp.table.set_index("design")
    assert t.loc["boin", "pcs_diff"] == 0
    # n_earlystop changes the design only slightly: the paired SE is far below an independent-run SE
    indep = np.sqrt(2 * (t.loc["boin", "pcs"] / 100) * (1 - t.loc["boin", "pcs"] / 100) / 20_000) * 100
    assert t.loc["boin-es12", "pcs_diff_se"] < 0.6 * indep
    assert cmp.results[2].n_mean < cmp.results[0].n_mean


def test_crm_simulation_is_sensible():
    c = crm(0.3, 4, skeleton=[0.1, 0.2, 0.3, 0.45], cohorts=8)
    from adcbridge.dosefinding import exact_oc, simulate
    ex = exact_oc(c, [0.05, 0.15, 0.3, 0.5])
    mc = simulate(c, [0.05, 0.15, 0.3, 0.5], n_trials=20_000, seed=4)
    z = (np.array(mc.selection_pct) - ex.selection_pct) / np.maximum(mc.se["selection_pct"], 1e-3)
    assert np.all(np.abs(z) < 4)
    assert ex.selection_pct[2] == max(ex.selection_pct)
    with pytest.raises(ValueError, match="max_states"):
        exact_oc(c, [0.05, 0.15, 0.3, 0.5], max_states=10)
