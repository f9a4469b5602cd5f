"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the objects CloudAPI answers with.

Field names, types and presence follow what CloudAPI 9.20 sends (sdc-cloudapi lib/*.js): a
field listed under ``required`` is in every object of that kind; the others appear when they
apply. Objects stay open to further fields, because CloudAPI passes its backends' extra
attributes through (VOLAPI, UFDS, IMGAPI); the error envelope is the one closed shape.
"""

from __future__ import annotations

from typing import Any

from smartdc.wire import MACHINE_BRANDS, USER_PROFILE_FIELDS

JSON = dict[str, Any]

UUID: JSON = {"type": "string", "format": "uuid"}
TIMESTAMP: JSON = {"type": "string", "format": "date-time"}
STRING: JSON = {"type": "string"}
BOOLEAN: JSON = {"type": "boolean"}
INTEGER: JSON = {"type": "integer"}
NUMBER: JSON = {"type": "number"}
STRINGS: JSON = {"type": "array", "items": STRING}
#: Tag and metadata values: CloudAPI keeps strings, numbers and booleans.
SCALAR: JSON = {"type": ["string", "number", "boolean"]}

MACHINE_STATES = (
    "provisioning",
    "running",
    "ready",
    "stopping",
    "stopped",
    "offline",
    "deleted",
    "failed",
    "unknown",
)


def ref(name: str) -> JSON:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str) -> JSON:
    """An array of the component schema ``name``."""
    return {"type": "array", "items": ref(name)}


def obj(
    properties: dict[str, JSON],
    required: tuple[str, ...] = (),
    *,
    description: str = "",
    **extra: Any,
) -> JSON:
    """An object schema with these properties, the listed ones required."""
    schema: JSON = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def nullable(schema: JSON) -> JSON:
    """``schema`` or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


_FIELD_ERROR = obj(
    {"field": STRING, "code": STRING, "message": STRING},
    ("field", "code", "message"),
    description="One rejected field, as VMAPI, NAPI and FWAPI report it",
)

ERROR = obj(
    {
        "code": {
            **STRING,
            "description": "CloudAPI's error code (absent from plain errors)",
            "examples": ["ResourceNotFound", "InvalidArgument", "ValidationFailed"],
        },
        "message": STRING,
        "errors": {"type": "array", "items": ref("FieldError")},
    },
    ("message",),
    description=(
        "The error envelope: `{code, message}`; backend validation errors add `errors`, and "
        "plain errors (pre-signed URL and changefeed failures, status 500) carry `message` only"
    ),
    additionalProperties=False,
)

_NIC = obj(
    {
        "mac": {**STRING, "pattern": "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"},
        "ip": STRING,
        "primary": BOOLEAN,
        "netmask": STRING,
        "gateway": STRING,
        "state": {**STRING, "examples": ["provisioning", "running", "stopped"]},
        "network": UUID,
    },
    ("mac", "ip", "primary", "netmask", "state", "network"),
    description="A network interface of a machine",
    additionalProperties=False,
)

_MACHINE_DISK = obj(
    {"id": UUID, "size": INTEGER, "block_size": INTEGER, "boot": BOOLEAN, "image": UUID},
    ("id", "size"),
    description="A disk as the machine object lists it (bhyve only)",
    additionalProperties=False,
)

_METADATA = {
    "type": "object",
    "description": "Customer metadata; `credentials` (an object) only when asked for",
    "properties": {"credentials": {"type": "object", "additionalProperties": STRING}},
    "additionalProperties": SCALAR,
}

_TAGS = {"type": "object", "description": "Tag name to value", "additionalProperties": SCALAR}

_MACHINE = obj(
    {
        "id": UUID,
        "name": STRING,
        "type": {**STRING, "enum": ["smartmachine", "virtualmachine"], "deprecated": True},
        "brand": {**STRING, "enum": list(MACHINE_BRANDS)},
        "state": {**STRING, "enum": list(MACHINE_STATES)},
        "image": UUID,
        "memory": {**INTEGER, "description": "RAM in MiB"},
        "disk": {**INTEGER, "description": "disk in MiB"},
        "metadata": ref("Metadata"),
        "tags": ref("Tags"),
        "created": TIMESTAMP,
        "updated": TIMESTAMP,
        "deletion_protection": BOOLEAN,
        "ips": STRINGS,
        "networks": {
            "type": "array",
            "items": nullable(UUID),
            "description": "absent for the range `~7.0`",
        },
        "nics": array_of("Nic"),
        "primaryIp": STRING,
        "firewall_enabled": BOOLEAN,
        "compute_node": nullable(UUID),
        "package": {**STRING, "description": "the package name; empty when unknown"},
        "docker": {"const": True},
        "dns_names": STRINGS,
        "free_space": NUMBER,
        "flexible": BOOLEAN,
        "disks": array_of("MachineDisk"),
        "delegate_dataset": BOOLEAN,
        "encrypted": BOOLEAN,
        "credentials": {
            **STRING,
            "description": "the `credentials` request parameter, echoed when given",
        },
    },
    (
        "id",
        "name",
        "type",
        "brand",
        "state",
        "image",
        "memory",
        "disk",
        "metadata",
        "tags",
        "created",
        "updated",
        "deletion_protection",
        "ips",
    ),
    description="A machine (instance)",
    additionalProperties=False,
)

_IMAGE_REQUIREMENTS = obj(
    {
        "min_ram": INTEGER,
        "max_ram": INTEGER,
        "min_memory": INTEGER,
        "max_memory": INTEGER,
        "brand": STRING,
        "bootrom": STRING,
        "password": STRING,
    },
    description="What a machine of this image needs (RAM in MiB)",
)

_IMAGE = obj(
    {
        "id": UUID,
        "name": STRING,
        "version": STRING,
        "os": STRING,
        "type": {
            **STRING,
            "description": (
                "the IMGAPI type (`zone-dataset`, `lx-dataset`, `zvol`, `docker`, `other`); "
                "`smartmachine` or `virtualmachine` for ranges below 8.0"
            ),
        },
        "requirements": _IMAGE_REQUIREMENTS,
        "image_size": {**INTEGER, "description": "MiB (zvol images)"},
        "description": STRING,
        "homepage": STRING,
        "eula": STRING,
        "files": {
            "type": "array",
            "items": obj(
                {
                    "compression": {**STRING, "enum": ["bzip2", "gzip", "none"]},
                    "sha1": STRING,
                    "size": INTEGER,
                },
                ("compression", "sha1", "size"),
            ),
        },
        "tags": {"type": "object"},
        "published_at": TIMESTAMP,
        "owner": UUID,
        "public": BOOLEAN,
        "state": {
            **STRING,
            "enum": ["active", "unactivated", "disabled", "creating", "failed"],
        },
        "acl": {"type": "array", "items": UUID},
        "origin": UUID,
        "error": obj({"code": STRING, "message": STRING}, ("code",)),
    },
    ("id", "name", "version"),
    description="An image; fields from `owner` on are absent for the range `~7.0`",
    additionalProperties=False,
)

_PACKAGE = obj(
    {
        "id": UUID,
        "name": STRING,
        "memory": {**INTEGER, "description": "MiB"},
        "disk": {**INTEGER, "description": "MiB"},
        "swap": {**INTEGER, "description": "MiB"},
        "vcpus": INTEGER,
        "lwps": INTEGER,
        "version": STRING,
        "group": STRING,
        "description": STRING,
        "brand": STRING,
        "default": {**BOOLEAN, "deprecated": True},
        "flexible_disk": BOOLEAN,
        "disks": {"type": "array", "items": {"type": "object"}},
    },
    ("id", "name", "memory", "disk", "swap", "vcpus", "lwps", "default"),
    description="A package (instance size)",
    additionalProperties=False,
)

_NETWORK = obj(
    {
        "id": UUID,
        "name": STRING,
        "public": BOOLEAN,
        "description": STRING,
        "fabric": {"const": True},
        "subnet": STRING,
        "provision_start_ip": STRING,
        "provision_end_ip": STRING,
        "gateway": STRING,
        "resolvers": STRINGS,
        "routes": {"type": "object", "additionalProperties": STRING},
        "internet_nat": BOOLEAN,
        "vlan_id": INTEGER,
        "suffixes": STRINGS,
    },
    ("id", "name", "public"),
    description="A network or network pool; the subnet fields are on fabric networks only",
    additionalProperties=False,
)

_NETWORK_IP = obj(
    {
        "ip": STRING,
        "reserved": BOOLEAN,
        "managed": BOOLEAN,
        "owner_uuid": UUID,
        "belongs_to_uuid": UUID,
    },
    ("ip", "reserved", "managed"),
    description="An address of a network",
    additionalProperties=False,
)

_VLAN = obj(
    {"vlan_id": {**INTEGER, "minimum": 0, "maximum": 4095}, "name": STRING, "description": STRING},
    ("vlan_id", "name"),
    description="A fabric VLAN",
    additionalProperties=False,
)

_FWRULE = obj(
    {
        "id": UUID,
        "rule": STRING,
        "enabled": BOOLEAN,
        "log": BOOLEAN,
        "global": {"const": True},
        "description": STRING,
    },
    ("id", "rule", "enabled", "log"),
    description="A firewall rule",
    additionalProperties=False,
)

_VOLUME = obj(
    {
        "id": UUID,
        "owner_uuid": UUID,
        "name": STRING,
        "type": {"const": "tritonnfs"},
        "size": {**INTEGER, "description": "MiB"},
        "state": {**STRING, "enum": ["creating", "ready", "failed", "deleting"]},
        "networks": {"type": "array", "items": UUID},
        "refs": {"type": "array", "items": UUID},
        "filesystem_path": STRING,
        "tags": {"type": "object", "additionalProperties": STRING},
        "created": TIMESTAMP,
    },
    ("id", "owner_uuid", "name", "type", "size", "state", "networks"),
    description="An NFS volume",
)

_KEY = obj(
    {
        "name": STRING,
        "fingerprint": {**STRING, "description": "MD5, colon-separated hex"},
        "key": {**STRING, "description": "the OpenSSH public key"},
        "attested": BOOLEAN,
        "multifactor": {"type": "array", "items": {"enum": ["pin", "touch"]}},
    },
    ("name", "fingerprint", "key"),
    description="An SSH public key",
    additionalProperties=False,
)

_PROFILE: dict[str, JSON] = dict.fromkeys(USER_PROFILE_FIELDS, STRING)

_ACCOUNT = obj(
    {
        "id": UUID,
        "login": STRING,
        "email": STRING,
        **_PROFILE,
        "triton_cns_enabled": BOOLEAN,
        "created": TIMESTAMP,
        "updated": TIMESTAMP,
    },
    ("id", "login", "email", "triton_cns_enabled", "created", "updated"),
    description="The account",
    additionalProperties=False,
)

_USER = obj(
    {
        "id": UUID,
        "login": STRING,
        "email": STRING,
        **_PROFILE,
        "roles": STRINGS,
        "default_roles": STRINGS,
        "created": TIMESTAMP,
        "updated": TIMESTAMP,
    },
    ("id", "login", "email", "created", "updated"),
    description="An RBAC sub-user; `roles` and `default_roles` with `membership`",
    additionalProperties=False,
)

_ROLE_V9 = obj(
    {
        "id": UUID,
        "name": STRING,
        "members": {
            "type": "array",
            "items": obj(
                {
                    "type": {"enum": ["subuser", "account"]},
                    "id": UUID,
                    "login": STRING,
                    "default": {"const": True},
                },
                ("type", "id", "login"),
            ),
        },
        "policies": {"type": "array", "items": obj({"id": UUID, "name": STRING}, ("id", "name"))},
    },
    ("id", "name", "members", "policies"),
    description="A role as API 9 shows it",
    additionalProperties=False,
)

_ROLE_LEGACY = obj(
    {
        "id": UUID,
        "name": STRING,
        "members": STRINGS,
        "default_members": STRINGS,
        "policies": STRINGS,
    },
    ("id", "name", "members", "default_members", "policies"),
    description="A role as ranges below 9.0 show it (logins and policy names)",
    additionalProperties=False,
)

_POLICY = obj(
    {"id": UUID, "name": STRING, "rules": STRINGS, "description": STRING},
    ("id", "name", "rules"),
    description="An RBAC policy of Aperture rules",
    additionalProperties=False,
)

_SNAPSHOT = obj(
    {
        "name": STRING,
        "state": {
            **STRING,
            "examples": ["queued", "running", "created", "failed", "canceled", "deleted"],
        },
        "size": {**INTEGER, "description": "MiB"},
        "created": STRING,
        "updated": STRING,
    },
    ("name",),
    description="A machine snapshot; `state` follows the job that creates it",
    additionalProperties=False,
)

_DISK = obj(
    {
        "id": UUID,
        "pci_slot": STRING,
        "size": {**INTEGER, "description": "MiB"},
        "block_size": INTEGER,
        "boot": BOOLEAN,
        "state": STRING,
    },
    ("id", "pci_slot", "size", "block_size", "boot", "state"),
    description="A bhyve machine's disk",
    additionalProperties=False,
)

_PROGRESS = obj(
    {
        "type": {"enum": ["progress", "end"]},
        "phase": STRING,
        "state": STRING,
        "current_progress": NUMBER,
        "total_progress": NUMBER,
        "message": STRING,
        "error": STRING,
        "started_timestamp": TIMESTAMP,
        "finished_timestamp": TIMESTAMP,
        "duration_ms": NUMBER,
        "eta_ms": NUMBER,
        "transfer_bytes_second": NUMBER,
    },
    ("type", "phase", "state"),
    description="One step of a migration",
)

_MIGRATION = obj(
    {
        "machine": UUID,
        "automatic": BOOLEAN,
        "phase": {"enum": ["begin", "sync", "switch", "abort"]},
        "state": {"enum": ["running", "paused", "aborted", "failed", "successful"]},
        "created_timestamp": TIMESTAMP,
        "scheduled_timestamp": TIMESTAMP,
        "finished_timestamp": TIMESTAMP,
        "duration_ms": NUMBER,
        "error": STRING,
        "progress_history": array_of("MigrationProgress"),
    },
    ("machine", "automatic", "phase", "state", "created_timestamp", "progress_history"),
    description="A machine's migration",
)

_AUDIT = obj(
    {
        "action": STRING,
        "success": {"enum": ["yes", "no"]},
        "time": TIMESTAMP,
        "caller": obj({"type": STRING, "ip": STRING, "keyId": STRING, "user": STRING}, ("type",)),
    },
    ("action", "success", "time", "caller"),
    description="One finished job of a machine",
    additionalProperties=False,
)

_ACCESS_KEY = obj(
    {
        "accesskeyid": {**STRING, "pattern": "^[0-9a-f]{32}$"},
        "accesskeysecret": {**STRING, "description": "only in the answer that creates the key"},
        "status": {"enum": ["Active", "Inactive"]},
        "description": STRING,
        "credentialtype": STRING,
        "expiration": nullable(STRING),
        "created": TIMESTAMP,
        "updated": TIMESTAMP,
    },
    ("accesskeyid", "status", "created"),
    description="An access key (UFDS attributes pass through)",
)

_LIMIT = obj(
    {
        "value": {"type": ["number", "string"]},
        "used": NUMBER,
        "by": {"enum": ["ram", "quota"]},
        "check": {"enum": ["os", "image", "brand"]},
        "os": STRING,
        "image": STRING,
        "brand": STRING,
    },
    ("value", "used"),
    description="A provisioning limit (0 = unlimited, -1 = forbidden)",
)

_URL_MAP = {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}

#: Every component schema of the document, by name.
SCHEMAS: dict[str, JSON] = {
    "Error": ERROR,
    "FieldError": _FIELD_ERROR,
    "Machine": _MACHINE,
    "Nic": _NIC,
    "MachineDisk": _MACHINE_DISK,
    "Metadata": _METADATA,
    "Tags": _TAGS,
    "Image": _IMAGE,
    "ImageExport": obj(
        {"manta_url": STRING, "image_path": STRING, "manifest_path": STRING},
        ("manta_url", "image_path", "manifest_path"),
        description="Where ExportImage wrote the image and its manifest",
    ),
    "Package": _PACKAGE,
    "Network": _NETWORK,
    "NetworkIP": _NETWORK_IP,
    "FabricVLAN": _VLAN,
    "FirewallRule": _FWRULE,
    "Volume": _VOLUME,
    "VolumeSize": obj(
        {"size": INTEGER, "type": {"const": "tritonnfs"}}, ("size", "type"), description="MiB"
    ),
    "Key": _KEY,
    "Account": _ACCOUNT,
    "User": _USER,
    "Role": {"anyOf": [ref("RoleV9"), ref("RoleLegacy")], "description": "A role"},
    "RoleV9": _ROLE_V9,
    "RoleLegacy": _ROLE_LEGACY,
    "Policy": _POLICY,
    "Snapshot": _SNAPSHOT,
    "Disk": _DISK,
    "Migration": _MIGRATION,
    "MigrationProgress": _PROGRESS,
    "AuditEntry": _AUDIT,
    "AccessKey": _ACCESS_KEY,
    "Limit": _LIMIT,
    "Datacenters": {**_URL_MAP, "description": "Datacenter name to CloudAPI URL"},
    "Services": {**_URL_MAP, "description": "Service name to URL"},
    "Ping": obj(
        {
            "ping": {"const": "pong"},
            "cloudapi": obj({"versions": STRINGS}, ("versions",)),
        },
        ("ping", "cloudapi"),
    ),
    "Config": obj({"default_network": UUID}, description="`{}` until a default is set"),
    "RoleTags": obj(
        {"name": STRING, "role-tag": STRINGS},
        ("name", "role-tag"),
        description="The resource (with the real login) and its role names",
    ),
}
