"""Developer sessions: ``nox -s tests lint typecheck docs bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (starts nothing: Redis tests need a redis-server on 127.0.0.1:6379)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


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
    """Run every Python example in docs/ against the sandbox."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/test_docs.py")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks; figures are ratios against a baseline measured in the same run."""
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
