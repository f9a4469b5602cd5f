"""``smartdc instance create``: part of ``smartdc instance``; see
:mod:`smartdc.cli.commands.instance`.

Behaviour follows node-triton lib/do_instance/do_create.js, with metadata and tags read as
lib/metadataandtags.js reads them and ``--disk`` as lib/disks.js does.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli import waiting
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: What ``--dry-run`` pretends to have created (as node-triton do_create.js).
DRY_RUN_ID = "beefbeef-4c0e-11e5-86cd-a7fd38d2a50b"
DRY_RUN_NAME = "this-is-a-dry-run"

#: ``--nic`` keys (node-triton lib/constants.js NETWORK_OBJECT_FIELDS).
NIC_KEYS = ("ipv4_uuid", "ipv4_ips")

# as node-triton do_create.js parseVolMount
_VOLUME_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]+")
_VOLUME_MODES = ("ro", "rw")


class _InOrder(argparse.Action):
    """Append ``(option kind, value)`` to one shared list, keeping command-line order.

    triton reads ``-m``, ``-M``, ``--script`` and ``--cloud-config`` in the order given, so a
    later one replaces an earlier one's key.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items = list(getattr(namespace, self.dest, None) or [])
        items.append((self.const, values))
        setattr(namespace, self.dest, items)


def _configure(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] IMAGE PACKAGE"
    group = parser.add_argument_group("Create options")
    group.add_argument(
        "-n",
        "--name",
        metavar="NAME",
        help="Instance name. If not given, one will be generated server-side.",
    )
    group.add_argument(
        "-b",
        "--brand",
        metavar="BRAND",
        help="The instance type: bhyve or kvm. Without it the image and package decide.",
    )
    group.add_argument(
        "-t",
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help='A tag: "key=value" (true/false and numbers become typed values), a JSON '
        'object (first character "{"), or "@FILE" to read tags from FILE. Repeatable.',
    )
    group.add_argument(
        "-a",
        "--affinity",
        action="append",
        default=[],
        metavar="RULE",
        help="A server placement rule: instance==INST, instance!=INST, instance==~INST "
        "or instance!=~INST (INST is an instance name or id). Repeatable.",
    )
    nets = parser.add_argument_group("Networks and storage")
    nets.add_argument(
        "-N",
        "--network",
        action="append",
        default=None,
        metavar="NETWORK",
        help="One or more comma-separated networks (id, name or short id). Repeatable.",
    )
    nets.add_argument(
        "--nic",
        action="append",
        default=None,
        metavar="NICOPTS",
        help="A network interface as comma-separated key=value pairs; keys: "
        + ", ".join(NIC_KEYS)
        + " (ipv4_ips: one IP). Repeatable.",
    )
    nets.add_argument(
        "--delegate-dataset",
        action="store_true",
        help="Create a delegated ZFS dataset in the instance.",
    )
    nets.add_argument("--firewall", action="store_true", help="Enable Cloud Firewall.")
    nets.add_argument(
        "--deletion-protection",
        action="store_true",
        help="Enable deletion protection: the instance cannot be deleted until it is disabled.",
    )
    nets.add_argument(
        "--encrypted",
        action="store_true",
        help="Place the instance on an encrypted compute node.",
    )
    nets.add_argument(
        "-v",
        "--volume",
        action="append",
        default=[],
        metavar="VOLMOUNT",
        help='Mount a volume: "NAME:/mount/point[:ro|rw]" (read-write by default). Repeatable.',
    )
    meta = parser.add_argument_group("Metadata")
    meta.add_argument(
        "-m",
        "--metadata",
        action=_InOrder,
        const="metadata",
        dest="metadata_opts",
        metavar="DATA",
        help='Metadata: "key=value" (true/false and numbers become typed values), a JSON '
        'object (first character "{"), or "@FILE" to read metadata from FILE. Repeatable.',
    )
    meta.add_argument(
        "-M",
        "--metadata-file",
        action=_InOrder,
        const="metadata_file",
        dest="metadata_opts",
        metavar="KEY=FILE",
        help="Set metadata key KEY to the contents of FILE.",
    )
    meta.add_argument(
        "--script",
        action=_InOrder,
        const="script",
        dest="metadata_opts",
        metavar="FILE",
        help='Use FILE as the "user-script" metadata (run at every boot by Triton images).',
    )
    meta.add_argument(
        "--cloud-config",
        action=_InOrder,
        const="cloud_config",
        dest="metadata_opts",
        metavar="FILE",
        help='Use FILE as the "cloud-init:user-data" metadata.',
    )
    meta.add_argument(
        "--allow-shared-images",
        action="store_true",
        help="Allow creating the instance from an image shared with this account.",
    )
    meta.add_argument(
        "--disk",
        action="append",
        default=None,
        metavar="DATA",
        help='A disk of a bhyve flexible-disk package: a JSON object such as {"size": 10240} '
        '(use {} for the image disk and "remaining" as the last size), or "@FILE" with a '
        "JSON array. Repeatable.",
    )
    other = parser.add_argument_group("Other options")
    other.add_argument(
        "--dry-run", action="store_true", help="Go through the motions without creating."
    )
    # -w as waiting.add_wait_options makes it, minus --wait-timeout (triton's create has none)
    other.add_argument(
        "-w",
        "--wait",
        action="count",
        default=0,
        help="Wait for the creation to complete (running or failed).",
    )
    other.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    parser.add_argument("args", nargs="*", metavar="IMAGE PACKAGE")
    parser.set_defaults(metadata_opts=[])


