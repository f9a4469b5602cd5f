"""``smartdc [OPTIONS] COMMAND [ARGS...]``: global options, dispatch, errors and exit codes.

Exit codes, as ``triton`` gives them: 0 success; 1 any error, usage errors included; 3 the
thing asked for does not exist or was deleted. Errors print as
``smartdc <command>: error (<Code>): <message>``, then, under ``-v``, the request id.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smartdc._version import __version__
from smartdc.cli import registry
from smartdc.cli.command import ArgParser, Command, Group, HelpShown, UsageError
from smartdc.cli.context import Context, Streams

if TYPE_CHECKING:
    from smartdc.cli.config import GlobalOptions

_GLOBAL_HELP = """\
Options:
    -h, --help                     Print this help and exit.
    --version                      Print version and exit.
    -v, --verbose                  Verbose/debug output (never shows keys or signatures).
    -p NAME, --profile=NAME        Triton client profile to use. Environment:
                                   TRITON_PROFILE=NAME

  CloudAPI Options:
    -a ACCOUNT, --account=ACCOUNT  Account (login name). Environment:
                                   TRITON_ACCOUNT=ACCOUNT or SDC_ACCOUNT=ACCOUNT.
    --act-as=ACCOUNT               Masquerade as the given account login name.
                                   Environment: TRITON_ACT_AS=ACCOUNT.
    -u USER, --user=USER           RBAC user (login name). Environment:
                                   TRITON_USER=USER or SDC_USER=USER.
    -r ROLE,..., --role=ROLE,...   Assume an RBAC role. Use multiple times or once
                                   with a list. Environment: TRITON_ROLE=ROLE,...
    -k FP, --keyId=FP              SSH key fingerprint. Environment:
                                   TRITON_KEY_ID=FINGERPRINT or SDC_KEY_ID=FINGERPRINT.
    -U URL, --url=URL              CloudAPI URL. Environment: TRITON_URL=URL or
                                   SDC_URL=URL.
    -i, --insecure                 Do not validate the CloudAPI SSL certificate.
                                   Environment: TRITON_TLS_INSECURE=1,
                                   SDC_TLS_INSECURE=1 (or the deprecated SDC_TESTING=1).
    --ca-bundle=PATH               Validate the CloudAPI certificate against these CAs
                                   (a file or directory). Environment: TRITON_CA_BUNDLE.
