"""HTTP Signature authentication over real HTTP: every row of CloudAPI's failure table."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from smartdc.auth.httpsig import build_authorization, format_http_date
from smartdc.auth.keys import load_private_key, sign_bytes
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, KEY_NAMES, TestKey, make_key
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient, Signer, signed_headers

MUST_AUTHENTICATE = "You must make authenticated requests to use CloudAPI"
BAD_CREDENTIALS = "Invalid authorization credentials supplied"


def send(
    plain: httpx.Client, signer: Signer, path: str = "/my/keys", *, date: str | None = None
) -> httpx.Response:
    return plain.get(path, headers=signed_headers(signer, "GET", path, date=date))


@pytest.mark.parametrize(
    "name",
    KEY_NAMES,
)
def test_every_key_type_authenticates(
    emulator: EmulatorServer, keys: dict[str, TestKey], name: str
) -> None:
    signed = SignedClient(emulator.url, Signer(keys[name]))
    response = signed.get("/my/keys")
    signed.close()
    assert response.status_code == 200, response.text
    assert keys[name].md5 in {key["fingerprint"] for key in response.json()}


def test_key_name_works_in_key_id(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    signer = Signer(keys["ecdsa256"], key_id=f"/{ACCOUNT}/keys/ecdsa256")
    assert send(plain, signer).status_code == 200


def test_date_only_signature_as_node_smartdc_sends(
    plain: httpx.Client, keys: dict[str, TestKey]
) -> None:
    signer = Signer(keys["rsa"], headers=("date",))
    assert send(plain, signer).status_code == 200


def test_legacy_header_format(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["rsa"].path)
    date = format_http_date()
    signature = base64.b64encode(sign_bytes(private, "rsa-sha256", date.encode())).decode()
    authorization = (
        f'Signature keyId="/{ACCOUNT}/keys/{keys["rsa"].md5}",algorithm="rsa-sha256" {signature}'
    )
    response = plain.get("/my", headers={"Date": date, "Authorization": authorization})
    assert response.status_code == 200, response.text


def test_no_authorization(plain: httpx.Client) -> None:
    response = plain.get("/my/keys")
    assert error_of(response) == (401, "InvalidCredentials", MUST_AUTHENTICATE)
    # Authentication errors come after the standard headers are in place.
    assert response.headers["server"] == "cloudapi/9.20.0"
    assert "request-id" in response.headers


def test_basic_scheme(plain: httpx.Client) -> None:
    credentials = base64.b64encode(b"test:secret").decode()
    response = plain.get("/my", headers={"Authorization": f"Basic {credentials}"})
    assert error_of(response) == (401, "InvalidCredentials", MUST_AUTHENTICATE)


def test_scheme_without_space(plain: httpx.Client) -> None:
    response = plain.get("/my", headers={"Authorization": "Signature"})
    assert error_of(response) == (400, "InvalidHeader", "BasicAuth content is invalid.")
    # An early error: no CORS headers, but the request id and server like every response.
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["server"] == "cloudapi/9.20.0"
    assert "request-id" in response.headers


@pytest.mark.parametrize("offset", [400, -400])
def test_clock_skew_either_way(plain: httpx.Client, signer: Signer, offset: int) -> None:
    date = format_http_date(time.time() + offset)
    status, code, message = error_of(send(plain, signer, date=date))
    assert (status, code) == (400, "InvalidHeader")
    assert message.startswith("Authorization header invalid: clock skew of ")
    assert message.endswith("s was greater than 300s")
    skew = float(message.removeprefix("Authorization header invalid: clock skew of ").split("s")[0])
    assert 395 < skew < 405


def test_small_skew_is_accepted(plain: httpx.Client, signer: Signer) -> None:
    assert send(plain, signer, date=format_http_date(time.time() - 200)).status_code == 200


def test_old_date_without_signature_is_expired(plain: httpx.Client) -> None:
    date = format_http_date(time.time() - 3600)
    response = plain.get("/my", headers={"Date": date})
    assert error_of(response) == (400, "RequestExpired", f"Date header {date} is too old")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["server"] == "cloudapi/9.20.0"


def test_unknown_key(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    signer = Signer(
        keys["rsa"], key_id=f"/{ACCOUNT}/keys/00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"
    )
    assert error_of(send(plain, signer)) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_unknown_login(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    signer = Signer(keys["rsa"], key_id=f"/nobody/keys/{keys['rsa'].md5}")
    assert error_of(send(plain, signer)) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_my_is_not_a_login_in_key_id(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    signer = Signer(keys["rsa"], key_id=f"/my/keys/{keys['rsa'].md5}")
    assert error_of(send(plain, signer)) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_signature_by_another_key(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    # Signed with another RSA key while claiming to be the registered "rsa" key.
    impostor = Signer(keys["rsa_pem"], key_id=f"/{ACCOUNT}/keys/{keys['rsa'].md5}")
    assert error_of(send(plain, impostor)) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_tampered_request_target(plain: httpx.Client, signer: Signer) -> None:
    headers = signed_headers(signer, "GET", "/my/keys")
    response = plain.get("/my", headers=headers)
    assert error_of(response) == (401, "InvalidCredentials", BAD_CREDENTIALS)
    # Accepted where it was signed for, and still refused elsewhere after that.
    assert plain.get("/my/keys", headers=headers).status_code == 200
    response = plain.get("/my", headers=headers)
    assert error_of(response) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_a_signature_accepted_before_its_key_is_deleted_is_refused_after(
    client: SignedClient, plain: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fresh = make_key(
        tmp_path_factory.mktemp("replayed"), "replayed", "ed25519", "256", "RFC4716", None
    )
    created = client.post("/my/keys", json={"key": fresh.pub_path.read_text(), "name": "replayed"})
    assert created.status_code == 201, created.text
    headers = signed_headers(Signer(fresh), "GET", "/my/keys")
    try:
        assert plain.get("/my/keys", headers=headers).status_code == 200
        assert plain.get("/my/keys", headers=headers).status_code == 200
    finally:
        client.delete("/my/keys/replayed")
    response = plain.get("/my/keys", headers=headers)  # the same Date and signature
    assert error_of(response) == (401, "InvalidCredentials", BAD_CREDENTIALS)


@pytest.mark.parametrize("key_id", ["/test/foo/bar", "test/keys", "/test/keys/a/b"])
def test_key_id_with_wrong_structure(
    plain: httpx.Client, keys: dict[str, TestKey], key_id: str
) -> None:
    signer = Signer(keys["rsa"], key_id=key_id)
    assert error_of(send(plain, signer)) == (
        401,
        "InvalidCredentials",
        f"Invalid KeyId {key_id} in authorization header",
    )


def test_sub_user_key_id_needs_an_existing_user(
    plain: httpx.Client, keys: dict[str, TestKey]
) -> None:
    key_id = f"/{ACCOUNT}/users/alice/keys/{keys['rsa'].md5}"
    signer = Signer(keys["rsa"], key_id=key_id)
    assert error_of(send(plain, signer)) == (401, "InvalidCredentials", BAD_CREDENTIALS)
    # Before API 7.2.0 sub-user keyIds do not exist at all.
    headers = signed_headers(signer, "GET", "/my")
    headers["Accept-Version"] = "~7.1"
    assert error_of(plain.get("/my", headers=headers)) == (
        401,
        "InvalidCredentials",
        f"Invalid KeyId {key_id} in authorization header",
    )


def test_date_must_be_signed(plain: httpx.Client, keys: dict[str, TestKey]) -> None:
    signer = Signer(keys["rsa"], headers=("(request-target)",))
    response = send(plain, signer)
    assert error_of(response) == (
        400,
        "InvalidHeader",
        "Authorization header invalid: date was not a signed header",
    )


def test_missing_date(plain: httpx.Client, signer: Signer) -> None:
    headers = signed_headers(signer, "GET", "/my")
    del headers["Date"]
    assert error_of(plain.get("/my", headers=headers)) == (
        400,
        "InvalidHeader",
        "Authorization header invalid: date was not in the request",
    )


def test_sha384_is_refused_but_p384_with_sha512_works(
    plain: httpx.Client, keys: dict[str, TestKey]
) -> None:
    private = load_private_key(keys["ecdsa384"].path)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    date = format_http_date()
    text = f"(request-target): get /my\ndate: {date}"
    signature = private.sign(text.encode(), ec.ECDSA(hashes.SHA384()))
    authorization = build_authorization(
        f"/{ACCOUNT}/keys/{keys['ecdsa384'].md5}",
        "ecdsa-sha384",
        signature,
        ("(request-target)", "date"),
    )
    response = plain.get("/my", headers={"Date": date, "Authorization": authorization})
    status, code, message = error_of(response)
    assert (status, code) == (400, "InvalidHeader")
    assert "sha384" in message
    assert send(plain, Signer(keys["ecdsa384"]), "/my").status_code == 200


def test_ping_needs_no_authentication(plain: httpx.Client) -> None:
    response = plain.get("/--ping")
    assert response.status_code == 200
    assert response.json() == {
        "ping": "pong",
        "cloudapi": {"versions": ["7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0"]},
    }
    assert response.headers["triton-datacenter-name"] == "us-test-1"


def test_ping_still_verifies_a_signature_that_is_sent(
    plain: httpx.Client, keys: dict[str, TestKey], signer: Signer
) -> None:
    assert send(plain, signer, "/--ping").status_code == 200
    bad = Signer(keys["rsa_pem"], key_id=f"/{ACCOUNT}/keys/{keys['rsa'].md5}")
    assert error_of(send(plain, bad, "/--ping")) == (401, "InvalidCredentials", BAD_CREDENTIALS)


def test_requests_read_the_credential_counter_only_after_a_commit(
    emulator: EmulatorServer, client: SignedClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fresh = make_key(
        tmp_path_factory.mktemp("counted"), "counted", "ed25519", "256", "RFC4716", None
    )
    read: list[str] = []

    def trace(statement: str) -> None:
        if "credential_changes" in statement and statement.lstrip().startswith("SELECT"):
            read.append(statement)

    assert client.get("/my").status_code == 200
    connections = {emulator.db._conn, emulator.db._reader}  # one, in memory
    for connection in connections:
        connection.set_trace_callback(trace)
    try:
        for _ in range(3):
            assert client.get("/my").status_code == 200
        quiet = len(read)
        key = fresh.pub_path.read_text()
        created = client.post("/my/keys", json={"key": key, "name": "counted"})
        assert created.status_code == 201, created.text
        assert client.get("/my").status_code == 200
        after_commit = len(read) - quiet
    finally:
        for connection in connections:
            connection.set_trace_callback(None)
        client.delete("/my/keys/counted")
    # This process alone writes the database: nothing changes while it commits nothing.
    assert quiet == 0
    assert after_commit >= 1
