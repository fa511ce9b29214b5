"""YAML files validated by a pydantic model, with errors that name the file, the line or the field."""

from __future__ import annotations

import difflib
import enum
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from adcbridge.spec import field_path, house_words

__all__ = ["load_yaml_model", "node_line", "read_yaml", "UniqueKeyLoader", "misread_value", "misread_values",
           "whole_numbers", "did_you_mean", "unknown_key", "expected_keys", "spec_problem", "located_error",
           "sorted_errors"]

M = TypeVar("M", bound=BaseModel)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's SafeLoader refusing a key given twice in one mapping (YAML requires unique keys; PyYAML would keep
    the last one and silently ignore the first), and reading plain (unquoted) scalars by YAML 1.2's core schema
    where PyYAML follows YAML 1.1:

    * booleans: only ``true``/``false`` (also ``True``, ``TRUE``, ``False``, ``FALSE``); ``yes``, ``no``, ``on``,
      ``off``, ``y`` and ``n`` are text (YAML 1.1 made ``name: no`` the boolean False).  Where a boolean is
      expected, such a text is refused by :func:`misread_value` ("write true or false");
    * integers: ``[-+]?[0-9]+`` (decimal, also with leading zeros: ``010`` is 10, where YAML 1.1 read the octal
      8), ``0o[0-7]+`` (octal) and ``0x[0-9a-fA-F]+`` (hexadecimal);
    * floats: ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`` (``0.5``, ``.5``, ``1.``, ``1e-1``, ``2E5``;
      YAML 1.1 read ``1e-1`` as text), ``[-+]?.inf`` and ``.nan`` (any of their three spellings);
    * null: ``~``, ``null``, ``Null``, ``NULL`` and nothing.

    Anything else is text: YAML 1.1's sexagesimal numbers (``1:30``, 90 in YAML 1.1; ``12:30:00``), binary
    ``0b101`` and digits with underscores (``1_000``) -- where a number is expected, such a text is refused.
    Dates and times (``2026-03-01``) are still read as dates, as PyYAML does.  Only this loader reads so: PyYAML's
    own loaders are left as they are."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (also at line {seen[key]})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        """A YAML 1.2 integer: decimal (leading zeros kept decimal), ``0o`` octal or ``0x`` hexadecimal."""
        value = self.construct_scalar(node)
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str):
            if _INT_DECIMAL.match(text):
                return int(text, 10)
            if re.fullmatch(r"0o[0-7]+", text):
                return int(text[2:], 8)
            if re.fullmatch(r"0x[0-9a-fA-F]+", text):
                return int(text[2:], 16)
        return super().construct_yaml_int(node)     # an explicit !!int in another form: as YAML 1.1


_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_INT_DECIMAL = re.compile(r"^[-+]?[0-9]+$")
_INT_RESOLVER = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_NUMBER = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_FLOAT_RESOLVER = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                             r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")

# YAML 1.2 core-schema booleans, integers and floats: drop YAML 1.1's resolvers from this loader's own copy of the
# resolvers (PyYAML's loaders keep theirs), then add the YAML 1.2 ones -- integers before floats, as the float
# pattern also matches whole numbers
UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
UniqueKeyLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
UniqueKeyLoader.add_implicit_resolver(_INT, _INT_RESOLVER, list("-+0123456789"))
UniqueKeyLoader.add_implicit_resolver(_FLOAT, _FLOAT_RESOLVER, list("-+.0123456789"))
UniqueKeyLoader.add_constructor(_INT, UniqueKeyLoader.construct_yaml_int)


#: text that YAML 1.1 reads as a boolean (adcbridge reads YAML 1.2: only true and false are booleans)
_BOOLEAN_TEXT = {"true", "false", "yes", "no", "on", "off", "y", "n"}

_QUOTED_NUMBER = "write the number without quotes (a quoted value is text in YAML)"
_TEXT_NUMBER = ("write the number in digits, with an optional point and exponent (1000, 0.5, 1e-3): adcbridge reads "
                "YAML 1.2, where 1_000, 1:30, inf and nan are text")
_QUOTED_BOOLEAN = "write true or false without quotes (a quoted value is text in YAML)"
_TEXT_BOOLEAN = ("write true or false without quotes (adcbridge reads YAML 1.2: yes, no, on and off are text, and "
                 "so is a quoted value)")


def _boolean_text(value: str, loc: tuple) -> tuple[tuple, str]:
    how = _QUOTED_BOOLEAN if value.strip().lower() in ("true", "false") else _TEXT_BOOLEAN
    return loc, f"is the text {value!r}: {how}"


def _number_text(value: str, loc: tuple) -> tuple[tuple, str]:
    """A text that pydantic would read as a number: quoted (it is a YAML 1.2 number without the quotes) or in a
    form that only YAML 1.1 or Python read as one (``1_000``, ``inf``)."""
    text = value.strip()
    how = _QUOTED_NUMBER if _INT_RESOLVER.match(text) or _FLOAT_NUMBER.match(text) else _TEXT_NUMBER
    return loc, f"is the text {value!r}: {how}"


def _is_number_text(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------- values against what a model expects
def _members(tp) -> list:
    """The types a field admits: the members of a union (``Optional`` included), ``Annotated`` unwrapped."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    return [tp]


