"""Turning bodies and errors into bytes and headers the way CloudAPI (restify 4) does.

Two header sets exist: the full set CloudAPI adds to every response once a
request has got past routing and the early checks, and the smaller set of errors raised
before that point (routing, Accept, Authorization parse, Date check, body parsing).
CloudAPI sends those with only ``Content-Type`` and ``Content-Length`` (plus ``Allow`` on
405) besides Node's ``Date``, because restify's fullResponse plugin runs after its body
parser (sdc-cloudapi lib/app.js). The emulator adds ``Server``, ``Api-Version``,
``Request-Id`` and ``Response-Time`` to them as well, so that every response can be traced
by its request id; the CORS headers stay off, as on CloudAPI. ``Connection`` is left to the
HTTP server, which knows whether the connection stays open.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from smartdc.auth.httpsig import format_http_date
from smartdc.emulator.context import API_VERSIONS, SERVER_VERSION, EmulatorError

#: What CloudAPI can produce, in its order of preference.
SERVABLE_TYPES: tuple[str, ...] = (
    "application/json",
    "text/plain",
    "application/octet-stream",
    "application/javascript",
)
DEFAULT_TYPE = SERVABLE_TYPES[0]

CORS_ALLOW_HEADERS = (
    "Accept, Accept-Version, Content-Length, Content-MD5, Content-Type, Date, Api-Version, "
    "Response-Time"
)
CORS_EXPOSE_HEADERS = "Api-Version, Request-Id, Response-Time"


@dataclass
class Outgoing:
    """A response ready for the wire: status, ordered headers, body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: For a 101: the WebSocket session to run once the socket is accepted.
    session: Any = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def json_bytes(body: Any) -> bytes:
    """Compact JSON, key order kept, non-ASCII left as UTF-8 (``JSON.stringify``).

    orjson writes the same bytes as the standard library here, twelve to sixteen times
    faster on machines and rule lists (bench/README.md); what it refuses (integers beyond
    64 bits, keys that are not strings) goes to the standard library.
    """
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class DigestedBody(bytes):
    """Body bytes that carry their ``Content-MD5``, for a body kept and sent many times
    (or whose MD5 was carried on as it grew)."""

    content_md5: str

    @classmethod
    def of(cls, data: bytes, md5_digest: bytes) -> DigestedBody:
        """``data``, which has the MD5 digest ``md5_digest``."""
        body = cls(data)
        body.content_md5 = base64.b64encode(md5_digest).decode("ascii")
        return body


def content_md5(data: bytes) -> str:
    """Base64 MD5 of the body, the ``Content-MD5`` header value."""
    if type(data) is DigestedBody:
        return data.content_md5
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _media_ranges(accept: str) -> list[tuple[str, str, float, int]]:
    """Parse an Accept header into ``(type, subtype, q, position)`` entries."""
    ranges: list[tuple[str, str, float, int]] = []
    for position, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        if "/" not in media:
            continue
        kind, _, sub = media.partition("/")
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        ranges.append((kind, sub, quality, position))
    return ranges


def negotiate_media_type(accept: str | None) -> str | None:
    """The type to answer in, or ``None`` when nothing CloudAPI serves is acceptable.

    No ``Accept`` header (or an empty one) means JSON. Among acceptable types the highest
    q wins; ties go to the type the client listed first, then to CloudAPI's preference.
    """
    return _negotiated(accept)


@functools.lru_cache(maxsize=256)  # a client sends the same Accept on every request
def _negotiated(accept: str | None) -> str | None:
    if accept is None or not accept.strip():
        return DEFAULT_TYPE
    ranges = _media_ranges(accept)
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for preference, offered in enumerate(SERVABLE_TYPES):
        kind, _, sub = offered.partition("/")
        match: tuple[int, float, int] | None = None
        for r_kind, r_sub, quality, position in ranges:
            if r_kind == kind and r_sub == sub:
                specificity = 2
            elif r_kind == kind and r_sub == "*":
                specificity = 1
            elif r_kind == "*" and r_sub == "*":
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match is None or match[1] <= 0:
            continue
        rank = (match[1], -match[2], match[0], -preference)
        if best is None or rank > best:
            best, chosen = rank, offered
    return chosen


