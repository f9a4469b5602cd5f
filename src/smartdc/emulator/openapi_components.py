"""Reusable parts of the OpenAPI document: path parameters, the headers every request and
response carries, the error responses and the security schemes."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.openapi_examples import ERRORS, IMAGE, MACHINE, PACKAGE, PUBLIC_NETWORK
from smartdc.emulator.openapi_schemas import JSON, STRING, UUID, ref
from smartdc.wire import QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER, ROLE_TAG_RESOURCES

_UUID_PATH = {"schema": UUID}

# Path parameters by "<segment before it>/{name}", then by name alone.
_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "login": {
        "schema": STRING,
        "description": "the account login; `my` stands for the caller's own",
        "example": "my",
    },
    "machines/{id}": {**_UUID_PATH, "example": MACHINE["id"]},
    "machines/{instance_id}": {**_UUID_PATH, "example": MACHINE["id"]},
    "images/{id}": {**_UUID_PATH, "example": IMAGE["id"]},
    "packages/{id}": {
        "schema": STRING,
        "description": "UUID, or a name (its highest active version)",
        "example": PACKAGE["name"],
    },
    "networks/{id}": {**_UUID_PATH, "example": PUBLIC_NETWORK["id"]},
    "fwrules/{id}": _UUID_PATH,
    "volumes/{id}": _UUID_PATH,
    "migrations/{id}": {**_UUID_PATH, "description": "the machine's UUID"},
    "users/{user}": {"schema": STRING, "description": "login or UUID"},
    "keys/{key}": {"schema": STRING, "description": "name or MD5 fingerprint"},
    "roles/{role}": {"schema": STRING, "description": "UUID or name"},
    "policies/{policy}": {"schema": STRING, "description": "UUID or name"},
    "accesskeys/{accesskeyid}": {"schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
    "datacenters/{name}": {"schema": STRING, "example": "us-east-1"},
    "vlans/{vlan_id}": {"schema": {"type": "integer", "minimum": 0, "maximum": 4095}},
    "ips/{ip_address}": {"schema": {"type": "string", "format": "ipv4"}},
    "nics/{mac}": {
        "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{12}$"},
        "description": "the MAC address without colons",
    },
    "disks/{disk_id}": _UUID_PATH,
    "snapshots/{name}": {"schema": STRING},
    "tags/{tag}": {"schema": STRING},
    "metadata/{key}": {"schema": STRING},
    "resource_name": {
        "schema": {"enum": sorted(ROLE_TAG_RESOURCES)},
        "description": "the kind of resource",
    },
    "resource_id": {"schema": STRING, "description": "the resource's UUID, name or login"},
}


def path_parameter(segment: str | None, name: str) -> dict[str, Any]:
    """The path parameter ``name``, which follows the literal ``segment`` in the path."""
    known = _PATH_PARAMETERS.get(f"{segment}/{{{name}}}") or _PATH_PARAMETERS.get(name)
    spec = dict(known) if known else {"schema": STRING}
    return {"name": name, "in": "path", "required": True, **spec}


#: The version header every operation takes.
ACCEPT_VERSION: JSON = {
    "name": "Accept-Version",
    "in": "header",
    "required": False,
    "description": (
        "semver range of API versions the client accepts (default `*`, the latest); "
        "the route serving the highest matching version answers"
    ),
    "schema": STRING,
    "examples": {
        "triton": {"value": "~9||~8"},
        "node-smartdc": {"value": "~7.2"},
        "latest": {"value": "*"},
    },
}

#: The active-roles parameter every signed operation takes.
AS_ROLE: JSON = {
    "name": "as-role",
    "in": "query",
    "required": False,
    "description": "for a sub-user: the role names (comma-separated) to act with",
    "schema": STRING,
}

_STANDARD_HEADERS: dict[str, tuple[JSON, str]] = {
    "Request-Id": (STRING, "the request's `Request-Id`/`x-request-id`, else a new UUID"),
    "Api-Version": (STRING, "the highest API version served (9.0.0)"),
    "Server": (STRING, "`cloudapi/<version>`"),
    "Response-Time": ({"type": "integer"}, "milliseconds"),
}

_OTHER_HEADERS: dict[str, tuple[JSON, str]] = {
    "Location": (STRING, "where the resource lives"),
    QUERY_LIMIT_HEADER: ({"type": "integer"}, "the page size in effect"),
    RESOURCE_COUNT_HEADER: ({"type": "integer"}, "items in this page"),
    "x-job-uuid": (UUID, "the job making the change"),
    "x-joyent-jobid": (UUID, "the job creating the image"),
    "Triton-Datacenter-Name": (STRING, "this datacenter's name"),
    "role-tag": (STRING, "the resource's role names, comma-separated"),
}

#: Headers every answer past authentication carries.
STANDARD_HEADERS = tuple(_STANDARD_HEADERS)

HEADERS: dict[str, JSON] = {
    **{
        name: {"description": text, "required": True, "schema": schema}
        for name, (schema, text) in _STANDARD_HEADERS.items()
    },
    **{
        name: {"description": text, "schema": schema}
        for name, (schema, text) in _OTHER_HEADERS.items()
    },
}

#: Component response name and description per error status.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Bad headers, version, content or digest"),
    401: ("Unauthorized", "Missing or invalid signature"),
    403: ("Forbidden", "Not allowed (another account, RBAC, a limit)"),
    404: ("NotFound", "No such account or resource"),
    406: ("NotAcceptable", "The `Accept` header names nothing CloudAPI produces"),
    409: ("Conflict", "Invalid or missing parameters, or a state that forbids it"),
    412: ("PreconditionFailed", "The migration is in a phase or state that forbids the action"),
    413: ("PayloadTooLarge", "The body is larger than 100000 bytes"),
    415: ("UnsupportedMediaType", "The body's content type is not accepted here"),
    422: ("UnprocessableEntity", "A backend refused the parameters"),
    429: ("TooManyRequests", "Throttled"),
    500: ("InternalError", "A plain error"),
    501: ("NotImplemented", "Not enabled in this datacenter"),
    503: ("ServiceUnavailable", "Read-only or maintenance mode"),
}

RESPONSES: dict[str, JSON] = {
    name: {
        "description": text,
        "content": {"application/json": {"schema": ref("Error"), "example": ERRORS[status]}},
    }
    for status, (name, text) in ERROR_RESPONSES.items()
    if status in ERRORS
}
RESPONSES["ServiceUnavailable"]["headers"] = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}


def error_response(status: int, *, head: bool = False) -> JSON:
    """The response for an error ``status`` (no body for HEAD)."""
    name, text = ERROR_RESPONSES[status]
    if head:
        return {"description": text}
    if name in RESPONSES:
        return {"$ref": f"#/components/responses/{name}"}
    return {"description": text, "content": {"application/json": {"schema": ref("Error")}}}


SECURITY_SCHEMES: dict[str, JSON] = {
    "httpSignature": {
        "type": "http",
        "scheme": "Signature",
        "description": (
            'HTTP Signature: `Authorization: Signature keyId="/<login>/keys/<md5 fingerprint>",'
            'algorithm="rsa-sha256",headers="(request-target) date",signature="<base64>"`, '
            "with a `Date` header within 300 s of the server's clock. Sub-users sign as "
            "`/<login>/users/<user>/keys/<fingerprint>`."
        ),
    },
    "presignedUrl": {
        "type": "apiKey",
        "in": "query",
        "name": "signature",
        "description": (
            "A pre-signed URL (API 8.4.0 and later): `algorithm`, `expires`, `keyId` and "
            "`signature` in the query string"
        ),
    },
}
