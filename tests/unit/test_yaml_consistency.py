"""Every YAML file kind (sweep, study, trial spec, FIH and NCA configs) reads values the same way: YAML 1.2
booleans (only true/false), whole floats as counts, a number or boolean written as text refused where a number or
boolean is expected (text fields holding digits kept), empty lists and unknown keys named in one line."""


import pytest
import yaml

from adcbridge.io.nca_files import load_nca_config
from adcbridge.io.tox_files import load_fih_config
from adcbridge.io.trial import load_trial_spec
from adcbridge.io.yaml_files import UniqueKeyLoader, misread_value
from adcbridge.study import load_study
from adcbridge.sweep.spec import load_sweep
from tests.filehelpers import one_line_error as _error
from tests.filehelpers import write_text_file as _write


# ------------------------------------------------------------------------------------------- YAML 1.2 booleans
def test_only_true_and_false_are_booleans():
    text = "a: no\nb: yes\nc: on\nd: off\ne: True\nf: FALSE\ng: true\nh: 1e3\n"
    assert yaml.load(text, Loader=UniqueKeyLoader) == {  # noqa: S506 - a SafeLoader subclass
        "a": "no", "b": "yes", "c": "on", "d": "off", "e": True, "f": False, "g": True, "h": 1000.0}
    assert yaml.safe_load("a: no") == {"a": False}       # PyYAML's own loader is left as it is


def test_numbers_are_read_as_yaml_1_2_reads_them():
    text = ("a: 010\nb: 0o17\nc: 0x1F\nd: -7\ne: +3\nf: .5\ng: 1.\nh: 1e-1\ni: -.inf\nj: .NaN\nk: 1:30\n"
            "l: 12:30:00\nm: 0b101\nn: 1_000\no: 2026-03-01\np: ~\nq: Null\nr:\ns: 0x\nt: 1e\nu: .\n")
    got = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    import datetime
    import math
    assert got["i"] == -math.inf and math.isnan(got["j"])
    del got["i"], got["j"]
    assert got == {"a": 10, "b": 15, "c": 31, "d": -7, "e": 3, "f": 0.5, "g": 1.0, "h": 0.1, "k": "1:30",
                   "l": "12:30:00", "m": "0b101", "n": "1_000", "o": datetime.date(2026, 3, 1), "p": None,
                   "q": None, "r": None, "s": "0x", "t": "1e", "u": "."}
    assert all(type(got[k]) is int for k in "abcde") and all(type(got[k]) is float for k in "fgh")
    # PyYAML's own loader still reads YAML 1.1 (octal, sexagesimal): only adcbridge's loader changed
    assert yaml.safe_load("a: 010\nb: 1:30") == {"a": 8, "b": 90}


def test_a_yaml_1_1_number_is_refused_where_a_number_is_expected(tmp_path):
    # `n_cohorts: 010` was the octal 8; it is 10 (YAML 1.2: decimal)
    path = _write(tmp_path, "trial.yaml", TRIAL.format(name="T", target="0.3", cohort_size="3", extra="")
                  .replace("n_cohorts: 10", "n_cohorts: 010"))
    assert load_trial_spec(path).n_cohorts == 10
    msg = _error(load_trial_spec, _trial(tmp_path, target="0:30"))
    assert msg.endswith("'target' (line 2): must be a number, got '0:30'"), msg
    msg = _error(load_trial_spec, _trial(tmp_path, cohort_size="1_000"))
    assert "'cohort_size' (line 4): is the text '1_000': write the number in digits" in msg, msg
    msg = _error(load_sweep, _write(tmp_path, "s.yaml", SWEEP.format(extrasafe="true", scenario="a", seed="1:30")))
    assert "seed (line 10): must be a whole number from 0 to 2**63 - 1, got '1:30'" in msg, msg


TRIAL = """
    name: {name}
    target: {target}
    dose_levels: [1.0, 2.0, 4.0]
    cohort_size: {cohort_size}
    n_cohorts: 10
    {extra}
"""


def _trial(tmp_path, name="T1", target="0.3", cohort_size="3", extra=""):
    return _write(tmp_path, "trial.yaml", TRIAL.format(name=name, target=target, cohort_size=cohort_size,
                                                       extra=extra))


def test_a_name_no_stays_the_text_no(tmp_path):
    # YAML 1.1 made `name: no` the boolean False (then refused, or worse, read as text 'False')
    assert load_trial_spec(_trial(tmp_path, name="no")).name == "no"
    assert load_trial_spec(_trial(tmp_path, name='"001"')).name == "001"    # digits in a text field: kept


