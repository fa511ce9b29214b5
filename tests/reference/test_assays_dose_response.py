"""adcbridge.assays.dose_response against R drc 3.0-1 (R 4.2.2); see tests/reference/SOURCES.md.

Every row of every drc CSV is compared, matched by its label (drc orders ED/EDcomp rows alphabetically and
compParm rows by fitted parameter, so positions differ between fits).  The generating drc call of each fit is
stored in ``drc_oracle.json`` and quoted in ``CASES``.

Tolerances.  drc stops BFGS at a relative tolerance of 1e-7, so its estimates can sit away from the least-squares
optimum that adcbridge reaches (SPEC.md, "drc stops short").  Where drc reached it (its RSS equals ours to 1e-10)
estimates are compared at 1e-5; where it stopped short the test first shows that our RSS is *lower* than drc's
and that our estimates equal an independent re-minimisation started from drc's own estimates (1e-6), then
compares with drc at a tolerance that covers how far drc stopped (``DRC_DISTANCE``, from drc's own numbers).
drc-compatible standard errors are checked at 1e-4 at drc's own estimates (same point, same formula), except
where drc's finite-difference Hessian (optim's ``optimhess``, steps of 1e-3 x |start|) is itself off by more.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from adcbridge.assays.dose_response import anova, fit_dose_response, nested_f_test
from tests.refdata import REFERENCE, load_reference

FIT = REFERENCE / "fit"
ORACLE = load_reference("fit", "drc_oracle.json")


def _data(name):
    return pd.read_csv(FIT / "data" / f"drc_{name}.csv")


RYE, ALBA, SPINACH = _data("ryegrass"), _data("S.alba"), _data("spinach")

#: key -> (data, fit options); the drc call is ORACLE[key]["call"]
CASES = {
    "ryegrass_LL4": (RYE, dict(x="conc", y="rootl", model="LL.4")),        # drm(rootl ~ conc, fct = LL.4())
    "ryegrass_LL5": (RYE, dict(x="conc", y="rootl", model="LL.5")),
    "ryegrass_W14": (RYE, dict(x="conc", y="rootl", model="W1.4")),
    "ryegrass_W24": (RYE, dict(x="conc", y="rootl", model="W2.4")),
    "ryegrass_LL3": (RYE, dict(x="conc", y="rootl", model="LL.3")),
    "ryegrass_nozero_LL4": (RYE[RYE["conc"] > 0], dict(x="conc", y="rootl", model="LL.4")),
    "S.alba_LL4_full": (ALBA, dict(x="Dose", y="DryMatter", curve="Herbicide")),
    "S.alba_LL4_parallel": (ALBA, dict(x="Dose", y="DryMatter", curve="Herbicide", shared="parallel")),
    "S.alba_LL4_common_cd": (ALBA, dict(x="Dose", y="DryMatter", curve="Herbicide", shared=("c", "d"))),
    "spinach_LL4_full": (SPINACH, dict(x="DOSE", y="SLOPE", curve="CURVE")),
    "spinach_LL4_parallel": (SPINACH, dict(x="DOSE", y="SLOPE", curve="CURVE", shared="parallel")),
}

#: largest relative distance of drc's estimates from the optimum, rounded up (1e-5 where drc converged)
DRC_DISTANCE = {
    "ryegrass_LL4": 1e-5, "ryegrass_LL3": 1e-5, "S.alba_LL4_parallel": 1e-5,
    "ryegrass_W14": 5e-5, "ryegrass_nozero_LL4": 5e-5, "ryegrass_W24": 1e-4,
    "spinach_LL4_parallel": 5e-4, "spinach_LL4_full": 1e-3, "ryegrass_LL5": 1e-3,
    "S.alba_LL4_full": 2e-3, "S.alba_LL4_common_cd": 3e-3,
}
#: drc-type SEs at drc's own estimates: 1e-4, except where optim's finite-difference Hessian is off by more
SE_AT_DRC = {"ryegrass_LL5": 3e-3, "spinach_LL4_parallel": 2e-4}
#: SEs, ED SEs and CIs at our optimum: drc's estimates move the Hessian by about this much (SEs react ~2-3x)
SE_AT_OPTIMUM = {k: max(1e-4, 3 * v) for k, v in DRC_DISTANCE.items()}
SE_AT_OPTIMUM["ryegrass_LL5"] = 5e-3


@pytest.fixture(scope="module")
def fits():
    return {key: fit_dose_response(data, test_parallelism=False, **opts) for key, (data, opts) in CASES.items()}


def _read(name):
    return pd.read_csv(FIT / name)


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.abs(b)


def _drc_vector(key, fit, field="estimate"):
    coefs = {c["param"]: c[field] for c in ORACLE[key]["coefficients"]}
    assert set(coefs) == set(fit.terms)
    return np.array([coefs[t] for t in fit.terms])


def _assert_p(ours, drc, t, t_rtol):
    """Two-sided p-values.  drc computes p = pt(-|t|) + (1 - pt(|t|)); the second term cancels to 0 below ~1e-16,
    so drc's tiny p-values are one-sided (half ours).  An error dt in t moves ln p by at most about
    (|t| + 1) dt (the hazard of the t distribution); dt is allowed t_rtol max(1, |t|), as for t itself."""
    ours, drc, t = (np.asarray(v, dtype=float) for v in (ours, drc, t))
    drc = np.where(drc < 1e-15, 2 * drc, drc)
    allowed = 1e-6 + 2 * (np.abs(t) + 1) * t_rtol * np.maximum(1, np.abs(t))
    assert np.all(np.abs(np.log(ours / drc)) <= allowed), (ours, drc)


# ------------------------------------------------------------------------------------------ the fits
@pytest.mark.parametrize("key", [k for k in CASES if not k.startswith(("S.alba", "spinach"))])
def test_self_starter_is_drcs(fits, key):
    assert np.allclose(fits[key].start, ORACLE[key]["start"], rtol=1e-10)


@pytest.mark.parametrize("key", CASES)
def test_reaches_the_least_squares_optimum(fits, key):
    """Our RSS is never above drc's, and our estimates equal an independent re-minimisation from drc's."""
    fit = fits[key]
    drc_rss = ORACLE[key]["stats"][0]["rss"]
    assert fit.rss <= drc_rss * (1 + 1e-12)
    assert fit.rss >= drc_rss * (1 - 1e-5)                      # the same optimum, not another one
    assert fit.converged and not [i for i in fit.issues if i.code in ("not_converged", "non_identifiable")]

    obs = fit.observations
    codes = pd.Categorical(obs["curve"], categories=list(fit.curves)).codes
    x, y, model = obs["x"].to_numpy(), obs["y"].to_numpy(), fit.spec.model

    def residuals(theta):                                        # the model written out here, independently
        b, c, d, e, f = fit.layout.full(theta)[codes].T
        with np.errstate(divide="ignore"):
            z = b * (np.log(x) - np.log(e))
        h = {"W1.4": np.exp(-np.exp(z)), "W2.4": 1 - np.exp(-np.exp(z))}.get(model, 1 / (1 + np.exp(z)) ** f)
        return c + (d - c) * h - y
    ref = least_squares(residuals, _drc_vector(key, fit), method="lm", x_scale="jac", ftol=1e-15, xtol=1e-15,
                        gtol=1e-15)
    assert np.all(_rel(fit.estimates, ref.x) < 1e-6)
    assert fit.rss <= 2 * ref.cost * (1 + 1e-12)


def test_ls_optimum_file(fits):
    """drc_ls_optimum.csv: Levenberg-Marquardt at 1e-15 from drc's estimates."""
    table = _read("drc_ls_optimum.csv")
    for key, rows in table.groupby("key"):
        est = fits[key].table.set_index("term")["estimate"]
        assert np.all(_rel(est.loc[rows["param"]].to_numpy(), rows["estimate_ls_optimum"]) < 1e-6), key
        assert np.all(_rel(est.loc[rows["param"]].to_numpy(), rows["estimate_drc"]) < DRC_DISTANCE[key]), key
        assert fits[key].rss <= rows["rss_ls_optimum"].iloc[0] * (1 + 1e-10)


