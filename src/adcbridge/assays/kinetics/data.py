"""Sensorgrams as validated arrays: the long table (cycle, concentration, time, response) plus the injection
schedule (explicit injection start and end times).

Every check names the cycle and the column at fault (bad cells in the one message shape of
:mod:`adcbridge.validation`); nothing is fitted from data that failed a check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge import validation

from .options import KineticsOptions, molar_factor

__all__ = ["Sensorgrams", "build_sensorgrams", "numeric_column"]


@dataclass(frozen=True)
class Sensorgrams:
    """Validated sensorgrams, sorted by cycle (in order of first appearance) and time.

    ``cycle`` indexes ``cycles`` (the labels); ``conc_M`` is, for each sample, the concentration of the cycle's
    latest injection started at or before it (of its first injection before that).  ``injections`` has one row
    per injection: ``cycle`` (label), ``cycle_index``, ``injection`` (1, 2, ... within the cycle), ``t_on``,
    ``t_off`` (s) and ``conc_M``."""

    cycles: tuple
    cycle: np.ndarray
    time: np.ndarray
    response: np.ndarray
    conc_M: np.ndarray
    injections: pd.DataFrame

    @property
    def n_cycles(self) -> int:
        return len(self.cycles)

    def table(self) -> pd.DataFrame:
        labels = np.array(self.cycles, dtype=object)[self.cycle]
        return pd.DataFrame({"cycle": pd.Series(labels.tolist(), dtype=_label_dtype(self.cycles)),
                             "conc_M": self.conc_M, "time": self.time, "response": self.response})


def _label_dtype(labels) -> str:
    return "int64" if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in labels) else "object"


def _table(what: str) -> str | None:
    return None if what == "table" else f"the {what}"


def numeric_column(data: pd.DataFrame, column: str, *, what: str = "table", cycle: str | None = None) -> np.ndarray:
    """The column as finite floats; a :class:`~adcbridge.validation.TableError` naming the column, the first
    offending row and its ``cycle`` (the key column naming the row's cycle, animal or antibody) otherwise."""
    return validation.numeric_column(data, column, table=_table(what), key=cycle)


UNITS_TEXT = "a unit M, mM, uM, nM, pM or fM"


def _concentrations(data: pd.DataFrame, conc: str, unit: str | None, cycle: str, what: str = "table") -> np.ndarray:
    values = validation.numeric_column(data, conc, table=_table(what), key=cycle, min=0)
    if "conc_unit" in data.columns:
        units = data["conc_unit"].astype(str).str.strip()
        known = {u: _factor_or_none(u) for u in units.unique()}
        validation.fail_first(data, "conc_unit", units.map(lambda u: known[u] is None).to_numpy(dtype=bool),
                              UNITS_TEXT, key=cycle, table=_table(what))
        factors = units.map(known).to_numpy(dtype=float)
        if unit is not None:
            # an explicit unit must agree with the table's own: never silently override the data
            validation.fail_first(data, "conc_unit", factors != molar_factor(unit),
                                  f"{unit!r}, the unit given by conc_unit/--conc-unit (give one of them, or make them "
                                  f"agree)", key=cycle, table=_table(what))
    elif unit is not None:
        factors = np.full(len(data), molar_factor(unit))
    else:
        raise validation.table_error(data, f"the concentration unit of column {conc!r} is missing: give conc_unit "
                                           f"(M, mM, uM, nM, pM, fM) or a 'conc_unit' column", column=conc)
    return values * factors


def _factor_or_none(unit: str):
    try:
        return molar_factor(unit)
    except ValueError:
        return None


def _schedule_from_options(options: KineticsOptions, labels, conc_by_cycle) -> pd.DataFrame:
    if options.t_on is None:
        raise ValueError("the injection times are missing: give t_on and t_off (injection start and end, s, on the "
                         "data's time axis) or an injections table (columns t_on, t_off[, cycle, conc])")
    rows = []
    for k, label in enumerate(labels):
        concs = conc_by_cycle[k]
        if concs.size > 1:
            raise ValueError(f"cycle {label!r}: the concentration column holds several values "
                             f"({', '.join(f'{c:g} M' for c in concs[:4])}); a multi-cycle sensorgram has one "
                             f"analyte concentration per cycle -- for single-cycle kinetics give an injections "
                             f"table")
        rows.append((label, k, 1, float(options.t_on), float(options.t_off), float(concs[0])))
    return pd.DataFrame(rows, columns=["cycle", "cycle_index", "injection", "t_on", "t_off", "conc_M"])


def _schedule_from_table(injections: pd.DataFrame, options: KineticsOptions, labels, conc_by_cycle,
                         cycle: str) -> pd.DataFrame:
    if options.t_on is not None:
        raise ValueError("give either t_on/t_off or an injections table, not both")
    inj = injections
    table = "the injections table"
    validation.require_columns(inj, ["t_on", "t_off"], table=table)
    t_on = numeric_column(inj, "t_on", what="injections table", cycle=cycle)
    t_off = numeric_column(inj, "t_off", what="injections table", cycle=cycle)
    bad = np.flatnonzero(~(t_off > t_on))
    if bad.size:
        raise validation.cell_error(inj, "t_off", int(bad[0]), f"a time after t_on ({t_on[bad[0]]:g})",
                                    t_off[bad[0]], key=cycle, table=table)
    has_conc = "conc" in inj.columns
    conc_M = _concentrations(inj, "conc", options.conc_unit, cycle, "injections table") if has_conc else None
    index = {label: k for k, label in enumerate(labels)}
    if cycle in inj.columns:
        inj_cycles = [v.item() if isinstance(v, np.generic) else v for v in inj[cycle].tolist()]
        unknown = [c not in index for c in inj_cycles]
        validation.fail_first(inj, cycle, unknown, "a cycle of the sensorgram table", table=table)
        targets = [[index[c]] for c in inj_cycles]
    else:
        targets = [list(range(len(labels)))] * len(inj)
    rows = []
    for r, ks in enumerate(targets):
        for k in ks:
            if conc_M is not None:
                c = float(conc_M[r])
            else:
                concs = conc_by_cycle[k]
                if concs.size != 1:
                    raise ValueError(f"cycle {labels[k]!r}: give the concentration of each injection in a 'conc' "
                                     f"column of the injections table (the cycle holds several concentrations)")
                c = float(concs[0])
            rows.append((labels[k], k, 0, float(t_on[r]), float(t_off[r]), c))
    out = pd.DataFrame(rows, columns=["cycle", "cycle_index", "injection", "t_on", "t_off", "conc_M"])
    out = out.sort_values(["cycle_index", "t_on"], kind="stable").reset_index(drop=True)
    out["injection"] = out.groupby("cycle_index").cumcount() + 1
    missing = sorted(set(range(len(labels))) - set(out["cycle_index"]))
    if missing:
        raise validation.table_error(injections, f"cycle {labels[missing[0]]!r} has no injection in the injections "
                                                 f"table")
    for k, g in out.groupby("cycle_index"):
        on, off = g["t_on"].to_numpy(), g["t_off"].to_numpy()
        if np.any(on[1:] < off[:-1]):
            raise validation.table_error(injections, f"cycle {labels[k]!r}: injections overlap in the injections "
                                                     f"table")
    return out


def build_sensorgrams(data: pd.DataFrame, options: KineticsOptions, injections: pd.DataFrame | None = None, *,
                      cycle: str = "cycle", conc: str = "conc", time: str = "time",
                      response: str = "response") -> Sensorgrams:
    """Validate the long sensorgram table and the injection schedule (see :class:`Sensorgrams`)."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"the sensorgram data must be a pandas DataFrame, got {type(data).__name__}")
    validation.require_columns(data, [cycle, time, response], table="the sensorgram table")
    if data.empty:
        raise validation.table_error(data, "the sensorgram table has no rows")
    validation.label_column(data, cycle, what="a cycle label", table="the sensorgram table")
    t = numeric_column(data, time, what="sensorgram table", cycle=cycle)
    y = numeric_column(data, response, what="sensorgram table", cycle=cycle)
    need_conc = injections is None or "conc" not in injections.columns
    c = _concentrations(data, conc, options.conc_unit, cycle, "sensorgram table") if need_conc else None
    labels = tuple(v.item() if isinstance(v, np.generic) else v for v in pd.unique(data[cycle]))
    index = {label: k for k, label in enumerate(labels)}
    k_of_row = data[cycle].map(index).to_numpy(dtype=int)
    order = np.lexsort((t, k_of_row))
    k_sorted, t_sorted = k_of_row[order], t[order]
    dup = np.flatnonzero((np.diff(k_sorted) == 0) & (np.diff(t_sorted) == 0))
    if dup.size:
        first, again = sorted(int(order[j]) for j in (dup[0], dup[0] + 1))
        raise validation.cell_error(data, time, again, f"a time not already on {validation.row_place(data, first)} "
                                    f"of the same cycle", t[again], key=cycle, table="the sensorgram table")
    conc_by_cycle = [np.unique(c[k_of_row == k]) if c is not None else np.zeros(0) for k in range(len(labels))]
    if injections is None:
        sched = _schedule_from_options(options, labels, conc_by_cycle)
    else:
        if not isinstance(injections, pd.DataFrame):
            raise ValueError(f"the injections table must be a pandas DataFrame, got {type(injections).__name__}")
        sched = _schedule_from_table(injections, options, labels, conc_by_cycle, cycle)
    for k, label in enumerate(labels):
        tk = t_sorted[k_sorted == k]
        first_on = float(sched.loc[sched["cycle_index"] == k, "t_on"].min())
        if tk[0] > first_on:
            raise ValueError(f"cycle {label!r}: the time axis (column {time!r}) starts at {tk[0]:g} s, after the "
                             f"injection start ({first_on:g} s); times must be on the axis of t_on/t_off and the "
                             f"sensorgram must include the start of the injection")
        if tk[-1] <= first_on:
            raise ValueError(f"cycle {label!r}: the time axis (column {time!r}) ends at {tk[-1]:g} s, before the "
                             f"injection starts ({first_on:g} s)")
        last_off = float(sched.loc[sched["cycle_index"] == k, "t_off"].max())
        if last_off > tk[-1]:
            raise ValueError(f"cycle {label!r}: the injection ends at t_off = {last_off:g} s, after the data end "
                             f"({tk[-1]:g} s, column {time!r}); give t_off on the data's time axis (the fit "
                             f"would take the dissociation for more association)")
    if not (sched["conc_M"] > 0).any():
        raise ValueError("no cycle has a positive analyte concentration")
    y_sorted = y[order]
    for k, label in enumerate(labels):
        g = sched[sched["cycle_index"] == k]
        rows = k_sorted == k
        _check_cycle_signal(label, t_sorted[rows], y_sorted[rows], g, time, response)
    conc_point = np.zeros(t_sorted.size)
    for k in range(len(labels)):
        rows = k_sorted == k
        g = sched[sched["cycle_index"] == k]
        pos = np.searchsorted(g["t_on"].to_numpy(), t_sorted[rows], side="right") - 1
        conc_point[rows] = g["conc_M"].to_numpy()[np.maximum(pos, 0)]
    return Sensorgrams(labels, k_sorted, t_sorted, y_sorted, conc_point, sched)


#: the association must not start visibly before t_on: the response slope over the ``ONSET_WINDOW`` fraction
#: of the injection before t_on must stay below ``ONSET_RATIO`` of the slope just after it
ONSET_WINDOW = 0.2
ONSET_RATIO = 0.5


def _slope(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on t and its standard error."""
    tc = t - t.mean()
    sxx = float(tc @ tc)
    b = float(tc @ (y - y.mean())) / sxx
    r = y - y.mean() - b * tc
    se = np.sqrt(float(r @ r) / max(t.size - 2, 1) / sxx)
    return b, float(se)


def _check_cycle_signal(label, t: np.ndarray, y: np.ndarray, sched: pd.DataFrame, time: str, response: str) -> None:
    """Bad signal in one cycle: a constant response (with analyte injected) or an association that starts
    visibly before the first injection start (a time axis that is not the one of t_on/t_off)."""
    span = float(np.max(y) - np.min(y))
    if span == 0 and float(sched["conc_M"].max()) > 0:
        raise ValueError(f"cycle {label!r}: the response (column {response!r}) is constant ({y[0]:g}) although "
                         f"analyte was injected; there is no binding signal to fit")
    if span == 0 or float(sched["conc_M"].iloc[0]) <= 0:
        return
    on, off = float(sched["t_on"].iloc[0]), float(sched["t_off"].iloc[0])
    w = ONSET_WINDOW * (off - on)
    pre = (t >= on - w) & (t < on)
    post = (t >= on) & (t <= min(on + w, off))
    if pre.sum() < 5 or post.sum() < 5:
        return
    b_pre, se_pre = _slope(t[pre], y[pre])
    b_post, _ = _slope(t[post], y[post])
    rise = b_pre * w
    if abs(b_pre) > 4 * se_pre and abs(rise) > 0.02 * span and \
            (b_pre * b_post < 0 or abs(b_pre) >= ONSET_RATIO * abs(b_post)):
        raise ValueError(f"cycle {label!r}: the response already changes by {rise:.3g} over the {w:g} s before the "
                         f"injection start ({on:g} s), as fast as after it, so the association starts before t_on; "
                         f"give t_on/t_off on the axis of column {time!r} (is the time axis zeroed at the injection?)")
