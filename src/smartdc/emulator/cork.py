"""Sending a response's head and its body in one go (Linux ``TCP_CORK``).

uvicorn writes the head of a response as soon as the app starts it and the body when it
comes, two sends. On loopback each send delivers at once and wakes the client, which then
waits for the rest. Corking the connection from the start of the response to the end of its
body makes the kernel send both together, and the client wakes once.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)


class Cork:
    """The cork of the connection a server's ``send`` callable writes to (when it can be
    found: uvicorn's ``send`` is a method of an object holding the transport)."""

    def __init__(self, send: Callable[..., Any]) -> None:
        self._socket: Any = None
        self._corked = False
        if _TCP_CORK is None:
            return
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.Transport):
            self._socket = transport.get_extra_info("socket")

    def close(self) -> None:
        """Hold back what is written until :meth:`open` (no-op without a socket)."""
        self._set(True)

    def open(self) -> None:
        """Send what is held back, and everything after it at once."""
        self._set(False)

    def _set(self, corked: bool) -> None:
        if self._socket is None or self._corked == corked or _TCP_CORK is None:
            return
        try:
            self._socket.setsockopt(socket.IPPROTO_TCP, _TCP_CORK, int(corked))
        except OSError:
            self._socket = None  # the connection is gone; nothing left to hold back
            return
        self._corked = corked
