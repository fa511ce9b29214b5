"""Xenograft efficacy: bad input, JSON round trips, closed-form checks (the R comparisons are in
tests/reference/test_assays_xenograft.py)."""

import doctest
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adcbridge.assays import xenograft as xg
from adcbridge.assays.xenograft import (
    TGI_DEFINITIONS,
    XenograftOptions,
    analyze_xenograft,
    best_response,
    classify_response,
    compare_day,
    dunnett_adjusted_p,
    fit_growth_rates,
    group_summary,
    growth_inhibition,
    holm,
    km_median,
    simulate_simeoni,
    time_to_endpoint,
    tumour_volumes,
)
from adcbridge.assays.xenograft.lmm_inference import LmmBlocks, _g_matrices, lmm_inference, theta_from
from adcbridge.results import Result
from adcbridge.spec import SpecError


def _exp_study(rates=None, n=4, days=(0, 3, 7, 10, 14, 17, 21), noise=0.0, seed=0, v0=100.0):
    """Tumours growing exactly (noise 0) as V0 exp(r t), one group per rate."""
    rates = rates or {"Vehicle": 0.1, "Low": 0.05, "High": -0.02}
    rng = np.random.default_rng(seed)
    rows = []
    for g, r in rates.items():
        for i in range(n):
            b = rng.normal(0, 0.01) if noise else 0.0
            a = rng.normal(0, 0.1) if noise else 0.0
            for d in days:
                e = rng.normal(0, noise) if noise and d > 0 else 0.0
                rows.append((g, f"{g}_{i}", float(d), v0 * math.exp(a + (r + b) * d + e)))
    return pd.DataFrame(rows, columns=["group", "animal", "day", "volume"])


_SMALL = pd.DataFrame({"group": ["C"] * 6 + ["T"] * 6,
                       "animal": ["c1"] * 3 + ["c2"] * 3 + ["t1"] * 3 + ["t2"] * 3,
                       "day": [0, 7, 14] * 4,
                       "volume": [100, 300, 700, 100, 500, 1300, 100, 150, 300, 100, 50, 100]})


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("change,match", [
    (lambda d: d.drop(columns="volume"), r"^the tumour volume table: missing column 'volume' \(columns: group, animal, "
                                         r"day\)$"),
    (lambda d: d.assign(volume=d["volume"].astype(object).where(d.index != 4, "big")),
     r"column 'volume', row 5 \(animal 'c2'\): expected a number >= 0, got 'big'$"),
    (lambda d: d.assign(volume=d["volume"].where(d.index != 5, np.nan)),
     r"column 'volume', row 6 \(animal 'c2'\): expected a number >= 0, got an empty cell$"),
    (lambda d: d.assign(volume=d["volume"].where(d.index != 7, -5.0)),
     r"column 'volume', row 8 \(animal 't1'\): expected a number >= 0, got '-5'$"),
    (lambda d: d.assign(day=d["day"].where(d.index != 8, 7)),
     r"column 'day', row 9 \(animal 't1'\): expected more than 7 \(the value on row 8\), got '7'$"),
    (lambda d: d.assign(day=[0, 14, 7] + [0, 7, 14] * 3),
     r"column 'day', row 3 \(animal 'c1'\): expected more than 14 \(the value on row 2\), got '7'$"),
    (lambda d: d.assign(day=d["day"].astype(object).where(d.index != 2, "d14")),
     r"column 'day', row 3 \(animal 'c1'\): expected a number, got 'd14'$"),
    (lambda d: d.assign(group=["C"] * 5 + ["T"] * 7),
     r"column 'group', row 6 \(animal 'c2'\): expected 'C' as on row 4 \(one group per animal\), got 'T'$"),
    (lambda d: d.assign(day=[0, 7, 14, 3, 7, 14] + [0, 7, 14] * 2),
     r"column 'day', row 4 \(animal 'c2'\): expected the baseline day 0 as the animal's first day .*, got '3'$"),
    (lambda d: d.assign(animal=d["animal"].where(d.index != 0, None)),
     r"^the tumour volume table: column 'animal', row 1: expected an animal label, got an empty cell$"),
    (lambda d: d.iloc[0:0], "empty"),
])
def test_bad_volume_tables_name_the_column_and_animal(change, match):
    with pytest.raises(ValueError, match=match):
        tumour_volumes(change(_SMALL.copy()))


