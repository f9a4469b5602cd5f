"""The library when the server, the network or the caller is not what it expects: a web page
instead of CloudAPI, a passphrase of the wrong type, an unlisted datacenter, a 410, signatures
in reprs, long Retry-After values, an unreachable server, asynchronous writes, bad create
arguments, duplicate snapshots, agent and TLS defaults."""

from __future__ import annotations

import datetime
import http.server
import io
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smartdc import CloudAPI
from smartdc.auth.httpsig import parse_authorization
from smartdc.errors import (
    CloudAPIError,
    ConfigError,
    ConnectError,
    GoneError,
    LocalFileError,
    MachineGoneError,
    NotFoundError,
    ResourceNotFoundError,
    ScriptFileError,
    ServerUnreachableError,
    ServiceUnavailableError,
    SigningError,
    SnapshotExistsError,
    TooManyRequestsError,
    UnexpectedResponseError,
    WaitTimeoutError,
    WrongPassphraseError,
)
from smartdc.objects import KNOWN_LOCATIONS, DataCenter, Machine
from smartdc.objects import machine as machine_module
from smartdc.transport import RetryPolicy
from smartdc.wait import wait_for
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import ACCOUNT, URL, Recorder, body_of, make_api, reply

MID = "3f8c9a8e-6c0b-4a5e-9d7c-1a2b3c4d5e6f"
FAST = RetryPolicy(retries=2, base_delay=0.001, max_delay=0.005)


# --- helpers -------------------------------------------------------------------------------------


