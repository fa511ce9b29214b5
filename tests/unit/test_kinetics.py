"""Binding kinetics: exact recovery of noise-free closed-form sensorgrams, the mass-transport model against an
ODE solver, quality flags, bad input, the wide reader, steady-state affinity and JSON round trips."""

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from adcbridge.assays.kinetics import (
    LANGMUIR,
    MASS_TRANSPORT,
    KineticsOptions,
    KineticsResult,
    SteadyStateResult,
    build_sensorgrams,
    compile_schedule,
    fit_kinetics,
    fit_steady_state,
    report_points,
    sensorgram_table,
    sensorgrams_from_wide,
    simulate,
)
from adcbridge.results import Result
from adcbridge.spec import SpecError

KA, KD_RATE, RMAX = 2e5, 1e-3, 80.0
T = np.arange(0.0, 901.0, 2.0)
CONCS_NM = [2.0, 8.0, 32.0, 128.0]
T_ON, T_OFF = 40.0, 340.0


def langmuir(t, c_molar, ka=KA, kd=KD_RATE, rmax=RMAX, t_on=T_ON, t_off=T_OFF):
    """The integrated 1:1 model written out independently of the package."""
    kobs = ka * c_molar + kd
    req = ka * c_molar * rmax / kobs
    assoc = req * (1 - np.exp(-kobs * (np.clip(t, t_on, t_off) - t_on)))
    return np.where(t < t_on, 0.0, np.where(t <= t_off, assoc, assoc * np.exp(-kd * (t - t_off))))


def mck(model=langmuir, concs=CONCS_NM, **kw) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"cycle": i, "conc": c, "time": T, "response": model(T, c * 1e-9, **kw)})
                      for i, c in enumerate(concs, start=1)], ignore_index=True)


CLEAN = mck()


def _rel(a, b):
    return abs(a / b - 1)


# ------------------------------------------------------------------------------------------- exact recovery
def test_noise_free_multi_cycle_is_recovered_exactly():
    fit = fit_kinetics(CLEAN, t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    assert _rel(fit.ka, KA) < 1e-8 and _rel(fit.kd, KD_RATE) < 1e-8 and _rel(fit.estimate("Rmax"), RMAX) < 1e-8
    assert _rel(fit.KD, KD_RATE / KA) < 1e-8 and fit.rss < 1e-12 and fit.flags == ()
    assert np.max(np.abs(fit.fitted["residual"])) < 1e-6


def test_local_rmax_bulk_and_local_drift_are_recovered_exactly():
    rmax = [70.0, 75.0, 80.0, 85.0]
    ri = [0.3, 1.1, 4.0, 9.0]
    drift = [0.002, -0.001, 0.0005, 0.003]
    parts = []
    for i, c in enumerate(CONCS_NM):
        y = langmuir(T, c * 1e-9, rmax=rmax[i]) + ri[i] * ((T >= T_ON) & (T <= T_OFF)) + drift[i] * T
        parts.append(pd.DataFrame({"cycle": f"c{i}", "conc": c * 1e3, "time": T, "response": y}))
    data = pd.concat(parts)
    fit = fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="pM", rmax="local", bulk=True, drift="local")
    assert _rel(fit.ka, KA) < 1e-8 and _rel(fit.kd, KD_RATE) < 1e-8
    for i in range(4):
        assert _rel(fit.estimate("Rmax", f"c{i}"), rmax[i]) < 1e-8
        assert _rel(fit.estimate("RI", f"c{i}"), ri[i]) < 1e-7
        assert _rel(fit.estimate("drift", f"c{i}"), drift[i]) < 1e-7
    assert fit.to_record()["rmax"] == pytest.approx(rmax, rel=1e-8)


