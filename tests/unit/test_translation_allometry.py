"""Allometric scaling: units, one-species fixed exponents, multi-species fits with the rule of exponents,
species-invariant time, two-compartment half-lives.  Expected values are closed forms."""

import re

import numpy as np
import pandas as pd
import pytest

from adcbridge.translation import (
    dedrick_coordinates,
    fit_allometry,
    human_profile_from_animal,
    rule_of_exponents,
    sacher_mlp,
    scale_parameters,
    two_compartment_half_lives,
)
from adcbridge.translation.units import parse_unit

CYNO_2CMT = {"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg"), "Q": (30.0, "mL/day/kg"), "V2": (45.0, "mL/kg")}


@pytest.mark.parametrize("unit,expected", [
    ("mL/day/kg", (1e-3, "day", True, "clearance")), ("mL/kg/day", (1e-3, "day", True, "clearance")),
    ("L/h", (1.0, "h", False, "clearance")), ("mL/kg", (1e-3, None, True, "volume")),
    ("L", (1.0, None, False, "volume")),
    ("1/day", (None, "day", False, "rate_constant")), ("h", (None, "h", False, "time")),
])
def test_units(unit, expected):
    p = parse_unit(unit)
    assert (p.volume_l, p.time, p.per_kg, p.kind) == expected


@pytest.mark.parametrize("unit", ["mg/kg", "mL/parsec", "", "kg"])
def test_bad_units(unit):
    with pytest.raises(ValueError, match="not understood"):
        parse_unit(unit)


def test_two_compartment_cyno_set_becomes_a_human_set_in_l_per_day_and_l():
    r = scale_parameters(CYNO_2CMT, "cynomolgus", modality="antibody")
    v, u = r.values(), r.units()
    ratio = 70 / 3.5
    assert v["CL"] == pytest.approx(18.2e-3 * 3.5 * ratio ** 0.85, rel=1e-12)
    assert v["Q"] == pytest.approx(30e-3 * 3.5 * ratio ** 0.85, rel=1e-12)     # Q takes the CL exponent
    assert v["V1"] == pytest.approx(40e-3 * 70, rel=1e-12) and v["V2"] == pytest.approx(45e-3 * 70, rel=1e-12)
    assert u == {"CL": "L/day", "V1": "L", "Q": "L/day", "V2": "L"}
    assert list(r.table["kind"]) == ["clearance", "volume", "intercompartmental_clearance", "volume"]


def test_absolute_units_rates_times_and_overrides():
    r = scale_parameters({"CL": (63.7, "mL/day"), "k10": (0.4, "1/day"), "MRT": (10.0, "day")}, "cyno",
                         exponents={"CL": 0.8, "volume": 0.9}, human_weight=80.0)
    v, ratio = r.values(), 80 / 3.5
    assert v["CL"] == pytest.approx(0.0637 * ratio ** 0.8)
    assert v["k10"] == pytest.approx(0.4 * ratio ** (1.0 - 0.9))       # b_CL (ADC default 1.0) - b_V
    assert v["MRT"] == pytest.approx(10.0 * ratio ** (0.9 - 1.0))


def test_unknown_species_needs_a_body_weight():
    with pytest.raises(ValueError, match="Unknown species 'llama'.*body weight"):
        scale_parameters(CYNO_2CMT, "llama")
    r = scale_parameters(CYNO_2CMT, "llama", body_weight=100.0)
    assert r.values()["V1"] == pytest.approx(2.8)


@pytest.mark.parametrize("params,match", [
    ({"CL": (18.2, "mL/kg")}, "volume unit, not a clearance"), ({"CL": (-1, "mL/day/kg")}, "positive"),
    ({"CL": (18.2, "mL/day/kg", "volume")}, "clearance unit, not a volume"), ({}, "empty"),
    ({"CL": 18.2}, "give \\(value, unit\\)"), ({"X": (1.0, "mL/day", "weird")}, "kind must be"),
])
def test_bad_parameter_sets(params, match):
    with pytest.raises(ValueError, match=match):
        scale_parameters(params, "cynomolgus")


def test_parameter_table_input_and_json_round_trip():
    df = pd.DataFrame({"name": ["CL", "V1"], "value": [18.2, 40.0], "unit": ["mL/day/kg", "mL/kg"]})
    r = scale_parameters(df, "cynomolgus")
    back = type(r).from_json(r.to_json())
    pd.testing.assert_frame_equal(back.table, r.table)
    assert back.values() == r.values() and back.animal_weight_kg == 3.5


def _power_data(a, b, weights, brain=None):
    return pd.DataFrame({"species": ["mouse", "rat", "monkey", "dog"][:len(weights)], "body_weight_kg": weights,
                         "value": a * np.asarray(weights) ** b, **({"brain_weight_kg": brain} if brain else {})})


def test_simple_allometry_recovers_an_exact_power_law():
    fit = fit_allometry(_power_data(5.0, 0.65, [0.02, 0.25, 5.0, 10.0]), unit="mL/min")
    simple = fit.table.set_index("method").loc["simple"]
    assert simple["coefficient"] == pytest.approx(5.0) and fit.exponent == pytest.approx(0.65)
    assert simple["r_squared"] == pytest.approx(1.0)
    assert fit.recommended_method == "simple" and fit.human_prediction == pytest.approx(5.0 * 70 ** 0.65)


