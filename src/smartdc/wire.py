"""CloudAPI's wire facts: the names a request or an answer may carry.

The client (:mod:`smartdc.api`, :mod:`smartdc.objects`, :mod:`smartdc.cli`) checks what it
sends against these, and the emulator (:mod:`smartdc.emulator`) reads and documents its
inputs with them, so both sides spell every filter, field, header and code the same way.
Like :mod:`smartdc.operations`, this module imports nothing and holds only constants.
"""

from __future__ import annotations

# --- paging ---------------------------------------------------------------------------------

#: The page size in effect for a listing (sdc-cloudapi lib/machines.js, from VMAPI).
QUERY_LIMIT_HEADER = "x-query-limit"
#: How many items this page holds (sdc-cloudapi lib/machines.js, lib/endpoints/volumes.js).
RESOURCE_COUNT_HEADER = "x-resource-count"

# --- machines -------------------------------------------------------------------------------

#: Machine brands CloudAPI knows (sdc-vmapi lib/common/validation.js).
MACHINE_BRANDS: tuple[str, ...] = ("joyent", "joyent-minimal", "lx", "kvm", "bhyve")
#: Brands of hardware virtual machines: they boot a zvol image and have VNC (sdc-vmapi).
HVM_BRANDS = frozenset({"kvm", "bhyve"})
#: The legacy machine ``type`` values (sdc-cloudapi lib/machines.js).
MACHINE_TYPES = frozenset({"smartmachine", "virtualmachine"})

#: ListMachines filters besides ``tag.<name>`` (sdc-cloudapi lib/machines.js ``list``).
MACHINE_FILTERS = frozenset(
    {
        "type",
        "brand",
        "name",
        "image",
        "state",
        "memory",
        "docker",
        "tombstone",
        "credentials",
        "limit",
        "offset",
        "tags",
    }
)

#: CreateMachine inputs besides image, package, name, networks, brand, affinity, metadata,
#: tags, firewall_enabled, deletion_protection and the ``metadata.<key>``/``tag.<key>`` forms
#: (sdc-cloudapi lib/machines.js; ``default_networks`` is undocumented there).
CREATE_MACHINE_EXTRAS = frozenset(
    {
        "allow_shared_images",
        "administrator_pw",
        "bootrom",
        "credentials",
        "default_networks",
        "delegate_dataset",
        "disks",
        "encrypted",
        "locality",
        "password",
        "volumes",
    }
)

#: What a changefeed subscription may ask for, its ``subResources`` (sdc-cloudapi
#: lib/changefeed.js, the VM changes VMAPI publishes).
CHANGEFEED_SUB_RESOURCES: tuple[str, ...] = (
    "alias",
    "customer_metadata",
    "destroyed",
    "nics",
    "owner_uuid",
    "server_uuid",
    "state",
    "tags",
)

# --- other listings ---------------------------------------------------------------------------

#: ListImages filters (sdc-cloudapi lib/datasets.js, passed on to IMGAPI).
IMAGE_FILTERS = frozenset({"name", "os", "version", "public", "state", "owner", "type", "account"})

#: ListPackages filters, in CloudAPI's documented order (sdc-cloudapi lib/packages.js).
PACKAGE_FILTERS: tuple[str, ...] = (
    "name",
    "memory",
    "disk",
    "swap",
    "lwps",
    "vcpus",
    "version",
    "group",
    "brand",
    "flexible_disk",
)

#: ListNetworks filters (sdc-cloudapi lib/networks.js).
NETWORK_FILTERS = frozenset({"fabric"})

#: ListVolumes filters (sdc-cloudapi lib/endpoints/volumes.js).
VOLUME_FILTERS = frozenset({"name", "predicate", "size", "state", "type"})

# --- account and users -------------------------------------------------------------------------

#: A sub-user's optional profile fields (sdc-cloudapi lib/users.js).
USER_PROFILE_FIELDS: tuple[str, ...] = (
    "companyName",
    "firstName",
    "lastName",
    "address",
    "postalCode",
    "city",
    "state",
    "country",
    "phone",
)
#: The account's own profile fields, in the Account object's order: the email, then the
#: same fields as a sub-user's (sdc-cloudapi lib/account.js).
ACCOUNT_PROFILE_FIELDS: tuple[str, ...] = ("email", *USER_PROFILE_FIELDS)
#: Fields UpdateAccount accepts (sdc-cloudapi lib/account.js).
ACCOUNT_FIELDS = frozenset({*ACCOUNT_PROFILE_FIELDS, "triton_cns_enabled"})

#: The resource collections SetRoleTags can tag, besides the account (sdc-cloudapi
#: lib/resources.js).
ROLE_TAG_RESOURCES = frozenset(
    {
        "machines",
        "users",
        "roles",
        "packages",
        "images",
        "policies",
        "keys",
        "datacenters",
        "fwrules",
        "networks",
        "services",
    }
)

# --- errors -----------------------------------------------------------------------------------

#: The ``code`` of every CloudAPI error body either side names: restify's HTTP errors and the
#: codes sdc-cloudapi lib/errors.js, sdc-vmapi, sdc-volapi, sdc-napi and sdc-imgapi add.
#: restify spells some of them with an ``Error`` suffix (``UnsupportedMediaTypeError``); this
#: set holds each code without it.
ERROR_CODES = frozenset(
    {
        "BadDigest",
        "BadRequest",
        "BrandNotSupported",
        "CannotDestroyMachine",
        "CloudApiError",
        "Conflict",
        "DefaultFabricNetworkNotConfigured",
        "Forbidden",
        "ImageNotActive",
        "ImageNotShared",
        "ImageUuidAlreadyExists",
        "InternalError",
        "InvalidArgument",
        "InvalidContent",
        "InvalidCredentials",
        "InvalidFabricPackage",
        "InvalidHeader",
        "InvalidNetworks",
        "InvalidParameter",
        "InvalidParameters",
        "InvalidVersion",
        "KeyRequired",
        "MachineHasNoVNC",
        "MachineStopped",
        "MethodNotAllowed",
        "MissingParameter",
        "NotAcceptable",
        "NotAuthorized",
        "NotImageOwner",
        "NotImplemented",
        "NotMantaPathOwner",
        "PayloadTooLarge",
        "PreconditionFailed",
        "RequestExpired",
        "ResourceMoved",
        "ResourceNotFound",
        "ServiceUnavailable",
        "TooManyRequests",
        "UnallocatedVM",
        "UnsupportedMediaType",
        "UpgradeRequired",
        "ValidationFailed",
        "VmNotRunning",
        "VmNotStopped",
        "VmWithoutFlexibleDiskSize",
        "VolumeAlreadyExists",
        "VolumeInUse",
        "VolumeNotFound",
        "VolumeSizeNotAvailable",
        "VolumesNotReachable",
    }
)
