"""Wire behaviour shared by every route: routing, versions, headers, bodies, extras."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest

from smartdc.emulator.app import CloudAPIApp, Incoming
from smartdc.emulator.context import Call, Reply, Route
from smartdc.emulator.server import EmulatorServer
from tests.emulator.checks import assert_early_error, assert_reduced_headers, error_of
from tests.emulator.signing import SignedClient, Signer, signed_headers

CORS_HEADERS = (
    "Accept, Accept-Version, Content-Length, Content-MD5, Content-Type, Date, Api-Version, "
    "Response-Time"
)


# --- versions ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["~9||~8", "~7.2", "*", "~8||~7", "9.0.0", None])
def test_supported_version_ranges(
    emulator: EmulatorServer, signer: Signer, version: str | None
) -> None:
    signed = SignedClient(emulator.url, signer, version=version)
    response = signed.get("/my/keys")
    signed.close()
    assert response.status_code == 200
    assert response.headers["api-version"] == "9.0.0"


def test_unsupported_version_is_refused_before_authentication(plain: httpx.Client) -> None:
    response = plain.get("/my/keys", headers={"Accept-Version": "10.0.0"})
    assert_early_error(response, (400, "InvalidVersion", "10.0.0 is not supported by GET /my/keys"))


def test_x_api_version_is_read_and_api_version_ignored(
    emulator: EmulatorServer, signer: Signer
) -> None:
    client = SignedClient(emulator.url, signer, version=None)
    response = client.get("/my", headers={"X-Api-Version": "~6"})
    assert error_of(response)[:2] == (400, "InvalidVersion")
    response = client.get("/my", headers={"Api-Version": "~6"})
    assert response.status_code == 200
    # Accept-Version wins over X-Api-Version.
    response = client.get("/my", headers={"X-Api-Version": "~6", "Accept-Version": "~9"})
    assert response.status_code == 200
    client.close()


# --- routing -------------------------------------------------------------------------------


def test_unknown_path(plain: httpx.Client) -> None:
    response = plain.get("/my/keys/a/b/c")
    assert_early_error(response, (404, "ResourceNotFound", "/my/keys/a/b/c does not exist"))


def test_wrong_method_lists_the_allowed_ones(plain: httpx.Client) -> None:
    response = plain.delete("/my/keys")
    assert_early_error(response, (405, "MethodNotAllowedError", "DELETE is not allowed"))
    # PUT is SetRoleTags on every collection, as in CloudAPI.
    assert response.headers["allow"] == "GET, HEAD, POST, PUT"


def test_head_only_where_cloudapi_registers_it(plain: httpx.Client) -> None:
    assert plain.head("/my/datacenters").status_code == 405


def test_root_redirects_to_the_docs(plain: httpx.Client) -> None:
    response = plain.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "http://apidocs.tritondatacenter.com/cloudapi/"


def test_percent_encoded_path_parameters_are_decoded(client: SignedClient) -> None:
    fingerprint = client.signer.fingerprint
    encoded = fingerprint.replace(":", "%3A")
    response = client.get(f"/my/keys/{encoded}")
    assert response.status_code == 200
    assert response.json()["fingerprint"] == fingerprint


# --- headers -------------------------------------------------------------------------------


def test_standard_headers(client: SignedClient) -> None:
    response = client.get("/my/keys", headers={"Request-Id": "req-123"})
    headers = response.headers
    assert headers["server"] == "cloudapi/9.20.0"
    assert headers["api-version"] == "9.0.0"
    assert headers["request-id"] == "req-123"
    assert int(headers["response-time"]) >= 0
    assert headers["date"].endswith(" GMT")
    expected_md5 = base64.b64encode(hashlib.md5(response.content).digest()).decode()
    assert headers["content-md5"] == expected_md5
    assert headers["content-type"] == "application/json"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-headers"] == CORS_HEADERS
    assert headers["access-control-allow-methods"] == "GET, HEAD, POST, PUT"
    assert headers["access-control-expose-headers"] == "Api-Version, Request-Id, Response-Time"


def test_header_names_keep_their_case_on_the_wire(client: SignedClient) -> None:
    # Node writes names as restify sets them; a parser that lowercases them shows in curl -i.
    response = client.get("/my/keys")
    names = [name for name, _ in response.headers.raw]
    for expected in (b"Content-Type", b"Content-Length", b"Request-Id", b"Api-Version"):
        assert expected in names
    assert b"transfer-encoding" not in [name.lower() for name in names]
    assert int(response.headers["content-length"]) == len(response.content)


def test_request_id_falls_back_to_x_request_id_then_a_fresh_uuid(client: SignedClient) -> None:
    assert client.get("/my", headers={"X-Request-Id": "abc"}).headers["request-id"] == "abc"
    first = client.get("/my").headers["request-id"]
    second = client.get("/my").headers["request-id"]
    assert first != second
    assert len(first) == 36


def test_json_is_compact(client: SignedClient) -> None:
    body = client.get("/my").content
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()


def test_head_has_the_get_headers_and_no_body(client: SignedClient) -> None:
    get = client.get("/my/keys")
    head = client.head("/my/keys")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-md5"] == get.headers["content-md5"]


def test_accept_negotiation(client: SignedClient) -> None:
    assert client.get("/my", headers={"Accept": "*/*"}).status_code == 200
    response = client.get("/my", headers={"Accept": "text/html"})
    assert error_of(response)[:2] == (406, "NotAcceptableError")
    assert_reduced_headers(response)


# --- bodies --------------------------------------------------------------------------------


def test_bad_json_is_refused_before_authentication(plain: httpx.Client) -> None:
    response = plain.post(
        "/my", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    status, code, message = error_of(response)
    assert (status, code) == (400, "InvalidContent")
    assert message.startswith("Invalid JSON: ")
    assert_reduced_headers(response)


def test_oversized_body(plain: httpx.Client) -> None:
    payload = json.dumps({"email": "x" * 100_001}).encode()
    response = plain.post("/my", content=payload, headers={"Content-Type": "application/json"})
    assert error_of(response)[:2] == (413, "PayloadTooLargeError")


def test_wrong_content_md5(plain: httpx.Client) -> None:
    response = plain.post(
        "/my",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="},
    )
    assert error_of(response)[:2] == (400, "BadDigest")


def test_form_encoded_create_key_is_unsupported(plain: httpx.Client) -> None:
    response = plain.post("/my/keys", data={"key": "ssh-rsa AAAA x"})
    expected = (415, "UnsupportedMediaTypeError", "application/x-www-form-urlencoded")
    assert_early_error(response, expected)


def test_body_parameters_override_query_parameters(client: SignedClient) -> None:
    response = client.post(
        "/my", params={"companyName": "FromQuery"}, json={"companyName": "FromBody"}
    )
    assert response.json()["companyName"] == "FromBody"
    response = client.post("/my", params={"companyName": "OnlyQuery"})
    assert response.json()["companyName"] == "OnlyQuery"


def test_errors_after_authentication_have_full_headers(client: SignedClient) -> None:
    response = client.get("/my/keys/no-such-key")
    assert error_of(response) == (404, "ResourceNotFound", "no-such-key does not exist")
    assert response.headers["server"] == "cloudapi/9.20.0"
    assert "content-md5" in response.headers


# --- the emulator's own endpoints ----------------------------------------------------------


def test_openapi_lists_every_route(plain: httpx.Client) -> None:
    document = plain.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    operations = {
        op["operationId"]: (method, path)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }
    assert operations["GetAccount"] == ("get", "/{login}")
    assert operations["CreateKey"] == ("post", "/{login}/keys")
    # Placeholders are named as in CloudAPI's operation list (GetDatacenter's is ``:name``).
    assert operations["GetDatacenter"] == ("get", "/{login}/datacenters/{name}")
    assert operations["Ping"] == ("get", "/--ping")
    assert document["paths"]["/--ping"]["get"]["security"] == []
    assert document["paths"]["/{login}"]["get"]["security"] == [{"httpSignature": []}]
    get_key = document["paths"]["/{login}/keys/{key}"]["get"]
    assert [p["name"] for p in get_key["parameters"] if p["in"] == "path"] == ["login", "key"]
    assert get_key["x-cloudapi-versions"][-1] == "9.0.0"


def test_state_dump_shows_accounts(plain: httpx.Client) -> None:
    state = plain.get("/__emulator/state").json()
    assert state["datacenter"] == "us-test-1"
    assert "test" in {row["login"] for row in state["tables"]["accounts"]}


def test_unsigned_ping_on_the_second_datacenter(emulator: EmulatorServer) -> None:
    second = emulator.urls["us-test-2"]
    response = httpx.get(f"{second}/--ping")
    assert response.headers["triton-datacenter-name"] == "us-test-2"


def test_requests_signed_with_query_strings(client: SignedClient, signer: Signer) -> None:
    headers = signed_headers(signer, "GET", "/my/keys?sync=true")
    response = client.http.get("/my/keys?sync=true", headers=headers)
    assert response.status_code == 200


def test_a_crashing_handler_gives_internal_error_with_full_headers(
    emulator: EmulatorServer, signer: Signer
) -> None:
    def crash(call: Call) -> Reply:
        raise RuntimeError("handler bug")

    app = CloudAPIApp(
        emulator.db,
        emulator.config,
        "us-test-1",
        routes=[Route("Boom", "GET", "/{login}/boom", crash)],
    )
    headers = {k.lower(): v for k, v in signed_headers(signer, "GET", "/my/boom").items()}
    request = Incoming(
        method="GET",
        path="/my/boom",
        query_string="",
        headers=headers,
        body=b"",
        body_too_large=False,
        client_ip="127.0.0.1",
        started=time.monotonic(),
    )
    response = app.handle(request)
    assert response.status == 500
    assert json.loads(response.body) == {"code": "InternalError", "message": "Internal error"}
    assert response.header("Server") == "cloudapi/9.20.0"