def test_params_file(fits):
    """Every row of drc_params.csv: estimate, SE, t and p."""
    table = _read("drc_params.csv")
    assert set(table["key"]) == set(CASES)
    for key, rows in table.groupby("key"):
        ours = fits[key].table.set_index("term").loc[rows["param"]]
        assert len(ours) == len(rows) == len(fits[key].terms)
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < DRC_DISTANCE[key]), key
        assert np.all(_rel(ours["se"], rows["se"]) < SE_AT_OPTIMUM[key]), key
        assert np.all(_rel(ours["t"], rows["t"]) < SE_AT_OPTIMUM[key]), key
        _assert_p(ours["p"], rows["p"], rows["t"], SE_AT_OPTIMUM[key])


@pytest.mark.parametrize("key", CASES)
def test_drc_standard_errors_at_drcs_estimates(fits, key):
    """The drc-compatible vcov, [Hessian of RSS / (2 s^2)]^-1, evaluated where drc stopped: SEs at 1e-4 and the
    whole matrix (relative to sqrt(v_ii v_jj)) likewise."""
    fit = fits[key]
    V = fit.covariance_at(_drc_vector(key, fit), kind="drc")
    drc_se = _drc_vector(key, fit, "se")
    tol = SE_AT_DRC.get(key, 1e-4)
    assert np.all(_rel(np.sqrt(np.diag(V)), drc_se) < tol)
    names = [c["param"] for c in ORACLE[key]["coefficients"]]
    order = [names.index(t) for t in fit.terms]
    drc_v = np.asarray(ORACLE[key]["vcov"])[np.ix_(order, order)]
    scale = np.sqrt(np.outer(np.diag(drc_v), np.diag(drc_v)))
    assert np.all(np.abs(V - drc_v) / scale < 2 * tol)


