"""Sessions and orders commands, output formats and exit codes, against a sandbox."""

from __future__ import annotations

import json

from aioprintora.sandbox import Sandbox

from ._run import cli_env, run

SHOP = (
    "--success-url",
    "https://shop.example.com/ok",
    "--failed-url",
    "https://shop.example.com/no",
)


async def test_sessions_create_then_get(sandbox: Sandbox) -> None:
    env = cli_env(sandbox)
    made = await run(
        "sessions", "create", "--image-url", "https://cdn.example.com/1.png", *SHOP,
        "--email", "ada@example.com", "--json", env=env,
    )  # fmt: skip
    assert made.code == 0, made.err
    created = json.loads(made.out)
    assert created["redirect_url"].startswith(sandbox.base_url)
    assert sandbox.session_count() == 1

    got = await run("sessions", "get", created["id"], env=env)  # the table for people
    assert got.code == 0, got.err
    assert created["id"] in got.out
    assert "ada@example.com" in got.out
    assert "\x1b[" not in got.out  # no colour off a terminal


async def test_orders_list_as_json_and_as_a_table(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(30, ["paid", "shipped"])
    env = cli_env(sandbox)
    page = await run("orders", "list", "--status", "paid", "--limit", "100", "--json", env=env)
    assert page.code == 0, page.err
    data = json.loads(page.out)
    paid = [o for o in sandbox.orders() if o.status == "paid"]
    assert {o["id"] for o in data["items"]} == {o.id for o in paid}
    assert data["pagination"]["total"] == len(paid)
    assert all(o["status"] == "paid" and "." in o["total_amount"] for o in data["items"])

    table = await run("orders", "list", "--limit", "5", "--offset", "2", env=env)
    assert table.code == 0, table.err
    ids = [o.id for o in sandbox.orders()]
    assert all(i in table.out for i in ids[2:7]) and ids[0] not in table.out
    assert "orders 3-7 of 30 (next: --offset 7)" in table.out


async def test_a_bad_key_exits_1_with_the_api_message_and_no_traceback(sandbox: Sandbox) -> None:
    key = "sk_test_not_a_key_we_issued"
    done = await run("orders", "list", env=cli_env(sandbox, PRINTORA_API_KEY=key))
    assert done.code == 1
    assert "INVALID_API_KEY" in done.err and "(HTTP 401)" in done.err
    assert "Traceback" not in done.err and key not in done.err + done.out
    assert done.out == ""


async def test_usage_errors_exit_2(sandbox: Sandbox) -> None:
    bad_flag = await run("orders", "list", "--no-such-flag", env=cli_env(sandbox))
    assert bad_flag.code == 2
    assert "No such option" in bad_flag.err and "Traceback" not in bad_flag.err
    no_key = await run("webhooks", "logs", env=cli_env(None))
    assert no_key.code == 2
    assert "no API key" in no_key.err and "PRINTORA_API_KEY" in no_key.err
    # Refused by the SDK before anything is sent: a usage error, and no request went out.
    bad_id = await run("sessions", "get", "not-a-uuid", env=cli_env(sandbox))
    assert bad_id.code == 2 and "must be a UUID" in bad_id.err
    assert len(sandbox.requests) == 0
