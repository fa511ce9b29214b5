"""Bad input to the dose-finding Python API is a ValueError naming the argument, never a raw TypeError,
AttributeError or a silently converted value."""

import pytest

from adcbridge.dosefinding import BoinDesign, CrmDesign, boin, exact_oc, next_dose, simulate, three_plus_three


@pytest.mark.parametrize("call,match", [
    (lambda: next_dose(boin(0.3, 3), 123), "'outcomes' argument must be cohorts"),
    (lambda: next_dose(boin(0.3, 3), b"1NNN"), "'outcomes' argument must be cohorts"),
    (lambda: boin(0.3, doses="1,2,3"), "'doses' argument of boin must be a number of dose levels or a list"),
    (lambda: boin(0.3, doses=True), "'doses' argument of boin"),
    (lambda: BoinDesign(target=0.3, n_doses=3, cohort_size=True), "'cohort_size' parameter of boin must be a number"),
    (lambda: BoinDesign(target=0.3, n_doses=True), "'n_doses' parameter of boin must be a number"),
    (lambda: three_plus_three(3, start_dose=True), "'start_dose' parameter of 3\\+3 must be a number"),
    (lambda: simulate(None, [0.1, 0.2], 100, seed=1), "'design' argument must be a dose-finding design"),
    (lambda: exact_oc("boin", [0.1, 0.2]), "'design' argument must be a dose-finding design"),
    (lambda: boin(0.3, [1, 2, float("nan")]), "'dose_levels' parameter of boin must be a finite number"),
    (lambda: CrmDesign(target=0.3, n_doses=3, dose_levels=(1, float("inf"), 3)), "'dose_levels' parameter of crm"),
    (lambda: BoinDesign(target=float("nan"), n_doses=3), "'target' parameter of boin must be a finite number"),
    (lambda: simulate(three_plus_three(3), [0.1, 0.2, 0.3], 100, seed=1, target=0.9), "'target' argument"),
    (lambda: exact_oc(three_plus_three(3), [0.1, 0.2, 0.3], target=True), "'target' argument"),
])
def test_bad_api_input_is_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_good_input_still_works():
    assert simulate(three_plus_three(3), [0.1, 0.2, 0.3], 200, seed=1, target=0.25).target == 0.25
    assert BoinDesign(target=0.3, n_doses=3, cohort_size=2).cohort_size == 2
    assert boin(0.3, (1, 2.5, 4)).dose_levels == (1.0, 2.5, 4.0)


@pytest.mark.parametrize("n,dlt,why", [([0, 0, 0], [0, 0, 0], "no patient has been treated"),
                                       ([3, 3], [3, 3], "the lowest dose is eliminated as too toxic")])
def test_no_mtd_says_why(n, dlt, why):
    from adcbridge.dosefinding import select_mtd
    r = select_mtd(boin(0.3, len(n)), n, dlt)
    assert r.mtd is None and [i.message for i in r.issues] == [f"no MTD: {why}"]
