"""``smartdc info``, ``account get|limits|update``, ``services`` and ``datacenters`` beside
``triton``'s, on the same emulator (and, for limits the emulator never sets, on a fake
CloudAPI that both CLIs talk to)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartdc.api import CloudAPI
from tests.cli.harness import CliWorld
from tests.cli.test_accesskey import FakeCloudAPI
from tests.cli.test_key import tritons
from tests.conftest import ACCOUNT, TestKey


def _first_err_line(text: str) -> str:
    return text.splitlines()[0].replace("smartdc", "triton") if text else ""


@pytest.fixture(scope="module")
def api(world: CliWorld) -> Iterator[CloudAPI]:
    with CloudAPI(world.url, ACCOUNT, key_id=world.key.md5, key_file=world.key.path) as client:
        yield client


def test_info_matches_triton_before_and_after_instances(world: CliWorld, api: CloudAPI) -> None:
    argsets = (["info"], ["info", "-j"])
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    assert world.ok("info", "-j").json()["instances"] == {}

    image = api.list_images(name="base-64-lts")[0]["id"]
    package = api.list_packages(name="g4-highcpu-128M")[0]["id"]
    ids = [api.create_machine(image=image, package=package, name=n)["id"] for n in ("i1", "i2")]
    _settle(api, {ids[0]: "running", ids[1]: "running"})
    api.stop_machine(ids[1])
    _settle(api, {ids[0]: "running", ids[1]: "stopped"})

    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    summary = world.ok("info", "-j").json()
    assert summary["totalInstances"] == 2
    assert summary["instances"] == {"running": 1, "stopped": 1}
    assert summary["url"] == world.url
    text = world.ok("info").out
    assert "instances: 2\n" in text and "    stopped: 1\n" in text
    for machine in ids:
        api.delete_machine(machine)


def _settle(api: CloudAPI, wanted: dict[str, str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = {m["id"]: m["state"] for m in api.list_machines()}
        if all(states.get(i) == s for i, s in wanted.items()):
            return
        time.sleep(0.1)
    pytest.fail(f"instances did not reach {wanted}")


_AGE = re.compile(r" \(\d+[smhdwy]\)$", re.MULTILINE)


def test_account_get_and_update_match_triton(world: CliWorld, tmp_path: Path) -> None:
    ours, theirs = world.run("account", "get"), world.triton("account", "get")
    assert ours.status == theirs.status == 0
    # the ages are each CLI's own clock reading: compare the rest
    assert _AGE.sub("", ours.out) == _AGE.sub("", theirs.out)
    assert re.search(r"^created: \S+Z \(\d+[smhdwy]\)$", ours.out, re.MULTILINE)
    assert world.ok("account", "get", "-j").json() == world.triton("account", "get", "-j").json()

    ours = world.run("account", "update", "email=who@example.com", "firstName=Ada", "phone=123")
    assert ours.out == 'Updated account "test" (fields: email, firstName, phone)\n'
    account = world.ok("account", "get", "-j").json()
    # phone is typed string: "123" is not turned into a number
    assert (account["email"], account["firstName"], account["phone"]) == (
        "who@example.com",
        "Ada",
        "123",
    )
    theirs = world.triton("account", "update", "lastName=Lovelace", "triton_cns_enabled=true")
    ours = world.run("account", "update", "lastName=Lovelace", "triton_cns_enabled=true")
    assert ours.out == theirs.out
    assert world.ok("account", "get", "-j").json()["triton_cns_enabled"] is True
    assert "name: Ada Lovelace\n" in world.ok("info").out

    update = tmp_path / "update.json"
    update.write_text('{"city": "London", "triton_cns_enabled": false}')
    assert world.ok("account", "update", "-f", str(update)).out == (
        'Updated account "test" (fields: city, triton_cns_enabled)\n'
    )
    world.ok("account", "update", "-f", "-", stdin='{"country": "UK"}')
    account = world.ok("account", "get", "-j").json()
    assert (account["city"], account["country"], account["triton_cns_enabled"]) == (
        "London",
        "UK",
        False,
    )


def test_account_update_refuses_what_triton_refuses(world: CliWorld, tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{bad")
    argsets = (["account", "update", "foo=bar"], ["account", "update", "triton_cns_enabled=maybe"])
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert ours.status == theirs.status == 1, args
        assert _first_err_line(ours.err) == _first_err_line(theirs.err), args
    # what triton 7.17 says to these (recorded from it)
    for args, message in (
        ([], "error (Usage): Input object must not be empty"),
        (["email"], 'error (Usage): invalid key=value: "email"'),
        (
            ["email=a@b.c", "triton_cns_enabled="],
            'error (Usage): field "triton_cns_enabled" must be of type "boolean", but got a '
            'value of type "object"',
        ),
    ):
        ours = world.run("account", "update", *args)
        assert ours.status == 1
        assert ours.err.splitlines()[0] == f"smartdc account update: {message}", args
    ours = world.run("account", "update", "-f", str(bad_json))
    assert ours.status == 1
    assert ours.err.startswith(
        f'smartdc account update: error: invalid JSON for account update in "{bad_json}": '
    )
    ours = world.run("account", "update", "-f", "-", stdin="[1]")
    assert ours.status == 1 and "must be a JSON object, not an array" in ours.err


def test_services_and_datacenters_match_triton(world: CliWorld) -> None:
    argsets = (
        ["services"],
        ["services", "-j"],
        ["datacenters"],
        ["datacenters", "-H", "-o", "url,name", "-s", "url"],
        ["account", "limits"],
        ["account", "limits", "-j"],
    )
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    assert world.ok("services", "-H", "-o", "endpoint").out == f"{world.url}\n"
    # what triton 7.17 says to arguments these commands take none of (recorded from it)
    for prog, extra in (("info", ["extra"]), ("account get", ["x"]), ("datacenters", ["x", "y"])):
        ours = world.run(*prog.split(), *extra)
        assert (ours.status, ours.out, ours.err) == (
            1,
            "",
            f"smartdc {prog}: error: invalid args: {','.join(extra)}\n",
        ), prog
    assert world.url in world.ok("datacenters", "-j").json().values()


LIMITS = [
    {"by": "ram", "value": 2048, "used": 512},
    {"by": "quota", "value": 0, "used": 10, "check": "os", "os": "smartos"},
    {"by": "machines", "value": 20, "used": 3, "check": "image", "image": "base-64-lts"},
]


def test_limits_with_entries_match_triton(keys: dict[str, TestKey], tmp_path: Path) -> None:
    with FakeCloudAPI() as fake:
        fake.route("GET", f"/{ACCOUNT}/limits", body=LIMITS)
        world = CliWorld(tmp_path, fake.url, keys["rsa"])
        argsets = (["account", "limits"], ["account", "limits", "-j"])
        for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
            ours = world.run(*args)
            assert (ours.status, ours.out) == (theirs.status, theirs.out), args
        assert world.ok("account", "limits").out.splitlines() == [
            "TYPE       USED  LIMIT  OS        IMAGE",
            "ram         512   2048  -         -",
            "quota        10      0  smartos   -",
            "machines      3     20  -         base-64-lts",
        ]
        assert world.ok("account", "limits", "-j").json()[0] == {
            "used": 512,
            "limit": 2048,
            "type": "ram",
        }
        # -H is honoured (triton refuses it although its code reads it)
        assert world.ok("account", "limits", "-H").out.startswith("ram ")
        assert {r.path for r in fake.take()} == {f"/{ACCOUNT}/limits"}
