"""SPR multi-cycle kinetics against the R oracle (reference set ``shared/reference/fit/kinetics/``, see
tests/reference/SOURCES.md).

The oracle fits (R 4.2.2) are, for each ``key`` of ``kinetics_oracle.json`` / row of ``kinetics_fit_summary.csv``::

    # 1:1 Langmuir, integrated; ton = 60 s, toff = 360 s; 5 cycles x 1561 s at 1 Hz
    minpack.lm::nls.lm(par = c(lka, lkd, Rmax, [RI1..RI5], [drift]), fn = residuals,
                       control = nls.lm.control(ftol = 1e-14, ptol = 1e-14))
    vcov = s^2 (J'J)^-1, J = numDeriv::jacobian(residuals, optimum); delta method to ka, kd, KD
    A_global     clean data, global Rmax          A_localR   clean data, local Rmax
    A_global_RI  clean data, local RI (true 0)    B_full     bulk+drift data, local RI + global drift
    B_naive      bulk+drift data, no RI/drift (biased)
    A_global_nls_crosscheck: nls(response_RU ~ r11(time_s, conc_M, ka, kd, Rmax, 60, 360), algorithm = "port")

Tolerances: the issue asks for ka, kd, KD within 0.1 % and SEs within 1 %; both fits reach the same least-squares
optimum, so everything is checked much tighter -- estimates, RSS, residual SD, Chi2 and KD CIs at relative 1e-6
(nuisance estimates near zero, such as the RI of the clean data, at 1e-4 of their SE), SEs and correlations at
relative 1e-4.  The anabel rows (``anabel_*``) are *not* an accuracy oracle (SPEC 2.3: anabel fits the injection
times and a free dissociation amplitude and returns kd 4.7x the truth here); the test records that adcbridge
deliberately does not reproduce them.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.kinetics import fit_kinetics, sensorgrams_from_wide

DATA = Path(__file__).parent / "data" / "fit" / "kinetics"
ORACLE = json.loads((DATA / "kinetics_oracle.json").read_text())
SUMMARY = {row["fit"]: row for row in csv.DictReader((DATA / "kinetics_fit_summary.csv").open())}
COLUMNS = dict(cycle="cycle", conc="conc_M", time="time_s", response="response_RU")
EST_RTOL, SE_RTOL = 1e-6, 1e-4

FITS = {  # oracle key -> (data file, adcbridge options)
    "A_global": ("spr_mck_clean.csv", {}),
    "A_localR": ("spr_mck_clean.csv", {"rmax": "local"}),
    "A_global_RI": ("spr_mck_clean.csv", {"bulk": True}),
    "B_full": ("spr_mck_bulk_drift.csv", {"bulk": True, "drift": "global"}),
    "B_naive": ("spr_mck_bulk_drift.csv", {}),
}
_CACHE: dict = {}


def _data(name: str) -> pd.DataFrame:
    if name not in _CACHE:
        _CACHE[name] = pd.read_csv(DATA / name)
    return _CACHE[name]


def _fit(key: str):
    if key not in _CACHE:
        file, options = FITS[key]
        truth = ORACLE["truth"]
        _CACHE[key] = fit_kinetics(_data(file), t_on=truth["ton"], t_off=truth["toff"], conc_unit="M", **options,
                                   **COLUMNS)
    return _CACHE[key]


def _rel(a, b):
    return abs(a - b) / abs(b)


def _row(result, parameter, cycle=None):
    t = result.table
    rows = t[(t["parameter"] == parameter) & (t["cycle"].isna() if cycle is None else t["cycle"] == cycle)]
    assert len(rows) == 1, (parameter, cycle)
    return rows.iloc[0]


def _oracle_param(name):
    """Oracle parameter name -> (adcbridge parameter, cycle)."""
    for prefix in ("Rmax", "RI"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return prefix, int(name[len(prefix):])
    return name, None


@pytest.mark.parametrize("key", list(FITS))
def test_rate_constants_and_affinity(key):
    ref, fit = ORACLE[key], _fit(key)
    assert fit.converged and fit.n == ref["n"] and fit.n_parameters == ref["n_par"]
    for name, se_key in (("ka", "se_ka"), ("kd", "se_kd"), ("KD", "se_KD_with_cov")):
        row = _row(fit, name)
        assert _rel(row["estimate"], ref[name]) < EST_RTOL, name
        assert _rel(row["se"], ref[se_key]) < SE_RTOL, name
    kd_row = _row(fit, "KD")
    lo, hi = ref["KD_CI95_logscale"]
    assert _rel(kd_row["ci_low"], lo) < EST_RTOL and _rel(kd_row["ci_high"], hi) < EST_RTOL
    assert _rel(fit.corr_ka_kd, ref["corr_lka_lkd"]) < SE_RTOL


@pytest.mark.parametrize("key", list(FITS))
def test_fit_statistics(key):
    ref, fit = ORACLE[key], _fit(key)
    assert _rel(fit.rss, ref["rss"]) < EST_RTOL
    assert fit.rss <= ref["rss"] * (1 + 1e-9)          # at least as low as the oracle's optimum
    assert _rel(fit.residual_sd, ref["residual_sd"]) < EST_RTOL
    assert _rel(fit.chi2, ref["chi2_rss_over_n_minus_p"]) < EST_RTOL      # Chi2 = RSS / (n - p)
    assert _rel(fit.rss / fit.n, ref["chi2_rss_over_n"]) < EST_RTOL


@pytest.mark.parametrize("key", list(FITS))
def test_every_parameter_estimate_and_se(key):
    ref, fit = ORACLE[key], _fit(key)
    for p in ref["params"]:
        name, cycle = _oracle_param(p["param"])
        row = _row(fit, name, cycle)
        assert abs(row["estimate"] - p["estimate"]) <= max(EST_RTOL * abs(p["estimate"]), 1e-4 * p["se"]), p
        assert _rel(row["se"], p["se"]) < SE_RTOL, p
    # the fit-scale (log10) SEs follow from the natural ones by the delta method
    for p in ref["params_fitscale"][:2]:            # lka, lkd
        row = _row(fit, p["param"][1:])
        assert _rel(row["se"] / row["estimate"] / np.log(10), p["se"]) < SE_RTOL


@pytest.mark.parametrize("key", list(FITS))
def test_KD_se_without_the_covariance(key):
    """Leaving out cov(ln ka, ln kd) (as anabel does) gives the oracle's se_KD_no_cov, not the right SE."""
    ref, fit = ORACLE[key], _fit(key)
    v = fit.vcov.set_index("parameter")
    ka, kd, KD = fit.ka, fit.kd, fit.KD
    no_cov = KD * np.sqrt(v.loc["ka", "ka"] / ka**2 + v.loc["kd", "kd"] / kd**2)
    assert _rel(no_cov, ref["se_KD_no_cov"]) < SE_RTOL


