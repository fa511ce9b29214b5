"""``adcbridge next``: the live decision of any registered dose-finding design, and the one layer that turns
design flags into a design spec (also used by ``adcbridge simulate``).

A design flag is the spec parameter's name with dashes (``--cutoff-eli`` is ``cutoff_eli``); a flag given for a
design that has no such parameter (or holds it fixed) is refused, naming the designs that have it -- never ignored.
So is a flag that would change nothing in the command's result (``--dlt-window`` for ``pathways``, which enumerate
complete cohorts), and a history column the design does not use (``efficacy`` for ``boin``; the designs declare
``uses_efficacy``, ``uses_times``, ``uses_followup``; the rule is the core's,
:meth:`~adcbridge.dosefinding.design.DoseFindingDesign.refuse_unused_columns`, applied by every
:func:`~adcbridge.dosefinding.next_dose`).  A required parameter the user left out is named by its
flag, and a specification's error about a flag the user gave is worded as the flag's.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import FORMAT, Format, emit, floats, rows_text
from adcbridge.spec import house_words

# flag -> spec parameter, for the flags whose name differs from the parameter's
_PARAMETER_OF_FLAG = {"--cohorts": "n_cohorts"}

#: what a required parameter is, for the message naming its flag when it is missing
_REQUIRED_WHAT = {"target": "the target DLT probability, e.g. --target 0.3",
                  "efficacy_min": "the lowest acceptable response rate, e.g. --efficacy-min 0.25",
                  "grid": "the levels of agent A by the levels of agent B, e.g. --grid 3x5",
                  "n_doses": "the number of dose levels or the doses"}

#: design parameters that change nothing in a command's result: command -> parameter -> why (refused when given)
_NO_EFFECT = {
    "pathways": {
        "dlt_window": "pathways enumerate whole cohorts with every outcome known: no time passes in them",
        "max_pending": "pathways enumerate whole cohorts with every outcome known: no patient is pending in them",
        "n_cap": "pathways walk the escalation cohorts without backfill patients",
        "backfill_assign": "pathways walk the escalation cohorts without backfill patients",
    },
}

def _flag_of(name: str) -> str:
    """The command-line flag of spec parameter ``name``."""
    for flag, param in _PARAMETER_OF_FLAG.items():
        if param == name:
            return flag
    return {"n_doses": "--doses", "dose_levels": "--doses"}.get(name, "--" + name.replace("_", "-"))


def _designs_with(predicate) -> str:
    """The registered designs whose class satisfies ``predicate``, as ``"a or b"`` (``"none"``)."""
    from adcbridge.dosefinding.registry import design_class, design_names
    return " or ".join(d for d in design_names() if predicate(design_class(d))) or "none"


def _has_parameter(cls, name: str) -> bool:
    """Whether design class ``cls`` has parameter ``name`` that can be set (not one it holds fixed)."""
    return name in cls.model_fields and name not in getattr(cls, "fixed_parameters", ())


def _spec_error(exc: ValueError, given: set[str], derived: dict[str, tuple[str, str]] | None = None) -> Exception:
    """A specification's error in the words of the command line: about a parameter whose flag the user gave, a
    usage error naming the flag (``Invalid value for '--cohort-size': must be >= 1. Got 0.``); about a parameter
    taken from another flag (``derived``: parameter -> (flag, what that flag gives), e.g. the number of doses from
    the length of ``--p-true``), a usage error naming that flag; otherwise the specification's sentence in the
    house's words."""
    import re
    text = house_words(str(exc).splitlines()[0])
    param = getattr(exc, "parameter", None)
    named = re.match(r"The '(?P<param>[A-Za-z_0-9]+)' parameter of (?P<design>[A-Za-z0-9+_ -]+?) "
                     r"(?=must|is|has|needs|:)", text)
    about = param or (named.group("param") if named else None)
    if about in (derived or {}) and named:
        source, what = derived[about]
        noun = {"n_doses": "number of dose levels"}.get(about, about.replace("_", " "))
        return typer.BadParameter(f"{what}, but {named.group('design')}'s {noun} {text[named.end():].lstrip(': ')}",
                                  param_hint=f"'{source}'")
    flag = _flag_of(param) if param else None
    if flag in given:
        m = re.match(r"The '[A-Za-z_0-9]+' parameter of [A-Za-z0-9+_ -]+? (?=must|is|has|needs|:)", text)
        if m:
            return typer.BadParameter(text[m.end():].lstrip(": "), param_hint=f"'{flag}'")
    return ValueError(text)


