"""Running a study: every analysis in dependency order, into one output folder written atomically.

``run_study(study, out)`` runs the analyses of a validated :class:`~.schema.Study` (:func:`~.schema.load_study`)
in dependency order.  A failing analysis is recorded with its error, the analyses that depend on it are
``skipped``, the others go on.  The output folder::

    DIR/report.html              one self-contained file (figures embedded)
    DIR/summary.json             {"study": .., "analyses": {"<id>": {"kind", "status", "error", "record"}}}
    DIR/results/<id>.json        {"id", "kind", "title", "status", "error", "conclusion", "record"}
    DIR/results/<id>.csv         the analysis' main table (NCA: the CDISC PP table)
    DIR/results/<id>.<name>.csv  its other tables (ids hold no '.': no two analyses' files share a name)
    DIR/figures/<id>[.<name>].png/.svg  its figures

is written into a temporary folder beside ``DIR`` and renamed at the end, so ``DIR`` is never half-written; an
existing ``DIR`` is replaced only with ``force``, and then only when it is empty or a previous run's output
(:data:`RUN_OUTPUT`), checked before any work and again just before the rename.  The results files hold no time
stamp, so running the same study again on the same data gives byte-identical results files (the report states
when it was made).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from adcbridge import __version__
from adcbridge.io.files import PreviousOutput

from .kinds import KINDS, AnalysisError, Outcome, RunContext, run_analysis
from .schema import Study

__all__ = ["run_study", "StudyRun", "AnalysisStatus", "RUN_OUTPUT", "check_output_folder"]


@dataclass
class AnalysisStatus:
    id: str
    kind: str
    title: str
    status: str                         # ok, error, skipped
    error: str | None = None
    outcome: Outcome | None = None
    files: list[str] = field(default_factory=list)


@dataclass
class StudyRun:
    """A study that ran: the statuses in run order and where the output went."""

    study: Study
    out: Path
    analyses: list[AnalysisStatus]
    inputs: dict[str, str]              # data file (relative to the study file) -> SHA-256

    @property
    def ok(self) -> bool:
        return all(a.status == "ok" for a in self.analyses)

    def summary(self) -> dict:
        return {"study": self.study.file.name, "adcbridge": __version__, "seed": self.study.file.seed,
                "inputs": self.inputs,
                "analyses": {a.id: {"kind": a.kind, "status": a.status, "error": a.error,
                                    "record": a.outcome.record if a.outcome else None} for a in self.analyses}}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_without_time(obj):
    """``obj`` without the wall-clock ``created`` stamps of provenance records (results must not change from run
    to run; the report states when it was made)."""
    if isinstance(obj, dict):
        return {k: _record_without_time(v) for k, v in obj.items() if k not in ("created", "timestamp")}
    if isinstance(obj, list):
        return [_record_without_time(v) for v in obj]
    return obj


def _json(obj) -> str:
    return json.dumps(obj, indent=2, allow_nan=False, sort_keys=False, default=str) + "\n"


def input_files(study: Study) -> list[Path]:
    """Every file the study reads: the study file, the data files and the file options."""
    files = [study.path]
    for a in study.file.analyses:
        files += study.data_paths(a)
        files += [study.folder / str(v) for v in a.options.values()
                  if isinstance(v, str) and (study.folder / str(v)).is_file()]
    return files


def _inputs(study: Study) -> dict[str, str]:
    """SHA-256 of every input file, named as the study file names it (relative to its folder)."""
    return dict(sorted((os.path.relpath(p, study.folder), _sha256(p)) for p in input_files(study)))


def _run_output_problem(folder: Path) -> str | None:
    """None when ``folder`` holds the summary.json of a study run and, in results/ and figures/, only files named
    after its analyses; else why not (see :data:`RUN_OUTPUT`)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        summary = None
    if not (isinstance(summary, dict) and {"study", "adcbridge", "analyses"} <= set(summary)
            and isinstance(summary["analyses"], dict)):
        return "has no summary.json of a study run"
    ids = set(summary["analyses"])
    for sub in ("results", "figures"):
        if not (folder / sub).is_dir():
            continue
        try:
            names = sorted(p.name for p in (folder / sub).iterdir())
        except OSError as exc:
            return f"has a {sub}/ that cannot be listed ({exc.strerror or exc})"
        others = [n for n in names if n.split(".")[0] not in ids]       # ids hold no '.'
        if others:
            return f"holds {sub}/{others[0]}, which is not a file of the analyses in its summary.json"
    return None


#: What a study run (``adcbridge run`` and ``demo``, :func:`run_study`) writes into its output folder, so that
#: ``force`` replaces a previous run's output and nothing else (:func:`adcbridge.io.files.check_previous_output`).
RUN_OUTPUT = PreviousOutput("adcbridge run or demo", files=("report.html", "summary.json"),
                            folders=("results", "figures"), check=_run_output_problem)


