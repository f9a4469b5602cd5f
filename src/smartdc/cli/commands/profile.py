"""``smartdc profile`` and ``smartdc env``: the CLI profiles, as ``triton profile`` keeps them.

Profiles live where node-triton keeps them (see :mod:`smartdc.cli.config`), so both tools
see the same profiles and the same current profile. Behaviour follows node-triton
lib/do_profile/*.js and lib/do_env.js; where smartdc differs, the handler says so. None of
these commands needs a working profile or the network, unless one is asked for by name.

``profile show [NAME] [--sources]`` is smartdc's own: every resolved setting and where it
came from (a flag, an environment variable, a profile file, config.json or a default).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from smartdc.cli.config import Profile, Resolved
    from smartdc.cli.context import Context

PROGRAM = "smartdc"

#: Columns of ``profile list`` (node-triton do_profile/do_list.js).
LIST_COLUMNS = "name,curr,account,user,url"
LIST_LONG_COLUMNS = "name,curr,account,user,url,insecure,keyId"

#: The URL offered by the interactive ``profile create`` (node-triton do_profile/do_create.js).
DEFAULT_URL = "https://us-central-1.api.mnx.io"


# --- shared helpers ----------------------------------------------------------------------------


def _current(context: Context) -> Resolved | None:
    """The profile in effect with the command-line options applied, or ``None`` when it
    cannot be loaded (triton then has no current profile for ``list`` and ``set-current``)."""
    from smartdc.errors import ConfigError

    try:
        return context.settings
    except ConfigError as exc:
        context.trace(f"no usable current profile: {exc}")
        return None


def _warn_skipped(context: Context) -> Callable[[Path, Exception], None]:
    """An ``on_error`` for :func:`list_profiles`: tell the user which file is skipped (triton
    logs a JSON warning line for each)."""

    def warn(path: Path, exc: Exception) -> None:
        message = str(exc)
        if not message.endswith("skipping"):
            message += "; skipping it"
        context.err(f"{context.prog}: warning: {message}")

    return warn


def _one_name(names: Sequence[str], message: str = "too many arguments") -> str | None:
    if len(names) > 1:
        raise UsageError(message)
    return names[0] if names else None


def _profile_for(context: Context, name: str | None) -> tuple[Profile, bool]:
    """The profile called ``name`` (the current one when ``None``) and whether it is the
    current one; the current one has the command-line options applied, as triton's
    ``_applyProfileOverrides`` does."""
    from smartdc.cli import config

    if name is None:
        current = context.settings
        return current.profile, True
    resolved = _current(context)
    if resolved is not None and resolved.profile_name == name:
        return resolved.profile, True
    return config.load_profile(context.config_dir, name, context.env), False


def _flush(context: Context) -> None:
    context.streams.stdout.flush()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _js_length(text: str) -> int:
    # String.prototype.length: UTF-16 code units.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- node's util.format('%s', value), for `profile get` ------------------------------------

_META = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 92: "\\\\"}


def _inspect_string(text: str) -> str:
    """A string as ``util.inspect`` quotes it: ``'a'``, or ``"it's"``, or a backtick form."""
    quote = "'"
    if "'" in text:
        if '"' not in text:
            quote = '"'
        elif "`" not in text and "${" not in text:
            quote = "`"
    out = []
    for char in text:
        point = ord(char)
        if point == 39 and quote == "'":
            out.append("\\'")
        elif point in _META:
            out.append(_META[point])
        elif point < 32 or 127 <= point < 160:
            out.append(f"\\x{point:02X}")
        elif 0xD800 <= point <= 0xDFFF:
            out.append(f"\\u{point:x}")
        else:
            out.append(char)
    return quote + "".join(out) + quote


def _group_entries(entries: list[str]) -> list[str]:
    """Put many short array entries several to a line, as node's groupArrayElements does
    (breakLength 80, compact 3)."""
    import math

    lengths = [_js_length(entry) for entry in entries]
    total = sum(length + 2 for length in lengths)
    widest = max(lengths)
    actual_max = widest + 2
    if not (actual_max * 3 < 80 and (total / actual_max > 5 or widest <= 6)):
        return entries
    bias = math.sqrt(actual_max - total / len(entries))
    biased_max = max(actual_max - 3 - bias, 1)
    columns = min(
        math.floor(math.sqrt(2.5 * biased_max * len(entries)) / biased_max + 0.5),
        80 // actual_max,
        12,
        15,
    )
    if columns <= 1:
        return entries
    widths = [max(lengths[i::columns]) + 2 for i in range(columns)]
    lines = []
    for start in range(0, len(entries), columns):
        end = min(start + columns, len(entries))
        line = ""
        for j in range(start, end - 1):
            cell = entries[j] + ", "
            line += cell + " " * (widths[j - start] - _js_length(cell))
        lines.append(line + entries[end - 1])
    return lines


def _inspect_list(values: Sequence[Any]) -> str:
    """An array of strings as ``util.format('%s', array)`` prints it."""
    entries = [_inspect_string(str(v)) for v in values]
    if not entries:
        return "[]"
    count = len(entries)
    if count > 6:
        entries = _group_entries(entries)
    if len(entries) == count:
        total = len(entries) + (len(entries) + 1 + 10)
        fits = total + len(entries) <= 80
        for entry in entries:
            total += _js_length(entry)
            fits = fits and total <= 80
        if fits:
            return "[ " + ", ".join(entries) + " ]"
    return "[\n  " + ",\n  ".join(entries) + "\n]"


def _format_s(value: Any) -> str:
    from smartdc.cli.table import js_string

    if isinstance(value, list | tuple):
        return _inspect_list(value)
    return js_string(value)


# --- profile list ------------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS]"
    output.add_table_options(parser, sort_default="name")
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """List the profiles, marking the current one in the ``CURR`` column."""
    from smartdc.cli import config

    if options.args:
        raise UsageError("too many args")
    as_json = options.json or options.json_array
    profiles = config.list_profiles(
        context.config_dir,
        context.env,
        options=context.options,
        on_error=_warn_skipped(context),
    )
    current = _current(context)
    rows = []
    have_current = False
    for profile in profiles:
        is_current = current is not None and profile.name == current.profile_name
        if current is not None and is_current:
            profile = current.profile
            have_current = True
        row: dict[str, Any] = profile.triton_dict()
        row["curr"] = is_current if as_json else ("*" if is_current else "")
        rows.append(row)
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)
    if not have_current and not as_json:
        _flush(context)
        if not rows:
            context.err(
                "\nWarning: There is no current profile. Use "
                f'"{PROGRAM} profile create" to create one,\n'
                'or set the required "SDC_*/TRITON_*" environment variables: '
                f'see "{PROGRAM} --help".'
            )
        else:
            context.err(
                "\nWarning: There is no current profile. Use "
                f'"{PROGRAM} profile set-current ..."\n'
                f'to set one or "{PROGRAM} profile create" to create one.'
            )


LIST = Command(
    "list",
    "List Triton CLI profiles.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=(
        "List Triton CLI profiles.\n\n"
        "A profile holds what is needed to call one CloudAPI as one account: its URL, the\n"
        "account login, the SSH key fingerprint and so on. Choose one with `smartdc -p NAME`,\n"
        "the TRITON_PROFILE environment variable, or by making it the current profile.\n"
        'The "CURR" column marks the current profile.'
    ),
)


# --- profile get -------------------------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] [PROFILE]"
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument("names", nargs="*", metavar="PROFILE", help="default: the current one")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one profile: ``key: value`` lines, or one JSON line with ``-j``."""
    from smartdc.cli import table

    profile, is_current = _profile_for(context, _one_name(options.names))
    data: dict[str, Any] = profile.triton_dict()
    data["curr"] = is_current
    if options.json:
        context.write(table.json_compact(data))
        return
    context.out(f"name: {profile.name}")
    for key in sorted(data):
        if key != "name":
            context.out(f"{key}: {_format_s(data[key])}")


