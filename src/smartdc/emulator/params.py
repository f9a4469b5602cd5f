"""Request parameters the way CloudAPI's restify 4 plugins build them.

The query string, form bodies and JSON bodies merge into one parameter set; body keys win.
Query values stay strings (a repeated key gives a list), dotted keys stay literal
(``tag.foo``), bodies over 100000 bytes are refused with 413 and bad JSON with 400, as is
JSON nested deeper than :data:`MAX_JSON_DEPTH` (CloudAPI's parser gives up on very deep
nesting with the same 400 ``InvalidContent``; a fixed bound keeps the emulator's own
recursion safe).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.responses import content_md5

MAX_BODY_BYTES = 100000
#: Arrays and objects nested deeper than this are refused.
MAX_JSON_DEPTH = 512
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
#: What a request without ``Content-Type`` counts as.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class RequestParams:
    """The parsed inputs of one request."""

    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)


def is_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits. ``str.isdigit`` alone also accepts
    other scripts' digits (``"³"``, ``"٣"``), which ``int()`` refuses or reads differently:
    every number the emulator takes from a path, query or body goes through this."""
    return text.isascii() and text.isdigit()


#: A UUID in its 8-4-4-4-12 spelling, ASCII hex digits of either case.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I | re.A)


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a UUID string in its 8-4-4-4-12 spelling, nothing before or after
    it (a trailing newline included, which ``re``'s ``$`` lets through): every UUID the
    emulator takes from a path, query, header or body goes through this."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def parse_bool(value: object) -> bool | None:
    """A boolean as CloudAPI takes one: JSON ``true``/``false`` or the strings ``"true"`` and
    ``"false"``; ``None`` for anything else (``1``, ``0``, ``"True"``, ``"1"``), which callers
    refuse or, where CloudAPI only asks "is it true", read as not true. ``1 in (True,
    "true")`` holds in Python, so membership tests are not enough."""
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    return None


def parse_ipv4(value: object) -> ipaddress.IPv4Address | None:
    """A dotted-quad IPv4 address string (ASCII digits, no leading zeros, nothing around
    it), else ``None``: ``ipaddress`` on its own also takes integers."""
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        return None


def parse_ipv4_network(value: object) -> ipaddress.IPv4Network | None:
    """An IPv4 subnet in CIDR form (``address/prefix``, the prefix 0-32 in ASCII digits
    without a leading zero, no host bits set), else ``None``: ``ipaddress`` on its own also
    takes integers, netmasks and ``/024``."""
    if not isinstance(value, str) or value.count("/") != 1:
        return None
    address, prefix = value.split("/")
    if parse_ipv4(address) is None or not is_number(prefix) or prefix != str(int(prefix)):
        return None
    try:
        return ipaddress.IPv4Network(value)
    except ValueError:
        return None


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a ``Content-Type`` value."""
    if not content_type or not content_type.strip():
        return DEFAULT_CONTENT_TYPE
    return content_type.split(";", 1)[0].strip().lower()


def _pairs_to_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key not in result:
            result[key] = value
        elif isinstance(result[key], list):
            result[key].append(value)
        else:
            result[key] = [result[key], value]
    return result


def parse_query(query_string: str) -> dict[str, Any]:
    """Decode a query string; repeated keys give a list, blank values are kept."""
    return _pairs_to_dict(parse_qsl(query_string, keep_blank_values=True))


def check_content_type(content_type: str | None, accepted: tuple[str, ...]) -> None:
    """415 ``UnsupportedMediaTypeError`` when a route limits body types and this is not one."""
    if not accepted:
        return
    kind = media_type(content_type)
    if kind not in accepted:
        raise EmulatorError(415, "UnsupportedMediaTypeError", kind)


def _check_digest(body: bytes, sent: str | None) -> None:
    if sent is None:
        return
    actual = content_md5(body)
    if sent.strip() != actual:
        raise EmulatorError(400, "BadDigest", f"Content-MD5 '{sent}' didn't match '{actual}'")


def _decode_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EmulatorError(400, "InvalidContent", f"Invalid content: {exc}") from None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON ``text`` (brackets inside strings aside)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_depth(text: str) -> None:
    if ("[" in text or "{" in text) and json_depth(text) > MAX_JSON_DEPTH:
        raise EmulatorError(
            400,
            "InvalidContent",
            f"Invalid JSON: arrays and objects nest deeper than {MAX_JSON_DEPTH} levels",
        )


def _multipart_fields(body: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    pairs: list[tuple[str, str]] = []
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                pairs.append((name, data.decode("utf-8", "replace")))
    return _pairs_to_dict(pairs)


def parse_body(body: bytes, headers: Mapping[str, str]) -> tuple[Any, dict[str, Any]]:
    """Decode a request body; return ``(body value, parameters it contributes)``.

    Raises 400 ``BadDigest`` for a wrong ``Content-MD5`` and 400 ``InvalidContent`` for
    JSON that does not parse.
    """
    _check_digest(body, headers.get("content-md5"))
    if not body:
        return None, {}
    content_type = headers.get("content-type")
    kind = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json"):
        text = _decode_text(body)
        if not text.strip():
            return None, {}
        _check_depth(text)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EmulatorError(400, "InvalidContent", f"Invalid JSON: {exc}") from None
        return value, dict(value) if isinstance(value, dict) else {}
    if kind == "application/x-www-form-urlencoded":
        fields = parse_query(_decode_text(body))
        return fields, fields
    if kind == "multipart/form-data" and content_type is not None:
        fields = _multipart_fields(body, content_type)
        return fields, fields
    if kind.startswith("text/"):
        return _decode_text(body), {}
    return body, {}


def parse_request(
    query_string: str, body: bytes, headers: Mapping[str, str], *, too_large: bool = False
) -> RequestParams:
    """Query plus body, merged with body keys winning. ``too_large`` gives 413."""
    if too_large or len(body) > MAX_BODY_BYTES:
        raise EmulatorError(
            413, "PayloadTooLargeError", f"Request body size exceeds {MAX_BODY_BYTES}"
        )
    query = parse_query(query_string)
    value, body_params = parse_body(body, headers)
    return RequestParams(query=query, body=value, params={**query, **body_params})
