"""Benchmark 1: signing one CloudAPI request, per key type.

smartdc: ``RequestSigner(PrivateKeySigner(key), key_id).headers_for("GET", target)``.
node: http-signature 1.4.0 ``signRequest`` with an sshpk private key (``js/sign.js``).
Both format the Date, build the ``(request-target) date`` signing string, sign it and
build the Authorization header. Each call signs another request (the target's ``offset``
is one more each time): ``RequestSigner`` reuses the signature of a request it signed
before within the same second, and what is timed here is signing, not that reuse. Each
side is timed inside its own runtime (node in one long-lived process), after its own
warm-up, in batches that alternate between the sides. One more signature from each side
is then checked with the public key, so both provably did the same work.

Baseline pair ``[crypto only]``: the bare signature over a fixed signing string, smartdc's
``PrivateKeySigner.sign`` (Python ``cryptography``) against node's ``crypto.sign`` with a
``KeyObject`` made once. It separates what the crypto library costs from what the client
code around it adds (sshpk hands node the key as PEM again for every signature, and signs
Ed25519 in JavaScript with tweetnacl).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import peers
from measure import (
    DEFAULT_BATCH_SECONDS,
    DEFAULT_WARMUP_SECONDS,
    Samples,
    calibrate,
    time_batch,
)
from report import Row
from sshkeys import SIGNING_KEY_TYPES, KeyFile, generate

from smartdc.auth import (
    PrivateKeySigner,
    RequestSigner,
    format_http_date,
    load_private_key,
    parse_authorization,
    signing_string,
    verify_request,
)

BENCHMARK = "1. sign one request (GET, (request-target) + date)"
ACCOUNT = "acct"
#: The target signed, with a number after it that grows by one with every signature.
TARGET_PREFIX = f"/{ACCOUNT}/machines?limit=1000&offset="
#: The target of the sample signatures that are checked.
TARGET = f"{TARGET_PREFIX}0"
SMARTDC_SIDE = "smartdc RequestSigner.headers_for"
NODE_SIDE = "node http-signature.signRequest"
CRYPTO_ONLY = "crypto only"
SMARTDC_RAW = "python cryptography sign"
NODE_RAW = "node crypto.sign"


def _check_signature(who: str, key: KeyFile, date: str, authorization: str) -> str:
    """The algorithm of a sample signature, after verifying it with the key's public half."""
    headers = {"date": date, "authorization": authorization}
    parsed = parse_authorization(authorization, headers)
    public_key = load_private_key(key.path).public_key()
    if not verify_request(parsed, public_key, "GET", TARGET, headers):
        raise RuntimeError(f"{who} made a signature that does not verify with {key.path.name}")
    return parsed.algorithm


def _check_both(key: KeyFile, ours: dict[str, str], theirs: dict[str, str]) -> str:
    """The algorithm both sides signed with, once both samples verify and agree on it."""
    our_algorithm = _check_signature("smartdc", key, ours["Date"], ours["Authorization"])
    their_algorithm = _check_signature(
        "http-signature", key, theirs["date"], theirs["authorization"]
    )
    if our_algorithm != their_algorithm:
        raise RuntimeError(
            f"{key.path.name}: smartdc signs with {our_algorithm}, "
            f"http-signature with {their_algorithm}"
        )
    return our_algorithm


def _compare(node: peers.Session, key: KeyFile, label: str, reps: int) -> list[Row]:
    signer = RequestSigner(
        PrivateKeySigner(load_private_key(key.path)), f"/{ACCOUNT}/keys/{key.md5}"
    )
    fixed = signing_string(signer.headers, "GET", TARGET, {"date": format_http_date()})

    offsets = itertools.count(1)

    def sign() -> dict[str, str]:
        return signer.headers_for("GET", f"{TARGET_PREFIX}{next(offsets)}")

    def sign_bytes() -> bytes:
        return signer.signer.sign(fixed.encode())

    our_batch, our_raw_batch = calibrate(sign), calibrate(sign_bytes)
    setup = {
        "key": str(key.path),
        "keyId": signer.key_id,
        "target": TARGET_PREFIX,
        "warmupSeconds": DEFAULT_WARMUP_SECONDS,
        "batchSeconds": DEFAULT_BATCH_SECONDS,
    }
    batches = node.ask(setup)
    samples: dict[str, list[float]] = {"ours": [], "theirs": [], "our raw": [], "their raw": []}
    for _ in range(reps):
        samples["ours"].append(time_batch(sign, our_batch))
        samples["theirs"].append(float(node.ask("batch")["value"]))
        samples["our raw"].append(time_batch(sign_bytes, our_raw_batch))
        samples["their raw"].append(float(node.ask("raw")["value"]))
    sample = signer.headers_for("GET", TARGET)
    case = f"{label} ({_check_both(key, sample, node.ask('sample'))})"

    def row(side: str, name: str, batch: int, peer: bool, pair: str = "") -> Row:
        values = Samples.of(samples[name], batch)
        return Row(BENCHMARK, case, side, values, "signature", peer, pair)

    return [
        row(SMARTDC_SIDE, "ours", our_batch, False),
        row(NODE_SIDE, "theirs", int(batches["batch"]), True),
        row(SMARTDC_RAW, "our raw", our_raw_batch, False, CRYPTO_ONLY),
        row(NODE_RAW, "their raw", int(batches["rawBatch"]), True, CRYPTO_ONLY),
    ]


def run(directory: Path, reps: int) -> list[Row]:
    """Time both sides for each key type, alternating batches; rows in table order."""
    rows: list[Row] = []
    with peers.Session("sign.js") as node:
        for key_type in SIGNING_KEY_TYPES:
            key = generate(directory / f"sign_{key_type.type}{key_type.bits}", key_type)
            rows += _compare(node, key, key_type.label, reps)
    return rows