@pytest.mark.parametrize("key", list(FITS))
def test_fit_summary_csv(key):
    row, fit = SUMMARY[key], _fit(key)
    for col, (name, field) in {"ka": ("ka", "estimate"), "se_ka": ("ka", "se"), "kd": ("kd", "estimate"),
                               "se_kd": ("kd", "se"), "KD": ("KD", "estimate"), "se_KD": ("KD", "se")}.items():
        tol = EST_RTOL if field == "estimate" else SE_RTOL
        assert _rel(_row(fit, name)[field], float(row[col])) < max(tol, 1e-13), col   # CSV keeps 15 digits
    if row["Rmax"] != "NA":
        assert _rel(_row(fit, "Rmax")["estimate"], float(row["Rmax"])) < EST_RTOL
    assert _rel(fit.residual_sd, float(row["residual_sd"])) < EST_RTOL
    assert fit.n == int(row["n"]) and fit.n_parameters == int(row["n_par"])


def test_nls_port_crosscheck():
    ref, fit = ORACLE["A_global_nls_crosscheck"], _fit("A_global")
    for name in ("ka", "kd", "Rmax"):
        row = _row(fit, name)
        assert _rel(row["estimate"], ref["coef"][name]) < EST_RTOL
        assert _rel(row["se"], ref["se"][name]) < SE_RTOL
    assert _rel(fit.rss, ref["rss"]) < EST_RTOL


def test_contract_of_the_bulk_and_drift_fit():
    c = _fit("B_full").to_record()
    ref = ORACLE["B_full"]
    assert set(c) == {"ka", "kd", "KD", "rmax", "chi2", "flags", "result_type", "spec", "issues", "provenance"}
    assert _rel(c["KD"]["estimate"], ref["KD"]) < EST_RTOL and _rel(c["KD"]["se"], ref["se_KD_with_cov"]) < SE_RTOL
    assert _rel(c["rmax"], ref["params"][2]["estimate"]) < EST_RTOL and c["flags"] == []
    json.dumps(c, allow_nan=False)


def test_naive_fit_of_bulk_and_drift_data_is_flagged():
    """Ignoring the bulk step and drift biases KD by -5.7 % (SPEC pitfall 12); the residuals show it."""
    assert "systematic_residuals" in _fit("B_naive").flags
    assert not _fit("B_full").flags and not _fit("A_global").flags


@pytest.mark.parametrize("key,file", [("A_global", "spr_mck_clean_wide.csv"),
                                      ("B_full", "spr_mck_bulk_drift_wide.csv")])
def test_wide_export_gives_the_same_fit(key, file):
    long = sensorgrams_from_wide(pd.read_csv(DATA / file))
    ref = _data(FITS[key][0])
    assert np.allclose(long["conc"], ref["conc_M"], rtol=1e-12) and np.array_equal(long["time"], ref["time_s"])
    fit = fit_kinetics(long, t_on=60, t_off=360, **FITS[key][1])
    for name in ("ka", "kd", "KD"):
        assert _rel(fit.estimate(name), ORACLE[key][name]) < EST_RTOL


def test_anabel_is_not_reproduced_on_purpose():
    """anabel (free injection times and dissociation amplitudes) returns kd 4.7x the truth on this data with
    FittingQ "Warning"; adcbridge keeps the amplitude continuous at t_off and the times fixed, and recovers the
    truth within its 95 % CI instead."""
    truth, fit = ORACLE["truth"], _fit("A_global")
    anabel = float(SUMMARY["anabel_A"]["kd"])
    assert anabel / truth["kd"] > 4 and ORACLE["anabel"]["A"][0]["FittingQ"] == "Warning"
    row = _row(fit, "kd")
    assert row["ci_low"] < truth["kd"] * 1.001 and row["ci_high"] > truth["kd"] * 0.999
    assert _rel(fit.kd, anabel) > 0.5
