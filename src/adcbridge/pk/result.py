"""The options of a PK fit (a frozen specification) and its frozen result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from adcbridge.fitting import FitResult
from adcbridge.results import Result
from adcbridge.spec import Spec

from .models import MODELS, get_model

__all__ = ["PKFitOptions", "PKFitResult"]


class PKFitOptions(Spec):
    """What a PK fit does.

    * ``model`` -- ``1cmt``, ``2cmt``, ``3cmt``, ``mm``, ``qss`` or ``adc``; ``rate_time`` (``h`` or ``day``) and
      ``per_kg`` set the parameter units; ``payload_fraction`` is the ADC model's f;
    * ``error`` -- ``proportional`` (default), ``combined``, ``additive`` or ``log`` (see :mod:`adcbridge.pk.errors`);
    * ``pooled`` -- naive pooled fit (one parameter set for all subjects, or per ``group``); else one per subject;
    * ``analytes`` -- the analytes to fit (default: the only one, or all the model predicts);
    * ``fixed`` -- parameters held at a value (model units); ``start`` -- start values (default: from the data);
    * ``n_starts`` starts per unit (the first is the data-driven start, the others log-normal perturbations,
      SD 0.5, drawn with ``seed``); ``se`` -- ``observed`` (Hessian) or ``expected`` (Fisher information);
    * dosing: ``route`` (``infusion``/``bolus``) and ``tinf`` (h, or a column name); ``time_unit`` of the data;
    * ``level`` of the (log-scale Wald) confidence intervals; ``method`` ``auto``/``closed``/``ode``;
    * issue thresholds: ``max_relative_se`` (a parameter whose SE on the log scale, the RSE, exceeds it is listed
      in ``high_rse``; 0.5 = 50 %) and ``max_correlation`` (``high_correlation`` when two estimates correlate
      beyond it in absolute value);
    * column names: ``subject``, ``time``, ``conc``, ``dose``, ``blq``, ``analyte``, ``dose_time`` (dosing table).
    """

    spec_name: ClassVar[str] = "pk fit"
    model: str = "2cmt"
    error: Literal["proportional", "combined", "additive", "log"] = "proportional"
    pooled: bool = False
    group: tuple[str, ...] = ()
    analytes: tuple[str, ...] | None = None
    fixed: dict[str, float] = Field(default_factory=dict)
    start: dict[str, float] = Field(default_factory=dict)
    n_starts: int = Field(5, ge=1, le=200)
    seed: int = 1
    se: Literal["observed", "expected"] = "observed"
    route: Literal["infusion", "bolus"] = "infusion"
    tinf: float | str = 0.5
    time_unit: Literal["h", "day"] = "h"
    rate_time: Literal["h", "day"] = "h"
    per_kg: bool = True
    payload_fraction: float = Field(0.025, gt=0, le=1)
    level: float = Field(0.95, gt=0, lt=1)
    method: Literal["auto", "closed", "ode"] = "auto"
    max_relative_se: float = Field(0.5, gt=0)
    max_correlation: float = Field(0.95, gt=0, le=1)
    subject: str = "ID"
    time: str = "TIME"
    conc: str = "CONC"
    dose: str = "DOSE"
    blq: str | None = "BLQ"
    analyte: str | None = "ANALYTE"
    dose_time: str = "TDOSE"

    @field_validator("model")
    @classmethod
    def _model(cls, v):
        if v not in MODELS:
            raise ValueError(f"must be one of {sorted(MODELS)}")
        return v

    @field_validator("analytes", "group", mode="before")
    @classmethod
    def _names(cls, v):
        return (v,) if isinstance(v, str) else v

    @field_validator("fixed", "start")
    @classmethod
    def _positive(cls, v):
        for k, x in v.items():
            if not (isinstance(x, (int, float)) and math.isfinite(x) and x > 0):
                raise ValueError(f"must hold positive numbers (parameter {k!r} is {x!r})")
        return v

    def make_model(self):
        opts: dict[str, Any] = {"rate_time": self.rate_time, "per_kg": self.per_kg}
        if self.model == "adc":
            opts["payload_fraction"] = self.payload_fraction
        return get_model(self.model, **opts)


@dataclass(frozen=True, eq=False)
class PKFitResult(Result, FitResult):
    """A compartmental PK fit (individual or naive pooled).

    ``table``: one row per fit ``id`` (subject or pooled group) x parameter: ``estimate``, ``se`` (delta method
    from the log scale), ``rse`` (%), ``ci_low``/``ci_high`` (``exp(log estimate -/+ z se_log)``), ``unit``,
    ``kind`` (``structural``/``error``), ``fixed``.  ``fit_statistics``: per id ``n`` (observations used),
    ``n_blq`` (excluded, M1), ``n_predose``, ``n_parameters``, ``ofv`` (-2 log L), ``aic``, ``bic``,
    ``converged``, ``iterations``, ``starts_at_best``, ``max_abs_corr``.  ``predictions``: per
    observation ``id``, ``subject``, ``analyte``, ``time``, ``dv``, ``pred``, ``res``, ``wres`` (residual / its
    SD; on the log scale for ``log``).  ``dosing``: the doses used (subject, time h, amount, duration h).
    ``subject_unit``: which fit id each subject belongs to.

    ``parameters(level)`` (see :class:`~adcbridge.fitting.FitResult`): ``id, term`` with the log-scale Wald
    intervals of ``table`` (``log_wald_normal``: exp(log estimate -/+ z se_log)) at any level, then ``rse``,
    ``kind`` and ``fixed`` (held parameters: no SE, no interval).  ``cov_params()`` (e.g. ``cov_params(id="S1")``)
    is the natural-scale covariance of each fit id, diag(estimate) V_log diag(estimate) from the inverse
    Hessian on the log scale (``parameter_vcov``); NaN between fit ids and for fixed parameters."""

    fit_statistics: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    dosing: pd.DataFrame | None = None
    subject_unit: pd.DataFrame | None = None
    parameter_vcov: pd.DataFrame | None = None

    result_type: ClassVar[str] = "PKFitResult"
    fit_keys: ClassVar[tuple[str, ...]] = ("id",)

    def _fit_level(self) -> float:
        return float(self.spec.level)

    def _parameter_rows(self) -> pd.DataFrame:
        t = self.table
        fixed = t["fixed"].astype(bool).to_numpy()
        return pd.DataFrame({"id": t["id"].astype(object), "term": t["parameter"].astype(object),
                             "estimate": t["estimate"].astype(float), "se": t["se"].astype(float),
                             "df": np.where(fixed, np.nan, np.inf), "scale": np.where(fixed, "fixed", "log"),
                             "unit": t["unit"].astype(object), "rse": t["rse"].astype(float),
                             "kind": t["kind"].astype(object), "fixed": fixed})

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        if self.parameter_vcov is None:
            return super()._covariance(rows)
        return self._covariance_from_entries(self.parameter_vcov, rows)

    def model(self):
        """The fitted model (an instance, in the units of the fit)."""
        return self.spec.make_model()

    def estimate(self, parameter: str, id: str | None = None) -> float:
        t = self.table
        sel = t[t["parameter"] == parameter]
        if id is not None:
            sel = sel[sel["id"] == str(id)]
        if sel.empty:
            raise KeyError(f"no estimate of {parameter!r}" + (f" for {id!r}" if id is not None else ""))
        return float(sel["estimate"].iloc[0])

    def estimates(self) -> pd.DataFrame:
        """A wide table: one row per fit id, one column per parameter."""
        w = self.table.pivot(index="id", columns="parameter", values="estimate")
        order = list(dict.fromkeys(self.table["parameter"]))
        return w.reindex(index=list(dict.fromkeys(self.table["id"])), columns=order)

    def parameters_of(self, id: str) -> dict[str, float]:
        """Structural parameters of one fit id (model units)."""
        t = self.table[(self.table["id"] == str(id)) & (self.table["kind"] == "structural")]
        return dict(zip(t["parameter"], t["estimate"].astype(float)))

    def curves(self, n: int = 200) -> pd.DataFrame:
        """Model curves for every subject and analyte (plots): subject, id, analyte, time, pred.  The grid has
        ``n`` even points plus every dose time, infusion end and a few points just after each (so the peaks of
        later doses are drawn).  Subjects without observations or with non-finite estimates are left out.

        All subjects are predicted together: the grids are padded to a common length (repeating the last time)
        and the doses with zero amounts, subjects grouped by their number of doses (within a factor 2, so one
        subject with many doses does not pad all the others); ODE models are solved in chunks of similar
        subjects (a chunk the solver cannot finish is split, down to single subjects)."""
        cols = ["subject", "id", "analyte", "time", "pred"]
        model = self.model()
        analytes = list(pd.unique(self.predictions["analyte"]))
        out_of = {a: _output_of(model, a) for a in analytes}
        outputs = sorted(set(out_of.values()))
        sids = self.subject_unit["subject"].to_numpy()
        uids = self.subject_unit["id"].to_numpy()
        codes, uniq = pd.factorize(pd.Series(sids, dtype=object))
        uniq = pd.Index(uniq, dtype=object)
        # observation range per subject (NaN: no observations)
        rng = self.predictions.groupby("subject", sort=False)["time"].agg(["min", "max"])
        rng = rng.set_axis(pd.Index(rng.index, dtype=object)).reindex(uniq)
        tmin, tmax = rng["min"].to_numpy(float)[codes], rng["max"].to_numpy(float)[codes]
        # structural estimates per fit id (the last row wins, like a dict)
        struct = self.table[self.table["kind"] == "structural"]
        struct = struct.drop_duplicates(["id", "parameter"], keep="last")
        wide = struct.pivot(index="id", columns="parameter", values="estimate").astype(float)
        wide = wide.set_axis(pd.Index(wide.index, dtype=object)).reindex(pd.Index(uids, dtype=object))
        vals = wide.to_numpy(float)
        keep = np.isfinite(tmin) & (vals.shape[1] > 0) & np.all(np.isfinite(vals), axis=1)
        rows = np.flatnonzero(keep)
        if rows.size == 0:
            return pd.DataFrame(columns=cols)
        params = {c: vals[rows, j] for j, c in enumerate(wide.columns)}
        dt, amt, dur, nd = _dose_arrays(self.dosing, uniq, codes[rows])
        lo, hi = np.minimum(0.0, tmin[rows]), tmax[rows]
        times, cnt = _curve_grids(lo, hi, dt, dur, nd, n)
        p_hourly = model.hourly(params)
        pred = {o: np.empty(times.shape) for o in outputs}
        for sel in _dose_buckets(nd):
            D, L = int(nd[sel].max()), max(int(cnt[sel].max()), 1)
            args = (times[sel, :L], dt[sel, :D], amt[sel, :D], dur[sel, :D])
            res = _predict_curves(model, {k: v[sel] for k, v in p_hourly.items()}, *args, outputs,
                                  self.spec.method)
            for o in outputs:
                pred[o][sel, :L] = res[o]
        # one row per subject x analyte x grid time (padding dropped)
        A, N = len(analytes), rows.size
        mask = np.broadcast_to(np.arange(times.shape[1])[None, None, :] < cnt[:, None, None],
                               (N, A, times.shape[1]))
        per = np.repeat(cnt, A)
        block = np.stack([pred[out_of[a]] for a in analytes], axis=1)
        return pd.DataFrame({"subject": np.repeat(sids[rows], A * cnt), "id": np.repeat(uids[rows], A * cnt),
                             "analyte": np.repeat(np.tile(np.asarray(analytes, dtype=object), N), per),
                             "time": np.broadcast_to(times[:, None, :], mask.shape)[mask], "pred": block[mask]},
                            columns=cols)

    def record_body(self) -> dict[str, Any]:
        """The JSON of ``adcbridge pk fit --format json`` (``parameters``: the parameter table of
        :meth:`parameters` as a list of rows)."""
        def num(v):
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)

        fits = []
        by_id: dict[str, list[dict]] = {}
        for r in self.table.to_dict("records"):
            by_id.setdefault(r["id"], []).append(r)
        for s in self.fit_statistics.to_dict("records"):
            rows = by_id.get(s["id"], [])
            fits.append({"id": s["id"],
                         "parameters": {r["parameter"]: {"estimate": num(r["estimate"]), "se": num(r["se"]),
                                                         "rse": num(r["rse"]), "ci_low": num(r["ci_low"]),
                                                         "ci_high": num(r["ci_high"]), "unit": r["unit"],
                                                         "fixed": bool(r["fixed"])}
                                        for r in rows},
                         "objective": num(s["ofv"]), "aic": num(s["aic"]), "bic": num(s["bic"]), "n": int(s["n"]),
                         "n_blq": int(s["n_blq"]), "converged": bool(s["converged"])})
        return {"model": self.spec.model, "error": self.spec.error, "pooled": self.spec.pooled,
                "objective_definition": "-2 log likelihood (normal residuals, constants included)",
                "fits": fits, "parameters": self.parameters()}


def _output_of(model, analyte: str) -> str:
    if len(model.outputs) == 1:
        return model.outputs[0]
    lower = {o.lower(): o for o in model.outputs}
    return lower.get(str(analyte).lower(), model.outputs[0])


_ODE_CHUNK = 500                  # subjects per ODE call in curves()
_ODE_STATES = 10_000_000          # bound on grid x states x subjects of one ODE call (the solver keeps them all)


def _dose_arrays(dosing: pd.DataFrame, subjects: pd.Index, codes: np.ndarray):
    """The doses of subjects ``subjects[codes]`` as arrays (N, D) in the dosing table's order, padded with zero
    amounts at time 0 (duration 1 h, or 0 when a bolus is among the doses, so the closed form keeps its
    infusion-only path), and the number of doses of each subject (N,)."""
    U = len(subjects)
    dc = subjects.get_indexer(pd.Index(dosing["subject"], dtype=object))
    ok = dc >= 0
    t, a, d = (dosing[c].to_numpy(float)[ok] for c in ("time", "amount", "duration"))
    dc = dc[ok]
    order = np.argsort(dc, kind="stable")
    dc, t, a, d = dc[order], t[order], a[order], d[order]
    nd = np.bincount(dc, minlength=U)
    D = int(nd.max()) if U else 0
    pos = np.arange(dc.size) - (np.cumsum(nd) - nd)[dc]
    dt, amt = np.zeros((U, D)), np.zeros((U, D))
    dur = np.full((U, D), 1.0 if np.all(d > 0) else 0.0)
    dt[dc, pos], amt[dc, pos], dur[dc, pos] = t, a, d
    return dt[codes], amt[codes], dur[codes], nd[codes]


def _curve_grids(lo, hi, dt, dur, nd, n: int):
    """Per row: ``np.unique`` of ``n`` even points on [lo, hi] (``np.linspace``), the dose times,
    infusion ends and the points just after them, restricted to [lo, hi]; as a (N, L) array padded by repeating
    the last time (the first ``cnt`` entries of a row are its grid), and ``cnt`` (N,)."""
    N, D = dt.shape
    real = np.tile(np.arange(D)[None, :] < nd[:, None], 2)
    marks = np.where(real, np.concatenate([dt, dt + dur], axis=1), np.nan)                   # (N, 2D)
    span = np.maximum(hi - lo, 1e-9)
    after = (marks[:, :, None] + span[:, None, None] * np.array([1e-4, 2e-3, 1e-2])).reshape(N, -1)
    base = np.linspace(lo, hi, n, axis=1)                                                    # (N, n)
    cand = np.concatenate([base, marks, after, np.full((N, 1), np.nan)], axis=1)
    s = np.sort(cand, axis=1)                                                                # NaN last
    valid = (s >= lo[:, None]) & (s <= hi[:, None])
    valid[:, 1:] &= s[:, 1:] != s[:, :-1]
    cnt = valid.sum(axis=1)
    L = max(int(cnt.max()), 1)
    g = np.take_along_axis(s, np.argsort(~valid, axis=1, kind="stable")[:, :L], axis=1)
    last = np.take_along_axis(g, np.maximum(cnt - 1, 0)[:, None], axis=1)
    last = np.where(cnt[:, None] > 0, last, lo[:, None])
    return np.where(np.arange(L)[None, :] < cnt[:, None], g, last), cnt


def _dose_buckets(nd: np.ndarray) -> list[np.ndarray]:
    """Rows grouped by their number of doses within a factor 2 (1, 2, 3-4, 5-8, ...; no dose goes with 1)."""
    key = np.ceil(np.log2(np.maximum(nd, 1))).astype(int)
    return [np.flatnonzero(key == k) for k in np.unique(key)]


def _predict_curves(model, p, times, dt, amt, dur, outputs, method):
    """``predict_arrays`` for many subjects: the closed form in one call; the ODE in chunks of similar subjects
    (at most ``_ODE_CHUNK``, and ``_ODE_STATES`` grid x states x subjects), a chunk that fails split in two down
    to single subjects (which raise as before)."""
    from .ode import ODEFailure
    from .predict import predict_arrays

    def call(idx):
        return predict_arrays(model, {k: v[idx] for k, v in p.items()}, times[idx], dt[idx], amt[idx], dur[idx],
                              outputs, method=method)

    if model.closed_form and method != "ode":
        return call(slice(None))
    N = times.shape[0]
    out = {o: np.empty(times.shape) for o in outputs}
    keys = [dur[:, j] for j in range(dur.shape[1] - 1, -1, -1)] + [dt[:, j] for j in range(dt.shape[1] - 1, -1, -1)]
    order = np.lexsort(keys + [times[:, -1], times[:, 0]])          # same range and doses: next to each other
    S = max(int(model.n_states), 1)

    def run(idx):
        split = idx.size > 1 and np.unique(times[idx]).size * S * idx.size > _ODE_STATES
        if not split:
            try:
                res = call(idx)
            except ODEFailure:
                if idx.size == 1:
                    raise
                split = True
            else:
                for o in outputs:
                    out[o][idx] = res[o]
        if split:
            h = idx.size // 2
            run(idx[:h])
            run(idx[h:])

    for a in range(0, N, _ODE_CHUNK):
        run(order[a:a + _ODE_CHUNK])
    return out
