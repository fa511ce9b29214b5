"""First-in-human plan files (YAML): toxicology table, species, scaling, safety factor, ladder, exposures."""

from __future__ import annotations

from pathlib import Path

from adcbridge.translation.config import FihConfig

from .yaml_files import load_yaml_model

__all__ = ["load_fih_config"]


def load_fih_config(path: str | Path) -> FihConfig:
    """Read and validate a first-in-human plan (schema: :class:`adcbridge.translation.config.FihConfig`); errors
    are one line naming the file and the field."""
    return load_yaml_model(Path(path), FihConfig)
