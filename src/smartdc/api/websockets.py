"""The WebSocket operations: ConnectMachineVNC and GetChangefeed.

No socket is opened here: each method returns a :class:`WebSocketRequest`, the URL and
signed headers a WebSocket client needs to connect (for instance
``websockets.connect(req.url, additional_headers=req.headers, subprotocols=...)``). The
signature covers ``(request-target)`` and ``date`` for ``GET`` on the exact path, as
``triton`` signs these upgrades, and like any signed request it must be used within five
minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from smartdc._record import Record
from smartdc.api._base import ApiBase, Ref, _id_of, _path
from smartdc.api._operation import Local, operation
from smartdc.auth.httpsig import redact_headers
from smartdc.auth.signers import PrivateKeySigner, RequestSigner
from smartdc.wire import CHANGEFEED_SUB_RESOURCES as CHANGEFEED_SUB_RESOURCES


class WebSocketRequest(Record):
    """Where and how to open one CloudAPI WebSocket: the ``wss://`` (or ``ws://`` for an
    ``http://`` endpoint) URL of the route, the ``Date``, ``Authorization``,
    ``Accept-Version`` and ``User-Agent`` headers to send, and the sub-protocols to offer
    (VNC: ``binary`` and ``rfb``)."""

    __slots__ = ("headers", "subprotocols", "url")
    url: str
    headers: dict[str, str]
    subprotocols: tuple[str, ...]

    def __init__(
        self, url: str, headers: dict[str, str], subprotocols: tuple[str, ...] = ()
    ) -> None:
        self.url = url
        self.headers = headers
        self.subprotocols = subprotocols

    def __repr__(self) -> str:
        # The signature authenticates anyone for five minutes: never shown, even in logs.
        return (
            f"WebSocketRequest(url={self.url!r}, headers={redact_headers(self.headers)!r}, "
            f"subprotocols={self.subprotocols!r})"
        )


def changefeed_subscription(
    sub_resources: tuple[str, ...] | list[str] = CHANGEFEED_SUB_RESOURCES,
    vms: tuple[Ref, ...] | list[Ref] | None = None,
) -> dict[str, Any]:
    """The first message to send on a changefeed socket: what changes to receive.

    ``sub_resources`` must be a non-empty subset of :data:`CHANGEFEED_SUB_RESOURCES`;
    ``vms`` (ids or machine dicts) limits the feed to those machines. CloudAPI silently
    ignores an invalid subscription, so it is checked here.
    """
    wanted = list(sub_resources)
    unknown = sorted(set(wanted) - set(CHANGEFEED_SUB_RESOURCES))
    if not wanted or unknown:
        raise ValueError(
            f"sub_resources must be a non-empty subset of {', '.join(CHANGEFEED_SUB_RESOURCES)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    message: dict[str, Any] = {"resource": "vm", "subResources": wanted}
    if vms is not None:
        message["vms"] = [_id_of(vm, "id") for vm in vms]
    return message


class WebSocketsMixin(ApiBase):
    """Signed connection details for CloudAPI's WebSocket routes."""

    _url: str
    _request_signer: RequestSigner
    _websocket_headers: Mapping[str, str]
    _role_query: str

    def _websocket(self, relative: str, subprotocols: tuple[str, ...] = ()) -> WebSocketRequest:
        base = urlsplit(self._url)
        prefix = base.path.rstrip("/")
        target = f"{prefix}/{_path(self._account)}/{relative}"
        if self._role_query:  # as-role goes on upgrades too, signed like every request
            target += f"?{self._role_query}"
        scheme = "wss" if base.scheme == "https" else "ws"
        headers = dict(self._websocket_headers)
        host = base.netloc
        headers.update(
            self._request_signer.headers_for("GET", target, extra={"host": host, **headers})
        )
        return WebSocketRequest(f"{scheme}://{host}{target}", headers, subprotocols)

    def _signed_upgrade(
        self, relative: str, subprotocols: tuple[str, ...] = ()
    ) -> Local[WebSocketRequest]:
        # Signing through ssh-agent waits on a socket: an async client does it in a thread.
        blocking = not isinstance(self._request_signer.signer, PrivateKeySigner)
        return Local(lambda: self._websocket(relative, subprotocols), blocking=blocking)

    @operation
    def connect_machine_vnc(self, id: Ref) -> Local[WebSocketRequest]:
        """ConnectMachineVNC: ``GET /:login/machines/:id/vnc`` (WebSocket upgrade).

        Returns the URL and signed headers for the socket; this method does not connect.
        Offer the ``binary`` sub-protocol (listed in ``subprotocols``); binary frames then
        carry the machine console's raw RFB (VNC) stream. Only running bhyve and kvm
        machines have a console.
        """
        path = _path("machines", _id_of(id, "id"), "vnc")
        return self._signed_upgrade(path, ("binary", "rfb"))

    @operation
    def get_changefeed(self) -> Local[WebSocketRequest]:
        """GetChangefeed: ``GET /:login/changefeed`` (WebSocket upgrade; CloudAPI 9.14+).

        Returns the URL and signed headers for the socket; this method does not connect.
        Once connected, send :func:`changefeed_subscription` as one JSON text frame; the
        server then sends one JSON text frame per matching machine change
        (``changeKind``, ``changedResourceId``, ``published``, ``resourceState``,
        ``resourceObject``).
        """
        return self._signed_upgrade("changefeed")
