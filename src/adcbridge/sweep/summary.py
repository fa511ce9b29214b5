"""The HTML summary of a sweep: per scenario, the selection percentages by dose and design (a figure), and the
trial-level operating characteristics with their Monte Carlo standard errors (a table)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

__all__ = ["summary_html"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>adcbridge sweep</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}figure{margin:0}.meta{color:#555}
</style></head><body>
<h1>Simulation sweep</h1>
<p class="meta">{{ n_cells }} cells ({{ n_designs }} designs x {{ n_scenarios }} scenarios{% if sizes %} x
{{ sizes|length }} sample sizes{% endif %}), {{ "{:,}".format(trials) }} trials per cell, seed {{ seed }};
run {{ runner }}; adcbridge {{ version }}.  Monte Carlo standard errors in brackets.  Designs in the same scenario
and sample size ran on the same seeds (common random numbers).</p>
{% for s in scenarios %}
<h2>Scenario {{ s.name }}</h2>
<p class="meta">True DLT probabilities: {{ s.p_true }}</p>
<figure>{{ s.figure|safe }}</figure>
<table><tr>{% for c in s.columns %}<th{% if loop.index <= 2 %} class="l"{% endif %}>{{ c }}</th>{% endfor %}</tr>
{% for row in s.rows %}<tr>
{%- for v in row %}<td{% if loop.index <= 2 %} class="l"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}
</body></html>
"""

_SUMMARIES = [("pcs", "PCS %"), ("no_mtd_pct", "no MTD %"), ("stop_pct", "safety stop %"), ("n_mean", "mean N"),
              ("dlt_total_mean", "mean DLTs"), ("duration_mean", "mean duration")]


def _fmt(value, se) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    text = f"{value:.2f}"
    if se is not None and np.isfinite(se):
        text += f" ({se:.2f})"
    return text


def _figure(rows: pd.DataFrame) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = rows.assign(_size=rows["n_cohorts"].astype(object).where(rows["n_cohorts"].notna(), None))
    groups = list(dict.fromkeys(zip(rows["design"], rows["_size"])))
    doses = list(dict.fromkeys(rows["dose"]))
    fig, ax = plt.subplots(figsize=(min(11, 2 + 0.5 * len(doses) * max(1, len(groups)) ** 0.5), 3.2))
    width = 0.8 / max(1, len(groups))
    x = np.arange(len(doses))
    for k, (design, size) in enumerate(groups):
        sub = rows[(rows["design"] == design) & rows["_size"].map(lambda v, s=size: v == s)].set_index("dose")
        label = design if size is None else f"{design}, {size} cohorts"
        ax.bar(x + (k - (len(groups) - 1) / 2) * width, sub.loc[doses, "selection_pct"], width,
               yerr=1.96 * sub.loc[doses, "selection_pct_se"] if "selection_pct_se" in sub else None, label=label)
    ax.set_xticks(x, doses, rotation=0 if len(doses) <= 12 else 90)
    ax.set_xlabel("dose level")
    ax.set_ylabel("selected as MTD (%)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def summary_html(result, table: pd.DataFrame) -> str:
    """The summary page of ``result`` (a :class:`~.run.SweepResult`) with its results ``table``."""
    from jinja2 import Environment

    from adcbridge import __version__
    sweep = result.sweep
    scenarios = []
    for s in sweep.scenarios:
        rows = table[table["scenario"] == s.name]
        cells = rows.drop_duplicates(["design", "n_cohorts"])
        present = [(k, title) for k, title in _SUMMARIES if k in rows and rows[k].notna().any()]
        columns = ["design", "cohorts"] + [title for _, title in present]
        body = []
        for _, r in cells.iterrows():
            body.append([r["design"], "-" if pd.isna(r["n_cohorts"]) else int(r["n_cohorts"])]
                        + [_fmt(r[k], r.get(f"{k}_se")) for k, _ in present])
        scenarios.append({"name": s.name, "p_true": s.p_true, "figure": _figure(rows), "columns": columns,
                          "rows": body})
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        n_cells=len(result.cells), n_designs=len(sweep.designs), n_scenarios=len(sweep.scenarios),
        sizes=sweep.sample_sizes, trials=sweep.trials, seed=sweep.seed, runner=result.runner,
        version=__version__, scenarios=scenarios)
