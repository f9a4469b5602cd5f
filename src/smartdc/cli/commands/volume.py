"""``smartdc volume`` (``vol``): list and manage NFS volumes, as ``triton volume`` does.

Behaviour follows node-triton lib/do_volume/*.js, lib/volumes.js and the volume calls of
lib/tritonapi.js; each handler notes where it differs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

VOLUME_ARG_HELP = "Where VOLUME is a volume id (full UUID), exact name, or short id."
LIST_COLUMNS = "shortid,name,size,type,state,age"
LIST_LONG_COLUMNS = "id,name,size,type,resource,state,created"
#: Fields the ``volume list`` filters may name (do_volume/do_list.js ``validFilters``).
LIST_FILTERS = ("name", "size", "state", "owner", "type")
_MIB_PER_GIB = 1024


def _gib(mib: Any) -> str:
    """``10G`` for 10240 MiB, as triton shows sizes (``size / 1024 + 'G'``)."""
    from smartdc.cli.table import js_number, to_number

    return f"{js_number(to_number(mib) / _MIB_PER_GIB)}G"


# --- list, get, sizes --------------------------------------------------------------------------


def filter_predicate(filters: list[str]) -> dict[str, Any]:
    """The ListVolumes predicate ``FIELD=VALUE`` filters make (lib/common.js
    ``jsonPredFromKv``): one ``eq``, several joined by ``and``; none means "not failed"."""
    from smartdc.cli.args import key_values
    from smartdc.cli.failures import CommandError

    try:
        for text in filters:
            key_values([text], valid_keys=LIST_FILTERS, dotted=False)
            key, _, value = text.partition("=")
            if value == "":
                raise UsageError(f'key "{key}" must have a value')
        values = key_values(filters, valid_keys=LIST_FILTERS, dotted=False)
    except UsageError as exc:
        raise CommandError(f"invalid filters: {exc}") from None
    if not values:
        return {"ne": ["state", "failed"]}
    if len(filters) == 1:
        key, value = next(iter(values.items()))
        return {"eq": [key, value]}
    return {"and": [{"eq": [key, value]} for key, value in values.items()]}


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] [FILTERS]")
    output.add_table_options(parser, sort_default="created")
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListVolumes with a predicate from the filters (failed volumes only when asked)."""
    from smartdc.cli import humanize
    from smartdc.cli.table import UNDEFINED

    volumes = context.api.list_volumes(predicate=filter_predicate(options.filters))
    if options.json or options.json_array:
        output.print_list(context, options, volumes, columns=LIST_COLUMNS)
        return
    rows = []
    for volume in volumes:
        row = dict(volume)
        if "filesystem_path" in volume:
            row["resource"] = volume["filesystem_path"]
        row["shortid"] = str(volume.get("id", "")).split("-", 1)[0]
        row["age"] = humanize.age(volume.get("created"))
        row["size"] = _gib(volume.get("size", UNDEFINED))
        rows.append(row)
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


LIST = Command(
    "list",
    "List volumes.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=(
        "List volumes.\n\nFilters:\n"
        "    FIELD=VALUE        Equality filter. Supported fields: name, type, size, state\n"
        "                       and owner.\n\n"
        'Fields ("*" marks fields added client-side):\n'
        "    shortid*           A short ID prefix.\n"
        "    age*               Approximate time since created, e.g. 1y, 2w.\n"
        "    resource*          Where clients find the volume (its filesystem_path)."
    ),
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] VOLUME")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "VOLUME")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one volume (by UUID, exact name or id prefix)."""
    from smartdc.cli import resolve

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    output.print_object(context, options, resolve.volume(context.api, options.args[0]))


GET = Command(
    "get",
    "Get a volume.",
    do_get,
    _configure_get,
    description=f"Get a volume.\n\n{VOLUME_ARG_HELP}",
)


def _configure_sizes(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS]")
    output.add_table_options(parser, sort_default="size", long=False)


def do_sizes(context: Context, options: argparse.Namespace) -> None:
    """ListVolumeSizes. The columns are fixed (triton ignores ``-o`` here too)."""
    from smartdc.cli import table

    sizes = context.api.list_volume_sizes()
    if options.json or options.json_array:
        output.print_list(context, options, sizes, columns="type,size")
        return
    rows = [{**size, "sizeHuman": _gib(size.get("size"))} for size in sizes]
    columns: list[Any] = ["type", table.Column("sizeHuman", "SIZE", "right")]
    context.write(
        table.render_table(rows, columns, headers=not options.H, sort=table.parse_sort(options.s))
    )


SIZES = Command("sizes", "List volume sizes.", do_sizes, _configure_sizes)


# --- create ------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """MiB for a ``<integer>G`` size (lib/volumes.js ``parseVolumeSize``)."""
    import re

    from smartdc.cli.failures import CommandError

    match = re.fullmatch(r"([1-9][0-9]*)G", text)
    if match is None:
        raise CommandError(f'size "{text}" is not a valid volume size')
    return int(match.group(1)) * _MIB_PER_GIB


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS]")
    group = parser.add_argument_group("Create options")
    group.add_argument(
        "-n",
        "--name",
        metavar="NAME",
        help="Volume name. If not given, one will be generated server-side.",
    )
    group.add_argument(
        "-t",
        "--type",
        metavar="TYPE",
        help='Volume type. Default and currently only supported type is "tritonnfs".',
    )
    group.add_argument(
        "-s",
        "--size",
        metavar="SIZE",
        help="The size of the volume, in gibibytes, as <integer>G (e.g. 20G). Default: the "
        'smallest size available (see "smartdc volume sizes").',
    )
    group.add_argument(
        "--tag",
        action="append",
        metavar="TAG",
        help='A tag: "key=value", a JSON object (first char "{") or "@FILE" to load tags '
        "from FILE. Repeatable. Values are sent as strings, as volumes require.",
    )
    group.add_argument(
        "-a",
        "--affinity",
        action="append",
        metavar="RULE",
        help="Affinity rule for the server of the volume: tag==value or tag!=value. Repeatable.",
    )
    group.add_argument(
        "-N",
        "--network",
        metavar="NETWORK",
        help="A network (id, name or short id) to attach the volume to. Default: the "
        "account's default fabric network.",
    )
    other = parser.add_argument_group("Other options")
    other.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    other.add_argument(
        "-w", "--wait", action="count", default=0, help="Wait for the creation to complete."
    )
    other.add_argument(
        "--wait-timeout",
        type=_positive_int,
        metavar="SECONDS",
        help="The number of seconds to wait before timing out with an error.",
    )
    add_positionals(parser)


