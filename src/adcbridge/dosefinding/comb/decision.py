"""The next-combination decision of a live combination BOIN trial: the simulator's array functions
(:func:`.kernel.decide_grid`, :mod:`.waterfall`) on a batch of one trial, turned into a
:class:`~adcbridge.dosefinding.nextdose.NextDose` (pairs (a, b) for ``next_dose``, ``current_dose`` and ``mtd``;
a list of pairs for the waterfall's MTD contour).

Design-specific record keys (``extra``): ``candidates`` (one MTD: the candidate combinations of an escalation or
de-escalation with their scores and whether they were allowed), ``tie_break`` (only when two candidates' scores
tied: the rule that chose), and for the waterfall ``subtrial`` (its number and combinations),
``next_subtrial`` (when a subtrial ends and another starts: its combinations and starting combination) and, only
when some cohort was treated elsewhere than the protocol gave, ``off_protocol`` (those cohorts, also warnings in
``issues``; :func:`waterfall_steps` says how such a history is decided).

With accelerated titration (one MTD) the history first follows the titration's path (:func:`titration_phase`:
rules ``titration``, a next cohort of 1, and ``titration_fill``, completing the cohort where it ended); the
rules apply from the completed first cohort on, and the maximum sample size counts cohorts.

**Elimination is sticky** (as BOIN's): a combination eliminated by the data at the end of any cohort of the
history (that cohort's cumulative counts; the quadrant for one MTD, the waterfall's own elimination for the
waterfall) stays eliminated -- in ``eliminated``, never the next combination, never selected -- even when it was
treated again (a deviation) and its rate fell below the cutoff; the reason then cites the data at elimination
("... (3/3 DLTs at (2, 1) when it was eliminated: ...)"), and each cohort treated at an eliminated combination
is a ``treated_eliminated_dose`` warning.  On a history that follows the protocol this is the data's own
elimination (an eliminated combination is never treated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..nextdose import NextDose
from .history import cohort_groups, grid_counts
from .kernel import (
    ELIMINATE_CURRENT,
    RULES,
    SELECT_STOPS,
    STOP_ELIMINATE,
    TIE_BREAK_RULE,
    decide_grid,
    quadrant_eliminated,
)
from .selection import (
    eliminated_cells,
    select_comb_batch,
    select_waterfall,
    selection_rule,
)
from .tables import comb_tables
from .waterfall import (
    CONTINUE,
    SUB_END,
    NextSubtrial,
    SubtrialStep,
    after_subtrial,
    subtrial_of,
    subtrial_paths,
    subtrial_step,
)
from .waterfall import STOP_ELIMINATE as SUB_STOP_ELIMINATE

__all__ = ["WaterfallSteps", "decide", "off_protocol", "select_from_grid", "waterfall_steps"]


def _pair(cell: int, K: int) -> tuple[int, int]:
    return (int(cell) // K + 1, int(cell) % K + 1)


def select_from_grid(design, n, y, rows_eliminated_from: int | None = None, eliminated=None):
    """The MTD the design selects from (J, K) counts: a pair, a list of pairs (contour) or None.  ``eliminated``
    (J, K): the cells the live trial eliminated (sticky elimination), never selected whatever the data say now."""
    J, K = design.grid
    n = np.asarray(n, dtype=np.int64).reshape(1, J, K)
    y = np.asarray(y, dtype=np.int64).reshape(1, J, K)
    rule = selection_rule(design, max(int(n.max()), 3))
    also = None if eliminated is None else np.asarray(eliminated, dtype=bool).reshape(1, J, K)
    if not design.mtd_contour:
        mtd, p_est, _ = select_comb_batch(n, y, rule, also_eliminated=also)
        return (_pair(mtd[0], K) if mtd[0] >= 0 else None), p_est[0]
    mtd, p_est, _ = select_waterfall(n, y, rule, None if rows_eliminated_from is None
                                     else np.array([rows_eliminated_from]), eliminated=also)
    pairs = [(i + 1, int(c) + 1) for i, c in enumerate(mtd[0]) if c >= 0]
    return (pairs or None), p_est[0]


def _move_word(cur: int, nxt: int | None, K: int) -> str:
    if nxt is None:
        return "stop"
    (a0, b0), (a1, b1) = _pair(cur, K), _pair(nxt, K)
    if (a1, b1) == (a0, b0):
        return "stay"
    return "escalate" if b1 > b0 or (b1 == b0 and a1 > a0) else "de-escalate"


@dataclass(frozen=True)
class WaterfallSteps:
    """The waterfall's state and decision after each cohort of a history (arrays over the C cohorts, entry p
    after cohorts 1..p + 1): the subtrial (``sub``: 0 the first, a row subtrial's 1-based level of A), its
    number (0-based, in the order the subtrials were first entered), the cohorts treated on its path, the lowest
    level of A (0-based) eliminated by the first subtrial (J: none), the step inside the subtrial and, where a
    subtrial ended, :func:`.waterfall.after_subtrial`'s answer for those cohorts (``ended_at``: their positions).
    ``next_cell`` is the combination the protocol gives next (-1: the trial stops).  ``path_eliminated`` (C, J, K):
    the cells eliminated by the data at the end of that cohort or an earlier one (each subtrial's path from its
    first too-toxic combination on: sticky); ``eliminated`` adds the rows above a first-subtrial MTD (``rows_elim``,
    not sticky)."""

    sub: np.ndarray
    number: np.ndarray
    used: np.ndarray
    rows_elim: np.ndarray
    step: SubtrialStep
    ended_at: np.ndarray
    after: NextSubtrial | None
    next_cell: np.ndarray
    path_eliminated: np.ndarray
    eliminated: np.ndarray


def waterfall_steps(design, cells, n_pref, y_pref, tables) -> WaterfallSteps:
    """The waterfall's decision after every cohort of a history at once: the cohorts' flat ``cells`` (C,) and the
    counts after each cohort ``n_pref``, ``y_pref`` (C, J, K).  Each combination lies on exactly one subtrial's
    path, so the subtrial after a cohort is that of its combination; a subtrial's number is the order in which
    the subtrials were first entered, and its cohorts used are all the cohorts treated on its path.  On a history
    that follows the protocol these are the simulator's subtrial, number and cohorts used; on one that does not
    (an off-protocol cohort), the decision goes on from the data as treated, elimination staying sticky: a cell
    eliminated by the data after an earlier cohort stays eliminated (in the steps and the subtrial MTDs); the rows
    above a first-subtrial MTD follow that subtrial's data as they stand (a decision, not an elimination by the
    data: going back to the first subtrial reopens them)."""
    J, K = design.grid
    cells = np.asarray(cells, dtype=np.int64)
    C = cells.size
    subs = subtrial_of(cells, J, K)
    first_entry: dict[int, int] = {}
    count: dict[int, int] = {}
    number, used = np.zeros(C, dtype=np.int64), np.zeros(C, dtype=np.int64)
    for p, s in enumerate(subs.tolist()):
        first_entry.setdefault(s, len(first_entry))
        count[s] = count.get(s, 0) + 1
        number[p], used[p] = first_entry[s], count[s]
    rule = _rule(design, tables)
    path_elim = np.logical_or.accumulate(eliminated_cells(n_pref, y_pref, tables.eliminate_ge, "path"), axis=0)
    rows_elim = np.full(C, J, dtype=np.int64)
    later = np.flatnonzero(subs != 0)
    if later.size:                      # the first subtrial's MTD (on its path's data) eliminates rows above it
        first = np.zeros((J, K), dtype=bool)
        first[:, 0] = True
        first[J - 1, :] = True
        ns = after_subtrial(np.where(first, n_pref[later], 0), np.where(first, y_pref[later], 0),
                            np.zeros(later.size, dtype=np.int64), tables=tables, rule=rule,
                            eliminated=path_elim[later])
        rows_elim[later] = ns.rows_eliminated_from
    budgets = np.array(design.cohorts_per_subtrial)
    step = subtrial_step(n_pref, y_pref, cells, used, budgets[number], tables=tables, earlystop=design.earlystop,
                         extrasafe=design.extrasafe, eliminated=path_elim)
    next_cell = step.next_cell.copy()
    ended_at = np.flatnonzero(step.status == SUB_END)
    after = None
    if ended_at.size:
        after = after_subtrial(n_pref[ended_at], y_pref[ended_at], subs[ended_at], tables=tables, rule=rule,
                               eliminated=path_elim[ended_at])
        rows_elim[ended_at] = np.where(subs[ended_at] == 0, after.rows_eliminated_from, rows_elim[ended_at])
        go = (after.next_sub >= 0) & (number[ended_at] + 1 < budgets.size)
        next_cell[ended_at] = np.where(go, after.start, -1)
    elim = path_elim | (np.arange(J)[None, :, None] >= rows_elim[:, None, None])
    return WaterfallSteps(subs, number, used, rows_elim, step, ended_at, after, next_cell, path_elim, elim)


def off_protocol(design, groups, steps: WaterfallSteps) -> list[dict]:
    """The cohorts treated elsewhere than the combination the waterfall gave after the previous cohort: one
    entry per such cohort (``cohort``, ``patients``, ``dose`` as treated, ``protocol_dose``: the protocol's
    combination, None when the protocol had stopped the trial)."""
    K = design.grid[1]
    out = []
    for p in range(1, len(groups)):
        want = int(steps.next_cell[p - 1])
        if groups[p].cell != want:
            out.append({"cohort": groups[p].cohort, "patients": list(groups[p].patients),
                        "dose": list(_pair(groups[p].cell, K)),
                        "protocol_dose": list(_pair(want, K)) if want >= 0 else None,
                        "after_cohort": groups[p - 1].cohort})
    return out


def _rule(design, tables):
    from .simulate import _single_rule
    return _single_rule(design, tables)


def _prefix_counts(design, history, groups):
    """(n_pref, y_pref): the cumulative counts (C, J, K) after each of the C cohorts ``groups``."""
    J, K = design.grid
    C = len(groups)
    index = np.repeat(np.arange(C), [g.n for g in groups])
    a = np.array([p.dose_a - 1 for p in history.patients], dtype=np.int64)
    b = np.array([p.dose_b - 1 for p in history.patients], dtype=np.int64)
    dlt = np.array([bool(p.dlt) for p in history.patients], dtype=np.int64)
    n_add = np.zeros((C, J, K), dtype=np.int64)
    y_add = np.zeros((C, J, K), dtype=np.int64)
    np.add.at(n_add, (index, a, b), 1)
    np.add.at(y_add, (index, a, b), dlt)
    return np.cumsum(n_add, axis=0), np.cumsum(y_add, axis=0)


@dataclass(frozen=True)
class Sticky:
    """Sticky elimination after the last cohort: ``mask`` (J, K), the cells eliminated at the end of some cohort;
    ``at`` maps each such flat cell to (the cell whose data eliminated it, its DLTs and patients then);
    ``issues``: the cohorts treated at a cell eliminated before them (``treated_eliminated_dose``)."""

    mask: np.ndarray
    at: dict
    issues: tuple


def _sticky(design, groups, n_pref, y_pref, masks) -> Sticky:
    """:class:`Sticky` from the cumulative masks (C, J, K) of the cells eliminated after each cohort: a cell
    first eliminated after cohort p was eliminated by the data of the combination treated in cohort p (the only
    one whose counts changed)."""
    K = design.grid[1]
    lab = design.dose_label
    C = len(groups)
    flat = masks.reshape(C, -1)
    at = {}
    for c in np.flatnonzero(flat[-1]):
        p = int(flat[:, c].argmax())
        cause = groups[p].cell
        at[int(c)] = (cause, int(y_pref[p].flat[cause]), int(n_pref[p].flat[cause]))
    issues = tuple(Issue("treated_eliminated_dose", f"cohort {g.cohort} ({', '.join(g.patients)}) was treated at "
                                                    f"{lab(_pair(g.cell, K))}, which had been eliminated")
                   for p, g in enumerate(groups) if p and flat[p - 1, g.cell])
    return Sticky(masks[-1], at, issues)


def decide(design, history) -> NextDose:
    n, y = grid_counts(design, history)
    if design.mtd_contour:
        return _decide_waterfall(design, history, n, y)
    groups = cohort_groups(design, history)
    cells = [g.cell for g in groups]
    n_pref, y_pref = _prefix_counts(design, history, groups)
    tables = comb_tables(design, max(int(n.sum()), design.max_sample_size) + design.cohort_size)
    masks = np.logical_or.accumulate(quadrant_eliminated(n_pref, y_pref, tables.eliminate_ge), axis=0)
    sticky = _sticky(design, groups, n_pref, y_pref, masks)
    if not design.uses_titration:
        return _decide(design, n, y, cells, sticky=sticky, issues=sticky.issues)
    cohorts, titrating = titration_phase(design, history)
    if titrating is None:
        return _decide(design, n, y, cells, full=cohorts >= design.n_cohorts, sticky=sticky, issues=sticky.issues)
    K = design.grid[1]
    cur, nxt = titrating
    lab = design.dose_label
    last = history.patients[-1]
    if nxt is not None:
        reason = (f"no DLT at {lab(_pair(cur, K))} during the accelerated titration: treat one patient at "
                  f"{lab(_pair(nxt, K))}")
        return _decide(design, n, y, cells, override=(nxt, "escalate", "titration", reason, 1), sticky=sticky,
                       issues=sticky.issues)
    why = "a DLT" if last.dlt else "no DLT, at the top combination,"
    reason = (f"{why} at {lab(_pair(cur, K))} ends the accelerated titration: complete the cohort with "
              f"{design.cohort_size - 1} more patients there")
    return _decide(design, n, y, cells, override=(cur, "stay", "titration_fill", reason, design.cohort_size - 1),
                   sticky=sticky, issues=sticky.issues)


def _decide_waterfall(design, history, n, y) -> NextDose:
    """The waterfall's decision: the protocol's step after every cohort (:func:`waterfall_steps`), the last one
    decides; cohorts treated elsewhere than the protocol's combination are listed under ``off_protocol`` and as
    warnings (the decision goes on from the data as treated)."""
    J, K = design.grid
    groups = cohort_groups(design, history)
    n_pref, y_pref = _prefix_counts(design, history, groups)
    tables = comb_tables(design, max(int(n.sum()), design.max_sample_size) + design.cohort_size)
    cells = [g.cell for g in groups]
    steps = waterfall_steps(design, cells, n_pref, y_pref, tables)
    path = _sticky(design, groups, n_pref, y_pref, steps.path_eliminated)        # the data's eliminations
    sticky = Sticky(steps.eliminated[-1], path.at, path.issues)                  # and the rows above an MTD
    deviations = off_protocol(design, groups, steps)
    if not deviations:
        return _decide(design, n, y, cells, steps=steps, sticky=sticky, issues=sticky.issues)
    lab = design.dose_label
    issues = tuple(Issue("off_protocol", f"cohort {d['cohort']} ({', '.join(d['patients'])}) was treated at "
                                         f"{lab(tuple(d['dose']))}; after cohort {d['after_cohort']} the waterfall "
                                         + (f"gave {lab(tuple(d['protocol_dose']))}" if d["protocol_dose"]
                                            else "had stopped the trial")
                                         + "; the decision goes on from the data as treated")
                   for d in deviations) + sticky.issues
    return _decide(design, n, y, cells, steps=steps, notes={"off_protocol": deviations}, issues=issues,
                   sticky=sticky)


def titration_phase(design, history) -> tuple[int, tuple[int, int | None] | None]:
    """Where a trial with accelerated titration stands: (cohorts completed, counting the titration and its
    completion as the first; ``titrating``), ``titrating`` = (current cell, next titration cell or None when
    the cohort is to be completed) while the titration is not finished, else None.  A history that leaves the
    titration's path gets a one-line error naming the cohort."""
    from .simulate import titration_step
    J, K = design.grid
    groups: list[list] = []
    for p in history.patients:
        if not groups or groups[-1][0] != p.cohort:
            groups.append([p.cohort, (p.dose_a - 1) * K + p.dose_b - 1, 0, 0])
        groups[-1][2] += 1
        groups[-1][3] += bool(p.dlt)
    expected = (design.start_dose[0] - 1) * K + design.start_dose[1] - 1
    for step, (cohort, cell, size, dlt) in enumerate(groups):
        if size != 1 or cell != expected:
            raise ValueError(f"The history does not follow the accelerated titration at cohort {cohort}: titration "
                             f"treats one patient at {design.dose_label(_pair(expected, K))}.")
        if dlt or cell == J * K - 1:
            rest = groups[step + 1:]
            if not rest:
                return 0, (cell, None)
            if rest[0][1] != cell:
                raise ValueError(f"The history does not follow the accelerated titration at cohort {rest[0][0]}: "
                                 f"its cohort completes {design.dose_label(_pair(cell, K))}.")
            return len(rest), None
        expected = int(titration_step(np.array(cell), step, J, K))
    return 0, (groups[-1][1], expected)