def _registered(name: str) -> str:
    from adcbridge.dosefinding.registry import design_names
    if name not in design_names():
        raise typer.BadParameter(f"unknown design {name!r}; the registered designs are {', '.join(design_names())}",
                                 param_hint="'--design'")
    return name


def build_from_flags(design: str, doses: str | None, n_doses: int | None, given: dict[str, object],
                     command: str | None = None, derived: dict[str, tuple[str, str]] | None = None):
    """The spec of registered ``design`` from the flags the user gave (``given``: flag -> value; None and False
    mean not given).  ``doses`` is a number of levels or the dose values (``n_doses`` when it is already known
    from elsewhere, e.g. the length of ``--p-true``).  ``command`` (``next``, ``pathways``, ``simulate``) refuses
    the flags that change nothing in its result.  ``derived`` names the flag a parameter was taken from when the
    user did not give its own (``{"n_doses": ("--p-true", "has 60 values, one per dose level")}``): an error
    about that parameter names that flag."""
    from adcbridge.dosefinding.registry import design_class
    from adcbridge.spec import SpecError
    cls = design_class(_registered(design))
    params: dict[str, object] = {}
    typed: set[str] = set()
    for flag, value in given.items():
        if value is None or value is False:
            continue
        if flag == "--no-safety-stop":                 # a switch setting a parameter to None
            if given.get("--stop-cutoff") is not None:
                raise typer.BadParameter("turns the safety stop off: not with --stop-cutoff",
                                         param_hint="'--no-safety-stop'")
            flag, value = "--stop-cutoff", None
            name = "stop_cutoff"
            if name not in cls.model_fields:
                raise typer.BadParameter(f"applies to --design crm, not {design}", param_hint="'--no-safety-stop'")
            params[name] = None
            continue
        name = _PARAMETER_OF_FLAG.get(flag, flag.lstrip("-").replace("-", "_"))
        if not _has_parameter(cls, name):
            having = _designs_with(lambda c, name=name: _has_parameter(c, name))
            raise typer.BadParameter(f"applies to --design {having}, not {design}", param_hint=f"'{flag}'")
        why = _NO_EFFECT.get(command or "", {}).get(name)
        if why:
            raise typer.BadParameter(f"changes nothing in {command} ({why}); it is for simulate",
                                     param_hint=f"'{flag}'")
        params[name] = value
        typed.add(flag)
    for flag, convert in _CONVERT.items():
        name = _PARAMETER_OF_FLAG.get(flag, flag.lstrip("-").replace("-", "_"))
        if isinstance(params.get(name), str):
            params[name] = convert(params[name], flag)
    if "start_dose" in params:
        pair, wanted = isinstance(params["start_dose"], tuple), "grid" in cls.model_fields
        if pair and not wanted:
            raise typer.BadParameter(f"--design {design} starts at one dose level, e.g. --start-dose 2 (a pair A,B "
                                     f"is a combination's, for comb-boin); got {given['--start-dose']!r}",
                                     param_hint="'--start-dose'")
        if wanted and not pair:
            raise typer.BadParameter(f"--design {design} starts at a combination: give the levels of agents A and B "
                                     f"as a pair A,B, e.g. --start-dose 1,1; got {given['--start-dose']!r}",
                                     param_hint="'--start-dose'")
    if doses is not None and "n_doses" not in cls.model_fields:
        raise typer.BadParameter(f"does not apply to --design {design} (give its levels with --grid)",
                                 param_hint="'--doses'")
    if doses is not None:
        levels = floats(doses, "--doses")
        if len(levels) == 1 and levels[0] == int(levels[0]) and levels[0] >= 1:
            params["n_doses"] = int(levels[0])
        elif len(levels) >= 2:
            params["n_doses"], params["dose_levels"] = len(levels), tuple(levels)
        else:
            raise typer.BadParameter(f"give the number of dose levels (a whole number >= 1, e.g. 5) or the dose "
                                     f"values (two or more, e.g. 1,2.1,4.2), got {doses!r}", param_hint="'--doses'")
        if n_doses is not None and params["n_doses"] != n_doses:
            raise typer.BadParameter(f"has {params['n_doses']} levels but the scenario has {n_doses}",
                                     param_hint="'--doses'")
    elif n_doses is not None and "n_doses" in cls.model_fields:
        params["n_doses"] = n_doses
    elif "n_doses" in cls.model_fields and cls.model_fields["n_doses"].is_required():
        raise typer.BadParameter(f"is required for --design {design} ({_REQUIRED_WHAT['n_doses']})",
                                 param_hint="'--doses'")
    if "dose_unit" in params and "dose_levels" not in params:
        raise typer.BadParameter("labels dose values: give --doses as the doses (e.g. 1,2.1,4.2), not their number",
                                 param_hint="'--dose-unit'")
    if "offset" in params and not params.get("extrasafe"):
        raise typer.BadParameter("sets the cut-off of the extra safety rule: give it with --extrasafe",
                                 param_hint="'--offset'")
    if params.get("titration") and params.get("cohort_size") == 1:
        raise typer.BadParameter("has no effect with --cohort-size 1 (every cohort is one patient already)",
                                 param_hint="'--titration'")
    if "skeleton" in params:
        params["skeleton"] = tuple(floats(str(params["skeleton"]), "--skeleton"))
    required = [n for n, f in cls.model_fields.items() if f.is_required() and n not in params]
    if "target" in cls.model_fields and "target" not in params and "target" not in required:
        required.insert(0, "target")                 # a default target (boin-backfill's 0.25) is not guessed
    for name in required:
        what = _REQUIRED_WHAT.get(name) or cls.model_fields[name].description or name.replace("_", " ")
        raise typer.BadParameter(f"is required for --design {design} ({what})", param_hint=f"'{_flag_of(name)}'")
    try:
        return cls(**params)
    except SpecError as exc:
        raise _spec_error(exc, typed | ({"--doses"} if doses is not None else set()), derived) from None


