"""adcbridge.nca.run: columns and options resolved against the table, chunked streaming, wide/summary on request."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.nca import NcaOptions, run_nca, run_nca_multiple_dose
from adcbridge.nca.analysis import NcaResult
from adcbridge.nca.run import ChunkLimitError, nca_setup, stream_nca
from tests.refdata import REFERENCE

NCA = REFERENCE / "nca" / "data"


@pytest.fixture(scope="module")
def cyno():
    return pd.read_csv(NCA / "cyno_adc_sd.csv")


def _setup(data, **kw):
    base = dict(subject="ID", time="TIME", conc="CONC", dose="DOSE", analyte="ANALYTE", groups=["SEX", "DOSE"],
                blq="BLQ", route="ROUTE", duration="TINF", metabolites=["PAYLOAD"], conc_unit="CONCU")
    return nca_setup(data, **{**base, **kw})


def test_setup_reads_one_concentration_unit_per_analyte_from_a_unit_column(cyno):
    s = _setup(cyno)
    assert s.options.conc_units_by_analyte == {"ADC": "ug/mL", "PAYLOAD": "ng/mL", "TAb": "ug/mL"}
    assert s.route == "ROUTE" and s.duration == "TINF" and s.options.metabolites == ("PAYLOAD",)


def test_setup_refuses_an_analyte_with_several_units(cyno):
    mixed = cyno.copy()
    mixed.loc[mixed.index[(mixed.ANALYTE == "ADC").to_numpy()][:3], "CONCU"] = "ng/mL"
    with pytest.raises(ValueError, match=r"column 'CONCU': analyte ADC has several units"):
        _setup(mixed)
    with pytest.raises(ValueError, match="needs an analyte column"):
        _setup(cyno, analyte=None)


def test_setup_route_and_duration_are_columns_or_values(cyno):
    s = _setup(cyno.drop(columns=["ROUTE", "TINF", "CONCU"]), route="iv-infusion", duration="0.5",
               conc_unit="ng/mL")
    assert (s.route, s.default_route, s.duration, s.default_duration) == (None, "iv-infusion", None, 0.5)
    assert s.options.units.conc == "ng/mL" and not s.options.conc_units_by_analyte
    assert _setup(cyno, route=None, duration=None).default_route == "extravascular"
    with pytest.raises(ValueError, match="neither a number nor a column"):
        _setup(cyno, duration="TINFUSION")


def test_setup_options_from_a_mapping_then_overrides(cyno):
    s = _setup(cyno, options={"auc_method": "linear", "partial_aucs": [[0, 24]], "units": {"time": "h"}},
               partial_aucs=[(0, 168)], dose_unit="mg")
    assert s.options.auc_method == "linear" and s.options.partial_aucs == ((0.0, 168.0),)
    assert (s.options.units.time, s.options.units.dose) == ("h", "mg")
    with pytest.raises(ValueError, match="lambda_z selection: every entry needs a 'time'"):
        _setup(cyno, lambda_z=[{"ID": "SD001", "action": "exclude"}])


def test_chunks_give_the_whole_analysis(cyno):
    s = _setup(cyno, partial_aucs=[(0, 24)])
    whole = run_nca(cyno, **s.run_nca_kwargs())
    run = stream_nca(cyno, s, wide=True, summary=True, chunk_profiles=7)
    tables = list(run)
    assert run.chunks == 13 and run.profiles == 90 and run.rows == len(whole.table)
    plain = {"PPTESTCD": str, "PPSTRESU": str}        # chunks have their own categories
    pd.testing.assert_frame_equal(pd.concat(tables, ignore_index=True).astype(plain), whole.table.astype(plain))
    pd.testing.assert_frame_equal(run.wide(), whole.wide())
    pd.testing.assert_frame_equal(run.summary(), whole.describe())
    assert [i.message for i in run.issues] == [i.message for i in whole.issues]


def test_issue_counts_add_up_over_chunks():
    t = np.array([0, 1, 2, 4, 8])
    flat = pd.DataFrame({"ID": np.repeat([1, 2, 3, 4], 5), "TIME": np.tile(t, 4),
                         "CONC": np.r_[[0, 5, 4, 2, 1], [0, 1, 1, 1, 1], [0, 5, 4, 2, 1], [0, 1, 1, 1, 1]]})
    setup = nca_setup(flat, subject="ID", time="TIME", conc="CONC")
    run = stream_nca(flat, setup, chunk_profiles=1).run()
    assert [i.message for i in run.issues] == ["2 of 4 profiles have no lambda_z (see EXCLUDE_REASON)"]


def test_wide_and_summary_only_when_asked(cyno, monkeypatch):
    def refuse(self):
        raise AssertionError("wide table built")
    monkeypatch.setattr(NcaResult, "wide", refuse)
    run = stream_nca(cyno, _setup(cyno)).run()
    assert run.profiles == 90
    with pytest.raises(ValueError, match="not asked for"):
        run.wide()
    with pytest.raises(ValueError, match="not asked for"):
        run.summary()
    with pytest.raises(AssertionError, match="wide table built"):
        stream_nca(cyno, _setup(cyno), wide=True).run()


def test_single_dose_long_tables_leave_out_the_empty_interval_columns(cyno):
    tables = list(stream_nca(cyno, _setup(cyno)))
    assert "PPSTINT" not in tables[0].columns
    assert "PPSTINT" in next(iter(stream_nca(cyno, _setup(cyno, partial_aucs=[(0, 24)])))).columns


def test_keep_result_holds_one_chunk_at_most(cyno):
    run = stream_nca(cyno, _setup(cyno), keep_result=True).run()
    assert run.result().lambda_z_points is not None
    with pytest.raises(ChunkLimitError):
        stream_nca(cyno, _setup(cyno), keep_result=True, chunk_profiles=50).run()
    with pytest.raises(RuntimeError, match="once"):
        list(run)


def test_multiple_dose_with_a_dosing_table():
    data, dosing = pd.read_csv(NCA / "cyno_adc_md.csv"), pd.read_csv(NCA / "cyno_adc_md_dosing.csv")
    s = nca_setup(data, subject="ID", time="TIME", conc="CONC", dose="DOSE", analyte="ANALYTE", groups=["SEX"],
                  blq="BLQ", route="ROUTE", duration="TINF", metabolites=["PAYLOAD"], conc_unit="CONCU")
    run = stream_nca(data, s, dosing=dosing, tau="TAU", wide=True)
    (table,) = list(run)
    kwargs = {**s.run_nca_kwargs(), "options": NcaOptions(**s.options.model_dump())}
    ref = run_nca_multiple_dose(data, dosing, dose_time="TDOSE", tau="TAU", **kwargs)
    pd.testing.assert_frame_equal(table, ref.table)
    assert run.profiles == len(ref.wide()) == 270 and "DOSENO" in run.wide().columns


def test_a_path_instead_of_a_table_is_a_clear_error():
    import pytest as _pytest

    from adcbridge.nca import run_nca
    with _pytest.raises(ValueError, match="expected a table .* got str 'file.csv'"):
        run_nca("file.csv", subject="ID", time="T", conc="C", dose="D")


def test_an_empty_concentration_cell_is_reported_not_silently_dropped():
    import numpy as _np

    from adcbridge.nca import run_nca
    df = pd.DataFrame({"ID": [1] * 5 + [2] * 4, "TIME": [0, 1, 2, 4, 8, 0, 1, 2, 4],
                       "CONC": [0, 5, _np.nan, 3, 1, 0, 4, 3, 2], "DOSE": 1.0})
    r = run_nca(df, subject="ID", time="TIME", conc="CONC", dose="DOSE")
    assert [i.message for i in r.issues if i.code == "missing_concentrations"] == [
        "1 samples without a concentration (an empty cell, not BLQ) left out"]


def test_a_profile_with_one_sample_at_the_dose_time_is_analysed():
    from adcbridge.nca import run_nca
    for route in ("iv-bolus", "extravascular"):
        r = run_nca(pd.DataFrame({"ID": [1], "TIME": [0.0], "CONC": [5.0], "DOSE": [1.0]}), subject="ID",
                    time="TIME", conc="CONC", dose="DOSE", default_route=route)
        t = r.table.set_index("PPTESTCD")
        assert t.at["CMAX", "PPSTRESN"] == 5.0 and t.at["TMAX", "PPSTRESN"] == 0.0
