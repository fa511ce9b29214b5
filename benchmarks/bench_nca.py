"""Speed and memory of the NCA: the engine on the reference's 10,000 x 12 data set, and the ``adcbridge nca``
command as a user runs it (a whole process: Python start-up, reading the CSV, the NCA, writing the long CDISC PP
table) on 10,000 and 100,000 profiles of two generated data sets.

* Engine: all single-dose parameters from the in-memory table to the long CDISC table (both AUC methods), on the
  reference's benchmark data (tests/reference/data/nca/large_10000x12.csv.gz).  The reference tools' timings
  on this data set and machine kind are recorded in the project's reference notes (NonCompart 0.8.0: 30 s;
  PKNCA 0.12.1: 329 s); R is not installed here, so they are quoted as recorded, not re-run.
* Command, data set A (seed 20261125): oral one-compartment profiles, 12 nominal samples over 24 h, one analyte.
* Command, data set B (seed 20261126): 0.5 h IV infusions, two-compartment ADC (ug/mL) with a payload (ng/mL)
  named by a unit column, SEX x DOSE groups, 16 samples over 28 days at jittered actual times, BLQ flags and
  about 5 % of samples missing (ragged profiles); half the profiles per analyte.
* Each command run is a fresh process; its peak resident memory is read with ``getrusage(RUSAGE_CHILDREN)`` in
  a small wrapper process whose only child is the command.  Start-up (``adcbridge version``,
  ``adcbridge --help``) is timed the same way and subtracted for "beyond start-up".

Run:  python benchmarks/bench_nca.py [--write] [--million] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from benchkit import best_of, write_section  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from adcbridge import __version__
from adcbridge.nca import NcaOptions, run_nca

HERE = Path(__file__).parent
DATA = HERE.parent / "tests" / "reference" / "data" / "nca" / "large_10000x12.csv.gz"
NONCOMPART_S, PKNCA_S = 30.0, 329.0
SEED_A, SEED_B = 20261125, 20261126
TARGET_10K_S, TARGET_100K_S, TARGET_100K_MB = 1.0, 10.0, 1024


def load() -> pd.DataFrame:
    with gzip.open(DATA) as fh:
        d = pd.read_csv(fh)
    return d.assign(DOSE=100.0)


def run(d: pd.DataFrame, method: str):
    return run_nca(d, subject="ID", time="TIME", conc="CONC", dose="DOSE",
                   options=NcaOptions(auc_method=method, units={"dose": "mg"}))


# ---------------------------------------------------------------------------------------------- generated data

def oral_profiles(n_profiles: int, seed: int = SEED_A) -> pd.DataFrame:
    """Data set A: one-compartment first-order absorption, 100 mg, 12 nominal samples, 10 % proportional error."""
    rng = np.random.default_rng(seed)
    t = np.array([0, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24], dtype=float)
    ka = 1.2 * np.exp(rng.normal(0, 0.3, n_profiles))[:, None]
    ke = 0.15 * np.exp(rng.normal(0, 0.3, n_profiles))[:, None]
    v = 10 * np.exp(rng.normal(0, 0.2, n_profiles))[:, None]
    ka = np.where(np.isclose(ka, ke), ka * 1.01, ka)
    c = 100 * ka / (v * (ka - ke)) * (np.exp(-ke * t) - np.exp(-ka * t))
    c = c * np.exp(rng.normal(0, 0.1, c.shape))
    return pd.DataFrame({"ID": np.repeat(np.arange(1, n_profiles + 1), t.size), "TIME": np.tile(t, n_profiles),
                         "CONC": np.round(c, 5).ravel(), "DOSE": 100.0})


def infusion_study(n_profiles: int, seed: int = SEED_B) -> pd.DataFrame:
    """Data set B: ADC (ug/mL, two-compartment, 0.5 h infusion) and payload (ng/mL) per subject, SEX x DOSE,
    jittered actual times, BLQ flags below the LLOQ, about 5 % of the samples missing."""
    rng = np.random.default_rng(seed)
    n_subj = n_profiles // 2
    nominal = np.array([0, 0.5, 1, 2, 4, 8, 24, 48, 72, 96, 168, 240, 336, 408, 504, 672], dtype=float)
    m = nominal.size
    doses = np.array([0.3, 1.0, 3.0, 10.0, 30.0])
    dose = doses[np.arange(n_subj) % doses.size]
    sex = np.where(np.arange(n_subj) % 2 == 0, "M", "F")
    t = nominal * (1 + rng.uniform(-0.05, 0.05, (n_subj, m)))
    t[:, :2] = nominal[:2]                                           # pre-dose and end of infusion on time
    a = dose[:, None] * 20 * np.exp(rng.normal(0, 0.25, (n_subj, 1)))
    alpha = 0.08 * np.exp(rng.normal(0, 0.2, (n_subj, 1)))
    beta = 0.006 * np.exp(rng.normal(0, 0.25, (n_subj, 1)))
    biexp = a * (0.4 * np.exp(-alpha * (t - 0.5)) + 0.6 * np.exp(-beta * (t - 0.5)))
    adc = np.where(t < 0.5, biexp[:, [1]] * t / 0.5, biexp)
    kf = 0.02 * np.exp(rng.normal(0, 0.3, (n_subj, 1)))
    payload = (50 * dose[:, None] * (np.exp(-beta * t) - np.exp(-(beta + kf) * t))
               * np.exp(rng.normal(0, 0.3, (n_subj, 1))))
    conc = np.stack([adc, payload], axis=1) * np.exp(rng.normal(0, 0.12, (n_subj, 2, m)))   # (subject, analyte, time)
    lloq = np.array([0.05, 0.1])[None, :, None]
    blq = conc < lloq
    conc = np.where(blq, 0.0, np.round(conc, 6))
    keep = rng.uniform(size=conc.shape) > 0.05
    keep[:, :, :2] = True
    ids = np.array([f"S{i:06d}" for i in range(1, n_subj + 1)], dtype=object)
    frame = pd.DataFrame({
        "ID": np.repeat(ids, 2 * m), "SEX": np.repeat(sex, 2 * m), "DOSE": np.repeat(dose, 2 * m),
        "ROUTE": "IV infusion", "TINF": 0.5,
        "ANALYTE": np.tile(np.repeat(np.array(["ADC", "PAYLOAD"], dtype=object), m), n_subj),
        "TIME": np.round(np.repeat(t[:, None, :], 2, axis=1), 3).ravel(), "CONC": conc.ravel(),
        "CONCU": np.tile(np.repeat(np.array(["ug/mL", "ng/mL"], dtype=object), m), n_subj),
        "BLQ": blq.ravel().astype(int)})
    return frame[keep.ravel()].reset_index(drop=True)


ARGS_A = ["--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--dose-unit", "mg"]
ARGS_B = ["--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--route", "ROUTE",
          "--duration", "TINF", "--group", "SEX,DOSE", "--analyte", "ANALYTE", "--blq", "BLQ",
          "--metabolite", "PAYLOAD", "--conc-unit", "CONCU"]


# ------------------------------------------------------------------------------------------ whole-process timing

_WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "wall": wall, "cpu": use.ru_utime + use.ru_stime,
                  "rss_mb": use.ru_maxrss / 1024, "err": done.stderr[-500:]}))
"""


