"""``client.sessions``: create a print session, read it back, check its token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .. import _validate as check
from .._http.call import Call
from .._models import Session, SessionToken, UserData
from ..response import to_raw_response
from ._base import Resource, decoder
from ._session_request import SessionRequest

if TYPE_CHECKING:
    from ..jobs._imports import BatchResult, ProgressCallback
    from ..jobs._store import StoreLike

__all__ = ["Sessions", "SessionsWithRawResponse"]

PATH = "api/v1/partner-session"


class Sessions(Resource):
    """Partner sessions: the link that sends your customer to Printora's editor."""

    async def create(
        self,
        *,
        success_url: str,
        failed_url: str,
        image_url: str | None = None,
        creator_id: str | None = None,
        merch_id: str | None = None,
        variant_id: str | None = None,
        quantity: int | None = None,
        user_data: UserData | None = None,
        idempotency_key: str | None = None,
    ) -> Session:
        """Create a session for exactly one of an image, a creator or a merch item.

        Args:
            success_url: where Printora sends the customer after payment.
            failed_url: where Printora sends the customer when payment fails.
            image_url: the customer's design (absolute HTTPS URL; plain ``http`` is refused).
            creator_id: a creator's UUID (the creator flow).
            merch_id: a merch item's UUID, optionally with ``variant_id`` and ``quantity`` 1–100.
            user_data: customer details to pre-fill checkout.
            idempotency_key: sent as ``Idempotency-Key``; a UUID4 is generated when omitted. The
                same key is sent on every retry, so one call makes at most one session; a replay
                (409 ``DUPLICATE_SESSION``) returns the existing session.

        Raises:
            ValueError: an argument is invalid (nothing is sent).
            IdempotencyKeyError: the key was used before with a different body.
        """
        request = SessionRequest(
            success_url=success_url,
            failed_url=failed_url,
            image_url=image_url,
            creator_id=creator_id,
            merch_id=merch_id,
            variant_id=variant_id,
            quantity=quantity,
            user_data=user_data,
            idempotency_key=idempotency_key,
        )
        return await self._create(request)

    async def _create(self, request: SessionRequest) -> Session:
        """Send one request (checked when it was built) under its key, on every attempt."""
        call = Call(
            "POST",
            PATH,
            "sessions.create",
            decoder(Session),
            json=request.body(),
            idempotency_key=request.key,
        )
        return await self._send(call)

    async def get(self, session_id: str) -> Session:
        """The session's details (status, URLs, the order once checked out)."""
        path = f"{PATH}/{check.uuid_str('session_id', session_id)}"
        return await self._send(Call("GET", path, "sessions.get", decoder(Session)))

    async def validate_token(self, token: str) -> SessionToken:
        """Whether a session token (the end of ``redirect_url``) is still usable."""
        path = f"{PATH}/by-token/{check.path_segment('token', token)}"
        return await self._send(Call("GET", path, "sessions.validate_token", decoder(SessionToken)))

    @cached_property
    def with_raw_response(self) -> SessionsWithRawResponse:
        """The same methods, returning the :class:`~aioprintora.response.RawResponse`."""
        return SessionsWithRawResponse(self)

    async def create_many(
        self,
        requests: Iterable[SessionRequest | Mapping[str, Any]],
        *,
        concurrency: int = 10,
        on_progress: ProgressCallback | None = None,
        journal: StoreLike | None = None,
        progress_interval: float = 1.0,
    ) -> list[BatchResult]:
        """Create many sessions concurrently; one result per request, in order.

        Args:
            requests: :class:`~aioprintora.jobs.SessionRequest` objects, or dicts of their
                fields. Give each a ``ref`` (your stable row id): its idempotency key is derived
                from it, so a re-run never makes a second session.
            concurrency: how many requests are in flight at once (the rate limiter still paces).
            on_progress: called with a :class:`~aioprintora.jobs.Progress` after each request,
                and every ``progress_interval`` seconds while none finishes.
            journal: a file path (SQLite) or a :class:`~aioprintora.jobs.Store`: ref →
                session is recorded as each result arrives; a re-run returns journaled rows
                without calling the API. Every request then needs a ``ref`` (else ValueError).
            progress_interval: seconds between heartbeats of ``on_progress``.

        Returns:
            A :class:`~aioprintora.jobs.BatchResult` per request: ``.session`` or ``.error``.
        """
        from ..jobs._imports import _create

        return await _create(
            self,
            requests,
            concurrency=concurrency,
            on_progress=on_progress,
            journal=journal,
            progress_interval=progress_interval,
        )

    def iter_create_many(
        self,
        requests: Iterable[SessionRequest | Mapping[str, Any]],
        *,
        concurrency: int = 10,
        on_progress: ProgressCallback | None = None,
        journal: StoreLike | None = None,
        progress_interval: float = 1.0,
    ) -> AsyncIterator[BatchResult]:
        """Like :meth:`create_many`, yielding each result as soon as it is known.

        Requests are read lazily, so a generator of a million rows never sits in memory.
        """
        from ..jobs._imports import _iter_create

        return _iter_create(
            self,
            requests,
            concurrency=concurrency,
            on_progress=on_progress,
            journal=journal,
            progress_interval=progress_interval,
        )


class SessionsWithRawResponse:
    """``client.sessions.with_raw_response``: ``create``, ``get``, ``validate_token``."""

    def __init__(self, sessions: Sessions) -> None:
        self.create = to_raw_response(sessions.create)
        self.get = to_raw_response(sessions.get)
        self.validate_token = to_raw_response(sessions.validate_token)
