"""``smartdc instance create`` beside ``triton instance create``, on the same emulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import CliWorld, Result

IMAGE = "base-64-lts"
PACKAGE = "g4-highcpu-128M"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DURATION = re.compile(r" in \d+(ms|s)$", re.MULTILINE)
#: Fields that differ between two instances created alike.
VOLATILE = ("id", "name", "created", "updated", "compute_node", "ips", "primaryIp", "nics")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Metadata, script and tag files as a user would pass them."""
    root = tmp_path_factory.mktemp("create-files")
    made = {
        "motd": root / "motd.txt",
        "script": root / "script.sh",
        "tags": root / "tags.txt",
        "meta_json": root / "meta.json",
    }
    made["motd"].write_bytes(b"hello\r\nworld\n")
    made["script"].write_text("#!/bin/sh\necho hi\n")
    made["tags"].write_text("env=prod\n\nreplicas=3\n")
    made["meta_json"].write_text('  {"from_json": true, "ratio": 1.5}\n')
    return made


def _normalized(text: str) -> str:
    return _DURATION.sub(" in N", _UUID.sub("UUID", text))


def _comparable(machine: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in machine.items() if key not in VOLATILE}


def _first_error(result: Result, prog: str) -> str:
    return result.err.splitlines()[0].replace(prog, "CLI") if result.err else ""


def test_create_matches_triton(world: CliWorld, files: dict[str, Path]) -> None:
    options = [
        "-t", "role=web", "-t", "count=3", "-t", "flag=true", "-t", "hex=0x10", "-t",
        f"@{files['tags']}", "-m", "foo=bar", "-m", "num= 5 ", "-m", "{\"j\": \"son\"}",
        "-m", f"@{files['meta_json']}", "-M", f"motd={files['motd']}",
        "--script", str(files["script"]), "-N", "My-Fabric-Network",
        "--firewall", "--deletion-protection",
    ]  # fmt: skip
    ours = world.run("create", "-w", "-n", "ours1", *options, IMAGE, PACKAGE)
    theirs = world.triton("create", "-w", "-n", "theirs1", *options, IMAGE, PACKAGE)
    assert ours.status == theirs.status == 0, ours.err
    assert _normalized(ours.out).replace("ours1", "X") == _normalized(theirs.out).replace(
        "theirs1", "X"
    )
    assert re.fullmatch(
        r"Creating instance ours1 \(" + _UUID.pattern + r", base-64-lts@23\.4\.0, "
        r"g4-highcpu-128M\)\nCreated instance ours1 \(" + _UUID.pattern + r"\) in \d+m?s\n",
        ours.out,
    )
    mine = world.ok("instance", "get", "-j", "ours1").json()
    other = world.ok("instance", "get", "-j", "theirs1").json()
    assert _comparable(mine) == _comparable(other)
    assert mine["tags"] == {
        "role": "web", "count": 3, "flag": True, "hex": 16, "env": "prod", "replicas": 3,
    }  # fmt: skip
    assert mine["metadata"]["motd"] == "hello\r\nworld\n"
    assert mine["metadata"]["user-script"] == "#!/bin/sh\necho hi\n"
    assert mine["metadata"]["num"] == 5
    assert mine["metadata"]["from_json"] is True
    assert mine["firewall_enabled"] is mine["deletion_protection"] is True


def test_wait_json_prints_the_new_and_the_running_instance(world: CliWorld, api: CloudAPI) -> None:
    lines = world.ok("instance", "create", "-w", "-j", "-n", "jsonwait", IMAGE, PACKAGE).ndjson()
    assert [line["state"] for line in lines] == ["provisioning", "running"]
    assert lines[0]["id"] == lines[1]["id"]
    assert world.ok("instance", "get", "-j", lines[0]["id"]).json()["state"] == "running"
    # without -w, -j prints the new instance only; without -j, one line
    just_made = world.ok("create", "-j", "-n", "jsonnowait", IMAGE, PACKAGE).ndjson()
    assert len(just_made) == 1 and just_made[0]["name"] == "jsonnowait"
    short_id = api.list_packages(name=PACKAGE)[0]["id"][:8]
    out = world.ok("create", "-n", "plain", IMAGE, short_id).out
    assert re.fullmatch(
        r"Creating instance plain \(" + _UUID.pattern + r", base-64-lts@23\.4\.0, "
        r"g4-highcpu-128M\)\n",
        out,
    )


