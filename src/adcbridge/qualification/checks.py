"""The qualification checks: adcbridge re-run on the reference cases bundled in ``reference/`` and compared with
the reference tools' outputs at the tolerances of the project's reference tests (``tests/reference/``).

One function per area (``check_boin_boundaries``, ``check_crm``, ...) returns a list of :class:`CheckResult`;
:data:`AREAS` lists them in report order and :func:`run_checks` runs them all.  Nothing here writes a file or
prints; a check that raises is recorded as failed with its error, and the other checks still run.

A check compares one reference case (a ``get.boundary`` call, a WinNonlin scenario, a drc fit...) through a
:class:`Comparison`, which records every compared value and keeps the worst one: the deviation largest relative to
what its tolerance allows.  The check passes when every compared value is within its tolerance.  The provenance of
every bundled file is in ``reference/SOURCES.md``; the tolerances are explained in ``docs/validate.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["AREAS", "Area", "CheckResult", "Comparison", "PUBLISHED", "QualificationRun", "reference_files",
           "run_checks"] + [f"check_{a}" for a in (
               "installation", "boin_boundaries", "boin_select_mtd", "boin_operating_characteristics", "crm",
               "three_plus_three", "dose_response", "nca", "spr_kinetics", "internalization", "xenograft",
               "translation")]


# ------------------------------------------------------------------------------------------------ results
@dataclass
class CheckResult:
    """The outcome of one check.  ``observed``/``expected`` are the worst compared pair (``quantity`` names it),
    ``deviation`` its absolute and ``relative_deviation`` its relative difference, ``allowed`` the tolerance of that
    quantity, ``ratio`` the deviation over what the tolerance allows (a check passes when every ratio is <= 1);
    ``compared`` counts the values compared.  ``error`` holds the exception of a check that could not run."""

    id: str
    area: str
    what: str
    source: str
    case: str
    reference_file: str
    tolerance: str
    passed: bool
    compared: int = 0
    quantity: str | None = None
    observed: Any = None
    expected: Any = None
    deviation: float | None = None
    relative_deviation: float | None = None
    allowed: str | None = None
    ratio: float | None = None
    failed_quantities: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_record(self) -> dict:
        return {k: _plain(v) for k, v in self.__dict__.items()}


def _plain(v):
    """A JSON-safe value: numpy scalars to Python, non-finite floats to None (strict JSON), sequences recursively."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def _g(x: float, digits: int = 6) -> str:
    """``1e-09`` as ``1e-9``."""
    import re
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{x:.{digits}g}").replace("e+", "e")


def _tol_text(rtol: float, atol: float) -> str:
    if rtol and atol:
        return f"|diff| <= max(rel {_g(rtol)}, abs {_g(atol, 3)})"
    if rtol:
        return f"rel {_g(rtol)}"
    if atol:
        return f"abs {_g(atol, 3)}"
    return "exact"


class Comparison:
    """Accumulates compared values and keeps the worst (largest deviation / allowed deviation)."""

    def __init__(self) -> None:
        self.n = 0
        self.failed: list[str] = []
        self._worst: dict | None = None
        self._score = -1.0

    # -- bookkeeping
    def _record(self, quantity: str, observed, expected, deviation, rel, allowed: str, score: float) -> None:
        if score > 1 and quantity not in self.failed:
            self.failed.append(quantity)
        if score > self._score:
            self._score = score
            self._worst = dict(quantity=quantity, observed=observed, expected=expected, deviation=deviation,
                               relative_deviation=rel, allowed=allowed, ratio=score)

    @property
    def passed(self) -> bool:
        return self.n > 0 and not self.failed

    @property
    def worst(self) -> dict:
        return self._worst or {}

    # -- comparisons
    def close(self, quantity: str, observed, expected, rtol: float = 0.0, atol=0.0, allowed: str | None = None
              ) -> None:
        """Elementwise ``|observed - expected| <= max(rtol |expected|, atol)``; a missing value (NaN/None) must be
        missing in both.  ``atol`` may be an array (one per value; then say what it is in ``allowed``)."""
        o = np.atleast_1d(np.asarray(_floats(observed), dtype=float))
        e = np.atleast_1d(np.asarray(_floats(expected), dtype=float))
        allowed = allowed or _tol_text(rtol, atol)
        if o.shape != e.shape:
            self.n += 1
            self._record(quantity, f"{o.size} values", f"{e.size} values", None, None, allowed, math.inf)
            return
        self.n += o.size
        if o.size == 0:
            return
        o_nan, e_nan = np.isnan(o), np.isnan(e)
        diff = np.abs(o - e)
        limit = np.maximum(rtol * np.abs(e), atol)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(limit > 0, diff / limit, np.where(diff == 0, 0.0, np.inf))
        score = np.where(o_nan & e_nan, 0.0, np.where(o_nan | e_nan, np.inf, score))
        i = int(np.argmax(score))
        name = quantity if o.size == 1 else f"{quantity}[{i}]"
        d = None if (o_nan[i] or e_nan[i]) else float(diff[i])
        rel = d / abs(e[i]) if d is not None and e[i] != 0 else None
        bad = np.flatnonzero(score > 1)
        if bad.size:
            self.failed.append(name if bad.size == 1 else f"{quantity} ({bad.size} values)")
        if float(score[i]) > self._score:
            self._score = float(score[i])
            self._worst = dict(quantity=name, observed=float(o[i]), expected=float(e[i]), deviation=d,
                               relative_deviation=rel, allowed=allowed, ratio=float(score[i]))

    def equal(self, quantity: str, observed, expected) -> None:
        """Exact equality (integers, labels, lists of them; None is missing)."""
        self.n += 1
        ok = _norm(observed) == _norm(expected)
        obs, exp = _norm(observed), _norm(expected)
        if not ok and isinstance(obs, list) and isinstance(exp, list) and len(obs) == len(exp):
            i = next(j for j, (a, b) in enumerate(zip(obs, exp)) if a != b)
            quantity, obs, exp = f"{quantity}[{i}]", obs[i], exp[i]
        self._record(quantity, _short(obs), _short(exp), None, None, "exact", 0.0 if ok else math.inf)

    def at_most(self, quantity: str, observed: float, bound: float, allowed: str) -> None:
        """One-sided: ``observed <= bound`` (e.g. our residual sum of squares is not above the reference's)."""
        self.n += 1
        ok = bool(observed <= bound)
        d = max(0.0, float(observed) - float(bound))
        self._record(quantity, float(observed), float(bound), d, d / abs(bound) if bound else None, allowed,
                     0.0 if ok else math.inf)

    def within_z(self, quantity: str, observed, expected, se, limit: float = 4.0) -> None:
        """Monte Carlo against an exact value: ``|observed - expected| / se < limit`` elementwise."""
        o = np.atleast_1d(np.asarray(observed, dtype=float))
        e = np.atleast_1d(np.asarray(expected, dtype=float))
        s = np.atleast_1d(np.asarray(se, dtype=float))
        z = np.abs(o - e) / s
        self.n += o.size
        i = int(np.argmax(z))
        name = quantity if o.size == 1 else f"{quantity}[{i}]"
        d = float(abs(o[i] - e[i]))
        self._record(name, float(o[i]), float(e[i]), d, d / abs(e[i]) if e[i] else None, f"|z| < {limit:g}",
                     float(z[i]) / limit)

    def true(self, quantity: str, condition: bool, observed="", expected="") -> None:
        """A stated property (e.g. 'an error is raised'); observed/expected are descriptions."""
        self.n += 1
        self._record(quantity, observed, expected, None, None, "exact", 0.0 if condition else math.inf)


def _floats(v):
    """Numbers as floats; None and R's "NA" (as stored in JSON) are missing."""
    if isinstance(v, (list, tuple)):
        return [_floats(x) for x in v]
    if hasattr(v, "to_numpy"):
        return v.to_numpy(dtype=float, na_value=np.nan)
    return math.nan if v is None or (isinstance(v, str) and v == "NA") else v


def _norm(v):
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _short(v, limit: int = 120):
    if isinstance(v, (list, dict)):
        text = json.dumps(v, default=str)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    return v


# ------------------------------------------------------------------------------------------- reference data
def _ref(path: str):
    return resources.files(__package__).joinpath("reference", *path.split("/"))


def reference_bytes(path: str) -> bytes:
    """The bytes of a bundled reference file (``path`` relative to ``reference/``), decompressed if ``.gz``."""
    raw = _ref(path).read_bytes()
    return gzip.decompress(raw) if path.endswith(".gz") else raw


def reference_json(path: str):
    return json.loads(reference_bytes(path))


def reference_csv(path: str):
    import pandas as pd
    return pd.read_csv(io.BytesIO(reference_bytes(path)))


