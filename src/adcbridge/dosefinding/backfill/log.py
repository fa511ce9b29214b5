"""The event log of the BF-BOIN simulator: every arriving patient and every decision of a few trials.

Used only to check the simulator: to replay the reference's logged trials patient by patient, and to hand the
conformance test the histories the simulator decided on (:mod:`.conformance`).  Logging loops over the logged
trials in Python; the simulation itself never logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .events import BACKFILL, ROLES

__all__ = ["EventLog", "LoggedPatient"]


@dataclass
class LoggedPatient:
    """One arriving patient: arrival ``clock``, ``role`` (a code of :data:`~.events.ROLES`), 0-based ``dose``
    (None when not treated), latent DLT time ``tstar``, ``dlt``, the time ``assessed`` his DLT assessment ends,
    and ``response`` (escalation patients only)."""

    step: int
    clock: float
    role: int
    dose: int | None = None
    tstar: float | None = None
    dlt: bool | None = None
    assessed: float | None = None
    response: bool | None = None

    @property
    def backfill(self) -> bool:
        return self.role == BACKFILL

    @property
    def role_text(self) -> str:
        return ROLES[self.role]


@dataclass
class EventLog:
    """What the simulator did, per trial: ``arrivals[t]`` (the patients in arrival order), ``evaluations[t]``
    and ``backfill_checks[t]`` (dicts with the step, the time and what was decided).  The methods are the hooks
    the event loop calls."""

    dlt_window: float
    arrivals: dict[int, list[LoggedPatient]] = field(default_factory=dict)
    evaluations: dict[int, list[dict]] = field(default_factory=dict)
    backfill_checks: dict[int, list[dict]] = field(default_factory=dict)

    def _of(self, t) -> list[LoggedPatient]:
        return self.arrivals.setdefault(int(t), [])

    def patients(self, ids, step, now, role, dose, tstar, resp) -> None:
        W = self.dlt_window
        for i, t in enumerate(ids):
            T = float(tstar[i])
            back = role[i] == BACKFILL
            self._of(t).append(LoggedPatient(step, float(now[i]), int(role[i]), int(dose[i]), T, T < W,
                                                   float(now[i]) + min(T, W), None if back else bool(resp[i])))

    def others(self, ids, step, now, role) -> None:
        for i, t in enumerate(ids):
            self._of(t).append(LoggedPatient(step, float(now[i]), int(role[i])))

    def evaluation(self, ids, step, now, d, N, Y, dec, path, next_d, elim, stop, early, fin) -> None:
        for i, t in enumerate(ids):
            k = int(d[i]) + 1
            self.evaluations.setdefault(int(t), []).append({
                "step": step, "clock": float(now[i]), "dose": int(d[i]), "n_total": N[i, :k].tolist(),
                "y_total": Y[i, :k].tolist(), "decisions": dec[i, :k].tolist(), "path": int(path[i]),
                "next_dose": None if bool(stop[i]) else int(next_d[i]), "elim": int(elim[i]),
                "stop": bool(stop[i]), "early": bool(early[i]), "ends": bool(fin[i])})

    def backfill(self, ids, step, now, d, opened, k) -> None:
        for i, t in enumerate(ids):
            self.backfill_checks.setdefault(int(t), []).append({
                "step": step, "clock": float(now[i]), "dose": int(d[i]),
                "open": np.flatnonzero(opened[i]).tolist(), "chosen": None if k[i] < 0 else int(k[i])})
