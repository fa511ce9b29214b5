"""The frozen result that every analysis returns.

A :class:`Result` carries

* ``spec`` -- the specification (a :class:`~adcbridge.spec.Spec`) that produced it;
* ``table`` -- a tidy :class:`pandas.DataFrame` (one row per dose, parameter, curve, ...);
* ``issues`` -- a tuple of :class:`Issue` (non-convergence, data problems, deviations from a reference);
* ``provenance`` -- package version, creation time, a hash of the inputs and the random seed.

Subclasses add their own typed fields.  A result has two serialisations and no third:

* ``to_record()`` -- the *record*: a JSON-ready dict that ``--format json`` prints, that the study report reads
  and that the conduct app stores.  It is ``{"result_type", <the result's own keys>, "spec", "issues",
  "provenance"}``.  The result's own keys come from :meth:`Result.record_body`, which by default is derived from
  the declared fields (every field a subclass adds, plus the tidy ``table`` as a list of row objects); a subclass
  whose command published a JSON contract overrides ``record_body`` to keep exactly those keys.  Values are plain
  JSON: numbers, strings, booleans, lists and objects, with NaN and infinities as ``null``.
* ``to_json()`` / ``Result.from_json()`` -- the faithful, versioned round trip that rebuilds the same subclass
  with the same values (tables with their dtypes).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib
import json
import math
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel

from adcbridge import __version__

if TYPE_CHECKING:                      # pandas is imported only when a table is built (fast command start-up)
    import pandas as pd

__all__ = ["Issue", "Provenance", "Result", "ColumnTable", "make_provenance", "hash_inputs", "json_ready",
           "table_records"]

FORMAT_VERSION = 1
_REGISTRY: dict[str, type[Result]] = {}


def _pandas():
    import pandas
    return pandas


def _is_frame(obj: Any) -> bool:
    """``obj`` is a pandas DataFrame (without importing pandas when nothing has)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


class ColumnTable:
    """A table given as columns (name -> list or 1-d array), built into a :class:`pandas.DataFrame` only when
    someone reads ``result.table``.

    Results that a fast command prints (a BOIN decision, the decision table) hand their table over in this form,
    so that printing the record or plain text never imports pandas.  ``dtypes`` names pandas dtypes for the
    conversion (e.g. ``"Int64"`` for a count column whose missing entries are None)."""

    __slots__ = ("columns", "dtypes")

    def __init__(self, columns: dict[str, Any], dtypes: dict[str, str] | None = None):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: { {k: len(v) for k, v in columns.items()} }")
        self.columns = dict(columns)
        self.dtypes = dict(dtypes or {})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def records(self) -> list[dict[str, Any]]:
        """Rows as plain-JSON objects."""
        names = list(self.columns)
        cols = [json_ready(list(v)) for v in self.columns.values()]
        return [dict(zip(names, row)) for row in zip(*cols)]

    def to_frame(self) -> pd.DataFrame:
        pandas = _pandas()
        data = {k: (pandas.Series(list(v), dtype=self.dtypes[k]) if k in self.dtypes else v)
                for k, v in self.columns.items()}
        return pandas.DataFrame(data, columns=list(self.columns))

    def __reduce__(self):
        return (ColumnTable, (self.columns, self.dtypes))


class _TableSlot:
    """The ``table`` field of every result: holds a DataFrame, or a :class:`ColumnTable` that becomes one on
    first access (cached on the instance)."""

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            raise AttributeError("table")          # no default: every result is given its table
        value = instance.__dict__["_table"]
        if isinstance(value, ColumnTable):
            value = value.to_frame()
            instance.__dict__["_table"] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["_table"] = value


@dataclass(frozen=True)
class Issue:
    """Something the user should know about a result (``severity`` info, warning or error)."""

    code: str
    message: str
    severity: Literal["info", "warning", "error"] = "warning"


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: package and version, creation time (UTC), input hash and random seed."""

    package: str
    version: str
    created: str
    input_hash: str | None = None
    seed: int | None = None


def _canonical(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, ColumnTable):
        return {"columns": list(obj.columns), "rows": _canonical(obj.records())}
    if _is_frame(obj):                         # fast content hash of a (possibly large) table
        rows = _pandas().util.hash_pandas_object(obj, index=False).to_numpy()
        return {"columns": [str(c) for c in obj.columns], "rows": hashlib.sha256(rows.tobytes()).hexdigest()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    return obj


def hash_inputs(*inputs: Any) -> str:
    """SHA-256 (hex, first 16 bytes) of the canonical JSON form of the inputs."""
    text = json.dumps([_canonical(x) for x in inputs], sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def make_provenance(*inputs: Any, seed: int | None = None) -> Provenance:
    """Provenance for a result computed now from ``inputs`` (hashed) with an optional ``seed``."""
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    return Provenance("adcbridge", __version__, now, hash_inputs(*inputs) if inputs else None, seed)


# --------------------------------------------------------------------------------------- JSON encoding
def _is_missing(v: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and (v is pandas.NA or v is pandas.NaT)


def _json_scalar(v: Any) -> Any:
    if v is None or _is_missing(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON: numpy scalars and arrays as numbers and lists, tuples as lists, tables as lists of
    row objects, specifications and dataclasses as objects, NaN and infinities as None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, BaseModel):
        return json_ready(value.model_dump(mode="json"))
    if isinstance(value, ColumnTable):
        return value.records()
    if _is_frame(value):
        return table_records(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if _is_missing(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def table_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as a list of row objects (column -> plain JSON value)."""
    columns = [str(c) for c in df.columns]
    cols = [[json_ready(v) for v in df[c].tolist()] for c in df.columns]
    return [dict(zip(columns, row)) for row in zip(*cols)] if cols else [{} for _ in range(len(df))]


