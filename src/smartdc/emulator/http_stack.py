"""The HTTP server stack under the emulator's ASGI apps: parser, event loop, header bytes.

The emulator is served by uvicorn with the fastest parts installed: the ``httptools``
protocol (llhttp, the HTTP parser Node's own server uses, so a request CloudAPI's Node server
would parse, this one parses the same way) on a ``uvloop`` event loop. Without them it falls
back to uvicorn's pure-Python ``h11`` protocol and the standard asyncio loop; both work, the
first stack answers a signed GetMachine some 40% faster on the benchmark machine
(bench/README.md, "The server stack, a third pass").

uvicorn's httptools protocol lowercases every response header name before writing it, where
Node writes the names as the application set them (``Content-Type``, ``Request-Id``); the
front door (:class:`smartdc.emulator.server.FrontDoor`) therefore hands uvicorn the names of
a response as :class:`CasedHeaderName` (:func:`wire_headers`), the last thing before the
wire, so nothing in the emulator ever sees their odd ``lower()``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

#: uvicorn's ``http`` setting: llhttp through httptools when installed, else h11.
HTTP_PROTOCOL = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


#: The names uvicorn reads to frame a response (their lowercase, as it compares them).
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})


class _FramingName(bytes):
    """A framing header name as written: equal to its lowercase, as uvicorn compares it."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (bytes, bytearray)):
            return NotImplemented
        return bytes.lower(self) == bytes(other).lower()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(bytes.lower(self))


class CasedHeaderName(bytes):
    """A response header name that reaches the wire in the case it was given.

    uvicorn's httptools protocol writes ``name.lower()``, having compared it with
    ``b"content-length"``, ``b"transfer-encoding"`` and ``b"connection"``. Here ``lower()``
    gives back the name in its own case: as plain ``bytes`` for most names, and for those
    three as bytes that compare equal to their lowercase, so uvicorn still frames the
    response by them. Only those three pay for a comparison in Python. (h11 copies names
    into plain ``bytes`` and keeps their case itself.)
    """

    _written: bytes

    def __new__(cls, name: bytes) -> CasedHeaderName:
        cased = super().__new__(cls, name)
        plain = bytes(name)
        cased._written = _FramingName(plain) if plain.lower() in _FRAMING else plain
        return cased

    def lower(self) -> bytes:
        return self._written


_cased_name = functools.lru_cache(maxsize=512)(CasedHeaderName)


def wire_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """ASGI response headers whose names uvicorn writes in their given case."""
    return [(_cased_name(bytes(name)), value) for name, value in headers]


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion in a new event loop: uvloop's when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