def test_jacobian_standard_errors_differ_as_documented(fits):
    """Gauss-Newton SEs are the nls/Prism/curve_fit ones: SE(e) on ryegrass 0.185832 vs drc 0.185731."""
    fit = fits["ryegrass_LL4"]
    se_jac = fit.standard_errors("jacobian")
    assert se_jac[3] == pytest.approx(0.185832, rel=2e-5)
    assert fit.standard_errors("drc")[3] == pytest.approx(0.185731, rel=2e-5)


def test_fitstats_file(fits):
    table = _read("drc_fitstats.csv")
    assert set(table["key"]) == set(CASES)
    for row in table.itertuples():
        stat = fits[row.key].statistics
        assert (stat["n"], stat["npar"], stat["df_residual"]) == (row.n, row.npar, row.df_residual)
        assert stat["rss"] <= row.rss * (1 + 1e-12)
        for name in ("rss", "residual_se", "logLik", "AIC", "BIC"):
            assert _rel(stat[name], getattr(row, name)) < 1e-5, (row.key, name)


def test_fitted_values_and_prediction_intervals(fits):
    """The model function at drc's estimates reproduces drc's fitted values; predict(interval="confidence")."""
    for key, fit in fits.items():
        theta = fit.layout.full(_drc_vector(key, fit))
        obs = fit.observations
        codes = pd.Categorical(obs["curve"], categories=list(fit.curves)).codes
        pred = fit.dose_response_model.predict(obs["x"].to_numpy(), theta[codes])
        assert np.allclose(pred, ORACLE[key]["fitted"], rtol=1e-12, atol=1e-12), key
    for key in ("ryegrass_LL4", "ryegrass_LL5", "ryegrass_W14"):
        grid = pd.DataFrame(ORACLE[key]["predict_grid"])
        ours = fits[key].predict_interval(grid["conc"].to_numpy())
        tol = SE_AT_OPTIMUM[key]
        assert np.all(_rel(ours["prediction"], grid["Prediction"]) < DRC_DISTANCE[key])
        assert np.all(np.abs(ours["lower"] - grid["Lower"]) < tol * (grid["Upper"] - grid["Lower"]))
        assert np.all(np.abs(ours["upper"] - grid["Upper"]) < tol * (grid["Upper"] - grid["Lower"]))