def test_a_yes_where_a_boolean_is_expected_is_refused(tmp_path):
    # `extrasafe: yes` was read as True; as YAML 1.2 text it would be converted by pydantic: refused
    path = _trial(tmp_path, extra="options: {boin: {extrasafe: yes}}")
    msg = _error(load_trial_spec, path)
    assert "'options.boin.extrasafe' (line 6): is the text 'yes': write true or false without quotes" in msg


# ------------------------------------------------------------------------------------------- quoted numbers
@pytest.mark.parametrize("kw,where,text", [
    ({"target": '"0.3"'}, "'target' (line 2)", "'0.3'"),
    ({"cohort_size": "'3'"}, "'cohort_size' (line 4)", "'3'"),
    ({"extra": "options: {crm: {halfwidth: '0.05'}}"}, "'options.crm.halfwidth' (line 6)", "'0.05'"),
    ({"extra": "scenarios: [{name: a, p_true: [0.1, '0.2', 0.3]}]"}, "'scenarios[1].p_true[2]' (line 6)", "'0.2'"),
])
def test_a_trial_spec_refuses_a_quoted_number(tmp_path, kw, where, text):
    msg = _error(load_trial_spec, _trial(tmp_path, **kw))
    assert msg.endswith(f"trial.yaml: {where}: is the text {text}: write the number without quotes (a quoted value "
                        f"is text in YAML)"), msg


def test_a_trial_spec_refuses_true_for_a_number(tmp_path):
    # pydantic read `cohort_size: true` as 1
    msg = _error(load_trial_spec, _trial(tmp_path, cohort_size="true"))
    assert msg.endswith("'cohort_size' (line 4): must be a number, got True"), msg


FIH = """
    name: {name}
    species: cynomolgus
    hnstd: {hnstd}
    rounded_divisor: {flag}
"""


def test_a_config_refuses_a_quoted_number_and_a_yes(tmp_path):
    ok = load_fih_config(_write(tmp_path, "fih.yaml", FIH.format(name='"2024"', hnstd=10, flag="false")))
    assert ok.name == "2024" and ok.hnstd == 10
    msg = _error(load_fih_config, _write(tmp_path, "fih.yaml", FIH.format(name="x", hnstd='"10"', flag="false")))
    assert msg.endswith("fih.yaml: 'hnstd' (line 3): is the text '10': write the number without quotes (a quoted "
                        "value is text in YAML)"), msg
    msg = _error(load_fih_config, _write(tmp_path, "fih.yaml", FIH.format(name="x", hnstd=10, flag="on")))
    assert "'rounded_divisor' (line 4): is the text 'on': write true or false" in msg


def test_a_config_keeps_text_where_text_is_welcome(tmp_path):
    cfg = load_nca_config(_write(tmp_path, "nca.yaml", "columns: {subject: '001'}\noptions: {metabolites: ['001'], "
                                                       "blq: {before: keep, after: 0}}\n"
                                                       "lambda_z: [{ID: '001', time: 24, action: exclude}]\n"))
    assert cfg.columns.subject == "001" and cfg.options == {"metabolites": ["001"], "blq": {"before": "keep",
                                                                                             "after": 0}}
    assert cfg.lambda_z == [{"ID": "001", "time": 24, "action": "exclude"}]


@pytest.mark.parametrize("text,expected", [
    # nca.yaml's options were dict[str, Any]: `'4'` was converted silently, a typo ignored until the NCA ran
    ("options: {lambda_z_min_points: '4'}", "'options.lambda_z_min_points' (line 1): is the text '4': write the "
                                            "number without quotes"),
    ("options: {lambda_z_min_point: 4}", "'options.lambda_z_min_point' (line 1): unknown key 'lambda_z_min_point'; "
                                         "did you mean 'lambda_z_min_points'?"),
    ("options:\n  blq: {befor: keep}", "'options.blq.befor' (line 2): unknown key 'befor'; did you mean 'before'?"),
    ("options: {blq: {middle: '0'}}", "'options.blq.middle' (line 1): is the text '0': write the number without "
                                      "quotes"),
    ("options: {partial_aucs: [[0, '24']]}", "'options.partial_aucs[1][2]' (line 1): is the text '24'"),
    # YAML 1.1 read `12:30:00` as 45000 (sexagesimal); YAML 1.2 reads text, refused as a time
    ("lambda_z:\n  - {ID: S1, time: 12:30:00, action: exclude}", "'lambda_z[1].time' (line 2): must be a number "
                                                                  "(the sample's time, in the table's time unit), "
                                                                  "got '12:30:00'"),
    ("lambda_z: [{ID: S1, time: '24', action: exclude}]", "'lambda_z[1].time' (line 1): is the text '24'"),
])
def test_nca_options_are_checked_by_the_nca_options(tmp_path, text, expected):
    msg = _error(load_nca_config, _write(tmp_path, "nca.yaml", text + "\n"))
    assert expected in msg, msg