def test_zero_baseline_and_zero_volumes():
    with pytest.raises(ValueError, match=r"column 'volume', row 1 \(animal 'c1'\): expected a baseline volume > 0 "
                                         r"\(relative volumes need V0 > 0\), got '0'$"):
        tumour_volumes(_SMALL.assign(volume=_SMALL["volume"].where(_SMALL.index != 0, 0)))
    zero = tumour_volumes(_SMALL.assign(volume=_SMALL["volume"].where(_SMALL.index != 11, 0)))
    with pytest.raises(ValueError, match=r"animal 't2', day 14.*volume_floor"):
        compare_day(zero, control="C", days=[14])
    r = compare_day(zero, control="C", days=[14], volume_floor=1.0)
    assert np.isfinite(r.get(14, "welch", "T - C")["estimate"])


def test_control_is_required_and_must_exist():
    v = tumour_volumes(_SMALL)
    with pytest.raises(ValueError, match="name the control group"):
        growth_inhibition(v, tgi="delta_v", days=[14])
    with pytest.raises(ValueError, match="control group 'Vehicle' is not in column 'group'"):
        growth_inhibition(v, control="Vehicle", tgi="delta_v", days=[14])
    with pytest.raises(ValueError, match="control"):
        time_to_endpoint(v, doubling_time=5.0)
    with pytest.raises(ValueError, match="control"):
        analyze_xenograft(_SMALL, tgi="all", days=[14])


def test_tgi_definition_and_day_must_be_chosen():
    v = tumour_volumes(_SMALL)
    with pytest.raises(ValueError, match="never picks one silently"):
        growth_inhibition(v, control="C", days=[14])
    with pytest.raises(ValueError, match="evaluation day"):
        growth_inhibition(v, control="C", tgi="delta_v")
    with pytest.raises(ValueError, match="no animal was measured on evaluation day 10"):
        growth_inhibition(v, control="C", tgi="delta_v", days=[10])
    with pytest.raises(SpecError, match="'tgi' parameter of xenograft"):
        XenograftOptions(tgi="TGI")
    with pytest.raises(SpecError, match="endpoint_fold"):
        XenograftOptions(endpoint_fold=3, endpoint_volume=1000)
    assert XenograftOptions(tgi="all").tgi == tuple(TGI_DEFINITIONS)


# ------------------------------------------------------------------------------------------- closed forms
def test_tgi_definitions_closed_form():
    r = growth_inhibition(tumour_volumes(_SMALL), control="C", tgi="all", days=[14])
    v = {d: r.value("T", 14, d) for d in TGI_DEFINITIONS if d != "tgi_rate"}
    C_t, T_t, C0, T0 = 1000.0, 200.0, 100.0, 100.0
    assert v["delta_v"] == pytest.approx(100 * (1 - (T_t - T0) / (C_t - C0)))
    assert v["tc_mean"] == pytest.approx(20.0) and v["tgi_tc_mean"] == pytest.approx(80.0)
    assert v["tc_median"] == pytest.approx(20.0)
    assert v["tc_geomean"] == pytest.approx(100 * math.sqrt(300 * 100) / math.sqrt(700 * 1300))
    assert v["tc_rtv"] == pytest.approx(100 * 2.0 / 10.0)
    auc_c = 7 * (100 + 400) / 2 + 7 * (400 + 1000) / 2
    auc_t = 7 * (100 + 100) / 2 + 7 * (100 + 200) / 2
    assert v["tgi_auc"] == pytest.approx(100 * (1 - auc_t / auc_c))
    assert v["nci_tc"] == pytest.approx(100 * 100 / 900) and math.isnan(v["regression"])
    kinds = r.table.set_index("definition")["kind"]
    assert kinds["tc_mean"] == "T/C" and kinds["delta_v"] == "TGI" and kinds["regression"] == "regression"


