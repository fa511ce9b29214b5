"""The kinds of analysis a study holds, and how each one runs.

Most kinds *are* a command: the analysis runs that command in-process with its data file and its options as
flags (``t_on: 60`` is ``--t-on 60``; a list is a repeated or comma-separated flag, as the command takes it; a
mapping ``{CL: [20, mL/day/kg]}`` is ``--param CL=20:mL/day/kg``), under ``--format json``, so its ``record`` is
exactly what the command prints and the same inputs give the same numbers on the command line, in Python and in a
study.  The run gives the command its output flags (``--plot``, ``--out``, ...) pointing into the study's output
folder; a study sets no output flag itself.

=================  ==========================  ====================================================================
kind               command                     uses
=================  ==========================  ====================================================================
kinetics           ``fit kinetics``            one sensorgram table
dose-response      ``fit dose-response``       one table (cell binding, cytotoxicity)
internalization    ``fit internalization``     one table
xenograft          ``fit xenograft``           one table
nca                ``nca``                     one concentration table (``dosing`` option for multiple dose)
nca-stats          ``nca-stats``               the CDISC PP table of the ``nca`` analysis named by ``of``
pk-fit             ``pk fit``                  one concentration table
pk-project         ``pk project``              options only
fih                ``fih``                     a FIH plan (YAML: toxicology table, ladder, exposures) as ``data``,
                                               or options only (``hnstd``, ...)
design             --                          a design spec (``options.design``: boin, 3+3, crm, and its
                                               parameters); dose levels typed in or ``from`` a fih analysis
simulate           --                          ``designs`` (design ids) on named ``scenarios`` (``p_true``),
                                               compared on the same simulated patients
=================  ==========================  ====================================================================
"""

from __future__ import annotations

import contextlib
import io
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adcbridge.io.yaml_files import did_you_mean, misread_values, unknown_key

__all__ = ["KINDS", "Kind", "Outcome", "check_analysis", "run_analysis", "AnalysisError"]

#: output flags the run sets; a study never sets them
OUTPUT_OPTIONS = {"format", "plot", "gof", "km_plot", "ed50_plot", "out", "wide", "summary", "plots", "config"}


class AnalysisError(Exception):
    """An analysis that failed (its command's one-line error, or the reason)."""


@dataclass
class Outcome:
    """What an analysis gives the report and the results folder."""

    record: dict
    tables: dict[str, Any] = field(default_factory=dict)       # name -> DataFrame, written as results CSV
    figures: list[str] = field(default_factory=list)            # paths relative to the output folder
    files: list[str] = field(default_factory=list)              # results files its command wrote (relative)
    conclusion: str = ""
    extra: dict[str, Any] = field(default_factory=dict)         # e.g. the path of the nca PP table


@dataclass(frozen=True)
class Kind:
    name: str
    command: tuple[str, ...] | None
    data: str                                      # "one", "optional", "none"
    title: str
    outputs: tuple[tuple[str, str], ...] = ()      # (flag, file name pattern under the output folder)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("kinetics", ("fit", "kinetics"), "one", "Binding kinetics", (("--plot", "figures/{id}.png"),)),
    Kind("dose-response", ("fit", "dose-response"), "one", "Dose-response", (("--plot", "figures/{id}.png"),)),
    Kind("internalization", ("fit", "internalization"), "one", "Internalization",
         (("--plot", "figures/{id}.png"),)),
    Kind("xenograft", ("fit", "xenograft"), "one", "Xenograft efficacy",
         (("--plot", "figures/{id}.png"), ("--km-plot", "figures/{id}.time_to_endpoint.png"))),
    Kind("nca", ("nca",), "one", "Non-compartmental analysis",
         (("--out", "results/{id}.csv"), ("--summary", "results/{id}.summary.csv"),
          ("--plots", "figures/{id}"))),
    Kind("nca-stats", ("nca-stats",), "none", "Dose proportionality and sex", (("--out", "results/{id}"),)),
    Kind("pk-fit", ("pk", "fit"), "one", "Compartmental PK fit",
         (("--plot", "figures/{id}.png"), ("--gof", "figures/{id}.goodness_of_fit.png"))),
    Kind("pk-project", ("pk", "project"), "none", "Human PK projection", (("--plot", "figures/{id}.png"),)),
    Kind("fih", ("fih",), "optional", "First-in-human start dose"),
    Kind("design", None, "none", "Dose-escalation design"),
    Kind("simulate", None, "none", "Operating characteristics"),
)}