def adcbridge_command() -> list[str]:
    script = Path(sys.executable).parent / "adcbridge"
    return [str(script)] if script.exists() else [sys.executable, "-m", "adcbridge"]


def measure(args: list[str], command: list[str] | None = None) -> dict:
    """Wall time, CPU time and peak RSS of one ``adcbridge ARGS`` process (or of ``command + ARGS``)."""
    command = adcbridge_command() if command is None else command
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *command, *map(str, args)],
                         capture_output=True, text=True, check=True)
    m = json.loads(out.stdout)
    if m["rc"] != 0:
        raise RuntimeError(f"{' '.join(map(str, command + args))} failed: {m['err']}")
    return m


_READ_ONLY = [sys.executable, "-c", "import sys; from adcbridge.io.nca_files import read_concentrations; "
                                    "read_concentrations(sys.argv[1])"]


def best(args: list[str], repeats: int) -> dict:
    """The run with the shortest wall time of ``repeats`` (peak RSS: the largest seen)."""
    runs = [measure(args) for _ in range(repeats)]
    fastest = min(runs, key=lambda m: m["wall"])
    return {**fastest, "rss_mb": max(m["rss_mb"] for m in runs)}


def command_section(folder: Path) -> list[str]:
    version = best(["version"], 7)
    helptext = best(["--help"], 7)
    start = version["wall"]
    lines = ["Whole process, as a user runs it (`adcbridge nca DATA ... --out pp.csv`): a fresh process per run, "
             "wall and CPU time of the best of the repeats, peak resident memory (RSS) of the process.",
             "",
             f"Start-up: `adcbridge version` {version['wall']:.2f} s wall ({version['cpu']:.2f} s CPU, "
             f"{version['rss_mb']:.0f} MB); `adcbridge --help` {helptext['wall']:.2f} s.",
             "",
             "| data set | profiles | samples | output | wall (s) | beyond start-up (s) | CPU (s) | peak RSS (MB) "
             "| target |",
             "|---|---:|---:|---|---:|---:|---:|---:|---|"]
    cases = [("A: oral, 12 samples", oral_profiles, ARGS_A), ("B: IV infusion, ADC + payload", infusion_study, ARGS_B)]
    notes: list[str] = []
    for label, make, args in cases:
        for n, repeats in ((10_000, 5), (100_000, 2)):
            data = make(n)
            path = folder / f"{label[0]}_{n}.csv"
            data.to_csv(path, index=False)
            outputs = [("pp.csv", ["--out", folder / "pp.csv"])]
            if n == 100_000:
                outputs += [("pp.parquet", ["--out", folder / "pp.parquet"]),
                            ("pp.csv + --wide + --summary", ["--out", folder / "pp.csv", "--wide", folder / "w.csv",
                                                             "--summary", folder / "s.csv"])]
            for name, extra in outputs:
                m = best(["nca", path, *args, *extra], repeats if name == "pp.csv" else 1)
                if name == "pp.csv":
                    plain_rss = m["rss_mb"]
                beyond = m["wall"] - start
                if name != "pp.csv":
                    target = ""
                elif n == 10_000:
                    target = f"<= {TARGET_10K_S:g} s beyond start-up: {'met' if beyond <= TARGET_10K_S else 'NOT met'}"
                else:
                    ok = m["wall"] <= TARGET_100K_S and m["rss_mb"] <= TARGET_100K_MB
                    target = f"<= {TARGET_100K_S:g} s, <= 1 GB: {'met' if ok else 'NOT met'}"
                lines.append(f"| {label} | {n:,} | {len(data):,} | {name} | {m['wall']:.2f} | {beyond:.2f} | "
                             f"{m['cpu']:.2f} | {m['rss_mb']:.0f} | {target} |")
            if n == 100_000:
                r = measure([path], _READ_ONLY)
                lines.append(f"| {label} | {n:,} | {len(data):,} | (reading the CSV alone: `read_concentrations` "
                             f"in a fresh Python) | {r['wall']:.2f} | | {r['cpu']:.2f} | {r['rss_mb']:.0f} | |")
                if r["rss_mb"] >= 0.9 * plain_rss:
                    notes.append(f"{label[0]}, 100,000 profiles: the peak memory is set by reading the CSV "
                                 f"({r['rss_mb']:.0f} MB reading alone, {plain_rss:.0f} MB for the whole command).")
    lines += ([""] + notes) if notes else []
    lines += ["", f"Data sets generated by this script: A with seed {SEED_A}, B with seed {SEED_B} "
                  f"(see its docstring); the long table is written with pyarrow, chunk by chunk "
                  f"(10,000 profiles per chunk)."]
    return lines


