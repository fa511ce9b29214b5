"""Dose-response models, declared once: LL.4, LL.5, W1.4, W2.4 and LL.3 in drc's parameterisation.

Every model is  f(x) = c + (d - c) h(z, f)  with  z = b (ln x - ln e)  and a family function h:

=========  ==============================  =============================================================
family     h(z, f)                         models
=========  ==============================  =============================================================
``LL``     (1 + exp z)^(-f)                LL.4 (f = 1), LL.5 (f free), LL.3 (c = 0, f = 1)
``W1``     exp(-exp z)                     W1.4 (Weibull type 1)
``W2``     1 - exp(-exp z)                 W2.4 (Weibull type 2)
=========  ==============================  =============================================================

Parameters are always ordered ``b, c, d, e, f`` (drc's order); a model fixes some of them (LL.3 fixes c = 0 and
f = 1).  **Sign convention (drc):** for LL and W1, b > 0 means a *decreasing* curve (d at zero dose, c at high
dose), the opposite sign to Prism's HillSlope; for W2, b < 0 is decreasing.  ``e`` is the inflection point; it is
the ED50 only for LL.4/LL.3 (and LL.5 with f = 1).  A zero dose gives the limit z = -inf (b > 0) or +inf (b < 0),
i.e. the zero-dose asymptote, with zero derivatives in b, e and f, as drc does.

Effective doses (``type="relative"``, drc's default with ``reference="control"``): EDp is the dose at which p %
of the effect has occurred, counted from the zero-dose asymptote toward the other one, whatever the sign of b.
``type="absolute"``: the dose at which the curve reaches the response level y0; its gradient includes the terms
for c and d (drc leaves them out; see the package documentation).

>>> m = MODELS["LL.4"]
>>> round(float(m.predict(np.array([3.0]), np.array([2.0, 0.0, 10.0, 3.0, 1.0]))[0]), 6)
5.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MODELS", "PARAMETERS", "DoseResponseModel", "get_model", "self_start"]

PARAMETERS = ("b", "c", "d", "e", "f")
B, C, D, E, F = range(5)


# ------------------------------------------------------------------------------------------ family functions
def _softplus(z):
    """ln(1 + exp z), without overflow (cheaper than np.logaddexp)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _h(family: str, z, f, with_f: bool = True):
    """h(z, f), its complement 1 - h (computed without cancellation where h is near 1) and the derivatives dh/dz
    and dh/df (arrays of the broadcast shape; dh/df is None unless ``with_f``); z may be +-inf."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        if family == "LL":
            if np.all(f == 1.0):                    # the logistic: h = 1/(1 + e^z), 1 - h = 1/(1 + e^-z)
                h = 1.0 / (1.0 + np.exp(z))
                hc = 1.0 / (1.0 + np.exp(-z))
                hz = -h * hc
                sp = _softplus(z) if with_f else None
                f = 1.0
            else:
                sp = _softplus(z)
                h = np.exp(-f * sp)
                hc = -np.expm1(-f * sp)
                hz = -f * (1.0 / (1.0 + np.exp(-z))) * h
            hf = None
            if with_f:
                hf = -sp * h
                hf = np.where(np.isnan(hf), 0.0, hf)
        else:
            ez = np.exp(z)
            g = np.exp(z - ez)                      # exp(z) exp(-exp z), 0 at both infinities
            g = np.where(np.isnan(g), 0.0, g)
            if family == "W1":
                h, hc, hz = np.exp(-ez), -np.expm1(-ez), -g
            else:
                h, hc, hz = -np.expm1(-ez), np.exp(-ez), g
            hf = np.zeros_like(h) if with_f else None
    return h, hc, hz, hf


def _h_inverse(family: str, level, f):
    """z with h(z, f) = level (0 < level < 1) and dz/dlevel, dz/df."""
    level = np.asarray(level, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if family == "LL":
            w = level ** (-1.0 / f)                      # (1 + exp z) = level^(-1/f)
            z = np.log(w - 1.0)
            dz_dw = 1.0 / (w - 1.0)
            dz_dl = dz_dw * w * (-1.0 / f) / level
            dz_df = dz_dw * w * np.log(level) / f ** 2
        elif family == "W1":
            z = np.log(-np.log(level))
            dz_dl = 1.0 / (level * np.log(level))
            dz_df = np.zeros_like(z)
        else:
            z = np.log(-np.log1p(-level))
            dz_dl = -1.0 / ((1.0 - level) * np.log1p(-level))
            dz_df = np.zeros_like(z)
    return z, dz_dl, dz_df


# ----------------------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class DoseResponseModel:
    """One dose-response model: its name, family, equation and the parameters it fixes.

    ``free`` lists the parameters estimated (in drc's order), ``fixed`` the values of the others.  Methods take a
    full parameter array ``theta`` whose last axis is (b, c, d, e, f) and broadcast over leading axes.
    """

    name: str
    family: str
    equation: str
    fixed: dict = field(default_factory=dict)
    description: str = ""

    @property
    def free(self) -> tuple[str, ...]:
        return tuple(p for p in PARAMETERS if p not in self.fixed)

    @property
    def n_parameters(self) -> int:
        return len(self.free)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Admissible ranges of the free parameters (e > 0, f > 0; the optimiser works on ln e and ln f)."""
        out = {"b": (-np.inf, np.inf), "c": (-np.inf, np.inf), "d": (-np.inf, np.inf), "e": (0.0, np.inf),
               "f": (0.0, np.inf)}
        return {p: out[p] for p in self.free}

    def full(self, values: dict[str, float]) -> np.ndarray:
        """A (5,) parameter array from the free values and the model's fixed ones."""
        merged = {**self.fixed, **values}
        return np.array([float(merged[p]) for p in PARAMETERS])

    # --------------------------------------------------------------------------------------- evaluation
    @staticmethod
    def log_dose(x):
        """ln x with -inf for zero doses (precompute it to evaluate many parameter values on fixed doses)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.log(x)

    def evaluate(self, x, theta, jacobian: bool = False, logx=None, columns=None):
        """Mean response at doses ``x`` and, with ``jacobian=True``, d f / d(b, c, d, e, f) (last axis 5, or the
        parameters listed in ``columns``, e.g. ``(0, 3)`` for b and e).  ``theta`` has last axis (b, c, d, e, f)
        and broadcasts against ``x``; ``logx`` is ``log_dose(x)``."""
        theta = np.asarray(theta, dtype=float)
        lx = self.log_dose(x) if logx is None else logx
        b, c, d, e, f = (theta[..., k] for k in range(5))
        zero = np.isneginf(lx)
        any_zero = bool(zero.any())
        with np.errstate(invalid="ignore", divide="ignore"):
            u = lx - np.log(e)
            z = b * u
        if any_zero:
            u = np.where(zero, 0.0, u)
            z = np.where(zero, np.where(b < 0, np.inf, -np.inf), z)
        columns = range(5) if columns is None else columns
        h, hc, hz, hf = _h(self.family, z, f, with_f=jacobian and F in columns)
        span = d - c
        pred = c + span * h
        if not jacobian:
            return pred
        if any_zero:
            hz = np.where(zero, 0.0, hz)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            shz = span * hz
            out = np.empty(pred.shape + (len(columns),))
            for k, j in enumerate(columns):
                if j == B:
                    out[..., k] = shz * u
                elif j == C:
                    out[..., k] = hc
                elif j == D:
                    out[..., k] = h
                elif j == E:
                    out[..., k] = shz * (-b / e)
                else:
                    out[..., k] = span * (np.where(zero, 0.0, hf) if any_zero else hf)
        return pred, out

    def predict(self, x, theta) -> np.ndarray:
        """Mean response at doses ``x`` (zero allowed) for parameters ``theta`` (last axis b, c, d, e, f)."""
        return self.evaluate(x, theta)

    def jacobian(self, x, theta) -> np.ndarray:
        """d f / d(b, c, d, e, f) at doses ``x``: shape broadcast(x, theta[..., 0]) + (5,)."""
        return self.evaluate(x, theta, jacobian=True)[1]

    # ----------------------------------------------------------------------------------- effective doses
    def zero_dose_level(self, theta) -> np.ndarray:
        """h at zero dose (1 or 0): which asymptote the control (zero dose) sits on."""
        b = np.asarray(theta, dtype=float)[..., B]
        high = np.where(b < 0, 1.0, 0.0) if self.family == "W2" else np.where(b < 0, 0.0, 1.0)
        return high

    def effective_dose(self, p, theta, type: str = "relative"):
        """EDp and its gradient in (b, c, d, e, f).

        ``type="relative"``: p in (0, 100) is the percentage of the effect (d - c) from the zero-dose asymptote.
        ``type="absolute"``: ``p`` is a response level y0; the gradient then includes c and d.
        Returns (ed, grad) with grad[..., 5]; NaN where the level is not reached."""
        theta = np.asarray(theta, dtype=float)
        b, c, d, e, f = (theta[..., k] for k in range(5))
        h0 = self.zero_dose_level(theta)
        if type == "relative":
            q = np.asarray(p, dtype=float) / 100.0
            level = np.where(h0 == 1.0, 1.0 - q, q)
            dl_dc = dl_dd = np.zeros_like(level * b)
        elif type == "absolute":
            y0 = np.asarray(p, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                level = (y0 - c) / (d - c)
                dl_dc = (y0 - d) / (d - c) ** 2
                dl_dd = -(y0 - c) / (d - c) ** 2
        else:
            raise ValueError(f"type must be 'relative' or 'absolute', got {type!r}")
        level = np.where((level > 0) & (level < 1), level, np.nan)
        z, dz_dl, dz_df = _h_inverse(self.family, level, f)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ed = e * np.exp(z / b)
            grad = np.stack([-ed * z / b ** 2, ed / b * dz_dl * dl_dc, ed / b * dz_dl * dl_dd, ed / e,
                             ed / b * dz_df], axis=-1)
        if "f" in self.fixed:
            grad[..., F] = 0.0
        return ed, grad

    # --------------------------------------------------------------------------------------- Prism terms
    def prism_terms(self, theta) -> dict[str, float]:
        """Prism's Bottom, Top, LogEC50 (log10 of the relative ED50), HillSlope (= -b) and, for LL.5, the
        asymmetry S (= f).  Prism: Y = Bottom + (Top - Bottom)/(1 + 10^((LogEC50 - X) HillSlope)), X = log10 x."""
        theta = np.asarray(theta, dtype=float)
        ed50, _ = self.effective_dose(50.0, theta)
        out = {"Bottom": float(theta[C]), "Top": float(theta[D]), "LogEC50": float(np.log10(ed50)),
               "HillSlope": float(-theta[B])}
        if "f" not in self.fixed:
            out["S"] = float(theta[F])
        return out


def _ll(name, fixed, description):
    return DoseResponseModel(name, "LL", "f(x) = c + (d - c) / (1 + exp(b (ln x - ln e)))^f", fixed, description)


MODELS: dict[str, DoseResponseModel] = {
    "LL.4": _ll("LL.4", {"f": 1.0}, "four-parameter log-logistic (4PL); e is the ED50"),
    "LL.5": _ll("LL.5", {}, "five-parameter generalised log-logistic (5PL, asymmetric); e is not the ED50"),
    "LL.3": _ll("LL.3", {"c": 0.0, "f": 1.0}, "three-parameter log-logistic with lower limit c = 0"),
    "W1.4": DoseResponseModel("W1.4", "W1", "f(x) = c + (d - c) exp(-exp(b (ln x - ln e)))", {"f": 1.0},
                              "four-parameter Weibull type 1; e is not the ED50"),
    "W2.4": DoseResponseModel("W2.4", "W2", "f(x) = c + (d - c) (1 - exp(-exp(b (ln x - ln e))))", {"f": 1.0},
                              "four-parameter Weibull type 2; e is not the ED50"),
}
_ALIASES = {k.replace(".", "").upper(): k for k in MODELS}


def get_model(name: str | DoseResponseModel) -> DoseResponseModel:
    """The model called ``name`` (``"LL.4"``, ``"LL4"``, ``"ll4"``, ``"W1.4"``, ``"W14"`` ...)."""
    if isinstance(name, DoseResponseModel):
        return name
    key = _ALIASES.get(str(name).replace(".", "").upper())
    if key is None:
        raise ValueError(f"unknown dose-response model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[key]


# ------------------------------------------------------------------------------------------- self-starter
def self_start(model: DoseResponseModel, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """drc's self-starter (``llogistic.ssf`` method "1" and its Weibull analogue), vectorised over curves.

    ``x``, ``y``: (..., m) arrays (one row per curve), ``mask`` marks the points to use.  c0 = min y - 0.001
    range, d0 = max y + 0.001 range; b0 and e0 from the straight-line fit of the linearising transform
    (LL: ln((d0 - y)/(y - c0)); W1: ln(-ln((y - c0)/(d0 - c0))); W2: ln(-ln((d0 - y)/(d0 - c0)))) on ln x over
    x > 0: b0 = slope, e0 = exp(-intercept/b0); f0 = 1.  Returns (..., 5) start values (fixed parameters are
    filled in by the caller)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    mask = np.ones(x.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    big = np.where(mask, y, -np.inf).max(axis=-1)
    small = np.where(mask, y, np.inf).min(axis=-1)
    pad = 0.001 * (big - small)
    c0, d0 = small - pad, big + pad
    cc, dd = c0[..., None], d0[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if model.family == "LL":
            t = np.log((dd - y) / (y - cc))
        elif model.family == "W1":
            t = np.log(-np.log((y - cc) / (dd - cc)))
        else:
            t = np.log(-np.log((dd - y) / (dd - cc)))
        lx = np.log(np.where(x > 0, x, 1.0))
    use = mask & (x > 0) & np.isfinite(t)
    w = use.astype(float)
    n = w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mx = (w * lx).sum(axis=-1) / n
        mt = (w * np.where(use, t, 0.0)).sum(axis=-1) / n
        sxx = (w * (lx - mx[..., None]) ** 2).sum(axis=-1)
        sxt = (w * (lx - mx[..., None]) * (np.where(use, t, 0.0) - mt[..., None])).sum(axis=-1)
        b0 = sxt / sxx
        e0 = np.exp(mx - mt / b0)                    # exp(-intercept / slope), intercept = mt - b0 mx
    # a degenerate regression (no spread, no slope) falls back to a unit slope at the middle dose
    bad = ~np.isfinite(b0) | (b0 == 0) | ~np.isfinite(e0) | (e0 <= 0)
    if np.any(bad):
        mid = np.exp(np.where(np.isfinite(mx), mx, 0.0))
        b0 = np.where(bad, 1.0, b0)
        e0 = np.where(bad, mid, e0)
    return np.stack([b0, c0, d0, e0, np.ones_like(b0)], axis=-1)


def model_name(value) -> str:
    """The canonical model name ('LL.4', ...) of a name or alias; for spec validators."""
    try:
        return get_model(value).name
    except ValueError:
        raise ValueError("must be one of 'LL.4', 'LL.5', 'W1.4', 'W2.4', 'LL.3'") from None
