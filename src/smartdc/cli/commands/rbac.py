"""``smartdc rbac``: RBAC users, roles, policies, user keys, access keys and role tags.

Behaviour follows node-triton 7.17 lib/do_rbac/*.js (and 7.18's ``accesskeys`` and
``accesskey``). The declarative ``apply`` and ``reset`` live in
:mod:`smartdc.cli.commands.rbac_apply`. Where triton misreads CloudAPI's current (v9) role
shape or crashes, the handler says so and does what triton's help describes.

CloudAPI's 404s reach the user as CloudAPI words them (exit 1), as triton lets them through
for RBAC objects; only "user not found" and the instance, image, package and network look-ups
are triton's own (exit 3).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc._record import Record
from smartdc.cli import output
from smartdc.cli.args import add_positionals
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.cli.context import Context

JSONObject = dict[str, Any]
Handler = Callable[["Context", argparse.Namespace], "int | None"]

# --- helpers shared by the rbac commands ------------------------------------------------------


def _confirm(context: Context, options: argparse.Namespace, prompt: str) -> bool:
    """``-y``, or the user says yes (on standard input); otherwise "Aborting" on stderr."""
    from smartdc.cli.prompt import ask_yes_no, go_ahead

    return go_ahead(context, prompt, skip=bool(getattr(options, "yes", False)), asking=ask_yes_no)


def read_file(path: str) -> str:
    """A file's text; errors are reported as node does (``ENOENT: no such file ...``)."""
    import errno

    from smartdc.cli.failures import CommandError

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, "EIO")
        reason = (exc.strerror or str(exc)).lower()
        raise CommandError(f"{code}: {reason}, open '{path}'", code=code) from None


def _read_stdin(context: Context) -> str:
    return str(context.streams.stdin.read())


def _json_input(context: Context, source: str, noun: str) -> Any:
    """The JSON document in file ``source`` (``-`` for stdin), as ``rbac <noun> -a`` reads it."""
    import json

    from smartdc.cli.failures import CommandError

    if source == "-":
        text, where = _read_stdin(context), "on stdin"
    else:
        text, where = read_file(source), f'in "{source}"'
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"invalid {noun} JSON {where}: {exc}") from None


def _check_fields(noun: str, data: Any, fields: Sequence[tuple[str, bool]]) -> None:
    """Missing required and extraneous fields, worded as triton's validateData."""
    from smartdc.cli.failures import CommandError

    if not isinstance(data, Mapping):
        raise CommandError(f"invalid {noun} data: expected a JSON object")
    names = [name for name, _ in fields]
    missing = [name for name, required in fields if required and name not in data]
    extra = [key for key in data if key not in names]
    issues = []
    if missing:
        plural = "" if len(missing) == 1 else "s"
        issues.append(f"{len(missing)} missing required field{plural}: {', '.join(missing)}")
    if extra:
        plural = "" if len(extra) == 1 else "s"
        issues.append(f"extraneous field{plural}: {', '.join(extra)}")
    if issues:
        raise CommandError(f"invalid {noun} data: {'; '.join(issues)}")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return word if count == 1 else (plural or word + "s")


def _js(value: Any) -> str:
    from smartdc.cli import table

    return table.js_string(value)


def _chomp(text: str) -> str:
    return text.rstrip("\n")


def _error_text(exc: BaseException) -> str:
    from smartdc.cli.failures import describe

    code, message, _ = describe(exc)
    return f"{code}: {message}" if code else message


def _action(options: argparse.Namespace, names: Sequence[str], default: str) -> str:
    """The one action option given (``-a``, ``-e``, ``-d`` ...), else ``default``."""
    chosen = [name for name in names if getattr(options, name, None)]
    if len(chosen) > 1:
        raise UsageError("only one action option may be used at once")
    return chosen[0] if chosen else default


# --- editing in $EDITOR -------------------------------------------------------------------------


def _edit(
    context: Context,
    text: str,
    filename: str,
    save: Callable[[str], str],
    *,
    noun: str,
    aborted: str | None = None,
) -> None:
    """Edit ``text`` until ``save`` takes it (see :func:`smartdc.cli.prompt.edit_until_done`);
    a CloudAPI refusal is shown as triton shows it, and the user may edit again."""
    from smartdc.cli.prompt import EditProblem, edit_until_done
    from smartdc.errors import CloudAPIError

    def saving(edited: str) -> str:
        try:
            return save(edited)
        except CloudAPIError as exc:
            heading = f"Error updating {noun} with your changes:"
            raise EditProblem.refused(heading, _error_text(exc)) from None

    edit_until_done(
        context,
        text,
        filename,
        saving,
        aborted=aborted or f"Aborting. No change made to {noun}.",
    )


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


# --- prompting for fields (``user -a``, ``policy -a`` without a file) --------------------------


def _prompt_fields(
    context: Context, noun: str, fields: Sequence[tuple[str, bool]], *, secret: str = ""
) -> JSONObject:
    """The values the user types for ``fields`` (``(name, required)``; the one named
    ``secret`` is not echoed), empty ones left out; both stdin and stdout must be terminals."""
    if not context.stdin_interactive:
        raise UsageError(f"cannot interactively create a {noun}: stdin is not a TTY")
    if not output.stdout_is_tty(context):
        raise UsageError(f"cannot interactively create a {noun}: stdout is not a TTY")
    data: JSONObject = {}
    for field, required in fields:
        value = _prompt_field(context, field, required=required, secret=field == secret)
        if value:
            data[field] = value
    return data


def _prompt_field(
    context: Context, key: str, *, required: bool = False, secret: bool = False
) -> str:
    """Ask for one value (as node-triton lib/common.js promptField)."""
    from smartdc.cli.failures import CommandError
    from smartdc.cli.prompt import ask

    while True:
        if secret:
            import getpass

            try:
                value = getpass.getpass(f"{key}: ", stream=context.streams.stdout)
            except EOFError:
                raise CommandError("cancelled") from None
        else:
            line = ask(context, f"{key}: ")
            if line is None:
                raise CommandError("cancelled")
            value = line
        value = value.strip()
        if value or not required:
            return value
        context.out(_style(context, f'A value for "{key}" is required.', "red"))


def _style(context: Context, text: str, style: str, *, enabled: bool | None = None) -> str:
    on = output.stdout_is_tty(context) if enabled is None else enabled
    return output.stylize(text, style, enabled=on)


# --- info ---------------------------------------------------------------------------------------


def _configure_info(parser: ArgParser) -> None:
    parser.add_argument(
        "-a",
        "--all",
        action="store_true",
        help="Include all info for a more full report (user SSH keys are always checked).",
    )
    parser.add_argument(
        "--no-color", action="store_true", help="Do not color some of the output with ANSI codes."
    )
    add_positionals(parser)


def _invalid_args(args: Sequence[str]) -> UsageError:
    return UsageError("invalid args: " + ",".join(args))


def _refuse_args(options: argparse.Namespace) -> None:
    if options.args:
        raise _invalid_args(options.args)


