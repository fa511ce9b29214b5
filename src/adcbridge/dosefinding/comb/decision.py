"""The next-combination decision of a live combination BOIN trial: the simulator's array functions
(:func:`.kernel.decide_grid`, :mod:`.waterfall`) on a batch of one trial, turned into a
:class:`~adcbridge.dosefinding.nextdose.NextDose` (pairs (a, b) for ``next_dose``, ``current_dose`` and ``mtd``;
a list of pairs for the waterfall's MTD contour).

Design-specific record keys (``extra``): ``candidates`` (one MTD: the candidate combinations of an escalation or
de-escalation with their scores and whether they were allowed), ``tie_break`` (only when two candidates' scores
tied: the rule that chose), and for the waterfall ``subtrial`` (its number and combinations) and
``next_subtrial`` (when a subtrial ends and another starts: its combinations and starting combination).

With accelerated titration (one MTD) the history first follows the titration's path (:func:`titration_phase`:
rules ``titration``, a next cohort of 1, and ``titration_fill``, completing the cohort where it ended); the
rules apply from the completed first cohort on, and the maximum sample size counts cohorts.
"""

from __future__ import annotations

import itertools

import numpy as np

from adcbridge.results import ColumnTable, make_provenance

from ..nextdose import NextDose
from .history import cohort_cells, grid_counts
from .kernel import RULES, SELECT_STOPS, TIE_BREAK_RULE, decide_grid
from .selection import eliminated_cells, select_comb_batch, select_waterfall, selection_rule
from .tables import comb_tables
from .waterfall import (
    CONTINUE,
    STOP_ELIMINATE,
    SUB_END,
    after_subtrial,
    subtrial_of,
    subtrial_paths,
    subtrial_step,
)

__all__ = ["decide", "select_from_grid", "waterfall_state"]


