"""``adcbridge init``: a template study, copied from the bundled example, written all at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["write_template"]


def write_template(source: Path, folder: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the study folder ``source`` (study.yaml, README.md, data/) to ``folder``; the folder is built beside
    its place and renamed, so it is complete or absent.  An existing non-empty folder needs ``force``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ValueError(f"{folder}: the folder is not empty; give --force to replace it")
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ValueError(f"{folder}: the folder {parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        target = staging / "study"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        mask = os.umask(0)
        os.umask(mask)
        for p in [target, *target.rglob("*")]:
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)
        written = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(target, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / p for p in written]
