"""The PK models: declarations only (parameters, outputs, equations).  Units: :mod:`adcbridge.pk.units`.

=============  ==========================================================================  ==============
name           equations (amounts A in ug/kg, C = A / V in ug/mL, per-hour parameters)      solution
=============  ==========================================================================  ==============
``1cmt``       dA1 = in - CL C1                                                            closed form
``2cmt``       dA1 = in - CL C1 - Q (C1 - C2);  dA2 = Q (C1 - C2)                          closed form
``3cmt``       as 2cmt with a second peripheral (Q3, V3)                                   closed form
``mm``         2cmt plus Michaelis-Menten elimination ``Vmax C1 / (Km + C1)``              ODE
``qss``        2cmt plus quasi-steady-state TMDD (Gibiansky 2008), see :class:`QssTmdd`    ODE
``adc``        ADC 2cmt with CL_ADC = CLcat + CLdec; DAR0 antibody formed by CLdec C_ADC,  closed form
               cleared by CLcat (same V1, Q, V2); TAb = ADC + DAR0; payload 1cmt formed at
               CLdec C_ADC f (f = mass of payload released per mass of ADC deconjugated)
=============  ==========================================================================  ==============

Closed-form models also declare the ODE (``method="ode"`` in :func:`adcbridge.pk.simulate` solves it), which
the tests use to check one against the other.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .mammillary import mammillary_exponentials, mammillary_rhs
from .model import Parameter, PKModel
from .units import MG_TO_UG

__all__ = ["OneCompartment", "TwoCompartment", "ThreeCompartment", "MichaelisMenten", "QssTmdd",
           "AdcDeconjugation", "MODELS", "get_model"]

_BIG = 1e7


def _cl(name, start, text):
    return Parameter(name, "clearance", 1e-6, _BIG, start, text)


def _v(name, start, text):
    return Parameter(name, "volume", 1e-4, _BIG, start, text)


class _Mammillary(PKModel):
    closed_form: ClassVar[bool] = True

    def _peripherals(self, p):
        return ()

    def exponentials(self, p, output):
        return mammillary_exponentials(p["CL"], p["V1" if "V1" in p else "V"], self._peripherals(p))

    def rhs(self, x, p, rate_in):
        return mammillary_rhs(x, p["CL"], p["V1" if "V1" in p else "V"], self._peripherals(p), rate_in)

    def observe(self, x, p, output):
        return x[0] / p["V1" if "V1" in p else "V"]


class OneCompartment(_Mammillary):
    """One compartment: ``C(t) = 1000 D / V exp(-CL/V t)`` per bolus dose D (mg/kg)."""

    name: ClassVar[str] = "1cmt"
    parameters = (_cl("CL", 0.8, "clearance"), _v("V", 60.0, "volume of distribution"))
    n_states: ClassVar[int] = 1


class TwoCompartment(_Mammillary):
    """Two compartments: central V1 with clearance CL, peripheral V2 with intercompartmental clearance Q."""

    name: ClassVar[str] = "2cmt"
    parameters = (_cl("CL", 0.8, "clearance"), _v("V1", 40.0, "central volume"),
                  _cl("Q", 1.2, "intercompartmental clearance"), _v("V2", 40.0, "peripheral volume"))
    n_states: ClassVar[int] = 2

    def _peripherals(self, p):
        return ((p["Q"], p["V2"]),)


class ThreeCompartment(_Mammillary):
    """Three compartments: as 2cmt with a second peripheral volume V3 (clearance Q3)."""

    name: ClassVar[str] = "3cmt"
    parameters = (_cl("CL", 0.8, "clearance"), _v("V1", 40.0, "central volume"),
                  _cl("Q2", 1.2, "clearance to the shallow peripheral"), _v("V2", 30.0, "shallow peripheral volume"),
                  _cl("Q3", 0.3, "clearance to the deep peripheral"), _v("V3", 30.0, "deep peripheral volume"))
    n_states: ClassVar[int] = 3

    def _peripherals(self, p):
        return ((p["Q2"], p["V2"]), (p["Q3"], p["V3"]))


class MichaelisMenten(PKModel):
    """2cmt with linear (CL) plus saturable elimination ``Vmax C1 / (Km + C1)`` (ug/h/kg) from the central
    compartment -- target-mediated clearance that saturates at high doses."""

    name: ClassVar[str] = "mm"
    parameters = TwoCompartment.parameters + (
        Parameter("Vmax", "amount_rate", 1e-6, 1e9, 10.0, "maximal saturable elimination rate"),
        Parameter("Km", "conc", 1e-6, 1e6, 1.0, "concentration at half-maximal saturable elimination"))
    n_states: ClassVar[int] = 2

    def rhs(self, x, p, rate_in):
        c1 = np.maximum(x[0] / p["V1"], 0.0)
        dx = mammillary_rhs(x, p["CL"], p["V1"], ((p["Q"], p["V2"]),), rate_in)
        dx[0] -= p["Vmax"] * c1 / (p["Km"] + c1)
        return dx

    def observe(self, x, p, output):
        return x[0] / p["V1"]


def free_conc(ctot, rtot, kss):
    """QSS free concentration ``C = ((Ctot - Rtot - Kss) + sqrt((Ctot - Rtot - Kss)^2 + 4 Kss Ctot)) / 2``,
    computed without cancellation: with ``d = Ctot - Rtot - Kss`` and ``a = sqrt(d^2 + 4 Kss Ctot) + |d|``,
    ``C = a / 2`` when ``d >= 0`` and ``C = 2 Kss Ctot / a`` otherwise (the two roots' product is ``-Kss Ctot``)."""
    ctot = np.maximum(ctot, 0.0)
    d = ctot - rtot - kss
    a = np.sqrt(d * d + 4.0 * kss * ctot) + np.abs(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d >= 0, 0.5 * a, np.where(a > 0, 2.0 * kss * ctot / a, 0.0))


class QssTmdd(PKModel):
    """2cmt with quasi-steady-state target-mediated drug disposition (Gibiansky et al. 2008).

    States: total drug in the central compartment ``Atot`` (free + bound, ug/kg), peripheral ``A2``, total target
    ``Rtot`` (drug-mass-equivalent concentration, ug/mL, starting at the baseline ``R0``)::

        C     = free_conc(Atot / V1, Rtot, Kss)
        dAtot = in - CL C - Q (C - A2/V2) - kint (Atot/V1 - C) V1
        dA2   = Q (C - A2/V2)
        dRtot = kdeg R0 - kdeg Rtot - (kint - kdeg) (Atot/V1 - C)

    Outputs: ``C`` (free drug) and ``Ctot`` (total drug)."""

    name: ClassVar[str] = "qss"
    outputs: ClassVar[tuple[str, ...]] = ("C", "Ctot")
    parameters = TwoCompartment.parameters + (
        Parameter("R0", "conc", 1e-8, 1e6, 1.0, "baseline target (drug-equivalent concentration)"),
        Parameter("kdeg", "rate", 1e-8, 1e2, 0.05, "target degradation rate constant"),
        Parameter("kint", "rate", 1e-8, 1e2, 0.1, "complex internalisation rate constant"),
        Parameter("Kss", "conc", 1e-8, 1e6, 0.1, "quasi-steady-state constant"))
    n_states: ClassVar[int] = 3

    def initial(self, p, n):
        x = np.zeros((3, n))
        x[2] = np.broadcast_to(p["R0"], (n,))
        return x

    def rhs(self, x, p, rate_in):
        ctot = x[0] / p["V1"]
        c = free_conc(ctot, x[2], p["Kss"])
        bound = ctot - c
        flow = p["Q"] * (c - x[1] / p["V2"])
        return np.stack([rate_in - p["CL"] * c - flow - p["kint"] * bound * p["V1"], flow,
                         p["kdeg"] * (p["R0"] - x[2]) - (p["kint"] - p["kdeg"]) * bound])

    def observe(self, x, p, output):
        ctot = x[0] / p["V1"]
        return ctot if output == "Ctot" else free_conc(ctot, x[2], p["Kss"])


class AdcDeconjugation(PKModel):
    """ADC, total antibody and released payload linked by deconjugation (the synthetic cynomolgus study).

    ADC: 2cmt with ``CL_ADC = CLcat + CLdec``.  Deconjugated (DAR0) antibody: formed at ``CLdec C_ADC``, cleared
    by ``CLcat``, same V1/Q/V2, so total antibody ``TAb = ADC + DAR0`` is the 2cmt response with ``CL = CLcat``.
    Payload (ng/mL): one compartment ``Vpl``, ``dP/dt = 1000 f CLdec C_ADC - CLpl P / Vpl`` with
    ``f = payload_fraction`` (ng of payload per ng of ADC deconjugated; 0.025 in the study).  With the ADC unit
    response ``sum_i A_i exp(-l_i t)`` and ``k = CLpl / Vpl`` the payload response is
    ``sum_i b_i (exp(-l_i t) - exp(-k t))``, ``b_i = 1000 f CLdec A_i / (Vpl (k - l_i))``.
    """

    name: ClassVar[str] = "adc"
    closed_form: ClassVar[bool] = True
    outputs: ClassVar[tuple[str, ...]] = ("ADC", "TAb", "PAYLOAD")
    output_units: ClassVar[dict[str, str]] = {"PAYLOAD": "ng/mL"}
    parameters = (_cl("CLcat", 0.5, "catabolic clearance (ADC and DAR0)"),
                  _cl("CLdec", 0.33, "deconjugation clearance (ADC -> DAR0 + payload)"),
                  _v("V1", 40.0, "central volume (antibody)"), _cl("Q", 1.2, "intercompartmental clearance"),
                  _v("V2", 40.0, "peripheral volume (antibody)"), _cl("CLpl", 250.0, "payload clearance"),
                  _v("Vpl", 1500.0, "payload volume"))
    n_states: ClassVar[int] = 5

    def __init__(self, rate_time: str = "h", per_kg: bool = True, payload_fraction: float = 0.025):
        super().__init__(rate_time, per_kg)
        if not 0 < payload_fraction <= 1:
            raise ValueError(f"The 'payload_fraction' parameter of adc must be in (0, 1]. Got {payload_fraction!r}.")
        self.payload_fraction = float(payload_fraction)

    def exponentials(self, p, output):
        per = ((p["Q"], p["V2"]),)
        if output == "TAb":
            return mammillary_exponentials(p["CLcat"], p["V1"], per)
        A, lam = mammillary_exponentials(p["CLcat"] + p["CLdec"], p["V1"], per)
        if output == "ADC":
            return A, lam
        k = np.atleast_1d(p["CLpl"] / p["Vpl"])[..., None] * np.ones_like(lam[..., :1])
        gap = k - lam
        tiny = 1e-7 * k
        gap = np.where(np.abs(gap) < tiny, np.where(gap < 0, -tiny, tiny), gap)   # coincident rates: nudge
        b = MG_TO_UG * self.payload_fraction * np.atleast_1d(p["CLdec"])[..., None] * A / (
            np.atleast_1d(p["Vpl"])[..., None] * gap)
        return np.concatenate([b, -b.sum(-1, keepdims=True)], -1), np.concatenate([lam, k], -1)

    def rhs(self, x, p, rate_in):
        c1 = x[0] / p["V1"]
        adc = mammillary_rhs(x[:2], p["CLcat"] + p["CLdec"], p["V1"], ((p["Q"], p["V2"]),), rate_in)
        dar0 = mammillary_rhs(x[2:4], p["CLcat"], p["V1"], ((p["Q"], p["V2"]),), p["CLdec"] * c1)
        pl = MG_TO_UG * self.payload_fraction * p["CLdec"] * c1 - p["CLpl"] * x[4] / p["Vpl"]
        return np.concatenate([adc, dar0, pl[None]])

    def observe(self, x, p, output):
        if output == "ADC":
            return x[0] / p["V1"]
        if output == "TAb":
            return (x[0] + x[2]) / p["V1"]
        return x[4] / p["Vpl"]


MODELS = {m.name: m for m in (OneCompartment, TwoCompartment, ThreeCompartment, MichaelisMenten, QssTmdd,
                              AdcDeconjugation)}


def get_model(name: str | PKModel, **options) -> PKModel:
    """A model instance by name (``1cmt``, ``2cmt``, ``3cmt``, ``mm``, ``qss``, ``adc``) or the instance itself."""
    if isinstance(name, PKModel):
        return name
    if name not in MODELS:
        raise ValueError(f"unknown PK model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](**options)
