"""ListMachines paging, filters, iteration and counting."""

from __future__ import annotations

from itertools import islice

import httpx
import pytest

from smartdc.errors import SmartDCError
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_api, query_of, reply

IMG = "2b683a82-a066-11e3-97ab-2faa44701c5a"


def machines_server(total: int, *, count_header: bool = True) -> Recorder:
    """Answers ListMachines (GET and HEAD) over ``total`` machines as CloudAPI pages them."""
    machines = [{"id": f"m-{n:05d}", "name": f"vm{n}"} for n in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", 1000))
        offset = int(request.url.params.get("offset", 0))
        page = machines[offset : offset + limit]
        headers = {"x-query-limit": str(limit)}
        if count_header:
            headers["x-resource-count"] = str(len(page))
        if request.method == "HEAD":
            return reply(200, None, headers)
        return reply(200, page, headers)

    return Recorder(fallback=answer)


def offsets(recorder: Recorder) -> list[tuple[str | None, str | None]]:
    return [(r.url.params.get("limit"), r.url.params.get("offset")) for r in recorder.requests]


def test_list_machines_pages_through_every_machine(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        machines = api.list_machines()
    assert len(machines) == 2500
    assert [m["id"] for m in machines[998:1002]] == ["m-00998", "m-00999", "m-01000", "m-01001"]
    assert offsets(server) == [("1000", "0"), ("1000", "1000"), ("1000", "2000")]
    assert all(r.method == "GET" and r.url.path == "/test/machines" for r in server.requests)


def test_an_exact_multiple_of_the_page_size_ends_on_an_empty_page(
    keys: dict[str, TestKey],
) -> None:
    server = machines_server(2000)
    with make_api(keys["rsa"], server) as api:
        assert len(api.list_machines()) == 2000
    assert offsets(server) == [("1000", "0"), ("1000", "1000"), ("1000", "2000")]


def test_paging_without_a_resource_count_header_uses_the_page_length(
    keys: dict[str, TestKey],
) -> None:
    server = machines_server(1500, count_header=False)
    with make_api(keys["rsa"], server) as api:
        assert len(api.list_machines()) == 1500
    assert len(server.requests) == 2


def test_a_caller_limit_fetches_only_that_page(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        machines = api.list_machines(limit=5, offset=1200)
    assert [m["id"] for m in machines] == [f"m-{n:05d}" for n in range(1200, 1205)]
    assert query_of(server.last) == [("limit", "5"), ("offset", "1200")]


def test_an_offset_without_limit_pages_from_there(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        assert len(api.list_machines(offset=1500)) == 1000
    assert offsets(server) == [("1000", "1500"), ("1000", "2500")]


def test_filters_are_sent_as_cloudapi_expects(keys: dict[str, TestKey]) -> None:
    server = machines_server(0)
    with make_api(keys["rsa"], server) as api:
        api.list_machines(
            state="running",
            tags={"role": "web"},
            docker=False,
            tombstone=False,
            credentials=True,
            image={"id": IMG},
            memory=1024,
            brand="lx",
            name=None,
            **{"tag.env": "prod"},
        )
    assert query_of(server.last) == [
        ("limit", "1000"),
        ("offset", "0"),
        ("state", "running"),
        ("tag.role", "web"),
        ("docker", "false"),
        ("credentials", "true"),
        ("image", IMG),
        ("memory", "1024"),
        ("brand", "lx"),
        ("tag.env", "prod"),
    ]


def test_tombstone_true_is_sent(keys: dict[str, TestKey]) -> None:
    server = machines_server(0)
    with make_api(keys["rsa"], server) as api:
        api.list_machines(tombstone=True, type="virtualmachine")
    assert ("tombstone", "true") in query_of(server.last)
    assert ("type", "virtualmachine") in query_of(server.last)


def test_tags_star_is_one_request_because_cloudapi_ignores_paging_then(
    keys: dict[str, TestKey],
) -> None:
    server = Recorder().add(reply(200, [{"id": "a"}], {"x-query-limit": "1000"}))
    with make_api(keys["rsa"], server) as api:
        assert api.list_machines(tags="*") == [{"id": "a"}]
    assert query_of(server.last) == [("tags", "*")]


def test_unknown_filters_fail_before_any_request(keys: dict[str, TestKey]) -> None:
    server = machines_server(10)
    with make_api(keys["rsa"], server) as api:
        with pytest.raises(TypeError, match="'stat'"):
            api.iter_machines(stat="running")
        with pytest.raises(TypeError, match="tags must be a mapping"):
            api.list_machines(tags=["role"])
    assert server.requests == []


def test_iter_machines_fetches_pages_only_as_they_are_consumed(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        machines = api.iter_machines(state="running")
        assert server.requests == []
        first = list(islice(machines, 1001))
        assert len(server.requests) == 2
        assert first[-1]["id"] == "m-01000"
        assert len(list(machines)) == 1499
    assert len(server.requests) == 3


def test_count_machines_adds_head_counts_per_page(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        assert api.count_machines(state="running") == 2500
    assert [r.method for r in server.requests] == ["HEAD"] * 3
    assert offsets(server) == [("1000", "0"), ("1000", "1000"), ("1000", "2000")]
    assert ("state", "running") in query_of(server.last)


def test_count_machines_with_a_limit_counts_one_page(keys: dict[str, TestKey]) -> None:
    server = machines_server(2500)
    with make_api(keys["rsa"], server) as api:
        assert api.count_machines(limit=10, offset=2495) == 5
    assert len(server.requests) == 1


def test_count_machines_without_the_header_is_an_error(keys: dict[str, TestKey]) -> None:
    server = machines_server(3, count_header=False)
    with make_api(keys["rsa"], server) as api, pytest.raises(SmartDCError, match="x-resource"):
        api.count_machines()