def test_regression_and_nci_switch():
    d = _SMALL.assign(volume=[100, 300, 700, 100, 500, 1300, 100, 60, 40, 100, 80, 60])
    r = growth_inhibition(tumour_volumes(d), control="C", tgi=["regression", "nci_tc", "delta_v"], days=[14])
    assert r.value("T", 14, "regression") == pytest.approx(-50.0)
    assert r.value("T", 14, "nci_tc") == pytest.approx(-50.0)
    assert r.value("T", 14, "delta_v") == pytest.approx(100 * (1 + 50 / 900))


def test_rate_tgi_from_given_rates():
    r = growth_inhibition(tumour_volumes(_SMALL), control="C", tgi="tgi_rate", days=[14],
                          rates={"C": 0.1, "T": 0.025})
    assert r.value("T", 14, "tgi_rate") == pytest.approx(75.0)


def test_humane_endpoint_drops_later_measurements_and_carry_forward():
    d = _SMALL.assign(volume=[100, 1500, 2500, 100, 500, 1300, 100, 150, 300, 100, 50, 100])
    d = pd.concat([d, pd.DataFrame({"group": ["C", "C", "T"], "animal": ["c1", "c2", "t1"], "day": [21, 21, 21],
                                    "volume": [3000, 1900, 400]})]).sort_values(["animal", "day"])
    v = tumour_volumes(d, humane_endpoint=2000)
    assert v.dropped[["animal", "day"]].values.tolist() == [["c1", 21.0]]
    assert v.left_study == ("c1",)
    avail = group_summary(v).set_index(["group", "day"])
    carry = group_summary(v, carry_forward=True).set_index(["group", "day"])
    assert avail.loc[("C", 21.0), "n"] == 1 and carry.loc[("C", 21.0), "n"] == 2
    assert carry.loc[("C", 21.0), "mean"] == pytest.approx((2500 + 1900) / 2)
    r = growth_inhibition(v, control="C", tgi="tc_mean", days=[21])
    assert any(i.code == "survivor_bias" for i in r.issues)
    rc = growth_inhibition(v, control="C", tgi="tc_mean", days=[21], dropout="carry_forward")
    assert rc.value("T", 21, "tc_mean") == pytest.approx(100 * (400 + 100) / 2 / 2200)    # t2 carried from day 14


def test_exact_exponential_growth():
    d = _exp_study()
    v = tumour_volumes(d)
    g = fit_growth_rates(v, control="Vehicle")
    slopes = g.animal_slopes.groupby("group")["slope"].mean()
    for grp, r in {"Vehicle": 0.1, "Low": 0.05, "High": -0.02}.items():
        assert slopes[grp] == pytest.approx(r, abs=1e-12)
    t = time_to_endpoint(v, control="Vehicle", doubling_time=math.log(2) / 0.1)
    times = t.animals.set_index("group")["time"]
    assert np.allclose(times["Vehicle"], math.log(4) / 0.1, rtol=1e-12)
    assert np.allclose(times["Low"], 21.0) and (t.animals.set_index("group")["event"]["Low"] == 0).all()
    assert t.median("Vehicle") == pytest.approx(math.log(4) / 0.1)
    assert math.isnan(t.median("Low"))
    fixed = time_to_endpoint(v, control="Vehicle", endpoint_volume=200.0, doubling_time=7.0)
    assert fixed.median("Low") == pytest.approx(math.log(2) / 0.05)
    assert fixed.table.set_index("group").loc["Low", "tgd"] == pytest.approx(math.log(2) / 0.05 - math.log(2) / 0.1)
    assert fixed.table.set_index("group").loc["Low", "log10_cell_kill"] == pytest.approx(
        (math.log(2) / 0.05 - math.log(2) / 0.1) / (3.32 * 7.0))


def test_mixed_model_recovers_rates_and_reports_three_df_methods():
    g = fit_growth_rates(tumour_volumes(_exp_study(n=8, noise=0.1, seed=3)), control="Vehicle")
    s = g.table.set_index("group")
    for grp, r in {"Vehicle": 0.1, "Low": 0.05, "High": -0.02}.items():
        assert abs(s.loc[grp, "slope"] - r) < 4 * s.loc[grp, "se"]
        assert s.loc[grp, "doubling_time"] == pytest.approx(math.log(2) / s.loc[grp, "slope"])
    assert s.loc["High", "tgi_rate"] > 100
    assert set(g.anova["method"]) == {"containment", "satterthwaite", "kenward_roger"}
    assert g.contrasts["p_adjusted"].ge(g.contrasts["p"] - 1e-15).all()
    assert not [i for i in g.issues if i.severity == "error"]