def test_lack_of_fit(fits):
    lof = fits["ryegrass_LL4"].lack_of_fit()
    rows = ORACLE["ryegrass_LL4"]["lack_of_fit"]
    assert lof.df_full == rows[0]["ModelDf"] and lof.rss_full == pytest.approx(rows[0]["RSS"], rel=1e-12)
    assert lof.f == pytest.approx(rows[1]["F"], rel=1e-5) and lof.p == pytest.approx(rows[1]["p"], rel=1e-5)


# ----------------------------------------------------------------------------------- effective doses
def test_ed_file(fits):
    """Every row of drc_ed.csv: estimate, delta SE, delta and log-scale ("tfls") intervals."""
    table = _read("drc_ed.csv")
    assert set(table["key"]) == set(CASES)
    for key, rows in table.groupby("key"):
        ours = fits[key].ed([10, 50, 90]).set_index("label").loc[rows["label"]]
        width = (rows["upper_delta"] - rows["lower_delta"]).to_numpy()
        tol = SE_AT_OPTIMUM[key]
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < DRC_DISTANCE[key]), key
        assert np.all(_rel(ours["se"], rows["se"]) < tol), key
        for mine, theirs in (("ci_low", "lower_delta"), ("ci_high", "upper_delta"), ("ci_low_log", "lower_tfls"),
                             ("ci_high_log", "upper_tfls")):
            # an interval bound near 0 has no meaningful relative error: measure against the interval width
            assert np.all(np.abs(ours[mine].to_numpy() - rows[theirs].to_numpy()) < tol * width), (key, mine)


def test_ed_stored_on_the_result_is_the_spec_levels(fits):
    fit = fits["ryegrass_LL4"]
    assert fit.ed_table["level"].tolist() == [10.0, 50.0, 90.0]
    assert fit.ed_table.loc[1, "ci_low"] == pytest.approx(2.67052620764518, rel=1e-5)
    assert fit.ed_table.loc[1, "ci_high"] == pytest.approx(3.44538372545092, rel=1e-5)


# ------------------------------------------------------------------------------- potency and compParm
REL_KEYS = {"S.alba_full": "S.alba_LL4_full", "S.alba_parallel": "S.alba_LL4_parallel",
            "spinach_full": "spinach_LL4_full", "spinach_parallel": "spinach_LL4_parallel"}


def test_relative_potency_file(fits):
    """Every row of drc_relpot_EDcomp.csv (delta, Fieller and log-scale intervals; t-test of R = 1)."""
    table = _read("drc_relpot_EDcomp.csv")
    table["interval"] = table["interval"].str.replace(r"^log-scale.*", "log", regex=True)
    for short, rows in table.groupby("key"):
        key = REL_KEYS[short]
        pairs = list(dict.fromkeys(tuple(c.split(":")[0].split("/")) for c in rows["comparison"]))
        ours = fits[key].relative_potency((50, 50), pairs=pairs).set_index(["comparison", "interval"])
        ours = ours.loc[list(zip(rows["comparison"], rows["interval"]))]
        tol = SE_AT_OPTIMUM[key]
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < DRC_DISTANCE[key]), short
        assert np.all(_rel(ours["se"], rows["se"]) < tol), short
        width = (rows["upper"] - rows["lower"]).to_numpy()
        assert np.all(np.abs(ours["ci_low"].to_numpy() - rows["lower"].to_numpy()) < tol * width), short
        assert np.all(np.abs(ours["ci_high"].to_numpy() - rows["upper"].to_numpy()) < tol * width), short
        assert np.all(np.abs(ours["t"].to_numpy() - rows["t_vs_1"].to_numpy()) < tol * np.maximum(
            1, np.abs(rows["t_vs_1"].to_numpy()))), short
        _assert_p(ours["p"], rows["p_vs_1"], rows["t_vs_1"], tol)


