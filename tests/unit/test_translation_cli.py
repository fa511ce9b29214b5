"""`adcbridge fih` / `adcbridge translate ...` (commands of adcbridge.cli.translation, mounted here on a local
Typer app), the YAML plan, and JSON round trips of the translation results."""

import json
import re

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from adcbridge.cli.translation import fih, translate_app
from adcbridge.results import Result
from adcbridge.translation import (
    dose_ladder,
    exposure_margins,
    fih_start_dose,
    fit_allometry,
    occupancy_dose,
    proportional_exposure,
    scale_parameters,
    summarise_toxicology,
)
from tests.refdata import REFERENCE

PLAN = REFERENCE / "translation" / "jskn003_fih.yaml"
app = typer.Typer()
app.command("fih")(fih)
app.add_typer(translate_app, name="translate")


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_fih_contract_bsa_and_mg_per_kg():
    res = run("fih", "--hnstd", 30, "--species", "cynomolgus", "--format", "json")
    obj = json.loads(res.output)
    assert res.exit_code == 0 and {"hed_mg_per_kg", "start_dose_mg_per_kg", "method"} <= set(obj)
    assert obj["hed_mg_per_kg"] == pytest.approx(9.73, abs=0.005)
    assert obj["start_dose_mg_per_kg"] == pytest.approx(1.62, abs=0.005) and obj["method"] == "HNSTD/6 by bsa"
    obj = json.loads(run("fih", "--hnstd", 30, "--scaling", "mg-per-kg", "--format", "json").output)
    assert obj["start_dose_mg_per_kg"] == pytest.approx(5.0) and obj["scaling"] == "mg_per_kg"


def test_fih_config_runs_the_whole_plan():
    res = run("fih", "--config", PLAN, "--format", "json")
    obj = json.loads(res.output)
    assert res.exit_code == 0 and obj["toxicology"]["hnstd"] == 30.0 and obj["toxicology"]["noael"] == 10.0
    assert obj["start_dose_mg_per_kg"] == pytest.approx(30 * 12 / 37 / 6)
    assert obj["ladder"]["doses"][:4] == [1.6, 3.2, 6.4, 9.6]
    assert obj["boin"]["dose_levels"] == obj["ladder"]["doses"] and obj["boin"]["target"] == 0.3
    assert "auc_margin" in obj["ladder"]["levels"][0]
    text = run("fih", "--config", PLAN).output
    assert "dose ladder (mg/kg" in text


@pytest.mark.parametrize("args,error,match", [
    (("fih", "--hnstd", 30, "--safety-factor", 1), ValueError, "'safety_factor'.*must be > 1"),
    (("fih", "--hnstd", 30, "--species", "llama"), ValueError, "Unknown species 'llama'.*body weight"),
    (("translate", "ladder", "--scheme", "list", "--doses", "1,3,2"), ValueError, "strictly increasing"),
])
def test_library_errors_are_one_line_value_errors(args, error, match):
    res = run(*args)
    assert isinstance(res.exception, error) and "\n" not in str(res.exception)
    assert re.search(match, str(res.exception))


@pytest.mark.parametrize("args", [("fih",), ("fih", "--hnstd", 30, "--std10", 40),
                                  ("translate", "allometry", "--param", "CL18.2"), ("translate", "ladder")])
def test_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_config_errors_name_the_file(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("species: cynomolgus\nscaling: bsa\n")
    res = run("fih", "--config", bad)
    assert isinstance(res.exception, ValueError) and str(bad) in str(res.exception)
    assert "exactly one of hnstd, std10 or tox" in str(res.exception)
    bad.write_text("species: cynomolgus\ntox:\n  - {dose: 10, severity: severe, deaths: 2}\n")
    res = run("fih", "--config", bad)
    assert "no tolerated dose" in str(res.exception) and str(bad) in str(res.exception)


def test_translate_allometry_and_ladder_commands():
    res = run("translate", "allometry", "--param", "CL=18.2:mL/day/kg", "--param", "V1=40:mL/kg", "--format", "json")
    obj = json.loads(res.output)
    assert res.exit_code == 0 and obj["parameters"][0]["value"] == pytest.approx(1.274)
    res = run("translate", "ladder", "--start", 1.62, "--levels", 5, "--switch-at-level", 3, "--target", 0.3,
              "--format", "json")
    obj = json.loads(res.output)
    assert obj["doses"] == [1.6, 3.2, 6.4, 9.6, 13.0] and obj["boin"]["n_doses"] == 5


_TOX = pd.DataFrame({"species": "cynomolgus", "dose": [10.0, 30.0, 78.8], "severity": ["none", "mild", "severe"]})
TRANSLATION_MAKERS = [
    lambda: scale_parameters({"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg")}, "cynomolgus"),
    lambda: fit_allometry(pd.DataFrame({"species": ["mouse", "rat", "dog"], "value": [0.2, 1.5, 30.0]}), "mL/min"),
    lambda: summarise_toxicology(_TOX),
    lambda: fih_start_dose(30, "cynomolgus", occupancy=occupancy_dose(1.0, 0.1)),
    lambda: exposure_margins(proportional_exposure(1.0, 20.0, 100.0), [1.0, 2.0], animal_auc=4000.0),
    lambda: dose_ladder(1.62, "doubling", n_levels=5, switch_at_level=3,
                        exposure=proportional_exposure(1.0, 20.0, 100.0), animal_auc=4000.0),
]


@pytest.mark.parametrize("make", TRANSLATION_MAKERS)
def test_translation_results_round_trip_through_json(make):
    r = make()
    back = Result.from_json(r.to_json())
    assert type(back) is type(r) and back.spec == r.spec and back.issues == r.issues
    pd.testing.assert_frame_equal(back.table, r.table)
