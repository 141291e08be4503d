"""Link inline code in the guides to the API reference: `` `PrintoraClient` `` becomes a link.

The guides are plain Markdown that reads well on GitHub too, so they name the API in backticks
rather than in roles. After every page is read, a backticked name that is exactly one
documented object (``Sandbox``, ``RetryPolicy.deadline``, ``client.orders.iter()``) is linked to
it; anything else stays as it is. A bare lower-case word links only when it cannot be an
ordinary word: ``construct_event`` does, ``changed`` does not (``changed()`` does).
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx import addnodes

#: How the guides spell the resources: the attribute on the client, then the class's name.
_RESOURCES = {
    "client.sessions.": "aioprintora.resources.sessions.Sessions.",
    "client.orders.": "aioprintora.resources.orders.Orders.",
    "client.webhook_logs.": "aioprintora.resources.webhook_logs.WebhookLogs.",
}
_NAME = re.compile(r"[A-Za-z_]\w*(\.\w+)*")
#: What a bare name may be: a dotted one may also be a method or an attribute.
_BARE_TYPES = {"class", "exception", "function", "data", "module", "type"}


def _target(text: str, objects: dict[str, Any]) -> str | None:
    """The full name of the one documented object ``text`` names, if there is one."""
    called = text.endswith("()")
    name = text.removesuffix("()")
    if not _NAME.fullmatch(name):
        return None
    for spelled, full in _RESOURCES.items():
        if name.startswith(spelled):
            name = full + name.removeprefix(spelled)
    entry = objects.get(name)
    if entry is not None and not entry.aliased:
        return name
    dotted = "." in name
    if not dotted and name.islower() and "_" not in name and not called:
        return None
    found = [
        full
        for full, entry in objects.items()
        if full.endswith("." + name)
        and not entry.aliased  # a canonical name is the same object again
        and (dotted or entry.objtype in _BARE_TYPES)
    ]
    return found[0] if len(found) == 1 else None


def _link_literals(app: Any, doctree: nodes.document, docname: str) -> None:
    if docname.startswith("api/"):
        return  # autodoc already links every name there
    domain = app.env.get_domain("py")
    for literal in list(doctree.findall(nodes.literal)):
        if _inside(literal, (nodes.reference, nodes.title, addnodes.pending_xref)):
            continue
        target = _target(literal.astext(), domain.objects)
        if target is None:
            continue
        xref = addnodes.pending_xref(
            "", refdomain="py", reftype="obj", reftarget=target, refdoc=docname
        )
        contnode = literal.deepcopy()
        link = domain.resolve_xref(app.env, docname, app.builder, "obj", target, xref, contnode)
        if link is not None:
            literal.replace_self(link)


def _inside(node: nodes.Node, kinds: tuple[type[nodes.Node], ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parent
    return False


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-resolved", _link_literals)
    return {"parallel_read_safe": True}
