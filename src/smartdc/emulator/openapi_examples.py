"""Examples for the OpenAPI document: objects as CloudAPI answers with them.

Catalog objects (images, packages, networks) are the emulator's own seed, so an example's
identifiers name real objects of every emulator; the rest are shaped like answers of a fresh
account. Each error status has an example of the error CloudAPI most often sends with it.
"""

from __future__ import annotations

from typing import Any

from smartdc.emulator.store import catalog

_ACCOUNT_ID = "7590cb6b-f24b-48a7-9277-81a017a8197f"
_MACHINE_ID = "e0cd75e1-429b-48e0-bf81-125ee1702101"
_USER_ID = "901bdcc6-9954-49be-9e38-df0d3e7f7ecc"
_POLICY_ID = "eab52d2a-a811-4ed9-9380-ec1cc0e7d71e"
_FABRIC_NETWORK_ID = "a804be7b-49a6-4705-94a0-78e6b8c29260"
_STAMP = "2026-01-15T09:30:00.000Z"
_FINGERPRINT = "ae:0f:bf:95:f2:7f:7b:31:49:57:98:a6:54:6c:12:3f"
#: A real (throwaway) public key, so that an example CreateKey succeeds.
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFHsuS0xRgAizcI1R6EWGCUGlO2WMUvOij/U4twXGwjg "
    "laptop@example"
)
_KEY_ID = f"/demo/keys/{_FINGERPRINT}"


def _seed_image() -> dict[str, Any]:
    images = [i for i in catalog.default_images() if i["name"] == "base-64-lts"]
    return dict(images[-1])


def _seed_package() -> dict[str, Any]:
    packages = catalog.default_packages()
    package = next(p for p in packages if p["name"] == "g4-highcpu-128M")
    return {k: v for k, v in package.items() if k != "active"}


IMAGE = _seed_image()
PACKAGE = _seed_package()
PUBLIC_NETWORK = {
    "id": catalog.PUBLIC_NETWORK_ID,
    "name": catalog.DEFAULT_NETWORKS[0].name,
    "public": True,
    "description": catalog.DEFAULT_NETWORKS[0].description,
}
PRIVATE_NETWORK_ID = catalog.PRIVATE_NETWORK_ID

NIC = {
    "mac": "90:b8:d0:ec:02:78",
    "ip": "198.18.0.10",
    "primary": True,
    "netmask": "255.254.0.0",
    "gateway": "198.18.0.1",
    "state": "running",
    "network": catalog.PUBLIC_NETWORK_ID,
}

MACHINE = {
    "id": _MACHINE_ID,
    "name": "web-1",
    "type": "smartmachine",
    "brand": "joyent",
    "state": "running",
    "image": IMAGE["id"],
    "ips": ["198.18.0.10", "10.64.0.10"],
    "memory": 128,
    "disk": 3072,
    "metadata": {"root_authorized_keys": PUBLIC_KEY},
    "tags": {"role": "web"},
    "created": _STAMP,
    "updated": _STAMP,
    "networks": [catalog.PUBLIC_NETWORK_ID, PRIVATE_NETWORK_ID],
    "primaryIp": "198.18.0.10",
    "firewall_enabled": False,
    "deletion_protection": False,
    "compute_node": "7d995b5b-0c00-524d-8faf-f879b95df0a6",
    "package": PACKAGE["name"],
    "nics": [NIC],
}

FABRIC_NETWORK = {
    "id": _FABRIC_NETWORK_ID,
    "name": "backend",
    "public": False,
    "fabric": True,
    "subnet": "10.50.0.0/24",
    "provision_start_ip": "10.50.0.10",
    "provision_end_ip": "10.50.0.200",
    "gateway": "10.50.0.1",
    "resolvers": ["8.8.8.8"],
    "routes": {},
    "internet_nat": True,
    "vlan_id": 10,
}

MIGRATION_STEP = {
    "type": "progress",
    "phase": "begin",
    "state": "successful",
    "current_progress": 100,
    "total_progress": 100,
    "message": "reserving the target instance",
    "started_timestamp": _STAMP,
    "finished_timestamp": _STAMP,
    "duration_ms": 1,
}