def test_an_unknown_config_key_names_the_nearest(tmp_path):
    msg = _error(load_fih_config, _write(tmp_path, "fih.yaml", FIH.format(name="x", hnstd=10, flag="false")
                                         + "    safty_factor: 6\n"))
    assert msg.endswith("'safty_factor' (line 5): unknown key 'safty_factor'; did you mean 'safety_factor'?"), msg


def test_misread_value_follows_the_model():
    from adcbridge.translation.config import FihConfig
    # text welcome where the field admits text (reversible: bool | str), refused where only a bool is
    assert misread_value({"species": "x", "tox": [{"dose": 1, "reversible": "yes"}]}, FihConfig) is None
    assert misread_value({"species": "x", "tox": [{"dose": 1, "adverse": "no"}]}, FihConfig)[0] == ("tox", 0,
                                                                                                    "adverse")
    assert misread_value({"species": "x", "exposure": {"human_model": {"parameters": {"CL": ["1", "mL/day"]}}}},
                         FihConfig)[0] == ("exposure", "human_model", "parameters", "CL", 0)


# ------------------------------------------------------------------------------------------------ the study
STUDY = """
    name: {name}
    seed: {seed}
    analyses:
      - id: d1
        kind: design
        options: {{design: boin, target: 0.3, doses: [1, 2, 3], dose_unit: mg/kg{design}}}
      - id: sim
        kind: simulate
        designs: [d1]
        scenarios: [{{name: a, p_true: [0.1, 0.2, 0.3]}}]
        options: {{trials: {trials}}}
"""


def _study(tmp_path, name="S", seed="7", trials="200", design=""):
    return _write(tmp_path, "study.yaml", STUDY.format(name=name, seed=seed, trials=trials, design=design))


def test_a_study_takes_a_whole_float_as_a_count(tmp_path):
    # `trials: 2e3` was refused (as 2000.0, not whole) while a sweep took `trials: 1e5`
    study = load_study(_study(tmp_path, trials="2e3", seed="7.0", name='"001"'))
    trials = study.file.analyses[1].options["trials"]
    assert trials == 2000 and type(trials) is int, repr(trials)          # 2000.0 would pass == 2000
    assert study.file.seed == 7 and type(study.file.seed) is int and study.file.name == "001"
    msg = _error(load_study, _study(tmp_path, trials="2000.5"))
    assert msg.endswith("study.yaml: analyses[2].options.trials (line 11): must be a whole number, got 2000.5"), msg


@pytest.mark.parametrize("kw,expected", [
    ({"seed": '"7"'}, "seed (line 2): is the text '7': write the number without quotes"),
    ({"trials": "'200'"}, "analyses[2].options.trials (line 11): is the text '200': write the number without quotes"),
    ({"design": ", extrasafe: yes"}, "analyses[1].options.extrasafe (line 6): is the text 'yes': write true or false"),
    ({"design": ", extrasfe: true"}, "analyses[1].options.extrasfe (line 6): unknown key 'extrasfe'; did you mean "
                                     "'extrasafe'?"),
])
def test_a_study_reads_values_as_every_file_does(tmp_path, kw, expected):
    # a quoted `seed: "7"` was accepted in a study, refused in a sweep; yes was True; no did-you-mean
    msg = _error(load_study, _study(tmp_path, **kw))
    assert expected in msg, msg


