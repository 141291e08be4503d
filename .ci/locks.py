"""The CI locks in .ci/: written by ``.ci/lock`` (with uv), checked by ``.ci/run`` (without).

Four locks, each the whole environment one step of ``.ci/run`` installs (pip and the build
backend included), resolved for every platform (``uv pip compile --universal``):

- ``requirements-3.11.txt``: ``.[dev]`` on Python 3.11 (lint, types, docs, the whole suite);
- ``requirements-3.10.txt``: ``.[test]`` on Python 3.10 (the quick tests);
- ``floors-3.10.txt``: ``.[test]`` on Python 3.10 with the core dependencies and redis held at
  the lowest versions pyproject.toml allows (the quick tests again);
- ``workers-3.11.txt``: ``.[dev,workers]`` on Python 3.11 (``.ci/workers``: saq caps redis-py
  below the range the other extras take, so the queue's tests get an environment of their own).

Each lock starts with a digest of what it was compiled from (the dependency tables of
pyproject.toml and the uv version); ``python .ci/locks.py check`` fails when pyproject.toml
changed since, naming the command that refreshes them.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / ".ci"
#: The uv that compiles the locks (``.ci/lock`` installs exactly this one).
UV_VERSION = "0.13.9"
REFRESH = ".ci/lock"
#: The dependencies whose declared floors CI installs: the core ones, and redis.
FLOORED = ("aiohttp", "attrs", "cattrs", "backoff", "yarl", "msgspec", "redis")
#: lock file -> (Python version, extras, floors held)
LOCKS = {
    "requirements-3.11.txt": ("3.11", ("dev",), False),
    "requirements-3.10.txt": ("3.10", ("test",), False),
    "floors-3.10.txt": ("3.10", ("test",), True),
    "workers-3.11.txt": ("3.11", ("dev", "workers"), False),
}
DIGEST_LINE = "# inputs-sha256: "


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        data: dict[str, object] = tomllib.load(f)
    return data


def inputs_digest() -> str:
    """What the locks depend on: pyproject's dependency tables, and the uv version."""
    data = _pyproject()
    project = data["project"]
    assert isinstance(project, dict)
    relevant = {
        "build-system": data.get("build-system"),
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies"),
        "optional-dependencies": project.get("optional-dependencies"),
        "uv": UV_VERSION,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def declared_floors() -> dict[str, str]:
    """``name -> version`` of each ``name>=version`` in FLOORED, as pyproject.toml declares it."""
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    requirements = [*project["dependencies"], *project["optional-dependencies"]["redis"]]
    floors: dict[str, str] = {}
    for requirement in requirements:
        found = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", requirement)
        if found and found[1].lower() in FLOORED:
            floors[found[1].lower()] = found[2]
    missing = set(FLOORED) - set(floors)
    if missing:
        sys.exit(f"no '>=' floor in pyproject.toml for: {', '.join(sorted(missing))}")
    return floors


def _same_version(a: str, b: str) -> bool:
    """1.9 == 1.9.0 (release numbers only: floors are plain releases)."""

    def key(v: str) -> tuple[int, ...]:
        parts = [int(p) for p in v.split(".")]
        while parts and parts[-1] == 0:
            parts.pop()
        return tuple(parts)

    return key(a) == key(b)


def _uv(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the uv .ci/lock put first on PATH, our arguments
        ["uv", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"uv {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _pins(lock: str) -> dict[str, str]:
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", lock, re.M)}


def write() -> None:
    """Compile the locks from pyproject.toml (needs uv on PATH)."""
    floors = declared_floors()
    common = ("--universal", "--no-header", "--quiet")
    with tempfile.TemporaryDirectory() as tmp:
        # What .ci/run installs besides the extras: pip itself, and the build backend with what
        # hatchling asks for to build an editable install (the install runs without isolation).
        tools = Path(tmp) / "tools.in"
        build = _pyproject()["build-system"]
        assert isinstance(build, dict)
        tools.write_text("\n".join(["pip", "editables", *build["requires"]]) + "\n")
        # The floors: the oldest release the resolver accepts for each, which must be the
        # declared one (a yanked release, or one no other floor can be installed beside, is not).
        held = Path(tmp) / "floors.txt"
        held.write_text("".join(f"{name}=={version}\n" for name, version in floors.items()))
        lowest = _pins(
            _uv("pip", "compile", *common, "--python-version", "3.10",
                "--resolution", "lowest-direct", "pyproject.toml", "--extra", "redis")
        )  # fmt: skip
        wrong = [
            f"  {name}>={version}: the oldest installable is {lowest.get(name)}"
            for name, version in floors.items()
            if not _same_version(version, lowest.get(name, ""))
        ]
        if wrong:
            sys.exit("declared floors that cannot be installed; raise them:\n" + "\n".join(wrong))
        for name, (python, extras, hold) in LOCKS.items():
            body = _uv(
                "pip", "compile", *common, "--python-version", python, "pyproject.toml",
                *(arg for extra in extras for arg in ("--extra", extra)), str(tools),
                *(["--constraint", str(held)] if hold else []),
            )  # fmt: skip
            body = body.replace(tmp + "/", "")
            what = f".[{','.join(extras)}] on Python {python}"
            if hold:
                what += ", core and redis at their floors"
            head = (
                f"# The CI lock of {what}: written by {REFRESH}, never by hand.\n"
                f"# Compiled with uv {UV_VERSION} (uv pip compile --universal) from "
                f"pyproject.toml.\n{DIGEST_LINE}{inputs_digest()}\n"
            )
            (HERE / name).write_text(head + body)
            print(f"wrote .ci/{name}")


def check() -> None:
    """Exit non-zero, naming the refresh command, when a lock is older than pyproject.toml."""
    digest = inputs_digest()
    stale = []
    for name in LOCKS:
        path = HERE / name
        text = path.read_text() if path.exists() else ""
        if f"{DIGEST_LINE}{digest}\n" not in text:
            stale.append(name)
    if stale:
        sys.exit(
            f"the CI locks are stale ({', '.join(stale)}): pyproject.toml's dependencies changed "
            f"since they were compiled. Refresh them with: {REFRESH}"
        )
    print("the CI locks match pyproject.toml")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1] if len(sys.argv) > 1 else "check"]()
