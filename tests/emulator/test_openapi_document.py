"""The emulator's /openapi.json is a valid OpenAPI 3.1 contract: every CloudAPI operation is
in it under its name, with inputs, answers per status and examples that fit their schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from openapi_spec_validator import validate

from smartdc.emulator.context import Reply, Route
from smartdc.emulator.openapi import build_openapi, operation_index
from smartdc.emulator.routes import all_routes
from smartdc.emulator.server import EmulatorServer
from smartdc.operations import OPERATIONS

_METHODS = ("get", "head", "post", "put", "delete")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi(all_routes())


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _check(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """Validate ``value`` against ``schema``, whose ``$ref``s point into the document."""
    rooted = {"components": document["components"], "allOf": [schema]}
    jsonschema.Draft202012Validator(rooted).validate(value)


def test_the_served_document_is_valid_openapi_3_1(emulator: EmulatorServer) -> None:
    served = httpx.get(f"{emulator.url}/openapi.json").json()
    assert served["openapi"] == "3.1.0"
    assert served["servers"] == [{"url": emulator.url}]
    validate(served)


def test_every_cloudapi_operation_is_findable_by_its_name(document: dict[str, Any]) -> None:
    index = operation_index(document)
    for listed in OPERATIONS:
        assert listed.name in index, listed.name
        places = index[listed.name]
        assert {p.method for p in places} == {listed.method.lower()}
        assert all(p.action == listed.action for p in places)
    assert not [path for path in document["paths"] if "?" in path]
    assert index["StartMachine"][0].path == "/{login}/machines/{id}"
    assert index["StartMachine"][0].operation_id == "MachineAction"
    assert index["ImportImageFromDatacenter"][0].action == "import-from-datacenter"
    assert index["CreateImageFromMachine"][0].action is None
    assert len(index["SetRoleTags"]) == 6
    # Beyond CloudAPI's list: routes sdc-cloudapi serves that its list leaves out.
    unlisted = set(index) - {o.name for o in OPERATIONS}
    assert unlisted == {r.operation for r in all_routes()} - {o.name for o in OPERATIONS}
    assert {"UpdateAccessKey", "UpdateUserAccessKey"} <= unlisted


def test_operation_ids_are_unique_and_head_variants_are_named_after_their_get(
    document: dict[str, Any],
) -> None:
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))
    machine = document["paths"]["/{login}/machines/{id}"]
    assert machine["head"]["operationId"] == "HeadGetMachine"
    assert machine["put"]["operationId"] == "SetRoleTags_ReplaceMachineRoleTags"
    assert all("content" not in r for r in machine["head"]["responses"].values())


def test_paths_differing_only_in_placeholder_names_are_merged(document: dict[str, Any]) -> None:
    shapes = [_PLACEHOLDER.sub("{}", path) for path in document["paths"]]
    assert len(shapes) == len(set(shapes))
    # UpdateUser's route names the user {id}, GetUser's {user}: one path item holds both.
    users = document["paths"]["/{login}/users/{user}"]
    assert {"get", "post", "delete"} <= set(users)


def test_every_operation_declares_its_path_parameters_and_error_envelope(
    document: dict[str, Any],
) -> None:
    for path, method, operation in _operations(document):
        declared = [p["name"] for p in operation["parameters"] if p.get("in") == "path"]
        assert declared == _PLACEHOLDER.findall(path), (method, path)
        statuses = set(operation["responses"])
        assert any(s[0] in "123" for s in statuses), (method, path)
        if operation["security"]:
            assert {"400", "401", "403", "404", "429"} <= statuses, (method, path)


def test_machine_actions_are_one_operation_with_an_action_enum(document: dict[str, Any]) -> None:
    operation = document["paths"]["/{login}/machines/{id}"]["post"]
    action = next(p for p in operation["parameters"] if p.get("name") == "action")
    assert action["in"] == "query" and action["required"] is True
    mapping = {e["action"]: e["operationId"] for e in operation["x-cloudapi-operations"]}
    assert mapping["resize"] == "ResizeMachine"
    assert mapping["enable_deletion_protection"] == "EnableMachineDeletionProtection"
    assert set(action["schema"]["enum"]) == set(mapping)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    # A resize body needs a package; a bare start body needs nothing.
    with pytest.raises(jsonschema.ValidationError):
        _check(document, body, {"action": "resize"})
    _check(document, body, {"action": "resize", "package": "g4-highcpu-256M"})
    _check(document, body, {})
    assert schemas["ResizeMachineRequest"]["required"] == ["package"]
    assert set(operation["responses"]) >= {"202", "404", "409", "410"}


def test_websocket_operations_are_documented_as_upgrades(document: dict[str, Any]) -> None:
    for path in ("/{login}/changefeed", "/{login}/machines/{id}/vnc"):
        operation = document["paths"][path]["get"]
        headers = {p["name"]: p for p in operation["parameters"] if p.get("in") == "header"}
        assert headers["Upgrade"]["schema"] == {"const": "websocket"}
        assert headers["Sec-WebSocket-Key"]["required"] is True
        assert "Sec-WebSocket-Accept" in operation["responses"]["101"]["headers"]
        assert operation["x-websocket"]["frames"] in ("text", "binary")
    vnc = document["paths"]["/{login}/machines/{id}/vnc"]["get"]
    version = next(p for p in vnc["parameters"] if p.get("name") == "Accept-Version")
    assert version["required"] is True and vnc["x-cloudapi-versions"] == ["8.4.0"]
    changefeed = document["paths"]["/{login}/changefeed"]["get"]
    assert changefeed["responses"]["500"]["content"]["application/json"]["example"] == {
        "message": "Connection Must Upgrade For WebSockets"
    }


def test_every_example_fits_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for _, _, operation in _operations(document):
        bodies = [operation.get("requestBody", {})]
        bodies += [r for r in operation["responses"].values() if "$ref" not in r]
        for holder in bodies:
            for media in holder.get("content", {}).values():
                assert "example" in media, operation["operationId"]
                _check(document, media["schema"], media["example"])
                checked += 1
    for response in document["components"]["responses"].values():
        media = response["content"]["application/json"]
        _check(document, media["schema"], media["example"])
        checked += 1
    assert checked > 150


def test_answers_name_their_headers_and_objects(document: dict[str, Any]) -> None:
    paths = document["paths"]
    listed = paths["/{login}/machines"]["get"]["responses"]["200"]
    assert {"x-query-limit", "x-resource-count", "Request-Id"} <= set(listed["headers"])
    assert listed["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Machine"
    }
    created = paths["/{login}/machines"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    gone = paths["/{login}/machines/{id}"]["get"]["responses"]["410"]
    assert gone["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Machine"}
    tag = paths["/{login}/machines/{id}/tags/{tag}"]["get"]["responses"]["200"]
    assert set(tag["content"]) == {"application/json", "text/plain"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["message"] and error["additionalProperties"] is False


def test_action_routes_the_tables_do_not_know_still_get_one_operation() -> None:
    def handler(call: object) -> Reply:
        return Reply(202)

    routes = [
        Route("StartThing", "POST", "/{login}/things/{id}", handler, query_action="start"),
        Route("StopThing", "POST", "/{login}/things/{id}", handler, query_action="stop"),
    ]
    document = build_openapi(routes)
    validate(document)
    assert list(document["paths"]) == ["/{login}/things/{id}"]
    operation = document["paths"]["/{login}/things/{id}"]["post"]
    assert [e["operationId"] for e in operation["x-cloudapi-operations"]] == [
        "StartThing",
        "StopThing",
    ]
