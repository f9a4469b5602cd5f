"""``smartdc cloudapi`` (the raw request) beside ``triton cloudapi``, and what it sends."""

from __future__ import annotations

from pathlib import Path

from tests.cli.harness import CliWorld
from tests.cli.test_accesskey import FakeCloudAPI
from tests.cli.test_key import tritons
from tests.conftest import ACCOUNT, TestKey

#: Headers node's HTTP client adds to what it received, and values that change per request.
_CLIENT_ADDED = ("x-request-received", "x-request-processing-time")
_VOLATILE = ("date", "request-id", "response-time", "content-md5")


def _header_lines(err: str) -> list[str]:
    lines = []
    for line in err.splitlines():
        name = line.partition(":")[0]
        if name in _CLIENT_ADDED:
            continue
        lines.append(name if name in _VOLATILE else line)
    return lines


def test_bodies_match_triton(world: CliWorld) -> None:
    argsets = (
        ["cloudapi", "/--ping"],
        ["cloudapi", "/my"],  # CloudAPI reads /my as the caller's account
        ["cloudapi", f"/{ACCOUNT}/keys"],
        ["cloudapi", "/my/machines?limit=1&state=running"],
        ["cloudapi", "/my/datacenters/local-1"],  # a 302, printed rather than raised
        ["cloudapi", "-i", "/my/keys"],
        ["cloudapi", "-X", "HEAD", "/my/keys"],
    )
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
        if "-i" in args or "HEAD" in args:
            assert _header_lines(ours.err) == _header_lines(theirs.err), args
    assert world.ok("cloudapi", "/--ping").json()["ping"] == "pong"
    shown = world.ok("cloudapi", "-i", "/my/datacenters/local-1").err.splitlines()
    assert shown[0] == "HTTP/1.1 302 Found"
    assert f"location: {world.url}" in shown and shown[-1] == ""


def test_failures_match_triton(world: CliWorld) -> None:
    argsets = (
        ["cloudapi", "/my/nothing"],  # CloudAPI's 404: exit 1, as triton
        ["cloudapi", "-d", "{}", "/my/fabrics/default/vlans"],  # -d alone is PUT: refused
        ["cloudapi", "-H", "X-Foo", "/my"],
        ["cloudapi"],
    )
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out) == (1, ""), args
        assert ours.err.replace("smartdc", "triton") == theirs.err, args
    bad_json = world.run("cloudapi", "-d", "{bad", "/my")
    assert bad_json.status == 1
    assert bad_json.err.startswith("smartdc cloudapi: error: given DATA is not valid JSON: ")
    # triton crashes on these; here they are usage errors
    patch = world.run("cloudapi", "-X", "PATCH", "/my")
    assert patch.status == 1
    assert patch.err.startswith('smartdc cloudapi: error (Usage): invalid HTTP method: "PATCH"')


def test_create_and_delete_a_key_by_hand(
    world: CliWorld, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    pub = keys["ed25519"].pub_path.read_text().strip()
    body = tmp_path / "key.json"
    body.write_text(f'{{"name": "raw", "key": "{pub}"}}')
    created = world.ok("cloudapi", "-X", "POST", "-d", f"@{body}", "/my/keys").json()
    assert (created["name"], created["fingerprint"]) == ("raw", keys["ed25519"].md5)
    # triton prints "undefined" for the empty answer of a DELETE; nothing is printed here
    assert world.ok("cloudapi", "-X", "delete", "/my/keys/raw").out == ""
    assert "raw" not in world.ok("keys").out
    again = world.ok(
        "cloudapi", "-X", "POST", "-d", "@-", "/my/keys", stdin=body.read_text()
    ).json()
    assert again["name"] == "raw"
    world.ok("cloudapi", "-X", "DELETE", "/my/keys/raw")


def test_sends_method_path_query_headers_and_body(keys: dict[str, TestKey], tmp_path: Path) -> None:
    with FakeCloudAPI() as fake:
        fake.route("POST", "/my/things", status=201, body={"made": True})
        fake.route("GET", "/my/things", body=[{"a": 1}])
        world = CliWorld(tmp_path, fake.url, keys["rsa"])
        made = world.ok(
            "cloudapi",
            "-X",
            "post",
            "-H",
            "X-Foo: bar baz",
            "-H",
            "Accept-Version=~8",
            "-d",
            '{"name": "n", "n": [1, 2]}',
            "/my/things",
        )
        assert made.out == '{\n    "made": true\n}\n'
        listed = world.ok("-r", "ops", "cloudapi", "/my/things?limit=5&name=a%20b")
        assert listed.json() == [{"a": 1}]
        post, get = fake.take()
        assert (post.method, post.path, post.query) == ("POST", "/my/things", {})
        assert post.body == {"name": "n", "n": [1, 2]}
        assert post.headers["x-foo"] == "bar baz"
        assert post.headers["accept-version"] == "~8"
        assert post.headers["content-type"] == "application/json"
        assert post.headers["authorization"].startswith("Signature ")
        assert (get.method, get.path) == ("GET", "/my/things")
        # the query given in the path, and the role, in one query string
        assert get.query == {"limit": "5", "name": "a b", "as-role": "ops"}
        assert get.body is None