def check_output_folder(out: Path, force: bool, study: Study | None = None) -> None:
    """Refuse an existing output folder without ``force``, a place that cannot hold one, and -- with ``force``
    too -- a folder that holds the study's own inputs or the working folder, or that is neither empty nor a
    previous run's output (:data:`RUN_OUTPUT`; :func:`adcbridge.io.files.check_new_folder`)."""
    from adcbridge.io.files import check_new_folder
    check_new_folder(out, force, keep=input_files(study) if study is not None else (), previous=RUN_OUTPUT)


def run_study(study: Study, out: str | Path, *, force: bool = False, progress=None) -> StudyRun:
    """Run ``study`` into the folder ``out`` (see the module docstring); ``progress(i, n, analysis_id, status)`` is
    called after each analysis.  With ``force`` an existing ``out`` is replaced only when it is empty or a previous
    run's output (:data:`RUN_OUTPUT`), checked before any work and again just before it is replaced; else a
    ValueError naming it, and ``out`` is left as it was."""
    from adcbridge.io.files import output_folder
    out = Path(out)
    with output_folder(out, force, keep=input_files(study), previous=RUN_OUTPUT) as staging:
        run = _run_into(study, staging, progress)
        _write(run, staging)
    run.out = out
    return run


def _run_into(study: Study, staging: Path, progress) -> StudyRun:
    (staging / "results").mkdir()
    (staging / "figures").mkdir()
    ctx = RunContext(study=study, out=staging, outcomes={}, seed=study.file.seed)
    statuses: list[AnalysisStatus] = []
    failed: set[str] = set()
    for i, analysis_id in enumerate(study.order, start=1):
        a = study.analysis(analysis_id)
        title = a.title or KINDS[a.kind].title
        blocked = [d for d in study.dependencies(a) if d in failed]
        if blocked:
            st = AnalysisStatus(a.id, a.kind, title, "skipped",
                                error=f"depends on {', '.join(blocked)}, which did not run")
            failed.add(a.id)
        else:
            try:
                outcome = run_analysis(a, ctx)
                outcome.record = _record_without_time(outcome.record)
                ctx.outcomes[a.id] = outcome
                st = AnalysisStatus(a.id, a.kind, title, "ok", outcome=outcome)
            except AnalysisError as exc:
                st = AnalysisStatus(a.id, a.kind, title, "error", error=_relative_text(str(exc), staging))
                failed.add(a.id)
            except ValueError as exc:            # a library check the command line would also have made
                st = AnalysisStatus(a.id, a.kind, title, "error",
                                    error=_relative_text(str(exc).splitlines()[0], staging))
                failed.add(a.id)
            except Exception as exc:  # noqa: BLE001 - a bug in one analysis must not stop the others
                st = AnalysisStatus(a.id, a.kind, title, "error",
                                    error=f"internal error ({type(exc).__name__}: {exc}); please report it")
                failed.add(a.id)
        statuses.append(st)
        if progress is not None:
            progress(i, len(study.order), a.id, st.status)
    return StudyRun(study=study, out=staging, analyses=statuses, inputs=_inputs(study))


def _relative_text(text: str, staging: Path) -> str:
    """An error message without the temporary folder's path (results name the output folder's own files)."""
    return text.replace(str(staging) + os.sep, "").replace(str(staging.resolve()) + os.sep, "")


def _write(run: StudyRun, staging: Path) -> None:
    from adcbridge.io.table_writer import write_frames
    for st in run.analyses:
        o = st.outcome
        files = [f"results/{st.id}.json"]
        if o is not None:
            files += o.files
            names = list(o.tables)
            for k, name in enumerate(names):
                table = o.tables[name]
                if table is None or len(table) == 0:
                    continue
                main = staging / "results" / f"{st.id}.csv"
                # a table of its own under the analysis' id: ids hold no '.', so no two analyses share a name
                target = main if k == 0 and not main.exists() else staging / "results" / f"{st.id}.{name}.csv"
                write_frames(target, [_flat(table)])
                files.append(str(target.relative_to(staging)))
        body = {"id": st.id, "kind": st.kind, "title": st.title, "status": st.status, "error": st.error,
                "conclusion": o.conclusion if o else None, "record": o.record if o else None}
        (staging / "results" / f"{st.id}.json").write_text(_json(body))
        st.files = sorted(set(files))
    (staging / "summary.json").write_text(_json(run.summary()))
    from .report import write_report
    write_report(run, staging)


def _flat(table):
    """``table`` with nested cells (objects, lists) as JSON text, so that it is a plain CSV table."""
    nested = [c for c in table.columns if table[c].dtype == object
              and table[c].map(lambda v: isinstance(v, (dict, list, tuple))).any()]
    if not nested:
        return table
    return table.assign(**{c: table[c].map(lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list, tuple))
                                           else v) for c in nested})

