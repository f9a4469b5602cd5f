"""What each CloudAPI operation takes and answers, for the OpenAPI document.

One :class:`OperationDoc` per CloudAPI operation name: its query parameters, request headers
and JSON body, the answers it gives on success (status, schema, headers) and the error statuses
it can answer besides the ones every signed request can (:data:`COMMON_ERRORS`). CloudAPI
merges the query string and the body into one parameter set (body keys win), so a body
property may also be sent in the query; the document puts inputs where clients send them:
the query for GET and DELETE, the body otherwise. Sources: the CloudAPI reference and
sdc-cloudapi 9.20 lib/*.js, as summarised in the route modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartdc.emulator.openapi_examples import IMAGE, MACHINE, PUBLIC_KEY
from smartdc.emulator.openapi_schemas import (
    BOOLEAN,
    INTEGER,
    JSON,
    SCALAR,
    STRING,
    STRINGS,
    UUID,
    array_of,
    obj,
    ref,
)
from smartdc.emulator.store import catalog
from smartdc.wire import (
    MACHINE_BRANDS,
    MACHINE_TYPES,
    PACKAGE_FILTERS,
    QUERY_LIMIT_HEADER,
    RESOURCE_COUNT_HEADER,
    USER_PROFILE_FIELDS,
)


@dataclass(frozen=True)
class Param:
    """A query parameter or request header."""

    name: str
    schema: JSON
    description: str = ""
    required: bool = False
    where: str = "query"
    #: Serialise an object as ``key=value`` pairs of its own (free-form parameter names).
    explode_object: bool = False


@dataclass(frozen=True)
class Answer:
    """One non-error answer: status, body schema (``None``: no body) and headers."""

    status: int
    schema: JSON | None = None
    description: str = ""
    #: Names of ``components.headers`` the answer carries.
    headers: tuple[str, ...] = ()
    #: Also sent as ``text/plain`` when the request asks for it.
    text: bool = False
    #: The body's media type, when not JSON.
    media_type: str = "application/json"
    example: Any = None


@dataclass(frozen=True)
class OperationDoc:
    """Inputs and answers of one CloudAPI operation."""

    answers: tuple[Answer, ...]
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    body: JSON | None = None
    body_required: bool = False
    body_example: Any = None
    #: Error statuses beyond :data:`COMMON_ERRORS` (the body is the error envelope).
    errors: tuple[int, ...] = ()
    description: str = ""


#: Errors any signed request can meet: bad headers, version or body (400), signature (401),
#: another account or RBAC (403), an unknown login (404), Accept (406), a body over 100000
#: bytes (413), throttling (429) and read-only mode (503).
COMMON_ERRORS = (400, 401, 403, 404, 406, 413, 429, 503)

_ROLE_TAG = Param(
    "role-tag",
    STRING,
    "role names (comma-separated) to tag the new resource with",
    where="header",
)
_TEXT_ACCEPT = Param(
    "Accept",
    {"type": "string", "enum": ["application/json", "text/plain"]},
    "`text/plain` answers the raw string instead of a JSON string",
    where="header",
)


def _ok(schema: JSON | None, *headers: str, status: int = 200, description: str = "") -> Answer:
    return Answer(status, schema, description or "OK", headers)


def _created(schema: JSON, *, location: bool = True, headers: tuple[str, ...] = ()) -> Answer:
    names = ("Location", *headers) if location else headers
    return Answer(201, schema, "Created", names)


_NO_CONTENT = Answer(204, None, "Done; no body")
_ACCEPTED = Answer(202, None, "Accepted; the change happens in a job")
_GONE = Answer(410, ref("Machine"), "The machine is deleted; the body is the machine")


def _query(name: str, schema: JSON, description: str = "") -> Param:
    return Param(name, schema, description)


def _doc(*answers: Answer, **fields: Any) -> OperationDoc:
    return OperationDoc(answers=answers, **fields)


# --- shared inputs -------------------------------------------------------------------------

_PROFILE = dict.fromkeys(USER_PROFILE_FIELDS, STRING)
_TEXT_OR_BOOL = {"type": ["boolean", "string"]}
_LIMIT = _query("limit", {**INTEGER, "minimum": 1, "maximum": 1000}, "page size (default 1000)")
_OFFSET = _query("offset", {**INTEGER, "minimum": 0}, "items to skip")
_CREDENTIALS = _query(
    "credentials", BOOLEAN, "add `metadata.credentials` (any non-empty value counts)"
)
_KEY_BODY = obj(
    {
        "key": {**STRING, "description": "OpenSSH public key line"},
        "name": {**STRING, "description": "default: the key's comment, else its fingerprint"},
        "attestation": {**STRINGS, "description": "PEM certificates attesting the key"},
    },
    ("key",),
)
_KEY_EXAMPLE = {"name": "laptop", "key": PUBLIC_KEY}
_USER_BODY = obj(
    {"login": STRING, "email": {**STRING, "format": "email"}, "password": STRING, **_PROFILE},
    ("login", "email", "password"),
)
_ROLE_BODY = obj(
    {
        "name": STRING,
        "policies": {
            "type": "array",
            "items": {
                "anyOf": [
                    obj({"id": UUID, "name": STRING}, additionalProperties=False),
                    {**STRING, "description": "a policy name (ranges below 9.0)"},
                ]
            },
        },
        "members": {
            "type": "array",
            "items": {
                "anyOf": [
                    obj(
                        {
                            "type": {"enum": ["subuser", "account"]},
                            "id": UUID,
                            "login": STRING,
                            "default": BOOLEAN,
                        },
                        ("type",),
                        additionalProperties=False,
                    ),
                    {**STRING, "description": "a login (ranges below 9.0)"},
                ]
            },
        },
        "default_members": {**STRINGS, "description": "logins (ranges below 9.0)"},
    },
)
_POLICY_BODY = obj(
    {
        "name": STRING,
        "rules": {"anyOf": [STRINGS, STRING], "description": "Aperture rules"},
        "description": STRING,
    },
)
_ACCESS_KEY_BODY = obj(
    {"status": {"enum": ["Active", "Inactive"]}, "description": {**STRING, "maxLength": 128}}
)
_NETWORK_REF = {
    "anyOf": [
        UUID,
        obj(
            {
                "ipv4_uuid": UUID,
                "ipv4_ips": {"type": "array", "items": STRING, "maxItems": 1},
                "ipv4_count": {"const": 1},
            },
            ("ipv4_uuid",),
        ),
    ]
}
_FABRIC_NAME = {**STRING, "pattern": "^[a-zA-Z][a-zA-Z0-9_./-]{1,63}$"}
_IPV4 = {"type": "string", "format": "ipv4"}
_FABRIC_NETWORK_FIELDS: dict[str, JSON] = {
    "name": _FABRIC_NAME,
    "description": {**STRING, "maxLength": 64},
    "provision_start_ip": _IPV4,
    "provision_end_ip": _IPV4,
    "resolvers": {"type": "array", "items": _IPV4, "maxItems": 4},
    "routes": {
        "type": "object",
        "additionalProperties": _IPV4,
        "description": "destination (CIDR or IP) to gateway",
    },
}
_FWRULE_FIELDS: dict[str, JSON] = {
    "rule": {**STRING, "description": "`FROM <targets> TO <targets> ALLOW|BLOCK <protocol> ...`"},
    "enabled": BOOLEAN,
    "log": BOOLEAN,
    "description": STRING,
}
_VOLUME_NAME = {**STRING, "pattern": "^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", "maxLength": 256}
_SET_ROLE_TAGS = _doc(
    _ok(ref("RoleTags")),
    headers=(_ROLE_TAG,),
    body=obj({"role-tag": {**STRINGS, "description": "role names; `[]` clears the tags"}}),
    body_example={"role-tag": ["operators"]},
    errors=(409,),
)


def _machine_create_body() -> JSON:
    return obj(
        {
            "image": UUID,
            "dataset": {**UUID, "deprecated": True, "description": "alias of `image`"},
            "package": {**STRING, "description": "package UUID or name"},
            "name": {**STRING, "pattern": "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", "maxLength": 189},
            "networks": {"type": "array", "items": _NETWORK_REF},
            "metadata": {"type": "object", "additionalProperties": SCALAR},
            "tags": ref("Tags"),
            "firewall_enabled": BOOLEAN,
            "deletion_protection": BOOLEAN,
            "affinity": {"anyOf": [STRING, STRINGS]},
            "locality": obj(
                {
                    "strict": BOOLEAN,
                    "near": {"anyOf": [UUID, {"type": "array", "items": UUID}]},
                    "far": {"anyOf": [UUID, {"type": "array", "items": UUID}]},
                },
                deprecated=True,
            ),
            "brand": {"enum": ["bhyve", "kvm"]},
            "volumes": {
                "type": "array",
                "items": obj(
                    {
                        "name": STRING,
                        "type": {"const": "tritonnfs"},
                        "mode": {"enum": ["rw", "ro"]},
                        "mountpoint": STRING,
                    },
                    ("name", "mountpoint"),
                ),
            },
            "disks": {
                "type": "array",
                "maxItems": 8,
                "items": obj(
                    {
                        "id": UUID,
                        "boot": BOOLEAN,
                        "image": UUID,
                        "size": {"anyOf": [INTEGER, {"const": "remaining"}]},
                        "block_size": INTEGER,
                    },
                ),
            },
            "bootrom": STRING,
            "encrypted": BOOLEAN,
            "delegate_dataset": BOOLEAN,
            "allow_shared_images": BOOLEAN,
            "password": STRING,
            "administrator_pw": STRING,
        },
        ("package",),
        patternProperties={
            "^metadata\\..+": {**SCALAR, "description": "one metadata key"},
            "^tag\\..+": {**SCALAR, "description": "one tag"},
        },
        description="`image` (or `dataset`) is required too",
    )


#: Per-action bodies of ``POST /{login}/machines/{id}`` (``action`` may also come in the body).
MACHINE_ACTIONS: dict[str | None, tuple[str, JSON]] = {
    "start": ("StartMachine", obj({})),
    "stop": ("StopMachine", obj({})),
    "reboot": ("RebootMachine", obj({})),
    "resize": (
        "ResizeMachine",
        obj({"package": {**STRING, "description": "package UUID or name"}}, ("package",)),
    ),
    "rename": ("RenameMachine", obj({"name": {**STRING, "maxLength": 189}}, ("name",))),
    "enable_firewall": ("EnableMachineFirewall", obj({})),
    "disable_firewall": ("DisableMachineFirewall", obj({})),
    "enable_deletion_protection": ("EnableMachineDeletionProtection", obj({})),
    "disable_deletion_protection": ("DisableMachineDeletionProtection", obj({})),
}

#: Per-action bodies of ``POST /{login}/images/{id}``.
IMAGE_ACTIONS: dict[str | None, tuple[str, JSON]] = {
    "update": (
        "UpdateImage",
        obj(
            {
                "name": STRING,
                "version": STRING,
                "description": STRING,
                "homepage": STRING,
                "eula": STRING,
                "acl": {"type": "array", "items": UUID},
                "tags": {"type": "object"},
            }
        ),
    ),
    "export": ("ExportImage", obj({"manta_path": STRING}, ("manta_path",))),
    "clone": ("CloneImage", obj({})),
}

#: Bodies of ``POST /{login}/images``: no action creates, ``import-from-datacenter`` imports.
IMAGE_COLLECTION_ACTIONS: dict[str | None, tuple[str, JSON]] = {
    None: (
        "CreateImageFromMachine",
        obj(
            {
                "machine": UUID,
                "name": STRING,
                "version": STRING,
                "description": STRING,
                "homepage": STRING,
                "eula": STRING,
                "acl": {"type": "array", "items": UUID},
                "tags": {"type": "object"},
            },
            ("machine", "name", "version"),
        ),
    ),
    "import-from-datacenter": (
        "ImportImageFromDatacenter",
        obj({"datacenter": STRING, "id": UUID}, ("datacenter", "id")),
    ),
}

_MIGRATION_ACTIONS = ["begin", "sync", "switch", "automatic", "pause", "abort", "finalize", "watch"]

DOCS: dict[str, OperationDoc] = {
    # --- account ---------------------------------------------------------------------------
    "Ping": _doc(_ok(ref("Ping"), "Triton-Datacenter-Name")),
    "GetAccount": _doc(_ok(ref("Account"))),
    "UpdateAccount": _doc(
        _ok(ref("Account")),
        body=obj(
            {
                "email": {**STRING, "format": "email"},
                **_PROFILE,
                "triton_cns_enabled": {**_TEXT_OR_BOOL, "enum": [True, False, "true", "false"]},
            }
        ),
        body_example={"firstName": "Dana", "triton_cns_enabled": True},
        errors=(409,),
    ),
    "GetAccountLimits": _doc(_ok(array_of("Limit"))),
    # --- keys ------------------------------------------------------------------------------
    "ListKeys": _doc(
        _ok(array_of("Key")), query=(_query("sync", BOOLEAN, "read past the key cache"),)
    ),
    "GetKey": _doc(_ok(ref("Key"))),
    "CreateKey": _doc(
        _created(ref("Key")),
        headers=(_ROLE_TAG,),
        body=_KEY_BODY,
        body_required=True,
        body_example=_KEY_EXAMPLE,
        errors=(409,),
    ),
    "DeleteKey": _doc(_NO_CONTENT),
    "ListUserKeys": _doc(_ok(array_of("Key"))),
    "GetUserKey": _doc(_ok(ref("Key"))),
    "CreateUserKey": _doc(
        _created(ref("Key")),
        headers=(_ROLE_TAG,),
        body=_KEY_BODY,
        body_required=True,
        body_example=_KEY_EXAMPLE,
        errors=(409,),
    ),
    "DeleteUserKey": _doc(_NO_CONTENT),
    # --- users -----------------------------------------------------------------------------
    "ListUsers": _doc(_ok(array_of("User"))),
    "GetUser": _doc(
        _ok(ref("User")),
        query=(_query("membership", BOOLEAN, "add `roles` and `default_roles`"),),
    ),
    "CreateUser": _doc(
        _created(ref("User")),
        headers=(_ROLE_TAG,),
        body=_USER_BODY,
        body_required=True,
        body_example={"login": "ops", "email": "ops@example.com", "password": "s3cret-Pass"},
        errors=(409,),
    ),
    "UpdateUser": _doc(
        _ok(ref("User")),
        body=obj({"login": STRING, "email": {**STRING, "format": "email"}, **_PROFILE}),
        body_example={"email": "ops@example.org"},
        errors=(409,),
    ),
    "ChangeUserPassword": _doc(
        _ok(ref("User")),
        body=obj(
            {"password": STRING, "password_confirmation": STRING},
            ("password", "password_confirmation"),
        ),
        body_required=True,
        body_example={"password": "n3w-Pass", "password_confirmation": "n3w-Pass"},
        errors=(409,),
    ),
    "DeleteUser": _doc(_NO_CONTENT),
    # --- roles and policies ----------------------------------------------------------------
    "ListRoles": _doc(_ok(array_of("Role"))),
    "GetRole": _doc(_ok(ref("Role"))),
    "CreateRole": _doc(
        _created(ref("Role")),
        headers=(_ROLE_TAG,),
        body={**_ROLE_BODY, "required": ["name"]},
        body_required=True,
        body_example={"name": "operators", "policies": [{"name": "read-machines"}]},
        errors=(409,),
    ),
    "UpdateRole": _doc(
        _ok(ref("Role")), body=_ROLE_BODY, body_example={"name": "ops"}, errors=(409,)
    ),
    "DeleteRole": _doc(_NO_CONTENT),
    "ListPolicies": _doc(_ok(array_of("Policy"))),
    "GetPolicy": _doc(_ok(ref("Policy"))),
    "CreatePolicy": _doc(
        _created(ref("Policy")),
        headers=(_ROLE_TAG,),
        body={**_POLICY_BODY, "required": ["name", "rules"]},
        body_required=True,
        body_example={"name": "read-machines", "rules": ["CAN listmachines AND getmachine"]},
        errors=(409,),
    ),
    "UpdatePolicy": _doc(
        _ok(ref("Policy")),
        body=_POLICY_BODY,
        body_example={"description": "see machines"},
        errors=(409,),
    ),
    "DeletePolicy": _doc(_NO_CONTENT),
    # --- access keys -----------------------------------------------------------------------
    "ListAccessKeys": _doc(_ok(array_of("AccessKey"))),
    "GetAccessKey": _doc(_ok(ref("AccessKey"))),
    "CreateAccessKey": _doc(
        _created(ref("AccessKey")),
        headers=(_ROLE_TAG,),
        body=_ACCESS_KEY_BODY,
        body_example={"description": "CI"},
        errors=(409,),
    ),
    "UpdateAccessKey": _doc(
        _ok(ref("AccessKey"), "Location"),
        body=_ACCESS_KEY_BODY,
        body_example={"status": "Inactive"},
        errors=(409,),
    ),
    "DeleteAccessKey": _doc(_NO_CONTENT),
    "ListUserAccessKeys": _doc(_ok(array_of("AccessKey"))),
    "GetUserAccessKey": _doc(_ok(ref("AccessKey"))),
    "CreateUserAccessKey": _doc(
        _created(ref("AccessKey")),
        headers=(_ROLE_TAG,),
        body=_ACCESS_KEY_BODY,
        body_example={"description": "CI"},
        errors=(409,),
    ),
    "UpdateUserAccessKey": _doc(
        _ok(ref("AccessKey"), "Location"),
        body=_ACCESS_KEY_BODY,
        body_example={"status": "Inactive"},
        errors=(409,),
    ),
    "DeleteUserAccessKey": _doc(_NO_CONTENT),
    # --- datacenters -----------------------------------------------------------------------
    "ListDatacenters": _doc(_ok(ref("Datacenters"), "Triton-Datacenter-Name")),
    "GetDatacenter": _doc(
        Answer(
            302,
            ref("Error"),
            "The datacenter's URL in `Location`, with a `ResourceMoved` body",
            ("Location",),
            example={"code": "ResourceMoved", "message": " us-east-2 https://us-east-2.example"},
        ),
    ),
    "ListServices": _doc(_ok(ref("Services"))),
    # --- images ----------------------------------------------------------------------------
    "ListImages": _doc(
        _ok(array_of("Image")),
        query=(
            _query("name", STRING, "exact name, or `~` and a substring"),
            _query("os", STRING),
            _query("version", STRING),
            _query("public", BOOLEAN),
            _query(
                "state",
                {"enum": ["active", "unactivated", "disabled", "creating", "failed", "all"]},
                "default: active",
            ),
            _query("owner", UUID),
            _query("type", STRING, "IMGAPI type; docker images are listed only when asked for"),
        ),
        errors=(409,),
    ),
    "GetImage": _doc(_ok(ref("Image"))),
    "DeleteImage": _doc(_NO_CONTENT, errors=(422,)),
    # --- packages --------------------------------------------------------------------------
    "ListPackages": _doc(
        _ok(array_of("Package")),
        query=tuple(
            _query(name, STRING, "exact value, `*` is a wildcard") for name in PACKAGE_FILTERS
        ),
    ),
    "GetPackage": _doc(_ok(ref("Package"))),
    # --- networks --------------------------------------------------------------------------
    "ListNetworks": _doc(
        _ok(array_of("Network")),
        query=(_query("fabric", BOOLEAN, "only the account's fabric networks"),),
    ),
    "GetNetwork": _doc(_ok(ref("Network"))),
    "ListNetworkIPs": _doc(
        _ok(array_of("NetworkIP"), QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER),
        query=(_LIMIT, _OFFSET),
        errors=(409,),
    ),
    "GetNetworkIP": _doc(_ok(ref("NetworkIP")), errors=(422,)),
    "UpdateNetworkIP": _doc(
        _ok(ref("NetworkIP")),
        body=obj({"reserved": BOOLEAN}, ("reserved",)),
        body_required=True,
        body_example={"reserved": True},
        errors=(409, 422),
    ),
    "GetConfig": _doc(_ok(ref("Config"))),
    "UpdateConfig": _doc(
        _ok(ref("Config")),
        body=obj({"default_network": UUID}, ("default_network",), additionalProperties=False),
        body_required=True,
        body_example={"default_network": catalog.PUBLIC_NETWORK_ID},
        errors=(409,),
    ),
    # --- fabrics ---------------------------------------------------------------------------
    "ListFabricVLANs": _doc(_ok(array_of("FabricVLAN")), errors=(501,)),
    "CreateFabricVLAN": _doc(
        _created(ref("FabricVLAN"), location=False),
        body=obj(
            {
                "vlan_id": {**INTEGER, "minimum": 2, "maximum": 4095},
                "name": _FABRIC_NAME,
                "description": {**STRING, "maxLength": 64},
            },
            ("vlan_id", "name"),
            additionalProperties=False,
        ),
        body_required=True,
        body_example={"vlan_id": 10, "name": "backend"},
        errors=(409, 501),
    ),
    "GetFabricVLAN": _doc(_ok(ref("FabricVLAN")), errors=(501,)),
    "UpdateFabricVLAN": _doc(
        _ok(ref("FabricVLAN"), status=202, description="Accepted, with the VLAN as changed"),
        body=obj(
            {"name": _FABRIC_NAME, "description": {**STRING, "maxLength": 64}},
            additionalProperties=False,
        ),
        body_example={"description": "application tier"},
        errors=(409, 501),
    ),
    "DeleteFabricVLAN": _doc(_NO_CONTENT, errors=(409, 501)),
    "ListFabricNetworks": _doc(_ok(array_of("Network")), errors=(501,)),
    "CreateFabricNetwork": _doc(
        _created(ref("Network"), location=False),
        body=obj(
            {
                **_FABRIC_NETWORK_FIELDS,
                "subnet": {**STRING, "description": "private IPv4 CIDR, /30 or larger"},
                "gateway": _IPV4,
                "internet_nat": {
                    "enum": [True, False, "true", "false", "TRUE", "FALSE"],
                    "description": "default true",
                },
            },
            ("name", "subnet", "provision_start_ip", "provision_end_ip"),
            additionalProperties=False,
        ),
        body_required=True,
        body_example={
            "name": "backend",
            "subnet": "10.50.0.0/24",
            "provision_start_ip": "10.50.0.10",
            "provision_end_ip": "10.50.0.200",
            "gateway": "10.50.0.1",
        },
        errors=(409, 501),
    ),
    "GetFabricNetwork": _doc(_ok(ref("Network")), errors=(501,)),
    "UpdateFabricNetwork": _doc(
        _ok(ref("Network")),
        body=obj(_FABRIC_NETWORK_FIELDS, additionalProperties=False),
        body_example={"description": "application tier"},
        errors=(409, 501),
    ),
    "DeleteFabricNetwork": _doc(_NO_CONTENT, errors=(409, 501)),
    # --- machines --------------------------------------------------------------------------
    "ListMachines": _doc(
        _ok(array_of("Machine"), QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER),
        query=(
            _query("type", {"enum": sorted(MACHINE_TYPES)}, "deprecated"),
            _query("brand", {"enum": list(MACHINE_BRANDS)}),
            _query("name", STRING, "names starting with this"),
            _query("image", UUID),
            _query(
                "state",
                {"enum": ["running", "stopped", "active", "destroyed", "provisioning", "stopping"]},
            ),
            _query("memory", {**INTEGER, "minimum": 0}, "RAM in MiB"),
            _query("docker", BOOLEAN),
            _query("tombstone", STRING, "any non-empty value also lists destroyed machines"),
            _LIMIT,
            _OFFSET,
            _CREDENTIALS,
            _query("tags", {"const": "*"}, "`*`: every tagged machine (other filters ignored)"),
            Param(
                "tag",
                {
                    "type": "object",
                    "propertyNames": {"pattern": "^tag\\..+"},
                    "additionalProperties": STRING,
                },
                "`tag.<name>=<value>` filters, any number of them",
                explode_object=True,
            ),
        ),
        errors=(409,),
    ),
    "GetMachine": _doc(_ok(ref("Machine")), _GONE, query=(_CREDENTIALS,), errors=(409,)),
    "CreateMachine": _doc(
        _created(ref("Machine")),
        headers=(_ROLE_TAG,),
        body=_machine_create_body(),
        body_required=True,
        body_example={
            "image": catalog.default_images()[0]["id"],
            "package": "g4-highcpu-128M",
            "name": "web-1",
            "tag.role": "web",
        },
        errors=(409,),
    ),
    "DeleteMachine": _doc(
        _NO_CONTENT,
        Answer(
            410,
            {"anyOf": [ref("Machine"), UUID]},
            "Already deleted: the machine, or its id while the deletion is being recorded",
            example={**MACHINE, "state": "deleted"},
        ),
        errors=(409,),
    ),
    "MachineAudit": _doc(_ok(array_of("AuditEntry")), errors=(409,)),
    "UpdateMachineMetadata": _doc(
        _ok(ref("Metadata"), "x-job-uuid", description="All metadata, with the new keys"),
        body={"type": "object", "additionalProperties": SCALAR},
        body_required=True,
        body_example={"backup": "nightly"},
        errors=(409,),
    ),
    "ListMachineMetadata": _doc(_ok(ref("Metadata")), query=(_CREDENTIALS,), errors=(409,)),
    "GetMachineMetadata": _doc(
        Answer(
            200,
            {"anyOf": [STRING, {"type": "object", "additionalProperties": STRING}]},
            "The value (`credentials`: user to password)",
            text=True,
            example="nightly",
        ),
        headers=(_TEXT_ACCEPT,),
        errors=(409,),
    ),
    "DeleteMachineMetadata": _doc(_NO_CONTENT, errors=(409,)),
    "DeleteAllMachineMetadata": _doc(_NO_CONTENT, errors=(409,)),
    "AddMachineTags": _doc(
        _ok(ref("Tags"), "x-job-uuid", description="All tags, with the new ones"),
        body=ref("Tags"),
        body_required=True,
        body_example={"role": "web"},
        errors=(409,),
    ),
    "ReplaceMachineTags": _doc(
        _ok(ref("Tags"), "x-job-uuid", description="The new tags"),
        body=ref("Tags"),
        body_required=True,
        body_example={"role": "web"},
        errors=(409,),
    ),
    "ListMachineTags": _doc(_ok(ref("Tags")), errors=(409,)),
    "GetMachineTag": _doc(
        Answer(200, STRING, 'The value (`""` for a non-string value)', text=True, example="web"),
        headers=(_TEXT_ACCEPT,),
        errors=(409,),
    ),
    "DeleteMachineTag": _doc(_NO_CONTENT, errors=(409,)),
    "DeleteMachineTags": _doc(_NO_CONTENT, errors=(409,)),
    "CreateMachineSnapshot": _doc(
        _created(ref("Snapshot"), location=False),
        body=obj({"name": {**STRING, "description": "default: the UTC time, YYYYMMDDTHHMMSSZ"}}),
        body_example={"name": "before-upgrade"},
        errors=(409,),
    ),
    "ListMachineSnapshots": _doc(_ok(array_of("Snapshot")), errors=(409,)),
    "GetMachineSnapshot": _doc(_ok(ref("Snapshot")), errors=(409,)),
    "DeleteMachineSnapshot": _doc(_NO_CONTENT, errors=(409,)),
    "StartMachineFromSnapshot": _doc(_ACCEPTED, errors=(409,)),
    # --- NICs and disks --------------------------------------------------------------------
    "ListNics": _doc(_ok(array_of("Nic"), RESOURCE_COUNT_HEADER), errors=(409,)),
    "GetNic": _doc(_ok(ref("Nic")), errors=(409,)),
    "AddNic": _doc(
        _created(ref("Nic")),
        Answer(302, None, "The machine already has a NIC on that network", ("Location",)),
        body=obj({"network": _NETWORK_REF, "primary": BOOLEAN}, ("network",)),
        body_required=True,
        body_example={"network": catalog.PRIVATE_NETWORK_ID},
        errors=(409,),
    ),
    "RemoveNic": _doc(_NO_CONTENT, errors=(409,)),
    "ListMachineDisks": _doc(_ok(array_of("Disk"), RESOURCE_COUNT_HEADER), errors=(409,)),
    "GetMachineDisk": _doc(_ok(ref("Disk")), errors=(409,)),
    "CreateMachineDisk": _doc(
        _ok(ref("Disk"), "Location", description="With `pci_slot`: the new disk"),
        Answer(202, None, "Without `pci_slot`: accepted"),
        _GONE,
        body=obj(
            {
                "size": {"anyOf": [{**INTEGER, "minimum": 1}, {"const": "remaining"}]},
                "pci_slot": {**STRING, "pattern": "^\\d{1,3}:\\d{1,2}:[0-7]$"},
            },
            ("size",),
        ),
        body_required=True,
        body_example={"size": 10240},
        errors=(409,),
    ),
    "ResizeMachineDisk": _doc(
        _ok(ref("Disk"), description="The disk, `resizing`, still at its old size"),
        _GONE,
        body=obj({"size": {**INTEGER, "minimum": 1}, "dangerous_allow_shrink": BOOLEAN}, ("size",)),
        body_required=True,
        body_example={"size": 20480},
        errors=(409,),
    ),
    "DeleteMachineDisk": _doc(_NO_CONTENT, _GONE, errors=(409,)),
    # --- firewall --------------------------------------------------------------------------
    "ListFirewallRules": _doc(_ok(array_of("FirewallRule"))),
    "GetFirewallRule": _doc(_ok(ref("FirewallRule")), errors=(422,)),
    "CreateFirewallRule": _doc(
        _created(ref("FirewallRule"), location=False),
        body=obj(_FWRULE_FIELDS, ("rule",)),
        body_required=True,
        body_example={"rule": "FROM any TO all vms ALLOW tcp PORT 22", "enabled": True},
        errors=(409, 422),
    ),
    "UpdateFirewallRule": _doc(
        _ok(ref("FirewallRule")),
        body=obj(_FWRULE_FIELDS),
        body_example={"enabled": False},
        errors=(409, 422),
    ),
    "EnableFirewallRule": _doc(_ok(ref("FirewallRule")), errors=(422,)),
    "DisableFirewallRule": _doc(_ok(ref("FirewallRule")), errors=(422,)),
    "DeleteFirewallRule": _doc(_NO_CONTENT, errors=(422,)),
    "ListMachineFirewallRules": _doc(_ok(array_of("FirewallRule")), errors=(409,)),
    "ListFirewallRuleMachines": _doc(
        _ok(array_of("Machine"), RESOURCE_COUNT_HEADER), errors=(422,)
    ),
    # --- migrations ------------------------------------------------------------------------
    "Migrate": _doc(
        _created(ref("Migration"), location=False),
        Answer(
            200,
            ref("MigrationProgress"),
            '`watch`: one progress object per line, ending with `{"type": "end"}`;'
            " `finalize`: no body",
            media_type="application/x-json-stream",
        ),
        _GONE,
        body=obj(
            {"action": {"enum": _MIGRATION_ACTIONS}, "affinity": {"anyOf": [STRING, STRINGS]}},
            ("action",),
        ),
        body_required=True,
        body_example={"action": "begin"},
        errors=(409, 412),
    ),
    "MigrateMachineEstimate": _doc(
        Answer(
            200,
            obj(
                {
                    "size": {**INTEGER, "description": "bytes a migration would send"},
                    "eta_ms": {**INTEGER, "description": "how long sending them takes"},
                },
                ("size", "eta_ms"),
            ),
            "VMAPI's estimate, passed on",
            example={"size": 3221225472, "eta_ms": 32212},
        ),
        _GONE,
        errors=(409, 412),
    ),
    "ListMigrations": _doc(_ok(array_of("Migration"))),
    "GetMigration": _doc(_ok(ref("Migration")), errors=(409,)),
    # --- volumes ---------------------------------------------------------------------------
    "ListVolumes": _doc(
        _ok(array_of("Volume"), QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER),
        query=(
            _query("name", STRING, "exact, or with `*` at either end"),
            _query("predicate", STRING, "a JSON predicate over name, type, state, tags..."),
            _query("size", {**INTEGER, "minimum": 1}),
            _query("state", {"enum": ["creating", "ready", "failed", "deleting"]}),
            _query("type", {"const": "tritonnfs"}),
        ),
        errors=(409,),
    ),
    "CreateVolume": _doc(
        _created(ref("Volume"), location=False),
        body=obj(
            {
                "type": {"const": "tritonnfs"},
                "name": _VOLUME_NAME,
                "size": {**INTEGER, "minimum": 1, "description": "MiB (default 10240)"},
                "networks": {"type": "array", "items": UUID, "minItems": 1},
                "affinity": STRINGS,
                "tags": {"type": "object", "additionalProperties": STRING},
            },
            ("type",),
        ),
        body_required=True,
        body_example={"type": "tritonnfs", "name": "data", "size": 10240},
        errors=(409,),
    ),
    "GetVolume": _doc(_ok(ref("Volume"))),
    "UpdateVolume": _doc(
        _ok(ref("Volume")),
        body=obj({"name": _VOLUME_NAME}, ("name",), additionalProperties=False),
        body_required=True,
        body_example={"name": "data-2"},
        errors=(409,),
    ),
    "DeleteVolume": _doc(_NO_CONTENT, errors=(409,)),
    "ListVolumeSizes": _doc(
        _ok(array_of("VolumeSize"), QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER),
        query=(_query("type", {"const": "tritonnfs"}),),
        errors=(409,),
    ),
    # --- role tags -------------------------------------------------------------------------
    "SetRoleTags": _SET_ROLE_TAGS,
}


@dataclass(frozen=True)
class ActionGroup:
    """Operations CloudAPI serves on one method and path, told apart by ``action``.

    ``actions`` maps each ``action`` value (``None``: no action) to the CloudAPI operation it
    selects and that operation's body; ``doc`` holds the answers of all of them.
    """

    operation_id: str
    summary: str
    actions: dict[str | None, tuple[str, JSON]]
    doc: OperationDoc
    action_required: bool = True


#: The action groups, by method and path.
ACTION_GROUPS: dict[tuple[str, str], ActionGroup] = {
    ("POST", "/{login}/machines/{id}"): ActionGroup(
        "MachineAction",
        "Act on a machine: start, stop, reboot, resize, rename, firewall, deletion protection",
        dict(MACHINE_ACTIONS),
        _doc(_ACCEPTED, _GONE, errors=(409,)),
    ),
    ("POST", "/{login}/images/{id}"): ActionGroup(
        "ImageAction",
        "Act on an image: update, export, clone",
        dict(IMAGE_ACTIONS),
        _doc(
            Answer(
                200,
                {"anyOf": [ref("Image"), ref("ImageExport")]},
                "update and clone: the image; export: where it went",
                example=IMAGE,
            ),
            errors=(409, 422),
        ),
    ),
    ("POST", "/{login}/images"): ActionGroup(
        "CreateOrImportImage",
        "Create an image from a machine, or import one from another datacenter",
        dict(IMAGE_COLLECTION_ACTIONS),
        _doc(
            _created(ref("Image"), headers=("x-joyent-jobid",)),
            _ok(ref("Image"), description="import-from-datacenter: the imported image"),
            errors=(409, 422),
        ),
        action_required=False,
    ),
}
