"""Protocol tables: the BOIN decision table and operating-characteristic summaries as Markdown and HTML."""

from __future__ import annotations

import jinja2
import numpy as np
import pandas as pd

from adcbridge.dosefinding import BoinBoundaries, OperatingCharacteristics

__all__ = ["decision_table_markdown", "decision_table_html", "frame_to_markdown", "oc_summary_table",
           "decision_table_rows"]

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("adcbridge.report", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "NA"
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def frame_to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows]) + "\n"


def decision_table_rows(result: BoinBoundaries, per_cohort: bool = False) -> pd.DataFrame:
    """The decision table transposed as protocols print it: one column per number of patients."""
    t = result.cohort_table() if per_cohort else result.table
    rows = {
        "Number of patients treated at the current dose": t["n"].tolist(),
        "Escalate if number of DLTs <=": t["escalate_if_dlt_le"].tolist(),
        "De-escalate if number of DLTs >=": t["deescalate_if_dlt_ge"].tolist(),
        "Eliminate the dose if number of DLTs >=": t["eliminate_if_dlt_ge"].tolist(),
    }
    if "stop_trial_if_dlt_ge" in t.columns:
        rows["Stop the trial (lowest dose) if number of DLTs >="] = t["stop_trial_if_dlt_ge"].tolist()
    return pd.DataFrame({k: [_cell(v) for v in vals] for k, vals in rows.items()}).T.reset_index()


def decision_table_markdown(result: BoinBoundaries, per_cohort: bool = False) -> str:
    d = result.spec
    wide = decision_table_rows(result, per_cohort)
    header = ["Rule"] + wide.iloc[0, 1:].tolist()
    body = wide.iloc[1:].to_numpy().tolist()
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in body]
    note = (f"\nBOIN, target DLT rate {d.target:g}: lambda_e = {result.lambda_e:.4f}, lambda_d = "
            f"{result.lambda_d:.4f}; elimination when Pr(DLT rate > {d.target:g}) > {d.cutoff_eli:g} "
            f"(NA: elimination not possible with so few patients).\n")
    return "\n".join(lines) + "\n" + note


def decision_table_html(result: BoinBoundaries, per_cohort: bool = False) -> str:
    d = result.spec
    wide = decision_table_rows(result, per_cohort)
    return _ENV.get_template("decision_table.html.j2").render(
        design=d, lambda_e=result.lambda_e, lambda_d=result.lambda_d,
        header=wide.iloc[0, 1:].tolist(), rows=wide.iloc[1:].to_numpy().tolist())


def oc_summary_table(results: list[OperatingCharacteristics], names: list[str] | None = None) -> pd.DataFrame:
    """One row per result: selection % per dose, no MTD %, PCS, mean N, overdosing."""
    rows = []
    for k, oc in enumerate(results):
        row = {"scenario": names[k] if names else oc.design}
        for j, v in enumerate(oc.selection_pct, start=1):
            row[f"sel_{j}"] = round(v, 1)
        row.update({"no_mtd_%": round(oc.no_mtd_pct, 1), "pcs_%": round(oc.pcs, 1),
                    "n_mean": round(oc.n_mean, 1), "dlt_mean": round(oc.dlt_total_mean, 2),
                    "overdose60_%": round(oc.overdose60_pct, 1)})
        rows.append(row)
    return pd.DataFrame(rows)
