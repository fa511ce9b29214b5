"""An option given twice is refused with one line (Click keeps the last one silently: ``--target 0.3 ...
--target 0.25`` simulated 0.25, ``--seed 1 --seed 2`` reported seed 2).  Options meant to be repeated stay."""

from __future__ import annotations

import pytest

from tests.clirun import run

SIM = ["simulate", "--design", "boin", "--target", "0.3", "--p-true", "0.1,0.2,0.3", "--trials", "50"]


@pytest.mark.parametrize("extra, flag", [
    (["--seed", "1", "--seed", "2"], "--seed"),
    (["--seed", "1", "--target=0.25"], "--target"),
    (["--seed", "1", "--p-true", "0.3,0.4,0.5"], "--p-true"),
    (["--seed", "1", "--extrasafe", "--extrasafe"], "--extrasafe"),
])
def test_an_option_given_twice_is_refused(capsys, extra, flag):
    code, out, err = run(capsys, *SIM, *extra)
    assert code == 2 and out == ""
    assert err.strip() == f"adcbridge: error: Invalid value for '{flag}': given more than once; give it once (the " \
                          f"last would silently win)"


def test_a_history_given_twice_is_refused(capsys, tmp_path):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\n")
    code, _, err = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "3", "--history", h,
                       "--history", h)
    assert code == 2 and "'--history': given more than once" in err


def test_options_meant_to_be_repeated_and_single_options_still_work(capsys):
    code, out, _ = run(capsys, *SIM, "--seed", "1")
    assert code == 0 and out
    code, out, err = run(capsys, "translate", "allometry", "--param", "CL=18:mL/day/kg", "--param", "V=100:mL/kg")
    assert "given more than once" not in err
