"""Shell completion: what may come next on a ``smartdc`` command line.

The shell scripts that ``smartdc completion`` prints call the hidden ``smartdc __complete --
WORDS...`` with the words typed so far (the last one is the word being completed, perhaps
empty) and offer the lines it prints. Commands and options come from the command tree
itself; instance, image, package, network, volume, firewall rule and key names come from a
per-profile cache file that lives five minutes, ``<cache dir>/<type>.completions`` with one
name per line, the file ``triton``'s own completion keeps (node-triton lib/cli.js
``_emitCompletions``), so each tool reuses what the other fetched.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from smartdc.cli import registry
from smartdc.cli.command import ArgParser, Command, Group

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.cli.context import Context, Streams

#: How long fetched names are reused, as triton's completion cache.
CACHE_SECONDS = 300.0

#: Global options that take a value (their value is skipped when walking the words).
_GLOBAL_WITH_VALUE = frozenset(
    {
        "-p",
        "--profile",
        "-a",
        "--account",
        "--act-as",
        "-u",
        "--user",
        "-r",
        "--role",
        "-k",
        "--keyId",
        "-U",
        "--url",
        "--ca-bundle",
    }
)
_GLOBAL_FLAGS = ("-h", "--help", "--version", "-v", "--verbose", "-i", "--insecure")

#: Which names a positional argument takes, from its metavar (or dest) as commands name them.
_ARG_TYPES = {
    "INST": "instances",
    "INSTANCE": "instances",
    "INSTANCES": "instances",
    "IMAGE": "images",
    "IMG": "images",
    "PACKAGE": "packages",
    "PKG": "packages",
    "NETWORK": "networks",
    "NET": "networks",
    "VOLUME": "volumes",
    "VOL": "volumes",
    "FWRULE": "fwrules",
    "RULE": "fwrules",
    "KEY": "keys",
    "PROFILE": "profiles",
    "NAME": None,
}


def _names_of(kind: str, api: CloudAPI) -> list[str]:
    """The completions for ``kind``, fetched from CloudAPI."""
    from smartdc.cli.humanize import image_name_version

    names: list[str] = []
    if kind == "instances":
        for machine in api.list_machines():
            names += [machine.get("name") or "", str(machine["id"])[:8]]
    elif kind == "images":
        for image in api.list_images():
            names += [image.get("name") or "", image_name_version(image), str(image["id"])[:8]]
    elif kind == "packages":
        names += [package.get("name") or "" for package in api.list_packages()]
    elif kind == "networks":
        for network in api.list_networks():
            names += [network.get("name") or "", str(network["id"])[:8]]
    elif kind == "volumes":
        names += [volume.get("name") or "" for volume in api.list_volumes()]
    elif kind == "fwrules":
        names += [str(rule["id"])[:8] for rule in api.list_firewall_rules()]
    elif kind == "keys":
        names += [key.get("name") or "" for key in api.list_keys()]
    # A name with a space cannot be offered as one shell word.
    return sorted({name for name in names if name and " " not in name})


def cached_names(context: Context, kind: str) -> list[str]:
    """Names of ``kind`` from the cache file if fresh, else fetched (and cached)."""
    if kind == "profiles":
        from smartdc.cli.config import list_profiles

        return sorted(profile.name for profile in list_profiles(context.config_dir, context.env))
    from smartdc.cli.cache import read_fresh, store

    path = Path(context.settings.cache_dir) / f"{kind}.completions"
    text = read_fresh(path, CACHE_SECONDS)
    if text is not None:
        return [line for line in text.splitlines() if line]
    names = _names_of(kind, context.api)
    store(path, "".join(f"{name}\n" for name in names))
    return names


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(
        option
        for action in parser._actions
        for option in action.option_strings
        if action.help is not argparse.SUPPRESS
    )


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions
        if action.option_strings and action.nargs != 0
        for option in action.option_strings
    }


def _kind_of(action: argparse.Action, index: int) -> str | None:
    """The kind of the ``index``-th word this positional takes: a metavar of several words
    (``IMAGE PACKAGE``) names each in turn, its last one repeating (``INST...``)."""
    words = str(action.metavar or action.dest).upper().split() or [""]
    label = words[min(index, len(words) - 1)].strip(".[]")
    return _ARG_TYPES.get(label) or _ARG_TYPES.get(label.removesuffix("S"))


def _positional_kind(parser: argparse.ArgumentParser, index: int) -> str | None:
    """The kind of names the ``index``-th positional argument takes, if known."""
    for action in (action for action in parser._actions if not action.option_strings):
        if action.nargs in ("*", "+", argparse.REMAINDER):
            return _kind_of(action, index)
        if index == 0:
            return _kind_of(action, 0)
        index -= 1
    return None


def global_option_count(words: Sequence[str]) -> int:
    """How many of ``words`` are global options (and their values) before the command."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _GLOBAL_WITH_VALUE else 1
    return min(index, len(words))


