"""One SessionRequest: its validators, its body, its stable key and fingerprint, and the same
refusal from ``create``, ``create_many`` and the CLI before any request (issue 23)."""

from __future__ import annotations

import inspect
import json
import re
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest

from aioprintora import PrintoraClient, SessionRequest, UserData
from aioprintora.jobs import key_for_ref
from aioprintora.resources.sessions import Sessions
from aioprintora.sandbox import Sandbox
from tests.cli._run import cli_env, run

OK = "https://shop.example.com/ok"
NO = "https://shop.example.com/no"
IMAGE = "https://cdn.example.com/1.png"
MERCH = "3f0c9a56-1f3e-4c1a-9d57-2f1b8c4e7a10"
URLS = {"success_url": OK, "failed_url": NO}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "pass exactly one of image_url / creator_id / merch_id (got none)"),
        (
            {"image_url": IMAGE, "merch_id": MERCH},
            "pass exactly one of image_url / creator_id / merch_id (got image_url, merch_id)",
        ),
        ({"image_url": "http://cdn.example.com/1.png"}, "image_url must be a valid HTTPS URL"),
        ({"image_url": "/1.png"}, "image_url must be an absolute http(s) URL"),
        ({"creator_id": "nope"}, "creator_id must be a UUID, got 'nope'"),
        ({"merch_id": "nope"}, "merch_id must be a UUID, got 'nope'"),
        ({"merch_id": MERCH, "variant_id": "nope"}, "variant_id must be a UUID, got 'nope'"),
        ({"image_url": IMAGE, "variant_id": MERCH}, "variant_id and quantity go with merch_id"),
        ({"image_url": IMAGE, "quantity": 2}, "variant_id and quantity go with merch_id only"),
        ({"merch_id": MERCH, "quantity": 0}, "quantity must be between 1 and 100, got 0"),
        ({"merch_id": MERCH, "quantity": 101}, "quantity must be between 1 and 100, got 101"),
        ({"merch_id": MERCH, "quantity": True}, "quantity must be an integer, got True"),
        ({"merch_id": MERCH, "quantity": "2"}, "quantity must be an integer, got '2'"),
        ({"image_url": IMAGE, "success_url": "/ok"}, "success_url must be an absolute http(s) URL"),
        ({"image_url": IMAGE, "failed_url": "ftp://x/y"}, "failed_url must be an absolute http"),
        ({"image_url": IMAGE, "success_url": None}, "success_url is required"),
        ({"image_url": IMAGE, "user_data": {"email": "a@b"}}, "user_data must be an aioprintora"),
        ({"image_url": IMAGE, "ref": ""}, "ref must be a non-empty string without NUL"),
        ({"image_url": IMAGE, "ref": "a\0b"}, "ref must be a non-empty string without NUL"),
        ({"image_url": IMAGE, "idempotency_key": ""}, "idempotency_key must be a non-empty"),
        (
            {"image_url": IMAGE, "idempotency_key": "k" * 256},
            "idempotency_key must be a non-empty string of at most 255 characters",
        ),
    ],
)
def test_each_rule_refuses_its_field_when_built(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        SessionRequest(**{**URLS, **fields})


def test_the_limits_themselves_are_accepted() -> None:
    SessionRequest(**URLS, merch_id=MERCH, variant_id=MERCH, quantity=1)
    SessionRequest(**URLS, merch_id=MERCH, quantity=100, idempotency_key="k" * 255)
    SessionRequest(success_url="http://localhost:8000/ok", failed_url=NO, creator_id=MERCH)


def test_the_body_is_camel_case_with_only_the_fields_given() -> None:
    plain = SessionRequest(**URLS, image_url=IMAGE, ref="cart-1", idempotency_key="k1")
    assert plain.body() == {"successUrl": OK, "failedUrl": NO, "imageUrl": IMAGE}
    full = SessionRequest(
        **URLS,
        merch_id=MERCH.upper(),  # sent in the canonical form the API checks
        variant_id="{9b2e6f1c-0d4a-4e8b-b1c2-3d4e5f6a7b8c}",
        quantity=3,
        user_data=UserData(email="a@example.com", first_name="Ada"),
        ref="cart-2",
        ref_namespace=uuid.uuid4(),
    )
    assert full.body() == {
        "successUrl": OK,
        "failedUrl": NO,
        "merchId": MERCH,
        "variantId": "9b2e6f1c-0d4a-4e8b-b1c2-3d4e5f6a7b8c",
        "quantity": 3,
        "userData": {"email": "a@example.com", "firstName": "Ada"},
    }
    assert full.merch_id == MERCH.upper()  # the field keeps what was given: the fingerprint's


def test_fingerprints_and_keys_journaled_before_stay_the_same() -> None:
    # Values computed by the code of main before issue 23 (journals on disk hold them).
    image = SessionRequest(ref="cart-1", image_url=IMAGE, **URLS)
    merch = SessionRequest(
        ref="row-7",
        merch_id=MERCH.upper(),
        variant_id="{9b2e6f1c-0d4a-4e8b-b1c2-3d4e5f6a7b8c}",
        quantity=3,
        **URLS,
        user_data=UserData(email="a@example.com", first_name="Ada"),
        ref_namespace=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    )
    assert (image.fingerprint(), image.key) == (
        "2f2db15b69c39c265873d9d175b8ff7b",
        "9fe2c706-4471-5656-9fa9-fdaf1fc91e0a",
    )
    assert (merch.fingerprint(), merch.key) == (
        "de60f56252ceb15f5ed99bd5174e2204",
        "ea4e2f64-898f-501a-bedd-66e9ebee578f",
    )
    assert key_for_ref("cart-1") == image.key
    # Neither the key nor how it is made is content.
    assert attrs.evolve(image, ref="other", idempotency_key="k").fingerprint() == (
        image.fingerprint()
    )


def test_create_keeps_its_keyword_signature() -> None:
    names = list(inspect.signature(Sessions.create).parameters)
    assert names == [
        "self",
        "success_url",
        "failed_url",
        "image_url",
        "creator_id",
        "merch_id",
        "variant_id",
        "quantity",
        "user_data",
        "idempotency_key",
    ]


# -- create, create_many and the CLI refuse the same input the same way, sending nothing --------

BAD = [
    ({"image_url": "http://cdn.example.com/1.png"}, "image_url must be a valid HTTPS URL"),
    ({"creator_id": "nope"}, "creator_id must be a UUID, got 'nope'"),
    ({"image_url": IMAGE, "variant_id": MERCH}, "variant_id and quantity go with merch_id only"),
    ({}, "pass exactly one of image_url / creator_id / merch_id (got none)"),
    ({"image_url": IMAGE, "success_url": "/ok"}, "success_url must be an absolute http(s) URL"),
]


@pytest.mark.parametrize(("bad", "message"), BAD)
async def test_create_and_create_many_refuse_before_sending(
    api: PrintoraClient, sandbox: Sandbox, bad: dict[str, Any], message: str
) -> None:
    fields = {**URLS, **bad}
    with pytest.raises(ValueError, match=re.escape(message)):
        await api.sessions.create(**fields)
    good = {**URLS, "image_url": IMAGE}
    results = await api.sessions.create_many([good, {**fields, "ref": "bad-row"}, good])
    assert [r.ok for r in results] == [True, False, True]  # the batch goes on
    error = results[1].error
    assert isinstance(error, ValueError) and message in str(error)
    assert results[1].request.ref == "bad-row"  # the row as given, for the caller's report
    # Given back, the row is refused again, not sent.
    again = await api.sessions.create_many([results[1].request])
    assert isinstance(again[0].error, ValueError) and message in str(again[0].error)
    assert [r.method for r in sandbox.requests] == ["POST", "POST"]  # the two good rows only


def _cli_args(fields: dict[str, Any]) -> list[str]:
    return [f"--{name.replace('_', '-')}={value}" for name, value in fields.items()]


@pytest.mark.parametrize(("bad", "message"), BAD)
async def test_the_cli_refuses_the_same_before_sending(
    sandbox: Sandbox, tmp_path: Path, bad: dict[str, Any], message: str
) -> None:
    fields = {**URLS, **bad}
    env = cli_env(sandbox)
    created = await run("sessions", "create", *_cli_args(fields), env=env)
    assert created.code == 2, created.err
    (line,) = [line for line in created.err.splitlines() if line.startswith("Error:")]
    assert message in line, created.err
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"ref": "a", **fields}) + "\n")
    journal = tmp_path / "j.sqlite"
    imported = await run("sessions", "import", str(rows), "--journal", str(journal), env=env)
    assert imported.code == 2, imported.err
    (line,) = [line for line in imported.err.splitlines() if line.startswith("Error:")]
    assert f"{rows}: line 1: {message}" in line, imported.err
    assert len(sandbox.requests) == 0


async def test_a_bad_dict_row_is_its_own_error_with_a_journal_too(
    api: PrintoraClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    rows: list[dict[str, Any]] = [
        {**URLS, "ref": "a", "image_url": IMAGE},
        {**URLS, "ref": "b", "image_url": "http://cdn.example.com/b.png"},
        {**URLS, "ref": "c", "image_url": IMAGE, "imageurl": IMAGE},  # a typo'd key
        {**URLS, "image_url": "http://cdn.example.com/d.png"},  # no ref: the key is still made
    ]
    results = await api.sessions.create_many(rows[:3], journal=tmp_path / "j.sqlite")
    assert [r.ok for r in results] == [True, False, False]
    assert isinstance(results[1].error, ValueError) and results[1].request.ref == "b"
    assert isinstance(results[2].error, TypeError) and results[2].request.ref == "c"
    (no_ref,) = await api.sessions.create_many(rows[3:])
    assert isinstance(no_ref.error, ValueError)
    assert uuid.UUID(no_ref.request.key).version == 4  # a random key, as the class makes it
    assert [r.method for r in sandbox.requests] == ["POST"]  # row "a" only
