"""The options of a dose-response fit (an inert, validated specification)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from adcbridge.spec import Spec

from .models import PARAMETERS, get_model, model_name

#: identifiability checks (single fits read them from the spec, whose defaults these are; the batch fit uses them)
MAX_RELATIVE_SE = 10.0     # b, e or f with SE above this many times the estimate: not identified
MAX_CONDITION = 1e10       # column-scaled J'J condition number above this: not identified

__all__ = ["PARALLEL", "DoseResponseSpec"]

PARALLEL = "parallel"


class DoseResponseSpec(Spec):
    """Options of :func:`~adcbridge.assays.dose_response.fit_dose_response`.

    * ``model``: ``LL.4`` (default), ``LL.5``, ``W1.4``, ``W2.4`` or ``LL.3`` (aliases ``LL4``, ``W14`` ...).
    * ``x``, ``y``, ``curve``: the concentration, response and (optional) curve-label columns; ``x_unit``,
      ``y_unit`` label the units in the tables.
    * ``shared``: parameters common to all curves (drc's ``pmodels``): ``()`` fits separate curves,
      ``("b", "c", "d")`` is the parallel model (for LL.5 also ``"f"``), ``("c", "d")`` common asymptotes.
      ``"parallel"`` is accepted as a shorthand for all parameters but e.
    * ``fixed``: parameters held at a value for every curve, e.g. ``{"c": 0}`` (fixed bottom), ``{"d": 100}``
      (fixed top), ``{"b": 1}``.  e cannot be fixed.
    * ``se``: ``"drc"`` -- the inverse Hessian of the residual sum of squares, s^2 (J'J - sum r_i H_i)^-1, as drc
      reports (observed information) -- or ``"jacobian"``: the Gauss-Newton s^2 (J'J)^-1 of nls, Prism and
      scipy.  Both are kept on the result; this chooses the one used in tables and CIs.
    * ``ed_levels`` (percentages in (0, 100)), ``ed_interval`` (``"delta"`` or ``"tfls"``, the interval put in
      the CLI contract), ``confidence`` (two-sided level of every CI).
    * ``test_parallelism``: with two or more curves, also fit the separate and the parallel model and test
      parallelism by the extra-sum-of-squares F-test.
    * ``max_relative_se`` (10) and ``max_condition`` (1e10): a curve is flagged ``not_identifiable`` when a
      parameter's SE exceeds this multiple of its estimate or the information matrix is this ill-conditioned.
    """

    spec_name: ClassVar[str] = "fit_dose_response"

    model: str = "LL.4"
    x: str = "conc"
    y: str = "response"
    curve: str | None = None
    shared: tuple[str, ...] = ()
    fixed: dict[str, float] = Field(default_factory=dict)
    se: Literal["drc", "jacobian"] = "drc"
    ed_levels: tuple[float, ...] = (10.0, 50.0, 90.0)
    ed_interval: Literal["delta", "tfls"] = "delta"
    confidence: float = Field(0.95, gt=0, lt=1)
    test_parallelism: bool = True
    max_relative_se: float = Field(MAX_RELATIVE_SE, gt=0)
    max_condition: float = Field(MAX_CONDITION, gt=1)
    x_unit: str | None = None
    y_unit: str | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, v):
        return model_name(v)

    @field_validator("shared", mode="before")
    @classmethod
    def _shared(cls, v):
        if isinstance(v, str):
            v = (v,)
        v = tuple(str(p) for p in v)
        bad = [p for p in v if p not in PARAMETERS and p != PARALLEL]
        if bad:
            raise ValueError(f"must name parameters among {PARAMETERS} (or be 'parallel'); got {bad}")
        return v

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, v):
        for p, value in v.items():
            if p not in ("b", "c", "d", "f"):
                raise ValueError(f"can fix only b, c, d or f; got {p!r}")
            if p == "b" and value == 0:
                raise ValueError("cannot fix b at 0 (a flat curve)")
            if p == "f" and not value > 0:
                raise ValueError(f"must fix f at a positive value; got {value}")
        return v

    @field_validator("ed_levels")
    @classmethod
    def _levels(cls, v):
        if not v or any(not (0 < p < 100) for p in v):
            raise ValueError("must be percentages strictly between 0 and 100")
        return tuple(float(p) for p in v)

    @model_validator(mode="after")
    def _consistent(self):
        model = get_model(self.model)
        shared = self.shared_parameters
        for p in self.fixed:
            if p not in model.free:
                raise ValueError(f"The 'fixed' parameter of fit_dose_response names {p!r}, which model "
                                 f"{model.name} already fixes at {model.fixed[p]:g}.")
        for p in shared:
            if p not in model.free:
                raise ValueError(f"The 'shared' parameter of fit_dose_response names {p!r}, which model "
                                 f"{model.name} fixes.")
            if p in self.fixed:
                raise ValueError(f"The 'shared' parameter of fit_dose_response names {p!r}, which 'fixed' fixes.")
        return self

    @property
    def shared_parameters(self) -> tuple[str, ...]:
        """The shared parameters with ``"parallel"`` expanded (every free parameter but e)."""
        model = get_model(self.model)
        if PARALLEL in self.shared:
            return tuple(p for p in model.free if p != "e" and p not in self.fixed)
        return tuple(p for p in PARAMETERS if p in self.shared)

    @property
    def free_parameters(self) -> tuple[str, ...]:
        return tuple(p for p in get_model(self.model).free if p not in self.fixed)
