"""``smartdc accesskey`` against a small fake CloudAPI that records what the CLI sends.

The emulator has no access keys yet, so each test gives the fake server canned answers
shaped as CloudAPI's (sdc-cloudapi lib/endpoints/accesskeys.js) and checks the method, path,
query and body of every request, and what the command prints. :class:`FakeCloudAPI` is
reused by the other CLI test modules of this area for answers the emulator cannot give.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from smartdc.cli import main
from smartdc.cli.context import Streams
from tests.cli.harness import CliWorld, Result
from tests.conftest import TestKey


@dataclass
class Recorded:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    def json(self) -> Any:
        return self.body


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeCloudAPI:
    """An HTTP/1.1 server on 127.0.0.1 answering canned responses by ``(method, path)``.

    Unrouted requests get a CloudAPI-style 404. ``requests`` lists what came, in order.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer] = {}
        self.requests: list[Recorded] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.requests.append(
                    Recorded(
                        self.command,
                        parts.path,
                        dict(parse_qsl(parts.query, keep_blank_values=True)),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                answer = fake.routes.get((self.command, parts.path))
                if answer is None:
                    answer = Answer(
                        404,
                        {"code": "ResourceNotFound", "message": f"{parts.path} does not exist"},
                    )
                content = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        self.routes[(method, path)] = Answer(status, body)

    def take(self) -> list[Recorded]:
        """The requests received since the last call."""
        taken, self.requests = self.requests, []
        return taken

    def __enter__(self) -> FakeCloudAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCloudAPI]:
    with FakeCloudAPI() as server:
        yield server


@pytest.fixture(scope="module")
def fake_world(
    fake: FakeCloudAPI, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> CliWorld:
    return CliWorld(tmp_path_factory.mktemp("fake-home"), fake.url, keys["rsa"])


@pytest.fixture(autouse=True)
def _fresh(fake: FakeCloudAPI) -> None:
    fake.routes.clear()
    fake.take()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_on_terminal(world: CliWorld, *args: str, answer: str) -> Result:
    """``smartdc ARGS`` with a terminal on stdin that types ``answer``."""
    streams = Streams(stdin=_Terminal(answer), stdout=io.StringIO(), stderr=io.StringIO())
    with world._environment():
        status = main(list(args), streams)
    assert isinstance(streams.stdout, io.StringIO) and isinstance(streams.stderr, io.StringIO)
    return Result(status, streams.stdout.getvalue(), streams.stderr.getvalue())


ID_A = "AKIDZZZ00000000000002"
ID_B = "AKIDAAA00000000000001"
KEY_A: dict[str, Any] = {
    "accesskeyid": ID_A,
    "credentialtype": "permanent",
    "status": "Active",
    "description": "ci robot",
    "created": "2025-03-02T10:00:00.000Z",
    "updated": "2025-03-04T10:00:00.000Z",
    "expiration": None,
}
KEY_B: dict[str, Any] = {
    "accesskeyid": ID_B,
    "credentialtype": "permanent",
    "status": "Inactive",
    "created": "2025-01-01T09:00:00.000Z",
    "updated": "2025-01-01T09:00:00.000Z",
    "expiration": None,
}


def test_list_is_sorted_by_created_with_triton_columns(
    fake: FakeCloudAPI, fake_world: CliWorld
) -> None:
    fake.route("GET", "/test/accesskeys", body=[KEY_A, KEY_B])
    result = fake_world.ok("accesskey", "list")
    assert result.out.splitlines() == [
        "ACCESSKEYID            STATUS    UPDATED",
        "AKIDAAA00000000000001  Inactive  2025-01-01T09:00:00.000Z",
        "AKIDZZZ00000000000002  Active    2025-03-04T10:00:00.000Z",
    ]
    [request] = fake.take()
    assert (request.method, request.path, request.query, request.body) == (
        "GET",
        "/test/accesskeys",
        {},
        None,
    )
    assert request.headers["authorization"].startswith("Signature keyId=")

    long = fake_world.ok("accesskey", "ls", "-l", "-s-CREATED").out.splitlines()
    assert long[0].split() == ["ACCESSKEYID", "STATUS", "DESCRIPTION", "CREATED", "UPDATED"]
    assert long[1].startswith("AKIDZZZ") and "ci robot" in long[1]
    assert long[2].startswith("AKIDAAA") and " - " in long[2]  # no description
    # -o is lower-cased as in triton
    assert fake_world.ok("accesskey", "ls", "-H", "-o", "AccessKeyId").out.splitlines() == [
        "AKIDAAA00000000000001",
        "AKIDZZZ00000000000002",
    ]
    assert fake_world.ok("accesskey", "ls", "-j").ndjson() == [KEY_A, KEY_B]


def test_get_prints_one_row_or_json_and_unknown_id_exits_1(
    fake: FakeCloudAPI, fake_world: CliWorld
) -> None:
    fake.route("GET", f"/test/accesskeys/{ID_A}", body=KEY_A)
    assert fake_world.ok("accesskey", "get", ID_A).out.splitlines() == [
        "ACCESSKEYID            STATUS  UPDATED",
        "AKIDZZZ00000000000002  Active  2025-03-04T10:00:00.000Z",
    ]
    assert fake_world.ok("accesskey", "get", "-j", ID_A).json() == KEY_A
    assert [r.path for r in fake.take()] == [f"/test/accesskeys/{ID_A}"] * 2

    missing = fake_world.run("accesskey", "get", "AKIDNOPE")
    assert missing.status == 1
    assert missing.err == (
        "smartdc accesskey get: error (ResourceNotFound): "
        "/test/accesskeys/AKIDNOPE does not exist\n"
    )
    for args, message in (
        ((), "missing ACCESSKEYID argument"),
        (("a", "b"), "incorrect number of arguments"),
    ):
        result = fake_world.run("accesskey", "get", *args)
        assert result.status == 1
        assert result.err.startswith(f"smartdc accesskey get: error (Usage): {message}\n")


def test_create_shows_the_secret_and_sends_description_and_status(
    fake: FakeCloudAPI, fake_world: CliWorld
) -> None:
    created = {**KEY_A, "accesskeysecret": "s3cr3t-shown-once"}
    fake.route("POST", "/test/accesskeys", status=201, body=created)

    plain = fake_world.ok("accesskey", "create")
    assert plain.out.splitlines() == [
        "ACCESSKEYID            ACCESSKEYSECRET",
        "AKIDZZZ00000000000002  s3cr3t-shown-once",
    ]
    [request] = fake.take()
    assert (request.method, request.path, request.query) == ("POST", "/test/accesskeys", {})
    assert request.body in (None, {})

    described = fake_world.ok("accesskey", "create", "-d", "ci robot", "--status", "Active")
    assert described.out.splitlines()[0].split() == [
        "ACCESSKEYID",
        "ACCESSKEYSECRET",
        "STATUS",
        "DESCRIPTION",
    ]
    [request] = fake.take()
    assert request.body == {"status": "Active", "description": "ci robot"}

    assert fake_world.ok("accesskey", "create", "-j", "--desc", "x").json() == created
    assert fake.take()[0].body == {"description": "x"}
    assert fake_world.ok("accesskey", "create", "-H", "-o", "accesskeysecret").out == (
        "s3cr3t-shown-once\n"
    )
    result = fake_world.run("accesskey", "create", "extra")
    assert result.status == 1 and "incorrect number of arguments" in result.err


def test_update_posts_the_fields_to_the_key(
    fake: FakeCloudAPI, fake_world: CliWorld, tmp_path: Path
) -> None:
    path = f"/test/accesskeys/{ID_A}"
    fake.route("POST", path, status=201, body={**KEY_A, "status": "Inactive"})
    result = fake_world.ok("accesskey", "update", ID_A, "status=Inactive", "description=Some Desc")
    assert result.out == (f"Updated access key {ID_A} (fields: status, description)\n")
    [request] = fake.take()
    assert (request.method, request.path) == ("POST", path)
    assert request.body == {"status": "Inactive", "description": "Some Desc"}

    # values stay strings (the fields are typed string), from a file or stdin
    update = tmp_path / "update.json"
    update.write_text('{"description": "from a file"}')
    fake_world.ok("accesskey", "update", "-f", str(update), ID_A)
    fake_world.ok("accesskey", "update", ID_A, "-f", "-", stdin='{"status":"Active"}')
    fake_world.ok("accesskey", "update", ID_A, "description=123")
    assert [r.body for r in fake.take()] == [
        {"description": "from a file"},
        {"status": "Active"},
        {"description": "123"},
    ]

    for args, message in (
        ((), "missing ACCESSKEYID argument(s)"),
        ((ID_A,), "Input object must not be empty"),
        ((ID_A, "foo=bar"), "unknown or unupdateable field: foo"),
        ((ID_A, "status"), 'invalid key=value: "status"'),
    ):
        bad = fake_world.run("accesskey", "update", *args)
        assert bad.status == 1, args
        assert bad.err.startswith(f"smartdc accesskey update: error (Usage): {message}"), bad.err
    assert fake.take() == []


def test_delete_confirms_unless_forced_and_stops_at_the_first_failure(
    fake: FakeCloudAPI, fake_world: CliWorld
) -> None:
    for accesskeyid in (ID_A, ID_B):
        fake.route("DELETE", f"/test/accesskeys/{accesskeyid}", status=204)

    forced = fake_world.ok("accesskey", "rm", "-f", ID_A, ID_B)
    assert forced.out == (f'Deleted access key "{ID_A}"\nDeleted access key "{ID_B}"\n')
    assert [(r.method, r.path) for r in fake.take()] == [
        ("DELETE", f"/test/accesskeys/{ID_A}"),
        ("DELETE", f"/test/accesskeys/{ID_B}"),
    ]

    no = run_on_terminal(fake_world, "accesskey", "delete", ID_A, answer="n\n")
    assert (no.status, no.out) == (0, "")
    assert no.err == f'Delete access key "{ID_A}"? [y/n] Aborting\n'
    unclear = run_on_terminal(fake_world, "accesskey", "delete", ID_A, answer="maybe\nno\n")
    assert unclear.err == (
        f'Delete access key "{ID_A}"? [y/n] Please enter "y", "yes", "n" or "no".\n'
        f'Delete access key "{ID_A}"? [y/n] Aborting\n'
    )
    assert fake.take() == []
    yes = run_on_terminal(fake_world, "accesskey", "delete", ID_A, ID_B, answer="y\n")
    assert yes.status == 0
    assert yes.err.startswith(f"Delete 2 access keys ({ID_A}, {ID_B})? [y/n] ")
    assert len(fake.take()) == 2

    # no terminal to ask on: refuse rather than delete (triton crashes here)
    piped = fake_world.run("accesskey", "delete", ID_A, stdin="y\n")
    assert piped.status == 1 and "-f" in piped.err
    assert fake.take() == []

    stops = fake_world.run("accesskey", "rm", "-f", "AKIDNOPE", ID_A)
    assert stops.status == 1 and "ResourceNotFound" in stops.err
    assert [r.path for r in fake.take()] == ["/test/accesskeys/AKIDNOPE"]
    assert fake_world.run("accesskey", "delete").err.startswith(
        "smartdc accesskey delete: error (Usage): missing ACCESSKEYID argument(s)"
    )
