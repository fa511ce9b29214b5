"""The options of a PK fit (a frozen specification) and its frozen result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

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
class PKFitResult(Result):
    """A compartmental PK fit (individual or naive pooled).

    ``table``: one row per fit ``id`` (subject or pooled group) x parameter: ``estimate``, ``se`` (delta method
    from the log scale), ``rse`` (%), ``ci_low``/``ci_high`` (``exp(log estimate -/+ z se_log)``), ``unit``,
    ``kind`` (``structural``/``error``), ``fixed``.  ``fit_statistics``: per id ``n`` (observations used),
    ``n_blq`` (excluded, M1), ``n_predose``, ``n_parameters``, ``ofv`` (-2 log L), ``aic``, ``bic``,
    ``converged``, ``iterations``, ``starts_at_best``, ``max_abs_corr``.  ``predictions``: per
    observation ``id``, ``subject``, ``analyte``, ``time``, ``dv``, ``pred``, ``res``, ``wres`` (residual / its
    SD; on the log scale for ``log``).  ``dosing``: the doses used (subject, time h, amount, duration h).
    ``subject_unit``: which fit id each subject belongs to."""

    fit_statistics: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    dosing: pd.DataFrame | None = None
    subject_unit: pd.DataFrame | None = None

    result_type: ClassVar[str] = "PKFitResult"

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
        later doses are drawn)."""
        from .predict import predict_arrays
        model = self.model()
        out_of = {a: _output_of(model, a) for a in pd.unique(self.predictions["analyte"])}
        outputs = sorted(set(out_of.values()))
        obs_by = dict(tuple(self.predictions.groupby("subject", sort=False)))
        dose_by = dict(tuple(self.dosing.groupby("subject", sort=False)))
        struct = self.table[self.table["kind"] == "structural"]
        params_by = {uid: dict(zip(g["parameter"], g["estimate"].astype(float)))
                     for uid, g in struct.groupby("id", sort=False)}
        rows = []
        for sid, uid in zip(self.subject_unit["subject"], self.subject_unit["id"]):
            obs = obs_by.get(sid)
            if obs is None or obs.empty:
                continue
            ds = dose_by.get(sid, self.dosing.iloc[0:0])
            lo, hi = min(0.0, float(obs["time"].min())), float(obs["time"].max())
            marks = np.concatenate([ds["time"].to_numpy(float), (ds["time"] + ds["duration"]).to_numpy(float)])
            span = max(hi - lo, 1e-9)
            after = (marks[:, None] + span * np.array([1e-4, 2e-3, 1e-2])[None, :]).ravel()
            t = np.unique(np.concatenate([np.linspace(lo, hi, n), marks, after]))
            t = t[(t >= lo) & (t <= hi)]
            p = params_by.get(uid, {})
            if not p or any(not np.isfinite(v) for v in p.values()):
                continue
            pr = predict_arrays(model, model.hourly({k: np.array([v]) for k, v in p.items()}), t[None],
                                ds["time"].to_numpy()[None], ds["amount"].to_numpy()[None],
                                ds["duration"].to_numpy()[None], outputs, method=self.spec.method)
            for a, o in out_of.items():
                rows.append(pd.DataFrame({"subject": sid, "id": uid, "analyte": a, "time": t, "pred": pr[o][0]}))
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
            columns=["subject", "id", "analyte", "time", "pred"])

    def to_contract(self) -> dict[str, Any]:
        """The JSON of ``adcbridge pk fit --format json``."""
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
                "fits": fits, "issues": [{"code": i.code, "severity": i.severity, "message": i.message}
                                         for i in self.issues]}


def _output_of(model, analyte: str) -> str:
    if len(model.outputs) == 1:
        return model.outputs[0]
    lower = {o.lower(): o for o in model.outputs}
    return lower.get(str(analyte).lower(), model.outputs[0])


