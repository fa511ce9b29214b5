"""comb-boin checks its target, offset and BOIN interval with the BOIN family's shared checks
(:mod:`adcbridge.dosefinding.boin.params`): the same bad value gets the same sentence as boin and tite-boin, only
the design's name differs; the grid's own checks stay comb-boin's."""

import pytest

from adcbridge.dosefinding import boin, comb_boin, tite_boin
from adcbridge.dosefinding.comb import design as comb_design
from adcbridge.spec import SpecError

BAD = [
    pytest.param({"target": 0}, "The 'target' parameter of {} must be in [0.05, 0.6]. Got 0.", id="target-0"),
    pytest.param({"target": 1.2}, "The 'target' parameter of {} must be in [0.05, 0.6]. Got 1.2.", id="target-1.2"),
    pytest.param({"target": 0.04}, "The 'target' parameter of {} must be in [0.05, 0.6]. Got 0.04.", id="target-low"),
    pytest.param({"offset": 0.5}, "The 'offset' parameter of {} must be in [0, 0.5). Got 0.5.", id="offset-0.5"),
    pytest.param({"offset": -0.1}, "The 'offset' parameter of {} must be >= 0. Got -0.1.", id="offset-negative"),
    # an empty or too narrow interval around the target: p_saf at or above 0.9 target, p_tox at or below 1.1 target
    pytest.param({"p_saf": 0.3}, "The 'p_saf' parameter of {} must be in (0, 0.9*target] = (0, 0.27]. Got 0.3.",
                 id="p_saf-at-target"),
    pytest.param({"p_saf": 0.35, "p_tox": 0.25},
                 "The 'p_saf' parameter of {} must be in (0, 0.9*target] = (0, 0.27]. Got 0.35.", id="interval-empty"),
    pytest.param({"p_tox": 0.32}, "The 'p_tox' parameter of {} must be in [1.1*target, 1) = [0.33, 1). Got 0.32.",
                 id="p_tox-too-close"),
    pytest.param({"p_saf": 0.0}, "The 'p_saf' parameter of {} must be in (0, 0.9*target] = (0, 0.27]. Got 0.0.",
                 id="p_saf-zero"),
    pytest.param({"p_tox": 1.0}, "The 'p_tox' parameter of {} must be in [1.1*target, 1) = [0.33, 1). Got 1.0.",
                 id="p_tox-one"),
]


def _message(build, options) -> str:
    with pytest.raises(SpecError) as err:
        build(**{"target": 0.3, **options})
    return str(err.value)


@pytest.mark.parametrize("options, expected", BAD)
def test_comb_boin_refuses_a_bad_target_offset_or_interval_as_boin_does(options, expected):
    comb = _message(lambda **kw: comb_boin(grid=(3, 4), **kw), options)
    single = _message(lambda **kw: boin(doses=4, **kw), options)
    assert comb == expected.format("comb-boin")
    assert single == expected.format("boin")
    assert comb.replace("comb-boin", "boin") == single
    assert _message(lambda **kw: comb_boin(grid=(2, 4), mtd_contour=True, **kw), options) == comb   # waterfall


@pytest.mark.parametrize("options", [{"target": 0}, {"target": 1.2}, {"offset": 0.5}, {"p_saf": 0.3}])
def test_tite_boin_gives_the_same_sentence(options):
    tite = _message(lambda **kw: tite_boin(doses=4, **kw), options)
    comb = _message(lambda **kw: comb_boin(grid=(3, 4), **kw), options)
    assert tite.replace("tite-boin", "comb-boin") == comb


def test_the_checks_are_the_shared_ones():
    from adcbridge.dosefinding.boin import params
    assert comb_design.check_target is params.check_target
    assert comb_design.check_offset is params.check_offset
    assert comb_design.check_interval is params.check_interval


def test_good_edges_and_the_grid_checks_stay_comb_boins():
    assert comb_boin(0.05, grid=(2, 2)).target == 0.05
    assert comb_boin(0.6, grid=(2, 2), offset=0.0).target == 0.6
    assert comb_boin(0.3, grid=(2, 2), offset=0.49, p_saf=0.2, p_tox=0.4).offset == 0.49
    with pytest.raises(SpecError, match=r"^The 'start_dose' parameter of comb-boin must be a combination of the "
                                        r"2x2 grid"):
        comb_boin(0.3, grid=(2, 2), start_dose=(3, 1))
    with pytest.raises(SpecError, match=r"^The 'grid' parameter of comb-boin must be \(J, K\) levels"):
        comb_boin(0.3, grid=(1, 1))