def test_relative_potency_fieller_at_drcs_point(fits):
    """Fieller's interval at drc's converged parallel fit, tighter: S.alba Bentazone/Glyphosate 0.4254."""
    rp = fits["S.alba_LL4_parallel"].relative_potency(pairs=[("Bentazone", "Glyphosate")])
    row = rp.set_index("interval").loc["fieller"]
    assert row["ci_low"] == pytest.approx(0.351121573018544, rel=2e-5)
    assert row["ci_high"] == pytest.approx(0.519972936405672, rel=2e-5)


def test_compparm_file(fits):
    """Every row of drc_compParm_e.csv (ratios of e, SE, t-test of ratio = 1)."""
    table = _read("drc_compParm_e.csv")
    for short, rows in table.groupby("key"):
        key = REL_KEYS[short]
        pairs = [tuple(c.split("/")) for c in rows["comparison"]]
        ours = fits[key].compare_parameters("e", "/", pairs=pairs).set_index("comparison").loc[rows["comparison"]]
        tol = SE_AT_OPTIMUM[key]
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < DRC_DISTANCE[key]), short
        assert np.all(_rel(ours["se"], rows["se"]) < tol), short
        assert np.all(np.abs(ours["t"].to_numpy() - rows["t"].to_numpy()) < tol * np.maximum(
            1, np.abs(rows["t"].to_numpy()))), short
        _assert_p(ours["p"], rows["p"], rows["t"], tol)


# ------------------------------------------------------------------------------------------ parallelism
ANOVA = {"S.alba: parallel (reduced) vs separate (full)": ("S.alba_LL4_parallel", "S.alba_LL4_full"),
         "S.alba: common c,d (reduced) vs separate (full)": ("S.alba_LL4_common_cd", "S.alba_LL4_full"),
         "spinach: parallel (reduced) vs separate (full)": ("spinach_LL4_parallel", "spinach_LL4_full")}


def test_anova_parallelism_file(fits):
    """Every row of drc_anova_parallelism.csv: both models' RSS and df, F and p."""
    table = _read("drc_anova_parallelism.csv")
    for comparison, rows in table.groupby("comparison", sort=False):
        reduced, full = ANOVA[comparison]
        first, second = rows.iloc[0], rows.iloc[1]
        test = anova(fits[reduced], fits[full])
        assert (test.df_reduced, test.df_full) == (first["ModelDf"], second["ModelDf"])
        assert test.df_num == second["Df"]
        assert _rel(test.rss_reduced, first["RSS"]) < 1e-5 and _rel(test.rss_full, second["RSS"]) < 1e-5
        # drc's F uses its own (slightly higher) RSS; from drc's RSS our formula gives drc's F exactly
        again = nested_f_test(first["RSS"], first["ModelDf"], second["RSS"], second["ModelDf"])
        assert again.f == pytest.approx(second["F"], rel=1e-12)
        if second["p"] > 0:
            assert again.p == pytest.approx(second["p"], rel=1e-10)
        else:                                                    # drc's 1 - pf(F) cancels to 0 in double precision
            assert again.p < 1e-16
        assert _rel(test.f, second["F"]) < 1e-3
        if second["p"] > 0:
            assert _rel(test.p, second["p"]) < 1e-3
        else:                                                    # drc's 1 - pf(F) cancels to 0
            assert test.p < 1e-40


def test_parallelism_reported_on_the_fit():
    fit = fit_dose_response(ALBA, x="Dose", y="DryMatter", curve="Herbicide")
    assert fit.parallelism.f == pytest.approx(2.7470853255809, rel=1e-4)
    assert fit.parallelism.p == pytest.approx(0.0506590641325864, rel=1e-4)
    assert (fit.parallelism.df_num, fit.parallelism.df_den) == (3, 60)
    contract = fit.to_record()
    assert contract["parallelism"]["f"] == pytest.approx(2.7470853255809, rel=1e-4)
    assert contract["df_residual"] == 60


