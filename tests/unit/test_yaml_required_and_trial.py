"""A newcomer's review of the YAML files, the remaining problems:

* a trial spec's scenarios (``p_true`` in [0, 1], finite, one per dose level) and designs are checked when the file
  is read, each error naming the file, the key path and the line -- not when the scenario is simulated, after the
  earlier scenarios have printed;
* a misspelt required key is named as an unknown key with the nearest name (``unknown key 'targt'; did you mean
  'target'?``), not as the key it misspells being required (trial spec, fih config, sweep design);
* a fih plan's tox ``reversible`` follows the YAML rules (true/false; yes/no/on/off and quoted booleans refused at
  the key and line), a CSV tox table keeps its yes/no cells; ``tox: []`` is named at its line;
* a study's ``seed: yes`` shows what was written, and ``scenarios: []`` reads ``is empty`` as in a sweep and a
  trial spec."""

from __future__ import annotations

import pandas as pd
import pytest

from adcbridge.io.tox_files import load_fih_config
from adcbridge.io.trial import load_trial_spec
from adcbridge.study import load_study
from adcbridge.study.schema import StudyError
from adcbridge.sweep.plan import plan_sweep
from adcbridge.sweep.spec import load_sweep
from adcbridge.translation.config import run_fih_config
from adcbridge.translation.tox import summarise_toxicology
from tests.clirun import run
from tests.filehelpers import one_line_error as _error
from tests.filehelpers import write_text_file as _write

# ----------------------------------------------------------------------------------- trial spec: the scenarios
TRIAL = """
    name: T
    target: {target}
    dose_levels: [1.0, 2.0, 4.0]
    {extra}
    scenarios:
      - name: first
        p_true: [0.05, 0.1, 0.2]
      - name: second
        p_true: {p_true}
"""


def _trial(tmp_path, p_true="[0.1, 0.3, 0.5]", target="0.3", extra=""):
    return _write(tmp_path, "tr.yaml", TRIAL.format(p_true=p_true, target=target, extra=extra))


@pytest.mark.parametrize("p_true,expected", [
    ("[0.1, 0.3, 1.5]", "'scenarios[2].p_true[3]' (line 9): must be a number in [0, 1], got 1.5"),
    ("[0.1, -0.3, 0.5]", "'scenarios[2].p_true[2]' (line 9): must be a number in [0, 1], got -0.3"),
    ("[.nan, 0.3, 0.5]", "'scenarios[2].p_true[1]' (line 9): must be a number in [0, 1], got nan"),
    ("[0.1, 0.3, .inf]", "'scenarios[2].p_true[3]' (line 9): must be a number in [0, 1], got inf"),
    ("[0.1, true, 0.5]", "'scenarios[2].p_true[2]' (line 9): must be a number"),
    ("[0.1, abc, 0.5]", "'scenarios[2].p_true[2]' (line 9): must be a number in [0, 1], got 'abc'"),
    ("[0.1, 0.3]", "'scenarios[2].p_true' (line 9): has 2 probabilities for 3 dose levels"),
    ("[0.1, 0.2, 0.3, 0.4]", "'scenarios[2].p_true' (line 9): has 4 probabilities for 3 dose levels"),
    ("[]", "'scenarios[2].p_true' (line 9): is empty"),
])
def test_every_scenarios_p_true_is_checked_when_the_file_is_read(tmp_path, p_true, expected):
    path = _trial(tmp_path, p_true=p_true)
    message = _error(load_trial_spec, path)
    assert message.startswith(f"{path}: {expected}"), message


def test_trial_refuses_a_bad_scenario_before_simulating_any(tmp_path, capsys):
    path = _trial(tmp_path, p_true="[0.1, 0.3, 1.5]")
    code, out, err = run(capsys, "trial", path, "--trials", "20")
    assert code == 2
    assert "Scenario 1" not in out and "Decision table" not in out, out      # nothing simulated or printed
    assert f"{path}: 'scenarios[2].p_true[3]' (line 9): must be a number in [0, 1], got 1.5" in err, err


def test_a_good_trial_spec_still_loads(tmp_path):
    spec = load_trial_spec(_trial(tmp_path))
    assert [s.p_true for s in spec.scenarios] == [[0.05, 0.1, 0.2], [0.1, 0.3, 0.5]]


# ------------------------------------------------------------------------------------ trial spec: the designs
@pytest.mark.parametrize("target,extra,expected", [
    ("0.9", "", "'target' (line 2): must be in [0.05, 0.6], got 0.9 (the boin design)"),
    ("0.3", "cohort_size: 0", "'cohort_size' (line 4): must be >= 1, got 0 (the boin design)"),
    ("0.3", "options: {boin: {offset: 0.9}}", "'options.boin.offset' (line 4): must be in [0, 0.5), got 0.9"),
    ("0.3", "options: {crm: {prior_mtd: 7}}", "'options.crm.prior_mtd' (line 4): must be one of the 3 dose levels"),
])
def test_a_design_error_names_the_key_and_line_it_comes_from(tmp_path, target, extra, expected):
    path = _trial(tmp_path, target=target, extra=extra)
    message = _error(load_trial_spec, path)
    assert message.startswith(f"{path}: {expected}"), message


# ----------------------------------------------------------------------- a misspelt required key: unknown first
def test_a_misspelt_required_key_of_a_trial_spec_is_named_with_the_nearest_name(tmp_path):
    path = _write(tmp_path, "t.yaml", """
        name: T
        targt: 0.3
        dose_levels: [1.0, 2.0, 4.0]
        scenarios:
          - name: a
            p_tru: [0.1, 0.2, 0.3]
    """)
    assert _error(load_trial_spec, path) == f"{path}: 'targt' (line 2): unknown key 'targt'; did you mean 'target'?"
    path.write_text(path.read_text().replace("targt", "target"))
    assert _error(load_trial_spec, path) == (f"{path}: 'scenarios[1].p_tru' (line 6): unknown key 'p_tru'; did you "
                                             f"mean 'p_true'?")


