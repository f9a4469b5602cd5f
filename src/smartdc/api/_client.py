"""The constructor and properties :class:`smartdc.CloudAPI` and :class:`smartdc.AsyncCloudAPI`
share, over every CloudAPI operation (the area mixins)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Generic, TextIO, TypeVar
from urllib.parse import urlsplit

from smartdc import errors
from smartdc._version import __version__
from smartdc.api._credentials import resolve_credentials
from smartdc.api.access_keys import AccessKeysMixin
from smartdc.api.account import AccountMixin
from smartdc.api.changefeed import ChangefeedMixin
from smartdc.api.datacenters import DatacentersMixin
from smartdc.api.disks import DisksMixin
from smartdc.api.fabrics import FabricsMixin
from smartdc.api.firewall import FirewallMixin
from smartdc.api.images import ImagesMixin
from smartdc.api.keys import KeysMixin
from smartdc.api.machines import MachinesMixin
from smartdc.api.metadata import MetadataMixin
from smartdc.api.migrations import MigrationsMixin
from smartdc.api.networks import NetworksMixin
from smartdc.api.nics import NicsMixin
from smartdc.api.packages import PackagesMixin
from smartdc.api.roles import RolesMixin
from smartdc.api.snapshots import SnapshotsMixin
from smartdc.api.tags import TagsMixin
from smartdc.api.users import UsersMixin
from smartdc.api.volumes import VolumesMixin
from smartdc.api.websockets import WebSocketsMixin
from smartdc.auth.keyid import parse_key_id
from smartdc.auth.keys import Passphrase
from smartdc.auth.signers import RequestSigner, Signer
from smartdc.transport import Response, RetryPolicy, SessionCore, SessionOptions, tls_verify

#: Environment variables that send requests through a proxy; httpx honours them (and
#: ``NO_PROXY``), the socket senders do not.
PROXY_VARIABLES = (
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


def proxy_configured() -> bool:
    """Whether the environment names a proxy, so that requests must go through httpx."""
    return any(os.environ.get(name) for name in PROXY_VARIABLES)


#: The API versions we speak, as ``triton`` asks for them.
DEFAULT_ACCEPT_VERSION = "~9||~8"


def default_user_agent() -> str:
    """``smartdc/<version> (python/<version>; <os>-<arch>)``."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    machine = os.uname().machine if hasattr(os, "uname") else ""
    return f"smartdc/{__version__} (python/{python}; {sys.platform}-{machine or 'unknown'})"


def _check_url(url: str) -> str:
    try:
        parsed = urlsplit(url.strip())
        parsed.port  # noqa: B018 - raises on a malformed port
    except (ValueError, TypeError, AttributeError) as exc:
        raise errors.ConfigError(f"url {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise errors.ConfigError(
            f"url {url!r} must be an http:// or https:// URL such as https://cloudapi.example.com"
        )
    if parsed.query or parsed.fragment:
        raise errors.ConfigError(f"url {url!r} must not have a query or fragment")
    path = parsed.path.rstrip("/")
    return f"{parsed.scheme}://{parsed.netloc.lower()}{path}"


def _check_account(account: str) -> str:
    if not isinstance(account, str) or not account.strip():
        raise errors.ConfigError("account (the CloudAPI login) is required")
    if account == "my" or "/" in account:
        raise errors.ConfigError(f"account must be the real login, not {account!r}")
    return account.strip()


class Operations(
    AccountMixin,
    KeysMixin,
    UsersMixin,
    RolesMixin,
    AccessKeysMixin,
    DatacentersMixin,
    ImagesMixin,
    PackagesMixin,
    NetworksMixin,
    FabricsMixin,
    FirewallMixin,
    MachinesMixin,
    SnapshotsMixin,
    MetadataMixin,
    TagsMixin,
    DisksMixin,
    NicsMixin,
    MigrationsMixin,
    VolumesMixin,
    ChangefeedMixin,
    WebSocketsMixin,
):
    """Every CloudAPI operation, described without I/O (see :mod:`smartdc.api._operation`)."""


#: The kind of httpx transport a client takes (sync or async).
TransportT = TypeVar("TransportT")
#: The kind of sender a client takes (:class:`~smartdc.transport.Sender` or its async twin).
SenderT = TypeVar("SenderT")


