"""The validation report of ``adcbridge validate``: ``validation.json`` (every check, the environment, the bundled
reference files with their SHA-256) and a self-contained ``validation.html`` (summary first, then a table per
area), written into a folder all at once: built in a temporary folder beside it and renamed, so the folder is
either absent, the previous one, or complete.  An existing folder is replaced only with ``force``, and then only
when it is empty or a previous report (:data:`VALIDATION_OUTPUT`)."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from adcbridge.io.files import PreviousOutput, check_before_replace, check_new_folder

__all__ = ["VALIDATION_OUTPUT", "check_output_folder", "environment", "render_html", "report_record", "write_report"]

TITLE = "adcbridge installation and operational qualification"
JSON_NAME, HTML_NAME = "validation.json", "validation.html"


def _validation_output_problem(folder: Path) -> str | None:
    """None when ``folder`` holds the validation.json of a report of ``adcbridge validate``; else why not."""
    try:
        record = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        record = None
    if not (isinstance(record, dict) and record.get("command") == "adcbridge validate"
            and {"result", "checks", "environment"} <= set(record)):
        return f"has no {JSON_NAME} of a validation report"
    return None


#: What ``adcbridge validate`` (:func:`write_report`) writes into its output folder, so that ``force`` replaces a
#: previous report and nothing else (:func:`adcbridge.io.files.check_previous_output`).
VALIDATION_OUTPUT = PreviousOutput("adcbridge validate", files=(JSON_NAME, HTML_NAME),
                                   check=_validation_output_problem)


# ------------------------------------------------------------------------------------------------ record
def _version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment(now: datetime | None = None) -> dict:
    """Where the checks ran: adcbridge (version, location), Python, the versions of numpy, scipy, pandas and every
    other runtime dependency, the platform and the date."""
    from importlib import metadata

    import adcbridge
    now = now or datetime.now(UTC)
    deps = {}
    try:
        for req in metadata.requires("adcbridge") or []:
            if "extra ==" in req:
                continue
            name = re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0]
            deps[name] = _version(name)
    except metadata.PackageNotFoundError:           # running from a source tree that is not installed
        pass
    return {
        "adcbridge": adcbridge.__version__,
        "adcbridge_location": str(Path(adcbridge.__file__).resolve().parent),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "python_executable": sys.executable,
        "numpy": _version("numpy"), "scipy": _version("scipy"), "pandas": _version("pandas"),
        "dependencies": deps,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "date": now.date().isoformat(),
        "datetime_utc": now.isoformat(timespec="seconds"),
        "datetime_local": now.astimezone().isoformat(timespec="seconds"),
    }


def report_record(run, now: datetime | None = None) -> dict:
    """The report as one strict-JSON-ready dict; ``run`` is a :class:`~.checks.QualificationRun`."""
    from .checks import reference_files
    env = environment(now)
    files = reference_files()
    failed = [c.id for c in run.checks if not c.passed]
    return {
        "title": TITLE,
        "command": "adcbridge validate",
        "adcbridge_version": env["adcbridge"],
        "date": env["date"],
        "datetime_utc": env["datetime_utc"],
        "result": "PASS" if run.passed else "FAIL",
        "passed": run.passed,
        "checks_total": len(run.checks),
        "checks_passed": run.n_passed,
        "checks_failed": len(failed),
        "failed_checks": failed,
        "seconds": run.seconds,
        "environment": env,
        "areas": run.areas,
        "checks": [c.to_record() for c in run.checks],
        "reference_data": {"location": "adcbridge/qualification/reference (provenance: SOURCES.md there)",
                           "total_bytes": sum(f["bytes"] for f in files), "files": files},
    }


# ------------------------------------------------------------------------------------------------- HTML
def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def _dev(v) -> str:
    return "" if v is None else f"{v:.3g}"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ r.title }} -- adcbridge {{ r.adcbridge_version }}, {{ r.date }}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 90em;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.verdict { font-size: 1.3em; padding: 0.6em 1em; border-radius: 4px; margin: 1em 0; }
.verdict.pass { background: #e3f4e3; border: 1px solid #3a913a; }
.verdict.fail { background: #fbe4e4; border: 1px solid #c33; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.45em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { font-family: Menlo, Consolas, monospace; }
td.val { font-family: Menlo, Consolas, monospace; word-break: break-word; max-width: 16em; }
td.id { overflow-wrap: anywhere; min-width: 9em; max-width: 18em; }
tr.fail td { background: #fbe4e4; }
td.result { font-weight: bold; white-space: nowrap; }
tr.pass td.result { color: #2a7a2a; }
tr.fail td.result { color: #b00; }
.small { font-size: 0.85em; color: #555; }
table.env { width: auto; }
code { font-size: 0.95em; }
@media print { tr { page-break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{ r.title }}</h1>
<p class="small">adcbridge {{ r.adcbridge_version }} &middot; {{ r.datetime_utc }} (UTC) &middot;
{{ r.environment.host }} &middot; {{ r.seconds }} s</p>

<div class="verdict {{ 'pass' if r.passed else 'fail' }}" id="verdict">
<strong>{{ r.result }}</strong>: {{ r.checks_passed }} of {{ r.checks_total }} checks passed
{%- if r.checks_failed %} ({{ r.checks_failed }} failed){% endif %}.
</div>

{% if r.checks_failed %}
<h2>Failed checks</h2>
<ul id="failed">
{% for c in r.checks if not c.passed %}
<li class="fail"><a href="#check-{{ c.id }}"><code>{{ c.id }}</code></a>: {{ c.what }}
{%- if c.error %} -- error: {{ c.error }}{% else %} -- worst: {{ c.quantity }} observed {{ num(c.observed) }},
expected {{ num(c.expected) }} (allowed: {{ c.allowed }}){% endif %}</li>
{% endfor %}
</ul>
{% endif %}

<h2>Summary by area</h2>
<table id="summary">
<tr><th>area</th><th>what is checked</th><th>passed</th><th>time (s)</th><th>result</th></tr>
{% for a in r.areas %}
<tr class="{{ 'pass' if a.passed == a.checks else 'fail' }}">
<td><a href="#area-{{ a.area }}"><code>{{ a.area }}</code></a></td><td>{{ a.title }}</td>
<td class="num">{{ a.passed }} / {{ a.checks }}</td><td class="num">{{ a.seconds }}</td>
<td class="result">{{ 'PASS' if a.passed == a.checks else 'FAIL' }}</td></tr>
{% endfor %}
</table>

<h2>Environment</h2>
<table class="env" id="environment">
{% for k in ['adcbridge', 'adcbridge_location', 'python', 'python_executable', 'numpy', 'scipy', 'pandas',
             'platform', 'machine', 'host', 'cpu_count', 'date', 'datetime_utc', 'datetime_local'] %}
<tr><th>{{ k }}</th><td class="num">{{ r.environment[k] }}</td></tr>
{% endfor %}
<tr><th>dependencies</th><td class="val">{% for k, v in r.environment.dependencies.items() %}{{ k }} {{ v }}\
{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
</table>

<h2>How to read the tables</h2>
<p class="small">Each row is one reference case re-run on this installation. <em>Compared</em> counts the values
compared; <em>worst</em> is the compared value farthest from its reference relative to what its tolerance allows
(<em>ratio</em> = deviation / allowed deviation; a check passes when every compared value has ratio &le; 1).
Deviation is absolute and, where the reference is not 0, relative. Sources are the reference tools and versions
recorded in the reference data; the bundled files and their provenance are listed at the end and in
<code>adcbridge/qualification/reference/SOURCES.md</code>.</p>

{% for a in r.areas %}
<h2 id="area-{{ a.area }}">{{ a.title }} &mdash; {{ a.passed }} of {{ a.checks }} passed</h2>
{% if a.warnings %}<p class="small">Warnings raised while the checks ran: {{ a.warnings | join('; ') }}</p>{% endif %}
<table class="checks">
<tr><th>check</th><th>what is compared</th><th>source and case</th><th>tolerance</th><th>compared</th>
<th>worst quantity</th><th>observed</th><th>expected</th><th>deviation (abs / rel)</th><th>ratio</th>\
<th>result</th></tr>
{% for c in by_area[a.area] %}
<tr class="{{ 'pass' if c.passed else 'fail' }}" id="check-{{ c.id }}">
<td class="id"><code>{{ c.id }}</code></td><td>{{ c.what }}</td>
<td>{{ c.source }}<br><span class="small">{{ c.case }}\
{% if c.reference_file %} [{{ c.reference_file }}]{% endif %}</span></td>
<td>{{ c.tolerance }}{% if c.allowed and c.allowed != c.tolerance %}\
<br><span class="small">worst: {{ c.allowed }}</span>{% endif %}</td>
<td class="num">{{ c.compared }}</td>
<td>{{ c.quantity or '' }}{% if c.error %}<br><strong>error:</strong> {{ c.error }}{% endif %}
{%- if c.failed_quantities %}<br><strong>outside tolerance:</strong> {{ c.failed_quantities | join(', ') }}\
{% endif %}</td>
<td class="val">{{ num(c.observed) }}</td><td class="val">{{ num(c.expected) }}</td>
<td class="num">{{ dev(c.deviation) }}\
{% if c.relative_deviation is not none %} / {{ dev(c.relative_deviation) }}{% endif %}</td>
<td class="num">{{ dev(c.ratio) }}</td>
<td class="result">{{ 'PASS' if c.passed else 'FAIL' }}</td></tr>
{% endfor %}
</table>
{% endfor %}

<h2>Bundled reference data</h2>
<p class="small">{{ r.reference_data.files | length }} files, {{ r.reference_data.total_bytes }} bytes, in
{{ r.reference_data.location }}.</p>
<table id="reference-files">
<tr><th>file</th><th>bytes</th><th>SHA-256</th></tr>
{% for f in r.reference_data.files %}
<tr><td><code>{{ f.file }}</code></td><td class="num">{{ f.bytes }}</td><td class="num">{{ f.sha256 }}</td></tr>
{% endfor %}
</table>
<p class="small">Exit status of <code>adcbridge validate</code>: 0 when every check passed, 1 when any failed, 2 for
bad arguments.</p>
</body>
</html>
"""


