"""Images made through the API, as IMGAPI keeps them: created from a machine, updated,
shared (``acl``), cloned, exported, imported from another datacenter, deleted.

An image made from a machine starts ``creating`` and becomes ``active`` (or ``failed``) when
the machine's ``create_image`` job ends: the job engine settles it like any machine job, and
:mod:`smartdc.emulator.store.image_effects` is what its end does to the image. API-made
images live in the datacenter they were made in (``image_locations``); the default catalog is
in every datacenter.

HTTP-free: functions take a :class:`Database` and return CloudAPI-shaped dicts.
IMGAPI's refusals are raised as :class:`EmulatorError` with IMGAPI's status and code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartdc.emulator import lifecycle, params
from smartdc.emulator.context import EmulatorError, not_found
from smartdc.emulator.db import Database
from smartdc.emulator.store import ids, machines
from smartdc.emulator.store.image_catalog import (
    find_image,
    get_image,
    image_visible,
    list_images,
    save_image,
)
from smartdc.emulator.store.timestamps import iso_ms, to_ms

__all__ = ["find_image", "get_image", "image_visible", "list_images"]


#: Manifest fields a caller may set at creation and with UpdateImage.
MANIFEST_FIELDS = ("name", "version", "description", "homepage", "eula", "acl", "tags")
#: Where ExportImage says the files went.
MANTA_URL = "https://manta.smartdc-emulator.invalid"
#: The ``requirements`` keys IMGAPI defines (sdc-imgapi docs/index.md, "requirements").
REQUIREMENT_FIELDS = (
    "networks",
    "brand",
    "ssh_key",
    "min_ram",
    "max_ram",
    "min_platform",
    "max_platform",
    "bootrom",
)
_MAX_NAME = 512
_MAX_VERSION = 128


# --- IMGAPI's errors -----------------------------------------------------------------------


def invalid_parameter(field: str, message: str) -> EmulatorError:
    """IMGAPI's 422 ``InvalidParameter`` naming the bad field."""
    body = {
        "code": "InvalidParameter",
        "message": message,
        "errors": [{"field": field, "code": "Invalid", "message": message}],
    }
    return EmulatorError(422, "InvalidParameter", message, body=body)


def image_not_found(image_id: str) -> EmulatorError:
    """The 404 for an image that is missing, destroyed, or invisible to the caller."""
    return not_found(f"image {image_id} not found")


def not_image_owner(account_uuid: str, image_id: str) -> EmulatorError:
    """IMGAPI's 422 for a change to an image the caller may see but does not own."""
    return EmulatorError(
        422, "NotImageOwner", f"account {account_uuid} is not the owner of image {image_id}"
    )


# --- manifest checks -----------------------------------------------------------------------