GET = Command(
    "get",
    "Get a Triton CLI profile.",
    do_get,
    _configure_get,
    description="Get a Triton CLI profile.\n\nWithout PROFILE, the current profile is shown.",
)


# --- profile set-current -----------------------------------------------------------------------


def _configure_set_current(parser: ArgParser) -> None:
    parser.usage = "%(prog)s PROFILE"
    parser.add_argument("names", nargs="*", metavar="PROFILE", help='a profile name, or "-"')


def do_set_current(context: Context, options: argparse.Namespace) -> None:
    """Make a profile the current one (``-``: the previous one)."""
    from smartdc.cli import config

    if not options.names:
        raise UsageError("missing NAME argument")
    if len(options.names) > 1:
        raise UsageError("too many arguments: " + " ".join(options.names))
    current = _current(context)
    change = config.set_current_profile(
        context.config_dir,
        options.names[0],
        context.env,
        current=current.profile_name if current is not None else None,
    )
    if not change.changed:
        context.out(f'"{change.name}" is already the current profile')
        return
    context.out(f'Set "{change.name}" as current profile')
    chosen = context.env.get("TRITON_PROFILE")
    if chosen and chosen != change.name:
        # Not in triton, whose silence here confuses people (node-triton#121).
        _flush(context)
        context.err(
            f'{context.prog}: warning: TRITON_PROFILE="{chosen}" is set in this environment '
            f'and wins over the current profile;\n    run "unset TRITON_PROFILE" to use '
            f'"{change.name}".'
        )


