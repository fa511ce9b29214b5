"""Regression tests of the second review: ODE fits never hang, cycle Cmax, bolus troughs at dose times, multiple
doses from the concentration table, unsorted regimens."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.pk import Regimen, exposure, fit_pk, simulate
from tests.refdata import REFERENCE

NCA = REFERENCE / "nca" / "data"
T = np.array([0.5, 1, 2, 4, 8, 24, 48, 72, 168, 336, 504])
QSS_TRUTH = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "R0": 1.0, "kdeg": 0.05, "kint": 0.1, "Kss": 0.1}


def _study(model, truth, doses, *, noise=0.1, seed=0, output=None, regimen=None, times=T):
    """One animal per dose (S0, S1, ...), log-normal noise ``noise`` drawn animal by animal from ``seed``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, dose in enumerate(doses):
        reg = regimen(dose) if regimen else Regimen.single(dose, 0.5)
        c = simulate(model, truth, reg, times, output=output)[0]
        rows += [(f"S{i}", t, y, dose) for t, y in zip(times, c * np.exp(noise * rng.standard_normal(c.size)))]
    return pd.DataFrame(rows, columns=["ID", "TIME", "CONC", "DOSE"])


def test_individual_mm_fit_finishes_and_recovers_the_truth():
    truth = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "Vmax": 20.0, "Km": 1.0}
    d = _study("mm", truth, [3.0], noise=0.05)
    r = fit_pk(d, "mm", n_starts=1)
    codes = {i.code for i in r.issues}
    assert r.fit_statistics["ofv"].iloc[0] < -49.6
    assert r.estimate("V1") == pytest.approx(truth["V1"], rel=0.1)
    # one dose cannot separate the linear CL from the saturable pathway: CL is either near the truth or, as here
    # (the optimum has CL at its lower bound, OFV -49.63 against -9.20 with CL fixed at 0.5; the walk of log CL
    # to its bound takes ~300 iterations), flagged
    assert r.estimate("CL") == pytest.approx(truth["CL"], rel=0.3) or "at_bound" in codes


def _qss_study(lloq=0.05, seed=0):
    """Five single doses (0.3-30 mg/kg), total drug with 10 % proportional error, BLQ below ``lloq``."""
    d = _study("qss", QSS_TRUTH, [0.3, 1, 3, 10, 30], seed=seed, output="Ctot").assign(ANALYTE="Ctot")
    return d.assign(BLQ=(d["CONC"] < lloq).astype(int))


def test_pooled_qss_fit_from_staged_starts_reaches_the_optimum_near_the_truth():
    """The staged start (linear core, then the target grid) finds the optimum a fit started at the truth finds,
    and the well-determined parameters are recovered within the noise."""
    d = _qss_study()
    r = fit_pk(d, "qss", pooled=True, n_starts=2)
    ref = fit_pk(d, "qss", pooled=True, n_starts=1, start=QSS_TRUTH)
    assert r.fit_statistics["converged"].all()
    assert r.fit_statistics["ofv"].iloc[0] <= ref.fit_statistics["ofv"].iloc[0] + 0.05
    for k, tol in (("CL", 0.1), ("V1", 0.1), ("Q", 0.2), ("V2", 0.2)):
        assert r.estimate(k) == pytest.approx(QSS_TRUTH[k], rel=tol), k
    assert 0.07 < r.estimate("sigma_prop") < 0.13
    codes = {i.code for i in r.issues}
    assert "high_rse" in codes or "high_correlation" in codes     # R0/kint/Kss/kdeg: poorly determined by Ctot

    # the documented two-step fit for samples far below any LLOQ (down to 2e-6 ug/mL): all data from the optimum
    # above the LLOQ.  Before a failed derivative solve counted as a rejected step, this ended with OFV = inf
    # reported as converged.
    full = fit_pk(d.drop(columns="BLQ"), "qss", pooled=True, n_starts=1, start=r.parameters_of("pooled"))
    stats = full.fit_statistics.iloc[0]
    assert stats["converged"] and np.isfinite(stats["ofv"])
    assert 0.07 < full.estimate("sigma_prop") < 0.13
    for k in ("CL", "V1"):
        assert full.estimate(k) == pytest.approx(QSS_TRUTH[k], rel=0.1), k


