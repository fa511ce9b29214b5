"""Batched dose-response fits from a long table: one model fitted independently to every curve (plates, screens,
bootstrap replicates), one row per curve.  The engine is :mod:`.batch`; the result's record (``to_record()``,
what ``adcbridge fit dose-response-batch --format json`` prints) summarises the batch without its table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .batch import STATUSES, fit_curves_array
from .data import numeric_column
from .models import PARAMETERS, get_model, model_name

__all__ = ["DoseResponseBatch", "DoseResponseBatchSpec", "fit_dose_response_batch", "long_to_arrays"]


class DoseResponseBatchSpec(Spec):
    """Options of :func:`fit_dose_response_batch`: columns ``x``, ``y``, ``curve``; ``model``; ``fixed``; ``se``
    (``"drc"`` or ``"jacobian"``, see :mod:`.fit`); ``max_iter`` of the batch iteration; ``fallback`` to a
    per-curve scipy refit of the curves that did not converge but have a finite optimum, at most ``max_fallback``
    of them (the others keep the batch result, with an issue)."""

    spec_name: ClassVar[str] = "fit_dose_response_batch"
    model: str = "LL.4"
    x: str = "conc"
    y: str = "response"
    curve: str = "curve"
    fixed: dict[str, float] = Field(default_factory=dict)
    se: Literal["drc", "jacobian"] = "drc"
    max_iter: int = Field(500, ge=1, le=100_000)
    fallback: bool = True
    max_fallback: int = Field(100, ge=0, le=1_000_000)

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, v):
        return model_name(v)

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, v):
        bad = [p for p in v if p not in ("b", "c", "d", "f")]
        if bad:
            raise ValueError(f"can fix only b, c, d or f; got {bad}")
        return v


@dataclass(frozen=True, eq=False)
class DoseResponseBatch(Result):
    """One row per curve in ``table``: ``curve``, ``n``, the free parameters and their SEs (``se_b`` ...),
    ``ed50``, ``ed50_se``, ``rss``, ``df_residual``, ``converged``, ``identifiable``, ``status`` (``converged``,
    ``not_identifiable`` -- least RSS reached, but many parameter values fit equally well --, ``diverged`` -- no
    finite optimum --, ``not_converged``, ``failed``; see :mod:`.batch`), ``iterations``, ``method`` (``batch``,
    ``scipy``, ``failed``), ``reason``, ``rss_limit`` (the least RSS of the curve's limiting curves -- constant,
    step, power curve -- where the batch needed it, else NaN) and ``limit`` (which of them)."""

    result_type: ClassVar[str] = "DoseResponseBatch"

    def status_counts(self) -> dict[str, int]:
        """Curves per ``status``: every status of :data:`~.batch.STATUSES`, in that order, zeros included."""
        counts = self.table["status"].astype(str).value_counts()
        return {s: int(counts.get(s, 0)) for s in (*STATUSES, *sorted(set(counts.index) - set(STATUSES)))}

    def median_ed50(self) -> float | None:
        """The median ED50 of the ``converged`` curves (those with a finite ED50); None when there is none."""
        t = self.table
        ed = t["ed50"].to_numpy(float)
        ok = ed[(t["status"] == "converged").to_numpy() & np.isfinite(ed)]
        return float(np.median(ok)) if ok.size else None

    def record_body(self) -> dict[str, Any]:
        """The JSON contract of ``adcbridge fit dose-response-batch``: ``{"model", "n_curves", "status": {status:
        curves} (:meth:`status_counts`), "median_ed50"`` (:meth:`median_ed50`, null when no curve converged to a
        finite ED50)``}``; :meth:`to_record` adds ``spec``, ``issues`` and ``provenance``.  The per-curve table is
        not part of the record (a batch may hold 100,000 curves): read ``table``, or write it
        (``adcbridge ... --out``); :meth:`to_json` keeps it."""
        return {"model": self.spec.model, "n_curves": len(self.table), "status": self.status_counts(),
                "median_ed50": self.median_ed50()}


def long_to_arrays(data: pd.DataFrame, *, x: str, y: str, curve: str):
    """(X, Y, labels): NaN-padded (N, m) dose and response arrays, one row per curve (order of first appearance),
    from a long table -- the input of :func:`~.batch.fit_curves_array`.  Bad input raises ValueError naming the
    column, row and curve."""
    return _pad(data, DoseResponseBatchSpec(x=x, y=y, curve=curve))


def _pad(data: pd.DataFrame, spec: DoseResponseBatchSpec):
    x = numeric_column(data, spec.x, "concentration")
    y = numeric_column(data, spec.y, "response")
    if spec.curve not in data.columns:
        raise ValueError(f"the curve column {spec.curve!r} is missing; the table has {list(map(str, data.columns))}")
    labels = data[spec.curve]
    if labels.isna().any():
        raise ValueError(f"the curve column {spec.curve!r} has no label in row "
                         f"{int(np.flatnonzero(labels.isna().to_numpy())[0]) + 1}")
    neg = x < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise ValueError(f"the concentration column {spec.x!r} must not be negative: row {i + 1} (curve "
                         f"{str(labels.iloc[i])!r}) holds {x[i]:g}")
    codes, uniques = pd.factorize(labels, sort=False)
    order = np.argsort(codes, kind="stable")
    c = codes[order]
    counts = np.bincount(c, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(c)) - starts[c]
    X = np.full((len(uniques), counts.max()), np.nan)
    Y = np.full_like(X, np.nan)
    X[c, pos], Y[c, pos] = x[order], y[order]
    return X, Y, uniques


def fit_dose_response_batch(data: pd.DataFrame, spec: DoseResponseBatchSpec | None = None,
                            **options) -> DoseResponseBatch:
    """Fit one ``model`` to every curve of a long table (``curve``, ``x``, ``y`` columns) independently and
    quickly; see the module docstring.

    >>> import numpy as np, pandas as pd
    >>> dose = np.tile([0.01, 0.1, 1, 10, 100], 2)
    >>> resp = np.r_[[99, 95, 52, 8, 2], [98, 80, 30, 5, 1]]
    >>> b = fit_dose_response_batch(pd.DataFrame({"curve": np.repeat(["A", "B"], 5), "conc": dose,
    ...                                           "response": resp}))
    >>> b.table["method"].tolist()
    ['batch', 'batch']
    """
    if spec is None:
        spec = DoseResponseBatchSpec(**options)
    elif options:
        spec = spec.replace(**options)
    X, Y, labels = _pad(data, spec)
    fit = fit_curves_array(X, Y, spec.model, fixed=dict(spec.fixed), se=spec.se, max_iter=spec.max_iter,
                           fallback=spec.fallback, max_fallback=spec.max_fallback)
    model = get_model(spec.model)
    free = [p for p in PARAMETERS if p not in model.fixed and p not in spec.fixed]
    cols = {"curve": pd.Series(labels, dtype=object).to_numpy(), "n": fit.n_obs}
    for p in free:
        cols[p] = fit.params[:, PARAMETERS.index(p)]
    for p in free:
        cols[f"se_{p}"] = fit.se[:, PARAMETERS.index(p)]
    cols.update({"ed50": fit.ed50, "ed50_se": fit.ed50_se, "rss": fit.rss, "df_residual": fit.df_residual,
                 "converged": fit.converged, "identifiable": fit.identifiable, "status": fit.status,
                 "iterations": fit.iterations, "method": fit.method,
                 "reason": fit.reason, "rss_limit": fit.rss_limit, "limit": fit.limit})
    table = pd.DataFrame(cols)
    issues = []
    n = len(labels)
    counts = {k: int(np.sum(fit.status == k)) for k in ("failed", "diverged", "not_converged")}
    if counts["failed"]:
        issues.append(Issue("curves_not_fitted", f"{counts['failed']} of {n} curves could not be fitted (see the "
                                                 f"'reason' column)"))
    if counts["diverged"]:
        issues.append(Issue("no_finite_estimate", f"{counts['diverged']} of {n} curves have no finite least-squares "
                                                  f"estimate: their fits run out to a limiting curve (a step, a "
                                                  f"power curve without inflection or a constant; see 'limit' and "
                                                  f"'rss_limit') and were not refitted", "error"))
    if counts["not_converged"]:
        issues.append(Issue("not_converged", f"{counts['not_converged']} of {n} curves did not converge", "error"))
    issues += list(fit.issues)
    n_scipy = int(np.sum(fit.method == "scipy"))
    if n_scipy:
        issues.append(Issue("scipy_fallback", f"{n_scipy} curves were refitted one by one with scipy", "info"))
    unident = int(np.sum(~fit.identifiable & (fit.method != "failed")))
    if unident:
        issues.append(Issue("non_identifiable", f"{unident} of {len(labels)} curves have parameters that the data "
                                                f"do not identify (see the 'reason' column)"))
    no_se = int(np.sum(np.isnan(fit.ed50_se) & (fit.method != "failed")))
    if no_se:
        issues.append(Issue("standard_errors_missing", f"{no_se} curves have no standard errors (a Hessian that "
                                                       f"is not positive definite or an unreached ED50)"))
    return DoseResponseBatch(spec=spec, table=table, issues=tuple(issues), provenance=make_provenance(spec, data))