# --- reading -m/-t/-M values (node-triton lib/metadataandtags.js) ------------------------------


def _metadata(context: Context, options: argparse.Namespace) -> dict[str, Any]:
    from smartdc.cli.table import js_trim
    from smartdc.cli.values import ValueSet

    bag = ValueSet(context, "metadata")
    for kind, value in options.metadata_opts:
        if kind == "metadata":
            bag.add_option(value)
        elif kind == "metadata_file":
            key, sep, name = value.partition("=")
            if not sep:
                raise UsageError(f"invalid KEY=FILE metadata argument: {value}")
            bag.add_from_file(js_trim(key), name)
        elif kind == "script":
            bag.add_from_file("user-script", value)
        else:
            bag.add_from_file("cloud-init:user-data", value)
    return bag.values


def _tags(context: Context, options: argparse.Namespace) -> dict[str, Any]:
    from smartdc.cli.values import ValueSet

    bag = ValueSet(context, "tag")
    for value in options.tag:
        bag.add_option(value)
    return bag.values


# --- volumes, disks and NICs -------------------------------------------------------------------


def parse_volume(text: str) -> dict[str, str]:
    """A ``-v NAME:/MOUNTPOINT[:MODE]`` value as CloudAPI's ``volumes`` entry.

    Raises :class:`UsageError` with triton's wording when it is malformed.
    """
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise UsageError(
            'invalid volume specified, must be in the form "<volume name>:<mount path>'
            f'[:<mode>]", got: "{text}"'
        )
    name, mountpoint = parts[0], parts[1]
    if not _VOLUME_NAME_RE.fullmatch(name):
        raise UsageError(f'invalid volume name, got: "{text}"')
    if not mountpoint.startswith("/"):
        raise UsageError(f'invalid volume mountpoint, must be absolute path, got: "{text}"')
    if "\0" in mountpoint:
        raise UsageError(f'invalid volume mountpoint, contains invalid characters, got: "{text}"')
    if not mountpoint.strip("/"):
        raise UsageError(
            f'invalid volume mountpoint, must contain at least one non-/ character, got: "{text}"'
        )
    if len(parts) == 3 and parts[2] not in _VOLUME_MODES:
        raise UsageError(f'invalid volume mode, got: "{text}"')
    return {"mode": parts[2] if len(parts) == 3 else "rw", "mountpoint": mountpoint, "name": name}


def _multi_error(errors: Sequence[UsageError]) -> Exception:
    from smartdc.cli.failures import CommandError

    # as node-triton lib/errors.js MultiError, even for one error
    lines = [f"multiple ({len(errors)}) errors"]
    lines.extend(f"    error ({err.code}): {err}" for err in errors)
    return CommandError("\n".join(lines), code="MultiError")


def _volumes(values: Sequence[str]) -> list[dict[str, str]]:
    volumes: list[dict[str, str]] = []
    problems: list[UsageError] = []
    for value in values:
        try:
            volumes.append(parse_volume(value))
        except UsageError as exc:
            problems.append(exc)
    if problems:
        raise _multi_error(problems)
    return volumes


