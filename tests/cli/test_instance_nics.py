"""``smartdc instance nic`` beside ``triton``'s, on one emulator."""

from __future__ import annotations

import json

import pytest

from smartdc.api import CloudAPI
from smartdc.cli.commands.instance_nics import cidr_suffix
from tests.cli.harness import CliWorld, Result

FABRIC = "My-Fabric-Network"


@pytest.fixture(scope="module")
def api(world: CliWorld) -> CloudAPI:
    return CloudAPI(world.url, "test", key_file=world.key.path)


@pytest.fixture(scope="module")
def machine(api: CloudAPI) -> str:
    """The id of instance ``nicky``, on the public and the private network."""
    image = api.list_images(name="base-64-lts")[-1]
    return str(api.create_machine(name="nicky", image=image["id"], package="g4-highcpu-128M")["id"])


@pytest.fixture(scope="module")
def fabric(api: CloudAPI) -> str:
    return str(next(n["id"] for n in api.list_networks() if n["name"] == FABRIC))


def _first_error(result: Result) -> str:
    lines = result.err.splitlines()
    return lines[0].replace("smartdc ", "triton ") if lines else ""


def test_cidr_suffix_counts_leading_ones() -> None:
    assert [cidr_suffix(m) for m in ("255.254.0.0", "255.255.252.0", "255.255.255.255")] == [
        15,
        22,
        32,
    ]


def test_list_matches_triton(world: CliWorld, machine: str) -> None:
    for args in (
        ["instance", "nic", "list", "nicky"],
        ["instance", "nic", "ls", "-l", machine],
        ["instance", "nic", "ls", "nicky", "-j"],
        ["instance", "nic", "ls", "nicky", "state=running", "primary=true", "-H"],
    ):
        ours, theirs = world.run(*args), world.triton(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    table = world.ok("instance", "nic", "list", "nicky").out.splitlines()
    assert table[0].split() == ["IP", "MAC", "STATE", "NETWORK"]
    assert any(line.split()[0].endswith("/15") for line in table[1:])  # 255.254.0.0


def test_list_filters_on_the_client(world: CliWorld, machine: str) -> None:
    nics = world.ok("instance", "nic", "list", "nicky", "-j").ndjson()
    public = next(nic for nic in nics if nic["primary"])
    for filters in (
        [f"ip={public['ip']}"],
        [f"mac={public['mac']}"],
        [f"network={public['network']}"],
        [f"netmask={public['netmask']}"],  # documented by triton, refused by its code
        ["primary=true", "state=running"],
    ):
        found = world.ok("instance", "nic", "ls", "nicky", *filters, "-j").ndjson()
        assert found == [public], filters
    assert world.ok("instance", "nic", "ls", "nicky", "state=stopped").out == (
        "IP  MAC  STATE  NETWORK\n"
    )
    for args in (["ls", "nicky", "bogus=1"], ["ls", "nicky", "foo"], ["ls"]):
        ours, theirs = world.run("instance", "nic", *args), world.triton("instance", "nic", *args)
        assert ours.status == theirs.status == 1, args
    bad = world.run("instance", "nic", "list", "nicky", "foo")
    assert _first_error(bad) == _first_error(
        world.triton("instance", "nic", "list", "nicky", "foo")
    )


def test_create_get_delete(world: CliWorld, machine: str, fabric: str) -> None:
    created = world.ok("instance", "nic", "create", "nicky", FABRIC)
    assert created.out.startswith("Created NIC 90:b8:d0:")
    mac = created.out.split()[-1]

    # the instance has a NIC on that network already: CloudAPI answers 302
    for run in (world.run, world.triton):
        again = run("instance", "nic", "create", "nicky", fabric[:8])
        assert again.status == 1
        assert again.err.endswith("error: Instance already has a NIC on that network\n")

    ours = world.run("instance", "nic", "get", "nicky", mac)
    theirs = world.triton("instance", "nic", "get", "nicky", mac)
    assert (ours.status, ours.out) == (theirs.status, theirs.out)
    nic = ours.json()
    assert (nic["mac"], nic["network"], nic["primary"]) == (mac, fabric, False)
    compact = mac.replace(":", "")
    assert world.ok("instance", "nic", "get", machine, compact, "-j").json() == nic

    assert world.ok("instance", "nic", "delete", "-f", "nicky", mac).out == f"Deleted NIC {mac}\n"
    macs = [n["mac"] for n in world.ok("instance", "nic", "ls", "nicky", "-j").ndjson()]
    assert mac not in macs

    # NIC options instead of a network, waiting, JSON, primary
    args = [f"ipv4_uuid={fabric}", "ipv4_ips=192.168.128.77", "-w", "-j", "-p"]
    waited = world.ok("instance", "nic", "create", "nicky", *args)
    lines = waited.out.splitlines()
    assert len(lines) == 1  # with -j only the NIC
    nic = json.loads(lines[0])
    assert (nic["ip"], nic["primary"], nic["state"]) == ("192.168.128.77", True, "running")
    world.ok("instance", "nic", "rm", "-f", "nicky", nic["mac"])

    plain = world.ok("instance", "nic", "create", "-w", "nicky", FABRIC).out.splitlines()
    assert plain[0].startswith("Creating NIC ") and plain[1] == plain[0].replace(
        "Creating", "Created"
    )
    world.ok("instance", "nic", "rm", "-f", "nicky", plain[0].split()[-1])


def test_failures_like_triton(world: CliWorld, machine: str) -> None:
    for args, status in (
        (["get", "nicky", "90:b8:d0:00:00:00"], 1),  # CloudAPI's 404, passed through
        (["get", "nicky", "nope"], 1),
        (["delete", "-f", "nicky", "90:b8:d0:00:00:00"], 1),
        (["create", "nicky", "nosuchnet"], 3),
        (["create", "nicky", "ipv4_ips=10.0.0.1"], 1),
        (["create", "nicky", "a", "ipv4_uuid=x"], 1),
        (["create", "nicky"], 1),
    ):
        ours = world.run("instance", "nic", *args)
        theirs = world.triton("instance", "nic", *args)
        assert ours.status == theirs.status == status, args
        if "nope" not in args:  # CloudAPI's message vs our own MAC check
            assert _first_error(ours) == _first_error(theirs), args
    for args, message in (
        (["create", "nicky", "a", "b"], "incorrect number of arguments"),
        (["create", "nicky", "ipv4_uuid=x"], 'ipv4_uuid must be a network UUID, not "x"'),
        (["get", "nicky"], "missing INST and MAC arguments"),
        (["delete", "nicky"], "missing INST and MAC argument(s)"),
    ):
        result = world.run("instance", "nic", *args)
        assert result.status == 1, args
        assert result.err.splitlines()[0].endswith(f"error (Usage): {message}"), args
    refused = world.run("instance", "nic", "delete", "nicky", "90:b8:d0:00:00:00")
    assert refused.status == 1 and "-f" in refused.err
