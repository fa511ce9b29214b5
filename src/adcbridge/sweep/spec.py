"""The sweep file: designs x scenarios x sample sizes, the number of trials per cell and the seed.

.. code-block:: yaml

    designs:                     # registered designs, each a spec with its name (and an optional label)
      - name: boin
        target: 0.3
        n_doses: 5
      - name: crm
        label: crm-logistic
        target: 0.3
        n_doses: 5
        model: logistic
    scenarios:                   # the truths: p_true, and what a design's simulator needs besides
      - name: S1
        p_true: [0.05, 0.10, 0.20, 0.30, 0.50]
      - name: S2
        p_true: [0.30, 0.40, 0.50, 0.60, 0.70]
    sample_sizes: [10, 15]       # optional: numbers of cohorts (each design's n_cohorts)
    trials: 100000               # per cell
    seed: 2026

Every key is checked here, in adcbridge's own words (never pydantic's): an unknown, missing or repeated key, an
empty list, an entry that is not a mapping, a design without a registered name, a label or a scenario name given
twice, a ``p_true`` that is not a list of probabilities in [0, 1] (or rows of them, for a drug-combination grid),
sample sizes that are not distinct whole numbers >= 1, ``trials`` outside 1..1e8, a ``seed`` that is not a whole
number >= 0, ``n_cohorts`` in a design when ``sample_sizes`` sets it, and a number or boolean written as text
where one is expected (``seed: "7"``; a design's options by its spec's fields, a scenario's truths by what each
holds, as every YAML file of adcbridge: :func:`adcbridge.io.yaml_files.misread_value`).  An error is one line
naming the file, the entry by its name (``scenarios['high'].p_true[3]``, positions 1-based;
``designs['crm'].skeleton``) and the YAML line.  A design's own options are checked by its spec when the sweep
is planned (:mod:`.plan`), with the same message shape (:meth:`SweepFile.where`).

A scenario may carry the truths and conduct settings that designs with their own simulator take (``q_true`` for
BOIN12 and backfill, ``accrual_rate`` for TITE-BOIN, ...); each design receives the ones it takes, and a key that no
design of the sweep takes is refused.  ``target`` in a scenario sets the target of the operating characteristics
for designs without one (3+3).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, model_validator

__all__ = ["MAX_TRIALS_PER_CELL", "SweepFile", "SweepScenario", "design_label", "load_sweep"]

MAX_TRIALS_PER_CELL = 100_000_000
MAX_SEED = 2 ** 63 - 1
_KEYS = ("designs", "scenarios", "sample_sizes", "trials", "seed")
_REQUIRED = ("designs", "scenarios", "trials", "seed")


class _Problem(Exception):
    """The first problem found in a sweep's settings: where (a key path) and what (a message)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


def _is_whole(v) -> bool:
    """A whole number: an int, or a float without a fraction (``trials: 1e5`` is read as the float 100000.0)."""
    if isinstance(v, float):
        return math.isfinite(v) and v.is_integer()
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_text(v) -> bool:
    return isinstance(v, str) and v.strip() != ""


def _check_probabilities(values, loc: tuple) -> None:
    """``p_true``: a non-empty list of probabilities in [0, 1], or a non-empty list of equally long rows of them."""
    if not isinstance(values, list):
        raise _Problem(loc, f"must be a list of probabilities in [0, 1] (rows of them for a combination grid), "
                            f"got {values!r}")
    if not values:
        raise _Problem(loc, "is empty: give one probability per dose")
    if all(isinstance(v, list) for v in values):
        for i, row in enumerate(values):
            if not row:
                raise _Problem(loc + (i,), "is an empty row of the grid")
            if len(row) != len(values[0]):
                raise _Problem(loc + (i,), f"has {len(row)} probabilities, row 1 has {len(values[0])}: the rows of a "
                                           f"combination grid are equally long")
            for j, v in enumerate(row):
                if not _is_number(v) or not 0 <= v <= 1:
                    raise _Problem(loc + (i, j), f"must be a number in [0, 1], got {v!r}")
        return
    for j, v in enumerate(values):
        if isinstance(v, list):
            raise _Problem(loc + (j,), "is a row, but other entries are numbers: give one probability per dose, or "
                                       "rows of the combination grid only")
        if not _is_number(v) or not 0 <= v <= 1:
            raise _Problem(loc + (j,), f"must be a number in [0, 1], got {v!r}")