def _disks(context: Context, values: Sequence[str]) -> list[Any]:
    """``--disk`` values (lib/disks.js): JSON objects, or one ``@FILE`` holding an array."""
    from smartdc.cli.failures import CommandError
    from smartdc.cli.table import json_stringify, to_number
    from smartdc.cli.values import json_number, json_safe, parse_json, read_text_file

    # triton crashes on text that is not JSON; this reports it instead.
    if len(values) == 1 and values[0].startswith("@"):
        name = values[0][1:]
        text = read_text_file(context, name, f'disks path "{name}" is not an existing file')
        try:
            parsed = parse_json(text)
        except ValueError as exc:
            raise CommandError(f"{text} is not valid JSON: {exc}") from None
        if not isinstance(parsed, list):
            raise CommandError(f'disks file "{name}" must hold a JSON array of disks')
        disks: list[Any] = parsed
    else:
        disks = []
        for value in values:
            try:
                disks.append(parse_json(value))
            except ValueError as exc:
                raise CommandError(f"{value} is not valid JSON: {exc}") from None
    problems: list[UsageError] = []
    for disk in disks:
        if not isinstance(disk, dict):
            continue
        size = disk.get("size")
        if size in (None, False, 0, "") or size == "remaining":
            continue
        number = to_number(size)
        if number != number or number < 0:
            problems.append(
                UsageError(
                    f"SIZE must be a positive number or \"remaining\": '{json_stringify(disk)}'"
                )
            )
        else:
            disk["size"] = json_safe(json_number(number))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise _multi_error(problems)
    return disks


def parse_nic(text: str) -> dict[str, Any]:
    """A ``--nic ipv4_uuid=UUID[,ipv4_ips=IP]`` value as a CloudAPI network object."""
    from smartdc.cli.args import key_values
    from smartdc.cli.resolve import is_uuid

    nic = key_values(text.split(","), valid_keys=NIC_KEYS, convert=False, dotted=False)
    uuid = nic.get("ipv4_uuid")
    if not uuid:
        raise UsageError("ipv4_uuid must be specified in network object")
    ips = nic.get("ipv4_ips")
    if ips:
        nic["ipv4_ips"] = ips.split("|")
    # triton fails an assertion here; say what is wrong instead
    if not is_uuid(uuid):
        raise UsageError(f'invalid ipv4_uuid "{uuid}": must be a network UUID')
    if ips and len(nic["ipv4_ips"]) != 1:
        raise UsageError("only 1 ipv4_ip may be specified")
    return nic


def _nics(values: Sequence[str]) -> list[dict[str, Any]]:
    nics: list[dict[str, Any]] = []
    seen: set[str] = set()
    for value in values:
        nic = parse_nic(value)
        if nic["ipv4_uuid"] in seen:
            raise UsageError(
                "only 1 ip on a network allowed "
                f"(network {nic['ipv4_uuid']} specified multiple times)"
            )
        seen.add(nic["ipv4_uuid"])
        nics.append(nic)
    return nics


def _network_names(values: Sequence[str]) -> list[str]:
    # as node-triton lib/cli.js parseCommaSepStringNoEmpties
    names: list[str] = []
    for value in values:
        names.extend(part for part in re.split(r"\s*,\s*", value.strip()) if part)
    return names


# --- create ------------------------------------------------------------------------------------