def test_pooled_mm_fit_recovers_the_truth():
    truth = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "Vmax": 20.0, "Km": 1.0}
    d = _study("mm", truth, [0.3, 1, 3, 10, 30] * 2)
    r = fit_pk(d, "mm", pooled=True, n_starts=2)
    assert r.fit_statistics["converged"].all()
    for k, tol in (("CL", 0.05), ("V1", 0.05), ("Q", 0.15), ("V2", 0.15), ("Vmax", 0.15), ("Km", 0.3)):
        assert r.estimate(k) == pytest.approx(truth[k], rel=tol), k


def test_all_structural_parameters_fixed_fits_the_error_model_only():
    d = _qss_study()
    r = fit_pk(d, "qss", pooled=True, n_starts=1, fixed=QSS_TRUTH)
    assert 0.07 < r.estimate("sigma_prop") < 0.13
    assert r.estimate("CL") == 0.5


def test_stiff_trial_parameters_do_not_hang_the_ode():
    from adcbridge.pk.models import get_model
    from adcbridge.pk.ode import solve_model_ode
    m = get_model("mm")
    p = {"CL": np.array([1.0, 1e7]), "V1": np.array([40.0, 30]), "Q": np.array([1.0, 0.4]),
         "V2": np.array([40.0, 12]), "Vmax": np.array([10.0, 1e9]), "Km": np.array([1.0, 1e6])}
    out = solve_model_ode(m, p, T[None], [[0.0]], [[1.0]], [[0.5]], ["C"], method="LSODA", rtol=1e-10,
                          max_rhs=5000, on_fail="nan")["C"]
    assert np.all(np.isfinite(out[0]))


@pytest.mark.parametrize("duration", [0.0, 1.0])
def test_cycle_exposure_matches_closed_forms(duration):
    k, V, D, tau = 0.1, 10.0, 1.0, 24.0
    r = Regimen.repeated(dose=D, tau=tau, n=3, duration=duration)
    acc = lambda n: (1 - np.exp(-n * k * tau)) / (1 - np.exp(-k * tau))        # noqa: E731
    for cyc in (1, 2, 3):
        e = exposure("1cmt", {"CL": 1.0, "V": V}, r, cycle=cyc).iloc[0]
        if duration == 0:
            cmax = 1000 * D / V * acc(cyc)
        else:
            R = 1000 * D / duration
            cmax = (R / (k * V) * (1 - np.exp(-k * duration))) * acc(cyc)
        trough = 1000 * D / V * acc(cyc) * np.exp(-k * tau) if duration == 0 else \
            R / (k * V) * (1 - np.exp(-k * duration)) * acc(cyc) * np.exp(-k * (tau - duration))
        assert e["cmax"] == pytest.approx(cmax, rel=1e-8), cyc
        assert e["tmax"] == pytest.approx((cyc - 1) * tau + duration, abs=1e-6)
        assert e["ctrough"] == pytest.approx(trough, rel=1e-10)
        assert e["cmin"] == pytest.approx(trough, rel=1e-10)            # not the pre-dose 0 of an infusion


