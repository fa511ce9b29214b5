"""The study file: one YAML file describing every analysis of a preclinical package, validated before any work.

.. code-block:: yaml

    name: JSKN003-like preclinical package
    seed: 2026
    analyses:
      - id: binding_kinetics
        kind: kinetics
        title: HER2 binding kinetics (SPR)
        data: data/kinetics.csv
        options: {cycle: cycle, conc: conc_M, time: time_s, response: response_RU, t_on: 60, t_off: 360}
      - id: pk_sd
        kind: nca
        data: data/cyno_pk_sd.csv
        options: {subject: ID, time: TIME, conc: CONC, dose: DOSE, route: ROUTE, duration: TINF}
      - id: pk_stats
        kind: nca-stats
        of: pk_sd

Each analysis has an ``id`` (letters, digits, ``_`` and ``-``; unique), a ``kind`` (:data:`~.kinds.KINDS`), its
``data`` file relative to the study file (where the kind reads one), ``options`` whose names are the flags of the
matching command in snake_case (``--t-on`` is ``t_on``), and, for kinds that use another analysis' output, the id
of that analysis (``of``, ``from``, ``designs``).  :func:`load_study` checks everything that can be known
before running -- the YAML, the keys, the kinds, every option name and path, unique ids, references to unknown
ids, dependency cycles -- and reports every problem at once, each naming the key path and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adcbridge.io.yaml_files import expected_keys, misread_values, read_yaml, unknown_key, whole_numbers

__all__ = ["Study", "Analysis", "StudyFile", "StudyError", "load_study"]

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class StudyError(ValueError):
    """Problems of a study file: ``problems`` lists them all, each naming the key path and the line."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path, self.problems = str(path), list(problems)
        n = len(self.problems)
        if n == 1:                                 # one problem: one line, as every file's error
            super().__init__(f"{path}: {self.problems[0]}")
            return
        super().__init__(f"{path}: {n} problems in the study file\n"
                         + "\n".join(f"  {p}" for p in self.problems))


class Analysis(BaseModel):
    """One analysis of the study (see the module docstring).  ``from`` (``from_`` in Python) names the fih
    analysis whose dose ladder a design uses."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    id: str
    kind: str
    title: str | None = None
    data: str | list[str] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    of: str | None = None                      # nca-stats: the nca analysis whose parameters it analyses
    from_: str | None = Field(None, alias="from")   # design: the fih analysis whose ladder gives the dose levels
    designs: list[str] | None = None           # simulate: the design analyses to compare
    scenarios: list[dict[str, Any]] | None = None   # simulate: named true DLT curves


class StudyFile(BaseModel):
    """The top level of a study file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None = None
    seed: int = Field(2026, ge=0)
    analyses: list[Analysis] = Field(min_length=1)


@dataclass(frozen=True)
class Study:
    """A validated study: the file's content, where it is, and the analyses in dependency order."""

    path: Path
    file: StudyFile
    order: tuple[str, ...]

    @property
    def folder(self) -> Path:
        return self.path.parent

    def analysis(self, analysis_id: str) -> Analysis:
        return next(a for a in self.file.analyses if a.id == analysis_id)

    def dependencies(self, a: Analysis) -> list[str]:
        return _dependencies(a)

    def data_paths(self, a: Analysis) -> list[Path]:
        files = [] if a.data is None else [a.data] if isinstance(a.data, str) else list(a.data)
        return [self.folder / f for f in files]


def _dependencies(a: Analysis) -> list[str]:
    deps = [d for d in (a.of, a.from_) if d]
    return deps + list(a.designs or [])


# ------------------------------------------------------------------------------------------------ loading
def _where(root, loc: tuple) -> str:
    from adcbridge.spec import field_path
    path = field_path(loc)
    from adcbridge.io.yaml_files import node_line
    line = node_line(root, loc)
    return f"{path} (line {line})" if line else path