def test_a_misspelt_required_key_of_a_fih_config_is_named_with_the_nearest_name(tmp_path):
    path = _write(tmp_path, "fih.yaml", "name: x\nspecis: cynomolgus\nhnstd: 10\n")
    assert _error(load_fih_config, path) == (f"{path}: 'specis' (line 2): unknown key 'specis'; did you mean "
                                             f"'species'?")


SWEEP = """
    designs:
      - name: boin
        targt: 0.3
        n_doses: 3
    scenarios:
      - name: a
        p_true: [0.1, 0.2, 0.3]
    trials: 10
    seed: 1
"""


def test_a_misspelt_required_option_of_a_sweep_design_is_named_with_the_nearest_name(tmp_path, capsys):
    path = _write(tmp_path, "s.yaml", SWEEP)
    with pytest.raises(ValueError) as info:
        plan_sweep(load_sweep(path))
    assert str(info.value) == (f"{path}: designs['boin'].targt (line 3): boin has no parameter 'targt'; did you "
                               f"mean 'target'?")
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "out", "--workers", "0", "--quiet")
    assert code == 2 and "did you mean 'target'?" in err and "is required" not in err, err


# ------------------------------------------------------------------------------------ fih: the tox reversible
FIH = """
    name: x
    species: cynomolgus
    tox:
      - {{dose: 10, n_animals: 6, severity: none}}
      - {{dose: 30, n_animals: 6, finding: a, severity: moderate, reversible: {value}}}
      - {{dose: 60, n_animals: 6, finding: b, severity: severe, deaths: 1}}
"""


@pytest.mark.parametrize("value,words", [
    ("no", "is the text 'no': write true or false without quotes"),
    ("yes", "is the text 'yes': write true or false without quotes"),
    ("off", "is the text 'off': write true or false without quotes"),
    ("on", "is the text 'on': write true or false without quotes"),
    ("N", "is the text 'N': write true or false without quotes"),
    ('"false"', "is the text 'false': write true or false without quotes (a quoted value is text in YAML)"),
    ("'true'", "is the text 'true': write true or false without quotes (a quoted value is text in YAML)"),
    ("1", "must be true or false"),
    ("maybe", "must be true or false"),
])
def test_a_fih_tox_reversible_follows_the_yaml_rules(tmp_path, value, words):
    path = _write(tmp_path, "f.yaml", FIH.format(value=value))
    message = _error(load_fih_config, path)
    assert message.startswith(f"{path}: 'tox[2].reversible' (line 5): {words}"), message


@pytest.mark.parametrize("value,expected", [("true", True), ("false", False), ("partial", "partial"),
                                            ("irreversible", "irreversible"), ("null", None)])
def test_a_fih_tox_reversible_takes_true_false_and_the_tables_words(tmp_path, value, expected):
    cfg = load_fih_config(_write(tmp_path, "f.yaml", FIH.format(value=value)))
    assert cfg.tox[1].reversible == expected
    run_fih_config(cfg)


def test_a_tox_table_keeps_its_yes_no_cells():
    # a CSV/Excel table is text: its yes/no cells are read as before (only the YAML plan follows YAML's rules)
    rows = [{"dose": 10, "n_animals": 6, "severity": "none"},
            {"dose": 30, "n_animals": 6, "finding": "a", "severity": "marked", "reversible": "no"},
            {"dose": 60, "n_animals": 6, "finding": "b", "severity": "severe", "deaths": 1}]

    def hnstd(reversible) -> float:
        table = pd.DataFrame([{**r, "reversible": reversible} if "reversible" in r else r for r in rows])
        return summarise_toxicology(table, "cynomolgus").hnstd

    assert hnstd("no") == hnstd(False) == hnstd("irreversible") == 10      # an irreversible marked finding at 30
    assert hnstd("yes") == hnstd(True) == 30


def test_an_empty_fih_tox_is_named_at_its_line(tmp_path):
    path = _write(tmp_path, "f.yaml", "name: x\nspecies: cynomolgus\ntox: []\n")
    assert _error(load_fih_config, path).startswith(f"{path}: 'tox' (line 3): is empty: give one row per dose group")


# ------------------------------------------------------------------------------------------------- the study
STUDY = """
    name: st
    seed: {seed}
    analyses:
      - id: d1
        kind: design
        options: {{design: boin, target: 0.3, doses: [1, 2, 3], dose_unit: mg/kg}}
      - id: sim
        kind: simulate
        designs: [d1]
        scenarios: {scenarios}
"""


def test_a_study_seed_yes_shows_what_was_written(tmp_path):
    path = _write(tmp_path, "st.yaml", STUDY.format(seed="yes", scenarios="[{name: a, p_true: [0.1, 0.2, 0.3]}]"))
    with pytest.raises(StudyError) as info:
        load_study(path)
    assert str(info.value) == f"{path}: seed (line 2): must be a whole number, got 'yes'"


def test_a_study_empty_scenarios_reads_is_empty_as_sweep_and_trial(tmp_path):
    path = _write(tmp_path, "st.yaml", STUDY.format(seed=1, scenarios="[]"))
    with pytest.raises(StudyError) as info:
        load_study(path)
    assert str(info.value).startswith(f"{path}: analyses[2].scenarios (line 10): is empty: list at least one "
                                      f"scenario"), str(info.value)