def _positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise argparse.ArgumentTypeError(f'not a positive integer: "{text}"')
    return int(text)


def _string_tags(tags: dict[str, Any] | None) -> dict[str, str] | None:
    # Volume tags must be strings (CloudAPI refuses the numbers and booleans triton sends).
    from smartdc.cli.table import js_string

    if tags is None:
        return None
    return {key: js_string(value) for key, value in tags.items()}


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateVolume; with ``-w`` poll until it is ready or failed."""
    from smartdc.cli.commands.network import network_id
    from smartdc.cli.failures import CommandError
    from smartdc.cli.values import values_from_options
    from smartdc.errors import CloudAPIError

    if options.args:
        raise UsageError("incorrect number of args")
    size = parse_size(options.size) if options.size is not None else None
    api = context.api
    tags = _string_tags(values_from_options(context, "tag", options.tag))
    networks = [network_id(context, options.network)] if options.network else None
    try:
        volume = api.create_volume(
            name=options.name,
            size=size,
            networks=networks,
            affinity=options.affinity,
            tags=tags,
            type=options.type or "tritonnfs",
        )
    except CloudAPIError as exc:
        if exc.code == "VolumeSizeNotAvailable":
            # CloudAPI lists sizes in MiB; on the command line they are in GiB
            raise CommandError(
                "volume size not available, use smartdc volume sizes command for available sizes"
            ) from exc
        raise
    if not options.json:
        context.out(f"Creating volume {volume.get('name')} ({volume.get('id')})")
    elif not options.wait:
        # triton prints nothing at all for -j without -w
        output.print_object(context, options, volume)
    if not options.wait:
        return
    final = waiting.poll(
        context,
        lambda: api.get_volume(str(volume["id"])),
        lambda current: current.get("state") in ("ready", "failed"),
        describe=f"volume {volume.get('name')} to be ready",
        status=lambda current: str(current.get("state")),
        timeout=waiting.wait_timeout(options),
    )
    if options.json:
        output.print_object(context, options, final)
    elif final.get("state") == "ready":
        context.out(f"Created volume {final.get('name')} ({final.get('id')})")
    if final.get("state") != "ready":
        raise CommandError(f"failed to create volume {final.get('name')} ({final.get('id')})")


CREATE = Command("create", "Create a volume.", do_create, _configure_create)


# --- delete ------------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] VOLUME [VOLUME ...]")
    waiting.add_wait_options(parser, help="Wait for the deletion to complete.")
    parser.add_argument("-y", "--yes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    add_positionals(parser, "VOLUME")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteVolume each volume at once; with ``-w`` wait until each is gone."""
    import functools

    from smartdc.cli import resolve
    from smartdc.cli.batch import first_of, settle
    from smartdc.cli.failures import error_text
    from smartdc.cli.prompt import go_ahead
    from smartdc.errors import CloudAPIError

    if not options.args:
        raise UsageError("missing VOLUME arg(s)")
    names: list[str] = options.args
    if len(names) == 1:
        question = f"Delete volume {names[0]}? [y/n] "
    else:
        question = f"Delete {len(names)} volumes? [y/n] "
    if not go_ahead(context, question, skip=options.yes or options.force):
        return
    api = context.api
    timeout = waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT)

    def delete(text: str) -> None:
        volume_id = text if resolve.is_uuid(text) else str(resolve.volume(api, text)["id"])
        api.delete_volume(volume_id)
        if not options.wait:
            return

        def fetch() -> dict[str, Any] | None:
            try:
                return api.get_volume(volume_id)
            except CloudAPIError as exc:
                if exc.status == 404:
                    return None
                raise

        waiting.poll(
            context,
            fetch,
            lambda current: current is None or current.get("state") == "failed",
            describe=f"volume {text} to be deleted",
            status=lambda current: "deleted" if current is None else str(current.get("state")),
            timeout=timeout,
        )

    if not options.wait:
        for text in names:
            context.out(f"Deleting volume {text}")
    settled = settle([functools.partial(delete, text) for text in names])
    failures = []
    for text, (_, error) in zip(names, settled, strict=True):
        if error is None:
            if options.wait:
                context.out(f"Deleted volume {text}")
        else:
            context.err(f"Error when deleting volume {text}: {error_text(error)}")
            failures.append(error)
    if failures:
        raise first_of(failures)


DELETE = Command(
    "delete",
    "Deletes a volume.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=f"Deletes a volume.\n\n{VOLUME_ARG_HELP}",
)


TREE = Group(
    "volume",
    "List and manage Triton volumes.",
    (LIST, GET, CREATE, DELETE, SIZES),
    aliases=("vol",),
)