def _levels(text: str, flag: str) -> int | tuple[int, int]:
    """``"2"`` -> 2 (a dose level); ``"1,2"`` -> (1, 2) (a combination's levels of agents A and B)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (1, 2) or not all(p.isdigit() for p in parts):
        raise typer.BadParameter(f"expected a dose level (2) or a combination's levels of A and B (1,2), got "
                                 f"{text!r}", param_hint=f"'{flag}'")
    return int(parts[0]) if len(parts) == 1 else (int(parts[0]), int(parts[1]))


def _grid(text: str, flag: str) -> tuple[int, int]:
    """``"3x5"`` -> (3, 5): levels of agent A (rows) by levels of agent B (columns)."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise typer.BadParameter(f"expected the levels of A by the levels of B, e.g. 3x5, got {text!r}",
                                 param_hint=f"'{flag}'")
    if not all(int(p) >= 1 for p in parts):
        raise typer.BadParameter(f"each agent needs at least one level (levels of A and of B >= 1), e.g. 3x5, got "
                                 f"{text!r}", param_hint=f"'{flag}'")
    return int(parts[0]), int(parts[1])


def _pair(text: str, flag: str) -> tuple[float, float]:
    values = floats(text, flag)
    if len(values) != 2:
        raise typer.BadParameter(f"expected two numbers, e.g. 60,40, got {text!r}", param_hint=f"'{flag}'")
    return values[0], values[1]


#: flags given as text and turned into a spec parameter's value
_CONVERT = {"--start-dose": _levels, "--grid": _grid, "--utility": _pair}

# The scenario flags of `simulate` for designs with their own simulator: flag -> scenario option
SCENARIO_FLAGS = {"--q-true": "q_true", "--accrual-rate": "accrual_rate", "--late-onset": "late_onset",
                  "--late-window": "late_window", "--accrual": "accrual"}


#: what a scenario flag is, for the message naming it when a design needs it
_SCENARIO_WHAT = {"q_true": "the true response probability per dose, besides --p-true, e.g. --q-true 0.2,0.3,0.5"}


def scenario_from_flags(spec, design: str, given: dict[str, object]) -> dict[str, object]:
    """The scenario options of ``spec``'s own simulator from the flags given (flag -> value, None = not given);
    a flag the design does not take is refused, naming the designs that take it, and one it needs
    (``required_scenario_options``) is named by its flag when missing."""
    out = {}
    for flag, value in given.items():
        if value is None:
            continue
        name = SCENARIO_FLAGS[flag]
        if name not in spec.scenario_options:
            having = _designs_with(lambda c, name=name: name in c.scenario_options)
            raise typer.BadParameter(f"applies to --design {having}, not {design}", param_hint=f"'{flag}'")
        out[name] = floats(value, flag) if flag == "--q-true" else value
    for name in getattr(spec, "required_scenario_options", ()):
        if name not in out:
            flag = next(f for f, n in SCENARIO_FLAGS.items() if n == name)
            raise typer.BadParameter(f"is required for --design {design} ({_SCENARIO_WHAT.get(name, name)})",
                                     param_hint=f"'{flag}'")
    return out


