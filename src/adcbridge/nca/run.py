"""Running an NCA the way ``adcbridge nca`` does: columns and options resolved against the table, single or
multiple dose, profiles in chunks (bounded memory for any number of them), the long CDISC PP table streamed chunk
by chunk, and the wide table and group summaries built only when asked for.

>>> import pandas as pd
>>> from adcbridge.nca.run import nca_setup, stream_nca
>>> df = pd.DataFrame({"ID": [1] * 6 + [2] * 6, "TIME": [0, 1, 2, 4, 8, 12] * 2,
...                    "CONC": [0, 10, 8, 4, 2, 1, 0, 12, 9, 5, 2, 1], "DOSE": 100.0})
>>> setup = nca_setup(df, subject="ID", time="TIME", conc="CONC", dose="DOSE", dose_unit="mg")
>>> run = stream_nca(df, setup, wide=True)
>>> sum(len(t) for t in run)           # the long tables, one per chunk (write each as it comes)
74
>>> run.profiles, round(float(run.wide()["CMAX"].iloc[1]), 6)
(2, 12.0)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from adcbridge.results import Issue

from .analysis import CHUNK_PROFILES, NcaResult, combine_issues, run_nca_in_chunks
from .engine import NcaOptions

__all__ = ["NcaSetup", "nca_setup", "NcaRun", "stream_nca", "ChunkLimitError", "STREAM_CHUNK_PROFILES", "PLOT_PROFILES"]

#: profiles per chunk when streaming: the peak memory of 100,000 profiles x 12 samples drops from about 0.9 GB
#: (50,000 per chunk) to about 0.35 GB, at the same speed
STREAM_CHUNK_PROFILES = 10_000
#: The most profiles ``adcbridge nca --plots`` draws (30 panels a page: 34 pages an analyte); a larger data set is
#: refused before anything is written, and its plots are drawn by subsetting it.
PLOT_PROFILES = 1_000


class ChunkLimitError(ValueError):
    """The whole result was asked for (``keep_result``) but the table has more profiles than one chunk holds."""


@dataclass(frozen=True, eq=False)
class NcaSetup:
    """The columns and options of an NCA, resolved against its concentration table (see :func:`nca_setup`):
    the keyword arguments of :func:`~adcbridge.nca.run_nca` besides the table."""

    subject: str
    time: str
    conc: str
    dose: str | None = None
    analyte: str | None = None
    groups: tuple[str, ...] = ()
    blq: str | None = None
    lloq: str | None = None
    route: str | None = None                 # a route column, or None for default_route
    duration: str | None = None              # a duration column, or None for default_duration
    default_route: str = "extravascular"
    default_duration: float = 0.0
    options: NcaOptions = field(default_factory=NcaOptions)
    lambda_z_selection: pd.DataFrame | None = None

    def run_nca_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~adcbridge.nca.run_nca` (and, but for ``dose``, of
        :func:`~adcbridge.nca.run_nca_multiple_dose`)."""
        return dict(subject=self.subject, time=self.time, conc=self.conc, dose=self.dose, analyte=self.analyte,
                    groups=list(self.groups), blq=self.blq, lloq=self.lloq, route=self.route,
                    duration=self.duration, default_route=self.default_route,
                    default_duration=self.default_duration, options=self.options,
                    lambda_z_selection=self.lambda_z_selection)


