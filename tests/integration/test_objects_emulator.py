"""The py-smartdc object API against a real emulator over loopback HTTP.

Every test tags the machines it creates with its own run id and counts only those, because
the emulator (and the ``test`` account) is shared by the whole session.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
import types
import uuid
from collections.abc import Iterator
from multiprocessing.dummy import Pool
from operator import methodcaller
from pathlib import Path
from typing import Any

import pytest

from smartdc import transport
from smartdc.auth import signers
from smartdc.auth.httpsig import format_http_date
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    CloudAPIError,
    ConfigError,
    KeyFileError,
    MachineGoneError,
    PassphraseRequiredError,
    ResourceNotFoundError,
    SigningError,
    WaitError,
    WaitTimeoutError,
    WrongPassphraseError,
)
from smartdc.objects import DEBUG_CONFIG, DataCenter, Machine, Snapshot
from smartdc.wait import wait_for
from tests.conftest import ACCOUNT, TestKey

FAST: dict[str, Any] = {"interval": 0.05, "timeout": 30}


def key_id(key: TestKey) -> str:
    return f"/{ACCOUNT}/keys/{key.md5}"


@pytest.fixture(scope="module")
def sdc(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[DataCenter]:
    key = keys["ed25519"]
    with DataCenter(location=emulator.url, key_id=key_id(key), secret=key.path) as dc:
        yield dc


@pytest.fixture(scope="module")
def east(sdc: DataCenter) -> Iterator[DataCenter]:
    with sdc.datacenter("us-test-2") as dc:
        yield dc


@pytest.fixture
def run_tag() -> dict[str, str]:
    return {"test-run": uuid.uuid4().hex[:12]}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def running_machine(dc: DataCenter, tags: dict[str, str], **extra: Any) -> Machine:
    machine = dc.create_machine(
        name=unique("m"), dataset="base-64-lts", package="Small 1GB", tags=tags, **extra
    )
    return machine.poll_while("provisioning", **FAST)


# --- connecting ---------------------------------------------------------------------------


def test_the_seed_tutorial_flow(sdc: DataCenter, emulator: EmulatorServer) -> None:
    listed = sdc.keys()
    fingerprints = {k["fingerprint"] for k in listed}
    assert sdc.api.key_id.rsplit("/", 1)[1] in fingerprints

    east = sdc.datacenter("us-test-2")
    assert east.base_url == emulator.urls["us-test-2"]
    assert east.name == "us-test-2"
    assert east.login == sdc.login == ACCOUNT

    package = east.default_package()
    assert package is not None
    assert package["memory"] == min(p["memory"] for p in east.packages())

    latest64 = east.dataset("sdc:sdc:smartos64:")
    assert latest64["name"] == "smartos64"
    assert latest64["version"] == "1.6.3"

    name = unique("test-machine")
    test_machine = east.create_machine(name=name, dataset=latest64, package="Small 1GB")
    assert isinstance(test_machine, Machine)
    assert test_machine.state == "provisioning"
    assert test_machine.image == latest64["id"]
    assert test_machine.package == "Small 1GB"

    test_machine.poll_while("provisioning", interval=0.05)
    assert test_machine.state == "running"
    assert test_machine == east.machines(name=name)[0]
    assert test_machine.public_ips, test_machine.ips
    assert set(test_machine.public_ips) | set(test_machine.private_ips) <= set(test_machine.ips)

    test_machine.stop()
    test_machine.poll_until("stopped", interval=0.05)
    assert test_machine.status() == "stopped"
    test_machine.delete()
    test_machine.poll_until("deleted", interval=0.05)
    assert test_machine.state == "deleted"
    assert east.machines(name=name) == []
    with pytest.raises(MachineGoneError):
        east.machine(test_machine.id)


def test_repr_makes_no_request(sdc: DataCenter) -> None:
    before = sdc.api.last_response
    text = repr(sdc)
    assert sdc.base_url in text and ACCOUNT in text
    assert sdc.api.last_response is before


def test_config_verbose_echoes_each_call(
    emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    key = keys["rsa"]
    stream = io.StringIO()
    with DataCenter(
        location=emulator.url, key_id=key_id(key), secret=key.path, config={"verbose": stream}
    ) as dc:
        dc.keys()
        dc.packages()
    echoed = stream.getvalue()
    assert f"GET /{ACCOUNT}/keys" in echoed
    assert f"GET /{ACCOUNT}/packages" in echoed
    assert "Signature" not in echoed


def test_debug_config_echoes_to_stderr(
    emulator: EmulatorServer, keys: dict[str, TestKey], capsys: pytest.CaptureFixture[str]
) -> None:
    key = keys["rsa"]
    with DataCenter(
        location=emulator.url, key_id=key_id(key), secret=key.path, config=DEBUG_CONFIG
    ) as dc:
        dc.me()
    assert f"GET /{ACCOUNT} " in capsys.readouterr().err


def test_known_locations_name_a_private_cloud(
    emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    key = keys["ecdsa256"]
    with DataCenter(
        location="lab",
        known_locations={"lab": emulator.url},
        key_id=key_id(key),
        secret=key.path,
    ) as dc:
        assert dc.name == "lab"
        assert dc.base_url == emulator.url
        assert {"us-test-1", "us-test-2"} <= set(dc.datacenters())
        other = dc.datacenter("us-test-2")
        assert other.base_url == emulator.urls["us-test-2"]
        assert other.keys() == dc.keys()
        other.close()


def test_unknown_datacenter_lists_the_known_ones(sdc: DataCenter) -> None:
    with pytest.raises(ConfigError, match=r"'us-nowhere-9'.*us-test-1, us-test-2"):
        sdc.datacenter("us-nowhere-9")


def test_encrypted_key_with_passphrase(emulator: EmulatorServer, keys: dict[str, TestKey]) -> None:
    key = keys["rsa_encrypted"]
    with DataCenter(
        location=emulator.url, key_id=key_id(key), secret=key.path, passphrase=key.passphrase
    ) as dc:
        assert dc.me()["login"] == ACCOUNT


# --- ssh-agent ----------------------------------------------------------------------------


@pytest.fixture
def ssh_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A private ``ssh-agent`` for this test, its socket in ``SSH_AUTH_SOCK``."""
    socket_path = tmp_path / "agent.sock"
    out = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket_path)], check=True, capture_output=True, text=True
    ).stdout
    pid = re.search(r"SSH_AGENT_PID=(\d+)", out)
    assert pid is not None, out
    env = {"SSH_AUTH_SOCK": str(socket_path), "SSH_AGENT_PID": pid[1]}
    monkeypatch.setenv("SSH_AUTH_SOCK", env["SSH_AUTH_SOCK"])
    try:
        yield env
    finally:
        subprocess.run(["ssh-agent", "-k"], env={**os.environ, **env}, capture_output=True)