def do_info(context: Context, options: argparse.Namespace) -> None:
    """Summarize users (with their roles and keys), roles and policies."""
    from smartdc.cli import table
    from smartdc.cli.commands.rbac_apply import load_state

    _refuse_args(options)
    color = output.stdout_is_tty(context) and not options.no_color

    def st(text: str, style: str) -> str:
        return _style(context, text, style, enabled=color)

    state = load_state(context.api, with_keys=True)
    # triton reads roles in the legacy shape (``default_members``, policy names); roles
    # come as objects now, so defaults are read from each member's ``default`` flag.
    roles_of: dict[str, list[str]] = {}
    defaults_of: dict[str, list[str]] = {}
    for role in state.roles:
        for member in role.get("members") or []:
            if not isinstance(member, Mapping):
                continue
            login = str(member.get("login"))
            roles_of.setdefault(login, []).append(str(role.get("name")))
            if member.get("default") is True:
                defaults_of.setdefault(login, []).append(str(role.get("name")))

    context.out(f"users ({len(state.users)}):")
    for user in state.users:
        extra = []
        full = f"{user.get('firstName') or ''} {user.get('lastName') or ''}".strip()
        if full:
            extra.append(full)
        if user.get("keys") == []:
            extra.append(st("no ssh keys", "red"))
        login = str(user.get("login"))
        defaults = sorted(set(defaults_of.get(login, [])))
        others = sorted(set(roles_of.get(login, [])) - set(defaults))
        # as triton's help shows: "roles ops[, admin]", the non-default roles in brackets
        info = ", ".join(defaults)
        if others:
            info += ("[, " if defaults else "[") + ", ".join(others) + "]"
        count = len(defaults) + len(others)
        if count == 1:
            info = "role " + info
        elif count:
            info = "roles " + info
        else:
            info = st("no roles", "red")
        suffix = f" ({', '.join(extra)})" if extra else ""
        context.out(f"    {st(login, 'bold')}{suffix}: {info}")

    context.out(f"roles ({len(state.roles)}):")
    for role in table.sort_rows(state.roles, ["name"]):
        names = [_policy_name(p) for p in role.get("policies") or []]
        if len(names) == 1:
            text = "policy " + names[0]
        elif names:
            text = "policies " + ", ".join(names)
        else:
            text = st("no policies", "red")
        context.out(f"    {st(str(role.get('name')), 'bold')}: {text}")

    context.out(f"policies ({len(state.policies)}):")
    for policy in table.sort_rows(state.policies, ["name"]):
        rules = list(policy.get("rules") or [])
        no_rules = " " + st("no rules", "red") if not rules else ""
        name = st(str(policy.get("name")), "bold")
        if policy.get("description"):
            context.out(f"    {name} ({_js(policy['description'])}) rules:{no_rules}")
        else:
            context.out(f"    {name} rules:{no_rules}")
        for rule in rules:
            context.out(f"        {rule}")


def _policy_name(entry: Any) -> str:
    if isinstance(entry, Mapping):
        return str(entry.get("name") or entry.get("id"))
    return str(entry)


INFO = Command(
    "info",
    "Show current RBAC state.",
    do_info,
    _configure_info,
    description=(
        "Show current RBAC state.\n\n"
        "List RBAC users, roles and policies: a short overview of how they relate, not\n"
        "every field. Example:\n"
        "    users (2):\n"
        "        alice: roles ops[, admin]      # default roles, others in brackets\n"
        "        bill (no ssh keys): role eng   # a warning: bill has no SSH key\n"
        "    roles (2):\n"
        "        admin: policy policy-admin\n"
        "        ops: policy policy-full\n"
        "    policies (2):\n"
        "        policy-admin (full access) rules:\n"
        "            CAN *\n"
        "        policy-full rules:\n"
        "            CAN compute:*"
    ),
)


# --- apply, reset -------------------------------------------------------------------------------


def _configure_plan(parser: ArgParser, *more: Callable[[ArgParser], None]) -> None:
    parser.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="Go through the motions without applying changes.",
    )
    parser.add_argument("-y", "--yes", action="store_true", help='Answer "yes" to confirmation.')
    for add in more:
        add(parser)
    add_positionals(parser)


