"""Closed-form checks of the PK models and the simulation API: AUC = dose / CL, superposition, the infusion ->
bolus limit, closed form = ODE, 3-cmt macro constants, and clear errors."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.pk import Regimen, exposure, get_model, macro_constants, simulate
from adcbridge.pk.exponentials import auc_exponentials

P = {"1cmt": {"CL": 0.8, "V": 60.0},
     "2cmt": {"CL": 0.8, "V1": 40.0, "Q": 1.25, "V2": 40.0},
     "3cmt": {"CL": 0.8, "V1": 40.0, "Q2": 3.0, "V2": 20.0, "Q3": 0.4, "V3": 35.0}}
ADC = {"CLcat": 0.5, "CLdec": 1 / 3, "V1": 40.0, "Q": 1.25, "V2": 40.0, "CLpl": 250.0, "Vpl": 1500.0}
ROUTES = [0.0, 0.5, 2.0]


@pytest.mark.parametrize("name", ["1cmt", "2cmt", "3cmt"])
@pytest.mark.parametrize("duration", ROUTES)
def test_auc_to_infinity_is_dose_over_clearance(name, duration):
    e = exposure(name, P[name], Regimen.single(3.0, duration), (0, np.inf))
    assert e["auc"].iloc[0] == pytest.approx(3.0 * 1000 / P[name]["CL"], rel=1e-12)
    # and the numerical integral of the simulated curve agrees
    t = np.concatenate([np.linspace(0, 10, 20001), np.linspace(10, 20000, 200001)[1:]])
    c = simulate(name, P[name], Regimen.single(3.0, duration), t)[0]
    assert np.trapezoid(c, t) == pytest.approx(3.0 * 1000 / P[name]["CL"], rel=1e-4)


@pytest.mark.parametrize("duration", ROUTES)
def test_adc_model_areas(duration):
    r = Regimen.single(2.0, duration)
    auc = {o: exposure("adc", ADC, r, (0, np.inf), output=o)["auc"].iloc[0] for o in ("ADC", "TAb", "PAYLOAD")}
    assert auc["ADC"] == pytest.approx(2000 / (ADC["CLcat"] + ADC["CLdec"]), rel=1e-12)
    assert auc["TAb"] == pytest.approx(2000 / ADC["CLcat"], rel=1e-12)
    # payload: formed at 1000 f CLdec C_ADC (ng/h/kg), cleared by CLpl
    assert auc["PAYLOAD"] == pytest.approx(1000 * 0.025 * ADC["CLdec"] * auc["ADC"] / ADC["CLpl"], rel=1e-10)


@pytest.mark.parametrize("name", ["1cmt", "2cmt", "3cmt", "adc"])
def test_repeated_doses_equal_the_explicit_sum(name):
    p = ADC if name == "adc" else P[name]
    t = np.linspace(0, 1500, 301)
    rep = simulate(name, p, Regimen.repeated(3.0, 168, 4, 0.5), t)
    one = sum(simulate(name, p, Regimen.single(3.0, 0.5, time=168.0 * k), t) for k in range(4))
    np.testing.assert_allclose(rep, one, rtol=1e-13, atol=1e-15)
    shifted = simulate(name, p, Regimen.single(3.0, 0.5), t - 336)
    np.testing.assert_allclose(simulate(name, p, Regimen.single(3.0, 0.5, time=336), t), shifted, atol=1e-15)


@pytest.mark.parametrize("name", ["1cmt", "2cmt", "3cmt"])
def test_infusion_tends_to_bolus(name):
    t = np.array([0.5, 1, 4, 24, 100, 500])
    bolus = simulate(name, P[name], Regimen.single(1.0), t)
    for dur, tol in ((1e-3, 1e-3), (1e-6, 1e-6), (1e-9, 1e-9)):
        np.testing.assert_allclose(simulate(name, P[name], Regimen.single(1.0, dur), t), bolus, rtol=tol)
    assert simulate(name, P[name], Regimen.single(1.0), [0.0])[0, 0] == pytest.approx(1000 / P[name].get(
        "V1", P[name].get("V")))


@pytest.mark.parametrize("name", ["1cmt", "2cmt", "3cmt", "adc"])
@pytest.mark.parametrize("duration", [0.0, 0.5])
def test_closed_form_equals_ode(name, duration):
    m = get_model(name)
    p = ADC if name == "adc" else P[name]
    t = np.array([0.0, 0.25, 0.5, 1, 2, 8, 24, 100, 170, 200, 400, 600])
    r = Regimen.repeated(2.0, 168, 2, duration)
    for o in m.outputs:
        a = simulate(m, p, r, t, output=o)
        b = simulate(m, p, r, t, output=o, method="ode")
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-12 * a.max())


def test_three_compartment_macro_constants_against_the_ode():
    p = P["3cmt"]
    mc = macro_constants(p["CL"], p["V1"], ((p["Q2"], p["V2"]), (p["Q3"], p["V3"])))
    A, lam = mc["coef"][0], mc["lam"][0]
    assert np.all(np.diff(lam) < 0) and A.sum() == pytest.approx(1000 / p["V1"])
    # the product of the eigenvalues is k10 k21 k31 (determinant of the rate matrix)
    assert np.prod(lam) == pytest.approx(p["CL"] / p["V1"] * p["Q2"] / p["V2"] * p["Q3"] / p["V3"], rel=1e-12)
    t = np.array([0.1, 1, 5, 24, 100, 300, 1000])
    closed = 2.0 * (A[None, :] * np.exp(-lam[None, :] * t[:, None])).sum(1)
    ode = simulate("3cmt", p, Regimen.single(2.0), t, method="ode")[0]
    np.testing.assert_allclose(ode, closed, rtol=1e-8)


def test_nonlinear_models_reduce_to_the_linear_one():
    t = np.array([0.5, 2, 24, 100, 300])
    r = Regimen.single(3.0, 0.5)
    lin = simulate("2cmt", P["2cmt"], r, t)
    mm = simulate("mm", {**P["2cmt"], "Vmax": 1e-9, "Km": 1.0}, r, t)
    np.testing.assert_allclose(mm, lin, rtol=1e-8)
    # saturated MM (Km << C) removes Vmax amount per hour; unsaturated (Km >> C) adds clearance Vmax / Km
    mm_lin = simulate("mm", {**P["2cmt"], "CL": 0.5, "Vmax": 0.3 * 1e6, "Km": 1e6}, r, t)
    np.testing.assert_allclose(mm_lin, lin, rtol=1e-4)
    qss = simulate("qss", {**P["2cmt"], "R0": 1e-9, "kdeg": 0.1, "kint": 0.1, "Kss": 1.0}, r, t)
    np.testing.assert_allclose(qss, lin, rtol=1e-7)
    # TMDD: a low dose is cleared faster than a high one (dose-normalised exposure rises with dose)
    pt = {**P["2cmt"], "R0": 1.0, "kdeg": 0.05, "kint": 0.2, "Kss": 0.2}
    low = exposure("qss", pt, Regimen.single(0.1, 0.5), (0, 2000))["auc"].iloc[0] / 0.1
    high = exposure("qss", pt, Regimen.single(30, 0.5), (0, 2000))["auc"].iloc[0] / 30
    assert low < 0.8 * high


def test_simulate_is_vectorised_and_accepts_a_table_of_parameters():
    rng = np.random.default_rng(0)
    n = 1000
    table = pd.DataFrame({k: v * np.exp(0.3 * rng.standard_normal(n)) for k, v in P["2cmt"].items()})
    t = np.linspace(0, 500, 50)
    c = simulate("2cmt", table, Regimen.single(3.0, 0.5), t)
    assert c.shape == (n, 50)
    k = 17
    one = simulate("2cmt", table.iloc[k].to_dict(), Regimen.single(3.0, 0.5), t)[0]
    np.testing.assert_allclose(c[k], one, rtol=1e-14)
    # per-day clearances: the same curve
    per_day = {**P["2cmt"], "CL": P["2cmt"]["CL"] * 24, "Q": P["2cmt"]["Q"] * 24}
    np.testing.assert_allclose(simulate("2cmt", per_day, Regimen.single(3.0, 0.5), t, rate_time="day"),
                               simulate("2cmt", P["2cmt"], Regimen.single(3.0, 0.5), t), rtol=1e-14)
    np.testing.assert_allclose(simulate("2cmt", P["2cmt"], Regimen.single(3.0, 0.5), t / 24, time_unit="day"),
                               simulate("2cmt", P["2cmt"], Regimen.single(3.0, 0.5), t), rtol=1e-14)


def test_exposure_of_a_cycle():
    p = P["1cmt"]
    k = p["CL"] / p["V"]
    r = Regimen.repeated(3.0, 24.0, 5)
    e = exposure("1cmt", p, r, cycle=5).iloc[0]
    c0 = 3000 / p["V"]
    acc = sum(np.exp(-k * 24 * j) for j in range(5))
    assert e["cmax"] == pytest.approx(c0 * acc, rel=1e-10)
    assert e["tmax"] == pytest.approx(96.0)
    assert e["ctrough"] == pytest.approx(c0 * acc * np.exp(-k * 24), rel=1e-12)   # the next dose does not count
    auc = c0 * acc * (1 - np.exp(-k * 24)) / k
    assert e["auc"] == pytest.approx(auc, rel=1e-12) and e["cavg"] == pytest.approx(auc / 24, rel=1e-12)
    # infusion peak at the end of the infusion; payload peak refined inside the interval
    e2 = exposure("2cmt", P["2cmt"], Regimen.single(3.0, 2.0), (0, 504)).iloc[0]
    assert e2["tmax"] == pytest.approx(2.0)
    pl = exposure("adc", ADC, Regimen.single(3.0, 0.5), (0, 504), output="PAYLOAD").iloc[0]
    t = np.linspace(pl["tmax"] - 0.5, pl["tmax"] + 0.5, 2001)
    assert pl["cmax"] >= simulate("adc", ADC, Regimen.single(3.0, 0.5), t, output="PAYLOAD").max() - 1e-12
    assert pl["conc_unit"] == "ng/mL"


def test_auc_over_a_partial_interval_is_exact():
    B, lam = np.array([[2.0, 0.5]]), np.array([[0.3, 0.01]])
    dt, amt, dur = np.array([[0.0, 10.0]]), np.array([[1.0, 2.0]]), np.array([[1.5, 0.0]])
    from scipy.integrate import quad

    from adcbridge.pk.exponentials import conc_exponentials

    def c(t):
        return conc_exponentials(B, lam, np.array([[t]]), dt, amt, dur)[0, 0]

    numeric = quad(c, 3.0, 50.0, points=[10.0], epsabs=1e-13, epsrel=1e-13, limit=200)[0]
    assert auc_exponentials(B, lam, [[3.0]], [[50.0]], dt, amt, dur)[0, 0] == pytest.approx(numeric, rel=1e-11)


@pytest.mark.parametrize("params,match", [
    ({"CL": 0.8, "V1": 40, "Q": 1}, "'V2' is missing"),
    ({"CL": -0.8, "V1": 40, "Q": 1, "V2": 3}, "'CL' must be finite and > 0; got -0.8"),
    ({"CL": [0.8, np.nan], "V1": 40, "Q": 1, "V2": 3}, r"'CL' .* \(parameter set 1\)"),
    ({"CL": [0.8, 1.0], "V1": [40, 30, 20], "Q": 1, "V2": 3}, "different lengths"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        simulate("2cmt", params, Regimen.single(1.0), [1.0])


def test_bad_models_and_regimens():
    with pytest.raises(ValueError, match="unknown PK model '4cmt'"):
        simulate("4cmt", {}, Regimen.single(1.0), [1.0])
    with pytest.raises(ValueError, match="'dose' parameter of regimen"):
        Regimen(dose=(-1.0,), time=(0.0,), duration=(0.0,))
    with pytest.raises(ValueError, match="same length"):
        Regimen(dose=(1.0, 2.0), time=(0.0,), duration=(0.0,))
    with pytest.raises(ValueError, match="'tau'"):
        Regimen.repeated(1.0, 0.0, 3)
    with pytest.raises(ValueError, match="longer than tau"):
        Regimen.repeated(1.0, 1.0, 3, duration=2.0)
    with pytest.raises(ValueError, match="predicts"):
        simulate("adc", ADC, Regimen.single(1.0), [1.0], output="DAR4")
    with pytest.raises(ValueError, match="cycle"):
        exposure("2cmt", P["2cmt"], Regimen.single(1.0), cycle=2)
    assert Regimen.repeated(1.0, 3, 2, time_unit="day").time == (0.0, 72.0)


def test_parameter_declarations_are_complete():
    from adcbridge.pk import MODELS
    for _name, cls in MODELS.items():
        m = cls()
        assert m.names and len(set(m.names)) == len(m.names)
        for p in m.parameters:
            assert 0 < p.lower < p.start < p.upper and p.description
            assert m.unit(p.name)
    assert get_model("2cmt", rate_time="day").unit("CL") == "mL/day/kg"
    assert get_model("2cmt", per_kg=False).unit("V1") == "mL"