def candidates(words: Sequence[str], names: Callable[[str], list[str]]) -> list[str]:
    """Completions for the last of ``words`` (the command line after ``smartdc``)."""
    *before, current = words or [""]
    index = global_option_count(before)
    rest = before[index:]
    if not rest:
        if current.startswith("-"):
            options = sorted([*_GLOBAL_WITH_VALUE, *_GLOBAL_FLAGS])
            return [option for option in options if option.startswith(current)]
        if before and before[-1] in ("-p", "--profile"):
            return [name for name in names("profiles") if name.startswith(current)]
        if before and before[-1] in _GLOBAL_WITH_VALUE:
            return []
        top = ["help", *(n for e in registry.ENTRIES for n in (e.name, *e.aliases))]
        return sorted({name for name in top if name.startswith(current)})
    from smartdc.cli.app import load_target

    entry = registry.find(rest[0])
    if entry is None:
        return []
    node: Command | Group = load_target(entry)
    for step in entry.path:
        if isinstance(node, Group) and (found := node.find(step)) is not None:
            node = found
    given = list(rest[1:])
    while isinstance(node, Group) and given:
        found = node.find(given[0])
        if found is None:
            return []
        node, given = found, given[1:]
    if isinstance(node, Group):
        children = [
            n for child in node.children if not child.hidden for n in (child.name, *child.aliases)
        ]
        return sorted({name for name in children if name.startswith(current)})
    parser: ArgParser = node.parser("smartdc")
    if current.startswith("-"):
        return [option for option in _option_strings(parser) if option.startswith(current)]
    with_value = _value_options(parser)
    if given and given[-1] in with_value:
        return []
    positional = 0
    skip = False
    for word in given:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in with_value
        else:
            positional += 1
    kind = _positional_kind(parser, positional)
    if kind is None:
        return []
    return [name for name in names(kind) if name.startswith(current)]


def run(args: Sequence[str], streams: Streams) -> int:
    """``smartdc __complete -- WORDS...``: print one completion per line; never fail loudly.

    ``WORDS`` is the whole command line so far, program name first; global options in it
    (``-p PROFILE`` ...) choose the profile whose names are offered.
    """
    from smartdc.cli.app import global_options
    from smartdc.cli.context import Context

    words = list(args[1:] if args[:1] == ["--"] else args)
    if words and os.path.basename(words[0]) in ("smartdc", "triton"):
        words = words[1:]
    prefix = words[: global_option_count(words[:-1])]
    try:
        options, verbose = global_options(prefix)
    except Exception:  # a half-typed option: complete without it
        options, verbose = global_options([])
    context = Context("smartdc __complete", options, verbose=verbose, streams=streams)

    def names(kind: str) -> list[str]:
        try:
            return cached_names(context, kind)
        except Exception as exc:  # completion must never print a traceback into the shell
            context.trace(f"completion of {kind} failed: {exc}")
            return []

    try:
        found = candidates(words, names)
    except Exception as exc:
        context.trace(f"completion failed: {exc}")
        return 0
    finally:
        context.close()
    streams.stdout.write("".join(f"{name}\n" for name in found))
    return 0


def script(shell: str, names: Sequence[str]) -> str:
    """The completion script for ``shell`` (bash, zsh or fish), for commands ``names``."""
    joined = " ".join(names)
    if shell == "bash":
        return _BASH.replace("{names}", joined)
    if shell == "zsh":
        return _ZSH.replace("{names}", joined)
    if shell == "fish":
        return "".join(_FISH.replace("{name}", name) for name in names)
    raise ValueError(f"unknown shell {shell!r}")


_BASH = """\
# smartdc completion for bash. Load it with:
#     source <(smartdc completion bash)
# or save it as ~/.local/share/bash-completion/completions/smartdc
_smartdc_complete() {
    local IFS=$'\\n'
    local line=("${COMP_WORDS[@]:0:$((COMP_CWORD + 1))}")
    COMPREPLY=($("${COMP_WORDS[0]}" __complete -- "${line[@]}" 2>/dev/null))
}
complete -o default -F _smartdc_complete {names}
"""

_ZSH = """\
#compdef {names}
# smartdc completion for zsh. Load it with:
#     source <(smartdc completion zsh)
# or save it as _smartdc in a directory on $fpath.
_smartdc() {
    local -a found
    found=("${(@f)$("${words[1]}" __complete -- "${(@)words[1,CURRENT]}" 2>/dev/null)}")
    compadd -a found
}
compdef _smartdc {names}
"""

_FISH = """\
# smartdc completion for fish: smartdc completion fish | source
function __{name}_complete
    {name} __complete -- (commandline -opc) (commandline -ct) 2>/dev/null
end
complete -c {name} -f -a '(__{name}_complete)'
"""
