"""Operating characteristics of any design: Monte Carlo, exact enumeration and paired design comparisons.

>>> from adcbridge.dosefinding import boin, simulate
>>> oc = simulate(boin(0.3, 5), [0.05, 0.1, 0.2, 0.3, 0.5], n_trials=2000, seed=1)
>>> round(sum(oc.selection_pct) + oc.no_mtd_pct, 6)
100.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from adcbridge.results import Result, make_provenance

from .decide import check_design
from .engine import run_exact, run_monte_carlo
from .oc import OperatingCharacteristics, oc_from_sums, true_mtd

__all__ = ["policy_for", "simulate", "exact_oc", "compare_designs", "DesignComparison", "design_name"]

MAX_TRIALS = 100_000_000


def policy_for(design):
    """The vectorised conduct (policy) of a design spec."""
    return check_design(design).policy()


def design_name(design) -> str:
    """The registry name of ``design``."""
    return check_design(design).spec_name


def _target(design) -> float:
    return design.oc_target or 0.3


def _with_target_note(oc, design, target):
    """``oc`` with an info issue when its target was assumed: a design without a target (3+3) scored without one
    has its correct selection and overdosing measured against 0.3, and the result says so."""
    if target is not None or design.oc_target is not None:
        return oc
    from adcbridge.results import Issue
    note = Issue("target_assumed", f"{design.spec_name} has no target DLT rate: the correct selection (PCS), the "
                                   f"true MTD and the overdose percentages are scored against a target of "
                                   f"{_target(design):g}; give target (--target) to score against another", "info")
    # the table handed over as it is (a ColumnTable stays one: no pandas)
    return dataclasses.replace(oc, table=oc.__dict__["_table"], issues=tuple(oc.issues) + (note,))


def _check_p_true(design, p_true) -> np.ndarray:
    check_design(design)
    try:
        p = np.asarray(p_true, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"The 'p_true' argument must be numbers in [0, 1]. Got {p_true!r}.") from None
    if p.ndim != 1 or p.size != design.n_doses:
        raise ValueError(f"The 'p_true' argument must have one probability per dose ({design.n_doses}). "
                         f"Got {p.size}: {p.tolist()}.")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"The 'p_true' argument must be probabilities in [0, 1]. Got {p.tolist()}.")
    return p


def _toxic(design, target: float) -> float:
    """The overly toxic rate defining the true MTD (the design's p_tox for BOIN, else 1.4 x target)."""
    return design.overly_toxic(target)


def _labels(design):
    return design.dose_labels()


def _check_run(n_trials, seed, target) -> int:
    """Validate the Monte Carlo arguments; returns the seed (a fresh one when None)."""
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or not 1 <= n_trials <= MAX_TRIALS:
        raise ValueError(f"The 'n_trials' argument must be an integer in [1, {MAX_TRIALS}]. Got {n_trials!r}.")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' argument must be a non-negative integer. Got {seed!r}.")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not 0.05 <= target <= 0.6):
        raise ValueError(f"The 'target' argument must be a target DLT probability in [0.05, 0.6] (as for "
                         f"boin). Got {target!r}.")
    return int(seed)


def simulate(design, p_true, n_trials: int = 10_000, seed: int | None = None,
             target: float | None = None, **scenario) -> OperatingCharacteristics:
    """Monte Carlo operating characteristics of ``design`` when the true DLT probabilities are ``p_true``.

    ``seed`` makes the run reproducible (a fresh one is drawn and recorded when None).  Designs simulated with
    the same seed see the same patients (common random numbers).  ``target`` (for 3+3, which has none) sets the
    target used for PCS and overdosing; default 0.3 for 3+3, with a ``target_assumed`` info issue.  ``scenario``
    holds the other truths and conduct settings of designs with their own simulator (their ``scenario_options``:
    ``q_true``, ``accrual_rate``, ...); an option the design does not take is refused.
    """
    design = check_design(design)
    unknown = sorted(set(scenario) - set(design.scenario_options))
    if unknown:
        takes = ", ".join(design.scenario_options) or "none"
        raise ValueError(f"{design.spec_name} takes no scenario option {', '.join(map(repr, unknown))} (it takes: "
                         f"{takes}).")
    if design.has_own_simulator:
        seed = _check_run(n_trials, seed, target)
        return design.simulate_oc(p_true, n_trials=int(n_trials), seed=seed, target=target, **scenario)
    p = _check_p_true(design, p_true)
    seed = _check_run(n_trials, seed, target)
    tgt = target if target is not None else _target(design)
    sums = run_monte_carlo(policy_for(design), p, tgt, int(n_trials), int(seed))
    oc = oc_from_sums(sums, spec=design, design_name=design_name(design), target=tgt, p_true=p,
                      method="monte-carlo", n_trials=int(n_trials), seed=int(seed),
                      provenance=make_provenance(design, p, n_trials, seed=int(seed)),
                      dose_labels=_labels(design), toxic=_toxic(design, tgt))
    return _with_target_note(oc, design, target)


def exact_oc(design, p_true, target: float | None = None, max_states: int = 2_000_000) -> OperatingCharacteristics:
    """Exact operating characteristics by enumerating every cohort outcome (no random numbers).

    Raises ``ValueError`` if more than ``max_states`` trial states are alive at once (use :func:`simulate`).
    """
    p = _check_p_true(design, p_true)
    _check_run(1, 0, target)
    tgt = target if target is not None else _target(design)
    sums, n_terminal = run_exact(policy_for(design), p, tgt, max_states=max_states)
    oc = oc_from_sums(sums, spec=design, design_name=design_name(design), target=tgt, p_true=p, method="exact",
                      n_trials=None, seed=None, provenance=make_provenance(design, p),
                      dose_labels=_labels(design), n_terminal_states=n_terminal, toxic=_toxic(design, tgt))
    return _with_target_note(oc, design, target)


@dataclass(frozen=True, eq=False)
class DesignComparison(Result):
    """Designs run on the same simulated patients (common random numbers).

    ``table``: one row per design with PCS, no-MTD %, mean sample size and DLTs, and their paired differences
    from the first design with paired Monte Carlo standard errors.  ``results`` holds each design's full
    operating characteristics.
    """

    names: tuple[str, ...] = ()
    results: tuple[OperatingCharacteristics, ...] = ()
    seed: int | None = None
    n_trials: int = 0

    result_type: ClassVar[str] = "DesignComparison"


def compare_designs(designs: dict, p_true, n_trials: int = 10_000, seed: int | None = None,
                    target: float | None = None) -> DesignComparison:
    """Compare designs (``{name: design}``) on one scenario with common random numbers.

    Each design's trial t enrolls the same latent patients, so the paired differences of per-trial outcomes
    (correct selection, no MTD, sample size, DLTs) have much smaller standard errors than independent runs.
    """
    if not designs:
        raise ValueError("The 'designs' argument is empty.")
    seed = _check_run(n_trials, seed, target)
    names = tuple(designs)
    first = designs[names[0]]
    n_doses = {d.n_doses for d in designs.values()}
    if len(n_doses) != 1:
        raise ValueError(f"The designs have different numbers of doses: {sorted(n_doses)}.")
    tgt = target if target is not None else _target(first)
    p = _check_p_true(first, p_true)
    correct = true_mtd(p, tgt, _toxic(first, tgt))
    per_trial, results = [], []
    for name in names:
        d = designs[name]
        sums = run_monte_carlo(policy_for(d), p, tgt, int(n_trials), int(seed), keep_trials=True)
        tr = sums.trials
        per_trial.append({
            "pcs": 100.0 * (np.isin(tr["mtd"], correct) if correct.size else tr["mtd"] < 0),
            "no_mtd": 100.0 * (tr["mtd"] < 0),
            "n": tr["n_total"].astype(float), "dlt": tr["dlt_total"].astype(float)})
        results.append(oc_from_sums(sums, spec=d, design_name=design_name(d), target=tgt, p_true=p,
                                    method="monte-carlo", n_trials=int(n_trials), seed=int(seed),
                                    provenance=make_provenance(d, p, n_trials, seed=int(seed)),
                                    dose_labels=_labels(d), toxic=_toxic(first, tgt)))
    rows = []
    base = per_trial[0]
    for name, t in zip(names, per_trial):
        row = {"design": name}
        for k in ("pcs", "no_mtd", "n", "dlt"):
            row[k] = t[k].mean()
            diff = t[k] - base[k]
            row[f"{k}_diff"] = diff.mean()
            row[f"{k}_diff_se"] = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else np.nan
        rows.append(row)
    import pandas as pd  # only for a comparison's table (fast start-up of `simulate`)
    table = pd.DataFrame(rows).rename(columns={"no_mtd": "no_mtd_pct", "n": "n_mean", "dlt": "dlt_mean",
                                               "no_mtd_diff": "no_mtd_pct_diff", "no_mtd_diff_se": "no_mtd_pct_diff_se",
                                               "n_diff": "n_mean_diff", "n_diff_se": "n_mean_diff_se",
                                               "dlt_diff": "dlt_mean_diff", "dlt_diff_se": "dlt_mean_diff_se"})
    return DesignComparison(spec=first, table=table, provenance=make_provenance(list(designs.values()), p,
                                                                                 n_trials, seed=int(seed)),
                            names=names, results=tuple(results), seed=int(seed), n_trials=int(n_trials))
