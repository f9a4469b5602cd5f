"""The low-level CloudAPI client: one method per CloudAPI operation.

Each area lives in its own mixin module (account, keys, users, roles, access keys,
datacenters, images, packages, networks, fabrics, firewall, machines, snapshots, metadata,
tags, disks, NICs, migrations, volumes, WebSockets, the changefeed iterator);
:class:`CloudAPI` composes them over the one request path in :mod:`smartdc.transport`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from smartdc import errors
from smartdc._version import __version__
from smartdc.api._credentials import prompt_passphrase, resolve_credentials
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
from smartdc.api.websockets import WebSocketRequest, WebSocketsMixin, changefeed_subscription
from smartdc.auth.keyid import parse_key_id
from smartdc.auth.keys import Passphrase
from smartdc.auth.signers import RequestSigner, Signer
from smartdc.transport import HttpSession, RetryPolicy, Sender, tls_verify

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_ACCEPT_VERSION",
    "CloudAPI",
    "WebSocketRequest",
    "changefeed_subscription",
    "default_user_agent",
    "prompt_passphrase",
]

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


class CloudAPI(
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
    """A signed connection to one CloudAPI endpoint.

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
        transport: an httpx transport to use instead of the network (tests, in-process apps).
        sender: how requests travel instead of the default httpx pool, e.g.
            :class:`smartdc._socket_sender.SocketSender` (starts faster; used by the CLI).
            ``transport`` and ``verify``/``timeout`` then do not apply.
        accept_version: the ``Accept-Version`` range.
        user_agent: overrides :func:`default_user_agent`.
        sign_headers: the headers the signature covers.
        retries: extra attempts after throttling or connection failure (see
            :mod:`smartdc.transport`).

    The key is used once at construction, so key problems raise here
    (:class:`smartdc.errors.SigningError` subclasses), and bad options raise
    :class:`smartdc.errors.ConfigError`. Close the client (or use it as a context manager)
    to release pooled connections.
    """

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
        transport: httpx.BaseTransport | None = None,
        sender: Sender | None = None,
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
        self._websocket_verify = tls_verify(verify, insecure)
        if sender is None:
            from smartdc._httpx_sender import HttpxSender

            sender = HttpxSender(
                self._url,
                verify=self._websocket_verify,
                timeout=timeout,
                transport=transport,
            )
        self._session = HttpSession(
            self._url,
            sender=sender,
            signer=request_signer,
            headers={"Accept": "application/json", **self._websocket_headers},
            always_params={"as-role": ",".join(role_list)} if role_list else None,
            debug=debug,
            retry_policy=RetryPolicy(retries=retries),
            unauthorized_hint=(
                f"the server did not accept key {self._key_id} for account "
                f"{self._account!r}: check that this public key is on that account and "
                "matches the private key in use"
            ),
        )

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

    def __repr__(self) -> str:
        return f"CloudAPI(url={self._url!r}, account={self._account!r}, key_id={self._key_id!r})"