def _pair(cell: int, K: int) -> tuple[int, int]:
    return (int(cell) // K + 1, int(cell) % K + 1)


def select_from_grid(design, n, y, rows_eliminated_from: int | None = None):
    """The MTD the design selects from (J, K) counts: a pair, a list of pairs (contour) or None."""
    J, K = design.grid
    n = np.asarray(n, dtype=np.int64).reshape(1, J, K)
    y = np.asarray(y, dtype=np.int64).reshape(1, J, K)
    rule = selection_rule(design, max(int(n.max()), 3))
    if not design.mtd_contour:
        mtd, p_est, _ = select_comb_batch(n, y, rule)
        return (_pair(mtd[0], K) if mtd[0] >= 0 else None), p_est[0]
    mtd, p_est, _ = select_waterfall(n, y, rule, None if rows_eliminated_from is None
                                     else np.array([rows_eliminated_from]))
    pairs = [(i + 1, int(c) + 1) for i, c in enumerate(mtd[0]) if c >= 0]
    return (pairs or None), p_est[0]


def _move_word(cur: int, nxt: int | None, K: int) -> str:
    if nxt is None:
        return "stop"
    (a0, b0), (a1, b1) = _pair(cur, K), _pair(nxt, K)
    if (a1, b1) == (a0, b0):
        return "stay"
    return "escalate" if b1 > b0 or (b1 == b0 and a1 > a0) else "de-escalate"


def waterfall_state(design, cells: list[int], n, y, tables):
    """(subtrial, cohorts used in it, its order, lowest row eliminated by the first subtrial) from the cohorts'
    cells, as the simulator carries them."""
    J, K = design.grid
    subs = [int(s) for s in subtrial_of(np.array(cells), J, K)]
    order = sum(1 for a, b in itertools.pairwise(subs) if a != b)
    used = 0
    for s in reversed(subs):
        if s != subs[-1]:
            break
        used += 1
    rows_elim = J
    if subs[-1] != 0:
        first = np.zeros((J, K), dtype=bool)
        first[:, 0] = True
        first[J - 1, :] = True
        ns = after_subtrial(np.where(first, n, 0)[None], np.where(first, y, 0)[None], np.array([0]),
                            tables=tables, rule=_rule(design, tables))
        rows_elim = int(ns.rows_eliminated_from[0])
    return subs[-1], used, order, rows_elim


def _rule(design, tables):
    from .simulate import _single_rule
    return _single_rule(design, tables)


def decide(design, history) -> NextDose:
    n, y = grid_counts(design, history)
    cells = cohort_cells(design, history)
    if not design.uses_titration:
        return _decide(design, n, y, cells)
    cohorts, titrating = titration_phase(design, history)
    if titrating is None:
        return _decide(design, n, y, cells, full=cohorts >= design.n_cohorts)
    K = design.grid[1]
    cur, nxt = titrating
    lab = design.dose_label
    last = history.patients[-1]
    if nxt is not None:
        reason = (f"no DLT at {lab(_pair(cur, K))} during the accelerated titration: treat one patient at "
                  f"{lab(_pair(nxt, K))}")
        return _decide(design, n, y, cells, override=(nxt, "escalate", "titration", reason, 1))
    why = "a DLT" if last.dlt else "no DLT, at the top combination,"
    reason = (f"{why} at {lab(_pair(cur, K))} ends the accelerated titration: complete the cohort with "
              f"{design.cohort_size - 1} more patients there")
    return _decide(design, n, y, cells, override=(cur, "stay", "titration_fill", reason, design.cohort_size - 1))


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


def _decide(design, n, y, cells, full: bool | None = None, override=None) -> NextDose:
    """The decision after the cohorts at ``cells``; ``full``: the maximum sample size is reached (default: by
    the number of patients); ``override`` = (next cell, word, rule, reason, next cohort size) of a titration
    step, which replaces the rules."""
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
        nxt, word, rule, reason, next_size = override
        elim = eliminated_cells(n[None], y[None], tables.eliminate_ge)[0]
    elif not design.mtd_contour:
        g = decide_grid(n[None], y[None], np.array([cur]), np.array([full]),
                        tables=tables, earlystop=design.earlystop, extrasafe=design.extrasafe)
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
    else:
        sub, used, order, rows_elim = waterfall_state(design, cells, n, y, tables)
        budgets = design.cohorts_per_subtrial
        paths, lengths = subtrial_paths(J, K)
        extra["subtrial"] = {"number": order + 1, "doses": [list(_pair(c, K)) for c in paths[sub][:lengths[sub]]]}
        st = subtrial_step(n[None], y[None], np.array([cur]), np.array([used]), np.array([budgets[order]]),
                           tables=tables, earlystop=design.earlystop, extrasafe=design.extrasafe)
        status, nxt = int(st.status[0]), int(st.next_cell[0])
        elim = eliminated_cells(n[None], y[None], tables.eliminate_ge, "path")[0]
        if rows_elim is not None and rows_elim < J:
            elim[rows_elim:] = True
        extra["next_subtrial"] = None
        if status == CONTINUE:
            word = {1: "escalate", 0: "stay", -1: "de-escalate"}[int(st.move[0])]
            rule = {"escalate": "escalate", "stay": "stay", "de-escalate": "deescalate"}[word]
            reason = _reason(design, rule, rate, tables, nxt, K, nd) + f" (subtrial {order + 1})"
        elif status == SUB_END:
            ns = after_subtrial(n[None], y[None], np.array([sub]), tables=tables, rule=_rule(design, tables))
            if sub == 0:
                rows_elim = int(ns.rows_eliminated_from[0])
            sub_mtd = int(ns.sub_mtd[0])
            found = f"its MTD is {lab(_pair(sub_mtd, K))}" if sub_mtd >= 0 else "it found no MTD"
            why = {1: "used its cohorts", 2: f"reached n_earlystop = {design.earlystop}",
                   3: "found its lowest combination too toxic"}[int(st.ended[0])]
            if ns.next_sub[0] >= 0 and order + 1 < len(budgets):
                nxt = int(ns.start[0])
                s2 = int(ns.next_sub[0])
                extra["next_subtrial"] = {"doses": [list(_pair(c, K)) for c in paths[s2][:lengths[s2]]],
                                          "start": list(_pair(nxt, K))}
                word, rule = _move_word(cur, nxt, K), "next_subtrial"
                reason = (f"subtrial {order + 1} {why}; {found}: start subtrial {order + 2} at {lab(_pair(nxt, K))}")
            else:
                nxt, word, rule, select = -1, "stop", "subtrials_complete", True
                reason = f"subtrial {order + 1} {why}; {found}; no further subtrial: stop and select the MTD contour"
        else:
            nxt, word = -1, "stop"
            rule = "eliminate" if status == STOP_ELIMINATE else "extra_safety"
            reason = _reason(design, rule, rate, tables, None, K, nd)
    mtd, p_est = (select_from_grid(design, n, y, rows_elim) if select else (None, None))
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
                    select_mtd=select, mtd=mtd, design=design.spec_name, extra=extra)


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
