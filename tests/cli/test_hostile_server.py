"""A hostile server: every string it sends holds rich markup, terminal codes, a lone surrogate
and a formula, through every table and export command. None of it crashes the command, drives
the terminal or runs in a spreadsheet; ``--json`` and JSON Lines keep it exactly."""

from __future__ import annotations

import asyncio
import csv
import json
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

from aioprintora._models import Order, Session, UserData, WebhookDelivery, WebhookLog
from aioprintora.webhooks import SIGNATURE_HEADER, sign_payload

from ._run import cli_env, interrupt, run, start, wait_for_line

#: No spaces (so a folded table cell can be put back together), a formula first.
HOSTILE = (
    '=HYPERLINK("http://evil.example")[/oops][link=http://evil.example]x[/link]'
    "\x1b[2J\x9b1m\x07\u202e\ud800:thumbs_up:"
)
#: What a person sees of it in a table: every character that is not text, escaped.
SHOWN = (
    '=HYPERLINK("http://evil.example")[/oops][link=http://evil.example]x[/link]'
    "\\x1b[2J\\x9b1m\\x07\\u202e\\ud800:thumbs_up:"
)
#: What drives a terminal: ESC, the C1 CSI, BEL, a right-to-left override.
_CONTROL = ("\x1b", "\x9b", "\x07", "\u202e")
KEY = "sk_test_hostile"
SECRET = "whsec_hostile"
SESSION_ID = "3f0c9a56-1f3e-4c1a-9d57-2f1b8c4e7a10"
LOG_ID = "5d1f7c2a-0b7e-4c4e-8f00-2b1c3d4e5f60"
SHOP = ("--success-url", "https://s.example.com/ok", "--failed-url", "https://s.example.com/no")


def _hostile(cls: type[Any], **valid: Any) -> Any:
    """``cls`` with every field that may be a string set to HOSTILE + its name."""
    hints = typing.get_type_hints(cls)
    values = dict(valid)
    for field in attrs.fields(cls):
        hint = hints[field.name]
        if field.name not in values and str in (hint, *typing.get_args(hint)):
            values[field.name] = HOSTILE + field.name
    return cls(**values)


ORDER = _hostile(Order, total_amount="19.99")
LOG = _hostile(WebhookLog, status_code=500, attempt_count=3, response_data={"body": HOSTILE})
SESSION = _hostile(Session, quantity=2, user_data=_hostile(UserData))
DELIVERY = _hostile(WebhookDelivery)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


def test_every_string_field_of_every_model_is_hostile() -> None:
    for model in (ORDER, LOG, SESSION, DELIVERY):
        wire = model.to_dict(wire=True)
        strings = _strings(wire)
        hints = typing.get_type_hints(type(model))
        text_fields = [
            f
            for f in attrs.fields(type(model))
            if str in (*typing.get_args(hints[f.name]), hints[f.name])
        ]
        assert len([s for s in strings if s.startswith(HOSTILE)]) >= len(text_fields), type(model)


def _ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response({"success": True, "data": data}, status=status)


async def _orders(request: web.Request) -> web.Response:
    if request.query.get("status") == "cancelled":  # a hostile error message
        error = {"code": HOSTILE, "message": HOSTILE}
        return web.json_response({"success": False, "error": error}, status=400)
    pagination = {"total": 1, "limit": 100, "offset": 0, "hasMore": False}
    return _ok({"orders": [ORDER.to_dict(wire=True)], "pagination": pagination})


async def _create_session(request: web.Request) -> web.Response:
    if "refused" in (await request.json()).get("imageUrl", ""):  # a hostile error message
        error = {"code": HOSTILE, "message": HOSTILE}
        return web.json_response({"success": False, "error": error}, status=400)
    return _ok(SESSION.to_dict(wire=True), 201)


def _answer(data: Any, status: int = 200) -> Any:
    async def handler(_: web.Request) -> web.Response:
        return _ok(data, status)

    return handler


@pytest.fixture
async def hostile() -> AsyncIterator[str]:
    """The hostile API's base URL."""
    pagination = {"total": 1, "limit": 100, "offset": 0, "hasMore": False}
    logs = {"logs": [LOG.to_dict(wire=True)], "pagination": pagination}
    session, delivery = SESSION.to_dict(wire=True), DELIVERY.to_dict(wire=True)
    app = web.Application()
    api = "/api/v1"
    app.router.add_get(f"{api}/partners/orders", _orders)
    app.router.add_get(f"{api}/partners/webhook-logs", _answer(logs))
    app.router.add_post(f"{api}/partner-session", _create_session)
    app.router.add_get(f"{api}/partner-session/{{id}}", _answer(session))
    app.router.add_post(f"{api}/partners/webhook-logs/resend", _answer(delivery))
    app.router.add_post(f"{api}/partners/webhook-logs/{{id}}/retry", _answer(delivery))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _env(base_url: str) -> dict[str, str]:
    return cli_env(None, PRINTORA_BASE_URL=base_url, PRINTORA_API_KEY=KEY)


