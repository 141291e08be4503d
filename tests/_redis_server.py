"""A real redis-server for tests: the one on 127.0.0.1:6379 if it runs, else one we start.

Use it from any test package's conftest::

    from tests._redis_server import redis_server_factory, redis_url  # noqa: F401

- ``redis_url`` (session): ``redis://127.0.0.1:6379/0`` when a server answers there, else a
  private ``redis-server`` on a free loopback port, started once and stopped at the end.
- ``redis_server_factory`` (function): ``start()`` gives a private server the test may stop or
  kill (outage tests); every server it started is stopped after the test.

Without ``redis-server`` the tests are skipped, unless ``AIOPRINTORA_REQUIRE_REDIS=1`` (CI sets
it): then they fail. Tests sharing a server must use their own key prefix (see ``unique_prefix``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "redis_server_factory", "redis_url", "unique_prefix"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 6379


def _ping(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a Redis answers PING on host:port (plain RESP, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((DEFAULT_HOST, 0))
        return int(sock.getsockname()[1])


def _redis_binary() -> str | None:
    if os.access("/usr/bin/redis-server", os.X_OK):
        return "/usr/bin/redis-server"
    return shutil.which("redis-server")


def unique_prefix(name: str = "test") -> str:
    """A key prefix no other test uses."""
    return f"aioprintora-test:{name}:{uuid.uuid4().hex[:12]}"


class RedisServer:
    """A private ``redis-server`` on 127.0.0.1 (no persistence), for one test or session."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://{DEFAULT_HOST}:{self.port}/0"
        self._binary = binary
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                DEFAULT_HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _ping(DEFAULT_HOST, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (SIGKILL with ``kill=True``); safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None and kill:
            process.kill()
        elif process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _missing_redis() -> None:
    reason = "redis-server not found (install redis-server, or run one on 127.0.0.1:6379)"
    if os.environ.get("AIOPRINTORA_REQUIRE_REDIS") == "1":
        pytest.fail(f"AIOPRINTORA_REQUIRE_REDIS=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis every test of the session may use (with its own key prefix)."""
    if _ping(DEFAULT_HOST, DEFAULT_PORT):
        yield f"redis://{DEFAULT_HOST}:{DEFAULT_PORT}/0"
        return
    binary = _redis_binary()
    if binary is None:
        _missing_redis()
        return
    server = RedisServer(binary, tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start private servers a test may stop or kill; all are stopped after the test."""
    binary = _redis_binary()
    if binary is None:
        _missing_redis()
    started: list[RedisServer] = []

    def start() -> RedisServer:
        assert binary is not None
        server = RedisServer(binary, tmp_path).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