def render_html(record: dict) -> str:
    """The self-contained HTML report of a :func:`report_record`."""
    import jinja2
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    by_area: dict[str, list] = {a["area"]: [] for a in record["areas"]}
    for c in record["checks"]:
        by_area.setdefault(c["area"], []).append(c)
    return env.from_string(_TEMPLATE).render(r=record, by_area=by_area, num=_num, dev=_dev)


# ---------------------------------------------------------------------------------------- output folder
def check_output_folder(out: str | Path, force: bool) -> None:
    """Refuse an existing ``out`` without ``force`` (and a file in its place, the working or home folder, or a
    parent that cannot hold it), and with ``force`` one that is neither empty nor a previous report
    (:data:`VALIDATION_OUTPUT`): :func:`adcbridge.io.files.check_new_folder`."""
    check_new_folder(out, force, previous=VALIDATION_OUTPUT)


def write_report(run, out: str | Path, force: bool = False, now: datetime | None = None) -> Path:
    """Write ``validation.json`` and ``validation.html`` of ``run`` into the folder ``out`` atomically (built in a
    temporary folder beside it, then renamed; an existing folder is replaced only with ``force``, and only when it
    is empty or a previous report, checked first and again just before it is replaced: else a ValueError naming
    it, and the folder is left as it was).  Returns the path of the HTML report."""
    out = Path(out)
    check_output_folder(out, force)
    record = report_record(run, now)
    text = json.dumps(record, indent=1, allow_nan=False)
    html = render_html(record)
    parent = out.resolve().parent
    from adcbridge.io.files import named_errors
    with named_errors(out):                    # an error names the report folder, not the staging one
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        (staging / JSON_NAME).write_text(text + "\n", encoding="utf-8")
        (staging / HTML_NAME).write_text(html, encoding="utf-8")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)          # mkdtemp makes it private; the report folder is an ordinary one
        check_before_replace(out, force, VALIDATION_OUTPUT)     # again: it may have changed meanwhile
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out / HTML_NAME


def _swap_in(staging: Path, out: Path) -> None:
    """Rename ``staging`` to ``out``; an existing ``out`` is first moved aside (then removed), so ``out`` is always
    either the old folder or the new one."""
    aside = None
    if out.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.resolve().parent))
        os.replace(out, aside / "previous")
    try:
        os.replace(staging, out)
    except BaseException:
        if aside is not None:                     # put the old folder back
            os.replace(aside / "previous", out)
            shutil.rmtree(aside, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
