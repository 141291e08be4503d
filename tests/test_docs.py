"""Every Python example in docs/ and README.md is valid, and every complete program runs.

A block is a complete program when it calls ``asyncio.run(`` or starts with ``# runnable``. Each
one runs in its own process (warnings as errors) against a sandbox this test starts, as a
fresh partner with 150 seeded orders: ``PRINTORA_API_KEY`` and ``PRINTORA_BASE_URL`` point at it,
so examples written as ``PrintoraClient()`` talk to it, and ``PRINTORA_WEBHOOK_SECRET`` is that
partner's webhook secret. Blocks that start their own ``Sandbox``
ignore both. Any exception, non-zero exit or leaked-resource report fails the test.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from aioprintora import PrintoraClient
from aioprintora.resources.sessions import Sessions
from aioprintora.sandbox import Sandbox

ROOT = Path(__file__).parents[1]
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: What a clean run never prints on stderr.
_TROUBLE = ("Traceback", "Exception ignored", "Unclosed", "Warning:", "was never awaited")
RUN_TIMEOUT = 30  # seconds, per example
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
    assert "fastapi.md" in files  # the whole FastAPI service runs against the sandbox


def test_client_md_names_every_keyword_of_the_client() -> None:
    text = (ROOT / "docs" / "client.md").read_text("utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    keywords = list(inspect.signature(PrintoraClient.__init__).parameters)[1:]  # no self
    assert sorted(listed) == sorted(keywords)
    signature = section.split("`PrintoraClient(", 1)[1].split(")`", 1)[0]
    assert re.findall(r"(\w+)=", signature) == keywords  # the one-line summary, in order


@pytest.mark.parametrize("method", ["create_many", "iter_create_many"])
def test_client_md_rows_name_every_keyword(method: str) -> None:
    text = (ROOT / "docs" / "client.md").read_text("utf-8")
    row = re.search(rf"^\| `{method}\((.*?)\)` \|", text, re.MULTILINE)
    assert row is not None, method
    shown = [p.split("=")[0] for p in row[1].split(", ") if p != "*"]
    wanted = list(inspect.signature(getattr(Sessions, method)).parameters)[1:]
    assert shown == wanted


def test_the_fastapi_extra_installs_what_the_docs_run() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = {re.split(r"[<>=!~; ]", r)[0] for r in extras["optional-dependencies"]["fastapi"]}
    assert names >= {"fastapi", "uvicorn"}
    assert "uvicorn service:app" in (ROOT / "docs" / "fastapi.md").read_text("utf-8")


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_every_python_block_compiles(block: Block) -> None:
    # Fragments may use a bare ``await``; whole programs must compile as modules.
    flags = 0 if block.runnable else ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compile(block.code, block.name, "exec", flags=flags)


class Run(NamedTuple):
    returncode: int  # negative: killed by that signal (SIGALRM after RUN_TIMEOUT)
    out: str
    err: str
    api_key: str


# Interpreter start-up and imports are ~0.5 s of CPU per example, most of this test's cost on a
# 2-core CI. So one interpreter imports the SDK once, then forks a fresh child per example: its
# own process, environment, directory, output files and alarm, warnings still errors.
_FORK_SERVER = """
import gc, json, os, signal, sys, traceback
import aiohttp, aioprintora, aioprintora.sandbox, aioprintora.webhooks

def child(job):
    os.chdir(job["cwd"])
    os.environ.update(job["env"])
    for fd, name in ((1, "out"), (2, "err")):
        target = os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    signal.alarm(job["timeout"])
    code = 0
    try:
        exec(compile(job["code"], job["name"], "exec", dont_inherit=True), {"__name__": "__main__"})
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    gc.collect()  # let unclosed resources report themselves before the hard exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

jobs = [json.loads(line) for line in sys.stdin]
running = {}
while jobs or running:
    while jobs and len(running) < int(sys.argv[1]):
        job = jobs.pop(0)
        pid = os.fork()
        if pid == 0:
            try:
                child(job)
            finally:
                os._exit(70)  # a child never returns to this loop
        running[pid] = job["name"]
    pid, status = os.wait()
    result = {"name": running.pop(pid), "status": os.waitstatus_to_exitcode(status)}
    print(json.dumps(result), flush=True)
"""


async def _run_all(blocks: list[Block], workdir: Path) -> dict[str, tuple[int, str]]:
    """Run every block against one sandbox, each as its own partner: ``{name: (status, key)}``.

    Block *i* runs in ``workdir/example-<i>``, which also receives its stdout and stderr.
    """
    async with Sandbox(webhook_time_scale=0.001) as sb:
        jobs, keys = [], {}
        for index, block in enumerate(blocks):
            partner = sb.add_partner()
            await sb.seed_orders(150, api_key=partner.api_key)
            keys[block.name] = partner.api_key
            cwd = workdir / f"example-{index}"
            cwd.mkdir()
            env = {
                "PRINTORA_API_KEY": partner.api_key,
                "PRINTORA_BASE_URL": sb.base_url,
                "PRINTORA_WEBHOOK_SECRET": partner.webhook_secret,
            }
            job = {"name": block.name, "code": block.code, "cwd": str(cwd), "env": env}
            jobs.append(json.dumps({**job, "timeout": RUN_TIMEOUT} | _outputs(cwd)))
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-W", "error", "-c", _FORK_SERVER, str(PARALLEL)),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await server.communicate("\n".join(jobs).encode())
    assert server.returncode == 0, f"the fork server failed:\n{err.decode()}"
    statuses = {r["name"]: r["status"] for r in map(json.loads, out.decode().splitlines())}
    return {name: (statuses[name], key) for name, key in keys.items()}


def _outputs(cwd: Path) -> dict[str, str]:
    return {"out": str(cwd / "stdout"), "err": str(cwd / "stderr")}


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every runnable block's outcome, run in parallel before the first test needs one."""
    if not hasattr(os, "fork"):
        pytest.skip("the examples' fork server needs os.fork (POSIX)")
    workdir = tmp_path_factory.mktemp("docs-examples")
    outcomes = asyncio.run(_run_all(RUNNABLE, workdir))
    runs = {}
    for index, block in enumerate(RUNNABLE):
        files = _outputs(workdir / f"example-{index}")
        status, key = outcomes[block.name]
        runs[block.name] = Run(
            status, Path(files["out"]).read_text(), Path(files["err"]).read_text(), key
        )
    return runs


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_runnable_example_runs(block: Block, example_runs: dict[str, Run]) -> None:
    run = example_runs[block.name]
    report = f"--- stdout\n{run.out}\n--- stderr\n{run.err}"
    assert run.returncode != -signal.SIGALRM, f"{block.name} ran over {RUN_TIMEOUT} s\n{report}"
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