def _check_text(field: str, value: Any, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_parameter(field, f'invalid image "{field}": must be a non-empty string')
    if limit is not None and len(value) > limit:
        raise invalid_parameter(
            field, f'invalid image "{field}": must be at most {limit} characters'
        )
    return value


def _check_acl(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else None
    if items is None or not all(isinstance(i, str) and is_uuid(i) for i in items):
        raise invalid_parameter("acl", 'invalid image "acl": must be an array of account UUIDs')
    return list(dict.fromkeys(items))


def _check_tags(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_parameter("tags", 'invalid image "tags": must be an object')
    return dict(value)


is_uuid = params.is_uuid


def check_manifest(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest fields given (``None`` values dropped), checked as IMGAPI checks them."""
    checked: dict[str, Any] = {}
    for field in MANIFEST_FIELDS:
        value = fields.get(field)
        if value is None:
            continue
        if field == "acl":
            checked[field] = _check_acl(value)
        elif field == "tags":
            checked[field] = _check_tags(value)
        elif field == "name":
            checked[field] = _check_text(field, value, _MAX_NAME)
        elif field == "version":
            checked[field] = _check_text(field, value, _MAX_VERSION)
        else:
            checked[field] = _check_text(field, value)
    return checked


def image_requirements(origin: Mapping[str, Any], machine: Mapping[str, Any]) -> dict[str, Any]:
    """The requirements of an image made from ``machine``: its origin image's (IMGAPI's
    fields only), and for a bhyve machine the brand, which its disk image needs."""
    inherited = origin.get("requirements") or {}
    requirements = {k: inherited[k] for k in REQUIREMENT_FIELDS if k in inherited}
    if machine.get("brand") == "bhyve":
        requirements["brand"] = "bhyve"
    return requirements


# --- storage -------------------------------------------------------------------------------


def _place(conn: sqlite3.Connection, image_id: str, datacenter: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO image_locations (image, datacenter) VALUES (?, ?)",
        (image_id, datacenter),
    )


@dataclass(frozen=True)
class Viewer:
    """Who asks, where, and when: the account, its datacenter, and the clock reading."""

    account: str
    datacenter: str
    now: float


def list_visible(db: Database, viewer: Viewer) -> list[dict[str, Any]]:
    """Every image the account may see in its datacenter, due jobs (creations) applied."""
    machines.catch_up(db, viewer.now)
    return list_images(db, viewer.account, viewer.datacenter)


def get_visible(db: Database, viewer: Viewer, image_id: str) -> dict[str, Any] | None:
    """The image if the account may see it in its datacenter, due jobs applied."""
    machines.catch_up(db, viewer.now)
    return get_image(db, viewer.account, image_id, viewer.datacenter)


def _owned(db: Database, viewer: Viewer, image_id: str) -> dict[str, Any]:
    image = get_visible(db, viewer, image_id)
    if image is None:
        raise image_not_found(image_id)
    if image["owner"] != viewer.account:
        raise not_image_owner(viewer.account, image_id)
    return image


# --- writes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creation:
    """A new image from a machine: what CreateImageFromMachine answers."""

    image: dict[str, Any]
    job_id: str


#: Machine states an image can be made from: a running machine is shut down by the
#: prepare-image run, imaged, and booted again (the ``create_image`` job's transitions).
_IMAGEABLE_STATES = frozenset({"running", "stopped"})


def create_from_machine(
    db: Database,
    viewer: Viewer,
    machine_id: str,
    manifest: Mapping[str, Any],
    *,
    provision_delay: float,
    caller: Mapping[str, Any] | None = None,
) -> Creation:
    """Start making an image from the caller's running or stopped machine: queue the
    machine's ``create_image`` job (a running machine shows ``stopped``, then ``ready``, then
    ``running`` again); the image is ``creating`` until that job ends, then ``active``, or
    ``failed`` when the job fails. ``manifest`` holds checked :data:`MANIFEST_FIELDS` with
    name and version.

    Raises 422 ``InvalidParameter`` when the machine cannot be had, 409 ``UnallocatedVM``
    while it is provisioning, and 409 ``VmNotStopped`` while it is neither running nor
    stopped (between states).
    """
    owner = machines.Owner(viewer.account, viewer.datacenter)
    try:
        machine = machines.get_machine(db, owner, machine_id, viewer.now)
    except EmulatorError as exc:
        if exc.status != 404:
            raise
        machine = None
    if machine is None or machine["state"] == "deleted":
        raise invalid_parameter("vm_uuid", f'could not get VM "{machine_id}" details')
    if machine["state"] == "provisioning":
        lifecycle.check_allocated("create_image", "provisioning")
    if machine["state"] not in _IMAGEABLE_STATES:
        raise EmulatorError(
            409,
            "VmNotStopped",
            f"VM {machine_id} must be stopped to create an image from it"
            f" (it is {machine['state']})",
        )
    source = find_image(db, str(machine["image"])) or {}
    image_id = ids.new_uuid(db)
    image: dict[str, Any] = {
        "id": image_id,
        "name": manifest["name"],
        "version": manifest["version"],
        "os": source.get("os", "other"),
        "type": source.get("type", "other"),
        "requirements": image_requirements(source, machine),
    }
    for field in ("description", "homepage", "eula", "tags", "acl"):
        if field in manifest:
            image[field] = manifest[field]
    if "image_size" in source:
        image["image_size"] = source["image_size"]
    image.update(owner=viewer.account, public=False, state="creating")
    if source.get("id"):
        image["origin"] = source["id"]
    with db.transaction() as conn:
        # the image row first: the job's end (even an immediate one) finds it to finish
        save_image(conn, image, iso_ms(to_ms(viewer.now)))
        _place(conn, image_id, viewer.datacenter)
        job_id = machines.queue_job(
            db,
            owner,
            machine_id,
            "create_image",
            {"image": image_id},
            caller=caller or {},
            now=viewer.now,
            provision_delay=provision_delay,
        )
    return Creation(image, job_id)


def update_image(
    db: Database, viewer: Viewer, image_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """UpdateImage: set the checked manifest ``changes`` on an image the caller owns."""
    image = _owned(db, viewer, image_id)
    image.update(changes)
    with db.transaction() as conn:
        row = conn.execute("SELECT published_at FROM images WHERE id = ?", (image_id,)).fetchone()
        save_image(conn, image, str(row["published_at"]))
    return image


def delete_image(db: Database, viewer: Viewer, image_id: str) -> None:
    """DeleteImage: remove an image the caller owns from this datacenter (from every
    datacenter once no other holds a copy)."""
    image = _owned(db, viewer, image_id)
    with db.transaction() as conn:
        conn.execute(
            "DELETE FROM image_locations WHERE image = ? AND datacenter = ?",
            (image["id"], viewer.datacenter),
        )
        left = conn.execute(
            "SELECT 1 FROM image_locations WHERE image = ?", (image["id"],)
        ).fetchone()
        if left is None:
            conn.execute("DELETE FROM images WHERE id = ?", (image["id"],))


def clone_image(db: Database, viewer: Viewer, image_id: str) -> dict[str, Any]:
    """CloneImage: a private copy, with a new id, of an image shared with the caller.

    Raises 404 for an image the caller cannot see and 422 ``ImageNotShared`` for one that is
    public or the caller's own (only images shared through ``acl`` can be cloned).
    """
    image = get_visible(db, viewer, image_id)
    if image is None:
        raise image_not_found(image_id)
    if viewer.account not in image.get("acl", ()) or image["owner"] == viewer.account:
        raise EmulatorError(
            422,
            "ImageNotShared",
            f"image {image_id} is not shared with account {viewer.account}",
        )
    if image["state"] != "active":
        raise EmulatorError(
            422, "ImageNotActive", f"image {image_id} is not active (state {image['state']})"
        )
    clone = {k: v for k, v in image.items() if k != "acl"}
    clone.update(id=ids.new_uuid(db), owner=viewer.account, public=False)
    with db.transaction() as conn:
        save_image(conn, clone, str(clone.get("published_at", iso_ms(to_ms(viewer.now)))))
        _place(conn, clone["id"], viewer.datacenter)
    return clone


def import_from_datacenter(
    db: Database, viewer: Viewer, source_datacenter: str, image_id: str
) -> dict[str, Any]:
    """ImportImageFromDatacenter: copy an image the caller owns from another datacenter of
    the region into this one, keeping its id.

    Raises 404 when ``source_datacenter`` has no such image for the caller, 422
    ``NotImageOwner`` for another account's image, and 409 ``ImageUuidAlreadyExists`` when
    this datacenter already holds it.
    """
    source = Viewer(viewer.account, source_datacenter, viewer.now)
    image = _owned(db, source, image_id)
    if find_image(db, image_id, viewer.datacenter) is not None:
        raise EmulatorError(
            409, "ImageUuidAlreadyExists", f'image uuid "{image_id}" already exists'
        )
    if image["state"] != "active":
        raise EmulatorError(
            422, "ImageNotActive", f"image {image_id} is not active (state {image['state']})"
        )
    with db.transaction() as conn:
        _place(conn, image_id, viewer.datacenter)
    return image


def export_image(
    db: Database, viewer: Viewer, login: str, image_id: str, manta_path: str
) -> dict[str, str]:
    """ExportImage: where the image file and manifest go under the caller's Manta ``manta_path``
    (``~~`` is the caller's Manta home; a path ending in ``/`` is a directory)."""
    image = _owned(db, viewer, image_id)
    path = f"/{login}{manta_path[2:]}" if manta_path.startswith("~~") else manta_path
    if not path.startswith(f"/{login}/"):
        raise EmulatorError(
            422,
            "NotMantaPathOwner",
            f"account {login} is not the owner of Manta path {manta_path}",
        )
    if path.endswith("/"):
        path = f"{path}{image['name']}-{image['version']}"
    return {
        "manta_url": MANTA_URL,
        "image_path": f"{path}.zfs.gz",
        "manifest_path": f"{path}.imgmanifest",
    }
