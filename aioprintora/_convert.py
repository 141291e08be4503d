"""The one cattrs converter: wire JSON <-> attrs models.

Every rule lives here, registered once; the models stay plain attrs classes.

- Keys: a model accepts each field under its snake_case name, its camelCase name, and any
  ``metadata={"aliases": (...)}`` the field declares (the spec's [drift] names such as
  ``order_id`` for ``id``). Unknown keys are ignored so new server fields never break old clients.
  Unstructuring writes camelCase and leaves out ``None`` optionals; a field's
  ``metadata={"wire_value": fn}`` spells its value on the wire (a UUID's canonical form).
- ``str`` enums: an unknown value is kept as a plain ``str`` (fields are typed ``Enum | str``).
- Money is :class:`~decimal.Decimal`; bodies are parsed with every float as a ``Decimal`` (see
  :mod:`aioprintora._http._json`) so the value is exact to the JSON text. ``NaN``, ``Infinity``,
  ``sNaN`` and exponents beyond :data:`MAX_AMOUNT_EXPONENT` are refused (``ValueError``, so a
  MalformedResponseError).
- :func:`loads` (from :mod:`aioprintora._http._json`) turns a body nested too deeply for the parser
  into ``ValueError`` too.
- Timestamps are aware :class:`~datetime.datetime` (a trailing ``Z`` works on 3.10 too; a naive
  value is taken as UTC; a number is a unix time).
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter

from ._http._json import loads

__all__ = ["camel", "converter", "loads", "structure", "to_dict", "unstructure"]

T = TypeVar("T")

converter = make_converter(omit_if_default=False)
#: ``get_structure_hook`` is cattrs 24.1's; the floor (23.2) has only ``structure``.
_HOOK_LOOKUP = hasattr(converter, "get_structure_hook")


def camel(name: str) -> str:
    """``partnership_history_id`` -> ``partnershipHistoryId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``partnershipHistoryId`` -> ``partnership_history_id``."""
    return _CAMEL_HUMP.sub(r"_\1", name).lower()


# -- scalars -------------------------------------------------------------------------------------


def _to_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):  # fromisoformat learnt "Z" only in 3.11
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        raise TypeError(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _from_datetime(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


#: Amounts beyond 10**±1000 are refused: far past any real amount, yet cheap to compute with.
MAX_AMOUNT_EXPONENT = 1000


def _to_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, float):  # only from callers building models by hand
        value = repr(value)
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"expected a decimal amount, got {value!r:.40}") from None
    # NaN, Infinity, sNaN and 1e999999999 are valid Decimals but no amount of money; an
    # absurd exponent would also make later arithmetic slow or raise.
    if not amount.is_finite() or abs(amount.adjusted()) > MAX_AMOUNT_EXPONENT:
        raise ValueError(f"expected a finite decimal amount, got {value!r:.40}")
    return amount


converter.register_structure_hook(datetime, _to_datetime)
converter.register_unstructure_hook(datetime, _from_datetime)
converter.register_structure_hook(Decimal, _to_decimal)
converter.register_unstructure_hook(Decimal, str)


# -- open enums: ``SomeEnum | str`` --------------------------------------------------------------


def _open_enum(tp: Any) -> type[enum.Enum] | None:
    """The enum of a ``SomeEnum | str`` (or ``SomeEnum | str | None``) annotation, else None."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = set(typing.get_args(tp)) - {type(None)}
    if str not in args or len(args) != 2:
        return None
    (other,) = args - {str}
    return other if isinstance(other, type) and issubclass(other, enum.Enum) else None


def _open_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = _open_enum(tp)
    assert enum_cls is not None
    members = {m.value: m for m in enum_cls}

    def structure_open_enum(value: Any, _: Any) -> Any:
        if value is None and type(None) in typing.get_args(tp):
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return members.get(value, value)

    return structure_open_enum


converter.register_structure_hook_factory(lambda t: _open_enum(t) is not None, _open_enum_hook)
converter.register_unstructure_hook_func(
    lambda t: _open_enum(t) is not None, lambda v: v.value if isinstance(v, enum.Enum) else v
)


# -- attrs classes: accept camelCase, snake_case and declared aliases ---------------------------


def _structure_attrs(cls: type[T]) -> Callable[[Any, Any], T]:
    inner = make_dict_structure_fn(cls, converter)
    names: dict[str, str] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # attrs.has() chose cls
        # The declared aliases first so that the canonical names win when a body has both.
        for alias in field.metadata.get("aliases", ()):
            names[alias] = field.name
        names[camel(field.name)] = field.name
        names[field.name] = field.name

    def structure_model(data: Any, _: Any) -> T:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
        renamed: dict[str, Any] = {}
        for key, value in data.items():
            name = names.get(key)
            if name is not None and (name not in renamed or key == name or key == camel(name)):
                renamed[name] = value
        return inner(renamed, cls)

    return structure_model


def _wire_name(field: attrs.Attribute[Any]) -> str:
    """The field's name on the wire: a declared ``wire`` name, else its camelCase."""
    return str(field.metadata.get("wire", camel(field.name)))


def _unstructure_attrs(cls: type[T]) -> Callable[[T], dict[str, Any]]:
    renames = {
        f.name: override(
            rename=_wire_name(f),
            omit_if_default=f.default is None,
            omit=not f.metadata.get("serialize", True),
            unstruct_hook=f.metadata.get("wire_value"),
        )
        for f in attrs.fields(cls)  # type: ignore[arg-type]
    }
    return make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]


converter.register_structure_hook_factory(attrs.has, _structure_attrs)
converter.register_unstructure_hook_factory(attrs.has, _unstructure_attrs)

# ``Model.to_dict()``: the same scalar rules, snake_case keys, every field present.
_python = make_converter(omit_if_default=False)
_python.register_unstructure_hook(datetime, _from_datetime)
_python.register_unstructure_hook(Decimal, str)
_python.register_unstructure_hook_func(
    lambda t: _open_enum(t) is not None, lambda v: v.value if isinstance(v, enum.Enum) else v
)


def _unstructure_python(cls: type[T]) -> Callable[[T], dict[str, Any]]:
    omits = {
        f.name: override(omit=not f.metadata.get("serialize", True))
        for f in attrs.fields(cls)  # type: ignore[arg-type]
    }
    return make_dict_unstructure_fn(cls, _python, **omits)  # type: ignore[arg-type]


_python.register_unstructure_hook_factory(attrs.has, _unstructure_python)


def to_dict(obj: Any, *, wire: bool = False) -> dict[str, Any]:
    """A model as JSON-safe data (see :meth:`aioprintora.Model.to_dict`)."""
    data: dict[str, Any] = (converter if wire else _python).unstructure(obj)
    return data


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from decoded JSON (enveloped bodies must be unwrapped first)."""
    return converter.structure(data, cls)


def structure_hook(cls: type[T]) -> Callable[[Any, type[T]], T]:
    """The converter's hook for ``cls``, found once (with cattrs < 24.1: :func:`structure`)."""
    return converter.get_structure_hook(cls) if _HOOK_LOOKUP else converter.structure


def unstructure(obj: Any) -> Any:
    """Turn a model into camelCase JSON-ready data."""
    return converter.unstructure(obj)
