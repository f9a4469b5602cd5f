"""Machine tag routes. Changes are jobs: they land when the job finishes.

Every request parameter except a few reserved names becomes a tag, stray query parameters
included, as in CloudAPI.
"""

from __future__ import annotations

import json
import re
from typing import Any

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Reply,
    cloudapi_route,
    not_found,
    validation_failed,
)
from smartdc.emulator.routes.machine_common import RESERVED_PARAMS, fetch, queue, scalar_values

#: The ``triton.*`` tags Triton knows, and the type of each value (sdc-vmapi
#: lib/common/validation.js, node-triton-tags).
TRITON_TAGS = {
    "triton.cns.services": "string",
    "triton.cns.disable": "boolean",
    "triton.cns.reverse_ptr": "string",
}
_DNS_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9][a-z0-9-]{0,62})*$", re.IGNORECASE)
_DNS_CHAR = re.compile(r"[a-z0-9.-]", re.IGNORECASE)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def _dns_problem(key: str, text: str, creating: bool) -> str | None:
    """Why ``text`` (one DNS name, or a CNS service with an optional ``:port``) is refused."""
    name = text.split(":", 1)[0] if key == "triton.cns.services" else text
    if len(name) <= 255 and _DNS_NAME.fullmatch(name):
        return None
    if creating:
        return f'"{text}" is not DNS safe'
    bad = next((ch for ch in name if not _DNS_CHAR.match(ch)), None)
    found = "end of input" if not name else json.dumps(bad or name[0])
    return f'invalid "{key}" tag: Expected DNS name but {found} found.'


def triton_tag_error(tags: dict[str, Any], *, creating: bool) -> str | None:
    """Why the ``triton.*`` tags among ``tags`` are refused, or ``None``: VMAPI's words when
    ``creating`` a machine, CloudAPI's when tags are added or replaced later."""
    for key, value in tags.items():
        if not key.startswith("triton."):
            continue
        wanted = TRITON_TAGS.get(key)
        if wanted is None:
            return f'Unrecognized special triton tag "{key}"'
        if _type_name(value) != wanted:
            if creating:
                return f'"{key}" must be a {wanted}'
            return (
                f'Triton tag "{key}" value must be a {wanted}:'
                f" {json.dumps(value)} ({_type_name(value)})"
            )
        if wanted == "string":
            parts = str(value).split(",") if key == "triton.cns.services" else [str(value)]
            for part in parts:
                problem = _dns_problem(key, part, creating)
                if problem is not None:
                    return problem
    return None


def _tags_from_request(call: Call, verb: str) -> dict[str, Any]:
    values = {k: v for k, v in call.params.items() if k not in RESERVED_PARAMS}
    tags = scalar_values("tag", values)
    problem = triton_tag_error(tags, creating=False)
    if problem is not None:
        raise validation_failed(
            [{"field": "tags", "code": "Invalid", "message": problem}],
            f"error {verb} tags: Invalid tag parameters",
        )
    return tags


def tag_not_found(name: str) -> EmulatorError:
    """The 404 for a tag the machine does not have."""
    return not_found(f'tag "{name}" not found')


def add_tags(call: Call) -> Reply:
    """AddMachineTags: 200 with the merged tags and ``x-job-uuid``."""
    machine = fetch(call)
    tags = _tags_from_request(call, "adding")
    job = queue(call, machine, "set_tags", {"values": tags})
    return Reply(200, {**machine["tags"], **tags}, {"x-job-uuid": job})


def replace_tags(call: Call) -> Reply:
    """ReplaceMachineTags: 200 with exactly the new tags and ``x-job-uuid``."""
    machine = fetch(call)
    tags = _tags_from_request(call, "replacing")
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
