"""AsyncCloudAPI runs the operations CloudAPI runs: paging, multi-step flows, redirects,
retries and signing, without blocking the event loop."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from smartdc import AsyncCloudAPI, CloudAPI
from smartdc.api._operation import listing, operation
from smartdc.auth.signers import AgentSigner
from smartdc.errors import ConnectError, ResourceNotFoundError, TooManyRequestsError
from smartdc.operations import OPERATIONS
from smartdc.transport import RetryPolicy
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_async_api, query_of, reply
from tests.unit.conftest import SSHAgent
from tests.unit.test_api_coverage import method_name
from tests.unit.test_api_machines import machines_server, offsets

T = TypeVar("T")
MID = "3f8c9a8e-6c0b-4a5e-9d7c-1a2b3c4d5e6f"
NET = "9ec60129-9034-47b4-b111-3026f9b1a10f"


def run(
    key: TestKey,
    recorder: Recorder,
    scenario: Callable[[AsyncCloudAPI], Awaitable[T]],
    **options: Any,
) -> T:
    async def main() -> T:
        async with make_async_api(key, recorder, **options) as api:
            return await scenario(api)

    return asyncio.run(main())


@pytest.mark.parametrize("cloudapi_operation", OPERATIONS, ids=[op.name for op in OPERATIONS])
def test_every_operation_is_the_same_description_on_both_clients(cloudapi_operation: Any) -> None:
    name = method_name(cloudapi_operation.name)
    described = inspect.getattr_static(AsyncCloudAPI, name)
    assert described is inspect.getattr_static(CloudAPI, name)
    assert isinstance(described, operation | listing)


def test_async_methods_keep_the_sync_signature_and_docs(keys: dict[str, TestKey]) -> None:
    async def scenario(api: AsyncCloudAPI) -> None:
        method = api.get_machine
        assert list(inspect.signature(method).parameters) == ["id", "credentials"]
        assert (method.__doc__ or "").startswith("GetMachine:")

    run(keys["ed25519"], Recorder(), scenario)


def test_list_machines_pages_through_every_machine(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    machines = run(keys["ed25519"], server, lambda api: api.list_machines())
    assert len(machines) == 2500
    assert offsets(server) == [("1000", "0"), ("1000", "1000"), ("1000", "2000")]


def test_iter_machines_is_an_async_iterator_fetching_pages_as_consumed(
    keys: dict[str, TestKey],
) -> None:
    server = machines_server(2500)

    async def scenario(api: AsyncCloudAPI) -> tuple[int, int, int]:
        machines = api.iter_machines(state="running")
        before = len(server.requests)
        seen = 0
        async for _ in machines:
            seen += 1
            if seen == 1001:
                break
        during = len(server.requests)
        seen += len([m async for m in machines])
        return before, during, seen

    before, during, seen = run(keys["ed25519"], server, scenario)
    assert (before, during) == (0, 2)
    assert seen == 2500
    assert len(server.requests) == 3


def test_bad_filters_raise_when_called_not_when_iterated(keys: dict[str, TestKey]) -> None:
    async def scenario(api: AsyncCloudAPI) -> None:
        with pytest.raises(TypeError, match="colour"):
            api.iter_machines(colour="red")
        with pytest.raises(TypeError, match="colour"):
            api.list_machines(colour="red")

    recorder = Recorder()
    run(keys["ed25519"], recorder, scenario)
    assert recorder.requests == []


def test_count_machines_adds_head_counts(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    assert run(keys["ed25519"], server, lambda api: api.count_machines()) == 2500
    assert [r.method for r in server.requests] == ["HEAD"] * 3


def test_add_nic_follows_the_redirect_to_the_existing_nic(keys: dict[str, TestKey]) -> None:
    location = f"/test/machines/{MID}/nics/90b8d02fb8f9"
    nic = {"mac": "90:b8:d0:2f:b8:f9", "network": NET}
    recorder = Recorder().add(reply(302, None, {"location": location}), reply(200, nic))
    assert run(keys["ed25519"], recorder, lambda api: api.add_nic(MID, NET)) == nic
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", f"/test/machines/{MID}/nics"),
        ("GET", location),
    ]


def test_get_datacenter_reports_the_redirect(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(302, None, {"location": "https://east.example.com"}))
    found = run(keys["ed25519"], recorder, lambda api: api.get_datacenter("east"))
    assert found == {"name": "east", "url": "https://east.example.com"}


def test_errors_are_raised_as_the_sync_client_raises_them(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(404, {"code": "ResourceNotFound", "message": "not here"}, {"request-id": "r-9"})
    )
    with pytest.raises(ResourceNotFoundError) as caught:
        run(keys["ed25519"], recorder, lambda api: api.get_image("nope"))
    assert caught.value.request_id == "r-9"


def test_throttled_requests_are_retried_with_async_sleeps(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(429, {"code": "TooManyRequests", "message": "slow down"}, {"retry-after": "2"}),
        reply(200, {"ping": "pong"}),
    )
    slept: list[float] = []

    async def scenario(api: AsyncCloudAPI) -> Any:
        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        api._session._sleep = sleep
        return await api.ping()

    assert run(keys["ed25519"], recorder, scenario) == {"ping": "pong"}
    assert slept == [2.0]
    assert len(recorder.requests) == 2


def test_a_retry_after_beyond_the_cap_raises_at_once(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(429, {"code": "TooManyRequests", "message": "slow down"}, {"retry-after": "600"})
    )

    async def scenario(api: AsyncCloudAPI) -> Any:
        api.retry_policy = RetryPolicy(retries=3, max_delay=5)
        return await api.ping()

    with pytest.raises(TooManyRequestsError, match="600 s"):
        run(keys["ed25519"], recorder, scenario)
    assert len(recorder.requests) == 1


def test_a_post_that_may_have_arrived_is_not_replayed(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(httpx.ReadError("connection reset"))
    with pytest.raises(Exception, match="not retried: POST is not idempotent"):
        run(keys["ed25519"], recorder, lambda api: api.stop_machine(MID))
    assert len(recorder.requests) == 1


def test_an_unreachable_server_is_retried_for_gets_then_raised(keys: dict[str, TestKey]) -> None:
    failure = httpx.ConnectError("connection refused")
    recorder = Recorder().add(failure, failure, failure)

    async def scenario(api: AsyncCloudAPI) -> Any:
        async def sleep(seconds: float) -> None:
            return None

        api._session._sleep = sleep
        return await api.get_account()

    with pytest.raises(ConnectError, match="after 3 attempts"):
        run(keys["ed25519"], recorder, scenario, retries=2)
    assert len(recorder.requests) == 3


def test_agent_signing_runs_off_the_event_loop(
    ssh_agent: SSHAgent, keys: dict[str, TestKey]
) -> None:
    key = keys["ed25519"]
    signer = AgentSigner(key.md5, socket_path=ssh_agent.socket_path)
    signing_threads: set[int] = set()
    original = signer.sign

    def sign(data: bytes) -> bytes:
        signing_threads.add(threading.get_ident())
        return original(data)

    signer.sign = sign  # type: ignore[method-assign]
    recorder = Recorder().add(reply(200, {"login": "test"}))

    async def scenario(api: AsyncCloudAPI) -> tuple[Any, int, Any]:
        signing_threads.clear()
        account = await api.get_account()
        upgrade = await api.get_changefeed()
        return account, threading.get_ident(), upgrade

    account, loop_thread, upgrade = run(key, recorder, scenario, signer=signer)
    assert account == {"login": "test"}
    assert signing_threads and loop_thread not in signing_threads
    assert upgrade.url == "wss://cloudapi.test/test/changefeed"
    assert "Signature" in upgrade.headers["Authorization"]
    assert query_of(recorder.last) == []


def test_many_requests_in_flight_share_one_client(keys: dict[str, TestKey]) -> None:
    recorder = Recorder(fallback=lambda request: reply(200, {"path": request.url.path}))

    async def scenario(api: AsyncCloudAPI) -> list[Any]:
        return list(await asyncio.gather(*(api.get_machine(f"m-{n}") for n in range(50))))

    answers = run(keys["ed25519"], recorder, scenario)
    assert [a["path"] for a in answers] == [f"/test/machines/m-{n}" for n in range(50)]
