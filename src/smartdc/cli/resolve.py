"""Turning what a user types into the CloudAPI object it names.

Each resolver takes the text given on the command line (a UUID, a short id, a name, and for
images ``name@version``) and returns the object as CloudAPI describes it, in the order of
preference ``triton`` uses (node-triton lib/tritonapi.js). Requests are kept to the fewest
that decide the answer: a full UUID goes straight to the matching Get call, and lists are
fetched only when a name or a short id has to be looked up.

Failures are :class:`ResolveError` subclasses: :class:`NotFoundError` (exit status 3) and
:class:`AmbiguousError` (exit status 1, with the candidates). CloudAPI errors other than
"not found" propagate unchanged; a deleted instance raises
:class:`smartdc.errors.MachineGoneError` (410).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli.humanize import is_uuid, short_id
from smartdc.errors import CloudAPIError, SmartDCError

if TYPE_CHECKING:
    from smartdc.api import CloudAPI

__all__ = [
    "AmbiguousError",
    "AmbiguousShortIdError",
    "KeyNotFoundError",
    "NotFoundError",
    "ResolveError",
    "fwrule",
    "image",
    "instance",
    "instance_id",
    "is_uuid",
    "key",
    "network",
    "package",
    "short_id",
    "vlan",
    "volume",
]

JSONObject = dict[str, Any]

# short ids are lower-case hex, as node-triton lib/common.js normShortId
_HEX_RE = re.compile(r"[0-9a-f]+")
_SHORT_ID_RE = re.compile(r"[0-9a-f]{8}")
_UUID_SPANS = (8, 4, 4, 4, 12)
# Where the dashes of a UUID sit, counted in the dashed form.
_DASH_POSITIONS = frozenset({8, 13, 18, 23})
# Names safe to pass as a ListPackages ``name`` filter (no wildcard, no filter syntax).
_PLAIN_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.+-]*")
_VLAN_ID_RE = re.compile(r"\s*[0-9]+\s*")
_MAX_VLAN_ID = 4095
#: How many candidates an ambiguity message lists (all are in ``candidates``).
MAX_LISTED_CANDIDATES = 10


# --- errors --------------------------------------------------------------------------------


class ResolveError(SmartDCError):
    """What the user typed does not name exactly one object.

    Attributes:
        message: the text to show, as ``triton`` words it.
        exit_status: the exit status ``triton`` gives this failure.
        code: the code ``triton`` shows in ``error (<code>): ...``, or ``None``.
        candidates: the objects that matched, when there were several.
    """

    exit_status: int = 1
    code: str | None = None

    def __init__(self, message: str, candidates: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.candidates: list[JSONObject] = [dict(c) for c in candidates]


class NotFoundError(ResolveError):
    """Nothing matches (``triton``'s ResourceNotFoundError: exit status 3)."""

    exit_status = 3
    code = "ResourceNotFound"


class AmbiguousError(ResolveError):
    """Several objects match and none is preferred; ``candidates`` lists them (exit 1)."""


class AmbiguousShortIdError(NotFoundError, AmbiguousError):
    """No object has that name and several share that 8-character short id.

    ``triton`` reports this as not found (exit status 3); ``candidates`` lists the matches.
    """


class KeyNotFoundError(NotFoundError):
    """No SSH key has that name or fingerprint.

    ``triton key get`` passes CloudAPI's 404 through without wrapping it, so this one exits
    with status 1 and carries CloudAPI's own message.
    """

    exit_status = 1


# --- identifiers ---------------------------------------------------------------------------


def _norm_short_id(text: str) -> str | None:
    """``text`` as a dashed UUID prefix, or ``None`` when it cannot be one.

    Dashes may be left out (Docker ids); hex beyond 32 digits is dropped, so a 64-digit
    Docker id becomes a full UUID (as node-triton lib/common.js normShortId).
    """
    if "-" in text:
        if any(ch == "-" and i not in _DASH_POSITIONS for i, ch in enumerate(text)):
            return None
        digits = text.replace("-", "")
        if len(digits) > 32:
            digits = digits[:32]
    else:
        digits = text[:32]
    if not _HEX_RE.fullmatch(digits):
        return None
    parts: list[str] = []
    start = 0
    for span in _UUID_SPANS:
        part = digits[start : start + span]
        if not part:
            break
        parts.append(part)
        start += span
    return "-".join(parts)


def _full_uuid(text: str) -> str | None:
    """The UUID ``text`` spells out, dashed or not (a Docker id counts), else ``None``."""
    if is_uuid(text):
        return text
    normal = _norm_short_id(text)
    return normal if normal is not None and is_uuid(normal) else None


def _could_be_short_id(text: str) -> bool:
    """Whether ``text`` can equal some UUID's first 8 characters."""
    return _SHORT_ID_RE.fullmatch(text) is not None


# --- helpers -------------------------------------------------------------------------------


def _is_not_found(exc: CloudAPIError) -> bool:
    return exc.status == 404


def _fetch(get: Callable[[], JSONObject], missing: str) -> JSONObject:
    """``get()``, with CloudAPI's 404 reported as ``missing`` (a :class:`NotFoundError`)."""
    try:
        return get()
    except CloudAPIError as exc:
        if _is_not_found(exc):
            raise NotFoundError(missing) from exc
        raise


def _one(matches: Sequence[JSONObject], several: Callable[[], ResolveError]) -> JSONObject | None:
    """The only match, ``None`` when there is none; ``several()`` is raised when there are
    more."""
    if len(matches) > 1:
        raise several()
    return matches[0] if matches else None


def _label(item: Mapping[str, Any], id_field: str) -> str:
    name = item.get("name")
    return f"    {item.get(id_field)}  {name if name not in (None, '') else '-'}"


def _listing(items: Sequence[Mapping[str, Any]], id_field: str = "id") -> str:
    """The candidates as indented ``id  name`` lines, the first few only."""
    lines = [_label(item, id_field) for item in items[:MAX_LISTED_CANDIDATES]]
    if len(items) > MAX_LISTED_CANDIDATES:
        lines.append(f"    ... and {len(items) - MAX_LISTED_CANDIDATES} more")
    return "\n".join(lines)


def _ambiguous_name(
    kind: str, text: str, matches: Sequence[JSONObject], id_field: str = "id"
) -> AmbiguousError:
    # wording as node-triton lib/tritonapi.js getPackage/getNetwork/getFabricVlan
    return AmbiguousError(
        f'{kind} name "{text}" is ambiguous: matches {len(matches)} {kind}s:\n'
        + _listing(matches, id_field),
        matches,
    )


def _ambiguous_prefix(kind: str, text: str, matches: Sequence[JSONObject]) -> AmbiguousError:
    # after node-triton lib/tritonapi.js getInstance, with the candidates listed
    return AmbiguousError(
        f'{kind} short id "{text}" is ambiguous: matches {len(matches)} {kind}s:\n'
        + _listing(matches),
        matches,
    )


def _ambiguous_short_id(kind: str, text: str, matches: Sequence[JSONObject]) -> NotFoundError:
    return AmbiguousShortIdError(
        f'no {kind} with name "{text}" was found and "{text}" is an ambiguous short id, '
        f"matching {len(matches)} {kind}s:\n" + _listing(matches),
        matches,
    )


def _by_name_or_short_id(kind: str, text: str, items: Iterable[JSONObject]) -> JSONObject:
    """The one item named ``text``, else the one whose short id is ``text``."""
    named: list[JSONObject] = []
    by_short_id: list[JSONObject] = []
    for item in items:
        if item.get("name") == text:
            named.append(item)
        if str(item.get("id", ""))[:8] == text:
            by_short_id.append(item)
    found = _one(named, lambda: _ambiguous_name(kind, text, named))
    if found is None:
        found = _one(by_short_id, lambda: _ambiguous_short_id(kind, text, by_short_id))
    if found is not None:
        return found
    raise NotFoundError(f'no {kind} with name or short id "{text}" was found')


# --- instances -----------------------------------------------------------------------------


def _get_machine(api: CloudAPI, uuid: str, shown: str, credentials: bool) -> JSONObject:
    return _fetch(
        lambda: api.get_machine(uuid, credentials=credentials),
        f"instance with id {shown} was not found",
    )


def _listed_instance(api: CloudAPI, text: str) -> JSONObject:
    """The instance named ``text``, else the one whose id starts with it, from ListMachines."""
    if not text:
        raise NotFoundError('no instance with name or short id "" was found')
    prefix = _norm_short_id(text)
    if prefix is None:
        # Names are unique per account; the server may match more loosely than we do.
        for machine in api.list_machines(name=text):
            if machine.get("name") == text:
                return machine
        raise NotFoundError(f'no instance with name or short id "{text}" was found')
    # Text that could be a prefix needs every instance anyway, so one pass over them all
    # checks the exact name (which wins) and the prefix, instead of a name query first.
    matches: list[JSONObject] = []
    for machine in api.iter_machines():
        if machine.get("name") == text:
            return machine
        if str(machine.get("id", "")).startswith(prefix):
            matches.append(machine)
    found = _one(matches, lambda: _ambiguous_prefix("instance", text, matches))
    if found is not None:
        return found
    raise NotFoundError(f'no instance with name or short id "{text}" was found')


def instance(api: CloudAPI, text: str, *, credentials: bool = False) -> JSONObject:
    """The instance ``text`` names, as GetMachine returns it.

    ``text`` is tried as a UUID (a dashless or 64-digit Docker id counts), then as an exact
    name, then as an id prefix of any length (dashes optional). A match found by listing is
    fetched again with GetMachine, which has fields ListMachines lacks. ``credentials``
    asks for ``metadata.credentials``.

    Raises:
        NotFoundError: no such instance.
        AmbiguousError: several instances start with that prefix.
        smartdc.errors.MachineGoneError: the instance has been deleted (410).
    """
    uuid = _full_uuid(text)
    if uuid is not None:
        return _get_machine(api, uuid, text, credentials)
    found = _listed_instance(api, text)
    return _get_machine(api, str(found["id"]), str(found["id"]), credentials)


def instance_id(api: CloudAPI, text: str) -> str:
    """The id of the instance ``text`` names, with as few requests as possible.

    A dashed UUID is returned as is, without a request (the call that uses it reports a
    missing instance). Names and prefixes are looked up as :func:`instance` does, without
    the final GetMachine.
    """
    if is_uuid(text):
        return text
    uuid = _full_uuid(text)
    if uuid is not None:
        return str(_get_machine(api, uuid, text, False)["id"])
    return str(_listed_instance(api, text)["id"])


# --- images --------------------------------------------------------------------------------


def image(api: CloudAPI, text: str, *, include_inactive: bool = False) -> JSONObject:
    """The image ``text`` names: a UUID, a name, ``name@version`` or an 8-character short id.

    Of several images with the name, the most recently published wins. Only active images
    are considered unless ``include_inactive`` (``triton image get -a``; also what
    ``triton`` uses for image delete, wait, update, share, clone and export). A UUID is
    fetched whatever the image's state.

    Raises:
        NotFoundError: no such image (an :class:`AmbiguousShortIdError` when the short id
            matches several).
    """
    if is_uuid(text):
        return _fetch(lambda: api.get_image(text), f"image with id {text} was not found")
    # as node-triton lib/tritonapi.js getImage: only the first "@" separates the version
    parts = text.split("@")
    name = parts[0]
    version = parts[1] if len(parts) > 1 else ""
    filters: dict[str, Any] = {"state": "all" if include_inactive else "active"}
    selector = name
    if version:
        selector = f"{name}@{version}"
        filters.update(name=name, version=version)
    elif name and not _could_be_short_id(name):
        # Cannot be a short id, so only images of that name matter: let the server filter.
        filters["name"] = name
    images = api.list_images(**filters)
    named = [img for img in images if img.get("name") == name]
    if named:
        # stable: of images published at the same moment, the last one listed wins
        return sorted(named, key=lambda img: str(img.get("published_at") or ""))[-1]
    by_short_id = [img for img in images if str(img.get("id", ""))[:8] == name]
    found = _one(by_short_id, lambda: _ambiguous_short_id("image", name, by_short_id))
    if found is not None:
        return found
    raise NotFoundError(f'no image with {selector} or short id "{name}" was found')


# --- packages, networks, firewall rules, VLANs ---------------------------------------------


def package(api: CloudAPI, text: str) -> JSONObject:
    """The package ``text`` names: a UUID, an exact name or an 8-character short id.

    Raises:
        NotFoundError: no such package.
        AmbiguousError: several packages have that name.
    """
    if is_uuid(text):
        return _fetch(lambda: api.get_package(text), f"package with id {text} was not found")
    if not _could_be_short_id(text) and _PLAIN_NAME_RE.fullmatch(text):
        packages = api.list_packages(name=text)
    else:
        packages = api.list_packages()
    return _by_name_or_short_id("package", text, packages)


def network(api: CloudAPI, text: str) -> JSONObject:
    """The network ``text`` names: a UUID, an exact name or an 8-character short id.

    Raises:
        NotFoundError: no such network.
        AmbiguousError: several networks have that name.
    """
    if is_uuid(text):
        return _fetch(lambda: api.get_network(text), f"network with id {text} was not found")
    return _by_name_or_short_id("network", text, api.list_networks())


def fwrule(api: CloudAPI, text: str) -> JSONObject:
    """The firewall rule ``text`` names: its UUID or its 8-character short id.

    Raises:
        NotFoundError: no such rule (an :class:`AmbiguousShortIdError` when several rules
            share the short id).
    """
    if is_uuid(text):
        return _fetch(
            lambda: api.get_firewall_rule(text), f"firewall rule with id {text} was not found"
        )
    not_found = NotFoundError(f'no firewall rule with short id "{text}" was found')
    if not _could_be_short_id(text):
        raise not_found  # no rule's short id can be anything else, so no need to list
    matches = [r for r in api.list_firewall_rules() if str(r.get("id", ""))[:8] == text]
    found = _one(
        matches,
        lambda: AmbiguousShortIdError(
            f'"{text}" is an ambiguous short id, with multiple matching firewall rules:\n'
            + _listing(matches),
            matches,
        ),
    )
    if found is not None:
        return found
    raise not_found


def vlan(api: CloudAPI, text: str) -> JSONObject:
    """The fabric VLAN ``text`` names: its number (0-4095) or its exact name.

    Raises:
        NotFoundError: no such VLAN.
        AmbiguousError: several VLANs have that name.
    """
    if _VLAN_ID_RE.fullmatch(text) and int(text) <= _MAX_VLAN_ID:
        return _fetch(
            lambda: api.get_fabric_vlan(int(text)), f"vlan with id {text.strip()} was not found"
        )
    named = [v for v in api.list_fabric_vlans() if v.get("name") == text]
    found = _one(named, lambda: _ambiguous_name("vlan", text, named, id_field="vlan_id"))
    if found is not None:
        return found
    raise NotFoundError(f'no vlan with name "{text}" was found')


# --- volumes -------------------------------------------------------------------------------


def volume(api: CloudAPI, text: str) -> JSONObject:
    """The volume ``text`` names: a UUID (Docker ids count), an exact name, or an id prefix
    of any length. Failed volumes are found only by UUID.

    Raises:
        NotFoundError: no such volume.
        AmbiguousError: several volumes have that name or start with that prefix.
    """
    uuid = _full_uuid(text)
    if uuid is not None:
        return _fetch(lambda: api.get_volume(uuid), f"volume with id {uuid} was not found")
    usable = {"ne": ["state", "failed"]}
    prefix = _norm_short_id(text)
    if prefix is None:
        volumes = api.list_volumes(predicate={"and": [usable, {"eq": ["name", text]}]})
    else:
        # one listing serves both the name and the prefix
        volumes = api.list_volumes(predicate=usable)
    named = [v for v in volumes if v.get("name") == text]
    found = _one(named, lambda: _ambiguous_name("volume", text, named))
    if found is None and prefix is not None:
        matches = [v for v in volumes if str(v.get("id", "")).startswith(prefix)]
        found = _one(matches, lambda: _ambiguous_prefix("volume", text, matches))
    if found is not None:
        return found
    raise NotFoundError(f'no volume with id, name or short id "{text}" was found')


# --- SSH keys ------------------------------------------------------------------------------


def _sha256_fingerprint(openssh_line: str) -> str | None:
    """``SHA256:<base64>`` of an OpenSSH public key line, as ``ssh-keygen -l`` shows it."""
    # imported here: hashlib loads OpenSSL, which only SHA256 look-ups need
    import base64
    import binascii
    import hashlib

    fields = openssh_line.split()
    if len(fields) < 2:
        return None
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def key(api: CloudAPI, text: str) -> JSONObject:
    """The account's SSH key ``text`` names: its name, or its fingerprint as MD5 colon hex
    (with or without ``MD5:``) or as ``SHA256:<base64>``.

    Names and MD5 fingerprints go to GetKey; CloudAPI cannot look up SHA256 fingerprints,
    so those are matched against ListKeys.

    Raises:
        KeyNotFoundError: no such key (exit status 1, as ``triton key get``).
    """
    if text.startswith("SHA256:"):
        for candidate in api.list_keys():
            if _sha256_fingerprint(str(candidate.get("key", ""))) == text:
                return candidate
        raise KeyNotFoundError(f"{text} does not exist")
    wanted = text[4:] if text[:4].upper() == "MD5:" else text
    if not wanted:
        raise KeyNotFoundError(f"{text} does not exist")
    try:
        return api.get_key(wanted)
    except CloudAPIError as exc:
        if _is_not_found(exc):
            raise KeyNotFoundError(exc.message or f"{text} does not exist") from exc
        raise
