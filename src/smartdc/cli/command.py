"""How commands are declared: leaves (:class:`Command`) in groups (:class:`Group`).

Each noun module (``smartdc.cli.commands.instance`` ...) builds one tree of these. A leaf
names its handler and a function that adds its options to an :class:`ArgParser`; the parser
is built only for the leaf that runs, so the rest of the tree costs nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from smartdc._record import Record

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: A command's handler: the context and its parsed options; returns the exit status
#: (``None`` means 0).
Handler = Callable[["Context", argparse.Namespace], "int | None"]

#: Adds a leaf's options and arguments to its parser.
Configure = Callable[["ArgParser"], None]


class UsageError(Exception):
    """Bad command-line usage; printed as ``<prog>: error (<code>): <message>`` and exits 1.

    ``code`` is ``Usage`` for wrong arguments, ``Option`` for a bad option, and
    ``UnknownCommand`` for a command that does not exist, as ``triton`` names them.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "Usage",
        usage: str | None = None,
        prog: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.usage = usage
        #: The command name to print, when it is not the one running (see smartdc.cli.app).
        self.prog = prog


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the width up front: left to itself it imports ``shutil``
    (and with it bz2 and lzma) and asks the terminal for its size on every
    ``add_argument``, which is most of a parser's cost."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_help_width())


def _help_width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
        except (OSError, ValueError):
            columns = 80
    return max(columns - 2, 40)


class ArgParser(argparse.ArgumentParser):
    """An argparse parser that reports errors as :class:`UsageError` instead of exiting."""

    def __init__(self, prog: str, description: str | None = None) -> None:
        super().__init__(
            prog=prog,
            description=description,
            add_help=True,
            allow_abbrev=False,
            formatter_class=_HelpFormatter,
        )

    def error(self, message: str) -> NoReturn:
        usage = self.format_usage().rstrip()
        if message.startswith("unrecognized arguments: "):
            unknown = message.removeprefix("unrecognized arguments: ").split()
            options = [arg for arg in unknown if arg.startswith("-")]
            if options:
                raise UsageError(f'unknown option: "{options[0]}"', code="Option", usage=usage)
            raise UsageError(f"unexpected arguments: {' '.join(unknown)}", usage=usage)
        if "expected one argument" in message or message.startswith("argument "):
            raise UsageError(message, code="Option", usage=usage)
        raise UsageError(message, usage=usage)

    def print_help(self, file: object = None) -> None:
        # The caller prints help to the command's own stream (see smartdc.cli.app).
        raise HelpShown()

    def attach_dash_values(self, args: Sequence[str]) -> list[str]:
        """``-s -name`` as ``-s-name``: an option that takes a value keeps a next word
        starting with ``-`` (that is not one of this parser's options) as its value, as
        ``triton`` reads it, where argparse would see a missing argument."""
        takes_value = {
            option
            for action in self._actions
            if action.option_strings and action.nargs is None
            for option in action.option_strings
        }
        known = {option for action in self._actions for option in action.option_strings}
        out: list[str] = []
        index = 0
        while index < len(args):
            word = args[index]
            following = args[index + 1] if index + 1 < len(args) else None
            if (
                word in takes_value
                and following is not None
                and following.startswith("-")
                and following != "--"
                and following.split("=", 1)[0] not in known
            ):
                out.append(f"{word}={following}" if word.startswith("--") else word + following)
                index += 2
                continue
            out.append(word)
            index += 1
        return out

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise HelpShown()


class HelpShown(Exception):
    """``-h`` was given and help was printed: exit 0."""


class Command(Record):
    """A leaf command."""

    __slots__ = (
        "aliases",
        "configure",
        "description",
        "handler",
        "hidden",
        "name",
        "passthrough",
        "summary",
    )
    name: str
    summary: str
    handler: Handler
    configure: Configure | None
    aliases: tuple[str, ...]
    hidden: bool
    #: Extra text under the usage in ``--help``.
    description: str | None
    #: Arguments after the known ones are passed through untouched (``ssh`` args).
    passthrough: bool

    def __init__(
        self,
        name: str,
        summary: str,
        handler: Handler,
        configure: Configure | None = None,
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
        description: str | None = None,
        passthrough: bool = False,
    ) -> None:
        self.name = name
        self.summary = summary
        self.handler = handler
        self.configure = configure
        self.aliases = aliases
        self.hidden = hidden
        self.description = description
        self.passthrough = passthrough

    def parser(self, prog: str) -> ArgParser:
        """The parser for this command, named ``prog`` in messages."""
        parser = ArgParser(prog, self.description or self.summary)
        if self.configure is not None:
            self.configure(parser)
        return parser


class Group(Record):
    """A command with subcommands (``instance``, ``instance tag`` ...).

    ``children`` may name, in their place, a module whose ``COMMANDS`` tuple holds some of
    them (``"smartdc.cli.commands.instance_tags"``): such a module is imported only when a
    name is looked for past the children before it, or when all are listed (help,
    completion), so ``smartdc instance list`` does not load the code of ``instance tag``.
    ``default`` names the subcommand run when none is given (``triton rbac`` lists help;
    ``triton profile`` too, so most groups have none).
    """

    __slots__ = ("_parts", "aliases", "default", "hidden", "name", "summary")
    name: str
    summary: str
    aliases: tuple[str, ...]
    hidden: bool
    default: str | None
    _parts: list[Command | Group | str]

    def __init__(
        self,
        name: str,
        summary: str,
        children: Sequence[Command | Group | str] = (),
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
        default: str | None = None,
    ) -> None:
        self.name = name
        self.summary = summary
        self._parts = list(children)
        self.aliases = aliases
        self.hidden = hidden
        self.default = default

    def _expand(self, index: int) -> None:
        """Replace the module named at ``index`` by the commands it holds."""
        import importlib

        module = importlib.import_module(str(self._parts[index]))
        commands: Sequence[Command | Group] = module.COMMANDS
        self._parts[index : index + 1] = list(commands)

    @property
    def children(self) -> tuple[Command | Group, ...]:
        """Every subcommand, in order (loading the modules that hold them)."""
        index = 0
        while index < len(self._parts):
            if isinstance(self._parts[index], str):
                self._expand(index)
            else:
                index += 1
        return tuple(part for part in self._parts if not isinstance(part, str))

    def find(self, name: str) -> Command | Group | None:
        """The child called ``name`` or one of its aliases."""
        index = 0
        while index < len(self._parts):
            part = self._parts[index]
            if isinstance(part, str):
                self._expand(index)
                continue
            if name == part.name or name in part.aliases:
                return part
            index += 1
        return None

    def help_text(self, prog: str) -> str:
        """The group's help: usage and one line per visible subcommand."""
        lines = [self.summary, "", "Usage:", f"    {prog} COMMAND [ARGS...]", "", "Commands:"]
        rows = []
        for child in self.children:
            if child.hidden:
                continue
            label = child.name + (f" ({', '.join(child.aliases)})" if child.aliases else "")
            rows.append((label, child.summary))
        width = max((len(label) for label, _ in rows), default=0)
        lines.extend(f"    {label.ljust(width)}  {summary}" for label, summary in rows)
        return "\n".join(lines) + "\n"