SET_CURRENT = Command(
    "set-current",
    "Set the current Triton CLI profile.",
    do_set_current,
    _configure_set_current,
    aliases=("set",),
    description=(
        "Set the current Triton CLI profile.\n\n"
        'PROFILE is the name of a profile, or "-" for the previous current profile.\n'
        "The current profile is used unless `smartdc -p PROFILE ...` or the TRITON_PROFILE\n"
        "environment variable names another."
    ),
)


# --- profile create ----------------------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS]"
    parser.add_argument(
        "-f",
        "--file",
        metavar="FILE",
        help='A JSON file (of the form "smartdc profile get -j" prints) with the profile, '
        'or "-" to read it from stdin.',
    )
    parser.add_argument("--copy", metavar="PROFILE", help="A profile from which to copy values.")
    parser.add_argument(
        "--no-docker",
        action="store_true",
        dest="no_docker",
        help="Do not mention Docker setup (smartdc does not create Docker certificates).",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="Answer yes to any confirmations.")
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def do_create(context: Context, options: argparse.Namespace) -> None:
    """Create a profile from a JSON file, stdin, or by asking on the terminal."""
    import sys

    from smartdc.cli import config
    from smartdc.cli.failures import CommandError

    if options.args:
        raise UsageError("too many arguments")
    if options.copy and options.file:
        raise UsageError("cannot specify --file and --copy at the same time")
    existing = config.list_profiles(
        context.config_dir, context.env, on_error=_warn_skipped(context)
    )
    base = None
    if options.copy:
        base = next((p for p in existing if p.name == options.copy), None)
        if base is None:
            raise UsageError(f'no such profile from which to copy: "{options.copy}"')

    source: str | None = None
    if options.file == "-":
        data = config.parse_profile_json(context.streams.stdin.read())
    elif options.file:
        source = options.file
        try:
            with open(options.file, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            # triton crashes with a stack trace here
            raise CommandError(f'cannot read "{options.file}": {exc.strerror or exc}') from None
        data = config.parse_profile_json(text, options.file)
    else:
        if not context.stdin_interactive:
            raise UsageError("cannot interactively create profile: stdin is not a TTY")
        if not _is_tty(context.streams.stdout):
            raise UsageError("cannot interactively create profile: stdout is not a TTY")
        data = _ask_for_profile(context, existing, base)

    if isinstance(data, Mapping) and any(p.name == data.get("name") for p in existing):
        raise CommandError(f'profile "{data.get("name")}" already exists')
    created = config.create_profile(
        context.config_dir, data, context.env, source=source, copy=options.copy
    )
    context.out(f'Saved profile "{created.profile.name}".')
    if not options.no_docker and sys.platform != "win32":
        # triton goes on to make Docker client certificates (docker-setup); smartdc does not.
        _flush(context)
        context.err(
            f"{context.prog}: note: skipping Docker setup: smartdc does not create Docker "
            "certificates\n"
            f'    ("triton profile docker-setup {created.profile.name}" can; --no-docker '
            "hides this note)."
        )
    if created.made_current:
        context.out(
            f'\nSet "{created.profile.name}" as current profile (because it is your only profile).'
        )


class _KeyChoice:
    """One signing key found for the interactive ``keyId`` question."""

    def __init__(self, key_id: str, bits: int, kind: str) -> None:
        self.key_id = key_id
        self.bits = bits
        self.kind = kind
        self.places: list[str] = []


def _key_facts(key: Any) -> tuple[int, str]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size, "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size, "ECDSA"
    return 256, "ED25519"


def _key_files(folder: Path) -> list[tuple[Path, Path | None]]:
    """``(private, public)`` files in ``~/.ssh`` as smartdc-auth's homedir key ring pairs
    them: ``X`` with ``X.pub``, and ``*id_*`` files without a ``.pub``. A ``.pub`` alone cannot
    sign, so it is not offered."""
    try:
        names = sorted(entry.name for entry in folder.iterdir() if entry.is_file())
    except OSError:
        return []
    pairs: list[tuple[Path, Path | None]] = []
    for name in names:
        if name.endswith(".pub"):
            if name[:-4] in names:
                pairs.append((folder / name[:-4], folder / name))
        elif re.search(r"(^|[^a-zA-Z])id_", name) and f"{name}.pub" not in names:
            pairs.append((folder / name, None))
    return pairs


def _find_keys(context: Context) -> list[_KeyChoice]:
    """The keys that can sign: in ``~/.ssh`` and in the ssh-agent, by MD5 fingerprint."""
    from pathlib import Path

    from smartdc.auth import keys as keylib
    from smartdc.errors import PassphraseRequiredError, SmartDCError

    choices: dict[str, _KeyChoice] = {}

    def add(public: Any, place: str) -> None:
        key_id = keylib.md5_fingerprint(public)
        if key_id not in choices:
            choices[key_id] = _KeyChoice(key_id, *_key_facts(public))
        choices[key_id].places.append(place)

    home = context.env.get("HOME")
    for private, pub in _key_files(Path(home) / ".ssh") if home else []:
        try:
            comment = ""
            if pub is not None:
                text = pub.read_text(encoding="utf-8", errors="replace")
                public = keylib.parse_public_key(text)
                fields = text.split(None, 2)
                comment = fields[2].strip() if len(fields) > 2 else ""
            else:
                blob = keylib.key_file_public_blob(private)
                if blob is None:
                    continue
                public = keylib.public_key_from_blob(blob)
            locked = ""
            try:
                keylib.load_private_key(private)
            except PassphraseRequiredError:
                locked = " (locked)"
        except (OSError, SmartDCError):
            continue
        add(public, f'homedir{locked}: $HOME/.ssh/{private.name} (comment "{comment}")')

    socket_path = context.env.get("SSH_AUTH_SOCK")
    if socket_path:
        from smartdc.auth.agent import AgentClient

        try:
            identities = AgentClient(socket_path, timeout=5.0).identities()
        except (OSError, SmartDCError) as exc:
            context.trace(f"cannot list ssh-agent keys: {exc}")
            identities = []
        for identity in identities:
            if identity.public_key is not None:
                add(identity.public_key, f"agent: {identity.comment}")
    return list(choices.values())


def _key_description(choices: Sequence[_KeyChoice]) -> str:
    text = (
        "The fingerprint of the SSH key you want to use to authenticate with CloudAPI.\n"
        "Give the fingerprint or the number of one of the keys listed below. If the key\n"
        "you want is not listed, make sure it is in your SSH keys directory (~/.ssh) or\n"
        "loaded into your SSH agent.\n"
    )
    if not choices:
        return text + "\n(No SSH keys were found.)\n"
    for number, choice in enumerate(choices, 1):
        text += f'\n{number}. Fingerprint "{choice.key_id}" ({choice.bits}-bit {choice.kind})\n'
        text += "".join(f"   - in {place}\n" for place in choice.places)
    return text


class _Field:
    """One question of the interactive ``profile create`` (node-triton common.promptField)."""

    def __init__(
        self,
        key: str,
        description: str,
        default: str | None,
        validate: Callable[[str], str] | None = None,
    ) -> None:
        self.key = key
        self.description = description
        self.default = default
        #: Returns the value to keep, or raises ValueError with the message to show.
        self.validate = validate


def _width() -> int:
    import shutil

    return min(shutil.get_terminal_size((80, 24)).columns, 80)


def _wrap(text: str) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, _width()) if line else "" for line in text.split("\n"))


