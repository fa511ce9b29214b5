"""Text output of numbers: an interval bound negligible beside its estimate prints as 0, genuine small values
(KD in M) keep their digits, and JSON keeps the computed value."""
import math

import pandas as pd

from adcbridge.cli.common import NEGLIGIBLE, bound, frame


def test_bound_negligible_beside_estimate_is_zero():
    assert bound(2.05e-33, 0.8) == "0"
    assert bound(None, 0.8) == "n/a"
    assert bound(math.inf, 0.8) == "n/a"


def test_bound_small_but_real_keeps_digits():
    # a KD interval in molar: all of the same order, nothing is negligible
    assert bound(1.9e-10, 2.2e-10) == "1.9e-10"
    assert bound(0.5 * NEGLIGIBLE * 2, 1.0) == f"{NEGLIGIBLE:.4g}"


def test_frame_zeroes_negligible_interval_columns_only():
    df = pd.DataFrame({"parameter": ["CL", "KD"], "estimate": [0.8, 2.2e-10], "ci_low": [2.05e-33, 1.9e-10],
                       "ci_high": [31.0, 2.6e-10], "slope": [1.0, 1.0], "slope_ci_low": [1e-20, 0.9]})
    lines = frame(df).splitlines()
    cl, kd = lines[1].split(), lines[2].split()
    assert cl[2] == "0" and cl[5] == "0"
    assert kd[1] == "2.2e-10" and kd[2] == "1.9e-10"
    # the frame given is not changed (JSON takes its values from the result, not from the text)
    assert df.loc[0, "ci_low"] == 2.05e-33
