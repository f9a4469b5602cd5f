"""The async request path: :class:`AsyncHttpSession`, the asyncio twin of
:class:`smartdc.transport.HttpSession`.

Both run the same :class:`smartdc.transport.Exchange`, which decides every attempt (what
to sign, whether to retry and after how long, what to raise), so the retry table, the
debug echo and error decoding exist once. Here the waits are ``asyncio.sleep`` and
signing that may block (an ssh-agent round trip) runs in a worker thread, off the event
loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, Unpack

from smartdc.auth.signers import PrivateKeySigner
from smartdc.transport import RawResponse, Response, SendError, SessionCore, SessionOptions

if TYPE_CHECKING:
    pass


class AsyncSender(Protocol):
    """Moves one request's bytes to the server and the response back, on an event loop."""

    async def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send ``method target`` and return the whole response.

        Raises:
            SendError: no response came back.
        """
        ...

    async def close(self) -> None:
        """Release pooled connections."""
        ...


class AsyncHttpSession(SessionCore):
    """Signed, retried requests to one CloudAPI endpoint over an :class:`AsyncSender`."""

    def __init__(
        self,
        base_url: str,
        *,
        sender: AsyncSender,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Unpack[SessionOptions],
    ) -> None:
        super().__init__(base_url, **options)
        self._sender = sender
        self._sleep = sleep
        # Keys in memory sign in microseconds; anything else (ssh-agent) may wait on I/O.
        self._signing_blocks = not isinstance(self._signer.signer, PrivateKeySigner)

    async def close(self) -> None:
        """Close pooled connections."""
        await self._sender.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept_redirect: bool = False,
    ) -> Response:
        """Send one request, retrying as :mod:`smartdc.transport` says; raise on error
        statuses (a 3xx is returned only when ``accept_redirect`` is true)."""
        exchange = self.exchange(
            method, path, params=params, json=json, headers=headers, accept_redirect=accept_redirect
        )
        while True:
            if self._signing_blocks:
                sent = await asyncio.to_thread(exchange.signed_headers)
            else:
                sent = exchange.signed_headers()
            started = time.monotonic()
            try:
                raw = await self._sender.send(exchange.method, exchange.target, sent, exchange.body)
            except SendError as failure:
                delay = exchange.failed(failure, started)
            else:
                outcome = exchange.answered(raw, sent, started)
                if isinstance(outcome, Response):
                    return outcome
                delay = outcome
            await self._sleep(delay)