def scenario_error(exc: ValueError, given: dict[str, object]) -> Exception:
    """A simulator's error about a scenario option (``The 'late_onset' scenario option of tite-boin must be ...``)
    as a usage error naming the flag the user gave (``Invalid value for '--late-onset': must be ...``)."""
    import re
    text = house_words(str(exc).splitlines()[0])
    m = re.match(r"The '(?P<name>[a-z_]+)' scenario option of [A-Za-z0-9+_-]+ ", text)
    flag = next((f for f, n in SCENARIO_FLAGS.items() if m and n == m.group("name")), None)
    if flag is not None and given.get(flag) is not None:
        return typer.BadParameter(text[m.end():], param_hint=f"'{flag}'")
    return ValueError(text)


#: the flags of `simulate` that `next` and `pathways` do not take (a scenario's truths and the Monte Carlo's
#: settings): refused with one line saying why, not left to the parser's "No such option"
SIMULATE_ONLY_FLAGS = ("--p-true", *SCENARIO_FLAGS, "--trials", "--seed")


def refusing_simulate_flags(why: str):
    """A command that refuses :data:`SIMULATE_ONLY_FLAGS` (hidden options) with ``why``."""
    import functools
    import inspect

    def wrap(func):
        own = list(inspect.signature(func).parameters.values())
        names = {f: "refused_" + f.lstrip("-").replace("-", "_") for f in SIMULATE_ONLY_FLAGS}
        extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
                                   default=typer.Option(None, f, hidden=True, help=f"Not taken here: {why}"))
                 for f, n in names.items()]

        @functools.wraps(func)
        def command(**kwargs):
            for flag, name in names.items():
                if kwargs.pop(name, None) is not None:
                    raise typer.BadParameter(why, param_hint=f"'{flag}'")
            return func(**kwargs)

        params = own + extra
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__
        return command
    return wrap


# The design flags of `next` (and their help), shared with `simulate` -------------------------------------------
DESIGN = typer.Option("boin", "--design", help="Registered design: boin, 3+3, crm, tite-boin, comb-boin, boin12 or "
                                               "boin-backfill.")
TARGET = typer.Option(None, "--target", help="Target DLT probability (boin: 0.05-0.6; crm: 0-1; not for 3+3).")
COHORT_SIZE = typer.Option(None, "--cohort-size", help="Patients per cohort (every design but 3+3; "
                                                                 "default 3).")
COHORTS = typer.Option(None, "--cohorts", help="The design's maximum number of cohorts in a trial (every design but "
                                                "3+3; default 10; not for the comb-boin waterfall, --mtd-contour, "
                                                "whose subtrials set their own).")
START_DOSE = typer.Option(None, "--start-dose", help="Starting dose level (default 1; comb-boin: the levels of A "
                                                     "and B, e.g. 1,1).")
N_EARLYSTOP = typer.Option(None, "--n-earlystop", help="boin, tite-boin, comb-boin, boin-backfill: stop when "
                                                       "this many patients are at the current dose and the decision is "
                                                       "to stay (default 100).")
P_SAF = typer.Option(None, "--p-saf", help="BOIN family (boin, tite-boin, comb-boin, boin-backfill, "
                                           "boin12): highest DLT rate deemed sub-therapeutic (default 0.6 x target).")
P_TOX = typer.Option(None, "--p-tox", help="BOIN family (boin, tite-boin, comb-boin, boin-backfill, "
                                           "boin12): lowest DLT rate deemed overly toxic (default 1.4 x target).")
CUTOFF_ELI = typer.Option(None, "--cutoff-eli", help="BOIN family (boin, tite-boin, comb-boin, boin-backfill, "
                                                     "boin12): posterior probability cut-off for eliminating a dose "
                                                     "(default 0.95).")
EXTRASAFE = typer.Option(False, "--extrasafe", help="boin, tite-boin, comb-boin, boin-backfill: the extra safety "
                                                    "stopping rule at the lowest dose.")
OFFSET = typer.Option(None, "--offset", help="boin, tite-boin, comb-boin, boin-backfill: offset of the extra safety "
                                             "rule's cut-off (default 0.05; with --extrasafe).")
