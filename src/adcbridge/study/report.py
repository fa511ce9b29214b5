"""The study report: one self-contained HTML file (figures embedded), written from the run's results.

It reads as a study report: a summary up front (the start dose, the ladder, the design and the key exposure
margins, then each analysis' conclusion), one section per analysis with its figures, its tables (numbers rounded
for reading; the results files keep full precision), its conclusion and its method, and at the end the provenance
(adcbridge version, seed, SHA-256 of every input file).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import os
from pathlib import Path

__all__ = ["write_report", "render_report"]

MAX_ROWS = 40

#: report titles of the tables the analyses give (the results files keep the short names)
TABLE_TITLES = {"parameters": "Parameters", "tgi": "Tumour growth inhibition and T/C at the evaluation day (%)",
                "key_parameters": "Key NCA parameters by group (CDISC PPTESTCD; units in PPSTRESU of the PP table)",
                "power_model": "Dose proportionality (power model, Smith criterion)", "sex": "Sex comparisons",
                "ladder": "Dose ladder with projected human exposure (Cmax, AUC) and margins to the animal exposure",
                "toxicology": "Toxicology summary (doses)", "alternatives": "Start-dose alternatives",
                "decision_table": "BOIN decision table", "projection": "Human exposure projection",
                "dose_transition_pathways": "Dose-transition pathways (the first two cohorts)",
                "operating_characteristics": "Operating characteristics (% correct selection, mean patients and DLTs)"}

_METHODS = {
    "kinetics": "Global 1:1 (Langmuir) fit of the sensorgrams by nonlinear least squares (adcbridge fit kinetics).",
    "dose-response": "Log-logistic dose-response model fitted by nonlinear least squares as R drc does "
                     "(adcbridge fit dose-response); ED50 with delta-method intervals.",
    "internalization": "One-phase association fits per antibody; rates compared by extra-sum-of-squares F tests "
                       "(adcbridge fit internalization).",
    "xenograft": "Tumour growth inhibition under named definitions, tests per evaluation day and mixed-model growth "
                 "rates (adcbridge fit xenograft).",
    "nca": "Non-compartmental analysis (linear-up/log-down AUC, best-fit lambda_z), CDISC PP output (adcbridge nca).",
    "nca-stats": "Dose proportionality by the power model with the Smith et al. (2000) criterion, dose-normalised "
                 "ANOVA, and sex comparisons (adcbridge nca-stats).",
    "pk-fit": "Compartmental model fitted by maximum likelihood (adcbridge pk fit).",
    "pk-project": "Allometric scaling of the animal parameters and simulation of human exposure (adcbridge pk "
                  "project).",
    "fih": "Toxicology summary (NOAEL, HNSTD), human equivalent dose and ICH S9 start dose, dose ladder with "
           "exposure margins (adcbridge fih).",
    "design": "Dose-escalation design from the registered design specs of adcbridge.dosefinding.",
    "simulate": "Operating characteristics by Monte Carlo, designs compared on the same simulated patients "
                "(common random numbers).",
}


def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v == 0:
            return "0"
        if 1e-3 <= abs(v) < 1e6:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return html.escape(str(v))


def _table_html(df) -> str:
    import numpy as np
    if df is None or len(df) == 0:
        return ""
    shown = df.head(MAX_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (np.floating,)):
                v = float(v)
            elif isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.bool_,)):
                v = bool(v)
            cells.append(f"<td>{_num(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="more">{len(df) - MAX_ROWS:,} more rows in the results file.</p>'
            if len(df) > MAX_ROWS else "")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f'<figcaption>{html.escape(caption)}</figcaption></figure>')


def _caption(title: str, path: str) -> str:
    """A figure caption: the analysis' title and what the figure shows (from its file name)."""
    stem = Path(path).stem
    part = stem.split(".", 1)[1] if "." in stem else ("" if "/" not in path else stem)
    part = part.replace("lambda_z_", "terminal phase (lambda_z), ").replace("_", " ")
    return f"{title}: {part}" if part else title


def _key_facts(run) -> list[tuple[str, str]]:
    """The summary up front: start dose, ladder with margins, design."""
    facts = []
    for st in run.analyses:
        if st.status != "ok":
            continue
        r = st.outcome.record
        if st.kind == "fih":
            facts.append(("Start dose", f"{_num(r.get('start_dose_mg_per_kg'))} mg/kg "
                                        f"({_num(r.get('start_dose_mg'))} mg for a "
                                        f"{_num(r.get('patient_weight_kg'))} kg patient): {r.get('method')}, "
                                        f"from the {r.get('basis')} of {_num(r.get('animal_dose_mg_per_kg'))} mg/kg in "
                                        f"the {r.get('species')}"))
            ladder = r.get("ladder") or {}
            levels = ladder.get("levels") or []
            if levels:
                parts = []
                for lv in levels:
                    margin = (f" (AUC margin {_num(lv['auc_margin'])}x)" if lv.get("auc_margin") is not None else "")
                    parts.append(f"{_num(lv['dose'])}{margin}")
                facts.append(("Dose ladder", ", ".join(parts) + f" {ladder.get('dose_unit', 'mg/kg')}"))
        if st.kind == "design":
            facts.append((f"Design: {st.title}", st.outcome.conclusion))
        if st.kind == "simulate":
            facts.append((st.title, st.outcome.conclusion))
    return facts


def render_report(run, folder: Path, made: str | None = None) -> str:
    """The report of ``run`` (its output files under ``folder``) as one HTML document."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    env = Environment(loader=PackageLoader("adcbridge.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    sections = []
    for st in run.analyses:
        a = run.study.analysis(st.id)
        o = st.outcome
        figures = [_figure(folder / f, _caption(st.title, f)) for f in (o.figures if o else [])
                   if (folder / f).exists()]
        tables = [(TABLE_TITLES.get(name, name.replace("_", " ").capitalize()), _table_html(df))
                  for name, df in (o.tables.items() if o else [])]
        issues = (o.record.get("issues") or []) if o else []
        issue_text = [f"{i.get('severity', 'note')}: {i.get('message')}" if isinstance(i, dict) else str(i)
                      for i in issues]
        data = [os.path.relpath(p, run.study.folder) for p in run.study.data_paths(a)]
        sections.append({"id": st.id, "title": st.title, "kind": st.kind, "status": st.status, "error": st.error,
                         "conclusion": o.conclusion if o else "", "figures": figures,
                         "tables": [(n, t) for n, t in tables if t], "issues": issue_text, "data": data,
                         "options": a.options, "method": _METHODS.get(st.kind, ""), "files": st.files})
    template = env.get_template("study.html.j2")
    return template.render(study=run.study.file, sections=sections, facts=_key_facts(run), inputs=run.inputs,
                           version=_version(), made=made or _dt.datetime.now(_dt.UTC).strftime(
                               "%Y-%m-%d %H:%M UTC"), seed=run.study.file.seed,
                           n_ok=sum(s.status == "ok" for s in run.analyses), n_all=len(run.analyses))


def _version() -> str:
    from adcbridge import __version__
    return __version__


def write_report(run, folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(render_report(run, folder), encoding="utf-8")
    return path
