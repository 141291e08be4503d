"""``python -m tests.mutants [NAME-SUBSTRING ...]``: each mutant must make its target tests fail.

For every mutant: copy the tree to a scratch directory, apply the mutant there, and run pytest
on its targets with the scratch copy first on the path. A mutant passes ("killed") when pytest
reports failing tests (exit 1, and ``expect`` in its output when set); it fails the run when the
tests pass ("survived") or pytest could not run them (collection error, no tests). The exit
status is the number of mutants not killed. The unmutated targets are run first: they must pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalogue import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
COPY = ("aioprintora", "tests", "docs", "pyproject.toml", "README.md")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
#: Per run of a mutant's targets; a mutant that makes a test hang is caught by pytest-timeout.
TIMEOUT = 600
#: A mutant often turns a test into a hang (a worker dies, a waiter waits): stop it sooner.
PYTEST = ("-o", "timeout=30")


class AnchorError(Exception):
    """The mutant's anchor is missing or ambiguous: re-anchor it in catalogue.py."""


def scratch_copy(into: Path) -> Path:
    """A copy of the parts of the tree the tests need."""
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=IGNORE)
        elif source.exists():
            shutil.copy2(source, into / name)
    return into


def apply(mutant: Mutant, tree: Path) -> None:
    """Apply ``mutant`` to the copy in ``tree``; AnchorError unless the anchor occurs once."""
    target = tree / mutant.path
    text = target.read_text(encoding="utf-8")
    found = text.count(mutant.anchor)
    if found != 1:
        raise AnchorError(f"{mutant.name!r}: anchor found {found} times in {mutant.path}")
    target.write_text(text.replace(mutant.anchor, mutant.replacement), encoding="utf-8")


def run_tests(tree: Path, targets: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """Pytest on ``targets``, importing ``aioprintora`` from ``tree`` (checked, not assumed)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import aioprintora; print(aioprintora.__file__)"],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    if not Path(where.stdout.strip()).is_relative_to(tree):
        raise RuntimeError(f"the scratch copy is not the one imported: {where.stdout.strip()}")
    return subprocess.run(  # noqa: S603 - our own interpreter, our own test ids
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *PYTEST, *targets],
        cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


def killed(mutant: Mutant, done: subprocess.CompletedProcess[str]) -> bool:
    """Tests ran and failed (exit 1), with the expected text when the mutant names one."""
    output = done.stdout + done.stderr
    return done.returncode == 1 and (mutant.expect is None or mutant.expect in output)


def main(argv: list[str] | None = None) -> int:
    """Run the (selected) mutants; the exit status is how many were not killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only mutants whose name contains one")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or any(n in m.name for n in args.names)]
    with tempfile.TemporaryDirectory(prefix="aioprintora-mutants-") as tmp:
        pristine = scratch_copy(Path(tmp) / "pristine")
        if not args.no_baseline:
            targets = tuple(dict.fromkeys(t for m in chosen for t in m.targets))
            base = run_tests(pristine, targets)
            if base.returncode != 0:
                print(base.stdout[-3000:], base.stderr[-2000:], sep="\n")
                print("FAILED: the unmutated targets do not pass; fix that first")
                return len(chosen)
            print(f"baseline: {len(targets)} targets pass unmutated")
        survivors = 0
        done: subprocess.CompletedProcess[str] | None
        for number, mutant in enumerate(chosen, 1):
            tree = Path(tmp) / f"m{number}"
            shutil.copytree(pristine, tree)
            started = time.monotonic()
            try:
                apply(mutant, tree)
                done = run_tests(tree, mutant.targets)
                verdict = "killed" if killed(mutant, done) else f"SURVIVED (exit {done.returncode})"
            except AnchorError as exc:
                verdict, done = f"ANCHOR MISSING: {exc}", None
            took = time.monotonic() - started
            print(f"[{verdict}] {mutant.name} ({mutant.path}, {took:.0f} s)", flush=True)
            if not verdict.startswith("killed"):
                survivors += 1
                if done is not None:
                    print(done.stdout[-2000:], done.stderr[-1000:], sep="\n")
            shutil.rmtree(tree)
    print(f"{len(chosen) - survivors} of {len(chosen)} mutants killed")
    return survivors


if __name__ == "__main__":
    sys.exit(main())
