"""Toxicology summaries, HED, ICH S9 start dose, receptor occupancy, exposure margins and dose ladders.
Expected values are closed forms (the published known answers are in tests/reference/test_translation_*.py)."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from adcbridge.dosefinding import BoinDesign
from adcbridge.spec import SpecError
from adcbridge.translation import (
    dose_ladder,
    exposure_at,
    exposure_margins,
    fih_start_dose,
    human_equivalent_dose,
    occupancy_dose,
    proportional_exposure,
    round_dose,
    summarise_toxicology,
)

MONKEY = pd.DataFrame([
    {"species": "cynomolgus", "dose": 10, "n_animals": 6, "severity": "none"},
    {"species": "cynomolgus", "dose": 30, "n_animals": 6, "finding": "neutropenia", "severity": "moderate",
     "reversible": True},
    {"species": "cynomolgus", "dose": 78.8, "n_animals": 6, "finding": "pneumonitis", "severity": "severe",
     "reversible": False, "deaths": 1},
])


def test_noael_hnstd_from_a_monkey_study():
    s = summarise_toxicology(MONKEY)
    assert (s.noael, s.loael, s.hnstd, s.basis, s.basis_dose) == (10.0, 30.0, 30.0, "HNSTD", 30.0)
    assert list(s.table["severely_toxic"]) == [False, False, True] and "ICH S9" in s.rule


def test_deaths_and_irreversible_mild_findings_count_as_severe():
    t = MONKEY.copy()
    t.loc[1, ["severity", "reversible"]] = ["mild", False]          # irreversible mild finding at 30 mg/kg
    assert summarise_toxicology(t).hnstd == 10.0
    t2 = MONKEY.copy()
    t2.loc[1, "deaths"] = 1
    assert summarise_toxicology(t2).hnstd == 10.0


def test_mild_findings_are_not_adverse_by_default_but_can_be():
    t = MONKEY.copy()
    t.loc[1, "severity"] = "mild"
    assert summarise_toxicology(t).noael == 30.0
    assert summarise_toxicology(t, adverse_from="mild").noael == 10.0


def test_no_severe_toxicity_reports_the_top_dose_with_an_issue():
    s = summarise_toxicology(MONKEY.iloc[:2])
    assert s.hnstd == 30.0 and any(i.code == "hnstd_not_bounded" for i in s.issues)


def test_no_tolerated_dose_is_an_error():
    t = MONKEY.iloc[2:]
    with pytest.raises(ValueError, match="no tolerated dose.*78.8 mg/kg"):
        summarise_toxicology(t)


RAT = pd.DataFrame({"species": "rat", "dose": [10.0, 30.0, 100.0], "n_animals": 10, "deaths": [0, 0, 1],
                    "severity": ["none", "mild", "severe"], "n_affected": [0, 2, 2]})


def test_std10_interpolated_on_log_dose():
    """Incidence 0, 0, 3/10 (1 death + 2 severe): log STD10 = log 30 + (0.1 / 0.3) log(100/30)."""
    s = summarise_toxicology(RAT)
    assert s.basis == "STD10" and s.std10 == pytest.approx(30 * (100 / 30) ** (1 / 3), rel=1e-12)


def test_std10_edge_cases():
    exact = RAT.assign(deaths=[1, 0, 1], severity=["none", "mild", "severe"])       # 10 % at the lowest dose
    assert summarise_toxicology(exact).std10 == 10.0
    with pytest.raises(ValueError, match="no tolerated dose.*20%"):
        summarise_toxicology(RAT.assign(deaths=[2, 0, 1]))
    none = summarise_toxicology(RAT.assign(deaths=0, severity="mild"))
    assert none.std10 == 100.0 and any(i.code == "std10_not_reached" for i in none.issues)
    with pytest.raises(ValueError, match="n_animals"):
        summarise_toxicology(RAT.drop(columns="n_animals"))


@pytest.mark.parametrize("table,kwargs,match", [
    (MONKEY.assign(severity="awful"), {},
     "^" + re.escape("the toxicology table: column 'severity', row 1: expected a severity (none, mild, moderate, "
                     "marked, severe, life-threatening; minimal or slight mean mild), got 'awful'") + "$"),
    (MONKEY.assign(dose=[10, -1, 30]), {},
     "^" + re.escape("the toxicology table: column 'dose', row 2: expected a number > 0, got '-1'") + "$"),
    (MONKEY.assign(reversible="maybe"), {},
     "^" + re.escape("the toxicology table: column 'reversible', row 1: expected true/false, yes/no, "
                     "reversible/irreversible or partial (empty: unknown), got 'maybe'") + "$"),
    (pd.concat([MONKEY, RAT]), {},
     "^" + re.escape("the toxicology table: several species in column 'species' (cynomolgus, rat): choose one with "
                     "species=") + "$"),
    (MONKEY.assign(species="llama"), {}, "rodent"),
    (MONKEY.drop(columns="dose"), {},
     "^" + re.escape("the toxicology table: missing column 'dose' (columns: species, n_animals, severity, finding, "
                     "reversible, deaths)") + "$"),
])
def test_bad_tox_tables(table, kwargs, match):
    with pytest.raises(ValueError, match=match):
        summarise_toxicology(table, **kwargs)


def test_hed_scalings():
    assert human_equivalent_dose(10, "dog").hed == pytest.approx(10 * 20 / 37)
    assert human_equivalent_dose(10, "dog", "body_weight_exponent").hed == pytest.approx(10 * (10 / 60) ** 0.33)
    assert human_equivalent_dose(10, "dog", "mg-per-kg").hed == 10
    # an unknown species with its weight: Km = 37 (W/60)^0.33 makes BSA identical to the exponent form
    a = human_equivalent_dose(10, "llama", body_weight=100.0)
    b = human_equivalent_dose(10, "llama", "body_weight_exponent", body_weight=100.0)
    assert a.hed == pytest.approx(b.hed) == pytest.approx(10 * (100 / 60) ** 0.33)
    with pytest.raises(ValueError, match="Unknown species 'llama'.*body weight"):
        human_equivalent_dose(10, "llama")
    with pytest.raises(ValueError, match="scaling"):
        human_equivalent_dose(10, "dog", "surface")


def test_ich_s9_start_dose_rodent_and_factors():
    r = fih_start_dose(std10=45.0, species="rat")
    assert r.spec.factor == 10 and r.start_dose_mg_per_kg == pytest.approx(45 * 6 / 37 / 10)
    assert fih_start_dose(30, "cynomolgus", safety_factor=10).start_dose_mg_per_kg == pytest.approx(30 * 12 / 370)
    assert any(i.code == "basis_species" for i in fih_start_dose(30, "rat").issues)
    tox = summarise_toxicology(MONKEY)
    assert fih_start_dose(tox=tox).start_dose_mg_per_kg == pytest.approx(30 * 12 / 37 / 6)


@pytest.mark.parametrize("factor", [1, 0.5, 0, -6])
def test_safety_factor_must_exceed_one(factor):
    with pytest.raises(SpecError, match="'safety_factor'.*must be > 1"):
        fih_start_dose(30, "cynomolgus", safety_factor=factor)


def test_fih_needs_exactly_one_basis():
    with pytest.raises(ValueError, match="exactly one"):
        fih_start_dose(species="cynomolgus")
    with pytest.raises(ValueError, match="exactly one"):
        fih_start_dose(30, "cynomolgus", std10=45)


def test_receptor_occupancy_dose_closed_form():
    o = occupancy_dose(2.0, 0.2, molecular_weight=155_000)
    conc_m = 2e-9 * 0.2 / 0.8
    assert o.conc_nM == pytest.approx(0.5) and o.dose_mg_per_kg == pytest.approx(conc_m * 155_000 * 40)
    o2 = occupancy_dose(2.0, 0.2, molecular_weight=155_000, cmax_per_dose=20.0)     # ug/mL per mg/kg
    assert o2.dose_mg_per_kg == pytest.approx(conc_m * 155_000 * 1000 / 20)
    r = fih_start_dose(30, "cynomolgus", occupancy=o)
    assert r.occupancy_dose_mg_per_kg == pytest.approx(o.dose_mg_per_kg)
    assert "receptor_occupancy" in set(r.table["scaling"])
    with pytest.raises(ValueError, match="occupancy"):
        occupancy_dose(1.0, 1.0)


def test_exposure_margins_from_a_table_and_from_linear_pk():
    human = pd.DataFrame({"dose": [1.0, 2.0, 4.0], "cmax": [20.0, 40.0, 80.0], "auc": [100.0, 210.0, 450.0]})
    m = exposure_margins(human, animal_cmax=800.0, animal_auc=4500.0)
    np.testing.assert_allclose(m.table["auc_margin"], [45.0, 4500 / 210, 10.0])
    np.testing.assert_allclose(m.table["cmax_margin"], [40.0, 20.0, 10.0])
    lin = exposure_margins(proportional_exposure(1.0, cmax=20.0, auc=100.0), [0.5, 3.0], animal_auc=4500.0)
    np.testing.assert_allclose(lin.table["auc"], [50.0, 300.0])
    # log-log interpolation: AUC between 2 and 4 mg/kg at 2.828 (geometric midpoint) is sqrt(210 * 450)
    assert exposure_at(human, [2 ** 1.5])["auc"].iloc[0] == pytest.approx(math.sqrt(210 * 450))
    with pytest.raises(ValueError, match="outside"):
        exposure_at(human, [8.0])
    with pytest.raises(ValueError, match="animal Cmax and/or AUC"):
        exposure_margins(human)


def test_doubling_ladder_with_level_switch():
    lad = dose_ladder(1.62, "doubling", n_levels=7, switch_at_level=3)
    # unrounded_dose = the planned dose of each level: the computed start, then previous rounded x multiplier
    mult = np.array([2, 2, 1.5, 1.33, 1.33, 1.33])
    np.testing.assert_allclose(lad.table["unrounded_dose"], np.r_[1.62, np.array(lad.doses[:-1]) * mult])
    np.testing.assert_allclose(lad.table["planned_increment_pct"].iloc[1:], (mult - 1) * 100)
    # each level is the planned multiplier on the previous rounded dose: 3.2 x 2 = 6.4 (rounding the chain would
    # give 6.5, a 103 % step), 9.6 x 1.33 = 12.8 -> 13 (35 %, within the 5-point rounding allowance)
    assert lad.doses == (1.6, 3.2, 6.4, 9.6, 13.0, 17.0, 23.0) and lad.switch_level == 3
    steps = np.diff(lad.doses) / np.array(lad.doses[:-1])
    planned = np.array([1.0, 1.0, 0.5, 0.33, 0.33, 0.33])
    assert np.all(steps <= np.minimum(planned + 0.05, 1.0) + 1e-12)
    assert list(lad.table["phase"]) == ["start", "doubling", "doubling", "reduced", "reduced", "reduced", "reduced"]


def test_modified_fibonacci_sequence_and_max_dose():
    lad = dose_ladder(1.0, "modified_fibonacci", max_dose=20.0, sig_figs=4)
    mult = np.array([2.0, 1.67, 1.5, 1.4, 1.33, 1.33, 1.33])
    np.testing.assert_allclose(lad.table["unrounded_dose"], np.r_[1.0, np.array(lad.doses[:-1]) * mult])
    # chained on the rounded doses: 2 x 1.67 = 3.34, x 1.5 = 5.01, x 1.4 = 7.014, x 1.33 = 9.329 (9.32862),
    # 12.41 (12.40757), 16.51 (16.5053)
    np.testing.assert_allclose(lad.doses, [1.0, 2.0, 3.34, 5.01, 7.014, 9.329, 12.41, 16.51])


def test_exposure_switch_and_margins():
    ex = proportional_exposure(1.0, cmax=20.0, auc=100.0)
    lad = dose_ladder(0.3, "doubling", n_levels=8, switch_at_exposure_fraction=0.1, exposure=ex, animal_auc=5000.0)
    # AUC reaches 10 % of 5000 = 500 at 5 mg/kg: first level >= 5 is 9.6 (level 6), then +50 %
    assert lad.switch_level == 6 and lad.table["unrounded_dose"].iloc[6] == pytest.approx(9.6 * 1.5)
    np.testing.assert_allclose(lad.table["auc_margin"], 5000.0 / (100.0 * lad.table["dose"]))
    with pytest.raises(ValueError, match="exposure-based switch"):
        dose_ladder(0.3, "doubling", n_levels=8, switch_at_exposure_fraction=0.1)


def test_rounding_rules():
    assert round_dose(1.62, 2, down=True) == 1.6 and round_dose(1.69, 2, down=True) == 1.6
    assert round_dose(1.65, 2) == 1.7 and round_dose(12.93, 2) == 13.0 and round_dose(0.0347, 2) == 0.035
    assert round_dose(2.37, step=0.25) == 2.25 and round_dose(2.49, step=0.25, down=True) == 2.25
    assert dose_ladder(1.69, "doubling", n_levels=2).doses[0] == 1.6          # the start dose is rounded down
    with pytest.raises(ValueError, match="Rounding makes dose levels"):
        dose_ladder(1.0, "doubling", n_levels=4, switch_at_level=1, after_switch=[0.05], sig_figs=1)


def test_user_list_ladder_and_boin():
    lad = dose_ladder(None, "list", doses=[1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4])
    design = lad.to_boin(target=0.3, cohort_size=3, cohorts=10)
    assert isinstance(design, BoinDesign) and design.n_doses == 7 and design.dose_levels[-1] == 8.4
    assert design.dose_label(3) == "3 (4.2 mg/kg)"
    with pytest.raises(SpecError, match="strictly increasing"):
        dose_ladder(None, "list", doses=[1.0, 2.0, 2.0])
    with pytest.raises(SpecError, match="n_levels"):
        dose_ladder(1.0, "doubling")
