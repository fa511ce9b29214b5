"""Operating characteristics of BOIN12 (the metrics of the reference ``oc_boin12``, SPEC 7.8), with Monte Carlo
standard errors.

The true MTD is the dose whose DLT probability is closest to the target (first on ties), the true utility
``U_j = u11 q_j + u00 (1 - p_j)`` and the true OBD the dose of highest true utility among doses 1..MTD (first on
ties) -- the reference's own definitions.  "Favourable" doses are the doses j <= MTD with
``|U_j - U_OBD| <= 0.05 U_OBD``.  Denominators of patient percentages are the maximum sample size N (the
reference's), and stopped trials count everywhere.

================================  ===========================================  ==============================
record key                        meaning                                      reference
================================  ===========================================  ==============================
``selection_pct`` (per dose)      % of trials selecting the dose as the OBD    per-dose selection
``no_mtd_pct`` = ``stop_pct``     % stopped early (no OBD)                     ``earlystop``
``pcs`` = ``pcs_obd``             % selecting the true OBD                     ``bd.sel``
``favourable_pct``                % selecting a favourable dose                ``od.sel``
``patients_at_obd_pct``           mean 100 n_OBD / N                           ``bd.pts``
``patients_favourable_pct``       mean 100 n(favourable doses) / N             ``od.pts`` (see below)
``overdose_pct``                  mean 100 n(doses with p > target + 0.1) / N  ``overdose``
``overdose_selection_pct``        % selecting a dose with p > target + 0.1     ``ov.sel``
``poor_allocation_pct``           % of trials with n_OBD < N / J               ``poorall``
``dlt_total_mean``                mean number of DLTs                          ``ntox``
``responses_total_mean``          mean number of responses                     ``neff``
``responses_mean`` (per dose)     mean responses at each dose                  per-dose responses
================================  ===========================================  ==============================

**Deliberate difference:** the reference computes ``od.pts`` with a logical mask of length MTD used on the
length-J vector of patients, which R recycles (with mask (T, F) doses 1 and 3 count); adcbridge uses the intended
mask (the favourable doses only).  ``overdose60_pct``/``overdose80_pct`` are the core's (% of trials treating
more than 60% / 80% of N at doses above the target); ``early_stop_pct`` is 0 (BOIN12 has no early stop with a
selection before N patients).
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, make_provenance

from ..oc import OperatingCharacteristics

__all__ = ["OcAccumulator", "true_obd"]


def true_obd(design, p, q, target: float) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(true MTD, true OBD (0-based), true utilities, favourable mask) of a scenario."""
    u11, u00 = design.utility
    U = u11 * q + u00 * (1 - p)
    mtd = int(np.argmin(np.abs(p - target)))
    obd = int(np.argmax(U[: mtd + 1]))
    favourable = (np.arange(len(p)) <= mtd) & (np.abs(U - U[obd]) <= 0.05 * U[obd])
    return mtd, obd, U, favourable