def load_study(path: str | Path) -> Study:
    """Read and check a study file (see the module docstring); a :class:`StudyError` lists every problem."""
    from .kinds import KINDS, check_analysis
    path = Path(path)
    text, raw = read_yaml(path, "study file")
    root = yaml.compose(text)
    if not isinstance(raw, dict):
        raise StudyError(path, ["(top level): expected a mapping with 'name' and 'analyses'"])
    if raw.get("analyses") == []:
        raise StudyError(path, [f"{_where(root, ('analyses',))}: is empty: list at least one analysis "
                                f"({{id: ..., kind: ...}})"])
    problems: list[str] = []
    # `seed: "7"`, `seed: 7.5`: a number written as text, a fraction for a count -- every one, refused everywhere
    misread = misread_values(raw, StudyFile)
    problems += [f"{_where(root, loc)}: {message}" for loc, message in misread]
    try:
        study = StudyFile.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            from adcbridge.spec import house_words
            msg = house_words(str(err["msg"]))
            loc = tuple(err["loc"])
            if any(loc[:len(seen)] == seen for seen, _ in misread):
                continue                              # named above, in the words of every YAML file
            if err["type"] == "extra_forbidden":
                msg = unknown_key(loc[-1], expected_keys(StudyFile, loc[:-1], raw))
            elif err["type"] != "missing" and "got" not in msg.lower():     # `seed: yes`: show what was written
                msg = f"{msg.rstrip('.')}, got {err.get('input')!r}"
            if len(loc) >= 4 and loc[0] == "analyses" and loc[2] == "data" and loc[3] in ("str", "list[str]"):
                key = loc[:3]                         # `data: 5`, `data: [1]`: one line for the union's members
                line = f"{_where(root, key)}: expected a file name or a list of file names"
                if line not in problems:
                    problems.append(line)
                continue
            problems.append(f"{_where(root, err['loc'])}: {msg}")
        raise StudyError(path, problems) from None
    ids: dict[str, int] = {}
    for k, a in enumerate(study.analyses):
        loc = ("analyses", k)
        if not _ID.match(a.id):
            problems.append(f"{_where(root, loc + ('id',))}: the id {a.id!r} must start with a letter and hold only "
                            f"letters, digits, '_' and '-' (it names the analysis' results files)")
        if a.id in ids:
            problems.append(f"{_where(root, loc + ('id',))}: the id {a.id!r} is used twice (also "
                            f"analyses[{ids[a.id] + 1}])")
        ids.setdefault(a.id, k)
        if a.kind not in KINDS:
            problems.append(f"{_where(root, loc + ('kind',))}: unknown kind {a.kind!r}; the kinds are "
                            f"{', '.join(KINDS)}")
            continue
        for key, message in check_analysis(a, path.parent, study):
            problems.append(f"{_where(root, loc + key)}: {message}")
    for k, a in enumerate(study.analyses):
        for dep in _dependencies(a):
            if dep not in ids:
                key = "of" if dep == a.of else "from" if dep == a.from_ else "designs"
                problems.append(f"{_where(root, ('analyses', k, key))}: no analysis has the id {dep!r}")
    order: tuple[str, ...] = ()
    if not problems:
        from graphlib import CycleError, TopologicalSorter
        graph = {a.id: set(_dependencies(a)) for a in study.analyses}
        try:
            order = tuple(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            problems.append(f"analyses: the analyses depend on each other in a cycle ({cycle})")
    if problems:
        raise StudyError(path, problems)
    from .kinds import option_types
    for a in study.analyses:                          # `trials: 2e3` (read as 2000.0) is the whole number 2000
        a.options = whole_numbers(a.options, option_types(a))
    position = {a.id: k for k, a in enumerate(study.analyses)}
    order = tuple(sorted(order, key=lambda i: (_depth(i, study), position[i])))
    return Study(path=path, file=study, order=order)


def _depth(analysis_id: str, study: StudyFile) -> int:
    """How many analyses stand before this one on its longest chain of dependencies (for a stable order that
    keeps the file's order among independent analyses)."""
    by_id = {a.id: a for a in study.analyses}

    def depth(i: str, seen: frozenset) -> int:
        deps = [d for d in _dependencies(by_id[i]) if d not in seen]
        return 1 + max((depth(d, seen | {i}) for d in deps), default=-1)

    return depth(analysis_id, frozenset())
