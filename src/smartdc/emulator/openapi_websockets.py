"""The two WebSocket operations, documented as HTTP upgrades.

OpenAPI describes the handshake: a ``GET`` with the upgrade headers, answered ``101``. What
flows over the socket afterwards goes in ``x-websocket``: the sub-protocols, the frame type and
the schema of each direction's messages (sdc-cloudapi lib/changefeed.js and lib/vnc.js).
"""

from __future__ import annotations

from typing import Any

from smartdc.emulator.openapi_schemas import JSON, STRING, STRINGS, UUID, obj, ref

#: The sub-resources a changefeed registration may name.
CHANGEFEED_SUBRESOURCES = (
    "alias",
    "customer_metadata",
    "destroyed",
    "nics",
    "owner_uuid",
    "server_uuid",
    "state",
    "tags",
)

UPGRADE_HEADERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Connection",
        "in": "header",
        "required": True,
        "schema": {"const": "Upgrade"},
    },
    {"name": "Upgrade", "in": "header", "required": True, "schema": {"const": "websocket"}},
    {
        "name": "Sec-WebSocket-Key",
        "in": "header",
        "required": True,
        "description": "16 random bytes, base64",
        "schema": {"type": "string"},
    },
    {"name": "Sec-WebSocket-Version", "in": "header", "required": True, "schema": {"const": "13"}},
)

#: Query parameters of a pre-signed URL (8.4.0 and later), which browsers use instead of
#: signed headers.
PRESIGNED_QUERY: tuple[dict[str, Any], ...] = tuple(
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, text, schema in (
        ("algorithm", "signing algorithm, e.g. `rsa-sha256`", {"type": "string"}),
        ("expires", "UNIX seconds after which the URL is refused", {"type": "integer"}),
        ("keyId", "`/<login>/keys/<md5 fingerprint>`", {"type": "string"}),
        ("signature", "base64 signature of the URL", {"type": "string"}),
        ("method", "comma-separated methods the URL may be used with", {"type": "string"}),
    )
)

_REGISTRATION = obj(
    {
        "resource": {"const": "vm"},
        "subResources": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": list(CHANGEFEED_SUBRESOURCES)},
        },
        "vms": {"type": "array", "items": UUID, "description": "only these machines"},
    },
    ("resource", "subResources"),
    description="Sent by the client; a later one replaces it, an invalid one is ignored",
)

_CHANGE = obj(
    {
        "changeKind": obj({"resource": {"const": "vm"}, "subResources": STRINGS}),
        "changedResourceId": UUID,
        "published": {**STRING, "description": "milliseconds since the epoch"},
        "resourceState": {**STRING, "description": "the raw VMAPI state, e.g. `running`"},
        "resourceObject": ref("Machine"),
    },
    ("changeKind", "changedResourceId", "published", "resourceState", "resourceObject"),
    description="One change to one of the account's machines",
)

#: Component schemas the WebSocket operations refer to.
SCHEMAS: dict[str, JSON] = {
    "ChangefeedRegistration": _REGISTRATION,
    "ChangefeedChange": _CHANGE,
}

_SWITCHING = {
    "description": "Switching Protocols: the socket is open",
    "headers": {
        "Upgrade": {"schema": {"const": "websocket"}, "required": True},
        "Connection": {"schema": {"type": "string"}, "required": True},
        "Sec-WebSocket-Accept": {"schema": {"type": "string"}, "required": True},
    },
}


def websocket_extension(operation: str) -> dict[str, Any] | None:
    """The ``x-websocket`` description of ``operation``, or ``None`` for a plain one."""
    if operation == "GetChangefeed":
        return {
            "frames": "text",
            "client-messages": ref("ChangefeedRegistration"),
            "server-messages": ref("ChangefeedChange"),
            "description": "Nothing is sent until a valid registration arrives.",
        }
    if operation == "ConnectMachineVNC":
        return {
            "subprotocols": ["binary", "rfb"],
            "frames": "binary",
            "description": (
                "Binary frames carry the RFB (VNC) protocol both ways; on a backend failure "
                'the server sends a text frame `{"type": "error", "error": ...}` and closes.'
            ),
        }
    return None


def upgrade_responses(operation: str, errors: dict[str, Any]) -> dict[str, Any]:
    """Responses of a WebSocket operation: 101, and the errors CloudAPI answers instead."""
    responses: dict[str, Any] = {"101": _SWITCHING, **errors}
    if operation == "GetChangefeed":
        responses["500"] = {
            "description": "Not an upgrade request (a plain error: `message` only)",
            "content": {
                "application/json": {
                    "schema": ref("Error"),
                    "example": {"message": "Connection Must Upgrade For WebSockets"},
                }
            },
        }
    return responses


VNC_VERSION_HEADER: dict[str, Any] = {
    "name": "Accept-Version",
    "in": "header",
    "required": True,
    "description": "CloudAPI serves this route under API version 8.4.0 only: the range must "
    "include it (e.g. `~9||~8`, `8.4.0`)",
    "schema": {"type": "string"},
    "example": "~9||~8",
}

VNC_PROTOCOL_HEADER: dict[str, Any] = {
    "name": "Sec-WebSocket-Protocol",
    "in": "header",
    "required": False,
    "schema": {"enum": ["binary", "rfb"]},
}