class OcAccumulator:
    """Sums and sums of squares of the per-trial metrics, chunk by chunk."""

    def __init__(self, design, p, q, target):
        self.design, self.p, self.q = design, p, q
        self.target = design.target if target is None else float(target)
        self.mtd, self.obd, self.U, self.fav = true_obd(design, p, q, self.target)
        self.count = 0
        self.sums: dict[str, np.ndarray] = {}
        self.sq: dict[str, np.ndarray] = {}

    def _add(self, name: str, values: np.ndarray) -> None:
        v = values.astype(float)
        s, s2 = v.sum(axis=0), (v * v).sum(axis=0)
        if name in self.sums:
            self.sums[name] += s
            self.sq[name] += s2
        else:
            self.sums[name], self.sq[name] = s, s2

    def add(self, n, yt, ye, obd, stopped) -> None:
        J, N = self.design.n_doses, self.design.max_sample_size
        self.count += len(obd)
        sel = (obd[:, None] == np.arange(J)[None, :])
        over = self.p > self.target + 0.1
        above = self.p > self.target
        chose = np.where(obd >= 0, obd, 0)
        metrics = {
            "selection_pct": 100.0 * sel, "patients_mean": n, "dlt_mean": yt, "responses_mean": ye,
            "no_mtd_pct": 100.0 * stopped, "n_mean": n.sum(axis=1), "dlt_total_mean": yt.sum(axis=1),
            "responses_total_mean": ye.sum(axis=1),
            "pcs_obd": 100.0 * (obd == self.obd),
            "favourable_pct": 100.0 * ((obd >= 0) & self.fav[chose]),
            "patients_at_obd_pct": 100.0 * n[:, self.obd] / N,
            "patients_favourable_pct": 100.0 * n[:, self.fav].sum(axis=1) / N,
            "overdose_pct": 100.0 * n[:, over].sum(axis=1) / N,
            "overdose_selection_pct": 100.0 * ((obd >= 0) & over[chose]),
            "poor_allocation_pct": 100.0 * (n[:, self.obd] < N / J),
            "overdose60_pct": 100.0 * (n[:, above].sum(axis=1) > 0.6 * N),
            "overdose80_pct": 100.0 * (n[:, above].sum(axis=1) > 0.8 * N),
        }
        for k, v in metrics.items():
            self._add(k, v)

    def _mean_se(self, name):
        T = self.count
        mean = self.sums[name] / T
        var = np.maximum(self.sq[name] - T * mean * mean, 0.0) / max(T - 1, 1)
        return mean, np.sqrt(var / T)

    def result(self, *, n_trials: int, seed: int) -> OperatingCharacteristics:
        d = self.design
        m = {k: self._mean_se(k) for k in self.sums}
        per_dose = ("selection_pct", "patients_mean", "dlt_mean", "responses_mean")
        se = {k: (v[1].tolist() if k in per_dose else float(v[1])) for k, v in m.items()}
        se["stop_pct"], se["pcs"], se["early_stop_pct"] = se["no_mtd_pct"], se["pcs_obd"], 0.0
        scalar = {k: float(v[0]) for k, v in m.items() if k not in per_dose}
        extra_keys = ("pcs_obd", "favourable_pct", "patients_at_obd_pct", "patients_favourable_pct",
                      "overdose_pct", "overdose_selection_pct", "poor_allocation_pct", "responses_total_mean")
        extra = {k: scalar[k] for k in extra_keys}
        extra.update({"q_true": self.q.tolist(), "responses_mean": m["responses_mean"][0].tolist(),
                      "true_mtd": self.mtd + 1, "true_obd": self.obd + 1, "true_utility": self.U.tolist(),
                      "favourable_doses": [int(j) + 1 for j in np.flatnonzero(self.fav)]})
        labels = d.dose_labels() or [str(j) for j in range(1, d.n_doses + 1)]
        table = ColumnTable({
            "dose": np.arange(1, d.n_doses + 1), "dose_label": labels, "p_true": self.p, "q_true": self.q,
            "true_utility": self.U, "selection_pct": m["selection_pct"][0], "selection_se": m["selection_pct"][1],
            "patients_mean": m["patients_mean"][0], "patients_se": m["patients_mean"][1],
            "dlt_mean": m["dlt_mean"][0], "dlt_se": m["dlt_mean"][1],
            "responses_mean": m["responses_mean"][0], "responses_se": m["responses_mean"][1]})
        return OperatingCharacteristics(
            spec=d, table=table, provenance=make_provenance(d, self.p, self.q, n_trials, seed=int(seed)),
            method="monte-carlo", design=d.spec_name, target=self.target, p_true=tuple(self.p.tolist()),
            n_trials=int(n_trials), seed=int(seed), selection_pct=tuple(m["selection_pct"][0].tolist()),
            no_mtd_pct=scalar["no_mtd_pct"], stop_pct=scalar["no_mtd_pct"], early_stop_pct=0.0,
            pcs=scalar["pcs_obd"], patients_mean=tuple(m["patients_mean"][0].tolist()),
            dlt_mean=tuple(m["dlt_mean"][0].tolist()), n_mean=scalar["n_mean"],
            dlt_total_mean=scalar["dlt_total_mean"], overdose60_pct=scalar["overdose60_pct"],
            overdose80_pct=scalar["overdose80_pct"], se=se, extra=extra)
