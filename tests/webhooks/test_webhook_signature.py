"""verify_signature and check_timestamp: known answers, every rejection reason, rotation."""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aioprintora._errors import WebhookTimestampError
from aioprintora.webhooks import (
    WebhookSignatureError,
    check_timestamp,
    sign_payload,
    verify_signature,
)

VECTORS = json.loads((Path(__file__).parent / "signature_vectors.json").read_text("utf-8"))

BODY = b'{"sessionId":"s","event":"order.paid","data":{},"timestamp":"2026-01-30T10:40:00Z"}'
SECRET = "whsec_primary"


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["signature"][7:15])
def test_known_answer_vectors(vector: dict[str, str]) -> None:
    body = vector["body"].encode()
    assert sign_payload(body, vector["secret"]) == vector["signature"]
    verify_signature(body, vector["signature"], vector["secret"])
    with pytest.raises(WebhookSignatureError):
        verify_signature(body + b" ", vector["signature"], vector["secret"])


def test_valid_signature_accepted_for_bytes_like_payloads() -> None:
    sig = sign_payload(BODY, SECRET)
    verify_signature(BODY, sig, SECRET)
    verify_signature(bytearray(BODY), sig, SECRET)
    verify_signature(memoryview(BODY), sig, [SECRET])


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing X-Printora-Signature"),
        ("", "missing X-Printora-Signature"),
        ("deadbeef", "malformed"),
        ("sha1=" + "0" * 40, "unsupported signature scheme 'sha1'"),
        ("SHA256=" + "0" * 64, "unsupported signature scheme"),
        ("sha256=" + "0" * 63, "64 lowercase hex"),
        ("sha256=" + "g" * 64, "64 lowercase hex"),
        ("sha256=" + "0" * 64, "does not match"),
    ],
)
def test_rejections_name_their_reason(header: str | None, reason: str) -> None:
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_signature(BODY, header, SECRET)


def test_wrong_secret_and_one_byte_change_are_rejected() -> None:
    sig = sign_payload(BODY, SECRET)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(BODY, sig, "whsec_other")
    changed = bytearray(BODY)
    changed[10] ^= 0x01
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(bytes(changed), sig, SECRET)


def test_uppercase_hex_is_not_an_equivalent_spelling() -> None:
    scheme, digest = sign_payload(BODY, SECRET).split("=")
    with pytest.raises(WebhookSignatureError):
        verify_signature(BODY, f"{scheme}={digest.upper()}", SECRET)


def test_rotation_accepts_any_configured_secret() -> None:
    old, new = "whsec_old", "whsec_new"
    for secret in (old, new):
        verify_signature(BODY, sign_payload(BODY, secret), [new, old])
    with pytest.raises(WebhookSignatureError):
        verify_signature(BODY, sign_payload(BODY, "whsec_retired"), [new, old])


def test_every_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    verify_signature(BODY, sign_payload(BODY, "a"), ["a", "b", "c"])
    assert len(calls) == 3  # no early exit on the first match


@pytest.mark.parametrize("secret", ["", [], [""], ["ok", ""]])
def test_empty_secret_is_a_configuration_error(secret: str | list[str]) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        verify_signature(BODY, sign_payload(BODY, "x"), secret)


def test_text_payload_is_refused() -> None:
    with pytest.raises(TypeError, match="raw body as bytes"):
        verify_signature(BODY.decode(), sign_payload(BODY, SECRET), SECRET)  # type: ignore[arg-type]


def test_secret_never_appears_in_error_text() -> None:
    secret = "whsec_SUPER_SECRET_VALUE"
    for header in (None, "x", "md5=1", "sha256=" + "a" * 64):
        with pytest.raises(WebhookSignatureError) as info:
            verify_signature(BODY, header, secret)
        assert secret not in str(info.value)
        assert secret not in repr(info.value)


NOW = datetime(2026, 1, 30, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(seconds=-299), True),
        (timedelta(seconds=299), True),
        (timedelta(seconds=-300), True),
        (timedelta(seconds=300), True),
        (timedelta(seconds=-301), False),
        (timedelta(seconds=301), False),
        (timedelta(days=-2), False),
        (timedelta(days=2), False),
    ],
)
def test_replay_window_both_directions(offset: timedelta, accepted: bool) -> None:
    timestamp = NOW + offset
    if accepted:
        check_timestamp(timestamp, 300, now=lambda: NOW)
        check_timestamp(timestamp, timedelta(minutes=5), now=lambda: NOW)
    else:
        expected = "in the future" if offset > timedelta(0) else "old"
        with pytest.raises(WebhookTimestampError, match=expected):
            check_timestamp(timestamp, 300, now=lambda: NOW)


@pytest.mark.usefixtures("local_tz")
def test_timestamp_error_is_a_signature_error_and_naive_means_utc() -> None:
    assert issubclass(WebhookTimestampError, WebhookSignatureError)
    check_timestamp(NOW.replace(tzinfo=None), 1, now=lambda: NOW)


def test_default_clock_is_the_system_clock() -> None:
    check_timestamp(datetime.now(timezone.utc), 60)
    with pytest.raises(WebhookTimestampError):
        check_timestamp(datetime.now(timezone.utc) - timedelta(hours=1), 60)
