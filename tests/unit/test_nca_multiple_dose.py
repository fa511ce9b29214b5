"""Multiple-dose NCA against closed-form superposition and against the single-dose analysis."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.nca import NcaOptions, run_nca, run_nca_multiple_dose

K, V, D, TAU, N = 0.1, 2.0, 100.0, 12.0, 4            # 1-compartment IV bolus, 4 doses every 12 h
OPTS = NcaOptions(auc_method="lin-up-log-down", units={"time": "h", "conc": "ug/mL", "dose": "mg"})


def superposition():
    s = np.array([0.5, 1, 2, 4, 6, 8, 10])
    times = np.concatenate([k * TAU + np.r_[0, s] for k in range(N)] + [[N * TAU, N * TAU + 24, N * TAU + 36]])
    times = np.unique(times)
    conc = sum(np.where(times > k * TAU, D / V * np.exp(-K * (times - k * TAU)), 0.0) for k in range(N))
    data = pd.DataFrame({"ID": 1, "TIME": times, "CONC": conc})
    dosing = pd.DataFrame({"ID": 1, "TDOSE": np.arange(N) * TAU, "DOSE": D, "TAU": TAU})
    return data, dosing


def test_bolus_superposition_closed_form():
    data, dosing = superposition()
    r = run_nca_multiple_dose(data, dosing, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE",
                              tau="TAU", default_route="iv-bolus", options=OPTS)
    w = r.wide().set_index("DOSENO")
    q = np.exp(-K * TAU)
    for n in range(1, N + 1):
        c0 = D / V * (1 - q ** n) / (1 - q)
        auctau = c0 * (1 - q) / K
        assert w.loc[n, "C0"] == pytest.approx(c0, rel=1e-10)
        assert w.loc[n, "AUCTAU"] == pytest.approx(auctau, rel=1e-10)
        assert w.loc[n, "CTROUGH"] == pytest.approx(c0 * q, rel=1e-12)
        assert w.loc[n, "CAVG"] == pytest.approx(auctau / TAU, rel=1e-10)
        assert w.loc[n, "ARAUC"] == pytest.approx((1 - q ** n) / (1 - q), rel=1e-10)
        assert w.loc[n, "LINIDX"] == pytest.approx(1 - q ** n, rel=1e-9)
        assert w.loc[n, "CLSS"] == pytest.approx(1000 * D / auctau, rel=1e-10)
        assert w.loc[n, "AILAMZ"] == pytest.approx(1 / (1 - q), rel=1e-9)
        assert w.loc[n, "LAMZ"] == pytest.approx(K, rel=1e-9)
    # after the last dose the washout samples give lambda_z and AUCinf over the whole terminal phase; times are
    # relative to the interval's dose
    assert w.loc[N, "LAMZUL"] == pytest.approx(N * TAU + 36 - (N - 1) * TAU)


def test_first_interval_equals_the_single_dose_analysis():
    data, dosing = superposition()
    md = run_nca_multiple_dose(data, dosing, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE",
                               tau="TAU", default_route="iv-bolus", options=OPTS).wide().set_index("DOSENO")
    first = data[data["TIME"] <= TAU].assign(DOSE=D)
    sd = run_nca(first, subject="ID", time="TIME", conc="CONC", dose="DOSE", default_route="iv-bolus",
                 options=OPTS.replace(partial_aucs=((0, TAU),))).wide().iloc[0]
    for code in ("CMAX", "TMAX", "AUCLST", "LAMZ", "AUCIFO", "C0"):
        assert md.loc[1, code] == pytest.approx(sd[code], rel=1e-12)
    assert md.loc[1, "AUCTAU"] == pytest.approx(sd[f"AUCINT_0-{TAU:g}"], rel=1e-12)


def test_missing_pre_dose_sample_of_a_later_dose():
    data, dosing = superposition()
    data = data[data["TIME"] != 2 * TAU]                           # no sample at the 3rd dose
    r = run_nca_multiple_dose(data, dosing, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE",
                              tau="TAU", default_route="iv-infusion", default_duration=0.25, options=OPTS)
    t = r.table.set_index(["DOSENO", "PPTESTCD"])
    assert np.isnan(t.loc[(3, "AUCTAU"), "PPSTRESN"])
    assert t.loc[(3, "AUCTAU"), "EXCLUDE_REASON"] == "no pre-dose sample at the dose time"
    assert np.isnan(t.loc[(2, "CTROUGH"), "PPSTRESN"])                 # and no trough for interval 2


@pytest.mark.parametrize("dosing,match", [
    (pd.DataFrame({"ID": 1, "TDOSE": [0, 0], "DOSE": 1.0}), "strictly increasing"),
    (pd.DataFrame({"ID": 1, "TDOSE": [0, 12, 36], "DOSE": 1.0}), "last dose needs its interval"),
    (pd.DataFrame({"ID": 1, "TDOSE": [0, 12], "DOSE": [1.0, -1]}), "dosing row 2, column 'DOSE'"),
    (pd.DataFrame({"ID": 2, "TDOSE": [0, 12], "DOSE": 1.0}), "ID=1 has concentrations but no dose"),
    (pd.DataFrame({"ID": 1, "TDOSE": [0, 12], "DOSE": 1.0, "TAU": [24, 12]}), "reaches past the next dose"),
    (pd.DataFrame({"ID": 1, "TDOSE": [0], "DOSE": 1.0}), "there is one dose"),
    (pd.DataFrame({"ID": 1, "T": [0, 12], "DOSE": 1.0}), "lacks column"),
])
def test_bad_dosing(dosing, match):
    data, _ = superposition()
    with pytest.raises(ValueError, match=match):
        run_nca_multiple_dose(data, dosing, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE",
                              tau="TAU" if "TAU" in dosing else None, options=OPTS)


def test_cyno_repeated_dose_study_runs_for_three_analytes():
    from tests.refdata import REFERENCE
    path = REFERENCE / "nca" / "data"
    data = pd.read_csv(path / "cyno_adc_md.csv")
    dosing = pd.read_csv(path / "cyno_adc_md_dosing.csv")
    r = run_nca_multiple_dose(data, dosing, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE",
                              dose="DOSE", tau="TAU", analyte="ANALYTE", groups=["SEX"], blq="BLQ", route="ROUTE",
                              duration="TINF", options=NcaOptions(metabolites=("PAYLOAD",),
                                                                  conc_units_by_analyte={"PAYLOAD": "ng/mL"}))
    w = r.wide()
    assert len(w) == 30 * 3 * 3
    adc = w[(w.PPCAT == "ADC") & (w.DOSENO == 3)]
    # linear PK, t1/2 ~ 80 h, tau 504 h: little accumulation
    assert adc["ARAUC"].median() == pytest.approx(1.05, abs=0.1)
    assert w[w.PPCAT == "PAYLOAD"]["CLSS"].isna().all()


def test_pre_dose_samples_within_the_window_count_as_taken_at_the_dose():
    data, dosing = superposition()
    late = data.copy()
    late.loc[late["TIME"] == 2 * TAU, "TIME"] = 2 * TAU - 0.1          # the 3rd pre-dose sample taken 6 min early
    kw = dict(subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE", tau="TAU",
              default_route="iv-infusion", default_duration=0.25, options=OPTS)
    exact = run_nca_multiple_dose(data, dosing, **kw).wide().set_index("DOSENO")
    strict = run_nca_multiple_dose(late, dosing, **kw).wide().set_index("DOSENO")
    windowed = run_nca_multiple_dose(late, dosing, predose_window=0.25, **kw).wide().set_index("DOSENO")
    assert np.isnan(strict.loc[3, "AUCTAU"]) and np.isfinite(windowed.loc[3, "AUCTAU"])
    assert windowed.loc[2, "CTROUGH"] == pytest.approx(exact.loc[2, "CTROUGH"])


def test_summaries_of_multiple_doses_are_per_dose_across_subjects():
    data, dosing = superposition()
    two = pd.concat([data, data.assign(ID=2, CONC=data["CONC"] * 2)])
    doses = pd.concat([dosing, dosing.assign(ID=2)])
    r = run_nca_multiple_dose(two, doses, subject="ID", time="TIME", conc="CONC", dose_time="TDOSE", dose="DOSE",
                              tau="TAU", default_route="iv-bolus", options=OPTS)
    s = r.describe().set_index(["DOSENO", "PPTESTCD"])
    assert s.loc[(1, "CMAX"), "N"] == 2 and len(s.index.get_level_values(0).unique()) == N


def test_same_subject_ids_in_different_groups_get_their_own_doses():
    data, dosing = superposition()
    a = data.assign(STUDY="A")
    b = data.assign(STUDY="B", TIME=data["TIME"] + 1.0)
    doses = pd.concat([dosing.assign(STUDY="A"), dosing.assign(STUDY="B", TDOSE=dosing["TDOSE"] + 1.0)])
    r = run_nca_multiple_dose(pd.concat([a, b]), doses, subject="ID", time="TIME", conc="CONC", groups=["STUDY"],
                              dose_time="TDOSE", dose="DOSE", tau="TAU", default_route="iv-bolus", options=OPTS)
    w = r.wide().set_index(["STUDY", "DOSENO"])
    assert w.loc[("A", 2), "AUCTAU"] == pytest.approx(w.loc[("B", 2), "AUCTAU"], rel=1e-12)