def _read_answer(context: Context, key: str, default: str | None) -> str:
    """Read one answer after ``key: ``, the default already typed in for editing (as the
    ``read`` module's ``edit`` option does) when readline is there."""
    import importlib
    import sys

    from smartdc.cli.failures import CommandError

    prompt = f"{key}: "
    real = context.streams.stdin is sys.stdin and context.streams.stdout is sys.stdout
    readline: Any = None
    if real:
        try:
            readline = importlib.import_module("readline")
        except ImportError:
            readline = None
    try:
        if readline is not None:
            if default:
                readline.set_startup_hook(lambda: readline.insert_text(default))
            try:
                return input(prompt)
            finally:
                readline.set_startup_hook(None)
        shown = prompt + (f"({default}) " if default else "")
        context.write(shown)
        _flush(context)
        line = context.streams.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n") or (default or "")
    except EOFError:
        context.out()
        raise CommandError("canceled") from None


def _ask(context: Context, field: _Field) -> str:
    description = field.description
    if "\n" not in description:
        description = _wrap(description)
    period = description.find(".")
    if period != -1:
        context.out(output.stylize(description[: period + 1], "bold") + description[period + 1 :])
    else:
        context.out(output.stylize(description, "bold"))
    while True:
        value = _read_answer(context, field.key, field.default).strip()
        if field.validate is None:
            return value
        try:
            return field.validate(value)
        except ValueError as exc:
            context.out(output.stylize(_wrap(str(exc)), "red"))


