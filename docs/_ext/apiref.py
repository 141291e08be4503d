"""The API reference's plumbing: public names, references by home module, private bases.

Names are documented where users import them (``aioprintora.Session``) while annotations spell
their home module (``aioprintora._models.Session``); this maps one to the other. It also keeps
napoleon from reading an attribute docstring's first colon as a type.
"""

from __future__ import annotations

import importlib
import re
from typing import Any


def _aliases(modules: tuple[str, ...], reexports: frozenset[str]) -> dict[str, str]:
    """``home.module.Name`` → the public name it is documented under (first public module wins).

    A re-export (``aioprintora.OrderSync``) is never where a name is documented.
    """
    found: dict[str, str] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if f"{module_name}.{name}" in reexports:
                continue
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
    bases[:] = list(dict.fromkeys(expanded)) or [object]  # Sphinx prints an empty Bases:


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


def _load_aliases(app: Any, config: Any) -> None:
    _ALIASES.update(_aliases(tuple(config.apiref_modules), frozenset(config.apiref_reexports)))


def _mark_reexports(app: Any, env: Any) -> None:
    """A re-export's entry is an alias, as a canonical name is: a guide's `OrderSync` links once."""
    objects = env.get_domain("py").objects
    for name in app.config.apiref_reexports:
        if name in objects:
            objects[name] = objects[name]._replace(aliased=True)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("apiref_modules", (), "env", types=frozenset({tuple, list}))
    app.add_config_value("apiref_reexports", (), "env", types=frozenset({tuple, list}))
    app.connect("config-inited", _load_aliases)
    app.connect("env-updated", _mark_reexports)
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-docstring", _hide_inline_type, priority=100)  # before napoleon
    app.connect("autodoc-process-docstring", _restore_colon, priority=900)  # after it
    return {"parallel_read_safe": True}
