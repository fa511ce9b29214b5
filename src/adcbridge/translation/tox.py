"""Toxicology study table -> NOAEL, HNSTD (non-rodents) and STD10 (rodents).

**Input**: one row per dose group and finding (a group without findings is one row with severity ``none``).
Columns (only ``dose`` is required):

``dose`` (mg/kg), ``species``, ``schedule``, ``sex`` and/or ``group`` (sub-groups of one dose, e.g. one row set
per sex), ``n_animals`` (size of the row's (sex/group) group), ``finding``, ``severity`` (``none``, ``mild``
(alias ``minimal``, ``slight``), ``moderate``, ``marked``, ``severe``, ``life-threatening``; ``marked`` is its own
grade between moderate and severe, as on the pathology scale minimal/mild/moderate/marked/severe),
``reversible`` (true/false, yes/no, reversible/irreversible; ``partial`` counts as not reversible; empty =
unknown), ``deaths`` (animals dead or euthanised moribund), ``n_affected`` (animals with the finding),
``adverse`` (true/false, overrides the severity rule for the NOAEL).

**Group size**: the animals of a dose are the sum of the ``n_animals`` of its distinct (``sex``, ``group``)
sub-groups, each counted once (several finding rows of one sub-group repeat its size); without these columns a
dose is one group (its largest ``n_animals``).

**Rules** (doses are compared per dose group; the rule text is kept in the result):

* A group is *adverse* when a finding is flagged adverse, or has severity >= ``adverse_from`` (default
  ``moderate``), or is irreversible (any severity above none), or any animal died.
  LOAEL = lowest adverse dose; **NOAEL** = highest tested dose below the LOAEL.
* A group is *severely toxic* for the **HNSTD** (ICH S9: the highest dose that does not produce lethality,
  life-threatening toxicities or irreversible findings) when any animal died, or a finding is life-threatening,
  or a finding is irreversible (any severity above none).  A marked or severe finding whose reversibility is
  unknown is treated as irreversible (conservative, with an issue).  A *reversible* severe (or marked) finding
  does not make the dose severely toxic unless ``reversible_severe_counts=True`` (reversible severe findings
  then count); such findings are listed in a warning so that the toxicologist decides.  **HNSTD** = highest
  tested dose below the lowest severely toxic dose (non-rodents).
* **STD10** (rodents; ICH S9: the dose severely toxic to 10 % of the animals): the incidence of severe toxicity
  per group is n_severe / n_animals, with n_severe = deaths + animals affected by severe or life-threatening
  findings (reversible or not) or by irreversible findings (summed, i.e. assumed to be different animals -- the
  conservative choice -- and capped at the group size; a severe finding without ``n_affected`` counts the whole
  (sex/group) sub-group of its row).  With j the lowest dose whose incidence reaches 10 %, STD10 is interpolated
  linearly in log dose between dose j - 1 and dose j:

      log STD10 = log d[j-1] + (0.10 - p[j-1]) / (p[j] - p[j-1]) * (log d[j] - log d[j-1]).

  An incidence of exactly 10 % at the lowest dose makes that dose the STD10.

When no dose is (severely) toxic the highest dose is reported as NOAEL/HNSTD/STD10 with an issue saying the
true value may be higher.  A table in which the lowest dose is already severely toxic (HNSTD) or above 10 %
incidence (STD10) has no tolerated dose: that is an error.

**Checks** (on the rows of the species summarised; :mod:`adcbridge.validation`, one message shape naming the file
and line when the table came from :func:`~adcbridge.io.read_table`, else ``the toxicology table`` and the 1-based
data row): ``dose`` a finite number > 0; ``n_animals``, ``deaths`` and ``n_affected`` finite numbers >= 0 or
empty; ``severity`` a known grade; ``reversible`` and ``adverse`` a yes/no word or empty; ``species`` not empty::

    tox.csv: column 'dose', line 3: expected a number > 0, got '-1'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from adcbridge import validation
from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .species import canonical_species, species_info

__all__ = ["ToxicologySpec", "ToxicologySummary", "summarise_toxicology", "SEVERITY_LEVELS"]

SEVERITY_LEVELS = ("none", "mild", "moderate", "marked", "severe", "life-threatening")
_SEV_ALIASES = {"minimal": "mild", "slight": "mild", "life_threatening": "life-threatening",
                "lifethreatening": "life-threatening", "lethal": "life-threatening", "": "none", "nan": "none"}
_TRUE = {"true", "yes", "y", "1", "reversible", "reversed", "full", "t"}
_FALSE = {"false", "no", "n", "0", "irreversible", "partial", "partially", "not reversible", "f"}
TABLE = "the toxicology table"       # what the errors call a table built in Python (no file)
_FLAG_TEXT = {"reversible": "true/false, yes/no, reversible/irreversible or partial (empty: unknown)",
              "adverse": "true/false or yes/no (empty: by the severity rule)"}


class ToxicologySpec(Spec):
    """Options of :func:`summarise_toxicology`: the species (chooses HNSTD or STD10), ``rodent`` (needed only
    for a species not in the table), the lowest severity that is adverse for the NOAEL, whether a reversible
    severe finding makes a dose severely toxic for the HNSTD (``reversible_severe_counts``, default False per
    ICH S9), and the dose unit."""

    spec_name: ClassVar[str] = "summarise_toxicology"

    species: str
    rodent: bool
    adverse_from: Literal["mild", "moderate", "marked", "severe"] = "moderate"
    reversible_severe_counts: bool = False
    std_fraction: float = Field(0.10, gt=0, lt=1)
    dose_unit: str = "mg/kg"


@dataclass(frozen=True, eq=False)
class ToxicologySummary(Result):
    """NOAEL, LOAEL, HNSTD or STD10 of one species.  ``table``: one row per dose group (``dose``,
    ``n_animals``, ``deaths``, ``n_severe``, ``incidence_severe``, ``worst_severity``, ``irreversible``,
    ``adverse``, ``severely_toxic``, ``schedule``, ``findings``).  ``basis`` is ``HNSTD`` (non-rodent) or
    ``STD10`` (rodent); ``basis_dose`` its value; ``rule`` states the rule applied."""

    species: str = ""
    rodent: bool = False
    noael: float | None = None
    loael: float | None = None
    hnstd: float | None = None
    std10: float | None = None
    basis: str = "HNSTD"
    basis_dose: float | None = None
    rule: str = ""

    def record_body(self) -> dict[str, Any]:
        return {"species": self.species, "noael": self.noael, "loael": self.loael, "hnstd": self.hnstd,
                "std10": self.std10, "basis": self.basis, "basis_dose": self.basis_dose, "rule": self.rule,
                "dose_unit": self.spec.dose_unit}


def _severity(value: Any) -> str | None:
    """The grade of a severity cell (aliases resolved; empty = ``none``), or None when it is not a grade."""
    text = "none" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip().lower()
    text = _SEV_ALIASES.get(text.replace(" ", "_") if text.replace(" ", "_") in _SEV_ALIASES else text, text)
    return text if text in SEVERITY_LEVELS else None


def _flag(value: Any) -> bool | None | str:
    """True/False for a yes/no cell, None when empty or unknown, ``"bad"`` when it is not a yes/no word."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("", "nan", "unknown", "na"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return "bad"