TITRATION = typer.Option(False, "--titration", help="boin, comb-boin: accelerated titration (one patient per dose "
                                                    "until the first DLT; comb-boin: up the grid, agent B first; not "
                                                    "with --cohort-size 1 or --mtd-contour).")
BOUND_MTD = typer.Option(False, "--bound-mtd", help="boin, comb-boin, boin-backfill: select only doses "
                                                           "whose estimate is <= lambda_d.")
SKELETON = typer.Option(None, "--skeleton", help="crm: skeleton, e.g. 0.05,0.12,0.25,0.40,0.55 (default: "
                                                 "indifference-interval skeleton).")
MODEL = typer.Option(None, "--model", help="crm: empiric or logistic (default empiric).")
INTERCEPT = typer.Option(None, "--intercept", help="crm: logistic intercept (default 3).")
PRIOR_VAR = typer.Option(None, "--prior-var", help="crm: prior variance of beta (default 1.34).")
HALFWIDTH = typer.Option(None, "--halfwidth", help="crm: indifference-interval half-width (default 0.05).")
PRIOR_MTD = typer.Option(None, "--prior-mtd", help="crm: prior MTD level of the skeleton (default the middle "
                                                   "dose).")
ALLOW_SKIPPING = typer.Option(False, "--allow-skipping", help="crm: let the next dose skip untried levels.")
STOP_CUTOFF = typer.Option(None, "--stop-cutoff", help="crm: stop when Pr(DLT rate at dose 1 > target) exceeds this "
                                                       "(default 0.9).")
NO_SAFETY_STOP = typer.Option(False, "--no-safety-stop", help="crm: no safety stop (dfcrm's simulator has none).")
VARIANT = typer.Option(None, "--variant", help="3+3: de-escalation or escalation-only (default de-escalation).")
MAX_PENDING = typer.Option(None, "--max-pending", help="tite-boin: suspend accrual when more than this fraction of "
                                                       "the current dose's patients are pending (default 0.5).")
N_ELI = typer.Option(None, "--n-eli", help="tite-boin: patients a dose needs before it can be eliminated "
                                           "(default 3).")
DLT_WINDOW = typer.Option(None, "--dlt-window", help="tite-boin, boin-backfill: length of the DLT window: the time "
                                                     "unit of simulate (default 1); next (tite-boin): with --today, "
                                                     "in days.")
GRID = typer.Option(None, "--grid", help="comb-boin: levels of agent A by levels of agent B, e.g. 3x5.")
MTD_CONTOUR = typer.Option(False, "--mtd-contour", help="comb-boin: one MTD per level of agent A (an MTD contour; "
                                                        "the waterfall design).")
EFFICACY_MIN = typer.Option(None, "--efficacy-min", help="boin12: lowest acceptable response rate.")
UTILITY = typer.Option(None, "--utility", help="boin12: utility weights u11,u00 (default 60,40).")
CUTOFF_FUTILITY = typer.Option(None, "--cutoff-futility", help="boin12: posterior probability cut-off for dropping "
                                                               "a dose for futility (default 0.95).")
N_CAP = typer.Option(None, "--n-cap", help="boin-backfill: a dose is open to backfill while it has "
                                           "treated at most this many patients, escalation and backfill (so it can "
                                           "reach n_cap + 1 with the next patient; default 12).")
BACKFILL_ASSIGN = typer.Option(None, "--backfill-assign", help="boin-backfill: which open dose a backfill patient "
                                                               "gets: highest, lowest or random (default highest).")
THREE_PLUS_THREE = typer.Option(False, "--three-plus-three", help="boin-backfill: escalate by the 3+3 rules instead "
                                                                  "of BOIN's.")