#: An example per component schema name.
OBJECTS: dict[str, Any] = {
    "Machine": MACHINE,
    "Nic": NIC,
    "Metadata": MACHINE["metadata"],
    "Tags": MACHINE["tags"],
    "Image": IMAGE,
    "ImageExport": {
        "manta_url": "https://us-east.manta.example.com",
        "image_path": "/demo/stor/images/base.zfs.gz",
        "manifest_path": "/demo/stor/images/base.imgmanifest",
    },
    "Package": PACKAGE,
    "Network": PUBLIC_NETWORK,
    "NetworkIP": {
        "ip": "10.64.0.10",
        "reserved": False,
        "managed": False,
        "owner_uuid": _ACCOUNT_ID,
        "belongs_to_uuid": _MACHINE_ID,
    },
    "FabricVLAN": {"vlan_id": 10, "name": "backend", "description": "application tier"},
    "FirewallRule": {
        "id": "86466dac-b6ed-4fb0-a8cb-34758633cfd3",
        "rule": f"FROM any TO vm {_MACHINE_ID} ALLOW tcp PORT 22",
        "enabled": True,
        "log": False,
    },
    "Volume": {
        "id": "41b99fde-9f2b-46a4-84f2-67cb9034e211",
        "owner_uuid": _ACCOUNT_ID,
        "name": "data",
        "type": "tritonnfs",
        "size": 10240,
        "state": "ready",
        "networks": [_FABRIC_NETWORK_ID],
        "refs": [],
        "filesystem_path": "10.50.0.11:/exports/data",
        "tags": {},
        "created": _STAMP,
    },
    "VolumeSize": {"size": 10240, "type": "tritonnfs"},
    "Key": {
        "name": "laptop",
        "fingerprint": _FINGERPRINT,
        "key": PUBLIC_KEY,
    },
    "Account": {
        "id": _ACCOUNT_ID,
        "login": "demo",
        "email": "demo@example.com",
        "firstName": "Dana",
        "lastName": "Demo",
        "triton_cns_enabled": False,
        "created": _STAMP,
        "updated": _STAMP,
    },
    "User": {
        "id": _USER_ID,
        "login": "ops",
        "email": "ops@example.com",
        "created": _STAMP,
        "updated": _STAMP,
    },
    "Role": {
        "id": "019af508-a558-4061-a105-cd4623320547",
        "name": "operators",
        "members": [{"type": "subuser", "id": _USER_ID, "login": "ops", "default": True}],
        "policies": [{"id": _POLICY_ID, "name": "read-machines"}],
    },
    "Policy": {
        "id": _POLICY_ID,
        "name": "read-machines",
        "rules": ["CAN listmachines AND getmachine"],
        "description": "see machines",
    },
    "Snapshot": {"name": "before-upgrade", "state": "created", "created": _STAMP},
    "Disk": {
        "id": "a34fb068-4a8d-5011-9a1d-997f7f77fad2",
        "pci_slot": "0:4:0",
        "size": 10240,
        "block_size": 8192,
        "boot": True,
        "state": "running",
    },
    "Migration": {
        "machine": _MACHINE_ID,
        "automatic": False,
        "phase": "begin",
        "state": "paused",
        "created_timestamp": _STAMP,
        "finished_timestamp": _STAMP,
        "duration_ms": 1,
        "progress_history": [MIGRATION_STEP],
    },
    "MigrationProgress": MIGRATION_STEP,
    "AuditEntry": {
        "action": "provision",
        "success": "yes",
        "time": _STAMP,
        "caller": {"type": "signature", "ip": "203.0.113.7", "keyId": _KEY_ID},
    },
    "AccessKey": {
        "accesskeyid": "3f66e4480eab87409be726d0f2c0889e",
        "status": "Active",
        "credentialtype": "permanent",
        "created": _STAMP,
        "updated": _STAMP,
        "expiration": None,
    },
    "Limit": {"value": 10, "used": 2},
    "Datacenters": {"us-east-1": "https://us-east-1.api.example.com"},
    "Services": {"cloudapi": "https://us-east-1.api.example.com"},
    "Ping": {"ping": "pong", "cloudapi": {"versions": ["7.0.0", "8.0.0", "9.0.0"]}},
    "Config": {"default_network": catalog.PUBLIC_NETWORK_ID},
    "RoleTags": {"name": f"/demo/machines/{_MACHINE_ID}", "role-tag": ["operators"]},
}

#: The error CloudAPI most often answers with, per status.
ERRORS: dict[int, dict[str, Any]] = {
    400: {
        "code": "InvalidHeader",
        "message": "Authorization header invalid: date was not in the request",
    },
    401: {"code": "InvalidCredentials", "message": "Invalid authorization credentials supplied"},
    403: {"code": "NotAuthorized", "message": "You do not have permission to access /other"},
    404: {"code": "ResourceNotFound", "message": "VM not found"},
    406: {
        "code": "NotAcceptableError",
        "message": "Server accepts: application/json,text/plain,application/octet-stream,"
        "application/javascript",
    },
    409: {"code": "InvalidArgument", "message": "web_1 is not a valid package"},
    412: {
        "code": "PreconditionFailed",
        "message": "Pause requires a running migration sync action",
    },
    413: {"code": "PayloadTooLargeError", "message": "Request body size exceeds 100000"},
    415: {"code": "UnsupportedMediaTypeError", "message": "application/x-www-form-urlencoded"},
    422: {
        "code": "InvalidParameters",
        "message": "Invalid parameters",
        "errors": [{"field": "rule", "code": "InvalidParameter", "message": "Syntax error"}],
    },
    429: {
        "code": "TooManyRequestsError",
        "message": "You have exceeded your request rate of 10 r/s.",
    },
    500: {"message": "Connection Must Upgrade For WebSockets"},
    501: {"code": "NotImplementedError", "message": "fabrics not enabled for this datacenter"},
    503: {"code": "ServiceUnavailableError", "message": "Service Unavailable"},
}
