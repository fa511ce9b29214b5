"""Exports of a live trial: its patients as CSV with CDISC-like column names, its decision log as HTML and PDF for
the safety review meeting, and a consistent copy of the whole database (``adcbridge backup``)."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .models import Decision, Patient, Trial, User

__all__ = ["patients_csv", "decision_log", "decision_log_html", "decision_log_pdf", "backup", "CSV_COLUMNS",
           "LOG_COLUMNS"]

#: CDISC-like names: study, subject, cohort, dose level and dose, DLT flag (Y/N, empty while pending), dates
CSV_COLUMNS = ("STUDYID", "USUBJID", "COHORT", "DOSELVL", "DOSE", "DOSEU", "DLTFL", "EXSTDTC", "DLTASDTC")


def patients_csv(session: Session, trial: Trial) -> str:
    """The trial's patients in enrolment order as CSV (:data:`CSV_COLUMNS`)."""
    spec = json.loads(trial.design_spec)
    levels, unit = spec.get("dose_levels"), spec.get("dose_unit", "")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in session.execute(select(Patient).where(Patient.trial_id == trial.id).order_by(Patient.id)).scalars():
        writer.writerow([trial.name, p.patient, p.cohort, p.dose, "" if not levels else f"{levels[p.dose - 1]:g}",
                         unit if levels else "", "" if p.dlt is None else ("Y" if p.dlt else "N"),
                         p.dosed_on.isoformat() if p.dosed_on else "",
                         p.assessed_on.isoformat() if p.assessed_on else ""])
    return buf.getvalue()


LOG_COLUMNS = ("#", "made (UTC)", "decision", "next dose", "rule", "reason", "review", "comment", "history")


def decision_log(session: Session, trial: Trial) -> list[list[str]]:
    """The trial's decisions in order, one row of :data:`LOG_COLUMNS` each (plain text, not escaped): the rule that
    fired, its reason, the review (approved or rejected, by whom, or pending) and the reviewer's comment."""
    from .models import Event
    comments = {e.entity_id: e.reason for e in session.execute(
        select(Event).where(Event.entity == "decision", Event.action.in_(("confirm_decision", "reject_decision")))
    ).scalars()}
    rows = []
    for d in session.execute(select(Decision).where(Decision.trial_id == trial.id).order_by(Decision.id)).scalars():
        r = json.loads(d.record)
        reviewer = session.get(User, d.reviewed_by).username if d.reviewed_by else ""
        review = "pending" if d.approved is None else ("approved" if d.approved else "rejected")
        made = d.created_at.replace(tzinfo=None).isoformat(sep=" ") if d.created_at else ""
        rows.append([str(c) for c in (d.id, made, r.get("decision"), r.get("next_dose") or "-", r.get("rule"),
                                      r.get("reason"), f"{review} {reviewer}".strip(),
                                      comments.get(str(d.id)) or "", d.history_hash[:12])])
    return rows


def decision_log_html(session: Session, trial: Trial) -> str:
    """The decision log (:func:`decision_log`) as one HTML page; every text escaped."""
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in decision_log(session, trial))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in LOG_COLUMNS)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Decision log: "
            f"{html.escape(trial.name)}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem}}"
            f"table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;"
            f"text-align:left}}</style></head><body><h1>Decision log: {html.escape(trial.name)}</h1>"
            f"<p>Design {html.escape(trial.design_name)}, design hash <code>{html.escape(trial.design_hash or '')}"
            f"</code>.</p><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>")


def decision_log_pdf(session: Session, trial: Trial) -> bytes:
    """The decision log (:func:`decision_log`) as a PDF (A4 landscape), drawn by reportlab from the data (no
    browser).  Text goes into reportlab's paragraphs escaped, so markup in a trial name or a comment is shown as
    typed; the font is Bitstream Vera (shipped with reportlab); the same log gives the same bytes."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    regular, bold = _pdf_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=body, fontName=bold)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, spaceAfter=4)
    note = ParagraphStyle("note", parent=body, fontSize=9, leading=12)

    def para(text, style=body):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)
    rows = decision_log(session, trial)
    table = LongTable([[para(h, head) for h in LOG_COLUMNS]] + [[para(c) for c in row] for row in rows],
                      colWidths=[10 * mm, 28 * mm, 24 * mm, 14 * mm, 24 * mm, 70 * mm, 30 * mm, 47 * mm, 26 * mm],
                      repeatRows=1)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6"))]))
    story = [para(f"Decision log: {trial.name}", title),
             para(f"Design {trial.design_name}, design hash {trial.design_hash or '(not locked)'}; "
                  f"{len(rows)} decision{'' if len(rows) == 1 else 's'}.", note), Spacer(1, 4 * mm), table]
    if not rows:
        story.append(para("No decision has been made yet.", note))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"Decision log: {trial.name}", author="adcbridge",
                            invariant=1)
    doc.build(story)
    return buf.getvalue()


def _pdf_fonts() -> tuple[str, str]:
    """Register reportlab's bundled Bitstream Vera (regular, bold) once; their names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if "AdcVera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("AdcVera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("AdcVera-Bold", "VeraBd.ttf"))
    return "AdcVera", "AdcVera-Bold"


def backup(url: str, out: str | os.PathLike) -> Path:
    """A consistent copy of the database at ``url`` written to ``out`` all at once: SQLite's online backup API (the
    copy is itself a SQLite database), ``pg_dump`` (custom format) for PostgreSQL."""
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out}: exists; choose a new file for the backup")
    if not out.resolve().parent.is_dir():
        raise ValueError(f"{out}: the folder {out.resolve().parent} does not exist")
    parsed = make_url(url)
    from adcbridge.io.files import named_errors
    with named_errors(out):                    # an error names the backup file, not the temporary one
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.resolve().parent)
    os.close(fd)
    try:
        if parsed.get_backend_name() == "sqlite":
            if not parsed.database or not Path(parsed.database).is_file():
                raise ValueError(f"no SQLite database at {parsed.database!r}")
            src, dst = sqlite3.connect(parsed.database), sqlite3.connect(tmp)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        elif parsed.get_backend_name() == "postgresql":
            if shutil.which("pg_dump") is None:
                raise ValueError("pg_dump is not installed (Debian: postgresql-client)")
            # the password goes by the environment, never on the command line (where the process list shows it)
            plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
            env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
            done = subprocess.run(["pg_dump", "--format=custom", "--file", tmp, plain], capture_output=True,
                                  text=True, env=env)
            if done.returncode != 0:
                raise ValueError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        else:
            raise ValueError(f"cannot back up a {parsed.get_backend_name()} database")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
