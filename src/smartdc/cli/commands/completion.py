"""``smartdc completion [bash|zsh|fish]``: print the shell completion script."""

from __future__ import annotations

import argparse

from smartdc.cli.command import ArgParser, Command
from smartdc.cli.context import Context


def _configure(parser: ArgParser) -> None:
    parser.add_argument(
        "shell",
        nargs="?",
        default="bash",
        choices=("bash", "zsh", "fish"),
        help="The shell to complete in (default bash, as triton).",
    )
    parser.add_argument(
        "--name",
        action="append",
        metavar="COMMAND",
        help="Also complete this command name, e.g. --name triton when triton is an alias "
        "of smartdc (repeatable).",
    )


def do_completion(context: Context, options: argparse.Namespace) -> None:
    """Print the completion script for the chosen shell."""
    from smartdc.cli.complete import script

    names = ["smartdc", *(options.name or [])]
    context.write(script(options.shell, names))


COMPLETION = Command(
    "completion",
    "Emit bash, zsh or fish completion.",
    do_completion,
    _configure,
    description=(
        "Emit shell completion: commands, options, and instance, image, package, network,\n"
        "volume, firewall rule and key names (fetched once and kept for five minutes).\n\n"
        "    source <(smartdc completion bash)      # bash\n"
        "    source <(smartdc completion zsh)       # zsh\n"
        "    smartdc completion fish | source       # fish"
    ),
)
