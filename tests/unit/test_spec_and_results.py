import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from adcbridge.dosefinding import (
    BoinDesign,
    OperatingCharacteristics,
    boin,
    compare_designs,
    crm,
    decision_table,
    exact_oc,
    next_dose,
    select_mtd,
    simulate,
    three_plus_three,
)
from adcbridge.results import Result
from adcbridge.spec import SpecError


@pytest.mark.parametrize("kwargs,param", [
    (dict(target=0.04), "target"), (dict(target=0.61), "target"), (dict(target=0.3, p_saf=0.3), "p_saf"),
    (dict(target=0.3, p_tox=0.3), "p_tox"), (dict(target=0.3, p_tox=0.32), "p_tox"),
    (dict(target=0.3, cohort_size=0), "cohort_size"), (dict(target=0.3, n_cohorts=-1), "n_cohorts"),
    (dict(target=0.3, start_dose=9), "start_dose"), (dict(target=0.3, offset=0.5), "offset"),
    (dict(target=0.3, cutoff_eli=1.2), "cutoff_eli"), (dict(target="abc"), "target"),
])
def test_bad_design_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError) as err:
        BoinDesign(n_doses=5, **kwargs)
    assert f"'{param}'" in str(err.value)
    assert isinstance(err.value, SpecError) and "\n" not in str(err.value)


def test_low_n_earlystop_warns():
    with pytest.warns(UserWarning, match="n_earlystop"):
        BoinDesign(target=0.3, n_doses=5, n_earlystop=6)


def test_specs_are_frozen_and_rules_return_new_specs():
    d = boin(0.3, 5)
    with pytest.raises(ValidationError, match="frozen"):
        d.target = 0.25
    d2 = d.stop_early_at(12).with_extra_safety(0.1).with_titration().starting_at(2).bounding_mtd()
    assert (d2.n_earlystop, d2.extrasafe, d2.offset, d2.titration, d2.start_dose, d2.bound_mtd) == \
        (12, True, 0.1, True, 2, True)
    assert d.n_earlystop == 100
    # defaults follow the target when it is replaced
    assert d.replace(target=0.25).phi1 == pytest.approx(0.15)


from adcbridge.nca import NcaOptions, run_nca
from adcbridge.nca.proportionality import dose_normalised_anova, power_model
from adcbridge.nca.sex import sex_comparison

_PP = pd.DataFrame({"DOSE": [1.0] * 4 + [10.0] * 4, "SEX": list("FFMM") * 2,
                    "PPSTRESN": [12.0, 13.0, 10.0, 11.0, 118.0, 125.0, 99.0, 104.0]})
_CONC = pd.DataFrame({"ID": [1] * 6 + [2] * 6, "TIME": [0, 1, 2, 4, 8, 12] * 2,
                      "CONC": [0, 10, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0], "DOSE": 100.0})

from adcbridge.assays.dose_response import fit_dose_response, fit_dose_response_batch
from adcbridge.assays.internalization import fit_internalization
from adcbridge.assays.kinetics import fit_kinetics, fit_steady_state

_DR = pd.DataFrame({"conc": [0, 0.1, 1, 10, 100] * 2, "response": [100, 97, 55, 9, 2, 99, 95, 50, 11, 1],
                    "curve": ["a"] * 5 + ["b"] * 5})
_T = np.arange(0.0, 601.0, 5.0)
_SPR = pd.concat([pd.DataFrame({"cycle": i, "conc": c, "time": _T, "response": np.where(
    _T < 30, 0.0, 50 * 1e-4 * c / (1e-4 * c + 1e-3) * (1 - np.exp(-(1e-4 * c + 1e-3) * (np.minimum(_T, 230) - 30)))
    * np.exp(-1e-3 * np.maximum(_T - 230, 0)))}) for i, c in enumerate([5.0, 20.0, 80.0], start=1)])
_PCT = pd.DataFrame({"adc": np.repeat(["A", "B"], 7), "time_h": [0, 0.5, 1, 2, 4, 8, 24] * 2,
                     "pct_internalized": [0.4, 11, 20, 35, 52, 66, 71, 0.1, 4, 8, 14, 25, 36, 46]})

from adcbridge.assays.xenograft import (
    analyze_xenograft,
    best_response,
    compare_day,
    fit_growth_rates,
    growth_inhibition,
    simulate_simeoni,
    time_to_endpoint,
    tumour_volumes,
)

