"""Plots of the translation step: predicted human concentration-time profiles at candidate doses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from adcbridge.translation.projection import HumanPkProjection  # noqa: E402

__all__ = ["plot_human_projection"]


def plot_human_projection(projection: HumanPkProjection, doses, *, days: float | None = None, log_y: bool = True,
                          animal_cmax: float | None = None):
    """Predicted human concentrations (ug/mL) over time for each dose (mg/kg), one line per dose
    (``gid="profile"``), over the projection's schedule (``n_doses`` every ``tau_day``) and ``days`` (default: the
    whole schedule).  ``animal_cmax`` (the animal Cmax at the HNSTD) is drawn as a dashed line (``"animal_cmax"``).
    The title gives the model, exponents and the human half-lives.  On the log axis (``log_y``) zero
    concentrations (before the first dose, below the floor) are left out (masked, the line breaks).  Returns the
    Figure."""
    s = projection.spec
    end = s.tau_day * s.n_doses if days is None else float(days)
    t = np.linspace(0.0, end, 1200)
    prof = projection.profiles(doses, t)
    fig, ax = plt.subplots(figsize=(7.5, 4.6), constrained_layout=True)
    for i, (dose, sub) in enumerate(prof.groupby("dose", sort=False)):
        conc = sub["conc"].to_numpy(float)
        ax.plot(sub["time_day"], np.where(conc > 0, conc, np.nan) if log_y else conc, "-", color=f"C{i % 10}", lw=1.5,
                gid="profile", label=f"{dose:g} mg/kg")
    if animal_cmax is not None:
        ax.axhline(animal_cmax, color="0.3", ls="--", lw=1, gid="animal_cmax")
        ax.annotate("animal Cmax at the HNSTD", (end, animal_cmax), xytext=(-4, 3), textcoords="offset points",
                    ha="right", fontsize=8, color="0.3")
    if log_y:
        ax.set_yscale("log")
        positive = prof["conc"][prof["conc"] > 0]
        if len(positive):
            ax.set_ylim(bottom=max(float(positive.min()), float(positive.max()) * 1e-4))
    ax.set_xlabel("Time (day)")
    ax.set_ylabel("Concentration (ug/mL)")
    ax.grid(True, lw=0.3, alpha=0.5)
    ax.legend(fontsize=8, title="dose", title_fontsize=8)
    cl = projection.table.set_index("name")["exponent"]
    hl = projection.half_lives or {}
    half = ", ".join(f"{k.replace('t_half_', 't½ ')} {v / 24:.3g} d" for k, v in hl.items()
                     if k != "t_half_terminal" or len(hl) == 1)
    ax.set_title(f"Predicted human profiles: {s.model} from {s.species} ({s.human_weight_kg:g} kg; exponents "
                 f"{', '.join(f'{n} {b:g}' for n, b in cl.items())})\n{half}", fontsize=9)
    return fig
