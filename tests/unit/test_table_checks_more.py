"""The table checks migrated to :mod:`adcbridge.validation`: BOIN counts (``boin next --data``), wide SPR/BLI
exports, steady-state report points, the toxicology table and the multi-species allometry table.

Every bad cell reads ``[SOURCE: ]column 'NAME', PLACE[ (KEY value)]: expected WHAT, got 'VALUE'``: the file and its
line when the table was read with :func:`adcbridge.io.read_table`, a description and the 1-based data row when it
was built in Python.  Infinite values are rejected and named, never dropped."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from adcbridge.assays.kinetics import (
    SteadyStateOptions,
    SteadyStateResult,
    fit_steady_state,
    report_points,
    sensorgram_table,
    sensorgrams_from_wide,
)
from adcbridge.io import read_dose_counts, read_table
from adcbridge.spec import SpecError
from adcbridge.translation import fit_allometry, summarise_toxicology
from adcbridge.validation import TableError


def _raises(message: str, func, *args, **kwargs) -> TableError:
    """Call ``func`` and check that it raises a TableError with exactly ``message``."""
    with pytest.raises(TableError, match="^" + re.escape(message) + "$") as info:
        func(*args, **kwargs)
    return info.value


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------------- BOIN counts (--data)
COUNTS = "dose,n,dlt\n1,3,0\n\n2,3,1\n"         # line 3 is blank: the data rows are lines 2 and 4


@pytest.mark.parametrize("cell,column,message", [
    ("2,3,5", "dlt", "column 'dlt', line 4 (dose 2): expected a whole number >= 0 and <= 3 (the 'n' on the same "
                     "line), got '5'"),
    ("4,3,0", "dose", "column 'dose', line 4: expected a whole number >= 1 and <= 3 (a dose level), got '4'"),
    ("0,3,0", "dose", "column 'dose', line 4: expected a whole number >= 1 and <= 3 (a dose level), got '0'"),
    ("1.5,3,0", "dose", "column 'dose', line 4: expected a whole number >= 1 and <= 3 (a dose level), got '1.5'"),
    ("2,inf,0", "n", "column 'n', line 4 (dose 2): expected a finite number, got 'inf'"),
    ("2,-3,0", "n", "column 'n', line 4 (dose 2): expected a whole number >= 0, got '-3'"),
    ("2,3,0.5", "dlt", "column 'dlt', line 4 (dose 2): expected a whole number >= 0, got '0.5'"),
    ("2,three,0", "n", "column 'n', line 4 (dose 2): expected a number, got 'three'"),
    ("2,3,", "dlt", "column 'dlt', line 4 (dose 2): expected a number, got an empty cell"),
    ("nan,3,0", "dose", "column 'dose', line 4: expected a number, got an empty cell"),
])
def test_dose_counts_name_the_file_line_column_and_value(tmp_path, cell, column, message):
    path = _write(tmp_path, "data.csv", COUNTS.replace("2,3,1", cell))
    err = _raises(f"{path}: {message}", read_dose_counts, path, 3)
    assert (err.source, err.column, err.line) == (str(path), column, "line 4")


def test_dose_counts_read_any_table_and_add_rows_of_one_dose(tmp_path):
    path = _write(tmp_path, "data.tsv", "dose\tn\tdlt\n1\t3\t0\n2\t3\t1\n2\t3.0\t0\n")
    counts = read_dose_counts(path, 3)
    assert (counts.n, counts.dlt) == ((3, 6, 0), (0, 1, 0))
    empty = _write(tmp_path, "empty.csv", "dose,n,dlt\n")
    _raises(f"{empty}: the table has a header but no data rows", read_dose_counts, empty, 2)


def test_dose_counts_missing_column_and_unreadable_file(tmp_path):
    path = _write(tmp_path, "data.csv", "dose,n,DLT\n1,3,0\n")
    err = _raises(f"{path}: missing column 'dlt' (columns: dose, n, DLT)", read_dose_counts, path, 3)
    assert err.column == "dlt"
    _raises(f"{tmp_path}: is a folder, not a file", read_dose_counts, tmp_path, 3)
    _raises(f"{tmp_path / 'nope.csv'}: no such file", read_dose_counts, tmp_path / "nope.csv", 3)


# ------------------------------------------------------------------------------------- wide SPR/BLI exports
WIDE = "Time,Conc_1nM,Conc_2nM\n0,0.0,0.0\n1,0.5,0.9\n2,0.7,\n"


@pytest.mark.parametrize("old,new,message", [
    ("1,0.5,0.9", "1,inf,0.9", "column 'Conc_1nM', line 3: expected a finite number, got 'inf'"),
    ("1,0.5,0.9", "1,0.5,-inf", "column 'Conc_2nM', line 3: expected a finite number, got '-inf'"),
    ("1,0.5,0.9", "inf,0.5,0.9", "column 'Time', line 3: expected a finite number, got 'inf'"),
    ("1,0.5,0.9", "1,0.5,1 RU", "column 'Conc_2nM', line 3: expected a number, got '1 RU'"),
    ("1,0.5,0.9", ",0.5,0.9", "column 'Time', line 3: expected a time (column 'Conc_1nM' has a response on this "
                              "line), got an empty cell"),
])
def test_wide_export_cells_name_the_file_line_column_and_value(tmp_path, old, new, message):
    path = _write(tmp_path, "wide.csv", WIDE.replace(old, new))
    table = read_table(path)
    err = _raises(f"{path}: {message}", sensorgrams_from_wide, table)
    assert err.source == str(path) and err.line == "line 3"
    # read as a wide export because it has no 'cycle' column: the cell error is passed on unchanged
    _raises(f"{path}: {message}", sensorgram_table, table)


def test_wide_export_keeps_short_curves_and_drops_nothing_else():
    wide = pd.DataFrame({"Time": [0.0, 1.0, 2.0], "Conc_1nM": [0.0, 0.5, 0.7], "Conc_2nM": [0.0, 0.9, np.nan]})
    long = sensorgrams_from_wide(wide)
    assert long.groupby("cycle").size().tolist() == [3, 2]


def test_wide_export_problems_of_the_table(tmp_path):
    path = _write(tmp_path, "wide.csv", "t,5nM\n0,0\n1,1\n")
    table = read_table(path)
    err = _raises(f"{path}: no time column 'Time' and no X/Y column pairs (columns: t, 5nM)",
                  sensorgrams_from_wide, table)
    assert err.source == str(path) and err.line is None
    _raises(f"{path}: no column 'cycle', so it was read as a wide export (a time column and one column per curve, "
            f"or X/Y column pairs), and no time column 'time' and no X/Y column pairs (columns: t, 5nM)",
            sensorgram_table, table)
    _raises("the wide export: no response columns (columns: Time)", sensorgrams_from_wide,
            pd.DataFrame({"Time": [0.0, 1.0]}))
    _raises("the wide export: column 'Conc_2nM' gives its concentration in nM, which contradicts the unit given "
            "(conc_unit, --conc-unit) 'uM'; leave it out (the headers carry the unit) or give the concentrations "
            "(concentrations=, --concentrations)",
            sensorgrams_from_wide, pd.DataFrame({"Time": [0, 1], "Conc_2nM": [0.0, 1.0]}), conc_unit="uM")
    with pytest.raises(ValueError, match=r"^concentrations must be finite numbers >= 0; got \[inf\]$"):
        sensorgrams_from_wide(pd.DataFrame({"Time": [0, 1], "A": [0.0, 1.0]}), concentrations=[np.inf],
                              conc_unit="nM")


def test_wide_export_built_in_python_names_the_data_row():
    wide = pd.DataFrame({"Cycle 1 X": [0.0, 1.0, 2.0], "Cycle 1 Y": [0.0, 0.4, 0.6],
                         "Cycle 2 X": [0.0, 1.0, np.inf], "Cycle 2 Y": [0.0, 0.8, 0.9]})
    err = _raises("the wide export: column 'Cycle 2 X', row 3: expected a finite number, got 'inf'",
                  sensorgrams_from_wide, wide, concentrations=[1.0, 2.0], conc_unit="nM")
    assert (err.source, err.column, err.line, err.value) == ("the wide export", "Cycle 2 X", "row 3", "'inf'")


# ---------------------------------------------------------------------------------- steady-state fit
CONCS = np.array([1.0, 3.0, 10.0, 30.0, 100.0])
NOISE = np.array([3.0, -4.0, 5.0, -3.0, 2.0])
POINTS = pd.DataFrame({"cycle": [1, 2, 3, 4, 5], "conc": CONCS, "response": 100 * CONCS / (CONCS + 10) + NOISE})


@pytest.mark.parametrize("column,cell,message", [
    ("response", "inf", "column 'response', line 4 (cycle 3): expected a finite number, got 'inf'"),
    ("response", "", "column 'response', line 4 (cycle 3): expected a number, got an empty cell"),
    ("conc", "-10", "column 'conc', line 4 (cycle 3): expected a number >= 0, got '-10'"),
    ("conc", "inf", "column 'conc', line 4 (cycle 3): expected a finite number >= 0, got 'inf'"),
    ("final_change", "inf", "column 'final_change', line 4 (cycle 3): expected a finite number, got 'inf'"),
])
def test_report_points_from_a_file_name_line_column_and_value(tmp_path, column, cell, message):
    pts = POINTS.assign(final_change=[0.01, np.nan, 0.02, 0.0, 0.01]).astype({column: object})
    pts.loc[2, column] = cell
    path = tmp_path / "points.csv"
    pts.to_csv(path, index=False)
    err = _raises(f"{path}: {message}", fit_steady_state, read_table(path), conc_unit="nM")
    assert (err.source, err.column, err.line) == (str(path), column, "line 4")


def test_report_points_keep_their_file_lines_after_filtering(tmp_path):
    pts = POINTS.astype({"response": object})
    pts.loc[4, "response"] = "12 RU"
    path = tmp_path / "points.csv"
    pts.to_csv(path, index=False)
    table = read_table(path)
    _raises(f"{path}: column 'response', line 6 (cycle 5): expected a number, got '12 RU'", fit_steady_state,
            table[table["cycle"] > 1], conc_unit="nM")


def test_report_points_built_in_python_and_table_problems():
    _raises("the report-point table: column 'response', row 2 (cycle 2): expected a finite number, got '-inf'",
            fit_steady_state, POINTS.assign(response=[1.0, -np.inf, 3.0, 4.0, 5.0]), conc_unit="nM")
    _raises("the report-point table: column 'conc', row 1 (cycle 1): expected a number >= 0, got '-1'",
            fit_steady_state, POINTS.assign(conc=[-1.0, 3.0, 10.0, 30.0, 100.0]), conc_unit="nM")
    _raises("the report-point table: missing column 'response' (columns: cycle, conc)", fit_steady_state,
            POINTS.drop(columns="response"), conc_unit="nM")
    _raises("the report-point table has no rows", fit_steady_state, POINTS.iloc[:0], conc_unit="nM")


def test_report_window_without_samples_names_the_table(tmp_path):
    t = np.arange(0.0, 200.0, 10.0)
    data = pd.concat([pd.DataFrame({"cycle": k, "conc": c, "time": t, "response": np.where(t >= 50, c, 0.0)})
                      for k, c in enumerate([1.0, 2.0, 3.0], start=1)])
    err = _raises("the sensorgram table: cycle 1: no samples in the report window [151, 155] s", report_points,
                  data, t_on=50, t_off=155, conc_unit="nM", window=4)
    assert err.column == "time"
    path = tmp_path / "sensorgrams.csv"
    data.to_csv(path, index=False)
    _raises(f"{path}: cycle 1: no samples in the report window [151, 155] s", report_points, read_table(path),
            t_on=50, t_off=155, conc_unit="nM", window=4)


def test_steady_state_relative_se_threshold_is_an_option():
    assert SteadyStateOptions().max_relative_se == 0.5
    fit = fit_steady_state(POINTS, conc_unit="nM")
    kd = fit.table.set_index("parameter").loc["KD"]
    relative_se = kd["se"] / kd["estimate"]
    assert 0.05 < relative_se < 0.5 and "non_identifiable" not in fit.flags
    strict = fit_steady_state(POINTS, conc_unit="nM", max_relative_se=0.05)
    assert "non_identifiable" in strict.flags and strict.spec.max_relative_se == 0.05
    assert f"relative SE {relative_se:.3g}; the limit, max_relative_se, is 0.05" in strict.issues[0].message
    options = SteadyStateOptions(conc_unit="nM", max_relative_se=relative_se * 1.01)
    assert "non_identifiable" not in fit_steady_state(POINTS, options).flags
    assert "non_identifiable" in fit_steady_state(POINTS, options.replace(max_relative_se=relative_se * 0.99)).flags
    assert SteadyStateResult.from_json(strict.to_json()).spec.max_relative_se == 0.05
    with pytest.raises(SpecError, match="max_relative_se"):
        SteadyStateOptions(max_relative_se=0)


# ---------------------------------------------------------------------------------- toxicology table
TOX = ("species,dose,n_animals,finding,severity,reversible,deaths\n"
       "cynomolgus,10,6,,none,,0\n"
       "cynomolgus,30,6,neutropenia,moderate,yes,0\n"
       "cynomolgus,78.8,6,pneumonitis,severe,no,1\n")


@pytest.mark.parametrize("old,new,message", [
    ("cynomolgus,30,", "cynomolgus,-30,", "column 'dose', line 3: expected a number > 0, got '-30'"),
    ("cynomolgus,30,", "cynomolgus,inf,", "column 'dose', line 3: expected a finite number > 0, got 'inf'"),
    ("cynomolgus,30,", "cynomolgus,,", "column 'dose', line 3: expected a number > 0, got an empty cell"),
    ("30,6,", "30,inf,", "column 'n_animals', line 3: expected a finite number >= 0, got 'inf'"),
    ("yes,0\n", "yes,-1\n", "column 'deaths', line 3: expected a number >= 0, got '-1'"),
    ("yes,0\n", "yes,one\n", "column 'deaths', line 3: expected a number >= 0, got 'one'"),
    ("moderate", "grave", "column 'severity', line 3: expected a severity (none, mild, moderate, marked, severe, "
                          "life-threatening; minimal or slight mean mild), got 'grave'"),
    ("yes,0\n", "perhaps,0\n", "column 'reversible', line 3: expected true/false, yes/no, reversible/irreversible "
                               "or partial (empty: unknown), got 'perhaps'"),
    ("cynomolgus,30,", ",30,", "column 'species', line 3: expected a species, got an empty cell"),
])
def test_tox_table_from_a_file_names_line_column_and_value(tmp_path, old, new, message):
    path = _write(tmp_path, "tox.csv", TOX.replace(old, new, 1))
    err = _raises(f"{path}: {message}", summarise_toxicology, read_table(path))
    assert err.source == str(path) and err.line == "line 3"


def test_tox_table_checks_the_rows_of_the_species_summarised():
    rat = pd.DataFrame({"species": "rat", "dose": [10.0, 30.0, 100.0], "n_animals": 10, "deaths": [0, 0, 1],
                        "severity": ["none", "mild", "severe"], "n_affected": [0, 2, 2]})
    monkey = pd.read_csv(io.StringIO(TOX))
    both = pd.concat([monkey, rat], ignore_index=True)
    assert summarise_toxicology(both.assign(dose=[10, -1, 78.8, 10, 30, 100]), "rat").basis == "STD10"
    # the bad cell is named by its row in the table given (row 5), not by its place among the rat rows
    _raises("the toxicology table: column 'dose', row 5: expected a finite number > 0, got 'inf'",
            summarise_toxicology, both.assign(dose=[10, 30, 78.8, 10, np.inf, 100]), "rat")
    _raises("the toxicology table: column 'n_affected', row 6: expected a number >= 0, got '-2'",
            summarise_toxicology, both.assign(n_affected=[0, 0, 0, 0, 2, -2]), "rat")
    _raises("the toxicology table: no rows for species 'dog' (column 'species' holds cynomolgus, rat)",
            summarise_toxicology, both, "dog")
    _raises("the toxicology table: no 'species' column: give the species (species=)", summarise_toxicology,
            rat.drop(columns="species"))


def test_empty_tox_table_names_its_file(tmp_path):
    path = _write(tmp_path, "tox.csv", "species,dose\n")
    _raises(f"{path}: the toxicology table has no rows: give one row per dose group (and finding)",
            summarise_toxicology, read_table(path, allow_empty=True), "cynomolgus")
    _raises(f"{path}: the table has a header but no data rows", read_table, path)


# ------------------------------------------------------------------------------- multi-species allometry
CL = "species,body_weight_kg,value,brain_weight_kg\nmouse,0.02,0.2,0.0004\nrat,0.25,1.5,0.0018\ndog,10,30,0.07\n"


@pytest.mark.parametrize("old,new,message", [
    ("0.25,1.5,", "0.25,inf,", "column 'value', line 3 (species 'rat'): expected a finite number > 0, got 'inf'"),
    ("0.25,1.5,", "0.25,0,", "column 'value', line 3 (species 'rat'): expected a number > 0, got '0'"),
    ("0.25,1.5,", "0.25,1.5 mL,", "column 'value', line 3 (species 'rat'): expected a number > 0, got '1.5 mL'"),
    ("rat,0.25,", "rat,-0.25,", "column 'body_weight_kg', line 3 (species 'rat'): expected a number > 0, got "
                                "'-0.25'"),
    ("rat,0.25,", "rat,inf,", "column 'body_weight_kg', line 3 (species 'rat'): expected a finite number > 0, got "
                              "'inf'"),
    ("1.5,0.0018", "1.5,inf", "column 'brain_weight_kg', line 3 (species 'rat'): expected a finite number > 0, "
                              "got 'inf'"),
    ("rat,0.25,", "llama,,", "column 'body_weight_kg', line 3 (species 'llama'): expected a body weight in kg (the "
                             "species is not in the species table, so it has no default), got an empty cell"),
    ("rat,0.25,", ",0.25,", "column 'species', line 3: expected a species, got an empty cell"),
])
def test_allometry_table_from_a_file_names_line_column_and_value(tmp_path, old, new, message):
    path = _write(tmp_path, "cl.csv", CL.replace(old, new, 1))
    err = _raises(f"{path}: {message}", fit_allometry, read_table(path), "mL/min")
    assert err.source == str(path) and err.line == "line 3"


def test_allometry_table_problems_of_the_table(tmp_path):
    assert fit_allometry(read_table(_write(tmp_path, "cl.csv", CL)), "mL/min").exponent > 0
    path = _write(tmp_path, "one.csv", "species,value\nrat,1.5\n")
    _raises(f"{path}: multi-species allometry needs at least two species with different body weights; the table "
            f"has 1 row(s) and 1 distinct weight(s)", fit_allometry, read_table(path), "mL/min")
    _raises(f"{path}: missing column 'clearance' (columns: species, value)", fit_allometry, read_table(path),
            "mL/min", value="clearance")
    _raises("the allometry table: column 'species', row 2: expected a species of the species table, or its body "
            "weight in a 'body_weight_kg' column, got 'llama'", fit_allometry,
            pd.DataFrame({"species": ["rat", "llama"], "value": [1.0, 2.0]}), "mL/min")