def _encode_frame(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "dtypes": [str(t) for t in df.dtypes],
        "data": {str(c): [_json_scalar(v) for v in df[c].tolist()] for c in df.columns},
    }


def _decode_frame(obj: dict[str, Any]) -> pd.DataFrame:
    pd = _pandas()
    cols = obj["columns"]
    out = {}
    for c, dt in zip(cols, obj["dtypes"]):
        values = obj["data"][c]
        if dt.startswith("float"):
            out[c] = pd.Series([np.nan if v is None else v for v in values], dtype=dt)
        elif dt in ("object", "str", "string"):
            out[c] = pd.Series(values, dtype="object" if dt == "object" else dt)
        else:
            out[c] = pd.Series(values).astype(dt)
    return pd.DataFrame(out, columns=cols)


def _encode(value: Any) -> Any:
    if isinstance(value, ColumnTable):
        return _encode_frame(value.to_frame())
    if _is_frame(value):
        return _encode_frame(value)
    if isinstance(value, BaseModel):
        cls = type(value)
        return {"__spec__": f"{cls.__module__}:{cls.__qualname__}", "value": value.model_dump(mode="json")}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": [_encode(v) for v in value.tolist()], "dtype": str(value.dtype)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return _json_scalar(value)


def _load_spec_class(path: str) -> type[BaseModel]:
    module, _, qualname = path.partition(":")
    if not module.startswith("adcbridge."):
        raise ValueError(f"refusing to load a specification class from outside adcbridge: {path!r}")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and "__spec__" in value:
        return _load_spec_class(value["__spec__"]).model_validate(value["value"])
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"] if value["dtype"] != "object" else object)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(value, options[0]) if len(options) == 1 else value
    if hint is _pandas().DataFrame:
        return _decode_frame(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, localns={"pd": _pandas(), "np": np})
        return hint(**{k: _decode(v, hints.get(k, Any)) for k, v in value.items()})
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_decode(v, inner) for v in value)
    if origin is dict:
        args = typing.get_args(hint)
        inner = args[1] if len(args) == 2 else Any
        return {k: _decode(v, inner) for k, v in value.items()}
    return value


@dataclass(frozen=True, eq=False)
class Result:
    """Base of every analysis result (frozen).  See the module docstring.

    Subclasses are declared ``@dataclass(frozen=True, eq=False)``: results compare by identity (a table has no
    single truth value); compare their fields or tables explicitly."""

    spec: BaseModel
    table: pd.DataFrame = _TableSlot()          # type: ignore[assignment]  (a DataFrame, or a ColumnTable)
    issues: tuple[Issue, ...] = ()
    provenance: Provenance = field(default_factory=make_provenance)

    result_type: ClassVar[str] = "Result"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.result_type = cls.__name__
        _REGISTRY[cls.__name__] = cls

    def summary(self) -> pd.DataFrame:
        """The tidy table (a copy, so the result stays unchanged)."""
        return self.table.copy()

    def table_with(self, **columns: Any) -> Any:
        """The tidy table with ``columns`` added or replaced, in the form the result holds it (a
        :class:`ColumnTable` stays one: no pandas import)."""
        value = self.__dict__["_table"]
        if isinstance(value, ColumnTable):
            return ColumnTable({**value.columns, **columns}, value.dtypes)
        return value.assign(**columns)

    def table_rows(self) -> list[dict[str, Any]]:
        """The tidy table as row objects (plain JSON values), without building a DataFrame when the result still
        holds its columns (fast printing of a command's table)."""
        value = self.__dict__["_table"]
        return json_ready(value.records()) if isinstance(value, ColumnTable) else table_records(value)

    _base_fields: ClassVar[tuple[str, ...]] = ("spec", "table", "issues", "provenance")

    def record_body(self) -> dict[str, Any]:
        """The result's own keys of :meth:`to_record`: by default every field a subclass declares and the tidy
        ``table`` as a list of row objects.  Subclasses with a published command-line contract override this."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self._base_fields}
        body["table"] = self.__dict__["_table"]       # a ColumnTable stays one (no pandas needed)
        return body

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready record of this result (see the module docstring): ``result_type``, the keys of
        :meth:`record_body`, then ``spec``, ``issues`` (code, message, severity) and ``provenance``."""
        body = self.record_body()
        record: dict[str, Any] = {"result_type": self.result_type}
        record.update(body)
        record.setdefault("spec", self.spec)
        record.setdefault("issues", list(self.issues))      # a body may list the issues of its parts too
        record["provenance"] = dataclasses.asdict(self.provenance)
        return json_ready(record)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (versioned)."""
        body = {f.name: _encode(self.__dict__["_table"] if f.name == "table" else getattr(self, f.name))
                for f in dataclasses.fields(self)}
        return {"result_type": self.result_type, "format_version": FORMAT_VERSION, "fields": body}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        kind = data.get("result_type")
        if kind not in _REGISTRY and kind != "Result":
            raise ValueError(f"unknown result_type {kind!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported result format_version {data.get('format_version')!r}")
        target = _REGISTRY.get(kind, Result)
        if not issubclass(target, cls):
            raise ValueError(f"the document holds a {kind}, not a {cls.__name__}")
        hints = typing.get_type_hints(target, localns={"pd": _pandas(), "np": np})
        fields = data["fields"]
        kwargs = {f.name: _decode(fields.get(f.name), hints.get(f.name, Any))
                  for f in dataclasses.fields(target) if f.name in fields}
        return target(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))
