"""Exports of a live trial: its patients as CSV with CDISC-like column names, its decision log as HTML for the
safety review meeting, and a consistent copy of the whole database (``adcbridge backup``)."""

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

__all__ = ["patients_csv", "decision_log_html", "backup", "CSV_COLUMNS"]

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


def decision_log_html(session: Session, trial: Trial) -> str:
    """The trial's decisions in order, with the rule, its reason and the review, as one HTML page (text escaped)."""
    rows = []
    for d in session.execute(select(Decision).where(Decision.trial_id == trial.id).order_by(Decision.id)).scalars():
        r = json.loads(d.record)
        reviewer = session.get(User, d.reviewed_by).username if d.reviewed_by else ""
        review = "pending" if d.approved is None else ("approved" if d.approved else "rejected")
        cells = [d.id, d.created_at.isoformat() if d.created_at else "", r.get("decision"), r.get("next_dose") or "-",
                 r.get("rule"), r.get("reason"), f"{review} {reviewer}".strip(), d.history_hash[:12]]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("decision", "made", "decision", "next dose", "rule", "reason", "review",
                                              "history"))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Decision log: "
            f"{html.escape(trial.name)}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem}}"
            f"table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;"
            f"text-align:left}}</style></head><body><h1>Decision log: {html.escape(trial.name)}</h1>"
            f"<p>Design {html.escape(trial.design_name)}, design hash <code>{html.escape(trial.design_hash or '')}"
            f"</code>.</p><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>")


def backup(url: str, out: str | os.PathLike) -> Path:
    """A consistent copy of the database at ``url`` written to ``out`` all at once: SQLite's online backup API (the
    copy is itself a SQLite database), ``pg_dump`` (custom format) for PostgreSQL."""
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out}: exists; choose a new file for the backup")
    if not out.resolve().parent.is_dir():
        raise ValueError(f"{out}: the folder {out.resolve().parent} does not exist")
    parsed = make_url(url)
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
