"""The executable rule for bad input (issue 11): every command, driven with generated bad arguments and corrupted
tables, either succeeds (exit 0, nothing on stderr) or fails with exit 2 and exactly one line
``adcbridge: error: ...`` -- never a traceback -- and leaves no file behind when it fails.

A success must be a correct result or a stated one: after a corruption that changes no value (shuffled rows, a
BOM, cp1252 bytes) the numbers equal those of the clean table; after one that does (an empty, infinite, NaN,
negative or non-numeric cell, a duplicated measurement), the numbers are those of the clean table or the record
carries more issues than the clean table's (the change is said).

Hypothesis generates the corruptions (empty cells, inf, NaN, negative and non-numeric values, duplicated or
shuffled rows, a header-only table, a dropped column, a BOM, cp1252 bytes) and the bad option values (empty
list entries, NaN, inf, negative numbers, text).  The number of examples is bounded (``ADCBRIDGE_PROPERTY_EXAMPLES``,
default 12: 3 cells per command and kind of
corruption, 12 values per option); run with a larger number by hand to search harder.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adcbridge.cli import main
from tests.refdata import REFERENCE

EXAMPLES = int(os.environ.get("ADCBRIDGE_PROPERTY_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FIT = REFERENCE / "fit"
NCA = REFERENCE / "nca" / "data"


def _tables() -> dict[str, pd.DataFrame]:
    spr = pd.read_csv(FIT / "kinetics" / "spr_mck_clean.csv")
    xen = pd.read_csv(FIT / "xenograft" / "xenograft_synthetic.csv")
    cyno = pd.read_csv(NCA / "cyno_adc_sd.csv")
    return {
        "dose_response": pd.read_csv(FIT / "data" / "drc_ryegrass.csv"),
        "kinetics": spr[spr["time_s"] % 20 == 0].reset_index(drop=True),
        "internalization": pd.read_csv(FIT / "internalization" / "internalization_pct.csv")
                             [["adc", "time_h", "pct_internalized"]],
        "internalization_single": pd.read_csv(FIT / "internalization" / "internalization_pct.csv")
                                    .query("adc == 'bsADC'")[["adc", "time_h", "pct_internalized"]]
                                    .reset_index(drop=True),
        "xenograft": xen[xen["group"].isin(xen["group"].unique()[:2])].reset_index(drop=True),
        "nca": cyno[(cyno["ANALYTE"] == "ADC") & cyno["ID"].isin(["SD001", "SD002", "SD007", "SD008"])]
               [["ID", "SEX", "DOSE", "TIME", "CONC", "BLQ"]].reset_index(drop=True),
        "pk": pd.read_csv(REFERENCE / "pk" / "r_oracle_input.csv").query("ID in ['SD002', 'SD027']")
              .reset_index(drop=True),
        "history": pd.DataFrame({"patient": [f"P{k}" for k in range(1, 10)], "cohort": [1, 1, 1, 2, 2, 2, 3, 3, 3],
                                 "dose": [1, 1, 1, 2, 2, 2, 2, 2, 2], "dlt": [0, 0, 0, 0, 1, 0, 0, 0, 1],
                                 "dose_time": [0, 1, 2, 30, 31, 32, 60, 61, 62],
                                 "assess_time": [28, 29, 30, 58, 40, 60, 88, 89, 70]}),
    }


TABLES = _tables()

# command line per table: {data} is the (corrupted) table's path, {out} a fresh output folder
COMMANDS = {
    "dose_response": ["fit", "dose-response", "{data}", "--x", "conc", "--y", "rootl", "--plot", "{out}/fit.png"],
    "kinetics": ["fit", "kinetics", "{data}", "--cycle", "cycle", "--conc", "conc_M", "--time", "time_s",
                 "--response", "response_RU", "--t-on", "60", "--t-off", "360", "--conc-unit", "M"],
    "internalization": ["fit", "internalization", "{data}", "--antibody", "adc", "--time", "time_h",
                        "--value", "pct_internalized", "--compare", "bsADC,T-DXd"],
    "internalization_single": ["fit", "internalization", "{data}", "--antibody", "adc", "--time", "time_h",
                               "--value", "pct_internalized"],
    "xenograft": ["fit", "xenograft", "{data}", "--group", "group", "--animal", "mouse", "--day-column", "day",
                  "--volume", "volume_mm3", "--control", "Vehicle", "--tgi", "delta_v", "--day", "21"],
    "nca": ["nca", "{data}", "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE",
            "--route", "iv-infusion", "--duration", "0.5", "--group", "SEX", "--blq", "BLQ",
            "--out", "{out}/pp.csv", "--wide", "{out}/wide.csv"],
    "pk": ["pk", "fit", "{data}", "--model", "2cmt", "--tinf", "TINF", "--by", "ID", "--n-starts", "1"],
    "history": ["next", "--design", "tite-boin", "--target", "0.3", "--doses", "4", "--history", "{data}"],
}

CORRUPTIONS = ("empty", "inf", "-inf", "nan", "negative", "text", "duplicate", "shuffle", "header_only",
               "drop_column", "bom", "cp1252")


def _corrupt(df: pd.DataFrame, kind: str, row: int, col: int) -> bytes:
    df = df.copy()
    row, name = row % len(df), df.columns[col % len(df.columns)]
    if kind in ("empty", "inf", "-inf", "nan", "text", "negative"):
        df[name] = df[name].astype(object)
        value = df.at[row, name]
        df.at[row, name] = {"empty": "", "inf": "inf", "-inf": "-inf", "nan": "NaN", "text": "abc",
                            "negative": (-abs(value) - 1) if isinstance(value, (int, float, np.number)) else "-1"}[kind]
    elif kind == "duplicate":
        df = pd.concat([df, df.iloc[[row]]], ignore_index=True)
    elif kind == "shuffle":
        df = df.sample(frac=1.0, random_state=row).reset_index(drop=True)
    elif kind == "header_only":
        df = df.iloc[:0]
    elif kind == "drop_column":
        df = df.drop(columns=[name])
    if kind == "cp1252":                      # Windows software: an extra unit column with a micro sign
        df["UNIT"] = "µg/mL"
        return df.to_csv(index=False).encode("cp1252")
    text = df.to_csv(index=False)
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode("utf-8")


#: corruptions that change no value: a success must give the clean table's numbers
SAME_VALUES = ("shuffle", "bom", "cp1252")
#: corruptions that change values: a success must give the clean table's numbers or say more issues
CHANGED_VALUES = ("empty", "inf", "-inf", "nan", "negative", "text", "duplicate")
#: commands whose rows are replicates, so a duplicated row is more data, not a conflicting measurement
REPLICATE_ROWS = ("dose_response", "internalization", "internalization_single")
#: responses that may be below zero in real data (background- or reference-subtracted signals, a generic
#: dose-response y such as % inhibition): a negative one is a measurement, not a corruption
NEGATIVE_IS_DATA = {"dose_response": ("rootl",), "internalization": ("pct_internalized",),
                    "internalization_single": ("pct_internalized",),
                    "kinetics": ("response_RU",)}


def _numbers(obj, path: str = "") -> dict[str, float]:
    """The numeric leaves of a record (by key path), leaving out provenance and file names."""
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in ("provenance", "written", "issues", "history"):    # history: the input, echoed back
                out.update(_numbers(v, f"{path}/{k}"))
    elif isinstance(obj, list):                # rows named by their first text field: row order is not a number
        seen: dict[str, int] = {}
        for i, v in enumerate(obj):
            label = str(next((x for x in v.values() if isinstance(x, str)), i) if isinstance(v, dict) else i)
            seen[label] = seen.get(label, 0) + 1
            out.update(_numbers(v, f"{path}/{label}#{seen[label]}"))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[path] = float(obj)
    return out


def _issue_count(obj) -> int:
    """How many issues (notes) a record states, wherever they sit."""
    if isinstance(obj, dict):
        return sum(len(v) if k == "issues" and isinstance(v, list) else _issue_count(v) for k, v in obj.items())
    if isinstance(obj, list):
        return sum(_issue_count(v) for v in obj)
    return 0


def _outcome(stdout: str, out_dir: Path) -> tuple[dict[str, float], int]:
    """The numbers and the issue count of a successful ``--format json`` run (tables it wrote included)."""
    import json
    record = json.loads(stdout)
    numbers, issues = _numbers(record), _issue_count(record)
    for table in sorted(out_dir.glob("*.csv")):
        df = pd.read_csv(table)
        keys = [c for c in df.columns if df[c].dtype == object and c != "EXCLUDE_REASON"]
        for c in df.columns:
            if df[c].dtype.kind in "fi":
                for key, v in zip(df[keys].astype(str).agg("|".join, axis=1) if keys else df.index.astype(str),
                                  df[c]):
                    numbers[f"{table.name}/{key}/{c}"] = float(v)
    return numbers, issues


def _same(a: dict[str, float], b: dict[str, float], rtol: float = 1e-4) -> bool:
    if a.keys() != b.keys():
        return False
    x, y = np.array([a[k] for k in a]), np.array([b[k] for k in a])
    return bool(np.allclose(x, y, rtol=rtol, atol=1e-12, equal_nan=True))


_BASELINES: dict[str, tuple[dict[str, float], int]] = {}


def _baseline(name: str) -> tuple[dict[str, float], int]:
    """The numbers and issue count of the command on its clean table."""
    if name not in _BASELINES:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data, out = tmp / "data.csv", tmp / "out"
            out.mkdir()
            data.write_bytes(TABLES[name].to_csv(index=False).encode("utf-8"))
            code, stdout, stderr, _ = _run(_args(name, data, out))
            assert code == 0, f"{name} fails on its clean table: {stderr}"
            _BASELINES[name] = _outcome(stdout, out)
    return _BASELINES[name]


def _args(name: str, data: Path, out: Path) -> list[str]:
    return [a.replace("{data}", str(data)).replace("{out}", str(out)) for a in COMMANDS[name]] + ["--format", "json"]


def _run(args: list[str]) -> tuple[int, str, str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            code = main(args)
        except BaseException as exc:  # noqa: BLE001 - any escape is a failure of the rule
            code = f"raised {type(exc).__name__}: {exc}"
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return code, out.getvalue(), err.getvalue(), runtime


def _check(args: list[str], out_dir: Path) -> tuple[int, str]:
    code, stdout, stderr, runtime = _run(args)
    assert code in (0, 2), f"{args}: exit {code}\n{stderr}"
    assert "Traceback" not in stderr, f"{args}: traceback\n{stderr}"
    if code == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("adcbridge: error: "), f"{args}: {stderr!r}"
        left = sorted(p.name for p in out_dir.rglob("*"))
        assert not left, f"{args}: exit 2 but left {left}"
    else:
        assert stderr == "", f"{args}: exit 0 with stderr {stderr!r}"
        assert not runtime, f"{args}: numpy/scipy warnings reached the user: {runtime}"
    return code, stdout


@pytest.mark.parametrize("kind", CORRUPTIONS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_survives_corrupted_tables(name, kind):
    base = TABLES[name]

    @settings(SETTINGS, max_examples=max(1, EXAMPLES // 4))
    @given(row=st.integers(0, 10_000), col=st.integers(0, 50))
    def check(row, col):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data, out = tmp / "data.csv", tmp / "out"
            out.mkdir()
            data.write_bytes(_corrupt(base, kind, row, col))
            code, stdout = _check(_args(name, data, out), out)
            if code != 0 or kind not in SAME_VALUES + CHANGED_VALUES:
                return
            if kind == "duplicate" and name in REPLICATE_ROWS:
                return
            if kind == "negative" and base.columns[col % len(base.columns)] in NEGATIVE_IS_DATA.get(name, ()):
                return
            numbers, issues = _outcome(stdout, out)
            clean_numbers, clean_issues = _baseline(name)
            if kind in SAME_VALUES:
                assert _same(numbers, clean_numbers), f"{name}/{kind}: other numbers than the clean table's"
            else:
                assert _same(numbers, clean_numbers) or issues > clean_issues, (
                    f"{name}/{kind} (row {row}, column {col}): other numbers than the clean table's and no issue "
                    f"says why")

    check()


BAD_VALUES = st.sampled_from(["", "nan", "inf", "-inf", "-1", "0", "abc", "1,,2", "1e309", ",", "0.5,", "-0"])

# commands whose options take numbers or lists; {v} is replaced by a generated bad value
ARG_COMMANDS = [
    ["boin", "next", "--target", "{v}", "--doses", "5", "--outcomes", "1NNN 2NTN"],
    ["boin", "next", "--target", "0.3", "--doses", "{v}", "--outcomes", "1NNN"],
    ["boin", "next", "--target", "0.3", "--doses", "3", "--n", "{v}", "--dlt", "0,1,0", "--current-dose", "1"],
    ["boin", "table", "--target", "0.3", "--cohort-size", "{v}"],
    ["boin", "mtd", "--target", "0.3", "--n", "3,6,{v}", "--dlt", "0,1,2"],
    ["boin", "protocol", "--target", "0.3", "--doses", "{v}", "--out", "{out}/protocol"],
    ["simulate", "--target", "0.3", "--p-true", "0.1,{v},0.5", "--trials", "200", "--seed", "1"],
    ["simulate", "--design", "crm", "--target", "0.3", "--p-true", "0.1,0.2,0.5", "--skeleton", "{v}",
     "--trials", "100", "--seed", "1"],
    ["pk", "simulate", "--model", "2cmt", "--param", "CL={v}", "--param", "V1=40", "--param", "Q=1",
     "--param", "V2=40", "--dose", "1", "--tmax", "48"],
    ["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "V=10", "--dose", "1", "--tmax", "{v}"],
    ["pk", "project", "--param", "CL=20:mL/day/kg", "--param", "V1={v}:mL/kg", "--dose", "1,3"],
    ["fih", "--hnstd", "{v}", "--species", "cynomolgus"],
    ["translate", "allometry", "--param", "CL={v}:mL/day/kg"],
    ["translate", "ladder", "--start", "{v}", "--levels", "5"],
]


@pytest.mark.parametrize("template", ARG_COMMANDS, ids=[" ".join(t[:2]) + f"[{i}]" for i, t in
                                                          enumerate(ARG_COMMANDS)])
def test_every_command_survives_bad_option_values(template):
    @SETTINGS
    @given(value=BAD_VALUES)
    def check(value):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            _check([a.replace("{v}", value).replace("{out}", str(out)) for a in template], out)

    check()
