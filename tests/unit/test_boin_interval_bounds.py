"""The BOIN family's interval bounds are closed as the user writes them: ``p_saf = 0.9 * target`` and
``p_tox = 1.1 * target``, typed as decimals, are accepted for every target, though ``target - p_saf`` falls below
``0.1 * target`` in floating point for most of them (most of the targets 0.05-0.6 were refused before)."""

from __future__ import annotations

import pytest

from adcbridge.dosefinding.registry import build_design

OPTIONS = {"boin": {"n_doses": 4}, "tite-boin": {"n_doses": 4}, "comb-boin": {"grid": [2, 3]}}


@pytest.mark.parametrize("design", list(OPTIONS))
def test_the_stated_bounds_are_accepted_at_every_target(design):
    for t100 in range(5, 61):                       # the targets BOIN takes: [0.05, 0.6]
        target = t100 / 100
        p_saf, p_tox = float(f"{0.9 * target:.6g}"), float(f"{1.1 * target:.6g}")
        built = build_design(design, target=target, p_saf=p_saf, p_tox=p_tox, **OPTIONS[design])
        assert (built.phi1, built.phi2) == (p_saf, p_tox)


@pytest.mark.parametrize("design", list(OPTIONS))
@pytest.mark.parametrize("p_saf, p_tox, word", [(0.2701, 0.33, "p_saf"), (0.27, 0.3299, "p_tox")])
def test_just_outside_the_bounds_is_refused(design, p_saf, p_tox, word):
    with pytest.raises(ValueError, match=word):
        build_design(design, target=0.3, p_saf=p_saf, p_tox=p_tox, **OPTIONS[design])