# The design flags as one list, for commands that take every design's flags ------------------------------------
#: (parameter name, type, option) of every design flag shared by `next`, `simulate` and `pathways`
DESIGN_FLAGS = [
    ("target", Optional[float], TARGET), ("cohort_size", Optional[int], COHORT_SIZE),
    ("cohorts", Optional[int], COHORTS), ("start_dose", Optional[str], START_DOSE),
    ("n_earlystop", Optional[int], N_EARLYSTOP), ("p_saf", Optional[float], P_SAF),
    ("p_tox", Optional[float], P_TOX), ("cutoff_eli", Optional[float], CUTOFF_ELI), ("extrasafe", bool, EXTRASAFE),
    ("offset", Optional[float], OFFSET), ("titration", bool, TITRATION), ("bound_mtd", bool, BOUND_MTD),
    ("skeleton", Optional[str], SKELETON), ("model", Optional[str], MODEL), ("intercept", Optional[float], INTERCEPT),
    ("prior_var", Optional[float], PRIOR_VAR), ("halfwidth", Optional[float], HALFWIDTH),
    ("prior_mtd", Optional[int], PRIOR_MTD), ("allow_skipping", bool, ALLOW_SKIPPING),
    ("stop_cutoff", Optional[float], STOP_CUTOFF), ("no_safety_stop", bool, NO_SAFETY_STOP),
    ("variant", Optional[str], VARIANT), ("max_pending", Optional[float], MAX_PENDING),
    ("n_eli", Optional[int], N_ELI), ("dlt_window", Optional[float], DLT_WINDOW), ("grid", Optional[str], GRID),
    ("mtd_contour", bool, MTD_CONTOUR), ("efficacy_min", Optional[float], EFFICACY_MIN),
    ("utility", Optional[str], UTILITY), ("cutoff_futility", Optional[float], CUTOFF_FUTILITY),
    ("n_cap", Optional[int], N_CAP), ("backfill_assign", Optional[str], BACKFILL_ASSIGN),
    ("three_plus_three", bool, THREE_PLUS_THREE),
]


def with_design_flags(func):
    """A command taking every design flag of :data:`DESIGN_FLAGS` besides its own parameters; the command receives
    them as ``flags`` (flag -> value), ready for :func:`build_from_flags`."""
    import functools
    import inspect
    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "flags"]
    names = {p.name for p in own}
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
             for name, kind, option in DESIGN_FLAGS if name not in names]

    @functools.wraps(func)
    def command(**kwargs):
        flags = {option.param_decls[0]: kwargs.pop(name) for name, _, option in DESIGN_FLAGS
                 if name in kwargs and name not in names}
        return func(**kwargs, flags=flags)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + extra
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    del command.__wrapped__
    return command


@refusing_simulate_flags("next decides on the trial's own outcomes: it takes no true rates and no simulation "
                          "settings (they are for simulate)")
@with_design_flags
def next_cmd(design: str = DESIGN,
             doses: Optional[str] = typer.Option(None, "--doses", help="Number of dose levels, or the doses, e.g. "
                                                                       "1,2.1,4.2 (not for comb-boin: --grid)."),
             dose_unit: Optional[str] = typer.Option(None, "--dose-unit", help="Unit of the dose values."),
             outcomes: Optional[str] = typer.Option(None, "--outcomes", help="Cohorts so far, e.g. '1NNN 2NTN'."),
             history: Optional[Path] = typer.Option(None, "--history",
                                                    help="Patient table: patient, cohort, dose (comb-boin: dose_a, "
                                                         "dose_b), dlt (0/1 or true/false, empty = pending); "
                                                         "optional, for the designs that use them: dose_time, "
                                                         "assess_time (days or dates), efficacy, backfill, "
                                                         "followup."),
             today: Optional[str] = typer.Option(None, "--today", help="tite-boin: the day of the decision, a date "
                                                                       "(2026-03-01) when the history's times are "
                                                                       "dates, else a day number; a pending "
                                                                       "patient's follow-up is (today - dose_time) / "
                                                                       "--dlt-window (not with a followup "
                                                                       "column)."),
             sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet of --history (default: the "
                                                                       "first)."),
             format: Format = FORMAT, flags: dict | None = None):
    """Next-dose decision of a live trial under any registered design, with the rule that fired."""
    from adcbridge.dosefinding import next_dose
    spec = build_from_flags(design, doses, None, {**(flags or {}), "--dose-unit": dose_unit}, command="next")
    dlt_window = (flags or {}).get("--dlt-window")
    followup = _uses(type(spec), "uses_followup")
    if today is not None and not followup:
        raise typer.BadParameter(f"applies to --design {_designs_with(lambda c: _uses(c, 'uses_followup'))} (the "
                                 f"designs counting pending patients' follow-up), not {design}",
                                 param_hint="'--today'")
    timed = _uses(type(spec), "uses_times")          # the others refuse --dlt-window (not in their spec)
    if (outcomes is None) == (history is None):
        raise typer.BadParameter("give exactly one of --outcomes or --history", param_hint="'--outcomes'")
    if history is not None:
        from adcbridge.io.history import read_history
        trial = read_history(history, sheet=sheet)
        type(spec).refuse_unused_columns(trial)     # before --today's follow-up (next_dose refuses them too)
    elif sheet is not None:
        raise typer.BadParameter("reads a sheet of an Excel --history", param_hint="'--sheet'")
    else:
        trial = outcomes
    if today is not None:
        trial = _with_followup(spec, trial, today, dlt_window)
    elif timed:
        if followup and dlt_window is not None and not isinstance(trial, str):
            _needs_today(trial)
        trial = _check_windows(trial, dlt_window)
    try:
        decision = next_dose(spec, trial)
    except ValueError as exc:
        if "treats cohorts of" in str(exc):          # the cohort-size check: name the flag
            raise _oversized_cohort(exc) from None
        raise
    emit(decision.to_record(), format, decision_text(decision))


