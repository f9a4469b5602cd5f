"""List every machine as NDJSON: the smartdc side of ``triton instance list -j``.

Run as a fresh process, so its time includes interpreter start and ``import smartdc``, as a
user running a command sees it. Configured like ``triton``: ``TRITON_URL``,
``TRITON_ACCOUNT`` and ``TRITON_KEY_ID`` (the key's fingerprint); the key is looked up by
that fingerprint in ssh-agent, then in ``~/.ssh``.

    TRITON_URL=... TRITON_ACCOUNT=... TRITON_KEY_ID=... python bench/list_machines_cli.py
"""

from __future__ import annotations

import json
import os
import sys

from smartdc import CloudAPI


def main() -> int:
    with CloudAPI(
        os.environ["TRITON_URL"], os.environ["TRITON_ACCOUNT"], key_id=os.environ["TRITON_KEY_ID"]
    ) as api:
        machines = api.list_machines()
    # Compact separators: the same bytes per machine that triton's JSON.stringify prints.
    sys.stdout.write("".join(json.dumps(m, separators=(",", ":")) + "\n" for m in machines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
