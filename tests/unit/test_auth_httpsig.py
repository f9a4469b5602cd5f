"""Signing strings, Authorization build/parse (as CloudAPI parses it) and verification."""

from __future__ import annotations

import base64
import email.utils
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from smartdc.auth import (
    AuthorizationFormatError,
    AuthorizationSchemeError,
    ClockSkewError,
    ParsedSignature,
    SignatureMemo,
    SignatureParseError,
    build_authorization,
    format_http_date,
    load_private_key,
    parse_authorization,
    parse_http_date,
    sign_bytes,
    signature_algorithm,
    signing_string,
    signing_string_for,
    verify_request,
)
from smartdc.auth.keys import PrivateKey, PublicKey, verify_bytes
from tests.conftest import KEY_NAMES, TestKey

DATE = "Sat, 28 Nov 2026 22:11:00 GMT"
NOW = parse_http_date(DATE)
HEADERS = {"Date": DATE, "Host": "cloudapi.test"}
TARGET = "/test/machines?limit=5&state=running"
ALL_KEYS = KEY_NAMES


def parse(value: str | None, headers: dict[str, str] | None = None) -> ParsedSignature:
    return parse_authorization(value, HEADERS if headers is None else headers, now=NOW)


def auth(params: str) -> str:
    return f"Signature {params}"


GOOD = 'keyId="/test/keys/k",algorithm="rsa-sha256",headers="date",signature="AAAA"'


# --- dates -----------------------------------------------------------------------------------


def test_format_http_date() -> None:
    assert format_http_date(NOW) == DATE
    assert format_http_date(NOW + 0.9) == DATE
    assert format_http_date(datetime(2026, 11, 28, 22, 11)) == DATE  # naive means UTC
    plus_one = timezone(timedelta(hours=1))
    assert format_http_date(datetime(2026, 11, 28, 23, 11, tzinfo=plus_one)) == DATE
    assert format_http_date().endswith(" GMT")


@pytest.mark.parametrize("now", [0.0, 0.999, 59.5, 1_796_216_601.25, 4_102_444_800.0])
def test_format_http_date_is_the_rfc_1123_date_of_that_second(now: float) -> None:
    # email.utils.formatdate computes each date afresh: format_http_date remembers some.
    assert format_http_date(now) == email.utils.formatdate(now, usegmt=True)
    assert format_http_date(now) == format_http_date(float(int(now)))


def test_format_http_date_moves_with_the_clock() -> None:
    assert format_http_date(1_796_216_601.9) == "Wed, 02 Dec 2026 13:03:21 GMT"
    assert format_http_date(1_796_216_602.0) == "Wed, 02 Dec 2026 13:03:22 GMT"


@pytest.mark.parametrize(
    "text",
    [
        DATE,
        "Saturday, 28-Nov-26 22:11:00 GMT",
        "Sat Nov 28 22:11:00 2026",
        "2026-11-28T22:11:00Z",
        "Sat, 28 Nov 2026 23:11:00 +0100",
    ],
)
def test_parse_http_date_forms(text: str) -> None:
    assert parse_http_date(text) == NOW


@pytest.mark.parametrize("text", ["", "yesterday", "Sat, 99 Foo 2026"])
def test_parse_http_date_junk(text: str) -> None:
    with pytest.raises(ValueError, match="not an HTTP date"):
        parse_http_date(text)


# --- signing strings -------------------------------------------------------------------------


def test_signing_string_request_target_and_date() -> None:
    text = signing_string(("(request-target)", "date"), "GET", TARGET, {"DATE": DATE})
    assert text == f"(request-target): get {TARGET}\ndate: {DATE}"


def test_signing_string_other_headers_and_request_line() -> None:
    text = signing_string(
        ["Date", "host", "request-line"], "POST", "/a?b=c", {"date": DATE, "HOST": "h"}
    )
    assert text == f"date: {DATE}\nhost: h\nPOST /a?b=c HTTP/1.1"


def test_signing_string_missing_header() -> None:
    with pytest.raises(SignatureParseError, match=r"^content-md5 was not in the request$"):
        signing_string(["date", "content-md5"], "GET", "/", {"date": DATE})