def decide_counts(design, n, dlt, current_dose) -> NextDose:
    """The one-MTD decision from per-combination counts (J x K grids, or their row-major lists) and the current
    combination (a, b) -- as ``next.comb``; the current combination must have patients.  The waterfall needs the
    order of the cohorts (a history)."""
    J, K = design.grid
    if design.mtd_contour:
        raise ValueError("the waterfall design (mtd_contour) decides on the patients' history (the order of its "
                         "subtrials), not on per-combination counts.")
    grids = []
    for name, v in (("n", n), ("dlt", dlt)):
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"The '{name}' argument must be a {J} x {K} grid of counts. Got {v!r}.") from None
        if a.size != J * K or a.ndim not in (1, 2) or (a.ndim == 2 and a.shape != (J, K)):
            raise ValueError(f"The '{name}' argument must be a {J} x {K} grid of counts (rows = agent A). Got shape "
                             f"{'x'.join(map(str, a.shape))}.")
        if np.any(a < 0) or np.any(a != np.round(a)):
            raise ValueError(f"The '{name}' argument must hold whole numbers >= 0. Got {a.tolist()}.")
        grids.append(a.reshape(J, K).astype(np.int64))
    n, y = grids
    if np.any(y > n):
        raise ValueError("The 'dlt' argument has more DLTs than patients at some combination.")
    try:
        a, b = (int(v) for v in current_dose)
    except (TypeError, ValueError):
        raise ValueError(f"The 'current_dose' argument must be a combination (a, b). Got {current_dose!r}.") from None
    if not (1 <= a <= J and 1 <= b <= K):
        raise ValueError(f"The 'current_dose' argument ({a}, {b}) is outside the {J}x{K} grid.")
    if n[a - 1, b - 1] == 0:
        raise ValueError(f"The 'current_dose' argument ({a}, {b}) has no treated patient: it is not the current "
                         f"combination.")
    return _decide(design, n, y, [(a - 1) * K + b - 1])


