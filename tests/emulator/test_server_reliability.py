"""The emulator as a server people run: paths, reset, headers on every response, unserved
operations, command-line options, the data-directory lock and request limits."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from smartdc.emulator.app import CloudAPIApp, Incoming
from smartdc.emulator.context import EmulatorConfig
from smartdc.emulator.db import Database
from smartdc.emulator.routes import all_routes
from smartdc.emulator.server import (
    MAX_HEADER_BYTES,
    EmulatorServer,
    EmulatorSetupError,
    build_parser,
    main,
    read_public_key,
    register_accounts,
)
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient, Signer, signed_headers


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, TestKey]) -> Path:
    """A home directory with the rsa test key as ``~/.ssh/id_rsa.pub``."""
    directory = tmp_path / "home"
    (directory / ".ssh").mkdir(parents=True)
    shutil.copy(keys["rsa"].pub_path, directory / ".ssh" / "id_rsa.pub")
    monkeypatch.setenv("HOME", str(directory))
    return directory


def _identified(response: httpx.Response, request_id: str | None = None) -> None:
    """The headers every response carries, early errors included."""
    assert response.headers["server"] == "cloudapi/9.20.0"
    assert response.headers["api-version"] == "9.0.0"
    assert int(response.headers["response-time"]) >= 0
    if request_id is not None:
        assert response.headers["request-id"] == request_id
    else:
        assert len(response.headers["request-id"]) == 36


# --- "~" in key paths and the data directory ---------------------------------------------------


def test_tilde_in_server_key_paths_is_expanded(home: Path, keys: dict[str, TestKey]) -> None:
    assert read_public_key("~/.ssh/id_rsa.pub")[1] == "id_rsa"
    with EmulatorServer({"me": ["~/.ssh/id_rsa.pub"]}, provision_delay=0) as server:
        client = SignedClient(server.url, Signer(keys["rsa"], login="me"))
        assert [k["name"] for k in client.get("/my/keys").json()] == ["id_rsa"]
        client.close()


def test_tilde_in_the_data_dir_is_expanded(home: Path) -> None:
    with EmulatorServer({}, data_dir="~/emulator-state", provision_delay=0) as server:
        assert server.data_dir == home / "emulator-state"
    assert (home / "emulator-state" / "emulator.sqlite3").exists()


def test_tilde_in_a_key_option_that_the_shell_left_alone(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A quoted path, or --key=~/..., reaches the program unexpanded.
    assert main(["--port", "0", "--key", "~/.ssh/nope.pub"]) == 2
    assert f"public key file not found: {home}/.ssh/nope.pub" in capsys.readouterr().err


# --- reset puts back what the command line registered ----------------------------------------


def test_reset_restores_registered_keys_deleted_through_the_api(keys: dict[str, TestKey]) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {
        "alice": [keys["rsa"].pub_path, keys["ed25519"].pub_path]
    }
    with EmulatorServer(registry, provision_delay=0) as server:
        rsa = SignedClient(server.url, Signer(keys["rsa"], login="alice"))
        ed = SignedClient(server.url, Signer(keys["ed25519"], login="alice"))
        account_id = rsa.get("/my").json()["id"]
        assert ed.delete("/my/keys/rsa").status_code == 204
        assert rsa.get("/my").status_code == 401
        ed.post("/my/keys", json={"key": keys["ecdsa256"].pub_path.read_text(), "name": "new"})

        assert httpx.post(f"{server.url}/__emulator/reset").status_code == 204
        assert [k["name"] for k in rsa.get("/my/keys").json()] == ["rsa", "ed25519"]
        assert rsa.get("/my").json()["id"] == account_id

        # Both keys deleted, then the library's reset.
        assert rsa.delete("/my/keys/ed25519").status_code == 204
        assert rsa.delete("/my/keys/rsa").status_code == 204
        server.reset()
        assert [k["name"] for k in ed.get("/my/keys").json()] == ["rsa", "ed25519"]
        rsa.close()
        ed.close()


def test_reset_after_a_restart_restores_what_this_start_registered(
    tmp_path: Path, keys: dict[str, TestKey]
) -> None:
    first: dict[str, list[str | os.PathLike[str]]] = {"alice": [keys["rsa"].pub_path]}
    with EmulatorServer(first, data_dir=tmp_path, provision_delay=0):
        pass
    second: dict[str, list[str | os.PathLike[str]]] = {"bob": [keys["ed25519"].pub_path]}
    with EmulatorServer(second, data_dir=tmp_path, provision_delay=0) as server:
        bob = SignedClient(server.url, Signer(keys["ed25519"], login="bob"))
        assert bob.delete("/my/keys/ed25519").status_code == 204
        server.reset()
        assert [k["name"] for k in bob.get("/my/keys").json()] == ["ed25519"]
        bob.close()


# --- every response is identified; the body is read before the signature ---------------------


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("headers", "content", "expected"),
    [
        ({"Authorization": "Signature"}, b"", (400, "InvalidHeader")),
        (JSON, b'{"email": ', (400, "InvalidContent")),
        (JSON, json.dumps({"email": "x" * 100_001}).encode(), (413, "PayloadTooLargeError")),
    ],
)
def test_early_errors_carry_request_id_api_version_server_and_response_time(
    plain: httpx.Client, headers: dict[str, str], content: bytes, expected: tuple[int, str]
) -> None:
    response = plain.post("/my", headers={**headers, "Request-Id": "trace-me"}, content=content)
    assert error_of(response)[:2] == expected
    _identified(response, "trace-me")
    # Still sent before CloudAPI's full header set: no CORS headers.
    assert "access-control-allow-origin" not in response.headers


def test_routing_errors_get_a_fresh_request_id(plain: httpx.Client) -> None:
    first = plain.get("/my/keys/a/b/c")
    second = plain.delete("/my/keys")
    assert (first.status_code, second.status_code) == (404, 405)
    _identified(first)
    _identified(second)
    assert first.headers["request-id"] != second.headers["request-id"]


def test_a_bad_body_is_refused_before_the_signature_is_checked(plain: httpx.Client) -> None:
    # sdc-cloudapi lib/app.js parses the body (bodyParser) before signatureAuth runs, so an
    # unsigned request with a broken body is 400, not 401.
    response = plain.post("/my", content=b"{", headers={"Content-Type": "application/json"})
    assert error_of(response)[:2] == (400, "InvalidContent")


# --- operations the emulator does not serve --------------------------------------------------


def _incoming(method: str, path: str, headers: dict[str, str]) -> Incoming:
    return Incoming(
        method=method,
        path=path,
        query_string="",
        headers={k.lower(): v for k, v in headers.items()},
        body=b"",
        body_too_large=False,
        client_ip="127.0.0.1",
        started=time.monotonic(),
    )


def test_an_operation_left_out_of_the_route_table_answers_501(keys: dict[str, TestKey]) -> None:
    db = Database(None)
    register_accounts(db, {ACCOUNT: [keys["rsa"].pub_path]})
    routes = [route for route in all_routes() if route.operation != "ListKeys"]
    app = CloudAPIApp(db, EmulatorConfig(), "local-1", routes=routes)
    signer = Signer(keys["rsa"])

    response = app.handle(_incoming("GET", "/my/keys", signed_headers(signer, "GET", "/my/keys")))
    assert response.status == 501
    assert json.loads(response.body) == {
        "code": "NotImplementedError",
        "message": "ListKeys (GET /:login/keys) is not implemented by this emulator",
    }
    assert response.header("Request-Id")
    # Still authenticated first, like every route.
    assert app.handle(_incoming("GET", "/my/keys", {})).status == 401
    # The operations that are served keep working, and the 501 stays out of the OpenAPI.
    create = signed_headers(signer, "GET", "/my/keys/rsa")
    assert app.handle(_incoming("GET", "/my/keys/rsa", create)).status == 200
    assert "ListKeys" not in json.dumps(app.openapi)
    db.close()


def test_foreign_datacenters_answer_as_cloudapi_without_a_delegated_token(
    client: SignedClient,
) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, "/my/foreigndatacenters")
        assert error_of(response) == (
            403,
            "Forbidden",
            "method requires HTTP signature auth token delegated authorization",
        )
        assert response.headers["server"] == "cloudapi/9.20.0"
    response = client.get("/my/foreigndatacenters", headers={"X-Auth-Token": "token"})
    assert error_of(response) == (
        501,
        "NotImplementedError",
        "ListForeignDatacenters (GET /:login/foreigndatacenters) is not implemented by this "
        "emulator",
    )


def test_routes_cloudapi_no_longer_has_still_answer_405(client: SignedClient) -> None:
    # CloudAPI 9 dropped analytics; its PUT /:login/:resource role-tag route still matches.
    response = client.get("/my/analytics")
    assert error_of(response) == (405, "MethodNotAllowedError", "GET is not allowed")
    assert response.headers["allow"] == "PUT"


# --- command-line options ----------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("smartdc-emulator 0.1.0 ")
    assert "cloudapi/9.20.0" in out and "9.0.0" in out


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "smartdc.emulator.access"]


def test_access_log_has_a_line_per_request(
    keys: dict[str, TestKey], caplog: pytest.LogCaptureFixture
) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {ACCOUNT: [keys["rsa"].pub_path]}
    with EmulatorServer(registry, ["dc-9"], provision_delay=0, access_log=True) as server:
        client = SignedClient(server.url, Signer(keys["rsa"]))
        with caplog.at_level("INFO", logger="smartdc.emulator.access"):
            client.get("/my/keys", params={"x": "1"}, headers={"Request-Id": "r-1"})
            httpx.get(f"{server.url}/my/nowhere/at/all/x")
            # The line is written once the response has gone out, on the server's thread.
            deadline = time.monotonic() + 5
            while len(_access_lines(caplog)) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        client.close()
    lines = _access_lines(caplog)
    assert len(lines) == 2
    assert lines[0].startswith('dc-9 127.0.0.1 "GET /my/keys?x=1" 200 ')
    assert lines[0].endswith("ms r-1")
    assert lines[1].startswith('dc-9 127.0.0.1 "GET /my/nowhere/at/all/x" 404 ')


def test_no_access_log_by_default(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="smartdc.emulator.access"):
        httpx.get(f"{emulator.url}/--ping")
    assert not [r for r in caplog.records if r.name == "smartdc.emulator.access"]


def test_verbose_option_turns_the_access_log_on() -> None:
    assert build_parser().parse_args(["--verbose"]).verbose is True
    assert build_parser().parse_args(["-v"]).verbose is True
    assert build_parser().parse_args([]).verbose is False


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [
        ("0.0.0.0", None, True),
        ("::", None, True),
        ("192.0.2.1", None, True),
        ("0.0.0.0", "s3cret", False),
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
    ],
)
def test_listening_beyond_loopback_warns_about_the_control_plane(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str, token: str | None, warned: bool
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("")  # the start then fails before anything listens
    argv = ["--host", host, "--port", "0", "--data-dir", str(blocker)]
    assert main(argv + (["--control-token", token] if token else [])) == 2
    err = capsys.readouterr().err
    assert ("warning: listening on" in err) is warned
    if warned:
        assert "/__emulator/" in err and "--control-token" in err


def test_a_control_token_guards_the_control_plane_only(keys: dict[str, TestKey]) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {ACCOUNT: [keys["rsa"].pub_path]}
    with EmulatorServer(registry, provision_delay=0, control_token="s3cret") as server:
        refused = httpx.get(f"{server.url}/__emulator/state")
        assert error_of(refused)[:2] == (401, "Unauthorized")
        assert "X-Emulator-Token" in error_of(refused)[2]
        wrong = httpx.post(f"{server.url}/__emulator/reset", headers={"X-Emulator-Token": "no"})
        assert wrong.status_code == 401
        allowed = httpx.get(
            f"{server.url}/__emulator/state", headers={"X-Emulator-Token": "s3cret"}
        )
        assert allowed.status_code == 200
        client = SignedClient(server.url, Signer(keys["rsa"]))
        assert client.get("/my").status_code == 200
        client.close()


def test_key_without_account_is_documented() -> None:
    help_text = " ".join(build_parser().format_help().split())
    assert "Keys before the first --account go to the first account" in help_text
    assert "with no --account at all to an account named demo" in help_text


def test_an_account_named_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--port", "0", "--account", "alice", "--account", "bob", "--account", "alice"])
    assert caught.value.code == 2
    assert "--account alice is given more than once" in capsys.readouterr().err


def test_a_key_given_twice_is_refused(
    tmp_path: Path, keys: dict[str, TestKey], capsys: pytest.CaptureFixture[str]
) -> None:
    pub = str(keys["rsa"].pub_path)
    assert main(["--port", "0", "--account", "alice", "--key", pub, "--key", pub]) == 2
    assert f"account alice: key {pub} is given more than once" in capsys.readouterr().err
    copy = tmp_path / "copy.pub"
    shutil.copy(pub, copy)
    assert main(["--port", "0", "--account", "alice", "--key", pub, "--key", str(copy)]) == 2
    assert f"account alice: {pub} and {copy} are the same key" in capsys.readouterr().err


# --- the data-directory lock -------------------------------------------------------------------


def test_two_emulators_cannot_share_a_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with EmulatorServer({}, data_dir=tmp_path, provision_delay=0):
        second = EmulatorServer({}, data_dir=tmp_path, provision_delay=0)
        with pytest.raises(EmulatorSetupError) as caught:
            second.start()
        assert f"data directory {tmp_path} is in use by another emulator (pid {os.getpid()})" in (
            str(caught.value)
        )
        assert main(["--port", "0", "--data-dir", str(tmp_path)]) == 2
        assert "is in use by another emulator" in capsys.readouterr().err
    # Free again once the first has stopped.
    with EmulatorServer({}, data_dir=tmp_path, provision_delay=0) as third:
        assert httpx.get(f"{third.url}/--ping").status_code == 200


# --- request limits ----------------------------------------------------------------------------


def test_an_oversized_request_head_is_refused_with_431(plain: httpx.Client) -> None:
    response = plain.get("/my", headers={"X-Padding": "a" * MAX_HEADER_BYTES})
    assert response.status_code == 431
    assert response.content == b""
    _identified(response)
    # Just under the limit is fine (401: it is not signed).
    assert plain.get("/my", headers={"X-Padding": "a" * 7000}).status_code == 401


def test_json_nested_too_deeply_is_invalid_content(client: SignedClient) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    response = client.post(
        "/my/machines", content=deep, headers={"Content-Type": "application/json"}
    )
    status, code, message = error_of(response)
    assert (status, code) == (400, "InvalidContent")
    assert message == "Invalid JSON: arrays and objects nest deeper than 512 levels"
    # Brackets inside strings do not count.
    text = json.dumps({"companyName": "[" * 600})
    response = client.post(
        "/my", content=text.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200


def test_list_limits_are_checked_as_cloudapi_does(client: SignedClient) -> None:
    for limit in ("0", "1001"):
        status, code, _ = error_of(client.get("/my/machines", params={"limit": limit}))
        assert (status, code) == (409, "ValidationFailed")
    assert client.get("/my/machines", params={"limit": "1000"}).status_code == 200