def test_kenward_roger_pieces_match_brute_force():
    """The blockwise IE2 (KR) and observed REML Hessian (Satterthwaite) against dense matrices and finite
    differences of the REML deviance."""
    d = _exp_study(n=4, noise=0.15, seed=5)
    v = tumour_volumes(d)
    t = v.table["day"].to_numpy()
    y = np.log(v.table["volume"].to_numpy())
    X = np.column_stack([np.ones_like(t), t, (v.table["group"] == "Low") * t])
    Z = np.column_stack([np.ones_like(t), t])
    G, s2 = np.array([[0.02, 0.0005], [0.0005, 0.0002]]), 0.02
    blocks = LmmBlocks.from_arrays(y, X, Z, v.table["animal"].to_numpy())
    inf = lmm_inference(blocks, G, s2)
    from scipy.linalg import block_diag
    Gm = [block_diag(*[_g_matrices(z)[r] for z in blocks.Z]) for r in range(4)]
    yy, XX = np.concatenate(blocks.y), np.vstack(blocks.X)

    def pieces(th):
        Vi = np.linalg.inv(sum(a * b for a, b in zip(th, Gm)))
        Ph = np.linalg.inv(XX.T @ Vi @ XX)
        return Vi, Ph, Vi - Vi @ XX @ Ph @ XX.T @ Vi

    th = theta_from(G, s2)
    _, Ph, P = pieces(th)
    IE2 = np.array([[np.trace(P @ Gm[r] @ P @ Gm[s]) for s in range(4)] for r in range(4)])
    assert np.allclose(inf.W, 2 * np.linalg.inv(IE2), rtol=1e-8)
    assert np.allclose(inf.phi, Ph, rtol=1e-10)

    def dev(th):
        Vi, Ph, P = pieces(th)
        return -np.linalg.slogdet(Vi)[1] - np.linalg.slogdet(Ph)[1] + yy @ P @ yy

    h = 1e-3 * np.abs(th)
    H = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            H[i, j] = (dev(th + ei + ej) - dev(th + ei - ej) - dev(th - ei + ej) + dev(th - ei - ej)) \
                / (4 * h[i] * h[j])
    assert np.allclose(inf.A, 2 * np.linalg.inv(H), rtol=1e-4)


def test_km_median_rules():
    assert km_median(np.array([1.0, 2, 3, 4]), np.array([0.75, 0.5, 0.25, 0.0]), 4.0) == 2.5   # flat at 0.5
    assert km_median(np.array([1.0, 2]), np.array([0.75, 0.5]), 6.0) == 4.0                    # flat to the end
    assert km_median(np.array([1.0, 2, 3]), np.array([0.8, 0.6, 0.4]), 3.0) == 3.0
    assert math.isnan(km_median(np.array([1.0]), np.array([0.9]), 5.0))


def test_dunnett_and_holm():
    assert dunnett_adjusted_p([2.0], 1.0, [1.0], 10)[0] == pytest.approx(2 * stats.t.sf(2.0, 10))
    assert dunnett_adjusted_p([2.0], 1.0, [1.0])[0] == pytest.approx(2 * stats.norm.sf(2.0))
    v_t = np.array([1.0, 2.0, 0.5])
    lam = np.sqrt(1 / (1 + v_t))
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    for c, df in ((2.3, 12), (2.3, None)):
        if df:             # scipy's randomised QMC: ~1e-6 at 2e5 points
            ref, tol = 1 - stats.multivariate_t(np.zeros(3), R, df=df, seed=1).cdf(
                np.full(3, c), lower_limit=np.full(3, -c), maxpts=200_000), 3e-6
        else:
            ref, tol = 1 - stats.multivariate_normal(np.zeros(3), R, seed=1, abseps=1e-7, releps=1e-7).cdf(
                np.full(3, c), lower_limit=np.full(3, -c)), 1e-7
        assert dunnett_adjusted_p([c, 0.1, 0.1], 1.0, v_t, df)[0] == pytest.approx(ref, abs=tol)
    tiny = dunnett_adjusted_p([9.0, 0.0], 1.0, [1.0, 1.0])[0]        # Bonferroni is exact in the far tail
    assert tiny == pytest.approx(2 * 2 * stats.norm.sf(9.0), rel=1e-6)
    assert holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])


