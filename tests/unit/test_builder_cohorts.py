"""The builders take the number of cohorts as ``cohorts`` or as the spec's own field name ``n_cohorts`` (found:
``tite_boin(..., n_cohorts=10)``, as the docs name the field, failed with "multiple values for keyword argument")."""

import pytest

from adcbridge.dosefinding import boin, boin12, boin_backfill, crm, tite_boin

BUILDERS = {"boin": lambda **kw: boin(0.3, 5, **kw), "crm": lambda **kw: crm(0.3, 5, **kw),
            "tite_boin": lambda **kw: tite_boin(0.3, 5, **kw),
            "boin_backfill": lambda **kw: boin_backfill(0.3, 5, **kw),
            "boin12": lambda **kw: boin12(0.3, 0.25, 5, **kw)}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_cohorts_or_n_cohorts(name):
    make = BUILDERS[name]
    assert make(n_cohorts=7).n_cohorts == 7 == make(cohorts=7).n_cohorts
    assert make(cohorts=7, n_cohorts=7).n_cohorts == 7
    with pytest.raises(ValueError, match=rf"^{name}\(\) got cohorts=5 and n_cohorts=7: they name the same number"):
        make(cohorts=5, n_cohorts=7)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_an_explicit_default_is_still_given(name):
    # found by a review: cohorts=10 (the default) beside n_cohorts=8 silently gave 8
    make = BUILDERS[name]
    assert make().n_cohorts == 10
    with pytest.raises(ValueError, match="got cohorts=10 and n_cohorts=8"):
        make(cohorts=10, n_cohorts=8)
