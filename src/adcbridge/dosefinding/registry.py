"""The registry of dose-finding designs, by name.

The command line, trial YAML files, the report and the conduct app look a design up here by the name users write
(``boin``, ``3+3``, ``crm``); nothing else in adcbridge tells designs apart.  A design is registered with one line
naming the module and class of its spec (imported on first use, so a BOIN decision loads no CRM code); the class
implements :class:`~adcbridge.dosefinding.design.DoseFindingDesign`.
"""

from __future__ import annotations

import importlib

__all__ = ["DESIGNS", "design_names", "design_class", "build_design", "design_from_record"]

#: name -> "module:Class" of the design's spec (relative to adcbridge.dosefinding)
DESIGNS: dict[str, str] = {
    "boin": ".boin.design:BoinDesign",
    "3+3": ".threeplusthree:ThreePlusThreeDesign",
    "crm": ".crm.design:CrmDesign",
    "comb-boin": ".comb.design:CombBoinDesign",
    "boin-backfill": ".backfill.design:BackfillBoinDesign",
    "boin12": ".boin12.design:Boin12Design",
    "tite-boin": ".tite.design:TiteBoinDesign",
}


def design_names() -> list[str]:
    """The registered design names, in registration order."""
    return list(DESIGNS)


def design_class(name: str) -> type:
    """The spec class registered as ``name``; an unknown name lists the registered ones."""
    if not isinstance(name, str) or name not in DESIGNS:
        raise ValueError(f"Unknown design {name!r}; the registered designs are {', '.join(DESIGNS)}.")
    module, _, cls = DESIGNS[name].partition(":")
    return getattr(importlib.import_module(module, __package__), cls)


def build_design(name: str, **options):
    """The design ``name`` with ``options`` (its spec's parameters), validated."""
    return design_class(name)(**options)


def design_from_record(record: dict):
    """The design of a decision's or result's record (``record["design"]`` and ``record["spec"]``)."""
    try:
        name, spec = record["design"], record["spec"]
    except (KeyError, TypeError):
        raise ValueError("the record names no design: it needs the keys 'design' and 'spec'.") from None
    if not isinstance(spec, dict):
        raise ValueError(f"the record's spec must be an object of parameters, got {spec!r}.")
    return design_class(name)(**spec)
