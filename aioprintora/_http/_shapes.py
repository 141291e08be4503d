"""Fast structuring of listing pages: one generated function per wire spelling of a model.

The general path (:func:`aioprintora._convert.structure`) renames every key of every item and
lets cattrs convert every field. A page's items nearly always share one shape (the same keys),
so :func:`structure_list` reads the first item's keys, builds (once, cached) a function for
exactly that key set, and runs it on every item. The function reads each known key directly,
takes values that already have the field's type as they are (a ``str`` for a ``str``, a
``Decimal`` for a ``Decimal``), and hands anything else to the converter's own hook, so the
results are those of the general path. An item whose key set differs, or whose value the fast
path does not take, goes through the general path (which also raises the usual errors).
"""

from __future__ import annotations

import functools
import operator
import sys
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs

from .._convert import MAX_AMOUNT_EXPONENT, _open_enum, camel, structure, structure_hook

__all__ = ["structure_list"]

T = TypeVar("T")

_EXACT = (str, int, bool, Decimal)  # JSON already yields these exact types
_UTC = timezone.utc


class _Mismatch(Exception):  # noqa: N818 - control flow only, never escapes
    """The item's key set is not the one the function was generated for."""


def structure_list(items: list[Any], cls: type[T]) -> list[T]:
    """Structure a page's items as ``cls``, one generated function per page's shape.

    Raises:
        whatever the general path raises for an item it cannot structure.
    """
    if not items:
        return []
    first = items[0]
    fast: Callable[[Any], T] | None = (
        _shape_fn(cast(Hashable, cls), tuple(first)) if type(first) is dict else None
    )
    if fast is None:
        return [structure(item, cls) for item in items]
    _SEEN_AMOUNTS.clear()
    try:
        return [fast(item) for item in items]  # the common case: one shape, every value taken
    except Exception:  # noqa: S110 - another shape somewhere, or a value only the general path takes
        pass
    out: list[T] = []
    append = out.append
    for item in items:
        try:
            append(fast(item))
        except Exception:  # this item: the general path (which raises the usual errors)
            append(structure(item, cls))
    return out


#: Amount texts seen in the page being decoded (``Decimal`` is immutable): prices repeat.
#: Emptied at the start of every page, so it never holds more than one page's worth.
_SEEN_AMOUNTS: dict[str, Decimal] = {}


def _decimal_fast(slow: Callable[[Any, Any], Any]) -> Callable[[str], Decimal]:
    """Amount text to ``Decimal`` with the general hook's checks; what it refuses, the hook
    refuses with its own error."""
    seen = _SEEN_AMOUNTS
    low, high = -MAX_AMOUNT_EXPONENT, MAX_AMOUNT_EXPONENT

    def to_decimal(value: str) -> Decimal:
        try:
            amount = Decimal(value)
        except ArithmeticError:  # InvalidOperation: not a number
            return slow(value, Decimal)  # type: ignore[no-any-return]
        if not amount.is_finite() or not low <= amount.adjusted() <= high:
            return slow(value, Decimal)  # type: ignore[no-any-return]
        seen[value] = amount
        return amount

    return to_decimal


#: ``fromisoformat`` reads ``Z`` from 3.11 on; before, ISO text takes the general hook.
_ISO_Z = sys.version_info >= (3, 11)