def test_prism_terms_map_drc_signs(fits):
    prism = fits["ryegrass_LL4"].prism_terms().set_index("term")["estimate"]
    assert prism["HillSlope"] == pytest.approx(-2.98221907127508, rel=1e-5)
    assert prism["Bottom"] == pytest.approx(0.48141318844625, rel=1e-5)
    assert prism["Top"] == pytest.approx(7.79295829369992, rel=1e-5)
    assert prism["LogEC50"] == pytest.approx(np.log10(3.05795496654805), rel=1e-6)


# ------------------------------------------------------------------- the same formulas at drc's own point
def _at_drc(fit, key):
    """The fit with drc's estimates and the drc-type vcov evaluated there: isolates the ED, EDcomp and compParm
    formulas from where drc stopped."""
    est = _drc_vector(key, fit)
    return dataclasses.replace(fit, estimates=est, vcov_drc=fit.covariance_at(est, kind="drc"))


def test_inference_at_drcs_estimates(fits):
    """ED, relative potency and compParm computed at drc's estimates: estimates to 1e-10, SEs, t and interval
    bounds (relative to the interval width) to 1e-4 (drc's own Hessian error where larger, SE_AT_DRC)."""
    ed = _read("drc_ed.csv")
    for key, rows in ed.groupby("key"):
        tol = SE_AT_DRC.get(key, 1e-4)
        ours = _at_drc(fits[key], key).ed([10, 50, 90]).set_index("label").loc[rows["label"]]
        width = (rows["upper_delta"] - rows["lower_delta"]).to_numpy()
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < 1e-10), key
        assert np.all(_rel(ours["se"], rows["se"]) < tol), key
        for mine, theirs in (("ci_low", "lower_delta"), ("ci_high", "upper_delta"), ("ci_low_log", "lower_tfls"),
                             ("ci_high_log", "upper_tfls")):
            assert np.all(np.abs(ours[mine].to_numpy() - rows[theirs].to_numpy()) < tol * width), (key, mine)
    rp = _read("drc_relpot_EDcomp.csv")
    rp["interval"] = rp["interval"].str.replace(r"^log-scale.*", "log", regex=True)
    cp = _read("drc_compParm_e.csv")
    for short, key in REL_KEYS.items():
        tol = SE_AT_DRC.get(key, 1e-4)
        at = _at_drc(fits[key], key)
        rows = rp[rp["key"] == short]
        pairs = list(dict.fromkeys(tuple(c.split(":")[0].split("/")) for c in rows["comparison"]))
        ours = at.relative_potency(pairs=pairs).set_index(["comparison", "interval"])
        ours = ours.loc[list(zip(rows["comparison"], rows["interval"]))]
        # Fieller's bounds amplify a variance error where ED2^2 - t^2 var(ED2) is small (up to 4x here)
        width = (rows["upper"] - rows["lower"]).to_numpy() * np.where(rows["interval"] == "fieller", 4, 1)
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < 1e-10), short
        assert np.all(_rel(ours["se"], rows["se"]) < tol), short
        assert np.all(np.abs(ours["ci_low"].to_numpy() - rows["lower"].to_numpy()) < tol * width), short
        assert np.all(np.abs(ours["ci_high"].to_numpy() - rows["upper"].to_numpy()) < tol * width), short
        _assert_p(ours["p"], rows["p_vs_1"], rows["t_vs_1"], tol)
        rows = cp[cp["key"] == short]
        ours = at.compare_parameters("e", pairs=[tuple(c.split("/")) for c in rows["comparison"]])
        ours = ours.set_index("comparison").loc[rows["comparison"]]
        assert np.all(_rel(ours["estimate"], rows["estimate"]) < 1e-10), short
        assert np.all(_rel(ours["se"], rows["se"]) < tol), short
        assert np.all(np.abs(ours["t"].to_numpy() - rows["t"].to_numpy()) < tol * np.abs(rows["t"].to_numpy()))
        _assert_p(ours["p"], rows["p"], rows["t"], tol)
