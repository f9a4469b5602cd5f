"""``smartdc accesskey``: the account's access keys (list, get, create, update, delete).

As node-triton 7.18's ``triton accesskey`` (lib/do_accesskey/*.js) does it. An access key is
an id and a secret for services that authenticate that way; CloudAPI shows the secret only
in the answer to CreateAccessKey, so ``create`` prints it (that is its purpose).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.values import add_update_file_option

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "accesskeyid,status,updated"
LONG_COLUMNS = "accesskeyid,status,description,created,updated"
CREATE_COLUMNS = "accesskeyid,accesskeysecret"

#: UpdateAccessKey fields and their JSON types (node-triton 7.18 UPDATE_ACCESSKEY_FIELDS).
UPDATE_ACCESSKEY_FIELDS: dict[str, str] = {"description": "string", "status": "string"}


def _columns(options: argparse.Namespace, default: str) -> list[str]:
    # as node-triton do_accesskey: -o is lower-cased (CloudAPI's field names all are)
    if options.o:
        return str(options.o).lower().split(",")
    return (LONG_COLUMNS if options.long else default).split(",")


def _print_row(
    context: Context, options: argparse.Namespace, key: dict[str, Any], columns: list[str]
) -> None:
    from smartdc.cli import table

    if options.json:
        context.write(table.json_compact(key))
    else:
        context.write(table.render_table([key], columns, headers=not options.H))


# --- list --------------------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    output.add_table_options(parser, sort_default="created")
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListAccessKeys as a table (sorted by ``created``) or JSON lines."""
    from smartdc.cli import table

    if options.args:
        raise UsageError("incorrect number of arguments")
    # a CloudAPI without access keys answers 404 (exit 1, as any CloudAPI 404)
    keys = context.api.list_access_keys() or []
    if options.json or options.json_array:
        output.print_items(context, options, keys)
        return
    sort = table.parse_sort((options.s or "created").lower())
    context.write(
        table.render_table(keys, _columns(options, LIST_COLUMNS), headers=not options.H, sort=sort)
    )


LIST = Command("list", "List access keys.", do_list, _configure_list, aliases=("ls",))


# --- get ---------------------------------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    output.add_row_options(parser)
    parser.add_argument("ids", nargs="*", metavar="ACCESSKEYID")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """GetAccessKey as a one-row table, or its JSON with ``-j``."""
    (accesskeyid,) = take(options.ids, 1, "missing ACCESSKEYID argument")
    key = context.api.get_access_key(accesskeyid)
    _print_row(context, options, key, _columns(options, LIST_COLUMNS))


GET = Command("get", "Show details for a specific access key.", do_get, _configure_get)


# --- create ------------------------------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    parser.add_argument(
        "-d",
        "--desc",
        "--description",
        dest="description",
        metavar="DESC",
        help="A short description for the access key.",
    )
    parser.add_argument("-s", "--status", metavar="STATUS", help="Status for the access key")
    output.add_row_options(parser)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateAccessKey; prints the new id and its secret (shown by CloudAPI only now)."""
    if options.args:
        raise UsageError("incorrect number of arguments")
    # as triton: an empty -s or -d is not sent
    key = context.api.create_access_key(
        status=options.status or None, description=options.description or None
    )
    columns = _columns(options, CREATE_COLUMNS)
    if not options.o:
        columns += [name for name in ("status", "description") if getattr(options, name)]
    _print_row(context, options, key, columns)


CREATE = Command("create", "Create a new access key.", do_create, _configure_create)


# --- update ------------------------------------------------------------------------------------


def _configure_update(parser: ArgParser) -> None:
    add_update_file_option(parser)
    parser.add_argument("args", nargs="*", metavar="ACCESSKEYID [FIELD=VALUE ...]")


_UPDATE_HELP = "\n    ".join(
    f"{name} ({kind})" for name, kind in sorted(UPDATE_ACCESSKEY_FIELDS.items())
)


def do_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateAccessKey (``POST /:login/accesskeys/:id``) with ``status`` and/or
    ``description``, from ``FIELD=VALUE`` arguments or a JSON file."""
    from smartdc.cli.values import update_data

    if not options.args:
        raise UsageError("missing ACCESSKEYID argument(s)")
    accesskeyid, *fields = options.args
    data = update_data(context, options.file, fields, UPDATE_ACCESSKEY_FIELDS, "access key")
    context.api.update_access_key(accesskeyid, **data)
    context.out(f"Updated access key {accesskeyid} (fields: {', '.join(data)})")


UPDATE = Command(
    "update",
    "Update an access key.",
    do_update,
    _configure_update,
    description=(
        "Update an access key.\n\n"
        "    smartdc accesskey update ACCESSKEYID [FIELD=VALUE ...]\n"
        "    smartdc accesskey update -f JSON-FILE ACCESSKEYID\n\n"
        f"Updateable fields:\n    {_UPDATE_HELP}"
    ),
)


# --- delete ------------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation prompts.")
    parser.add_argument("ids", nargs="*", metavar="ACCESSKEYID")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteAccessKey for each id in turn, after a confirmation unless ``-f``."""
    from smartdc.cli.prompt import delete_each

    ids = take(options.ids, 1, "missing ACCESSKEYID argument(s)", extra=None)
    delete_each(
        context,
        ids,
        "access key",
        lambda accesskeyid: context.api.delete_access_key(accesskeyid),
        lambda accesskeyid: f'Deleted access key "{accesskeyid}"',
        skip=options.force,
    )


DELETE = Command(
    "delete",
    "Delete access key.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description='Delete access key.\n\nWhere "ACCESSKEYID" is an access key identifier.',
)

TREE = Group("accesskey", "Manage access keys.", (GET, LIST, CREATE, UPDATE, DELETE))
