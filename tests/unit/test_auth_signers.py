"""Key-file signers, the signer chain, RequestSigner and the httpx adapter."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from smartdc.auth import (
    HTTPSignatureAuth,
    KeyFileSigner,
    PrivateKeySigner,
    RequestSigner,
    Signer,
    load_private_key,
    make_signer,
    parse_authorization,
    parse_http_date,
    verify_request,
)
from smartdc.errors import (
    AgentUnavailableError,
    ConfigError,
    FingerprintMismatchError,
    KeyFileError,
    PassphraseRequiredError,
    SigningError,
)
from tests.conftest import PASSPHRASE, TestKey

DATE = "Sat, 28 Nov 2026 22:11:00 GMT"


def verified(headers: dict[str, str], signer: Signer, method: str, target: str) -> bool:
    """Whether a server would accept these request headers, signed by ``signer``."""
    lowered = {name.lower(): value for name, value in headers.items()}
    parsed = parse_authorization(
        lowered["authorization"], lowered, now=parse_http_date(lowered["date"])
    )
    return verify_request(parsed, signer.public_key, method, target, lowered)


# --- key-file signers ------------------------------------------------------------------------


def test_key_file_signer(keys: dict[str, TestKey]) -> None:
    key = keys["ecdsa384"]
    signer = KeyFileSigner(key.path)
    assert isinstance(signer, Signer)
    assert signer.path == key.path
    assert signer.md5_fingerprint == key.md5
    assert signer.sha256_fingerprint == key.sha256
    assert signer.algorithm == "ecdsa-sha512"
    assert key.md5 in repr(signer)


def test_key_file_signer_fails_at_construction(keys: dict[str, TestKey], tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        KeyFileSigner(tmp_path / "missing")
    with pytest.raises(PassphraseRequiredError):
        KeyFileSigner(keys["rsa_encrypted"].path)
    assert KeyFileSigner(keys["rsa_encrypted"].path, PASSPHRASE).md5_fingerprint == (
        keys["rsa_encrypted"].md5
    )


# --- make_signer -----------------------------------------------------------------------------


def test_make_signer_with_key_file_and_matching_fingerprints(keys: dict[str, TestKey]) -> None:
    key = keys["ed25519"]
    for key_id in (
        None,
        key.md5,
        f"MD5:{key.md5}",
        key.sha256,
        f"/a/keys/{key.md5}",
        "/a/keys/name",
    ):
        signer = make_signer(key_id, key_file=key.path, allow_agent=False, key_dirs=())
        assert signer.md5_fingerprint == key.md5, key_id


def test_make_signer_fingerprint_mismatch_names_both(keys: dict[str, TestKey]) -> None:
    key, other = keys["ed25519"], keys["rsa"]
    with pytest.raises(FingerprintMismatchError) as caught:
        make_signer(f"/a/keys/{other.sha256}", key_file=key.path)
    assert key.md5 in str(caught.value)
    assert other.sha256 in str(caught.value)


def test_make_signer_key_name_without_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"by name.*fingerprint"):
        make_signer("/acct/keys/laptop", allow_agent=False, key_dirs=())
    with pytest.raises(ConfigError, match="nothing to sign with"):
        make_signer(None)
    with pytest.raises(ConfigError, match="invalid key id"):
        make_signer("/acct/nokeys")


def test_make_signer_finds_the_key_file_in_key_dirs(
    keys: dict[str, TestKey], tmp_path: Path
) -> None:
    for name in ("rsa", "ecdsa521", "rsa_encrypted"):
        shutil.copy(keys[name].path, tmp_path / name)
    (tmp_path / "config").write_text("Host *\n")
    shutil.copy(keys["ecdsa521"].pub_path, tmp_path / "ecdsa521.pub")
    # Found through its .pub file:
    signer = make_signer(keys["ecdsa521"].sha256, allow_agent=False, key_dirs=[tmp_path])
    assert isinstance(signer, KeyFileSigner)
    assert signer.path == tmp_path / "ecdsa521"
    # Found through the OpenSSH header of an encrypted key; only that one is decrypted.
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return PASSPHRASE

    signer = make_signer(
        f"/a/keys/{keys['rsa_encrypted'].md5}",
        allow_agent=False,
        key_dirs=[tmp_path],
        passphrase=ask,
    )
    assert signer.md5_fingerprint == keys["rsa_encrypted"].md5
    assert asked == [f"Enter passphrase for {tmp_path / 'rsa_encrypted'}: "]


def test_make_signer_lists_everything_tried(keys: dict[str, TestKey], tmp_path: Path) -> None:
    wanted = keys["ed25519"].md5
    with pytest.raises(SigningError) as caught:
        make_signer(wanted, allow_agent=False, key_dirs=[tmp_path, tmp_path / "missing"])
    message = str(caught.value)
    assert wanted in message
    assert "ssh-agent: not used" in message
    assert str(tmp_path) in message
    assert str(tmp_path / "missing") in message


def test_make_signer_reports_an_unavailable_agent(
    keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AgentUnavailableError, match="SSH_AUTH_SOCK is not set"):
        make_signer(keys["rsa"].md5, key_dirs=())


# --- RequestSigner ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["md5", "md5-prefixed", "sha256", "upper"])
def test_key_id_sent_with_md5_fingerprint(keys: dict[str, TestKey], form: str) -> None:
    key = keys["rsa_pkcs8"]
    given = {
        "md5": key.md5,
        "md5-prefixed": f"MD5:{key.md5}",
        "sha256": key.sha256,
        "upper": key.md5.upper(),
    }[form]
    signer = RequestSigner(KeyFileSigner(key.path), f"/acct/users/bob/keys/{given}")
    assert signer.key_id == f"/acct/users/bob/keys/{key.md5}"
    headers = signer.headers_for("GET", "/acct/machines", date=DATE)
    assert headers["Date"] == DATE
    assert f'keyId="/acct/users/bob/keys/{key.md5}"' in headers["Authorization"]


def test_key_names_are_sent_unchanged(keys: dict[str, TestKey]) -> None:
    signer = RequestSigner(KeyFileSigner(keys["rsa"].path), "/acct/keys/laptop")
    assert signer.key_id == "/acct/keys/laptop"


def test_request_signer_rejects_a_foreign_fingerprint(keys: dict[str, TestKey]) -> None:
    with pytest.raises(FingerprintMismatchError):
        RequestSigner(KeyFileSigner(keys["rsa"].path), f"/acct/keys/{keys['ed25519'].sha256}")


def test_request_signer_config_errors(keys: dict[str, TestKey]) -> None:
    signer = KeyFileSigner(keys["rsa"].path)
    with pytest.raises(ConfigError, match="invalid key id"):
        RequestSigner(signer, keys["rsa"].md5)
    with pytest.raises(ConfigError, match="must include 'date'"):
        RequestSigner(signer, "/a/keys/k", headers=["(request-target)"])


class _CountingSigner(PrivateKeySigner):
    """A key-file signer that counts its signatures."""

    def __init__(self, path: Path) -> None:
        super().__init__(load_private_key(path))
        self.signatures = 0

    def sign(self, data: bytes) -> bytes:
        self.signatures += 1
        return super().sign(data)


def test_a_request_repeated_with_the_same_date_is_signed_once(keys: dict[str, TestKey]) -> None:
    # ECDSA signs at random: a reused signature is the same header, a fresh one is not.
    signer = _CountingSigner(keys["ecdsa256"].path)
    request_signer = RequestSigner(signer, "/acct/keys/laptop")
    first = request_signer.headers_for("GET", "/acct/machines", date=DATE)
    again = request_signer.headers_for("GET", "/acct/machines", date=DATE)
    assert again == first
    assert signer.signatures == 1
    assert verified(again, signer, "GET", "/acct/machines")
    elsewhere = request_signer.headers_for("GET", "/acct", date=DATE)
    assert signer.signatures == 2
    assert verified(elsewhere, signer, "GET", "/acct")
    later = request_signer.headers_for(
        "GET", "/acct/machines", date="Sat, 28 Nov 2026 22:11:01 GMT"
    )
    assert signer.signatures == 3
    assert later["Authorization"] != first["Authorization"]
    assert verified(later, signer, "GET", "/acct/machines")


def test_a_request_signer_keeps_a_bounded_number_of_signatures(keys: dict[str, TestKey]) -> None:
    signer = _CountingSigner(keys["ed25519"].path)
    request_signer = RequestSigner(signer, "/acct/keys/laptop")
    for n in range(300):
        request_signer.headers_for("GET", f"/acct/machines/{n}", date=DATE)
    assert signer.signatures == 300
    assert len(request_signer._signed) <= 256
    request_signer.headers_for("GET", "/acct/machines/299", date=DATE)
    assert signer.signatures == 300


@pytest.mark.parametrize("headers", [("(request-target)", "date"), ("date",)])
@pytest.mark.parametrize("name", ["rsa", "ecdsa384", "ed25519"])
def test_headers_for_verifies(
    keys: dict[str, TestKey], name: str, headers: tuple[str, ...]
) -> None:
    key = keys[name]
    signer = KeyFileSigner(key.path)
    request_signer = RequestSigner(signer, f"/acct/keys/{key.sha256}", headers)
    made = request_signer.headers_for("POST", "/acct/machines/x?action=stop", date=DATE)
    assert f'headers="{" ".join(headers)}"' in made["Authorization"]
    assert verified(made, signer, "POST", "/acct/machines/x?action=stop")
    if len(headers) == 2:
        assert not verified(made, signer, "POST", "/acct/machines/y?action=stop")


def test_headers_for_extra_signed_headers(keys: dict[str, TestKey]) -> None:
    signer = PrivateKeySigner(load_private_key(keys["ed25519"].path))
    request_signer = RequestSigner(signer, "/a/keys/k", ["date", "content-md5"])
    made = request_signer.headers_for("PUT", "/a", date=DATE, extra={"Content-MD5": "abc=="})
    assert verified({**made, "content-md5": "abc=="}, signer, "PUT", "/a")
    with pytest.raises(SigningError, match="content-md5 was not in the request"):
        request_signer.headers_for("PUT", "/a", date=DATE)


def test_headers_for_defaults_date_to_now(keys: dict[str, TestKey]) -> None:
    request_signer = RequestSigner(KeyFileSigner(keys["ed25519"].path), "/a/keys/k")
    made = request_signer.headers_for("GET", "/")
    assert abs(parse_http_date(made["Date"]) - time.time()) < 5


# --- httpx adapter ---------------------------------------------------------------------------


def test_httpx_auth_signs_each_request_as_sent(keys: dict[str, TestKey]) -> None:
    key = keys["ecdsa256"]
    signer = KeyFileSigner(key.path)
    seen: list[tuple[str, bool]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        ok = verified(dict(request.headers), signer, request.method, target)
        seen.append((target, ok))
        return httpx.Response(200 if ok else 401)

    auth = HTTPSignatureAuth(RequestSigner(signer, f"/acct/keys/{key.md5}"))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = client.get(
            "https://cloudapi.test/acct/machines", params={"name": "a b/c", "limit": 2}
        )
        assert response.status_code == 200
        assert client.delete("https://cloudapi.test/acct/machines/x%2Fy").status_code == 200
    assert seen == [
        ("/acct/machines?name=a+b%2Fc&limit=2", True),
        ("/acct/machines/x%2Fy", True),
    ]


def test_httpx_auth_replaces_a_stale_date(keys: dict[str, TestKey]) -> None:
    signer = KeyFileSigner(keys["rsa"].path)
    dates: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        dates.append(request.headers["date"])
        ok = verified(dict(request.headers), signer, request.method, request.url.raw_path.decode())
        return httpx.Response(200 if ok else 401)

    auth = HTTPSignatureAuth(RequestSigner(signer, "/acct/keys/k"))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = client.get("https://x.test/", headers={"Date": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert response.status_code == 200
    assert dates[0] != "Mon, 01 Jan 2001 00:00:00 GMT"
