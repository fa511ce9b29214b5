"""PKFitResult.curves(): all subjects predicted together equal the per-subject simulation on the same grid."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from adcbridge.pk import Regimen, fit_pk, simulate
from adcbridge.pk.ode import ODEFailure

TWO = {"CL": 0.8, "V1": 40.0, "Q": 1.2, "V2": 40.0}
MM = {**TWO, "Vmax": 20.0, "Km": 1.0}
ADC = {"CLcat": 0.5, "CLdec": 0.33, "V1": 40.0, "Q": 1.2, "V2": 40.0, "CLpl": 250.0, "Vpl": 1500.0}
T = np.array([0.25, 1, 4, 12, 24, 30, 48, 72, 100, 168])
# subject -> (dose times h, doses mg/kg, durations h; 0 = bolus): a single infusion, repeated infusions, a bolus,
# boluses and infusions, six doses.  curves() predicts subjects with 1, 2, 3-4, 5-8 doses together: B's doses are
# padded to D's four with a zero dose, A's and C's grids (of different lengths) to a common length.
DESIGNS = {"A": ([0.0], [3.0], [0.5]), "B": ([0.0, 24.0, 48.0], [1.0, 1.0, 2.0], [0.5, 0.5, 1.0]),
           "C": ([0.0], [2.0], [0.0]), "D": ([0.0, 24.0, 72.0, 96.0], [1.0, 0.5, 3.0, 1.0], [0.0, 0.5, 2.0, 0.0]),
           "E": ([0.0, 24.0, 48.0, 72.0, 96.0, 120.0], [1.0] * 6, [0.5] * 6)}


def regimen(sid):
    t, d, u = DESIGNS.get(sid, DESIGNS["A"])                   # F: A's dose
    return Regimen(dose=tuple(d), time=tuple(t), duration=tuple(u))


def study(model="2cmt", params=TWO, analytes=("C",), seed=0):
    """Every design with 5 % log-normal noise, plus subject F (A's dose) with only 2 samples (too few for an
    individual fit: not fitted, NaN estimates)."""
    rng = np.random.default_rng(seed)
    rows, doses = [], []
    for sid, (t, d, u) in DESIGNS.items():
        for a in analytes:
            c = simulate(model, params, regimen(sid), T, output=None if a == "C" else a)[0]
            rows.append(pd.DataFrame({"ID": sid, "TIME": T, "CONC": c * np.exp(0.05 * rng.standard_normal(T.size)),
                                      "ANALYTE": a}))
        doses.append(pd.DataFrame({"ID": sid, "TDOSE": t, "DOSE": d, "TINF": u}))
    rows.append(pd.DataFrame({"ID": "F", "TIME": [1.0, 4.0], "CONC": [50.0, 40.0], "ANALYTE": analytes[0]}))
    doses.append(pd.DataFrame({"ID": "F", "TDOSE": [0.0], "DOSE": [3.0], "TINF": [0.5]}))
    return pd.concat(rows, ignore_index=True), pd.concat(doses, ignore_index=True)


def grid(sid, obs_times, n):
    """The documented grid: n even points on [min(0, first sample), last sample], the dose times, infusion ends
    and the points just after them, restricted to that range."""
    lo, hi = min(0.0, float(np.min(obs_times))), float(np.max(obs_times))
    t, _, u = map(np.asarray, DESIGNS.get(sid, DESIGNS["A"]))
    marks = np.concatenate([t, t + u])
    after = (marks[:, None] + max(hi - lo, 1e-9) * np.array([1e-4, 2e-3, 1e-2])).ravel()
    g = np.unique(np.concatenate([np.linspace(lo, hi, n), marks, after]))
    return g[(g >= lo) & (g <= hi)]


def check_curves(r, n=200, rtol=1e-12):
    """Each subject's and analyte's curve is ``simulate`` of its own parameters and doses on its own grid."""
    c = r.curves(n)
    assert list(c.columns) == ["subject", "id", "analyte", "time", "pred"]
    model, obs = r.model(), r.predictions
    for (sid, a), g in c.groupby(["subject", "analyte"], sort=False):
        uid = g["id"].iloc[0]
        assert (g["id"] == uid).all()
        assert uid == r.subject_unit.set_index("subject").loc[sid, "id"]
        np.testing.assert_array_equal(g["time"], grid(sid, obs.loc[obs["subject"] == sid, "time"], n))
        want = simulate(model, r.parameters_of(uid), regimen(sid), g["time"].to_numpy(),
                        output=None if len(model.outputs) == 1 else a)[0]
        np.testing.assert_allclose(g["pred"], want, rtol=rtol, atol=0, err_msg=f"{sid} {a}")
    return c


@pytest.fixture(scope="module")
def fit2():
    d, doses = study()
    return fit_pk(d.drop(columns="ANALYTE"), "2cmt", dosing=doses, tinf="TINF", n_starts=1)


def test_individual_curves_equal_per_subject_simulation(fit2):
    c = check_curves(fit2)
    assert list(pd.unique(c["subject"])) == ["A", "B", "C", "D", "E"]         # F (NaN estimates) left out
    assert c.groupby("subject").size().min() >= 200
    assert (c.groupby("subject", sort=False)["time"].apply(lambda t: bool(np.all(np.diff(t) > 0)))).all()
    # an infusion of B ends at 49 h: its end and the points just after it are on the grid (the peak is drawn)
    b = c[c["subject"] == "B"].set_index("time")["pred"]
    assert 49.0 in b.index and b.idxmax() == pytest.approx(49.0)
    for n in (1, 2, 7):                                                       # tiny grids: the marks still count
        check_curves(fit2, n)


def test_subjects_without_observations_or_finite_estimates_are_skipped(fit2):
    assert np.isnan(fit2.parameters_of("F")["CL"]) and "F" in set(fit2.subject_unit["subject"])
    no_obs = dataclasses.replace(fit2, predictions=fit2.predictions[fit2.predictions["subject"] != "A"])
    tab = fit2.table.copy()
    tab.loc[(tab["id"] == "C") & (tab["parameter"] == "V2"), "estimate"] = np.inf
    inf_est = dataclasses.replace(fit2, table=tab)
    assert list(pd.unique(check_curves(no_obs)["subject"])) == ["B", "C", "D", "E"]
    assert list(pd.unique(check_curves(inf_est)["subject"])) == ["A", "B", "D", "E"]
    tab["estimate"] = np.nan
    empty = dataclasses.replace(fit2, table=tab).curves()
    assert empty.empty and list(empty.columns) == ["subject", "id", "analyte", "time", "pred"]


def test_pooled_curves():
    d, doses = study(seed=1)
    r = fit_pk(d.drop(columns="ANALYTE"), "2cmt", dosing=doses, tinf="TINF", n_starts=1, pooled=True)
    c = check_curves(r)
    assert set(c["id"]) == {"pooled"} and list(pd.unique(c["subject"])) == ["A", "B", "C", "D", "E", "F"]


def test_adc_curves_per_analyte():
    d, doses = study("adc", ADC, ("ADC", "TAb", "PAYLOAD"), seed=2)
    r = fit_pk(d, "adc", dosing=doses, tinf="TINF", n_starts=1)
    c = check_curves(r)
    assert set(c["analyte"]) == {"ADC", "TAb", "PAYLOAD"}
    per = c.groupby(["subject", "analyte"]).size().unstack()
    assert (per.nunique(axis=1) == 1).all()                                  # one grid per subject


def test_ode_model_curves():
    d, doses = study("mm", MM, seed=3)
    r = fit_pk(d.drop(columns="ANALYTE"), "mm", dosing=doses, tinf="TINF", n_starts=1,
               fixed={k: v for k, v in MM.items() if k != "CL"})
    assert not r.model().closed_form
    c = check_curves(r, n=60, rtol=1e-8)          # stacked ODE systems: the solver's steps differ slightly
    assert list(pd.unique(c["subject"])) == ["A", "B", "C", "D", "E"]


def test_ode_chunk_that_fails_is_split_down_to_single_subjects(fit2, monkeypatch):
    import adcbridge.pk.predict as predict
    solve = predict.solve_model_ode
    sizes = []

    def only_one(model, p, times, *args, **kw):
        sizes.append(np.shape(times)[0])
        if np.shape(times)[0] > 1:
            raise ODEFailure("too much work")
        return solve(model, p, times, *args, **kw)

    monkeypatch.setattr(predict, "solve_model_ode", only_one)
    r = dataclasses.replace(fit2, spec=fit2.spec.replace(method="ode"))
    check_curves(r, n=30, rtol=1e-8)
    assert sorted(sizes) == [1, 1, 1, 1, 1, 2, 2]       # A and C, B and D together, then alone
    monkeypatch.setattr(predict, "solve_model_ode", lambda *a, **k: (_ for _ in ()).throw(ODEFailure("stiff")))
    with pytest.raises(ODEFailure):
        r.curves(30)
