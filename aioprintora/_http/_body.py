"""Reading a response body within a size cap, counted after decompression.

aiohttp inflates ``gzip``/``deflate``/``br`` bodies in bounded steps as we read, so reading
chunk by chunk and stopping at the cap keeps a decompression bomb (400 KB inflating to 400 MB)
or an endless body to about the cap in memory: the answer is refused with
:class:`~aioprintora.ResponseTooLargeError` and its connection closed, not pooled.
"""

from __future__ import annotations

import aiohttp

from .._errors import ResponseTooLargeError

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "read_capped"]

#: 16 MiB: a page of 100 rich orders is well under 1 MiB.
DEFAULT_MAX_RESPONSE_SIZE = 16 * 1024 * 1024

_CHUNK = 64 * 1024


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read the whole body (at most ``cap`` bytes once decoded); it is read once, here.

    Raises:
        ResponseTooLargeError: the body is longer than ``cap``; the caller closes the response.
    """
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    length = response.content_length
    if not encoded and length is not None:
        if length > cap:
            raise _too_large(response, cap, f"announced ({length} bytes) is longer")
        # The common case: a plain body of announced length, read in one go. aiohttp never
        # reads past Content-Length, so the cap holds.
        return await response.read()
    body = bytearray()
    while chunk := await response.content.read(_CHUNK):
        if len(body) + len(chunk) > cap:
            raise _too_large(response, cap, "is longer")
        body += chunk
    return bytes(body)


def _too_large(response: aiohttp.ClientResponse, cap: int, how: str) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"the response body {how} than max_response_size ({cap} bytes)",
        status_code=response.status,
        headers=response.headers,
        method=response.method,
        url=str(response.url),
    )
