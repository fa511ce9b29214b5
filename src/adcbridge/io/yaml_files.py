"""YAML files validated by a pydantic model, with errors that name the file, the line or the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from adcbridge.spec import field_path, house_words

__all__ = ["load_yaml_model", "node_line", "read_yaml", "UniqueKeyLoader", "quoted_number"]

M = TypeVar("M", bound=BaseModel)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's SafeLoader refusing a key given twice in one mapping (YAML requires unique keys; PyYAML would keep
    the last one and silently ignore the first), and reading numbers in exponent notation without a point
    (``1e-1``, ``2E5``) as numbers, as YAML 1.2 does (PyYAML follows YAML 1.1, where they are text, so
    ``target: 1e-1`` would be refused as "got '1e-1'")."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (also at line {seen[key]})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


#: text that YAML reads as a boolean when it is not quoted
_BOOLEAN_TEXT = {"true", "false", "yes", "no", "on", "off"}


def quoted_number(value, loc: tuple = (), skip: tuple[str, ...] = ()) -> tuple[tuple, str] | None:
    """The first number or boolean written as text in ``value`` (a mapping or list read from YAML, walked in
    order): its key path and a message, or None.  A quoted ``target: "0.3"`` or ``extrasafe: "yes"`` is text in
    YAML; a design's options refuse it rather than let pydantic convert some quoted values and not others.  Keys in
    ``skip`` (names, labels, units) are text by nature and are not looked into."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                found = quoted_number(item, loc + (key,), skip)
                if found:
                    return found
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            found = quoted_number(item, loc + (k,), skip)
            if found:
                return found
    elif isinstance(value, str) and value.strip():
        if value.strip().lower() in _BOOLEAN_TEXT:
            return loc, f"is the text {value!r}: write true or false without quotes (a quoted value is text in YAML)"
        try:
            float(value)
        except ValueError:
            return None
        return loc, f"is the text {value!r}: write the number without quotes (a quoted value is text in YAML)"
    return None


def read_yaml(path: str | Path, what: str = "file") -> tuple[str, object]:
    """The text of YAML file ``path`` and its content (repeated keys refused); every error is one line starting
    with the file name (``what`` names the kind of file in "is a folder, not a <what>")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        return text, yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"{path}: malformed YAML{where}: {getattr(exc, 'problem', exc)}") from None


def load_yaml_model(path: str | Path, model: type[M], *, empty_ok: bool = False) -> M:
    """Read ``path`` as YAML and validate it with ``model``; every error is a one-line ``ValueError`` that starts
    with the file name."""
    path = Path(path)
    _, raw = read_yaml(path)
    if raw is None and empty_ok:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        msg = house_words(str(err["msg"]))
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        line = _line_of(path, err["loc"])
        where = f" (line {line})" if line else ""
        if not err["loc"]:
            raise ValueError(f"{path}{where}: {msg}") from None
        if "got" not in msg.lower() and err.get("type") not in ("missing", "extra_forbidden"):
            msg = f"{msg.rstrip('.')}, got {err.get('input')!r}"
        raise ValueError(f"{path}: '{field_path(err['loc'])}'{where}: {msg}") from None


def _line_of(path: Path, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at key path ``loc`` (the deepest one that exists), or None."""
    try:
        node = yaml.compose(path.read_text())
    except (yaml.YAMLError, OSError):
        return None
    return node_line(node, loc)


def node_line(node, loc: tuple) -> int | None:
    """The 1-based line of the node at key path ``loc`` below the composed YAML ``node`` (the deepest one that
    exists), or None."""
    if node is None:
        return None
    line = node.start_mark.line + 1 if loc else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node, line = nxt, nxt.start_mark.line + 1
    return line
