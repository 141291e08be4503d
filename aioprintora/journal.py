"""The import journal: ref → session (or error), written as each result arrives.

One entry per :attr:`~aioprintora.bulk.SessionRequest.ref`, as JSON in a
:class:`~aioprintora.store.Store`: the request's fingerprint (a hash of what it asks for),
then either the session (with its ``created_at``) or the error it met. A re-run reads the
entry before calling the API:

- a session whose fingerprint matches is returned as is, with no request, so the import stays
  exactly-once even after the server has forgotten the idempotency key;
- a session under another fingerprint is that row's :class:`JournalConflictError` (the ref was
  re-used for different content: nothing is sent);
- an error is retried (its entry is replaced by the new outcome).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import attrs

from ._convert import structure, unstructure
from .models import Session
from .store import Store

__all__ = ["Journal", "JournalConflictError", "JournalEntry", "fingerprint"]

_VERSION = 1


class JournalConflictError(ValueError):
    """A ref already journaled with a session was given again with different content."""


@attrs.frozen
class JournalEntry:
    """What the journal holds for one ref."""

    fingerprint: str
    session: Session | None = None
    error: str | None = None


def fingerprint(fields: dict[str, Any]) -> str:
    """A stable hash of a request's content (its idempotency key and ref excluded)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _encode(entry: JournalEntry) -> bytes:
    body: dict[str, Any] = {"v": _VERSION, "fp": entry.fingerprint}
    if entry.session is not None:
        body["session"] = unstructure(entry.session)
    if entry.error is not None:
        body["error"] = entry.error
    return json.dumps(body, separators=(",", ":")).encode()


def _decode(raw: bytes) -> JournalEntry:
    body = json.loads(raw)
    session = body.get("session")
    return JournalEntry(
        fingerprint=body["fp"],
        session=None if session is None else structure(session, Session),
        error=body.get("error"),
    )


class Journal:
    """Read and write journal entries in ``store``.

    Args:
        store: where entries live (one namespace per import).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def lookup(self, refs: Iterable[str]) -> dict[str, JournalEntry]:
        """The entries of those ``refs`` that were journaled."""
        found = await self.store.get_many(refs)
        return {ref: _decode(raw) for ref, raw in found.items()}

    async def record(self, ref: str, entry: JournalEntry) -> None:
        """Write one entry durably (it replaces any entry of ``ref``)."""
        await self.store.put_many({ref: _encode(entry)})


def describe(exc: BaseException) -> str:
    """An error as the journal keeps it: its type and message (never a secret: ours redact)."""
    return f"{type(exc).__name__}: {exc}"[:500]