def nca_setup(data: pd.DataFrame, *, subject: str, time: str, conc: str, dose: str | None = None,
              analyte: str | None = None, groups: Sequence[str] = (), blq: str | None = None,
              lloq: str | None = None, route: str | None = None, duration: str | float | None = None,
              options: NcaOptions | Mapping[str, Any] | None = None, auc_method: str | None = None,
              partial_aucs: Sequence[tuple[float, float]] | None = None, metabolites: Sequence[str] | None = None,
              time_unit: str | None = None, conc_unit: str | None = None, dose_unit: str | None = None,
              lambda_z: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None) -> NcaSetup:
    """Resolve the columns and options of an NCA against its concentration table ``data``.

    * ``route``: a column of ``data`` (one route per profile), else a route for every profile (default
      extravascular); ``duration`` likewise a column or a number (infusion duration, default 0);
    * ``options``: :class:`NcaOptions` or their fields as a mapping (e.g. from ``nca.yaml``); ``auc_method``,
      ``partial_aucs``, ``metabolites`` and the units override them;
    * ``conc_unit``: a unit (e.g. ``ng/mL``) or a column of ``data`` holding the unit of each sample; a unit
      column gives one concentration unit per analyte (``analyte`` required) and an analyte with several units
      is an error;
    * ``lambda_z``: manual lambda_z points, a table (or list of rows) with the key columns, ``time``,
      ``action`` (``exclude``/``include``) and optionally ``reason``.

    Errors are ValueErrors naming the column or value.
    """
    if isinstance(options, NcaOptions):
        opts = options.model_dump()
    else:
        opts = dict(options or {})
    if auc_method:
        opts["auc_method"] = auc_method
    if partial_aucs:
        opts["partial_aucs"] = tuple(tuple(p) for p in partial_aucs)
    if metabolites:
        opts["metabolites"] = tuple(metabolites)
    units = dict(opts.get("units") or {})
    unit_col = unit_column_of(data, conc)
    if unit_col and not (conc_unit and conc_unit in data.columns):
        found = sorted({str(u) for u in data[unit_col].dropna().unique()})
        given = conc_unit or units.get("conc")
        if not given:
            alt = f", or --conc-unit {found[0]}" if len(found) == 1 else ""
            raise ValueError(f"the table has a concentration-unit column '{unit_col}' ({', '.join(found)}): give "
                             f"--conc-unit {unit_col} to use it (conc_unit='{unit_col}'){alt}")
        if found != [str(given)]:
            raise ValueError(f"--conc-unit {given} disagrees with the table's unit column '{unit_col}' "
                             f"({', '.join(found)}): give --conc-unit {unit_col} to use the column")
    if conc_unit and conc_unit in data.columns:
        if not analyte:
            raise ValueError(f"a concentration-unit column ('{conc_unit}') needs an analyte column")
        opts["conc_units_by_analyte"] = units_by_analyte(data, analyte, conc_unit)
        conc_unit = None
    if opts.get("metabolites"):
        if not analyte:
            raise ValueError(f"metabolites {list(opts['metabolites'])} need an analyte column (--analyte) that "
                             f"names them")
        present = set(data[analyte].astype(str)) if analyte in data.columns else set()
        absent = [m for m in opts["metabolites"] if str(m) not in present]
        if analyte in data.columns and absent:
            raise ValueError(f"metabolite {absent[0]!r} is not in column '{analyte}' (analytes: "
                             f"{', '.join(sorted(present))})")
    units.update({k: v for k, v in (("time", time_unit), ("conc", conc_unit), ("dose", dose_unit)) if v})
    opts["units"] = units
    nca_options = NcaOptions(**opts)

    route = route or "extravascular"
    route_col = route if route in data.columns else None
    duration_col = duration if isinstance(duration, str) and duration in data.columns else None
    try:
        default_duration = 0.0 if duration_col or duration is None else float(duration)
    except ValueError:
        raise ValueError(f"the infusion duration {duration!r} is neither a number nor a column of the table") \
            from None
    selection = None
    if lambda_z is not None and len(lambda_z):
        selection = pd.DataFrame(lambda_z)
        if "time" not in selection.columns:
            raise ValueError("lambda_z selection: every entry needs a 'time'")
    return NcaSetup(subject=subject, time=time, conc=conc, dose=dose, analyte=analyte, groups=tuple(groups or ()),
                    blq=blq, lloq=lloq, route=route_col, duration=duration_col,
                    default_route=route if route_col is None else "extravascular",
                    default_duration=default_duration, options=nca_options, lambda_z_selection=selection)




