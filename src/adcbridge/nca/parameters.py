"""The NCA parameter registry: every parameter once, with its CDISC PPTESTCD, meaning, unit kind and routes.

Unit kinds are turned into unit strings by :class:`NcaUnits`: concentrations and times as declared, AUC as
time*concentration, clearances and volumes converted to mL (per kg when the dose is per kg).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import model_validator

from adcbridge.spec import Spec

__all__ = ["Parameter", "REGISTRY", "NcaUnits", "parameters_for_route"]

EV, BOLUS, INF = "extravascular", "iv-bolus", "iv-infusion"
ALL = (EV, BOLUS, INF)
IV = (BOLUS, INF)


@dataclass(frozen=True)
class Parameter:
    code: str               # CDISC PPTESTCD
    name: str               # what it is
    unit: str               # unit kind
    routes: tuple[str, ...] = ALL
    needs_dose: bool = False


_P = Parameter
REGISTRY: dict[str, Parameter] = {p.code: p for p in [
    _P("CMAX", "maximum observed concentration", "conc"),
    _P("TMAX", "time of the maximum observed concentration", "time"),
    _P("TLAG", "time before the first increase in concentration (lag time)", "time", (EV,)),
    _P("C0", "back-extrapolated concentration at the dose time", "conc", (BOLUS,)),
    _P("CEOI", "concentration at the end of the infusion", "conc", (INF,)),
    _P("CLST", "last measurable concentration", "conc"),
    _P("CLSTP", "concentration predicted at Tlast by the lambda_z regression", "conc"),
    _P("TLST", "time of the last measurable concentration", "time"),
    _P("LAMZ", "terminal elimination rate constant lambda_z", "rate"),
    _P("LAMZHL", "terminal half-life", "time"),
    _P("LAMZNPT", "number of points used for lambda_z", "count"),
    _P("LAMZLL", "first time used for lambda_z", "time"),
    _P("LAMZUL", "last time used for lambda_z", "time"),
    _P("LAMZSPN", "span of the lambda_z points in half-lives", "ratio"),
    _P("R2", "R squared of the lambda_z regression", "ratio"),
    _P("R2ADJ", "adjusted R squared of the lambda_z regression", "ratio"),
    _P("CORRXY", "correlation of ln(concentration) and time in the lambda_z regression", "ratio"),
    _P("AUCLST", "AUC from the dose to the last measurable concentration", "auc"),
    _P("AUCALL", "AUC from the dose to the last sample (BLQ after Tlast as 0)", "auc"),
    _P("AUCIFO", "AUC to infinity, extrapolated from the observed Clast", "auc"),
    _P("AUCIFP", "AUC to infinity, extrapolated from the predicted Clast", "auc"),
    _P("AUCPEO", "% of AUCIFO extrapolated", "percent"),
    _P("AUCPEP", "% of AUCIFP extrapolated", "percent"),
    _P("AUCPBEO", "% of AUCIFO back-extrapolated (dose time to first sample)", "percent", (BOLUS,)),
    _P("AUCPBEP", "% of AUCIFP back-extrapolated (dose time to first sample)", "percent", (BOLUS,)),
    _P("AUMCLST", "AUMC to the last measurable concentration", "aumc"),
    _P("AUMCIFO", "AUMC to infinity (observed Clast)", "aumc"),
    _P("AUMCIFP", "AUMC to infinity (predicted Clast)", "aumc"),
    _P("AUMCPEO", "% of AUMCIFO extrapolated", "percent"),
    _P("AUMCPEP", "% of AUMCIFP extrapolated", "percent"),
    _P("MRTEVLST", "mean residence time to Tlast (extravascular)", "time", (EV,)),
    _P("MRTEVIFO", "mean residence time to infinity, observed (extravascular)", "time", (EV,)),
    _P("MRTEVIFP", "mean residence time to infinity, predicted (extravascular)", "time", (EV,)),
    _P("MRTIVLST", "mean residence time to Tlast (intravascular, infusion-corrected)", "time", IV),
    _P("MRTIVIFO", "mean residence time to infinity, observed (intravascular, infusion-corrected)", "time", IV),
    _P("MRTIVIFP", "mean residence time to infinity, predicted (intravascular, infusion-corrected)", "time", IV),
    _P("CMAXD", "Cmax divided by the dose", "conc_per_dose", needs_dose=True),
    _P("AUCLSTD", "AUClast divided by the dose", "auc_per_dose", needs_dose=True),
    _P("AUCIFOD", "AUCIFO divided by the dose", "auc_per_dose", needs_dose=True),
    _P("AUCIFPD", "AUCIFP divided by the dose", "auc_per_dose", needs_dose=True),
    _P("CLFO", "apparent clearance CL/F (observed)", "clearance", (EV,), True),
    _P("CLFP", "apparent clearance CL/F (predicted)", "clearance", (EV,), True),
    _P("VZFO", "apparent terminal volume Vz/F (observed)", "volume", (EV,), True),
    _P("VZFP", "apparent terminal volume Vz/F (predicted)", "volume", (EV,), True),
    _P("CLO", "clearance (observed)", "clearance", IV, True),
    _P("CLP", "clearance (predicted)", "clearance", IV, True),
    _P("VZO", "terminal volume Vz (observed)", "volume", IV, True),
    _P("VZP", "terminal volume Vz (predicted)", "volume", IV, True),
    _P("VSSO", "volume at steady state (observed)", "volume", IV, True),
    _P("VSSP", "volume at steady state (predicted)", "volume", IV, True),
    _P("AUCINT", "partial AUC over [PPSTINT, PPENINT]", "auc"),
    # multiple dose, per dosing interval
    _P("AUCTAU", "AUC over the dosing interval", "auc"),
    _P("CMIN", "minimum observed concentration in the dosing interval", "conc"),
    _P("CTROUGH", "concentration at the end of the dosing interval", "conc"),
    _P("CAVG", "average concentration over the dosing interval (AUCTAU / tau)", "conc"),
    _P("FLUCP", "% peak-trough fluctuation 100 (Cmax - Cmin) / Cavg", "percent"),
    _P("SWING", "swing 100 (Cmax - Cmin) / Cmin", "percent"),
    _P("PTROUGHR", "peak-trough ratio Cmax / Ctrough", "ratio"),
    _P("CLFSS", "apparent clearance at steady state dose / AUCTAU", "clearance", (EV,), True),
    _P("CLSS", "clearance at steady state dose / AUCTAU", "clearance", IV, True),
    _P("VZFSS", "apparent terminal volume dose / (lambda_z AUCTAU)", "volume", (EV,), True),
    _P("VZSS", "terminal volume dose / (lambda_z AUCTAU)", "volume", IV, True),
    _P("ARAUC", "accumulation ratio of AUCTAU (dose-normalised, vs the first interval)", "ratio"),
    _P("ARCMAX", "accumulation ratio of Cmax (dose-normalised, vs the first interval)", "ratio"),
    _P("ARCTROUGH", "accumulation ratio of Ctrough (dose-normalised, vs the first interval)", "ratio"),
    _P("AILAMZ", "theoretical accumulation index 1 / (1 - exp(-lambda_z tau)), lambda_z of the first interval",
       "ratio"),
    _P("LINIDX", "linearity (time-invariance) index AUCTAU / AUCIFO of the first interval", "ratio"),
]}


def parameters_for_route(route: str) -> list[Parameter]:
    return [p for p in REGISTRY.values() if route in p.routes]


_MASS_MG = {"g": 1e3, "mg": 1.0, "ug": 1e-3, "µg": 1e-3, "mcg": 1e-3, "ng": 1e-6, "pg": 1e-9}
_VOLUME_ML = {"l": 1e3, "dl": 100.0, "ml": 1.0, "ul": 1e-3, "µl": 1e-3}
_TIMES = ("min", "h", "day")


def _parse_conc(text: str) -> float:
    """mg per mL of a concentration unit like 'ug/mL'."""
    try:
        mass, vol = text.split("/")
        return _MASS_MG[mass.strip().lower()] / _VOLUME_ML[vol.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"concentration unit {text!r} is not mass/volume (e.g. ug/mL, ng/mL, mg/L)") from None


def _parse_dose(text: str) -> tuple[float, str]:
    """(mg per unit, per-what suffix) of a dose unit like 'mg/kg' or 'ug'."""
    parts = text.split("/")
    try:
        mg = _MASS_MG[parts[0].strip().lower()]
    except KeyError:
        raise ValueError(f"dose unit {text!r} is not a mass or mass/kg (e.g. mg/kg, mg, ug/kg)") from None
    if len(parts) > 2 or (len(parts) == 2 and parts[1].strip().lower() not in ("kg", "m2")):
        raise ValueError(f"dose unit {text!r} is not a mass or mass/kg (e.g. mg/kg, mg, ug/kg)")
    return mg, ("/" + parts[1].strip()) if len(parts) == 2 else ""


class NcaUnits(Spec):
    """Units of the input data, declared once and carried to every output."""

    spec_name: ClassVar[str] = "nca units"
    time: str = "h"
    conc: str = "ug/mL"
    dose: str = "mg/kg"

    @model_validator(mode="after")
    def _check(self):
        if self.time not in _TIMES:
            raise ValueError(f"The 'time' unit must be one of {_TIMES}. Got {self.time!r}.")
        _parse_conc(self.conc)
        _parse_dose(self.dose)
        return self

    @property
    def clearance_factor(self) -> float:
        """Multiplier turning dose/AUC into mL/time (per kg when the dose is per kg)."""
        return _parse_dose(self.dose)[0] / _parse_conc(self.conc)

    def unit(self, kind: str) -> str:
        t, c, d = self.time, self.conc, self.dose
        per = _parse_dose(d)[1]
        return {
            "conc": c, "time": t, "rate": f"1/{t}", "count": "", "ratio": "", "percent": "%",
            "auc": f"{t}*{c}", "aumc": f"{t}^2*{c}", "conc_per_dose": f"({c})/({d})",
            "auc_per_dose": f"{t}*({c})/({d})", "clearance": f"mL/{t}{per}", "volume": f"mL{per}",
        }[kind]