class _Answer(http.server.BaseHTTPRequestHandler):
    """Answers every request with the server's ``status``, ``content_type`` and ``body``."""

    def _answer(self) -> None:
        server: Any = self.server
        self.send_response(server.status)
        self.send_header("Content-Type", server.content_type)
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(server.body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(body, content_type, tls=None)`` runs a tiny HTTP(S) server; returns its URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(body: bytes, content_type: str, tls: ssl.SSLContext | None = None) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
        server.status = 200  # type: ignore[attr-defined]
        server.content_type = content_type  # type: ignore[attr-defined]
        server.body = body  # type: ignore[attr-defined]
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls is not None else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def datacenter(key: TestKey, recorder: Recorder, **options: Any) -> DataCenter:
    location = options.pop("location", URL)
    api = make_api(key, recorder, url=location)
    return DataCenter(location=location, key_id=f"/{ACCOUNT}/keys/{key.md5}", api=api, **options)


def machine_data(**overrides: Any) -> dict[str, Any]:
    return {
        "id": MID,
        "name": "web",
        "state": "running",
        "metadata": {"role": "old"},
        "tags": {"env": "old"},
        **overrides,
    }


# --- a 2xx answer that is not CloudAPI JSON ------------------------------------------------------

PORTAL = b"<!DOCTYPE html><html><head><title>Sign in - Cloud Portal</title></head></html>"


def test_a_web_page_instead_of_cloudapi_raises_naming_the_url_and_type(
    keys: dict[str, TestKey], serve: Any
) -> None:
    url = serve(PORTAL, "text/html; charset=utf-8")
    key = keys["ed25519"]
    api = CloudAPI(url, ACCOUNT, key_file=key.path, allow_agent=False)
    with api, pytest.raises(UnexpectedResponseError) as caught:
        api.list_keys()
    error = caught.value
    assert error.url == f"{url}/{ACCOUNT}/keys"
    assert (error.status, error.content_type) == (200, "text/html")
    assert f"{url}/{ACCOUNT}/keys" in str(error) and "text/html" in str(error)
    assert "Cloud Portal" in str(error)  # enough of the page to recognise it


def test_the_object_layer_sees_the_same_error(keys: dict[str, TestKey], serve: Any) -> None:
    url = serve(PORTAL, "text/html")
    key = keys["ed25519"]
    dc = DataCenter(location=url, key_id=f"/{ACCOUNT}/keys/{key.md5}", secret=key.path)
    with dc, pytest.raises(UnexpectedResponseError, match="text/html"):
        dc.keys()


def test_json_lines_and_asked_for_text_still_come_back(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(200, b'{"a":1}\n{"b":2}\n', {"content-type": "application/x-json-stream"}),
        reply(200, b"plain", {"content-type": "text/plain"}),
        reply(200, b"plain", {"content-type": "text/plain"}),
    )
    with make_api(keys["rsa"], recorder) as api:
        assert api.request("POST", "machines/x/migrate") == '{"a":1}\n{"b":2}\n'
        assert api.request("GET", "machines/x/tags/t", headers={"Accept": "text/plain"}) == "plain"
        with pytest.raises(UnexpectedResponseError, match="text/plain"):
            api.request("GET", "machines/x/tags/t")
        assert api.last_response is not None and api.last_response.status == 200


# --- passphrases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa_encrypted", "rsa"])
@pytest.mark.parametrize("passphrase", [1234, 12.5, ["correct horse"]])
def test_a_passphrase_of_the_wrong_type_is_a_type_error(
    keys: dict[str, TestKey], name: str, passphrase: Any
) -> None:
    key = keys[name]
    with pytest.raises(TypeError) as caught:
        CloudAPI(URL, ACCOUNT, key_file=key.path, passphrase=passphrase, allow_agent=False)
    assert not isinstance(caught.value, WrongPassphraseError)
    assert "str, bytes or a callable" in str(caught.value)
    assert str(passphrase) not in str(caught.value)  # the value may be the secret itself
    with pytest.raises(TypeError):
        DataCenter(
            location=URL,
            key_id=f"/{ACCOUNT}/keys/{key.md5}",
            secret=key.path,
            passphrase=passphrase,
        )


def test_a_passphrase_callback_receives_the_prompt_text(keys: dict[str, TestKey]) -> None:
    key = keys["rsa_encrypted"]
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return str(key.passphrase)

    CloudAPI(URL, ACCOUNT, key_file=key.path, passphrase=answer, allow_agent=False)
    assert prompts == [f"Enter passphrase for {key.path}: "]
    numeric: Any = lambda prompt: 1234  # noqa: E731 - a callback answering with a number
    with pytest.raises(TypeError, match="return a str, bytes or None"):
        CloudAPI(URL, ACCOUNT, key_file=key.path, passphrase=numeric, allow_agent=False)


# --- DataCenter.datacenter(name) -----------------------------------------------------------------


def test_an_unlisted_name_is_refused_once_the_cloud_has_answered(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(200, {"lab-1": URL, "lab-2": "https://lab-2.example.com"}))
    dc = datacenter(keys["ed25519"], recorder)
    with pytest.raises(ConfigError) as caught:
        dc.datacenter("us-east-1")  # in the built-in table, but not this cloud's
    assert "lab-1" in str(caught.value) and "lab-2" in str(caught.value)
    assert dc.datacenter("lab-2").base_url == "https://lab-2.example.com"
    hosts = {request.url.host for request in recorder.requests}
    assert hosts == {"cloudapi.test"}  # nothing was sent anywhere else


def test_the_builtin_table_applies_only_on_its_own_cloud(keys: dict[str, TestKey]) -> None:
    joyent = KNOWN_LOCATIONS["us-west-1"]
    down = Recorder(fallback=lambda request: reply(500, {"code": "InternalError"}))
    dc = datacenter(keys["ed25519"], down, location=joyent)
    assert dc.datacenter("us-east-1").base_url == KNOWN_LOCATIONS["us-east-1"]
    listed = Recorder().add(reply(200, {"us-west-1": joyent}))
    with pytest.raises(ConfigError):
        datacenter(keys["ed25519"], listed, location=joyent).datacenter("us-east-1")
    private = datacenter(keys["ed25519"], Recorder(fallback=down.fallback))
    with pytest.raises(CloudAPIError):
        private.datacenter("us-east-1")


# --- 410 Gone ------------------------------------------------------------------------------------


def test_a_gone_machine_is_named_and_caught_with_not_found(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(410, {"id": MID, "name": "web", "state": "deleted"}),
        reply(410, MID),
        reply(404, {"code": "ResourceNotFound", "message": "VM not found"}),
    )
    with make_api(keys["rsa"], recorder) as api:
        with pytest.raises(NotFoundError) as first:
            api.get_machine(MID)
        with pytest.raises(MachineGoneError) as second:
            api.delete_machine(MID)
        with pytest.raises(NotFoundError) as third:
            api.get_machine(MID)
    assert isinstance(first.value, MachineGoneError)
    assert (first.value.machine_id, first.value.machine_name) == (MID, "web")
    assert f"machine web ({MID}) has been deleted" in str(first.value)
    assert second.value.machine_id == MID and MID in str(second.value)
    assert isinstance(third.value, ResourceNotFoundError)


def test_other_410s_are_not_machine_gone(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(410, b"<html>gone</html>", {"content-type": "text/html"}))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(GoneError) as caught:
        api.get_image("2b683a82-a066-11e3-97ab-2faa44701c5a")
    assert not isinstance(caught.value, MachineGoneError)
    assert isinstance(caught.value, NotFoundError) and caught.value.status == 410


def test_a_gone_machine_named_by_the_datacenter_keeps_its_identity(
    keys: dict[str, TestKey],
) -> None:
    recorder = Recorder().add(reply(410, {"id": MID, "name": "web", "state": "deleted"}))
    with pytest.raises(MachineGoneError) as caught:
        datacenter(keys["rsa"], recorder).machine(MID)
    assert caught.value.machine_id == MID and "web" in str(caught.value)


# --- signatures in reprs -------------------------------------------------------------------------


def _signature_of(authorization: str) -> str:
    found = re.search(r'signature="([^"]+)"', authorization)
    assert found is not None
    return found[1]


def test_websocket_requests_never_show_their_signature(keys: dict[str, TestKey]) -> None:
    with make_api(keys["rsa"], Recorder()) as api:
        for request in (api.connect_machine_vnc(MID), api.get_changefeed()):
            signature = _signature_of(request.headers["Authorization"])
            assert len(signature) > 40
            for shown in (repr(request), str(request), f"{request}", f"{[request]}"):
                assert signature not in shown
                assert "<redacted>" in shown and api.key_id in shown
            assert request.headers["Authorization"].endswith(f'signature="{signature}"')


def test_parsed_signatures_and_responses_hide_their_secrets(keys: dict[str, TestKey]) -> None:
    secret = "tOpSeCrEt-access-key-secret"
    recorder = Recorder().add(reply(201, {"accesskeyid": "AK1", "accesskeysecret": secret}))
    with make_api(keys["rsa"], recorder) as api:
        api.create_access_key()
        assert secret not in repr(api.last_response)
        signature = _signature_of(recorder.last.headers["authorization"])
        parsed = parse_authorization(
            recorder.last.headers["authorization"], recorder.last.headers, clock_skew=None
        )
    assert signature not in repr(parsed) and signature not in str(parsed)


# --- retries -------------------------------------------------------------------------------------


def test_retries_are_tuned_through_config(keys: dict[str, TestKey]) -> None:
    recorder = Recorder(fallback=lambda request: reply(429, {"code": "TooManyRequestsError"}))
    dc = datacenter(keys["rsa"], recorder, config={"retries": 0})
    with pytest.raises(TooManyRequestsError):
        dc.me()
    assert len(recorder.requests) == 1
    tuned = {"retries": 5, "retry_delay": 0.25, "retry_max_delay": 4}
    built = DataCenter(
        location=URL,
        key_id=f"/{ACCOUNT}/keys/{keys['rsa'].md5}",
        secret=keys["rsa"].path,
        config=tuned,
    )
    expected = RetryPolicy(retries=5, base_delay=0.25, max_delay=4)
    assert built.api.retry_policy == expected
    assert built.datacenter("https://other.example.com").api.retry_policy == expected
    for bad in ({"retries": -1}, {"retries": "3"}, {"retry_delay": -1}, {"retry_max_dela": 1}):
        with pytest.raises(ConfigError):
            DataCenter(
                location=URL,
                key_id=f"/{ACCOUNT}/keys/{keys['rsa'].md5}",
                secret=keys["rsa"].path,
                config=bad,
            )


def test_a_retry_after_beyond_the_cap_is_said_and_not_slept(keys: dict[str, TestKey]) -> None:
    echo = io.StringIO()
    unavailable = reply(
        503, {"code": "ServiceUnavailableError", "message": "read-only"}, {"retry-after": "120"}
    )
    recorder = Recorder().add(unavailable, reply(200, {}))
    with make_api(keys["rsa"], recorder, debug=echo) as api:
        api.retry_policy = RetryPolicy(retries=3, base_delay=0.001, max_delay=0.05)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError) as caught:
            api.get_account()
        assert time.monotonic() - started < 1
    assert len(recorder.requests) == 1
    assert caught.value.hint is not None and "120 s" in caught.value.hint
    assert "Retry-After 120 s is longer than the retry cap" in echo.getvalue()