"""


def _global_parser() -> argparse.ArgumentParser:
    parser = ArgParser("smartdc")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-p", "--profile")
    parser.add_argument("-a", "--account")
    parser.add_argument("--act-as", dest="act_as")
    parser.add_argument("-u", "--user")
    parser.add_argument("-r", "--role", action="append", dest="roles")
    parser.add_argument("-k", "--keyId", dest="key_id")
    parser.add_argument("-U", "--url")
    parser.add_argument("-i", "--insecure", action="store_true", default=None)
    parser.add_argument("--ca-bundle", dest="ca_bundle")
    parser.add_argument("command", nargs="?")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def top_help() -> str:
    """``smartdc --help``: usage, global options and the visible commands by section."""
    lines = [
        "Triton CloudAPI command line (a drop-in for `triton`)",
        "",
        "Usage:",
        "    smartdc [OPTIONS] COMMAND [ARGS...]",
        "    smartdc help COMMAND",
        "",
        _GLOBAL_HELP,
        "Commands:",
        "    help (?)                  Help on a specific sub-command.",
    ]
    section = ""
    for entry in registry.ENTRIES:
        if entry.hidden:
            continue
        if entry.section != section:
            section = entry.section
            lines.extend(["", f"  {section}:"])
        label = entry.name + (f" ({', '.join(entry.aliases)})" if entry.aliases else "")
        lines.append(f"    {label.ljust(25)} {entry.summary}")
    return "\n".join(lines) + "\n"


def load_target(entry: registry.Entry) -> Command | Group:
    """The command tree an entry names (importing its module)."""
    module_name, _, attribute = entry.target.partition(":")
    module = importlib.import_module(f"smartdc.cli.commands.{module_name}")
    node = getattr(module, attribute)
    assert isinstance(node, Command | Group), entry.target
    return node


def _descend(
    node: Command | Group, words: list[str], prog: str
) -> tuple[Command | Group, list[str], str]:
    """Walk subcommand names from ``words``; return the node reached, what is left, its prog."""
    while isinstance(node, Group) and words and not words[0].startswith("-"):
        child = node.find(words[0])
        if child is None:
            if words[0] in ("help", "?"):
                return node, [], prog
            raise UsageError(f'unknown command: "{words[0]}"', code="UnknownCommand", prog=prog)
        # As triton names it: the subcommand as typed (`smartdc key rm`), while shortcuts
        # and the top-level noun go by their own names (`smartdc instance list` for `ls`).
        node, words, prog = child, words[1:], f"{prog} {words[0]}"
    return node, words, prog


def resolve_command(words: Sequence[str]) -> tuple[Command | Group, list[str], str]:
    """The node ``words`` name, the remaining arguments and the program name for messages."""
    first, *rest = words
    entry = registry.find(first)
    if entry is None:
        raise UsageError(f'unknown command: "{first}"', code="UnknownCommand")
    node = load_target(entry)
    prog = f"smartdc {node.name}"
    node, _, prog = _descend(node, list(entry.path), prog)  # entry paths use canonical names
    return _descend(node, rest, prog)


def _help_for(words: Sequence[str], streams: Streams) -> int:
    if not words:
        streams.stdout.write(top_help())
        return 0
    node, _, prog = resolve_command(words)
    if isinstance(node, Group):
        streams.stdout.write(node.help_text(prog))
    else:
        streams.stdout.write(node.parser(prog).format_help())
    return 0


def global_options(args: Sequence[str]) -> tuple[GlobalOptions, bool]:
    """The global options (and ``-v``) in ``args``, which hold nothing else."""
    parsed = _global_parser().parse_args(list(args))
    return _options_from(parsed), bool(parsed.verbose)


def _options_from(parsed: argparse.Namespace) -> GlobalOptions:
    from smartdc.cli.config import GlobalOptions

    roles = None
    if parsed.roles:
        roles = [role.strip() for value in parsed.roles for role in value.split(",")]
        roles = [role for role in roles if role]
    return GlobalOptions(
        profile=parsed.profile,
        url=parsed.url,
        account=parsed.account,
        user=parsed.user,
        key_id=parsed.key_id,
        insecure=parsed.insecure,
        roles=roles,
        act_as=parsed.act_as,
        ca_bundle=parsed.ca_bundle,
    )


def main(argv: Sequence[str] | None = None, streams: Streams | None = None) -> int:
    """Run one ``smartdc`` command line; returns the exit status."""
    streams = streams or Streams()
    args = list(sys.argv[1:] if argv is None else argv)
    prog = "smartdc"
    if args[:1] == ["__complete"]:
        return _complete(args[1:], streams)
    try:
        try:
            parsed = _global_parser().parse_args(args)
        except HelpShown:
            streams.stdout.write(top_help())
            return 0
        if parsed.version:
            streams.stdout.write(f"smartdc {__version__}\n")
            return 0
        if parsed.command is None:
            streams.stdout.write(top_help())
            return 0 if not args else 1
        if parsed.command in ("help", "?"):
            return _help_for(parsed.args, streams)
        node, rest, prog = resolve_command([parsed.command, *parsed.args])
        if isinstance(node, Group):
            if (rest and rest[0] in ("-h", "--help")) or not rest:
                streams.stdout.write(node.help_text(prog))
                return 0
            raise UsageError(f'unknown option: "{rest[0]}"', code="Option")
        shortcut = registry.find(parsed.command)
        typed = f"smartdc {parsed.command}" if shortcut is not None and shortcut.path else None
        return _run(node, rest, prog, parsed, streams, option_prog=typed)
    except HelpShown:
        return 0
    except UsageError as exc:
        streams.stderr.write(f"{exc.prog or prog}: error ({exc.code}): {exc}\n")
        if exc.usage:
            streams.stderr.write(exc.usage + "\n")
        return 1
    except KeyboardInterrupt:
        streams.stderr.write(f"{prog}: interrupted\n")
        return 130
    except BrokenPipeError:
        # `smartdc ls | head`: the reader left; say nothing more.
        _silence_stdout()
        return 0


def _run(
    command: Command,
    words: list[str],
    prog: str,
    parsed: argparse.Namespace,
    streams: Streams,
    *,
    option_prog: str | None = None,
) -> int:
    """Parse the command's arguments and run it. ``option_prog`` names a shortcut as typed
    (``smartdc ls``): triton reports option errors under that name, and everything else
    under the command's own (``smartdc instance list``)."""
    parser = command.parser(prog)
    if not command.passthrough:
        words = parser.attach_dash_values(words)
    try:
        if command.passthrough:
            options, extra = parser.parse_known_args(words)
            options.passthrough = extra
        else:
            options = parser.parse_intermixed_args(words)
    except HelpShown:
        streams.stdout.write(parser.format_help())
        return 0
    except UsageError as exc:
        if exc.code == "Option" and option_prog:
            exc.prog = option_prog
        raise
    context = Context(prog, _options_from(parsed), verbose=parsed.verbose, streams=streams)
    try:
        status = command.handler(context, options)
        streams.stdout.flush()
        return 0 if status is None else status
    except UsageError as exc:
        if exc.usage is None:
            exc.usage = parser.format_usage().rstrip()
        raise
    except Exception as exc:
        from smartdc.cli.failures import report

        return report(context, exc)
    finally:
        context.close()


def _complete(words: list[str], streams: Streams) -> int:
    """The hidden ``__complete`` entry the completion scripts call."""
    from smartdc.cli.complete import run

    return run(words, streams)


def _silence_stdout() -> None:
    # Point stdout at /dev/null so the interpreter's final flush raises nothing.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    except OSError:
        pass