# ---------------------------------------------------------------------------------------- command options
def _command(path: tuple[str, ...]):
    import typer

    from adcbridge.cli import app
    cmd = typer.main.get_command(app)
    for p in path:
        cmd = cmd.commands[p]
    return cmd


def command_options(kind: Kind) -> dict[str, tuple[str, Any, bool]]:
    """option name (the long flag in snake_case) -> (flag, Python type, repeatable) of the kind's command."""
    cmd = _command(kind.command)
    hints = typing.get_type_hints(cmd.callback)
    out = {}
    for p in cmd.params:
        if p.param_type_name != "option":
            continue
        flag = next(o for o in p.opts if o.startswith("--"))
        name = flag[2:].replace("-", "_")
        if p.name in OUTPUT_OPTIONS or name in OUTPUT_OPTIONS:
            continue
        out[name] = (flag, hints.get(p.name, str), bool(p.multiple))
    return out


def _is_path(tp) -> bool:
    return tp is Path or Path in typing.get_args(tp)


def _is_bool(tp) -> bool:
    return tp is bool


def check_analysis(a, folder: Path, study) -> list[tuple[tuple, str]]:
    """Problems of one analysis that can be known before running: (key path within the analysis, message)."""
    kind = KINDS[a.kind]
    problems: list[tuple[tuple, str]] = []
    files = [] if a.data is None else [a.data] if isinstance(a.data, str) else list(a.data)
    if kind.data == "one" and len(files) != 1:
        problems.append((("data",), f"a {a.kind} analysis reads one data file; give 'data: <file>'"))
    if kind.data == "none" and files:
        problems.append((("data",), f"a {a.kind} analysis reads no data file"))
    for f in files:
        if not (folder / f).is_file():
            problems.append((("data",), f"no such file {f!r} (relative to the study file's folder)"))
    expected = {"nca-stats": {"of"}, "design": {"from"}, "simulate": {"designs", "scenarios"}}.get(a.kind, set())
    for key, attr in (("of", "of"), ("from", "from_"), ("designs", "designs"), ("scenarios", "scenarios")):
        if getattr(a, attr) is not None and key not in expected:
            problems.append(((key,), f"a {a.kind} analysis has no '{key}'"))
    if a.kind == "nca-stats" and not a.of:
        problems.append((("of",), "an nca-stats analysis names its nca analysis: 'of: <id>'"))
    if a.kind == "nca-stats" and a.of:
        target = next((x for x in study.analyses if x.id == a.of), None)
        if target is not None and target.kind != "nca":
            problems.append((("of",), f"{a.of!r} is a {target.kind} analysis, not nca"))
    problems += _option_relations(a)
    if a.kind == "simulate":
        problems += _check_simulate(a, study)
    if a.kind == "design":
        problems += _check_design(a, study)
    if kind.command is None:
        return problems
    options = command_options(kind)
    for name, value in a.options.items():
        key = ("options", name)
        if name in OUTPUT_OPTIONS:
            problems.append((key, f"'{name}' is an output of the study run (set in the output folder), not an "
                                  f"option"))
            continue
        if name not in options:
            hint = did_you_mean(name, options)
            near = "" if hint else f" (the flags of 'adcbridge {' '.join(kind.command)}' in snake_case: " \
                                   f"{', '.join(sorted(options))})"
            problems.append((key, f"unknown key {name!r} for kind {a.kind}{hint}{near}"))
            continue
        flag, tp, _ = options[name]
        misread = misread_values(value, tp, key)      # numbers or booleans written as text, a fractional count
        if misread:
            problems += misread
        elif value is None or (isinstance(value, (list, dict, str)) and not value and not isinstance(value, bool)):
            problems.append((key, "is empty"))
        elif _is_bool(tp) and not isinstance(value, bool):
            problems.append((key, f"is a switch: true or false, got {value!r}"))
        elif _is_path(tp) and not (folder / str(value)).is_file():
            problems.append((key, f"no such file {value!r} (relative to the study file's folder)"))
    return problems