def _severities(view: pd.DataFrame, used: np.ndarray) -> list[str]:
    """The grade of every row in use (``none`` without a severity column)."""
    if "severity" not in view.columns:
        return ["none"] * int(used.sum())
    grades = [_severity(v) for v in view["severity"].tolist()]
    validation.fail_first(view, "severity", [g is None and u for g, u in zip(grades, used)],
                          f"a severity ({', '.join(SEVERITY_LEVELS)}; minimal or slight mean mild)", table=TABLE)
    return [g for g, u in zip(grades, used) if u]


def _flags(view: pd.DataFrame, used: np.ndarray, column: str) -> list[bool | None]:
    """The yes/no value of every row in use (None: empty or no such column)."""
    if column not in view.columns:
        return [None] * int(used.sum())
    flags = [_flag(v) for v in view[column].tolist()]
    validation.fail_first(view, column, [f == "bad" and u for f, u in zip(flags, used)], _FLAG_TEXT[column],
                          table=TABLE)
    return [f for f, u in zip(flags, used) if u]


def _count(view: pd.DataFrame, used: np.ndarray, column: str, default: float) -> np.ndarray:
    """A count column (animals) of the rows in use: finite numbers >= 0, ``default`` where empty or absent."""
    if column not in view.columns:
        return np.full(int(used.sum()), default)
    vals = validation.numeric_column(view, column, min=0, allow_missing=True, table=TABLE)[used]
    return np.where(np.isnan(vals), default, vals)