_XV = pd.DataFrame([(g, f"{g}{i}", d, 100 * np.exp(r * d + 0.05 * ((7 * i + d) % 5 - 2)))
                    for g, r in (("Vehicle", 0.12), ("ADC", 0.03)) for i in range(4) for d in (0, 4, 8, 12, 16)],
                   columns=["group", "animal", "day", "volume"])

from adcbridge.pk import Regimen as PkRegimen
from adcbridge.pk import fit_pk
from adcbridge.pk import simulate as pk_simulate
from adcbridge.translation import project_human_pk
from tests.unit.test_translation_cli import TRANSLATION_MAKERS

_PKT = np.array([0.5, 1, 4, 24, 72, 168, 336])
_PK = pd.DataFrame({"ID": np.repeat(["a", "b"], 7), "TIME": np.tile(_PKT, 2), "DOSE": np.repeat([1.0, 3.0], 7),
                    "CONC": np.concatenate([pk_simulate("2cmt", {"CL": 0.8, "V1": 40, "Q": 1.2, "V2": 40},
                                                        PkRegimen.single(d, 0.5), _PKT)[0]
                                            * (1 + 0.05 * np.sin(np.arange(7))) for d in (1.0, 3.0)])})

MAKERS = [
    lambda: fit_pk(_PK, "2cmt", n_starts=2),
    lambda: project_human_pk({"CL": (20.0, "mL/day/kg"), "V1": (40.0, "mL/kg"), "Q": (30.0, "mL/day/kg"),
                              "V2": (40.0, "mL/kg")}),
    *TRANSLATION_MAKERS,
    lambda: analyze_xenograft(_XV, control="Vehicle", tgi="all", days=[12]),
    lambda: growth_inhibition(tumour_volumes(_XV), control="Vehicle", tgi="delta_v", days=[12]),
    lambda: compare_day(tumour_volumes(_XV), control="Vehicle", days=[12]),
    lambda: fit_growth_rates(tumour_volumes(_XV), control="Vehicle"),
    lambda: time_to_endpoint(tumour_volumes(_XV), control="Vehicle", doubling_time=6.0),
    lambda: best_response(tumour_volumes(_XV)),
    lambda: simulate_simeoni(days=[0, 7, 14]),
    lambda: fit_dose_response(_DR, curve="curve"),
    lambda: fit_dose_response_batch(_DR),
    lambda: fit_kinetics(_SPR, t_on=30, t_off=230, conc_unit="nM", bulk=True),
    lambda: fit_steady_state(pd.DataFrame({"conc": [1.0, 3.0, 10.0, 30.0], "response": [9.0, 21.0, 40.0, 52.0]}),
                             conc_unit="nM"),
    lambda: fit_internalization(_PCT),
    lambda: run_nca(_CONC, subject="ID", time="TIME", conc="CONC", dose="DOSE",
                    options=NcaOptions(partial_aucs=((0, 24),), units={"dose": "mg"})),
    lambda: power_model(_PP, by=()),
    lambda: dose_normalised_anova(_PP, by=()),
    lambda: sex_comparison(_PP, by=()),
    lambda: decision_table(boin(0.3, 5, extrasafe=True)),
    lambda: select_mtd(boin(0.3, 4), [3, 6, 0, 0], [0, 1, 0, 0]),
    lambda: simulate(boin(0.3, 3), [0.1, 0.3, 0.5], n_trials=500, seed=3),
    lambda: exact_oc(three_plus_three(3), [0.1, 0.3, 0.5]),
    lambda: simulate(crm(0.3, 3, skeleton=[0.15, 0.3, 0.45], cohorts=4), [0.1, 0.3, 0.5], n_trials=200, seed=1),
    lambda: next_dose(boin(0.3, 4), "1NNN 2TTT 1NNN 2NNN"),
    lambda: compare_designs({"a": boin(0.3, 3), "b": three_plus_three(3)}, [0.1, 0.3, 0.5], n_trials=300, seed=2),
]


@pytest.mark.parametrize("make", MAKERS)
def test_results_round_trip_through_json(make):
    r = make()
    text = r.to_json()
    json.loads(text)                                # valid, strict JSON (no NaN)
    back = Result.from_json(text)
    assert type(back) is type(r)
    assert back.spec == r.spec and back.provenance == r.provenance and back.issues == r.issues
    pd.testing.assert_frame_equal(back.table, r.table)
    assert back.summary() is not back.table


