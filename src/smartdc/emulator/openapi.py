"""An OpenAPI document describing the emulator's route table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from smartdc.emulator.context import API_VERSIONS, SERVER_VERSION, Route

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

DESCRIPTION = (
    "Triton CloudAPI as served by smartdc-emulator ({server}). Every path starts with the "
    "account login; `my` stands for the caller's own login. Requests are authenticated with "
    "HTTP Signatures. Operations that CloudAPI selects with the `action` parameter share a "
    "method and path; their path keys carry the action after `?` (for example "
    "`/{{login}}/machines/{{id}}?action=start`), as CloudAPI's own operation list writes them. "
    "`x-cloudapi-versions` lists the API versions an operation serves (select one with the "
    "`Accept-Version` header); `x-head` marks GET operations that also answer HEAD."
)


def path_key(route: Route) -> str:
    """The document's key for a route: its template, plus ``?action=`` when it has one."""
    if route.query_action is None:
        return route.path
    return f"{route.path}?action={route.query_action}"


def _operation(route: Route, operation_id: str) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PLACEHOLDER.findall(route.path)
    ]
    parameters.append(
        {
            "name": "Accept-Version",
            "in": "header",
            "required": False,
            "description": "semver range of API versions the client accepts (default *)",
            "schema": {"type": "string"},
        }
    )
    if route.query_action is not None:
        parameters.append(
            {
                "name": "action",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "enum": [route.query_action]},
            }
        )
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": route.summary or route.operation,
        "parameters": parameters,
        "responses": {
            "default": {
                "description": "CloudAPI's answer; errors carry a {code, message} body",
                "content": {"application/json": {"schema": {}}},
            }
        },
        "security": [] if route.anonymous else [{"httpSignature": []}],
        "x-cloudapi-versions": list(route.versions),
    }
    if route.head:
        operation["x-head"] = True
    if route.content_types:
        operation["x-content-types"] = list(route.content_types)
    return operation


def build_openapi(routes: Sequence[Route], *, server_url: str | None = None) -> dict[str, Any]:
    """An OpenAPI 3.0 document with one operation per route (operationId = CloudAPI name)."""
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in routes:
        methods = paths.setdefault(path_key(route), {})
        method = route.method.lower()
        if method in methods:
            continue
        # An operation CloudAPI serves on several paths (SetRoleTags) keeps its name on the
        # first; the others add their upstream route name, as operation ids must be unique.
        operation_id = route.operation
        if operation_id in used:
            operation_id = f"{route.operation}_{route.variant or len(used)}"
        used.add(operation_id)
        methods[method] = _operation(route, operation_id)
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "Triton CloudAPI",
            "version": API_VERSIONS[-1],
            "description": DESCRIPTION.format(server=SERVER_VERSION),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "httpSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": 'Signature keyId="/<login>/keys/<md5 fingerprint>",...',
                }
            }
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