def _rows(table: pd.DataFrame, species: str | None) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, str]:
    """(rows of the species, renumbered; the table with the other rows blanked; the rows in use; the species).

    The checks run on the blanked table, which keeps the index and ``attrs`` of the table given, so that a bad
    cell is named by its own line (file) or row (table built in Python) even when other species' rows are
    left out."""
    validation.require_columns(table, ["dose"], table=TABLE)
    used = np.ones(len(table), dtype=bool)
    if "species" in table.columns:
        validation.label_column(table, "species", what="a species", table=TABLE)
        names = table["species"].map(canonical_species)
        found = sorted(set(names))
        if species is None:
            if len(found) != 1:
                raise validation.table_error(table, f"several species in column 'species' ({', '.join(found)}): "
                                                    f"choose one with species=", table=TABLE, column="species")
            species = found[0]
        used = (names == canonical_species(species)).to_numpy()
        if not used.any():
            raise validation.table_error(table, f"no rows for species {species!r} (column 'species' holds "
                                                f"{', '.join(found)})", table=TABLE, column="species")
    elif species is None:
        raise validation.table_error(table, "no 'species' column: give the species (species=)", table=TABLE)
    view = table if used.all() else table.where(np.broadcast_to(used[:, None], table.shape))
    dose = validation.numeric_column(view, "dose", above=0, allow_missing=True, table=TABLE)
    validation.fail_first(view, "dose", np.isnan(dose) & used, "a number > 0", table=TABLE)
    df = table[used].reset_index(drop=True).assign(dose=dose[used])
    return df, view, used, canonical_species(species)


def _sub_group_keys(df: pd.DataFrame) -> list[tuple[str, ...]]:
    """The (sex, group) sub-group of every row ('' where a column is missing or empty)."""
    cols = [c for c in ("sex", "group") if c in df.columns]

    def text(v: Any) -> str:
        return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v).strip().upper()

    return [tuple(text(v) for v in row) for row in df[cols].itertuples(index=False)] if cols else [()] * len(df)