def test_every_result_type_is_covered_by_the_round_trip():
    from adcbridge.results import _REGISTRY
    covered = {type(make()).__name__ for make in MAKERS}
    assert set(_REGISTRY) <= covered, set(_REGISTRY) - covered


def test_monte_carlo_is_reproducible_and_records_the_seed():
    d, p = boin(0.3, 4), [0.1, 0.2, 0.3, 0.5]
    a, b = simulate(d, p, 3000, seed=42), simulate(d, p, 3000, seed=42)
    assert a.selection_pct == b.selection_pct and a.seed == 42 and a.provenance.seed == 42
    c = simulate(d, p, 3000, seed=43)
    assert a.selection_pct != c.selection_pct
    auto = simulate(d, p, 100)
    assert isinstance(auto.seed, int) and simulate(d, p, 100, seed=auto.seed).selection_pct == auto.selection_pct


def test_results_do_not_depend_on_the_chunking_of_trials():
    """1e6 trials run in fixed chunks: the first 50,000 trials are the same whatever the total."""
    from adcbridge.dosefinding.boin.policy import BoinPolicy
    from adcbridge.dosefinding.engine import run_monte_carlo
    pol = BoinPolicy(boin(0.3, 4))
    s1 = run_monte_carlo(pol, np.array([0.1, 0.2, 0.3, 0.5]), 0.3, 50_000, seed=5, keep_trials=True)
    s2 = run_monte_carlo(pol, np.array([0.1, 0.2, 0.3, 0.5]), 0.3, 60_000, seed=5, keep_trials=True)
    assert np.array_equal(s1.trials["mtd"], s2.trials["mtd"][:50_000])


@pytest.mark.parametrize("p_true,match", [
    ([0.1, 0.2], "one probability per dose"), ([0.1, 0.2, 1.2], "in \\[0, 1\\]"),
    ([0.1, np.nan, 0.3], "in \\[0, 1\\]"), ("abc", "p_true"),
])
def test_bad_true_probabilities(p_true, match):
    with pytest.raises(ValueError, match=match):
        simulate(boin(0.3, 3), p_true, 100, seed=1)


@pytest.mark.parametrize("n_trials", [0, -5, 1.5, True])
def test_bad_number_of_trials(n_trials):
    with pytest.raises(ValueError, match="n_trials"):
        simulate(boin(0.3, 3), [0.1, 0.2, 0.3], n_trials, seed=1)


def test_selection_and_stop_percentages_add_up():
    oc = exact_oc(boin(0.3, 5, extrasafe=True), [0.35, 0.45, 0.5, 0.6, 0.7])
    assert sum(oc.selection_pct) + oc.no_mtd_pct == pytest.approx(100, abs=1e-9)
    assert 0 < oc.stop_pct <= oc.no_mtd_pct
    assert isinstance(oc, OperatingCharacteristics) and oc.se is None


@pytest.mark.parametrize("make", MAKERS)
def test_every_result_has_one_json_ready_record(make):
    """to_record(): plain strict JSON with the common envelope, the same after the faithful JSON round trip."""
    r = make()
    rec = r.to_record()
    assert isinstance(rec, dict) and rec["result_type"] == type(r).__name__
    assert {"spec", "issues", "provenance"} <= set(rec)
    assert rec["provenance"]["version"] == r.provenance.version
    assert all(set(i) == {"code", "message", "severity"} for i in rec["issues"])
    assert json.loads(json.dumps(rec, allow_nan=False)) == rec        # nothing but plain JSON values
    assert Result.from_json(r.to_json()).to_record() == rec


def test_a_column_table_becomes_a_data_frame_on_first_access_only():
    from adcbridge.results import ColumnTable
    r = next_dose(boin(0.3, 4), "1NNN 2TTT")
    assert isinstance(r.__dict__["_table"], ColumnTable)
    assert r.to_record()["decision"] == "de-escalate" and isinstance(r.__dict__["_table"], ColumnTable)
    t = r.table
    assert isinstance(t, pd.DataFrame) and r.table is t and list(t["n"]) == [3, 3, 0, 0]
    with pytest.raises(ValueError, match="unequal length"):
        ColumnTable({"a": [1, 2], "b": [1]})
