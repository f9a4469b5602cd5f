"""The emulator under load: 50 concurrent clients with mixed reads and writes for a few
seconds over loopback, with no failed request and no lost write (bench/load.py's workload,
which ``make bench`` runs for longer)."""

from __future__ import annotations

import sys
from pathlib import Path

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import load  # bench/ is not a package: its modules import each other by name

CLIENTS = 50
SECONDS = 5.0


def test_fifty_clients_lose_nothing(tmp_path: Path, keys: dict[str, TestKey]) -> None:
    key = keys["ed25519"]
    server = EmulatorServer({ACCOUNT: [key.pub_path]}, data_dir=tmp_path, provision_delay=0)
    with server:
        report = load.run_load(server.url, ACCOUNT, key.path, clients=CLIENTS, seconds=SECONDS)
    assert report.failures == []
    assert report.lost == []
    # Every kind of request was sent, and writes were a real share of them.
    assert all(count > 0 for count in report.by_operation.values()), report.by_operation
    assert report.written >= report.requests // 10
