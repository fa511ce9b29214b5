"""The parameter table every fit result shares: ``parameters(level)``, ``conf_int(level)`` and ``cov_params()``.

A fit result (binding kinetics, steady-state affinity, dose-response, internalization, compartmental PK,
xenograft growth rates) mixes in :class:`FitResult` and declares only where its numbers are: one row per
parameter (:meth:`FitResult._parameter_rows`) and the covariance of those rows (:meth:`FitResult._covariance`).
The shared code here computes the intervals at any level on demand, the same way for every fit:

=====================  ===============================================================================
``ci_method``          interval at level 1 - a (q the 1 - a/2 quantile of t with ``df``, or of the normal
                       distribution when ``df`` is infinite)
=====================  ===============================================================================
``wald_t``             ``estimate -/+ q se``, q from Student's t with the fit's ``df``
``wald_normal``        ``estimate -/+ z se``
``log_wald_t``         ``estimate * exp(-/+ q se / estimate)``: Wald on the log scale (``se / estimate``
                       is the SE of ln estimate by the delta method), always positive, asymmetric
``log_wald_normal``    the same with the normal quantile z
``fixed``              a parameter held at a value: no SE, no interval
=====================  ===============================================================================

The table (:meth:`FitResult.parameters`) has the identifying columns of the result (``curve``, ``antibody``,
``model``, ``id``, ``group``, ... where a result holds several fits or local parameters), then ``term,
estimate, se, ci_low, ci_high, unit, df, ci_method`` and the fit's own extra columns (``rse``, ``fixed``,
``p_value``, ...).  The covariance (:meth:`FitResult.cov_params`) is labelled by the same identifying columns and
``term``; entries between parameters that were not estimated in one fit (two subjects, two antibodies, the
Y0-fixed and Y0-free models of one antibody) are NaN.

Why ``cov_params`` and not ``vcov``: the name ``vcov`` was already taken on two results with other meanings
(the kinetics result's ``vcov`` table field, the dose-response ``vcov(kind)`` that returns the bare matrix of
one SE flavour); ``cov_params`` is statsmodels' name for the same thing.  The thresholds that raise a fit's
quality issues (relative SE, correlation, condition number) are options of the fit's specification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CI_METHODS", "FitResult", "check_level", "covariance_entries", "interval"]

CI_METHODS = ("wald_t", "wald_normal", "log_wald_t", "log_wald_normal", "fixed")
_BASE = ("term", "estimate", "se", "df", "scale", "unit")


def check_level(level: Any) -> float:
    """``level`` as a float in (0, 1), else a ValueError naming it."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"The 'level' of a confidence interval must be a number in (0, 1). Got {level!r}.") \
            from None
    if not 0 < value < 1:
        raise ValueError(f"The 'level' of a confidence interval must be in (0, 1). Got {level!r}.")
    return value


def _quantile(level: float, df: np.ndarray) -> np.ndarray:
    from scipy import stats
    df = np.asarray(df, dtype=float)
    p = 0.5 + level / 2
    with np.errstate(invalid="ignore"):
        q = np.where(np.isinf(df), stats.norm.ppf(p), stats.t.ppf(p, np.where(np.isinf(df), 1.0, df)))
    return np.where(np.isnan(df), np.nan, q)


