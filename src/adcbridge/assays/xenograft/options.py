"""Options of a xenograft efficacy analysis (one specification shared by every part of the analysis, so each
result records exactly the choices that produced it)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from adcbridge.spec import Spec

__all__ = ["XenograftOptions", "TGI_DEFINITIONS"]

# name -> (kind, one-line formula).  The formulas are written out in docs/assays_xenograft.md and tgi.py.
TGI_DEFINITIONS: dict[str, tuple[str, str]] = {
    "delta_v": ("TGI", "100 [1 - (mean T_t - mean T_0) / (mean C_t - mean C_0)]"),
    "delta_v_median": ("TGI", "100 [1 - (median T_t - median T_0) / (median C_t - median C_0)]"),
    "tc_mean": ("T/C", "100 mean T_t / mean C_t"),
    "tgi_tc_mean": ("TGI", "100 - 100 mean T_t / mean C_t"),
    "tc_median": ("T/C", "100 median T_t / median C_t"),
    "tc_geomean": ("T/C", "100 geomean T_t / geomean C_t"),
    "tc_rtv": ("T/C", "100 mean(V_t / V_0)_T / mean(V_t / V_0)_C"),
    "tgi_auc": ("TGI", "100 [1 - AUC(mean T, day 0..t) / AUC(mean C, day 0..t)] (trapezoid)"),
    "nci_tc": ("T/C", "100 (T_t - T_0)/(C_t - C_0) if T_t >= T_0, else 100 (T_t - T_0)/T_0 (NCI, means)"),
    "regression": ("regression", "100 (mean T_t - mean T_0) / mean T_0 when mean T_t < mean T_0, else missing"),
    "tgi_rate": ("TGI", "100 (1 - g_T / g_C), g the mixed-model slope of ln V per day"),
}


class XenograftOptions(Spec):
    """Options of a xenograft efficacy analysis.

    * ``control`` -- the control (vehicle) group; required by TGI, T/C, contrasts, TGD.  Never guessed.
    * ``tgi`` -- the TGI/T-C definitions to report, by name (see :data:`TGI_DEFINITIONS`), or ``("all",)``.
      There is no default: a TGI number is always labelled with the definition that produced it.
    * ``days`` -- evaluation days for TGI, T/C and the cross-sectional tests (e.g. ``(14, 21)``).
    * ``baseline_day`` -- the day of V0 (default: the first day of the study; every animal needs it).
    * ``humane_endpoint`` -- a volume (same unit as the data): measurements after an animal's first volume
      above it are dropped (the animal left the study), as the reference data were generated.
    * ``dropout`` -- group means after dropouts: ``"available"`` (the animals still on study, as the reference
      does; survivor-biased, reported as an issue) or ``"carry_forward"`` (the last volume of an animal that left
      at the humane endpoint is carried forward).
    * ``volume_floor`` -- volumes below it are raised to it before logs are taken (needed when a tumour
      regresses to 0); ``None``: a zero volume is an error for the log-scale analyses.
    * ``endpoint_fold`` / ``endpoint_volume`` -- time-to-endpoint target: ``fold x V0`` or an absolute volume
      (one of them; neither: 4 x V0).
    * ``doubling_time`` -- the control doubling time (days) for the log10 cell kill; default: ln 2 over the
      control slope of the mixed model.
    * ``best_response_from_day`` -- best response and best average response use days >= this (Gao et al. 10).
    * ``confidence`` -- level of confidence intervals.  ``volume_unit``, ``time_unit`` -- labels.
    """

    spec_name: ClassVar[str] = "xenograft"
    control: str | None = None
    tgi: tuple[str, ...] = ()
    days: tuple[float, ...] = ()
    baseline_day: float | None = None
    humane_endpoint: float | None = Field(None, gt=0)
    dropout: Literal["available", "carry_forward"] = "available"
    volume_floor: float | None = Field(None, gt=0)
    endpoint_fold: float | None = Field(None, gt=1)
    endpoint_volume: float | None = Field(None, gt=0)
    doubling_time: float | None = None
    best_response_from_day: float = 10.0
    confidence: float = Field(0.95, gt=0, lt=1)
    min_random_sd_ratio: float = Field(1e-6, gt=0, lt=1)
    max_random_correlation: float = Field(0.9999, gt=0, le=1)
    min_random_variance: float = Field(1e-10, gt=0)
    volume_unit: str = "mm3"
    time_unit: str = "day"

    @field_validator("tgi", mode="before")
    @classmethod
    def _tgi(cls, v):
        if isinstance(v, str):
            v = (v,)
        v = tuple(str(x) for x in v)
        if "all" in v:
            return tuple(TGI_DEFINITIONS)
        unknown = [x for x in v if x not in TGI_DEFINITIONS]
        if unknown:
            raise ValueError(f"must name definitions among {sorted(TGI_DEFINITIONS)} or 'all'")
        return tuple(dict.fromkeys(v))

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, v):
        if isinstance(v, (int, float)):
            v = (v,)
        return tuple(float(x) for x in v)

    @model_validator(mode="after")
    def _endpoint(self):
        if self.endpoint_volume is not None and self.endpoint_fold is not None:
            raise ValueError("Give either 'endpoint_fold' or 'endpoint_volume' of xenograft, not both.")
        return self

    @property
    def target(self) -> tuple[str, float]:
        """The time-to-endpoint target: ``("volume", v)`` or ``("fold", f)``."""
        if self.endpoint_volume is not None:
            return "volume", float(self.endpoint_volume)
        return "fold", float(self.endpoint_fold if self.endpoint_fold is not None else 4.0)
