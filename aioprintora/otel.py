"""OpenTelemetry tracing (``pip install 'aioprintora[otel]'``): ``hooks=[OpenTelemetryHooks()]``.

Each call is one ``INTERNAL`` span named after the operation (``printora orders.list``), parent
of one ``CLIENT`` span per HTTP attempt that follows the HTTP client semantic conventions:
``http.request.method``, ``url.full`` (never with credentials: the key travels in a header),
``server.address``, ``server.port``, ``http.response.status_code``, ``error.type`` and, on
retries, ``http.request.resend_count``. Rate-limiter waits and retries are events on the call's
span. The spans are made in the task of the call, under whatever span is current there.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _errors as errors
from .hooks import AttemptInfo, CallInfo, Hooks, RateLimitWait, RetryEvent

__all__ = ["OpenTelemetryHooks"]


class OpenTelemetryHooks(Hooks):
    """Hooks that trace every call and attempt with OpenTelemetry.

    Args:
        tracer_provider: where the spans go; default the global one.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        from . import __version__

        self._tracer = trace.get_tracer("aioprintora", __version__, tracer_provider)

    def _spans(self, call: CallInfo) -> dict[str, Any]:
        spans: dict[str, Any] = call.state.setdefault(self, {})
        return spans

    def on_call_start(self, call: CallInfo) -> None:
        """Open the call's INTERNAL span."""
        span = self._tracer.start_span(f"printora {call.operation}", kind=SpanKind.INTERNAL)
        self._spans(call)["call"] = span

    def on_rate_limit_wait(self, call: CallInfo, event: RateLimitWait) -> None:
        """An event on the call's span."""
        span = self._spans(call).get("call")
        if span is not None:
            attributes = {"printora.wait_seconds": event.wait, "printora.reason": event.reason}
            span.add_event("rate_limit_wait", attributes)

    def on_request(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """Open the attempt's CLIENT span, child of the call's."""
        spans = self._spans(call)
        parent = spans.get("call")
        context = trace.set_span_in_context(parent) if parent is not None else None
        url = call.url.with_user(None).with_password(None)
        attributes: dict[str, Any] = {
            "http.request.method": call.method,
            "url.full": str(url),
            "server.address": url.host or "",
            "server.port": url.port or 0,
        }
        if attempt.number > 1:
            attributes["http.request.resend_count"] = attempt.number - 1
        spans["attempt"] = self._tracer.start_span(
            call.method, context=context, kind=SpanKind.CLIENT, attributes=attributes
        )

    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """Close the attempt's span with its status or failure."""
        span = self._spans(call).pop("attempt", None)
        if span is None:
            return
        if attempt.status_code is not None:
            span.set_attribute("http.response.status_code", attempt.status_code)
        if attempt.error is not None:
            span.set_attribute("error.type", _error_type(attempt))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def on_retry(self, call: CallInfo, event: RetryEvent) -> None:
        """An event on the call's span."""
        span = self._spans(call).get("call")
        if span is not None:
            attributes = {"printora.wait_seconds": event.wait, "printora.reason": event.reason}
            span.add_event("retry", attributes)

    def on_call_end(self, call: CallInfo, error: BaseException | None) -> None:
        """Close the call's span."""
        spans = call.state.pop(self, {})
        span = spans.get("call")
        if span is None:
            return
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end()


def _error_type(attempt: AttemptInfo) -> str:
    """The status code for an HTTP error (as the conventions ask), else the exception's class."""
    status = attempt.status_code
    if isinstance(attempt.error, errors.APIError) and status is not None and status >= 400:
        return str(status)
    return type(attempt.error).__qualname__
