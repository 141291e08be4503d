"""Every Python example in docs/ and README.md is valid, and every complete program runs.

A block is a complete program when it calls ``asyncio.run(`` or starts with ``# runnable``. Each
one runs in its own interpreter (warnings as errors) against a sandbox this test starts, as a
fresh partner with 150 seeded orders: ``PRINTORA_API_KEY`` and ``PRINTORA_BASE_URL`` point at it,
so examples written as ``PrintoraClient()`` talk to it. Blocks that start their own ``Sandbox``
ignore both. Any exception, non-zero exit or leaked-resource report fails the test.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from aioprintora.sandbox import Sandbox

ROOT = Path(__file__).parents[1]
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: What a clean run never prints on stderr.
_TROUBLE = ("Traceback", "Exception ignored", "Unclosed", "Warning:", "was never awaited")
RUN_TIMEOUT = 30.0
PARALLEL = max(2, min(4, os.cpu_count() or 2))


class Block(NamedTuple):
    path: Path
    line: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def runnable(self) -> bool:
        return "asyncio.run(" in self.code or self.code.startswith("# runnable")


def _blocks() -> list[Block]:
    found = []
    for path in SOURCES:
        text = path.read_text("utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start(1)) + 1
            found.append(Block(path, line, match.group(1)))
    return found


BLOCKS = _blocks()
RUNNABLE = [block for block in BLOCKS if block.runnable]


_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _links() -> list[tuple[Path, str]]:
    found = []
    for path in SOURCES:
        text = _FENCE.sub("", path.read_text("utf-8"))  # links inside code are not links
        found += [(path, target) for target in _LINK.findall(text)]
    return found


@pytest.mark.parametrize(("source", "target"), _links(), ids=lambda v: getattr(v, "name", v))
def test_relative_links_resolve(source: Path, target: str) -> None:
    if re.match(r"[a-z]+:", target):
        return  # an absolute URL: not checked offline
    file_part, _, anchor = target.partition("#")
    linked = (source.parent / file_part).resolve() if file_part else source
    assert linked.is_file(), f"{source.name} links to missing {file_part}"
    if anchor:
        anchors = {_anchor(h) for h in _HEADING.findall(_FENCE.sub("", linked.read_text()))}
        assert anchor in anchors, f"{source.name}: no heading for #{anchor} in {linked.name}"


def test_the_docs_have_runnable_examples() -> None:
    files = {block.path.name for block in RUNNABLE}
    assert {"README.md", "client.md", "reliability.md", "pagination.md", "sandbox.md"} <= files


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_every_python_block_compiles(block: Block) -> None:
    # Fragments may use a bare ``await``; whole programs must compile as modules.
    flags = 0 if block.runnable else ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compile(block.code, block.name, "exec", flags=flags)


class Run(NamedTuple):
    returncode: int | None  # None: killed after RUN_TIMEOUT
    out: str
    err: str
    api_key: str


async def _run(code: str, env: dict[str, str], cwd: Path) -> tuple[int | None, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        code,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        return None, out.decode(), err.decode()
    return proc.returncode, out.decode(), err.decode()


async def _run_all(blocks: list[Block], workdir: Path) -> dict[str, Run]:
    """Run every block against one sandbox, each as its own partner, a few at a time."""
    gate = asyncio.Semaphore(PARALLEL)
    async with Sandbox(webhook_time_scale=0.001) as sb:

        async def one(index: int, block: Block) -> tuple[str, Run]:
            partner = sb.add_partner()
            await sb.seed_orders(150, api_key=partner.api_key)
            env = {
                **os.environ,
                "PRINTORA_API_KEY": partner.api_key,
                "PRINTORA_BASE_URL": sb.base_url,
                "PYTHONPATH": str(ROOT),
            }
            cwd = workdir / f"example-{index}"
            cwd.mkdir()
            async with gate:
                code, out, err = await _run(block.code, env, cwd)
            return block.name, Run(code, out, err, partner.api_key)

        return dict(await asyncio.gather(*(one(i, b) for i, b in enumerate(blocks))))


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every runnable block's outcome; interpreter start-up dominates, so they run in parallel."""
    return asyncio.run(_run_all(RUNNABLE, tmp_path_factory.mktemp("docs-examples")))


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_runnable_example_runs(block: Block, example_runs: dict[str, Run]) -> None:
    run = example_runs[block.name]
    report = f"--- stdout\n{run.out}\n--- stderr\n{run.err}"
    assert run.returncode is not None, f"{block.name} did not finish in {RUN_TIMEOUT} s\n{report}"
    assert run.returncode == 0, f"{block.name} exited {run.returncode}\n{report}"
    trouble = [word for word in _TROUBLE if word in run.err]
    assert not trouble, f"{block.name} reported {trouble} on stderr:\n{run.err}"
    assert run.api_key not in run.out + run.err, "an example printed the API key"


async def test_pytest_fixture_example_passes(printora_sandbox: Sandbox) -> None:
    """The sandbox guide's test, run with the plugin's real ``printora_sandbox`` fixture."""
    (block,) = [b for b in BLOCKS if "def test_checkout_creates_a_pending_order" in b.code]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(block.code, block.name, "exec"), namespace)  # noqa: S102 - our own docs
    await namespace["test_checkout_creates_a_pending_order"](printora_sandbox)
    assert printora_sandbox.session_count() == 1
