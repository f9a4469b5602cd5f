"""``smartdc image`` beside ``triton image``, on an emulator of this module's own.

Two accounts (``test`` and ``other``, for sharing and cloning) and two datacenters (for
``image copy``); jobs take a little while, so ``image wait`` has something to wait for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import CliWorld
from tests.cli.side_by_side import run_on_terminal, same_as_triton
from tests.conftest import ACCOUNT, TestKey

OTHER = "other"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path], OTHER: [keys["ed25519"].pub_path]},
        datacenters=["img-1", "img-2"],
        data_dir=tmp_path_factory.mktemp("image-data"),
        provision_delay=0.25,
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def world(
    server: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> CliWorld:
    return CliWorld(tmp_path_factory.mktemp("image-home"), server.url, keys["rsa"])


def _stopped_machine(api: CloudAPI, name: str) -> str:
    image = api.list_images(name="base-64-lts")[-1]
    machine = api.create_machine(image=image["id"], package="g4-highcpu-128M", name=name)
    for wanted in ("running", "stopped"):
        deadline = time.monotonic() + 30
        while api.get_machine(machine["id"])["state"] != wanted:
            assert time.monotonic() < deadline, f"{name} never became {wanted}"
            time.sleep(0.05)
        if wanted == "running":
            api.stop_machine(machine["id"])
    return str(machine["id"])


def _wait_active(api: CloudAPI, image_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (img := api.get_image(image_id))["state"] != "active":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return img


@pytest.fixture(scope="module")
def machine(api: CloudAPI) -> str:
    return _stopped_machine(api, "builder")


@pytest.fixture(scope="module")
def images(world: CliWorld, machine: str) -> dict[str, str]:
    """Two images of ours, ``app@1.0`` and ``app@2.0``, made with ``smartdc image create``."""
    made = world.ok("image", "create", "builder", "app", "1.0", "-w", "-j").ndjson()
    assert [m["state"] for m in made] == ["creating", "active"]
    second = world.ok("image", "create", "builder", "app", "2.0", "-j").json()
    assert second["state"] == "creating"
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as client:
        _wait_active(client, second["id"])
    return {"1.0": made[-1]["id"], "2.0": second["id"]}


@pytest.fixture(scope="module")
def shared_with_us(
    server: EmulatorServer, keys: dict[str, TestKey], api: CloudAPI
) -> Iterator[dict[str, Any]]:
    """An image of account ``other``, shared with ``test``."""
    with CloudAPI(server.url, OTHER, key_file=keys["ed25519"].path) as other:
        machine = _stopped_machine(other, "theirs")
        img = other.create_image_from_machine(machine=machine, name="gift", version="1")
        _wait_active(other, img["id"])
        yield other.update_image(img["id"], acl=[api.get_account()["id"]])


def _scrub(text: str) -> str:
    return UUID.sub("<uuid>", re.sub(r" in \d+(ms|s)\b", " in <time>", text))


# --- list and get ------------------------------------------------------------------------------


def test_list_tables_match_triton(
    world: CliWorld, images: dict[str, str], shared_with_us: dict[str, Any]
) -> None:
    for args in (
        ["image", "list"],
        ["images", "-l"],
        ["imgs", "-a", "-o", "shortid,name,version,size,pub,flags,state", "-s", "-pub,name"],
        ["img", "ls", "-H", "name=~ubuntu", "-o", "id,name,tags"],
        ["img", "ls", "public=false", "-s", "version"],
        ["img", "ls", "-o", "name,nosuchfield,origin"],
    ):
        same_as_triton(world, *args)
    table = world.ok("img", "ls", "-o", "name,version,flags").out
    # "I": made from an instance; "S": shared with us
    assert re.search(r"^gift\s+1\s+IS\s*$", table, re.M)
    assert re.search(r"^app\s+1\.0\s+I\S*\s*$", table, re.M)


def test_list_json_matches_triton(world: CliWorld, images: dict[str, str]) -> None:
    ours = world.ok("img", "ls", "-j", "-a").ndjson()
    assert ours == world.triton("img", "ls", "-j", "-a").ndjson()
    assert {img["id"] for img in ours} >= set(images.values())
    assert "shortid" not in ours[0]


def test_list_errors_match_triton(world: CliWorld) -> None:
    for args in (["img", "ls", "foo"], ["img", "ls", "bogus=1"], ["img", "ls", "--bogus"]):
        result = same_as_triton(world, *args)
        assert result.status == 1


def test_get_by_name_version_and_short_id(world: CliWorld, images: dict[str, str]) -> None:
    latest = world.ok("img", "get", "app").json()
    assert latest["id"] == images["2.0"]
    assert world.ok("img", "get", "app@1.0", "-j").json()["id"] == images["1.0"]
    assert world.ok("img", "get", images["1.0"][:8], "-j").json()["id"] == images["1.0"]
    for args in (["img", "get", "app"], ["img", "get", "app@1.0", "-j"]):
        same_as_triton(world, *args)


def test_get_inactive_only_with_all(world: CliWorld) -> None:
    # base-64@18.4.0 is disabled in the emulator's catalog
    assert same_as_triton(world, "img", "get", "base-64@18.4.0").status == 3
    assert same_as_triton(world, "img", "get", "-a", "base-64@18.4.0").status == 0


def test_get_failures_match_triton(world: CliWorld) -> None:
    assert same_as_triton(world, "img", "get", "nope").status == 3
    assert same_as_triton(world, "img", "get").status == 1
    assert same_as_triton(world, "img", "get", "a", "b").status == 1


# --- create and wait ---------------------------------------------------------------------------


def test_create_prints_what_triton_prints(world: CliWorld, machine: str) -> None:
    ours = world.run("img", "create", "builder", "same", "1", "-w", "-d", "made here")
    theirs = world.triton("img", "create", "builder", "same", "2", "-w", "-d", "made here")
    assert ours.status == theirs.status == 0
    assert _scrub(ours.out).replace("same@1", "same@2") == _scrub(theirs.out)
    assert re.fullmatch(
        rf"Creating image same@1 \(({UUID.pattern})\)\nCreated image \1 \(same@1\) in \d+m?s\n",
        ours.out,
    )
    no_wait = world.ok("img", "create", machine, "same", "3")
    assert re.fullmatch(rf"Creating image same@3 \({UUID.pattern}\)\n", no_wait.out)


def test_create_sends_tags_acl_and_fields(world: CliWorld, api: CloudAPI, machine: str) -> None:
    account = "0c4fe9b5-4f5c-4c4e-8a1e-0f8b7d8c1a22"
    made = world.ok(
        "img",
        "create",
        "builder",
        "tagged",
        "1",
        "-w",
        "-j",
        "--acl",
        account,
        "--homepage",
        "https://example.com",
        "-t",
        "n=3",
        "-t",
        '{"role": "web"}',
        "-t",
        "n=4",
    )
    assert 'warning: tag "n=4" replaces earlier value for "n"' in made.err
    img = api.get_image(made.ndjson()[-1]["id"])
    assert img["tags"] == {"n": 4, "role": "web"}
    assert img["acl"] == [account]
    assert img["homepage"] == "https://example.com"


def test_create_usage_errors_match_triton(world: CliWorld) -> None:
    for args in (
        ["img", "create", "builder", "x"],
        ["img", "create", "builder", "x", "1", "--acl", "bad"],
        ["img", "create", "nope", "x", "1"],
    ):
        ours, theirs = world.run(*args), world.triton(*args)
        assert ours.status == theirs.status != 0
        assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]


def test_create_dry_run_names_the_instance(world: CliWorld, machine: str) -> None:
    result = world.ok("img", "create", "--dry-run", "builder", "dry", "1")
    assert result.out == f"Creating image dry@1 from instance {machine} (builder)\n"
    assert world.run("img", "get", "dry").status == 3


def test_wait_for_an_image_being_created(world: CliWorld, api: CloudAPI, machine: str) -> None:
    img = api.create_image_from_machine(machine=machine, name="slow", version="1")
    result = world.ok("img", "wait", "slow")
    assert result.out == (
        f"Waiting for image {img['id']} (slow@1) to enter state (states: active, failed)\n"
        f"1/1: Image {img['id']} (slow@1) moved to state active\n"
    )
    again = same_as_triton(world, "img", "wait", "slow", "-s", "creating", "-s", "active,failed")
    assert again.out == f"1/1: Image {img['id']} (slow@1) already active\n"


def test_wait_for_an_unknown_image_fails_as_triton(world: CliWorld) -> None:
    result = same_as_triton(world, "img", "wait", "nope")
    assert result.status == 1
    assert result.err == (
        'smartdc image wait: error: first of 1 error: no image with nope or short id "nope" was'
        " found\n"
    )
    assert same_as_triton(world, "img", "wait", "nope", "nada").status == 1


# --- share, update, tag, export, copy, clone ---------------------------------------------------


def test_share_and_unshare(world: CliWorld, api: CloudAPI, images: dict[str, str]) -> None:
    account = "0c4fe9b5-4f5c-4c4e-8a1e-0f8b7d8c1a33"
    shared = same_as_triton(world, "img", "share", "app@1.0", account)
    assert shared.out == f"Shared image app@1.0 with account {account}\n"
    assert api.get_image(images["1.0"])["acl"] == [account]
    same_as_triton(world, "img", "ls", "-o", "shortid,name,version,flags")
    assert world.ok("img", "unshare", "app@1.0", account).out == (
        f"Unshared image app@1.0 with account {account}\n"
    )
    again = same_as_triton(world, "img", "unshare", "app@1.0", account)
    assert again.status == 1
    assert f"error unsharing image: image is not shared with {account}" in again.err
    assert same_as_triton(world, "img", "share", "app@1.0").status == 1


def test_update_and_tag(world: CliWorld, api: CloudAPI, images: dict[str, str]) -> None:
    update = ["img", "update", "app@2.0", "description=new words", "homepage=http://x.test"]
    result = same_as_triton(world, *update)
    assert result.out == "Updated image app@2.0 (fields: description, homepage)\n"
    # string fields are never converted, so a version stays text
    world.ok("img", "update", "app@2.0", "version=3")
    assert api.get_image(images["2.0"])["version"] == "3"
    tagged = same_as_triton(world, "img", "tag", "app@3", "a=1", "b=true", "c=x")
    assert tagged.out == 'Updated image app@3 with tags {"a":1,"b":true,"c":"x"}\n'
    assert world.ok("img", "tag", "-j", "app@3", "a=2").json()["tags"] == {"a": 2}
    for args in (
        ["img", "update", "app@3", "bogus=1"],
        ["img", "update", "app@3", "acl=[]"],
        ["img", "update", "app@3"],
        ["img", "tag", "app@3"],
        ["img", "update", "nope", "name=x"],
    ):
        assert same_as_triton(world, *args).status != 0


def test_export_prints_the_manta_paths(world: CliWorld, images: dict[str, str]) -> None:
    result = same_as_triton(world, "img", "export", "app@1.0", "/test/stor/app")
    assert result.out.splitlines() == [
        "Exporting image app@1.0 to /test/stor/app",
        "    Manta URL: https://manta.smartdc-emulator.invalid",
        "Manifest path: /test/stor/app.imgmanifest",
        "   Image path: /test/stor/app.zfs.gz",
    ]
    same_as_triton(world, "img", "export", "-j", "app@1.0", "/test/stor/app")
    public = world.run("img", "export", "base-64-lts", "/test/stor/x")
    assert public.status == 1
    assert "error exporting image to manta: " in public.err


def test_copy_to_another_datacenter(
    world: CliWorld, server: EmulatorServer, images: dict[str, str]
) -> None:
    ours = world.run("img", "cp", "app@1.0", "img-2")
    assert ours.out == f"Copied image {images['1.0']} (app@1.0) to datacenter img-2\n"
    with CloudAPI(server.urls["img-2"], ACCOUNT, key_file=world.key.path) as there:
        assert there.get_image(images["1.0"])["name"] == "app"
    theirs = world.triton("img", "copy", "app@3", "img-2")
    assert theirs.out == f"Copied image {images['2.0']} (app@3) to datacenter img-2\n"
    again = world.run("img", "cp", "app@1.0", "img-2")
    assert again.status == 1
    assert "error copying image: " in again.err
    for args in (["img", "cp", "app@1.0", "nowhere"], ["img", "cp", "app@1.0"]):
        assert same_as_triton(world, *args).status == 1


@pytest.mark.parametrize(
    ("args", "wrapped"),
    [
        (["img", "clone", "nope"], "error cloning image"),
        (["img", "copy", "nope", "us-east-1"], "error copying image"),
        (["img", "export", "nope", "/test/stor/x"], "error exporting image to manta"),
        (["img", "share", "nope", "0c4fe9b5-4f5c-4c4e-8a1e-0f8b7d8c1a33"], "error sharing image"),
        (
            ["img", "unshare", "nope", "0c4fe9b5-4f5c-4c4e-8a1e-0f8b7d8c1a33"],
            "error unsharing image",
        ),
        (["img", "tag", "nope", "a=b"], "error updating image tags"),
    ],
)
def test_wrapped_failures_match_triton(world: CliWorld, args: list[str], wrapped: str) -> None:
    # triton wraps these in its own error: no code, exit 1 (not 3)
    result = same_as_triton(world, *args)
    assert result.status == 1
    assert result.err.splitlines()[0].endswith(
        f': error: {wrapped}: no image with nope or short id "nope" was found'
    )


def test_clone_a_shared_image(world: CliWorld, shared_with_us: dict[str, Any]) -> None:
    result = world.ok("img", "clone", "gift")
    match = re.fullmatch(rf"Cloned image gift to ({UUID.pattern}) \(gift@1\)\n", result.out)
    assert match and match.group(1) != shared_with_us["id"]
    assert world.ok("img", "get", match.group(1), "-j").json()["owner"] != shared_with_us["owner"]
    ours, theirs = world.run("img", "clone", "app@1.0"), world.triton("img", "clone", "app@1.0")
    assert ours.status == theirs.status == 1
    assert (
        ours.err.split("error cloning image: ")[1] == theirs.err.split("error cloning image: ")[1]
    )


# --- delete ------------------------------------------------------------------------------------


def test_delete_asks_first(world: CliWorld, api: CloudAPI, machine: str) -> None:
    made = _wait_active(
        api, api.create_image_from_machine(machine=machine, name="doomed", version="1")["id"]
    )
    shown = f"{made['id']} (doomed@1)"
    refused = run_on_terminal(world, "maybe\nn\n", "img", "rm", "doomed")
    assert refused.status == 0 and refused.out == ""
    assert refused.err == (
        f"Delete image {shown}? [y/n] "
        'Please enter "y", "yes", "n" or "no".\n'
        f"Delete image {shown}? [y/n] Aborting\n"
    )
    no_terminal = world.run("img", "rm", "doomed")
    assert no_terminal.status == 1 and "use -f" in no_terminal.err
    accepted = run_on_terminal(world, "yes\n", "img", "delete", "doomed")
    assert accepted.out == f"Deleted image {shown}\n"
    assert world.run("img", "get", made["id"]).status == 3


def test_delete_several_with_force(world: CliWorld, api: CloudAPI, machine: str) -> None:
    ids = [
        api.create_image_from_machine(machine=machine, name="gone", version=v)["id"]
        for v in ("1", "2")
    ]
    for image_id in ids:
        _wait_active(api, image_id)
    result = world.ok("img", "rm", "-f", "gone@1", ids[1])
    assert result.out == f"Deleted image {ids[0]} (gone@1)\nDeleted image {ids[1]}\n"


def test_delete_unknown_images(world: CliWorld) -> None:
    # the lookups fail before anything is deleted: "first of N errors", exit 1
    one = same_as_triton(world, "img", "rm", "-f", "nope")
    assert (one.status, one.err) == (
        1,
        'smartdc image rm: error: first of 1 error: no image with nope or short id "nope" was'
        " found\n",
    )
    assert same_as_triton(world, "img", "rm", "-f", "nope", "nada").status == 1
    assert same_as_triton(world, "img", "rm").status == 1