def test_best_response_categories():
    assert classify_response(-96, -41) == "mCR"
    assert classify_response(-96, -30) == "mPR"
    assert classify_response(-60, -10) == "mSD"
    assert classify_response(34, 29) == "mSD"
    assert classify_response(35, 0) == "mPD"
    d = pd.DataFrame({"group": "T", "animal": ["a"] * 5 + ["b"] * 2, "day": [0, 7, 10, 14, 21, 0, 7],
                      "volume": [100.0, 80, 40, 3, 2, 100, 50]})
    r = best_response(tumour_volumes(d))
    a = r.table.set_index("animal")
    assert a.loc["a", "best_response"] == pytest.approx(-98.0) and a.loc["a", "best_response_day"] == 21
    assert a.loc["a", "best_avg_response"] == pytest.approx(np.mean([0, -20, -60, -97, -98]))
    assert a.loc["a", "category"] == "mCR" and pd.isna(a.loc["b", "category"])
    assert any(i.code == "not_evaluable" for i in r.issues)
    counts = r.counts.set_index("category")
    assert counts.loc["mCR", "n"] == 1 and counts.loc["mCR", "n_evaluable"] == 1


def test_simeoni_model_properties():
    no_drug = simulate_simeoni(k2=0.0, days=[0, 5, 10, 20]).table
    assert np.allclose(no_drug["w_treated"], no_drug["w_control"], rtol=1e-8)
    early = simulate_simeoni(days=[0, 1, 2]).table                # exponential phase before the first dose
    assert np.allclose(early["w_control"], 0.15 * np.exp(0.273 * early["day"]), rtol=1e-6)
    with pytest.raises(ValueError, match="increasing"):
        simulate_simeoni(days=[0, 2, 1])


# ------------------------------------------------------------------------------------------- round trips
_FULL: dict = {}


def _full():
    if "r" not in _FULL:
        _FULL["r"] = analyze_xenograft(_exp_study(n=5, noise=0.1, seed=2), control="Vehicle", tgi="all",
                                       days=[14, 21])
    return _FULL["r"]


@pytest.mark.parametrize("part", [None, "growth_inhibition", "day_comparison", "growth_rates", "time_to_endpoint",
                                  "best_response"])
def test_results_round_trip_through_json(part):
    full = _full()
    r = full if part is None else getattr(full, part)
    text = r.to_json()
    json.loads(text)
    back = Result.from_json(text)
    assert type(back) is type(r)
    assert back.spec == r.spec and back.issues == r.issues and back.provenance == r.provenance
    pd.testing.assert_frame_equal(back.table, r.table)
    assert back.to_record() == r.to_record()


def test_simeoni_result_round_trip():
    r = simulate_simeoni(days=[0, 7, 14])
    back = Result.from_json(r.to_json())
    assert back.spec == r.spec
    pd.testing.assert_frame_equal(back.table, r.table)


def test_contract_shape():
    c = _full().to_record()
    json.dumps(c, allow_nan=False)
    assert c["control"] == "Vehicle" and c["tgi_definitions"] == list(TGI_DEFINITIONS)
    assert {"tgi", "day_tests", "growth_rates", "time_to_endpoint", "best_response", "group_summary",
            "issues"} <= set(c)
    first = c["tgi"][0]
    assert set(first) == {"group", "day", "n_treated", "n_control", "values"}
    assert first["values"]["delta_v"]["kind"] == "TGI"
    assert {"slopes", "contrasts", "anova", "tests", "variance_components", "fit", "rtv_model",
            "two_stage"} <= set(c["growth_rates"])


def test_docstring_examples():
    for module in (xg.data, xg.tgi, xg.cross_section, xg.growth, xg.survival, xg.response, xg.simeoni,
                   xg.analysis):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, module.__name__
