"""Base class for analysis and design specifications.

A specification is an inert, frozen, validated description of *what* to compute (a design, an analysis's
options).  It is a pydantic model, so it round-trips through JSON, but construction errors are re-raised as a
plain :class:`SpecError` (a :class:`ValueError`) with one message shape that names the parameter and the value::

    The 'target' parameter of boin must be in [0.05, 0.6]. Got 1.2.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

__all__ = ["Spec", "SpecError"]


class SpecError(ValueError):
    """A specification parameter is invalid.  ``parameter`` names it, ``value`` is what was given."""

    def __init__(self, message: str, parameter: str | None = None, value: Any = None):
        super().__init__(message)
        self.parameter = parameter
        self.value = value


#: pydantic's wording -> the house's (first match wins)
_HOUSE_WORDS = [(r"^Field required$", "is required"), (r"^Extra inputs are not permitted$", "unknown key"),
                (r"should be greater than or equal to ", "must be >= "), (r"should be greater than ", "must be > "),
                (r"should be less than or equal to ", "must be <= "), (r"should be less than ", "must be < "),
                (r"should be a valid integer[^.]*", "must be a whole number"),
                (r"should be a valid number[^.]*", "must be a number"),
                (r"should be a finite number[^.]*", "must be a finite number"),
                (r"should be a valid boolean[^.]*", "must be true or false"),
                (r"should be a valid (tuple|list)[^.]*", "must be a list of values"),
                (r"should be a valid dictionary[^.]*", "must be a mapping of settings"),
                (r"should be a valid string[^.]*", "must be text"), (r"\bshould be ", "must be ")]


def house_words(text: str) -> str:
    """A validation message in the house's words: pydantic's ``Input should be greater than or equal to 1`` reads
    ``must be >= 1``; a validator's own sentence is kept."""
    text = text.removeprefix("Value error, ")
    text = re.sub(r"\bInput should be ", "should be ", text)
    for pattern, words in _HOUSE_WORDS:
        text, n = re.subn(pattern, words, text, count=1)
        if n:
            break
    return text


def field_path(loc: tuple | list) -> str:
    """A pydantic error location as a reader writes it: ``dose_levels[2]`` (positions 1-based), ``designs[1].target``;
    pydantic's own union tags (``list[float]``, ``function-after[...]``) are left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif re.search(r"[\[\]()]", str(part)) or str(part) in ("int", "float", "str", "bool", "list", "tuple",
                                                                  "dict", "none", "constrained-float"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _message(spec_name: str, error: dict[str, Any]) -> tuple[str, str | None]:
    loc = error.get("loc") or ()
    param = str(loc[0]) if loc else None
    msg = str(error.get("msg", "is invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if param is None:  # a model-level (relational) rule: its text already names the parameters
        return msg, None
    value = error.get("input")
    if error.get("type") == "missing":
        return f"The '{param}' parameter of {spec_name} is required.", param
    if error.get("type") == "extra_forbidden":
        return f"{spec_name} has no parameter '{param}'.", param
    if msg.startswith("The '"):            # a nested specification's own sentence
        return f"The '{param}' parameter of {spec_name}: {msg}", param
    msg = house_words(msg)
    if re.search(r"\bgot\b", msg, re.IGNORECASE):       # the validator's sentence already shows the value
        return f"The '{param}' parameter of {spec_name} {msg.rstrip('.')}.", param
    return f"The '{param}' parameter of {spec_name} {msg}. Got {value!r}.", param


def _numeric_not_bool(annotation: Any) -> bool:
    """``annotation`` admits int or float but not bool (``int``, ``float | None``, ...)."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) \
        else (annotation,)
    return bool(set(args) & {int, float}) and bool not in args


class Spec(BaseModel):
    """Frozen, validated specification.  Subclasses set ``spec_name`` and declare fields and validators.

    Field validators raise ``ValueError("must be ...")``; the base turns the first failure into
    ``SpecError("The 'field' parameter of <spec_name> must be .... Got <value>.")``.  Model validators raise a
    full sentence naming the parameters involved.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False)
    spec_name: ClassVar[str] = "spec"

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        """``True`` is not a cohort size: a bool given for a number field is refused (pydantic would read 1)."""
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(name)
                if isinstance(value, bool) and _numeric_not_bool(info.annotation):
                    raise ValueError(f"The '{name}' parameter of {cls.spec_name} must be a number. Got {value!r}.")
        return data

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            message, param = _message(self.spec_name, first)
            raise SpecError(message, param, first.get("input")) from None

    def replace(self, **changes: Any):
        """A new, re-validated specification with some parameters changed (the original is untouched)."""
        data = self.model_dump()
        data.update(changes)
        return type(self)(**data)
