"""Every write the emulator acknowledged survives ``kill -9`` and a restart on its data dir.

A real ``smartdc-emulator`` process is driven through :class:`smartdc.CloudAPI` by a few
threads doing mixed writes (machines, tags, metadata, snapshots, keys, firewall rules, fabric
VLANs and networks, volumes, users, roles, policies, deletions); every write answered 2xx is
recorded, the process is killed with SIGKILL (mid-stream, right after a burst starts, and
while idle), restarted on the same ``--data-dir``, and each recorded change is looked for.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from smartdc import CloudAPI
from smartdc.errors import TransportError
from tests.conftest import ACCOUNT, TestKey

IMAGE = "base-64-lts"
PACKAGE = "g4-highcpu-128M"
WRITERS = 3
#: Writes CloudAPI acknowledges as a queued machine job, and how long to wait for them.
JOB_KINDS = ("tag", "metadata", "snapshot")
JOB_WAIT = 30.0
#: Every kind of write the writers make (a firewall rule is also deleted).
KINDS = frozenset(JOB_KINDS) | {"key", "fwrule", "vlan", "network", "volume", "user", "policy"}
KINDS |= {"role", "machine"}
#: Fabric VLAN ids handed out across threads and rounds (each is created once).
_VLAN_IDS = itertools.count(100)


class Emulator:
    """``smartdc-emulator`` in a child process on a data directory."""

    def __init__(self, data_dir: Path, key: TestKey) -> None:
        self.command = [
            sys.executable,
            "-m",
            "smartdc.emulator.launch",  # what the smartdc-emulator command runs
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--account",
            ACCOUNT,
            "--key",
            str(key.pub_path),
            "--provision-delay",
            "0",
        ]
        self.key = key
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> None:
        proc = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.proc = proc
        self.url = line.rsplit(" ", 1)[1].strip()

    def kill(self) -> None:
        """SIGKILL: no shutdown code of the emulator runs."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def client(self) -> CloudAPI:
        # No retries: once the process is killed, a writer must stop at once.
        return CloudAPI(
            self.url, ACCOUNT, key_file=self.key.path, allow_agent=False, retries=0, timeout=10
        )


def public_key_line() -> str:
    """A fresh ed25519 public key in OpenSSH form."""
    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode("ascii")