def _options_model(kind: str):
    """The options model whose fields (and the relations between them) a kind's command options share, if any."""
    if kind == "kinetics":
        from adcbridge.assays.kinetics.options import KineticsOptions
        return KineticsOptions
    if kind == "xenograft":
        from adcbridge.assays.xenograft.options import XenograftOptions
        return XenograftOptions
    return None


def _option_relations(a) -> list[tuple[tuple, str]]:
    """What an analysis' options model checks of its options (kinetics: ``t_off`` after ``t_on``; xenograft: the
    TGI definitions, a positive humane endpoint, ...), known before running: the options that are fields of the
    model, validated together (a field the command takes from elsewhere, missing here, is not reported); a message
    per error, at the option it names (or at ``options``)."""
    from pydantic import ValidationError
    model = _options_model(a.kind)
    if model is None:
        return []
    given = {k: v for k, v in a.options.items() if k in model.model_fields}
    if isinstance(given.get("tgi"), str):           # the flag's comma-separated names (xenograft --tgi a,b)
        given["tgi"] = tuple(n.strip() for n in given["tgi"].split(","))
    if not given:
        return []
    try:
        model.model_validate(given)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            if err["type"] == "missing":
                continue
            loc = tuple(str(x) for x in err["loc"])
            key = ("options", loc[0]) if loc and loc[0] in given else ("options",)
            out.append((key, str(err["msg"]).removeprefix("Value error, ")))
        return out
    except ValueError as exc:
        return [(("options",), str(exc))]
    return []


def option_types(a) -> dict:
    """What each option of analysis ``a`` holds (option name -> type), as the checks above read them: a command's
    flags, a design's parameters, a simulate's trials and target (empty when not known)."""
    if a.kind == "simulate":
        return {"trials": int, "target": float}
    if a.kind == "design":
        from adcbridge.dosefinding.registry import design_class, design_names
        name = a.options.get("design")
        if name not in design_names():
            return {}
        return {"doses": list[float], **{k: f.annotation for k, f in design_class(name).model_fields.items()}}
    kind = KINDS.get(a.kind)
    if kind is None or kind.command is None:
        return {}
    return {name: tp for name, (_, tp, _) in command_options(kind).items()}


def _design_levels(options: dict) -> tuple[list | None, str | None]:
    """The typed-in dose levels of a design analysis, or a problem with them."""
    levels = options.get("doses", options.get("dose_levels"))
    if levels is None:
        return None, None
    if not isinstance(levels, list) or not levels:
        return None, f"the dose levels are a list of doses, e.g. [1.0, 2.1, 4.2]; got {levels!r}"
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in levels):
        return None, f"the dose levels must be positive numbers; got {levels!r}"
    if any(b <= a for a, b in zip(levels, levels[1:])):
        return None, f"the dose levels must increase; got {levels!r}"
    return [float(v) for v in levels], None