def _clean(text: str) -> None:
    """Nothing in ``text`` drives a terminal, and nothing crashed."""
    assert not any(c in text for c in _CONTROL), repr(text[:300])
    assert "Traceback" not in text and "MarkupError" not in text


def _columns(table: str) -> list[str]:
    """Each column of a rich table (header and folded lines included) joined top to bottom."""
    lines = [line for line in table.splitlines() if line.startswith(("│", "┃"))]
    cells = [[c.strip() for c in line.strip("│┃").replace("┃", "│").split("│")] for line in lines]
    return ["".join(col) for col in zip(*cells, strict=True)]


def _table_shows(out: str, columns: tuple[str, ...], model: Any) -> None:
    data = model.to_dict()
    joined = _columns(out)
    for name, column in zip(columns, joined, strict=True):
        value = data[name]
        shown = (
            SHOWN + value[len(HOSTILE) :]
            if isinstance(value, str) and value.startswith(HOSTILE)
            else str("" if value is None else value)
        )
        assert column == name + shown, (name, column)


def _record_shows(out: str, model: Any, fields: list[str]) -> None:
    lines = dict((*line.split(None, 1), "")[:2] for line in out.splitlines() if line.strip())
    for name in fields:
        assert lines[name] == SHOWN + name, (name, lines.get(name))


async def test_tables_show_server_strings_as_text(hostile: str) -> None:
    env = _env(hostile)
    orders, logs = await asyncio.gather(
        run("orders", "list", env=env), run("webhooks", "logs", env=env)
    )
    for done in (orders, logs):
        assert done.code == 0, done.err
        _clean(done.out + done.err)
    _table_shows(
        orders.out,
        ("id", "order_number", "status", "total_amount", "currency", "created_at"),
        ORDER,
    )
    _table_shows(
        logs.out, ("id", "event_type", "status", "status_code", "attempt_count", "order_id"), LOG
    )

    created, got, resent, retried = await asyncio.gather(
        run("sessions", "create", "--image-url", "https://cdn.example.com/1.png", *SHOP, env=env),
        run("sessions", "get", SESSION_ID, env=env),
        run("webhooks", "resend", "--order-id", SESSION_ID, "--event-type", "order.paid", env=env),
        run("webhooks", "retry", LOG_ID, env=env),
    )  # fmt: skip
    text_fields = ["redirect_url", "image_url", "status", "success_url", "failed_url"]
    for done in (created, got, resent, retried):
        assert done.code == 0, done.err
        _clean(done.out + done.err)
    _record_shows(created.out, SESSION, ["id", *text_fields, "creator_id", "order_id"])
    _record_shows(got.out, SESSION, ["id", *text_fields, "merch_id", "variant_id"])
    for done in (resent, retried):
        _record_shows(done.out, DELIVERY, ["webhook_log_id", "event_type", "status", "message"])

    refused = await run("orders", "list", "--status", "cancelled", env=env)
    assert refused.code == 1 and refused.out == ""
    _clean(refused.err)
    assert refused.err.count("\n") == 1 and refused.err.startswith("Error: ")
    assert SHOWN in refused.err


async def test_json_keeps_server_strings_exactly(hostile: str) -> None:
    env = _env(hostile)
    runs = await asyncio.gather(
        run("orders", "list", "--json", env=env),
        run("webhooks", "logs", "--json", env=env),
        run("sessions", "get", SESSION_ID, "--json", env=env),
        run("webhooks", "retry", LOG_ID, "--json", env=env),
    )
    for done in runs:
        assert done.code == 0, done.err
        _clean(done.out + done.err)
    orders, logs, session, delivery = (json.loads(done.out) for done in runs)
    assert orders["items"] == [ORDER.to_dict()]
    assert logs["items"] == [LOG.to_dict()]
    assert session == SESSION.to_dict()
    assert delivery == DELIVERY.to_dict()


async def test_exports_are_exact_or_spreadsheet_safe(hostile: str, tmp_path: Path) -> None:
    env = _env(hostile)
    safe, raw, jsonl = tmp_path / "safe.csv", tmp_path / "raw.csv", tmp_path / "o.jsonl"
    state, changes = tmp_path / "state.sqlite", tmp_path / "changes.jsonl"
    runs = await asyncio.gather(
        run("orders", "export", "--format", "csv", "-o", str(safe), env=env),
        run("orders", "export", "--format", "csv", "--raw", "-o", str(raw), env=env),
        run("orders", "export", "--format", "jsonl", "-o", str(jsonl), env=env),
        run("orders", "sync", "--state", str(state), "-o", str(changes), env=env),
    )
    for done in runs:
        assert done.code == 0, done.err
        _clean(done.out + done.err)
    expected = ORDER.to_dict()
    for path in (jsonl, changes):
        (line,) = path.read_text("utf-8").splitlines()
        assert json.loads(line) == expected
    # CSV cannot hold a lone surrogate: it is written as its escape.
    as_text = {
        k: v.replace("\ud800", "\\ud800") if isinstance(v, str) else v for k, v in expected.items()
    }
    with safe.open(newline="", encoding="utf-8") as file:
        (row,) = csv.DictReader(file)
    for name, value in as_text.items():
        if isinstance(value, str) and value.startswith("="):
            assert row[name] == "'" + value, name
    assert row["total_amount"] == "19.99"
    with raw.open(newline="", encoding="utf-8") as file:
        (row,) = csv.DictReader(file)
    assert row["order_number"] == as_text["order_number"]