def _optional(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(tp, False)``; open enums keep their ``| str``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if type(None) in args:
            rest = tuple(a for a in args if a is not type(None))
            if len(rest) == 1:
                return rest[0], True
            return typing.Union[rest], True  # noqa: UP007 - built at run time
    return tp, False


def _field_code(name: str, tp: Any, var: str, env: dict[str, Any], texts: list[str]) -> list[str]:
    """Statements turning the wire value in ``var`` into the field's value, in ``var``.

    ``texts``: the variable of the item's first datetime, once it has one (an order's
    ``updatedAt`` is often its ``createdAt``: the text is then parsed once).
    """
    inner, optional = _optional(tp)
    hook = f"_h_{name}"
    env[hook] = structure_hook(tp)
    env[f"_t_{name}"] = tp
    slow = f"{hook}({var}, _t_{name})"
    enum_cls = _open_enum(inner)
    # The common case is tested first; ``None`` only after it, for optional fields.
    otherwise = f"(None if {var} is None else {slow})" if optional else slow
    if inner is Decimal:
        # JSON yields only finite Decimals (NaN/Infinity come as floats, to the slow hook), but
        # their exponent may be absurd: those go to the hook too, which refuses them. Amounts
        # sent as text ([drift]: ``"34.50"``) are parsed here, once per distinct text a page.
        env["_Decimal"] = Decimal
        env["_seen_amount"] = _SEEN_AMOUNTS.get
        env[f"_a_{name}"] = _decimal_fast(structure_hook(Decimal))
        return [
            f"{var} = {var} if {var}.__class__ is _Decimal and -{MAX_AMOUNT_EXPONENT} <= "
            f"{var}.adjusted() <= {MAX_AMOUNT_EXPONENT} else (_seen_amount({var}) or "
            f"_a_{name}({var})) if {var}.__class__ is _str else {otherwise}"
        ]
    if inner in _EXACT:
        env[f"_x_{name}"] = inner
        return [f"{var} = {var} if {var}.__class__ is _x_{name} else {otherwise}"]
    if enum_cls is not None:
        env[f"_m_{name}"] = {member.value: member for member in enum_cls}.get
        return [f"{var} = _m_{name}({var}, {var}) if {var}.__class__ is _str else {otherwise}"]
    if inner is datetime and _ISO_Z:
        # Text that ``fromisoformat`` refuses raises here: the item takes the general path,
        # which reads the other spellings it accepts (or raises the usual error).
        env["_iso"], env["_UTC"] = datetime.fromisoformat, _UTC
        parse = [f"{var} = _iso({var})", f"if {var}.tzinfo is None:"]
        parse.append(f"    {var} = {var}.replace(tzinfo=_UTC)")
        if texts:  # the item's first datetime is parsed already: its text, when equal, reused
            first = texts[0]
            lines = [f"if {var}.__class__ is _str:", f"    if {var} == {first}_text:"]
            lines += [f"        {var} = {first}", "    else:", *(f"        {p}" for p in parse)]
            return [*lines, "else:", f"    {var} = {otherwise}"]
        texts.append(var)
        lines = [f"if {var}.__class__ is _str:", f"    {var}_text = {var}"]
        lines += [*(f"    {p}" for p in parse), "else:", f"    {var}_text = None"]
        return [*lines, f"    {var} = {otherwise}"]
    return [f"{var} = {slow}"]


def _wire_names(cls: type) -> dict[str, tuple[str, bool]]:
    """wire key -> (field name, whether the key is a canonical spelling)."""
    names: dict[str, tuple[str, bool]] = {}
    for field in attrs.fields(cls):
        for alias in field.metadata.get("aliases", ()):
            names.setdefault(alias, (field.name, False))
        names[camel(field.name)] = (field.name, True)
        names[field.name] = (field.name, True)
    return names


def _settable(cls: type) -> bool:
    """Whether ``__init__`` only stores its arguments, so setting the slots directly is the same.

    True for slotted classes without validators, converters, factories, ``__attrs_post_init__``
    or ``__attrs_pre_init__``: what attrs' generated ``__init__`` does for them is one
    ``object.__setattr__`` per field, which is what the slot descriptors do, minus the call.
    """
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__attrs_post_init__"):
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_init__"):
        return False
    for field in attrs.fields(cls):
        if field.validator is not None or field.converter is not None or not field.init:
            return False
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            return False
        if not hasattr(cls.__dict__.get(field.name), "__set__"):
            return False
    return True


def _choose(cls: Any, keys: tuple[str, ...]) -> dict[str, str] | None:
    """field -> the wire key it is read from (None: the general path decides)."""
    names = _wire_names(cls)
    chosen: dict[str, tuple[str, bool]] = {}  # field -> (wire key, canonical)
    for key in keys:
        if key not in names:
            continue  # unknown keys are ignored, as on the general path
        field, canonical = names[key]
        if field in chosen:
            if chosen[field][1] and canonical:
                return None  # camelCase and snake_case both present: the general path decides
            if not canonical:
                continue  # a declared alias loses to a canonical name
        chosen[field] = (key, canonical)
    return {field: key for field, (key, _) in chosen.items()}


@functools.lru_cache(maxsize=256)
def _shape_fn(cls: Any, keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any] | None:
    """The structure function for items with exactly these keys (None: use the general path)."""
    if not attrs.has(cls) or len(set(keys)) != len(keys):
        return None
    chosen = _choose(cls, keys)
    if chosen is None:
        return None
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        return None
    fields = attrs.fields(cls)
    if any(f.name not in chosen and f.default is attrs.NOTHING for f in fields):
        return None  # a required field is missing: the general path raises the usual error
    env: dict[str, Any] = {"_cls": cls, "_Mismatch": _Mismatch, "_str": str}
    lines = ["def structure_shape(d):", f"    if len(d) != {len(keys)}:", "        raise _Mismatch"]
    # Every key of the shape is read at once (one C call); a missing one raises KeyError, so an
    # item of the same length with another key of its own takes the general path.
    variables = [f"v{index}" for index in range(len(keys))]
    env["_get"] = operator.itemgetter(*keys)
    unpack = ", ".join(variables) + ("," if len(keys) == 1 else "")
    lines.append(f"    {unpack} = _get(d)")
    direct = _settable(cls)
    if direct:
        env["_new"] = object.__new__
        lines.append("    o = _new(_cls)")
    var_of = dict(zip(keys, variables, strict=True))
    texts: list[str] = []
    args = []
    for index, field in enumerate(fields):
        if field.name not in chosen:
            if direct:  # every slot is set, defaults included (all plain values, see _settable)
                env[f"_default_{index}"] = field.default
                lines.append(f"    _s_{field.name}(o, _default_{index})")
            continue
        var = var_of[chosen[field.name]]
        code = _field_code(field.name, hints[field.name], var, env, texts)
        if direct and len(code) == 1:  # one expression: stored straight into the slot
            lines.append(f"    _s_{field.name}(o, {code[0].removeprefix(f'{var} = ')})")
            continue
        lines.extend(f"    {line}" for line in code)
        if direct:
            lines.append(f"    _s_{field.name}(o, {var})")
        else:
            args.append(f"{field.name}={var}")
    if direct:
        env.update({f"_s_{f.name}": cls.__dict__[f.name].__set__ for f in fields})
        lines.append("    return o")
    else:
        lines.append(f"    return _cls({', '.join(args)})")
    # Generated from field names and the first item's keys (as repr'd literals), never run on
    # anything else: the same technique attrs and cattrs use for their own generated code.
    exec(compile("\n".join(lines), f"<aioprintora shape {cls.__name__}>", "exec"), env)  # noqa: S102
    return env["structure_shape"]  # type: ignore[no-any-return]
