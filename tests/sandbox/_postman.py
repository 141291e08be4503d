"""The vendor's Postman collection, as a test replays it: the five requests without the prose.

``tests/sandbox/data/printora-partner-api.requests.json`` is :func:`extract` of the vendor's
collection (``shared/spec/printora-partner-api.postman_collection.json``): every request as
Postman stores it (method, URL, headers, body, auth), the collection's auth and variables, and
none of the descriptions (about 43 KB of the vendor's HTML, which the tests do not read and the
collection grants no licence to copy). ``test_postman.py`` checks the copy against the original
when a checkout of ``shared/`` sits beside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The committed extract.
REQUESTS = Path(__file__).parent / "data" / "printora-partner-api.requests.json"
#: The vendor's collection, where CI and the project's machines keep ``shared/`` (read-only).
ORIGINAL = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "spec"
    / "printora-partner-api.postman_collection.json"
)

_REQUEST_KEYS = ("method", "header", "body", "url", "urlObject", "auth")


def extract(collection: dict[str, Any]) -> dict[str, Any]:
    """The collection without its descriptions: what a runner needs to send its requests."""

    def items(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for node in nodes:
            if "item" in node:
                out.append({"name": node["name"], "item": items(node["item"])})
            else:
                request = {k: node["request"][k] for k in _REQUEST_KEYS if k in node["request"]}
                out.append({"name": node["name"], "request": request})
        return out

    info = {k: collection["info"][k] for k in ("_postman_id", "name", "schema")}
    return {
        "info": info,
        "auth": collection["auth"],
        "variable": collection["variable"],
        "item": items(collection["item"]),
    }


def requests(collection: dict[str, Any]) -> list[dict[str, Any]]:
    """Every request of the collection, in its order, as ``{"name": ..., "request": ...}``."""
    found: list[dict[str, Any]] = []

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            if "item" in node:
                walk(node["item"])
            else:
                found.append(node)

    walk(collection["item"])
    return found


def load() -> dict[str, Any]:
    """The committed extract."""
    data: dict[str, Any] = json.loads(REQUESTS.read_text("utf-8"))
    return data