def test_a_study_command_option_is_typed_by_its_flag(tmp_path):
    from adcbridge.study.kinds import KINDS, _flags
    path = _write(tmp_path, "study.yaml", """
        name: S
        analyses:
          - {id: p, kind: pk-project, options: {n_doses: 2.5}}
          - {id: q, kind: pk-project, options: {n_doses: "3"}}
          - {id: r, kind: pk-project, options: {n_dose: 3}}
    """)
    with pytest.raises(ValueError) as info:
        load_study(path)
    text = str(info.value)
    assert "analyses[1].options.n_doses (line 3): must be a whole number, got 2.5" in text
    assert "analyses[2].options.n_doses (line 4): is the text '3': write the number without quotes" in text
    assert "analyses[3].options.n_dose (line 5): unknown key 'n_dose' for kind pk-project; did you mean 'n_doses'?" \
           in text
    # a whole float is given to the command as a whole number (click refuses "3.0" for an integer flag)
    argv = _flags(KINDS["pk-project"], {"n_doses": 3.0}, tmp_path)
    assert argv[argv.index("--n-doses") + 1] == "3"


def test_an_empty_analyses_is_one_line_in_the_house_words(tmp_path):
    msg = _error(load_study, _write(tmp_path, "study.yaml", "name: S\nanalyses: []\n"))
    assert msg.endswith("study.yaml: analyses (line 2): is empty: list at least one analysis ({id: ..., kind: ...})")


def test_an_unknown_analysis_key_names_the_nearest(tmp_path):
    text = STUDY.format(name="S", seed=1, trials=200, design="").replace("        kind: design", "        knd: design")
    msg = str(pytest.raises(ValueError, load_study, _write(tmp_path, "study.yaml", text)).value)
    assert "analyses[1].knd (line 5): unknown key 'knd'; did you mean 'kind'?" in msg


# --------------------------------------------------------------------------------------------- the trial spec
def test_an_empty_list_in_a_trial_spec_is_refused_clearly(tmp_path):
    # `scenarios: []` exited 0 (no scenario simulated); `dose_levels: []` spoke of n_doses
    msg = _error(load_trial_spec, _trial(tmp_path, extra="scenarios: []"))
    assert "'scenarios' (line 6): is empty: list at least one scenario" in msg and "leave the key out" in msg
    path = _write(tmp_path, "trial.yaml", "name: T\ntarget: 0.3\ndose_levels: []\n")
    assert _error(load_trial_spec, path).endswith("'dose_levels' (line 3): is empty: list the dose levels, e.g. "
                                                  "[1.0, 2.1, 4.2]")


def test_an_unknown_design_option_in_a_trial_spec_names_the_nearest(tmp_path):
    msg = _error(load_trial_spec, _trial(tmp_path, extra="options: {boin: {extrasfe: true}}"))
    assert msg.endswith("'options.boin.extrasfe' (line 6): unknown key 'extrasfe'; did you mean 'extrasafe'?"), msg


# ---------------------------------------------------------------------------------------------------- sweeps
SWEEP = """
    designs:
      - name: boin
        target: 0.3
        n_doses: 3
        extrasafe: {extrasafe}
    scenarios:
      - name: {scenario}
        p_true: [0.1, 0.2, 0.3]
    trials: 100
    seed: {seed}
"""


def test_a_sweep_reads_values_as_every_file_does(tmp_path):
    sweep = load_sweep(_write(tmp_path, "s.yaml", SWEEP.format(extrasafe="true", scenario="no", seed="7.0")))
    assert sweep.scenarios[0].name == "no" and sweep.seed == 7
    msg = _error(load_sweep, _write(tmp_path, "s.yaml", SWEEP.format(extrasafe="yes", scenario="a", seed=7)))
    assert "designs['boin'].extrasafe (line 5): is the text 'yes': write true or false" in msg
    msg = _error(load_sweep, _write(tmp_path, "s.yaml", SWEEP.format(extrasafe="true", scenario="a", seed='"7"')))
    assert msg.endswith("seed (line 10): is the text '7': write the number without quotes (a quoted value is text "
                        "in YAML)"), msg


def test_a_sweep_scenario_is_typed_by_what_it_holds(tmp_path):
    import adcbridge.io.yaml_files as yaml_files
    assert not hasattr(yaml_files, "quoted_number")    # one way to read values: misread_value, with a type map
    good = SWEEP.format(extrasafe="true", scenario='"001"', seed=7)
    assert load_sweep(_write(tmp_path, "s.yaml", good)).scenarios[0].name == "001"
    for truth, expected in [
        ("q_true: [0.1, '0.2', 0.3]", "scenarios['001'].q_true[2] (line 9): is the text '0.2': write the number "
                                      "without quotes"),
        ("accrual_rate: '3'", "scenarios['001'].accrual_rate (line 9): is the text '3': write the number without "
                              "quotes"),
        ("target: true", "scenarios['001'].target (line 9): must be a number, got True"),
        ("p_grid: 1", None)]:
        text = good.replace("    trials:", f"        {truth}\n    trials:")
        if expected is None:                                 # an unknown truth: refused when planned, not here
            load_sweep(_write(tmp_path, "s.yaml", text))
            continue
        msg = _error(load_sweep, _write(tmp_path, "s.yaml", text))
        assert expected in msg, msg
    grid = good.replace("p_true: [0.1, 0.2, 0.3]", "p_true: [[0.1, 0.2], [0.2, '0.3']]")
    assert "scenarios['001'].p_true[2][2] (line 8): is the text '0.3'" in _error(load_sweep, _write(tmp_path, "s.yaml",
                                                                                                   grid))


