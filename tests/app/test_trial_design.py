"""`adcbridge trial` runs BOIN (its decision table, protocol and the BOIN vs 3+3 vs CRM comparison): a trial file
naming another design, or options for a design it does not run, is refused -- a newcomer found `design: tite-boin`
silently run as BOIN."""

from __future__ import annotations

import pytest

from tests.clirun import run

TRIAL = """name: test
design: {design}
target: 0.25
dose_levels: [1, 2, 3, 4]
{options}scenarios:
  - {{name: s1, p_true: [0.05, 0.1, 0.25, 0.5]}}
"""


@pytest.mark.parametrize("design", ["tite-boin", "crm", "3+3", "boin-backfill"])
def test_a_trial_file_naming_another_design_is_refused(tmp_path, capsys, design):
    spec = tmp_path / "t.yaml"
    spec.write_text(TRIAL.format(design=design, options=""))
    code, out, err = run(capsys, "trial", spec, "--trials", "50")
    assert (code, out) == (2, "")
    assert f"t.yaml: design '{design}': adcbridge trial writes the BOIN decision table" in err
    assert f"use adcbridge simulate --design {design}" in err


def test_options_for_a_design_trial_does_not_run_are_refused(tmp_path, capsys):
    spec = tmp_path / "t.yaml"
    spec.write_text(TRIAL.format(design="boin", options="options:\n  tite-boin: {max_pending: 0.3}\n"))
    code, out, err = run(capsys, "trial", spec, "--trials", "50")
    assert code == 2 and "options for tite-boin: adcbridge trial runs boin, 3+3 and crm" in err


def test_a_boin_trial_file_runs(tmp_path, capsys):
    spec = tmp_path / "t.yaml"
    spec.write_text(TRIAL.format(design="boin", options="options:\n  crm: {prior_mtd: 2}\n"))
    code, out, err = run(capsys, "trial", spec, "--trials", "50")
    assert code == 0 and "Design: BOIN, target DLT rate 0.25" in out, err


@pytest.mark.parametrize("trials", ["0", "1000000000"])
def test_a_trial_count_out_of_range_is_refused_before_anything_is_printed(capsys, trials):
    """Found: --trials 1e9 printed the decision table, then failed on the range."""
    code, out, err = run(capsys, "trial", "--trials", trials)
    assert (code, out) == (2, "")
    assert err == f"adcbridge: error: Invalid value for '--trials': must be a whole number in [1, 100000000], got " \
                  f"{trials}\n"
