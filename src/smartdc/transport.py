"""The one request path to CloudAPI: signing, retries, error decoding, clock-skew hints, debug echo.

:class:`HttpSession` sends every request through :meth:`HttpSession.request`, the only place that
signs, retries and turns error statuses into :mod:`smartdc.errors`. The bytes go over a
:class:`Sender`: an ``httpx`` connection pool for the library (:mod:`smartdc._httpx_sender`), or a
small keep-alive socket client that starts in a fraction of the time for the CLI
(:mod:`smartdc._socket_sender`). Senders translate their own failures into :class:`SendError` at
that one boundary; this module imports neither.

Retry table (``RetryPolicy.retries`` extra attempts at most)::

    outcome                                  methods                 wait before retrying
    ---------------------------------------  ----------------------  ---------------------------
    420, 429 or 503 response                 any                     Retry-After when given
                                                                     (one longer than
                                                                     RetryPolicy.max_delay is
                                                                     not retried), else backoff
    no response: connect failure, dropped    GET HEAD PUT DELETE     backoff
    connection, protocol error               OPTIONS
    read timeout, TLS failure, any other     -                       not retried
    status

Backoff is ``base_delay * 2**attempt`` (attempt counts from 0), capped at ``max_delay``,
scaled by a random factor in [0.5, 1] so that parallel clients do not retry in lockstep.
POST is never retried after a connection error: CloudAPI creates and actions are not
idempotent, and we cannot know whether the server acted before the connection broke; the
error says so (and what to check) unless the connection was never made.

A ``Retry-After`` longer than ``max_delay`` is not waited out: the request fails at once
with the throttling error, whose hint (and the debug echo) gives the wait the server asked
for, rather than sleeping far longer than the caller expects.

A 2xx answer must be CloudAPI's: JSON (``application/x-json-stream`` too), or a type the
request's ``Accept`` header named. Anything else (the HTML page of a web portal or a
proxy) raises :class:`~smartdc.errors.UnexpectedResponseError` naming the URL and the
content type, instead of handing the page back as if it were data.
"""

from __future__ import annotations

import contextvars
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Required, Self, TextIO, TypedDict, Unpack
from urllib.parse import quote, urlsplit

from smartdc import errors
from smartdc._record import Record

if TYPE_CHECKING:
    import ssl

    from smartdc.auth.signers import RequestSigner

#: Methods safe to send again when no response came back.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

#: Statuses that mean "slow down and try again": CloudAPI throttling is 429, some proxies and
#: older docs use 420, and read-only/maintenance mode is 503.
RETRY_STATUSES = frozenset({420, 429, 503})

#: A server Date further than this from the local clock is reported as clock skew.
CLOCK_SKEW_THRESHOLD = 60.0

#: Authentication failures that a wrong local clock can cause.
_SKEW_SENSITIVE_CODES = frozenset({"InvalidHeader", "RequestExpired"})


