"""``smartdc key``: the account's SSH keys (list, get, add, delete), as ``triton key`` does.

Behaviour follows node-triton lib/do_key/*.js; each handler notes where it differs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import take
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "fingerprint,name"
LIST_LONG_COLUMNS = "fingerprint,name,key"


# --- list --------------------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    output.add_table_options(parser, sort_default="name")
    parser.add_argument(
        "-A",
        "--authorized-keys",
        dest="authorized_keys",
        action="store_true",
        help="Just output public key data, one per line -- i.e. output appropriate for a "
        '"~/.ssh/authorized_keys" file.',
    )
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListKeys as a table, JSON lines (``-j``) or authorized_keys lines (``-A``)."""
    if options.args:
        raise UsageError("incorrect number of arguments")
    print_keys(context, options, context.api.list_keys())


def print_keys(context: Context, options: argparse.Namespace, keys: list[dict[str, Any]]) -> None:
    """SSH keys as a table, JSON lines (``-j``) or authorized_keys lines (``-A``)."""
    if options.authorized_keys and not (options.json or options.json_array):
        for key in keys:
            context.out(str(key.get("key", "")).rstrip("\n"))
        return
    # triton ignores -H here (it always prints the header); it is honoured
    output.print_list(context, options, keys, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


LIST = Command(
    "list", "Show all of an account's SSH keys.", do_list, _configure_list, aliases=("ls",)
)


# --- get ---------------------------------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    parser.add_argument("keys", nargs="*", metavar="KEY", help='an SSH key "name" or "fingerprint"')


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one key's public key line (or its JSON with ``-j``)."""
    from smartdc.cli import table

    (name,) = take(options.keys, 1, "missing KEY argument")
    key = context.api.get_key(name)
    if options.json:
        context.write(table.json_compact(key))
    else:
        context.out(str(key.get("key", "")).rstrip("\n"))


GET = Command(
    "get",
    "Show a specific SSH key in an account.",
    do_get,
    _configure_get,
    description='Show a specific SSH key in an account.\n\nWhere "KEY" is an SSH key "name" '
    'or "fingerprint".',
)


# --- add ---------------------------------------------------------------------------------------


def _configure_add(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="JSON output (the key as added).")
    parser.add_argument("-n", "--name", metavar="NAME", help="An optional name for an added key.")
    parser.add_argument("files", nargs="*", metavar="FILE", help='public key file, or "-"')


def public_key_text(data: str, source: str) -> str:
    """The public key to send from what ``source`` holds, checked first (as triton does
    with sshpk): an OpenSSH line as it is; RFC 4716 and PEM blocks as an OpenSSH line."""
    from smartdc.cli.failures import CommandError
    from smartdc.errors import SigningError

    prefix = f"Failed to parse {source} as a valid ssh format key"
    if "PRIVATE KEY" in data:
        raise CommandError(f"{prefix}: it is a private key (give the public one, e.g. the .pub)")
    from smartdc.auth.keys import parse_public_key, public_key_to_openssh

    try:
        key = parse_public_key(data)
    except SigningError as exc:
        raise CommandError(f"{prefix}: {exc}") from None
    stripped = data.strip()
    if stripped.startswith("-----BEGIN") or stripped.startswith("---- BEGIN"):
        return public_key_to_openssh(key)
    return data


def do_add(context: Context, options: argparse.Namespace) -> None:
    """CreateKey from a public key file (``-`` for stdin); prints the new key's fingerprint."""
    from smartdc.cli import table

    (path,) = take(options.files, 1, "missing FILE argument")
    if path == "-":
        data, source = context.streams.stdin.read(), "<stdin>"
    else:
        with open(path, encoding="utf-8", errors="replace") as handle:
            data, source = handle.read(), path
    text = public_key_text(data, source)
    key = context.api.create_key(text, name=options.name or None)
    if options.json:
        # triton accepts -j and prints the text line anyway; here it gives the key's JSON
        context.write(table.json_compact(key))
    elif key.get("name"):
        context.out(f'Added key "{key["name"]}" ({key.get("fingerprint")})')
    else:
        context.out(f"Added key {key.get('fingerprint')}")


ADD = Command(
    "add",
    "Add an SSH key to an account.",
    do_add,
    _configure_add,
    description='Add an SSH key to an account.\n\nWhere "FILE" must be a file path to an SSH '
    'public key,\nor "-" to pass the public key in on stdin.',
)


# --- delete ------------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-y", "--yes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    parser.add_argument("keys", nargs="*", metavar="KEY", help='an SSH key "name" or "fingerprint"')


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteKey for each key in turn, after a confirmation unless ``-f``/``-y``; the first
    failure stops the rest, as in triton."""
    from smartdc.cli.prompt import delete_each

    keys = take(options.keys, 1, "missing KEY argument(s)", extra=None)
    delete_each(
        context,
        keys,
        "key",
        lambda name: context.api.delete_key(name),
        lambda name: f'Deleted key "{name}"',
        skip=options.yes or options.force,
    )


DELETE = Command(
    "delete",
    "Remove an SSH key from an account.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description='Remove an SSH key from an account.\n\nWhere "KEY" is an SSH key "name" or '
    '"fingerprint".',
)

TREE = Group("key", "Account SSH key commands.", (ADD, LIST, GET, DELETE))