def _is_model(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


_SEQUENCES = (list, tuple, set, frozenset)


def _element_type(members: list, index: int):
    """What an entry at ``index`` of a list may be, given the list types a field admits (None: anything)."""
    out = []
    for m in members:
        origin = typing.get_origin(m) or m
        if not (isinstance(origin, type) and issubclass(origin, _SEQUENCES)) or origin is str:
            continue
        args = typing.get_args(m)
        if not args:
            return None
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if index >= len(args):
                continue
            out.append(args[index])
        else:
            out.append(args[0])
    return typing.Union[tuple(out)] if out else None  # noqa: UP007 - built at run time


def _mapping_type(members: list, value: dict, key):
    """What the entry ``key`` of the mapping ``value`` may be (None: anything, or not known)."""
    models = [m for m in members if _is_model(m)]
    if len(models) > 1:                 # a discriminated union: the model whose Literal field matches the value
        models = [m for m in models if any(
            typing.get_origin(f.annotation) is typing.Literal and value.get(f.alias or n) in typing.get_args(
                f.annotation) for n, f in m.model_fields.items())] or models
    if len(models) == 1:
        for name, info in models[0].model_fields.items():
            if key in (name, info.alias):
                return info.annotation
        return None
    dicts = [m for m in members if (typing.get_origin(m) or m) is dict]
    if len(dicts) == 1 and not models and len(typing.get_args(dicts[0])) == 2:
        return typing.get_args(dicts[0])[1]
    return None


def _scalar_problem(value, members: list, loc: tuple) -> tuple[tuple, str] | None:
    scalars = [m for m in members if m is not type(None) and not _is_model(m)
               and not (isinstance(typing.get_origin(m) or m, type)
                        and issubclass(typing.get_origin(m) or m, (dict, *_SEQUENCES)) and m is not str)]
    # a Literal of words (``auc_method: linear``, a BLQ rule ``keep | drop | <number>``): its words are welcome,
    # any other text is judged by the other types the field admits
    words = [m for m in scalars if typing.get_origin(m) is typing.Literal
             and all(isinstance(w, str) for w in typing.get_args(m))]
    if words:
        if isinstance(value, str) and any(value in typing.get_args(m) for m in words):
            return None
        scalars = [m for m in scalars if m not in words]
    if not scalars or not all(m in (int, float, bool) for m in scalars):
        return None                     # text is welcome (or nothing is known)
    numbers = [m for m in scalars if m in (int, float)]
    if isinstance(value, str):
        if numbers and _is_number_text(value.strip()):
            return _number_text(value, loc)
        if bool in scalars:
            return _boolean_text(value, loc)
        return None                     # not a number at all: the model's own check words it
    if isinstance(value, bool):
        return None if bool in scalars else (loc, f"must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        if not numbers:
            return None if words else (loc, f"must be true or false, got {value!r}")
        if numbers == [int] and isinstance(value, float) and math.isfinite(value) and not value.is_integer():
            return loc, f"must be a whole number, got {value!r}"
    return None


def _misread(value, expected, loc: tuple):
    """Every misread value below ``value``, in the order of the file (see :func:`misread_value`)."""
    if isinstance(expected, dict):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in expected:
                    yield from _misread(item, expected[key], loc + (key,))
        return
    if expected is None or expected is Any or expected is object:
        return
    members = _members(expected)
    if isinstance(value, dict):
        for key, item in value.items():
            sub = _mapping_type(members, value, key)
            if sub is not None:
                yield from _misread(item, sub, loc + (key,))
        return
    if isinstance(value, list):
        for k, item in enumerate(value):
            sub = _element_type(members, k)
            if sub is not None:
                yield from _misread(item, sub, loc + (k,))
        return
    if any(isinstance(m, type) and issubclass(m, (str, enum.Enum)) for m in members):
        return
    found = _scalar_problem(value, members, loc)
    if found:
        yield found


def misread_value(value, expected, loc: tuple = ()) -> tuple[tuple, str] | None:
    """The first value in ``value`` (read from YAML) that the model or type ``expected`` would read as something
    else than was written: its key path and a message, or None (:func:`misread_values` gives them all).

    * A number or a boolean written as text (``target: "0.3"``, ``seed: "7"``, ``extrasafe: "true"``) where a
      number or a boolean is expected: pydantic would convert it silently, and it is text in YAML -- "write the
      number without quotes".  Text where text is welcome (``name: "001"``, ids, labels, units, paths, the words of
      a ``Literal``) is kept.  So is a text that YAML 1.2 does not read as a number but pydantic would (``1_000``,
      ``inf``): "write the number in digits".
    * Text where a boolean is expected (``extrasafe: yes`` -- YAML 1.2 reads ``yes``/``no``/``on``/``off`` as
      text): "write true or false".
    * ``true``/``false`` where a number is expected, a number where a boolean is expected (pydantic would read
      ``True`` as 1 and 1 as ``True``), and a number with a fraction where a whole number is expected
      (``trials: 2000.5``; a whole ``2e3`` is 2000).

    ``expected`` is a pydantic model, a type annotation (``int``, ``list[float]``, ``float | None``) or a mapping
    of key -> annotation; keys it does not know are not looked into."""
    return next(_misread(value, expected, tuple(loc)), None)


def misread_values(value, expected, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every value :func:`misread_value` would refuse, in the order of the file (for files whose errors list
    every problem: a study)."""
    return list(_misread(value, expected, tuple(loc)))


def whole_numbers(value, expected):
    """``value`` with every whole float where ``expected`` (as for :func:`misread_value`) takes whole numbers only
    made an int (``trials: 2e3`` is read as 2000.0 and given as 2000); anything else as it is (a copy of the
    mappings and lists that change)."""
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return value
        return {k: whole_numbers(v, expected[k]) if k in expected else v for k, v in value.items()}
    if expected is None or expected is Any or expected is object:
        return value
    members = _members(expected)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = _mapping_type(members, value, key)
            out[key] = item if sub is None else whole_numbers(item, sub)
        return out
    if isinstance(value, list):
        return [item if (sub := _element_type(members, k)) is None else whole_numbers(item, sub)
                for k, item in enumerate(value)]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and int in members \
            and float not in members:
        return int(value)
    return value


def did_you_mean(key, choices) -> str:
    """``"; did you mean 'extrasafe'?"`` for the closest of ``choices`` to the unknown ``key``, or ``""``."""
    near = difflib.get_close_matches(str(key), [str(c) for c in choices], n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def unknown_key(key, choices) -> str:
    """The message for an unknown key: ``unknown key 'extrasfe'; did you mean 'extrasafe'?``."""
    return f"unknown key {str(key)!r}{did_you_mean(key, choices)}"


#: a specification's sentence about one parameter (:mod:`adcbridge.spec`): "The 'x' parameter of boin must be ...
#: Got 'abc'."
_PARAMETER = re.compile(r"^The '(?P<param>[^']+)' parameter of \S+ (?P<msg>.+?)\.?(?: Got (?P<value>.+?)\.?)?$")
_NO_PARAMETER = re.compile(r"^(?P<spec>\S+) has no parameter '(?P<param>[^']+)'\.?$")
#: messages about one value (so a list parameter's bad entry can be pointed at)
_ONE_VALUE = re.compile(r"^must be (a number|a whole number|a finite number|in |>|<|text|true or false)")


def spec_problem(message: str, fields, options: dict) -> tuple[tuple, str]:
    """A specification's error message (:class:`adcbridge.spec.SpecError`) as ``(key path among the options
    given, message in the shape of a YAML file's errors)``: ``The 'skeleton' parameter of crm must be a number. Got
    'abc'.`` -> ``(('skeleton', 2), "must be a number, got 'abc'")``; ``boin has no parameter 'targt'.`` ->
    ``(('targt',), "boin has no parameter 'targt'; did you mean 'target'?")`` (``fields``: the parameters the
    specification has).  A sentence about several parameters is kept whole, at the one it names that was given
    (else at ``()``)."""
    message = message.strip().removeprefix("Value error, ")
    m = _NO_PARAMETER.match(message)
    if m:
        param = m.group("param")
        return (param,), f"{m.group('spec')} has no parameter {param!r}{did_you_mean(param, fields)}"
    m = _PARAMETER.match(message)
    if not m:                             # a sentence about several parameters: point at the one it names
        named = re.search(r"The '(?P<param>[^']+)' parameter", message)
        return ((named.group("param"),) if named and named.group("param") in options else ()), message
    param, msg, value = m.group("param"), m.group("msg"), m.group("value")
    loc: tuple = (param,)
    given = options.get(param)
    if value is not None and isinstance(given, list) and _ONE_VALUE.match(msg) and value != repr(given):
        hits = [k for k, v in enumerate(given) if repr(v) == value]
        if len(hits) == 1:
            loc = (param, hits[0])
    return loc, msg if value is None else f"{msg}, got {value}"


def sorted_errors(errors: list[dict], text: str | None = None) -> list[dict]:
    """pydantic's errors with the unknown keys first, in the order of the file when its ``text`` is given (the
    others in pydantic's order): a misspelt required key (``targt: 0.3``) is named as unknown, with the nearest
    name, before the key it misspells is missed."""
    node = None
    if text is not None:
        try:
            node = yaml.compose(text)
        except yaml.YAMLError:
            node = None

    def key(err: dict):
        if err.get("type") != "extra_forbidden":
            return (1, 0)
        return (0, node_line(node, tuple(err["loc"])) or 0)
    return sorted(errors, key=key)


def located_error(path: str | Path, text: str | None, loc: tuple, message: str) -> ValueError:
    """The one-line error of a YAML file about the key path ``loc``: ``f.yaml: 'tox[2].reversible' (line 5):
    ...`` (``f.yaml: ...`` when ``loc`` is empty; the line is the deepest node of ``loc`` that ``text`` has)."""
    if not loc:
        return ValueError(f"{path}: {message}")
    line = _line_in(text, loc) if text is not None else None
    where = f" (line {line})" if line else ""
    return ValueError(f"{path}: '{field_path(loc)}'{where}: {message}")


def expected_keys(model, loc: tuple, raw) -> list[str]:
    """The keys the model expects in the mapping at key path ``loc`` of ``raw`` (empty when not known)."""
    tp, value = model, raw
    for part in loc:
        members = _members(tp)
        if isinstance(value, dict):
            tp = _mapping_type(members, value, part)
        elif isinstance(value, list) and isinstance(part, int):
            tp = _element_type(members, part)
        else:
            return []
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return []
        if tp is None:
            return []
    models = [m for m in _members(tp) if _is_model(m)]
    if isinstance(value, dict) and len(models) > 1:
        models = [m for m in models if set(map(str, value)) - {n for n in m.model_fields}
                  != set(map(str, value))] or models
    return [f.alias or n for m in models[:1] for n, f in m.model_fields.items()]


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


def load_yaml_model(path: str | Path, model: type[M], *, empty_ok: bool = False,
                    check: typing.Callable[[dict], tuple[tuple, str] | None] | None = None) -> M:
    """Read ``path`` as YAML and validate it with ``model``; every error is a one-line ``ValueError`` that starts
    with the file name and names the key path and its line.  Before the model sees the values,
    :func:`misread_value` refuses a number or boolean written as text where the model expects one, and ``check``
    (given the raw mapping; it returns a key path and a message, or None) checks what the model cannot type.  Of
    the model's errors, an unknown key is named first (with the nearest name: a misspelt required key reads
    ``unknown key 'targt'; did you mean 'target'?``, not that ``target`` is required)."""
    path = Path(path)
    text, raw = read_yaml(path)
    if raw is None and empty_ok:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level")
    found = misread_value(raw, model) or (check(raw) if check else None)
    if found:
        raise located_error(path, text, *found)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = sorted_errors(exc.errors(include_url=False), text)[0]
        msg = house_words(str(err["msg"]))
        if err.get("type") == "extra_forbidden":
            loc = tuple(err["loc"])
            msg = unknown_key(loc[-1], expected_keys(model, loc[:-1], raw)) if loc else "unknown key"
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
        return _line_in(path.read_text(encoding="utf-8"), loc)
    except (OSError, UnicodeDecodeError):
        return None


def _line_in(text: str, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at key path ``loc`` in ``text`` (the deepest one that exists), or None."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
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