def unit_column_of(data: pd.DataFrame, conc: str) -> str | None:
    """The table's concentration-unit column, if it has one by a recognised name (``{conc}U``, ``{conc}_U``,
    ``{conc}UNIT``, ``{conc}_UNIT``, ``{conc}_UNITS``, ``PCSTRESU``, ``PCORRESU``; any case)."""
    wanted = {n.upper() for n in (f"{conc}U", f"{conc}_U", f"{conc}UNIT", f"{conc}_UNIT", f"{conc}_UNITS")}
    if str(conc).upper() in ("PCSTRESN", "PCORRES", "PCSTRESC"):
        wanted |= {"PCSTRESU", "PCORRESU"}
    return next((str(c) for c in data.columns if str(c).upper() in wanted), None)


def units_by_analyte(data: pd.DataFrame, analyte: str, unit_column: str) -> dict[str, str]:
    """``{analyte: unit}`` from a unit column; an analyte with several units is an error naming the column."""
    if analyte not in data.columns:
        raise ValueError(f"missing column(s) ['{analyte}']; the table has {list(data.columns)}")
    per = data.groupby(analyte, sort=False)[unit_column].unique()
    for name, units in per.items():
        if len(units) > 1:
            raise ValueError(f"column '{unit_column}': analyte {name} has several units {list(units)}")
    return {str(a): str(u[0]) for a, u in per.items()}


class NcaRun:
    """An NCA in progress (see :func:`stream_nca`): iterate it once for the long CDISC PP tables, chunk by chunk;
    afterwards ``profiles``, ``rows`` and ``issues`` count the whole run, and :meth:`wide`, :meth:`summary` and
    :meth:`result` give what was asked for."""

    def __init__(self, data: pd.DataFrame, setup: NcaSetup, *, dosing: pd.DataFrame | None = None,
                 dose_time: str = "TDOSE", tau: str | None = None, predose_window: float = 0.0,
                 wide: bool = False, summary: bool = False, keep_result: bool = False,
                 chunk_profiles: int | None = None):
        self.data, self.setup, self.dosing = data, setup, dosing
        self.dose_time, self.tau, self.predose_window = dose_time, tau, predose_window
        self.want_wide, self.want_summary, self.keep_result = wide, summary, keep_result
        self.chunk_profiles = chunk_profiles or (CHUNK_PROFILES if keep_result else STREAM_CHUNK_PROFILES)
        self.profiles = 0
        self.rows = 0
        self.chunks = 0
        self._issues: list[tuple[Issue, ...]] = []
        self._wides: list[pd.DataFrame] = []
        self._longs: list[NcaResult] = []          # trimmed chunk results, for the summaries
        self._result: NcaResult | None = None
        self._started = self._done = False

    @property
    def options(self) -> NcaOptions:
        return self.setup.options

    @property
    def drops_interval_columns(self) -> bool:
        """Whether the long tables leave out PPSTINT/PPENINT (single dose without partial AUCs: always empty)."""
        return not (self.setup.options.partial_aucs or self.dosing is not None)

    def _results(self) -> Iterator[NcaResult]:
        kwargs = self.setup.run_nca_kwargs()
        if self.dosing is None:
            yield from run_nca_in_chunks(self.data, chunk_profiles=self.chunk_profiles, **kwargs)
            return
        from .multiple_dose import run_nca_multiple_dose
        kwargs["dose"] = kwargs["dose"] or "DOSE"
        yield run_nca_multiple_dose(self.data, self.dosing, dose_time=self.dose_time, tau=self.tau,
                                    predose_window=self.predose_window, **kwargs)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._started:
            raise RuntimeError("an NcaRun is iterated once")
        self._started = True
        for r in self._results():
            self.chunks += 1
            if self.keep_result:
                if self._result is not None:
                    raise ChunkLimitError(f"the whole result is kept in memory for at most "
                                          f"{self.chunk_profiles:,} profiles")
                self._result = r
            keys = list(r.key_columns) + (["PPCAT"] if "PPCAT" in r.table.columns else [])
            self.profiles += _count_profiles(r.table, keys)
            self._issues.append(r.issues)
            if self.want_wide:
                self._wides.append(r.wide())
            if self.want_summary:             # only what the summaries read: no lambda_z points, units, reasons
                unread = [r.subject_column, "PPSTRESU", "EXCLUDE_REASON"] + (
                    ["PPSTINT", "PPENINT"] if self.drops_interval_columns else [])
                self._longs.append(NcaResult(spec=r.spec, key_columns=r.key_columns, subject_column=r.subject_column,
                                             table=r.table.drop(columns=unread, errors="ignore")))
            table = r.table.drop(columns=["PPSTINT", "PPENINT"]) if self.drops_interval_columns else r.table
            self.rows += len(table)
            yield table
        self._done = True

    def run(self) -> NcaRun:
        """Run to the end, discarding the long tables (when only the wide table, summaries or counts matter)."""
        for _ in self:
            pass
        return self

    @property
    def issues(self) -> tuple[Issue, ...]:
        """The issues of the whole run (counts added up over chunks)."""
        return combine_issues(self._issues, self.profiles)

    def _finished(self, what: str, asked: bool, option: str) -> None:
        if not asked:
            raise ValueError(f"the {what} was not asked for (stream_nca(..., {option}=True))")
        if not self._done:
            raise RuntimeError(f"the {what} is ready once the long tables have all been read")

    def wide(self) -> pd.DataFrame:
        """One row per profile, one column per parameter (see :meth:`NcaResult.wide`), over all chunks."""
        self._finished("wide table", self.want_wide, "wide")
        return pd.concat(self._wides, ignore_index=True) if len(self._wides) != 1 else self._wides[0]

    def summary(self) -> pd.DataFrame:
        """Group summaries over all chunks (see :meth:`NcaResult.describe`)."""
        self._finished("summary", self.want_summary, "summary")
        return self._merged(self._longs).describe()

    def result(self) -> NcaResult:
        """The whole :class:`NcaResult` (with its lambda_z points), when ``keep_result`` and one chunk held it."""
        self._finished("whole result", self.keep_result, "keep_result")
        return self._result

    @staticmethod
    def _merged(results: list[NcaResult]) -> NcaResult:
        first = results[0]
        if len(results) == 1:
            return first
        table = pd.concat([r.table for r in results], ignore_index=True)
        return NcaResult(spec=first.spec, table=table, key_columns=first.key_columns,
                         subject_column=first.subject_column)


