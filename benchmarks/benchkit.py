"""What the benchmark scripts share: the best-of-n wall time of a call, and writing a script's section of
benchmarks/RESULTS.md."""

from __future__ import annotations

import re
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def best_of(f, repeats: int = 3, warmup: bool = False) -> float:
    """The shortest of ``repeats`` wall times of ``f()`` (after one untimed call when ``warmup``)."""
    if warmup:
        f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def write_section(key: str, heading: str, text: str, path: Path = RESULTS) -> None:
    """Replace the text between ``<!-- key:start -->`` and ``<!-- key:end -->`` (appended under ``heading`` when
    the section is new)."""
    body = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"<!-- {key}:start -->\n{text}\n<!-- {key}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(key)}:start -->.*<!-- {re.escape(key)}:end -->", re.S)
    if pattern.search(body):
        body = pattern.sub(lambda m: section, body)
    else:
        body += f"\n## {heading}\n\n{section}\n"
    path.write_text(body)
