"""``smartdc changefeed`` beside ``triton changefeed`` on the same emulator, whose jobs take
real time so changes come while both are listening.

Both run as processes until interrupted (Ctrl-C) or until the server closes the feed; the
library's own feed (:meth:`CloudAPI.changefeed`) tells which changes were sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.cli.commands.changefeed import format_change, split_instances
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import SMARTDC, CliWorld
from tests.cli.side_by_side import same_as_triton
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.test_triton_websockets import Follower, subscribed, triton_argv
from tests.integration.test_changefeed import Relay
from tests.interop.node_peers import TRITON

#: Seconds a provision takes; power actions take half.
DELAY = 0.5
PACKAGE = "g4-highcpu-128M"

needs_triton = pytest.mark.skipif(not TRITON.exists(), reason="triton CLI not installed")


def _emulator(keys: dict[str, TestKey], data_dir: Path) -> EmulatorServer:
    return EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]}, data_dir=data_dir, provision_delay=DELAY
    )


@pytest.fixture(scope="module")
def feed_world(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliWorld]:
    with _emulator(keys, tmp_path_factory.mktemp("feed-data")) as server:
        yield CliWorld(tmp_path_factory.mktemp("feed-home"), server.url, keys["rsa"])


@pytest.fixture(scope="module")
def feed_api(feed_world: CliWorld) -> Iterator[CloudAPI]:
    key = feed_world.key
    with CloudAPI(feed_world.url, ACCOUNT, key_file=key.path, allow_agent=False) as client:
        yield client


@pytest.fixture(scope="module")
def image(feed_api: CloudAPI) -> str:
    images = [i for i in feed_api.list_images() if i["name"] == "base-64-lts"]
    return str(max(images, key=lambda i: i["published_at"])["id"])


def _running(api: CloudAPI, image: str, name: str) -> dict[str, Any]:
    machine = api.create_machine(image=image, package=PACKAGE, name=name)
    _wait_state(api, machine["id"], "running")
    return dict(machine)


def _wait_state(api: CloudAPI, machine_id: str, state: str) -> None:
    deadline = time.monotonic() + 15
    while api.get_machine(machine_id)["state"] != state:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def smartdc_argv(*args: str) -> list[str]:
    return [str(SMARTDC), *args]


def _subscribe(runs: dict[str, Follower], api: CloudAPI, machine_id: str) -> dict[str, int]:
    """Each run's line count once all of them follow the feed (see :func:`subscribed`)."""
    return dict(zip(runs, subscribed(list(runs.values()), api, machine_id), strict=True))


def _lines_after(follower: Follower, mark: int, count: int) -> str:
    return "".join(follower.wait_lines(mark + count)[mark:])


@needs_triton
def test_prints_each_change_as_triton_does(
    feed_world: CliWorld, feed_api: CloudAPI, image: str
) -> None:
    sentinel = _running(feed_api, image, "cf-sentinel")
    env = feed_world.env
    runs = {
        "ours": Follower(smartdc_argv("changefeed"), env),
        "theirs": Follower(triton_argv("changefeed"), env),
        "ours -j": Follower(smartdc_argv("changefeed", "-j"), env),
        "theirs -j": Follower(triton_argv("changefeed", "-j"), env),
    }
    try:
        marks = _subscribe(runs, feed_api, sentinel["id"])
        # a machine's life: every sub-resource triton subscribes to that the emulator moves
        sent: list[dict[str, Any]] = []
        with feed_api.changefeed(timeout=10) as oracle:
            machine = feed_api.create_machine(image=image, package=PACKAGE, name="cf-life")
            sent += _until(oracle, machine["id"], "running")
            feed_api.rename_machine(machine["id"], "cf-life-renamed")
            feed_api.add_machine_tags(machine["id"], {"tier": "web"})
            feed_api.update_machine_metadata(machine["id"], {"note": "hello"})
            feed_api.stop_machine(machine["id"])
            sent += _until(oracle, machine["id"], "stopped")
            feed_api.delete_machine(machine["id"])
            sent += _until(oracle, machine["id"], "destroyed")
        kinds = {kind for change in sent for kind in change["changeKind"]["subResources"]}
        assert {"state", "alias", "tags", "customer_metadata", "destroyed"} <= kinds
        text = {
            name: _lines_after(runs[name], marks[name], 5 * len(sent))
            for name in runs
            if "-j" not in name
        }
        json_lines = {
            name: _lines_after(runs[name], marks[name], len(sent)) for name in runs if "-j" in name
        }
        results = {name: run.interrupt() for name, run in runs.items()}
    finally:
        for run in runs.values():
            run.__exit__()
    # Ctrl-C ends both quietly
    assert {name: (r.status, r.err) for name, r in results.items()} == dict.fromkeys(runs, (0, ""))
    assert text["ours"] == text["theirs"]
    assert text["ours"] == "".join(format_change(change) + "\n" for change in sent)
    first = sent[0]
    assert text["ours"].splitlines()[:5] == [
        f"Change ({_iso(first['published'])}) =>",
        "    modified: state",
        "    state: provisioning",
        "    internal state: provisioning",
        f"    object: {machine['id'][:8]}",
    ]
    # -j prints each frame as received
    assert json_lines["ours -j"] == json_lines["theirs -j"]
    assert [json.loads(line) for line in json_lines["ours -j"].splitlines()] == sent