async def test_import_results_keep_server_strings_exactly(hostile: str, tmp_path: Path) -> None:
    rows, results = tmp_path / "rows.csv", tmp_path / "results.jsonl"
    urls = "https://s.example.com/ok,https://s.example.com/no"
    rows.write_text(
        "ref,image_url,success_url,failed_url\n"
        f"a,https://cdn.example.com/a.png,{urls}\nb,https://cdn.example.com/refused.png,{urls}\n"
    )
    args = ("sessions", "import", str(rows), "--journal", str(tmp_path / "j.sqlite"))
    as_json = await run(*args, "--out", str(results), "--json", env=_env(hostile))
    assert as_json.code == 1, as_json.err  # a row failed
    _clean(as_json.out + as_json.err)
    written = [json.loads(line) for line in results.read_text("utf-8").splitlines()]
    assert written == [json.loads(line) for line in as_json.out.splitlines()]
    made, refused = sorted(written, key=lambda r: r["ref"])
    assert made["session_id"] == SESSION.id and made["redirect_url"] == SESSION.redirect_url
    assert refused["error"] == f"{HOSTILE}: {HOSTILE} (HTTP 400)"

    table = await run(*args, env=_env(hostile))  # the failed row again, as a table
    assert table.code == 1, table.err
    _clean(table.out + table.err)
    ref, error = (column.replace(" ", "") for column in _columns(table.out))
    assert (ref, error) == ("refb", f"error{SHOWN}:{SHOWN}(HTTP400)")  # folded: no spaces


async def test_listen_prints_a_hostile_delivery_as_text() -> None:
    proc = await start(
        "webhooks", "listen", "--port", "0", env=cli_env(None, PRINTORA_WEBHOOK_SECRET=SECRET)
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = await wait_for_line(proc.stderr, "listening on")
        url = ready.split("listening on ", 1)[1].split(" ", 1)[0]
        body = json.dumps(
            {
                "event": HOSTILE,
                "sessionId": HOSTILE + "session",
                "timestamp": "2026-12-06T06:00:00Z",
                "data": {"orderId": HOSTILE + "order", "status": HOSTILE + "status"},
            }
        ).encode()
        import aiohttp

        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=body, headers={SIGNATURE_HEADER: sign_payload(body, SECRET)}) as r,
        ):
            assert r.status == 200, await r.text()
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
    finally:
        done = await interrupt(proc)
    _clean(line + done.out + done.err)
    for part in (SHOWN, f"session={SHOWN}session", f"order={SHOWN}order", f"status={SHOWN}status"):
        assert part in line, line


FORMULAS = {
    '=HYPERLINK("http://evil.example","x")': True,
    "+cmd|' /C calc'!A0": True,
    "@SUM(1+1)*cmd|' /C calc'!A0": True,
    "-2+3+cmd|' /C calc'!A0": True,
    "\tTAB": True,
    "\rCR": True,
    "-5.00": False,  # a plain number stays one
    "ORD-1042": False,
}


async def test_csv_cells_that_could_start_a_formula_are_text(tmp_path: Path) -> None:
    orders = [
        Order(id=f"o{n}", status="paid", order_number=number, total_amount="-5.00")
        for n, number in enumerate(FORMULAS)
    ]
    pagination = {"total": len(orders), "limit": 100, "offset": 0, "hasMore": False}
    app = web.Application()
    page = {"orders": [o.to_dict(wire=True) for o in orders], "pagination": pagination}
    app.router.add_get("/api/v1/partners/orders", _answer(page))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    try:
        env = _env(f"http://127.0.0.1:{runner.addresses[0][1]}")
        done = await asyncio.gather(
            run("orders", "export", "--format", "csv", "-o", str(safe), env=env),
            run("orders", "export", "--format", "csv", "--raw", "-o", str(raw), env=env),
        )
    finally:
        await runner.cleanup()
    assert [d.code for d in done] == [0, 0], [d.err for d in done]
    with safe.open(newline="") as file:
        shown = {row["id"]: row for row in csv.DictReader(file)}
    with raw.open(newline="") as file:
        as_sent = {row["id"]: row for row in csv.DictReader(file)}
    for n, (number, guarded) in enumerate(FORMULAS.items()):
        assert shown[f"o{n}"]["order_number"] == ("'" if guarded else "") + number, number
        assert as_sent[f"o{n}"]["order_number"] == number
        assert shown[f"o{n}"]["total_amount"] == "-5.00"