@dataclass
class Acknowledged:
    """Writes answered 2xx, by kind; each entry is what to look for after the restart."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Anything but the connection failing under a kill: each is a test failure.
    errors: list[BaseException] = field(default_factory=list)
    present: list[tuple[str, str, str]] = field(default_factory=list)
    absent: list[tuple[str, str, str]] = field(default_factory=list)
    #: Deletions sent and not yet answered: a kill may come after the server committed one,
    #: so after a restart such a thing may be there or not.
    deleting: list[tuple[str, str, str]] = field(default_factory=list)

    def saw(self, kind: str, owner: str, ident: str) -> None:
        with self.lock:
            self.present.append((kind, owner, ident))

    def deleting_now(self, kind: str, owner: str, ident: str) -> None:
        with self.lock:
            self.present.remove((kind, owner, ident))
            self.deleting.append((kind, owner, ident))

    def gone(self, kind: str, owner: str, ident: str) -> None:
        with self.lock:
            self.deleting.remove((kind, owner, ident))
            self.absent.append((kind, owner, ident))


def _writes(api: CloudAPI, machine: str, image: str, acks: Acknowledged) -> Iterator[None]:
    """One of each kind of write, round and round; each yield is one acknowledged write.

    Metadata is written on the first round only: each metadata job takes at least 0.5 s
    (lifecycle.MIN_DURATION_MS), and the machine's later jobs queue behind it.
    """
    for cycle in itertools.count():
        tag = uuid.uuid4().hex[:10]
        api.add_machine_tags(machine, {f"t{tag}": tag})
        acks.saw("tag", machine, f"t{tag}={tag}")
        yield
        if cycle == 0:
            api.update_machine_metadata(machine, {f"m{tag}": tag})
            acks.saw("metadata", machine, f"m{tag}={tag}")
            yield
        api.create_machine_snapshot(machine, f"s{tag}")
        acks.saw("snapshot", machine, f"s{tag}")
        yield
        api.create_key(public_key_line(), name=f"k{tag}")
        acks.saw("key", "", f"k{tag}")
        yield
        rule = api.create_firewall_rule(
            f"FROM any TO all vms ALLOW tcp PORT {hash(tag) % 60000 + 1}"
        )
        acks.saw("fwrule", "", str(rule["id"]))
        yield
        vlan = next(_VLAN_IDS)
        api.create_fabric_vlan(vlan_id=vlan, name=f"v{tag}")
        acks.saw("vlan", "", str(vlan))
        yield
        network = api.create_fabric_network(
            vlan,
            name=f"n{tag}",
            subnet=f"10.{vlan // 250}.{vlan % 250}.0/24",
            provision_start_ip=f"10.{vlan // 250}.{vlan % 250}.10",
            provision_end_ip=f"10.{vlan // 250}.{vlan % 250}.200",
        )
        acks.saw("network", str(vlan), str(network["id"]))
        yield
        volume = api.create_volume(name=f"vol{tag}")
        acks.saw("volume", "", str(volume["id"]))
        yield
        api.create_user(login=f"user{tag}", email=f"{tag}@example.com", password=f"Pw-{tag}!")
        acks.saw("user", "", f"user{tag}")
        yield
        api.create_policy(name=f"p{tag}", rules=["CAN listmachines"])
        acks.saw("policy", "", f"p{tag}")
        yield
        api.create_role(name=f"r{tag}", policies=[f"p{tag}"])
        acks.saw("role", "", f"r{tag}")
        yield
        created = api.create_machine(image=image, package=PACKAGE, name=f"vm{tag}")
        acks.saw("machine", "", str(created["id"]))
        yield
        acks.deleting_now("fwrule", "", str(rule["id"]))
        api.delete_firewall_rule(str(rule["id"]))
        acks.gone("fwrule", "", str(rule["id"]))
        yield


def _writer(
    emulator: Emulator, machine: str, image: str, acks: Acknowledged, stop: threading.Event
) -> None:
    try:
        with emulator.client() as api:
            for _ in _writes(api, machine, image, acks):
                if stop.is_set():
                    return
    except TransportError:
        return  # the emulator was killed under this write: it was never acknowledged
    except Exception as error:  # anything else fails the test
        with acks.lock:
            acks.errors.append(error)


def _stored(api: CloudAPI) -> Callable[[str, str], set[str]]:
    """What the restarted emulator holds, as the same identifiers the writers recorded."""
    cache: dict[tuple[str, str], set[str]] = {}

    def look(kind: str, owner: str) -> set[str]:
        if (kind, owner) in cache:
            return cache[kind, owner]
        found: set[str]
        if kind == "tag":
            found = {f"{k}={v}" for k, v in api.list_machine_tags(owner).items()}
        elif kind == "metadata":
            found = {f"{k}={v}" for k, v in api.list_machine_metadata(owner).items()}
        elif kind == "snapshot":
            found = {str(s["name"]) for s in api.list_machine_snapshots(owner)}
        elif kind == "key":
            found = {str(k["name"]) for k in api.list_keys()}
        elif kind == "fwrule":
            found = {str(r["id"]) for r in api.list_firewall_rules()}
        elif kind == "vlan":
            found = {str(v["vlan_id"]) for v in api.list_fabric_vlans()}
        elif kind == "network":
            found = {str(n["id"]) for n in api.list_fabric_networks(int(owner))}
        elif kind == "volume":
            found = {str(v["id"]) for v in api.list_volumes()}
        elif kind == "user":
            found = {str(u["login"]) for u in api.list_users()}
        elif kind == "policy":
            found = {str(p["name"]) for p in api.list_policies()}
        elif kind == "role":
            found = {str(r["name"]) for r in api.list_roles()}
        elif kind == "machine":
            found = {str(m["id"]) for m in api.list_machines()}
        else:
            raise AssertionError(kind)
        cache[kind, owner] = found
        return found

    return look


def _check(emulator: Emulator, acks: Acknowledged) -> None:
    """Every acknowledged change is there; tags, metadata and snapshots are machine jobs, so
    they may take the jobs queued before them to land (CloudAPI answers before a job runs)."""
    assert acks.errors == []
    deadline = time.monotonic() + JOB_WAIT
    with emulator.client() as api:
        while True:
            look = _stored(api)
            lost = [w for w in acks.present if w[2] not in look(w[0], w[1])]
            revived = [w for w in acks.absent if w[2] in look(w[0], w[1])]
            pending = all(w[0] in JOB_KINDS for w in lost)
            if not lost or not pending or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert lost == [] and revived == []


@pytest.fixture
def emulator(tmp_path: Path, keys: dict[str, TestKey]) -> Iterator[Emulator]:
    running = Emulator(tmp_path / "data", keys["ed25519"])
    running.start()
    yield running
    running.kill()


def _machines_for_writers(emulator: Emulator) -> tuple[str, list[str]]:
    with emulator.client() as api:
        image = str([i for i in api.list_images() if i["name"] == IMAGE][-1]["id"])
        ids = [
            str(api.create_machine(image=image, package=PACKAGE, name=f"base{n}")["id"])
            for n in range(WRITERS)
        ]
    return image, ids


def _stream(
    emulator: Emulator, image: str, machines: list[str], acks: Acknowledged
) -> tuple[threading.Event, list[threading.Thread]]:
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(emulator, m, image, acks, stop), daemon=True)
        for m in machines
    ]
    for thread in threads:
        thread.start()
    return stop, threads


def _acknowledged_count(acks: Acknowledged) -> int:
    with acks.lock:
        return len(acks.present) + len(acks.deleting) + len(acks.absent)


def test_acknowledged_writes_survive_kill_9(emulator: Emulator, tmp_path: Path) -> None:
    image, machines = _machines_for_writers(emulator)
    acks = Acknowledged()
    for machine in machines:
        acks.saw("machine", "", machine)

    # 1. Killed in the middle of a stream of writes from every thread.
    stop, threads = _stream(emulator, image, machines, acks)
    deadline = time.monotonic() + 10
    while _acknowledged_count(acks) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    emulator.kill()
    for thread in threads:
        thread.join(timeout=10)
    kinds = {w[0] for w in acks.present + acks.deleting + acks.absent}
    assert kinds == KINDS  # every kind was acknowledged at least once
    emulator.start()
    _check(emulator, acks)

    # 2. Killed just as a burst starts, with writes in flight on every thread.
    before = _acknowledged_count(acks)
    stop, threads = _stream(emulator, image, machines, acks)
    deadline = time.monotonic() + 10
    while _acknowledged_count(acks) < before + WRITERS and time.monotonic() < deadline:
        time.sleep(0.001)
    emulator.kill()
    assert _acknowledged_count(acks) >= before + WRITERS
    for thread in threads:
        thread.join(timeout=10)
    emulator.start()
    _check(emulator, acks)

    # 3. Killed while idle, after the writers finished and their jobs had time to run.
    before = _acknowledged_count(acks)
    stop, threads = _stream(emulator, image, machines, acks)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert _acknowledged_count(acks) > before
    time.sleep(0.3)
    emulator.kill()
    emulator.start()
    _check(emulator, acks)
    emulator.kill()

    database = sqlite3.connect(tmp_path / "data" / "emulator.sqlite3")
    try:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        database.close()