def _check_design(a, study) -> list[tuple[tuple, str]]:
    """A design analysis: a registered design, dose levels typed in (with their unit) or from a fih analysis, and
    parameters the design accepts -- checked by building the spec now, so a typo or a bad value is found before
    any work."""
    from adcbridge.dosefinding.registry import design_class, design_names
    problems = []
    name = a.options.get("design")
    if name not in design_names():
        return [(("options", "design"), f"name the design: one of {', '.join(design_names())}")]
    if "n_doses" not in design_class(name).model_fields:
        return [(("options", "design"), f"{name} doses two agents on a grid: a study's design analysis takes a "
                                        f"single-agent design and its dose levels (use 'adcbridge next' or "
                                        f"'adcbridge pathways --design {name}')")]
    cls = design_class(name)
    known = [k for k in cls.model_fields if k != "n_doses"] + ["design", "doses"]
    for key in a.options:
        if key == "n_doses":
            return [(("options", key), "the number of doses is that of the dose levels: give 'doses' (or 'from')")]
        if key not in known:
            return [(("options", key), unknown_key(key, known))]
    misread = misread_values(a.options, option_types(a), ("options",))
    if misread:
        return misread
    has_doses = "doses" in a.options or "dose_levels" in a.options
    if a.from_ and has_doses:
        problems.append((("from",), "give the dose levels in the options or 'from', not both"))
    if not a.from_ and not has_doses:
        problems.append((("options",), "give the dose levels ('doses: [1.0, 2.1, ...]') or 'from: <fih id>'"))
    if a.from_:
        target = next((x for x in study.analyses if x.id == a.from_), None)
        if target is not None and target.kind != "fih":
            problems.append((("from",), f"{a.from_!r} is a {target.kind} analysis, not fih"))
    levels, problem = _design_levels(a.options)
    if problem:
        problems.append((("options", "doses"), problem))
    if has_doses and "dose_unit" not in a.options:
        problems.append((("options",), "give the unit of the dose levels: 'dose_unit: mg/kg' (or mg, ...)"))
    if problems:
        return problems
    opts = {k: v for k, v in a.options.items() if k not in ("design", "doses", "dose_levels")}
    levels = levels or [1.0, 2.0, 3.0]                  # from a fih ladder: checked at run time
    try:
        design_class(name)(n_doses=len(levels), dose_levels=tuple(levels), **opts)
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        bad = next((k for k in opts if f"'{k}'" in message), None)
        problems.append((("options", bad) if bad else ("options",), message))
    return problems


def _check_simulate(a, study) -> list[tuple[tuple, str]]:
    problems = []
    if not a.designs:
        problems.append((("designs",), "name the design analyses to simulate: 'designs: [<id>, ...]'"))
    found = []
    for k, d in enumerate(a.designs or []):
        target = next((x for x in study.analyses if x.id == d), None)
        if target is not None and target.kind != "design":
            problems.append((("designs", k), f"{d!r} is a {target.kind} analysis, not design"))
        elif target is not None:
            found.append(target)
            name = target.options.get("design")
            from adcbridge.dosefinding.registry import design_class, design_names
            if name in design_names() and design_class(name).simulate_oc is not \
                    design_class("boin").simulate_oc:
                problems.append((("designs", k), f"{d!r} is a {name} design: a study's simulate compares designs on "
                                                 f"the same simulated patients (boin, 3+3, crm); simulate {name} "
                                                 f"with 'adcbridge simulate' or 'adcbridge sweep'"))
    if len(set(a.designs or [])) != len(a.designs or []):
        problems.append((("designs",), "a design is named twice"))
    typed = [(d.id, *_design_levels(d.options)) for d in found if not d.from_]
    levels = {tuple(lv) for _, lv, _ in typed if lv}
    if len(levels) > 1:
        problems.append((("designs",), "the designs compared must have the same dose levels (the scenarios give one "
                                       "true DLT probability per level)"))
    units = {d.options.get("dose_unit") for d in found if not d.from_}
    if len(units) > 1:
        problems.append((("designs",), f"the designs compared have different dose units {sorted(map(str, units))}"))
    targets = {d.options.get("target") for d in found if d.options.get("target") is not None}
    if len(targets) > 1:
        problems.append((("designs",), f"the designs compared have different targets {sorted(targets, key=str)}; "
                                       f"operating characteristics score every design against one target"))
    if a.scenarios == []:
        problems.append((("scenarios",), "is empty: list at least one scenario ({name: ..., p_true: [...]})"))
    elif a.scenarios is None:
        problems.append((("scenarios",), "is required: list the named scenarios ({name: ..., p_true: [...]})"))
    names = set()
    n_levels = len(next(iter(levels))) if len(levels) == 1 else None
    for k, sc in enumerate(a.scenarios or []):
        misread = misread_values(sc, {"p_true": list[float]}, ("scenarios", k))
        if misread:
            problems += misread
            continue
        unknown = sorted(set(sc) - {"name", "p_true"})
        if unknown or "name" not in sc or "p_true" not in sc:
            problems.append((("scenarios", k), f"a scenario has 'name' and 'p_true' (got {sorted(sc)})"))
            continue
        if sc["name"] in names:
            problems.append((("scenarios", k, "name"), f"the scenario name {sc['name']!r} is used twice"))
        names.add(sc["name"])
        p = sc["p_true"]
        if not isinstance(p, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                              and 0 <= v <= 1 for v in p):
            problems.append((("scenarios", k, "p_true"), f"expected probabilities in [0, 1], got {p!r}"))
        elif n_levels is not None and len(p) != n_levels:
            problems.append((("scenarios", k, "p_true"), f"{len(p)} probabilities for {n_levels} dose levels"))
    unknown = sorted(set(a.options) - {"trials", "target"})
    if unknown:
        hint = did_you_mean(unknown[0], ("trials", "target"))
        problems.append((("options",), f"unknown option(s) {unknown}{hint}; a simulate analysis takes trials and "
                                       f"target (its seed is the study's)"))
    misread = misread_values(a.options, option_types(a), ("options",))
    if misread:
        return problems + misread
    trials = a.options.get("trials", 10_000)             # a whole float (`trials: 2e3`) is a whole number
    if isinstance(trials, bool) or not isinstance(trials, (int, float)) or not float(trials).is_integer() \
            or not 1 <= trials <= 1_000_000:
        problems.append((("options", "trials"), f"expected a whole number of trials in 1..1,000,000, got {trials!r}"))
    return problems


