"""The fields of one session, checked once: what ``create``, ``create_many`` and the CLI send.

A :class:`SessionRequest` refuses a bad field when it is built (``ValueError`` naming the
field), so nothing invalid is ever sent. :meth:`SessionRequest.body` is its camelCase JSON,
made by the one converter; :meth:`SessionRequest.fingerprint` and :attr:`SessionRequest.key`
are what journals on disk hold, so their values never change.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from .. import _validate as check
from .._convert import unstructure
from .._models import UserData

__all__ = [
    "CONTENT",
    "DEFAULT_REF_NAMESPACE",
    "FLOWS",
    "SessionRequest",
    "fingerprint",
    "key_for_ref",
]

#: The namespace of keys derived from refs, unless a request names its own.
DEFAULT_REF_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7a-9c01-7a5b3e2d9f40")
#: The fields of which a session names exactly one: what the customer buys.
FLOWS = ("image_url", "creator_id", "merch_id")

_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
#: The makings of the key: never in the body, nor in the fingerprint.
_LOCAL = {"serialize": False}


def key_for_ref(ref: str, namespace: uuid.UUID = DEFAULT_REF_NAMESPACE) -> str:
    """The idempotency key a request with this ``ref`` sends: UUIDv5 over ``namespace``."""
    return str(uuid.uuid5(namespace, ref))


def fingerprint(fields: dict[str, Any]) -> str:
    """A stable hash of a request's content (its idempotency key and ref excluded)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _new_key() -> str:
    return str(uuid.uuid4())


def _rule(test: Callable[[str, Any], object]) -> _Validator:
    """An attrs validator from a check of :mod:`aioprintora._validate`; None passes."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            test(attribute.name, value)

    return validate


def _required_url(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        raise ValueError(f"{attribute.name} is required")
    check.absolute_url(attribute.name, value)


def _quantity(name: str, value: Any) -> None:
    check.int_range(name, value, 1, 100)


def _user_data(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, UserData):
        raise ValueError(f"{attribute.name} must be an aioprintora.UserData")


def _ref(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value or "\0" in value):
        raise ValueError(f"{attribute.name} must be a non-empty string without NUL")


def _key(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value or len(value) > 255):
        raise ValueError(f"{attribute.name} must be a non-empty string of at most 255 characters")


def _wire_uuid(value: str) -> str:
    """The canonical spelling the API expects; the field keeps the caller's (the fingerprint's)."""
    return str(uuid.UUID(str(value)))


_UUID = {"wire_value": _wire_uuid}


@attrs.frozen
class SessionRequest:
    """One session to create: its fields, checked when built, and how its key is made.

    Exactly one of ``image_url``, ``creator_id`` and ``merch_id`` names what the customer buys.

    Args:
        success_url: where Printora sends the customer after payment (absolute URL).
        failed_url: where Printora sends the customer when payment fails (absolute URL).
        image_url: the customer's design (absolute HTTPS URL; plain ``http`` is refused).
        creator_id: a creator's UUID (the creator flow).
        merch_id: a merch item's UUID, optionally with ``variant_id`` (a UUID) and
            ``quantity`` (1–100).
        variant_id: with ``merch_id``: the variant.
        quantity: with ``merch_id``: how many, 1–100.
        user_data: customer details to pre-fill checkout.
        ref: your stable id for this row (cart id, CSV key): the key is derived from it, and a
            journal records the row under it.
        idempotency_key: an explicit key (wins over ``ref``); at most 255 characters.
        ref_namespace: the UUIDv5 namespace of keys derived from ``ref`` (set your own to keep
            refs of two unrelated imports from meeting).

    With neither ``ref`` nor ``idempotency_key`` a random key is made once, when the request is
    built, so re-sending the same object is still safe.

    Raises:
        ValueError: a field is invalid; the message names it.
    """

    success_url: str = attrs.field(validator=_required_url)
    failed_url: str = attrs.field(validator=_required_url)
    image_url: str | None = attrs.field(default=None, validator=_rule(check.https_url))
    creator_id: str | None = attrs.field(
        default=None, validator=_rule(check.uuid_str), metadata=_UUID
    )
    merch_id: str | None = attrs.field(
        default=None, validator=_rule(check.uuid_str), metadata=_UUID
    )
    variant_id: str | None = attrs.field(
        default=None, validator=_rule(check.uuid_str), metadata=_UUID
    )
    quantity: int | None = attrs.field(default=None, validator=_rule(_quantity))
    user_data: UserData | None = attrs.field(default=None, validator=_user_data)
    ref: str | None = attrs.field(default=None, validator=_ref, metadata=_LOCAL)
    idempotency_key: str | None = attrs.field(default=None, validator=_key, metadata=_LOCAL)
    ref_namespace: uuid.UUID = attrs.field(default=DEFAULT_REF_NAMESPACE, metadata=_LOCAL)
    _random_key: str = attrs.field(
        factory=_new_key, init=False, repr=False, eq=False, metadata=_LOCAL
    )

    def __attrs_post_init__(self) -> None:
        """The rules between fields, once each field passed its own."""
        check.exactly_one(**{name: getattr(self, name) for name in FLOWS})
        if self.merch_id is None and (self.variant_id is not None or self.quantity is not None):
            raise ValueError("variant_id and quantity go with merch_id only")

    @property
    def key(self) -> str:
        """The ``Idempotency-Key`` this request sends on every attempt and every re-run."""
        if self.idempotency_key is not None:
            return self.idempotency_key
        if self.ref is not None:
            return key_for_ref(self.ref, self.ref_namespace)
        return self._random_key

    def body(self) -> dict[str, Any]:
        """The JSON body of ``POST api/v1/partner-session``: camelCase, only the fields given."""
        body: dict[str, Any] = unstructure(self)
        return body

    def fingerprint(self) -> str:
        """A hash of what this request asks for (key and ref excluded)."""
        content = {
            name: attrs.asdict(value) if attrs.has(type(value)) else value
            for name in CONTENT
            if (value := getattr(self, name)) is not None
        }
        return fingerprint(content)


#: The fields a session is made of (the body's and the fingerprint's), in the class's order.
CONTENT = tuple(f.name for f in attrs.fields(SessionRequest) if f.metadata.get("serialize", True))
