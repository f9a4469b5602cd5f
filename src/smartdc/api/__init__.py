"""The low-level CloudAPI clients: one method per CloudAPI operation.

Each operation is described once, without I/O, in an area mixin module (account, keys,
users, roles, access keys, datacenters, images, packages, networks, fabrics, firewall,
machines, snapshots, metadata, tags, disks, NICs, migrations, volumes, WebSockets);
:class:`CloudAPI` sends those descriptions and waits, :class:`smartdc.AsyncCloudAPI`
(:mod:`smartdc.api.async_client`) awaits them. Both share one constructor
(:mod:`smartdc.api._client`) and one request path (:mod:`smartdc.transport`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smartdc.api._client import (
    DEFAULT_ACCEPT_VERSION,
    ClientCore,
    default_user_agent,
    proxy_configured,
)
from smartdc.api._credentials import prompt_passphrase
from smartdc.api._operation import Call, SyncRunner
from smartdc.api.changefeed import CHANGEFEED_DOC, Changefeed
from smartdc.api.websockets import (
    CHANGEFEED_SUB_RESOURCES,
    WebSocketRequest,
    changefeed_subscription,
)
from smartdc.transport import Closeable, HttpSession, Response, Sender, SessionOptions

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = [
    "DEFAULT_ACCEPT_VERSION",
    "CloudAPI",
    "WebSocketRequest",
    "changefeed_subscription",
    "default_user_agent",
    "prompt_passphrase",
]


class CloudAPI(ClientCore["httpx.BaseTransport", Sender], SyncRunner, Closeable):
    """A signed connection to one CloudAPI endpoint; every method sends and waits.

    Args:
        url: the endpoint, ``https://...`` (or ``http://`` for a local emulator).
        account: the login whose resources paths name (``/<account>/machines``).
        key_id: ``/<account>/keys/<name or fingerprint>``,
            ``/<account>/users/<user>/keys/<fp>``, or just a fingerprint (MD5 colon-hex,
            ``MD5:...`` or ``SHA256:...``) or key name, completed with ``account``/``user``.
            Optional when ``signer`` is given (the keyId then uses its MD5 fingerprint).
        signer: a ready signer; else one is made from ``key_id``, ``key_file``,
            ``passphrase`` and ``allow_agent``.
        key_file: the private key file (``~`` expanded). Without it the key is found by the
            fingerprint in ``key_id``: in ssh-agent, then in ``~/.ssh``.
        passphrase: for an encrypted key file: the passphrase (``str`` or ``bytes``), or a
            callback that receives a prompt and returns it (asked up to three times;
            returning ``None`` gives up). :func:`prompt_passphrase` asks on the terminal;
            nothing prompts unless it is passed.
        allow_agent: let ssh-agent sign when no ``key_file`` is given.
        user: RBAC sub-user login, used when completing a bare ``key_id``.
        act_as: another account to act on (operators, cross-account roles): request paths
            name it while the keyId still names ``account``, the login that signs.
        roles: RBAC roles to assume; sent as ``as-role=r1,r2`` on every request (signed).
        verify: ``True``, ``False`` or the path of a CA bundle; ``insecure=True`` disables
            certificate checks.
        timeout: seconds for connecting and for each read.
        debug: ``True`` echoes one line per request to stderr; or a text stream to write to.
            Signatures and the Authorization header are never echoed.
        transport: an httpx transport to use instead of the network (tests, in-process apps);
            requests then go through ``httpx``.
        sender: how requests travel, instead of the default: kept-alive connections of
            :class:`smartdc._socket_sender.SocketSender` (a lean HTTP/1.1 client, a
            quarter of httpx's CPU per request), or ``httpx`` when a ``transport`` is given
            or the environment names a proxy (``HTTPS_PROXY`` ...). ``transport`` and
            ``verify``/``timeout`` then do not apply.
        accept_version: the ``Accept-Version`` range.
        user_agent: overrides :func:`default_user_agent`.
        sign_headers: the headers the signature covers.
        retries: extra attempts after throttling or connection failure (see
            :mod:`smartdc.transport`).

    The key is used once at construction, so key problems raise here
    (:class:`smartdc.errors.SigningError` subclasses), and bad options raise
    :class:`smartdc.errors.ConfigError`. Close the client (or use it as a context manager)
    to release pooled connections. Every method's description says what it returns; on
    :class:`smartdc.AsyncCloudAPI` the same method returns an awaitable of it.
    """

    _session: HttpSession

    def _connect(
        self,
        *,
        sender: Sender | None,
        transport: httpx.BaseTransport | None,
        timeout: float,
        options: SessionOptions,
    ) -> None:
        if sender is None and transport is None and not proxy_configured():
            from smartdc._socket_sender import SocketSender

            sender = SocketSender(self._url, verify=self._tls_verify, timeout=timeout)
        elif sender is None:
            from smartdc._httpx_sender import HttpxSender

            sender = HttpxSender(
                self._url, verify=self._tls_verify, timeout=timeout, transport=transport
            )
        self._session = HttpSession(self._url, sender=sender, **options)

    def _send(self, call: Call[Any]) -> Response:
        return self._session.request(
            call.method,
            self._full_path(call.path),
            params=call.params,
            json=call.json,
            headers=call.headers,
            accept_redirect=call.accept_redirect,
        )

    def changefeed(
        self,
        sub_resources: str | Sequence[str] = CHANGEFEED_SUB_RESOURCES,
        vms: Sequence[Any] | None = None,
        *,
        timeout: float | None = None,
        reconnect: bool = False,
        verify: bool | str | ssl.SSLContext | None = None,
    ) -> Changefeed:
        return self._open_changefeed(sub_resources, vms, timeout, reconnect, verify)

    changefeed.__doc__ = CHANGEFEED_DOC

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._session.close()
