"""Machine and Snapshot without a server: equality, IPs, cached attributes, waits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from smartdc.errors import (
    MachineFailedError,
    MachineGoneError,
    ResourceNotFoundError,
    WaitError,
    WaitTimeoutError,
)
from smartdc.objects.machine import Machine, is_private_ip
from smartdc.objects.snapshot import Snapshot

MACHINE_ID = "5a1c3f52-3c5e-4a3b-9a4e-2f7d1d0c8b11"


class ScriptedAPI:
    """Answers GetMachine / GetMachineSnapshot from a script of states, and logs calls."""

    def __init__(self, states: Iterable[object] = (), snapshot_states: Iterable[object] = ()):
        self.states = list(states)
        self.snapshot_states = list(snapshot_states)
        self.calls: list[tuple[Any, ...]] = []

    def _next(self, script: list[object]) -> object:
        item = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(item, BaseException):
            raise item
        return item

    def get_machine(self, machine_id: str, credentials: bool = False) -> dict[str, Any]:
        self.calls.append(("get_machine", machine_id))
        return machine_data(state=str(self._next(self.states)))

    def get_machine_snapshot(self, machine_id: str, name: str) -> dict[str, Any]:
        self.calls.append(("get_machine_snapshot", machine_id, name))
        return {"name": name, "state": self._next(self.snapshot_states)}

    def stop_machine(self, machine_id: str) -> None:
        self.calls.append(("stop_machine", machine_id))

    def start_machine_from_snapshot(self, machine_id: str, name: str) -> None:
        self.calls.append(("start_machine_from_snapshot", machine_id, name))


class FakeDataCenter:
    """The two things a Machine needs from its DataCenter."""

    def __init__(self, api: ScriptedAPI) -> None:
        self.api = api

    def raw_machine_data(self, machine_id: Any, credentials: bool = False) -> dict[str, Any]:
        return self.api.get_machine(machine_id, credentials=credentials)


def machine_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": MACHINE_ID,
        "name": "web-1",
        "type": "smartmachine",
        "brand": "joyent",
        "state": "running",
        "image": "2b683a82-a066-11e3-97ab-2faa44701c5a",
        "memory": 1024,
        "disk": 30720,
        "ips": ["10.88.0.5", "165.225.128.7"],
        "primaryIp": "165.225.128.7",
        "metadata": {"user-script": "#!/bin/sh\necho hi", "role": "web"},
        "tags": {"env": "test"},
        "created": "2024-05-01T12:00:00.000Z",
        "updated": "2024-05-01T12:05:00.000Z",
        "package": "Small 1GB",
        "networks": ["net-a"],
        "firewall_enabled": False,
        "compute_node": "44454c4c-3300-1035-8030-b4c04f383432",
    }
    data.update(overrides)
    return data


def make(api: ScriptedAPI | None = None, **overrides: Any) -> Machine:
    return Machine(FakeDataCenter(api or ScriptedAPI()), data=machine_data(**overrides))  # type: ignore[arg-type]


def test_machines_compare_and_hash_by_id() -> None:
    a = make(state="running")
    b = make(state="stopped", name="renamed")
    other = make(id="0a1c3f52-3c5e-4a3b-9a4e-2f7d1d0c8b11")
    assert a == b
    assert hash(a) == hash(b)
    assert a != other
    assert len({a, b, other}) == 2
    # the seed's rule: a dict from the API stands for the machine
    assert a == {"id": MACHINE_ID}
    assert a != {"id": other.id}
    assert a != MACHINE_ID


def test_attributes_come_from_the_data_without_requests() -> None:
    api = ScriptedAPI()
    m = make(api)
    assert (m.id, m.name, m.state, m.type, m.brand) == (
        MACHINE_ID,
        "web-1",
        "running",
        "smartmachine",
        "joyent",
    )
    assert m.image == m.dataset == "2b683a82-a066-11e3-97ab-2faa44701c5a"
    assert (m.memory, m.disk, m.package) == (1024, 30720, "Small 1GB")
    assert m.primary_ip == "165.225.128.7"
    assert m.metadata["role"] == "web"
    assert m.boot_script == "#!/bin/sh\necho hi"
    assert m.tags == {"env": "test"}
    assert m.created == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert m.updated is not None and m.updated > m.created
    assert m.firewall_enabled is False
    assert m.compute_node == "44454c4c-3300-1035-8030-b4c04f383432"
    assert m.raw["name"] == "web-1"
    assert api.calls == []


def test_cached_data_cannot_be_changed_through_attributes() -> None:
    m = make()
    m.metadata["role"] = "db"
    m.raw["state"] = "stopped"
    m.ips.append("1.2.3.4")
    assert m.metadata["role"] == "web"
    assert m.state == "running"
    assert len(m.ips) == 2


def test_repr_and_str() -> None:
    m = make()
    assert repr(m) == f"<Machine web-1 ({MACHINE_ID}) running>"
    assert str(m) == MACHINE_ID


def test_missing_fields_have_sensible_defaults() -> None:
    m = Machine(FakeDataCenter(ScriptedAPI()), data={"id": MACHINE_ID})  # type: ignore[arg-type]
    assert m.ips == [] and m.public_ips == [] and m.metadata == {} and m.tags == {}
    assert m.name is None and m.created is None and m.docker is False


def test_a_machine_needs_an_id() -> None:
    with pytest.raises(TypeError):
        Machine(FakeDataCenter(ScriptedAPI()))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="id"):
        Machine(FakeDataCenter(ScriptedAPI()), data={"name": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("172.31.255.254", True),
        ("172.32.0.1", False),
        ("192.168.1.5", True),
        ("100.64.0.9", True),  # CGNAT
        ("100.128.0.1", False),
        ("169.254.1.1", True),
        ("165.225.128.7", False),
        ("192.0.2.10", False),  # documentation range: handed out as public by emulators
        ("8.8.8.8", False),
        ("fd00::1", True),
        ("fe80::1", True),
        ("2001:db8::1", False),
        ("dhcp", None),
    ],
)
def test_ip_classification(address: str, private: bool | None) -> None:
    assert is_private_ip(address) is private


def test_public_and_private_ips() -> None:
    m = make(
        ips=[
            "10.1.2.3",
            "165.225.1.2",
            "192.168.1.5",
            "100.64.0.9",
            "dhcp",
            "fd00::1",
            "2001:db8::1",
        ]
    )
    assert m.public_ips == ["165.225.1.2", "2001:db8::1"]
    assert m.private_ips == ["10.1.2.3", "192.168.1.5", "100.64.0.9", "fd00::1"]


def test_status_refreshes() -> None:
    api = ScriptedAPI(states=["stopped"])
    m = make(api)
    assert m.status() == "stopped"
    assert m.state == "stopped"
    assert api.calls == [("get_machine", MACHINE_ID)]


def test_actions_return_the_machine_for_chaining() -> None:
    api = ScriptedAPI(states=["stopping", "stopped"])
    m = make(api)
    assert m.stop().poll_until("stopped", interval=0, timeout=5) is m
    assert api.calls[0] == ("stop_machine", MACHINE_ID)
    assert m.state == "stopped"


def test_poll_while_returns_once_the_state_changes() -> None:
    api = ScriptedAPI(states=["provisioning", "provisioning", "running"])
    m = make(api, state="provisioning")
    m.poll_while("provisioning", interval=0, timeout=5)
    assert m.state == "running"
    assert len(api.calls) == 3


def test_failed_machine_ends_the_wait() -> None:
    api = ScriptedAPI(states=["provisioning", "failed", "running"])
    m = make(api, state="provisioning")
    with pytest.raises(MachineFailedError, match="web-1") as caught:
        m.poll_while("provisioning", interval=0, timeout=5)
    assert caught.value.machine["state"] == "failed"
    api.states = ["failed"]
    with pytest.raises(MachineFailedError):
        m.poll_until("running", interval=0, timeout=5)


def test_waiting_for_failed_is_allowed() -> None:
    m = make(ScriptedAPI(states=["provisioning", "failed"]))
    assert m.poll_until("failed", interval=0, timeout=5).state == "failed"


def test_a_misspelt_state_is_refused_before_any_poll() -> None:
    api = ScriptedAPI(states=["running"])
    m = make(api, state="provisioning")
    with pytest.raises(ValueError, match=r"'runing' is not a state .* machine.*running"):
        m.poll_until("runing", interval=0, timeout=5)
    with pytest.raises(ValueError, match="'Stopped'"):
        m.poll_while("Stopped", interval=0, timeout=5)
    snapshot = Snapshot(m, data={"name": "s1", "state": "queued"})
    with pytest.raises(ValueError, match=r"'done' is not a state .* snapshot.*created"):
        snapshot.poll_until("done", interval=0, timeout=5)
    assert api.calls == []


def test_deadline_ends_the_wait() -> None:
    m = make(ScriptedAPI(states=["stopping"]))
    with pytest.raises(WaitTimeoutError, match=r"web-1.*'stopped'.*state 'stopping'"):
        m.poll_until("stopped", interval=0.01, timeout=0.05)


def test_gone_means_deleted() -> None:
    gone = MachineGoneError("gone", status=410, body=machine_data(state="deleted"))
    m = make(ScriptedAPI(states=["stopping", gone]))
    m.poll_until("deleted", interval=0, timeout=5)
    assert m.state == "deleted"
    assert m.refresh().state == "deleted"


def test_gone_with_an_id_only_body_still_means_deleted() -> None:
    gone = MachineGoneError("gone", status=410, body=MACHINE_ID)
    m = make(ScriptedAPI(states=[gone]))
    assert m.status() == "deleted"
    assert m.name == "web-1"


def test_purged_machine_counts_as_deleted_only_when_waiting_for_deletion() -> None:
    purged = ResourceNotFoundError("VM not found", status=404)
    m = make(ScriptedAPI(states=[purged]))
    m.poll_until("deleted", interval=0, timeout=5)
    assert m.state == "deleted"
    with pytest.raises(ResourceNotFoundError):
        m.poll_until("running", interval=0, timeout=5)


def test_deleted_while_waiting_for_another_state_is_an_error() -> None:
    gone = MachineGoneError("gone", status=410, body=machine_data(state="deleted"))
    m = make(ScriptedAPI(states=["stopping", gone]))
    with pytest.raises(WaitError, match="deleted"):
        m.poll_until("stopped", interval=0, timeout=5)


def test_waits_need_a_deadline() -> None:
    m = make(ScriptedAPI(states=["running"]))
    with pytest.raises(ValueError, match="timeout"):
        m.poll_until("running", timeout=None)  # type: ignore[arg-type]


def test_snapshot_waits_until_created_and_fails_fast() -> None:
    api = ScriptedAPI(snapshot_states=["queued", "running", "created"])
    m = make(api)
    snap = Snapshot(m, data={"name": "before-upgrade", "state": "queued"})
    assert snap.poll_until("created", interval=0, timeout=5) is snap
    assert snap.state == "created"
    api.snapshot_states = ["queued", "failed"]
    with pytest.raises(WaitError, match="failed"):
        snap.poll_until("created", interval=0, timeout=5)


def test_snapshot_identity_and_start() -> None:
    api = ScriptedAPI(snapshot_states=["created"])
    m = make(api)
    a = Snapshot(m, name="s1")  # fetched
    b = Snapshot(m, data={"name": "s1", "state": "queued"})
    assert a == b and hash(a) == hash(b)
    assert a.state == "created"
    assert repr(a) == f"<Snapshot s1 of web-1 ({MACHINE_ID}) created>"
    assert a.start() is m
    assert api.calls[-1] == ("start_machine_from_snapshot", MACHINE_ID, "s1")
    m.start_from_snapshot(b)
    assert api.calls[-1] == ("start_machine_from_snapshot", MACHINE_ID, "s1")


def test_a_vanished_snapshot_ends_only_a_wait_for_deletion() -> None:
    vanished = ResourceNotFoundError("snapshot not found", status=404)
    api = ScriptedAPI(snapshot_states=["deleting", vanished])
    snap = Snapshot(make(api), data={"name": "old", "state": "created"})
    assert snap.poll_until("deleted", interval=0, timeout=5).state == "deleted"
    api.snapshot_states = [vanished]
    with pytest.raises(ResourceNotFoundError):
        snap.poll_until("created", interval=0, timeout=5)
    with pytest.raises(ResourceNotFoundError):
        snap.poll_while("deleted", interval=0, timeout=5)


def test_a_canceled_snapshot_job_ends_the_wait_naming_the_snapshot() -> None:
    api = ScriptedAPI(snapshot_states=["queued", "canceled"])
    snap = Snapshot(make(api), data={"name": "nightly", "state": "queued"})
    with pytest.raises(WaitError, match=rf"snapshot nightly of machine {MACHINE_ID} canceled"):
        snap.poll_until("created", interval=0, timeout=5)