def _decide(design, n, y, cells, full: bool | None = None, override=None, steps: WaterfallSteps | None = None,
            notes: dict | None = None, issues: tuple = (), sticky: Sticky | None = None) -> NextDose:
    """The decision after the cohorts at ``cells``; ``full``: the maximum sample size is reached (default: by
    the number of patients); ``override`` = (next cell, word, rule, reason, next cohort size) of a titration
    step, which replaces the rules; ``steps``: the waterfall's steps after each cohort (the decision is the
    last one's); ``notes``: record keys added to ``extra``, and ``issues`` the decision's issues; ``sticky``: the
    cells eliminated earlier in the trial (:class:`Sticky`; none given: the data's own elimination)."""
    J, K = design.grid
    cur = cells[-1]
    total = int(n.sum())
    tables = comb_tables(design, max(total, design.max_sample_size) + design.cohort_size)
    lab = design.dose_label
    cur_pair = _pair(cur, K)
    nd, yd = int(n.flat[cur]), int(y.flat[cur])
    rate = f"{yd}/{nd} DLTs at {lab(cur_pair)}"
    extra: dict = {}
    select, rows_elim = False, None
    if full is None:
        full = total >= design.max_sample_size
    if override is not None:
        nxt, word, rule, reason, _ = override
        elim = eliminated_cells(n[None], y[None], tables.eliminate_ge)[0]
        if sticky is not None:
            elim = elim | sticky.mask
    elif not design.mtd_contour:
        g = decide_grid(n[None], y[None], np.array([cur]), np.array([full]),
                        tables=tables, earlystop=design.earlystop, extrasafe=design.extrasafe,
                        eliminated=None if sticky is None else sticky.mask[None])
        code, nxt = int(g.code[0]), int(g.next_cell[0])
        word, rule = RULES[code]
        elim = g.eliminated[0]
        select = code in SELECT_STOPS
        if g.allowed[0].any() or code in (1, 3, 4):
            extra["candidates"] = [{"dose": list(_pair(c, K)), "score": float(s) if ok else None, "allowed": bool(ok)}
                                   for c, s, ok in zip(g.candidates[0], g.scores[0], g.allowed[0]) if c >= 0]
        if g.tie[0]:
            extra["tie_break"] = TIE_BREAK_RULE
        reason = _reason(design, rule, rate, tables, nxt if nxt >= 0 else None, K, nd)
        if code in (ELIMINATE_CURRENT, STOP_ELIMINATE):
            reason = _sticky_reason(design, sticky, n, y, cur if code == ELIMINATE_CURRENT else 0, rate,
                                    nxt if nxt >= 0 else None, "quadrant") or reason
    else:
        last = len(steps.sub) - 1                   # the waterfall decides from its steps (_decide_waterfall)
        sub, order, rows_elim = int(steps.sub[last]), int(steps.number[last]), int(steps.rows_elim[last])
        paths, lengths = subtrial_paths(J, K)
        extra["subtrial"] = {"number": order + 1, "doses": [list(_pair(c, K)) for c in paths[sub][:lengths[sub]]]}
        st = steps.step
        status, nxt = int(st.status[last]), int(steps.next_cell[last])
        data_elim = eliminated_cells(n[None], y[None], tables.eliminate_ge, "path")[0]
        elim = data_elim.copy() if sticky is None else data_elim | sticky.mask
        if rows_elim < J:
            elim[rows_elim:] = True
        extra["next_subtrial"] = None
        if status == CONTINUE:
            word = {1: "escalate", 0: "stay", -1: "de-escalate"}[int(st.move[last])]
            rule = {"escalate": "escalate", "stay": "stay", "de-escalate": "deescalate"}[word]
            if word == "stay" and nd and yd / nd > tables.lambda_d:         # the subtrial's ends: say which
                rule, reason = "stay_lowest", (f"{rate} (de-escalate), but this is the lowest combination of "
                                               f"subtrial {order + 1}: stay")
            elif word == "stay" and nd and yd / nd <= tables.lambda_e:
                rule, reason = "stay_top", (f"{rate} (escalate), but no higher combination of subtrial {order + 1} "
                                            f"is open: stay")
            elif word == "de-escalate" and elim.flat[cur] and not data_elim.flat[cur]:   # eliminated earlier
                rule = "eliminate"
                reason = _sticky_reason(design, sticky, n, y, cur, rate, nxt, "path") + f" (subtrial {order + 1})"
            else:
                reason = _reason(design, rule, rate, tables, nxt, K, nd) + f" (subtrial {order + 1})"
        elif status == SUB_END:
            k = int(np.flatnonzero(steps.ended_at == last)[0])
            ns = steps.after
            sub_mtd = int(ns.sub_mtd[k])
            found = f"its MTD is {lab(_pair(sub_mtd, K))}" if sub_mtd >= 0 else "it found no MTD"
            why = {1: "used its cohorts", 2: f"reached n_earlystop = {design.earlystop}",
                   3: "found its lowest combination too toxic"}[int(st.ended[last])]
            if nxt >= 0:
                s2 = int(ns.next_sub[k])
                extra["next_subtrial"] = {"doses": [list(_pair(c, K)) for c in paths[s2][:lengths[s2]]],
                                          "start": list(_pair(nxt, K))}
                word, rule = _move_word(cur, nxt, K), "next_subtrial"
                reason = (f"subtrial {order + 1} {why}; {found}: start subtrial {order + 2} at {lab(_pair(nxt, K))}")
            else:
                word, rule, select = "stop", "subtrials_complete", True
                reason = f"subtrial {order + 1} {why}; {found}; no further subtrial: stop and select the MTD contour"
        else:
            nxt, word = -1, "stop"
            rule = "eliminate" if status == SUB_STOP_ELIMINATE else "extra_safety"
            reason = _reason(design, rule, rate, tables, None, K, nd)
            if rule == "eliminate":
                reason = _sticky_reason(design, sticky, n, y, 0, rate, None, "path") or reason
    if nxt >= 0 and elim.flat[nxt]:      # only from a history treated at an eliminated combination or off protocol
        if design.mtd_contour:
            raise ValueError(f"The waterfall cannot go on from this history: its next combination "
                             f"{lab(_pair(nxt, K))} is eliminated (after the cohorts treated off protocol: "
                             + "; ".join(f"cohort {d['cohort']} at {lab(tuple(d['dose']))}"
                                         for d in (notes or {}).get("off_protocol", []))
                             + "); decide the next combination outside the design, or correct the history.")
        raise ValueError(f"The design cannot go on from this history: its next combination {lab(_pair(nxt, K))} is "
                         f"eliminated (after the cohorts treated at eliminated combinations); decide the next "
                         f"combination outside the design, or correct the history.")
    extra.update(notes or {})
    mtd, p_est = (select_from_grid(design, n, y, rows_elim, eliminated=None if sticky is None else elim)
                  if select else (None, None))
    a_idx, b_idx = np.divmod(np.arange(J * K), K)
    table = ColumnTable({
        "dose": [lab((a + 1, b + 1)) for a, b in zip(a_idx, b_idx)], "dose_a": a_idx + 1, "dose_b": b_idx + 1,
        "n": n.ravel(), "dlt": y.ravel(), "pending": np.zeros(J * K, dtype=np.int64),
        "p_hat": [float(v) / m if m else None for v, m in zip(y.ravel(), n.ravel())],
        "eliminated": elim.ravel(),
        **({"p_est": p_est.ravel()} if p_est is not None else {})})
    eliminated = tuple(_pair(c, K) for c in np.flatnonzero(elim.ravel()))
    next_pair = _pair(nxt, K) if nxt >= 0 else None
    return NextDose(spec=design, table=table, provenance=make_provenance(design, n, y, cur),
                    next_dose=next_pair, next_cohort_size=(override[4] if override else design.cohort_size)
                    if next_pair else None,
                    current_dose=cur_pair, decision=word, rule=rule, reason=reason, eliminated=eliminated,
                    select_mtd=select, mtd=mtd, design=design.spec_name, extra=extra, issues=tuple(issues))


