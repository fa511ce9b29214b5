"""Writing one benchmark's section of benchmarks/RESULTS.md (between ``<!-- key:start -->`` and
``<!-- key:end -->``; appended under ``heading`` when the section is new)."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def write_section(key: str, heading: str, text: str, path: Path = RESULTS) -> None:
    body = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"<!-- {key}:start -->\n{text}\n<!-- {key}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(key)}:start -->.*<!-- {re.escape(key)}:end -->", re.S)
    if pattern.search(body):
        body = pattern.sub(lambda m: section, body)
    else:
        body += f"\n## {heading}\n\n{section}\n"
    path.write_text(body)
