"""The code base passes ruff with the project's configuration (``[tool.ruff]`` in pyproject.toml: pyflakes,
pycodestyle, import order, pyupgrade and bugbear at 120 columns), so an unused import, an undefined name or a
late-bound loop variable fails the suite rather than waiting for a reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    pytest.importorskip("ruff")
    if not (ROOT / "pyproject.toml").is_file() or not (ROOT / "src" / "adcbridge").is_dir():
        pytest.skip("not a source checkout")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "src", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