def interval(estimate, se, df, scale, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ci_low, ci_high, ci_method) of rows with the given ``estimate``, ``se``, ``df`` (inf: normal) and
    ``scale`` (``linear``, ``log`` or ``fixed``) at ``level`` (see the module docstring)."""
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    df = np.asarray(df, dtype=float)
    scale = np.asarray(scale, dtype=object)
    q = _quantile(check_level(level), df)
    log = scale == "log"
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        half = q * se
        factor = np.exp(q * se / np.where(est > 0, est, np.nan))
        lo = np.where(log, est / factor, est - half)
        hi = np.where(log, est * factor, est + half)
    fixed = scale == "fixed"
    lo, hi = np.where(fixed, np.nan, lo), np.where(fixed, np.nan, hi)
    dist = np.where(np.isinf(df), "normal", "t")
    method = np.where(fixed, "fixed", np.where(log, "log_wald_", "wald_").astype(object) + dist.astype(object))
    return lo, hi, method.astype(object)


def covariance_entries(blocks) -> pd.DataFrame:
    """The covariance of a result's parameter rows in compact form: ``blocks`` is an iterable of
    ``(positions, matrix)`` -- the rows of the parameter table that one fit estimated together and their
    covariance matrix -- and the answer a table ``i, j, value`` (every entry of every block).  Results that keep
    one fit per subject or antibody store this instead of a (mostly empty) square matrix."""
    import pandas as pd
    ii, jj, vv = [], [], []
    for positions, matrix in blocks:
        pos = np.asarray(positions, dtype=np.int64)
        m = np.asarray(matrix, dtype=float).reshape(pos.size, pos.size)
        ii.append(np.repeat(pos, pos.size))
        jj.append(np.tile(pos, pos.size))
        vv.append(m.reshape(-1))
    def cat(parts, dt):
        return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)

    return pd.DataFrame({"i": cat(ii, np.int64), "j": cat(jj, np.int64), "value": cat(vv, float)})


class FitResult:
    """Mixin of the frozen fit results: one parameter table, confidence intervals at any level and the
    covariance of the estimates, all computed on demand from what the fit stored.

    A subclass sets ``fit_keys`` (the identifying columns before ``term``) and implements

    * ``_parameter_rows()`` -- a DataFrame with ``fit_keys``, ``term, estimate, se, df, scale, unit`` and any
      extra columns (``df`` infinite for normal-theory intervals; ``scale`` ``linear``, ``log`` or ``fixed``);
    * ``_covariance(rows)`` -- the covariance matrix of the given row positions (default: the squared SEs on the
      diagonal and NaN elsewhere, for a fit that stored SEs only);
    * ``_fit_level()`` -- the level the fit was configured with (default: ``spec.confidence`` or ``spec.level``).
    """

    fit_keys: ClassVar[tuple[str, ...]] = ()

    # ----------------------------------------------------------------------------------- to implement
    def _parameter_rows(self) -> pd.DataFrame:          # pragma: no cover - every fit result overrides it
        raise NotImplementedError

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        se = self._rows()["se"].to_numpy(dtype=float)[rows]
        out = np.full((rows.size, rows.size), np.nan)
        np.fill_diagonal(out, se ** 2)
        return out

    def _fit_level(self) -> float:
        spec = getattr(self, "spec", None)
        for name in ("confidence", "level"):
            value = getattr(spec, name, None)
            if isinstance(value, float):
                return value
        return 0.95

    # ------------------------------------------------------------------------------------ shared code
    def _rows(self) -> pd.DataFrame:
        cached = self.__dict__.get("_parameter_rows_cache")
        if cached is None:
            cached = self._parameter_rows().reset_index(drop=True)
            self.__dict__["_parameter_rows_cache"] = cached        # frozen dataclass: cache beside the fields
        return cached

    def _labels(self, rows: pd.DataFrame) -> pd.Index:
        import pandas as pd
        keys = list(self.fit_keys)
        if not keys:
            return pd.Index(rows["term"].tolist(), dtype=object, name="term")
        return pd.MultiIndex.from_frame(rows[keys + ["term"]].astype(object))

    def _select(self, where: dict[str, Any]) -> np.ndarray:
        rows = self._rows()
        keep = np.ones(len(rows), dtype=bool)
        for column, value in where.items():
            if column not in (*self.fit_keys, "term"):
                raise ValueError(f"cannot select by {column!r}; the parameter table is identified by "
                                 f"{[*self.fit_keys, 'term']}")
            values = value if isinstance(value, (list, tuple, set)) else [value]
            keep &= rows[column].astype(object).isin(list(values)).to_numpy()
        return np.flatnonzero(keep)

    def parameters(self, level: float | None = None) -> pd.DataFrame:
        """The parameter table: the result's identifying columns, ``term, estimate, se, ci_low, ci_high, unit,
        df, ci_method`` and the fit's extra columns, with intervals at ``level`` (default: the fit's own level).
        ``ci_method`` says how each interval was computed (``wald_t``: estimate -/+ t(df) se; ``wald_normal``;
        ``log_wald_t``/``log_wald_normal``: exp(ln estimate -/+ q se/estimate); ``fixed``)."""
        level = self._fit_level() if level is None else check_level(level)
        rows = self._rows()
        lo, hi, method = interval(rows["estimate"], rows["se"], rows["df"], rows["scale"], level)
        out = rows[[*self.fit_keys, "term", "estimate", "se"]].copy()
        out["ci_low"], out["ci_high"] = lo, hi
        out["unit"] = rows["unit"]
        out["df"] = rows["df"].astype(float)
        out["ci_method"] = method
        extras = [c for c in rows.columns if c not in (*self.fit_keys, *_BASE)]
        for c in extras:
            out[c] = rows[c]
        return self._level_dependent(out, level)

    def _level_dependent(self, table: pd.DataFrame, level: float) -> pd.DataFrame:
        """Hook for extra columns that exist only at the fit's own level (e.g. profile intervals)."""
        return table

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """``ci_low`` and ``ci_high`` of every parameter at ``level`` (default: the fit's own level), indexed by
        the identifying columns and ``term`` (see :meth:`parameters` for the methods)."""
        table = self.parameters(level)
        out = table[["ci_low", "ci_high"]].copy()
        out.index = self._labels(table)
        return out

    def cov_params(self, **where: Any) -> pd.DataFrame:
        """The covariance matrix of the estimates (natural scale, the units of ``parameters()``), labelled by the
        identifying columns and ``term``; NaN between parameters of different fits (not estimated together) and
        where a fit stored only standard errors.  ``where`` selects rows by identifying column, e.g.
        ``cov_params(id="S1")`` for one subject of a large batch.  Its diagonal is ``se**2``."""
        import pandas as pd
        rows = self._select(where)
        cov = np.asarray(self._covariance(rows), dtype=float)
        labels = self._labels(self._rows().iloc[rows])
        return pd.DataFrame(cov, index=labels, columns=labels.copy())

    # ------------------------------------------------------------------------ helpers for subclasses
    def _covariance_from_entries(self, entries: pd.DataFrame | None, rows: np.ndarray) -> np.ndarray:
        """The covariance of ``rows`` from a :func:`covariance_entries` table (NaN where it has no entry)."""
        out = np.full((rows.size, rows.size), np.nan)
        if entries is None or not len(entries) or not rows.size:
            return out
        where = np.full(len(self._rows()), -1, dtype=np.int64)
        where[rows] = np.arange(rows.size)
        i = where[entries["i"].to_numpy(dtype=np.int64)]
        j = where[entries["j"].to_numpy(dtype=np.int64)]
        ok = (i >= 0) & (j >= 0)
        out[i[ok], j[ok]] = entries["value"].to_numpy(dtype=float)[ok]
        return out