def reference_files() -> list[dict]:
    """Every bundled reference file with its size and SHA-256 (as installed)."""
    root = _ref("")
    out = []

    def walk(node, prefix):
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            elif not child.name.endswith((".md", "MANIFEST.json")):      # the data, not their documentation
                data = child.read_bytes()
                out.append({"file": rel, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    walk(root, "")
    return out


class _Case:
    """Builds the CheckResults of one area."""

    def __init__(self, area: str) -> None:
        self.area = area
        self.results: list[CheckResult] = []

    def run(self, check_id: str, what: str, source: str, case: str, reference_file: str, tolerance: str,
            body: Callable[[Comparison], None]) -> CheckResult:
        cmp = Comparison()
        start = time.perf_counter()
        error = None
        try:
            body(cmp)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed check; the other checks still run
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        w = cmp.worst
        result = CheckResult(
            id=f"{self.area}.{check_id}", area=self.area, what=what, source=source, case=case,
            reference_file=reference_file, tolerance=tolerance, passed=cmp.passed and error is None,
            compared=cmp.n, quantity=w.get("quantity"), observed=w.get("observed"), expected=w.get("expected"),
            deviation=w.get("deviation"), relative_deviation=w.get("relative_deviation"), allowed=w.get("allowed"),
            ratio=w.get("ratio"), failed_quantities=list(cmp.failed), error=error,
            seconds=round(time.perf_counter() - start, 4))
        if error is None and cmp.n == 0:
            result.error = "nothing was compared"
        self.results.append(result)
        return result


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.abs(b)


# ---------------------------------------------------------------------------------------- installation
def check_installation() -> list[CheckResult]:
    """The bundled reference data are intact (SHA-256 as recorded in ``reference/MANIFEST.json``) and the
    science packages import."""
    c = _Case("installation")
    manifest = {e["file"]: e for e in reference_json("MANIFEST.json")["files"]}

    def files(cmp: Comparison) -> None:
        found = {e["file"]: e for e in reference_files()}
        cmp.equal("number of files", len(found), len(manifest))
        for name, entry in manifest.items():
            got = found.get(name)
            cmp.equal(f"sha256 {name}", got["sha256"] if got else "missing", entry["sha256"])
        cmp.equal("files not in the manifest", sorted(set(found) - set(manifest)), [])

    c.run("reference_data", "the bundled reference files are all present and unchanged (SHA-256)",
          "reference/MANIFEST.json written when the files were bundled", "every file under reference/",
          "MANIFEST.json", "exact", files)

    def imports(cmp: Comparison) -> None:
        import importlib
        for module in ("adcbridge.dosefinding", "adcbridge.nca", "adcbridge.assays.dose_response",
                       "adcbridge.assays.kinetics", "adcbridge.assays.internalization", "adcbridge.assays.xenograft",
                       "adcbridge.translation"):
            try:
                importlib.import_module(module)
                cmp.true(f"import {module}", True, "imported", "imported")
            except Exception as exc:        # noqa: BLE001 - recorded
                cmp.true(f"import {module}", False, f"{type(exc).__name__}: {exc}", "imported")

    c.run("imports", "the science packages import", "the installed adcbridge package", "import of each package",
          "", "exact", imports)
    return c.results


# ------------------------------------------------------------------------------------------------ BOIN
BOIN_ARGS = {
    "target": "target", "ncohort": "n_cohorts", "cohortsize": "cohort_size", "n.earlystop": "n_earlystop",
    "p.saf": "p_saf", "p.tox": "p_tox", "cutoff.eli": "cutoff_eli", "extrasafe": "extrasafe", "offset": "offset",
    "startdose": "start_dose", "titration": "titration", "boundMTD": "bound_mtd",
}


def _boin_design(args: dict, n_doses: int):
    """adcbridge's BoinDesign for the arguments of a recorded BOIN 2.7.2 call (R names)."""
    from adcbridge.dosefinding import BoinDesign
    return BoinDesign(n_doses=n_doses, **{BOIN_ARGS[k]: v for k, v in args.items() if k in BOIN_ARGS})


def _meta_source(meta: dict, tool: str, function: str) -> str:
    r = meta.get("R_version", "R").replace("R version ", "R ").split(" (")[0]
    return f"{tool} {function} on {r} (project reference set, generated {meta.get('generated', '?')[:10]})"


def _r_call(function: str, args: dict) -> str:
    """A recorded call written as R would: ``get.oc(target=0.3, p.true=c(0.1, 0.2), extrasafe=TRUE)``."""
    def value(v):
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (list, tuple)):
            return "c(" + ", ".join(value(x) for x in v) + ")"
        return f"{v:g}" if isinstance(v, float) else str(v)
    return f"{function}(" + ", ".join(f"{k}={value(v)}" for k, v in args.items()) + ")"


def _ints(values) -> list:
    import pandas as pd
    return [None if pd.isna(v) else int(v) for v in values]


def check_boin_boundaries() -> list[CheckResult]:
    """Every ``BOIN::get.boundary()`` case: lambda_e and lambda_d (relative 1e-12), the full and per-cohort
    decision tables (escalate / de-escalate / eliminate / stop counts, exact), warnings, and argument errors."""
    from adcbridge.dosefinding import decision_table
    ref = reference_json("boin/get_boundary.json")
    source = _meta_source(ref["meta"], f"R BOIN {ref['meta']['BOIN_version']}", "get.boundary()")
    c = _Case("boin_boundaries")
    for case in ref["cases"]:
        args = case["args"]

        def body(cmp: Comparison, case=case, args=args) -> None:
            if case["error"] and "stopneed" in case["error"]:
                # the reference crashes when no stopping count exists at n = 3 (target 0.6 with extrasafe);
                # adcbridge deliberately returns missing stopping counts there
                stop = decision_table(_boin_design(args, 5)).table.set_index("n")["stop_trial_if_dlt_ge"]
                cmp.equal("stop count at n = 1..3 (missing: no count exists)", _ints(stop.loc[[1, 2, 3]]),
                          [None, None, None])
                cmp.equal("stop count at n = 4", int(stop.loc[4]), 4)
                return
            if case["error"]:
                try:
                    _boin_design(args, 5)
                except ValueError as exc:
                    cmp.true("argument error", "parameter of boin" in str(exc), f"ValueError: {exc}",
                             f"an error (R: {case['error'].strip()})")
                else:
                    cmp.true("argument error", False, "no error", f"an error (R: {case['error'].strip()})")
                return
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = decision_table(_boin_design(args, 5))
            cmp.equal("warning given", bool(caught), bool(case["warnings"]))
            r = case["result"]
            cmp.close("lambda_e", result.lambda_e, r["lambda_e"], rtol=1e-12)
            cmp.close("lambda_d", result.lambda_d, r["lambda_d"], rtol=1e-12)
            full = r["full_boundary_tab"] or r["boundary_tab"]
            t = result.table
            cmp.equal("n", t["n"].tolist(), full["n"])
            cmp.equal("escalate if DLT <=", _ints(t["escalate_if_dlt_le"]), full["escalate_if_ntox_le"])
            cmp.equal("de-escalate if DLT >=", _ints(t["deescalate_if_dlt_ge"]), full["deescalate_if_ntox_ge"])
            cmp.equal("eliminate if DLT >=", _ints(t["eliminate_if_dlt_ge"]), full["eliminate_if_ntox_ge"])
            cohort = result.cohort_table()
            cmp.equal("cohort table n", cohort["n"].tolist(), r["boundary_tab"]["n"])
            cmp.equal("cohort table de-escalate if DLT >=", _ints(cohort["deescalate_if_dlt_ge"]),
                      r["boundary_tab"]["deescalate_if_ntox_ge"])
            if "stop_boundary" in r:
                cmp.equal("stop trial if DLT >=", _ints(t["stop_trial_if_dlt_ge"]),
                          r["stop_boundary"]["stop_if_ntox_ge"])

        what = ("argument error as in the reference" if case["error"] and "stopneed" not in case["error"] else
                "stopping counts where the reference fails (documented choice)" if case["error"] else
                "boundaries lambda_e, lambda_d and the decision tables")
        c.run(case["id"], what, source, case["call"], "boin/get_boundary.json",
              "lambda: rel 1e-12; decision counts: exact", body)
    return c.results


def check_boin_select_mtd() -> list[CheckResult]:
    """Every ``BOIN::select.mtd()`` case: the MTD, eliminated and admissible doses (exact), the isotonic estimates,
    credible intervals and overdosing probabilities (relative 1e-9)."""
    from adcbridge.dosefinding import select_mtd
    ref = reference_json("boin/select_mtd.json.gz")
    source = _meta_source(ref["meta"], f"R BOIN {ref['meta']['BOIN_version']}", "select.mtd()")
    c = _Case("boin_select_mtd")
    tol = 1e-9
    for case in ref["cases"]:
        def body(cmp: Comparison, case=case) -> None:
            a = case["args"]
            r = select_mtd(_boin_design(a, len(a["npts"])), a["npts"], a["ntox"])
            cmp.equal("MTD (99 = none)", r.mtd if r.mtd is not None else 99, case["MTD"])
            it = case["internals"]
            cmp.equal("eliminated doses", r.table["eliminated"].astype(int).tolist(), it["elimi"])
            if it["adm_index"] is not None:
                cmp.equal("admissible doses", r.table.loc[r.table["admissible"], "dose"].tolist(), it["adm_index"])
            if it["phat_adm_final"] is not None:
                ours = np.array(r.admissible_estimates)
                theirs = np.array(it["phat_adm_final"])
                if a.get("boundMTD") and case["MTD"] != 99:      # the reference keeps only estimates <= lambda_d
                    ours = ours[: theirs.size]
                cmp.close("isotonic estimates of admissible doses", ours, theirs, rtol=tol)
            treated = r.table[r.table["n"] > 0]
            for col, key in [("p_hat", "phat_all_treated"), ("ci_low", "lowerCIs_treated"),
                             ("ci_high", "upperCIs_treated"), ("p_overdose", "poverdose_treated")]:
                cmp.close(col, treated[col].to_numpy(), it[key], rtol=tol)

        c.run(case["id"], "selected MTD and its estimates", source, case["call"], "boin/select_mtd.json.gz",
              "MTD, doses: exact; estimates, CIs, P(overdose): rel 1e-9", body)
    return c.results


#: exact cases whose Monte Carlo simulation is also compared (100,000 trials each, |z| < 4)
MONTE_CARLO_CASES = ("A1", "B3", "F5_titration", "F13_extrasafe_earlystop_titration")


def check_boin_operating_characteristics() -> list[CheckResult]:
    """The exact (enumerated) operating characteristics of BOIN 2.7.2's get.oc algorithm: selection %, no-MTD %,
    patients and DLTs per dose, totals, overdosing % (relative 1e-9); and the Monte Carlo simulator on a few of
    them (100,000 trials, |z| < 4)."""
    from adcbridge.dosefinding import exact_oc, simulate
    ref = reference_json("boin/get_oc_exact.json")
    source = (f"exact enumeration of R BOIN {ref['meta']['BOIN_version']} get.oc()'s trial algorithm (reference "
              f"script exact_oc.R, final MTD by the unmodified select.mtd) on R 4.2.2, generated "
              f"{ref['meta']['generated'][:10]}")
    c = _Case("boin_oc")
    for case in ref["cases"]:
        args = case["args"]
        call = _r_call("get.oc", args) + ", enumerated exactly"

        def body(cmp: Comparison, case=case, args=args) -> None:
            oc = exact_oc(_boin_design(args, len(args["p.true"])), args["p.true"])
            e = case["exact"]
            ours = {"selpercent": oc.selection_pct, "npatients": oc.patients_mean, "ntox": oc.dlt_mean,
                    "totaln": oc.n_mean, "totaltox": oc.dlt_total_mean, "percentstop": oc.no_mtd_pct,
                    "overdose60": oc.overdose60_pct, "overdose80": oc.overdose80_pct}
            for key, value in ours.items():
                if key.startswith("overdose") and e.get(key) is None:
                    continue
                cmp.close(key, value, e[key], rtol=1e-9)

        c.run(f"exact.{case['id']}", "exact operating characteristics", source, call, "boin/get_oc_exact.json",
              "rel 1e-9", body)
    by_id = {case["id"]: case for case in ref["cases"]}
    for case_id in MONTE_CARLO_CASES:
        case = by_id[case_id]
        args = case["args"]
        call = _r_call("get.oc", args) + ", enumerated exactly"

        def body(cmp: Comparison, case=case, args=args) -> None:
            T = 100_000
            oc = simulate(_boin_design(args, len(args["p.true"])), args["p.true"], n_trials=T, seed=20261125)
            e = case["exact"]
            floor = args["ncohort"] * args["cohortsize"] / T        # SE floor when no trial saw an event
            for name, ours, exact, se in [
                    ("selpercent", oc.selection_pct, e["selpercent"], None),
                    ("npatients", oc.patients_mean, e["npatients"], oc.se["patients_mean"]),
                    ("ntox", oc.dlt_mean, e["ntox"], oc.se["dlt_mean"]),
                    ("totaln", [oc.n_mean], [e["totaln"]], [oc.se["n_mean"]]),
                    ("percentstop", [oc.no_mtd_pct], [e["percentstop"]], None)]:
                exact = np.asarray(exact, dtype=float)
                if se is None:          # percentages: binomial SE at the exact probability (>= one event in T)
                    p = np.maximum(exact / 100, 1 / T)
                    se = 100 * np.sqrt(p * (1 - p) / T)
                cmp.within_z(name, ours, exact, np.maximum(np.asarray(se, dtype=float), floor))

        c.run(f"monte_carlo.{case_id}", "Monte Carlo simulator (100,000 trials, seed 20261125) against the exact "
              "values", source, call, "boin/get_oc_exact.json", "|z| < 4 (Monte Carlo standard errors)", body)
    return c.results


# ------------------------------------------------------------------------------------------------- CRM
def check_crm() -> list[CheckResult]:
    """dfcrm 0.2-2.1: ``getprior`` skeletons (relative 1e-9) and ``crm(method = "bayes")`` posterior mean and
    variance (1e-7), plug-in probabilities (1e-6) and recommended dose; the published escalation example."""
    from adcbridge.dosefinding import crm, indifference_skeleton, next_dose
    from adcbridge.dosefinding.crm import CrmModel
    from adcbridge.dosefinding.outcomes import DoseCounts, parse_outcomes
    ref = reference_json("crm/dfcrm_cases.json")
    source = "R dfcrm 0.2-2.1 on R 4.2.2 (2026-11-25), cross-checked by adaptive quadrature"
    c = _Case("crm")
    for i, case in enumerate(ref["getprior"], 1):
        def body(cmp: Comparison, case=case) -> None:
            s = indifference_skeleton(case["target"], case["halfwidth"], case["nu"], case["nlevel"], case["model"])
            cmp.close("skeleton", s, case["skeleton"], rtol=1e-9)

        c.run(f"getprior.{i:02d}", f"indifference-interval skeleton ({case['model']})", source, case["call"],
              "crm/dfcrm_cases.json", "rel 1e-9", body)

    def counts(case):
        K = len(case["skeleton"])
        if "outcomes" in case:
            return DoseCounts.from_cohorts(parse_outcomes(case["outcomes"], K, check_skipping=False), K).arrays()
        n, y = np.zeros(K, int), np.zeros(K, int)
        for lev, t in zip(case["level"], case["tox"]):
            n[lev - 1] += 1
            y[lev - 1] += t
        return n, y

    for case in ref["crm"]:
        def body(cmp: Comparison, case=case) -> None:
            model = CrmModel(case["skeleton"], case["model"], case["intercept"], case["prior_var"] ** 0.5,
                             case["target"])
            n, y = counts(case)
            post = model.posterior(n, y)
            cmp.close("posterior mean of beta", post.mean[0], case["estimate"], rtol=1e-7)
            cmp.close("posterior variance of beta", post.var[0], case["post_var"], rtol=1e-7)
            cmp.close("plug-in DLT probabilities", post.p_hat[0], case["ptox"], rtol=1e-6)
            cmp.equal("recommended dose", int(np.abs(post.p_hat[0] - case["target"]).argmin()) + 1, case["mtd"])

        data = case.get("outcomes") or f"levels {case['level']}, DLTs {case['tox']}"
        c.run(f"posterior.{case['id']}", f"posterior ({case['model']} model)", source,
              f"crm(prior = {case['skeleton']}, target = {case['target']}, {data}, method = 'bayes')",
              "crm/dfcrm_cases.json", "mean, variance: rel 1e-7; probabilities: rel 1e-6; dose: exact", body)

    def published(cmp: Comparison) -> None:
        design = crm(0.25, 5, skeleton=[0.05, 0.1, 0.25, 0.4, 0.6])
        cmp.equal("recommended dose", next_dose(design, "1NNN 2NTN").next_dose, PUBLISHED["crm_escalation_docs"])

    c.run("published.escalation_get_dfcrm", "recommended next dose of a published example",
          "R package escalation, get_dfcrm() documentation (recommended dose 2)",
          "skeleton (0.05, 0.1, 0.25, 0.4, 0.6), target 0.25, outcomes '1NNN 2NTN'", "(published value)",
          "exact", published)
    return c.results


# ------------------------------------------------------------------------------------------------- 3+3
def check_three_plus_three() -> list[CheckResult]:
    """The escalation-only 3+3 against the closed form of Storer (1989) / Lin & Shih (2001): MTD distribution, mean
    sample size and DLTs (absolute 6e-7), patients per dose (6e-6), and the probability of passing a dose."""
    from adcbridge.dosefinding import exact_oc, three_plus_three
    ref = reference_json("threeplusthree_storer.json")
    source = ("closed form of Storer (1989) / Lin & Shih (2001), evaluated 2026-11-25 and checked by brute-force "
              "enumeration (values to 6 decimals)")
    c = _Case("three_plus_three")
    for case in ref["scenarios"]:
        def body(cmp: Comparison, case=case) -> None:
            p = case["p_true"]
            oc = exact_oc(three_plus_three(len(p), variant="escalation-only"), p)
            sel = [oc.no_mtd_pct / 100] + [v / 100 for v in oc.selection_pct]
            cmp.close("P(MTD = none, dose 1, ...)", sel, case["p_mtd_none_then_doses"], atol=6e-7)
            cmp.close("mean sample size", oc.n_mean, case["n_mean"], atol=6e-7)
            cmp.close("mean number of DLTs", oc.dlt_total_mean, case["dlt_total_mean"], atol=6e-7)
            if "patients_mean" in case:
                cmp.close("mean patients per dose", oc.patients_mean, case["patients_mean"], atol=6e-6)

        c.run(f"storer.{case['id']}", "exact operating characteristics of the escalation-only 3+3", source,
              f"p_true = {case['p_true']}", "threeplusthree_storer.json",
              "abs 6e-7 (patients per dose: 6e-6)", body)

    def passing(cmp: Comparison) -> None:
        pp = ref["pass_probability"]
        got = []
        for p in pp["p"]:
            oc = exact_oc(three_plus_three(2, variant="escalation-only"), [p, 0.999999])
            got.append((oc.selection_pct[0] + oc.selection_pct[1]) / 100)   # dose 2 is almost surely too toxic
        cmp.close("P(pass a dose)", got, pp["q"], atol=6e-7)

    c.run("storer.pass_probability", "probability of escalating past a dose, q(p) = (1-p)^3 + 3p(1-p)^5", source,
          f"p = {ref['pass_probability']['p']}", "threeplusthree_storer.json", "abs 6e-7", passing)
    return c.results


# ----------------------------------------------------------------------------------------- dose response
#: drc fits re-run: key -> (data set, model, row subset, further fit options)
DRC_FITS = {
    "ryegrass_LL4": ("ryegrass", "LL.4", None, {}),
    "ryegrass_LL5": ("ryegrass", "LL.5", None, {}),
    "ryegrass_W14": ("ryegrass", "W1.4", None, {}),
    "ryegrass_W24": ("ryegrass", "W2.4", None, {}),
    "ryegrass_LL3": ("ryegrass", "LL.3", None, {}),
    "ryegrass_nozero_LL4": ("ryegrass", "LL.4", "conc > 0", {}),
    "S.alba_LL4_parallel": ("S.alba", "LL.4", None, {"curve": "Herbicide", "shared": "parallel"}),
}
#: how far drc's estimates sit from the least-squares optimum (drc stops BFGS at 1e-7), as in the reference test
DRC_DISTANCE = {"ryegrass_LL4": 1e-5, "ryegrass_LL3": 1e-5, "S.alba_LL4_parallel": 1e-5, "ryegrass_W14": 5e-5,
                "ryegrass_nozero_LL4": 5e-5, "ryegrass_W24": 1e-4, "ryegrass_LL5": 1e-3}
SE_AT_DRC = {"ryegrass_LL5": 3e-3}
SE_AT_OPTIMUM = {k: max(1e-4, 3 * v) for k, v in DRC_DISTANCE.items()} | {"ryegrass_LL5": 5e-3}


def check_dose_response() -> list[CheckResult]:
    """drc 3.0-1 fits of the ryegrass data (LL.4, LL.5, W1.4, W2.4, LL.3, LL.4 without zero doses) and the S.alba
    parallel-curve fit: self-starter values, estimates, SEs, fit statistics, ED10/50/90 with delta and log-scale
    intervals, relative potency.  Tolerances as in the reference test (``DRC_DISTANCE``: how far drc's BFGS stopped
    from the least-squares optimum; SEs 1e-4 at drc's own estimates)."""
    from adcbridge.assays.dose_response import fit_dose_response
    calls = reference_json("drc/drc_calls.json")
    source = "R drc 3.0-1 on R 4.2.2 (project reference set fit/)"
    params, ed, stats = (reference_csv(f"drc/drc_{n}.csv") for n in ("params", "ed", "fitstats"))
    data = {n: reference_csv(f"drc/drc_{n}.csv") for n in ("ryegrass", "S.alba")}
    c = _Case("dose_response")
    fits: dict = {}

    def fit(key):
        if key not in fits:
            name, model, subset, opts = DRC_FITS[key]
            d = data[name]
            if subset:
                d = d.query(subset)
            x, y = ("conc", "rootl") if name == "ryegrass" else ("Dose", "DryMatter")
            fits[key] = fit_dose_response(d, x=x, y=y, model=model, test_parallelism=False, **opts)
        return fits[key]

    def drc_vector(key, f, column="estimate"):
        rows = params[params["key"] == key].set_index("param")[column]
        return np.array([rows[t] for t in f.terms])

    for key in DRC_FITS:
        dist, se_tol, se_drc = DRC_DISTANCE[key], SE_AT_OPTIMUM[key], SE_AT_DRC.get(key, 1e-4)
        call = calls["fits"][key]["call"]

        def parameters(cmp: Comparison, key=key, dist=dist, se_tol=se_tol, se_drc=se_drc) -> None:
            f = fit(key)
            rows = params[params["key"] == key]
            ours = f.table.set_index("term").loc[rows["param"]]
            cmp.equal("parameters", sorted(f.terms), sorted(rows["param"]))
            if not key.startswith("S.alba"):
                cmp.close("self-starter values", f.start, calls["fits"][key]["start"], rtol=1e-10)
            cmp.close("estimates", ours["estimate"], rows["estimate"], rtol=dist)
            cmp.close("standard errors (at our optimum)", ours["se"], rows["se"], rtol=se_tol)
            cmp.close("t values", ours["t"], rows["t"], rtol=se_tol)
            V = f.covariance_at(drc_vector(key, f), kind="drc")
            cmp.close("standard errors at drc's estimates", np.sqrt(np.diag(V)), drc_vector(key, f, "se"),
                      rtol=se_drc)
            st = stats[stats["key"] == key].iloc[0]
            s = f.statistics
            cmp.equal("n, parameters, residual df", [s["n"], s["npar"], s["df_residual"]],
                      [st["n"], st["npar"], st["df_residual"]])
            cmp.at_most("RSS (not above drc's)", s["rss"], st["rss"] * (1 + 1e-12), "<= drc's RSS x (1 + 1e-12)")
            for name in ("rss", "residual_se", "logLik", "AIC", "BIC"):
                cmp.close(name, s[name], st[name], rtol=1e-5)

        c.run(f"{key}.parameters", "coefficients, standard errors, fit statistics", source, call,
              "drc/drc_params.csv, drc_fitstats.csv, drc_calls.json",
              f"estimates rel {_g(dist)}; SEs rel {_g(se_tol)} ({_g(se_drc)} at drc's estimates); RSS, logLik, AIC, "
              "BIC rel 1e-5; starter rel 1e-10", parameters)

        def effective_doses(cmp: Comparison, key=key, dist=dist, se_tol=se_tol) -> None:
            rows = ed[ed["key"] == key]
            ours = fit(key).ed([10, 50, 90]).set_index("label").loc[rows["label"]]
            width = (rows["upper_delta"] - rows["lower_delta"]).to_numpy()
            cmp.close("ED estimates", ours["estimate"], rows["estimate"], rtol=dist)
            cmp.close("ED standard errors", ours["se"], rows["se"], rtol=se_tol)
            for mine, theirs in (("ci_low", "lower_delta"), ("ci_high", "upper_delta"),
                                 ("ci_low_log", "lower_tfls"), ("ci_high_log", "upper_tfls")):
                # a bound near 0 has no meaningful relative error: measured against the interval width
                cmp.close(mine, ours[mine], rows[theirs], atol=se_tol * width,
                          allowed=f"abs {_g(se_tol)} x delta CI width")

        c.run(f"{key}.ed", "ED10, ED50, ED90 with delta-method and log-scale 95% intervals", source,
              f"ED(<{key} fit>, c(10, 50, 90), interval = 'delta' / 'tfls')", "drc/drc_ed.csv",
              f"estimates rel {_g(dist)}; SEs rel {_g(se_tol)}; bounds {_g(se_tol)} x interval width", effective_doses)

    relpot = reference_csv("drc/drc_relpot_EDcomp.csv")
    relpot["interval"] = relpot["interval"].str.replace(r"^log-scale.*", "log", regex=True)

    def potency(cmp: Comparison) -> None:
        key = "S.alba_LL4_parallel"
        tol = SE_AT_OPTIMUM[key]
        pairs = list(dict.fromkeys(tuple(x.split(":")[0].split("/")) for x in relpot["comparison"]))
        ours = fit(key).relative_potency((50, 50), pairs=pairs).set_index(["comparison", "interval"])
        ours = ours.loc[list(zip(relpot["comparison"], relpot["interval"]))]
        width = (relpot["upper"] - relpot["lower"]).to_numpy()
        cmp.close("relative potency", ours["estimate"], relpot["estimate"], rtol=DRC_DISTANCE[key])
        cmp.close("SE", ours["se"], relpot["se"], rtol=tol)
        cmp.close("ci_low", ours["ci_low"], relpot["lower"], atol=tol * width, allowed=f"abs {_g(tol)} x CI width")
        cmp.close("ci_high", ours["ci_high"], relpot["upper"], atol=tol * width, allowed=f"abs {_g(tol)} x CI width")

    c.run("S.alba_LL4_parallel.relative_potency", "relative potency ED50 Bentazone/Glyphosate with delta, Fieller "
          "and log-scale intervals", source, "EDcomp(parallel LL.4 fit, c(50, 50), interval = 'delta' / 'fieller')",
          "drc/drc_relpot_EDcomp.csv", "estimate rel 1e-5; SE rel 1e-4; bounds 1e-4 x interval width", potency)
    return c.results


# ------------------------------------------------------------------------------------------------- NCA
NCA_CDISC = ["CMAX", "CMAXD", "TMAX", "TLAG", "CLST", "CLSTP", "TLST", "LAMZHL", "LAMZ", "LAMZLL", "LAMZUL", "LAMZNPT",
             "CORRXY", "R2", "R2ADJ", "AUCLST", "AUCALL", "AUCIFO", "AUCIFOD", "AUCIFP", "AUCIFPD", "AUCPEO", "AUCPEP",
             "AUMCLST", "AUMCIFO", "AUMCIFP", "AUMCPEO", "AUMCPEP", "VZFO", "VZFP", "CLFO", "CLFP", "MRTEVLST",
             "MRTEVIFO", "MRTEVIFP", "VZO", "VZP", "CLO", "CLP", "MRTIVLST", "MRTIVIFO", "MRTIVIFP", "VSSO", "VSSP",
             "C0", "AUCPBEO", "AUCPBEP"]
#: reported in mL/h(/kg) by adcbridge, in L/h(/kg) by the references (dose in mg, concentration in mg/L)
NCA_PER_LITRE = {"CLO", "CLP", "VZO", "VZP", "VSSO", "VSSP", "CLFO", "CLFP", "VZFO", "VZFP"}
WINNONLIN = {"Rsq": "R2", "Rsq_adjusted": "R2ADJ", "Corr_XY": "CORRXY", "No_points_lambda_z": "LAMZNPT",
             "Lambda_z": "LAMZ", "Lambda_z_lower": "LAMZLL", "Lambda_z_upper": "LAMZUL", "HL_Lambda_z": "LAMZHL",
             "Span": "LAMZSPN", "Tlag": "TLAG", "Tmax": "TMAX", "Cmax": "CMAX", "Cmax_D": "CMAXD", "C0": "C0",
             "Tlast": "TLST", "Clast": "CLST", "Clast_pred": "CLSTP", "AUClast": "AUCLST", "AUCall": "AUCALL",
             "AUCINF_obs": "AUCIFO", "AUCINF_D_obs": "AUCIFOD", "AUC_%Extrap_obs": "AUCPEO",
             "AUCINF_pred": "AUCIFP", "AUCINF_D_pred": "AUCIFPD", "AUC_%Extrap_pred": "AUCPEP",
             "AUC_%Back_Ext_obs": "AUCPBEO", "AUC_%Back_Ext_pred": "AUCPBEP", "AUMClast": "AUMCLST",
             "AUMCINF_obs": "AUMCIFO", "AUMC_%Extrap_obs": "AUMCPEO", "AUMCINF_pred": "AUMCIFP",
             "AUMC_%Extrap_pred": "AUMCPEP", "Vz_obs": "VZO", "Cl_obs": "CLO", "Vz_pred": "VZP", "Cl_pred": "CLP",
             "Vss_obs": "VSSO", "Vss_pred": "VSSP", "Vz_F_obs": "VZFO", "Cl_F_obs": "CLFO", "Vz_F_pred": "VZFP",
             "Cl_F_pred": "CLFP"}
WINNONLIN_CASES = ("Theoph_Linear", "Theoph_Log", "Indometh_Linear", "Indometh_Log", "Indometh_Linear_Infusion",
                   "Indometh_Log_Infusion", "Indometh_Linear_Wrong_Extravascular", "Indometh_Log_Wrong_Extravascular")


def _nca_compare(cmp: Comparison, ours, ref, columns: dict, rtol: float, minimum: int) -> None:
    checked = 0
    for ref_col, code in columns.items():
        if ref_col not in ref.columns:
            continue
        if code not in ours.columns:         # not defined for this route: the reference must have no value either
            cmp.true(f"{code} (not computed)", bool(ref[ref_col].isna().all()), "not computed", "no value")
            continue
        a = ours[code].astype(float).to_numpy()
        if code in NCA_PER_LITRE:
            a = a / 1000
        cmp.close(code, a, ref[ref_col].astype(float).to_numpy(), rtol=rtol, atol=1e-12)
        checked += 1
    cmp.true("parameters compared", checked >= minimum, f"{checked} parameters", f">= {minimum}")


def check_nca() -> list[CheckResult]:
    """Single-dose NCA of Theoph (oral) and Indometh (IV bolus) against NonCompart 0.8.0 (relative 1e-9), and the 8
    operational-qualification scenarios of Phoenix WinNonlin 6.4 (relative 1e-8: its exports are rounded)."""
    from adcbridge.nca import NcaOptions, run_nca
    theoph, indometh = reference_csv("nca/theoph.csv"), reference_csv("nca/indometh.csv")
    c = _Case("nca")
    nc_source = "R NonCompart 0.8.0 tblNCA(..., R2ADJ = 0) on R 4.2.2 (project reference set nca/results/)"
    for method, tag in (("linear", "linear"), ("lin-up-log-down", "linuplogdown")):
        def theoph_body(cmp: Comparison, method=method, tag=tag) -> None:
            opts = NcaOptions(auc_method=method, partial_aucs=((0, 12), (0, 24)),
                              units={"time": "h", "conc": "mg/L", "dose": "mg/kg"})
            wide = run_nca(theoph, subject="Subject", time="Time", conc="conc", dose="Dose", options=opts).wide()
            ref = reference_csv(f"nca/noncompart/theoph_noncompart_{tag}.csv")
            cmp.equal("subjects", wide["Subject"].tolist(), ref["Subject"].tolist())
            cols = {**{k: k for k in NCA_CDISC}, "AUC0-12": "AUCINT_0-12", "AUC0-24": "AUCINT_0-24"}
            _nca_compare(cmp, wide, ref, cols, 1e-9, 36)

        c.run(f"noncompart.theoph_{tag}", f"Theoph, extravascular, {method} AUC: every parameter of 12 subjects",
              nc_source, f"tblNCA(Theoph, dose = Dose, adm = 'Extravascular', method = '{tag}')",
              f"nca/noncompart/theoph_noncompart_{tag}.csv", "rel 1e-9", theoph_body)

        def indometh_body(cmp: Comparison, method=method, tag=tag) -> None:
            opts = NcaOptions(auc_method=method, units={"time": "h", "conc": "mg/L", "dose": "mg"})
            wide = run_nca(indometh.assign(DOSE=25.0), subject="Subject", time="time", conc="conc", dose="DOSE",
                           default_route="iv-bolus", options=opts).wide()
            ref = reference_csv(f"nca/noncompart/indometh_noncompart_{tag}.csv")
            _nca_compare(cmp, wide, ref, {k: k for k in NCA_CDISC}, 1e-9, 38)

        c.run(f"noncompart.indometh_{tag}", f"Indometh, IV bolus 25 mg, {method} AUC: every parameter of 6 subjects",
              nc_source, f"tblNCA(Indometh, dose = 25, adm = 'Bolus', method = '{tag}')",
              f"nca/noncompart/indometh_noncompart_{tag}.csv", "rel 1e-9", indometh_body)

    wnl_source = ("Phoenix WinNonlin 6.4 NCA outputs of the operational-qualification scenarios shipped in the R "
                  "package ncar (inst/OQ, K.-S. Bae)")
    for case in WINNONLIN_CASES:
        def body(cmp: Comparison, case=case) -> None:
            method = "linear" if "Linear" in case else "lin-up-log-down"
            if case.startswith("Theoph"):
                data = theoph.assign(D=320.0)
                kw = dict(subject="Subject", time="Time", conc="conc", default_route="extravascular")
            else:
                data = indometh.assign(D=25.0)
                kw = dict(subject="Subject", time="time", conc="conc",
                          default_route="iv-infusion" if "Infusion" in case else
                          "extravascular" if "Extravascular" in case else "iv-bolus",
                          default_duration=0.25 if "Infusion" in case else 0.0)
            opts = NcaOptions(auc_method=method, units={"time": "h", "conc": "mg/L", "dose": "mg"})
            wide = run_nca(data, dose="D", options=opts, **kw).wide()
            ref = reference_csv(f"nca/winnonlin/Final_Parameters_Pivoted_{case}.csv")
            ev = kw["default_route"] == "extravascular"
            cols = dict(WINNONLIN, MRTlast="MRTEVLST" if ev else "MRTIVLST",
                        MRTINF_obs="MRTEVIFO" if ev else "MRTIVIFO", MRTINF_pred="MRTEVIFP" if ev else "MRTIVIFP")
            _nca_compare(cmp, wide, ref, cols, 1e-8, 34)

        dataset = case.partition("_")[0]
        route = ("0.25-h infusion" if "Infusion" in case else "extravascular (deliberately wrong route)"
                 if "Extravascular" in case else "IV bolus" if dataset == "Indometh" else "oral")
        dose = "320 mg" if dataset == "Theoph" else "25 mg"
        c.run(f"winnonlin.{case}", f"{dataset} {dose} {route}, {'linear' if 'Linear' in case else 'lin-up/log-down'}"
              " AUC: every exported parameter", wnl_source, f"OQ scenario {case}",
              f"nca/winnonlin/Final_Parameters_Pivoted_{case}.csv", "rel 1e-8 (exports rounded)", body)
    return c.results


# ---------------------------------------------------------------------------------------------- kinetics
KINETICS_FITS = {
    "A_global": ("spr_mck_clean.csv.gz", {}),
    "A_localR": ("spr_mck_clean.csv.gz", {"rmax": "local"}),
    "A_global_RI": ("spr_mck_clean.csv.gz", {"bulk": True}),
    "B_full": ("spr_mck_bulk_drift.csv.gz", {"bulk": True, "drift": "global"}),
    "B_naive": ("spr_mck_bulk_drift.csv.gz", {}),
}


def check_spr_kinetics() -> list[CheckResult]:
    """Global 1:1 fits of synthetic multi-cycle SPR sensorgrams against careful ``minpack.lm::nls.lm`` fits:
    ka, kd, KD and every parameter (relative 1e-6), SEs and the ka-kd correlation (1e-4), RSS, residual SD, Chi2
    and the KD interval (1e-6); the ``nls(algorithm = "port")`` cross-check."""
    from adcbridge.assays.kinetics import fit_kinetics
    oracle = reference_json("kinetics/kinetics_oracle.json")
    truth = oracle["truth"]
    source = ("R 4.2.2 minpack.lm::nls.lm (ftol = ptol = 1e-14), vcov from a numDeriv Jacobian "
              "(project reference set fit/kinetics/)")
    c = _Case("spr_kinetics")
    data: dict = {}
    fits: dict = {}
    est, se_tol = 1e-6, 1e-4

    def fit(key):
        if key not in fits:
            file, options = KINETICS_FITS[key]
            if file not in data:
                data[file] = reference_csv(f"kinetics/{file}")
            fits[key] = fit_kinetics(data[file], t_on=truth["ton"], t_off=truth["toff"], conc_unit="M",
                                     cycle="cycle", conc="conc_M", time="time_s", response="response_RU", **options)
        return fits[key]

    def row(result, parameter, cycle=None):
        t = result.table
        rows = t[(t["parameter"] == parameter) & (t["cycle"].isna() if cycle is None else t["cycle"] == cycle)]
        if len(rows) != 1:
            raise ValueError(f"{len(rows)} rows for parameter {parameter} cycle {cycle}")
        return rows.iloc[0]

    def oracle_param(name):
        for prefix in ("Rmax", "RI"):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                return prefix, int(name[len(prefix):])
        return name, None

    for key, (file, _options) in KINETICS_FITS.items():
        ref = oracle[key]

        def body(cmp: Comparison, key=key, ref=ref) -> None:
            f = fit(key)
            cmp.equal("converged", bool(f.converged), True)
            cmp.equal("n, parameters", [f.n, f.n_parameters], [ref["n"], ref["n_par"]])
            for name, se_key in (("ka", "se_ka"), ("kd", "se_kd"), ("KD", "se_KD_with_cov")):
                r = row(f, name)
                cmp.close(name, r["estimate"], ref[name], rtol=est)
                cmp.close(f"SE {name}", r["se"], ref[se_key], rtol=se_tol)
            r = row(f, "KD")
            cmp.close("KD 95% CI (log scale)", [r["ci_low"], r["ci_high"]], ref["KD_CI95_logscale"], rtol=est)
            cmp.close("corr(ka, kd)", f.corr_ka_kd, ref["corr_lka_lkd"], rtol=se_tol)
            cmp.at_most("RSS (not above the oracle's)", f.rss, ref["rss"] * (1 + 1e-9), "<= oracle RSS x (1 + 1e-9)")
            cmp.close("RSS", f.rss, ref["rss"], rtol=est)
            cmp.close("residual SD", f.residual_sd, ref["residual_sd"], rtol=est)
            cmp.close("Chi2 = RSS / (n - p)", f.chi2, ref["chi2_rss_over_n_minus_p"], rtol=est)
            for p in ref["params"]:
                name, cycle = oracle_param(p["param"])
                r = row(f, name, cycle)
                cmp.close(f"{p['param']} estimate", r["estimate"], p["estimate"], rtol=est, atol=1e-4 * p["se"])
                cmp.close(f"{p['param']} SE", r["se"], p["se"], rtol=se_tol)

        model = ", ".join(f"{k} {v}" for k, v in ref["model"].items())
        c.run(key, f"global 1:1 fit: {ref['label']}", source,
              f"fit {key} ({model}); t_on {truth['ton']} s, t_off {truth['toff']} s",
              f"kinetics/{file}, kinetics/kinetics_oracle.json",
              "estimates, RSS, KD CI: rel 1e-6 (nuisance near 0: 1e-4 x SE); SEs, correlation: rel 1e-4", body)

    def crosscheck(cmp: Comparison) -> None:
        ref, f = oracle["A_global_nls_crosscheck"], fit("A_global")
        for name in ("ka", "kd", "Rmax"):
            r = row(f, name)
            cmp.close(name, r["estimate"], ref["coef"][name], rtol=est)
            cmp.close(f"SE {name}", r["se"], ref["se"][name], rtol=se_tol)
        cmp.close("RSS", f.rss, ref["rss"], rtol=est)

    c.run("A_global_nls_crosscheck", "the clean global fit against an independent nls(algorithm = 'port') fit",
          "R 4.2.2 nls(algorithm = 'port')", "nls(response_RU ~ r11(time_s, conc_M, ka, kd, Rmax, 60, 360))",
          "kinetics/kinetics_oracle.json", "estimates rel 1e-6; SEs rel 1e-4", crosscheck)
    return c.results


# --------------------------------------------------------------------------------------- internalization
def check_internalization() -> list[CheckResult]:
    """Quench-based internalization against R: quench efficiency and % internalized (1e-9), one-phase ``nls`` fits
    (estimates and Wald CIs 1e-6, SEs 1e-5, profile CIs 1e-4), the joint fit, extra-sum-of-squares F tests (1e-7),
    rate contrasts (1e-6) and AUC(0-24 h) (1e-9)."""
    from adcbridge.assays.internalization import analyze_internalization
    oracle = reference_json("internalization/internalization_oracle.json")
    raw = reference_csv("internalization/internalization_raw_mfi.csv")
    controls = reference_csv("internalization/internalization_4C_controls.csv")
    source = "R 4.2.2 nls, anova, confint (project reference set fit/internalization/)"
    file = "internalization/internalization_oracle.json"
    c = _Case("internalization")
    cache: dict = {}

    def result():
        if "r" not in cache:
            cache["r"] = analyze_internalization(raw, controls, background=oracle["background_MFI"])
        return cache["r"]

    def params(cmp: Comparison, rows, ref_params, names) -> None:
        for p in ref_params:
            row = rows[rows["parameter"] == names[p["param"]]].iloc[0]
            se, n = p["se"], p["param"]
            cmp.close(f"{n} estimate", row["estimate"], p["estimate"], rtol=1e-6, atol=1e-3 * se)
            cmp.close(f"{n} SE", row["se"], se, rtol=1e-5)
            cmp.close(f"{n} t", row["t"], p["t"], rtol=1e-6, atol=1e-3)
            cmp.close(f"{n} p", row["p"], p["p"], rtol=1e-3)
            cmp.close(f"{n} Wald CI", [row["ci_low"], row["ci_high"]], [p["lower_wald_t"], p["upper_wald_t"]],
                      rtol=1e-6, atol=1e-3 * se)
            cmp.close(f"{n} profile CI", [row["profile_low"], row["profile_high"]],
                      [p["lower_profile"], p["upper_profile"]], rtol=1e-4, atol=1e-4 * se)

    def quench(cmp: Comparison) -> None:
        r = result()
        qe = dict(zip(r.quench["antibody"], r.quench["quench_efficiency"]))
        for ab, value in oracle["QE_estimated"].items():
            cmp.close(f"QE {ab}", qe[ab], value, rtol=1e-12)
        ref = reference_csv("internalization/internalization_pct.csv")
        cmp.close("QE per row", r.percent["QE"], ref["QE"], rtol=1e-12)
        cmp.close("% internalized", r.percent["pct_internalized"], ref["pct_internalized"], rtol=1e-9, atol=1e-12)

    c.run("quench_and_percent", "quench efficiency and % internalized per sample", source,
          "QE = 1 - (Q4C - bkg)/(U4C - bkg); pct = 100 (Q - U (1 - QE)) / (U QE), background 150",
          "internalization/internalization_pct.csv", "QE rel 1e-12; % rel 1e-9", quench)
    names = {"Plateau": "plateau", "k": "k", "Y0": "Y0"}
    for antibody in ("bsADC", "T-DXd"):
        for key, model in (("one_phase_Y0_fixed0", "y0_fixed"), ("one_phase_Y0_free", "y0_free")):
            def fit_body(cmp: Comparison, antibody=antibody, key=key, model=model) -> None:
                r, ref = result(), oracle["fits"][antibody][key]
                rows = r.table[(r.table["antibody"] == antibody) & (r.table["model"] == model)]
                params(cmp, rows, ref["params"], names)
                st = r.fit_statistics
                stat = st[(st["antibody"] == antibody) & (st["model"] == model)].iloc[0]
                cmp.close("RSS", stat["rss"], ref["rss"], rtol=1e-9)
                cmp.equal("residual df", int(stat["df"]), ref["df"])
                half = rows[rows["parameter"] == "half_time"].iloc[0]
                cmp.close("half-time", half["estimate"], ref["half_time_h"], rtol=1e-6, atol=1e-3 * half["se"])

            formula = ("pct ~ Plateau (1 - exp(-k t))" if model == "y0_fixed" else
                       "pct ~ Y0 + (Plateau - Y0)(1 - exp(-k t))")
            y0 = "Y0 = 0" if model == "y0_fixed" else "Y0 free"
            c.run(f"{antibody}.{key}", f"one-phase association fit of {antibody} ({y0})", source, f"nls({formula})",
                  file, "estimates, Wald CIs rel 1e-6 or 1e-3 SE; SEs rel 1e-5; p rel 1e-3; profile CIs rel 1e-4; "
                  "RSS rel 1e-9", fit_body)

    def joint(cmp: Comparison) -> None:
        r = result()
        params(cmp, r.comparison_parameters, oracle["compare"]["full"],
               {"P1": "plateau_bsADC", "P2": "plateau_T-DXd", "k1": "k_bsADC", "k2": "k_T-DXd"})
        for test in ("k_equal", "plateau_equal", "all_equal"):
            ref = oracle["compare"][test]
            row = r.comparison_tests.set_index("test").loc[test]
            cmp.close(f"{test} F", row["f"], ref["F"], rtol=1e-7)
            cmp.close(f"{test} p", row["p"], ref["p"], rtol=1e-7)
            cmp.equal(f"{test} df", [int(row["df1"]), int(row["df2"])], [ref["df1"], ref["df2"]])
            cmp.close(f"{test} RSS", [row["rss_reduced"], row["rss_full"]], [ref["rss_reduced"], ref["rss_full"]],
                      rtol=1e-9)
        con = r.comparison_contrasts.set_index("contrast")
        ref = oracle["compare"]
        cmp.close("k ratio", con.loc["k_ratio", "estimate"], ref["ratio_k_bsADC_over_TDXd"], rtol=1e-6)
        for name in ("k_diff", "log_k_ratio"):
            cmp.close(f"{name}", con.loc[name, "estimate"], ref[name]["estimate"], rtol=1e-6)
            cmp.close(f"{name} SE", con.loc[name, "se"], ref[name]["se"], rtol=1e-6)

    c.run("comparison", "joint fit of both antibodies, F tests of equal k / plateau / curves, k contrasts", source,
          "nls(pct ~ P[adc] (1 - exp(-k[adc] t))); anova(reduced, full)", file,
          "estimates rel 1e-6; F, p rel 1e-7; RSS 1e-9; contrasts 1e-6", joint)

    def auc(cmp: Comparison) -> None:
        a = result().auc
        cmp.equal("antibodies", list(a["antibody"]), ["bsADC", "T-DXd"])
        cmp.close("AUC(0-24 h) of mean % internalized", a["auc"], oracle["AUC_0_24_pct_h"], rtol=1e-9)

    c.run("auc", "area under the mean % internalized curve, 0-24 h", source, "trapezoid of the mean pct", file,
          "rel 1e-9", auc)
    return c.results


# -------------------------------------------------------------------------------------------- xenograft
XENOGRAFT_GROUPS = ["Vehicle", "ADC_1mpk", "ADC_3mpk", "ADC_10mpk"]
TGI_COLUMNS = {"TGI_deltaV_pct": "delta_v", "TC_pct_mean": "tc_mean", "TGI_from_TC_pct": "tgi_tc_mean",
               "TC_pct_median": "tc_median", "TC_pct_RTV": "tc_rtv", "TGI_deltaV_median_pct": "delta_v_median",
               "TC_pct_geomean": "tc_geomean", "regression_pct": "regression", "TGI_AUC_pct": "tgi_auc"}


def check_xenograft() -> list[CheckResult]:
    """A synthetic xenograft study (4 groups x 8 mice) against R: group summaries and TGI definitions (closed forms,
    1e-12/1e-11), day-21 tests (1e-9; Dunnett p absolute 1e-3), the nlme growth-rate model (estimates 1e-6, SEs
    1e-5), two-stage slopes (1e-10), time to 4 x V0 and Kaplan-Meier/log-rank (1e-9), the Simeoni model (1e-7)."""
    from adcbridge.assays.xenograft import SimeoniModel, analyze_xenograft, simulate_simeoni
    oracle = reference_json("xenograft/xenograft_oracle.json")
    source = ("R 4.2.2 with nlme, multcomp, survival and deSolve (project reference set fit/xenograft/, seed "
              "20240610)")
    file = "xenograft/xenograft_oracle.json"
    c = _Case("xenograft")
    cache: dict = {}

    def result():
        if "r" not in cache:
            cache["r"] = analyze_xenograft(reference_csv("xenograft/xenograft_synthetic.csv"), control="Vehicle",
                                           tgi="all", days=[14, 21], animal="mouse", volume="volume_mm3",
                                           humane_endpoint=oracle["truth"]["humane_endpoint_mm3"])
        return cache["r"]

    def summary(cmp: Comparison) -> None:
        ref = reference_csv("xenograft/xenograft_group_summary.csv")
        mine = result().group_summary
        cmp.equal("groups and days", [f"{g} {float(d):g}" for g, d in zip(mine["group"], mine["day"])],
                  [f"{g} {float(d):g}" for g, d in zip(ref["group"], ref["day"])])
        cmp.equal("n", mine["n"].tolist(), ref["n"].tolist())
        for col in ("mean", "sd", "sem", "median", "geomean"):
            cmp.close(col, mine[col], ref[col], rtol=1e-12)

    c.run("group_summary", "tumour volume summaries per group and day (n, mean, SD, SEM, median, geometric mean)",
          source, "per group and day, mice leaving at the 2000 mm3 humane endpoint",
          "xenograft/xenograft_group_summary.csv", "rel 1e-12", summary)

    def tgi(cmp: Comparison) -> None:
        ref = reference_csv("xenograft/xenograft_TGI_definitions.csv")
        r = result()
        comps = r.growth_inhibition.components.set_index(["group", "day"])
        for _, row in ref.iterrows():
            key = (row["group"], float(row["day"]))
            comp = comps.loc[key]
            label = f"{key[0]} day {key[1]:g}"
            cmp.equal(f"{label} n_T, n_C", [int(comp["n_T"]), int(comp["n_C"])], [int(row["n_T"]), int(row["n_C"])])
            cmp.close(f"{label} means", [comp[x] for x in ("mean_T", "mean_C", "mean_T0", "mean_C0")],
                      [row[x] for x in ("mean_T", "mean_C", "mean_T0", "mean_C0")], rtol=1e-12)
            for col, definition in TGI_COLUMNS.items():
                cmp.close(f"{label} {definition}", r.growth_inhibition.value(key[0], key[1], definition), row[col],
                          rtol=1e-11)

    c.run("tgi_definitions", "TGI and T/C under 9 definitions on days 14 and 21", source,
          "1 - dT/dC (means, medians), T/C of means, medians, geometric means, RTV, % regression, AUC",
          "xenograft/xenograft_TGI_definitions.csv", "rel 1e-11 (means 1e-12)", tgi)

    def day21(test):
        t = result().day_comparison.table
        return t[(t["day"] == 21) & (t["test"] == test)].set_index("comparison")

    def day21_tests(cmp: Comparison) -> None:
        ref = oracle["day21_anova_logV"]
        a = day21("anova").iloc[0]
        cmp.close("ANOVA F", a["statistic"], ref["F"], rtol=1e-9)
        cmp.close("ANOVA p", a["p"], ref["p"], rtol=1e-6)
        cmp.equal("ANOVA df", [int(a["df"]), int(a["df2"])], ref["df"])
        d = day21("dunnett")
        for e in oracle["day21_dunnett_logV"]:
            row = d.loc[e["contrast"]]
            cmp.close(f"Dunnett {e['contrast']} estimate, SE, t, ratio",
                      [row["estimate"], row["se"], row["statistic"], row["ratio"]],
                      [e["estimate_log"], e["se"], e["t"], e["ratio_geomean"]], rtol=1e-9)
            cmp.close(f"Dunnett {e['contrast']} adjusted p", row["p_adjusted"], e["p_adj_singlestep"], atol=1e-3)
        ref = oracle["day21_kruskal"]
        k = day21("kruskal_wallis").iloc[0]
        cmp.close("Kruskal-Wallis H", k["statistic"], ref["statistic"], rtol=1e-9)
        cmp.close("Kruskal-Wallis p", k["p"], ref["p.value"], rtol=1e-8)
        w = day21("wilcoxon")
        pairs = {frozenset(x.split(" - ")): p for x, p in w["p_adjusted"].items()}
        for e in [e for e in oracle["day21_pairwise_wilcox_holm"] if "Freq" in e]:
            cmp.close(f"Wilcoxon (Holm) {e['Var1']} vs {e['Var2']}", pairs[frozenset((e["Var1"], e["Var2"]))],
                      e["Freq"], rtol=1e-9)
        welch = day21("welch")
        for e in oracle["day21_welch_vs_vehicle"]:
            row = welch.loc[f"{e['group']} - Vehicle"]           # adcbridge reports treated - control
            cmp.close(f"Welch {e['group']} t, df, difference", [-row["statistic"], row["df"], -row["estimate"]],
                      [e["t"], e["df"], e["diff_log_mean"]], rtol=1e-9)
            cmp.close(f"Welch {e['group']} p", row["p"], e["p"], rtol=1e-7)

    c.run("day21_tests", "day-21 comparisons of log volume: ANOVA + Dunnett, Kruskal-Wallis, Wilcoxon (Holm), Welch",
          source, "aov + glht(mcp(group = 'Dunnett')); kruskal.test; pairwise.wilcox.test; t.test", file,
          "statistics rel 1e-9; p rel 1e-6 to 1e-9; Dunnett adjusted p abs 1e-3 (mvtnorm's randomised integration)",
          day21_tests)

    def lme(cmp: Comparison) -> None:
        ref = oracle["lme_a"]
        g = result().growth_rates
        fe = g.fixed_effects.set_index("term")
        for row in ref["fixef"]:
            cmp.close(f"{row['term']} estimate", fe.loc[row["term"], "estimate"], row["estimate"], rtol=1e-6,
                      atol=1e-6 * row["se"])
            cmp.close(f"{row['term']} SE", fe.loc[row["term"], "se"], row["se"], rtol=1e-5)
        s = g.table.set_index("group")
        for row in ref["group_slopes"]:
            r = s.loc[row["group"]]
            cmp.close(f"slope {row['group']}", r["slope"], row["slope"], rtol=1e-6, atol=1e-6 * row["se"])
            cmp.close(f"slope SE {row['group']}", r["se"], row["se"], rtol=1e-5)
            cmp.close(f"doubling time {row['group']}", r["doubling_time"], row["doubling_time_days"], rtol=1e-6)
            cmp.close(f"rate-based TGI {row['group']}", r["tgi_rate"], row["TGI_rate_pct"], rtol=1e-6, atol=1e-6)
        cmp.close("log-likelihood (REML)", g.statistic("loglik_reml"), ref["logLik"], rtol=1e-8)
        cmp.close("AIC", g.statistic("aic"), ref["AIC"], rtol=1e-8)
        cmp.close("sigma", g.statistic("sigma"), ref["sigma"], rtol=1e-5)
        lrt = g.tests.set_index("test").loc["equal_slopes_lrt"]
        cmp.close("LRT of equal slopes (ML)", lrt["statistic"], ref["LRT_slopes_equal"]["L.Ratio"], rtol=1e-8)
        cmp.close("LRT p", lrt["p"], ref["LRT_slopes_equal"]["p"], rtol=1e-6)

    c.run("growth_rate_lme", "mixed-model growth rates: fixed effects, group slopes, doubling times, rate-based TGI, "
          "likelihood-ratio test", source,
          "lme(log(volume) ~ day * group, random = ~ day | mouse, method = 'REML'); ML LRT of day:group", file,
          "estimates rel 1e-6 (or 1e-6 SE); SEs rel 1e-5; log-likelihoods rel 1e-8", lme)

    def two_stage(cmp: Comparison) -> None:
        ref = reference_csv("xenograft/xenograft_per_mouse_slopes.csv")
        g = result().growth_rates
        mine = g.animal_slopes.set_index("animal").loc[ref["mouse"]]
        cmp.equal("groups", mine["group"].tolist(), ref["group"].tolist())
        cmp.close("per-mouse slopes", mine["slope"], ref["slope"], rtol=1e-10)
        two = g.two_stage
        means = two[two["contrast"].isna()].set_index("group").loc[XENOGRAFT_GROUPS, "estimate"]
        cmp.close("group mean slopes", means, oracle["two_stage"]["group_mean_slope"], rtol=1e-10)

    c.run("two_stage_slopes", "per-mouse log-linear slopes and their group means", source,
          "lm(log V ~ day) per mouse", "xenograft/xenograft_per_mouse_slopes.csv", "rel 1e-10", two_stage)

    def endpoint(cmp: Comparison) -> None:
        ref = reference_csv("xenograft/xenograft_time_to_4xV0.csv")
        t = result().time_to_endpoint
        a = t.animals.set_index("animal").loc[ref["mouse"]]
        cmp.equal("events", a["event"].astype(int).tolist(), ref["event"].astype(int).tolist())
        cmp.close("time to 4 x V0", a["time"], ref["time"], rtol=1e-12)
        r = oracle["time_to_endpoint"]
        tab = t.table.set_index("group")
        for g in XENOGRAFT_GROUPS:
            cmp.close(f"KM median {g}", tab.loc[g, "median"], r["km_median_days"][g], rtol=1e-12)
            cmp.close(f"tumour growth delay {g}", tab.loc[g, "tgd"], r["TGD_days"][g], rtol=1e-9, atol=1e-12)
        lr = t.logrank.iloc[0]
        cmp.close("log-rank chi-square", lr["statistic"], r["logrank_chisq"], rtol=1e-9)
        cmp.close("log-rank p", lr["p"], r["logrank_p"], rtol=1e-7)

    c.run("time_to_endpoint", "time to 4 x V0 per mouse, Kaplan-Meier medians, growth delay, log-rank test",
          source, "log-linear interpolation, censored at the last measurement; survfit; survdiff",
          "xenograft/xenograft_time_to_4xV0.csv, xenograft_oracle.json", "rel 1e-9 to 1e-12", endpoint)

    def simeoni(cmp: Comparison) -> None:
        p = oracle["simeoni"]["parameters"]
        model = SimeoniModel(lambda0=p["lambda0"], lambda1=p["lambda1"], k1=p["k1"], k2=p["k2"], psi=p["psi"],
                             w0=p["w0"], dose_times=tuple(p["CL_dose"]["dose_times"]), c0=p["CL_dose"]["c0"],
                             kel=p["CL_dose"]["kel"])
        ref = reference_csv("xenograft/simeoni_simulation.csv")
        sim = simulate_simeoni(model, ref["day"].to_numpy()).table
        for col in ("w_treated", "x1", "x2", "x3", "x4", "w_control"):
            cmp.close(col, sim[col], ref[col], rtol=1e-7, atol=1e-9)
        cmp.close("concentration", sim["conc"], ref["conc_ng_mL"], rtol=1e-12, atol=1e-12)

    c.run("simeoni", "Simeoni (2004) tumour growth inhibition model simulation",
          "R 4.2.2 deSolve lsoda (rtol 1e-10)", "Simeoni model with the reference parameters, bolus doses",
          "xenograft/simeoni_simulation.csv", "rel 1e-7 (abs 1e-9)", simeoni)
    return c.results


# ------------------------------------------------------------------------------------------ translation
#: published values and known answers of the translation checks (the reference of each is given with its check)
PUBLISHED: dict[str, Any] = {
    "hed_hnstd30_cyno_bsa": 9.73,           # 30 x 12/37, to 2 decimals
    "start_hnstd30_cyno_bsa": 1.62,         # HED / 6 (ICH S9), to 2 decimals
    "start_hnstd30_cyno_mg_per_kg": 5.0,    # 30 / 6
    "hed_rat_62_rounded_divisor": 10.0,     # 62 / 6.2
    "sacher_mlp_human_years": 93.4,         # brain 1.53 kg, body 70 kg
    "tdxd_poppk_typical": {"CL": 0.421, "V1": 2.77, "Q": 0.199, "V2": 5.16},
    "crm_escalation_docs": 2,
}


def check_translation() -> list[CheckResult]:
    """Published values: FDA (2005) Table 1 (Km, reference weights, divisors; exact), its HED / ICH S9 start-dose
    known answers, the Li et al. (2019) cynomolgus -> human ADC clearance errors (0.6 percentage points), Sacher's
    maximum life-span potential, and the bundled T-DXd population PK typical values."""
    import pandas as pd

    from adcbridge.translation import (
        SPECIES,
        fih_start_dose,
        human_equivalent_dose,
        li_percent_error,
        predict_per_kg,
        prediction_errors,
        reference_parameters,
        sacher_mlp,
        summarise_errors,
    )
    c = _Case("translation")
    fda_source = ("FDA (2005) guidance 'Estimating the Maximum Safe Starting Dose in Initial Clinical Trials for "
                  "Therapeutics in Adult Healthy Volunteers', Table 1")
    fda = reference_csv("translation/fda2005_table1.csv")
    for row in fda.itertuples():
        def body(cmp: Comparison, row=row) -> None:
            info = SPECIES[row.species]
            cmp.equal("Km", info.km, int(row.km))
            cmp.close("reference body weight (kg)", info.fda_weight_kg, row.reference_weight_kg, rtol=0)
            cmp.close("Km = weight / BSA (printed values)", row.reference_weight_kg / row.bsa_m2, row.km, rtol=0.05)
            if not np.isnan(row.divisor):
                cmp.close("printed divisor", info.fda_divisor, row.divisor, rtol=0)
                cmp.close("divisor = 37 / Km to one decimal", row.divisor, 37 / row.km, atol=0.05 + 1e-12)

        c.run(f"fda2005_table1.{row.species}", f"FDA Table 1 row: {row.species}", fda_source,
              f"{row.species}: weight {row.reference_weight_kg} kg, BSA {row.bsa_m2} m2, Km {row.km}, divisor "
              f"{'' if np.isnan(row.divisor) else row.divisor}", "translation/fda2005_table1.csv",
              "Km, weight, divisor exact; W/BSA rel 0.05; 37/Km abs 0.05", body)

    def monkeys(cmp: Comparison) -> None:
        for alias in ("cynomolgus", "rhesus"):
            cmp.equal(f"Km {alias}", SPECIES[alias].km, 12)

    c.run("fda2005_table1.monkey_aliases", "cynomolgus and rhesus use the monkey Km", fda_source, "monkey: Km 12",
          "translation/fda2005_table1.csv", "exact", monkeys)

    def hnstd(cmp: Comparison) -> None:
        cmp.close("HED (mg/kg)", human_equivalent_dose(30, "cynomolgus").hed, PUBLISHED["hed_hnstd30_cyno_bsa"],
                  atol=0.005)
        cmp.close("HED with the printed divisor 3.1", human_equivalent_dose(30, "cynomolgus",
                                                                           rounded_divisor=True).hed,
                  30 / 3.1, rtol=1e-12)
        cmp.close("start dose, BSA (mg/kg)", fih_start_dose(30, "cynomolgus").start_dose_mg_per_kg,
                  PUBLISHED["start_hnstd30_cyno_bsa"], atol=0.005)
        cmp.close("start dose, mg/kg scaling", fih_start_dose(30, "cynomolgus",
                                                              scaling="mg_per_kg").start_dose_mg_per_kg,
                  PUBLISHED["start_hnstd30_cyno_mg_per_kg"], rtol=1e-6)

    c.run("fih.hnstd_30_monkey", "HED and ICH S9 start dose (HNSTD/6) from an HNSTD of 30 mg/kg in the monkey",
          f"{fda_source} (Km 12 and 37) with ICH S9 (start = HED of the HNSTD / 6)",
          "HNSTD 30 mg/kg: HED 9.73 mg/kg, start 1.62 mg/kg by BSA, 5.0 mg/kg by mg/kg", "(published values)",
          "HED, start: abs 0.005 (2 decimals); 3.1 divisor rel 1e-12; mg/kg rel 1e-6", hnstd)

    def rat(cmp: Comparison) -> None:
        cmp.close("HED, Km 6/37", human_equivalent_dose(62, "rat").hed, 62 * 6 / 37, rtol=1e-6)
        cmp.close("HED, printed divisor 6.2", human_equivalent_dose(62, "rat", rounded_divisor=True).hed,
                  PUBLISHED["hed_rat_62_rounded_divisor"], rtol=1e-6)

    c.run("fih.rat_divisor", "rat HED with the exact Km and with the printed divisor", fda_source,
          "62 mg/kg in the rat: 62 x 6/37; 62 / 6.2 = 10 mg/kg", "(published values)", "rel 1e-6", rat)

    li = reference_json("translation/li2019_cyno_adc_clearance.json")
    rows = pd.DataFrame(li["rows"], columns=li["columns"])
    li_source = ("Li C et al., Clin Transl Sci 2019;12:534-544: cynomolgus -> human ADC conjugate clearance, "
                 "simple allometry, percent errors of 8 ADCs")
    for b, column in ((0.75, "pe_b075"), (0.85, "pe_b085"), (1.0, "pe_b100")):
        def li_body(cmp: Comparison, b=b, column=column) -> None:
            pred = predict_per_kg(rows["cyno_cl"], b, animal_weight=3.5, human_weight=70.0)
            cmp.close("percent errors", li_percent_error(pred, rows["human_cl_observed"]), rows[column], atol=0.6)
            mae = summarise_errors(prediction_errors(pred, rows["human_cl_observed"]))["mean_abs_li_pe"]
            cmp.close("mean absolute error (%)", mae, li["mean_absolute_error_pct"][str(b)], atol=0.1)

        c.run(f"li2019.b{b:g}", f"human clearance predicted with exponent {b:g}: the 8 published percent errors and "
              "their mean", li_source, f"exponent {b:g}, 3.5 kg -> 70 kg", "translation/li2019_cyno_adc_clearance.json",
              "abs 0.6 percentage points (published clearances have 3 figures); mean abs 0.1", li_body)

    def sacher(cmp: Comparison) -> None:
        cmp.close("MLP (years)", float(sacher_mlp(1.53, 70.0)), PUBLISHED["sacher_mlp_human_years"], atol=0.05)

    c.run("sacher_mlp.human", "maximum life-span potential of humans", "Sacher (1959) MLP equation; the published "
          "human value 93.4 years", "brain 1.53 kg, body 70 kg", "(published value)", "abs 0.05 (1 decimal)", sacher)

    def tdxd(cmp: Comparison) -> None:
        got = reference_parameters("tdxd")
        expected = PUBLISHED["tdxd_poppk_typical"]
        cmp.equal("parameters", sorted(got), sorted(expected))
        for k, v in expected.items():
            cmp.close(k, got.get(k), v, rtol=0)

    c.run("tdxd_poppk", "bundled T-DXd population PK typical values", "Yin O et al., Clin Pharmacol Ther 2021;109:"
          "1314-1325, Table 1", "CL 0.421 L/day, V1 2.77 L, Q 0.199 L/day, V2 5.16 L", "(published values)", "exact",
          tdxd)
    return c.results


# ------------------------------------------------------------------------------------------------- runner
@dataclass(frozen=True)
class Area:
    id: str
    title: str
    function: Callable[[], list[CheckResult]]


AREAS: list[Area] = [
    Area("installation", "Installation: bundled reference data and imports", check_installation),
    Area("boin_boundaries", "BOIN decision boundaries vs BOIN 2.7.2 get.boundary", check_boin_boundaries),
    Area("boin_select_mtd", "BOIN MTD selection vs BOIN 2.7.2 select.mtd", check_boin_select_mtd),
    Area("boin_oc", "BOIN operating characteristics vs the exact get.oc enumeration",
         check_boin_operating_characteristics),
    Area("crm", "CRM skeletons and posteriors vs dfcrm 0.2-2.1", check_crm),
    Area("three_plus_three", "3+3 vs the Storer closed form", check_three_plus_three),
    Area("dose_response", "Dose-response fits vs drc 3.0-1", check_dose_response),
    Area("nca", "NCA vs NonCompart 0.8.0 and Phoenix WinNonlin 6.4", check_nca),
    Area("spr_kinetics", "SPR binding kinetics vs nls.lm", check_spr_kinetics),
    Area("internalization", "Internalization vs R nls", check_internalization),
    Area("xenograft", "Xenograft efficacy vs R (nlme, multcomp, survival, deSolve)", check_xenograft),
    Area("translation", "Translation vs published values (FDA 2005, ICH S9, Li 2019)", check_translation),
]


@dataclass
class QualificationRun:
    """All check results with the time and the warnings of each area."""

    checks: list[CheckResult]
    areas: list[dict]
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.checks)