def test_bolus_troughs_at_dose_times_are_pre_dose():
    p = {"CL": 1.0, "V": 10.0}
    t = np.array([0.25, 1, 4, 8, 24, 24.25, 25, 28, 32, 48, 48.25, 49, 52, 56, 72])
    r = Regimen.repeated(1.0, 24, 3)
    c = simulate("1cmt", p, r, t)[0]
    c[t == 24] = simulate("1cmt", p, r, [23.999999999])[0, 0]
    c[t == 48] = simulate("1cmt", p, r, [47.999999999])[0, 0]
    c[t == 24] = 100 * np.exp(-2.4)
    c[t == 48] = 100 * (np.exp(-2.4) + np.exp(-4.8))
    d = pd.DataFrame({"ID": "A", "TIME": t, "CONC": c})
    dos = pd.DataFrame({"ID": "A", "TDOSE": [0, 24, 48], "DOSE": 1.0})
    for method in ("auto", "ode"):
        f = fit_pk(d, "1cmt", dosing=dos, route="bolus", method=method, n_starts=1)
        assert f.estimate("CL") == pytest.approx(1.0, rel=1e-6), method
        assert f.estimate("V") == pytest.approx(10.0, rel=1e-6), method
        assert int(f.fit_statistics["n"].iloc[0]) == 15


def test_multiple_dose_table_without_dosing_uses_the_dose_times():
    d = pd.read_csv(NCA / "cyno_adc_md.csv")
    d = d[d["ID"].isin(d["ID"].unique()[:2])]
    dos = pd.read_csv(NCA / "cyno_adc_md_dosing.csv")
    a = fit_pk(d, "adc", rate_time="day", n_starts=1, tinf="TINF")
    b = fit_pk(d, "adc", rate_time="day", n_starts=1, tinf="TINF", dosing=dos[dos["ID"].isin(d["ID"])])
    pd.testing.assert_frame_equal(a.dosing, b.dosing, check_dtype=False)
    np.testing.assert_allclose(a.table["estimate"], b.table["estimate"], rtol=1e-10)


def test_unsorted_regimen_is_an_error():
    with pytest.raises(ValueError, match="dose 2"):
        Regimen(dose=(1.0, 1.0), time=(24.0, 0.0), duration=(0.0, 0.0))


# ------------------------------------------------------------------------------------- third review (TMDD fits)
def test_repeated_doses_do_not_exhaust_the_ode_work_limit():
    """Four weekly doses of an mm model: the work limit applies per dose interval, so the pooled fit converges
    (with one limit for the whole solve it ended unconverged at OFV 383 with no standard errors)."""
    truth = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "Vmax": 20.0, "Km": 1.0}
    t = np.array([0.5, 4, 24, 72, 168, 168.5, 336, 504, 504.5, 540, 600, 672])
    d = _study("mm", truth, [0.3, 1, 3, 10, 30], seed=1, times=t,
               regimen=lambda dose: Regimen.repeated(dose, 168, 4, duration=0.5))
    d = d.assign(BLQ=(d["CONC"] < 0.05).astype(int))
    dosing = pd.DataFrame([(f"S{i}", 168.0 * k, dose) for i, dose in enumerate([0.3, 1, 3, 10, 30])
                           for k in range(4)], columns=["ID", "TDOSE", "DOSE"])
    r = fit_pk(d, "mm", pooled=True, n_starts=1, dosing=dosing)
    assert r.fit_statistics["converged"].all()
    assert not {"covariance_failed", "not_converged"} & {i.code for i in r.issues}
    for k, tol in (("CL", 0.1), ("V1", 0.1), ("Vmax", 0.15), ("Km", 0.3)):
        assert r.estimate(k) == pytest.approx(truth[k], rel=tol), k


def test_a_parameter_held_at_its_bound_does_not_stall_the_others():
    """Combined error on purely proportional data: sigma_add of S1 runs to its bound.  The step is projected onto
    the bounds before the cap, so the fit converges (it stalled at 300 iterations when the cap came first)."""
    truth = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0}
    d = _study("2cmt", truth, [10, 30])
    r = fit_pk(d, "2cmt", error="combined", n_starts=2)
    assert r.fit_statistics["converged"].all()
    assert r.estimate("sigma_add", "S1") < 1e-4 * r.estimate("sigma_add", "S0")
    assert any(i.code in ("at_bound", "covariance_failed") and "S1: " in i.message and "sigma_add" in i.message
               for i in r.issues)


