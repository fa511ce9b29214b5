"""Multi-species allometry: log-log regression of a parameter on body weight, with the rule of exponents.

**Simple allometry.**  Ordinary least squares of log10(P) on log10(W) over the species (P absolute, e.g. mL/min;
per-kg input is multiplied by W first):

    log10 P = log10 a + b log10 W        ->   P_human = a * W_h^b

reported with the standard error and (1 - alpha) t-interval of b (n - 2 degrees of freedom; none with 2 species)
and r^2.

**Rule of exponents (ROE)**, Mahmood I, Balian JD.  Interspecies scaling: predicting clearance of drugs in
humans.  Three different approaches.  Xenobiotica 1996;26:887-895 (and Mahmood & Balian, J Pharm Sci
1996;85:411).  The exponent b of simple allometry of clearance picks the method (thresholds as used here, on the
unrounded b):

==========================  =================================================================================
b < 0.55                    simple allometry, flagged: clearance is likely to be under-predicted (ROE: no method
                            reliable)
0.55 <= b <= 0.70           simple allometry
0.70 < b <= 1.0             maximum life-span potential (MLP) correction: regress CL x MLP on W,
                            CL_h = a' W_h^b' / MLP_h
1.0 < b <= 1.3              brain-weight (BrW) correction: regress CL x BrW on W, CL_h = a'' W_h^b'' / BrW_h
b > 1.3                     brain-weight correction, flagged: ROE says no method predicts reliably
==========================  =================================================================================

The published ranges are printed as 0.55-0.70, 0.71-1.0 and > 1.0 - 1.3; an exponent between 0.70 and 0.71 is
taken as MLP here.  The ROE needs at least three species (a warning is issued with two).

**MLP** (years) follows Sacher's equation MLP = 185.4 BrW^0.636 W^-0.225 (BrW, W in kg); for humans
(W = 70 kg, BrW = 1.53 kg) it gives 93.4 years, the value used by Mahmood & Balian.  Brain weights have no
defaults for animals: give a ``brain_weight_kg`` column when a correction is needed (else the correction is
reported as not computable, with an issue).

The ROE was derived for small molecules.  For antibodies and ADCs, fixed exponents from cynomolgus data alone
(:func:`~adcbridge.translation.allometry.scale_parameters`) usually predict better (Deng 2011; Li 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from adcbridge import validation
from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .species import HUMAN_WEIGHT_KG, canonical_species, species_info
from .units import parse_unit

__all__ = ["MultiSpeciesSpec", "AllometricFit", "fit_allometry", "rule_of_exponents", "sacher_mlp",
           "HUMAN_BRAIN_WEIGHT_KG"]

HUMAN_BRAIN_WEIGHT_KG = 1.53      # Boxenbaum 1982; gives MLP 93.4 years at 70 kg with Sacher's equation
TABLE = "the allometry table"     # what the errors call a table built in Python (no file)


def sacher_mlp(brain_weight_kg, body_weight_kg):
    """Maximum life-span potential (years): 185.4 * BrW^0.636 * W^-0.225 (Sacher 1959; kg).  Vectorised.

    >>> round(float(sacher_mlp(1.53, 70.0)), 1)
    93.4
    """
    return 185.4 * np.asarray(brain_weight_kg, float) ** 0.636 * np.asarray(body_weight_kg, float) ** -0.225


def rule_of_exponents(b: float) -> tuple[str, str, bool]:
    """(method, reason, flagged) for simple-allometry exponent ``b`` (thresholds: module docstring)."""
    if b < 0.55:
        return "simple", f"b = {b:.3f} < 0.55: simple allometry, likely to under-predict (no ROE method reliable)", True
    if b <= 0.70:
        return "simple", f"0.55 <= b = {b:.3f} <= 0.70: simple allometry", False
    if b <= 1.0:
        return "mlp", f"0.70 < b = {b:.3f} <= 1.0: MLP correction", False
    if b <= 1.3:
        return "brain_weight", f"1.0 < b = {b:.3f} <= 1.3: brain-weight correction", False
    return "brain_weight", f"b = {b:.3f} > 1.3: brain-weight correction, but ROE says no method is reliable", True


class MultiSpeciesSpec(Spec):
    """Options of :func:`fit_allometry`: parameter name and unit, human body and brain weight (kg), confidence
    level of the exponent's interval, and whether the rule of exponents chooses the method (``apply_roe``; the
    rule is meant for clearance -- for a volume leave it off)."""

    spec_name: ClassVar[str] = "fit_allometry"

    parameter: str = "CL"
    unit: str
    human_weight_kg: float = Field(HUMAN_WEIGHT_KG, gt=0)
    human_brain_weight_kg: float = Field(HUMAN_BRAIN_WEIGHT_KG, gt=0)
    confidence: float = Field(0.95, gt=0, lt=1)
    apply_roe: bool = True


@dataclass(frozen=True, eq=False)
class AllometricFit(Result):
    """Multi-species allometry.  ``table``: one row per method (``simple``, ``mlp``, ``brain_weight``) with
    ``coefficient`` (a), ``exponent`` (b), ``exponent_se``, ``exponent_ci_low``/``high``, ``r_squared``,
    ``human_prediction`` (absolute, ``unit``), ``computable`` and ``recommended``.  ``data``: the species rows as
    used (``species``, ``body_weight_kg``, ``value`` absolute, ``brain_weight_kg``, ``mlp_years``)."""

    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    exponent: float = float("nan")
    recommended_method: str = "simple"
    roe_reason: str = ""
    human_prediction: float = float("nan")
    unit: str = ""

    def record_body(self) -> dict[str, Any]:
        return {"parameter": self.spec.parameter, "exponent": self.exponent, "method": self.recommended_method,
                "reason": self.roe_reason, "human_prediction": self.human_prediction, "unit": self.unit}


def _ols(x: np.ndarray, y: np.ndarray, confidence: float) -> dict[str, float]:
    n = len(x)
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    b = float(np.sum((x - xm) * (y - ym)) / sxx)
    a = ym - b * xm
    resid = y - (a + b * x)
    ss_tot = float(np.sum((y - ym) ** 2))
    r2 = 1.0 - float(np.sum(resid ** 2)) / ss_tot if ss_tot > 0 else 1.0
    if n > 2:
        se = float(np.sqrt(np.sum(resid ** 2) / (n - 2) / sxx))
        t = stats.t.ppf(0.5 + confidence / 2, n - 2)
        lo, hi = b - t * se, b + t * se
    else:
        se = lo = hi = float("nan")
    return {"coefficient": float(10 ** a), "exponent": b, "exponent_se": se, "exponent_ci_low": lo,
            "exponent_ci_high": hi, "r_squared": r2}


def fit_allometry(data: pd.DataFrame, unit: str, parameter: str = "CL", *, species: str = "species",
                  body_weight: str = "body_weight_kg", value: str = "value", brain_weight: str = "brain_weight_kg",
                  human_weight: float = HUMAN_WEIGHT_KG, human_brain_weight: float = HUMAN_BRAIN_WEIGHT_KG,
                  confidence: float = 0.95, apply_roe: bool = True) -> AllometricFit:
    """Fit P = a W^b across species and predict the human value (module docstring).

    ``data`` has one row per species: ``species``, ``value`` (in ``unit``; per-kg units are converted to
    absolute) and optionally ``body_weight_kg`` (default: the species' allometry weight) and
    ``brain_weight_kg``.  At least two species with different weights are needed.

    The table is checked by :mod:`adcbridge.validation` (the file and line when it came from
    :func:`~adcbridge.io.read_table`, else ``the allometry table`` and the 1-based data row): ``species`` not
    empty; ``value`` a finite number > 0; ``body_weight_kg`` and ``brain_weight_kg`` finite numbers > 0 or empty
    (an empty body weight needs a species of :mod:`~adcbridge.translation.species`)::

        cl.csv: column 'value', line 3 (species 'rat'): expected a finite number > 0, got 'inf'

    >>> import pandas as pd
    >>> data = pd.DataFrame({"species": ["mouse", "rat", "dog"], "value": [0.2, 1.5, 30.0]})
    >>> round(fit_allometry(data, "mL/min").exponent, 2)
    0.81
    """
    spec = MultiSpeciesSpec(parameter=parameter, unit=unit, human_weight_kg=human_weight,
                            human_brain_weight_kg=human_brain_weight, confidence=confidence, apply_roe=apply_roe)
    parsed = parse_unit(unit)
    validation.require_columns(data, [species, value], table=TABLE)
    validation.label_column(data, species, what="a species", table=TABLE)
    df = pd.DataFrame({"species": [canonical_species(s) for s in data[species]]})
    vals = validation.numeric_column(data, value, above=0, key=species, table=TABLE)
    given = (validation.numeric_column(data, body_weight, above=0, allow_missing=True, key=species, table=TABLE)
             if body_weight in data.columns else np.full(len(df), np.nan))
    brain = (validation.numeric_column(data, brain_weight, above=0, allow_missing=True, key=species, table=TABLE)
             if brain_weight in data.columns else np.full(len(df), np.nan))
    weights = []
    for pos, (s, w) in enumerate(zip(df.species, given)):
        if np.isfinite(w):
            weights.append(float(w))
        elif species_info(s) is not None:
            weights.append(species_info(s).allometry_weight_kg)
        elif body_weight in data.columns:
            raise validation.cell_error(data, body_weight, pos, "a body weight in kg (the species is not in the "
                                                                "species table, so it has no default)",
                                        key=species, table=TABLE)
        else:
            raise validation.cell_error(data, species, pos, f"a species of the species table, or its body weight in a "
                                                            f"{body_weight!r} column", table=TABLE)
    df["body_weight_kg"] = weights
    df["value"] = vals * (df["body_weight_kg"].to_numpy() if parsed.per_kg else 1.0)
    df["brain_weight_kg"] = brain
    df["mlp_years"] = sacher_mlp(df["brain_weight_kg"], df["body_weight_kg"])
    if len(df) < 2 or df["body_weight_kg"].nunique() < 2:
        raise validation.table_error(data, f"multi-species allometry needs at least two species with different body "
                                           f"weights; the table has {len(df)} row(s) and "
                                           f"{df['body_weight_kg'].nunique()} distinct weight(s)", table=TABLE)
    out_unit = unit.replace("/kg", "") if parsed.per_kg else unit
    x = np.log10(df["body_weight_kg"].to_numpy())
    wh = spec.human_weight_kg
    mlp_h = float(sacher_mlp(spec.human_brain_weight_kg, wh))
    rows = []
    simple = _ols(x, np.log10(df["value"].to_numpy()), confidence)
    rows.append({"method": "simple", **simple, "human_prediction": simple["coefficient"] * wh ** simple["exponent"],
                 "computable": True})
    has_brain = bool(df["brain_weight_kg"].notna().all())
    for method, factor, human_factor in (("mlp", df["mlp_years"], mlp_h),
                                         ("brain_weight", df["brain_weight_kg"], spec.human_brain_weight_kg)):
        if has_brain:
            fit = _ols(x, np.log10(df["value"].to_numpy() * factor.to_numpy()), confidence)
            pred = fit["coefficient"] * wh ** fit["exponent"] / human_factor
            rows.append({"method": method, **fit, "human_prediction": pred, "computable": True})
        else:
            rows.append({"method": method, "computable": False})
    table = pd.DataFrame(rows, columns=["method", "coefficient", "exponent", "exponent_se", "exponent_ci_low",
                                        "exponent_ci_high", "r_squared", "human_prediction", "computable"])
    issues = []
    b = simple["exponent"]
    if apply_roe:
        method, reason, flagged = rule_of_exponents(b)
        if flagged:
            issues.append(Issue("roe_unreliable", reason))
        if len(df) < 3:
            issues.append(Issue("few_species", "The rule of exponents was derived for three or more species; "
                                               f"only {len(df)} given."))
        if method != "simple" and not has_brain:
            issues.append(Issue("no_brain_weights", f"The rule of exponents calls for the {method} correction, "
                                "which needs a brain_weight_kg for every species; simple allometry is reported."))
            method = "simple"
    else:
        method, reason = "simple", "rule of exponents not applied"
    table["recommended"] = table["method"] == method
    pred = float(table.loc[table["method"] == method, "human_prediction"].iloc[0])
    return AllometricFit(spec=spec, table=table, issues=tuple(issues), provenance=make_provenance(spec, df),
                         data=df, exponent=b, recommended_method=method, roe_reason=reason, human_prediction=pred,
                         unit=out_unit)
