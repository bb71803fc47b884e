"""JSON-able data: how dates, money, enums and dataclasses become JSON, for data.json and `--format json`.

`to_data` converts a value eagerly (figures: scalar properties included, money rounded to cents,
a value whose class names a `json_reference` nested in others as that attribute); `json_default` is the lazy `default` of json's
encoder that data.json uses for the records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from plaintext_crm.money import cents

_PLAIN = frozenset({str, int, float, bool, type(None)})
_SHAPES: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # dataclass -> (fields, properties)
_REFERENCES: dict[type, str | None] = {}  # class -> its json_reference attribute (None: none)


def _shape(kind: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = (tuple(field.name for field in dataclasses.fields(kind)),
                 tuple(name for name, attribute in vars(kind).items() if isinstance(attribute, property)))
        _SHAPES[kind] = shape
    return shape


def _reference(kind: type) -> str | None:
    """The class's `json_reference`, looked up once per class (an Enum class answers getattr slowly)."""
    try:
        return _REFERENCES[kind]
    except KeyError:
        reference = _REFERENCES[kind] = getattr(kind, "json_reference", None)
        return reference


def to_data(value: Any, *, nested: bool = True) -> Any:
    """A JSON-able copy: dataclasses to dicts (plus their scalar properties), dates to ISO, money to cents.

    With `nested` (the default), a value whose class names a `json_reference` attribute (DealFigures:
    its deal id) becomes that attribute inside other values.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if nested and (reference := _reference(kind)) is not None:
        return getattr(value, reference)
    shape = _SHAPES.get(kind)
    if shape is None:
        # the common plain kinds first: is_dataclass is the slow test, and none of these is a dataclass
        if kind is dt.date:
            return value.isoformat()
        if kind is Decimal:
            return float(cents(value))
        if kind is list or kind is tuple:
            return [item if type(item) in _PLAIN else to_data(item) for item in value]
        if isinstance(value, enum.Enum):  # before is_dataclass, whose hasattr goes through Enum's lookup
            return value._value_
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            shape = _shape(kind)
    if shape is not None:
        data = {}
        for name in shape[0]:
            item = getattr(value, name)
            data[name] = item if type(item) in _PLAIN else to_data(item)
        for name in shape[1]:
            computed = getattr(value, name)
            if type(computed) in _PLAIN:
                data[name] = computed
        return data
    if isinstance(value, dt.date):  # a datetime
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [item if type(item) in _PLAIN else to_data(item) for item in value]
    if isinstance(value, set | frozenset):
        return [to_data(item) for item in sorted(value)]
    return value


def json_default(value: Any) -> Any:
    """JSON for what json's encoder does not know (its `default`): dates as ISO text, money as numbers,
    dataclasses (records) as objects of their fields. Lazier than to_data: nested values are converted
    only when the C encoder meets them."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in field_names(type(value))}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(kind: type) -> tuple[str, ...]:
    """The field names of a dataclass, in order (cached)."""
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names