def test_single_cycle_kinetics_from_an_injections_table():
    on = np.array([40.0, 240.0, 440.0, 640.0, 840.0])
    off = on + 150.0
    concs = np.array([1.0, 3.0, 9.0, 27.0, 81.0])
    t = np.arange(0.0, 1800.0, 1.0)
    y = np.zeros_like(t)
    r0 = 0.0
    # walk the segments with the textbook formula
    edges = [(a, b, c) for a, b, c in zip(on, off, concs * 1e-9)]
    for j, (a, b, c) in enumerate(edges):
        nxt = on[j + 1] if j + 1 < len(on) else np.inf
        if j == 0:
            y[t < a] = 0.0
        kobs = KA * c + KD_RATE
        req = KA * c * RMAX / kobs
        m = (t >= a) & (t <= b)
        y[m] = req + (r0 - req) * np.exp(-kobs * (t[m] - a))
        r_off = req + (r0 - req) * np.exp(-kobs * (b - a))
        m = (t > b) & (t < nxt)
        y[m] = r_off * np.exp(-KD_RATE * (t[m] - b))
        r0 = r_off * np.exp(-KD_RATE * (nxt - b)) if np.isfinite(nxt) else 0.0
    data = pd.DataFrame({"cycle": 1, "time": t, "response": y})
    inj = pd.DataFrame({"t_on": on, "t_off": off, "conc": concs})
    fit = fit_kinetics(data, injections=inj, conc_unit="nM", bulk=True)
    assert _rel(fit.ka, KA) < 1e-8 and _rel(fit.kd, KD_RATE) < 1e-8 and _rel(fit.estimate("Rmax"), RMAX) < 1e-8
    ri = fit.table[fit.table["parameter"] == "RI"]
    assert list(ri["injection"]) == [1, 2, 3, 4, 5] and np.all(np.abs(ri["estimate"]) < 1e-6)


def _mt_ode(t, c, ka, kd, kt, rmax):
    def rhs(tt, r):
        conc = c if T_ON <= tt <= T_OFF else 0.0
        return [(ka * conc * (rmax - r[0]) - kd * r[0]) / (1 + ka * (rmax - r[0]) / kt)]
    out = np.zeros_like(t)
    on = (t >= T_ON) & (t <= T_OFF)
    s1 = solve_ivp(rhs, (T_ON, T_OFF), [0.0], t_eval=t[on], rtol=1e-11, atol=1e-12, method="LSODA")
    out[on] = s1.y[0]
    after = t > T_OFF
    s2 = solve_ivp(rhs, (T_OFF, t[-1]), [s1.y[0][-1]], t_eval=t[after], rtol=1e-11, atol=1e-12, method="LSODA")
    out[after] = s2.y[0]
    return out


def test_mass_transport_closed_form_matches_an_ode_solver_and_its_limits():
    options = KineticsOptions(t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    sched = compile_schedule(build_sensorgrams(CLEAN, options))
    kt = KA * RMAX                                  # initial binding rate halved
    closed = simulate(MASS_TRANSPORT, sched, RMAX, (KA, KD_RATE, kt))
    ode = np.concatenate([_mt_ode(T, c * 1e-9, KA, KD_RATE, kt, RMAX) for c in CONCS_NM])
    assert np.max(np.abs(closed - ode)) < 1e-6
    lang = simulate(LANGMUIR, sched, RMAX, (KA, KD_RATE))
    assert np.max(np.abs(simulate(MASS_TRANSPORT, sched, RMAX, (KA, KD_RATE, 1e25)) - lang)) < 1e-9
    assert np.max(np.abs(lang - CLEAN["response"].to_numpy())) < 1e-12


def test_mass_transport_fit_recovers_kt_and_the_langmuir_fit_is_biased():
    kt = 0.5 * KA * RMAX
    data = CLEAN.copy()
    data["response"] = np.concatenate([_mt_ode(T, c * 1e-9, KA, KD_RATE, kt, RMAX) for c in CONCS_NM])
    fit = fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="nM", mass_transport=True)
    assert _rel(fit.ka, KA) < 1e-4 and _rel(fit.kd, KD_RATE) < 1e-4 and _rel(fit.estimate("kt"), kt) < 1e-3
    assert fit.model == "two_compartment_mass_transport" and "kt" in fit.to_record()
    assert any(i.code == "mass_transport_limited" for i in fit.issues)
    naive = fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    assert naive.ka < 0.8 * KA


# ------------------------------------------------------------------------------------------------ flags
def _noisy(seed=3, sd=0.3, data=CLEAN):
    rng = np.random.default_rng(seed)
    out = data.copy()
    out["response"] = out["response"] + rng.normal(0, sd, len(out))
    return out