def test_dry_run_creates_nothing_and_prints_what_triton_prints(
    world: CliWorld, api: CloudAPI
) -> None:
    before = len(api.list_machines())
    for args in (["--dry-run"], ["--dry-run", "-j", "-n", "x"], ["--dry-run", "-w", "-j"]):
        ours = world.run("create", *args, IMAGE, PACKAGE)
        if "-w" in args:
            assert ours.out == (
                "Creating instance this-is-a-dry-run (beefbeef-4c0e-11e5-86cd-a7fd38d2a50b, "
                "base-64-lts@23.4.0)\n"
                '{"id":"beefbeef-4c0e-11e5-86cd-a7fd38d2a50b","name":"this-is-a-dry-run",'
                '"state":"running"}\n'
            )
            continue  # triton sleeps 5 s to pretend it waits; not worth the wait here
        theirs = world.triton("create", *args, IMAGE, PACKAGE)
        assert (ours.status, ours.out) == (theirs.status, theirs.out) == (0, theirs.out)
    assert len(api.list_machines()) == before


def test_failed_provision_exits_1_like_triton(
    world: CliWorld, cli_emulator: EmulatorServer
) -> None:
    cli_emulator.inject(fail_provision=2)
    ours = world.run("create", "-w", "-n", "doomed1", IMAGE, PACKAGE)
    theirs = world.triton("create", "-w", "-n", "doomed2", IMAGE, PACKAGE)
    assert ours.status == theirs.status == 1
    assert ours.out.startswith("Creating instance doomed1 (")
    assert "Created" not in ours.out
    assert _normalized(ours.err).replace("smartdc", "triton").replace("doomed1", "doomed2") == (
        _normalized(theirs.err)
    )
    assert re.fullmatch(
        r"smartdc instance create: error: failed to create instance doomed1 \("
        + _UUID.pattern
        + r"\)\n",
        ours.err,
    )


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["nope", PACKAGE], 3),
        ([IMAGE, "nope"], 3),
        ([IMAGE], 1),
        (["-m", "foo", IMAGE, PACKAGE], 1),
        (["-m", '{"a": {"b": 1}}', IMAGE, PACKAGE], 1),
        (["-m", "@/no/such/file", IMAGE, PACKAGE], 1),
        (["-M", "k=/no/such/file", IMAGE, PACKAGE], 1),
        (["-t", "", IMAGE, PACKAGE], 1),
        (["-N", "My-Fabric-Network", "--nic", "ipv4_uuid=x", IMAGE, PACKAGE], 1),
        (["-N", "nonet", IMAGE, PACKAGE], 3),
        (["-v", "data", "-v", "x:/mnt:zz", IMAGE, PACKAGE], 1),
        (["--nic", "ipv4_ips=10.0.0.1", IMAGE, PACKAGE], 1),
        (["--disk", '{"size": -1}', IMAGE, PACKAGE], 1),
        (["--bogus", IMAGE, PACKAGE], 1),
    ],
)
def test_errors_match_triton(world: CliWorld, args: list[str], status: int) -> None:
    ours = world.run("instance", "create", "--dry-run", *args)
    theirs = world.triton("instance", "create", "--dry-run", *args)
    assert ours.status == theirs.status == status
    assert ours.out == theirs.out == ""
    assert _first_error(ours, "smartdc instance create") == _first_error(
        theirs, "triton instance create"
    )
    if ours.err.count("\n") > 1 and "usage:" not in ours.err:
        assert ours.err.replace("smartdc", "triton") == theirs.err  # MultiError lines


