"""The documentation site builds strictly and documents every public name.

The site is built once per session into a temporary directory with ``sphinx-build -W`` (warnings,
broken references included, are errors), unless ``AIOPRINTORA_DOCS_BUILD`` names a directory a
strict build already wrote (``.ci/run`` and ``nox -s docs`` do that). Without Sphinx (the
``docs`` extra) the tests are skipped, unless ``AIOPRINTORA_REQUIRE_DOCS=1``: then they fail.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 600  # seconds; about 20 s on an idle machine, several times that on a busy CI

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 60)  # the first test waits for the build


def public_modules() -> tuple[str, ...]:
    """``PUBLIC_MODULES`` from docs/conf.py, read without running Sphinx's configuration."""
    tree = ast.parse((DOCS / "conf.py").read_text("utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "PUBLIC_MODULES":
            assert node.value is not None
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("docs/conf.py defines no PUBLIC_MODULES")


def read_inventory(data: bytes) -> dict[str, set[str]]:
    """An ``objects.inv`` (version 2) as ``{name: {"py:class", ...}}``."""
    header = data.split(b"\n", 4)
    assert header[0] == b"# Sphinx inventory version 2", header[0]
    assert b"zlib" in header[3], header[3]
    entries: dict[str, set[str]] = {}
    # name, domain:role, priority, uri, display name; the name may contain spaces.
    line_re = re.compile(r"(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S*)\s+(.*)")
    for line in zlib.decompress(header[4]).decode("utf-8").splitlines():
        match = line_re.fullmatch(line.rstrip())
        assert match is not None, f"unreadable inventory line {line!r}"
        entries.setdefault(match[1], set()).add(match[2])
    return entries


def test_read_inventory_parses_sphinx_format() -> None:
    body = "aioprintora.Page py:class 1 api/models.html#$ -\nlong name std:label -1 p.html#x A B\n"
    data = (
        b"# Sphinx inventory version 2\n# Project: p\n# Version: 1\n"
        b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(body.encode())
    )
    assert read_inventory(data) == {"aioprintora.Page": {"py:class"}, "long name": {"std:label"}}
    with pytest.raises(AssertionError):
        read_inventory(b"# Sphinx inventory version 1\n\n\n\n")


def _build(out: Path) -> None:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    command += ["-d", str(out / ".doctrees"), str(DOCS), str(out)]
    done = subprocess.run(  # noqa: S603 - our interpreter, our docs
        command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT, check=False
    )
    assert done.returncode == 0, f"sphinx-build -W failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built HTML site: the one ``AIOPRINTORA_DOCS_BUILD`` names, or a fresh strict build."""
    given = os.environ.get("AIOPRINTORA_DOCS_BUILD")
    if given:
        path = Path(given)
        assert (path / "objects.inv").is_file(), f"AIOPRINTORA_DOCS_BUILD={given}: no objects.inv"
        return path
    if importlib.util.find_spec("sphinx") is None:
        reason = "Sphinx is not installed (pip install -e '.[docs]')"
        if os.environ.get("AIOPRINTORA_REQUIRE_DOCS") == "1":
            pytest.fail(f"AIOPRINTORA_REQUIRE_DOCS=1 but {reason}")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("docs-site")
    _build(out)
    return out


@pytest.fixture(scope="session")
def inventory(site: Path) -> dict[str, set[str]]:
    return read_inventory((site / "objects.inv").read_bytes())


@pytest.mark.parametrize("module_name", public_modules())
def test_every_public_name_has_a_reference_entry(
    module_name: str, inventory: dict[str, set[str]]
) -> None:
    module = importlib.import_module(module_name)
    assert "py:module" in inventory.get(module_name, set()), f"no page for {module_name}"
    missing = [
        f"{module_name}.{name}"
        for name in module.__all__
        if not any(role.startswith("py:") for role in inventory.get(f"{module_name}.{name}", ()))
    ]
    assert not missing, f"not in the API reference: {missing}"


def test_public_modules_include_the_guarded_packages() -> None:
    from . import test_exported_members

    assert set(test_exported_members.PACKAGES) <= set(public_modules())


def test_the_client_resources_are_documented(inventory: dict[str, set[str]]) -> None:
    # Reached as attributes of the client, so in no ``__all__``; their methods are the API.
    for name in (
        "aioprintora.resources.sessions.Sessions.create",
        "aioprintora.resources.orders.Orders.iter",
        "aioprintora.resources.webhook_logs.WebhookLogs.resend",
    ):
        assert "py:method" in inventory.get(name, set()), name


NAVIGATION = [
    "Quick start",
    "Client",
    "Pagination",
    "Imports &amp; syncs",
    "Rate limits &amp; retries",
    "Reliability",
    "Webhooks",
    "Sandbox &amp; testing",
    "CLI",
    "Errors",
    "Benchmarks",
    "API reference",
    "Changelog",
]


def test_navigation_lists_the_guides_in_order(site: Path) -> None:
    html = (site / "index.html").read_text("utf-8")
    sidebar = html[html.index('class="sidebar-tree"') :]
    captions = re.findall(r'class="reference internal" href="[^"]+">([^<]+)</a>', sidebar)
    top = [caption for caption in captions if caption in NAVIGATION]
    assert top[: len(NAVIGATION)] == NAVIGATION


def test_rate_limit_page_draws_the_request_path(site: Path) -> None:
    html = (site / "rate-limits.html").read_text("utf-8")
    (diagram,) = re.findall(r'<pre\s+class="mermaid">(.*?)</pre>', html, re.DOTALL)
    for step in ("retry middleware", "rate limiter", "attempt", "connection pool"):
        assert step in diagram


def test_changelog_page_includes_the_changelog(site: Path) -> None:
    html = (site / "changelog.html").read_text("utf-8")
    assert "Unreleased" in html
    assert "PrintoraClient" in html


@pytest.mark.parametrize(
    ("page", "name", "anchor"),
    [
        ("client.html", "PrintoraClient", "api/client.html#aioprintora.PrintoraClient"),
        ("pagination.html", "OrderSync", "api/jobs.html#aioprintora.jobs.OrderSync"),
        ("webhooks.html", "WebhookEvent", "api/webhooks.html#aioprintora.webhooks.WebhookEvent"),
    ],
)
def test_guides_link_backticked_names_to_the_reference(
    site: Path, page: str, name: str, anchor: str
) -> None:
    html = (site / page).read_text("utf-8")
    links = re.findall(
        r'<a class="reference internal" href="([^"]+)"[^>]*><code[^>]*>(.*?)</code>', html
    )
    assert (anchor, f'<span class="pre">{name}</span>') in links
