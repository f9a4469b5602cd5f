"""``python -m smartdc.emulator``: the ``smartdc-emulator`` command."""

from __future__ import annotations

import sys

from smartdc.emulator.launch import main

sys.exit(main())
