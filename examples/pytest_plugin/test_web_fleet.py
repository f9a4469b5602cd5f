"""A worked example of the smartdc pytest plugin: testing a small piece of automation.

``add_web_server`` is the automation under test: it provisions a machine, tags it and waits
for it to run. The tests run it against the emulator (``pytest examples/pytest_plugin``), and
unchanged against a real cloud with ``--smartdc-profile NAME``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smartdc import AsyncCloudAPI, DataCenter, Machine
from smartdc.change_waits import async_machine_changes
from smartdc.pytest_plugin import Clock, Faults
from smartdc.wait import async_wait_for


def add_web_server(dc: DataCenter, name: str) -> Machine:
    """Provision a web server: the newest base image, the smallest package, tagged, running."""
    image = max(dc.images(name="base-64-lts"), key=lambda i: i["published_at"])
    package = min(dc.packages(), key=lambda p: p["memory"])
    machine = dc.create_machine(name=name, dataset=image, package=package, tags={"role": "web"})
    machine.poll_until("running", interval=0.2)
    return machine


def web_servers(dc: DataCenter) -> list[dict[str, Any]]:
    return [m.tags for m in dc.machines(tags={"role": "web"})]


def test_a_web_server_is_provisioned_tagged_and_cleaned_up(
    smartdc_datacenter: DataCenter,
) -> None:
    machine = add_web_server(smartdc_datacenter, "web-1")
    assert machine.state == "running"
    assert web_servers(smartdc_datacenter) == [{"role": "web"}]
    machine.stop()
    machine.poll_until("stopped", interval=0.2)
    machine.delete()
    machine.poll_until("deleted", interval=0.2)
    assert web_servers(smartdc_datacenter) == []


def test_a_failed_provision_is_reported(
    smartdc_datacenter: DataCenter, smartdc_faults: Faults
) -> None:
    smartdc_faults.fail_provision()
    with pytest.raises(Exception, match="failed"):
        add_web_server(smartdc_datacenter, "web-2")


def test_nothing_happens_until_time_moves(
    smartdc_datacenter: DataCenter, smartdc_clock: Clock
) -> None:
    image = max(smartdc_datacenter.images(name="base-64-lts"), key=lambda i: i["published_at"])
    package = min(smartdc_datacenter.packages(), key=lambda p: p["memory"])
    machine = smartdc_datacenter.create_machine(name="web-3", dataset=image, package=package)
    machine.refresh()
    assert machine.state == "provisioning"
    smartdc_clock.advance(1)
    machine.refresh()
    assert machine.state == "running"


async def add_web_servers(api: AsyncCloudAPI, count: int) -> list[dict[str, Any]]:
    """The same automation for asyncio: ``count`` web servers provisioned concurrently."""
    images = await api.list_images(name="base-64-lts")
    image = max(images, key=lambda i: i["published_at"])
    package = min(await api.list_packages(), key=lambda p: p["memory"])

    async def one(n: int) -> dict[str, Any]:
        created = await api.create_machine(
            image=image, package=package, name=f"async-web-{n}", tags={"role": "web"}
        )
        return await async_wait_for(
            lambda: api.get_machine(created["id"]),
            lambda m: m["state"] == "running",
            interval=0.2,
            timeout=60,
            changes=async_machine_changes(api, created["id"]),
        )

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def test_a_fleet_is_provisioned_concurrently(smartdc_async_api: AsyncCloudAPI) -> None:
    machines = asyncio.run(add_web_servers(smartdc_async_api, 3))
    assert sorted(m["name"] for m in machines) == ["async-web-0", "async-web-1", "async-web-2"]
    assert all(m["state"] == "running" and m["tags"] == {"role": "web"} for m in machines)