def test_build_authorization_format() -> None:
    value = build_authorization(
        "/a/keys/k", "rsa-sha256", b"\x01\x02", ["(request-target)", "date"]
    )
    assert value == (
        'Signature keyId="/a/keys/k",algorithm="rsa-sha256",'
        'headers="(request-target) date",signature="AQI="'
    )
    with pytest.raises(ValueError):
        build_authorization('/a/keys/"k"', "rsa-sha256", b"", ["date"])
    with pytest.raises(ValueError):
        build_authorization("/a/keys/k", "rsa-sha256", b"", [])


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [("(request-target)", "date"), ("date",)])
@pytest.mark.parametrize("name", ALL_KEYS)
def test_every_key_round_trips(
    keys: dict[str, TestKey], name: str, headers: tuple[str, ...]
) -> None:
    key = keys[name]
    private = load_private_key(key.path, key.passphrase)
    algorithm = signature_algorithm(private)
    text = signing_string(headers, "GET", TARGET, HEADERS)
    value = build_authorization(
        f"/test/keys/{key.md5}", algorithm, sign_bytes(private, algorithm, text.encode()), headers
    )
    parsed = parse(value)
    assert parsed.key_id == f"/test/keys/{key.md5}"
    assert parsed.algorithm == algorithm
    assert parsed.headers == headers
    assert not parsed.legacy
    assert verify_request(parsed, private.public_key(), "GET", TARGET, HEADERS)
    # Any change to what was signed must fail.
    assert not verify_request(
        parsed, private.public_key(), "GET", TARGET, {"date": "Sat, 28 Nov 2026 22:11:01 GMT"}
    )
    if "(request-target)" in headers:
        assert not verify_request(parsed, private.public_key(), "GET", "/test/machines", HEADERS)
        assert not verify_request(parsed, private.public_key(), "DELETE", TARGET, HEADERS)
    other = load_private_key(keys["ed25519" if name != "ed25519" else "rsa"].path)
    assert not verify_request(parsed, other.public_key(), "GET", TARGET, HEADERS)


def test_uppercase_algorithm_is_lowercased(keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["rsa"].path)
    text = signing_string(["date"], "GET", "/", HEADERS)
    value = build_authorization(
        "/a/keys/k", "RSA-SHA256", sign_bytes(private, "rsa-sha256", text.encode()), ["date"]
    )
    parsed = parse(value)
    assert parsed.algorithm == "rsa-sha256"
    assert verify_request(parsed, private.public_key(), "GET", "/", HEADERS)


def test_x_date_is_the_date_header_when_present(keys: dict[str, TestKey]) -> None:
    headers = {"x-date": DATE}
    parsed = parse(auth(GOOD.replace('headers="date"', 'headers="x-date"')), headers)
    assert parsed.headers == ("x-date",)
    with pytest.raises(SignatureParseError, match=r"^x-date was not a signed header$"):
        parse(auth(GOOD.replace('headers="date"', 'headers="host"')), {**headers, "host": "h"})


def test_headers_default_to_date() -> None:
    parsed = parse(auth('keyId="/a/keys/k",algorithm="rsa-sha256",signature="AAAA"'))
    assert parsed.headers == ("date",)
    parsed = parse(
        auth('keyId="/a/keys/k",algorithm="rsa-sha256",signature="AAAA"'), {"x-date": DATE}
    )
    assert parsed.headers == ("x-date",)


def test_a_value_parsed_again_is_checked_against_the_new_request() -> None:
    value = auth(GOOD.replace('headers="date"', 'headers="date host"'))
    headers = {**HEADERS, "host": "cloudapi.test"}
    first = parse(value, headers)
    assert parse(value, headers) == first
    # The same value, sent with other headers or at another time, is judged by those.
    with pytest.raises(SignatureParseError, match=r"^host was not in the request$"):
        parse(value, {"Date": DATE})
    with pytest.raises(ClockSkewError, match="clock skew of 301s"):
        parse_authorization(value, headers, now=NOW + 301)
    assert parse_authorization(value, headers, now=NOW + 299) == first
    expiring = auth(f"expires={int(NOW) + 100}," + GOOD)
    assert parse(expiring).param("expires") == int(NOW) + 100
    later = {"Date": format_http_date(NOW + 500)}
    with pytest.raises(ClockSkewError, match="Request expired with skew 400s"):
        parse_authorization(expiring, later, now=NOW + 500)


# --- the memo of passed checks ----------------------------------------------------------------


