"""adcbridge.translation against published values: Li et al. 2019 (ADC clearance, cynomolgus -> human), FDA 2005
Table 1 (Km, divisors) and its worked HNSTD example, the project reference set's synthetic study (NCA SPEC
section 8), Sacher's MLP for humans and the bundled T-DXd population PK set.  Sources: tests/reference/SOURCES.md.
"""

import numpy as np
import pandas as pd
import pytest

from adcbridge.translation import (
    SPECIES,
    fih_start_dose,
    human_equivalent_dose,
    li_percent_error,
    predict_per_kg,
    prediction_errors,
    reference_parameters,
    sacher_mlp,
    scale_parameters,
    summarise_errors,
)
from tests.refdata import REFERENCE, load_reference

LI = load_reference("translation", "li2019_cyno_adc_clearance.json")
LI_ROWS = pd.DataFrame(LI["rows"], columns=LI["columns"])
PE_COLUMNS = {0.75: "pe_b075", 0.85: "pe_b085", 1.0: "pe_b100"}


@pytest.mark.parametrize("b", [0.75, 0.85, 1.0])
def test_li2019_percent_errors_reproduced_with_weight_ratio_20(b):
    """All 24 published errors within 0.6 percentage points (the published clearances have three figures: a
    0.05 rounding of 28.4 moves the error at b = 0.75 by ~0.35 points)."""
    pred = predict_per_kg(LI_ROWS["cyno_cl"], b, animal_weight=3.5, human_weight=70.0)
    pe = li_percent_error(pred, LI_ROWS["human_cl_observed"])
    np.testing.assert_allclose(pe, LI_ROWS[PE_COLUMNS[b]], atol=0.6)
    mae = summarise_errors(prediction_errors(pred, LI_ROWS["human_cl_observed"]))["mean_abs_li_pe"]
    assert mae == pytest.approx(LI["mean_absolute_error_pct"][str(b)], abs=0.1)


def test_li2019_errors_are_not_reproduced_by_the_symmetric_ape_or_another_weight_ratio():
    pred = predict_per_kg(LI_ROWS["cyno_cl"], 0.75, 3.5, 70.0)
    ape = prediction_errors(pred, LI_ROWS["human_cl_observed"])["ape"]
    assert np.max(np.abs(ape - np.abs(LI_ROWS["pe_b075"]))) > 50       # APE caps under-prediction at 100 %
    pred_60_3 = predict_per_kg(LI_ROWS["cyno_cl"], 0.75, 3.0, 70.0)    # ratio 23.3 misses by > 5 points
    assert np.max(np.abs(li_percent_error(pred_60_3, LI_ROWS["human_cl_observed"]) - LI_ROWS["pe_b075"])) > 5


def test_li2019_same_via_scale_parameters():
    """The parameter-set API gives the same per-kg human clearance (DMUC5754A, b = 0.85: 28.4 * 20^-0.15)."""
    r = scale_parameters({"CL": (28.4, "mL/day/kg")}, "cynomolgus", exponents={"CL": 0.85})
    assert r.table.loc[0, "human_per_kg"] == pytest.approx(28.4 * 20 ** -0.15, rel=1e-12)
    assert li_percent_error(r.table.loc[0, "human_per_kg"], 25.7) == pytest.approx(-42.0, abs=0.6)


@pytest.mark.parametrize("b,adc_l_day,tab_l_day", [(0.75, 0.60, 0.35), (0.85, 0.81, 0.47), (1.0, 1.27, 0.74)])
def test_synthetic_cyno_study_spec_section_8(b, adc_l_day, tab_l_day):
    """NCA SPEC section 8: ADC CL 18.2 mL/day/kg, 3.5 kg -> 70 kg: 0.60 / 0.81 / 1.27 L/day (2 decimals).
    TAb: its cynomolgus CL is not stated; 10.6 mL/day/kg (0.74 L/day / 70 kg at b = 1) gives 0.35/0.47/0.74."""
    r = scale_parameters({"ADC_CL": (18.2, "mL/day/kg"), "TAb_CL": (10.6, "mL/day/kg")}, "cynomolgus",
                         exponents={"clearance": b})
    v = r.values()
    assert v["ADC_CL"] == pytest.approx(adc_l_day, abs=0.005)
    assert v["TAb_CL"] == pytest.approx(tab_l_day, abs=0.005)


def test_synthetic_study_half_lives_scale_with_species_invariant_time():
    """SPEC section 8: t1/2 7.9 / 5.8 / 3.7 d at b 0.75 / 0.85 / 1.0 -- with V exponent 1 a time scales as
    20^(1 - b), so the published 3.7 d (b = 1) must give 5.8 and 7.9 within the 0.05 d rounding x 20^0.25."""
    got = [scale_parameters({"t_half": (3.7, "day")}, "cynomolgus", exponents={"clearance": b}).values()["t_half"]
           for b in (0.75, 0.85, 1.0)]
    np.testing.assert_allclose(got, [7.9, 5.8, 3.7], atol=0.11)


def test_fda_table_1_km_and_weights():
    fda = pd.read_csv(REFERENCE / "translation" / "fda2005_table1.csv")
    for row in fda.itertuples():
        info = SPECIES[row.species]
        assert info.km == row.km and info.fda_weight_kg == row.reference_weight_kg, row.species
        assert row.reference_weight_kg / row.bsa_m2 == pytest.approx(row.km, rel=0.05)   # Km = W / BSA
        if not np.isnan(row.divisor):
            assert info.fda_divisor == row.divisor
            assert abs(row.divisor - 37 / row.km) <= 0.05 + 1e-12                     # 37/Km to one decimal
    for alias in ("cynomolgus", "rhesus"):
        assert SPECIES[alias].km == 12


def test_hnstd_30_in_monkey_known_answers():
    """The brief's known answers: HED 9.73 mg/kg and start 1.62 mg/kg by BSA; 5.0 mg/kg by mg/kg scaling."""
    assert human_equivalent_dose(30, "cynomolgus").hed == pytest.approx(9.73, abs=0.005)
    assert human_equivalent_dose(30, "cynomolgus", rounded_divisor=True).hed == pytest.approx(30 / 3.1, rel=1e-12)
    assert fih_start_dose(30, "cynomolgus").start_dose_mg_per_kg == pytest.approx(1.62, abs=0.005)
    assert fih_start_dose(30, "cynomolgus", scaling="mg_per_kg").start_dose_mg_per_kg == pytest.approx(5.0)


def test_rat_km_is_6_and_6_2_is_the_divisor():
    assert human_equivalent_dose(62, "rat").hed == pytest.approx(62 * 6 / 37)
    assert human_equivalent_dose(62, "rat", rounded_divisor=True).hed == pytest.approx(10.0)


def test_sacher_mlp_for_humans_is_93_4_years():
    assert float(sacher_mlp(1.53, 70.0)) == pytest.approx(93.4, abs=0.05)


def test_bundled_tdxd_population_pk_set():
    assert reference_parameters("tdxd") == {"CL": 0.421, "V1": 2.77, "Q": 0.199, "V2": 5.16}
