"""A private emulator for tests that change account-wide state (fabrics, reserved IPs), so
the shared one keeps its defaults; two accounts, ``test`` and ``other``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.signing import SignedClient, Signer

OTHER = "other"
PACKAGE = "g4-highcpu-128M"


def two_account_server(
    keys: dict[str, TestKey],
    data_dir: Path,
    *,
    other: str = OTHER,
    datacenters: Sequence[str] = ("local-1",),
    provision_delay: float = 0.0,
) -> EmulatorServer:
    """A fresh emulator (not yet started) with ``test`` on the rsa key and ``other`` on the
    ed25519 key, for tests that change state the shared emulator must keep."""
    return EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path], other: [keys["ed25519"].pub_path]},
        datacenters=datacenters,
        data_dir=data_dir,
        provision_delay=provision_delay,
    )


@contextmanager
def private_emulator(
    keys: dict[str, TestKey], data_dir: Path, provision_delay: float = 0.0
) -> Iterator[tuple[SignedClient, SignedClient]]:
    """Clients of a fresh emulator: one for ``test`` (rsa key), one for ``other`` (ed25519)."""
    with two_account_server(keys, data_dir, provision_delay=provision_delay) as server:
        mine = SignedClient(server.url, Signer(keys["rsa"]))
        theirs = SignedClient(server.url, Signer(keys["ed25519"], login=OTHER))
        try:
            yield mine, theirs
        finally:
            mine.close()
            theirs.close()


def settle(seconds: float = 0.02) -> None:
    """Let zero-delay jobs finish (they take 1 ms)."""
    time.sleep(seconds)


def account_uuid(client: SignedClient) -> str:
    return str(client.get("/my").json()["id"])


def create_machine(client: SignedClient, **body: Any) -> dict[str, Any]:
    """A new base-64-lts machine of the caller's, once it is running (zero provision delay)."""
    images = client.get("/my/images", params={"name": "base-64-lts"}).json()
    image = max(images, key=lambda i: i["published_at"])
    payload: dict[str, Any] = {"image": image["id"], "package": PACKAGE, **body}
    response = client.post("/my/machines", json=payload)
    assert response.status_code == 201, response.text
    settle()
    machine: dict[str, Any] = client.get(f"/my/machines/{response.json()['id']}").json()
    assert machine["state"] == "running"
    return machine
