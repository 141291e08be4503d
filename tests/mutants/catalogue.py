"""The mutants: one per test defect fixed in issue 10, one per guarantee made general.

``targets`` are the tests expected to catch the mutant (kept narrow so a run stays quick);
``expect``, when set, must appear in pytest's output (e.g. that the leak check caught it).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Mutant:
    """Replace ``anchor`` (exactly once) by ``replacement`` in ``path``; ``targets`` must fail."""

    name: str
    path: str
    anchor: str
    replacement: str
    targets: tuple[str, ...]
    expect: str | None = None


MUTANTS: tuple[Mutant, ...] = (
    # -- the defects --------------------------------------------------------------------------
    Mutant(
        "truncated body becomes a timeout",
        "aioprintora/_http/transport.py",
        "    elif isinstance(dropped, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):",
        "    elif isinstance(dropped, (asyncio.TimeoutError, aiohttp.ClientPayloadError)):",
        ("tests/test_retry.py::test_truncated_body_is_a_transport_error_and_gets_retried",),
    ),
    Mutant(
        "Retry-After as an HTTP date is ignored",
        "aioprintora/ratelimit/_headers.py",
        "    when = http_date_to_unix(raw)\n    if when is None:",
        "    when = None\n    if when is None:",
        ("tests/test_retry.py::test_retry_after_as_http_date",),
    ),
    Mutant(
        "a server error sinks the whole batch",
        "aioprintora/jobs/_imports.py",
        "        except Exception as exc:  # one bad item must not sink the batch...",
        "        except ValueError as exc:",
        ("tests/test_bulk.py::test_server_errors_are_kept_per_item",),
    ),
    Mutant(
        "a bad dict row sinks the batch (issue 23: session request)",
        "aioprintora/jobs/_imports.py",
        "    except (TypeError, ValueError) as exc:\n        return (item",
        "    except OSError as exc:\n        return (item",
        ("tests/test_bulk.py::test_one_bad_item_does_not_sink_the_batch",),
    ),
    Mutant(
        "a bad row given back from a result is sent (issue 23: session request)",
        "aioprintora/jobs/_imports.py",
        "            attrs.evolve(item)  # every check again",
        "            pass  # every check again",
        ("tests/test_session_request.py::test_create_and_create_many_refuse_before_sending",),
    ),
    Mutant(
        "dedup keys of different pairs collide",
        "aioprintora/webhooks/_dedup.py",
        'return f"{len(event)}:{event}:{session_id}"',
        'return f"{event}:{session_id}"',
        ("tests/webhooks/test_webhook_dedup.py",),
    ),
    Mutant(
        "the server's error code does not reach the caller",
        "aioprintora/_http/sansio.py",
        '        "code": code,\n',
        '        "code": None,\n',
        ("tests/test_integration.py::test_server_side_validation_reaches_the_caller",),
    ),
    Mutant(
        "a naive API timestamp is read as local time",
        "aioprintora/_convert.py",
        "return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)",
        "return parsed if parsed.tzinfo else parsed.astimezone(timezone.utc)",
        ("tests/test_models.py::test_timestamps_are_aware",),
    ),
    Mutant(
        "a naive webhook timestamp is read as local time",
        "aioprintora/webhooks/_signature.py",
        "        timestamp = timestamp.replace(tzinfo=timezone.utc)",
        "        timestamp = timestamp.astimezone(timezone.utc)",
        (
            "tests/webhooks/test_webhook_signature.py"
            "::test_timestamp_error_is_a_signature_error_and_naive_means_utc",
        ),
    ),
    Mutant(
        "the demo command is gone",
        "aioprintora/cli/_app.py",
        "for group in (sessions, orders, webhooks, jobs, worker, sandbox, demo):",
        "for group in (sessions, orders, webhooks, jobs, worker, sandbox):",
        ("tests/test_demo.py::test_python_m_aioprintora_demo",),
    ),
    Mutant(
        "a derived client warns when it goes away",
        "aioprintora/_client.py",
        '        if self.__dict__.get("_derived"):\n            return\n',
        "",
        ("tests/test_client.py::test_a_derived_client_going_away_does_not_warn",),
    ),
    Mutant(
        "a call cut off by aclose() surfaces as a bare aiohttp error",
        "aioprintora/_http/transport.py",
        "    elif closed and isinstance(dropped, Exception):",
        "    elif False:",
        (
            "tests/test_memory.py::test_user_error_inside_async_with_releases_everything",
            "tests/test_memory.py::test_a_call_in_flight_when_the_client_closes_raises_an_sdk_error",
        ),
    ),
    # -- the guarantees, checked everywhere -----------------------------------------------------
    Mutant(
        "Retry-After in seconds is ignored",
        "aioprintora/ratelimit/_headers.py",
        "    if seconds is not None:\n        return _clamp(seconds)\n",
        "    if seconds is not None:\n        return None\n",
        ("tests/test_retry.py::test_retry_after_is_honoured_without_jitter",),
    ),
    Mutant(
        "a stopped walk leaves its read-ahead running (a leaked connection and task)",
        "aioprintora/pagination.py",
        "        if self._pending is not None and not self._pending.done():\n"
        "            self._pending.cancel()\n",
        "",
        ("tests/test_pagination.py::test_break_releases_connection_and_read_ahead",),
        expect="leak check",  # the autouse check in tests/_leaks.py, at the client's close()
    ),
    Mutant(
        "a page that was read ahead is trusted without the drift check",
        "aioprintora/pagination.py",
        "                    page = await pending\n",
        "                    walk._check_boundary = False\n"
        "                    page = await pending\n",
        (
            "tests/test_pagination_properties.py"
            "::test_no_duplicates_and_nothing_that_stayed_is_missed[read-ahead]",
        ),
    ),
    Mutant(
        "the limiter is 5% slow (never over the limit, so only exact timing sees it)",
        "aioprintora/ratelimit/_local.py",
        "            return wait + _slack(now)  # nothing charged: all windows or none",
        "            return wait * 1.05 + _slack(now)",
        ("tests/test_limits.py::test_two_hundred_waiters_go_in_exact_bursts_on_a_virtual_clock",),
    ),
    Mutant(
        "a session's expiry does not survive the round trip",
        "aioprintora/_models.py",
        "    expires_at: datetime | None = None\n    creator_id: str | None = None\n",
        "    expires_at: datetime | str | None = None\n    creator_id: str | None = None\n",
        # An example, not the property tests: their shrinking takes up to 80 s from a cold
        # example database, past the 30 s timeout, and a timeout inside hypothesis is a pytest
        # error (exit 3), not a failure.
        (
            "tests/test_model_round_trips.py::test_a_session_s_expiry_round_trips_as_an_aware_datetime",
        ),
    ),
    # -- hostile servers (issue 12) and the held slots (issue 9) --------------------------------
    Mutant(
        "a known long limiter wait is slept through instead of refused",
        "aioprintora/ratelimit/_local.py",
        "    if wait <= max_wait or math.isinf(wait):\n        return wait\n",
        "    return wait\n",
        (
            "tests/hostile/test_waits.py::test_a_long_429_pause_fails_later_calls_fast_without_sending",
            "tests/hostile/test_waits.py::test_an_exhausted_day_window_fails_fast",
        ),
    ),
    Mutant(
        "an echoed API key is kept in error texts",
        "aioprintora/_errors.py",
        "    for secret in _SECRETS.get():\n",
        "    for secret in ():\n",
        ("tests/hostile/test_secrets.py",),
    ),
    Mutant(
        "the response size cap is not applied to a body of announced length",
        "aioprintora/_http/_body.py",
        "        if length > cap:\n",
        "        if False:\n",
        ("tests/hostile/test_bodies.py::test_the_cap_is_configurable",),
    ),
    Mutant(
        "a slot is charged from the send, not held until the answer",
        "aioprintora/ratelimit/_local.py",
        "    return limiter if isinstance(limiter, SlotLimiter) else _AcquireOnly(limiter)\n",
        "    return _AcquireOnly(limiter)\n",
        (
            "tests/test_limiter_protocol.py::test_a_slot_is_held_until_its_answer_then_charged_a_period",
        ),
    ),
    Mutant(
        "an attempt outlives its timeout",
        "aioprintora/_http/transport.py",
        "    return aiohttp.ClientTimeout(total=budget)\n",
        "    return aiohttp.ClientTimeout(total=budget * 1000)\n",
        ("tests/test_retry.py::test_timeout_is_raised_within_timeout_plus_100ms",),
    ),
    Mutant(
        "a body msgspec refuses escapes instead of going to json",
        "aioprintora/_http/_json.py",
        "        except refused:\n",
        "        except ():\n",
        ("tests/test_json.py",),
    ),
    Mutant(
        "an item's second timestamp is taken for its first",
        "aioprintora/_http/_shapes.py",
        'f"    if {var} == {first}_text:"',
        'f"    if True:"',
        ("tests/test_decoding.py::test_datetimes_on_the_fast_path_match_the_general_path",),
    ),
    # -- issue 20: exact checks --------------------------------------------------------------
    Mutant(
        "a malformed JSON answer loses its body excerpt",
        "aioprintora/_http/sansio.py",
        "message, status_code=status, body=excerpt, headers=headers,",
        "message, status_code=status, headers=headers,",
        (
            "tests/test_integration.py::test_malformed_and_truncated_answers",
            "tests/test_client.py::test_garbage_success_bodies_are_malformed_response_errors",
        ),
    ),
    Mutant(
        "the default limit is 61 a minute",
        "aioprintora/ratelimit/_window.py",
        "DEFAULT_WINDOWS: tuple[Window, ...] = (Window(60, 60.0),",
        "DEFAULT_WINDOWS: tuple[Window, ...] = (Window(61, 60.0),",
        ("tests/test_virtual_limits.py::test_the_default_limit_is_sixty_a_minute_end_to_end",),
    ),
    # -- the joints of the request path (issue 23) ------------------------------------------------
    Mutant(
        "a step-back that finds the same pages again steps back for ever",
        "aioprintora/_http/walk_guard.py",
        "            if self._fruitless and trigger == self._trigger:\n",
        "            if False:\n",
        ("tests/test_walk.py::test_a_step_back_that_finds_the_same_pages_again_raises",),
    ),
    Mutant(
        "a listing sorted oldest first is walked as if newest first",
        "aioprintora/_http/walk_guard.py",
        "        _newest_first(keys, offset)\n",
        "",
        (
            "tests/hostile/test_pagination_lies.py"
            "::test_a_listing_sorted_oldest_first_fails_within_2_pages",
        ),
    ),
    Mutant(
        "a proxy's password stays in the error's cause",
        "aioprintora/_http/transport.py",
        "dropped if request.proxy is None else without_credentials(",
        "dropped if True else without_credentials(",
        ("tests/hostile/test_proxy_secrets.py",),
    ),
    Mutant(
        "a reset in the past holds the whole window",
        "aioprintora/ratelimit/_headers.py",
        '"X-RateLimit-Reset"), signed=True)',
        '"X-RateLimit-Reset"), signed=False)',
        ("tests/hostile/test_reset_in_the_past.py",),
    ),
    Mutant(
        "a 429's wait is reported as a full window",
        "aioprintora/ratelimit/_local.py",
        "        return self._paused_until > self._clock()\n",
        "        return False\n",
        (
            "tests/test_limiter_protocol.py"
            "::test_a_wait_caused_by_a_429_is_reported_as_a_server_pause",
        ),
    ),
)
