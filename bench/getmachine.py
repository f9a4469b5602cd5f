"""Benchmark 3: sequential GetMachine calls over one keep-alive connection.

smartdc: ``CloudAPI.get_machine(id)`` on one client. node: node-triton's library client,
``require('triton').createClient`` with an in-memory profile, ``client.cloudapi.getMachine``
(``js/get_machine.js``, a long-lived node process, which finds the key in the throwaway
``~/.ssh`` by its fingerprint; smartdc is given the key file). Both sign every request with
the same RSA 2048 key, make 10 untimed calls first, then run rounds of one call per machine
id (200 by default), each call timed on its own; rounds alternate between the two sides.
Each side also reports how many TCP connections it opened during the timed rounds (0 means
every call reused the warm-up's keep-alive connection).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import peers
from emulator_host import SeededEmulator
from measure import Samples
from report import Row
from sshkeys import KeyFile

from smartdc import CloudAPI
from smartdc._socket_sender import SocketSender

BENCHMARK = "3. sequential GetMachine, keep-alive"
WARMUP_CALLS = 10
SMARTDC_SIDE = "smartdc CloudAPI.get_machine"
NODE_SIDE = "node-triton cloudapi.getMachine"


class ConnectionCountingSender(SocketSender):
    """The client's default sender, counting the TCP connections it opens."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.connections = 0

    def _connect(self, method: str) -> None:
        self.connections += 1
        super()._connect(method)


def smartdc_round(api: CloudAPI, ids: Sequence[str]) -> list[float]:
    """Seconds each ``api.get_machine`` call took, one per id; each must name its machine."""
    values = []
    for machine_id in ids:
        begin = time.perf_counter()
        machine = api.get_machine(machine_id)
        values.append(time.perf_counter() - begin)
        if machine["id"] != machine_id:
            raise RuntimeError(f"asked for machine {machine_id}, got {machine['id']}")
    return values


def run(
    emulator: SeededEmulator,
    key: KeyFile,
    home: Path,
    env: Mapping[str, str],
    calls: int,
    rounds: int,
) -> tuple[list[Row], dict[str, int]]:
    """Rows for both sides, and the TCP connections each opened during the timed rounds."""
    ids = emulator.machine_ids[:calls]
    sender = ConnectionCountingSender(emulator.url)
    ours: list[float] = []
    theirs: list[float] = []
    node_connections = 0
    with (
        CloudAPI(
            emulator.url, emulator.account, key_id=key.md5, key_file=key.path, sender=sender
        ) as api,
        peers.Session("get_machine.js", env) as node,
    ):
        smartdc_round(api, ids[:WARMUP_CALLS])
        node.ask(
            {
                "url": emulator.url,
                "account": emulator.account,
                "keyId": key.md5,
                "configDir": str(home / ".triton"),
                "ids": ids,
                "warmup": WARMUP_CALLS,
            }
        )
        warm_connections = sender.connections
        for _ in range(rounds):
            ours.extend(smartdc_round(api, ids))
            answer = node.ask("round")
            theirs.extend(float(v) for v in answer["values"])
            node_connections += int(answer["connections"])
    smartdc_connections = sender.connections - warm_connections
    case = f"{rounds} round{'' if rounds == 1 else 's'} x {len(ids)} calls"
    rows = [
        Row(BENCHMARK, case, SMARTDC_SIDE, Samples.of(ours), "call"),
        Row(BENCHMARK, case, NODE_SIDE, Samples.of(theirs), "call", peer=True),
    ]
    return rows, {SMARTDC_SIDE: smartdc_connections, NODE_SIDE: node_connections}