def stream_nca(data: pd.DataFrame, setup: NcaSetup, *, dosing: pd.DataFrame | None = None,
               dose_time: str = "TDOSE", tau: str | None = None, predose_window: float = 0.0, wide: bool = False,
               summary: bool = False, keep_result: bool = False, chunk_profiles: int | None = None) -> NcaRun:
    """An NCA of ``data`` as an :class:`NcaRun`: iterate it for the long CDISC PP tables, ``chunk_profiles``
    profiles at a time (default :data:`STREAM_CHUNK_PROFILES`, or :data:`~adcbridge.nca.analysis.CHUNK_PROFILES`
    with ``keep_result``), so any number of profiles runs in bounded memory when each table is written as it
    comes.

    Single dose (:func:`~adcbridge.nca.run_nca`) by default; multiple dose
    (:func:`~adcbridge.nca.run_nca_multiple_dose`, one chunk) when a ``dosing`` table is given, with its
    ``dose_time`` and ``tau`` columns and ``setup.dose`` (default ``DOSE``) as its dose column.  The long tables
    leave out the always-empty PPSTINT/PPENINT of a single-dose analysis without partial AUCs.  The wide table
    (``wide=True``) and the group summaries (``summary=True``) are built only when asked for: they cost time and
    memory at scale.  ``keep_result=True`` keeps the whole result (for plots), possible for one chunk only
    (:class:`ChunkLimitError` otherwise)."""
    return NcaRun(data, setup, dosing=dosing, dose_time=dose_time, tau=tau, predose_window=predose_window,
                  wide=wide, summary=summary, keep_result=keep_result, chunk_profiles=chunk_profiles)


def _count_profiles(table: pd.DataFrame, keys: list[str]) -> int:
    """The number of profiles of a long table whose rows come profile by profile (as the NCA writes them)."""
    n = len(table)
    if n == 0:
        return 0
    if not keys:
        return 1
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        codes = pd.factorize(table[k], use_na_sentinel=False)[0]
        change[1:] |= codes[1:] != codes[:-1]
    return int(change.sum())