class RetryPolicy:
    """How often and how long to retry (see the table in the module docstring)."""

    __slots__ = ("base_delay", "max_delay", "retries")

    def __init__(self, retries: int = 3, base_delay: float = 0.5, max_delay: float = 30.0) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        if base_delay < 0 or max_delay < 0:
            raise ValueError("retry delays must not be negative")
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetryPolicy):
            return NotImplemented
        return (self.retries, self.base_delay, self.max_delay) == (
            other.retries,
            other.base_delay,
            other.max_delay,
        )

    def __hash__(self) -> int:
        return hash((self.retries, self.base_delay, self.max_delay))

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(retries={self.retries}, base_delay={self.base_delay}, "
            f"max_delay={self.max_delay})"
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        import random

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
    if text.isascii() and text.isdigit():
        return float(text)
    import email.utils

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
    import email.utils

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


#: Content types whose body is CloudAPI JSON even when it does not parse as one document.
_JSON_STREAM_TYPES = frozenset({"application/x-json-stream"})

#: How much of an unexpected body an error message quotes.
_EXCERPT_LIMIT = 80


def media_type(content_type: str | None) -> str | None:
    """``text/html`` from ``text/html; charset=utf-8`` (lowercased), ``None`` when absent."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _accepted_types(accept: str | None) -> set[str]:
    return {kind for part in (accept or "").split(",") if (kind := media_type(part))}


def decode_success(
    status: int, content: bytes, headers: Headers, *, method: str, url: str, accept: str | None
) -> Any:
    """The body of a 2xx answer: decoded JSON, ``None`` when empty, or the text when it is
    JSON lines or of a type ``accept`` asked for.

    Raises:
        UnexpectedResponseError: anything else, such as a portal's or proxy's HTML page.
    """
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        pass
    kind = media_type(headers.get("content-type"))
    if kind in _JSON_STREAM_TYPES or (
        kind is not None and kind != "application/json" and kind in _accepted_types(accept)
    ):
        return content.decode("utf-8", "replace")
    excerpt = " ".join(content[:400].decode("utf-8", "replace").split())
    if len(excerpt) > _EXCERPT_LIMIT:
        excerpt = excerpt[: _EXCERPT_LIMIT - 3] + "..."
    parts = urlsplit(url)
    raise errors.UnexpectedResponseError(
        f"{method} {url} answered {status} with "
        f"{f'content type {kind}' if kind else 'no content type'} and a body that is not "
        f"JSON, so not CloudAPI's (it starts {excerpt!r}); is {parts.scheme}://{parts.netloc} "
        "a CloudAPI endpoint? A web portal or a proxy's page answers like this",
        url=url,
        status=status,
        content_type=kind,
        request_id=headers.get("request-id"),
    )


def decode_body(content: bytes) -> Any:
    """The decoded JSON body; ``None`` when empty; the text when it is not JSON."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def encode_query(params: Mapping[str, Any] | None) -> str:
    """The query string (without ``?``) for ``params``, as it goes on the wire and is signed."""
    pairs = encode_params(params)
    if not pairs:
        return ""
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


def tls_verify(verify: bool | str, insecure: bool) -> bool | ssl.SSLContext:
    """``False`` (no checks), ``True`` (the system's CAs) or a context for a CA bundle path.

    The path may be a file or a directory of certificates (``~`` expanded).
    """
    if insecure or verify is False:
        return False
    if verify is True:
        return True
    import ssl

    path = Path(verify).expanduser()
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        return ssl.create_default_context(cafile=str(path))
    raise errors.ConfigError(f"verify: CA bundle {verify!r} does not exist")


def tls_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """An SSL context for a ``verify`` setting: a ready context as it is, a CA bundle path,
    ``True`` (the system's CAs) or ``False`` (no certificate or host name checks)."""
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        made = tls_verify(verify, False)
        assert isinstance(made, ssl.SSLContext)
        return made
    context = ssl.create_default_context()
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case (the last value of a repeated one)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, str] = {name.lower(): value for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class RawResponse(Record):
    """What a :class:`Sender` brings back: the status, headers and undecoded body."""

    __slots__ = ("content", "headers", "status")
    status: int
    headers: Headers
    content: bytes

    def __init__(self, status: int, headers: Headers, content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    def __repr__(self) -> str:
        # The body may hold secrets (an access key's, a machine's passwords): size only.
        return f"RawResponse(status={self.status}, content=<{len(self.content)} bytes>)"


class SendError(Exception):
    """A request that got no response.

    ``build(tries)`` makes the error the caller sees when it is not retried; ``tries`` is
    ``""`` or ``" after N attempts"``, to be placed where the message reads best.
    ``retryable`` is true when nothing reached the server or the connection broke before an
    answer (connect refused or timed out, reset, protocol error), so an idempotent request
    may be resent; read timeouts and TLS handshake failures are not, since they fail the
    same way again.
    """

    def __init__(self, build: Callable[[str], errors.TransportError], *, retryable: bool) -> None:
        self.build = build
        self.retryable = retryable
        super().__init__(str(build("")))


class Sender(Protocol):
    """Moves one request's bytes to the server and the response back (no retries, no signing)."""

    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send ``method target`` (path and query, as signed) and return the whole response.

        Raises:
            SendError: no response came back.
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


class Response(Record):
    """One CloudAPI response with its body already decoded."""

    __slots__ = ("body", "headers", "method", "status", "url")
    method: str
    url: str
    status: int
    headers: Headers
    body: Any

    def __init__(self, method: str, url: str, status: int, headers: Headers, body: Any) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        # The body may hold secrets (CreateAccessKey's secret, credentials=true passwords).
        return (
            f"Response(method={self.method!r}, url={self.url!r}, status={self.status}, "
            f"request_id={self.request_id!r})"
        )

    @property
    def request_id(self) -> str | None:
        """The ``Request-Id`` header CloudAPI sets for support requests."""
        return self.headers.get("request-id")

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


class AsyncCloseable:
    """Something an asyncio program must close: ``await aclose()``, or ``async with`` it."""

    async def aclose(self) -> None:
        """Release what it holds."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class SessionOptions(TypedDict, total=False):
    """The settings of :class:`SessionCore`, which both sessions take as keywords.

    ``always_params`` go at the end of every request's query (CloudAPI's ``as-role``).
    """

    signer: Required[RequestSigner]
    headers: Required[Mapping[str, str]]
    always_params: Mapping[str, str] | None
    debug: bool | TextIO
    retry_policy: RetryPolicy | None
    unauthorized_hint: str | None


class SessionCore:
    """What the sync and the async session share: the endpoint, the signer, the headers
    every request carries, the retry policy, the debug echo and the last response
    (settings: :class:`SessionOptions`)."""

    def __init__(self, base_url: str, **options: Unpack[SessionOptions]) -> None:
        parts = urlsplit(base_url)
        self._base_url = base_url.rstrip("/")
        self._prefix = parts.path.rstrip("/")
        self._host = parts.netloc
        self._signer = options["signer"]
        self._headers = dict(options["headers"])
        self._always_params = dict(options.get("always_params") or {})
        self.retry_policy = options.get("retry_policy") or RetryPolicy()
        self.debug = options.get("debug", False)
        self._unauthorized_hint = options.get("unauthorized_hint")
        # Per thread and per asyncio task: each sees the responses it received.
        self._last: contextvars.ContextVar[Response | None] = contextvars.ContextVar(
            f"smartdc-last-response-{id(self):x}", default=None
        )

    @property
    def last_response(self) -> Response | None:
        """The response to the last request this thread (or asyncio task) sent, error
        responses too; ``None`` while it is under way, or when it got no response."""
        return self._last.get()

    @property
    def signer(self) -> RequestSigner:
        """What signs every request."""
        return self._signer

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept_redirect: bool = False,
    ) -> Exchange:
        """The attempts of one request, decided without I/O (see :class:`Exchange`)."""
        # The previous answer is not this request's: dropping it also means a paged listing
        # never holds the last page (through here) while the next one arrives.
        self._last.set(None)
        method = method.upper()
        query = encode_query({**(params or {}), **self._always_params})
        target = self._prefix + path + (f"?{query}" if query else "")
        body = None if json is None else _json_bytes(json)
        base = {**self._headers, "Host": self._host}
        if body is not None:
            base["Content-Type"] = "application/json"
        base.update(headers or {})
        return Exchange(self, method, target, body, base, accept_redirect)

    def _echo(
        self,
        method: str,
        target: str,
        outcome: str,
        started: float,
        request_id: str | None = None,
    ) -> None:
        """One debug line per attempt; the Authorization header is never written."""
        if self.debug is False:
            return
        elapsed = round((time.monotonic() - started) * 1000)
        line = f"{method} {target} -> {outcome} ({elapsed} ms)"
        if request_id:
            line += f" request-id={request_id}"
        self._note(line)

    def _note(self, text: str) -> None:
        """One line on the debug echo, if it is on."""
        if self.debug is False:
            return
        stream: TextIO = sys.stderr if self.debug is True else self.debug
        stream.write(f"smartdc: {text}\n")
        stream.flush()


class Exchange:
    """One request and its attempts: what to send each time, and what each outcome means
    (retry after a delay, return, or raise), following the module's retry table.

    The sessions do the I/O around it: sign (:meth:`signed_headers`), send, then hand the
    outcome to :meth:`failed` or :meth:`answered`.
    """

    __slots__ = ("_accept_redirect", "_base", "_session", "attempt", "body", "method", "target")

    def __init__(
        self,
        session: SessionCore,
        method: str,
        target: str,
        body: bytes | None,
        base: dict[str, str],
        accept_redirect: bool,
    ) -> None:
        self._session = session
        self.method = method
        self.target = target
        self.body = body
        self._base = base
        self._accept_redirect = accept_redirect
        #: Attempts made so far, less one (0 during the first).
        self.attempt = 0

    def signed_headers(self) -> dict[str, str]:
        """The headers of the next attempt, freshly signed (may block on ssh-agent)."""
        sent = dict(self._base)
        sent.update(self._session._signer.headers_for(self.method, self.target, extra=sent))
        return sent

    def failed(self, failure: SendError, started: float) -> float:
        """The delay before the next attempt after ``failure`` (no response came back).

        Raises:
            TransportError: not retried; the message says whether the server may have acted.
        """
        session = self._session
        attempt = self.attempt
        method = self.method
        error = failure.build(f" after {attempt + 1} attempts" if attempt else "")
        session._echo(method, self.target, type(error).__name__, started)
        if (
            failure.retryable
            and attempt < session.retry_policy.retries
            and method in IDEMPOTENT_METHODS
        ):
            self.attempt += 1
            return session.retry_policy.backoff(attempt)
        if method not in IDEMPOTENT_METHODS and _may_have_arrived(error, failure):
            error = type(error)(f"{str(error).rstrip('.')}; {_not_replayed(method)}")
        raise error from failure.__cause__

    def answered(
        self, raw: RawResponse, sent: Mapping[str, str], started: float
    ) -> Response | float:
        """The response, or the delay before retrying a throttled one.

        Raises:
            CloudAPIError: an error status (3xx too unless redirects were accepted).
            UnexpectedResponseError: a 2xx answer that is not CloudAPI's.
        """
        session = self._session
        method = self.method
        url = session._base_url + self.target[len(session._prefix) :]
        session._echo(method, self.target, str(raw.status), started, raw.headers.get("request-id"))
        success = 200 <= raw.status < 300
        if method == "HEAD":
            decoded = None
        elif success:
            try:
                decoded = decode_success(
                    raw.status,
                    raw.content,
                    raw.headers,
                    method=method,
                    url=url,
                    accept=sent.get("Accept"),
                )
            except errors.UnexpectedResponseError:
                text = raw.content.decode("utf-8", "replace")
                session._last.set(Response(method, url, raw.status, raw.headers, text))
                raise
        else:
            decoded = decode_body(raw.content)
        response = Response(method, url, raw.status, raw.headers, decoded)
        session._last.set(response)
        policy = session.retry_policy
        if raw.status in RETRY_STATUSES and self.attempt < policy.retries:
            retry_after = raw.headers.get("retry-after")
            wanted = parse_retry_after(retry_after)
            if wanted is not None and wanted > policy.max_delay:
                session._note(
                    f"Retry-After {wanted:g} s is longer than the retry cap "
                    f"(max_delay {policy.max_delay:g} s): not retrying"
                )
                raise error_for(
                    response,
                    unauthorized_hint=session._unauthorized_hint,
                    extra_hint=(
                        f"the server asked to wait {wanted:g} s before retrying "
                        "(Retry-After), longer than the retry cap of "
                        f"{policy.max_delay:g} s (RetryPolicy.max_delay); "
                        "try again later, or raise the cap"
                    ),
                )
            delay = policy.delay(self.attempt, retry_after)
            self.attempt += 1
            return delay
        if success or (self._accept_redirect and 300 <= raw.status < 400):
            return response
        raise error_for(response, unauthorized_hint=session._unauthorized_hint)


class HttpSession(SessionCore, Closeable):
    """Signed, retried requests to one CloudAPI endpoint over a :class:`Sender`."""

    def __init__(
        self,
        base_url: str,
        *,
        sender: Sender,
        sleep: Callable[[float], None] = time.sleep,
        **options: Unpack[SessionOptions],
    ) -> None:
        super().__init__(base_url, **options)
        self._sender = sender
        self._sleep = sleep

    def close(self) -> None:
        """Close pooled connections."""
        self._sender.close()

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
        exchange = self.exchange(
            method, path, params=params, json=json, headers=headers, accept_redirect=accept_redirect
        )
        while True:
            sent = exchange.signed_headers()
            started = time.monotonic()
            try:
                raw = self._sender.send(exchange.method, exchange.target, sent, exchange.body)
            except SendError as failure:
                delay = exchange.failed(failure, started)
            else:
                outcome = exchange.answered(raw, sent, started)
                if isinstance(outcome, Response):
                    return outcome
                delay = outcome
            self._sleep(delay)


def _may_have_arrived(error: errors.TransportError, failure: SendError) -> bool:
    """Whether a request that got no answer may still have been acted on: not when the
    connection was never made (refused, or timed out connecting, which is retryable)."""
    if isinstance(error, errors.ConnectError):
        return False
    return not (isinstance(error, errors.TimeoutError) and failure.retryable)


def _not_replayed(method: str) -> str:
    return (
        f"not retried: {method} is not idempotent and the request may have reached the "
        "server, which may have acted on it (look before sending it again, e.g. list the "
        "machines or read the machine's audit)"
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def error_for(
    response: Response,
    *,
    unauthorized_hint: str | None = None,
    extra_hint: str | None = None,
) -> errors.CloudAPIError:
    """The exception for an error response, with a hint when the cause is likely known.

    Clock skew is named when the server's Date says so; otherwise a 401 carries
    ``unauthorized_hint`` (which key was rejected, and what to check). ``extra_hint`` is
    used when no other hint applies.
    """
    hint = None
    code = response.body.get("code") if isinstance(response.body, dict) else None
    if response.status == 401 or (response.status == 400 and code in _SKEW_SENSITIVE_CODES):
        hint = skew_hint(clock_skew(response.headers.get("date")))
    if hint is None and response.status == 401:
        hint = unauthorized_hint
    return errors.error_for_response(
        response.status,
        response.body,
        response.request_id,
        hint=hint or extra_hint,
        url=response.url,
    )


#: What kind of failure a sender met: the request timed out, the connection could not be made,
#: or anything else that left no response.
FailureKind = Literal["timeout", "connect", "other"]


def failure(
    kind: FailureKind,
    method: str,
    url: str,
    detail: str,
    *,
    tls_failed: bool = False,
) -> Callable[[str], errors.TransportError]:
    """How a sender's failure reads (``tries`` goes in by :class:`SendError`), for every sender
    alike: the URL, what happened, and advice where the cause is known."""
    where = f"{method} {url}"
    parts = urlsplit(url)

    def build(tries: str) -> errors.TransportError:
        if kind == "timeout":
            return errors.TimeoutError(f"{where} timed out{tries}: {detail}")
        if kind == "other":
            return errors.TransportError(f"{where} failed{tries}: {detail}")
        message = (
            f"could not connect to {parts.scheme}://{parts.netloc} for {where}{tries}: {detail}"
        )
        if "CERTIFICATE_VERIFY_FAILED" in detail:
            message += " (pass verify=<CA bundle path>, or insecure=True to skip verification)"
        elif tls_failed and "WRONG_VERSION_NUMBER" in detail:
            message += (
                " (the server did not answer in TLS: if it serves plain HTTP, as a local "
                f"emulator does, use http://{parts.netloc})"
            )
        return errors.ConnectError(message)

    return build