#: what a scenario's keys hold (its truths and the conduct settings of designs with their own simulator:
#: ``scenario_options``), for :func:`adcbridge.io.yaml_files.misread_value`; other keys are refused when planned
_SCENARIO_TYPES: dict[str, Any] = {
    "p_true": list[float] | list[list[float]], "q_true": float | list[float] | list[list[float]],
    "target": float, "accrual_rate": float, "late_onset": float, "late_window": float}


def _check_scenario(entry, loc: tuple) -> None:
    from adcbridge.io.yaml_files import misread_value
    if not isinstance(entry, dict):
        raise _Problem(loc, f"must be a mapping with the scenario's 'name' and 'p_true', got {entry!r}")
    for key in entry:
        if not isinstance(key, str):
            raise _Problem(loc, f"has the key {key!r}: keys are names (name, p_true, target, q_true, ...)")
    if "name" not in entry:
        raise _Problem(loc, "has no 'name'")
    if not _is_text(entry["name"]):
        raise _Problem(loc + ("name",), f"must be non-empty text, got {entry['name']!r}")
    misread = misread_value(entry, _SCENARIO_TYPES, loc)    # `p_true: [0.1, "0.2"]`: "write it without quotes"
    if misread:
        raise _Problem(*misread)
    if "p_true" not in entry:
        raise _Problem(loc + ("p_true",), "is required: the true DLT probability of each dose")
    _check_probabilities(entry["p_true"], loc + ("p_true",))
    target = entry.get("target")
    if target is not None and (not _is_number(target) or not 0 < target < 1):
        raise _Problem(loc + ("target",), f"must be a number in (0, 1), got {target!r}")


def _check_design(entry, loc: tuple) -> None:
    from adcbridge.dosefinding.registry import design_class, design_names
    from adcbridge.io.yaml_files import did_you_mean, misread_value
    if not isinstance(entry, dict):
        raise _Problem(loc, f"must be a mapping with the design's 'name' and options, got {entry!r}")
    for key in entry:
        if not isinstance(key, str):
            raise _Problem(loc, f"has the key {key!r}: keys are the design's option names")
    if "name" not in entry:
        raise _Problem(loc, f"has no 'name' (a registered design: {', '.join(design_names())})")
    name = entry["name"]
    if not isinstance(name, str) or name not in design_names():
        hint = did_you_mean(name, design_names())
        raise _Problem(loc + ("name",), f"unknown design {name!r}"
                                        + (hint or f"; the registered designs are {', '.join(design_names())}"))
    if "label" in entry and not _is_text(entry["label"]):
        raise _Problem(loc + ("label",), f"must be non-empty text, got {entry['label']!r}")
    misread = misread_value(entry, design_class(name))      # by the design's own fields: "write it without quotes"
    if misread:
        raise _Problem(loc + misread[0], misread[1])


def _twice(names: list, what: str, loc: str, hint: str = "") -> None:
    first: dict = {}
    for i, name in enumerate(names):
        if name in first:
            raise _Problem((loc, i), f"{what} {name!r} is given twice (also {loc}[{first[name] + 1}]){hint}")
        first[name] = i


