"""The one request path to CloudAPI: retries, error decoding, clock-skew hints, debug echo.

:class:`HttpSession` wraps an ``httpx.Client`` (a keep-alive connection pool). Every request
goes through :meth:`HttpSession.request`, which is the only place where httpx exceptions are
translated into :mod:`smartdc.errors` and the only place that retries.

Retry table (``RetryPolicy.retries`` extra attempts at most)::

    outcome                                  methods                 wait before retrying
    ---------------------------------------  ----------------------  ---------------------------
    420, 429 or 503 response                 any                     Retry-After when given,
                                                                     else backoff; never more
                                                                     than RetryPolicy.max_delay
    no response: connect failure, dropped    GET HEAD PUT DELETE     backoff
    connection, protocol error               OPTIONS
    read timeout, any other status           -                       not retried

Backoff is ``base_delay * 2**attempt`` (attempt counts from 0), capped at ``max_delay``,
scaled by a random factor in [0.5, 1] so that parallel clients do not retry in lockstep.
POST is never retried after a connection error: CloudAPI creates and actions are not
idempotent, and we cannot know whether the server acted before the connection broke.
"""

from __future__ import annotations

import email.utils
import json
import random
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO, TypedDict

import httpx

from smartdc import errors

#: Methods safe to send again when no response came back.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

#: Statuses that mean "slow down and try again": CloudAPI throttling is 429, some proxies and
#: older docs use 420, and read-only/maintenance mode is 503.
RETRY_STATUSES = frozenset({420, 429, 503})

#: httpx errors raised before any response arrived, where resending is safe if idempotent.
_NO_RESPONSE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

#: A server Date further than this from the local clock is reported as clock skew.
CLOCK_SKEW_THRESHOLD = 60.0

