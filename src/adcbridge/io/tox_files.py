"""First-in-human plan files (YAML): toxicology table, species, scaling, safety factor, ladder, exposures."""

from __future__ import annotations

from pathlib import Path

from adcbridge.translation.config import FihConfig

from .yaml_files import _boolean_text, load_yaml_model

__all__ = ["load_fih_config"]

#: the words a YAML tox row's ``reversible`` may hold besides true and false (the toxicology table's own words
#: that are no boolean: a CSV table also takes yes/no, which YAML reads as text)
_REVERSIBLE_WORDS = ("reversible", "reversed", "full", "irreversible", "partial", "partially", "not reversible",
                     "unknown")
#: text that reads as a boolean in a table (or in YAML 1.1) but is text in YAML 1.2
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "t", "f", "1", "0"}


def _reversible(value, loc: tuple) -> tuple[tuple, str] | None:
    """A tox row's ``reversible`` read from YAML: true or false (YAML 1.2: ``yes``, ``no``, ``on``, ``off`` and a
    quoted ``"false"`` are text, refused as everywhere), one of :data:`_REVERSIBLE_WORDS`, or empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _REVERSIBLE_WORDS:
            return None
        if text in _BOOLEAN_WORDS:
            return _boolean_text(value, loc)            # the words of every YAML file: "write true or false"
    return loc, (f"must be true or false (or one of the words {', '.join(_REVERSIBLE_WORDS)}; empty: unknown), "
                 f"got {value!r}")


def _check_raw(raw: dict) -> tuple[tuple, str] | None:
    """What :class:`FihConfig` cannot say with a key and a line: an empty ``tox`` list, and each tox row's
    ``reversible`` by the YAML rules (the table's own reading also takes yes/no and 1/0, as a CSV cell may)."""
    tox = raw.get("tox")
    if tox == []:
        return ("tox",), "is empty: give one row per dose group and finding (or hnstd / std10)"
    if not isinstance(tox, list):
        return None
    for k, row in enumerate(tox):
        if isinstance(row, dict) and "reversible" in row:
            found = _reversible(row["reversible"], ("tox", k, "reversible"))
            if found:
                return found
    return None


def load_fih_config(path: str | Path) -> FihConfig:
    """Read and validate a first-in-human plan (schema: :class:`adcbridge.translation.config.FihConfig`); errors
    are one line naming the file, the key path and its line.  A tox row's ``reversible`` is true or false (or a
    word of the toxicology table: reversible, irreversible, partial, unknown); ``yes``/``no``/``on``/``off`` and
    quoted booleans are refused, as in every YAML file of adcbridge."""
    return load_yaml_model(Path(path), FihConfig, check=_check_raw)
