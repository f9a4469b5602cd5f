"""``AsyncCloudAPI`` against the emulator over real loopback HTTP, and waits that follow the
changefeed (sync and async) instead of polling on a timer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import AsyncCloudAPI, CloudAPI, DataCenter
from smartdc.change_waits import async_machine_changes, machine_changes
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    MachineGoneError,
    ResourceNotFoundError,
    WaitTimeoutError,
    error_for_response,
)
from smartdc.wait import async_wait_for, wait_for
from tests.conftest import ACCOUNT, TestKey

#: Seconds a provision takes in this module's emulator; power actions take half.
DELAY = 1.0
PACKAGE = "g4-highcpu-128M"


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["ed25519"].pub_path]},
        data_dir=tmp_path_factory.mktemp("async-data"),
        provision_delay=DELAY,
    ) as running:
        yield running


def _options(key: TestKey) -> dict[str, Any]:
    return {"key_id": key.sha256, "key_file": key.path, "allow_agent": False}


@pytest.fixture(scope="module")
def api(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    with CloudAPI(server.url, ACCOUNT, **_options(keys["ed25519"])) as client:
        yield client


@pytest.fixture(scope="module")
def image(api: CloudAPI) -> str:
    images = [i for i in api.list_images() if i["name"] == "base-64-lts"]
    return str(max(images, key=lambda i: i["published_at"])["id"])


def _async_api(server: EmulatorServer, key: TestKey) -> AsyncCloudAPI:
    return AsyncCloudAPI(server.url, ACCOUNT, **_options(key))


def test_async_reads_match_the_sync_client(
    server: EmulatorServer, keys: dict[str, TestKey], api: CloudAPI
) -> None:
    async def read() -> tuple[Any, ...]:
        async with _async_api(server, keys["ed25519"]) as client:
            found: tuple[Any, ...] = await asyncio.gather(
                client.get_account(),
                client.list_packages(),
                client.list_images(os="smartos"),
                client.list_networks(),
                client.list_datacenters(),
                client.ping(),
            )
            return found

    account, packages, images, networks, datacenters, ping = asyncio.run(read())
    assert account == api.get_account()
    assert packages == api.list_packages()
    assert images == api.list_images(os="smartos")
    assert networks == api.list_networks()
    assert datacenters == api.list_datacenters()
    assert ping["ping"] == "pong"


def test_async_machine_life_cycle_with_many_calls_in_flight(
    server: EmulatorServer, keys: dict[str, TestKey], api: CloudAPI, image: str
) -> None:
    async def scenario() -> dict[str, Any]:
        async with _async_api(server, keys["ed25519"]) as client:
            created = await client.create_machine(
                image=image, package=PACKAGE, name="async-web", tags={"role": "web"}
            )
            machine_id = created["id"]
            running = await async_wait_for(
                lambda: client.get_machine(machine_id),
                lambda m: m["state"] == "running",
                interval=60,  # only a change on the feed can end this wait in time
                timeout=30,
                describe="async-web to be running",
                changes=async_machine_changes(client, machine_id),
            )
            copies = await asyncio.gather(*(client.get_machine(machine_id) for _ in range(32)))
            listed = [m["id"] async for m in client.iter_machines(tags={"role": "web"})]
            counted = await client.count_machines(tags={"role": "web"})
            tags = await client.add_machine_tags(machine_id, {"tier": "front"})
            await client.delete_machine(machine_id)

            async def gone() -> str:
                try:
                    return str((await client.get_machine(machine_id))["state"])
                except (MachineGoneError, ResourceNotFoundError):
                    return "deleted"

            final = await async_wait_for(gone, lambda s: s == "deleted", interval=0.05, timeout=30)
            return {
                "running": running,
                "copies": copies,
                "listed": listed,
                "counted": counted,
                "tags": tags,
                "final": final,
                "id": machine_id,
            }

    outcome = asyncio.run(scenario())
    assert outcome["running"]["state"] == "running"
    assert all(copy["id"] == outcome["id"] for copy in outcome["copies"])
    assert outcome["id"] in outcome["listed"]
    assert outcome["counted"] == len(outcome["listed"])
    assert outcome["tags"] == {"role": "web", "tier": "front"}
    assert outcome["final"] == "deleted"


def test_last_response_is_per_task(server: EmulatorServer, keys: dict[str, TestKey]) -> None:
    async def scenario() -> tuple[str, str]:
        async with _async_api(server, keys["ed25519"]) as client:

            async def read(path: str) -> str:
                await client.request("GET", path)
                await asyncio.sleep(0.01)  # let the other task answer in between
                response = client.last_response
                assert response is not None
                return response.url

            first, second = await asyncio.gather(read("packages"), read("networks"))
            return first, second

    first, second = asyncio.run(scenario())
    assert first.endswith("/packages")
    assert second.endswith("/networks")


def test_async_changefeed_delivers_a_new_machine(
    server: EmulatorServer, keys: dict[str, TestKey], image: str
) -> None:
    async def scenario() -> list[str]:
        async with _async_api(server, keys["ed25519"]) as client:
            async with await client.changefeed(["state"], timeout=20) as feed:
                created = await client.create_machine(image=image, package=PACKAGE)
                states: list[str] = []
                async for change in feed:
                    if change["changedResourceId"] == created["id"]:
                        states.append(change["resourceState"])
                        if change["resourceState"] == "running":
                            break
            await client.delete_machine(created["id"])
            return states

    states = asyncio.run(scenario())
    assert states[-1] == "running"
    assert "provisioning" in states


def test_poll_until_wakes_on_the_changefeed_not_the_interval(
    server: EmulatorServer, keys: dict[str, TestKey], image: str
) -> None:
    dc = DataCenter(
        location=server.url,
        key_id=keys["ed25519"].sha256,
        login=ACCOUNT,
        secret=keys["ed25519"].path,
    )
    machine = dc.create_machine(image=image, package=PACKAGE, name="feed-wait")
    started = time.monotonic()
    # A 60-second poll interval with a 30-second deadline: polling alone cannot see the
    # machine become running in time; the change on the feed does.
    machine.poll_until("running", interval=60, timeout=30)
    assert machine.state == "running"
    machine.stop()
    machine.poll_until("stopped", interval=60, timeout=30)
    assert machine.state == "stopped"
    assert time.monotonic() - started < 30
    machine.delete()


def test_waits_poll_when_the_feed_is_refused(
    server: EmulatorServer, keys: dict[str, TestKey], image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CloudAPI(server.url, ACCOUNT, **_options(keys["ed25519"])) as client:
        created = client.create_machine(image=image, package=PACKAGE)
        tries: list[Any] = []

        def refuse(*args: Any, **kwargs: Any) -> Any:
            # As a CloudAPI older than 9.14 answers: the route does not exist.
            tries.append(args)
            raise error_for_response(
                404, {"code": "ResourceNotFound", "message": "/test/changefeed does not exist"}
            )

        monkeypatch.setattr(client, "changefeed", refuse)
        for goal in ("running", "stopped"):
            if goal == "stopped":
                client.stop_machine(created["id"])
            found = wait_for(
                lambda: client.get_machine(created["id"]),
                lambda m, goal=goal: m["state"] == goal,  # type: ignore[misc]
                interval=0.05,
                timeout=30,
                changes=machine_changes(client, created["id"]),
            )
            assert found["state"] == goal
        assert client.changefeed_waits is False
        assert len(tries) == 1  # refused once: the second wait did not ask again
        client.delete_machine(created["id"])


def test_waits_without_a_network_transport_only_poll(keys: dict[str, TestKey]) -> None:
    import httpx

    from tests.unit.cloudapi_mock import Recorder, make_api, reply

    machine = {"id": "3f8c9a8e-6c0b-4a5e-9d7c-1a2b3c4d5e6f", "state": "provisioning"}
    recorder = Recorder().add(reply(200, machine), reply(200, {**machine, "state": "running"}))
    with make_api(keys["ed25519"], recorder) as client:
        assert isinstance(client, CloudAPI)
        assert client.changefeed_waits is False
        found = wait_for(
            lambda: client.get_machine(machine["id"]),
            lambda m: m["state"] == "running",
            interval=0.01,
            timeout=5,
            changes=machine_changes(client, machine["id"]),
        )
    assert found["state"] == "running"
    assert all(isinstance(r, httpx.Request) and r.method == "GET" for r in recorder.requests)
    with pytest.raises(WaitTimeoutError):
        wait_for(lambda: 1, lambda v: v == 2, interval=0.01, timeout=0.05)


def test_many_concurrent_async_waits_share_one_feed(
    server: EmulatorServer, keys: dict[str, TestKey], image: str
) -> None:
    count = 24

    async def scenario() -> tuple[list[str], int]:
        async with _async_api(server, keys["ed25519"]) as client:
            created = await asyncio.gather(
                *(
                    client.create_machine(image=image, package=PACKAGE, name=f"fleet-{n}")
                    for n in range(count)
                )
            )
            hub = client.change_hub

            async def running_one(machine_id: str) -> dict[str, Any]:
                return await async_wait_for(
                    lambda: client.get_machine(machine_id),
                    lambda found: found["state"] == "running",
                    interval=60,  # only the feed can end these waits in time
                    timeout=20,
                    changes=async_machine_changes(client, machine_id),
                )

            running = await asyncio.gather(*(running_one(m["id"]) for m in created))
            opened = 1 if hub._feed is not None else 0
            await asyncio.gather(*(client.delete_machine(m["id"]) for m in created))
            return [m["state"] for m in running], opened

    states, feeds = asyncio.run(scenario())
    assert states == ["running"] * count
    assert feeds == 1  # one changefeed for every wait of the client
