"""The request path: headers and signatures, paths, bodies, retries, debug echo, failures."""

from __future__ import annotations

import email.utils
import io
import re
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from smartdc import CloudAPI
from smartdc.auth.httpsig import parse_authorization, verify_request
from smartdc.auth.keys import parse_public_key
from smartdc.auth.signers import make_signer
from smartdc.errors import (
    CloudAPIError,
    ConfigError,
    ConnectError,
    FingerprintMismatchError,
    PassphraseRequiredError,
    ServiceUnavailableError,
    TimeoutError,
    TooManyRequestsError,
    TransportError,
    error_class_for,
)
from smartdc.transport import RetryPolicy, clock_skew, encode_params, parse_retry_after
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import ACCOUNT, URL, Recorder, body_of, make_api, reply

FAST = RetryPolicy(retries=3, base_delay=0.001, max_delay=0.005)


def failing(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def key_id_sent(request: httpx.Request) -> str:
    match = re.search(r'keyId="([^"]+)"', request.headers["authorization"])
    assert match, request.headers["authorization"]
    return match.group(1)


# --- headers and signatures --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa", "ecdsa384", "ed25519"])
def test_requests_carry_cloudapi_headers_and_a_valid_signature(
    keys: dict[str, TestKey], name: str
) -> None:
    key = keys[name]
    recorder = Recorder()
    with make_api(key, recorder) as api:
        api.request("GET", "machines", params={"name": "web", "limit": 5})
    request = recorder.last
    assert request.headers["accept-version"] == "~9||~8"
    assert request.headers["accept"] == "application/json"
    assert re.fullmatch(r"smartdc/\S+ \(python/3\.\d+\.\d+; \S+\)", request.headers["user-agent"])
    sent_date = email.utils.parsedate_to_datetime(request.headers["date"]).timestamp()
    assert abs(sent_date - time.time()) < 5
    # Given a SHA256 fingerprint, the keyId on the wire names the key by MD5.
    assert key_id_sent(request) == f"/test/keys/{key.md5}"
    parsed = parse_authorization(request.headers["authorization"], request.headers)
    assert parsed.headers == ("(request-target)", "date")
    target = request.url.raw_path.decode()
    assert target == "/test/machines?name=web&limit=5"
    public = parse_public_key(key.pub_path.read_text())
    assert verify_request(parsed, public, "GET", target, request.headers)


@pytest.mark.parametrize(
    ("given", "user", "expected"),
    [
        ("{md5}", None, "/test/keys/{md5}"),
        ("MD5:{md5}", None, "/test/keys/{md5}"),
        ("{sha256}", "ops", "/test/users/ops/keys/{md5}"),
        ("/test/keys/{sha256}", None, "/test/keys/{md5}"),
        ("/parent/users/ops/keys/{md5}", "ops", "/parent/users/ops/keys/{md5}"),
        ("laptop", None, "/test/keys/laptop"),
    ],
)
def test_key_id_forms_are_completed_and_sent_with_md5(
    keys: dict[str, TestKey], given: str, user: str | None, expected: str
) -> None:
    key = keys["ecdsa256"]
    values = {"md5": key.md5, "sha256": key.sha256}
    with make_api(key, Recorder(), key_id=given.format(**values), user=user) as api:
        assert api.key_id == expected.format(**values)


def test_a_signer_alone_gives_the_key_id(keys: dict[str, TestKey]) -> None:
    signer = make_signer(None, key_file=keys["ed25519"].path)
    recorder = Recorder()
    api = CloudAPI(URL, ACCOUNT, signer=signer, transport=httpx.MockTransport(recorder))
    api.get_account()
    assert key_id_sent(recorder.last) == f"/test/keys/{keys['ed25519'].md5}"
    assert api.signer is signer


def test_options_are_sent_as_given(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    with make_api(
        keys["rsa"], recorder, accept_version="~7.2", user_agent="tool/1", sign_headers=["date"]
    ) as api:
        api.get_account()
    assert recorder.last.headers["accept-version"] == "~7.2"
    assert recorder.last.headers["user-agent"] == "tool/1"
    assert 'headers="date"' in recorder.last.headers["authorization"]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"key_id": "/test/nokeys/x"}, "invalid key id"),
        ({"key_id": "  "}, "key_id is empty"),
        ({"key_id": "/test/keys/x", "user": "ops"}, "does not belong to user"),
        ({"key_id": "a/b"}, "neither a full keyId"),
        ({"key_id": "MD5:zz:yy"}, "'MD5:zz:yy' is not a valid fingerprint"),
        ({"key_id": "/test/keys/SHA256:short"}, "'SHA256:short' is not a valid fingerprint"),
        ({"sign_headers": ["(request-target)"]}, "date"),
        ({"timeout": 0}, "timeout"),
        ({"verify": "/nonexistent/ca.pem"}, "does not exist"),
    ],
)
def test_bad_options_raise_config_errors(
    keys: dict[str, TestKey], options: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        make_api(keys["rsa"], Recorder(), **options)


@pytest.mark.parametrize("url", ["cloudapi.example.com", "ftp://x.example.com", "https://"])
def test_bad_urls_are_config_errors(keys: dict[str, TestKey], url: str) -> None:
    with pytest.raises(ConfigError, match="url"):
        CloudAPI(url, ACCOUNT, key_file=keys["rsa"].path, allow_agent=False)


@pytest.mark.parametrize("account", ["", "my", "a/b"])
def test_bad_accounts_are_config_errors(keys: dict[str, TestKey], account: str) -> None:
    with pytest.raises(ConfigError, match="account"):
        CloudAPI(URL, account, key_file=keys["rsa"].path, allow_agent=False)


def test_key_problems_show_at_construction(keys: dict[str, TestKey]) -> None:
    with pytest.raises(PassphraseRequiredError):
        CloudAPI(URL, ACCOUNT, key_file=keys["rsa_encrypted"].path, allow_agent=False)
    with pytest.raises(FingerprintMismatchError):
        CloudAPI(URL, ACCOUNT, key_id=keys["rsa"].md5, key_file=keys["ed25519"].path)


def test_an_encrypted_key_works_with_its_passphrase(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    key = keys["rsa_encrypted"]
    with make_api(key, recorder, key_file=key.path) as api:
        api.get_account()
    assert key_id_sent(recorder.last) == f"/test/keys/{keys['rsa_encrypted'].md5}"


# --- paths, queries and bodies ---------------------------------------------------------------


def test_relative_paths_are_under_the_account_and_absolute_ones_are_kept(
    keys: dict[str, TestKey],
) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api:
        api.request("GET", "machines")
        api.request("GET", "")
        api.request("GET", "/--ping")
    assert [r.url.path for r in recorder.requests] == ["/test/machines", "/test", "/--ping"]


def test_a_url_with_a_prefix_and_trailing_slash(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder, url="http://127.0.0.1:8080/cloudapi/") as api:
        assert api.url == "http://127.0.0.1:8080/cloudapi"
        api.list_keys()
    assert str(recorder.last.url) == "http://127.0.0.1:8080/cloudapi/test/keys"
    parsed = parse_authorization(recorder.last.headers["authorization"], recorder.last.headers)
    public = parse_public_key(keys["rsa"].pub_path.read_text())
    assert verify_request(parsed, public, "GET", "/cloudapi/test/keys", recorder.last.headers)


def test_query_encoding_drops_none_and_spells_booleans() -> None:
    assert encode_params({"a": None, "b": True, "c": False, "d": 3, "e": "x y"}) == [
        ("b", "true"),
        ("c", "false"),
        ("d", "3"),
        ("e", "x y"),
    ]
    with pytest.raises(TypeError, match="'tags'"):
        encode_params({"tags": {"a": "b"}})


def test_json_bodies_are_sent_with_their_content_type(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api:
        api.request("POST", "machines/x/tags", json={"role": "db"})
    assert recorder.last.headers["content-type"] == "application/json"
    assert body_of(recorder.last) == {"role": "db"}


def test_bodies_are_decoded(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(204), reply(200, b"plain words", {"content-type": "text/plain"}), reply(200, [1])
    )
    with make_api(keys["rsa"], recorder) as api:
        assert api.request("DELETE", "machines/x/tags") is None
        text = api.request("GET", "machines/x/tags/a", headers={"Accept": "text/plain"})
        assert text == "plain words"  # raw text only when asked for (see test_reliability_library)
        assert api.request("GET", "machines") == [1]
        assert api.last_response is not None
        assert api.last_response.status == 200
        assert api.last_response.request_id == "req-1"


# --- retries -----------------------------------------------------------------------------------


def test_throttled_requests_are_retried_and_then_succeed(keys: dict[str, TestKey]) -> None:
    # A Retry-After within the cap is honoured; a longer one is not waited out (see
    # tests/unit/test_reliability_library.py).
    throttled = reply(
        429, {"code": "TooManyRequestsError", "message": "slow"}, {"retry-after": "0"}
    )
    recorder = Recorder().add(throttled, reply(503, {"code": "ServiceUnavailableError"}))
    with make_api(keys["rsa"], recorder) as api:
        api.retry_policy = FAST
        started = time.monotonic()
        assert api.request("POST", "machines", json={"image": "x"}) == {}
        assert time.monotonic() - started < 1
    assert len(recorder.requests) == 3
    # every attempt is signed afresh
    assert all("date" in r.headers and "authorization" in r.headers for r in recorder.requests)


def test_retries_stop_after_the_configured_count(keys: dict[str, TestKey]) -> None:
    unavailable = reply(503, {"code": "ServiceUnavailableError", "message": "read-only"})
    recorder = Recorder(fallback=lambda request: unavailable)
    with make_api(keys["rsa"], recorder, retries=2) as api:
        api.retry_policy = RetryPolicy(retries=2, base_delay=0.001, max_delay=0.005)
        with pytest.raises(ServiceUnavailableError, match="read-only"):
            api.get_account()
    assert len(recorder.requests) == 3


def test_no_retries_when_retries_is_zero(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(429, {"code": "TooManyRequestsError", "message": "slow"}))
    with make_api(keys["rsa"], recorder, retries=0) as api, pytest.raises(TooManyRequestsError):
        api.get_account()
    assert len(recorder.requests) == 1


def test_server_errors_are_not_retried(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(500, {"code": "InternalError", "message": "boom"}))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(error_class_for("InternalError")):
        api.get_account()
    assert len(recorder.requests) == 1


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(max_delay=30)
    assert policy.delay(0, "7") == 7
    assert policy.delay(0, "120") == 30
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= policy.delay(0, soon) <= 10
    assert parse_retry_after("soon") is None
    assert 0.25 <= policy.delay(0, None) <= 0.5  # backoff: 0.5 s with jitter
    assert 1.0 <= policy.delay(2, "garbage") <= 2.0


def test_connection_errors_are_retried_for_idempotent_methods(keys: dict[str, TestKey]) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    recorder = Recorder().add(refused, refused, reply(200, {"id": "m"}))
    with make_api(keys["rsa"], recorder) as api:
        api.retry_policy = FAST
        assert api.get_machine("m") == {"id": "m"}
    assert len(recorder.requests) == 3


def test_post_is_not_retried_after_a_connection_error(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(httpx.ConnectError("[Errno 111] Connection refused"))
    with make_api(keys["rsa"], recorder) as api:
        api.retry_policy = FAST
        with pytest.raises(ConnectError, match=r"cloudapi\.test") as caught:
            api.create_machine(image="i", package="p")
    assert len(recorder.requests) == 1
    assert "POST https://cloudapi.test/test/machines" in str(caught.value)


# --- transport failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (httpx.ReadTimeout("timed out"), TimeoutError, "GET https://cloudapi.test/test timed out"),
        (httpx.ConnectTimeout("timed out"), TimeoutError, "after 4 attempts"),
        (httpx.ConnectError("CERTIFICATE_VERIFY_FAILED"), ConnectError, "insecure=True"),
        (httpx.ProxyError("bad proxy"), TransportError, "GET https://cloudapi.test/test failed"),
    ],
)
def test_httpx_failures_become_smartdc_errors_naming_the_url(
    keys: dict[str, TestKey], error: Exception, expected: type[Exception], text: str
) -> None:
    recorder = Recorder(fallback=failing(error))
    with make_api(keys["rsa"], recorder) as api:
        api.retry_policy = FAST
        with pytest.raises(expected, match=re.escape(text)) as caught:
            api.get_account()
    assert isinstance(caught.value, TransportError)
    assert not isinstance(caught.value, httpx.HTTPError)


def test_a_read_timeout_is_not_retried(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(httpx.ReadTimeout("timed out"))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(TimeoutError):
        api.get_account()
    assert len(recorder.requests) == 1


def test_a_refused_connection_on_a_real_socket(keys: dict[str, TestKey]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    api = CloudAPI(url, ACCOUNT, key_file=keys["rsa"].path, allow_agent=False, retries=0)
    with api, pytest.raises(ConnectError, match=f"could not connect to http://127.0.0.1:{port}"):
        api.ping()


def test_https_to_a_plain_http_server_is_not_retried_and_says_so(
    keys: dict[str, TestKey],
) -> None:
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]

        def serve_plain_http() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                accepted.append(conn)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                conn.close()

        server = threading.Thread(target=serve_plain_http, daemon=True)
        server.start()
        api = CloudAPI(
            f"https://127.0.0.1:{port}", ACCOUNT, key_file=keys["rsa"].path, allow_agent=False
        )
        api.retry_policy = FAST
        with api, pytest.raises(ConnectError) as caught:
            api.ping()
        listener.shutdown(socket.SHUT_RDWR)
    server.join(timeout=5)
    assert f"use http://127.0.0.1:{port}" in str(caught.value)
    assert len(accepted) == 1


# --- debug echo ----------------------------------------------------------------------------------


def test_debug_echo_writes_one_line_per_attempt_without_secrets(keys: dict[str, TestKey]) -> None:
    stream = io.StringIO()
    recorder = Recorder().add(
        reply(429, {"code": "TooManyRequestsError"}, {"request-id": "r-429"}),
        reply(200, [], {"request-id": "r-200"}),
    )
    with make_api(keys["rsa"], recorder, debug=stream) as api:
        api.retry_policy = FAST
        api.list_machines(state="running")
    lines = stream.getvalue().splitlines()
    pattern = r"smartdc: GET /test/machines\?limit=1000&offset=0&state=running -> {} \(\d+ ms\) {}"
    assert re.fullmatch(pattern.format(429, "request-id=r-429"), lines[0])
    assert re.fullmatch(pattern.format(200, "request-id=r-200"), lines[1])
    assert len(lines) == 2
    assert "Signature" not in stream.getvalue()
    assert "Authorization" not in stream.getvalue()


def test_debug_true_echoes_to_stderr(
    keys: dict[str, TestKey], capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder().add(httpx.ConnectError("refused"))
    with make_api(keys["rsa"], recorder, debug=True, retries=0) as api:
        with pytest.raises(ConnectError):
            api.delete_machine("m")
        api.debug = False
        api.get_account()
    err = capsys.readouterr().err
    assert re.fullmatch(r"smartdc: DELETE /test/machines/m -> ConnectError \(\d+ ms\)\n", err)


# --- clock skew ------------------------------------------------------------------------------


def _dated(offset: float) -> dict[str, str]:
    return {"date": email.utils.formatdate(time.time() + offset, usegmt=True)}


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "InvalidCredentials"), (400, "InvalidHeader"), (400, "RequestExpired")],
)
def test_auth_failures_explain_a_skewed_local_clock(
    keys: dict[str, TestKey], status: int, code: str
) -> None:
    recorder = Recorder().add(reply(status, {"code": code, "message": "nope"}, _dated(-3600)))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(CloudAPIError) as caught:
        api.get_account()
    assert caught.value.code == code
    assert re.search(
        r"local clock differs from the server by 360\d s \(clock skew: it is ahead of",
        str(caught.value),
    )


@pytest.mark.parametrize(
    ("status", "code", "offset"),
    [(401, "InvalidCredentials", 30), (404, "ResourceNotFound", -3600)],
)
def test_no_skew_hint_when_clocks_agree_or_the_error_is_unrelated(
    keys: dict[str, TestKey], status: int, code: str, offset: float
) -> None:
    recorder = Recorder().add(reply(status, {"code": code, "message": "nope"}, _dated(offset)))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(CloudAPIError) as caught:
        api.get_account()
    assert "clock" not in str(caught.value)
    if status == 401:
        assert caught.value.hint is not None
        assert f"did not accept key {api.key_id} for account 'test'" in caught.value.hint
    else:
        assert caught.value.hint is None


def test_clock_skew_is_measured_from_the_server_date() -> None:
    now = 1_700_000_000.0
    server = email.utils.formatdate(now + 120, usegmt=True)
    assert clock_skew(server, now=now) == pytest.approx(120)
    assert clock_skew(None, now=now) is None
    assert clock_skew("not a date", now=now) is None


# --- acting as another account, with roles -------------------------------------------------


def test_act_as_names_the_other_account_in_paths_and_the_login_in_the_key_id(
    keys: dict[str, TestKey],
) -> None:
    recorder = Recorder().add(reply(200, []))
    with make_api(keys["rsa"], recorder, act_as="other") as api:
        api.list_keys()
    request = recorder.last
    assert request.url.path == "/other/keys"
    assert key_id_sent(request) == f"/{ACCOUNT}/keys/{keys['rsa'].md5}"


def test_roles_go_on_every_request_as_a_signed_as_role_parameter(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(200, []), reply(200, {"id": "m"}))
    with make_api(keys["rsa"], recorder, roles=["ops", " admin "]) as api:
        api.list_machines(state="running")
        api.get_machine("m")
        feed = api.get_changefeed()
    listed, got = recorder.requests
    assert listed.url.raw_path.decode().endswith("state=running&as-role=ops%2Cadmin")
    assert got.url.raw_path.decode() == "/test/machines/m?as-role=ops%2Cadmin"
    public = parse_public_key(keys["rsa"].pub_path.read_text())
    for request in (listed, got):
        parsed = parse_authorization(request.headers["authorization"], request.headers)
        target = request.url.raw_path.decode()
        assert verify_request(parsed, public, request.method, target, request.headers)
    assert feed.url.endswith("/test/changefeed?as-role=ops,admin")
