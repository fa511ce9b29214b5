"""Access to the reference data copied into tests/reference/data (see tests/reference/SOURCES.md)."""

import json
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference" / "data"


def load_reference(*parts: str):
    return json.loads(REFERENCE.joinpath(*parts).read_text())
