"""HTTP Signature authentication as CloudAPI speaks it: pure functions, no I/O.

Clients use :func:`signing_string` and :func:`build_authorization`. Servers use
:func:`parse_authorization`, which mirrors CloudAPI's own parse (restify's authorization
parser, then http-signature 1.4.0, falling back to the legacy 0.9 grammar), and
:func:`verify_request`, with a :class:`SignatureMemo` to check each signature once.

Parse errors, and the response CloudAPI gives for each (``status``, ``code`` and
``response_message`` are attributes of the exception, so a server can render it directly)::

    SignatureParseError            400 InvalidHeader "Authorization header invalid: <message>"
    ├── ClockSkewError             400 InvalidHeader, Date differs from now by > 300 s
    ├── AuthorizationFormatError   400 InvalidHeader "<message>" (no space after the scheme:
    │                              "BasicAuth content is invalid.")
    └── AuthorizationSchemeError   401 InvalidCredentials "You must make authenticated
                                   requests to use CloudAPI" (no header, Basic, other schemes)

Catch the subclasses before :class:`SignatureParseError` when mapping them to responses.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from smartdc._bounded import drop_oldest
from smartdc._record import Record
from smartdc.auth.keys import PublicKey, verify_bytes

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_SIGNED_HEADERS: tuple[str, ...] = ("(request-target)", "date")

#: Algorithms CloudAPI's parser lets through (compared after lowercasing).
ACCEPTED_ALGORITHMS: frozenset[str] = frozenset(
    {
        "rsa-sha1",
        "rsa-sha256",
        "rsa-sha384",
        "rsa-sha512",
        "dsa-sha1",
        "dsa-sha256",
        "ecdsa-sha256",
        "ecdsa-sha384",
        "ecdsa-sha512",
        "ed25519-sha256",
        "ed25519-sha512",
    }
)
#: Largest allowed difference between the Date header and the server clock, in seconds.
MAX_CLOCK_SKEW = 300.0

_KEY_FAMILIES = frozenset({"rsa", "dsa", "ecdsa", "ed25519", "hmac"})
_HASHES = frozenset({"sha1", "sha256", "sha512"})
_LEGACY_ALGORITHMS = frozenset(
    {"rsa-sha1", "rsa-sha256", "rsa-sha512", "dsa-sha1", "hmac-sha1", "hmac-sha256", "hmac-sha512"}
)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")

ParamValue = str | int


# --- errors ----------------------------------------------------------------------------------


class SignatureParseError(ValueError):
    """The Authorization header does not parse; ``str(exc)`` is the parser's message."""

    status = 400
    code = "InvalidHeader"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def response_message(self) -> str:
        """The ``message`` CloudAPI puts in its error body."""
        return f"Authorization header invalid: {self.message}"


class ClockSkewError(SignatureParseError):
    """The Date (or x-date, created, expires) is too far from the server clock."""


class AuthorizationFormatError(SignatureParseError):
    """The header is broken before any scheme applies (no space after the scheme word, or
    undecodable Basic credentials); ``response_message`` is the message itself."""

    @property
    def response_message(self) -> str:
        return self.message


class AuthorizationSchemeError(SignatureParseError):
    """The request does not use Signature authentication at all (no header, Basic, ...)."""

    status = 401
    code = "InvalidCredentials"

    @property
    def response_message(self) -> str:
        return "You must make authenticated requests to use CloudAPI"


# --- dates -----------------------------------------------------------------------------------


