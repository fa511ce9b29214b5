"""Human PK projection: closed-form checks (AUC = dose / CL, superposition at steady state, linearity,
species-invariant half-lives with exponent 1) and the published allometry of the synthetic cyno study."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.translation import dose_ladder
from adcbridge.translation.projection import project_human_pk

CYNO = {"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg"), "Q": (30.0, "mL/day/kg"), "V2": (40.0, "mL/kg")}


@pytest.fixture(scope="module")
def projection():
    return project_human_pk(CYNO, "cynomolgus", model="2cmt", n_doses=1)


@pytest.mark.parametrize("modality, exponent, cl_l_day", [("adc", 1.0, 1.27), ("antibody", 0.85, 0.81)])
def test_human_clearance_matches_the_reference_allometry(modality, exponent, cl_l_day):
    # nca/SPEC.md section 8: ADC CL 18.2 mL/day/kg, 3.5 kg cyno -> 70 kg human: 1.27 L/day (b 1.0), 0.81 (b 0.85)
    p = project_human_pk(CYNO, "cynomolgus", modality=modality)
    assert p.human_parameters["CL"] * 24 / 1000 == pytest.approx(cl_l_day, abs=0.005)
    assert p.table.set_index("name").loc["CL", "exponent"] == exponent


def test_single_dose_auc_is_dose_over_clearance(projection):
    e = projection.exposure([2.0], tau_day=2000.0)             # a cycle long enough to hold the whole profile
    cl_l_day = projection.human_parameters["CL"] * 24 / 1000
    assert e["auc"].iloc[0] == pytest.approx(2.0 * 70 / cl_l_day, rel=1e-6)   # mg / (L/day) = ug*day/mL


def test_steady_state_cycle_auc_equals_single_dose_auc_infinity(projection):
    single = projection.exposure([3.0], tau_day=5000.0)["auc"].iloc[0]
    steady = projection.exposure([3.0], tau_day=21.0, n_doses=40, cycle=40)["auc"].iloc[0]
    assert steady == pytest.approx(single, rel=1e-6)


def test_exposure_is_proportional_to_dose_and_cycles_accumulate(projection):
    e = projection.exposure([1.0, 2.0, 8.0], n_doses=3, cycle=3)
    np.testing.assert_allclose(e["auc"] / e["dose"], e["auc"].iloc[0], rtol=1e-9)
    first = projection.exposure([1.0], n_doses=3, cycle=1)
    assert e["auc"].iloc[0] > first["auc"].iloc[0] and e["ctrough"].iloc[0] > first["ctrough"].iloc[0]


def test_exponent_one_keeps_half_lives_species_invariant(projection):
    # with b = 1 for clearances and volumes the per-kg parameters are unchanged, so are the eigenvalues
    cyno = project_human_pk(CYNO, "cynomolgus", human_weight_kg=3.5)
    for k, v in projection.half_lives.items():
        assert v == pytest.approx(cyno.half_lives[k], rel=1e-12)


def test_profiles_agree_with_the_exposure_table(projection):
    prof = projection.profiles([1.6], np.linspace(0, 21, 2101), infusion_h=0.0)
    e = projection.exposure([1.6], infusion_h=0.0)
    assert prof["conc"].max() == pytest.approx(e["cmax"].iloc[0], rel=1e-9)   # bolus: Cmax at t = 0
    auc = np.trapezoid(prof["conc"], prof["time_day"])
    assert auc == pytest.approx(e["auc"].iloc[0], rel=1e-4)


def test_projection_feeds_the_dose_ladder_margins(projection):
    source = projection.exposure_source(n_doses=1)
    ladder = dose_ladder(1.6, "doubling", n_levels=4, exposure=source, animal_auc=4300.0, animal_cmax=830.0)
    expected = projection.exposure(list(ladder.doses))
    np.testing.assert_allclose(ladder.table["auc"], expected["auc"], rtol=1e-12)
    np.testing.assert_allclose(ladder.table["auc_margin"], 4300.0 / expected["auc"], rtol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="missing"):
        project_human_pk({"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg")}, model="2cmt")
    with pytest.raises(ValueError, match="linear model|model"):
        project_human_pk(CYNO, model="mm")
    p = project_human_pk(CYNO)
    with pytest.raises(ValueError, match="positive"):
        p.exposure([0.0])
    with pytest.raises(ValueError, match="cycle"):
        p.exposure([1.0], n_doses=2, cycle=3)


def test_parameter_table_input_and_json_round_trip():
    table = pd.DataFrame({"name": ["CL", "V"], "value": [0.8, 45.0], "unit": ["mL/h/kg", "mL/kg"]})
    p = project_human_pk(table, "cynomolgus", model="1cmt", modality="antibody")
    back = type(p).from_json(p.to_json())
    assert back.human_parameters == pytest.approx(p.human_parameters)
    assert p.to_record()["model"] == "1cmt"
