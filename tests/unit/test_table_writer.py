"""The chunked table writer (pyarrow CSV and Parquet) and staged, all-or-nothing outputs."""

import numpy as np
import pandas as pd
import pytest

from adcbridge.io import staged_outputs, write_table, write_table_chunks


def _awkward(n=1000, seed=7):
    """Floats that need all 17 digits, tiny and huge values, whole-valued floats, NaN, None, text that needs
    quotes and text that does not, categories."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 5, n)
    x[::7] = np.nan
    x[1] = 5e-324
    x[2] = 1.7976931348623157e308
    x[3] = -0.0
    x[4] = 0.1 + 0.2
    x[5] = 3.0
    text = np.array(["plain", "with, comma", 'with "quote"', "line\nbreak", "", None] * (n // 6 + 1),
                    dtype=object)[:n]
    return pd.DataFrame({"ID": np.arange(n), "CODE": pd.Categorical(rng.choice(["CMAX", "AUCLST"], n)),
                         "VALUE": x, "NOTE": text})


def _texts(column):
    return [None if pd.isna(v) else v for v in column]


def test_csv_reads_back_with_the_same_values(tmp_path):
    df = _awkward()
    path = write_table_chunks(tmp_path / "t.csv", [df.iloc[:300], df.iloc[300:301], df.iloc[301:]])
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(df.columns)
    assert back["ID"].tolist() == df["ID"].tolist()
    assert back["CODE"].tolist() == df["CODE"].astype(str).tolist()
    np.testing.assert_array_equal(back["VALUE"].to_numpy(), df["VALUE"].to_numpy())   # exact, NaN where NaN
    want = [None if pd.isna(v) or v == "" else v for v in df["NOTE"]]    # empty text and None both read as missing
    assert _texts(back["NOTE"]) == want


def test_csv_quotes_only_what_needs_quotes(tmp_path):
    df = pd.DataFrame({"ID": ["A1", "A,2", "A3"], "PPTESTCD": ["CMAX", "CMAX", "TMAX"], "PPSTRESN": [1.5, 2.0, None],
                       "EXCLUDE_REASON": [None, 'said "no"', "not computable"]})
    text = write_table_chunks(tmp_path / "t.csv", [df]).read_text()
    assert text == ('ID,PPTESTCD,PPSTRESN,EXCLUDE_REASON\n'
                    'A1,CMAX,1.5,\n'
                    '"A,2","CMAX",2,"said ""no"""\n'
                    'A3,TMAX,,not computable\n')
    assert pd.read_csv(tmp_path / "t.csv")["ID"].tolist() == ["A1", "A,2", "A3"]


def test_csv_header_with_a_comma_is_quoted(tmp_path):
    text = write_table_chunks(tmp_path / "t.csv", [pd.DataFrame({"a,b": [1], "c": ["x"]})]).read_text()
    assert text == '"a,b",c\n1,x\n'


def test_parquet_round_trip(tmp_path):
    df = _awkward()
    write_table_chunks(tmp_path / "t.parquet", [df.iloc[:500], df.iloc[500:]])
    back = pd.read_parquet(tmp_path / "t.parquet")
    expected = df.assign(CODE=df["CODE"].astype(str))
    assert back["ID"].tolist() == expected["ID"].tolist()
    assert back["CODE"].tolist() == expected["CODE"].tolist()
    np.testing.assert_array_equal(back["VALUE"].to_numpy(), expected["VALUE"].to_numpy())
    assert _texts(back["NOTE"]) == _texts(df["NOTE"])


def test_parquet_chunks_with_an_all_missing_text_column(tmp_path):
    first = pd.DataFrame({"ID": [1, 2], "WHY": [None, None]})
    second = pd.DataFrame({"ID": [3], "WHY": ["no dose"]})
    back = pd.read_parquet(write_table_chunks(tmp_path / "t.parquet", [first, second]))
    assert back["ID"].tolist() == [1, 2, 3] and back["WHY"].iloc[2] == "no dose" and back["WHY"].isna().sum() == 2


def test_write_table_by_suffix(tmp_path):
    df = pd.DataFrame({"x": [1.25, None], "y": ["a", "b"]})
    pd.testing.assert_frame_equal(pd.read_parquet(write_table(tmp_path / "t.parquet", df)), df, check_dtype=False)
    assert write_table(tmp_path / "t.csv", df).read_text() == df.to_csv(index=False)      # pandas' CSV as before
    with pytest.raises(ValueError, match=r"use \.csv or \.parquet or \.json"):
        write_table(tmp_path / "t.xlsx", df)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_failure_midway_leaves_nothing(tmp_path, suffix):
    (tmp_path / "sub").mkdir()                          # a single-file writer makes no folder (it must exist)
    target = tmp_path / "sub" / f"t{suffix}"

    def chunks():
        yield pd.DataFrame({"x": [1.0, 2.0]})
        raise ValueError("bad data in chunk 2")

    with pytest.raises(ValueError, match="chunk 2"):
        write_table_chunks(target, chunks())
    assert list((tmp_path / "sub").iterdir()) == []     # no file, no temporary file


def test_a_failure_midway_keeps_the_old_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")

    def chunks():
        yield pd.DataFrame({"x": [1.0]})
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_table_chunks(target, chunks())
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_chunks_must_share_their_columns(tmp_path):
    with pytest.raises(ValueError, match="columns"):
        write_table_chunks(tmp_path / "t.csv", [pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})])
    assert not list(tmp_path.iterdir())


def test_staged_outputs_appear_together_or_not_at_all(tmp_path):
    (tmp_path / "blocked").write_text("a file, not a folder")
    with pytest.raises(OSError):
        with staged_outputs(make_folders=True) as stage:
            stage.table_chunks(tmp_path / "pp.csv", [pd.DataFrame({"x": [1]})])
            stage.text(tmp_path / "new" / "notes.txt", "hello")
            stage.bytes(tmp_path / "blocked" / "plot.png", b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked"]
    with staged_outputs(make_folders=True) as stage:
        stage.table_chunks(tmp_path / "pp.parquet", [pd.DataFrame({"x": [1]})])
        stage.text(tmp_path / "new" / "notes.txt", "hello")
        assert not (tmp_path / "pp.parquet").exists()       # not before the block ends
    assert (tmp_path / "new" / "notes.txt").read_text() == "hello" and (tmp_path / "pp.parquet").exists()