def format_http_date(when: float | datetime | None = None) -> str:
    """RFC 1123 date in GMT, ``Sat, 28 Nov 2026 22:11:00 GMT``; naive datetimes are UTC."""
    if when is None:
        stamp = time.time()
    elif not isinstance(when, int | float):  # a datetime (imported only when one is given)
        from datetime import UTC

        stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    else:
        stamp = float(when)
    return _http_date_of_second(int(stamp // 1))


@functools.lru_cache(maxsize=4)  # every request and response of a second has the same Date
def _http_date_of_second(second: int) -> str:
    # email.utils.formatdate's output, without importing the email package (CLI start-up).
    t = time.gmtime(second)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_http_date(text: str) -> float:
    """Seconds since the epoch for an HTTP date (RFC 1123, RFC 850, asctime) or an ISO 8601
    timestamp; dates without a zone are UTC.

    Raises:
        ValueError: ``text`` is not a date.
    """
    # A server sees the same Date on every request signed within one second.
    global _last_date
    last = _last_date
    if text == last[0]:
        return last[1]
    value = _parse_http_date(text)
    _last_date = (text, value)
    return value


_last_date: tuple[str, float] = ("", 0.0)


def _parse_http_date(text: str) -> float:
    import email.utils
    from datetime import UTC, datetime

    value = text.strip()
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an HTTP date: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


# --- signing ---------------------------------------------------------------------------------


def signing_string(
    headers: Sequence[str],
    method: str,
    target: str,
    header_values: Mapping[str, str],
    *,
    params: Mapping[str, ParamValue] | None = None,
    http_version: str = "1.1",
) -> str:
    """The text that gets signed: one ``<name>: <value>`` line per header, joined by ``\\n``.

    ``(request-target)`` is ``<lowercase method> <target>`` (``target`` is the path and query
    exactly as sent). The old-draft ``request-line`` contributes ``<METHOD> <target>
    HTTP/<http_version>`` with no name prefix, as http-signature builds it. ``(keyid)``,
    ``(algorithm)``, ``(created)``, ``(expires)`` and ``(opaque)`` come from ``params``.
    Header lookup is case-insensitive.

    Raises:
        SignatureParseError: ``"<name> was not in the request"`` for a missing header.
    """
    values = _lower_keys(header_values)
    given = params or {}
    lines = []
    for raw_name in headers:
        name = raw_name.lower()
        if name == "request-line":
            lines.append(f"{method} {target} HTTP/{http_version}")
        elif name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(keyid)", "(algorithm)", "(created)", "(expires)", "(opaque)"):
            param = {"(keyid)": "keyId"}.get(name, name[1:-1])
            if param not in given:
                raise SignatureParseError(f"{param} param was not in the Authorization header")
            lines.append(f"{name}: {given[param]}")
        elif name in values:
            lines.append(f"{name}: {values[name]}")
        else:
            raise SignatureParseError(f"{name} was not in the request")
    return "\n".join(lines)


def build_authorization(
    key_id: str, algorithm: str, signature: bytes, headers: Sequence[str]
) -> str:
    """The Authorization header value, in the exact form CloudAPI parses (no spaces after
    the commas)."""
    for label, value in (("key id", key_id), ("algorithm", algorithm)):
        if '"' in value or not value:
            raise ValueError(f"{label} must be non-empty and contain no '\"': {value!r}")
    if not headers:
        raise ValueError("at least one header must be signed")
    encoded = base64.b64encode(signature).decode("ascii")
    return (
        f'Signature keyId="{key_id}",algorithm="{algorithm}",'
        f'headers="{" ".join(name.lower() for name in headers)}",signature="{encoded}"'
    )


#: What shows in place of a signature in reprs and messages.
REDACTED = "<redacted>"

#: A ``signature=`` parameter (quoted or not) inside an Authorization value.
_SIGNATURE_PARAM = re.compile(r'(?<![\w-])(signature\s*=\s*)("[^"]*"?|[^,\s]*)', re.IGNORECASE)

#: Headers whose values authenticate a request.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})


def redact_authorization(value: str) -> str:
    """An Authorization value that is safe to show: a ``Signature`` keeps its keyId,
    algorithm and header list but not the signature; any other scheme (Basic carries a
    password) is hidden whole."""
    if not value.lstrip().lower().startswith("signature"):
        return REDACTED
    return _SIGNATURE_PARAM.sub(lambda found: f'{found[1]}"{REDACTED}"', value)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with the credentials in them redacted (for reprs and logs)."""
    return {
        name: redact_authorization(value) if name.lower() in _CREDENTIAL_HEADERS else value
        for name, value in headers.items()
    }


# --- parsing ---------------------------------------------------------------------------------


class ParsedSignature(Record):
    """A parsed Authorization header.

    ``algorithm`` and ``headers`` are lowercased. ``legacy`` marks the http-signature 0.9
    grammar, whose signing string is the raw header values (for the default ``date``, the
    bare Date value). ``params`` holds every parameter as given.
    """

    __slots__ = ("algorithm", "headers", "key_id", "legacy", "params", "signature")
    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    legacy: bool
    params: tuple[tuple[str, ParamValue], ...]

    def __init__(
        self,
        key_id: str,
        algorithm: str,
        headers: tuple[str, ...],
        signature: bytes,
        legacy: bool,
        params: tuple[tuple[str, ParamValue], ...] = (),
    ) -> None:
        self.key_id = key_id
        self.algorithm = algorithm
        self.headers = headers
        self.signature = signature
        self.legacy = legacy
        self.params = params

    def param(self, name: str) -> ParamValue | None:
        """A parameter's value, or ``None`` when absent."""
        return dict(self.params).get(name)

    def __repr__(self) -> str:
        params = tuple(
            (name, REDACTED if name.lower() == "signature" else value)
            for name, value in self.params
        )
        return (
            f"ParsedSignature(key_id={self.key_id!r}, algorithm={self.algorithm!r}, "
            f"headers={self.headers!r}, signature={REDACTED}, legacy={self.legacy!r}, "
            f"params={params!r})"
        )


def parse_authorization(
    value: str | None,
    header_values: Mapping[str, str],
    *,
    now: float | None = None,
    clock_skew: float | None = MAX_CLOCK_SKEW,
) -> ParsedSignature:
    """Parse an Authorization header the way CloudAPI does.

    The modern grammar is tried first, then the legacy one; when both fail the modern
    parser's message is raised. The Date (or x-date) must be within ``clock_skew`` seconds of
    ``now`` (default: the current time); ``clock_skew=None`` skips the time checks.

    Raises:
        AuthorizationSchemeError, AuthorizationFormatError, ClockSkewError,
        SignatureParseError: see the module docstring.
    """
    text = (value or "").strip(" \t")
    if not text:
        raise AuthorizationSchemeError("no Authorization header")
    if " " not in text:
        raise AuthorizationFormatError("BasicAuth content is invalid.")
    scheme, credentials = text.split(" ", 1)
    if scheme.lower() == "basic":
        if not _decode_base64(credentials):
            raise AuthorizationFormatError("Authorization header invalid")
        raise AuthorizationSchemeError("Basic authentication is not accepted")
    if scheme.lower() != "signature":
        raise AuthorizationSchemeError(f"unsupported authorization scheme {scheme!r}")
    context = _Context(
        headers=_lower_keys(header_values),
        now=time.time() if now is None else now,
        clock_skew=clock_skew,
    )
    memo_key = (text, context.date_header)
    known = _PARSED.get(memo_key)
    if known is not None and _admits(context, *known):
        return known[0]
    try:
        parsed = _parse_modern(text, context)
    except SignatureParseError as modern_error:
        try:
            return _parse_legacy(text, context)
        except SignatureParseError:
            raise modern_error from None
    _remember_parse(memo_key, parsed)
    return parsed


#: Authorization values the modern grammar parsed, by value and date header name, with
#: their parameters: a client sends the same value with all its requests of a second to
#: one target. Only what the request's own headers and the clock decide is checked again
#: (:func:`_admits`); when that fails the value is parsed afresh, for the error it gives.
_PARSED: dict[tuple[str, str], tuple[ParsedSignature, dict[str, ParamValue]]] = {}
_PARSED_LIMIT = 1024


def _remember_parse(key: tuple[str, str], parsed: ParsedSignature) -> None:
    _PARSED[key] = (parsed, dict(parsed.params))
    drop_oldest(_PARSED, _PARSED_LIMIT)


def _admits(context: _Context, parsed: ParsedSignature, params: dict[str, ParamValue]) -> bool:
    """Whether a request with ``context``'s headers and clock passes the checks of
    :func:`_parse_modern` that depend on them, for a value it parsed before."""
    headers = context.headers
    for name in parsed.headers:
        if not name.startswith("(") and name != "request-line" and name not in headers:
            return False
    try:
        _check_times(context, params)
    except SignatureParseError:
        return False
    return True


def signing_string_for(
    parsed: ParsedSignature,
    method: str,
    target: str,
    header_values: Mapping[str, str],
    *,
    http_version: str = "1.1",
) -> str:
    """The signing string the server rebuilds for ``parsed`` (legacy: the raw values)."""
    if not parsed.legacy:
        return signing_string(
            parsed.headers,
            method,
            target,
            header_values,
            params=dict(parsed.params),
            http_version=http_version,
        )
    values = _lower_keys(header_values)
    lines = []
    for name in parsed.headers:
        if name == "request-line":
            lines.append(f"{method} {target} HTTP/{http_version}")
        elif values.get(name):
            lines.append(values[name])
        else:
            raise SignatureParseError(f"{name} was not in the request")
    return "\n".join(lines)


def verify_request(
    parsed: ParsedSignature,
    public_key: PublicKey,
    method: str,
    target: str,
    header_values: Mapping[str, str],
    *,
    http_version: str = "1.1",
    memo: SignatureMemo | None = None,
) -> bool:
    """Whether ``parsed`` carries a valid signature by ``public_key`` over this request
    (asking ``memo`` first, and telling it a check that passed).

    Like CloudAPI's verifier: the key type must match the algorithm family; Ed25519 signs
    the signing string's bytes as Latin-1 (what sshpk does), the others its UTF-8 bytes;
    legacy signatures are checked with the hash named by the algorithm, whatever the key
    family (what node's crypto does).
    """
    try:
        text = signing_string_for(parsed, method, target, header_values, http_version=http_version)
    except SignatureParseError:
        return False
    family, _, hash_name = parsed.algorithm.partition("-")
    check = verify_bytes if memo is None else memo.verify
    if parsed.legacy:
        key_family = _family_of(public_key)
        if key_family == "ed25519":
            return False
        return check(public_key, f"{key_family}-{hash_name}", text.encode(), parsed.signature)
    if family == "ed25519":
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError:
            return False
        return check(public_key, parsed.algorithm, data, parsed.signature)
    return check(public_key, parsed.algorithm, text.encode(), parsed.signature)


class SignatureMemo:
    """The signature checks a server has passed, so that it makes each check once.

    A check is a pure function of the key, the algorithm, the signed bytes and the
    signature. Clients sign only the Date (and the request target, by default), so every
    request a client repeats within a second carries the same signature: remembering the
    checks that passed saves a verification (a sixth of a signed GetAccount's CPU with an
    Ed25519 key) for each repeat. Only passed checks are kept, so a bad signature costs a
    verification every time, as before; at most ``size`` of them, the oldest dropped first.
    Safe to share between threads.
    """

    def __init__(self, size: int = 1024) -> None:
        if size < 1:
            raise ValueError(f"a SignatureMemo holds at least one check, not {size}")
        self._size = size
        self._passed: dict[tuple[bytes, str, bytes, bytes], None] = {}

    def __len__(self) -> int:
        return len(self._passed)

    def verify(self, key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
        """:func:`~smartdc.auth.keys.verify_bytes`, answered from memory when it passed
        before."""
        entry = (_key_bytes(key), algorithm, data, signature)
        if entry in self._passed:
            return True
        if not verify_bytes(key, algorithm, data, signature):
            return False
        self._passed[entry] = None
        drop_oldest(self._passed, self._size)
        return True


def _key_bytes(key: PublicKey) -> bytes:
    """What identifies a public key: its raw bytes for Ed25519, else its DER encoding."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes_raw()
    # Imported here: the CLI's start-up leaves cryptography's serialization module unloaded.
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- the two grammars ------------------------------------------------------------------------


class _Context:
    """What a parse checks a value against: the request's headers and the clock (a plain
    class: one is built for every request parsed)."""

    __slots__ = ("clock_skew", "headers", "now")
    headers: dict[str, str]
    now: float
    clock_skew: float | None

    def __init__(self, headers: dict[str, str], now: float, clock_skew: float | None) -> None:
        self.headers = headers
        self.now = now
        self.clock_skew = clock_skew

    @property
    def date_header(self) -> str:
        return "x-date" if self.headers.get("x-date") else "date"


def _parse_modern(text: str, context: _Context) -> ParsedSignature:
    scheme, params = _tokenize_modern(text)
    raw_headers = params.get("headers")
    if not raw_headers:
        names = [context.date_header]
    elif isinstance(raw_headers, str):
        names = [name.lower() for name in raw_headers.split(" ")]
    else:
        raise SignatureParseError("headers must be a quoted string")
    if scheme != "Signature":
        raise SignatureParseError('scheme was not "Signature"')
    key_id = _required(params, "keyId", "keyId was not specified")
    algorithm = _required(params, "algorithm", "algorithm was not specified")
    signature = _required(params, "signature", "signature was not specified")
    if not _valid_algorithm(algorithm):
        raise SignatureParseError(f"{algorithm} is not supported")
    for name in names:
        if name == "(opaque)" and "opaque" not in params:
            raise SignatureParseError("opaque param was not in the Authorization header")
        if not name.startswith("(") and name != "request-line" and name not in context.headers:
            raise SignatureParseError(f"{name} was not in the request")
    _check_times(context, params)
    return _finish(key_id, algorithm, names, signature, params, context, legacy=False)


def _parse_legacy(text: str, context: _Context) -> ParsedSignature:
    scheme, params, signature = _tokenize_legacy(text)
    raw_headers = params.get("headers")
    names = [n.lower() for n in raw_headers.split(" ")] if raw_headers else [context.date_header]
    if scheme != "Signature":
        raise SignatureParseError('scheme was not "Signature"')
    key_id = _required(params, "keyId", "keyId was not specified")
    algorithm = _required(params, "algorithm", "algorithm was not specified")
    if not signature:
        raise SignatureParseError("signature was empty")
    if algorithm.lower() not in _LEGACY_ALGORITHMS:
        raise SignatureParseError(f"{algorithm.lower()} is not supported")
    for name in names:
        if name != "request-line" and not context.headers.get(name):
            raise SignatureParseError(f"{name} was not in the request")
    _check_times(context, {})
    return _finish(key_id, algorithm, names, signature, dict(params), context, legacy=True)


def _finish(
    key_id: str,
    algorithm: str,
    names: list[str],
    signature: str,
    params: Mapping[str, ParamValue],
    context: _Context,
    *,
    legacy: bool,
) -> ParsedSignature:
    if context.date_header not in names:
        raise SignatureParseError(f"{context.date_header} was not a signed header")
    lowered = algorithm.lower()
    if lowered not in ACCEPTED_ALGORITHMS:
        raise SignatureParseError(f"{lowered} is not a supported algorithm")
    return ParsedSignature(
        key_id=key_id,
        algorithm=lowered,
        headers=tuple(names),
        signature=_decode_base64(signature),
        legacy=legacy,
        params=tuple(params.items()),
    )


#: What every signer sends: only quoted values, comma separated (read with one regex).
_ALL_QUOTED = re.compile(r'(?:[A-Za-z]+="[^"]*",)*[A-Za-z]+="[^"]*",?')
_QUOTED_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')


def _tokenize_modern(text: str) -> tuple[str, dict[str, ParamValue]]:
    """http-signature 1.x: ``name="value"`` or ``name=123``, comma separated, nothing else."""
    scheme, _, rest = text.partition(" ")
    if _ALL_QUOTED.fullmatch(rest):
        return scheme, {m[1]: m[2] for m in _QUOTED_PARAM.finditer(rest)}
    params: dict[str, ParamValue] = {}
    state, name, value = "name", "", ""
    bad = SignatureParseError("bad param format")
    for char in rest:
        if state == "name":
            if char.isascii() and char.isalpha():
                name += char
            elif char == "=" and name:
                state = "quote"
            else:
                raise bad
        elif state == "quote":
            if char == '"':
                state, value = "value", ""
            elif "0" <= char <= "9":
                state, value = "number", char
            else:
                raise bad
        elif state == "value":
            if char == '"':
                params[name] = value
                state = "comma"
            else:
                value += char
        elif state == "number":
            if char == ",":
                params[name] = int(value)
                state, name = "name", ""
            elif "0" <= char <= "9":
                value += char
            else:
                raise bad
        elif char == ",":  # state == "comma"
            state, name = "name", ""
        else:
            raise bad
    return scheme, params


def _tokenize_legacy(text: str) -> tuple[str, dict[str, str], str]:
    """http-signature 0.9: quoted params, then a space, then the bare base64 signature."""
    scheme, _, rest = text.partition(" ")
    params: dict[str, str] = {}
    name, value, in_value = "", "", False
    for index, char in enumerate(rest):
        if in_value:
            if char == '"':
                params[name] = value
                name, in_value = "", False
            else:
                value += char
        elif char == '"':
            params[name], value, in_value = "", "", True
        elif char == " ":
            return scheme, params, rest[index + 1 :]
        elif char not in "=,":
            name += char
    return scheme, params, ""


def _required(params: Mapping[str, ParamValue], name: str, missing: str) -> str:
    value = params.get(name)
    if not value:
        raise SignatureParseError(missing)
    if not isinstance(value, str):
        raise SignatureParseError(f"{name} must be a quoted string")
    return value


def _valid_algorithm(algorithm: str) -> bool:
    parts = algorithm.lower().split("-")
    return len(parts) == 2 and parts[0] in _KEY_FAMILIES and parts[1] in _HASHES


def _check_times(context: _Context, params: Mapping[str, ParamValue]) -> None:
    limit = context.clock_skew
    if limit is None:
        return
    date_value = context.headers.get("x-date") or context.headers.get("date")
    if date_value:
        try:
            sent = parse_http_date(date_value)
        except ValueError:
            sent = None  # an unparseable date is not a skew (new Date() gives NaN in node)
        if sent is not None:
            skew_ms = abs(round(context.now * 1000) - round(sent * 1000))
            if skew_ms > limit * 1000:
                raise ClockSkewError(
                    f"clock skew of {_js_number(skew_ms / 1000)}s was greater than "
                    f"{_js_number(limit)}s"
                )
    now = int(context.now)
    created = _as_number(params.get("created"))
    if created and created - now > limit:
        raise ClockSkewError(
            f"Created lies in the future (with skew {_js_number(created - now)}s greater "
            f"than allowed {_js_number(limit)}s"
        )
    expires = _as_number(params.get("expires"))
    if expires and now - expires > limit:
        raise ClockSkewError(
            f"Request expired with skew {_js_number(now - expires)}s greater than "
            f"allowed {_js_number(limit)}s"
        )


def _as_number(value: ParamValue | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _js_number(value: float) -> str:
    """Format a number as JavaScript prints it (``300``, not ``300.0``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --- small helpers ---------------------------------------------------------------------------


def _lower_keys(header_values: Mapping[str, str]) -> dict[str, str]:
    lowered: dict[str, str] = {}
    for name, value in header_values.items():
        lowered.setdefault(name.lower(), value)
    return lowered


def _family_of(key: PublicKey) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return "ecdsa"


def _decode_base64(text: str) -> bytes:
    """Decode base64 as leniently as node's Buffer does: URL-safe letters are accepted and
    anything outside the alphabet is skipped, so a bad signature fails verification rather
    than parsing."""
    cleaned = _NOT_BASE64.sub("", text.split("=", 1)[0].replace("-", "+").replace("_", "/"))
    cleaned = cleaned[: len(cleaned) - (len(cleaned) % 4 == 1)]
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except binascii.Error:
        return b""
