"""How well a projection predicted the observed human value: the metrics of the allometry literature.

* **Li et al. percent error** (Li C, et al. Clin Transl Sci 2019;12:534, ADC clearance from cynomolgus) -- an
  asymmetric, fold-symmetric percent error::

      PE = (pred / obs - 1) * 100        if pred >= obs   (over-prediction, positive)
      PE = -(obs / pred - 1) * 100       if pred <  obs   (under-prediction, negative)

  so a 2-fold over- or under-prediction is +100 % or -100 %.  The mean absolute error is mean(|PE|).  This
  definition, with a human : cynomolgus body-weight ratio of 20 (70 kg / 3.5 kg), reproduces all 24 published
  errors of the paper's cynomolgus-only table (exponents 0.75, 0.85, 1.0) to within 0.53 percentage points
  and the three mean absolute errors (95.1, 44.7, 24.4 %) to 0.1 (the residue is the rounding of the published
  clearances to three figures); see ``tests/reference/test_translation_li2019.py``.
* **fold error** pred / obs; **absolute fold error** max(pred/obs, obs/pred); **within 2-fold** when the absolute
  fold error <= 2.
* **APE** (conventional absolute percent error) |pred - obs| / obs * 100.
* Summaries: mean |Li PE|, mean APE, geometric mean fold error (GMFE = 10^mean|log10 fold|, also called AAFE),
  fraction within 2-fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["li_percent_error", "prediction_errors", "summarise_errors", "predict_per_kg"]


def li_percent_error(predicted, observed) -> np.ndarray:
    """The asymmetric percent error of Li et al. 2019 (module docstring); vectorised."""
    p, o = np.asarray(predicted, float), np.asarray(observed, float)
    if np.any(~(p > 0)) or np.any(~(o > 0)):
        raise ValueError("Predicted and observed values must be positive numbers.")
    return np.where(p >= o, (p / o - 1.0) * 100.0, -(o / p - 1.0) * 100.0)


def prediction_errors(predicted, observed) -> pd.DataFrame:
    """Per-value metrics: ``predicted``, ``observed``, ``fold_error``, ``abs_fold_error``, ``li_pe``, ``ape``,
    ``within_2_fold``."""
    p, o = np.asarray(predicted, float), np.asarray(observed, float)
    if p.shape != o.shape:
        raise ValueError(f"predicted and observed must have the same length ({p.size} vs {o.size}).")
    li = li_percent_error(p, o)
    fold = p / o
    afe = np.maximum(fold, 1.0 / fold)
    return pd.DataFrame({"predicted": p, "observed": o, "fold_error": fold, "abs_fold_error": afe, "li_pe": li,
                         "ape": np.abs(p - o) / o * 100.0, "within_2_fold": afe <= 2.0})


def summarise_errors(errors: pd.DataFrame) -> dict[str, float]:
    """Mean absolute Li error, mean APE, GMFE (= AAFE) and the fraction within 2-fold of a
    :func:`prediction_errors` table."""
    return {"mean_abs_li_pe": float(np.mean(np.abs(errors["li_pe"]))), "mean_ape": float(np.mean(errors["ape"])),
            "gmfe": float(10 ** np.mean(np.abs(np.log10(errors["fold_error"])))),
            "fraction_within_2_fold": float(np.mean(errors["within_2_fold"]))}


def predict_per_kg(animal_per_kg, exponent: float, animal_weight: float, human_weight: float) -> np.ndarray:
    """Human per-kg value from an animal per-kg value by simple allometry: p_h = p_a (W_h / W_a)^(b - 1)."""
    if not (animal_weight > 0 and human_weight > 0):
        raise ValueError("Body weights must be > 0.")
    return np.asarray(animal_per_kg, float) * (human_weight / animal_weight) ** (exponent - 1.0)