def summarise_toxicology(table: pd.DataFrame, species: str | None = None, *, rodent: bool | None = None,
                         adverse_from: str = "moderate", std_fraction: float = 0.10,
                         reversible_severe_counts: bool = False) -> ToxicologySummary:
    """NOAEL and HNSTD (non-rodent) or STD10 (rodent) from a toxicology table (rules: module docstring).

    ``species`` selects rows when the table has several species; ``rodent`` is needed only for a species not
    in :mod:`~adcbridge.translation.species`.  ``reversible_severe_counts=True`` makes a reversible *severe*
    finding count as severely toxic for the HNSTD (ICH S9 default: it does not; such findings are listed in a
    warning).  Raises ValueError when the table is empty or has no tolerated dose.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"the toxicology table must be a pandas DataFrame, got {type(table).__name__}")
    if len(table) == 0:
        raise validation.table_error(table, "the toxicology table has no rows: give one row per dose group (and "
                                            "finding)")
    df, view, used, sp = _rows(table, species)
    info = species_info(sp)
    if rodent is None:
        if info is None:
            raise ValueError(f"Unknown species {sp!r}: say whether it is a rodent (rodent=True/False) to choose "
                             "STD10 or HNSTD.")
        rodent = info.rodent
    spec = ToxicologySpec(species=sp, rodent=rodent, adverse_from=adverse_from, std_fraction=std_fraction,
                          reversible_severe_counts=reversible_severe_counts)
    n = len(df)
    sev = _severities(view, used)
    rank = np.array([SEVERITY_LEVELS.index(s) for s in sev])
    rev = _flags(view, used, "reversible")
    adv_flag = _flags(view, used, "adverse")
    deaths = _count(view, used, "deaths", 0.0)
    group_n = _count(view, used, "n_animals", np.nan)
    affected = _count(view, used, "n_affected", np.nan)
    r_marked, r_severe, r_lt = (SEVERITY_LEVELS.index(x) for x in ("marked", "severe", "life-threatening"))
    rev_unknown = np.array([r is None for r in rev])
    rev_true = np.array([r is True for r in rev])
    # a marked/severe finding of unknown reversibility is treated as irreversible (conservative)
    irreversible = (np.array([r is False for r in rev]) & (rank > 0)) | (rev_unknown & (rank >= r_marked))
    reversible_severe = rev_true & (rank == r_severe)
    hnstd_row = (rank >= r_lt) | irreversible | (reversible_severe if reversible_severe_counts else False)
    std_row = (rank >= r_severe) | irreversible
    severe_row = std_row if rodent else hnstd_row
    adverse_row = np.array([a if a is not None else bool(rk >= SEVERITY_LEVELS.index(adverse_from) or irr)
                            for a, rk, irr in zip(adv_flag, rank, irreversible)]) | (deaths > 0)
    unknown_rev = int(sum(r is None and 0 < rk < r_marked for r, rk in zip(rev, rank)))
    keys = _sub_group_keys(df)
    finding = (df["finding"] if "finding" in df else pd.Series([None] * n)).tolist()

    def label(i: int) -> str:
        name = finding[i] if isinstance(finding[i], str) and finding[i] else "finding"
        sub = "/".join(k for k in keys[i] if k)
        return f"{name} ({sev[i]}, {df['dose'].iloc[i]:g} mg/kg{', ' + sub if sub else ''})"

    groups = []
    for d, idx in sorted(df.groupby("dose").indices.items()):
        sizes: dict[tuple[str, ...], float] = {}
        for i in idx:                                    # each (dose, sex/group) sub-group counted once
            v = group_n[i]
            sizes[keys[i]] = v if keys[i] not in sizes or np.isnan(sizes[keys[i]]) else \
                (sizes[keys[i]] if np.isnan(v) else max(sizes[keys[i]], v))
        g_n = float(sum(sizes.values())) if all(np.isfinite(v) for v in sizes.values()) else np.nan
        row_n = np.array([sizes[keys[i]] for i in idx])
        sev_aff = np.where(np.isnan(affected[idx]), row_n, affected[idx])[severe_row[idx]]
        n_sev = float(deaths[idx].sum() + np.nansum(sev_aff))
        n_sev = min(n_sev, g_n) if np.isfinite(g_n) else n_sev
        findings = [str(f) for f in df["finding"].iloc[idx] if isinstance(f, str) and f] if "finding" in df else []
        sched = sorted({str(s) for s in df["schedule"].iloc[idx] if isinstance(s, str)}) if "schedule" in df else []
        groups.append({"dose": float(d), "n_animals": g_n, "deaths": float(deaths[idx].sum()), "n_severe": n_sev,
                       "incidence_severe": n_sev / g_n if np.isfinite(g_n) and g_n > 0 else np.nan,
                       "worst_severity": SEVERITY_LEVELS[int(rank[idx].max())],
                       "irreversible": bool(irreversible[idx].any()), "adverse": bool(adverse_row[idx].any()),
                       "severely_toxic": bool(severe_row[idx].any() or deaths[idx].sum() > 0),
                       "schedule": "; ".join(sched), "findings": "; ".join(findings)})
    out = pd.DataFrame(groups)
    doses = out["dose"].to_numpy()
    issues: list[Issue] = []
    if unknown_rev:
        issues.append(Issue("reversibility_unknown", f"{unknown_rev} mild/moderate finding(s) without reversibility "
                                                     "were treated as reversible.", "info"))
    unknown_marked = [label(i) for i in range(n)          # for STD10 a severe finding counts anyway
                      if rev_unknown[i] and r_marked <= rank[i] < (r_severe if rodent else r_lt)]
    if unknown_marked:
        issues.append(Issue("severe_reversibility_unknown", "Marked/severe finding(s) without reversibility were "
                            "treated as irreversible (severely toxic): " + "; ".join(unknown_marked) + "."))
    noael, loael = _below_first(doses, out["adverse"].to_numpy())
    if loael is None:
        issues.append(Issue("noael_not_bounded", "No adverse finding at any dose: the NOAEL is the highest dose "
                                                 "tested and may be higher."))
    elif noael is None:
        issues.append(Issue("no_noael", f"Adverse findings at the lowest dose ({doses[0]:g} mg/kg): no NOAEL."))
    hnstd = std10 = None
    if not rodent:
        rev_listed = [label(i) for i in range(n) if rev_true[i] and r_marked <= rank[i] < r_lt
                      and not (reversible_severe_counts and rank[i] == r_severe)]
        if rev_listed:
            issues.append(Issue("reversible_severe_findings", "Reversible marked/severe finding(s) did not make the "
                                "dose severely toxic (ICH S9 HNSTD: lethality, life-threatening or irreversible "
                                "findings): " + "; ".join(rev_listed) + ". The toxicologist should confirm they "
                                "were not life-threatening (reversible_severe_counts=True counts reversible severe "
                                "findings)."))
        hnstd, lowest_std = _below_first(doses, out["severely_toxic"].to_numpy())
        if lowest_std is None:
            issues.append(Issue("hnstd_not_bounded", "No severe toxicity at any dose: the HNSTD is the highest dose "
                                                     "tested and may be higher."))
        elif hnstd is None:
            raise ValueError(f"The {sp} toxicology table has no tolerated dose: the lowest dose "
                             f"({doses[0]:g} mg/kg) already caused life-threatening or irreversible toxicity or "
                             "deaths, so the HNSTD cannot be determined (a lower dose must be tested).")
        rule = ("HNSTD = highest dose below the lowest dose with deaths, life-threatening findings or irreversible "
                "findings (ICH S9: the highest dose that does not produce lethality, life-threatening toxicities "
                "or irreversible findings; marked/severe findings of unknown reversibility count as irreversible; "
                + ("reversible severe findings also count" if reversible_severe_counts
                   else "reversible severe findings do not count") + "); "
                + f"LOAEL/NOAEL with adverse from '{adverse_from}' severity.")
        basis, basis_dose = "HNSTD", hnstd
    else:
        std10 = _std_fraction(out, sp, std_fraction, issues)
        rule = (f"STD{std_fraction * 100:g} = dose severely toxic to {std_fraction:.0%} of animals: incidence "
                "(deaths + animals with severe, life-threatening or irreversible findings) / n, n summed over the "
                "sex/group sub-groups of a dose, interpolated linearly in log dose between the last dose below "
                "and the first dose at or above the fraction (ICH S9).")
        basis, basis_dose = "STD10", std10
    return ToxicologySummary(spec=spec, table=out, issues=tuple(issues), provenance=make_provenance(spec, df),
                             species=sp, rodent=rodent, noael=noael, loael=loael, hnstd=hnstd, std10=std10,
                             basis=basis, basis_dose=basis_dose, rule=rule)


def _below_first(doses: np.ndarray, flags: np.ndarray) -> tuple[float | None, float | None]:
    """(highest dose below the first flagged dose, first flagged dose); (highest dose, None) if none flagged."""
    if not flags.any():
        return float(doses[-1]), None
    j = int(np.argmax(flags))
    return (float(doses[j - 1]) if j > 0 else None), float(doses[j])


def _std_fraction(out: pd.DataFrame, sp: str, frac: float, issues: list[Issue]) -> float:
    p = out["incidence_severe"].to_numpy(float)
    d = out["dose"].to_numpy(float)
    if np.isnan(p).any():
        raise ValueError(f"STD10 for the {sp} study needs the group size: give 'n_animals' for every dose.")
    reach = p >= frac
    if not reach.any():
        issues.append(Issue("std10_not_reached", f"No dose was severely toxic to {frac:.0%} of animals: the highest "
                                                 "dose is used as the STD10 (it may be higher)."))
        return float(d[-1])
    j = int(np.argmax(reach))
    if j == 0:
        if np.isclose(p[0], frac):
            return float(d[0])
        raise ValueError(f"The {sp} toxicology table has no tolerated dose: {p[0]:.0%} of animals were severely "
                         f"affected at the lowest dose ({d[0]:g} mg/kg), above {frac:.0%}, so the STD10 cannot be "
                         "interpolated (a lower dose must be tested).")
    frac_step = (frac - p[j - 1]) / (p[j] - p[j - 1])
    return float(np.exp(np.log(d[j - 1]) + frac_step * (np.log(d[j]) - np.log(d[j - 1]))))
