"""``smartdc changefeed``: follow CloudAPI's feed of instance changes, as ``triton changefeed``.

Opens the signed WebSocket of GetChangefeed, subscribes to every VM change (or those of
``--instances``) and prints each change as it comes (node-triton lib/do_changefeed.js): a
short block of text, or with ``-j`` each change's JSON as received. Runs until the server
closes the feed or the user presses Ctrl-C (exit 0 either way, as triton).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smartdc.cli.args import add_positionals, refuse_args
from smartdc.cli.command import ArgParser, Command

if TYPE_CHECKING:
    from smartdc.cli.context import Context


def _configure(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument(
        "--instances",
        action="append",
        default=[],
        metavar="UUID,...",
        help="Comma separated list of instance uuids to watch for changes. If nothing is "
        "said, all the account instances are assumed.",
    )
    add_positionals(parser)


def split_instances(values: list[str]) -> list[str]:
    """``--instances a,b --instances c`` as ``[a, b, c]`` (blanks around commas and empty
    parts dropped, as triton's comma-separated options)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _iso_from_ms(value: Any) -> str:
    """``new Date(Number(value)).toISOString()``; the value itself when it is not a time."""
    from datetime import UTC, datetime

    from smartdc.cli.table import js_string

    try:
        when = datetime.fromtimestamp(float(value) / 1000.0, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        # triton throws here and stops; the raw value is shown instead
        return js_string(value)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def format_change(change: Any) -> str:
    """One change as triton prints it (without the final newline).

    triton prints ``resourceState`` for both ``state`` and ``internal state``; so does this.
    """
    from smartdc.cli import humanize
    from smartdc.cli.table import UNDEFINED, js_string

    if not isinstance(change, dict):
        change = {}
    kind = change.get("changeKind")
    modified = kind.get("subResources", UNDEFINED) if isinstance(kind, dict) else UNDEFINED
    state = js_string(change.get("resourceState", UNDEFINED))
    resource = change.get("changedResourceId", UNDEFINED)
    obj = humanize.short_id(resource) if isinstance(resource, str) else js_string(resource)
    lines = [
        f"modified: {js_string(modified)}",
        f"state: {state}",
        f"internal state: {state}",
        f"object: {obj}",
    ]
    return f"Change ({_iso_from_ms(change.get('published', UNDEFINED))}) =>\n" + "\n".join(
        "    " + line for line in lines
    )


def _instance_ids(context: Context, given: list[str]) -> list[str]:
    """UUIDs as they are; names and short ids looked up (triton passes anything through,
    and CloudAPI then silently watches nothing for them)."""
    from smartdc.cli import humanize, resolve

    return [
        text if humanize.is_uuid(text) else resolve.instance_id(context.api, text) for text in given
    ]


def do_changefeed(context: Context, options: argparse.Namespace) -> int | None:
    """Subscribe and print changes until the feed ends or Ctrl-C."""
    import json

    from smartdc import _websocket as websocket
    from smartdc.api.websockets import changefeed_subscription

    refuse_args(options)
    instances = _instance_ids(context, split_instances(options.instances))
    settings = context.settings
    verify: bool | str = False if settings.insecure else settings.ca_bundle or True
    request = context.api.get_changefeed()
    context.trace(f"changefeed: connecting to {request.url}")
    ws = websocket.connect(request, timeout=30.0, verify=verify)
    vms: list[str | Mapping[str, Any]] | None = list(instances) or None
    subscription = changefeed_subscription(vms=vms)
    stdout = context.streams.stdout
    try:
        ws.send_text(json.dumps(subscription, separators=(",", ":")))
        while True:
            opcode, payload = ws.recv()
            if opcode == websocket.OP_CLOSE:
                context.trace(f"changefeed: closed ({ws.close_code} {ws.close_reason})".rstrip())
                if ws.close_code == websocket.CLOSE_ABNORMAL:
                    # gone without a close frame: triton says so too (on stdout)
                    context.err("Connect reset by peer")
                return None
            if opcode != websocket.OP_TEXT:
                continue  # the feed is JSON text; triton listens to nothing else
            text = payload.decode("utf-8", "replace")
            if options.json:
                context.out(text)
            else:
                try:
                    change = json.loads(text)
                except ValueError:
                    context.err(f"{context.prog}: not a JSON change, skipped: {text[:80]!r}")
                    continue
                context.out(format_change(change))
            stdout.flush()
    except KeyboardInterrupt:
        return 0
    except websocket.WebSocketReset:
        # as triton: a reset ends the feed without an error (its notice goes to stderr here)
        context.err("Connect reset by peer")
        return None
    finally:
        ws.close(wait=1.0)


CHANGEFEED = Command(
    "changefeed",
    "Subscribe to CloudAPI feed of VMs changes.",
    do_changefeed,
    _configure,
)