def test_user_starts_do_not_collapse_the_staged_starts():
    from adcbridge.pk import estimation
    truth = {"CL": 0.5, "V1": 40.0, "Q": 1.2, "V2": 40.0, "Vmax": 20.0, "Km": 1.0}
    d = _study("mm", truth, [1, 10])
    seen = []
    original = estimation.Estimator.minimise

    def spy(self, phi0, *args, **kwargs):
        seen.append(np.array(phi0))
        return original(self, phi0, *args, **kwargs)

    estimation.Estimator.minimise = spy
    try:
        fit_pk(d, "mm", pooled=True, n_starts=3, start=truth)
    finally:
        estimation.Estimator.minimise = original
    main = [s for s in seen if s.shape[1] == 7][-1]           # 6 structural parameters + sigma_prop
    assert len(np.unique(main[:, :6].round(12), axis=0)) == 3
    assert np.allclose(np.exp(main[0, :6]), list(truth.values()))


def test_high_rse_is_reported_for_the_standard_errors_a_partial_covariance_keeps():
    from adcbridge.pk.fit import _unit_issues
    cov = np.diag([0.01, 0.81, np.nan])
    issues = []
    _unit_issues(issues, "S", ["CL", "V1", "sigma_prop"], 2, np.zeros(3), True, cov, np.sqrt(np.diag(cov)),
                 np.array([0.0]), np.full(3, -10.0), np.full(3, 10.0), 1, 1, ["sigma_prop"])
    codes = {i.code: i.message for i in issues}
    assert "covariance_failed" in codes and "V1 (90%)" in codes["high_rse"]


def test_an_uncomputable_hessian_is_not_blamed_on_the_data():
    from adcbridge.pk.fit import _covariance, _unit_issues
    H = np.eye(3)
    H[0, 1] = np.nan
    cov, weak = _covariance(H, ["CL", "V1", "sigma_prop"])
    assert weak is None and np.isnan(cov).all()
    issues = []
    _unit_issues(issues, "S", ["CL", "V1", "sigma_prop"], 2, np.zeros(3), True, cov, np.full(3, np.nan),
                 np.array([np.nan]), np.full(3, -10.0), np.full(3, 10.0), 1, 1, weak)
    msg = [i.message for i in issues if i.code == "covariance_failed"][0]
    assert "could not be computed" in msg and "do not inform" not in msg


def test_combined_error_fits_converge_with_the_observed_curvature():
    """Combined error, 5 % proportional noise: the error SDs trade off along a shallow valley where Fisher scoring
    (expected information) converged linearly and stopped unconverged at 300 iterations (S1).  The curvature of
    the objective itself (without the model's second derivatives) converges in tens of iterations."""
    truth = {"CL": 0.8, "V1": 40.0, "Q": 1.2, "V2": 40.0}
    d = _study("2cmt", truth, [3.0] * 3, noise=0.05, seed=3)
    r = fit_pk(d, "2cmt", error="combined", n_starts=1)
    assert r.fit_statistics["converged"].all()
    assert (r.fit_statistics["iterations"] < 100).all()
    assert r.fit_statistics["ofv"].iloc[1] == pytest.approx(10.4996697, abs=1e-6)


def test_qss_start_uses_the_analyte_with_data_when_the_first_is_all_blq():
    """Free drug C listed first but all BLQ: the start comes from total drug (before, the defaults were used and
    the fit ended unconverged at OFV 337.7 after 300 iterations)."""
    d = _qss_study()
    free = d.assign(ANALYTE="C", BLQ=1)
    both = pd.concat([free, d], ignore_index=True)
    r = fit_pk(both, "qss", pooled=True, n_starts=1, analytes=["C", "Ctot"])
    assert r.fit_statistics["converged"].all()
    assert r.fit_statistics["ofv"].iloc[0] < 251
    assert any(i.code == "covariance_failed" and "sigma_prop[C]" in i.message for i in r.issues)