#: Authentication failures that a wrong local clock can cause.
_SKEW_SENSITIVE_CODES = frozenset({"InvalidHeader", "RequestExpired"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry (see the table in the module docstring)."""

    retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, not {self.retries}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must not be negative")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling * random.uniform(0.5, 1.0)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """The wait after a retryable status: ``Retry-After`` if usable, else backoff."""
        wanted = parse_retry_after(retry_after)
        if wanted is None:
            return self.backoff(attempt)
        return min(self.max_delay, wanted)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), else ``None``."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def clock_skew(server_date: str | None, *, now: float | None = None) -> float | None:
    """Seconds the server clock is ahead of ours (negative: behind), or ``None`` if unknown."""
    if not server_date:
        return None
    try:
        when = email.utils.parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp() - (time.time() if now is None else now)


def skew_hint(skew: float | None) -> str | None:
    """A sentence explaining the clock difference, when it is large enough to matter."""
    if skew is None or abs(skew) <= CLOCK_SKEW_THRESHOLD:
        return None
    direction = "behind" if skew > 0 else "ahead of"
    return (
        f"the local clock differs from the server by {round(abs(skew))} s (clock skew: it is "
        f"{direction} the server); CloudAPI rejects requests whose Date is more than 300 s "
        "off, so set the system clock (e.g. with NTP)"
    )


def encode_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as strings: ``None`` dropped, booleans as ``true``/``false``."""
    encoded: list[tuple[str, str]] = []
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded.append((name, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            encoded.append((name, str(value)))
        else:
            raise TypeError(
                f"query parameter {name!r} must be a string, number or boolean, "
                f"not {type(value).__name__}"
            )
    return encoded


def decode_body(response: httpx.Response) -> Any:
    """The decoded JSON body; ``None`` when empty; the text when it is not JSON."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def tls_verify(verify: bool | str, insecure: bool) -> bool | ssl.SSLContext:
    """The httpx ``verify`` value for a CA-bundle path (file or directory) or a flag."""
    if insecure or verify is False:
        return False
    if verify is True:
        return True
    path = Path(verify).expanduser()
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        return ssl.create_default_context(cafile=str(path))
    raise errors.ConfigError(f"verify: CA bundle {verify!r} does not exist")


@dataclass(frozen=True)
class Response:
    """One CloudAPI response with its body already decoded."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: Any

    @property
    def request_id(self) -> str | None:
        """The ``Request-Id`` header CloudAPI sets for support requests."""
        value = self.headers.get("request-id")
        return str(value) if value is not None else None

    def header_int(self, name: str) -> int | None:
        """An integer header (``x-resource-count`` ...), or ``None`` when absent or garbled."""
        value = self.headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None


class RequestContent(TypedDict, total=False):
    """What a request carries besides its method and path: query, JSON body, extra headers."""

    params: Mapping[str, Any] | None
    json: Any
    headers: Mapping[str, str] | None


class RequestOptions(RequestContent, total=False):
    """The keyword arguments of :meth:`HttpSession.request`, for code that passes them on."""

    accept_redirect: bool


class Closeable:
    """Something holding pooled connections: ``close()`` it, or use it in a ``with`` block."""

    def close(self) -> None:
        """Release the pooled connections."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class HttpSession(Closeable):
    """A pooled, signed HTTP connection to one CloudAPI endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth,
        headers: Mapping[str, str],
        verify: bool | ssl.SSLContext = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        debug: bool | TextIO = False,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        unauthorized_hint: str | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers=dict(headers),
            verify=verify,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        self.retry_policy = retry_policy or RetryPolicy()
        self.debug = debug
        self._sleep = sleep
        self._unauthorized_hint = unauthorized_hint
        self._local = threading.local()

    @property
    def last_response(self) -> Response | None:
        """The last response this thread received (error responses included)."""
        last: Response | None = getattr(self._local, "last", None)
        return last

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept_redirect: bool = False,
    ) -> Response:
        """Send one request, retrying as the module table says; raise on error statuses.

        A 3xx answer is returned rather than raised only when ``accept_redirect`` is true.
        """
        method = method.upper()
        query = httpx.QueryParams(tuple(encode_params(params)))
        attempt = 0
        while True:
            request = self._client.build_request(
                method, path, params=query, json=json, headers=headers
            )
            started = time.monotonic()
            try:
                raw = self._client.send(request)
            except httpx.TransportError as exc:
                self._echo(request, type(exc).__name__, started)
                if (
                    attempt < self.retry_policy.retries
                    and method in IDEMPOTENT_METHODS
                    and isinstance(exc, _NO_RESPONSE_ERRORS)
                    and tls_failure(exc) is None  # a TLS handshake fails the same way again
                ):
                    self._sleep(self.retry_policy.backoff(attempt))
                    attempt += 1
                    continue
                raise translate_transport_error(exc, request, attempts=attempt + 1) from exc
            response = Response(
                method=method,
                url=str(request.url),
                status=raw.status_code,
                headers=raw.headers,
                body=None if method == "HEAD" else decode_body(raw),
            )
            self._local.last = response
            self._echo(request, str(raw.status_code), started, response.request_id)
            if raw.status_code in RETRY_STATUSES and attempt < self.retry_policy.retries:
                self._sleep(self.retry_policy.delay(attempt, raw.headers.get("retry-after")))
                attempt += 1
                continue
            if 200 <= raw.status_code < 300 or (accept_redirect and 300 <= raw.status_code < 400):
                return response
            raise error_for(response, unauthorized_hint=self._unauthorized_hint)

    def _echo(
        self, request: httpx.Request, outcome: str, started: float, request_id: str | None = None
    ) -> None:
        """One debug line per attempt; the Authorization header is never written."""
        if self.debug is False:
            return
        stream: TextIO = sys.stderr if self.debug is True else self.debug
        elapsed = round((time.monotonic() - started) * 1000)
        target = request.url.raw_path.decode("ascii", "replace")
        line = f"smartdc: {request.method} {target} -> {outcome} ({elapsed} ms)"
        if request_id:
            line += f" request-id={request_id}"
        stream.write(line + "\n")
        stream.flush()


def error_for(response: Response, *, unauthorized_hint: str | None = None) -> errors.CloudAPIError:
    """The exception for an error response, with a hint when the cause is likely known.

    Clock skew is named when the server's Date says so; otherwise a 401 carries
    ``unauthorized_hint`` (which key was rejected, and what to check).
    """
    hint = None
    code = response.body.get("code") if isinstance(response.body, dict) else None
    if response.status == 401 or (response.status == 400 and code in _SKEW_SENSITIVE_CODES):
        hint = skew_hint(clock_skew(response.headers.get("date")))
    if hint is None and response.status == 401:
        hint = unauthorized_hint
    return errors.error_for_response(response.status, response.body, response.request_id, hint=hint)


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx failure, if the handshake is what failed."""
    cause: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> ssl; a bound against cycles
        if cause is None:
            return None
        if isinstance(cause, ssl.SSLError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def translate_transport_error(
    exc: httpx.TransportError, request: httpx.Request, *, attempts: int = 1
) -> errors.TransportError:
    """The smartdc exception for an httpx failure, naming the URL."""
    where = f"{request.method} {request.url}"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return errors.TimeoutError(f"{where} timed out{tries}: {detail}")
    if isinstance(exc, httpx.ConnectError):
        message = f"could not connect to {request.url.scheme}://{request.url.netloc.decode()}"
        message += f" for {where}{tries}: {detail}"
        if "CERTIFICATE_VERIFY_FAILED" in detail:
            message += " (pass verify=<CA bundle path>, or insecure=True to skip verification)"
        elif tls_failure(exc) is not None and "WRONG_VERSION_NUMBER" in detail:
            plain = request.url.copy_with(scheme="http", path="", query=None)
            message += (
                f" (the server did not answer in TLS: if it serves plain HTTP, as a local "
                f"emulator does, use {str(plain).rstrip('/')})"
            )
        return errors.ConnectError(message)
    return errors.TransportError(f"{where} failed{tries}: {detail}")