def _ask_for_profile(
    context: Context, existing: Sequence[Profile], base: Profile | None
) -> dict[str, Any]:
    """The interactive questions of ``triton profile create``: name, URL, account, key."""
    from smartdc.auth.keys import is_fingerprint
    from smartdc.cli import config

    choices = _find_keys(context)
    defaults: dict[str, Any] = (
        base.triton_dict(include_name=False) if base else {"url": DEFAULT_URL}
    )
    taken = {profile.name for profile in existing}

    def check_name(value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_.-]*$", value):
            raise ValueError(
                "Must start with a lowercase letter followed by lowercase letters, numbers "
                'and "_", "." and "-".'
            )
        if value in taken:
            raise ValueError(f'Profile "{value}" already exists.')
        if value == config.ENV_PROFILE:
            # triton accepts it here, then fails to save it
            raise ValueError('"env" is the profile made from environment variables.')
        return value

    def check_account(value: str) -> str:
        if len(value) < 3:
            raise ValueError("Must be at least 3 characters")
        if "\\" in value:
            raise ValueError('Must not contain a "\\"')
        return value

    def check_key(value: str) -> str:
        if is_fingerprint(value):
            return value
        if value.isascii() and value.isdigit() and 1 <= int(value) <= len(choices):
            key_id = choices[int(value) - 1].key_id
            context.out(f"Using key {value}: {key_id}")
            return key_id
        raise ValueError(
            f'"{value}" is neither a valid fingerprint, nor an index from the list of '
            "available keys"
        )

    fields = [
        _Field(
            "name",
            "A profile name. A short string to identify this profile to the `smartdc` command.",
            None,
            check_name,
        ),
        _Field("url", "The CloudAPI endpoint URL.", defaults.get("url")),
        _Field("account", "Your account login name.", defaults.get("account"), check_account),
        _Field("keyId", _key_description(choices), defaults.get("keyId"), check_key),
    ]
    data: dict[str, Any] = {}
    for field in fields:
        if field.key != "name":
            context.out("\n")
        data[field.key] = _ask(context, field)
    context.out()
    return data


CREATE = Command(
    "create",
    "Create a Triton CLI profile.",
    do_create,
    _configure_create,
    description=(
        "Create a Triton CLI profile.\n\n"
        "Examples:\n"
        "    smartdc profile create              # answer questions on the terminal\n"
        '    smartdc profile create --copy env   # ... starting from the "env" profile\n\n'
        "    # Or from a JSON file, or stdin:\n"
        "    smartdc profile create -f another-profile.json\n"
        "    cat a-profile.json | smartdc profile create -f -\n\n"
        "Unlike triton, smartdc does not set up Docker certificates for the new profile."
    ),
)


# --- profile edit ------------------------------------------------------------------------------


