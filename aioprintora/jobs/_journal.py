"""The import journal: ref → session (or error), written as each result arrives.

One entry per :attr:`~aioprintora.jobs.SessionRequest.ref`, as JSON in a
:class:`~aioprintora.jobs.Store`: the request's fingerprint (a hash of what it asks for),
then either the session (with its ``created_at``) or the error it met. A re-run reads the
entry before calling the API:

- a session whose fingerprint matches is returned as is, with no request, so the import stays
  exactly-once even after the server has forgotten the idempotency key;
- a session under another fingerprint is that row's :class:`JournalConflictError` (the ref was
  re-used for different content: nothing is sent);
- an error is retried. Errors are kept beside the sessions, never in their place, so an error
  met by a second row with the same ref (or a second importer) cannot replace a saved session.

A journal belongs to one account and API: it records a digest of the API key (never the key)
and the base URL with its first entry, and :meth:`Journal.bind` refuses a journal written with
another one (:class:`~aioprintora.jobs.AccountMismatchError`). A journal written before this
binding existed is bound by the first entry it gets. :meth:`Journal.bind` also writes, so a
journal that cannot be written (a read-only file, a full disk) fails before any request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

from .._convert import structure, unstructure
from .._models import Session
from ._store import Store, check_account

__all__ = ["Journal", "JournalConflictError", "JournalEntry"]

_VERSION = 1
_ERROR = "\0error"  # suffix of the key an error entry is kept under, beside the session's
_ACCOUNT = "\0account"  # no ref can collide: refs never hold NUL
_PROBE = "\0probe"  # written before the first request: proof the store takes writes


class JournalConflictError(ValueError):
    """A ref already journaled with a session was given again with different content."""


@attrs.frozen
class JournalEntry:
    """What the journal holds for one ref."""

    fingerprint: str
    session: Session | None = None
    error: str | None = None


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
        self._unbound: bytes | None = None  # the account, until an entry has carried it

    async def bind(self, account: str) -> None:
        """Refuse a journal of another account, and make sure the store takes writes.

        The account is recorded with the next entry, so a run that journals nothing (a wrong
        key stops it at the first answer) leaves the journal free for the right key.

        Args:
            account: which account and API the entries belong to (a digest, never the key).

        Raises:
            AccountMismatchError: the journal was written with another API key or base URL.
        """
        raw = (await self.store.get_many([_ACCOUNT])).get(_ACCOUNT)
        remedy = "use another journal (each account and API needs its own)"
        check_account(None if raw is None else raw.decode(), account, "journal", remedy)
        await self.store.put_many({_PROBE: b""})
        self._unbound = None if raw is not None else account.encode()

    async def lookup(self, refs: Iterable[str]) -> dict[str, JournalEntry]:
        """The entries of those ``refs`` that were journaled (a session wins over an error)."""
        wanted = list(refs)
        found = await self.store.get_many([*wanted, *(ref + _ERROR for ref in wanted)])
        entries = {}
        for ref in wanted:
            raw = found.get(ref) or found.get(ref + _ERROR)
            if raw is not None:
                entries[ref] = _decode(raw)
        return entries

    async def record(self, ref: str, entry: JournalEntry) -> None:
        """Write one entry durably; an error entry is kept apart and never hides a session."""
        key = ref if entry.session is not None else ref + _ERROR
        items = {key: _encode(entry)}
        if self._unbound is not None:
            items[_ACCOUNT] = self._unbound
        await self.store.put_many(items)
        self._unbound = None


def describe(exc: BaseException) -> str:
    """An error as the journal keeps it: its type and message (never a secret: ours redact)."""
    return f"{type(exc).__name__}: {exc}"[:500]