def check_sweep_data(data) -> None:
    """Raise :class:`_Problem` at the first problem of a sweep's settings (the raw mapping of the file)."""
    if not isinstance(data, dict):
        raise _Problem((), f"expected a mapping of settings ({', '.join(_KEYS)}), got {type(data).__name__}")
    from adcbridge.io.yaml_files import did_you_mean, unknown_key
    for key in data:
        if key not in _KEYS:
            raise _Problem((key,), unknown_key(key, _KEYS)
                                   + ("" if did_you_mean(key, _KEYS) else f"; the keys are {', '.join(_KEYS)}"))
    for key in _REQUIRED:
        if key not in data:
            raise _Problem((key,), "is required")
    from adcbridge.io.yaml_files import misread_value
    # a number written as text (`seed: "7"`) is refused as in every YAML file; the rest in the words below
    texts = {k: v for k, v in data.items() if k in ("trials", "seed") and isinstance(v, str)}
    if isinstance(data.get("sample_sizes"), list):
        texts["sample_sizes"] = [v if isinstance(v, str) else 1 for v in data["sample_sizes"]]
    misread = misread_value(texts, {"trials": float, "seed": float, "sample_sizes": list[float]})
    if misread:
        raise _Problem(*misread)
    designs = data["designs"]
    if not isinstance(designs, list):
        raise _Problem(("designs",), f"must be a list of designs, each a mapping with its 'name' and options, "
                                     f"got {designs!r}")
    if not designs:
        raise _Problem(("designs",), "is empty: list at least one design")
    for i, entry in enumerate(designs):
        _check_design(entry, ("designs", i))
    _twice([design_label(d) for d in designs], "design", "designs", ": give each a distinct 'label'")
    scenarios = data["scenarios"]
    if not isinstance(scenarios, list):
        raise _Problem(("scenarios",), f"must be a list of scenarios, each a mapping with its 'name' and 'p_true', "
                                       f"got {scenarios!r}")
    if not scenarios:
        raise _Problem(("scenarios",), "is empty: list at least one scenario")
    for i, entry in enumerate(scenarios):
        _check_scenario(entry, ("scenarios", i))
    _twice([s["name"] for s in scenarios], "scenario", "scenarios")
    sizes = data.get("sample_sizes")
    if sizes is not None:
        if not isinstance(sizes, list):
            raise _Problem(("sample_sizes",), f"must be a list of numbers of cohorts, got {sizes!r}")
        if not sizes:
            raise _Problem(("sample_sizes",), "is empty: list numbers of cohorts, or leave the key out")
        for k, v in enumerate(sizes):
            if not _is_whole(v) or v < 1:
                raise _Problem(("sample_sizes", k), f"must be a whole number of cohorts >= 1, got {v!r}")
        _twice(sizes, "the number of cohorts", "sample_sizes")
        for i, entry in enumerate(designs):
            if "n_cohorts" in entry:
                raise _Problem(("designs", i, "n_cohorts"), "sample_sizes sets each design's number of cohorts: "
                                                            "give n_cohorts here or sample_sizes, not both")
    trials = data["trials"]
    if not _is_whole(trials) or not 1 <= trials <= MAX_TRIALS_PER_CELL:
        raise _Problem(("trials",), f"must be a whole number of trials per cell from 1 to "
                                    f"{MAX_TRIALS_PER_CELL:,}, got "
                                    f"{f'{trials:g}' if isinstance(trials, float) else repr(trials)}")
    seed = data["seed"]
    if not _is_whole(seed) or not 0 <= seed <= MAX_SEED:
        raise _Problem(("seed",), f"must be a whole number from 0 to 2**63 - 1, got {seed!r}")


def _entry_name(entries, index: int, kind: str) -> str:
    """``['name']`` for a design (its label) or scenario with a distinct name, else the position ``[3]`` (also
    when the name itself is the problem)."""
    if isinstance(entries, list) and 0 <= index < len(entries) and isinstance(entries[index], dict):
        names = [(design_label(e) if kind == "designs" else e.get("name")) if isinstance(e, dict) and "name" in e
                 else None for e in entries]
        name = names[index]
        if isinstance(name, str) and name.strip() and names.count(name) == 1:
            return f"[{name!r}]"
    return f"[{index + 1}]"


def field_text(loc: tuple, data) -> str:
    """A key path as the reader writes it: ``scenarios['high'].p_true[3]``, ``designs['crm'].skeleton`` (list
    positions 1-based; designs by label and scenarios by name when they have a distinct one)."""
    out, node = "", data
    for k, part in enumerate(loc):
        if isinstance(part, int) and not isinstance(part, bool):
            by_name = k == 1 and loc[0] in ("designs", "scenarios") and loc[2:] not in (("name",), ("label",))
            out += _entry_name(node, part, loc[0]) if by_name else f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


