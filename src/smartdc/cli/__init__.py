"""The ``smartdc`` command line: a drop-in for the ``triton`` CLI.

:func:`main` is the console script. Commands load lazily, one noun module at a time
(:mod:`smartdc.cli.registry`), so a command pays only for what it uses.
"""

from __future__ import annotations

from smartdc.cli.app import main

__all__ = ["main"]
