"""``--seed``: the same requests get the same ids, MAC addresses and IPs, run after run."""

from __future__ import annotations

import time
from typing import Any

import httpx

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer, build_parser
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.own_emulator import PACKAGE


def _session(server: EmulatorServer, key: TestKey) -> dict[str, Any]:
    """A fixed series of requests; what the emulator made for them."""
    with CloudAPI(server.url, ACCOUNT, key_file=key.path, allow_agent=False) as api:
        image = max(
            (i for i in api.list_images() if i["name"] == "base-64-lts"),
            key=lambda i: i["published_at"],
        )
        machine = api.create_machine(image=image["id"], package=PACKAGE, name="seeded")
        deadline = time.monotonic() + 10
        while api.get_machine(machine["id"])["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        machine = api.get_machine(machine["id"])
        user = api.create_user(login="seeded", email="s@example.com", password="secret123")
        rule = api.create_firewall_rule(rule="FROM any TO all vms ALLOW tcp PORT 22")
        return {
            "account": api.get_account()["id"],
            "machine": machine["id"],
            "macs": [nic["mac"] for nic in machine["nics"]],
            "ips": machine["ips"],
            "user": user["id"],
            "rule": rule["id"],
        }


def _run(key: TestKey, seed: int | None) -> dict[str, Any]:
    with EmulatorServer(
        accounts={ACCOUNT: [key.pub_path]}, provision_delay=0.0, seed=seed
    ) as server:
        return _session(server, key)


def test_a_seed_makes_runs_repeat(keys: dict[str, TestKey]) -> None:
    key = keys["rsa"]
    first, second = _run(key, 7), _run(key, 7)
    assert first == second
    other = _run(key, 8)
    assert other["machine"] != first["machine"] and other["macs"] != first["macs"]
    unseeded = _run(key, None)
    assert unseeded["machine"] != first["machine"]


def test_a_reset_starts_the_sequence_again(keys: dict[str, TestKey]) -> None:
    key = keys["rsa"]
    with EmulatorServer(accounts={ACCOUNT: [key.pub_path]}, provision_delay=0.0, seed=3) as server:
        before = _session(server, key)
        assert httpx.post(f"{server.url}/__emulator/reset").status_code == 204
        assert _session(server, key) == before


def test_command_line_seed() -> None:
    assert build_parser().parse_args(["--seed", "42"]).seed == 42
    assert build_parser().parse_args([]).seed is None
