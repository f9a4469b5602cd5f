"""Every CloudAPI operation method sends exactly the documented request and returns the body."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from smartdc import CloudAPI
from smartdc.errors import CloudAPIError, ResourceNotFoundError
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, body_of, make_api, make_async_api, query_of, reply

MID = "3f8c9a8e-6c0b-4a5e-9d7c-1a2b3c4d5e6f"
IMG = "2b683a82-a066-11e3-97ab-2faa44701c5a"
PKG = "7b17343c-94af-6266-e0e8-893a3b9993d0"
NET = "9ec60129-9034-47b4-b111-3026f9b1a10f"
NET2 = "5983940e-58a5-4543-b732-c689b1fe4c08"
FP = "9f:4b:5c:1a:00:11:22:33:44:55:66:77:88:99:aa:bb"
MACHINE = {"id": MID, "name": "web", "state": "running"}


@dataclass
class Case:
    """One call, the request it must send, the answer it gets and what it must return."""

    call: Callable[[Any], Any]
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None
    answer: httpx.Response = field(default_factory=lambda: reply(200, {"ok": True}))
    returns: Any = field(default_factory=lambda: {"ok": True})


NO_CONTENT = reply(204)
ACCEPTED = reply(202)

CASES: dict[str, Case] = {
    # account
    "ping": Case(lambda a: a.ping(), "GET", "/--ping"),
    "get_account": Case(lambda a: a.get_account(), "GET", "/test"),
    "update_account": Case(
        lambda a: a.update_account(email="me@example.com", triton_cns_enabled=True, phone=None),
        "POST",
        "/test",
        body={"email": "me@example.com", "triton_cns_enabled": True},
    ),
    "get_account_limits": Case(
        lambda a: a.get_account_limits(),
        "GET",
        "/test/limits",
        answer=reply(200, [{"value": 10, "used": 2}]),
        returns=[{"value": 10, "used": 2}],
    ),
    # keys
    "list_keys": Case(
        lambda a: a.list_keys(), "GET", "/test/keys", answer=reply(200, []), returns=[]
    ),
    "get_key by name": Case(lambda a: a.get_key("laptop"), "GET", "/test/keys/laptop"),
    "get_key by fingerprint": Case(
        lambda a: a.get_key(FP), "GET", "/test/keys/" + FP.replace(":", "%3A")
    ),
    "get_key from dict": Case(
        lambda a: a.get_key({"name": "laptop", "fingerprint": FP}),
        "GET",
        "/test/keys/" + FP.replace(":", "%3A"),
    ),
    "create_key": Case(
        lambda a: a.create_key("ssh-ed25519 AAAAC3Nz me@host\n", name="laptop"),
        "POST",
        "/test/keys",
        body={"key": "ssh-ed25519 AAAAC3Nz me@host", "name": "laptop"},
        answer=reply(201, {"name": "laptop"}),
        returns={"name": "laptop"},
    ),
    "create_key without name": Case(
        lambda a: a.create_key("ssh-rsa AAAAB3 x"),
        "POST",
        "/test/keys",
        body={"key": "ssh-rsa AAAAB3 x"},
    ),
    "delete_key": Case(
        lambda a: a.delete_key("laptop"),
        "DELETE",
        "/test/keys/laptop",
        answer=NO_CONTENT,
        returns=None,
    ),
    # datacenters
    "list_datacenters": Case(
        lambda a: a.list_datacenters(),
        "GET",
        "/test/datacenters",
        answer=reply(200, {"us-east-1": "https://us-east-1.api.example.com"}),
        returns={"us-east-1": "https://us-east-1.api.example.com"},
    ),
    "get_datacenter": Case(
        lambda a: a.get_datacenter("us-east-1"),
        "GET",
        "/test/datacenters/us-east-1",
        answer=reply(
            302,
            {"code": "ResourceMoved", "message": "us-east-1 https://us-east-1.api.example.com"},
            {"location": "https://us-east-1.api.example.com"},
        ),
        returns={"name": "us-east-1", "url": "https://us-east-1.api.example.com"},
    ),
    # images
    "list_images": Case(
        lambda a: a.list_images(os="smartos", public=True, state="all"),
        "GET",
        "/test/images",
        query=[("os", "smartos"), ("public", "true"), ("state", "all")],
        answer=reply(200, [{"id": IMG}]),
        returns=[{"id": IMG}],
    ),
    "get_image": Case(lambda a: a.get_image({"id": IMG}), "GET", f"/test/images/{IMG}"),
    # packages
    "list_packages": Case(
        lambda a: a.list_packages(memory=1024, name="g4-*", flexible_disk=False),
        "GET",
        "/test/packages",
        query=[("memory", "1024"), ("name", "g4-*"), ("flexible_disk", "false")],
        answer=reply(200, []),
        returns=[],
    ),
    "get_package by name": Case(
        lambda a: a.get_package("g4-highcpu-1G"), "GET", "/test/packages/g4-highcpu-1G"
    ),
    "get_package from dict": Case(
        lambda a: a.get_package({"id": PKG, "name": "g4-highcpu-1G"}),
        "GET",
        f"/test/packages/{PKG}",
    ),
    # networks and config
    "list_networks": Case(
        lambda a: a.list_networks(fabric=True),
        "GET",
        "/test/networks",
        query=[("fabric", "true")],
        answer=reply(200, []),
        returns=[],
    ),
    "get_network": Case(lambda a: a.get_network(NET), "GET", f"/test/networks/{NET}"),
    "get_config": Case(lambda a: a.get_config(), "GET", "/test/config"),
    "update_config": Case(
        lambda a: a.update_config(default_network={"id": NET}),
        "PUT",
        "/test/config",
        body={"default_network": NET},
    ),
    # machines
    "get_machine": Case(
        lambda a: a.get_machine(MID),
        "GET",
        f"/test/machines/{MID}",
        answer=reply(200, MACHINE),
        returns=MACHINE,
    ),
    "get_machine with credentials": Case(
        lambda a: a.get_machine(MACHINE, credentials=True),
        "GET",
        f"/test/machines/{MID}",
        query=[("credentials", "true")],
    ),
    "create_machine": Case(
        lambda a: a.create_machine(
            image={"id": IMG, "name": "base-64"},
            package={"id": PKG, "name": "g4-highcpu-1G"},
            name="web",
            networks=[NET, {"id": NET2}, {"ipv4_uuid": NET, "ipv4_ips": ["10.0.0.5"]}],
            metadata={"user-script": "#!/bin/sh", "conf": {"a": 1}},
            tags={"role": "web", "replicas": 3, "public": True},
            firewall_enabled=True,
            deletion_protection=False,
            affinity="instance!=db*",
            brand="bhyve",
            encrypted=True,
            locality=None,
        ),
        "POST",
        "/test/machines",
        body={
            "image": IMG,
            "package": PKG,
            "name": "web",
            "networks": [NET, NET2, {"ipv4_uuid": NET, "ipv4_ips": ["10.0.0.5"]}],
            "firewall_enabled": True,
            "deletion_protection": False,
            "affinity": ["instance!=db*"],
            "brand": "bhyve",
            "metadata.user-script": "#!/bin/sh",
            "metadata.conf": '{"a": 1}',
            "tag.role": "web",
            "tag.replicas": 3,
            "tag.public": True,
            "encrypted": True,
        },
        answer=reply(201, {**MACHINE, "state": "provisioning"}, {"location": f"/test/m/{MID}"}),
        returns={**MACHINE, "state": "provisioning"},
    ),
    "create_machine minimal": Case(
        lambda a: a.create_machine(image=IMG, package="g4-highcpu-1G"),
        "POST",
        "/test/machines",
        body={"image": IMG, "package": "g4-highcpu-1G"},
    ),
    "delete_machine": Case(
        lambda a: a.delete_machine(MID),
        "DELETE",
        f"/test/machines/{MID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    "machine_audit": Case(
        lambda a: a.machine_audit(MID),
        "GET",
        f"/test/machines/{MID}/audit",
        answer=reply(200, [{"action": "start", "success": "yes"}]),
        returns=[{"action": "start", "success": "yes"}],
    ),
    "resize_machine": Case(
        lambda a: a.resize_machine(MID, {"id": PKG, "name": "g4-highcpu-2G"}),
        "POST",
        f"/test/machines/{MID}",
        query=[("action", "resize")],
        body={"package": PKG},
        answer=ACCEPTED,
        returns=None,
    ),
    "rename_machine": Case(
        lambda a: a.rename_machine(MID, "web-2"),
        "POST",
        f"/test/machines/{MID}",
        query=[("action", "rename")],
        body={"name": "web-2"},
        answer=ACCEPTED,
        returns=None,
    ),
    # snapshots
    "create_machine_snapshot": Case(
        lambda a: a.create_machine_snapshot(MID, "before-upgrade"),
        "POST",
        f"/test/machines/{MID}/snapshots",
        body={"name": "before-upgrade"},
        answer=reply(201, {"name": "before-upgrade", "state": "queued"}),
        returns={"name": "before-upgrade", "state": "queued"},
    ),
    "create_machine_snapshot unnamed": Case(
        lambda a: a.create_machine_snapshot(MID), "POST", f"/test/machines/{MID}/snapshots"
    ),
    "list_machine_snapshots": Case(
        lambda a: a.list_machine_snapshots(MID),
        "GET",
        f"/test/machines/{MID}/snapshots",
        answer=reply(200, []),
        returns=[],
    ),
    "get_machine_snapshot": Case(
        lambda a: a.get_machine_snapshot(MID, {"name": "s1", "state": "created"}),
        "GET",
        f"/test/machines/{MID}/snapshots/s1",
    ),
    "delete_machine_snapshot": Case(
        lambda a: a.delete_machine_snapshot(MID, "s1"),
        "DELETE",
        f"/test/machines/{MID}/snapshots/s1",
        answer=NO_CONTENT,
        returns=None,
    ),
    "start_machine_from_snapshot": Case(
        lambda a: a.start_machine_from_snapshot(MID, "s1"),
        "POST",
        f"/test/machines/{MID}/snapshots/s1",
        answer=ACCEPTED,
        returns=None,
    ),
    # metadata
    "update_machine_metadata": Case(
        lambda a: a.update_machine_metadata(MID, {"foo": "bar", "n": 1, "obj": {"a": [1]}}),
        "POST",
        f"/test/machines/{MID}/metadata",
        body={"foo": "bar", "n": 1, "obj": '{"a": [1]}'},
    ),
    "list_machine_metadata": Case(
        lambda a: a.list_machine_metadata(MID), "GET", f"/test/machines/{MID}/metadata"
    ),
    "list_machine_metadata with credentials": Case(
        lambda a: a.list_machine_metadata(MID, credentials=True),
        "GET",
        f"/test/machines/{MID}/metadata",
        query=[("credentials", "true")],
    ),
    "get_machine_metadata": Case(
        lambda a: a.get_machine_metadata(MID, "user-script"),
        "GET",
        f"/test/machines/{MID}/metadata/user-script",
        answer=reply(200, "#!/bin/sh"),
        returns="#!/bin/sh",
    ),
    "delete_machine_metadata": Case(
        lambda a: a.delete_machine_metadata(MID, "foo"),
        "DELETE",
        f"/test/machines/{MID}/metadata/foo",
        answer=NO_CONTENT,
        returns=None,
    ),
    "delete_all_machine_metadata": Case(
        lambda a: a.delete_all_machine_metadata(MID),
        "DELETE",
        f"/test/machines/{MID}/metadata",
        answer=NO_CONTENT,
        returns=None,
    ),
    # tags
    "add_machine_tags": Case(
        lambda a: a.add_machine_tags(MID, {"role": "web", "weight": 2}),
        "POST",
        f"/test/machines/{MID}/tags",
        body={"role": "web", "weight": 2},
    ),
    "replace_machine_tags": Case(
        lambda a: a.replace_machine_tags(MID, {"role": "db"}),
        "PUT",
        f"/test/machines/{MID}/tags",
        body={"role": "db"},
    ),
    "list_machine_tags": Case(
        lambda a: a.list_machine_tags(MID), "GET", f"/test/machines/{MID}/tags"
    ),
    "get_machine_tag quotes the name": Case(
        lambda a: a.get_machine_tag(MID, "a/b c"),
        "GET",
        f"/test/machines/{MID}/tags/a%2Fb%20c",
        answer=reply(200, "web"),
        returns="web",
    ),
    "delete_machine_tag": Case(
        lambda a: a.delete_machine_tag(MID, "role"),
        "DELETE",
        f"/test/machines/{MID}/tags/role",
        answer=NO_CONTENT,
        returns=None,
    ),
    "delete_machine_tags": Case(
        lambda a: a.delete_machine_tags(MID),
        "DELETE",
        f"/test/machines/{MID}/tags",
        answer=NO_CONTENT,
        returns=None,
    ),
}

# The POST /machines/:id?action=... operations that take nothing but the id.
SIMPLE_ACTIONS = {
    "stop_machine": "stop",
    "start_machine": "start",
    "reboot_machine": "reboot",
    "enable_machine_firewall": "enable_firewall",
    "disable_machine_firewall": "disable_firewall",
    "enable_machine_deletion_protection": "enable_deletion_protection",
    "disable_machine_deletion_protection": "disable_deletion_protection",
}


def _call_with_machine_dict(method: str) -> Callable[[CloudAPI], Any]:
    return lambda api: getattr(api, method)({"id": MID, "state": "running"})


for _method, _action in SIMPLE_ACTIONS.items():
    CASES[_method] = Case(
        _call_with_machine_dict(_method),
        "POST",
        f"/test/machines/{MID}",
        query=[("action", _action)],
        answer=ACCEPTED,
        returns=None,
    )


def check_case(key: TestKey, case: Case) -> None:
    """Make the call with both clients against a recording transport; each must send the
    documented request and return the documented result."""
    recorder = Recorder().add(_fresh(case.answer))
    with make_api(key, recorder) as api:
        result = case.call(api)
    _check_request(recorder, case)
    assert result == case.returns

    recorder = Recorder().add(_fresh(case.answer))
    assert asyncio.run(_async_result(key, recorder, case)) == case.returns
    _check_request(recorder, case)


def _fresh(answer: httpx.Response) -> httpx.Response:
    """An unread copy of ``answer``: a response object is read once, by one client."""
    return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


async def _async_result(key: TestKey, recorder: Recorder, case: Case) -> Any:
    async with make_async_api(key, recorder) as api:
        result = case.call(api)
        if inspect.isawaitable(result):
            return await result
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        return result


def _check_request(recorder: Recorder, case: Case) -> None:
    assert len(recorder.requests) == 1
    request = recorder.last
    assert request.method == case.method
    assert request.url.raw_path.split(b"?")[0].decode() == case.path
    assert query_of(request) == case.query
    assert body_of(request) == case.body
    if case.body is not None:
        assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_operation_sends_the_documented_request(keys: dict[str, TestKey], case: Case) -> None:
    check_case(keys["rsa"], case)


def test_dicts_without_the_id_key_are_rejected_with_a_clear_error(
    keys: dict[str, TestKey],
) -> None:
    with make_api(keys["rsa"], Recorder()) as api:
        with pytest.raises(TypeError, match="'id'"):
            api.get_machine({"name": "web"})
        with pytest.raises(ValueError, match="empty"):
            api.get_image("")


def test_unknown_filters_and_fields_are_rejected_naming_them(keys: dict[str, TestKey]) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api:
        with pytest.raises(TypeError, match="stat"):
            api.list_images(stat="all")
        with pytest.raises(TypeError, match="nickname"):
            api.update_account(nickname="x")
        with pytest.raises(TypeError, match="fabrics"):
            api.list_networks(fabrics=True)
        with pytest.raises(TypeError, match="colour"):
            api.list_packages(colour="red")
    assert recorder.requests == []


def test_create_machine_refuses_a_field_given_twice(keys: dict[str, TestKey]) -> None:
    with make_api(keys["rsa"], Recorder()) as api, pytest.raises(TypeError, match=r"tag\.role"):
        raw: dict[str, Any] = {"tag.role": "b"}
        api.create_machine(image=IMG, package=PKG, tags={"role": "a"}, **raw)


def test_create_key_rejects_text_that_is_not_a_public_key(keys: dict[str, TestKey]) -> None:
    with make_api(keys["rsa"], Recorder()) as api, pytest.raises(ValueError, match="OpenSSH"):
        api.create_key("not-a-key")


def test_get_datacenter_without_location_is_an_error(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(302, {"code": "ResourceMoved", "message": "moved"}))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(CloudAPIError, match="Location"):
        api.get_datacenter("us-east-1")


def test_get_datacenter_unknown_name_is_not_found(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(404, {"code": "ResourceNotFound", "message": "nope is not an available datacenter"})
    )
    with make_api(keys["rsa"], recorder) as api, pytest.raises(ResourceNotFoundError):
        api.get_datacenter("nope")
