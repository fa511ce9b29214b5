"""Regression tests of review findings: ICH S9 HNSTD rule (reversible severe/marked findings), STD10 group sizes
summed over sexes, the CL exponent override reaching Q, HED notes and CLI weights, ladder rounding that cuts a
step, a ladder start above the safe start dose, and the projected half-lives (closed forms)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from adcbridge.cli import main
from adcbridge.translation import (
    SEVERITY_LEVELS,
    FihConfig,
    dose_ladder,
    fih_start_dose,
    project_human_pk,
    run_fih_config,
    scale_parameters,
    summarise_toxicology,
)


def codes(result):
    return [i.code for i in result.issues]


# ------------------------------------------------------------------------------------------------- M1: HNSTD
def monkey(severity, reversible):
    row = {"dose": 30, "n_animals": 6, "finding": "neutropenia", "severity": severity}
    if reversible is not None:
        row["reversible"] = reversible
    return pd.DataFrame([{"dose": 10, "n_animals": 6, "severity": "none"}, row,
                         {"dose": 100, "n_animals": 6, "finding": "sepsis", "severity": "life-threatening"}])


def test_marked_is_its_own_grade_between_moderate_and_severe():
    assert SEVERITY_LEVELS.index("moderate") < SEVERITY_LEVELS.index("marked") < SEVERITY_LEVELS.index("severe")
    s = summarise_toxicology(monkey("marked", True), "cynomolgus")
    assert s.table["worst_severity"].iloc[1] == "marked"


@pytest.mark.parametrize("severity", ["marked", "severe"])
def test_reversible_marked_or_severe_finding_does_not_lower_the_hnstd(severity):
    """ICH S9: HNSTD = highest dose without lethality, life-threatening toxicity or irreversible findings."""
    s = summarise_toxicology(monkey(severity, True), "cynomolgus")
    assert s.hnstd == 30.0 and s.noael == 10.0
    issue = next(i for i in s.issues if i.code == "reversible_severe_findings")
    assert "neutropenia" in issue.message and "30 mg/kg" in issue.message and issue.severity == "warning"
    assert "irreversible" in s.rule and "reversible severe findings do not count" in s.rule


def test_counting_reversible_severe_findings_is_configurable():
    s = summarise_toxicology(monkey("severe", True), "cynomolgus", reversible_severe_counts=True)
    assert s.hnstd == 10.0 and s.spec.reversible_severe_counts and "also count" in s.rule
    assert "reversible_severe_findings" not in codes(s)
    # a reversible *marked* finding stays below the severely-toxic threshold even then
    assert summarise_toxicology(monkey("marked", True), "cynomolgus", reversible_severe_counts=True).hnstd == 30.0


@pytest.mark.parametrize("severity,reversible", [("severe", False), ("marked", False), ("mild", False),
                                                 ("severe", None), ("marked", None)])
def test_irreversible_or_unknown_reversibility_severe_findings_lower_the_hnstd(severity, reversible):
    s = summarise_toxicology(monkey(severity, reversible), "cynomolgus")
    assert s.hnstd == 10.0
    if reversible is None:
        assert "severe_reversibility_unknown" in codes(s)


def test_std10_still_counts_reversible_severe_findings():
    rat = pd.DataFrame({"dose": [10.0, 30.0, 100.0], "n_animals": 10, "severity": ["none", "severe", "severe"],
                        "reversible": [None, True, True], "n_affected": [0, 1, 3]})
    s = summarise_toxicology(rat, "rat")
    assert list(s.table["incidence_severe"]) == [0.0, 0.1, 0.3] and s.std10 == pytest.approx(30.0)


# ----------------------------------------------------------------------------------------------- M2: STD10 n
def test_std10_group_size_sums_the_sexes():
    """10/sex; 30 mg/kg 1 + 0 deaths (5 %), 100 mg/kg 3 + 2 (25 %): log-interpolated STD10 = 40.5 mg/kg."""
    rows = [dict(dose=10, sex="M", n_animals=10, severity="none"), dict(dose=10, sex="F", n_animals=10),
            dict(dose=30, sex="M", n_animals=10, deaths=1), dict(dose=30, sex="F", n_animals=10, deaths=0),
            dict(dose=100, sex="M", n_animals=10, deaths=3), dict(dose=100, sex="F", n_animals=10, deaths=2)]
    s = summarise_toxicology(pd.DataFrame(rows), "rat")
    assert list(s.table["n_animals"]) == [20.0, 20.0, 20.0]
    np.testing.assert_allclose(s.table["incidence_severe"], [0.0, 0.05, 0.25])
    expected = math.exp(math.log(30) + (0.10 - 0.05) / (0.25 - 0.05) * math.log(100 / 30))
    assert s.std10 == pytest.approx(expected, rel=1e-12) and s.std10 == pytest.approx(40.5, abs=0.05)


def test_each_sex_group_is_counted_once_and_group_column_works():
    rows = [dict(dose=10, group="1M", n_animals=10), dict(dose=10, group="1F", n_animals=10),
            dict(dose=30, group="2M", n_animals=10, finding="a", severity="mild"),
            dict(dose=30, group="2M", n_animals=10, finding="b", severity="moderate"),
            dict(dose=30, group="2F", n_animals=10, finding="c", severity="severe")]   # no n_affected: its sex
    s = summarise_toxicology(pd.DataFrame(rows), "rat")
    assert list(s.table["n_animals"]) == [20.0, 20.0]
    assert s.table["incidence_severe"].iloc[1] == pytest.approx(0.5)
    # no sex/group columns: one group per dose (its largest n_animals), as before
    one = pd.DataFrame([dict(dose=10, n_animals=10), dict(dose=30, n_animals=10, finding="a", severity="mild"),
                        dict(dose=30, n_animals=10, finding="b", severity="severe", n_affected=2)])
    assert list(summarise_toxicology(one, "rat").table["n_animals"]) == [10.0, 10.0]


# ------------------------------------------------------------------------------------------------ L2: Q exponent
PARAMS = {"CL": (18.2, "mL/day/kg"), "V1": (40, "mL/kg"), "Q": (30, "mL/day/kg"), "V2": (45, "mL/kg")}


def test_cl_exponent_override_reaches_q():
    exps = scale_parameters(PARAMS, "cynomolgus", modality="adc", exponents={"CL": 0.85}).table.set_index("name")
    assert exps.loc["Q", "exponent"] == 0.85 and exps.loc["CL", "exponent"] == 0.85
    assert exps.loc["V1", "exponent"] == 1.0
    # Q's own override wins; a kind override still applies
    e2 = scale_parameters(PARAMS, "cynomolgus", exponents={"CL": 0.85, "Q": 0.9}).table.set_index("name")
    assert e2.loc["Q", "exponent"] == 0.9
    e3 = scale_parameters(PARAMS, "cynomolgus", exponents={"clearance": 0.8}).table.set_index("name")
    assert e3.loc["Q", "exponent"] == 0.8


# ------------------------------------------------------------------------------------------- L3: HED weights
def test_body_weight_under_bsa_for_a_known_species_is_noted():
    r = fih_start_dose(30, "cynomolgus", body_weight=4.0)
    assert r.hed_mg_per_kg == pytest.approx(30 * 12 / 37) and "body_weight_not_used" in codes(r)
    assert "body_weight_not_used" not in codes(fih_start_dose(30, "cynomolgus"))
    assert "body_weight_not_used" not in codes(fih_start_dose(30, "cynomolgus", body_weight=4.0,
                                                               scaling="body_weight_exponent"))


def test_fih_cli_human_and_patient_weight(capsys):
    code = main(["fih", "--hnstd", "30", "--scaling", "body-weight-exponent", "--human-weight", "70",
                 "--patient-weight", "80", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    obj = json.loads(out.out)
    hed = 30 * (3.0 / 70.0) ** 0.33
    assert obj["hed_mg_per_kg"] == pytest.approx(hed, rel=1e-3)
    assert obj["patient_weight_kg"] == 80 and obj["start_dose_mg"] == pytest.approx(hed / 6 * 80, rel=1e-3)


# -------------------------------------------------------------------------------------------- L4: ladder steps
def test_rounding_that_cuts_a_step_is_reported():
    lad = dose_ladder(0.08, "doubling", n_levels=4, sig_figs=1)
    assert lad.doses[:2] == (0.08, 0.1)
    issue = next(i for i in lad.issues if i.code == "step_shrunk_by_rounding")
    assert "level 2" in issue.message and "+25 %" in issue.message and "+100 %" in issue.message
    assert lad.table["unrounded_dose"].iloc[1] == pytest.approx(0.16)
    assert lad.table["planned_increment_pct"].iloc[1] == pytest.approx(100.0)
    assert "step_shrunk_by_rounding" not in codes(dose_ladder(1.62, "doubling", n_levels=7, switch_at_level=3))


# ------------------------------------------------------------------------------------- L5: start above safe
def test_config_start_dose_above_the_safe_start_is_flagged():
    base = {"species": "cynomolgus", "hnstd": 30, "ladder": {"n_levels": 4}}
    plan = run_fih_config(FihConfig.model_validate({**base, "ladder": {"n_levels": 4, "start_dose": 3.0}}))
    assert any(i.code == "start_above_safe_dose" and i.severity == "warning" for i in plan.all_issues())
    assert any("above the computed ICH S9 start dose" in m["message"] for m in plan.to_record()["issues"])
    ok = run_fih_config(FihConfig.model_validate({**base, "ladder": {"n_levels": 4, "start_dose": 1.5}}))
    assert not any(i.code == "start_above_safe_dose" for i in ok.all_issues())


# ----------------------------------------------------------------------------------------- L9: half-lives
CYNO_2CMT = {"CL": (20, "mL/day/kg"), "V1": (40, "mL/kg"), "Q": (30, "mL/day/kg"), "V2": (40, "mL/kg")}


def test_one_compartment_half_life_is_labelled_terminal():
    proj = project_human_pk({"CL": (20, "mL/day/kg"), "V": (40, "mL/kg")}, "cynomolgus", model="1cmt")
    assert set(proj.half_lives) == {"t_half_terminal"}
    assert proj.half_lives["t_half_terminal"] / 24 == pytest.approx(math.log(2) * 40 / 20, rel=1e-9)


def test_two_compartment_half_lives_against_the_closed_form():
    """Human CL, V1, Q, V2 by allometry (antibody: clearances 0.85, volumes 1.0; cyno 3.5 kg -> 70 kg), then
    k10 = CL/V1, k12 = Q/V1, k21 = Q/V2 and alpha, beta = ((k10+k12+k21) +/- sqrt((k10+k12+k21)^2 - 4 k10 k21))/2."""
    proj = project_human_pk(CYNO_2CMT, "cynomolgus", model="2cmt", modality="antibody")
    r = 70.0 / 3.5
    cl, q = 20e-3 * 3.5 * r ** 0.85, 30e-3 * 3.5 * r ** 0.85         # L/day
    v1, v2 = 40e-3 * 70.0, 40e-3 * 70.0                               # L
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    alpha = (s + math.sqrt(s * s - 4 * k10 * k21)) / 2
    beta = (s - math.sqrt(s * s - 4 * k10 * k21)) / 2
    hl = {k: v / 24.0 for k, v in proj.half_lives.items()}            # h -> day
    assert hl["t_half_alpha"] == pytest.approx(math.log(2) / alpha, rel=1e-9)
    assert hl["t_half_beta"] == pytest.approx(math.log(2) / beta, rel=1e-9)
    assert hl["t_half_terminal"] == hl["t_half_beta"]


def test_an_exponent_for_an_unknown_name_is_refused_not_ignored(capsys):
    """`--exponent cl=0.85` (lower case) used to be ignored silently, scaling CL with 1.0."""
    from adcbridge.translation import scale_parameters
    with pytest.raises(ValueError, match="names 'cl', which is neither a parameter"):
        scale_parameters({"CL": (18.0, "mL/day/kg")}, exponents={"cl": 0.85})
    assert scale_parameters({"CL": (18.0, "mL/day/kg")}, exponents={"clearance": 0.85}).table["exponent"][0] == 0.85
    code = main(["translate", "allometry", "--param", "CL=18:mL/day/kg", "--exponent", "cl=0.85"])
    err = capsys.readouterr().err
    assert code == 2 and "names 'cl'" in err and err.count("\n") == 1
    code = main(["translate", "allometry", "--param", "CL=18:mL/day/kg", "--exponent", "CL=0.85", "--exponent",
                 "CL=0.9"])
    assert code == 2 and "gives CL twice" in capsys.readouterr().err


def test_an_empty_toxicology_table_is_refused_with_one_line(capsys, tmp_path):
    import pandas as pd

    from adcbridge.translation import summarise_toxicology
    with pytest.raises(ValueError, match="toxicology table has no rows"):
        summarise_toxicology(pd.DataFrame(columns=["dose", "species"]), "cynomolgus")
    f = tmp_path / "fih.yaml"
    f.write_text("name: x\nspecies: cynomolgus\nscaling: bsa\nsafety_factor: 6\ntox: []\n")
    code = main(["fih", "--config", str(f)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'tox' (line 5): is empty: give one row" in err
    assert "Value error" not in err
    f.write_text("name: x\nspecies: cynomolgus\nscaling: bsa\nsafety_factor: 6\ntox:\n"
                 "  - {dose: 10, n_animals: 6, severity: none}\n  - {dose: -3, n_animals: 6, severity: none}\n")
    code = main(["fih", "--config", str(f)])
    err = capsys.readouterr().err
    assert code == 2 and "'tox[2].dose' (line 7)" in err
