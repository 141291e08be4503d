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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import pytest

from aioprintora.sandbox import Sandbox

ROOT = Path(__file__).parents[1]
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: What a clean run never prints on stderr.
_TROUBLE = ("Traceback", "Exception ignored", "Unclosed", "Warning:", "was never awaited")
RUN_TIMEOUT = 30.0


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


def test_the_docs_have_runnable_examples() -> None:
    files = {block.path.name for block in RUNNABLE}
    assert {"README.md", "client.md", "reliability.md", "pagination.md", "sandbox.md"} <= files


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_every_python_block_compiles(block: Block) -> None:
    # Fragments may use a bare ``await``; whole programs must compile as modules.
    flags = 0 if block.runnable else ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compile(block.code, block.name, "exec", flags=flags)


@pytest.fixture
async def docs_sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(webhook_time_scale=0.001) as sb:
        yield sb


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


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
async def test_runnable_example_runs(block: Block, docs_sandbox: Sandbox, tmp_path: Path) -> None:
    partner = docs_sandbox.add_partner()
    await docs_sandbox.seed_orders(150, api_key=partner.api_key)
    env = {
        **os.environ,
        "PRINTORA_API_KEY": partner.api_key,
        "PRINTORA_BASE_URL": docs_sandbox.base_url,
        "PYTHONPATH": str(ROOT),
    }
    code, out, err = await _run(block.code, env, tmp_path)
    assert code is not None, f"{block.name} did not finish in {RUN_TIMEOUT} s\n{out}\n{err}"
    assert code == 0, f"{block.name} exited {code}\n--- stdout\n{out}\n--- stderr\n{err}"
    trouble = [word for word in _TROUBLE if word in err]
    assert not trouble, f"{block.name} reported {trouble} on stderr:\n{err}"
    assert partner.api_key not in out + err, "an example printed the API key"
