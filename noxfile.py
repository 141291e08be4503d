"""Developer sessions: ``nox -s tests lint typecheck docs bench mutants latest``."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "workers"]
nox.options.reuse_existing_virtualenvs = True


REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def _redis_server(session: nox.Session) -> Iterator[None]:
    """A redis-server on 127.0.0.1:6379 for the session, as .ci/run starts one."""
    if _redis_answers():
        yield
        return
    binary = shutil.which("redis-server")
    if binary is None:
        session.error("redis-server not found: install it (apt-get install redis-server)")
    host, port = REDIS
    server = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
        [binary, "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            if _redis_answers():
                break
            time.sleep(0.1)
        else:
            session.error("redis-server did not answer on 127.0.0.1:6379 within 5 s")
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, Redis tests included (a redis-server is started if none runs)."""
    session.install("-e", ".[test]")
    # As in CI: a Redis test that cannot run fails instead of skipping.
    with _redis_server(session):
        session.run(
            "python", "-m", "pytest", *session.posargs, env={"AIOPRINTORA_REQUIRE_REDIS": "1"}
        )


@nox.session
def latest(session: nox.Session) -> None:
    """The whole suite against the newest release of everything: run it before ``.ci/lock``.

    Nothing here comes from the CI locks: every dependency, test tool and pip itself is
    upgraded to its newest release, so a release that breaks us shows up here first.
    """
    session.install("--upgrade", "pip")
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[test]")
    session.run("python", "-m", "pip", "list", "--format=freeze")  # what was tested, for the record
    with _redis_server(session):
        session.run(
            "python", "-m", "pytest", *session.posargs, env={"AIOPRINTORA_REQUIRE_REDIS": "1"}
        )


@nox.session
def workers(session: nox.Session) -> None:
    """tests/workers and mypy, with the workers extra (saq) from its own .ci/workers-3.11.txt.

    saq caps redis-py below the range the other extras take, so it never joins the tests
    session's venv.
    """
    session.install("--no-deps", "-r", ".ci/workers-3.11.txt")
    session.install("--no-deps", "-e", ".")
    session.run("mypy", "--strict", "aioprintora")
    env = {"AIOPRINTORA_REQUIRE_REDIS": "1", "AIOPRINTORA_REQUIRE_WORKERS": "1"}
    with _redis_server(session):
        session.run("python", "-m", "pytest", "tests/workers", *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and on the typing examples in tests/typing."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "aioprintora")
    session.run("mypy", "--strict", "tests/typing")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site strictly (any warning or broken reference fails), then run its tests.

    The site lands in docs/_build/html. The tests run every Python example in docs/ against
    the sandbox and check the built inventory against the public API.
    """
    session.install("-e", ".[docs,test]")
    out = "docs/_build/html"
    session.run("sphinx-build", "-E", "-W", "--keep-going", "-b", "html", "docs", out)
    env = {"AIOPRINTORA_DOCS_BUILD": out, "AIOPRINTORA_REQUIRE_DOCS": "1"}
    session.run("python", "-m", "pytest", "tests/test_docs.py", "tests/test_docs_site.py", env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks; figures are ratios against a baseline measured in the same run."""
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def mutants(session: nox.Session) -> None:
    """Apply each mutant in tests/mutants to a scratch copy: passes only if every one is caught."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.mutants", *session.posargs)