def _another_key_like(private: PrivateKey) -> PublicKey:
    """A fresh public key of the same type and size as ``private``'s."""
    if isinstance(private, rsa.RSAPrivateKey):
        return rsa.generate_private_key(65537, private.key_size).public_key()
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return ec.generate_private_key(private.curve).public_key()
    return ed25519.Ed25519PrivateKey.generate().public_key()


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The signed bytes of every signature check verify_request makes from now on."""
    checks: list[bytes] = []

    def counted(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
        checks.append(data)
        return verify_bytes(key, algorithm, data, signature)

    monkeypatch.setattr("smartdc.auth.httpsig.verify_bytes", counted)
    return checks


def _signed(private: PrivateKey, headers: tuple[str, ...] = ("(request-target)", "date")) -> str:
    algorithm = signature_algorithm(private)
    text = signing_string(headers, "GET", TARGET, HEADERS)
    signature = sign_bytes(private, algorithm, text.encode())
    return build_authorization("/test/keys/k", algorithm, signature, headers)


@pytest.mark.parametrize("name", ALL_KEYS)
def test_a_memo_answers_a_passed_check_again_and_nothing_else(
    keys: dict[str, TestKey], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = keys[name]
    private = load_private_key(key.path, key.passphrase)
    public = private.public_key()
    parsed = parse(_signed(private))
    checks = _count_checks(monkeypatch)
    memo = SignatureMemo()
    assert verify_request(parsed, public, "GET", TARGET, HEADERS, memo=memo)
    assert verify_request(parsed, public, "GET", TARGET, HEADERS, memo=memo)
    assert (len(checks), len(memo)) == (1, 1)
    # What the memo holds vouches for that key, those bytes and that signature only.
    later = {"date": "Sat, 28 Nov 2026 22:11:01 GMT"}
    assert not verify_request(parsed, public, "GET", TARGET, later, memo=memo)
    assert not verify_request(parsed, public, "GET", "/test/machines", HEADERS, memo=memo)
    assert not verify_request(parsed, _another_key_like(private), "GET", TARGET, HEADERS, memo=memo)
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    forged = ParsedSignature(
        parsed.key_id, parsed.algorithm, parsed.headers, flipped, parsed.legacy, parsed.params
    )
    for _ in range(2):  # a failed check is made again each time
        assert not verify_request(forged, public, "GET", TARGET, HEADERS, memo=memo)
    assert (len(checks), len(memo)) == (6, 1)


def test_a_memo_keeps_its_newest_checks(
    keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = load_private_key(keys["ed25519"].path)
    public = private.public_key()
    dates = [f"Sat, 28 Nov 2026 22:11:0{n} GMT" for n in range(3)]
    parsed = {}
    for date in dates:
        text = signing_string(("date",), "GET", TARGET, {"date": date})
        value = build_authorization(
            "/test/keys/k",
            "ed25519-sha512",
            sign_bytes(private, "ed25519-sha512", text.encode()),
            ("date",),
        )
        parsed[date] = parse_authorization(value, {"date": date}, now=NOW)
    checks = _count_checks(monkeypatch)
    memo = SignatureMemo(size=2)
    for date in dates:
        assert verify_request(parsed[date], public, "GET", TARGET, {"date": date}, memo=memo)
    assert len(memo) == 2
    for date in reversed(dates):  # the newest two are remembered, the oldest checked again
        assert verify_request(parsed[date], public, "GET", TARGET, {"date": date}, memo=memo)
    assert len(checks) == 4
    assert checks[-1] == f"date: {dates[0]}".encode()
    with pytest.raises(ValueError, match="at least one"):
        SignatureMemo(size=0)


# --- parse errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (auth(GOOD.replace(",", ", ")), "bad param format"),
        (auth(GOOD.replace("keyId=", "key_id=")), "bad param format"),
        (auth(GOOD.replace('keyId="', "keyId='")), "bad param format"),
        (auth(GOOD.replace(',signature="AAAA"', "")), "signature was not specified"),
        (auth(GOOD.replace('signature="AAAA"', 'signature=""')), "signature was not specified"),
        (auth(GOOD.replace('keyId="/test/keys/k",', "")), "keyId was not specified"),
        (auth(GOOD.replace('algorithm="rsa-sha256",', "")), "algorithm was not specified"),
        (auth(GOOD.replace("rsa-sha256", "ecdsa-sha384")), "ecdsa-sha384 is not supported"),
        (auth(GOOD.replace("rsa-sha256", "rsa-sha384")), "rsa-sha384 is not supported"),
        (auth(GOOD.replace("rsa-sha256", "rsa-md5")), "rsa-md5 is not supported"),
        (auth(GOOD.replace("rsa-sha256", "foo-sha256")), "foo-sha256 is not supported"),
        (auth(GOOD.replace("rsa-sha256", "rsa")), "rsa is not supported"),
        (
            auth(GOOD.replace("rsa-sha256", "hmac-sha256")),
            "hmac-sha256 is not a supported algorithm",
        ),
        (
            auth(GOOD.replace('headers="date"', 'headers="(request-target)"')),
            "date was not a signed header",
        ),
        (
            auth(GOOD.replace('headers="date"', 'headers="date content-md5"')),
            "content-md5 was not in the request",
        ),
        ("signature " + GOOD, 'scheme was not "Signature"'),
        ("Signature  " + GOOD, "bad param format"),
    ],
)
def test_malformed_headers(value: str, message: str) -> None:
    with pytest.raises(SignatureParseError) as caught:
        parse(value)
    assert type(caught.value) is SignatureParseError
    assert caught.value.message == message
    assert caught.value.status == 400
    assert caught.value.code == "InvalidHeader"
    assert caught.value.response_message == f"Authorization header invalid: {message}"


def test_missing_date_header() -> None:
    with pytest.raises(SignatureParseError, match=r"^date was not in the request$"):
        parse(auth(GOOD), {"host": "h"})


@pytest.mark.parametrize("value", [None, "", "   ", "Basic dXNlcjpwYXNz", "Bearer abc", "Foo bar"])
def test_not_signature_auth_is_a_401(value: str | None) -> None:
    with pytest.raises(AuthorizationSchemeError) as caught:
        parse(value)
    assert caught.value.status == 401
    assert caught.value.code == "InvalidCredentials"
    assert caught.value.response_message == "You must make authenticated requests to use CloudAPI"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Signature", "BasicAuth content is invalid."),
        ('Signature,keyId="x"', "BasicAuth content is invalid."),
        ("Basic !!!!", "Authorization header invalid"),
    ],
)
def test_broken_header_shape_is_a_400_with_its_own_message(value: str, message: str) -> None:
    with pytest.raises(AuthorizationFormatError) as caught:
        parse(value)
    assert caught.value.status == 400
    assert caught.value.response_message == message


def test_clock_skew() -> None:
    late = format_http_date(NOW - 301)
    with pytest.raises(ClockSkewError) as caught:
        parse(auth(GOOD), {"date": late})
    assert caught.value.message == "clock skew of 301s was greater than 300s"
    with pytest.raises(ClockSkewError, match="clock skew of 400s"):
        parse(auth(GOOD), {"date": format_http_date(NOW + 400)})
    # Within the limit, an unparseable date, or checks disabled: fine.
    assert parse(auth(GOOD), {"date": format_http_date(NOW - 300)}).key_id == "/test/keys/k"
    assert parse(auth(GOOD), {"date": "not a date"}).key_id == "/test/keys/k"
    assert parse_authorization(auth(GOOD), {"date": late}, clock_skew=None, now=NOW).headers
    assert parse_authorization(auth(GOOD), {"date": late}, clock_skew=600, now=NOW).headers


def test_clock_skew_defaults_to_the_real_clock() -> None:
    with pytest.raises(ClockSkewError):
        parse_authorization(auth(GOOD), {"date": "Sat, 01 Jan 2000 00:00:00 GMT"})
    now = format_http_date(datetime.now(UTC))
    assert parse_authorization(auth(GOOD), {"date": now}).key_id == "/test/keys/k"


def test_numeric_params_and_created_expires() -> None:
    with pytest.raises(SignatureParseError, match="bad param format"):
        parse(auth(f"created={int(NOW)}x," + GOOD))
    value = auth(f"created={int(NOW) + 1000}," + GOOD)
    with pytest.raises(ClockSkewError, match="Created lies in the future"):
        parse(value)
    value = auth(f"expires={int(NOW) - 1000}," + GOOD)
    with pytest.raises(ClockSkewError, match="Request expired with skew 1000s"):
        parse(value)
    parsed = parse(auth(f"created={int(NOW)}," + GOOD))
    assert parsed.param("created") == int(NOW)
    assert parsed.param("missing") is None


def test_pseudo_headers_in_signing_string(keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["ed25519"].path)
    params: dict[str, str | int] = {
        "keyId": "/a/keys/k",
        "algorithm": "ed25519-sha512",
        "created": int(NOW),
    }
    names = ["(request-target)", "(keyid)", "(algorithm)", "(created)", "date"]
    text = signing_string(names, "GET", "/x", HEADERS, params=params)
    assert text.splitlines()[1:4] == [
        "(keyid): /a/keys/k",
        "(algorithm): ed25519-sha512",
        f"(created): {int(NOW)}",
    ]
    value = build_authorization(
        "/a/keys/k", "ed25519-sha512", sign_bytes(private, "ed25519-sha512", text.encode()), names
    )
    value = value.replace("Signature ", f"Signature created={int(NOW)},")
    parsed = parse(value)
    assert verify_request(parsed, private.public_key(), "GET", "/x", HEADERS)


# --- legacy (http-signature 0.9) format ------------------------------------------------------


def legacy_value(keys: dict[str, TestKey], algorithm: str = "rsa-sha256", name: str = "rsa") -> str:
    private = load_private_key(keys[name].path)
    signature = sign_bytes(private, algorithm, DATE.encode())
    encoded = base64.b64encode(signature).decode()
    return f'Signature keyId="/test/keys/k",algorithm="{algorithm}" {encoded}'


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256", "rsa-sha512"])
def test_legacy_format_signs_the_raw_date(keys: dict[str, TestKey], algorithm: str) -> None:
    parsed = parse(legacy_value(keys, algorithm))
    assert parsed.legacy
    assert parsed.algorithm == algorithm
    assert parsed.headers == ("date",)
    assert signing_string_for(parsed, "GET", "/", HEADERS) == DATE
    public = load_private_key(keys["rsa"].path).public_key()
    assert verify_request(parsed, public, "GET", "/anything", HEADERS)
    assert not verify_request(parsed, public, "GET", "/", {"date": "Sun, 29 Nov 2026 00:00:00 GMT"})


def test_legacy_format_errors_report_the_modern_message(keys: dict[str, TestKey]) -> None:
    # When both grammars fail, the modern parser's message is the one reported; for the
    # legacy shape that is the space after the last quoted value.
    with pytest.raises(SignatureParseError, match=r"^bad param format$"):
        parse('Signature keyId="/test/keys/k",algorithm="ecdsa-sha256" AAAA')
    with pytest.raises(SignatureParseError, match=r"^bad param format$"):
        parse(legacy_value(keys), {"host": "h"})
    with pytest.raises(SignatureParseError, match=r"^signature was not specified$"):
        parse('Signature keyId="/test/keys/k",algorithm="rsa-sha256" ')


def test_legacy_with_request_line(keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["rsa"].path)
    text = f"{DATE}\nGET /x?y=1 HTTP/1.1"
    encoded = base64.b64encode(sign_bytes(private, "rsa-sha256", text.encode())).decode()
    value = (
        f'Signature keyId="/a/keys/k",algorithm="rsa-sha256",headers="date request-line" {encoded}'
    )
    parsed = parse(value)
    assert parsed.legacy
    assert verify_request(parsed, private.public_key(), "GET", "/x?y=1", HEADERS)
    assert not verify_request(parsed, private.public_key(), "GET", "/x?y=2", HEADERS)


def test_lenient_base64_like_node(keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["ecdsa256"].path)
    text = signing_string(["date"], "GET", "/", HEADERS)
    signature = sign_bytes(private, "ecdsa-sha256", text.encode())
    urlsafe = base64.urlsafe_b64encode(signature).decode().rstrip("=")
    parsed = parse(auth(f'keyId="/a/keys/k",algorithm="ecdsa-sha256",signature="{urlsafe}"'))
    assert parsed.signature == signature
    garbage = parse(auth('keyId="/a/keys/k",algorithm="ecdsa-sha256",signature="%%%"'))
    assert not verify_request(garbage, private.public_key(), "GET", "/", HEADERS)
