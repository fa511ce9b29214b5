"""Test helpers shared by the input-checking tests: a YAML file written from indented text, the one-line error a
loader raises on it, and a combination history built from cohorts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


def write_text_file(tmp_path: Path, name: str, text: str) -> Path:
    """``text`` (dedented) written to ``tmp_path / name``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def one_line_error(load, path) -> str:
    """The message of the ValueError ``load(path)`` raises, checked to be one line starting with the file name."""
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message, message                    # one line
    assert message.startswith(str(path)), message          # starting with the file name
    return message


def comb_history(cohorts, size: int = 3):
    """A combination history from ``(a, b, dlts)`` per cohort: ``size`` patients each, the first ``dlts`` with a
    DLT."""
    from adcbridge.dosefinding import History, Patient
    patients, k = [], 0
    for c, (a, b, dlt) in enumerate(cohorts, start=1):
        for i in range(size):
            k += 1
            patients.append(Patient(f"P{k}", c, None, i < dlt, dose_a=a, dose_b=b))
    return History(tuple(patients))
