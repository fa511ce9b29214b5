"""``adcbridge init``: a template study, copied from the bundled example, written all at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from adcbridge.io.files import PreviousOutput, check_previous_output

__all__ = ["template_output", "write_template"]


def template_output(source: Path) -> PreviousOutput:
    """What ``adcbridge init`` writes (the study folder ``source``): study.yaml, README.md and data/, its README.md
    starting with the title of ``source``'s -- so that ``force`` replaces a previous template and nothing else
    (:func:`adcbridge.io.files.check_previous_output`)."""
    source = Path(source)

    def title(path: Path) -> str | None:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.readline().strip()
        except (OSError, UnicodeDecodeError):
            return None

    def problem(folder: Path) -> str | None:
        if not (folder / "study.yaml").is_file() or title(folder / "README.md") != title(source / "README.md"):
            return "has no study.yaml and README.md of the template study"
        return None
    return PreviousOutput("adcbridge init", files=("study.yaml", "README.md"), folders=("data",), check=problem)


def _check_folder(folder: Path, force: bool, previous: PreviousOutput) -> None:
    if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
        raise ValueError(f"{folder}: exists and is not a folder")
    check_previous_output(folder, force, previous)     # with force: empty, or a previous template (not a link)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ValueError(f"{folder}: the folder is not empty; give --force to replace it")


def write_template(source: Path, folder: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the study folder ``source`` (study.yaml, README.md, data/) to ``folder``; the folder is built beside
    its place and renamed, so it is complete or absent.  An existing non-empty folder needs ``force``, and is
    replaced only when it is a previous template (:func:`template_output`), checked before the copy and again
    just before the folder is replaced; else a ValueError naming it, and the folder is left as it was."""
    folder = Path(folder)
    previous = template_output(source)
    _check_folder(folder, force, previous)
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ValueError(f"{folder}: the folder {parent} does not exist")
    from adcbridge.io.files import named_errors, probe_output_folder
    probe_output_folder(folder)                # /proc, a read-only mount: said in words, naming the folder
    with named_errors(folder):                 # an error names the folder, not the staging one
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        target = staging / "study"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        mask = os.umask(0)
        os.umask(mask)
        for p in [target, *target.rglob("*")]:
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)
        written = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
        if folder.exists() or folder.is_symlink():
            _check_folder(folder, force, previous)         # again: it may have changed during the copy
            os.replace(folder, staging / "previous")       # aside, removed with the staging folder
        try:
            os.replace(target, folder)
        except BaseException:
            if (staging / "previous").exists() or (staging / "previous").is_symlink():
                os.replace(staging / "previous", folder)   # put the old folder back
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / p for p in written]
