"""read_table: every format, encoding and regional number format, its one-line errors, and the one message shape
of the column validators (file, line as the user sees it, column, value).  Fixture files are written here."""

import gzip

import numpy as np
import pandas as pd
import pytest

from adcbridge import validation
from adcbridge.io import read_table
from adcbridge.io.nca_files import read_concentrations
from adcbridge.nca.profiles import build_profiles
from adcbridge.validation import TableError

ROWS = {"ID": [1, 1, 2], "TIME": [0.0, 1.5, 0.0], "CONC": [0.0, 1.25, 2.5]}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Relative file names, so the messages read as a user sees them ('conc.csv: ...')."""
    monkeypatch.chdir(tmp_path)


def _write(name: str, text: str, encoding: str = "utf-8") -> str:
    with open(name, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
    return name


def _expected(df: pd.DataFrame, units: str = "CONC") -> None:
    assert list(df.columns) == ["ID", "TIME", units]
    assert df["ID"].tolist() == [1, 1, 2]
    np.testing.assert_array_equal(df["TIME"].to_numpy(float), ROWS["TIME"])
    np.testing.assert_array_equal(df[units].to_numpy(float), ROWS["CONC"])


# ------------------------------------------------------------------------------------------------ formats
def test_csv_carries_its_source_and_lines():
    df = read_table(_write("conc.csv", "ID,TIME,CONC\n1,0,0\n1,1.5,1.25\n2,0,2.5\n"))
    _expected(df)
    assert df.attrs["source"] == "conc.csv" and df.attrs["first_line"] == 2 and df.attrs["line_word"] == "line"
    assert [validation.row_place(df, i) for i in range(3)] == ["line 2", "line 3", "line 4"]


@pytest.mark.parametrize("name", ["conc.tsv", "conc.tab", "conc.txt", "conc.csv"])
def test_tsv_by_extension_or_detected(name):
    _expected(read_table(_write(name, "ID\tTIME\tCONC\n1\t0\t0\n1\t1.5\t1.25\n2\t0\t2.5\n")))


def test_utf8_with_byte_order_mark():
    df = read_table(_write("bom.csv", "\ufeffID,TIME,CONC\n1,0,0\n1,1.5,1.25\n2,0,2.5\n"))
    _expected(df)                                        # the BOM is not part of the first column's name


def test_utf16_with_byte_order_mark():
    _expected(read_table(_write("u16.txt", "ID\tTIME\tCONC\n1\t0\t0\n1\t1.5\t1.25\n2\t0\t2.5\n", "utf-16")))


def test_cp1252_micro_sign_from_windows_software():
    text = "ID,TIME,CONC (µg/mL)\n1,0,0\n1,1.5,1.25\n2,0,2.5\n"
    path = _write("win.csv", text, "cp1252")
    with open(path, "rb") as fh, pytest.raises(UnicodeDecodeError):
        fh.read().decode("utf-8")                        # really not UTF-8
    df = read_table(path)
    _expected(df, "CONC (µg/mL)")
    assert read_table(path, encoding="cp1252").columns[2] == "CONC (µg/mL)"


def test_semicolon_and_decimal_comma_are_detected():
    df = read_table(_write("eu.csv", "ID;TIME;CONC\n1;0;0\n1;1,5;1,25\n2;0;2,5\n"))
    _expected(df)
    assert df["CONC"].dtype.kind == "f"


def test_decimal_comma_further_down_than_the_sample_is_still_read():
    lines = "".join(f"1;{t};0\n" for t in range(3000))           # integers only in the sampled part
    df = read_table(_write("late.csv", "ID;TIME;CONC\n" + lines + "2;3000;2,5\n"))
    assert df["CONC"].iloc[-1] == 2.5 and df["CONC"].dtype.kind == "f"


def test_decimal_comma_and_separator_forced():
    path = _write("forced.txt", "ID;TIME;CONC\n1;0;0\n1;1,5;1,25\n2;0;2,5\n")
    _expected(read_table(path, decimal=","))
    _expected(read_table(path, sep=";", decimal=","))
    _expected(read_table(_write("pipe.txt", "ID|TIME|CONC\n1|0|0\n1|1.5|1.25\n2|0|2.5\n"), sep="|"))
    _expected(read_table(_write("tab.txt", "ID\tTIME\tCONC\n1\t0\t0\n1\t1.5\t1.25\n2\t0\t2.5\n"), sep="\\t"))


def test_semicolon_with_decimal_points_stays_as_is():
    df = read_table(_write("dots.csv", "ID;TIME;CONC\n1;0;0\n1;1.5;1.25\n2;0;2.5\n"))
    _expected(df)


def test_xlsx_with_two_sheets():
    with pd.ExcelWriter("book.xlsx", engine="openpyxl") as xl:
        pd.DataFrame(ROWS).to_excel(xl, sheet_name="Concentrations", index=False)
        pd.DataFrame({"ID": [1, 2], "DOSE": [3.0, 10.0]}).to_excel(xl, sheet_name="Doses", index=False)
    first = read_table("book.xlsx")
    _expected(first)
    assert first.attrs["line_word"] == "row" and validation.row_place(first, 0) == "row 2"
    assert read_table("book.xlsx", sheet="Doses")["DOSE"].tolist() == [3.0, 10.0]
    assert read_table("book.xlsx", sheet=1).columns.tolist() == ["ID", "DOSE"]
    assert read_concentrations("book.xlsx", sheet="Doses").columns.tolist() == ["ID", "DOSE"]
    with pytest.raises(ValueError, match=r"^book\.xlsx: no sheet 'Dosing' \(sheets: Concentrations, Doses\)$"):
        read_table("book.xlsx", sheet="Dosing")
    with pytest.raises(ValueError, match=r"^book\.xlsx: no sheet number 2 \(sheets, from 0: Concentrations, Doses\)$"):
        read_table("book.xlsx", sheet=2)


def test_parquet():
    pd.DataFrame(ROWS).to_parquet("conc.parquet", engine="pyarrow")
    df = read_table("conc.parquet")
    _expected(df)
    assert df.attrs["source"] == "conc.parquet" and validation.row_place(df, 0) == "row 1"


def test_gzipped_csv_and_read_concentrations_alias():
    with open("conc.csv.gz", "wb") as fh:
        fh.write(gzip.compress(b"ID,TIME,CONC\n1,0,0\n1,1.5,1.25\n2,0,2.5\n"))
    _expected(read_table("conc.csv.gz"))
    _expected(read_concentrations("conc.csv.gz"))


def test_blank_lines_and_trailing_separators_are_skipped_but_counted():
    df = read_table(_write("gaps.csv", "\nID;TIME;CONC;\n1;0;0;\n\n;;;\n1;1,5;1,25;\n2;0;2,5;\n\n"))
    _expected(df)
    assert [validation.row_place(df, i) for i in range(3)] == ["line 3", "line 6", "line 7"]
    later = df[df["ID"] == 2]                         # filtered rows keep their lines
    assert validation.row_place(later, 0) == "line 7"


def test_header_names_are_stripped():
    df = read_table(_write("spaces.csv", " ID , TIME,CONC \n1,0,0\n1,1.5,1.25\n2,0,2.5\n"))
    _expected(df)


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make,message", [
    (lambda: "nope.csv", r"^nope\.csv: no such file$"),
    (lambda: ".", r"^\.: is a folder, not a file$"),
    (lambda: _write("empty.csv", ""), r"^empty\.csv: the file is empty$"),
    (lambda: _write("blank.csv", "\n  \n\n"), r"^blank\.csv: the file is empty$"),
    (lambda: _write("nohead.csv", "1,0,0\n1,1.5,1.25\n"),
     r"^nohead\.csv: no header line: line 1 holds numbers \(1, 0, 0\), not column names$"),
    (lambda: _write("ragged.csv", "ID,TIME,CONC\n1,0,0\n1,1.5,1.25\n2,0,2.5,7\n"),
     r"^ragged\.csv: line 4 has 4 fields, the header \(line 1\) has 3$"),
    (lambda: _write("ragged2.csv", "ID,TIME\n1,0,5\n2,0\n"),
     r"^ragged2\.csv: line 2 has 3 fields, the header \(line 1\) has 2$"),
    (lambda: _write("twice.csv", "ID,TIME,ID\n1,0,0\n"),
     r"^twice\.csv: column 'ID' appears more than once in the header$"),
    (lambda: _write("junk.xlsx", "not a workbook"), r"^junk\.xlsx: not a readable Excel workbook \(.+\)$"),
    (lambda: _write("junk.parquet", "not parquet"), r"^junk\.parquet: not a readable Parquet file \(.+\)$"),
])
def test_errors_are_one_line_naming_the_file(make, message):
    with pytest.raises(ValueError, match=message) as err:
        read_table(make())
    assert "\n" not in str(err.value)


def test_encoding_and_decimal_errors():
    path = _write("win.csv", "ID,CONC (µg/mL)\n1,2\n", "cp1252")
    with pytest.raises(ValueError, match=r"^win\.csv: not readable as utf-8 \(byte 0xb5 on line 1\); give the file's "
                                         r"encoding$"):
        read_table(path, encoding="utf-8")
    with pytest.raises(ValueError, match=r"^win\.csv: unknown encoding 'klingon'$"):
        read_table(path, encoding="klingon")
    comma = _write("comma.csv", "ID,CONC\n1,2\n")
    with pytest.raises(ValueError, match=r"^comma\.csv: decimal=',' needs a separator other than ','"):
        read_table(comma, decimal=",", sep=",")
    with pytest.raises(ValueError, match=r"^comma\.csv: decimal must be '\.' or ','; got ';'$"):
        read_table(comma, decimal=";")


def test_empty_excel_sheet():
    with pd.ExcelWriter("empty.xlsx", engine="openpyxl") as xl:
        pd.DataFrame().to_excel(xl, sheet_name="Nothing", index=False)
    with pytest.raises(ValueError, match=r"^empty\.xlsx: sheet 'Nothing' is empty$"):
        read_table("empty.xlsx")


# ------------------------------------------------------------------------------- the validators' message shape
BAD = "ID,TM,CONC\n" + "".join(f"1,{t},{c}\n" for t, c in enumerate([0, 5, 4, 3, 2.5, 2, 1.5, 1.2, 1, 0.9, 0.8,
                                                                      0.7, -3.1, 0.5]))


def test_the_message_names_file_line_column_and_value():
    df = read_table(_write("conc.csv", BAD))
    with pytest.raises(TableError) as err:
        validation.numeric_column(df, "CONC", min=0)
    assert str(err.value) == "conc.csv: column 'CONC', line 14: expected a number >= 0, got '-3.1'"
    assert (err.value.source, err.value.column, err.value.line, err.value.value) == \
        ("conc.csv", "CONC", "line 14", "'-3.1'")
    with pytest.raises(TableError, match=r"^conc\.csv: missing column 'TIME' \(columns: ID, TM, CONC\)$"):
        validation.require_columns(df, ["ID", "TIME", "CONC"])
    with pytest.raises(TableError, match=r"^conc\.csv: missing columns 'TIME', 'DOSE' \(columns: ID, TM, CONC\)$"):
        validation.require_columns(df, ["TIME", "DOSE"])


def test_infinite_values_are_rejected_and_named_not_dropped():
    df = read_table(_write("inf.csv", "ID,TIME,CONC\n1,0,0\n1,1,inf\n1,2,4\n"))
    assert np.isinf(df["CONC"].iloc[1])
    with pytest.raises(TableError, match=r"^inf\.csv: column 'CONC', line 3: expected a finite number, got 'inf'$"):
        validation.numeric_column(df, "CONC")
    assert np.isinf(validation.numeric_column(df, "CONC", finite=False)[1])


def test_text_missing_and_bounds_in_the_one_shape():
    df = read_table(_write("t.csv", "ID;TIME;CONC\nA;0;1,5\nA;1;\nB;x;2\n"))
    with pytest.raises(TableError, match=r"^t\.csv: column 'TIME', line 4 \(ID 'B'\): expected a number, got 'x'$"):
        validation.numeric_column(df, "TIME", key="ID")
    with pytest.raises(TableError, match=r"^t\.csv: column 'CONC', line 3: expected a number > 0, got an empty cell$"):
        validation.numeric_column(df, "CONC", above=0)
    values = validation.numeric_column(df, "CONC", allow_missing=True, max=2)
    assert np.isnan(values[1]) and values[0] == 1.5
    with pytest.raises(TableError, match=r"line 4: expected a number <= 1\.5, got '2'$"):
        validation.numeric_column(df, "CONC", allow_missing=True, max=1.5)


def test_excel_rows_and_tables_built_in_python():
    with pd.ExcelWriter("book.xlsx", engine="openpyxl") as xl:
        pd.DataFrame({"ID": [1, 2, 3], "CONC": [1.0, -2.0, 3.0]}).to_excel(xl, sheet_name="Data", index=False)
    with pytest.raises(TableError, match=r"^book\.xlsx: column 'CONC', row 3: expected a number >= 0, got '-2'$"):
        validation.numeric_column(read_table("book.xlsx"), "CONC", min=0)
    frame = pd.DataFrame({"ID": [1, 2, 3], "CONC": [1.0, -2.0, 3.0]})
    with pytest.raises(TableError, match=r"^column 'CONC', row 2: expected a number >= 0, got '-2'$"):
        validation.numeric_column(frame, "CONC", min=0)
    with pytest.raises(TableError, match=r"^the dosing table: column 'CONC', row 2: expected"):
        validation.numeric_column(frame, "CONC", min=0, table="the dosing table")
    with pytest.raises(TableError, match=r"^doses\.csv: column 'CONC', row 2: expected"):
        validation.numeric_column(frame, "CONC", min=0, source="doses.csv")


def test_labels_order_and_one_value_per_group():
    df = read_table(_write("p.csv", "ID,TIME,DOSE\n1,0,3\n1,1,3\n,2,3\n2,0,5\n2,0,5\n2,1,6\n"))
    with pytest.raises(TableError, match=r"^p\.csv: column 'ID', line 4: expected a subject, got an empty cell$"):
        validation.label_column(df, "ID", what="a subject")
    ok = df.dropna(subset=["ID"])
    with pytest.raises(TableError, match=r"^p\.csv: column 'TIME', line 6 \(ID 2\): expected more than 0 \(the value "
                                         r"on line 5\), got '0'$"):
        validation.sorted_within(ok, "ID", "TIME")
    validation.sorted_within(ok, "ID", "TIME", strict=False)
    with pytest.raises(TableError, match=r"^p\.csv: column 'DOSE', line 7 \(ID 2\): expected '5' as on line 5 "
                                         r"\(one dose per subject\), got '6'$"):
        validation.constant_within(ok, "ID", "DOSE", what="one dose per subject")


def test_a_science_validator_names_the_file_and_line():
    path = _write("nca.csv", "ID,TIME,CONC\n1,0,0\n\n1,1,5\n1,1,4\n")
    with pytest.raises(TableError, match=r"^nca\.csv: column 'TIME', line 5 \(ID 1\): expected more than 1 \(the value "
                                         r"on line 4\), got '1'$"):
        build_profiles(read_table(path), subject="ID", time="TIME", conc="CONC")
    eu = _write("eu.csv", "ID;TIME;CONC\n1;0;0\n1;1;-0,5\n")
    with pytest.raises(TableError, match=r"^eu\.csv: column 'CONC', line 3 \(ID 1\): expected a number >= 0, "
                                         r"got '-0\.5'$"):
        build_profiles(read_table(eu), subject="ID", time="TIME", conc="CONC")
