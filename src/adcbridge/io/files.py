"""Atomic file writing."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

__all__ = ["write_text", "write_bytes", "write_json", "write_table", "write_csv_chunks"]


@contextmanager
def _atomic(path: str | os.PathLike, mode: str):
    """Open a temporary file next to ``path``; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""})) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating the parent folder)."""
    with _atomic(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def write_table(path: str | os.PathLike, table: pd.DataFrame) -> Path:
    """Write a table as CSV (``.csv``) or JSON records (``.json``)."""
    path = Path(path)
    if path.suffix == ".csv":
        return write_text(path, table.to_csv(index=False))
    if path.suffix == ".json":
        return write_text(path, table.to_json(orient="records", indent=2))
    raise ValueError(f"cannot write a table to {path}: use .csv or .json")


def write_csv_chunks(path: str | os.PathLike, tables) -> Path:
    """Write an iterable of tables as one CSV (header once), atomically: nothing appears at ``path`` unless every
    chunk was written."""
    with _atomic(path, "w") as fh:
        for k, table in enumerate(tables):
            table.to_csv(fh, index=False, header=k == 0)
    return Path(path)