def _configure_edit(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [PROFILE]"
    parser.add_argument("names", nargs="*", metavar="PROFILE", help="default: the current one")


def _edited_profile(name: str, text: str) -> Profile:
    from smartdc.cli import config
    from smartdc.errors import ConfigError

    data = config.parse_profile_json(text, f"profile-{name}.json")
    if not isinstance(data, dict):
        return config.profile_from_data(data)  # raises: not an object
    given = data.pop("name", name)
    if given != name:
        raise ConfigError(
            f'the profile name cannot be changed here ("{given}" given for "{name}"): it is '
            'the file name; use "smartdc profile create --copy" instead'
        )
    return config.profile_from_data({**data, "name": name})


def do_edit(context: Context, options: argparse.Namespace) -> None:
    """Edit a profile's JSON in ``$EDITOR``; invalid changes can be edited again.

    triton shows the profile as ``key: value`` lines; smartdc shows the file's own JSON,
    which keeps ``roles`` (a list) and ``insecure`` (a boolean) exact.
    """
    from smartdc.cli import config, table
    from smartdc.cli.prompt import EditProblem, ask_terminal, edit_until_done
    from smartdc.errors import ConfigError

    name = _one_name(options.names) or context.settings.profile_name
    if name == config.ENV_PROFILE:
        raise UsageError('cannot edit "env" profile')
    profile = config.load_profile(context.config_dir, name, context.env)

    def save(after: str) -> str:
        try:
            edited = _edited_profile(name, after)
            if edited.triton_dict() == profile.triton_dict():
                return "No change to profile"
            config.save_profile(context.config_dir, edited)
        except ConfigError as exc:
            raise EditProblem(str(exc)) from None
        return f'Saved profile "{name}".'

    edit_until_done(
        context,
        table.json_pretty(profile.triton_dict(include_name=False)),
        f"profile-{name}.json",
        save,
        aborted="Aborting. No change made to profile",
        unchanged="No change to profile",
        again=ask_terminal,
    )


EDIT = Command(
    "edit",
    "Edit a Triton CLI profile in your $EDITOR.",
    do_edit,
    _configure_edit,
    description=(
        "Edit a Triton CLI profile in your $EDITOR.\n\n"
        "The profile file's JSON is edited; it is checked before it is saved. Without\n"
        "PROFILE, the current profile is edited."
    ),
)


# --- profile delete ----------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] PROFILE"
    parser.add_argument("-f", "--force", action="store_true", help="Force deletion.")
    parser.add_argument("names", nargs="*", metavar="PROFILE")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """Delete a profile; the current one only with ``--force`` (``env`` becomes current)."""
    from smartdc.cli import config
    from smartdc.cli.failures import CommandError
    from smartdc.cli.prompt import confirm_on_terminal, delete_question, go_ahead
    from smartdc.errors import ConfigError

    if len(options.names) != 1:
        raise UsageError("NAME argument is required")
    name = options.names[0]
    if name == config.ENV_PROFILE:
        raise UsageError('cannot delete "env" profile')
    try:
        config.load_profile(context.config_dir, name, context.env)
    except ConfigError:
        if options.force:
            return
        raise
    current = _current(context)
    is_current = current is not None and current.profile_name == name
    if is_current and not options.force:
        raise CommandError("cannot delete the current profile (use --force to override)")
    if not go_ahead(
        context,
        delete_question("profile", [name]),
        skip=options.force,
        asking=confirm_on_terminal,
    ):
        return
    if is_current:
        try:
            change = config.set_current_profile(
                context.config_dir, config.ENV_PROFILE, context.env, current=name
            )
        except ConfigError as exc:
            # triton fails here with only the "env" error, after deciding to delete.
            raise CommandError(
                f'cannot delete the current profile "{name}": the "env" profile, which would '
                f"become current, cannot be loaded:\n    {exc}\n"
                f'    Make another profile current first ("{PROGRAM} profile set-current '
                'NAME").'
            ) from None
        context.out(f'Set "{change.name}" as current profile')
    config.delete_profile(context.config_dir, name)
    context.out(f'Deleted profile "{name}"')


DELETE = Command(
    "delete",
    "Delete a Triton CLI profile.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=(
        "Delete a Triton CLI profile.\n\n"
        'The current profile is deleted only with --force, and then "env" becomes current.'
    ),
)


# --- profile show (smartdc only) ------------------------------------------------------------

_DEFAULT_PROFILE_SOURCE = "default (no -p, TRITON_PROFILE or current profile in config.json)"


def _configure_show(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] [PROFILE]"
    parser.add_argument(
        "--sources", action="store_true", help="Also show where each value comes from."
    )
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument("names", nargs="*", metavar="PROFILE", help="default: the current one")


