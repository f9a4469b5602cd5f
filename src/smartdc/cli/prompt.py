"""Asking the user: yes/no questions, one-line answers, and editing text in ``$EDITOR``.

Questions are asked in one of three places, as the commands need:

* :func:`confirm`, before a destructive action: standard input must be a terminal, else the
  command fails and points at ``-f`` (triton opens ``/dev/tty`` there, and crashes without one).
* :func:`ask` and :func:`ask_yes_no` read the answers from standard input whatever it is, so
  ``echo y | smartdc rbac ...`` works.
* :func:`terminal` talks to the command's streams, or to ``/dev/tty`` when the process's own
  standard input is not a terminal, as triton's ``promptYesNo`` does (``profile``).

Prompts go to standard output when it is a terminal, else to standard error, so that what a
command prints stays clean in a pipe. Every yes/no question is asked again until it is
answered (node-triton lib/common.js ``promptYesNo``); the end of input or Ctrl-C means no.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: What is asked after an edit that could not be used (node-triton's promptEnter, whose
#: ``read`` module adds the space).
RE_EDIT_PROMPT = "Press <Enter> to re-edit, Ctrl+C to abort. "


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Prompter:
    """Where questions are written and answers read.

    ``echo_newline`` ends each answer's line on the prompt's stream, for input that is not a
    terminal (which echoes the user's Enter itself). ``owned`` is a stream to close with
    :meth:`close` (an opened ``/dev/tty``).
    """

    def __init__(
        self, reader: Any, writer: Any, *, echo_newline: bool = False, owned: Any = None
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.echo_newline = echo_newline
        self._owned = owned

    def ask(self, prompt: str) -> str | None:
        """Show ``prompt`` and read one line (without its newline); ``None`` at the end of
        input or on Ctrl-C."""
        self.writer.write(prompt)
        self.writer.flush()
        try:
            line = self.reader.readline()
        except KeyboardInterrupt:
            line = ""
        if self.echo_newline or not line:
            self.writer.write("\n")
            self.writer.flush()
        if not line:
            return None
        return str(line).rstrip("\r\n")

    def yes_no(self, prompt: str, *, default: str | None = None) -> bool:
        """Ask until the answer is yes or no (an empty answer is ``default``, ``y`` or ``n``,
        when there is one); no answer at all is no."""
        while True:
            answer = self.ask(prompt)
            if answer is None:
                return False
            answer = answer.strip().lower()
            if answer == "" and default:
                return default == "y"
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.writer.write('Please enter "y", "yes", "n" or "no".\n')

    def close(self) -> None:
        """Close the terminal this prompter opened, if any."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> Prompter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def prompter(context: Context) -> Prompter:
    """Questions on standard output (standard error when it is not a terminal), answers
    from standard input."""
    stdout = context.streams.stdout
    writer = stdout if _is_tty(stdout) else context.streams.stderr
    return Prompter(context.streams.stdin, writer, echo_newline=not context.stdin_interactive)


def terminal(context: Context) -> Prompter:
    """The command's streams when they are a terminal (or are not the process's own, as in
    tests), else ``/dev/tty``; fails when there is none."""
    import sys

    from smartdc.cli.failures import CommandError

    reader: Any = context.streams.stdin
    writer: Any = context.streams.stdout
    if writer is sys.stdout and not _is_tty(writer):
        writer = context.streams.stderr
    if reader is sys.stdin and not _is_tty(reader):
        try:
            tty = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except OSError:
            raise CommandError(
                "cannot ask for confirmation: there is no terminal (use -f/--force)"
            ) from None
        return Prompter(tty, tty, owned=tty)
    return Prompter(reader, writer)


def ask(context: Context, prompt: str) -> str | None:
    """One line of standard input after ``prompt`` (see :meth:`Prompter.ask`)."""
    return prompter(context).ask(prompt)


def ask_yes_no(context: Context, prompt: str, default: str | None = None) -> bool:
    """A yes/no question answered on standard input (see :meth:`Prompter.yes_no`)."""
    return prompter(context).yes_no(prompt, default=default)


def confirm(context: Context, question: str) -> bool:
    """Ask ``question`` (``... [y/n] ``) until it is answered with yes or no.

    Standard input must be a terminal: otherwise the command fails and points at ``-f``.
    """
    from smartdc.cli.failures import CommandError

    if not context.stdin_interactive:
        raise CommandError(
            f"cannot ask {question.strip()!r}: stdin is not a terminal "
            "(use -f to skip the confirmation)"
        )
    return ask_yes_no(context, question)


def confirm_on_terminal(context: Context, question: str) -> bool:
    """Ask ``question`` on the :func:`terminal` until it is answered with yes or no."""
    with terminal(context) as asking:
        return asking.yes_no(question)


def go_ahead(
    context: Context,
    question: str,
    *,
    skip: bool = False,
    asking: Callable[[Context, str], bool] = confirm,
) -> bool:
    """Whether to go on: ``skip`` (``-f``, ``-y``), or the user says yes to ``question``;
    otherwise ``Aborting`` is printed on standard error."""
    if skip or asking(context, question):
        return True
    context.streams.stdout.flush()
    context.err("Aborting")
    return False


def delete_question(noun: str, names: Sequence[str], nouns: str | None = None) -> str:
    """``Delete key "a"? [y/n] `` or ``Delete 2 keys (a, b)? [y/n] ``, as triton asks."""
    if len(names) == 1:
        return f'Delete {noun} "{names[0]}"? [y/n] '
    return f"Delete {len(names)} {nouns or noun + 's'} ({', '.join(names)})? [y/n] "


def delete_each(
    context: Context,
    names: Sequence[str],
    noun: str,
    delete: Callable[[str], object],
    deleted: Callable[[str], str],
    *,
    skip: bool = False,
    nouns: str | None = None,
    asking: Callable[[Context, str], bool] = confirm,
) -> None:
    """Confirm deleting ``names`` (see :func:`go_ahead`), then ``delete`` each in turn and
    print ``deleted(name)``; the first failure stops the rest, as in triton."""
    if not names or not go_ahead(
        context, delete_question(noun, names, nouns), skip=skip, asking=asking
    ):
        return
    for name in names:
        delete(name)
        context.out(deleted(name))


# --- editing in $EDITOR ------------------------------------------------------------------------


class EditProblem(Exception):
    """The edited text cannot be used; the user is offered another go.

    ``line`` is what is printed on standard error.
    """

    def __init__(self, message: str, *, line: str | None = None) -> None:
        super().__init__(message)
        self.line = line if line is not None else f"Error with your changes: {message}"

    @classmethod
    def refused(cls, heading: str, message: str) -> EditProblem:
        """The edit was refused by the server: ``heading`` then the reason (on the lines
        below it, indented, when it has several)."""
        if "\n" in message:
            line = f"{heading}\n" + "\n".join("    " + part for part in message.splitlines())
        else:
            line = f"{heading} {message}"
        return cls(message, line=line)


def run_editor(context: Context, text: str, filename: str) -> str:
    """Let the user edit ``text`` in ``$EDITOR`` (``/usr/bin/vi`` when unset, as triton), in a
    temporary file whose name ends with ``filename``; the text it holds afterwards."""
    import contextlib
    import json
    import os
    import shlex
    import subprocess
    import tempfile

    from smartdc.cli.failures import CommandError

    editor = context.env.get("EDITOR") or "/usr/bin/vi"
    fd, path = tempfile.mkstemp(prefix=f"smartdc-{os.getpid()}-edit-", suffix=f"-{filename}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        argv = [*shlex.split(editor), path]
        context.streams.stdout.flush()
        try:
            status = subprocess.run(argv, check=False, env=dict(context.env)).returncode
        except OSError as exc:
            raise CommandError(f"cannot run editor {argv[0]!r}: {exc.strerror or exc}") from None
        if status != 0:
            # as node-triton lib/common.js editInEditor
            code, signal = (status, None) if status > 0 else (None, -status)
            raise CommandError(
                f"editor terminated abnormally: argv={json.dumps(argv)}, "
                f"code={json.dumps(code)}, signal={json.dumps(signal)}"
            )
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def edit_until_done(
    context: Context,
    text: str,
    filename: str,
    save: Callable[[str], str],
    *,
    aborted: str,
    unchanged: str | None = None,
    again: Callable[[Context, str], str | None] = ask,
) -> None:
    """Edit ``text``, then ``save`` the result (it returns the line to print).

    ``save`` raises :class:`EditProblem` for text it cannot use; the user may then edit again
    (Enter) or give up (``again`` answers ``None``), and ``aborted`` is printed. With
    ``unchanged``, an edit that changes nothing (of this attempt's text) prints it instead.
    """
    while True:
        edited = run_editor(context, text, filename)
        if unchanged is not None and edited == text:
            context.out(unchanged)
            return
        try:
            context.out(save(edited))
            return
        except EditProblem as exc:
            context.streams.stdout.flush()
            context.err(exc.line)
        if again(context, RE_EDIT_PROMPT) is None:
            context.out(f"\n{aborted}")
            return
        text = edited


def ask_terminal(context: Context, prompt: str) -> str | None:
    """One line read on the :func:`terminal`; no terminal counts as Ctrl-C (``None``)."""
    from smartdc.cli.failures import CommandError

    try:
        asking = terminal(context)
    except CommandError:
        return None
    with asking:
        return asking.ask(prompt)
