"""``smartdc cloudapi`` (hidden): send one signed request to any CloudAPI path, print the answer.

As node-triton lib/do_cloudapi.js: ``-X METHOD`` (default GET, or PUT when ``-d`` is given),
``-H 'Name: value'`` headers, ``-d JSON`` body, ``-i`` to print the status line and headers on
stderr; the body is printed as 4-space indented JSON. The path is sent as given, so ``/my/...``
is left for CloudAPI to read as the caller's own account.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli.command import ArgParser, Command, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: The methods triton's client can send.
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")


def _configure(parser: ArgParser) -> None:
    parser.add_argument(
        "-X", "--method", metavar="METHOD", help='Request method to use. Default is "GET".'
    )
    parser.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="HEADER",
        help='Headers to send with request ("Name: value").',
    )
    parser.add_argument(
        "-i",
        "--headers",
        dest="show_headers",
        action="store_true",
        help="Print response headers to stderr.",
    )
    parser.add_argument(
        "-d",
        "--data",
        metavar="DATA",
        help='Add POST data. This must be valid JSON (or "@FILE", "@-" for stdin).',
    )
    parser.add_argument("paths", nargs="*", metavar="ENDPOINT")


def parse_header(raw: str) -> tuple[str, str]:
    """``"Name: value"`` (or ``"Name=value"``) as ``(name, value)``."""
    from smartdc.cli.failures import CommandError

    name, sep, value = raw.partition(":")
    if not sep:
        # triton's synopsis says HEADER=VAL though it splits on ":"; take both
        name, sep, value = raw.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"failed to parse header: {raw}")
    return name.strip(), value.lstrip()


def _request_body(context: Context, data: str) -> Any:
    import json

    from smartdc.cli.failures import CommandError

    text = data
    if data.startswith("@"):
        source = data[1:]
        if source == "-":
            text = context.streams.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"given DATA is not valid JSON: {exc}") from None


def _split_path(path: str) -> tuple[str, dict[str, str] | None]:
    from urllib.parse import parse_qsl

    if not path.startswith("/"):
        # triton sends such a path as it is and CloudAPI answers 404; a path is meant
        path = "/" + path
    route, sep, query = path.partition("?")
    if not sep:
        return route, None
    return route, dict(parse_qsl(query, keep_blank_values=True))


def do_cloudapi(context: Context, options: argparse.Namespace) -> None:
    """Send the request; print headers to stderr with ``-i`` (or for HEAD), then the body."""
    from smartdc.cli import table
    from smartdc.cli.failures import CommandError

    if len(options.paths) != 1:
        raise CommandError("invalid arguments")
    method = (options.method or ("PUT" if options.data else "GET")).upper()
    if method not in METHODS:
        raise UsageError(f'invalid HTTP method: "{options.method}" (use {", ".join(METHODS)})')
    headers = dict(parse_header(raw) for raw in options.header)
    body = _request_body(context, options.data) if options.data else None
    path, params = _split_path(options.paths[0])
    # the raw request path: a 3xx answer (GetDatacenter's 302) is printed, not raised
    from smartdc.api._operation import Call

    response = context.api._send(
        Call(method, path, params=params, json=body, headers=headers, accept_redirect=True)
    )
    if options.show_headers or method == "HEAD":
        from http import HTTPStatus

        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        scheme = "HTTPS" if response.url.startswith("https:") else "HTTP"
        context.err(f"{scheme}/1.1 {response.status} {phrase}".rstrip())
        for name, value in response.headers.items():
            context.err(f"{name}: {value}")
        context.err("")
    # triton prints "undefined" for an empty body (a DELETE's 204); nothing is printed here
    if method != "HEAD" and response.body is not None:
        context.write(table.json_pretty(response.body))


CLOUDAPI = Command(
    "cloudapi",
    "Raw cloudapi request.",
    do_cloudapi,
    _configure,
    hidden=True,
    description=(
        "Raw cloudapi request.\n\n"
        "    smartdc cloudapi [-X METHOD] [-H 'HEADER: VALUE'] [-d DATA] ENDPOINT\n\n"
        "Examples:\n"
        "    smartdc cloudapi /--ping\n"
        "    smartdc cloudapi /my/machines"
    ),
)
