""":class:`AsyncCloudAPI`: every CloudAPI operation, awaitable, for asyncio programs.

It runs the very descriptions :class:`smartdc.CloudAPI` runs (the area mixins), over
kept-alive asyncio connections (``httpx.AsyncClient`` with a ``transport`` or a proxy): the
same constructor, the same method names and arguments, each method returning an awaitable
of what the sync client returns; ``iter_*`` listings are async iterators. One client serves
many tasks at once::

    async with AsyncCloudAPI(url, "alice", key_id=fp, key_file="~/.ssh/id_ed25519") as api:
        machines = await api.list_machines(state="running")
        details = await asyncio.gather(*(api.get_machine(m) for m in machines))
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smartdc.api._client import ClientCore, proxy_configured
from smartdc.api._operation import AsyncRunner, Call
from smartdc.api.changefeed import CHANGEFEED_DOC, AsyncChangefeed
from smartdc.api.websockets import CHANGEFEED_SUB_RESOURCES
from smartdc.async_transport import AsyncHttpSession, AsyncSender
from smartdc.transport import AsyncCloseable, Response, SessionOptions

if TYPE_CHECKING:
    import ssl

    import httpx

    from smartdc.change_waits import AsyncChangeHub


class AsyncCloudAPI(
    ClientCore["httpx.AsyncBaseTransport", AsyncSender], AsyncRunner, AsyncCloseable
):
    """A signed connection to one CloudAPI endpoint for asyncio: :class:`smartdc.CloudAPI`'s
    constructor and methods, each method awaitable (``iter_*`` are async iterators).

    Arguments are those of :class:`smartdc.CloudAPI`, except that ``transport`` is an
    ``httpx.AsyncBaseTransport`` (``httpx.ASGITransport`` mounts an ASGI app such as the
    emulator) and ``sender`` an :class:`smartdc.async_transport.AsyncSender`. Requests go
    over a pool of up to 100 kept-alive connections
    (:class:`smartdc._async_socket_sender.AsyncSocketSender`), or through
    ``httpx.AsyncClient`` when a ``transport`` is given or the environment names a proxy. Signing
    through ssh-agent runs in a worker thread, so it never blocks the event loop; keys
    loaded from files sign in place. :attr:`last_response` is per asyncio task.

    Close it with ``await api.aclose()`` or use ``async with``, in the event loop that used
    it. Used from another event loop later (a second ``asyncio.run``), it opens new
    connections there.
    """

    _session: AsyncHttpSession
    _change_hub: AsyncChangeHub | None = None

    def _connect(
        self,
        *,
        sender: AsyncSender | None,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        options: SessionOptions,
    ) -> None:
        if sender is None and transport is None and not proxy_configured():
            from smartdc._async_socket_sender import AsyncSocketSender

            sender = AsyncSocketSender(self._url, verify=self._tls_verify, timeout=timeout)
        elif sender is None:
            from smartdc._httpx_sender import AsyncHttpxSender

            sender = AsyncHttpxSender(
                self._url, verify=self._tls_verify, timeout=timeout, transport=transport
            )
        self._session = AsyncHttpSession(self._url, sender=sender, **options)

    async def _send(self, call: Call[Any]) -> Response:
        return await self._session.request(
            call.method,
            self._full_path(call.path),
            params=call.params,
            json=call.json,
            headers=call.headers,
            accept_redirect=call.accept_redirect,
        )

    async def changefeed(
        self,
        sub_resources: str | Sequence[str] = CHANGEFEED_SUB_RESOURCES,
        vms: Sequence[Any] | None = None,
        *,
        timeout: float | None = None,
        reconnect: bool = False,
        verify: bool | str | ssl.SSLContext | None = None,
    ) -> AsyncChangefeed:
        feed = await asyncio.to_thread(
            self._open_changefeed, sub_resources, vms, timeout, reconnect, verify
        )
        return AsyncChangefeed(feed, asyncio.get_running_loop())

    changefeed.__doc__ = CHANGEFEED_DOC

    @property
    def change_hub(self) -> AsyncChangeHub:
        """The one changefeed this client's waits share (opened by the first wait that
        follows changes; see :mod:`smartdc.change_waits`)."""
        hub = self._change_hub
        if hub is None:
            from smartdc.change_waits import AsyncChangeHub

            hub = self._change_hub = AsyncChangeHub(self)
        return hub

    async def aclose(self) -> None:
        """Close the connection pool (and the waits' changefeed). The client cannot be used
        afterwards."""
        hub, self._change_hub = self._change_hub, None
        if hub is not None:
            await hub.close()
        await self._session.close()
