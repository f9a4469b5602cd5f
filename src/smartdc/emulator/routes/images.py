"""Image routes: ListImages and GetImage, over the catalog (digest §4.10)."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Reply,
    cloudapi_route,
    invalid_argument,
    not_found,
)
from smartdc.emulator.store import catalog
from smartdc.emulator.versions import entirely_below, reaches

#: Fields images gained in API 7.1; older ranges do not see them.
_SINCE_7_1 = ("owner", "public", "state", "eula", "acl", "origin", "error")
_LEGACY_TYPES = ("smartmachine", "virtualmachine")


def legacy_type(image_type: str) -> str:
    """The pre-8.0 image type: ``virtualmachine`` for HVM disk images."""
    return "virtualmachine" if image_type == "zvol" else "smartmachine"


def present_image(call: Call, image: dict[str, Any]) -> dict[str, Any]:
    """The image as this request's API version shows it (digest §1.3)."""
    shown = dict(image)
    if entirely_below(call.version_range, "8.0.0"):
        shown["type"] = legacy_type(str(image["type"]))
    if not reaches(call.version_range, "7.1.0"):
        for name in _SINCE_7_1:
            shown.pop(name, None)
    return shown


def _flag(name: str, value: Any) -> bool:
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise invalid_argument(f"{name} must be true or false")


def _matches(image: dict[str, Any], params: dict[str, Any], legacy: bool) -> bool:
    name = params.get("name")
    if isinstance(name, str) and name:
        if name.startswith("~"):
            if name[1:] not in image["name"]:
                return False
        elif image["name"] != name:
            return False
    for field in ("os", "version", "owner"):
        wanted = params.get(field)
        if isinstance(wanted, str) and wanted and image.get(field) != wanted:
            return False
    public = params.get("public")
    if public not in (None, "") and image["public"] != _flag("public", public):
        return False
    wanted_type = params.get("type")
    if isinstance(wanted_type, str) and wanted_type:
        shown_type = legacy_type(image["type"]) if legacy else image["type"]
        if shown_type != wanted_type:
            return False
    elif image["type"] == "docker":
        return False
    state = params.get("state")
    if state in (None, ""):
        return bool(image["state"] == "active")
    return state == "all" or bool(image["state"] == state)


def list_images(call: Call) -> Reply:
    """ListImages: images the account may see, active ones unless ``state`` says otherwise."""
    legacy = entirely_below(call.version_range, "8.0.0")
    wanted_type = call.params.get("type")
    if legacy and wanted_type not in (None, "") and wanted_type not in _LEGACY_TYPES:
        raise invalid_argument(f"image type {wanted_type} is not a valid type")
    images = catalog.list_images(call.db, call.account_uuid)
    body = [present_image(call, i) for i in images if _matches(i, call.params, legacy)]
    return Reply(200, body)


def image_not_found(image_id: str) -> EmulatorError:
    """IMGAPI's 404 for a missing or invisible image."""
    return not_found(f"image {image_id} not found")


def get_image(call: Call) -> Reply:
    """GetImage: one image by UUID; 404 if missing, invisible or destroyed."""
    image_id = call.path_params["id"]
    image = catalog.get_image(call.db, call.account_uuid, image_id)
    if image is None:
        raise image_not_found(image_id)
    return Reply(200, present_image(call, image))


ROUTES = [
    cloudapi_route("ListImages", list_images, head=True, summary="List images"),
    cloudapi_route("GetImage", get_image, head=True, summary="Get an image"),
]