def _oversized_cohort(message) -> Exception:
    """The library's error about a cohort larger than the design's (``--outcomes``: the cohort as typed and how to
    split it; a history: the row of the first patient beyond the cohort size), with the flag ``--cohort-size``."""
    return ValueError(str(message).replace("the design's cohort_size to", "--cohort-size"))


def _uses(cls, what: str) -> bool:
    """Whether design class ``cls`` declares ``what`` (``uses_efficacy``, ``uses_times``, ``uses_followup``); a
    design that does not declare it does not use it."""
    return bool(getattr(cls, what, False))


def _needs_today(trial) -> None:
    """A pending patient with a dosing time but no follow-up fraction: his follow-up counts to ``--today``, which is
    missing (the library's message, asking for either, would not say so)."""
    from adcbridge.dosefinding.history import row_where
    for k, p in enumerate(trial.patients):
        if p.pending and p.followup is None and p.dose_time is not None:
            raise typer.BadParameter(f"{row_where(trial, k)}: patient {p.patient} is pending: his follow-up counts "
                                     f"from his dose_time to the date of the decision; give it with --today (or a "
                                     f"followup column)", param_hint="'--today'")


def _check_windows(trial, dlt_window: float | None):
    """For a design that uses times, without ``--today``: in a history with any time (``dose_time`` or
    ``assess_time``, even on one patient), ``--dlt-window`` is required and every patient without a DLT must have
    both times, assessed at least one window after dosing.  ``--dlt-window`` with no time to check changes nothing
    and is refused.  Returns the history with the window it was checked with (its ``followup_window``: TITE-BOIN
    replays its course from the times with it)."""
    k = None if isinstance(trial, str) else next(
        (k for k, p in enumerate(trial.patients, start=1) if p.dose_time is not None or p.assess_time is not None),
        None)
    if dlt_window is None:
        if k is not None:
            from adcbridge.dosefinding.history import _row_error
            p = trial.patients[k - 1]
            raise _row_error(trial, k, p, "dose_time" if p.dose_time is not None else "assess_time",
                             "the history has times: give --dlt-window, the length of the DLT window in their unit "
                             "(days for dates), so that every patient without a DLT is checked to have been "
                             "assessed after a whole window")
        return trial
    if k is None:
        raise typer.BadParameter("checks that each no-DLT outcome came a whole window after dosing, but "
                                 + ("--outcomes has" if isinstance(trial, str) else "the history has")
                                 + " no dosing times (dose_time): it changes nothing", param_hint="'--dlt-window'")
    trial.check_complete_windows(dlt_window, strict=True)
    return dataclasses.replace(trial, followup_window=float(dlt_window))


def _with_followup(spec, trial, today: str, dlt_window: float | None):
    """The history with each pending patient's follow-up fraction as of ``today`` (a date when the history's
    times are dates, else a day number)."""
    import datetime as dt
    if dlt_window is None:
        raise typer.BadParameter("needs --dlt-window (the length of the DLT window, in days)", param_hint="'--today'")
    if isinstance(trial, str) or all(p.dose_time is None for p in trial.patients):
        raise typer.BadParameter("needs a --history with dosing times (dose_time): the follow-up of a pending "
                                 "patient is counted from his dosing" + ("" if isinstance(trial, str) else
                                                                          "; this history has none"),
                                 param_hint="'--today'")
    origin = trial.time_origin
    try:
        if origin is not None:
            # a date (midnight) or a date and time (2026-03-10 12:00), counted from midnight of the origin's date
            moment = dt.datetime.fromisoformat(today.strip())
            if moment.tzinfo is not None:
                raise ValueError(today)
            now = (moment - dt.datetime.fromisoformat(origin)).total_seconds() / 86400
            timed = [v for p in trial.patients for v in (p.dose_time, p.assess_time) if v is not None]
            if len(today.strip()) == 10 and any(v != int(v) for v in timed):
                raise typer.BadParameter(f"the history's times carry a time of day: give --today with one too "
                                         f"({today.strip()} 18:00), so that the follow-up and the dosings of that "
                                         f"day are counted to the right hour", param_hint="'--today'")
        else:
            now = float(today)
            if not math.isfinite(now):
                raise ValueError(today)
    except ValueError:
        want = "a date (YYYY-MM-DD, or with a time: YYYY-MM-DD HH:MM, no time zone), as the history's times are " \
               "dates" if origin else \
            "a day number, as the history's times are days (or give the history's times as dates)"
        raise typer.BadParameter(f"expected {want}, got {today!r}", param_hint="'--today'") from None
    now_name = f"--today {today.strip()}"
    out = trial.with_followup(now, spec.dlt_window, now_name=now_name)
    trial.check_complete_windows(spec.dlt_window, now=now, now_name=now_name)   # strict: every no-DLT has times
    return out