class ClientCore(Operations, Generic[TransportT, SenderT]):
    """The settings both clients take and check, and the session options they derive.

    Subclasses make the session in :meth:`_connect` from ``sender``, ``transport``,
    ``timeout`` and the session options.
    """

    _session: SessionCore

    def __init__(
        self,
        url: str,
        account: str,
        *,
        key_id: str | None = None,
        signer: Signer | None = None,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: Passphrase = None,
        allow_agent: bool = True,
        user: str | None = None,
        act_as: str | None = None,
        roles: Sequence[str] | None = None,
        verify: bool | str = True,
        insecure: bool = False,
        timeout: float = 30.0,
        debug: bool | TextIO = False,
        transport: TransportT | None = None,
        sender: SenderT | None = None,
        accept_version: str = DEFAULT_ACCEPT_VERSION,
        user_agent: str | None = None,
        sign_headers: Sequence[str] = ("(request-target)", "date"),
        retries: int = 3,
    ) -> None:
        self._url = _check_url(url)
        login = _check_account(account)
        self._account = _check_account(act_as) if act_as else login
        role_list = [role.strip() for role in roles or () if role.strip()]
        self._roles = tuple(role_list)
        self._role_query = f"as-role={','.join(role_list)}" if role_list else ""
        if timeout <= 0:
            raise errors.ConfigError(f"timeout must be positive, not {timeout}")
        if retries < 0:
            raise errors.ConfigError(f"retries must be 0 or more, not {retries}")
        self._signer, full_key_id = resolve_credentials(
            login,
            key_id=key_id,
            signer=signer,
            key_file=key_file,
            passphrase=passphrase,
            allow_agent=allow_agent,
            user=user,
        )
        # A sub-user named only by a full keyId (/<account>/users/<user>/keys/...) is still one.
        self._user = user if user is not None else parse_key_id(full_key_id).user
        request_signer = RequestSigner(self._signer, full_key_id, headers=tuple(sign_headers))
        # Sign once now: a locked key, a wrong passphrase or a missing agent key fails here.
        request_signer.headers_for("GET", f"/{self._account}")
        self._key_id = request_signer.key_id
        self._request_signer = request_signer
        self._websocket_headers = {
            "Accept-Version": accept_version,
            "User-Agent": user_agent or default_user_agent(),
        }
        # WebSockets (the changefeed) check TLS as every request does.
        self._tls_verify = tls_verify(verify, insecure)
        self._websocket_verify = self._tls_verify
        #: Whether waits follow the changefeed (see :mod:`smartdc.change_waits`): on when
        #: requests go over the network, off with a ``transport`` (a mock or an in-process
        #: app, which a WebSocket cannot reach). Turned off when the server refuses the feed.
        self.changefeed_waits = transport is None
        self._connect(
            sender=sender,
            transport=transport,
            timeout=timeout,
            options={
                "signer": request_signer,
                "headers": {"Accept": "application/json", **self._websocket_headers},
                "always_params": {"as-role": ",".join(role_list)} if role_list else None,
                "debug": debug,
                "retry_policy": RetryPolicy(retries=retries),
                "unauthorized_hint": (
                    f"the server did not accept key {self._key_id} for account "
                    f"{self._account!r}: check that this public key is on that account and "
                    "matches the private key in use"
                ),
            },
        )

    def _connect(
        self,
        *,
        sender: SenderT | None,
        transport: TransportT | None,
        timeout: float,
        options: SessionOptions,
    ) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        """The endpoint URL, without a trailing slash."""
        return self._url

    @property
    def account(self) -> str:
        """The login used in request paths."""
        return self._account

    @property
    def user(self) -> str | None:
        """The RBAC sub-user that signs (from ``user=`` or the keyId), if any."""
        return self._user

    @property
    def roles(self) -> tuple[str, ...]:
        """The RBAC roles sent as ``as-role`` on every request (empty: the user's defaults)."""
        return self._roles

    @property
    def key_id(self) -> str:
        """The keyId sent on the wire (fingerprints in MD5 colon-hex form)."""
        return self._key_id

    @property
    def signer(self) -> Signer:
        """The signer that signs every request."""
        return self._signer

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retry counts and delays; assign a new :class:`RetryPolicy` to change them."""
        return self._session.retry_policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._session.retry_policy = policy

    @property
    def debug(self) -> bool | TextIO:
        """Where the per-request debug line goes: ``False``, ``True`` (stderr) or a stream."""
        return self._session.debug

    @debug.setter
    def debug(self, value: bool | TextIO) -> None:
        self._session.debug = value

    @property
    def last_response(self) -> Response | None:
        """The last response received on this thread (or asyncio task): status, headers,
        decoded body (a :class:`smartdc.transport.Response`)."""
        return self._session.last_response

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self._url!r}, account={self._account!r}, "
            f"key_id={self._key_id!r})"
        )
