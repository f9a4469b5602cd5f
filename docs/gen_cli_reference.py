"""A mkdocs hook that writes ``cli.md``: the help of every ``smartdc`` command, at build time.

The page is made from the same command table and argparse parsers that ``smartdc --help``
and ``smartdc <command> --help`` print, so it cannot fall behind the code. The hook also
replaces :data:`EMULATOR_HELP_MARKER` in any page with ``smartdc-emulator --help``, and
turns the Sphinx roles the docstrings use (``:class:`~smartdc.errors.WaitError```), which
mkdocstrings leaves as text, into cross-references.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

#: Help is wrapped to this many columns, whatever the terminal building the docs.
HELP_COLUMNS = "100"
#: A page line holding only this is replaced by the emulator's ``--help``.
EMULATOR_HELP_MARKER = "<!-- smartdc-emulator --help -->"

#: A Sphinx role as it comes out of the Markdown: ``:class:<code>~smartdc.wait.wait_for</code>``.
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):<code>(~?)([\w.]+)</code>")

#: The names ``smartdc`` re-exports, by the module the reference documents them under.
_REEXPORTS = {
    "smartdc.CloudAPI": "smartdc.api.CloudAPI",
    "smartdc.prompt_passphrase": "smartdc.api.prompt_passphrase",
    "smartdc.DataCenter": "smartdc.objects.DataCenter",
    "smartdc.Machine": "smartdc.objects.Machine",
    "smartdc.Snapshot": "smartdc.objects.Snapshot",
    "smartdc.wait_for": "smartdc.wait.wait_for",
}

_INTRO = """\
# CLI reference

`smartdc` is a drop-in for node-triton's `triton`: the same commands, options, environment
variables and profiles. This page is generated when the documentation is built, from the
command definitions themselves; each block is exactly what `smartdc <command> --help`
prints. Commands marked *hidden* work but are left out of `smartdc --help`, as `triton`
leaves them out.

Exit codes: 0 success, 1 an error (usage errors too), 3 the instance, image, ... does not
exist or was deleted.

"""


def _fence(text: str) -> str:
    return "```text\n" + text.rstrip("\n") + "\n```\n"


def _anchor(prog: str) -> str:
    return prog.replace(" ", "-")


def _walk(node: Any, prog: str, hidden: bool) -> Iterator[tuple[str, Any, bool]]:
    """``(prog, node, hidden)`` for ``node`` and, depth first, every subcommand under it."""
    from smartdc.cli.command import Group

    yield prog, node, hidden
    if isinstance(node, Group):
        for child in node.children:
            yield from _walk(child, f"{prog} {child.name}", hidden or child.hidden)


def _help(node: Any, prog: str) -> str:
    from smartdc.cli.command import Group

    if isinstance(node, Group):
        text: str = node.help_text(prog)
        return text
    help_text: str = node.parser(prog).format_help()
    return help_text


def _with_columns(render: Callable[[], str]) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        return render()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def cli_reference() -> str:
    """The Markdown of the CLI reference page."""
    return _with_columns(_render)


def emulator_help() -> str:
    """``smartdc-emulator --help``, as a fenced block."""
    from smartdc.emulator.server import build_parser

    return _fence(_with_columns(lambda: build_parser().format_help()))


def _render() -> str:
    from smartdc.cli import app, registry

    parts = [_INTRO, "## smartdc\n\n", _fence(app.top_help()), "\n"]
    shortcuts = [entry for entry in registry.ENTRIES if entry.path]
    parts.append("## Shortcuts\n\n")
    parts.append("| command | aliases | runs |\n|---|---|---|\n")
    for entry in shortcuts:
        node = app.load_target(entry)
        target = " ".join(("smartdc", node.name, *entry.path))
        aliases = ", ".join(f"`{alias}`" for alias in entry.aliases)
        parts.append(f"| `smartdc {entry.name}` | {aliases} | [`{target}`](#{_anchor(target)}) |\n")
    parts.append("\n")
    for entry in registry.ENTRIES:
        if entry.path:
            continue
        node = app.load_target(entry)
        for prog, sub, hidden in _walk(node, f"smartdc {node.name}", entry.hidden):
            depth = min(prog.count(" ") + 1, 6)
            names = [sub.name, *sub.aliases]
            note = " *(hidden)*" if hidden else ""
            alias_note = f" (aliases: {', '.join(names[1:])})" if len(names) > 1 else ""
            parts.append(f"{'#' * depth} {prog} {{#{_anchor(prog)}}}\n\n")
            if alias_note or note:
                parts.append(f"{sub.summary}{alias_note}{note}\n\n")
            parts.append(_fence(_help(sub, prog)))
            parts.append("\n")
    return "".join(parts)


def on_files(files: Any, config: Any) -> Any:
    """mkdocs hook: add the generated ``cli.md`` to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "cli.md", content=cli_reference()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs hook: put the emulator's ``--help`` where a page asks for it."""
    if EMULATOR_HELP_MARKER not in markdown:
        return markdown
    return markdown.replace(EMULATOR_HELP_MARKER, emulator_help())


def _cross_reference(match: re.Match[str]) -> str:
    short, target = match[1], match[2]
    title = target.rsplit(".", 1)[-1] if short else target
    for public, home in _REEXPORTS.items():
        if target == public or target.startswith(public + "."):
            target = home + target[len(public) :]
            break
    # ``optional``: a name the reference does not document stays plain code, not a warning.
    return f'<autoref identifier="{target}" optional><code>{title}</code></autoref>'


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs hook: Sphinx roles left in rendered docstrings become cross-references, and
    the reST ``::`` that introduces an example block reads as one colon."""
    return _ROLE.sub(_cross_reference, html).replace("::</p>", ":</p>")
