"""The ``smartdc-emulator`` command: says which extra to install when the server stack is
missing, then runs :func:`smartdc.emulator.server.main`."""

from __future__ import annotations

import importlib.util
import sys

#: What the emulator needs beyond the library (the ``emulator`` extra), by import name.
EXTRA_MODULES = ("uvicorn", "wsproto", "semantic_version", "anyio")
INSTALL_HINT = "pip install 'smartdc[emulator]'"


def missing_modules() -> list[str]:
    """The emulator's modules that cannot be imported here."""
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None) -> int:
    """Run the emulator, or exit 2 naming the extra to install."""
    missing = missing_modules()
    if missing:
        print(
            f"smartdc-emulator: the emulator needs the 'emulator' extra"
            f" ({', '.join(missing)} not installed): {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2
    from smartdc.emulator.server import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
