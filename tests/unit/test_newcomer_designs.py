"""Newcomer review of the designs: BOIN12 utilities that break its formula or look like fractions, the comb-boin
skip naming the agent that skips, crm's prior MTD outside the doses in one sentence, boin-backfill's cap below a
cohort and the reason of a pooled de-escalation to the lowest dose, single-file outputs refusing a missing folder
and naming the user's file."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcbridge.dosefinding import next_dose
from adcbridge.dosefinding.history import History, Patient
from adcbridge.spec import SpecError


def _boin12(**kw):
    from adcbridge.dosefinding.boin12.design import boin12
    return boin12(0.3, 0.25, 5, **kw)


# BOIN12 utilities -------------------------------------------------------------------------------------------------
def test_boin12_refuses_utilities_summing_above_100():
    with pytest.raises(SpecError) as exc:
        _boin12(utility=(80, 60))
    text = str(exc.value)
    assert "\n" not in text and "u11 + u00 at most 100" in text and "80 + 60 = 140" in text
    assert "exceed its patients" in text


def test_boin12_refuses_utilities_that_look_like_fractions():
    with pytest.raises(SpecError, match=r"0-100 scale.*give 60,40, not fractions; got 0.6,0.4"):
        _boin12(utility=(0.6, 0.4))
    with pytest.raises(SpecError, match="0-100 scale"):
        _boin12(utility=(1, 0))


@pytest.mark.parametrize("utility", [(60, 40), (100, 0), (65, 25), (0, 0), (50, 50), (0, 100), (1.5, 0.5)])
def test_boin12_keeps_utilities_that_fit_the_formula(utility):
    assert _boin12(utility=utility).utility == tuple(float(u) for u in utility)


def test_boin12_desirability_refuses_utilities_that_would_give_nan():
    from adcbridge.dosefinding.boin12.boundaries import desirability
    with pytest.raises(ValueError, match="u11 \\+ u00 at most 100"):
        desirability([3], [0], [3], 80, 60, 60.0)
    assert np.isfinite(desirability([3], [0], [3], 60, 40, 60.0)).all()


def _efficacy_history():
    """Dose 1: 1/3 responses, dose 2: 3/3 responses, no DLT (the review's case)."""
    rows = [(1, 1, True), (1, 1, False), (1, 1, False), (2, 2, True), (2, 2, True), (2, 2, True)]
    return History(tuple(Patient(f"P{k}", c, d, False, efficacy=e) for k, (c, d, e) in enumerate(rows, start=1)))


def test_boin12_live_decision_never_shows_a_nan_desirability():
    good = _boin12()
    decision = next_dose(good, _efficacy_history())
    assert all(math.isfinite(r["desirability"]) for r in decision.estimates() if r.get("desirability") is not None)
    bad = good.model_copy(update={"utility": (80.0, 60.0)})   # past the validator: the defensive check refuses
    with pytest.raises(ValueError, match="desirability|u11"):
        next_dose(bad, _efficacy_history())


# comb-boin: the agent that skips ----------------------------------------------------------------------------------
def _comb_history(cells):
    patients = []
    for c, (a, b) in enumerate(cells, start=1):
        patients += [Patient(f"P{3 * (c - 1) + i}", c, None, False, dose_a=a, dose_b=b) for i in range(1, 4)]
    return History(tuple(patients))


@pytest.mark.parametrize("cells,column,words", [
    ([(1, 1), (1, 3)], "dose_b", "agent B moves 2 levels from (1, 1)"),
    ([(1, 1), (3, 1)], "dose_a", "agent A moves 2 levels from (1, 1)"),
    ([(1, 1), (1, 2), (1, 4)], "dose_b", "agent B moves 2 levels from (1, 2)"),
    ([(1, 1), (2, 2)], "dose_a", "both agents move from (1, 1)"),
])
def test_comb_boin_skip_names_the_agent_that_skips(cells, column, words):
    from adcbridge.dosefinding.comb.design import comb_boin
    with pytest.raises(ValueError) as exc:
        next_dose(comb_boin(0.3, (4, 4)), _comb_history(cells))
    text = str(exc.value)
    assert text.startswith(f"column '{column}'") and words in text and "skips untried combinations" in text


# crm: prior MTD beyond the doses ----------------------------------------------------------------------------------
def test_crm_prior_mtd_outside_the_doses_is_one_plain_sentence():
    from adcbridge.dosefinding.crm.design import CrmDesign
    for bad in (9, 0):
        with pytest.raises(SpecError) as exc:
            CrmDesign(target=0.3, n_doses=5, prior_mtd=bad)
        text = str(exc.value)
        assert text == (f"The 'prior_mtd' parameter of crm must be one of the 5 dose levels, 1..5 (the level whose "
                        f"skeleton value is the target). Got {bad}.")


# boin-backfill ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cap", [0, 1, 2])
def test_backfill_cap_below_a_cohort_is_refused(cap):
    from adcbridge.dosefinding.backfill.design import boin_backfill
    with pytest.raises(SpecError, match=f"must be at least the cohort size, 3: .*never opens backfill.*Got {cap}"):
        boin_backfill(0.3, 5, n_cap=cap)
    assert boin_backfill(0.3, 5, n_cap=3).n_cap == 3


def _bf_history():
    rows = [(1, 1, 0, 1, 0), (1, 1, 0, 0, 0), (1, 1, 0, 0, 0), (2, 2, 0, 0, 0), (2, 2, 0, 0, 0), (2, 2, 1, 0, 0),
            (3, 1, 1, 0, 1), (4, 1, 1, 0, 1)]
    return History(tuple(Patient(f"P{k}", c, d, bool(t), efficacy=bool(e), backfill=bool(b))
                         for k, (c, d, t, e, b) in enumerate(rows, start=1)))


def test_backfill_pooled_deescalation_to_the_lowest_dose_says_why():
    from adcbridge.dosefinding.backfill.design import boin_backfill
    decision = next_dose(boin_backfill(0.3, 5), _bf_history())
    assert decision.rule == "pooled_deescalate" and decision.next_dose == 1
    assert "highest dose whose pool" not in decision.reason
    assert "below the lowest dose" in decision.reason and "dose 1 alone: 2/5 DLTs" in decision.reason
    assert "dose 1 is not eliminated" in decision.reason


def test_backfill_pooled_deescalation_texts_follow_the_rule():
    """Every pooled de-escalation of random evaluations is described by the case of the rule that fired."""
    from adcbridge.dosefinding.backfill.design import boin_backfill
    from adcbridge.dosefinding.backfill.rules import P_POOL_DE, evaluate, tables_for
    from adcbridge.dosefinding.backfill.texts import evaluation_reason
    design = boin_backfill(0.3, 5, n_cap=12)
    t = tables_for(design)
    rng = np.random.default_rng(3)
    B, J = 4000, 5
    N = rng.integers(3, 12, size=(B, J))
    Y = np.minimum(rng.integers(0, 6, size=(B, J)), N)
    d = rng.integers(1, J, size=B)
    next_d, _, _, _, path, dec = evaluate(N, Y, d, np.full(B, J), N[:, 0], Y[:, 0], t)
    seen = set()
    for i in np.flatnonzero(path == P_POOL_DE):
        text = evaluation_reason(design, P_POOL_DE, int(d[i]), int(next_d[i]), N[i], Y[i], dec[i], t)
        assert f"dose {int(next_d[i]) + 1}" in text and "highest dose whose pool" not in text
        seen.add("highest" if "the highest dose whose data pooled" in text else
                 "below" if "below the pooled doses" in text else "lowest")
    assert {"highest", "lowest"} <= seen


# single-file outputs ----------------------------------------------------------------------------------------------
def test_a_single_file_output_refuses_a_missing_folder(tmp_path):
    import pandas as pd

    from adcbridge.io import write_bytes, write_table
    with pytest.raises(FileNotFoundError) as exc:
        write_bytes(tmp_path / "nodir" / "x.png", b"png")
    assert exc.value.filename == str(tmp_path / "nodir" / "x.png")
    assert f"the folder {tmp_path / 'nodir'} does not exist" in exc.value.strerror
    with pytest.raises(FileNotFoundError):
        write_table(tmp_path / "a" / "b" / "t.csv", pd.DataFrame({"x": [1]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_write_failure_names_the_users_file_not_the_temporary_one(tmp_path):
    from adcbridge.io import write_bytes
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        import os
        if os.access(folder, os.W_OK):                 # root writes anywhere: nothing to test
            pytest.skip("the folder stays writable (root)")
        with pytest.raises(OSError) as exc:
            write_bytes(folder / "x.png", b"png")
        assert exc.value.filename == str(folder / "x.png") and ".tmp" not in str(exc.value)
    finally:
        folder.chmod(0o700)


def test_a_write_failure_under_proc_names_the_users_file():
    import os

    from adcbridge.io import write_bytes
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    with pytest.raises(OSError) as exc:
        write_bytes("/proc/adcbridge-test.png", b"png")
    assert exc.value.filename == "/proc/adcbridge-test.png" and ".tmp" not in str(exc.value)


def test_an_output_folder_is_made_but_not_its_parents(tmp_path):
    from adcbridge.io import staged_outputs
    with staged_outputs(make_folders=False) as stage:
        stage.folder(tmp_path / "out")
        stage.text(tmp_path / "out" / "a.txt", "a")
    assert (tmp_path / "out" / "a.txt").read_text() == "a"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with staged_outputs(make_folders=False) as stage:
            stage.folder(tmp_path / "no" / "out")
    with pytest.raises(ValueError, match="boom"):
        with staged_outputs(make_folders=False) as stage:
            stage.folder(tmp_path / "new")
            stage.text(tmp_path / "new" / "a.txt", "a")
            raise ValueError("boom")
    assert not (tmp_path / "new").exists()                # the folder it made is removed with the files