def test_key_from_ssh_agent(
    ssh_agent: dict[str, str], emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    key = keys["ecdsa256"]
    subprocess.run(
        ["ssh-add", str(key.path)], env={**os.environ, **ssh_agent}, check=True, capture_output=True
    )
    with DataCenter(location=emulator.url, key_id=key_id(key), secret=None, allow_agent=True) as dc:
        listed = dc.keys()
        assert key.md5 in {k["fingerprint"] for k in listed}
        assert dc.datacenter("us-test-2").me()["login"] == ACCOUNT


def test_agent_without_the_key_says_so(
    ssh_agent: dict[str, str], emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    subprocess.run(
        ["ssh-add", str(keys["ed25519"].path)],
        env={**os.environ, **ssh_agent},
        check=True,
        capture_output=True,
    )
    with pytest.raises(SigningError, match="has no key with fingerprint"):
        DataCenter(location=emulator.url, key_id=key_id(keys["rsa"]), secret=None, allow_agent=True)


# --- keys, packages, images ---------------------------------------------------------------


def test_add_get_delete_key(sdc: DataCenter, tmp_path: Path) -> None:
    path = tmp_path / "extra"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    name = unique("extra")
    added = sdc.add_key(name, path.with_suffix(".pub").read_text())
    assert added["name"] == name
    assert sdc.key(name)["fingerprint"] == added["fingerprint"]
    assert sdc.key(added)["name"] == name
    listed = sdc.keys()
    assert name in {k["name"] for k in listed}
    sdc.delete_key(name)
    with pytest.raises(ResourceNotFoundError):
        sdc.key(name)


def test_packages(sdc: DataCenter) -> None:
    small = sdc.package("Small 1GB")
    assert small["memory"] == 1024
    assert sdc.package(small)["id"] == small["id"]
    assert sdc.package(small["id"])["name"] == "Small 1GB"
    names = {p["name"] for p in sdc.packages(search="^small")}
    assert names == {"Small 1GB"}
    assert all(p["memory"] == 1024 for p in sdc.packages(memory=1024))


def test_images_by_every_kind_of_reference(sdc: DataCenter) -> None:
    newest_lts = sdc.image("base-64-lts")
    assert newest_lts["version"] == "23.4.0"
    pinned = sdc.image("base-64-lts@22.4.0")
    assert pinned["version"] == "22.4.0"
    assert sdc.image(pinned["id"]) == pinned
    assert sdc.dataset(pinned)["id"] == pinned["id"]
    assert sdc.dataset("sdc:sdc:base-64-lts:21")["version"] == "21.4.0"
    assert sdc.default_dataset() == newest_lts
    assert sdc.datasets() == sdc.images()
    assert {i["os"] for i in sdc.images(os="linux")} == {"linux"}
    assert any(i["name"] == "smartos64" for i in sdc.datasets(search="smartos64"))
    with pytest.raises(ResourceNotFoundError, match="base-64-lts"):
        sdc.image("base-64-lst")


# --- machines -----------------------------------------------------------------------------


def test_machines_filters_and_counts(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running_machine(sdc, run_tag)
    assert sdc.machines(tags=run_tag) == [m]
    assert sdc.num_machines(tags=run_tag) == 1
    assert sdc.machines(tags=run_tag, dataset="base-64-lts") == [m]
    assert sdc.machines(tags=run_tag, dataset="smartos64") == []
    assert sdc.machines(tags=run_tag, state="stopped") == []
    assert sdc.machine(m.id) == m
    assert sdc.machine({"id": m.id}).name == m.name
    assert sdc.raw_machine_data(m)["id"] == m.id
    m.delete().poll_until("deleted", **FAST)
    assert sdc.num_machines(tags=run_tag) == 0


def test_create_machine_defaults_and_boot_script(
    sdc: DataCenter, run_tag: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "boot.sh"
    script.write_text("#!/bin/sh\necho hello\n")
    m = sdc.create_machine(tags=run_tag, boot_script=script, metadata={"role": "web"})
    default_image = sdc.default_image()
    assert default_image is not None
    assert m.image == default_image["id"]
    default_package = sdc.default_package()
    assert default_package is not None
    assert m.memory == default_package["memory"]
    assert m.boot_script == script.read_text()
    assert m.metadata["role"] == "web"
    m.poll_while("provisioning", **FAST).delete()


def test_metadata(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running_machine(sdc, run_tag, metadata={"role": "web"})
    assert m.get_metadata()["role"] == "web"
    merged = m.update_metadata(color="blue", **{"app.version": "2"})
    assert merged["color"] == "blue" and merged["role"] == "web" and merged["app.version"] == "2"
    assert m.metadata["color"] == "blue"
    # the change is a job on the machine: GET shows it a moment later
    wait_for(m.get_metadata, lambda found: "color" in found, **FAST)
    assert m.get_metadata("color") == "blue"
    assert m.set_metadata({"size": "L"})["size"] == "L"
    left = m.delete_metadata_at_key("color")
    assert "color" not in left and left["role"] == "web"
    left = m.delete_all_metadata()
    assert "role" not in left and "size" not in left
    with pytest.raises(ResourceNotFoundError):
        m.get_metadata("role")
    m.delete()


def test_tags(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running_machine(sdc, run_tag)
    assert m.get_tags() == run_tag
    assert m.add_tags(tier="front") == {**run_tag, "tier": "front"}
    assert m.get_tag("tier") == "front"
    assert m.tags["tier"] == "front"
    assert sdc.machines(tags={**run_tag, "tier": "front"}) == [m]
    assert m.replace_tags({**run_tag, "only": "this"}) == {**run_tag, "only": "this"}
    m.delete_tag("only")
    assert m.get_tags() == run_tag
    m.delete_all_tags()
    assert m.get_tags() == {}
    m.delete()


def test_rename_and_resize(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running_machine(sdc, run_tag)
    new_name = unique("renamed")
    assert m.rename(new_name) is m
    wait_for(lambda: m.refresh().name, lambda name: name == new_name, **FAST)
    bigger = sdc.package("g4-highcpu-2G")
    m.resize(bigger)
    wait_for(lambda: m.refresh().memory, lambda memory: memory == 2048, **FAST)
    assert m.package == "g4-highcpu-2G"
    m.delete()


def test_snapshots(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running_machine(sdc, run_tag)
    snap = m.create_snapshot("before")
    assert isinstance(snap, Snapshot)
    assert snap.name == "before"
    snap.poll_until("created", **FAST)
    assert snap.state == "created"
    assert m.snapshots() == [snap]
    assert m.snapshot("before").state == "created"
    unnamed = m.create_snapshot().poll_until("created", **FAST)
    assert re.fullmatch(r"\d{8}T\d{6}Z", unnamed.name)
    assert len(m.snapshots()) == 2

    m.stop().poll_until("stopped", **FAST)
    assert snap.start() is m
    m.poll_until("running", **FAST)
    assert any(e["action"] == "rollback_snapshot" for e in m.audit())

    snap.delete()
    unnamed.delete().poll_until("deleted", **FAST)
    wait_for(m.snapshots, lambda found: found == [], **FAST)
    m.delete()


def test_thread_pool_shuts_everything_down(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    for n in range(4):
        sdc.create_machine(
            name=unique(f"pool{n}"), dataset="base-64-lts", package="Small 1GB", tags=run_tag
        )
    simultaneous = Pool(sdc.num_machines(tags=run_tag))
    all_machines = sdc.machines(tags=run_tag)
    assert len(all_machines) == 4
    try:
        simultaneous.map(methodcaller("poll_while", "provisioning", 0.05), all_machines)
        simultaneous.map(methodcaller("stop"), all_machines)
        simultaneous.map(methodcaller("poll_until", "stopped", 0.05), all_machines)
        assert simultaneous.map(methodcaller("status"), all_machines) == ["stopped"] * 4
        simultaneous.map(methodcaller("delete"), all_machines)
        simultaneous.map(methodcaller("poll_until", "deleted", 0.05), all_machines)
    finally:
        simultaneous.close()
        simultaneous.join()
    assert sdc.num_machines(tags=run_tag) == 0


# --- waits that must end ------------------------------------------------------------------


def test_wait_for_a_state_that_never_comes_times_out(
    sdc: DataCenter, run_tag: dict[str, str]
) -> None:
    m = running_machine(sdc, run_tag)
    with pytest.raises(WaitTimeoutError, match="'stopped'") as caught:
        m.poll_until("stopped", interval=0.05, timeout=0.3)
    assert caught.value.last == "running"
    m.delete()


def test_waiting_on_a_deleted_machine_for_another_state_fails(
    sdc: DataCenter, run_tag: dict[str, str]
) -> None:
    m = running_machine(sdc, run_tag)
    m.delete().poll_until("deleted", **FAST)
    with pytest.raises(WaitError, match="deleted"):
        m.poll_until("running", **FAST)


# --- the seed tutorial, call for call -----------------------------------------------------


@pytest.fixture(scope="module")
def seed_cloud(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmulatorServer, Path]]:
    """A cloud of its own with the seed's datacenter names, and a key named ``test_key``.

    The tutorial counts and stops *every* machine of the account, so it cannot share the
    session emulator. Returns the emulator and the private key file.
    """
    directory = tmp_path_factory.mktemp("seed-keys")
    source = keys["ed25519"]
    secret = directory / "test_key"
    shutil.copyfile(source.path, secret)
    secret.chmod(0o600)
    shutil.copyfile(source.pub_path, directory / "test_key.pub")
    server = EmulatorServer(
        accounts={"test": [directory / "test_key.pub"]},
        datacenters=["us-sw-1", "us-east-1"],
        data_dir=tmp_path_factory.mktemp("seed-emulator-data"),
        provision_delay=0.0,
    )
    with server:
        yield server, secret


def test_the_seed_tutorial_runs_as_written(
    seed_cloud: tuple[EmulatorServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every call of the seed README, in order, with only ``location`` and ``secret`` pointed
    at the emulator. The seed's ``create_machine`` line lacks a comma between ``dataset`` and
    ``package`` (a syntax error); the call is otherwise as printed. The ssh session is not run:
    the emulator's machines have no sshd, so only the address it would use is checked."""
    server, secret = seed_cloud
    from smartdc import DEBUG_CONFIG, DataCenter

    sdc = DataCenter(
        location=server.url, key_id="/test/keys/test_key", secret=str(secret), config=DEBUG_CONFIG
    )
    listed = sdc.keys()
    assert [k["name"] for k in listed] == ["test_key"]

    east = sdc.datacenter("us-east-1")
    assert east.base_url == server.urls["us-east-1"]

    default = east.default_package()
    assert default is not None and default["name"] in {p["name"] for p in east.packages()}

    latest64 = east.dataset("sdc:sdc:smartos64:")
    assert latest64["name"] == "smartos64"

    test_machine = east.create_machine(name="test-machine", dataset=latest64, package="Small 1GB")
    assert isinstance(test_machine, Machine)
    assert test_machine.state == "provisioning"

    test_machine.poll_while("provisioning", interval=1)
    assert test_machine.state == "running"

    assert test_machine == east.machines(name="test-machine")[0]

    assert test_machine.public_ips[0]  # what ssh_conn.connect(...) would be given

    test_machine.stop()

    test_machine.poll_until("stopped")

    test_machine.delete()

    # Between the tutorial's two parts: let the deletion finish, then "accumulate" machines.
    test_machine.poll_until("deleted", interval=0.05)
    for n in range(3):
        east.create_machine(name=f"left-over-{n}").poll_while("provisioning", interval=0.05)
    assert east.num_machines() == 3  # Pool(0) would raise: the seed runs this with machines

    from multiprocessing.dummy import Pool
    from operator import methodcaller

    simultaneous = Pool(east.num_machines())
    all_machines = east.machines()

    simultaneous.map(methodcaller("stop"), all_machines)

    simultaneous.map(methodcaller("poll_until", "stopped"), all_machines)

    assert simultaneous.map(methodcaller("status"), all_machines) == ["stopped"] * 3

    simultaneous.map(methodcaller("delete"), all_machines)

    simultaneous.close()
    simultaneous.join()
    assert east.num_machines() == 0

    echoed = capsys.readouterr().err
    assert "GET /test/keys" in echoed and "POST /test/machines" in echoed
    sdc.close()
    east.close()


# --- what a mistake looks like ------------------------------------------------------------


def test_a_machine_may_be_named_and_unknown_ones_are_explained(
    sdc: DataCenter, run_tag: dict[str, str]
) -> None:
    m = running_machine(sdc, run_tag)
    assert m.name is not None
    assert sdc.machine(m.name) == m
    assert sdc.raw_machine_data(m.name)["id"] == m.id
    assert Machine(sdc, m.name).id == m.id

    with pytest.raises(ResourceNotFoundError, match=r"no machine named 'nope'.*UUID"):
        sdc.machine("nope")
    missing = str(uuid.uuid4())
    with pytest.raises(ResourceNotFoundError) as caught:
        sdc.machine(missing)
    assert missing in str(caught.value) and caught.value.status == 404

    m.delete()


def test_an_unknown_package_lists_close_names(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    with pytest.raises(ResourceNotFoundError, match=r"'Small 1G'.*did you mean Small 1GB"):
        sdc.package("Small 1G")
    with pytest.raises(ResourceNotFoundError, match=r"'Small 1G'.*did you mean Small 1GB"):
        sdc.create_machine(dataset="base-64-lts", package="Small 1G", tags=run_tag)
    assert sdc.num_machines(tags=run_tag) == 0
    with pytest.raises(ResourceNotFoundError, match=r"'smartos-64'.*did you mean smartos64"):
        sdc.create_machine(dataset="smartos-64", package="Small 1GB", tags=run_tag)


def test_key_file_mistakes_name_the_file(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    key = keys["rsa_encrypted"]
    absent = tmp_path / "id_typo"
    with pytest.raises(KeyFileError, match=re.escape(str(absent))):
        DataCenter(location=emulator.url, key_id=key_id(key), secret=absent)
    with pytest.raises(WrongPassphraseError, match=re.escape(str(key.path))):
        DataCenter(location=emulator.url, key_id=key_id(key), secret=key.path, passphrase="no")
    with pytest.raises(PassphraseRequiredError, match=re.escape(str(key.path))):
        DataCenter(location=emulator.url, key_id=key_id(key), secret=key.path)
    answers = iter(["wrong", key.passphrase])
    with DataCenter(
        location=emulator.url,
        key_id=key_id(key),
        secret=key.path,
        passphrase=lambda prompt: next(answers),
    ) as dc:
        assert dc.me()["login"] == ACCOUNT


def test_a_skewed_local_clock_is_explained(
    sdc: DataCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    behind = 3600.0

    def skewed_date(when: float | None = None) -> str:
        return format_http_date(time.time() - behind)

    # The local clock runs an hour late: the Date we sign with, and the "now" we compare the
    # server's Date with.
    monkeypatch.setattr(signers, "format_http_date", skewed_date)
    late_clock = types.SimpleNamespace(
        time=lambda: time.time() - behind, monotonic=time.monotonic, sleep=time.sleep
    )
    monkeypatch.setattr(transport, "time", late_clock)
    with pytest.raises(CloudAPIError) as caught:
        sdc.me()
    assert caught.value.status in (400, 401)
    assert caught.value.hint is not None
    assert re.search(r"clock differs from the server by 3\d{3} s", str(caught.value))
    assert "behind the server" in str(caught.value)
