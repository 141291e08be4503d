"""Sphinx configuration: ``nox -s docs``, or ``sphinx-build -W --keep-going docs <out>``."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import aioprintora  # noqa: E402 - after the path is set

#: The modules whose ``__all__`` is public API, each with a page under ``api/``. The one list:
#: tests/test_docs_site.py checks that every name they export is in the built inventory.
PUBLIC_MODULES = (
    "aioprintora",
    "aioprintora.pagination",
    "aioprintora.jobs",
    "aioprintora.ratelimit",
    "aioprintora.clock",
    "aioprintora.webhooks",
    "aioprintora.webhooks.fastapi_receiver",
    "aioprintora.sandbox",
    "aioprintora.hooks",
    "aioprintora.response",
    "aioprintora.otel",
    "aioprintora.workers",
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
    "apiref",  # docs/_ext: public names, references by home module, private bases
    "codelinks",  # docs/_ext: `Name` in a guide links to its reference entry
]
apiref_modules = PUBLIC_MODULES
#: Names ``aioprintora`` re-exports from a package where they are documented.
apiref_reexports = tuple(
    f"aioprintora.{name}"
    for name in (
        "AccountMismatchError",
        "JournalConflictError",
        "OrderSync",
        "SessionRequest",
        "stops_job",
    )
)

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
autodoc_typehints_description_target = "documented_params"  # attrs fields list their own types
autodoc_class_signature = "mixed"
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
    | {"opentelemetry", "starlette", "yarl"}
)
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_FOREIGN)})(\..+)?"),
    (r"py:.*", r"Ellipsis|None|(aioprintora(\.\w+)*\.)?T"),  # builtins; type variables
    # Private modules are left out of the site on purpose; a docstring may still name them.
    (r"py:.*", r"aioprintora(\.\w+)*\._\w+(\.\w+)*"),
    # A guide may link a repository file outside docs/ (../README.md): right on GitHub, and
    # plain text on the site. tests/test_docs.py checks that the file exists.
    ("myst", rf"{re.escape(str(ROOT))}/(?!docs/).+"),
    # A sandbox internal behind the documented Partner.
    (r"py:class", r"(aioprintora\.sandbox\.state\.)?PartnerState"),
]
# Names behind ``if TYPE_CHECKING:`` stay strings; the resolver below still links them, and
# nitpicky still reports any it cannot.
suppress_warnings = ["sphinx_autodoc_typehints.forward_reference"]
# sphinx-autodoc-typehints 3.6 still calls an API Sphinx 10 removes; the pins keep it working.
warnings.filterwarnings("ignore", message=".*set_application' is deprecated", module="sphinx")