def test_per_kg_input_is_made_absolute():
    w = np.array([0.02, 0.25, 10.0])
    data = pd.DataFrame({"species": ["mouse", "rat", "dog"], "body_weight_kg": w, "value": 5.0 * w ** 0.65 / w})
    fit = fit_allometry(data, unit="mL/min/kg")
    assert fit.exponent == pytest.approx(0.65) and fit.unit == "mL/min"


def test_mlp_and_brain_weight_corrections_closed_form():
    w = np.array([0.02, 0.25, 5.0, 10.0])
    brain = 0.01 * w ** 0.43
    mlp = sacher_mlp(brain, w)
    # CL x MLP = 100 W^0.9 exactly, so CL ~ W^(0.9 + 0.225 - 0.636 * 0.43) = W^0.8515 -> MLP method
    data = pd.DataFrame({"species": ["mouse", "rat", "monkey", "dog"], "body_weight_kg": w,
                         "brain_weight_kg": brain, "value": 100 * w ** 0.9 / mlp})
    fit = fit_allometry(data, unit="mL/min")
    assert fit.exponent == pytest.approx(0.9 + 0.225 - 0.636 * 0.43) and fit.recommended_method == "mlp"
    assert fit.human_prediction == pytest.approx(100 * 70 ** 0.9 / float(sacher_mlp(1.53, 70.0)), rel=1e-10)
    # CL x BrW = 3 W^1.2 exactly and simple exponent in (1.0, 1.3] -> brain-weight method
    brain2 = 0.01 * w ** 0.1
    data2 = data.assign(brain_weight_kg=brain2, value=3 * w ** 1.2 / brain2)
    fit2 = fit_allometry(data2, unit="mL/min")
    assert fit2.exponent == pytest.approx(1.1) and fit2.recommended_method == "brain_weight"
    assert fit2.human_prediction == pytest.approx(3 * 70 ** 1.2 / 1.53, rel=1e-10)


@pytest.mark.parametrize("b,method,flagged", [
    (0.50, "simple", True), (0.55, "simple", False), (0.70, "simple", False), (0.705, "mlp", False),
    (1.0, "mlp", False), (1.05, "brain_weight", False), (1.3, "brain_weight", False), (1.35, "brain_weight", True),
])
def test_rule_of_exponents_thresholds(b, method, flagged):
    m, _, f = rule_of_exponents(b)
    assert (m, f) == (method, flagged)


def test_roe_without_brain_weights_falls_back_with_an_issue():
    fit = fit_allometry(_power_data(2.0, 0.85, [0.02, 0.25, 10.0]), unit="mL/min")
    assert fit.recommended_method == "simple" and any(i.code == "no_brain_weights" for i in fit.issues)
    assert not fit.table.set_index("method").loc["mlp", "computable"]


def test_fit_allometry_bad_input():
    with pytest.raises(ValueError, match="^the allometry table: multi-species allometry needs at least two species "
                                         "with different body weights; the table has 1 row"):
        fit_allometry(_power_data(2.0, 0.85, [10.0]), unit="mL/min")
    with pytest.raises(ValueError, match="^" + re.escape("the allometry table: column 'species', row 1: expected a "
                                                         "species of the species table, or its body weight in a "
                                                         "'body_weight_kg' column, got 'llama'") + "$"):
        fit_allometry(pd.DataFrame({"species": ["llama", "rat"], "value": [1.0, 2.0]}), unit="mL/min")


def test_dedrick_prediction_equals_the_allometrically_scaled_one_compartment_model():
    """1-cmt bolus, CL = c W^b, V = v W^bv: the Dedrick transform of the animal curve is the human curve."""
    c, v, b, bv, wa, wh, dose_a, dose_h = 0.02, 0.05, 0.85, 1.0, 3.5, 70.0, 10.0, 3.0
    t = np.linspace(0, 42, 50)

    def curve(w, dose_per_kg, times):
        cl, vol = c * w ** b, v * w ** bv
        return dose_per_kg * w / vol * np.exp(-cl / vol * times)
    pred = human_profile_from_animal(t, curve(wa, dose_a, t), dose_a, dose_h, wa, human_weight=wh, b_cl=b, b_v=bv)
    np.testing.assert_allclose(pred["conc"], curve(wh, dose_h, pred["time"].to_numpy()), rtol=1e-12)
    # and the two species superpose in Dedrick coordinates
    ca = dedrick_coordinates(t, curve(wa, dose_a, t), dose_a, wa, b_cl=b, b_v=bv)
    th = t * (wh / wa) ** (bv - b)
    ch = dedrick_coordinates(th, curve(wh, dose_h, th), dose_h, wh, b_cl=b, b_v=bv)
    np.testing.assert_allclose(ca.to_numpy(), ch.to_numpy(), rtol=1e-12)


def test_two_compartment_half_lives_match_the_eigenvalues():
    cl, v1, q, v2 = 1.27, 2.8, 2.1, 3.15
    k10, k12, k21 = cl / v1, q / v1, q / v2
    eig = np.sort(-np.linalg.eigvals(np.array([[-(k10 + k12), k21], [k12, -k21]])))
    h = two_compartment_half_lives(cl, v1, q, v2)
    assert h["t_half_alpha"] == pytest.approx(np.log(2) / eig[1])
    assert h["t_half_beta"] == pytest.approx(np.log(2) / eig[0])
    assert h["vss"] == pytest.approx(5.95)
    arr = two_compartment_half_lives([cl, cl], [v1, v1], [q, q], [v2, v2])
    assert arr["t_half_beta"].shape == (2,)