def test_a_wait_on_an_unreachable_server_gives_up_early(keys: dict[str, TestKey]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    key = keys["ed25519"]
    with CloudAPI(url, ACCOUNT, key_file=key.path, allow_agent=False) as api:
        api.retry_policy = FAST
        started = time.monotonic()
        with pytest.raises(ServerUnreachableError) as caught:
            wait_for(lambda: api.get_machine(MID), lambda m: False, interval=0.01, timeout=8)
        assert time.monotonic() - started < 5
    assert "did not answer 5 polls in a row" in str(caught.value)
    assert "could not connect" in str(caught.value)
    assert isinstance(caught.value.__cause__, ConnectError)


def test_a_machine_poll_on_an_unreachable_server_gives_up_early(keys: dict[str, TestKey]) -> None:
    key = keys["ed25519"]
    url = f"http://127.0.0.1:{closed_port()}"
    with DataCenter(location=url, key_id=f"/{ACCOUNT}/keys/{key.md5}", secret=key.path) as dc:
        dc.api.retry_policy = FAST
        m = Machine(dc, data=machine_data(state="provisioning"))
        with pytest.raises(ServerUnreachableError, match="did not answer"):
            m.poll_until("running", interval=0.01, timeout=8)


def test_answers_between_failures_restart_the_count() -> None:
    down: list[Exception | str] = [ConnectError("down")] * 4
    answers = [*down, "up", *down, "done"]

    def fetch() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(fetch, lambda value: value == "done", interval=0, timeout=30) == "done"


# --- asynchronous metadata and tag writes --------------------------------------------------------


def test_own_metadata_writes_do_not_flip_back_on_refresh(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(200, {"role": "new"}),  # UpdateMachineMetadata: the merged metadata
        reply(200, machine_data()),  # GetMachine before the job ran
        reply(200, machine_data(metadata={"role": "new"})),  # the job ran
        reply(200, machine_data(metadata={"role": "later"})),  # someone else changed it
    )
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    assert m.update_metadata(role="new") == {"role": "new"}
    assert m.metadata == {"role": "new"}
    assert m.refresh().metadata == {"role": "new"}
    assert m.refresh().metadata == {"role": "new"}
    assert m.refresh().metadata == {"role": "later"}  # once shown, the server is the truth


def test_own_tag_writes_do_not_flip_back(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(200, {"env": "old", "tier": "web"}),  # AddMachineTags
        reply(204),  # DeleteMachineTag env
        reply(200, {"env": "old"}),  # ListMachineTags before the jobs ran
        reply(200, {"only": "this"}),  # ReplaceMachineTags
        reply(200, machine_data(tags={"env": "old", "tier": "web"})),  # GetMachine, stale
    )
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    m.add_tags(tier="web")
    m.delete_tag("env")
    assert m.tags == {"tier": "web"}
    assert m.get_tags() == {"env": "old"}  # what CloudAPI answers ...
    assert m.tags == {"tier": "web"}  # ... does not undo the cached writes
    m.replace_tags(only="this")
    assert m.refresh().tags == {"only": "this"}


def test_pending_writes_are_forgotten_after_a_while(
    keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine_module, "PENDING_WRITE_TTL", -1.0)
    recorder = Recorder().add(reply(200, {"role": "new"}), reply(200, machine_data()))
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    m.update_metadata(role="new")
    assert m.refresh().metadata == {"role": "old"}


def test_wait_for_writes_polls_until_cloudapi_shows_them(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(200, {"role": "new", "x": "1"}),  # UpdateMachineMetadata
        reply(200, {"env": "old", "t": True}),  # AddMachineTags
        reply(200, {"role": "old"}),  # ListMachineMetadata, before the job ran
        reply(200, {"role": "old"}),
        reply(200, {"role": "new", "x": "1"}),
        reply(200, {"env": "old"}),  # ListMachineTags, before the job ran
        reply(200, {"env": "old", "t": True}),
    )
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    m.update_metadata({"role": "new"}, x="1")
    m.add_tags(t=True)
    assert m.wait_for_writes() is m
    assert [r.url.path.rsplit("/", 1)[-1] for r in recorder.requests[2:]] == [
        *["metadata"] * 3,
        *["tags"] * 2,
    ]
    assert (m.metadata, m.tags) == ({"role": "new", "x": "1"}, {"env": "old", "t": True})
    m.wait_for_writes()  # nothing left to wait for: no request
    assert len(recorder.requests) == 7


def test_a_metadata_key_named_wait_is_still_metadata(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(200, {"wait": "yes"}))
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    m.update_metadata(**{"wait": "yes"})
    assert body_of(recorder.last) == {"wait": "yes"}


def test_wait_for_writes_gives_up_at_the_deadline(keys: dict[str, TestKey]) -> None:
    recorder = Recorder(fallback=lambda request: reply(200, {"env": "old"}))
    recorder.add(reply(204))
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    m.delete_tag("env")
    with pytest.raises(WaitTimeoutError, match="to show its new tags"):
        m.wait_for_writes(interval=0.01, timeout=0.2)


# --- create_machine and snapshots ----------------------------------------------------------------


def test_create_machine_rejects_unknown_arguments(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api:
        with pytest.raises(TypeError, match="firewall") as caught:
            api.create_machine(image=MID, package="small", firewall=True)
        assert "firewall_enabled" in str(caught.value)  # what was meant is listed
        flat: dict[str, Any] = {"metadata.a": "1", "tag.b": "2"}
        api.create_machine(image=MID, package="small", encrypted=True, **flat)
    assert len(recorder.requests) == 1
    assert body_of(recorder.last) == {
        "image": MID,
        "package": "small",
        "encrypted": True,
        "metadata.a": "1",
        "tag.b": "2",
    }
    dc = datacenter(keys["rsa"], recorder)
    with pytest.raises(TypeError, match="nmae"):
        dc.create_machine(package="small", dataset=MID, nmae="web")
    assert len(recorder.requests) == 1


def test_a_missing_boot_script_is_a_typed_error(keys: dict[str, TestKey], tmp_path: Path) -> None:
    recorder = Recorder()
    dc = datacenter(keys["rsa"], recorder)
    missing = tmp_path / "boot.sh"
    with pytest.raises(ScriptFileError) as caught:
        dc.create_machine(package="small", dataset=MID, boot_script=missing)
    assert isinstance(caught.value, LocalFileError) and caught.value.path == str(missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(ScriptFileError):
        Machine(dc, data=machine_data()).set_boot_script(tmp_path)
    assert recorder.requests == []


def test_a_duplicate_snapshot_name_is_refused(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(200, {"name": "before", "state": "created"}),
        reply(404, {"code": "ResourceNotFound", "message": "Snapshot does not exist"}),
        reply(201, {"name": "after", "state": "queued"}),
        reply(200, {"name": "gone", "state": "deleted"}),
        reply(201, {"name": "gone", "state": "queued"}),
    )
    m = Machine(datacenter(keys["rsa"], recorder), data=machine_data())
    with pytest.raises(SnapshotExistsError, match="'before'"):
        m.create_snapshot("before")
    assert [r.method for r in recorder.requests] == ["GET"]
    assert m.create_snapshot("after").state == "queued"
    assert m.create_snapshot("gone").name == "gone"  # a deleted snapshot's name is free
    assert [r.method for r in recorder.requests] == ["GET", "GET", "POST", "GET", "POST"]


# --- agent and TLS defaults ----------------------------------------------------------------------


def test_without_a_key_file_the_message_says_how_to_use_the_agent(
    keys: dict[str, TestKey], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    key = keys["ed25519"]
    with pytest.raises(SigningError) as caught:
        DataCenter(location=URL, key_id=f"/{ACCOUNT}/keys/{key.md5}", secret=None)
    assert "allow_agent=True" in str(caught.value)


def _tls_pair(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA file and a server context whose certificate (for 127.0.0.1) that CA signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smartdc test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return ca_file, context


def test_tls_is_verified_by_default_and_a_ca_bundle_is_accepted_by_both(
    keys: dict[str, TestKey], tmp_path: Path, serve: Any
) -> None:
    ca_file, context = _tls_pair(tmp_path)
    url = serve(
        json.dumps({"ping": "pong", "login": ACCOUNT}).encode(), "application/json", tls=context
    )
    key = keys["ed25519"]
    key_id = f"/{ACCOUNT}/keys/{key.md5}"
    api = CloudAPI(url, ACCOUNT, key_file=key.path, allow_agent=False)
    with api, pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        api.ping()
    dc = DataCenter(location=url, key_id=key_id, secret=key.path)
    with dc, pytest.raises(ConnectError, match="verify="):
        dc.me()
    with CloudAPI(url, ACCOUNT, key_file=key.path, allow_agent=False, verify=str(ca_file)) as api:
        assert api.ping()["ping"] == "pong"
    with DataCenter(location=url, key_id=key_id, secret=key.path, verify=str(ca_file)) as dc:
        assert dc.me()["login"] == ACCOUNT
        with dc.datacenter(url) as other:  # the bundle goes along
            assert other.me()["login"] == ACCOUNT
    with pytest.raises(ConfigError, match="CA bundle"):
        DataCenter(location=url, key_id=key_id, secret=key.path, verify=str(tmp_path / "no"))