def engine_section(million: bool) -> list[str]:
    d = load()
    run(d, "linear")
    lines = ["Engine: wall time from the in-memory table to the long CDISC table (all single-dose parameters), "
             "best of 5, on the reference's 10,000 x 12 data set.  NonCompart and PKNCA as recorded in the "
             "reference notes on this machine kind (R is not installed here).",
             "", "| data | AUC method | adcbridge (s) | vs NonCompart (30 s) | vs PKNCA (329 s) |",
             "|---|---|---:|---:|---:|"]
    for method in ("linear", "lin-up-log-down"):
        t = best_of(lambda: run(d, method), 5)
        lines.append(f"| 10,000 x 12 | {method} | {t:.3f} | {NONCOMPART_S / t:.0f}x | {PKNCA_S / t:.0f}x |")
    tracemalloc.start()
    run(d, "lin-up-log-down")
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    lines.append(f"\nPeak Python memory for 10,000 profiles: {peak:.0f} MiB.")
    if million:
        from adcbridge.nca.analysis import run_nca_in_chunks
        lines.append("\nChunked in-process (`run_nca_in_chunks`, 50,000 profiles per chunk; each chunk's long table "
                     "discarded after counting):")
        for copies in (10, 100):
            big = pd.concat([d.assign(ID=d["ID"] + k * 100_000) for k in range(copies)], ignore_index=True)

            def chunked():
                return sum(len(r.table) for r in run_nca_in_chunks(
                    big, subject="ID", time="TIME", conc="CONC", dose="DOSE",
                    options=NcaOptions(units={"dose": "mg"})))
            t0 = time.perf_counter()
            rows = chunked()
            t = time.perf_counter() - t0
            lines.append(f"- {copies * 10_000:,} profiles ({rows:,} rows): {t:.1f} s ({t / copies:.3f} s per "
                         f"10,000).")
    return lines


def main(million: bool, keep: Path | None = None) -> str:
    head = [f"adcbridge {__version__}, Python {platform.python_version()}, {platform.machine()}, "
            f"{time.strftime('%Y-%m-%d')}.", ""]
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        command = command_section(keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            command = command_section(Path(folder))
    return "\n".join(head + command + [""] + engine_section(million))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="write the nca section of benchmarks/RESULTS.md")
    ap.add_argument("--million", action="store_true",
                    help="also time 100,000 and 1,000,000 profiles in-process, chunked")
    ap.add_argument("--keep", type=Path, help="folder for the generated data and outputs (default: a temporary one)")
    a = ap.parse_args()
    text = main(a.million, a.keep)
    print(text)
    if a.write:
        write_section("nca", "NCA, 10,000 profiles (issue 3)\n\n`python benchmarks/bench_nca.py --write --million`",
                      text)
