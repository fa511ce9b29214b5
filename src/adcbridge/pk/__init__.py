"""Compartmental pharmacokinetics: models that declare only their equations, simulation and exposure, and fits.

>>> from adcbridge.pk import MODELS
>>> sorted(MODELS)
['1cmt', '2cmt', '3cmt', 'adc', 'mm', 'qss']

See ``docs/pk.md`` for the models, units, the estimation method and the validation.
"""

from .fit import fit_pk
from .mammillary import macro_constants
from .model import Parameter, PKModel
from .models import (
    MODELS,
    AdcDeconjugation,
    MichaelisMenten,
    OneCompartment,
    QssTmdd,
    ThreeCompartment,
    TwoCompartment,
    get_model,
)
from .regimen import Regimen
from .result import PKFitOptions, PKFitResult
from .simulate import exposure, simulate

__all__ = ["simulate", "exposure", "fit_pk", "PKFitOptions", "PKFitResult", "Regimen", "MODELS", "get_model",
           "PKModel", "Parameter", "OneCompartment", "TwoCompartment", "ThreeCompartment", "MichaelisMenten",
           "QssTmdd", "AdcDeconjugation", "macro_constants"]
