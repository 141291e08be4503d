"""Sphinx configuration: ``nox -s docs``, or ``sphinx-build -W --keep-going docs <out>``."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not

import aioprintora  # noqa: E402 - after the path is set

#: The modules whose ``__all__`` is public API, each with a page under ``api/``. The one list:
#: tests/test_docs_site.py checks that every name they export is in the built inventory.
PUBLIC_MODULES = (
    "aioprintora",
    "aioprintora.bulk",
    "aioprintora.pagination",
    "aioprintora.sync",
    "aioprintora.ratelimit",
    "aioprintora.ratelimit_redis",
    "aioprintora.webhooks",
    "aioprintora.webhooks.fastapi_receiver",
    "aioprintora.sandbox",
)

project = "aioprintora"
author = "aioprintora developers"
copyright = "aioprintora developers"
release = aioprintora.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the package's docstrings use Google-style ``Args:``
    "sphinx_autodoc_typehints",
    "sphinxcontrib.mermaid",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: GitHub-style heading anchors, so ``page.md#section`` links work on GitHub and here.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4
myst_fence_as_directive = ["mermaid"]

html_theme = "furo"
html_title = f"aioprintora {release}"

# autodoc: signatures from the code, types from the annotations.
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_class_signature = "separated"
always_document_param_types = False
typehints_use_signature = False
typehints_document_rtype = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # an ``Attributes:`` section must not document a field twice

# Every reference into our own API must resolve. References into the standard library and
# other libraries cannot be checked offline (no intersphinx), so those are ignored by module.
_FOREIGN = sorted(
    sys.stdlib_module_names
    | {"aiohttp", "attr", "attrs", "backoff", "cattrs", "fastapi", "multidict", "redis"}
    | {"starlette", "yarl"}
)
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_FOREIGN)})(\..+)?"),
    (r"py:.*", r"Ellipsis|None|aioprintora(\.\w+)*\.T"),  # builtins; type variables
    # Private modules are left out of the site on purpose; a docstring may still name them.
    (r"py:.*", r"aioprintora(\.\w+)*\._\w+(\.\w+)*"),
    # A sandbox internal behind the documented Partner.
    (r"py:class", r"(aioprintora\.sandbox\.state\.)?PartnerState"),
]
# Names behind ``if TYPE_CHECKING:`` stay strings; the resolver below still links them, and
# nitpicky still reports any it cannot.
suppress_warnings = ["sphinx_autodoc_typehints.forward_reference"]


def _aliases() -> dict[str, str]:
    """``home.module.Name`` → the public name it is documented under (first public module wins)."""
    found: dict[str, str] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            home = getattr(value, "__module__", None)
            qualname = getattr(value, "__qualname__", None)
            if isinstance(home, str) and isinstance(qualname, str):
                found.setdefault(f"{home}.{qualname}", f"{module_name}.{name}")
    return found


def _resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public entry.

    A name's home module (as annotations spell it) maps to where it is documented, and a short
    name from a docstring or a ``TYPE_CHECKING`` import (``Orders.iter``) to the one documented
    object whose full name ends with it.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    domain = env.get_domain("py")
    public = _ALIASES.get(target)
    if public is None and not target.startswith("aioprintora."):
        suffix = "." + target.lstrip("~.")
        found = [
            name
            for name, entry in domain.objects.items()
            if name.endswith(suffix) and not entry.aliased  # a canonical name is the same object
        ]
        public = found[0] if len(found) == 1 else None
    if public is None:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Show a private base (``_StrEnum``, a mixin) as its own bases, so every base links."""
    expanded: list[Any] = []
    for base in bases:
        home = getattr(base, "__module__", "")
        qualname = getattr(base, "__qualname__", "")
        if home.startswith("aioprintora") and f"{home}.{qualname}" not in _ALIASES:
            expanded += [b for b in base.__bases__ if b is not object]
        else:
            expanded.append(base)
    bases[:] = list(dict.fromkeys(expanded))


_COLON = "\ue000"  # stands in for the first line's colon while napoleon reads the docstring


def _hide_inline_type(  # noqa: PLR0917 - Sphinx's event signature
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Keep napoleon from reading ``The listing key: ...`` as ``type: description``.

    Our attributes take their types from annotations, never from the docstring's first line.
    """
    if what in {"attribute", "property", "data"} and lines:
        lines[0] = re.sub(r":(?=\s)", _COLON, lines[0], count=1)  # a role's colons never are


def _restore_colon(  # noqa: PLR0917 - Sphinx's event signature
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    lines[:] = [line.replace(_COLON, ":") for line in lines]


_ALIASES: dict[str, str] = {}


def setup(app: Any) -> dict[str, Any]:
    _ALIASES.update(_aliases())
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-docstring", _hide_inline_type, priority=100)  # before napoleon
    app.connect("autodoc-process-docstring", _restore_colon, priority=900)  # after it
    return {"parallel_read_safe": True}