def test_an_unknown_sweep_key_without_a_near_one_lists_the_keys(tmp_path):
    text = SWEEP.format(extrasafe="true", scenario="a", seed=7) + "    zzz: 1\n"
    msg = _error(load_sweep, _write(tmp_path, "s.yaml", text))
    assert msg.endswith("zzz (line 11): unknown key 'zzz'; the keys are designs, scenarios, sample_sizes, trials, "
                        "seed"), msg
    msg = _error(load_sweep, _write(tmp_path, "s.yaml", text.replace("zzz: 1", "seeds: 1")))
    assert msg.endswith("seeds (line 11): unknown key 'seeds'; did you mean 'seed'?"), msg


# ------------------------------------------------------------------- a study lists every problem, each once
def test_a_study_names_a_misread_value_once(tmp_path):
    # `seed: 7.5` was named twice: by misread_value ("..., got 7.5") and again by pydantic
    msg = _error(load_study, _study(tmp_path, seed="7.5"))
    assert msg.endswith("study.yaml: seed (line 2): must be a whole number, got 7.5"), msg


def test_a_study_names_every_misread_value(tmp_path):
    # only the first misread value was named, though a study lists every problem
    path = _study(tmp_path, seed='"7"', trials="'200'", design=", extrasafe: yes, cohort_size: 2.5")
    with pytest.raises(ValueError) as info:
        load_study(path)
    lines = str(info.value).splitlines()
    assert lines[0].endswith("study.yaml: 4 problems in the study file"), lines
    assert lines[1:] == [
        "  seed (line 2): is the text '7': write the number without quotes (a quoted value is text in YAML)",
        "  analyses[1].options.extrasafe (line 6): is the text 'yes': write true or false without quotes (adcbridge "
        "reads YAML 1.2: yes, no, on and off are text, and so is a quoted value)",
        "  analyses[1].options.cohort_size (line 6): must be a whole number, got 2.5",
        "  analyses[2].options.trials (line 11): is the text '200': write the number without quotes (a quoted value "
        "is text in YAML)"], lines


def test_a_study_checks_the_relations_between_options_before_any_work(tmp_path):
    """Found: `t_on: 400, t_off: 360` passed the study's check; the run failed after 20 s with exit 1."""
    (tmp_path / "k.csv").write_text("time_s,response_RU,conc_M\n0,0,1e-9\n")
    path = _write(tmp_path, "study.yaml", """
        name: S
        analyses:
          - id: k
            kind: kinetics
            data: k.csv
            options: {t_on: 400, t_off: 360, conc: conc_M, time: time_s, response: response_RU}
        """)
    msg = _error(load_study, path)
    assert msg.endswith("analyses[1].options (line 6): The 't_off' parameter of kinetics must be after 't_on' "
                        "(400.0). Got 360.0."), msg


@pytest.mark.parametrize("options,expected", [
    ("{control: Vehicle, tgi: [delta_v], day: [21], humane_endpoint: -5}",
     "The 'humane_endpoint' parameter of xenograft must be > 0. Got -5."),
    ("{control: Vehicle, tgi: 'nonsense', day: [21]}", "The 'tgi' parameter of xenograft must name definitions"),
])
def test_a_study_checks_xenograft_options_before_any_work(tmp_path, options, expected):
    """Found: a negative humane endpoint or an unknown TGI definition failed only after the other analyses ran."""
    (tmp_path / "x.csv").write_text("group,animal,day,volume\nVehicle,1,0,100\n")
    path = _write(tmp_path, "study.yaml", f"""
        name: S
        analyses:
          - id: x
            kind: xenograft
            data: x.csv
            options: {options}
        """)
    assert expected in _error(load_study, path)