def test_flags_instrument_range_and_theoretical_rmax():
    fit = fit_kinetics(_noisy(), t_on=T_ON, t_off=T_OFF, conc_unit="nM", ka_range=(1e3, 1e5), kd_range=(1e-2, 1.0),
                       rmax_theoretical=200.0)
    assert {"ka_out_of_range", "kd_out_of_range", "rmax_far_from_theoretical"} <= set(fit.flags)
    assert set(fit.to_record()["flags"]) == set(fit.flags)
    ok = fit_kinetics(_noisy(), t_on=T_ON, t_off=T_OFF, conc_unit="nM", rmax_theoretical=90.0)
    assert ok.flags == ()


def test_flag_non_identifiable_when_binding_is_instantaneous():
    t = np.arange(0.0, 400.0, 5.0)
    y = np.where((t >= 50) & (t <= 200), RMAX, 0.0)          # square pulse: ka and kd not determined
    y = y + np.random.default_rng(1).normal(0, 0.2, t.size)
    data = pd.DataFrame({"cycle": 1, "conc": 1000.0, "time": t, "response": y})
    fit = fit_kinetics(data, t_on=50, t_off=200, conc_unit="nM")
    assert "non_identifiable" in fit.flags


def test_flag_short_dissociation_and_signal_before_injection():
    slow = mck(kd=1e-6)
    fit = fit_kinetics(_noisy(data=slow), t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    assert "dissociation_too_short" in fit.flags
    shifted = CLEAN.copy()
    shifted["time"] = shifted["time"] - T_ON          # zeroed at the injection start, but t_on given as 40 s
    shifted = shifted[shifted["time"] >= 0]
    late = fit_kinetics(shifted, t_on=0.0, t_off=T_OFF - T_ON, conc_unit="nM")
    assert "response_before_injection" not in late.flags
    offset = fit_kinetics(CLEAN.assign(response=CLEAN["response"] + 40.0), t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    assert "response_before_injection" in offset.flags           # a baseline that is not zero: a warning
    with pytest.raises(ValueError, match=r"cycle 1: the response already changes .* before the injection start"):
        fit_kinetics(CLEAN, t_on=T_ON + 200, t_off=T_OFF + 200, conc_unit="nM")   # t_on on another clock


def test_flag_systematic_residuals_when_the_bulk_step_is_ignored():
    data = CLEAN.copy()
    data["response"] += 0.5 * data["conc"] * ((data["time"] >= T_ON) & (data["time"] <= T_OFF))
    naive = fit_kinetics(_noisy(data=data), t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    assert "systematic_residuals" in naive.flags
    full = fit_kinetics(_noisy(data=data), t_on=T_ON, t_off=T_OFF, conc_unit="nM", bulk=True)
    assert full.flags == ()


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,match", [
    (dict(conc_unit="nM"), "t_on and t_off"),
    (dict(t_on=40, conc_unit="nM"), "'t_off'"),
    (dict(t_on=340, t_off=40, conc_unit="nM"), "'t_off'"),
    (dict(t_on=40, t_off=340, conc_unit="mg/mL"), "'conc_unit'"),
    (dict(t_on=40, t_off=340), "unit"),
    (dict(t_on=40, t_off=340, conc_unit="nM", rmax="both"), "'rmax'"),
])
def test_bad_options_and_missing_injection_times(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_kinetics(CLEAN, **kwargs)


def test_option_errors_are_spec_errors_naming_the_parameter():
    with pytest.raises(SpecError) as err:
        KineticsOptions(t_on=1, t_off=2, confidence=1.5)
    assert err.value.parameter == "confidence" and "\n" not in str(err.value)


def _with(column, row, value):
    d = CLEAN.copy()
    d[column] = d[column].astype(object)
    d.loc[row, column] = value
    return d


@pytest.mark.parametrize("data,match", [
    (_with("response", 500, "n/a"),
     r"^the sensorgram table: column 'response', row 501 \(cycle 2\): expected a number, got 'n/a'$"),
    (_with("time", 3, None), r"column 'time', row 4 \(cycle 1\): expected a number, got an empty cell$"),
    (_with("conc", 1000, -8.0), r"column 'conc', row 1001 \(cycle 3\): expected a number >= 0, got '-8'$"),
    (_with("conc", 1000, 7.0), r"cycle 3: the concentration column holds several values"),
    (CLEAN[~((CLEAN["cycle"] == 2) & (CLEAN["time"] < 60))], r"cycle 2: the time axis \(column 'time'\) starts at 60"),
    (CLEAN[~((CLEAN["cycle"] == 4) & (CLEAN["time"] > 30))], r"cycle 4: the time axis .* ends at 30"),
    (pd.concat([CLEAN, CLEAN.iloc[[5]]]), rf"column 'time', row {len(CLEAN) + 1} \(cycle 1\): expected a time not "
                                          r"already on row 6 of the same cycle, got '10'$"),
    (CLEAN.drop(columns="response"),
     r"^the sensorgram table: missing column 'response' \(columns: cycle, conc, time\)$"),
    (CLEAN.assign(conc=0.0), "no cycle has a positive analyte concentration"),
])
def test_bad_sensorgram_tables_name_the_cycle_and_column(data, match):
    with pytest.raises(ValueError, match=match):
        fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="nM")


def test_bad_injection_tables_and_blank_cycles():
    with pytest.raises(ValueError, match="not both"):
        fit_kinetics(CLEAN, t_on=T_ON, t_off=T_OFF, conc_unit="nM",
                     injections=pd.DataFrame({"t_on": [T_ON], "t_off": [T_OFF]}))
    with pytest.raises(ValueError, match=rf"^the injections table: column 't_off', row 1: expected a time after t_on "
                                         rf"\({T_OFF:g}\), got '{T_ON:g}'$"):
        fit_kinetics(CLEAN, conc_unit="nM", injections=pd.DataFrame({"t_on": [T_OFF], "t_off": [T_ON]}))
    with pytest.raises(ValueError, match=r"^the injections table: column 'cycle', row 1: expected a cycle of the "
                                         r"sensorgram table, got '9'$"):
        fit_kinetics(CLEAN, conc_unit="nM", injections=pd.DataFrame({"cycle": [9], "t_on": [T_ON], "t_off": [T_OFF]}))
    with pytest.raises(ValueError, match="cycle 2 has no injection"):
        fit_kinetics(CLEAN, conc_unit="nM", injections=pd.DataFrame({"cycle": [1], "t_on": [T_ON], "t_off": [T_OFF]}))
    blank = pd.concat([CLEAN, CLEAN[CLEAN["cycle"] == 1].assign(cycle=0, conc=0.0, response=0.0)])
    with pytest.raises(ValueError, match="cycle 0 has analyte concentration 0"):
        fit_kinetics(blank, t_on=T_ON, t_off=T_OFF, conc_unit="nM", rmax="local")
    fit = fit_kinetics(blank, t_on=T_ON, t_off=T_OFF, conc_unit="nM")        # a blank is fine with a global Rmax
    assert _rel(fit.ka, KA) < 1e-8


def test_per_cycle_injection_times():
    parts = [CLEAN[CLEAN["cycle"] == i].assign(time=lambda d, s=10.0 * i: d["time"] + s) for i in (1, 2, 3, 4)]
    inj = pd.DataFrame({"cycle": [1, 2, 3, 4], "t_on": [T_ON + 10 * i for i in (1, 2, 3, 4)],
                        "t_off": [T_OFF + 10 * i for i in (1, 2, 3, 4)]})
    fit = fit_kinetics(pd.concat(parts), injections=inj, conc_unit="nM")
    assert _rel(fit.ka, KA) < 1e-8 and list(fit.injections["t_on"]) == [50.0, 60.0, 70.0, 80.0]


# ------------------------------------------------------------------------------------------- wide reader
def test_wide_reader_layouts():
    wide = pd.DataFrame({"Time": T, **{f"Conc_{c:g}nM": langmuir(T, c * 1e-9) for c in CONCS_NM}})
    long = sensorgrams_from_wide(wide)
    assert list(long.columns) == ["cycle", "label", "conc", "conc_unit", "time", "response"]
    assert np.allclose(long["conc"].unique(), np.array(CONCS_NM) * 1e-9)
    assert _rel(fit_kinetics(long, t_on=T_ON, t_off=T_OFF).ka, KA) < 1e-8
    pairs = pd.DataFrame({k: v for c in CONCS_NM for k, v in
                          ((f"Cycle {c:g} nM X", T), (f"Cycle {c:g} nM Y", langmuir(T, c * 1e-9)))})
    long2 = sensorgrams_from_wide(pairs)
    assert np.array_equal(long2["response"], long["response"]) and np.allclose(long2["conc"], long["conc"])
    given = sensorgrams_from_wide(wide.rename(columns=lambda c: c.replace("Conc_", "S").replace("nM", "")),
                                  concentrations=[c / 1e3 for c in CONCS_NM], conc_unit="uM")
    assert np.allclose(given["conc"], long["conc"])


@pytest.mark.parametrize("wide,kwargs,match", [
    (pd.DataFrame({"Time": [0, 1], "Sample A": [0.0, 1.0]}), {},
     r"^the wide export: column 'Sample A': no concentration in the header \(e\.g\. 'Conc_12\.5nM'\); give "
     r"concentrations= and conc_unit=$"),
    (pd.DataFrame({"t": [0, 1], "5nM": [0.0, 1.0]}), {},
     r"^the wide export: no time column 'Time' and no X/Y column pairs \(columns: t, 5nM\)$"),
    (pd.DataFrame({"Time": [0, 1], "5nM": [0.0, "x"]}), {},
     r"^the wide export: column '5nM', row 2: expected a number, got 'x'$"),
    (pd.DataFrame({"Time": [0, 1], "A": [0.0, 1.0]}), {"concentrations": [1, 2], "conc_unit": "nM"}, "2 values"),
])
def test_wide_reader_errors(wide, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sensorgrams_from_wide(wide, **kwargs)


# ------------------------------------------------------------------------------------------ steady state
def test_steady_state_affinity_is_exact_at_equilibrium():
    long_t = np.arange(0.0, 6001.0, 5.0)
    concs = [5.0, 15.0, 50.0, 150.0, 500.0]
    data = pd.concat([pd.DataFrame({"cycle": i, "conc": c, "time": long_t,         # kobs tc >= 60: at equilibrium
                                    "response": langmuir(long_t, c * 1e-9, kd=1e-2, t_on=100, t_off=5100)})
                      for i, c in enumerate(concs)])
    pts = report_points(data, t_on=100, t_off=5100, conc_unit="nM")
    res = fit_steady_state(pts)
    assert _rel(res.KD, 1e-2 / KA) < 1e-8 and _rel(res.estimate("Rmax"), RMAX) < 1e-8 and res.flags == ()
    short = fit_steady_state(report_points(CLEAN, t_on=T_ON, t_off=T_OFF, conc_unit="nM"))
    assert "steady_state_not_reached" in short.flags
    with pytest.raises(ValueError, match=r"^the report-point table: 1 distinct positive concentrations in column "
                                         r"'conc' cannot determine 2 parameters \(KD, Rmax\)$"):
        fit_steady_state(pts.iloc[:1])


# -------------------------------------------------------------------------------------------- round trip
def test_results_round_trip_through_json_and_contract():
    fit = fit_kinetics(_noisy(), t_on=T_ON, t_off=T_OFF, conc_unit="nM", rmax="local", bulk=True, drift=True)
    ss = fit_steady_state(report_points(CLEAN, t_on=T_ON, t_off=T_OFF, conc_unit="nM"))
    for r, cls in ((fit, KineticsResult), (ss, SteadyStateResult)):
        text = r.to_json()
        json.loads(text)
        back = Result.from_json(text)
        assert type(back) is cls and back.spec == r.spec and back.issues == r.issues
        assert back.provenance == r.provenance and back.flags == r.flags
        pd.testing.assert_frame_equal(back.table, r.table)
        assert back.to_record() == r.to_record()
    back = Result.from_json(fit.to_json())
    for name in ("fitted", "vcov", "injections"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(fit, name))
    c = fit.to_record()
    assert set(c) == {"ka", "kd", "KD", "rmax", "chi2", "flags", "result_type", "spec", "issues", "provenance"}
    assert len(c["rmax"]) == 4
    assert set(c["KD"]) == {"estimate", "se", "ci_low", "ci_high"} and set(c["ka"]) == {"estimate", "se"}
    assert c["KD"]["ci_low"] < c["KD"]["estimate"] < c["KD"]["ci_high"]
    json.dumps(c, allow_nan=False)


def test_docstring_examples_run():
    from adcbridge.assays import internalization
    from adcbridge.assays.kinetics import fit, wide
    for module in (fit, wide, internalization):
        failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert tried and not failures, module.__name__


# ------------------------------------------------------------------------------------ review fixes (bad input)
def test_constant_response_cycles_are_bad_input_naming_the_cycle():
    flat = CLEAN.copy()
    flat.loc[flat["cycle"] == 3, "response"] = 2.5
    with pytest.raises(ValueError, match=r"cycle 3: the response \(column 'response'\) is constant \(2.5\)"):
        fit_kinetics(flat, t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    with pytest.raises(ValueError, match=r"cycle 1: the response .* is constant \(0\)"):        # all-zero file
        fit_kinetics(CLEAN.assign(response=0.0), t_on=T_ON, t_off=T_OFF, conc_unit="nM")


def test_conc_unit_column_and_explicit_unit_must_agree():
    molar = CLEAN.assign(conc=CLEAN["conc"] * 1e-9, conc_unit="M")
    for unit in (None, "M"):
        assert _rel(fit_kinetics(molar, t_on=T_ON, t_off=T_OFF, conc_unit=unit).ka, KA) < 1e-8
    with pytest.raises(ValueError, match=r"^the sensorgram table: column 'conc_unit', row 1 \(cycle 1\): expected "
                                         r"'nM', the unit given by conc_unit/--conc-unit .*, got 'M'$"):
        fit_kinetics(molar, t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    micro = CLEAN.assign(conc=CLEAN["conc"] / 1e3, conc_unit="µM")            # same unit, other spelling
    assert _rel(fit_kinetics(micro, t_on=T_ON, t_off=T_OFF, conc_unit="uM").ka, KA) < 1e-8


def test_association_before_t_on_is_bad_input_naming_the_cycle():
    zeroed = CLEAN.assign(time=CLEAN["time"] - T_ON)               # times zeroed at the injection ...
    zeroed = zeroed[zeroed["time"] >= 0]
    with pytest.raises(ValueError, match=r"cycle 1: .* before the injection start \(40 s\).*column 'time'"):
        fit_kinetics(zeroed, t_on=T_ON, t_off=T_OFF, conc_unit="nM")   # ... but t_on on the instrument clock
    shifted = CLEAN.assign(time=CLEAN["time"] - 60.0)               # baseline, then binding 60 s before t_on
    with pytest.raises(ValueError, match="association starts before t_on"):
        fit_kinetics(shifted, t_on=T_ON, t_off=T_OFF, conc_unit="nM")
    late = fit_kinetics(_noisy(), t_on=T_ON + 4, t_off=T_OFF + 4, conc_unit="nM")   # a short injection delay
    assert _rel(late.ka, KA) < 0.5
    for d in (_noisy(), _noisy(data=mck(concs=[0.0, 2.0, 8.0])), _noisy(sd=2.0)):      # noise, blanks: no error
        fit_kinetics(d, t_on=T_ON, t_off=T_OFF, conc_unit="nM")


def test_drift_is_invariant_to_a_shift_of_the_time_axis():
    data = _noisy(data=CLEAN.assign(response=CLEAN["response"] + 0.004 * CLEAN["time"]))
    for drift in ("global", "local"):
        base = fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="nM", bulk=True, drift=drift)
        for shift in (5000.0, -1234.5):
            moved = fit_kinetics(data.assign(time=data["time"] + shift), t_on=T_ON + shift, t_off=T_OFF + shift,
                                 conc_unit="nM", bulk=True, drift=drift)
            assert _rel(moved.KD, base.KD) < 1e-9 and _rel(moved.rss, base.rss) < 1e-9
            pd.testing.assert_series_equal(moved.table["estimate"], base.table["estimate"], rtol=1e-7)
            pd.testing.assert_series_equal(moved.table["se"], base.table["se"], rtol=1e-6)
    # cycles recorded on their own clocks (each from its first sample): drift anchored per cycle
    parts = [data[data["cycle"] == i].assign(time=lambda d, s=100.0 * i: d["time"] + s) for i in (1, 2, 3, 4)]
    inj = pd.DataFrame({"cycle": [1, 2, 3, 4], "t_on": [T_ON + 100 * i for i in (1, 2, 3, 4)],
                        "t_off": [T_OFF + 100 * i for i in (1, 2, 3, 4)]})
    own = fit_kinetics(pd.concat(parts), injections=inj, conc_unit="nM", bulk=True, drift="global")
    assert _rel(own.KD, fit_kinetics(data, t_on=T_ON, t_off=T_OFF, conc_unit="nM", bulk=True,
                                      drift="global").KD) < 1e-9


def test_degenerate_fits_give_strict_json_and_no_numpy_warnings():
    import warnings
    t = np.arange(0.0, 400.0, 5.0)
    pulse = pd.DataFrame({"cycle": 1, "conc": 1000.0, "time": t, "response": np.where((t >= 50) & (t <= 200), RMAX,
                                                                                       0.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_kinetics(pulse, t_on=50, t_off=200, conc_unit="nM")
        wrong_unit = fit_kinetics(_noisy(), t_on=T_ON, t_off=T_OFF, conc_unit="fM", bulk=True, drift=True)
    c = fit.to_record()
    assert "non_identifiable" in c["flags"] and c["KD"]["se"] is None and c["KD"]["ci_low"] is None
    json.dumps(c, allow_nan=False)
    json.dumps(wrong_unit.to_record(), allow_nan=False)
    from adcbridge.assays.kinetics.results import _num
    assert _num(np.inf) is None and _num(-np.inf) is None and _num(np.nan) is None and _num(2) == 2.0


def test_wide_or_long_table_detection():
    wide = pd.DataFrame({"Time": T, **{f"Conc_{c:g}nM": langmuir(T, c * 1e-9) for c in CONCS_NM}})
    long, was_wide = sensorgram_table(wide)
    assert was_wide and _rel(fit_kinetics(long, t_on=T_ON, t_off=T_OFF).ka, KA) < 1e-8
    same, was_wide = sensorgram_table(CLEAN)
    assert same is CLEAN and not was_wide
    given, _ = sensorgram_table(wide.rename(columns=lambda c: c.replace("Conc_", "S").replace("nM", "")),
                                concentrations=CONCS_NM, conc_unit="nM")
    assert np.allclose(given["conc"], long["conc"])
    assert np.allclose(sensorgram_table(wide, conc_unit="nM")[0]["conc"], long["conc"])   # agrees with headers
    with pytest.raises(ValueError, match=r"column 'Conc_2nM' gives its concentration in nM, which contradicts .*'uM'"):
        sensorgram_table(wide, conc_unit="uM")
    with pytest.raises(ValueError, match=r"^the sensorgram table: no column 'cycle', so it was read as a wide export "
                                         r"\(a time column and one column per curve, or X/Y column pairs\), and column "
                                         r"'A': no concentration in the header \(e\.g\. 'Conc_12\.5nM'\); give "
                                         r"concentrations= and conc_unit=$"):
        sensorgram_table(pd.DataFrame({"Time": [0, 1], "A": [0.0, 1.0]}))
    with pytest.raises(ValueError, match="concentrations apply to a wide export only"):
        sensorgram_table(CLEAN, concentrations=[1.0], conc_unit="nM")


def test_an_injection_end_past_the_data_is_refused():
    """t_off = 99999 s on data ending at 1,560 s used to fit a KD 16x off without a word."""
    import pandas as _pd

    from tests.refdata import REFERENCE
    spr = _pd.read_csv(REFERENCE / "fit" / "kinetics" / "spr_mck_clean.csv")
    with pytest.raises(ValueError, match=r"the injection ends at t_off = 99999 s, after the data end"):
        fit_kinetics(spr, cycle="cycle", conc="conc_M", time="time_s", response="response_RU", t_on=60,
                     t_off=99999, conc_unit="M")