# ------------------------------------------------------------------------------------------------ running
@dataclass
class RunContext:
    study: Any
    out: Path                                    # the (temporary) output folder
    outcomes: dict[str, Outcome]
    seed: int


def _flags(kind: Kind, options: dict, folder: Path) -> list[str]:
    spec = command_options(kind)
    argv: list[str] = []
    for name, value in options.items():
        flag, tp, repeatable = spec[name]
        if _is_bool(tp):
            if value:
                argv.append(flag)
            continue
        if _is_path(tp):
            argv += [flag, str(folder / str(value))]
            continue
        text = _whole_text if _counts(tp) else str        # `n_boot: 1e3` is the whole number 1000, not "1000.0"
        if isinstance(value, dict):          # NAME=VALUE pairs, VALUE[:UNIT]
            items = [f"{k}={v[0]}:{v[1]}" if isinstance(v, (list, tuple)) else f"{k}={v}" for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [",".join(text(v) for v in value)] if not repeatable else [text(v) for v in value]
        else:
            items = [text(value)]
        for item in items:
            argv += [flag, item]
    return argv


def _counts(tp) -> bool:
    """The option's type takes whole numbers and no fractions (``int``, ``Optional[int]``, ``list[int]``)."""
    args = set(typing.get_args(tp)) | {tp}
    for arg in list(args):
        args |= set(typing.get_args(arg))
    return int in args and float not in args


def _whole_text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def invoke(argv: list[str], svg: dict | None = None) -> dict:
    """Run ``adcbridge ARGV --format json`` in-process; its record, or :class:`AnalysisError` with its error.
    With ``svg`` (a dict), every figure the command renders is also kept there as SVG (see
    :data:`adcbridge.cli.common.SVG_COPIES`)."""
    from adcbridge.cli import main
    from adcbridge.cli.common import SVG_COPIES
    out, err = io.StringIO(), io.StringIO()
    token = SVG_COPIES.set(svg)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv + ["--format", "json"])
    finally:
        SVG_COPIES.reset(token)
    if code == 130:                                # Ctrl-C inside the command: stop the whole study
        raise KeyboardInterrupt
    if code != 0:
        message = err.getvalue().strip().splitlines()
        text = message[0] if message else f"exit status {code}"
        raise AnalysisError(text.removeprefix("adcbridge: error: "))
    return json.loads(out.getvalue())


