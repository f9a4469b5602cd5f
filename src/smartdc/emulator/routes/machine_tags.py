"""Machine tag routes. Changes are jobs: they land when the job finishes.

Every request parameter except a few reserved names becomes a tag, stray query parameters
included, as in CloudAPI.
"""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import Call, EmulatorError, Reply, cloudapi_route, not_found
from smartdc.emulator.routes.machine_common import RESERVED_PARAMS, fetch, queue, scalar_values


def _tags_from_request(call: Call) -> dict[str, Any]:
    values = {k: v for k, v in call.params.items() if k not in RESERVED_PARAMS}
    return scalar_values("tag", values)


def tag_not_found(name: str) -> EmulatorError:
    """The 404 for a tag the machine does not have."""
    return not_found(f'tag "{name}" not found')


def add_tags(call: Call) -> Reply:
    """AddMachineTags: 200 with the merged tags and ``x-job-uuid``."""
    machine = fetch(call)
    tags = _tags_from_request(call)
    job = queue(call, machine, "set_tags", {"values": tags})
    return Reply(200, {**machine["tags"], **tags}, {"x-job-uuid": job})


def replace_tags(call: Call) -> Reply:
    """ReplaceMachineTags: 200 with exactly the new tags and ``x-job-uuid``."""
    machine = fetch(call)
    tags = _tags_from_request(call)
    job = queue(call, machine, "replace_tags", {"values": tags})
    return Reply(200, tags, {"x-job-uuid": job})


def list_tags(call: Call) -> Reply:
    """ListMachineTags: ``{name: value}``."""
    return Reply(200, fetch(call)["tags"])


def get_tag(call: Call) -> Reply:
    """GetMachineTag: the value as a JSON string (``""`` for non-string values)."""
    name = call.path_params["tag"]
    tags = fetch(call)["tags"]
    if name not in tags:
        raise tag_not_found(name)
    value = tags[name]
    return Reply(200, value if isinstance(value, str) else "")


def delete_tag(call: Call) -> Reply:
    """DeleteMachineTag: 204; 404 when the machine has no such tag."""
    name = call.path_params["tag"]
    machine = fetch(call)
    if name not in machine["tags"]:
        raise tag_not_found(name)
    queue(call, machine, "remove_tags", {"keys": [name]})
    return Reply(204)


def delete_tags(call: Call) -> Reply:
    """DeleteMachineTags: 204; every tag goes."""
    machine = fetch(call)
    queue(call, machine, "remove_tags", {"keys": sorted(machine["tags"])})
    return Reply(204)


ROUTES = [
    cloudapi_route("AddMachineTags", add_tags, summary="Add tags"),
    cloudapi_route("ReplaceMachineTags", replace_tags, summary="Replace tags"),
    cloudapi_route("ListMachineTags", list_tags, head=True, summary="List tags"),
    cloudapi_route("GetMachineTag", get_tag, head=True, summary="Get a tag"),
    cloudapi_route("DeleteMachineTag", delete_tag, summary="Delete a tag"),
    cloudapi_route("DeleteMachineTags", delete_tags, summary="Delete all tags"),
]
