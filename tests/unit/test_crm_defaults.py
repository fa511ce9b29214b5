"""The CRM default skeleton is set by CrmDesign alone (the command line and trial YAML files inherit it)."""

import json

import numpy as np

from adcbridge.dosefinding import CrmDesign, indifference_skeleton
from tests.clirun import run


def test_default_is_the_indifference_skeleton_with_the_prior_mtd_at_the_middle_dose():
    d = CrmDesign(target=0.3, n_doses=5)
    assert (d.halfwidth, d.prior_mtd, d.skeleton) == (0.05, 3, None)
    np.testing.assert_allclose(d.working_model().skeleton, indifference_skeleton(0.3, 0.05, 3, 5, "empiric"))
    assert CrmDesign(target=0.3, n_doses=6).prior_mtd == 3
    assert CrmDesign(target=0.3, n_doses=6, halfwidth=0.08).prior_mtd == 3      # half-width alone is enough
    assert CrmDesign(target=0.3, n_doses=4, skeleton=(0.1, 0.2, 0.3, 0.4)).halfwidth is None
    assert CrmDesign.model_validate_json(d.model_dump_json()) == d


def test_command_line_and_trial_file_use_the_spec_default(capsys, tmp_path):
    code, out, err = run(capsys, "simulate", "--design", "crm", "--target", "0.3", "--p-true", "0.05,0.1,0.2,0.3,0.5",
                         "--trials", "200", "--seed", "1", "--format", "json")
    assert code == 0, err
    spec = json.loads(out)["spec"]
    assert (spec["halfwidth"], spec["prior_mtd"]) == (0.05, 3)
    from adcbridge.io import load_trial_spec
    path = tmp_path / "trial.yaml"
    path.write_text("name: t\ntarget: 0.3\ndose_levels: [1, 2, 4, 6, 8]\ncohort_size: 3\nn_cohorts: 10\n"
                    "scenarios:\n  - {name: s, p_true: [0.05, 0.1, 0.2, 0.3, 0.5]}\n")
    assert load_trial_spec(path).build_design("crm") == CrmDesign(target=0.3, n_doses=5, dose_levels=(1, 2, 4, 6, 8))
