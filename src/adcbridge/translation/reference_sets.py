"""Published human parameter sets bundled for comparison with projections.

``TDXD_HUMAN_POPPK`` -- trastuzumab deruxtecan (T-DXd, DS-8201a; intact ADC), typical patient of the final
two-compartment population PK model of Yin O, et al. Population pharmacokinetics of trastuzumab deruxtecan in
patients with HER2-positive breast cancer and other solid tumors.  Clin Pharmacol Ther 2021;109:1314-1325:
CL 0.421 L/day, V1 2.77 L, Q 0.199 L/day, V2 5.16 L.  The reference covariates of the typical values are body
weight 57.8 kg, albumin 40 g/L, tumour size 57 mm, female, not Japan (CL and V1 with their reference
covariates as transcribed by the nlmixr2lib model Yin_2021_trastuzumabDeruxtecan; Q and V2 as given in the
project brief, not re-checked against the paper's table).

>>> reference_parameters("tdxd")["CL"]
0.421
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TDXD_HUMAN_POPPK", "reference_parameters", "reference_table"]

TDXD_HUMAN_POPPK = {
    "name": "trastuzumab deruxtecan (intact ADC), typical patient",
    "source": "Yin O et al. Clin Pharmacol Ther 2021;109:1314-1325 (final popPK model, typical values)",
    "body_weight_kg": 57.8,
    "parameters": {"CL": (0.421, "L/day"), "V1": (2.77, "L"), "Q": (0.199, "L/day"), "V2": (5.16, "L")},
}

_SETS = {"tdxd": TDXD_HUMAN_POPPK, "t-dxd": TDXD_HUMAN_POPPK, "trastuzumab_deruxtecan": TDXD_HUMAN_POPPK}


def _get(name: str) -> dict:
    key = name.strip().lower().replace(" ", "_")
    if key not in _SETS:
        raise ValueError(f"No bundled reference set {name!r}; available: tdxd.")
    return _SETS[key]


def reference_parameters(name: str = "tdxd") -> dict[str, float]:
    """The bundled set's values by parameter name (units: :func:`reference_table`)."""
    return {k: v for k, (v, _) in _get(name)["parameters"].items()}


def reference_table(name: str = "tdxd") -> pd.DataFrame:
    """The bundled set as a table: ``name``, ``value``, ``unit``, ``source``, ``body_weight_kg``."""
    s = _get(name)
    return pd.DataFrame([{"name": k, "value": v, "unit": u, "source": s["source"],
                          "body_weight_kg": s["body_weight_kg"]} for k, (v, u) in s["parameters"].items()])