def _until(oracle: Any, machine_id: str, state: str) -> list[dict[str, Any]]:
    """The changes the library's feed gets up to ``machine_id`` reaching ``state``."""
    changes = []
    for change in oracle:
        changes.append(change)
        if change["changedResourceId"] == machine_id and change["resourceState"] == state:
            return changes
    pytest.fail("the feed ended")


def _iso(published: str) -> str:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(int(published) / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@needs_triton
def test_instances_limit_the_feed_as_with_triton(
    feed_world: CliWorld, feed_api: CloudAPI, image: str
) -> None:
    watched = _running(feed_api, image, "cf-watched")
    other = _running(feed_api, image, "cf-other")
    env = feed_world.env
    runs = {
        "ours": Follower(smartdc_argv("changefeed", "-j", "--instances", watched["id"]), env),
        "theirs": Follower(triton_argv("changefeed", "-j", "--instances", watched["id"]), env),
        # smartdc also takes names and short ids (triton would watch nothing for them)
        "by name": Follower(
            smartdc_argv("changefeed", "-j", "--instances", f"cf-watched,{other['id'][:8]}"),
            env,
        ),
    }
    try:
        marks = _subscribe(runs, feed_api, watched["id"])
        with feed_api.changefeed(["tags"], vms=[watched], timeout=10) as oracle:
            feed_api.add_machine_tags(other["id"], {"n": "1"})
            feed_api.add_machine_tags(watched["id"], {"n": "1"})
            change = next(oracle)
        lines = {
            "ours": _lines_after(runs["ours"], marks["ours"], 1),
            "theirs": _lines_after(runs["theirs"], marks["theirs"], 1),
            # the other machine's change too
            "by name": _lines_after(runs["by name"], marks["by name"], 2),
        }
        time.sleep(0.3)  # time for anything else to show up
        results = {name: run.interrupt() for name, run in runs.items()}
    finally:
        for run in runs.values():
            run.__exit__()
    assert all(result.status == 0 for result in results.values())
    assert {name: "".join(results[name].out.splitlines(True)[marks[name] :]) for name in runs} == (
        lines
    )
    assert lines["ours"] == lines["theirs"]
    assert json.loads(lines["ours"]) == change
    by_name = [json.loads(line) for line in lines["by name"].splitlines()]
    assert [c["changedResourceId"] for c in by_name] == [other["id"], watched["id"]]


@needs_triton
def test_both_end_quietly_when_the_server_closes_the_feed(
    keys: dict[str, TestKey], tmp_path: Path
) -> None:
    server = _emulator(keys, tmp_path / "data").start()
    world = CliWorld(tmp_path / "home", server.url, keys["rsa"])
    try:
        with CloudAPI(server.url, ACCOUNT, key_file=world.key.path, allow_agent=False) as api:
            machine = _running(api, _image_of(api), "cf-ending")
            runs = [Follower(argv("changefeed"), world.env) for argv in (smartdc_argv, triton_argv)]
            marks = subscribed(runs, api, machine["id"])
    finally:
        server.stop()  # CloudAPI too closes every feed when it goes (or loses VMAPI's)
    ours, theirs = (run.finish() for run in runs)
    assert (ours.status, ours.err) == (theirs.status, theirs.err) == (0, "")
    assert len(ours.out.splitlines()) == marks[0]  # nothing more was printed


@needs_triton
def test_both_end_when_the_network_drops(feed_world: CliWorld, feed_api: CloudAPI) -> None:
    host, port = feed_world.url.removeprefix("http://").split(":")
    relay = Relay((host, int(port)))
    world = feed_world.with_env(TRITON_URL=relay.url)
    try:
        runs = [Follower(argv("changefeed"), world.env) for argv in (smartdc_argv, triton_argv)]
        machine = _running(feed_api, _image_of(feed_api), "cf-dropped")
        subscribed(runs, feed_api, machine["id"])
        relay.cut()  # gone without a close frame
        ours, theirs = (run.finish() for run in runs)
    finally:
        relay.close()
    assert ours.status == theirs.status == 0
    # triton tells on stdout; stdout is kept for changes here
    assert theirs.out.splitlines()[-1] == "Connect reset by peer"
    assert ours.err == "Connect reset by peer\n"
    assert ours.out.splitlines()[-1].startswith("    object: ")


def _image_of(api: CloudAPI) -> str:
    images = [i for i in api.list_images() if i["name"] == "base-64-lts"]
    return str(max(images, key=lambda i: i["published_at"])["id"])


@needs_triton
def test_refusals_and_bad_arguments(feed_world: CliWorld) -> None:
    stranger = feed_world.with_env(TRITON_ACCOUNT="nobody")
    ours, theirs = stranger.run("changefeed"), stranger.triton("changefeed")
    assert ours.status == theirs.status == 1
    # triton names only the HTTP status (UnauthorizedError); CloudAPI's code is shown here
    assert theirs.err == "triton changefeed: error (UnauthorizedError): UnauthorizedError\n"
    assert ours.err.startswith("smartdc changefeed: error (InvalidCredentials): ")
    same_as_triton(feed_world, "changefeed", "extra")
    same_as_triton(feed_world, "changefeed", "--bogus")
    missing = feed_world.run("changefeed", "--instances", "no-such-instance")
    assert missing.status == 3


def test_format_change_copes_with_missing_fields() -> None:
    assert format_change({}).splitlines() == [
        "Change (undefined) =>",
        "    modified: undefined",
        "    state: undefined",
        "    internal state: undefined",
        "    object: undefined",
    ]
    assert split_instances([" a ,b,,", "c"]) == ["a", "b", "c"]