def write_svg_copies(root: Path, figures: list[str], svg: dict[bytes, bytes]) -> None:
    """Write each figure's SVG rendering (kept by :func:`invoke`) beside its PNG file."""
    for rel in figures:
        png = (root / rel).read_bytes()
        if png in svg:
            (root / rel).with_suffix(".svg").write_bytes(svg[png])


def _relative(obj, root: Path):
    """``obj`` with the output folder's absolute path taken out of its strings (results do not depend on where
    the run happened)."""
    prefix = str(root) + "/"
    if isinstance(obj, dict):
        return {k: _relative(v, root) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_relative(v, root) for v in obj]
    if isinstance(obj, str) and prefix in obj:
        return obj.replace(prefix, "")
    return obj


def run_analysis(a, ctx: RunContext) -> Outcome:
    """Run analysis ``a``; :class:`AnalysisError` when it fails."""
    kind = KINDS[a.kind]
    if kind.command is None:
        return _NATIVE[a.kind](a, ctx)
    argv = list(kind.command) + [str(p) for p in ctx.study.data_paths(a)]
    if a.kind == "nca-stats":
        argv.append(ctx.outcomes[a.of].extra["pp"])
    if a.kind == "fih" and a.data is not None:
        argv = list(kind.command) + ["--config", str(ctx.study.data_paths(a)[0])]
    argv += _flags(kind, a.options, ctx.study.folder)
    written = []
    for flag, pattern in kind.outputs:
        target = ctx.out / pattern.format(id=a.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        argv += [flag, str(target)]
        written.append(target)
    svg: dict[bytes, bytes] = {}
    record = _relative(invoke(argv, svg), ctx.out)
    outcome = Outcome(record=record)
    for target in written:
        rel = str(target.relative_to(ctx.out))
        if rel.startswith("results/") and target.exists():
            outcome.files += ([rel] if target.is_file() else
                              sorted(str(p.relative_to(ctx.out)) for p in target.rglob("*") if p.is_file()))
        if target.is_dir():
            outcome.figures += sorted(str(p.relative_to(ctx.out)) for p in target.glob("*.png"))
        elif target.suffix == ".png" and target.exists():
            outcome.figures.append(rel)
    write_svg_copies(ctx.out, outcome.figures, svg)
    if a.kind == "nca":
        outcome.extra["pp"] = str(ctx.out / f"results/{a.id}.csv")
    from .conclusions import conclude
    conclude(a, outcome, ctx)
    return outcome


# ------------------------------------------------------------------------------------------ native kinds
def _design_spec(a, ctx: RunContext):
    from adcbridge.dosefinding.registry import design_class
    opts = dict(a.options)
    name = opts.pop("design")
    cls = design_class(name)
    if a.from_:
        ladder = ctx.outcomes[a.from_].record.get("ladder")
        if not ladder:
            raise AnalysisError(f"the fih analysis {a.from_!r} has no dose ladder (give 'ladder' in its plan)")
        levels, unit = tuple(ladder["doses"]), ladder.get("dose_unit", "mg/kg")
    else:
        levels = opts.pop("doses", None) or opts.pop("dose_levels")
        unit = opts.pop("dose_unit", "mg/kg")
        levels = tuple(float(v) for v in levels)
    if "dose_unit" in cls.model_fields:
        opts["dose_unit"] = unit
    if "target" in opts and "target" not in cls.model_fields:
        raise AnalysisError(f"{name} has no target")
    try:
        return cls(n_doses=len(levels), dose_levels=levels, **opts)
    except ValueError as exc:
        raise AnalysisError(str(exc).splitlines()[0]) from None


def _run_design(a, ctx: RunContext) -> Outcome:
    from adcbridge.dosefinding import protocol_text
    design = _design_spec(a, ctx)
    record = {"design": design.spec_name, "spec": json.loads(design.model_dump_json()),
              "protocol_text": protocol_text(design)}
    tables = {}
    if design.spec_name == "boin":
        from adcbridge.dosefinding import decision_table
        table = decision_table(design)
        record["decision_table"] = table.to_record()
        tables["decision_table"] = table.table
    pathways = design.pathways(2)
    tables["dose_transition_pathways"] = pathways
    outcome = Outcome(record=record, tables=tables, extra={"design": design})
    from .conclusions import conclude
    conclude(a, outcome, ctx)
    return outcome


def _run_simulate(a, ctx: RunContext) -> Outcome:
    import pandas as pd

    from adcbridge.dosefinding import compare_designs
    designs = {d: ctx.outcomes[d].extra["design"] for d in a.designs}
    trials = int(a.options.get("trials", 10_000))
    first = next(iter(designs.values()))
    for name, d in designs.items():               # designs from a fih ladder are known only now
        if (d.dose_levels, d.dose_unit) != (first.dose_levels, first.dose_unit):
            raise AnalysisError(f"the designs {a.designs[0]!r} and {name!r} have different dose levels; the "
                                f"scenarios give one true DLT probability per level")
        if d.oc_target is not None and first.oc_target is not None and d.oc_target != first.oc_target:
            raise AnalysisError(f"the designs {a.designs[0]!r} and {name!r} have different targets")
    for sc in a.scenarios:
        if len(sc["p_true"]) != first.n_doses:
            raise AnalysisError(f"scenario {sc['name']!r}: {len(sc['p_true'])} probabilities for "
                                f"{first.n_doses} dose levels")
    kinds = [d.spec_name for d in designs.values()]
    labels = {name: (d.spec_name.upper() if kinds.count(d.spec_name) == 1 else name) for name, d in designs.items()}
    target = a.options.get("target", first.oc_target)
    if target is None:
        raise AnalysisError("give the target DLT rate of the operating characteristics: options.target")
    rows, records, figures = [], {}, []
    from adcbridge.cli.common import SVG_COPIES, png_bytes
    from adcbridge.io.files import write_bytes
    from adcbridge.report import plot_oc
    svg: dict[bytes, bytes] = {}
    token = SVG_COPIES.set(svg)
    try:
        for k, sc in enumerate(a.scenarios, start=1):
            try:
                cmp = compare_designs(designs, sc["p_true"], n_trials=trials, seed=ctx.seed, target=target)
            except ValueError as exc:
                raise AnalysisError(f"scenario {sc['name']!r}: {str(exc).splitlines()[0]}") from None
            records[sc["name"]] = {n: r.to_record() for n, r in zip(cmp.names, cmp.results)}
            for name, oc, row in zip(cmp.names, cmp.results, cmp.table.to_dict("records")):
                rows.append({"scenario": sc["name"], "design": labels[name], "pcs": oc.pcs,
                             "pcs_diff": row["pcs_diff"], "pcs_diff_se": row["pcs_diff_se"],
                             "no_mtd_pct": oc.no_mtd_pct, "n_mean": oc.n_mean, "dlt_mean": oc.dlt_total_mean,
                             "overdose60_pct": oc.overdose60_pct})
            rel = f"figures/{a.id}.scenario{k}.png"
            (ctx.out / rel).parent.mkdir(parents=True, exist_ok=True)
            write_bytes(ctx.out / rel, png_bytes(plot_oc(list(cmp.results), list(cmp.names), title=sc["name"])))
            figures.append(rel)
    finally:
        SVG_COPIES.reset(token)
    write_svg_copies(ctx.out, figures, svg)
    record = {"designs": list(designs), "labels": labels, "trials": trials, "seed": ctx.seed, "target": target,
              "scenarios": records}
    outcome = Outcome(record=record, tables={"operating_characteristics": pd.DataFrame(rows)}, figures=figures)
    from .conclusions import conclude
    conclude(a, outcome, ctx)
    return outcome


_NATIVE: dict[str, Callable] = {"design": _run_design, "simulate": _run_simulate}
