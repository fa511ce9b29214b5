"""Comparing nested dose-response fits: the extra-sum-of-squares F-test (drc's ``anova(reduced, full)``).

F = ((RSS_r - RSS_f) / (df_r - df_f)) / (RSS_f / df_f) on (df_r - df_f, df_f) degrees of freedom, where r is the
reduced model (more shared parameters, e.g. the parallel model with common b, c and d) and f the full one.  The
parallelism test is the parallel model against separate curves.  A small p says the curves are not parallel;
a large p is *not* evidence of parallelism (low power on noisy data) -- USP <1032>/<1034> favour equivalence
margins on slope and asymptote differences for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from .fit import DoseResponseFit

__all__ = ["NestedModelTest", "anova", "nested_f_test"]


@dataclass(frozen=True)
class NestedModelTest:
    """An F-test of a reduced model against a full one (``f``, ``df_num``, ``df_den``, ``p``), with both RSS
    and residual df, and ``reduced``/``full`` naming the models."""

    f: float
    df_num: int
    df_den: int
    p: float
    rss_reduced: float
    rss_full: float
    df_reduced: int
    df_full: int
    reduced: str = "reduced"
    full: str = "full"

    def to_dict(self) -> dict:
        return {"f": self.f, "df_num": self.df_num, "df_den": self.df_den, "p": self.p,
                "rss_reduced": self.rss_reduced, "rss_full": self.rss_full, "df_reduced": self.df_reduced,
                "df_full": self.df_full, "reduced": self.reduced, "full": self.full}


def nested_f_test(rss_reduced: float, df_reduced: int, rss_full: float, df_full: int, *,
                  reduced: str = "reduced", full: str = "full") -> NestedModelTest:
    """The F-test of the module docstring.  Raises ValueError unless df_reduced > df_full > 0."""
    if not df_reduced > df_full > 0:
        raise ValueError(f"the reduced model must have more residual df than the full one (got {df_reduced} and "
                         f"{df_full}); are the models nested and given in the order (reduced, full)?")
    df_num = int(df_reduced - df_full)
    f = ((rss_reduced - rss_full) / df_num) / (rss_full / df_full)
    p = float(stats.f.sf(f, df_num, df_full)) if np.isfinite(f) else np.nan
    return NestedModelTest(float(f), df_num, int(df_full), p, float(rss_reduced), float(rss_full), int(df_reduced),
                           int(df_full), reduced, full)


def anova(reduced: DoseResponseFit, full: DoseResponseFit) -> NestedModelTest:
    """F-test of two fits of the same data, ``reduced`` nested in ``full`` (drc ``anova(reduced, full)``)."""
    if reduced.statistics["n"] != full.statistics["n"]:
        raise ValueError(f"the fits use different data ({reduced.statistics['n']:g} and {full.statistics['n']:g} "
                         f"observations)")
    return nested_f_test(reduced.rss, reduced.df_residual, full.rss, full.df_residual,
                         reduced=reduced.description(), full=full.description())
