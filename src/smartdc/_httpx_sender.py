"""A :class:`~smartdc.transport.Sender` over an ``httpx`` connection pool (the library's default).

This is the one place where httpx exceptions become smartdc errors. It also accepts any
``httpx.BaseTransport``, so tests and in-process apps can mount the emulator
(``httpx.ASGITransport``-style) or a mock.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import httpx

from smartdc.transport import FailureKind, Headers, RawResponse, SendError, failure

#: httpx errors raised before any response arrived, where resending is safe if idempotent.
_NO_RESPONSE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


class HttpxSender:
    """Sends requests over a keep-alive ``httpx.Client``; redirects are never followed."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = httpx.URL(base_url)
        self._origin = f"{parts.scheme}://{parts.netloc.decode('ascii')}"
        self._client = httpx.Client(
            verify=verify, timeout=timeout, transport=transport, follow_redirects=False
        )

    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send one request; httpx failures are raised as :class:`SendError`."""
        url = self._origin + target
        request = self._client.build_request(method, url, headers=headers, content=body)
        try:
            raw = self._client.send(request)
        except httpx.TransportError as exc:
            raise _send_error(exc, method, url) from exc
        return RawResponse(raw.status_code, Headers(raw.headers.multi_items()), raw.content)

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()


class AsyncHttpxSender:
    """Sends requests over a keep-alive ``httpx.AsyncClient`` (for :class:`smartdc.AsyncCloudAPI`);
    redirects are never followed."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        parts = httpx.URL(base_url)
        self._origin = f"{parts.scheme}://{parts.netloc.decode('ascii')}"
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send one request; httpx failures are raised as :class:`SendError`."""
        url = self._origin + target
        request = self._client.build_request(method, url, headers=headers, content=body)
        try:
            raw = await self._client.send(request)
        except httpx.TransportError as exc:
            raise _send_error(exc, method, url) from exc
        return RawResponse(raw.status_code, Headers(raw.headers.multi_items()), raw.content)

    async def close(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()


def _send_error(exc: httpx.TransportError, method: str, url: str) -> SendError:
    """The :class:`SendError` for an httpx failure, retryable when no response can have come."""
    tls_failed = _tls_failure(exc) is not None
    detail = str(exc) or type(exc).__name__
    kind: FailureKind = (
        "timeout"
        if isinstance(exc, httpx.TimeoutException)
        else "connect"
        if isinstance(exc, httpx.ConnectError)
        else "other"
    )
    retryable = isinstance(exc, _NO_RESPONSE_ERRORS) and not tls_failed
    return SendError(failure(kind, method, url, detail, tls_failed=tls_failed), retryable=retryable)


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx failure, if the handshake is what failed."""
    cause: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> ssl; a bound against cycles
        if cause is None:
            return None
        if isinstance(cause, ssl.SSLError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None