def do_create(context: Context, options: argparse.Namespace) -> int | None:
    """Create an instance (CreateMachine) and, with ``-w``, wait for it to run or fail."""
    import time

    from smartdc.cli import resolve
    from smartdc.cli.parallel import run_parallel
    from smartdc.cli.values import json_safe

    if len(options.args) != 2:
        raise UsageError("incorrect number of args")
    if options.nic is not None and options.network is not None:
        raise UsageError("--network and --nic cannot be specified together")
    image_text, package_text = options.args
    volumes = _volumes(options.volume) if options.volume else None
    disks = _disks(context, options.disk) if options.disk else None
    nics = _nics(options.nic) if options.nic else None
    metadata = _metadata(context, options)
    tags = _tags(context, options)

    api = context.api
    network_names = _network_names(options.network) if options.network is not None else None
    # A package UUID is sent as is, unchecked, as triton does.
    image, package, networks = run_parallel(
        lambda: resolve.image(api, image_text),
        lambda: (
            {"id": package_text}
            if resolve.is_uuid(package_text)
            else resolve.package(api, package_text)
        ),
        lambda: (
            None
            if network_names is None
            else [resolve.network(api, name) for name in network_names]
        ),
    )

    body: dict[str, Any] = {}
    for key, value in (
        ("brand", options.brand),
        ("name", options.name),
        ("image", image["id"]),
        ("package", package["id"]),
    ):
        if value is not None:
            body[key] = value
    if networks is not None:
        body["networks"] = [net["id"] for net in networks]
    elif nics:
        body["networks"] = nics
    if volumes:
        body["volumes"] = volumes
    if disks:
        body["disks"] = disks
    if options.affinity:
        body["affinity"] = list(options.affinity)
    body.update({f"metadata.{key}": json_safe(value) for key, value in metadata.items()})
    body.update({f"tag.{key}": json_safe(value) for key, value in tags.items()})
    for flag, field in (
        ("allow_shared_images", "allow_shared_images"),
        ("encrypted", "encrypted"),
        ("firewall", "firewall_enabled"),
        ("deletion_protection", "deletion_protection"),
        ("delegate_dataset", "delegate_dataset"),
    ):
        if getattr(options, flag):
            body[field] = True
    if context.verbose:
        from smartdc.cli.table import json_stringify

        context.trace(
            f"CreateMachine body{' (dry run)' if options.dry_run else ''}: " + json_stringify(body)
        )

    image_label = f"{image.get('name')}@{image.get('version')}"
    started = time.monotonic()
    if options.dry_run:
        machine: dict[str, Any] = {"id": DRY_RUN_ID, "name": DRY_RUN_NAME}
        context.out(f"Creating instance {DRY_RUN_NAME} ({DRY_RUN_ID}, {image_label})")
    else:
        machine = _create(context, body)
        if options.json:
            _print_json(context, machine)
        else:
            package_label = f", {machine['package']}" if machine.get("package") else ""
            context.out(
                f"Creating instance {machine.get('name')} ({machine.get('id')}, "
                f"{image_label}{package_label})"
            )
    if not options.wait:
        return None
    context.streams.stdout.flush()
    if options.dry_run:
        # triton pretends to wait 5 seconds here; nothing is being created, so we do not.
        machine = {**machine, "state": "running"}
    else:
        machine = _wait_until_settled(context, options, machine)
    if options.json:
        _print_json(context, machine)
    elif machine.get("state") == "running":
        from smartdc.cli.humanize import human_duration

        elapsed_ms = round((time.monotonic() - started) * 1000)
        context.out(
            f"Created instance {machine.get('name')} ({machine.get('id')}) in "
            f"{human_duration(elapsed_ms)}"
        )
    if machine.get("state") != "running":
        from smartdc.cli.failures import CommandError

        raise CommandError(f"failed to create instance {machine.get('name')} ({machine.get('id')})")
    return None


def _create(context: Context, body: dict[str, Any]) -> dict[str, Any]:
    from smartdc.errors import CloudAPIError

    fields = dict(body)
    image, package = fields.pop("image"), fields.pop("package")
    try:
        return context.api.create_machine(image=image, package=package, **fields)
    except CloudAPIError as exc:
        raise _creation_error(exc) from exc


def _creation_error(exc: Any) -> Exception:
    """A failed CreateMachine as triton words it: ``error creating instance``, each field
    error on its own line, then CloudAPI's message (no error code is shown)."""
    from smartdc.cli.failures import CommandError

    message = "error creating instance"
    for detail in exc.errors:
        if isinstance(detail, dict):
            message += f"\n    {detail.get('field')}: {detail.get('code')}"
            if detail.get("message"):
                message += f": {detail['message']}"
    error = CommandError(f"{message}: {exc.message}")
    setattr(error, "request_id", exc.request_id)  # noqa: B010 (shown under -v)
    return error


def _wait_until_settled(
    context: Context, options: argparse.Namespace, machine: dict[str, Any]
) -> dict[str, Any]:
    api = context.api
    machine_id = str(machine["id"])
    return waiting.poll(
        context,
        lambda: api.get_machine(machine_id),
        lambda current: current.get("state") in ("running", "failed"),
        describe=f"instance {machine.get('name') or machine_id} to be running",
        status=lambda current: str(current.get("state")),
        timeout=waiting.wait_timeout(options),
        interval=1.0,
        machine=machine_id,
    )


def _print_json(context: Context, machine: dict[str, Any]) -> None:
    from smartdc.cli.table import json_compact

    context.write(json_compact(machine))


CREATE = Command(
    "create",
    "Create a new instance.",
    do_create,
    _configure,
    description=(
        "Create a new instance.\n\n"
        "Where IMAGE is an image name, name@version, id, or short id (from\n"
        "`smartdc image list`) and PACKAGE is a package name, id, or short id\n"
        "(from `smartdc package list`)."
    ),
)

COMMANDS: tuple[Command | Group, ...] = (CREATE,)
