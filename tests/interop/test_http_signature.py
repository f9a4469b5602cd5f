"""Our signatures, checked by the verifier CloudAPI runs: npm http-signature 1.4.0 + sshpk.

Every request is signed here (key files in every format, and keys held by a real ssh-agent),
then all of them go to one ``node tests/interop/js/verify.js`` run, which parses and
verifies them exactly as CloudAPI does. Malformed headers go through both parsers too, and
must fail with the same message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smartdc.auth import (
    AgentSigner,
    KeyFileSigner,
    RequestSigner,
    SignatureParseError,
    Signer,
    format_http_date,
    parse_authorization,
)
from tests.conftest import KEY_NAMES, TestKey
from tests.unit.conftest import SSHAgent

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
VERIFY_JS = Path(__file__).parent / "js" / "verify.js"
NODE_MODULES = Path(os.environ.get("SMARTDC_NODE_MODULES", REPO / ".node" / "node_modules"))

FILE_KEYS = KEY_NAMES
# P-384 cannot go through an agent: it signs with SHA-384, which CloudAPI rejects.
AGENT_KEYS = ["rsa", "ecdsa256", "ecdsa521", "ed25519"]
HEADER_SETS = {"target+date": ("(request-target)", "date"), "date": ("date",)}
TARGET = "/test/machines?name=web%201&limit=2"

SIGNED_CASES = [
    f"{source}-{key}-{label}"
    for source, names in (("file", FILE_KEYS), ("agent", AGENT_KEYS))
    for key in names
    for label in HEADER_SETS
]
REJECTED_CASES = ["tampered-path-rsa", "tampered-path-ed25519", "tampered-method-ecdsa256"]
WRONG_KEY_CASE = "wrong-key"
# The old-draft pseudo-header: "<METHOD> <target> HTTP/1.1", with no "request-line: " prefix.
REQUEST_LINE_CASE = "request-line"
REQUEST_LINE = ("date", "request-line")

GOOD_PARAMS = 'keyId="/test/keys/k",algorithm="rsa-sha256",headers="date",signature="AAAA"'
PARITY_CASES = {
    "well-formed": f"Signature {GOOD_PARAMS}",
    "uppercase-algorithm": f"Signature {GOOD_PARAMS.replace('rsa-sha256', 'RSA-SHA256')}",
    "headers-default": 'Signature keyId="/test/keys/k",algorithm="rsa-sha256",signature="AAAA"',
    "space-after-comma": f"Signature {GOOD_PARAMS.replace(',', ', ')}",
    "missing-signature": 'Signature keyId="/test/keys/k",algorithm="rsa-sha256",headers="date"',
    "missing-key-id": 'Signature algorithm="rsa-sha256",signature="AAAA"',
    "ecdsa-sha384": f"Signature {GOOD_PARAMS.replace('rsa-sha256', 'ecdsa-sha384')}",
    "hmac": f"Signature {GOOD_PARAMS.replace('rsa-sha256', 'hmac-sha256')}",
    "unknown-family": f"Signature {GOOD_PARAMS.replace('rsa-sha256', 'foo-sha256')}",
    "unsigned-date": "Signature " + GOOD_PARAMS.replace('headers="date"', 'headers="host"'),
    "unsent-header": "Signature " + GOOD_PARAMS.replace('"date"', '"date content-md5"'),
    "lowercase-scheme": f"signature {GOOD_PARAMS}",
    "legacy-format": 'Signature keyId="/test/keys/k",algorithm="rsa-sha256" AAAA',
    "bad-number": f"Signature created=12x,{GOOD_PARAMS}",
    "double-space": f"Signature  {GOOD_PARAMS}",
}


@dataclass(frozen=True)
class Case:
    """One request for the node verifier: what was sent, and the key to verify it with."""

    name: str
    method: str
    url: str
    headers: dict[str, str]
    public_key: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "publicKey": self.public_key,
        }


def _public_line(key: TestKey) -> str:
    return key.pub_path.read_text().strip()


def _signed(
    name: str,
    signer: Signer,
    key: TestKey,
    headers: tuple[str, ...],
    *,
    sent_method: str = "GET",
    seen_url: str = TARGET,
    seen_method: str = "GET",
    public_key: str | None = None,
) -> Case:
    request_signer = RequestSigner(signer, f"/test/keys/{key.sha256}", headers)
    made = request_signer.headers_for(sent_method, TARGET)
    return Case(
        name=name,
        method=seen_method,
        url=seen_url,
        headers={**made, "Host": "cloudapi.test"},
        public_key=public_key or _public_line(key),
    )


def _require_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    for package in ("http-signature", "sshpk"):
        if not (NODE_MODULES / package).is_dir():
            pytest.skip(f"npm package {package} is not in {NODE_MODULES}; run `make node-peers`")
    return node


def _build_cases(keys: dict[str, TestKey], agent: SSHAgent) -> list[Case]:
    cases = []
    for key_name in FILE_KEYS:
        key = keys[key_name]
        signer = KeyFileSigner(key.path, key.passphrase)
        for label, headers in HEADER_SETS.items():
            cases.append(_signed(f"file-{key_name}-{label}", signer, key, headers))
    for key_name in AGENT_KEYS:
        key = keys[key_name]
        agent_signer = AgentSigner(key.md5, agent.socket_path)
        for label, headers in HEADER_SETS.items():
            cases.append(_signed(f"agent-{key_name}-{label}", agent_signer, key, headers))
    target_date = HEADER_SETS["target+date"]
    cases.append(
        _signed(REQUEST_LINE_CASE, KeyFileSigner(keys["rsa"].path), keys["rsa"], REQUEST_LINE)
    )
    for key_name in ("rsa", "ed25519"):
        key = keys[key_name]
        cases.append(
            _signed(
                f"tampered-path-{key_name}",
                KeyFileSigner(key.path),
                key,
                target_date,
                seen_url=TARGET.replace("limit=2", "limit=3"),
            )
        )
    cases.append(
        _signed(
            "tampered-method-ecdsa256",
            KeyFileSigner(keys["ecdsa256"].path),
            keys["ecdsa256"],
            target_date,
            seen_method="DELETE",
        )
    )
    cases.append(
        _signed(
            WRONG_KEY_CASE,
            KeyFileSigner(keys["rsa"].path),
            keys["rsa"],
            target_date,
            public_key=_public_line(keys["rsa_pem"]),
        )
    )
    date = format_http_date()
    for name, value in PARITY_CASES.items():
        cases.append(
            Case(
                name=f"parity-{name}",
                method="GET",
                url="/test/machines",
                headers={"Date": date, "Host": "cloudapi.test", "Authorization": value},
                public_key=None,
            )
        )
    return cases


@pytest.fixture(scope="module")
def verdicts(keys: dict[str, TestKey]) -> dict[str, tuple[Case, dict[str, Any]]]:
    """Every case, signed here and judged by one node run, by name."""
    node = _require_node()
    agent = SSHAgent()
    try:
        agent.add(keys[name] for name in AGENT_KEYS)
        cases = _build_cases(keys, agent)
    finally:
        agent.stop()
    proc = subprocess.run(
        [node, str(VERIFY_JS)],
        input=json.dumps({"cases": [case.as_json() for case in cases]}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"verify.js exited {proc.returncode}: {proc.stderr}")
    results = json.loads(proc.stdout)
    return {case.name: (case, results[case.name]) for case in cases}


@pytest.mark.parametrize("name", SIGNED_CASES)
def test_cloudapi_verifier_accepts_our_signature(
    verdicts: dict[str, tuple[Case, dict[str, Any]]], keys: dict[str, TestKey], name: str
) -> None:
    case, verdict = verdicts[name]
    assert verdict["parsed"], verdict["error"]
    assert verdict["verified"], verdict
    _, key_name, label = name.split("-", 2)
    # Signed with a SHA256 key id, sent with the MD5 fingerprint CloudAPI looks up.
    assert verdict["keyId"] == f"/test/keys/{keys[key_name].md5}"
    assert verdict["signingString"].split("\n")[-1] == f"date: {case.headers['Date']}"
    if label == "target+date":
        assert verdict["signingString"].startswith(f"(request-target): get {TARGET}\n")
    if key_name in ("ecdsa384", "ecdsa521"):
        assert verdict["algorithm"] == "ecdsa-sha512"


def test_request_line_signature(verdicts: dict[str, tuple[Case, dict[str, Any]]]) -> None:
    _, verdict = verdicts[REQUEST_LINE_CASE]
    assert verdict["verified"], verdict
    assert verdict["signingString"].endswith(f"\nGET {TARGET} HTTP/1.1")


@pytest.mark.parametrize("name", [*REJECTED_CASES, WRONG_KEY_CASE])
def test_cloudapi_verifier_rejects_tampering(
    verdicts: dict[str, tuple[Case, dict[str, Any]]], name: str
) -> None:
    _, verdict = verdicts[name]
    assert verdict["parsed"], verdict["error"]
    assert verdict["verified"] is False


@pytest.mark.parametrize("name", sorted(PARITY_CASES))
def test_parse_errors_match_http_signature(
    verdicts: dict[str, tuple[Case, dict[str, Any]]], name: str
) -> None:
    case, verdict = verdicts[f"parity-{name}"]
    try:
        parsed = parse_authorization(case.headers["Authorization"], case.headers)
    except SignatureParseError as exc:
        ours: str | None = exc.message
    else:
        # The legacy grammar is CloudAPI's fallback when http-signature 1.4.0 refuses.
        ours = "bad param format" if parsed.legacy else None
    if ours is None:
        assert verdict["parsed"], verdict["error"]
    else:
        assert verdict["error"] == ours