def test_cloudapi_refusals_read_like_triton(world: CliWorld) -> None:
    world.ok("create", "-n", "taken", IMAGE, PACKAGE)
    for args in (["-n", "taken"], ["-b", "lx"]):
        ours = world.run("create", *args, IMAGE, PACKAGE)
        theirs = world.triton("create", *args, IMAGE, PACKAGE)
        assert ours.status == theirs.status == 1
        assert ours.err.replace("smartdc", "triton") == theirs.err
    assert world.run("create", "-n", "taken", IMAGE, PACKAGE).err.startswith(
        "smartdc instance create: error: error creating instance\n"
        "    alias: Duplicate: Already exists for this owner_uuid: "
    )


def test_replaced_keys_warn_like_triton(world: CliWorld) -> None:
    args = ["--dry-run", "-m", "a=1", "-m", "a=a-rather-long-value", "-t", "t=x", "-t", "t=true"]
    ours, theirs = (
        world.run("create", *args, IMAGE, PACKAGE),
        world.triton("create", *args, IMAGE, PACKAGE),
    )
    assert (
        ours.err
        == theirs.err
        == (
            'warning: metadata "a=a-rathe..." replaces earlier value for "a"\n'
            'warning: tag "t=true" replaces earlier value for "t"\n'
        )
    )


def test_nics_volumes_disks_and_flags_reach_the_instance(
    world: CliWorld, api: CloudAPI, files: dict[str, Path]
) -> None:
    fabric = next(net for net in api.list_networks() if net["name"] == "My-Fabric-Network")
    nic = f"ipv4_uuid={fabric['id']},ipv4_ips=192.168.128.77"
    made = world.ok(
        "create", "-j", "-w", "-n", "wired", "--nic", nic, "-a", "instance!=web*",
        "--cloud-config", str(files["motd"]), IMAGE, PACKAGE,
    ).ndjson()[-1]  # fmt: skip
    assert made["primaryIp"] == "192.168.128.77"
    assert made["networks"] == [fabric["id"]]
    assert made["metadata"]["cloud-init:user-data"] == "hello\r\nworld\n"
    hv = world.ok(
        "create", "-j", "-w", "-n", "flexible", "-b", "bhyve", "--disk", "{}",
        "--disk", '{"size": "remaining"}', "ubuntu-certified-22.04", "b1-flex-1G",
    ).ndjson()[-1]  # fmt: skip
    assert hv["brand"] == "bhyve"
    sizes = [disk["size"] for disk in api.list_machine_disks(hv["id"])]
    assert len(sizes) == 2 and sum(sizes) == hv["disk"]
    # Volumes reach CloudAPI, which refuses them where automounting is off (its default).
    mounted = world.run("create", "-v", "vol1:/data", "-v", "vol2:/mnt:ro", IMAGE, PACKAGE)
    assert mounted.status == 1
    assert "Support for automounting volumes is not enabled" in mounted.err


def test_nic_and_disk_mistakes_are_reported_not_crashed(world: CliWorld) -> None:
    bad_uuid = world.run("create", "--dry-run", "--nic", "ipv4_uuid=nope", IMAGE, PACKAGE)
    assert bad_uuid.status == 1
    assert bad_uuid.err.startswith(
        'smartdc instance create: error (Usage): invalid ipv4_uuid "nope": must be a network UUID'
    )
    bad_json = world.run("create", "--dry-run", "--disk", "{size: 1}", IMAGE, PACKAGE)
    assert bad_json.status == 1
    assert bad_json.err.startswith("smartdc instance create: error: {size: 1} is not valid JSON")
    twice = world.run(
        "create", "--dry-run", "--nic", "ipv4_uuid=1bc72505-120f-5001-b221-ba676627d6ba",
        "--nic", "ipv4_uuid=1bc72505-120f-5001-b221-ba676627d6ba", IMAGE, PACKAGE,
    )  # fmt: skip
    assert twice.err.splitlines()[0] == (
        "smartdc instance create: error (Usage): only 1 ip on a network allowed "
        "(network 1bc72505-120f-5001-b221-ba676627d6ba specified multiple times)"
    )