def _sticky_reason(design, sticky: Sticky | None, n, y, cell: int, rate: str, nxt: int | None, shape: str) -> str:
    """The reason of an elimination rule when ``cell`` (flat) was eliminated by data other than today's (a
    combination eliminated earlier and treated again, or eliminated by another one): cites the data at
    elimination, as BOIN does; "" when ``cell``'s own data as they stand eliminated it."""
    if sticky is None or cell not in sticky.at:
        return ""
    cause, ye, ne = sticky.at[cell]
    same = (ye, ne) == (int(y.flat[cause]), int(n.flat[cause]))
    if same and cause == cell:
        return ""
    K = design.grid[1]
    lab = design.dose_label
    what = ("the combinations with more of both agents" if shape == "quadrant"
            else "the rest of its subtrial's path")
    head = "" if cause == cell else f"{lab(_pair(cell, K))} is eliminated: "
    tail = (f"; de-escalate to {lab(_pair(nxt, K))}" if nxt is not None
            else ": (1, 1) is too toxic, stop the trial, no MTD")
    return (f"{rate}: {head}{lab(_pair(cause, K))} and {what} are eliminated ({ye}/{ne} DLTs at "
            f"{lab(_pair(cause, K))}{'' if same else ' when it was eliminated'}: Pr(DLT rate > {design.target:g}) > "
            f"{design.cutoff_eli:g}){tail}")


