"""The emulator's OpenAPI 3.1 document, built from its route table.

Every route becomes an operation whose ``operationId`` is the CloudAPI operation name, with
its path, query and header parameters, JSON body and the answers it gives per status
(:mod:`smartdc.emulator.openapi_operations`), objects and errors as CloudAPI sends them
(:mod:`smartdc.emulator.openapi_schemas`) and examples
(:mod:`smartdc.emulator.openapi_examples`). Three shapes need more than one operation per
route, as OpenAPI allows one operation per method and path:

* Operations CloudAPI selects with ``action`` on a shared method and path (machine and image
  actions) are one operation per path (``MachineAction``, ``ImageAction``,
  ``CreateOrImportImage``) with an ``action`` query enum and a body that is ``anyOf`` the
  actions' bodies; ``x-cloudapi-operations`` maps each action to its CloudAPI operation.
* GET routes that also answer HEAD get a ``head`` operation ``Head<Operation>``.
* An operation CloudAPI serves on several paths (SetRoleTags) keeps its name on the first
  and adds the upstream route name on the others (``SetRoleTags_ReplaceMachineRoleTags``).

Every operation names the CloudAPI operation it serves in ``x-cloudapi-operation`` (or the
list in ``x-cloudapi-operations``); :func:`operation_index` reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator import openapi_components as parts
from smartdc.emulator import openapi_websockets as ws
from smartdc.emulator.context import API_VERSIONS, SERVER_VERSION, Route
from smartdc.emulator.openapi_examples import OBJECTS
from smartdc.emulator.openapi_operations import (
    ACTION_GROUPS,
    COMMON_ERRORS,
    DOCS,
    ActionGroup,
    Answer,
    OperationDoc,
    Param,
)
from smartdc.emulator.openapi_schemas import JSON, SCHEMAS, obj, ref

OPENAPI_VERSION = "3.1.0"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WEBSOCKETS = frozenset({"GetChangefeed", "ConnectMachineVNC"})
#: An unsigned request (Ping) can still fail on a signature it sends, or on Accept.
_ANONYMOUS_ERRORS = (400, 401, 406)
_BODY_METHODS = frozenset({"POST", "PUT"})
_ACCEPT_VERSION = parts.ACCEPT_VERSION

DESCRIPTION = (
    "Triton CloudAPI as served by smartdc-emulator ({server}). Every path starts with the "
    "account login; `my` stands for the caller's own login. Requests are signed with HTTP "
    "Signatures (see the `httpSignature` scheme). CloudAPI merges the query string and the "
    "body into one set of parameters (body keys win), so a body property may also be sent "
    "in the query.\n\n"
    "Operations CloudAPI selects with the `action` parameter on a shared method and path "
    "(machine and image actions) are documented as one operation per path whose `action` "
    "query parameter is an enum and whose body is `anyOf` the actions' bodies; "
    "`x-cloudapi-operations` maps each action to its CloudAPI operation name. Every other "
    "operation's `operationId` is its CloudAPI name (`x-cloudapi-operation`); GET operations "
    "that also answer HEAD have a `head` operation `Head<name>`. GetChangefeed and "
    "ConnectMachineVNC are WebSocket upgrades (`x-websocket` describes the messages).\n\n"
    "`x-cloudapi-versions` lists the API versions an operation serves (select one with the "
    "`Accept-Version` header). Errors carry the envelope `{{code, message}}`."
)


@dataclass(frozen=True)
class OperationRef:
    """Where the document describes a CloudAPI operation."""

    path: str
    method: str
    operation_id: str
    #: The ``action`` value that selects it (``None``: no action).
    action: str | None = None


def build_openapi(routes: Sequence[Route], *, server_url: str | None = None) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing ``routes`` (see the module docstring)."""
    builder = _Builder()
    for (path, method), group in _groups(routes).items():
        builder.add(path, method, group)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Triton CloudAPI",
            "version": API_VERSIONS[-1],
            "description": DESCRIPTION.format(server=SERVER_VERSION),
        },
        "paths": builder.paths,
        "components": {
            "schemas": {**SCHEMAS, **ws.SCHEMAS, **builder.schemas},
            "headers": parts.HEADERS,
            "responses": parts.RESPONSES,
            "securitySchemes": parts.SECURITY_SCHEMES,
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def operation_index(document: dict[str, Any]) -> dict[str, list[OperationRef]]:
    """Every CloudAPI operation name the document describes, with where (several places for
    SetRoleTags; HEAD operations are left out)."""
    index: dict[str, list[OperationRef]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "head":
                continue
            oid = operation["operationId"]
            for entry in operation.get("x-cloudapi-operations", ()):
                found = OperationRef(path, method, oid, entry["action"])
                index.setdefault(entry["operationId"], []).append(found)
            if "x-cloudapi-operation" in operation:
                found = OperationRef(path, method, oid)
                index.setdefault(operation["x-cloudapi-operation"], []).append(found)
    return index


def _groups(routes: Sequence[Route]) -> dict[tuple[str, str], list[Route]]:
    """Routes by (document path, method), in table order. Templates of one shape share the
    placeholder names of the first (OpenAPI forbids two paths that differ only in names)."""
    names: dict[str, str] = {}
    groups: dict[tuple[str, str], list[Route]] = {}
    for route in routes:
        shape = _PLACEHOLDER.sub("{}", route.path)
        path = names.setdefault(shape, route.path)
        groups.setdefault((path, route.method), []).append(route)
    return groups


def _area(route: Route, path: str) -> str:
    if route.operation == "SetRoleTags":
        return "roletags"
    segments = [s for s in path.split("/") if s and not _PLACEHOLDER.fullmatch(s)]
    return segments[0] if segments and not segments[0].startswith("-") else "account"


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        found = _PLACEHOLDER.fullmatch(segment)
        if found is None:
            continue
        before = segments[index - 1] if index > 0 else None
        if before is not None and _PLACEHOLDER.fullmatch(before):
            before = None
        parameters.append(parts.path_parameter(before, found.group(1)))
    return parameters


def _param(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.name,
        "in": param.where,
        "required": param.required,
        "schema": param.schema,
    }
    if param.description:
        out["description"] = param.description
    if param.explode_object:
        out.update(style="form", explode=True)
    return out


def _example(schema: JSON) -> Any:
    """The example object of a schema that names a component (or an array of one)."""
    target = schema.get("$ref") or schema.get("items", {}).get("$ref")
    if not isinstance(target, str):
        return None
    example = OBJECTS.get(target.rsplit("/", 1)[-1])
    if example is None or "$ref" in schema:
        return example
    return [example]


def _answer(answer: Answer, *, head: bool, role_tags: bool = False) -> dict[str, Any]:
    names = (*parts.STANDARD_HEADERS, *answer.headers)
    if role_tags and answer.status == 200:
        names += ("role-tag",)
    response: dict[str, Any] = {
        "description": answer.description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in names},
    }
    if answer.schema is None or head:
        return response
    media: dict[str, Any] = {"schema": answer.schema}
    example = answer.example if answer.example is not None else _example(answer.schema)
    if example is not None:
        media["example"] = example
    content = {answer.media_type: media}
    if answer.text:
        content["text/plain"] = {"schema": {"type": "string"}, "example": example}
    response["content"] = content
    return response


def _responses(route: Route, doc: OperationDoc, *, head: bool) -> dict[str, Any]:
    # GETs of a role-tagged resource answer with its role names.
    tagged = route.method == "GET"
    responses = {str(a.status): _answer(a, head=head, role_tags=tagged) for a in doc.answers}
    errors = set(_ANONYMOUS_ERRORS if route.anonymous else COMMON_ERRORS) | set(doc.errors)
    if route.content_types:
        errors.add(415)
    for status in sorted(errors):
        responses.setdefault(str(status), parts.error_response(status, head=head))
    return dict(sorted(responses.items()))


def _common(route: Route, path: str, doc: OperationDoc, *, head: bool) -> dict[str, Any]:
    """The parts of an operation every kind shares."""
    parameters = _path_parameters(path)
    parameters.append(_ACCEPT_VERSION)
    if not route.anonymous:
        parameters.append(parts.AS_ROLE)
    parameters += [_param(p) for p in doc.query + doc.headers]
    operation: dict[str, Any] = {
        "summary": route.summary or route.operation,
        "tags": [_area(route, path)],
        "parameters": parameters,
    }
    if doc.description:
        operation["description"] = doc.description
    if doc.body is not None and not head and route.method in _BODY_METHODS:
        body: dict[str, Any] = {"schema": doc.body}
        if doc.body_example is not None:
            body["example"] = doc.body_example
        operation["requestBody"] = {
            "required": doc.body_required,
            "content": {"application/json": body},
        }
    operation["responses"] = _responses(route, doc, head=head)
    operation["security"] = [] if route.anonymous else [{"httpSignature": []}]
    operation["x-cloudapi-versions"] = list(route.versions)
    if route.content_types:
        operation["x-content-types"] = list(route.content_types)
    return operation


class _Builder:
    """Collects path items and the request schemas of action groups."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, JSON] = {}
        self._used: set[str] = set()

    def _operation_id(self, route: Route) -> str:
        # Operation ids are unique: SetRoleTags' other paths add their upstream route name.
        name = route.operation
        if name in self._used:
            name = f"{route.operation}_{route.variant or len(self._used)}"
        self._used.add(name)
        return name

    def add(self, path: str, method: str, routes: list[Route]) -> None:
        item = self.paths.setdefault(path, {})
        first = routes[0]
        if first.operation in _WEBSOCKETS:
            item[method.lower()] = self._websocket(first, path)
        elif any(r.query_action is not None for r in routes):
            item[method.lower()] = self._actions(path, method, routes)
        else:
            item[method.lower()] = self._plain(first, path)
        if first.head and method == "GET":
            item["head"] = self._head(first, path)

    def _plain(self, route: Route, path: str) -> dict[str, Any]:
        doc = DOCS.get(route.operation) or OperationDoc(answers=(Answer(200, None, "OK"),))
        operation = {
            "operationId": self._operation_id(route),
            **_common(route, path, doc, head=False),
            "x-cloudapi-operation": route.operation,
        }
        if route.variant:
            operation["x-cloudapi-route"] = route.variant
        if route.head:
            operation["x-head"] = True
        return operation

    def _head(self, route: Route, path: str) -> dict[str, Any]:
        doc = DOCS.get(route.operation) or OperationDoc(answers=(Answer(200, None, "OK"),))
        operation = {
            "operationId": f"Head{route.operation}",
            **_common(route, path, doc, head=True),
        }
        operation["summary"] = f"{operation['summary']} (headers only)"
        operation["x-cloudapi-head-of"] = route.operation
        return operation

    def _actions(self, path: str, method: str, routes: list[Route]) -> dict[str, Any]:
        group = ACTION_GROUPS.get((method, path)) or _generic_group(routes)
        entries: list[dict[str, Any]] = []
        bodies: list[JSON] = []
        for route in routes:
            _, schema = group.actions.get(route.query_action, (route.operation, obj({})))
            name = f"{route.operation}Request"
            body = dict(schema)
            if route.query_action is not None:
                properties = {"action": {"const": route.query_action}, **body["properties"]}
                body["properties"] = properties
            self.schemas[name] = {"title": route.operation, **body}
            bodies.append(ref(name))
            entries.append(
                {
                    "operationId": route.operation,
                    "action": route.query_action,
                    "summary": route.summary or route.operation,
                    "requestBody": ref(name),
                    "x-cloudapi-versions": list(route.versions),
                }
            )
        actions = [r.query_action for r in routes if r.query_action is not None]
        first = routes[0]
        operation: dict[str, Any] = {
            "operationId": group.operation_id,
            **_common(first, path, group.doc, head=False),
        }
        operation["summary"] = group.summary
        operation["parameters"].append(
            {
                "name": "action",
                "in": "query",
                "required": group.action_required,
                "description": "which operation (see `x-cloudapi-operations`); an `action` in "
                "the body takes precedence",
                "schema": {"enum": actions},
            }
        )
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"anyOf": bodies},
                    "example": _action_example(entries),
                }
            },
        }
        operation["x-cloudapi-operations"] = entries
        return operation

    def _websocket(self, route: Route, path: str) -> dict[str, Any]:
        vnc = route.operation == "ConnectMachineVNC"
        gone = Answer(410, ref("Machine"), "The machine is deleted; the body is the machine")
        doc = OperationDoc(answers=(gone,) if vnc else (), errors=(409,) if vnc else ())
        operation = {
            "operationId": self._operation_id(route),
            **_common(route, path, doc, head=False),
        }
        parameters = operation["parameters"]
        if vnc:
            parameters = [p for p in parameters if p != _ACCEPT_VERSION]
            parameters += [ws.VNC_VERSION_HEADER, ws.VNC_PROTOCOL_HEADER]
        operation["parameters"] = [*parameters, *ws.UPGRADE_HEADERS, *ws.PRESIGNED_QUERY]
        operation["responses"] = ws.upgrade_responses(route.operation, operation["responses"])
        operation["security"] = [{"httpSignature": []}, {"presignedUrl": []}]
        operation["x-cloudapi-operation"] = route.operation
        operation["x-websocket"] = ws.websocket_extension(route.operation)
        return operation


def _generic_group(routes: list[Route]) -> ActionGroup:
    """An action group the tables do not describe: each action with an open body."""
    actions: dict[str | None, tuple[str, JSON]] = {
        r.query_action: (r.operation, obj({})) for r in routes
    }
    names = "/".join(r.operation for r in routes)
    return ActionGroup(
        f"{routes[0].operation}Actions",
        f"One of {names}",
        actions,
        OperationDoc(answers=(Answer(200, None, "OK"),), errors=(409,)),
        action_required=all(r.query_action is not None for r in routes),
    )


def _action_example(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A body for the first action that needs one (an empty one when none does)."""
    samples = {
        "ResizeMachine": {"action": "resize", "package": "g4-highcpu-256M"},
        "UpdateImage": {"action": "update", "description": "with nginx"},
        "CreateImageFromMachine": {
            "machine": OBJECTS["Machine"]["id"],
            "name": "web-base",
            "version": "1.0.0",
        },
    }
    for entry in entries:
        if entry["operationId"] in samples:
            return samples[entry["operationId"]]
    return {}