def _show_value(value: Any) -> str:
    if value is None or (isinstance(value, list | tuple) and not value):
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def do_show(context: Context, options: argparse.Namespace) -> None:
    """Print every setting a command would run with, and (``--sources``) where it is from.

    With PROFILE, that profile is shown as ``smartdc -p PROFILE`` would use it: the
    command-line options still apply.
    """

    from smartdc.cli import config, table

    name = _one_name(options.names)
    if name is None:
        resolved = context.settings
    else:
        chosen = context.options.replace(profile=name)
        resolved = config.resolve(chosen, context.env, context.config_dir)
    rows: list[dict[str, Any]] = []
    for setting in resolved.settings():
        source = setting.source
        if setting.key == "profile":
            if name is not None:
                source = "PROFILE argument"
            elif source == "default":
                source = _DEFAULT_PROFILE_SOURCE
        value = list(setting.value) if isinstance(setting.value, tuple) else setting.value
        rows.append({"setting": setting.key, "value": value, "source": source})
    if options.json:
        if options.sources:
            shown: dict[str, Any] = {
                row["setting"]: {"value": row["value"], "source": row["source"]} for row in rows
            }
        else:
            shown = {row["setting"]: row["value"] for row in rows}
        context.write(table.json_compact(shown))
        return
    text_rows = [{**row, "value": _show_value(row["value"])} for row in rows]
    columns = ["setting", "value", "source"] if options.sources else ["setting", "value"]
    context.write(table.render_table(text_rows, columns))


SHOW = Command(
    "show",
    "Show the resolved settings (with --sources: where each comes from).",
    do_show,
    _configure_show,
    description=(
        "Show the settings commands run with: the profile, CloudAPI URL, account, key,\n"
        "RBAC user and roles, act-as account, TLS settings.\n\n"
        "With --sources, each value's origin is shown: a command-line flag, an environment\n"
        "variable, the profile's file, config.json, or a default. Precedence: flags, then\n"
        "(for the profile name) TRITON_PROFILE, then the current profile. TRITON_URL and the\n"
        'other TRITON_*/SDC_* variables only make up the "env" profile.\n\n'
        "With PROFILE, that profile is shown as `smartdc -p PROFILE ...` would use it."
    ),
)


TREE = Group(
    "profile",
    "List, get, create and update Triton CLI profiles.",
    children=(LIST, GET, SET_CURRENT, CREATE, EDIT, DELETE, SHOW),
)


# --- env ---------------------------------------------------------------------------------------


def _configure_env(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] [PROFILE]"
    parser.add_argument(
        "-t",
        "--triton",
        action="store_true",
        help='Emit environment for triton and smartdc (the "TRITON_PROFILE" variable).',
    )
    parser.add_argument(
        "-d",
        "--docker",
        action="store_true",
        help='Emit environment for docker ("DOCKER_HOST"...).',
    )
    parser.add_argument(
        "-s",
        "--smartdc",
        action="store_true",
        help='Emit environment for node-smartdc (the legacy "SDC_*" variables).',
    )
    parser.add_argument(
        "-u", "--unset", action="store_true", help="Emit commands to *unset* those variables."
    )
    parser.add_argument("names", nargs="*", metavar="PROFILE", help="default: the current one")


def do_env(context: Context, options: argparse.Namespace) -> None:
    """Print shell commands that set (or, with ``-u``, unset) a profile's environment.

    Unlike triton, nothing is printed when the docker section asked for with ``-d`` is not
    set up (triton prints the other sections, then fails), so ``eval`` applies all or none.
    """
    from smartdc.cli import config

    profile, is_current = _profile_for(context, _one_name(options.names))
    context.write(
        config.env_text(
            profile,
            context.config_dir,
            triton=options.triton,
            docker=options.docker,
            smartdc=options.smartdc,
            unset=options.unset,
            is_current=is_current,
            program=PROGRAM,
        )
    )


ENV = Command(
    "env",
    "Emit shell commands to setup environment.",
    do_env,
    _configure_env,
    description=(
        "Emit shell commands to setup environment.\n\n"
        "For triton and smartdc (TRITON_PROFILE), node-smartdc (the `sdc-*` tools: SDC_*)\n"
        "and docker (DOCKER_*, when the profile was set up for Docker). Without options,\n"
        "all of them; without PROFILE, the current profile.\n\n"
        "A shell function to switch profiles quickly (e.g. in ~/.bashrc):\n"
        '    smartdc-select () { eval "$(smartdc env $1)"; }\n'
        "for example:\n"
        "    $ smartdc-select west1\n"
        "    $ smartdc profile get | grep name\n"
        "    name: west1"
    ),
)