def run_checks(areas: Iterable[str] | None = None,
               progress: Callable[[Area, list[CheckResult], float], None] | None = None) -> QualificationRun:
    """Run the areas (all, or the ids given, in :data:`AREAS` order); ``progress(area, results, seconds)`` is called
    after each.  An area that fails as a whole (its reference file cannot be read) gives one failed check."""
    wanted = None if areas is None else list(areas)
    if wanted is not None:
        unknown = sorted(set(wanted) - {a.id for a in AREAS})
        if unknown:
            raise ValueError(f"unknown area {', '.join(unknown)} (areas: {', '.join(a.id for a in AREAS)})")
    start = time.perf_counter()
    checks: list[CheckResult] = []
    summaries: list[dict] = []
    for area in AREAS:
        if wanted is not None and area.id not in wanted:
            continue
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results = area.function()
            except Exception as exc:          # noqa: BLE001 - the area could not run: one failed check
                results = [CheckResult(id=f"{area.id}.area", area=area.id, what=area.title, source="", case="",
                                       reference_file="", tolerance="", passed=False,
                                       error=f"{type(exc).__name__}: {exc}")]
        seconds = time.perf_counter() - t0
        messages = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught
                                      if str(w.message)))
        checks.extend(results)
        summaries.append({"area": area.id, "title": area.title, "checks": len(results),
                          "passed": sum(r.passed for r in results), "seconds": round(seconds, 3),
                          "warnings": messages})
        if progress is not None:
            progress(area, results, seconds)
    return QualificationRun(checks=checks, areas=summaries, seconds=round(time.perf_counter() - start, 3))