class SweepScenario(BaseModel):
    """One scenario: its name, the true DLT probabilities and any other truths (extra keys)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    p_true: list[float] | list[list[float]]
    target: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data):
        if isinstance(data, SweepScenario):
            return data
        try:
            _check_scenario(data, ())
        except _Problem as p:
            where = field_text(p.loc, data)
            raise ValueError(f"{where}: {p.message}" if where else p.message) from None
        return data

    @property
    def truths(self) -> dict[str, Any]:
        """The scenario's other keys (``q_true``, ``accrual_rate``, ...)."""
        return dict(self.model_extra or {})


class SweepFile(BaseModel):
    """A sweep file (see the module docstring).  Built from a mapping, every key is checked first; an error is a
    ``ValueError`` naming the key path (and, read by :func:`load_sweep`, the file and the line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    designs: list[dict[str, Any]]
    scenarios: list[SweepScenario]
    sample_sizes: list[int] | None = None
    trials: int
    seed: int

    _source: str | None = PrivateAttr(default=None)
    _text: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data):
        if isinstance(data, dict):
            raw = dict(data)
            if isinstance(raw.get("scenarios"), list):
                raw["scenarios"] = [s.model_dump() if isinstance(s, SweepScenario) else s for s in raw["scenarios"]]
            try:
                check_sweep_data(raw)
            except _Problem as p:
                where = field_text(p.loc, raw)
                raise ValueError(f"{where}: {p.message}" if where else p.message) from None
            return raw
        return data

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:            # one line in our words (the checks above catch what users write)
            raise ValueError(_validation_text(exc)) from None

    def where(self, loc: tuple) -> str:
        """``loc`` (a key path of the file) as errors name it: ``sweep.yaml: designs['crm'].skeleton (line 10)``
        when the sweep was read from a file, else ``designs['crm'].skeleton``."""
        raw = self.model_dump(mode="json")
        text = field_text(loc, raw)
        if self._source is None:
            return text
        line = _line(self._text, loc)
        head = f"{self._source}: {text}" if text else str(self._source)
        return head + (f" (line {line})" if line else "")


def _validation_text(exc: ValidationError) -> str:
    from adcbridge.spec import field_path, house_words
    err = exc.errors(include_url=False)[0]
    msg = house_words(str(err["msg"]))
    loc = field_path(err["loc"]) if err["loc"] else ""
    return f"{loc}: {msg}" if loc else msg


def design_label(entry: dict) -> str:
    """The label of a design entry: its ``label``, else its ``name``."""
    return str(entry.get("label", entry.get("name")))


def _line(text: str | None, loc: tuple) -> int | None:
    """The line of ``loc`` in the YAML ``text`` (of its entry, for a missing key; none for a missing top-level
    key)."""
    if text is None or not loc:
        return None
    import yaml

    from adcbridge.io.yaml_files import node_line
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if len(loc) == 1 and isinstance(root, yaml.MappingNode) \
            and not any(getattr(k, "value", None) == str(loc[0]) for k, _ in root.value):
        return None
    return node_line(root, loc)


def load_sweep(path: str | Path) -> SweepFile:
    """Read and check a sweep file; every error is one line naming the file, the entry, the key and the line."""
    from adcbridge.io.yaml_files import read_yaml
    path = Path(path)
    text, raw = read_yaml(path, "sweep file")
    if raw is None:
        raise ValueError(f"{path}: is empty; a sweep file sets {', '.join(_KEYS)}")
    try:
        check_sweep_data(raw)
    except _Problem as p:
        where = field_text(p.loc, raw)
        line = _line(text, p.loc)
        head = f"{path}: {where}" if where else str(path)
        raise ValueError(head + (f" (line {line})" if line else "") + f": {p.message}") from None
    sweep = SweepFile(**raw)
    sweep._source = str(path)
    sweep._text = text
    return sweep