def _apply_options(parser: ArgParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", help="RBAC config JSON file.")
    parser.add_argument(
        "--dev-create-keys-and-profiles",
        action="store_true",
        help="Generate a key and a CLI profile for every user. For experimenting only.",
    )


def do_apply(context: Context, options: argparse.Namespace) -> None:
    """Bring the account's RBAC state to what the config file describes."""
    from smartdc.cli.commands import rbac_apply

    _refuse_args(options)
    rbac_apply.apply(context, options)


APPLY = Command(
    "apply",
    "Apply an RBAC configuration.",
    do_apply,
    lambda parser: _configure_plan(parser, _apply_options),
    description=(
        "Apply an RBAC configuration.\n\n"
        'The configuration is read from FILE ("./rbac.json" by default) and compared with\n'
        "the live RBAC state (see `smartdc rbac info`); the changes needed are listed,\n"
        'confirmed and applied. The file holds "users" (login, email, profile fields and\n'
        '"keys": a list of {"key": "<public key>"}, or a file or directory of public keys;\n'
        'by default "rbac-user-keys/<login>.pub" if present), "policies" (name,\n'
        'description, rules) and "roles" (name, members, default_members, policies).\n'
        'Anything in the account but not in the file is deleted; a user without "keys"\n'
        "keeps the keys it has.\n\n"
        "RBAC changes take a few seconds to replicate, so a quick re-run may still see\n"
        "the old state.\n\n"
        "--dev-create-keys-and-profiles makes an SSH key and a CLI profile named\n"
        '"<current profile>-user-<login>" for every user, for trying RBAC out\n'
        "(in production an administrator should never hold users' private keys)."
    ),
)


def do_reset(context: Context, options: argparse.Namespace) -> None:
    """Delete every RBAC user, key, policy and role of the account."""
    from smartdc.cli.commands import rbac_apply

    _refuse_args(options)
    rbac_apply.reset(context, options)


RESET = Command(
    "reset",
    "Reset RBAC state for this account.",
    do_reset,
    _configure_plan,
    hidden=True,
    description=(
        "Reset RBAC state for this account.\n"
        "Warning: this deletes all RBAC users, keys, policies and roles of the account."
    ),
)


# --- users, roles, policies ---------------------------------------------------------------------

USERS_COLUMNS = "login,email,name,cdate"
USERS_LONG_COLUMNS = "id,login,email,firstName,lastName,created"
ROLES_COLUMNS = "name,policies,members"
ROLES_LONG_COLUMNS = "id,name,policies,members"
POLICIES_COLUMNS = "name,description,nrules"
POLICIES_LONG_COLUMNS = "id,name,description,rules"


def _configure_list(sort: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        output.add_table_options(parser, sort_default=sort)
        add_positionals(parser)

    return configure


def _wants_json(options: argparse.Namespace) -> bool:
    return bool(options.json or options.json_array)


def _lister(
    fetch: Callable[[CloudAPI], list[JSONObject]],
    row: Callable[[CloudAPI, JSONObject], JSONObject],
    columns: str,
    long_columns: str,
) -> Handler:
    """A list command: ``fetch`` the objects, show each as ``row`` makes it in a table (as
    they came with ``-j``)."""

    def handler(context: Context, options: argparse.Namespace) -> None:
        _refuse_args(options)
        api = context.api
        items = fetch(api)
        rows = items if _wants_json(options) else [row(api, item) for item in items]
        output.print_list(context, options, rows, columns=columns, long_columns=long_columns)

    return handler


def user_row(user: Mapping[str, Any]) -> JSONObject:
    """A user with triton's convenience fields: ``name``, ``cdate``, ``udate``."""
    row = dict(user)
    name = f"{user.get('firstName') or ''} {user.get('lastName') or ''}".strip()
    if name:
        row["name"] = name
    if user.get("created"):
        row["cdate"] = str(user["created"])[:10]
    if user.get("updated"):
        row["udate"] = str(user["updated"])[:10]
    return row


USERS = Command(
    "users",
    "List RBAC users.",
    _lister(
        lambda api: api.list_users(),
        lambda _, user: user_row(user),
        USERS_COLUMNS,
        USERS_LONG_COLUMNS,
    ),
    _configure_list("login"),
    description=(
        "List RBAC users.\n\n"
        "Fields added for convenience:\n"
        '    name               "firstName lastName"\n'
        '    cdate              the date part of "created"\n'
        '    udate              the date part of "updated"'
    ),
)


def role_row(role: Mapping[str, Any], account: str) -> JSONObject:
    """A role as ``rbac roles`` shows it: policy names, members as ``account/login`` with
    ``*`` after non-default ones, and ``*`` for the administrator's policies."""
    row = dict(role)
    row["policies"] = ",".join(_policy_name(p) for p in role.get("policies") or [])
    members = []
    for member in role.get("members") or []:
        if not isinstance(member, Mapping):
            members.append(str(member))
            continue
        login = str(member.get("login"))
        text = f"{account}/{login}" if member.get("type") == "subuser" else login
        if member.get("default") is not True:
            text += "*"
        members.append(text)
    row["members"] = ",".join(sorted(members))
    if role.get("name") == "administrator":
        row["policies"] = "*"
    return row


ROLES = Command(
    "roles",
    "List RBAC roles.",
    _lister(
        lambda api: api.list_roles(),
        lambda api, role: role_row(role, api.account),
        ROLES_COLUMNS,
        ROLES_LONG_COLUMNS,
    ),
    _configure_list("name"),
    description=(
        "List RBAC roles.\n\n"
        'In "members", sub-users show as ACCOUNT/LOGIN and a "*" marks members for whom\n'
        "the role is not a default role."
    ),
)


def policy_row(policy: Mapping[str, Any]) -> JSONObject:
    """A policy with ``nrules`` and its rules sorted and joined with ``; ``."""
    row = dict(policy)
    rules = [str(r) for r in policy.get("rules") or []]
    row["nrules"] = len(rules)
    row["rules"] = "; ".join(sorted(rules))
    return row


POLICIES = Command(
    "policies",
    "List RBAC policies.",
    _lister(
        lambda api: api.list_policies(),
        lambda _, policy: policy_row(policy),
        POLICIES_COLUMNS,
        POLICIES_LONG_COLUMNS,
    ),
    _configure_list("name"),
    description="List RBAC policies.\n\nAdded field: nrules, the number of rules in the policy.",
)


# --- users, roles and policies: show, add, edit, delete ------------------------------------------


def _add_yes(parser: ArgParser) -> None:
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="Answer yes to confirmations, e.g. confirmation of deletion.",
    )


class _Kind(Record):
    """What ``rbac user``, ``rbac role`` and ``rbac policy`` do with their kind of object;
    ``arg`` and ``arg_help`` name the positional argument."""

    __slots__ = ("add", "arg", "arg_help", "delete", "edit", "noun", "plural", "show")
    noun: str
    plural: str
    arg: str
    arg_help: str
    show: Callable[[Context, argparse.Namespace, str], None]
    edit: Callable[[Context, str], None]
    add: Callable[[Context, str | None], None]
    delete: Callable[[CloudAPI, str], None]

    def __init__(
        self,
        noun: str,
        plural: str,
        arg: str,
        arg_help: str,
        show: Callable[[Context, argparse.Namespace, str], None],
        edit: Callable[[Context, str], None],
        add: Callable[[Context, str | None], None],
        delete: Callable[[CloudAPI, str], None],
    ) -> None:
        self.noun = noun
        self.plural = plural
        self.arg = arg
        self.arg_help = arg_help
        self.show = show
        self.edit = edit
        self.add = add
        self.delete = delete


def _configure_kind(
    kind: _Kind, extra: Callable[[ArgParser], None] | None = None
) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
        if extra is not None:
            extra(parser)
        _add_yes(parser)
        group = parser.add_argument_group("Action options")
        group.add_argument(
            "-e", "--edit", action="store_true", help=f"Edit the named {kind.noun} in $EDITOR."
        )
        group.add_argument("-a", "--add", action="store_true", help=f"Add a new {kind.noun}.")
        group.add_argument(
            "-d", "--delete", action="store_true", help=f"Delete the named {kind.plural}."
        )
        parser.add_argument("args", nargs="*", metavar=kind.arg, help=kind.arg_help)

    return configure


def _kind_handler(kind: _Kind) -> Handler:
    def handler(context: Context, options: argparse.Namespace) -> None:
        action = _action(options, ("add", "edit", "delete"), "show")
        args: list[str] = options.args
        if not args and action in ("show", "edit"):
            raise UsageError(f"{kind.arg} argument is required")
        if action != "delete" and len(args) > 1:
            raise UsageError("too many arguments")
        if action == "show":
            kind.show(context, options, args[0])
        elif action == "edit":
            kind.edit(context, args[0])
        elif action == "delete":
            api = context.api
            _delete_things(
                context,
                options,
                args,
                kind.noun,
                kind.plural,
                lambda ref: kind.delete(api, ref),
                lambda ref: f'Deleted {kind.noun} "{ref}"',
            )
        else:
            kind.add(context, args[0] if args else None)

    handler.__doc__ = f"Show, add, edit or delete RBAC {kind.plural}."
    return handler


def _delete_by_id(
    get: Callable[[CloudAPI, str], JSONObject], delete: Callable[[CloudAPI, str], None]
) -> Callable[[CloudAPI, str], None]:
    """A delete for objects CloudAPI deletes by id only: a name is looked up first (as
    node-triton lib/tritonapi.js deleteRole and deletePolicy)."""

    def delete_one(api: CloudAPI, ref: str) -> None:
        from smartdc.cli.resolve import is_uuid

        delete(api, ref if is_uuid(ref) else str(get(api, ref)["id"]))

    return delete_one


def _delete_things(
    context: Context,
    options: argparse.Namespace,
    refs: Sequence[str],
    noun: str,
    nouns: str,
    delete: Callable[[str], None],
    deleted: Callable[[str], str],
) -> None:
    """Confirm (unless ``-y``; answers come from standard input), then delete each of
    ``refs`` in turn, as triton does."""
    from smartdc.cli.prompt import ask_yes_no, delete_each

    delete_each(
        context,
        refs,
        noun,
        delete,
        deleted,
        skip=bool(getattr(options, "yes", False)),
        nouns=nouns,
        asking=ask_yes_no,
    )


# --- user -----------------------------------------------------------------------------------------

#: (field, required) for CreateUser, in the order triton prompts for them.
CREATE_USER_FIELDS: tuple[tuple[str, bool], ...] = (
    ("login", True),
    ("password", True),
    ("email", True),
    ("firstName", False),
    ("lastName", False),
    ("companyName", False),
    ("address", False),
    ("postalCode", False),
    ("city", False),
    ("state", False),
    ("country", False),
    ("phone", False),
)
#: What ``user -e`` lets you change, in order.
EDIT_USER_FIELDS = (
    "email",
    "firstName",
    "lastName",
    "companyName",
    "address",
    "postalCode",
    "city",
    "state",
    "country",
    "phone",
)


def _user_options(parser: ArgParser) -> None:
    parser.add_argument(
        "-r",
        "--roles",
        action="store_true",
        help='Include "roles" and "default_roles" fields for this user.',
    )
    parser.add_argument("--membership", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "-k",
        "--keys",
        action="store_true",
        help='Include SSH keys (the "keys" field) for this user.',
    )


def _get_user(api: CloudAPI, ref: str, *, roles: bool = False) -> JSONObject:
    """GetUser, with triton's "not found" (exit 3)."""
    from smartdc.cli.failures import NotFound
    from smartdc.errors import CloudAPIError

    try:
        return api.get_user(ref, membership=roles)
    except CloudAPIError as exc:
        if exc.status == 404:
            raise NotFound(f'user with login or id "{ref}" was not found') from exc
        raise


def _show_user(context: Context, options: argparse.Namespace, ref: str) -> None:
    api = context.api
    roles = bool(options.roles or options.membership)
    user = _get_user(api, ref, roles=roles)
    if options.keys:
        user["keys"] = api.list_user_keys(str(user["id"]))
    if options.json:
        output.print_object(context, options, user)
        return
    for field, value in user.items():
        if field not in ("keys", "roles", "default_roles"):
            context.out(f"{field}: {_js(value)}")
    if roles:
        context.out("roles:")
        for name in user.get("roles") or []:
            context.out(f"    {name}")
        context.out("default_roles:")
        for name in user.get("default_roles") or []:
            context.out(f"    {name}")
    if options.keys:
        context.out("keys:")
        for key in user["keys"]:
            name = f" ({key['name']})" if key.get("name") else ""
            context.out(f"    {key.get('fingerprint')}{name}")


def _user_text(user: Mapping[str, Any]) -> str:
    return "".join(f"{field}: {_js(user.get(field) or '')}\n" for field in EDIT_USER_FIELDS)


def _user_from_text(text: str) -> dict[str, str]:
    from smartdc.cli.prompt import EditProblem

    user: dict[str, str] = {}
    for raw in text.split("\n"):
        line = _strip_comment(raw)
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise EditProblem(f'expected "<field>: <value>", got "{line}"')
        key = key.strip()
        if key not in EDIT_USER_FIELDS:
            # triton ignores unknown fields silently; say so instead of dropping a typo
            raise EditProblem(f'unknown field "{key}"')
        user[key] = value.strip()
    return user


def _edit_user(context: Context, ref: str) -> None:
    api = context.api
    user = _get_user(api, ref)
    original = _user_text(user)

    def save(text: str) -> str:
        edited = _user_from_text(text)
        # only what changed is sent (triton sends every field; a removed line is left as is)
        changed = {k: v for k, v in edited.items() if v != _js(user.get(k) or "")}
        if _user_text(edited) == original or not changed:
            return "No change to user"
        updated = api.update_user(str(user["id"]), **changed)
        return f'Updated user "{updated.get("login", user.get("login"))}"'

    _edit(context, original, f"{api.account}-user-{user.get('login')}.txt", save, noun="user")


def _add_user(context: Context, source: str | None) -> None:
    if source:
        data = _json_input(context, source, "user")
    else:
        data = _prompt_fields(context, "user", CREATE_USER_FIELDS, secret="password")
        context.out()
    _check_fields("user", data, CREATE_USER_FIELDS)
    user = context.api.create_user(**data)
    context.out(f'Created user "{user.get("login")}"')


_USER = _Kind(
    "user",
    "users",
    "USER",
    "user login or id",
    _show_user,
    _edit_user,
    _add_user,
    lambda api, ref: api.delete_user(ref),
)

USER = Command(
    "user",
    "Show, add, edit and delete RBAC users.",
    _kind_handler(_USER),
    _configure_kind(_USER, _user_options),
    description=(
        "Show, add, edit and delete RBAC users.\n\n"
        "    smartdc rbac user [OPTIONS] USER         # show user USER\n"
        "    smartdc rbac user -e|--edit USER         # edit user USER in $EDITOR\n"
        "    smartdc rbac user -d|--delete [USER...]  # delete users\n"
        "    smartdc rbac user -a|--add [FILE]        # add a user from a JSON file,\n"
        '                                             # "-" for stdin, else prompting\n\n'
        'Where "USER" is a user id or login.\n\n'
        "Fields for creating a user:\n"
        + "\n".join(f"    {f}{' (required)' if r else ''}" for f, r in CREATE_USER_FIELDS)
    ),
)


# --- role -----------------------------------------------------------------------------------------


class _Field:
    """One field of triton's "yamlish" text form of a role (lib/do_rbac/do_role.js)."""

    def __init__(
        self,
        key: str,
        *,
        required: bool = False,
        hidden: bool = False,
        boolean: bool = False,
        default: Any = None,
        hint: str | None = None,
        schema: Sequence[_Field] | None = None,
    ) -> None:
        self.key = key
        self.required = required
        self.hidden = hidden
        self.boolean = boolean
        self.default = default
        self.hint = hint
        self.schema = schema


_POLICY_SCHEMA = (_Field("id", hidden=True), _Field("name", required=True))
_MEMBER_SCHEMA = (
    _Field("type", required=True, hint="subuser/account"),
    _Field("default", boolean=True, default=True),
    _Field("id", hidden=True),
    _Field("login", required=True),
)
_ROLE_SCHEMA = (
    _Field("name", required=True),
    _Field("members", schema=_MEMBER_SCHEMA),
    _Field("policies", schema=_POLICY_SCHEMA),
)
_KID = "  - "


def _role_lines(schema: Sequence[_Field], obj: Mapping[str, Any], indent: str = "") -> list[str]:
    """Fields as ``key:   value`` lines (values lined up), lists as ``  - `` items."""
    width = max(8, *(len(f.key) for f in schema))
    lines: list[str] = []
    for field in schema:
        value = obj.get(field.key)
        if value is None and field.boolean:
            value = False
        if value is None and field.schema is not None:
            value = []
        if value is None and field.hidden:
            continue
        if field.schema is not None:
            lines.append(f"{indent}{field.key}:")
            for kid in value if isinstance(value, list) else [value]:
                if isinstance(kid, Mapping):
                    lines.extend(_role_lines(field.schema, kid, indent + _KID))
        else:
            gap = " " * max(1, width - len(field.key))
            lines.append(f"{indent}{field.key}:{gap}{'' if value is None else _js(value)}")
        indent = indent.replace("-", " ")
    return lines


def role_text(role: Mapping[str, Any]) -> str:
    """A role as ``rbac role`` prints it and ``rbac role -e`` edits it."""
    return "\n".join(_role_lines(_ROLE_SCHEMA, role)) + "\n"


def _template_lines(schema: Sequence[_Field], indent: str = "") -> list[str]:
    lines: list[str] = []
    for field in schema:
        if field.hidden:
            continue
        value = "" if field.default is None else _js(field.default)
        comment = field.hint
        if field.boolean:
            comment = "true/false"
        if field.schema is not None:
            lines.append(f"{indent}{field.key}:")
            lines.extend(_template_lines(field.schema, indent + _KID))
        else:
            if not field.required:
                comment = (comment or "") + " (optional)"
            lines.append(
                f"{indent}{field.key}: {value}" + (f"\t# {comment}" if comment is not None else "")
            )
        indent = indent.replace("-", " ")
    return lines


def _parse_role_lines(schema: Sequence[_Field], lines: list[str], indent: str = "") -> JSONObject:
    """Read what :func:`_role_lines` wrote (after editing); consumes ``lines``."""
    from smartdc.cli.prompt import EditProblem

    fields = {f.key: f for f in schema}
    obj: JSONObject = {}
    while lines:
        line = lines.pop(0)
        if re.match(r"\s*#", line):
            continue
        line = line.split("#", 1)[0]
        if not line.startswith(indent):
            lines.insert(0, line)
            break
        line = line[len(indent) :].strip()
        if not line:
            continue
        if ":" not in line:
            raise EditProblem(f"yamlish syntax error: expected <key>:, got {line}")
        key, _, value = line.partition(":")
        value = value.strip()
        field = fields.get(key)
        if field is None:
            raise EditProblem(f'yamlish error: unknown field "{key}"')
        if field.schema is not None:
            kids = []
            inner = indent + _KID
            while lines and lines[0].startswith(inner):
                kids.append(_parse_role_lines(field.schema, lines, inner))
            obj[key] = kids
        elif field.boolean:
            obj[key] = value.lower() == "true"
        else:
            obj[key] = value
        indent = indent.replace("-", " ")
    for field in schema:
        if field.key not in obj:
            if field.boolean:
                obj[field.key] = False
            elif field.required:
                raise EditProblem(f'yamlish error: missing required field "{field.key}"')
    return obj


def _role_from_text(text: str) -> JSONObject:
    return _parse_role_lines(_ROLE_SCHEMA, text.split("\n"))


def _role_body(role: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """The members and policies to send for a role read from text.

    Entries whose login (or name) was left empty are dropped (a template's blank item);
    the login and name are what the user edits, so they are sent rather than ids.
    """
    members = []
    for member in role.get("members") or []:
        login = str(member.get("login") or "")
        if not login:
            continue
        entry: JSONObject = {"type": member.get("type") or "subuser", "login": login}
        if member.get("default"):
            entry["default"] = True
        members.append(entry)
    policies: list[Any] = []
    for policy in role.get("policies") or []:
        if policy.get("name"):
            policies.append(str(policy["name"]))
        elif policy.get("id"):
            policies.append({"id": policy["id"]})
    return members, policies


def _show_role(context: Context, options: argparse.Namespace, ref: str) -> None:
    role = context.api.get_role(ref)
    if options.json:
        output.print_object(context, options, role)
    else:
        context.out(role_text(role))


def _edit_role(context: Context, ref: str) -> None:
    api = context.api
    role = api.get_role(ref)
    original = role_text(role)

    def save(text: str) -> str:
        edited = _role_from_text(text)
        if role_text(edited) == original:
            return "No change to role"
        members, policies = _role_body(edited)
        if edited.get("name") == "administrator" and policies:
            from smartdc.cli.prompt import EditProblem

            raise EditProblem("administrator role must not contain any policies")
        updated = api.update_role(
            str(role["id"]),
            name=str(edited["name"]),
            members=members,
            policies=None if edited.get("name") == "administrator" else policies,
        )
        return f'Updated role "{updated.get("name")}" ({updated.get("id")})'

    _edit(context, original, f"{api.account}-role-{role.get('name')}.txt", save, noun="role")


_CREATE_ROLE_FIELDS = (("name", True), ("members", False), ("policies", False))


def _add_role(context: Context, source: str | None) -> None:
    from smartdc.cli.failures import CommandError
    from smartdc.cli.prompt import EditProblem, run_editor

    api = context.api
    if source:
        data = _json_input(context, source, "role")
        _check_fields("role", data, _CREATE_ROLE_FIELDS)
        members = data.get("members")
        policies = data.get("policies")
        name = data["name"]
    else:
        template = "\n".join(_template_lines(_ROLE_SCHEMA)) + "\n"
        text = run_editor(context, template, f"{api.account}-new-role.txt")
        try:
            parsed = _role_from_text(text)
        except EditProblem as exc:
            raise CommandError(str(exc)) from None
        members, policies = _role_body(parsed)
        name = parsed["name"]
        if not name:
            raise CommandError('yamlish error: missing required field "name"')
        if name == "administrator":
            if policies:
                raise CommandError("administrator role must not contain any policies")
            policies = None
    role = api.create_role(name=name, members=members, policies=policies)
    context.out(f'Created role "{role.get("name")}"')


_ROLE = _Kind(
    "role",
    "roles",
    "ROLE",
    "role name or id",
    _show_role,
    _edit_role,
    _add_role,
    _delete_by_id(lambda api, ref: api.get_role(ref), lambda api, ref: api.delete_role(ref)),
)

ROLE = Command(
    "role",
    "Show, add, edit and delete RBAC roles.",
    _kind_handler(_ROLE),
    _configure_kind(_ROLE),
    description=(
        "Show, add, edit and delete RBAC roles.\n\n"
        "    smartdc rbac role ROLE                   # show role ROLE\n"
        "    smartdc rbac role -e|--edit ROLE         # edit role ROLE in $EDITOR\n"
        "    smartdc rbac role -d|--delete [ROLE...]  # delete roles\n"
        "    smartdc rbac role -a|--add [FILE]        # add a role from a JSON file,\n"
        '                                             # "-" for stdin, else in $EDITOR\n\n'
        'Where "ROLE" is a role id or name.\n\n'
        "Fields for creating a role:\n    name (required)\n    members\n    policies"
    ),
)


# --- policy ---------------------------------------------------------------------------------------

_CREATE_POLICY_FIELDS = (("name", True), ("description", False), ("rules", False))
_RULES_HELP = (
    "Enter one rule per line. Enter an empty rule to finish rules. See "
    "<https://docs.tritondatacenter.com/public-cloud/rbac/rules> for rule syntax and examples."
)


def policy_text(policy: Mapping[str, Any]) -> str:
    """A policy as ``rbac policy -e`` edits it: name, description, then one rule a line.

    triton writes a missing description as "undefined" (and would then save that text);
    it is left empty here.
    """
    description = policy.get("description")
    lines = [
        f"name: {_js(policy.get('name'))}",
        f"description: {'' if description is None else _js(description)}",
        "rules:",
    ]
    lines.extend(f"    {rule}" for rule in policy.get("rules") or [])
    return "\n".join(lines) + "\n"


def _policy_from_text(text: str) -> JSONObject:
    from smartdc.cli.prompt import EditProblem

    policy: JSONObject = {}
    lines = text.split("\n")
    for index, raw in enumerate(lines):
        line = _strip_comment(raw)
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise EditProblem(f'expected "<field>: <value>", got "{line}"')
        key, value = key.strip(), value.strip()
        if key == "rules":
            rules = [value] if value else []
            rules.extend(r for r in (_strip_comment(x) for x in lines[index + 1 :]) if r)
            policy["rules"] = rules
            break
        if key not in ("name", "description"):
            raise EditProblem(f'unknown field "{key}"')
        policy[key] = value
    return policy


def _edit_policy(context: Context, ref: str) -> None:
    api = context.api
    policy = api.get_policy(ref)
    original = policy_text(policy)

    def save(text: str) -> str:
        edited = _policy_from_text(text)
        if policy_text(edited) == original:
            return "No change to policy"
        description = edited.get("description")
        if not description and "description" not in policy:
            description = None  # nothing to remove
        changes = {
            "name": edited.get("name") or None,
            "rules": edited.get("rules"),
            "description": description,
        }
        if all(value is None for value in changes.values()):
            return "No change to policy"
        updated = api.update_policy(str(policy["id"]), **changes)
        return f'Updated policy "{updated.get("name")}" ({updated.get("id")})'

    _edit(context, original, f"{api.account}-policy-{policy.get('name')}.txt", save, noun="policy")


def _add_policy(context: Context, source: str | None) -> None:
    if source:
        data = _json_input(context, source, "policy")
    else:
        data = _prompt_fields(context, "policy", _CREATE_POLICY_FIELDS[:2])
        head, dot, rest = _RULES_HELP.partition(".")
        context.out(_style(context, head + dot, "bold") + rest)
        rules = []
        while True:
            rule = _prompt_field(context, "rule")
            if not rule:
                break
            rules.append(rule)
        data["rules"] = rules
        context.out()
    _check_fields("policy", data, _CREATE_POLICY_FIELDS)
    policy = context.api.create_policy(
        name=data["name"], rules=data.get("rules") or [], description=data.get("description")
    )
    context.out(f'Created policy "{policy.get("name")}"')


def _show_policy(context: Context, options: argparse.Namespace, ref: str) -> None:
    policy = context.api.get_policy(ref)
    if options.json:
        output.print_object(context, options, policy)
        return
    context.out(f"name: {_js(policy.get('name'))}")
    for key, value in policy.items():
        if key not in ("name", "rules"):
            context.out(f"{key}: {_js(value)}")
    context.out("rules:")
    for rule in policy.get("rules") or []:
        context.out(f"    {rule}")


_POLICY = _Kind(
    "policy",
    "policies",
    "POLICY",
    "policy name or id",
    _show_policy,
    _edit_policy,
    _add_policy,
    _delete_by_id(lambda api, ref: api.get_policy(ref), lambda api, ref: api.delete_policy(ref)),
)

POLICY = Command(
    "policy",
    "Show, add, edit and delete RBAC policies.",
    _kind_handler(_POLICY),
    _configure_kind(_POLICY),
    description=(
        "Show, add, edit and delete RBAC policies.\n\n"
        "    smartdc rbac policy POLICY                   # show policy POLICY\n"
        "    smartdc rbac policy -e|--edit POLICY         # edit policy POLICY in $EDITOR\n"
        "    smartdc rbac policy -d|--delete [POLICY...]  # delete policies\n"
        "    smartdc rbac policy -a|--add [FILE]          # add a policy from a JSON file,\n"
        '                                                 # "-" for stdin, else prompting\n\n'
        'Where "POLICY" is a policy id or name.\n\n'
        "Fields for creating a policy:\n    name (required)\n    description\n    rules"
    ),
)


# --- user keys ------------------------------------------------------------------------------------


def _configure_keys(parser: ArgParser) -> None:
    output.add_table_options(parser, sort_default="name")
    parser.add_argument(
        "-A",
        "--authorized-keys",
        action="store_true",
        help='Just the public keys, as for a "~/.ssh/authorized_keys" file.',
    )
    parser.add_argument("args", nargs="*", metavar="USER", help="user login or id")


def _one_user_arg(args: Sequence[str]) -> str:
    if not args:
        raise UsageError("no USER argument given")
    if len(args) != 1:
        raise _invalid_args(args)
    return args[0]


def _check_user_and(args: Sequence[str], what: str) -> None:
    """USER and one ``what`` argument, with triton's messages when either is missing."""
    if not args:
        raise UsageError(f"missing USER and {what} arguments")
    if len(args) == 1:
        raise UsageError(f"missing {what} argument")
    if len(args) > 2:
        raise UsageError("incorrect number of arguments")


def do_keys(context: Context, options: argparse.Namespace) -> None:
    """List a user's SSH keys (ListUserKeys), as ``key list`` lists the account's."""
    from smartdc.cli.commands.key import print_keys

    print_keys(context, options, context.api.list_user_keys(_one_user_arg(options.args)))


KEYS = Command(
    "keys",
    "List RBAC user SSH keys.",
    do_keys,
    _configure_keys,
    description='List RBAC user SSH keys.\n\nWhere "USER" is an RBAC user login or id.',
)


def _configure_key(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument(
        "-y", "--yes", action="store_true", help="Answer yes to confirmation to delete."
    )
    parser.add_argument("-n", "--name", metavar="NAME", help="An optional name for an added key.")
    group = parser.add_argument_group("Action options")
    group.add_argument("-a", "--add", action="store_true", help="Add a new key.")
    group.add_argument("-d", "--delete", action="store_true", help="Delete the named keys.")
    parser.add_argument("args", nargs="*", metavar="ARG", help="USER, then KEY(s) or FILE")


def public_key_problem(text: str) -> str | None:
    """Why ``text`` is not one OpenSSH public key line, or ``None`` when it is one."""
    import base64
    import binascii
    import struct

    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "no key found"
    fields = lines[0].split()
    if len(fields) < 2:
        return f"Unknown algorithm {fields[0] if fields else ''}".rstrip()
    kind, data = fields[0], fields[1]
    try:
        blob = base64.b64decode(data, validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        inner = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, ValueError, struct.error, UnicodeDecodeError):
        return f"Unknown algorithm {kind}"
    if inner != kind:
        return f"key type {inner!r} does not match {kind!r}"
    return None


def do_key(context: Context, options: argparse.Namespace) -> None:
    """Show, add or delete a user's SSH keys."""
    from smartdc.cli.failures import CommandError

    action = _action(options, ("add", "delete"), "show")
    args: list[str] = options.args
    api = context.api
    if action == "show":
        _check_user_and(args, "KEY")
        key = api.get_user_key(args[0], args[1])
        if options.json:
            output.print_object(context, options, key)
        else:
            context.out(_chomp(str(key.get("key", ""))))
    elif action == "delete":
        if not args:
            raise UsageError("missing USER argument")
        user = args[0]
        _delete_things(
            context,
            options,
            args[1:],
            "user key",
            "user keys",
            lambda ref: api.delete_user_key(user, ref),
            lambda ref: f'Deleted user {user} key "{ref}"',
        )
    else:
        _check_user_and(args, "FILE")
        user, source = args
        if source == "-":
            text, shown = _read_stdin(context), "<stdin>"
        else:
            text, shown = read_file(source), source
        problem = public_key_problem(text)
        if problem:
            raise CommandError(f"Failed to parse {shown} as a valid ssh format key: {problem}")
        added = api.create_user_key(user, text, options.name or None)
        name = f" ({added['name']})" if added.get("name") else ""
        context.out(f'Added user {user} key "{added.get("fingerprint")}"{name}')


KEY = Command(
    "key",
    "Show, upload, and delete RBAC user SSH keys.",
    do_key,
    _configure_key,
    description=(
        "Show, upload, and delete RBAC user SSH keys.\n\n"
        "    smartdc rbac key USER KEY                     # show USER's KEY\n"
        "    smartdc rbac key -d|--delete USER [KEY...]    # delete USER's KEYs\n"
        "    smartdc rbac key -a|--add [-n NAME] USER FILE # add an SSH key\n\n"
        'Where "USER" is an RBAC user id or login, KEY an SSH key name or fingerprint,\n'
        'and FILE an SSH public key file or "-" for stdin.'
    ),
)


# --- user access keys -----------------------------------------------------------------------------

_SECRET = "accesskeysecret"


def _without_secret(key: Mapping[str, Any]) -> JSONObject:
    # The secret is shown once, when the key is created; never when listing or getting.
    return {k: v for k, v in key.items() if k != _SECRET}


def _lower_option(options: argparse.Namespace, name: str) -> None:
    # as node-triton 7.18 lib/do_rbac/do_accesskeys.js: -o and -s fields are lower-cased
    value = getattr(options, name, None)
    if value:
        setattr(options, name, value.lower())


def do_accesskeys(context: Context, options: argparse.Namespace) -> None:
    """List a user's access keys (ListUserAccessKeys)."""
    from smartdc.cli.commands import accesskey

    user = _one_user_arg(options.args)
    keys = [_without_secret(k) for k in context.api.list_user_access_keys(user) or []]
    _lower_option(options, "o")
    _lower_option(options, "s")
    output.print_list(
        context, options, keys, columns=accesskey.LIST_COLUMNS, long_columns=accesskey.LONG_COLUMNS
    )


def _configure_accesskeys(parser: ArgParser) -> None:
    output.add_table_options(parser, sort_default="created")
    parser.add_argument("args", nargs="*", metavar="USER", help="user login or id")


ACCESSKEYS = Command(
    "accesskeys",
    "List RBAC user access keys.",
    do_accesskeys,
    _configure_accesskeys,
    description='List RBAC user access keys.\n\nWhere "USER" is an RBAC user login or id.',
)


def _configure_accesskey(parser: ArgParser) -> None:
    output.add_row_options(parser)
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation prompts.")
    parser.add_argument(
        "-D",
        "--description",
        "--desc",
        dest="description",
        metavar="DESC",
        help="A short description for the access key.",
    )
    parser.add_argument("-s", "--status", metavar="STATUS", help="Status for the access key.")
    group = parser.add_argument_group("Action options")
    group.add_argument("-c", "--create", action="store_true", help="Create a new access key.")
    group.add_argument("-g", "--get", action="store_true", help="Get an access key.")
    group.add_argument("-u", "--update", action="store_true", help="Update an access key.")
    group.add_argument("-d", "--delete", action="store_true", help="Delete access keys.")
    parser.add_argument("args", nargs="*", metavar="ARG", help="USER, then ACCESSKEYID(s)")


def _access_key_fields(options: argparse.Namespace) -> JSONObject:
    fields: JSONObject = {}
    if options.status:
        fields["status"] = options.status
    if options.description:
        fields["description"] = options.description
    return fields


def do_accesskey(context: Context, options: argparse.Namespace) -> None:
    """Get, create, update or delete a user's access keys."""
    from smartdc.api._base import _path
    from smartdc.cli.commands import accesskey

    action = _action(options, ("create", "get", "update", "delete"), "get")
    args: list[str] = options.args
    api = context.api
    if action in ("get", "update"):
        _check_user_and(args, "ACCESSKEYID")
    elif action == "delete":
        if not args:
            raise UsageError("missing USER argument")
        if len(args) == 1:
            raise UsageError("missing ACCESSKEYID argument(s)")
    elif not args:
        raise UsageError("missing USER argument")
    elif len(args) > 1:
        # triton accepts (and ignores) a second argument here
        raise UsageError("incorrect number of arguments")

    user = args[0]
    if action == "get":
        key = _without_secret(api.get_user_access_key(user, args[1]))
        if options.json:
            output.print_object(context, options, key)
            return
        _lower_option(options, "o")
        options.s = None
        output.print_list(
            context,
            options,
            [key],
            columns="accesskeyid,status,created",
            long_columns=accesskey.LONG_COLUMNS,
        )
    elif action == "delete":
        options.yes = options.force
        _delete_things(
            context,
            options,
            args[1:],
            "access key",
            "access keys",
            lambda ref: api.delete_user_access_key(user, ref),
            lambda ref: f'Deleted access key "{ref}"',
        )
    elif action == "create":
        fields = _access_key_fields(options)
        if fields:
            created = api.request("POST", _path("users", user, "accesskeys"), json=fields)
        else:
            created = api.create_user_access_key(user)
        if options.json:
            output.print_object(context, options, created)
        else:
            context.out(f"Created access key {created.get('accesskeyid')}")
            context.out(f"Secret: {created.get(_SECRET)}")
    else:
        fields = _access_key_fields(options)
        if not fields:
            raise UsageError("nothing to update: give -s STATUS and/or -D DESC")
        api.request("POST", _path("users", user, "accesskeys", args[1]), json=fields)
        context.out(f"Updated access key {args[1]} (fields: {', '.join(fields)})")


ACCESSKEY = Command(
    "accesskey",
    "Create, list, and delete RBAC user access keys.",
    do_accesskey,
    _configure_accesskey,
    description=(
        "Create, get, update and delete RBAC user access keys.\n\n"
        "    smartdc rbac accesskey USER ACCESSKEYID\n"
        "    smartdc rbac accesskey -c|--create [-s STATUS] [-D DESC] USER\n"
        "    smartdc rbac accesskey -g|--get USER ACCESSKEYID\n"
        "    smartdc rbac accesskey -u|--update [-s STATUS] [-D DESC] USER ACCESSKEYID\n"
        "    smartdc rbac accesskey -d|--delete [-f] USER [ACCESSKEYID...]\n\n"
        'Where "USER" is an RBAC user id or login.'
    ),
)


# --- role tags ------------------------------------------------------------------------------------

#: Resource types ``rbac role-tags URL`` accepts (node-triton lib/cloudapi2.js getRoleTags).
ROLE_TAG_URL_TYPES = (
    "machines",
    "packages",
    "images",
    "fwrules",
    "networks",
    "users",
    "roles",
    "policies",
    "keys",
    "datacenters",
)
_TAG_SPLIT = re.compile(r"\s*,\s*")


def _tags_from_header(value: str | None) -> list[str]:
    return [tag for tag in _TAG_SPLIT.split(value or "") if tag.strip()]


def _tags_from_options(values: Sequence[str] | None) -> list[str]:
    tags: list[str] = []
    for value in values or []:
        tags.extend(tag for tag in _TAG_SPLIT.split(value) if tag.strip())
    return tags


class _Tagged:
    """A resource whose role tags are read and set: its path and current tags."""

    def __init__(self, path: str, tags: list[str]) -> None:
        self.path = path
        self.tags = tags


def _check_resource_url(url: str) -> None:
    from smartdc.cli.failures import CommandError

    if not re.match(r"^/[^/]{2,}/[^/]+", url):
        raise CommandError(f'invalid resource "{url}": must match "/:account/:type..."')
    if url.split("/")[2] not in ROLE_TAG_URL_TYPES:
        raise CommandError(
            f'invalid resource "{url}": resource type must be one of: '
            + ", ".join(ROLE_TAG_URL_TYPES)
        )


_NAMESPACE = {
    "instance": "machines",
    "image": "images",
    "package": "packages",
    "network": "networks",
}


def _resolve_tagged(context: Context, kind: str, text: str, *, tags: bool = True) -> _Tagged:
    """The resource ``text`` names and (if ``tags``) its role tags, which are the
    ``role-tag`` header of its GET."""
    from urllib.parse import urlsplit

    from smartdc.cli import resolve

    api = context.api
    if kind == "resource":
        _check_resource_url(text)
        if not tags:
            return _Tagged(text, [])
        api.request("GET", text)
        return _Tagged(text, _response_tags(api))
    found = {
        "instance": resolve.instance,
        "image": resolve.image,
        "package": resolve.package,
        "network": resolve.network,
    }[kind](api, text)
    path = f"{_NAMESPACE[kind]}/{found['id']}"
    if not tags:
        return _Tagged(path, [])
    response = api.last_response
    # The look-up usually ended with a GET of the resource itself (always for instances);
    # otherwise fetch it for its header, as triton does.
    if not (
        response is not None
        and response.method == "GET"
        and urlsplit(response.url).path.endswith("/" + path)
    ):
        api.request("GET", path)
    return _Tagged(path, _response_tags(api))


def _response_tags(api: CloudAPI) -> list[str]:
    response = api.last_response
    return _tags_from_header(response.headers.get("role-tag") if response else None)


def _set_tags(api: CloudAPI, target: _Tagged, tags: list[str]) -> None:
    if target.path.startswith("/"):
        api.request("PUT", target.path, json={"role-tag": tags})
    else:
        api.set_role_tags(target.path, tags)


def _tags_text(tags: Sequence[str]) -> str:
    return "".join(f"{tag}\n" for tag in sorted(tags))


def _tags_from_text(text: str) -> list[str]:
    return sorted(tag for tag in (_strip_comment(line) for line in text.split("\n")) if tag)


def _configure_role_tags(arg_name: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
        _add_yes(parser)
        group = parser.add_argument_group("Action options")
        group.add_argument(
            "-a",
            "--add",
            action="append",
            metavar="ROLE[,ROLE...]",
            help="Add the given role tags. Can be specified multiple times.",
        )
        group.add_argument(
            "-s",
            "--set",
            action="append",
            metavar="ROLE[,ROLE...]",
            help="Set role tags to the given value(s). Can be specified multiple times.",
        )
        group.add_argument(
            "-e", "--edit", action="store_true", help="Edit role tags in your $EDITOR."
        )
        group.add_argument(
            "-d",
            "--delete",
            action="append",
            metavar="ROLE[,ROLE...]",
            help="Delete the given role tags. Can be specified multiple times.",
        )
        group.add_argument(
            "-D",
            "--delete-all",
            action="store_true",
            help="Delete all role tags from the given resource.",
        )
        parser.add_argument("args", nargs="*", metavar=arg_name)

    return configure


def _role_tags_handler(kind: str, arg_name: str) -> Handler:
    def handler(context: Context, options: argparse.Namespace) -> None:
        from smartdc.cli import table

        action = _action(options, ("add", "edit", "set", "delete", "delete_all"), "list")
        args: list[str] = options.args
        if not args:
            raise UsageError(f"{arg_name} argument is required")
        if len(args) > 1:
            raise UsageError("too many arguments")
        text = args[0]
        what = f'{kind} "{text}"'
        api = context.api
        target = _resolve_tagged(context, kind, text, tags=action not in ("set", "delete_all"))
        if action == "list":
            if options.json:
                context.write(table.json_compact(target.tags))
            else:
                for tag in target.tags:
                    context.out(tag)
        elif action == "add":
            adding = []
            tags = list(target.tags)
            for tag in _tags_from_options(options.add):
                if tag not in tags:
                    tags.append(tag)
                    adding.append(tag)
            if adding:
                context.out(
                    f"Adding {len(adding)} {_plural(len(adding), 'role tag')} "
                    f"({', '.join(adding)}) to {what}"
                )
                _set_tags(api, target, tags)
        elif action == "set":
            if _confirm(context, options, f"Set role tags on {what}? [y/n] "):
                context.out(f"Setting role tags on {what}")
                _set_tags(api, target, _tags_from_options(options.set))
        elif action == "delete":
            doomed = set(_tags_from_options(options.delete))
            removing = [tag for tag in target.tags if tag in doomed]
            keep = [tag for tag in target.tags if tag not in doomed]
            if not removing:
                return
            summary = (
                f"{len(removing)} {_plural(len(removing), 'role tag')} "
                f"({', '.join(removing)}) from {what}"
            )
            if _confirm(context, options, f"Delete {summary}? [y/n] "):
                context.out(f"Deleting {summary}")
                _set_tags(api, target, keep)
        elif action == "delete_all":
            if _confirm(context, options, f"Delete all role tags from {what}? [y/n] "):
                context.out(f"Deleting all role tags from {what}")
                _set_tags(api, target, [])
        else:

            def save(edited: str) -> str:
                tags = _tags_from_text(edited)
                if _tags_text(tags) == original:
                    return "No change"
                _set_tags(api, target, tags)
                return f"Edited role tags on {what}"

            original = _tags_text(target.tags)
            slug = re.sub(r"[^-\w]", "", re.sub(r" +", "-", text.lower()))
            _edit(
                context,
                original,
                f"{api.account}-{kind}-{slug}-roleTags.txt",
                save,
                noun="role tags",
                aborted="Aborting. No change made.",
            )

    return handler


def _role_tags_command(name: str, kind: str, arg_name: str, arg_is: str) -> Command:
    noun = "resource" if kind == "resource" else kind
    return Command(
        name,
        f"List and manage role tags for the given {noun}.",
        _role_tags_handler(kind, arg_name),
        _configure_role_tags(arg_name),
        description=(
            f"List and manage role tags for the given {noun}.\n\n"
            f"    smartdc rbac {name} {arg_name}                     # list role tags\n"
            f"    smartdc rbac {name} -a ROLE[,ROLE...] {arg_name}   # add\n"
            f"    smartdc rbac {name} -s ROLE[,ROLE...] {arg_name}   # set/replace\n"
            f"    smartdc rbac {name} -e {arg_name}                  # edit in $EDITOR\n"
            f"    smartdc rbac {name} -d ROLE[,ROLE...] {arg_name}   # delete\n"
            f"    smartdc rbac {name} -D {arg_name}                  # delete all\n\n"
            f'Where "ROLE" is a role name (see `smartdc rbac roles`) and {arg_name} is\n'
            f"{arg_is}."
        ),
    )


ROLE_TAG_COMMANDS = (
    _role_tags_command(
        "instance-role-tags", "instance", "INST", 'an instance "id", "name" or short id'
    ),
    _role_tags_command("image-role-tags", "image", "IMG", 'an image "id", "name" or short id'),
    _role_tags_command(
        "network-role-tags", "network", "NETWORK", 'a network "id", "name" or short id'
    ),
    _role_tags_command("package-role-tags", "package", "PKG", 'a package "id", "name" or short id'),
    _role_tags_command(
        "role-tags", "resource", "RESOURCE-URL", "an RBAC resource URL (/ACCOUNT/TYPE/ID)"
    ),
)


TREE = Group(
    "rbac",
    "Role-based Access Control (RBAC) commands.",
    (
        INFO,
        APPLY,
        RESET,
        USERS,
        USER,
        KEYS,
        KEY,
        POLICIES,
        POLICY,
        ROLES,
        ROLE,
        ACCESSKEYS,
        ACCESSKEY,
        *ROLE_TAG_COMMANDS,
    ),
    hidden=True,
)