def _reason(design, rule, rate, tables, nxt, K, nd) -> str:
    lab = design.dose_label
    go = lab(_pair(nxt, K)) if nxt is not None else ""
    phi = design.target
    return {
        "escalate": f"{rate}: rate <= lambda_e = {tables.lambda_e:.4f}; escalate to {go}",
        "deescalate": f"{rate}: rate > lambda_d = {tables.lambda_d:.4f}; de-escalate to {go}",
        "stay": f"{rate}: lambda_e = {tables.lambda_e:.4f} < rate <= lambda_d = {tables.lambda_d:.4f}; stay",
        "stay_no_candidate": f"{rate} (escalate), but no combination one level up is open (outside the grid, "
                             f"eliminated, or blocked by an observed rate >= lambda_d): stay",
        "stay_lowest": f"{rate} (de-escalate), but this is the lowest combination: stay",
        "eliminate": (f"{rate}: Pr(DLT rate > {phi:g}) > {design.cutoff_eli:g}; this combination and those with "
                      f"more of both agents are eliminated" + (f"; de-escalate to {go}" if go else
                                                               ": (1, 1) is too toxic, stop the trial, no MTD")),
        "extra_safety": f"the lowest combination is overly toxic: Pr(DLT rate > {phi:g}) > "
                        f"{design.cutoff_eli - design.offset:g} (extra safety rule): stop the trial, no MTD",
        "max_sample_size": f"the maximum sample size ({design.max_sample_size}) is reached: stop and select the MTD",
        "n_earlystop": f"{nd} patients at the current combination (n_earlystop = {design.earlystop}) and the "
                       f"decision is to stay: stop and select the MTD",
    }[rule]