def encode_body(body: Any, media_type: str) -> bytes:
    """Serialise a body as restify's formatter for ``media_type`` would."""
    if isinstance(body, bytes):
        return body
    if media_type in ("text/plain", "application/octet-stream") and isinstance(body, str):
        return body.encode("utf-8")
    return json_bytes(body)


def encode_error(error: EmulatorError, media_type: str) -> bytes:
    """An error body: ``{"code","message"}`` as JSON, the bare message as text."""
    if media_type == "text/plain" and error.body is None:
        return error.message.encode("utf-8")
    return encode_body(error.render_body(), media_type)


def _content_type(media_type: str) -> str:
    return media_type if media_type != "text/plain" else "text/plain; charset=utf-8"


def request_id_for(headers: Mapping[str, str]) -> str:
    """The id a response reports: the client's ``Request-Id`` or ``X-Request-Id`` (lower-case
    header names), else a fresh UUID."""
    return headers.get("request-id") or headers.get("x-request-id") or _random_uuid()


def _random_uuid() -> str:
    """A random (version 4, RFC 4122 variant) UUID, as ``str(uuid.uuid4())`` gives but
    without building a ``UUID`` object: a third of the time, on every request."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def identification_headers(request_id: str, started: float) -> list[tuple[str, str]]:
    """``Server``, ``Api-Version``, ``Request-Id`` and ``Response-Time`` (milliseconds since
    ``started``, a ``time.monotonic()`` value)."""
    elapsed_ms = max(0, int((time.monotonic() - started) * 1000))
    return [
        ("Server", SERVER_VERSION),
        ("Api-Version", API_VERSIONS[-1]),
        ("Request-Id", request_id),
        ("Response-Time", str(elapsed_ms)),
    ]


def early_error(
    error: EmulatorError,
    *,
    now: float,
    request_id: str,
    started: float,
    media_type: str = DEFAULT_TYPE,
) -> Outgoing:
    """An error sent before CloudAPI's full header set applies: no CORS headers, but the
    identification headers."""
    data = encode_error(error, media_type)
    headers = [
        ("Content-Type", _content_type(media_type)),
        ("Content-Length", str(len(data))),
        ("Date", format_http_date(now)),
    ]
    headers.extend(error.headers.items())
    headers.extend(identification_headers(request_id, started))
    return Outgoing(error.status, headers, data)


@dataclass(frozen=True)
class ResponseContext:
    """Facts about the request that the full header set reports."""

    request_id: str
    #: ``time.monotonic()`` when the request arrived, for ``Response-Time``.
    started: float
    allow_methods: Sequence[str]
    media_type: str = DEFAULT_TYPE
    head: bool = False


def full_response(
    status: int,
    body: Any,
    extra_headers: Mapping[str, str],
    context: ResponseContext,
    *,
    now: float,
    error: EmulatorError | None = None,
) -> Outgoing:
    """A response with CloudAPI's complete header set.

    ``body=None`` sends no body (202/204 and friends). For HEAD the headers describe the
    body a GET would have sent, and no body follows.
    """
    headers: list[tuple[str, str]] = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
        ("Access-Control-Allow-Methods", ", ".join(context.allow_methods)),
        ("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS),
    ]
    headers.extend(extra_headers.items())
    if error is not None:
        data: bytes | None = encode_error(error, context.media_type)
    elif body is None:
        data = None
    else:
        data = encode_body(body, context.media_type)
    if data is not None:
        headers += [
            ("Content-Type", _content_type(context.media_type)),
            ("Content-Length", str(len(data))),
            ("Content-MD5", content_md5(data)),
        ]
    elif status not in (204, 304):
        headers.append(("Content-Length", "0"))
    headers.append(("Date", format_http_date(now)))
    headers += identification_headers(context.request_id, context.started)
    return Outgoing(status, headers, b"" if context.head or data is None else data)