def decision_text(decision) -> str:
    """A decision as plain text: the decision, the rule and its reason, then the per-dose estimates."""
    lines = [f"design: {decision.design}", f"decision: {decision.decision}",
             f"next dose{' when accrual reopens' if decision.decision == 'suspend' else ''}: "
             f"{decision.next_dose if decision.next_dose else '-'}"
             + ((f" (cohort of {decision.next_cohort_size})" if decision.next_cohort_size else
                 " (no new escalation patient until the outcomes are known)") if decision.next_dose else ""),
             f"rule: {decision.rule}", f"reason: {decision.reason}",
             f"eliminated doses: {', '.join(map(str, decision.eliminated)) or 'none'}"]
    if decision.decision == "stop":
        lines.append(f"MTD: {decision.mtd if decision.mtd is not None else 'none'}")
    for key, value in (decision.extra or {}).items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value)) or "none"
        lines.append(f"{key.replace('_', ' ')}: {'-' if value is None else value}")
    if decision.model_recommendation is not None:
        lines.append(f"model recommendation: dose {decision.model_recommendation}")
    if decision.posterior:
        lines.append("posterior: " + ", ".join(f"{k} {v:.4g}" for k, v in decision.posterior.items()))
    lines += [f"{i.severity}: {i.message}" for i in decision.issues]
    shown = ("dose", "n", "dlt", "pending", "p_hat", "responses", "q_hat", "utility", "ess", "p_tite", "n_backfill")
    rows = [{k: r[k] for k in shown if k in r} for r in decision.estimates()]
    return "\n".join(lines) + "\n\n" + rows_text(rows, missing="-")



@refusing_simulate_flags("pathways enumerates every outcome of the first cohorts and the decision after each: it "
                          "takes no true rates and no simulation settings (they are for simulate)")
@with_design_flags
def pathways_cmd(design: str = DESIGN,
                 doses: Optional[str] = typer.Option(None, "--doses", help="Number of dose levels, or the doses "
                                                                           "(not for comb-boin: --grid)."),
                 dose_unit: Optional[str] = typer.Option(None, "--dose-unit", help="Unit of the dose values."),
                 n_cohorts: int = typer.Option(3, "--n-cohorts", min=1, max=8,
                                               help="Depth of the pathway table: how many cohorts it enumerates, "
                                                    "every outcome of each (not the design's --cohorts, the "
                                                    "maximum number of cohorts of a trial)."),
                 out: Optional[Path] = typer.Option(None, "--out", help="Write the table (CSV, Parquet or JSON by "
                                                                        "the suffix) instead of printing it."),
                 format: Format = FORMAT, flags: dict | None = None):
    """Dose-transition pathways of any registered design: every outcome of the first cohorts and the decision after
    each (a protocol table)."""
    spec = build_from_flags(design, doses, None, {**(flags or {}), "--dose-unit": dose_unit}, command="pathways")
    try:
        table = spec.pathways(n_cohorts)
    except ValueError as exc:
        raise typer.BadParameter(str(exc).splitlines()[0], param_hint="'--n-cohorts'") from None
    if out is not None:
        from adcbridge.io import write_table
        write_table(out, table)
        typer.echo(f"wrote {out} ({len(table)} pathways)")
        return
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    emit({"design": spec.spec_name, "spec": spec.model_dump(mode="json"), "n_cohorts": n_cohorts,
          "pathways": rows}, format, rows_text(rows, missing="-"))
