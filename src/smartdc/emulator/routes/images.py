"""Image routes: reads over the catalog, and the writes IMGAPI does for an
account — create from a machine, update, share (``acl``), clone, export, import from another
datacenter, delete."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import (
    IMAGE_ACTION_ERRORS,
    Call,
    EmulatorError,
    Handler,
    Reply,
    Route,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
)
from smartdc.emulator.params import parse_bool
from smartdc.emulator.routes.machine_common import arm_job_failures
from smartdc.emulator.store import images
from smartdc.emulator.versions import entirely_below, reaches

#: Fields images gained in API 7.1; older ranges do not see them.
_SINCE_7_1 = ("owner", "public", "state", "eula", "acl", "origin", "error")
_LEGACY_TYPES = ("smartmachine", "virtualmachine")


def legacy_type(image_type: str) -> str:
    """The pre-8.0 image type: ``virtualmachine`` for HVM disk images."""
    return "virtualmachine" if image_type == "zvol" else "smartmachine"


def present_image(call: Call, image: dict[str, Any]) -> dict[str, Any]:
    """The image as this request's API version shows it."""
    shown = dict(image)
    # CreateImageFromMachine answers with what it asked IMGAPI for, which has no type yet.
    if entirely_below(call.version_range, "8.0.0") and "type" in image:
        shown["type"] = legacy_type(str(image["type"]))
    if not reaches(call.version_range, "7.1.0"):
        for name in _SINCE_7_1:
            shown.pop(name, None)
    return shown


def _flag(name: str, value: Any) -> bool:
    flag = parse_bool(value)
    if flag is None:
        raise invalid_argument(f"{name} must be true or false")
    return flag


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
    found = images.list_visible(call.db, viewer(call))
    body = [present_image(call, i) for i in found if _matches(i, call.params, legacy)]
    return Reply(200, body)


def image_not_found(image_id: str) -> EmulatorError:
    """IMGAPI's 404 for a missing or invisible image."""
    return images.image_not_found(image_id)


def viewer(call: Call) -> images.Viewer:
    """The caller's account, datacenter and clock, for the image store."""
    return images.Viewer(call.account_uuid, call.datacenter, call.now)


def get_image(call: Call) -> Reply:
    """GetImage: one image by UUID; 404 if missing, invisible or destroyed."""
    image_id = call.path_params["id"]
    image = images.get_visible(call.db, viewer(call), image_id)
    if image is None:
        raise image_not_found(image_id)
    return Reply(200, present_image(call, image))


def _manifest(call: Call) -> dict[str, Any]:
    return images.check_manifest({f: call.params.get(f) for f in images.MANIFEST_FIELDS})


def create_image(call: Call) -> Reply:
    """CreateImageFromMachine: 201 with the new image (``creating``), ``Location`` and
    ``x-joyent-jobid`` (the machine's ``create_image`` job); the image becomes ``active``
    when that job ends (``failed`` if it fails)."""
    action = call.params.get("action")
    if action not in (None, ""):
        raise IMAGE_ACTION_ERRORS.error(action)
    machine_id = call.params.get("machine")
    if machine_id in (None, ""):
        raise missing_parameter("machine is a required argument")
    if call.params.get("name") in (None, ""):
        raise missing_parameter("Image name is a required argument")
    if call.params.get("version") in (None, ""):
        raise missing_parameter("Image version is a required argument")
    manifest = _manifest(call)
    arm_job_failures(call)
    created = images.create_from_machine(
        call.db,
        viewer(call),
        str(machine_id),
        manifest,
        provision_delay=call.config.provision_delay,
        caller=call.caller,
    )
    image_id = created.image["id"]
    # CloudAPI answers with what it asked IMGAPI for, not the placeholder IMGAPI stored.
    body: dict[str, Any] = {
        "id": image_id,
        "name": manifest["name"],
        "version": manifest["version"],
        "requirements": {},
        **{f: manifest[f] for f in images.MANIFEST_FIELDS[2:] if f in manifest},
        "state": "creating",
    }
    headers = {
        "Location": f"/{call.login}/images/{image_id}",
        "x-joyent-jobid": created.job_id,
    }
    return Reply(201, present_image(call, body), headers)


def update_image(call: Call) -> Reply:
    """UpdateImage: 200 with the image after the change; owner only."""
    image = images.update_image(call.db, viewer(call), call.path_params["id"], _manifest(call))
    return Reply(200, present_image(call, image))


def delete_image(call: Call) -> Reply:
    """DeleteImage: 204; 404 for an invisible image, 422 ``NotImageOwner`` for a visible one
    the caller does not own."""
    images.delete_image(call.db, viewer(call), call.path_params["id"])
    return Reply(204)


def clone_image(call: Call) -> Reply:
    """CloneImage: 200 with a copy, owned by the caller, of an image shared with it."""
    clone = images.clone_image(call.db, viewer(call), call.path_params["id"])
    return Reply(200, present_image(call, clone))


def export_image(call: Call) -> Reply:
    """ExportImage: 200 ``{manta_url, image_path, manifest_path}``."""
    manta_path = call.params.get("manta_path")
    if manta_path in (None, ""):
        raise missing_parameter("Image destination manta_path is a required argument")
    body = images.export_image(
        call.db, viewer(call), call.login, call.path_params["id"], str(manta_path)
    )
    return Reply(200, body)


def import_image(call: Call) -> Reply:
    """ImportImageFromDatacenter: 200 with the image, now also in this datacenter."""
    datacenter = call.params.get("datacenter")
    if datacenter in (None, ""):
        raise missing_parameter("datacenter is a required argument")
    image_id = str(call.params.get("id") or "")
    if not images.is_uuid(image_id):
        raise invalid_argument(f"id {image_id} must be a UUID")
    if str(datacenter) not in call.config.datacenters:
        raise images.invalid_parameter("datacenter", f'unknown datacenter "{datacenter}"')
    image = images.import_from_datacenter(call.db, viewer(call), str(datacenter), image_id)
    return Reply(200, present_image(call, image))


def _image_action(name: str, handler: Handler, summary: str) -> Route:
    return cloudapi_route(name, handler, summary=summary, action_errors=IMAGE_ACTION_ERRORS)


ROUTES = [
    cloudapi_route("ListImages", list_images, head=True, summary="List images"),
    cloudapi_route("GetImage", get_image, head=True, summary="Get an image"),
    cloudapi_route("CreateImageFromMachine", create_image, summary="Create an image"),
    cloudapi_route(
        "ImportImageFromDatacenter", import_image, summary="Import an image from a datacenter"
    ),
    cloudapi_route("DeleteImage", delete_image, summary="Delete an image"),
    _image_action("UpdateImage", update_image, "Update an image"),
    _image_action("ExportImage", export_image, "Export an image to Manta"),
    _image_action("CloneImage", clone_image, "Clone a shared image"),
]
