"""The conformance test of the dose-finding core, run over every registered design.

For each design (several specs each: options that change the rules), every dose-transition pathway of the first
six cohorts is generated *by the simulation policy* (the engine's conduct), and the live decision
(:func:`adcbridge.dosefinding.next_dose`) on the same history must agree with it: the same next dose and cohort
size while the trial goes on; a stop, with the same MTD, when the policy ends the trial.  One set of rules, proven
on every path.  Then the JSON round trip (a decision's record replays to the same decision) and the spec
validation messages, for every registered design.

A registered design without specs here fails ``test_every_registered_design_is_covered``.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from adcbridge.dosefinding import Cohort, NextDose, boin, crm, design_class, design_names, next_dose, three_plus_three
from adcbridge.dosefinding.rules import (
    max_cohorts,
    no_skipping,
    stop_at_n,
    stop_at_n_on_dose,
    stop_when_lowest_too_toxic,
)
from adcbridge.results import json_ready
from adcbridge.spec import SpecError

DEPTH = 6

SPECS = {
    "boin": [boin(0.3, 5), boin(0.25, 4, n_earlystop=9, extrasafe=True), boin(0.3, 4, cohorts=4),
             boin(0.3, 5, titration=True, cohorts=8), boin(0.5, 4), boin(0.2, 4, cohort_size=2, start_dose=2),
             boin(0.3, 3, cohort_size=1, cohorts=12), boin(0.25, 3, cohorts=3, extrasafe=True),
             # protocol rules: generic (stop at 13 patients, so the last cohort has 1) and BOIN's own
             stop_at_n(boin(0.3, 5), 13), stop_at_n_on_dose(boin(0.3, 4), 9),
             stop_when_lowest_too_toxic(boin(0.3, 4), 0.85, min_n=2)],
    "3+3": [three_plus_three(5), three_plus_three(4, variant="escalation-only"), three_plus_three(4, start_dose=2),
            stop_at_n(three_plus_three(5), 9), max_cohorts(three_plus_three(4), 4),
            stop_when_lowest_too_toxic(three_plus_three(4), 0.7, target=0.3)],
    "crm": [crm(0.25, 5, skeleton=[0.05, 0.12, 0.25, 0.40, 0.55]),
            crm(0.3, 4, model="logistic"),
            crm(0.25, 5, skeleton=[0.05, 0.12, 0.25, 0.40, 0.55], allow_skipping=True),
            crm(0.2, 4, cohorts=4, stop_cutoff=0.8),
            stop_when_lowest_too_toxic(stop_at_n_on_dose(stop_at_n(
                crm(0.25, 5, skeleton=[0.05, 0.12, 0.25, 0.40, 0.55], stop_cutoff=None), 14), 6), 0.8),
            no_skipping(crm(0.3, 5, allow_skipping=True)), max_cohorts(crm(0.3, 4, cohort_size=2, cohorts=20), 5)],
}

#: designs with their own simulator (time, pending patients, two agents, efficacy) give their specs themselves
OWN = [name for name in design_names() if name not in SPECS]


def _specs(name: str) -> list:
    return SPECS[name] if name in SPECS else list(design_class(name).conformance_specs())


CASES = [(name, k) for name in SPECS for k in range(len(SPECS[name]))]
OWN_CASES = [(name, k) for name in OWN for k in range(len(_specs(name)))]


def test_every_registered_design_is_covered():
    assert set(SPECS) <= set(design_names())
    for name in design_names():
        specs = _specs(name)
        assert len(specs) >= 2, name
        assert all(s.spec_name == name for s in specs)
        assert all(s.has_own_simulator == (name in OWN) for s in specs), name


@pytest.mark.parametrize("name,k", OWN_CASES, ids=[f"{n}-{k}" for n, k in OWN_CASES])
def test_live_decision_equals_the_simulator_at_its_decision_points(name, k):
    """Designs with their own simulator log the histories they decided on and what they decided: the live
    decision on each logged history must be the same (next dose or stop, and the design's own keys)."""
    design = _specs(name)[k]
    checked = 0
    for history, expected in design.conformance_cases():
        live = next_dose(design, history).to_record()
        for key, value in expected.items():
            assert json_ready(value) == live[key], (f"{name} {k}, decision {checked + 1}: {key} live "
                                                    f"{live[key]!r}, simulator {value!r}; history "
                                                    f"{history.records()}")
        checked += 1
    assert checked >= 20, f"{name} {k}: only {checked} logged decisions"


def _pathways(design, depth: int = DEPTH):
    """(cohorts, policy state after them) for every outcome path of the first ``depth`` cohorts, as the policy
    conducts the trial."""
    policy = design.policy()

    def walk(state, cohorts, k):
        dose, size = policy.next_cohort(state)
        d, m = int(dose[0]), int(size[0])
        for dlt in range(m + 1):
            child = state.take(np.array([0]))
            policy.record(child, np.array([d], dtype=np.int32), np.array([m], dtype=np.int32),
                          np.array([dlt], dtype=np.int32), np.array([True]))
            path = cohorts + [Cohort(d + 1, (True,) * dlt + (False,) * (m - dlt))]
            yield path, child
            if child.active[0] and k + 1 < depth:
                yield from walk(child, path, k + 1)

    yield from walk(policy.initial(1), [], 0)


@pytest.mark.parametrize("name,k", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_live_decision_equals_the_policy_on_every_pathway(name, k):
    design = SPECS[name][k]
    policy = design.policy()
    checked = 0
    for cohorts, state in _pathways(design):
        live = next_dose(design, cohorts)
        where = f"{design.spec_name} {k}, after {' '.join(map(str, cohorts))}: live {live.decision} ({live.rule})"
        if state.active[0]:
            dose, size = policy.next_cohort(state)
            assert live.decision != "stop", where
            assert (live.next_dose, live.next_cohort_size) == (int(dose[0]) + 1, int(size[0])), where
        else:
            mtd = int(policy.select(state)[0])
            assert live.decision == "stop", where + " but the policy ended the trial"
            assert live.mtd == (mtd + 1 if mtd >= 0 else None), where + f", policy MTD {mtd + 1}"
        checked += 1
    assert checked >= 4


def _some_history(design):
    if design.has_own_simulator:
        return list(design.conformance_cases(n_trials=3))[-1][0]
    return "1NNN 2NTN" if design.spec_name != "3+3" else "1NNN 2NTN 2NNN"


@pytest.mark.parametrize("name", design_names())
def test_a_decision_record_replays_to_the_same_decision(name):
    design = _specs(name)[0]
    decision = next_dose(design, _some_history(design))
    assert decision.design == name and decision.history is not None
    again = NextDose.replay_record(json.loads(json.dumps(decision.to_record())))
    assert again.same_decision(decision)
    assert decision.replay().same_decision(decision)
    round_trip = NextDose.from_json(decision.to_json())
    assert round_trip.history == decision.history and round_trip.spec == design


@pytest.mark.parametrize("name", design_names())
def test_spec_validation_names_the_parameter_and_the_design(name):
    params = _specs(name)[0].model_dump()
    bad_start = (0, 1) if isinstance(params["start_dose"], (tuple, list)) else 0
    with pytest.raises(SpecError, match=rf"^The 'start_dose' parameter of {re.escape(name)}\b"):
        design_class(name)(**{**params, "start_dose": bad_start})
    with pytest.raises(SpecError, match=rf"{re.escape(name)} has no parameter 'no_such_option'"):
        design_class(name)(**params, no_such_option=1)


def test_unknown_design_name_lists_the_registered_ones():
    with pytest.raises(ValueError, match="registered designs are boin, 3\\+3, crm"):
        design_class("tite-bion")
