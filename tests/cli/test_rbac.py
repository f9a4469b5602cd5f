"""``smartdc rbac`` on the emulator, beside ``triton rbac`` on the same one.

Each test starts from an emptied emulator (the module's own), seeds it through the library,
and checks what the command prints, what it changed, and, where the shape matters (only the
fields that changed, a role deleted by its id, v9 members), the requests it sent:
:class:`Sent` records every request the in-process CLI makes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from smartdc._socket_sender import SocketSender
from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from smartdc.transport import RawResponse
from tests.cli.harness import CliWorld
from tests.cli.side_by_side import same_as_triton
from tests.conftest import TestKey

PASSWORD = "s3cret!x1"
PACKAGE = "g4-highcpu-128M"


def md5_fingerprint(public_key: str) -> str:
    """The MD5 colon-hex fingerprint of an OpenSSH public key line."""
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class Request:
    """One request the in-process CLI sent."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class Sent:
    """Requests the CLI sent through its :class:`SocketSender`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def record(self, method: str, target: str, body: bytes | None) -> None:
        split = urlsplit(target)
        decoded = json.loads(body) if body else None
        self.requests.append(
            Request(method, unquote(split.path), dict(parse_qsl(split.query)), decoded)
        )

    def take(self) -> list[Request]:
        """The requests since the last call."""
        taken, self.requests = self.requests, []
        return taken

    def writes(self) -> list[tuple[str, str, Any]]:
        """``(method, path, body)`` of the non-GET requests since the last :meth:`take`."""
        return [(r.method, r.path, r.body) for r in self.take() if r.method not in ("GET", "HEAD")]


@pytest.fixture(autouse=True)
def clean(cli_emulator: EmulatorServer) -> None:
    """Every test starts with no users, roles, policies, machines or role tags."""
    cli_emulator.reset()


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch, api: CloudAPI) -> Sent:
    """What in-process ``smartdc`` runs send from now on (not the test's own ``api``)."""
    recorder = Sent()
    original = SocketSender.send
    own = api._session._sender

    def send(
        self: SocketSender, method: str, target: str, headers: Any, body: bytes | None
    ) -> RawResponse:
        if self is not own:
            recorder.record(method, target, body)
        return original(self, method, target, headers, body)

    monkeypatch.setattr(SocketSender, "send", send)
    return recorder


class Editor:
    """An ``$EDITOR`` that records the text it was given and makes text replacements."""

    def __init__(self, directory: Path) -> None:
        self.script = directory / "editor.py"
        self.pairs = directory / "pairs.json"
        self.seen = directory / "seen.txt"
        self.script.write_text(
            "import json, sys\n"
            "pairs, seen, target = sys.argv[1:4]\n"
            "text = open(target).read()\n"
            "open(seen, 'w').write(text)\n"
            "for old, new in json.load(open(pairs)):\n"
            "    text = text.replace(old, new)\n"
            "open(target, 'w').write(text)\n"
        )

    def world(self, world: CliWorld, *replacements: tuple[str, str]) -> CliWorld:
        """``world`` with this editor making ``replacements``."""
        self.pairs.write_text(json.dumps(replacements))
        self.seen.unlink(missing_ok=True)
        return world.with_env(EDITOR=f"{sys.executable} {self.script} {self.pairs} {self.seen}")

    def text(self) -> str:
        return self.seen.read_text()


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Editor:
    return Editor(tmp_path_factory.mktemp("rbac-editor"))


def add_user(api: CloudAPI, login: str, **profile: Any) -> dict[str, Any]:
    """A sub-user with the test password and ``<login>@example.com``."""
    return dict(
        api.create_user(
            login=login,
            email=f"{login}@example.com",
            password=PASSWORD,
            **profile,
        )
    )


def add_machine(api: CloudAPI, name: str) -> dict[str, Any]:
    """A base-64-lts instance (the emulator's jobs are instant)."""
    images = api.list_images(name="base-64-lts")
    image = max(images, key=lambda i: str(i["published_at"]))
    return dict(api.create_machine(image=str(image["id"]), package=PACKAGE, name=name))


def seed(api: CloudAPI, keys: dict[str, TestKey]) -> dict[str, Any]:
    """Three users (alice with a key), two policies, three roles, one tagged instance."""
    bob = add_user(api, "bob", firstName="Bob", lastName="Smith")
    alice = add_user(api, "alice")
    carl = add_user(api, "carl", lastName="C")
    key = dict(api.create_user_key("alice", keys["ed25519"].pub_path.read_text(), "laptop"))
    read = dict(
        api.create_policy(
            name="read", rules=["CAN listmachines", "CAN getmachine"], description="read only"
        )
    )
    empty = dict(api.create_policy(name="empty", rules=[]))
    ops = dict(
        api.create_role(
            name="ops",
            members=[{"type": "subuser", "login": "bob", "default": True}, "alice"],
            policies=["read"],
        )
    )
    admin = dict(
        api.create_role(
            name="administrator", members=[{"type": "subuser", "login": "alice", "default": True}]
        )
    )
    lonely = dict(api.create_role(name="lonely"))
    web = add_machine(api, "web0")
    api.set_role_tags(f"machines/{web['id']}", ["ops"])
    return {
        "bob": bob,
        "alice": alice,
        "carl": carl,
        "key": key,
        "read": read,
        "empty": empty,
        "ops": ops,
        "admin": admin,
        "lonely": lonely,
        "web": web,
    }


def role_names(api: CloudAPI) -> set[str]:
    return {str(r["name"]) for r in api.list_roles()}


# --- beside triton ---------------------------------------------------------------------------


def test_lists_match_triton(api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    out = same_as_triton(world, "rbac", "users").out
    # triton sorts by login
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["LOGIN", "EMAIL", "NAME", "CDATE"]
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "carl"]
    assert rows[2][:4] == ["bob", "bob@example.com", "Bob", "Smith"]
    same_as_triton(world, "rbac", "users", "-l")
    same_as_triton(world, "rbac", "users", "-H", "-o", "login,name,udate", "-s", "-login")
    out = same_as_triton(world, "rbac", "roles").out
    # triton stars the members that do *not* hold the role by default
    assert "ops            read      test/alice*,test/bob" in out.splitlines()
    assert "administrator  *         test/alice" in out.splitlines()
    same_as_triton(world, "rbac", "policies")
    out = same_as_triton(world, "rbac", "policies", "-l").out
    assert "CAN getmachine; CAN listmachines" in out
    for what, count in (("users", 3), ("roles", 3), ("policies", 2)):
        ours = world.ok("rbac", what, "-j").ndjson()
        assert ours == world.triton("rbac", what, "-j").ndjson()
        assert len(ours) == count


def test_gets_match_triton(api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]) -> None:
    s = seed(api, keys)
    out = same_as_triton(world, "rbac", "user", "-r", "-k", "alice").out
    assert "roles:\n    ops\n    administrator\ndefault_roles:\n    administrator\nkeys:\n" in out
    same_as_triton(world, "rbac", "user", "-j", "bob")
    out = same_as_triton(world, "rbac", "role", "ops").out
    assert out.startswith("name:    ops\nmembers:\n  - type:    subuser\n    default: true\n")
    assert out.endswith("    name:    read\n\n")
    same_as_triton(world, "rbac", "role", "-j", "ops")
    out = same_as_triton(world, "rbac", "policy", "read").out
    assert out.endswith("rules:\n    CAN listmachines\n    CAN getmachine\n")
    same_as_triton(world, "rbac", "keys", "alice")
    same_as_triton(world, "rbac", "keys", "-A", "alice")
    same_as_triton(world, "rbac", "key", "alice", "laptop")
    assert same_as_triton(world, "rbac", "instance-role-tags", s["web"]["id"]).out == "ops\n"
    assert same_as_triton(world, "rbac", "instance-role-tags", "web0").out == "ops\n"


def test_info_matches_triton_where_triton_reads_roles_right(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]
) -> None:
    # triton 7.17 misreads v9 role members and policies, so compare a state without them
    add_user(api, "bob", firstName="Bob", lastName="Smith")
    add_user(api, "alice")
    api.create_user_key("alice", keys["ed25519"].pub_path.read_text())
    api.create_policy(name="read", rules=["CAN listmachines", "CAN getmachine"], description="ro")
    api.create_policy(name="empty", rules=[])
    api.create_role(name="lonely")
    out = same_as_triton(world, "rbac", "info").out
    assert out == (
        "users (2):\n"
        "    bob (Bob Smith, no ssh keys): no roles\n"
        "    alice: no roles\n"
        "roles (1):\n"
        "    lonely: no policies\n"
        "policies (2):\n"
        "    empty rules: no rules\n"
        "    read (ro) rules:\n"
        "        CAN listmachines\n"
        "        CAN getmachine\n"
    )


def test_errors_match_triton(api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    cases = [
        (["rbac", "user", "nobody"], 3),  # triton wraps "user not found"
        (["rbac", "role", "nope"], 1),  # ... but passes other 404s through
        (["rbac", "policy", "nope"], 1),
        (["rbac", "users", "foo", "bar"], 1),
        (["rbac", "keys"], 1),
        (["rbac", "key", "alice"], 1),
        (["rbac", "key", "alice", "nosuchkey"], 1),
        (["rbac", "user", "-a", "-e", "bob"], 1),
        (["rbac", "instance-role-tags"], 1),
        (["rbac", "instance-role-tags", "nosuch"], 3),
    ]
    for args, status in cases:
        ours, theirs = world.run(*args), world.triton(*args)
        assert ours.status == theirs.status == status, (args, ours, theirs)
        assert ours.err.splitlines()[0] == theirs.err.splitlines()[0].replace("triton", "smartdc")


def test_writes_match_triton(api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]) -> None:
    """The same create and delete by each CLI print the same and leave the same state."""
    for n, run in enumerate((world.run, world.triton)):
        login = f"pat{n}"
        user = {"login": login, "email": f"{login}@example.com", "password": PASSWORD}
        assert run("rbac", "user", "-a", "-", stdin=json.dumps(user)).out == (
            f'Created user "{login}"\n'
        )
        policy = {"name": f"boot{n}", "rules": ["CAN rebootmachine"]}
        assert run("rbac", "policy", "-a", "-", stdin=json.dumps(policy)).out == (
            f'Created policy "boot{n}"\n'
        )
        role = {
            "name": f"rebooters{n}",
            "members": [{"type": "subuser", "login": login, "default": True}],
            "policies": [{"name": f"boot{n}"}],
        }
        assert run("rbac", "role", "-a", "-", stdin=json.dumps(role)).out == (
            f'Created role "rebooters{n}"\n'
        )
        pub = keys["ecdsa256"].pub_path
        fp = md5_fingerprint(pub.read_text())
        assert run("rbac", "key", "-a", "-n", "ci", login, str(pub)).out == (
            f'Added user {login} key "{fp}" (ci)\n'
        )
    for n in (0, 1):
        user = world.ok("rbac", "user", "-j", "-r", f"pat{n}").json()
        assert (user["roles"], user["default_roles"]) == ([f"rebooters{n}"], [f"rebooters{n}"])
        assert [p["name"] for p in api.get_role(f"rebooters{n}")["policies"]] == [f"boot{n}"]
    assert [k["name"] for k in api.list_user_keys("pat0")] == ["ci"]
    assert [k["name"] for k in api.list_user_keys("pat1")] == ["ci"]
    for n, run in enumerate((world.run, world.triton)):
        fp = md5_fingerprint(keys["ecdsa256"].pub_path.read_text())
        assert run("rbac", "key", "-d", "-y", f"pat{n}", fp).out == (
            f'Deleted user pat{n} key "{fp}"\n'
        )
        assert run("rbac", "role", "-d", "-y", f"rebooters{n}").out == (
            f'Deleted role "rebooters{n}"\n'
        )
        assert run("rbac", "policy", "-d", "-y", f"boot{n}").out == f'Deleted policy "boot{n}"\n'
        assert run("rbac", "user", "-d", "-y", f"pat{n}").out == f'Deleted user "pat{n}"\n'
    assert (api.list_users(), api.list_roles(), api.list_policies()) == ([], [], [])


# --- info ------------------------------------------------------------------------------------


def test_info_reads_defaults_from_members(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    s = seed(api, keys)
    api.create_role(name="devs", members=["alice"], policies=["read", "empty"])
    out = world.ok("rbac", "info").out
    assert out.splitlines()[:4] == [
        "users (3):",
        "    bob (Bob Smith, no ssh keys): role ops",
        "    alice: roles administrator[, devs, ops]",
        "    carl (C, no ssh keys): no roles",
    ]
    assert "    devs: policies read, empty\n    lonely: no policies\n    ops: policy read\n" in out
    paths = sorted(r.path for r in sent.take())
    assert paths == sorted(
        ["/test/users", "/test/roles", "/test/policies"]
        + [f"/test/users/{s[u]['id']}/keys" for u in ("bob", "alice", "carl")]
    )
    assert world.run("rbac", "info", "extra").err.startswith(
        "smartdc rbac info: error (Usage): invalid args: extra"
    )


# --- user ----------------------------------------------------------------------------------


def test_user_show_with_roles_and_keys(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    s = seed(api, keys)
    user = world.ok("rbac", "user", "-j", "-k", "--membership", "alice").json()
    assert user["roles"] == ["ops", "administrator"]
    assert user["default_roles"] == ["administrator"]
    assert [k["fingerprint"] for k in user["keys"]] == [s["key"]["fingerprint"]]
    assert [(r.path, r.query) for r in sent.take()] == [
        ("/test/users/alice", {"membership": "true"}),
        (f"/test/users/{s['alice']['id']}/keys", {}),
    ]


def test_user_add_from_file_and_stdin(
    api: CloudAPI, world: CliWorld, tmp_path: Path, sent: Sent
) -> None:
    data = {"login": "dan", "email": "dan@example.com", "password": PASSWORD, "city": "Oslo"}
    path = tmp_path / "user.json"
    path.write_text(json.dumps(data))
    assert world.ok("rbac", "user", "-a", str(path)).out == 'Created user "dan"\n'
    assert sent.writes() == [("POST", "/test/users", data)]
    assert api.get_user("dan")["city"] == "Oslo"
    other = {**data, "login": "eve"}
    assert world.ok("rbac", "user", "-a", "-", stdin=json.dumps(other)).out == (
        'Created user "eve"\n'
    )
    assert sent.writes() == [("POST", "/test/users", other)]
    bad = world.run("rbac", "user", "-a", "-", stdin='{"login": "x", "foo": 1}')
    assert bad.status == 1
    assert bad.err == (
        "smartdc rbac user: error: invalid user data: 2 missing required fields: "
        "password, email; extraneous field: foo\n"
    )
    assert (
        "cannot interactively create a user: stdin is not a TTY"
        in world.run("rbac", "user", "-a").err
    )
    assert sent.writes() == []
    # CloudAPI's own refusals come through with their code
    weak = world.run(
        "rbac", "user", "-a", "-", stdin=json.dumps({**data, "login": "fay", "password": "short"})
    )
    assert weak.status == 1
    assert "InvalidArgument" in weak.err and "passwordTooShort" in weak.err
    taken = world.run("rbac", "user", "-a", "-", stdin=json.dumps(data))
    assert taken.status == 1 and "Login is already taken" in taken.err
    assert {u["login"] for u in api.list_users()} == {"dan", "eve"}


def test_user_edit_sends_what_changed(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], editor: Editor, sent: Sent
) -> None:
    s = seed(api, keys)
    edited = editor.world(world, ("firstName: Bob", "firstName: Rob"), ("city: ", "city: Oslo"))
    assert edited.ok("rbac", "user", "-e", "bob").out == 'Updated user "bob"\n'
    assert editor.text().startswith("email: bob@example.com\nfirstName: Bob\nlastName: Smith\n")
    assert sent.writes() == [
        ("POST", f"/test/users/{s['bob']['id']}", {"firstName": "Rob", "city": "Oslo"})
    ]
    bob = api.get_user("bob")
    assert (bob["firstName"], bob["lastName"], bob["city"]) == ("Rob", "Smith", "Oslo")
    assert editor.world(world).ok("rbac", "user", "-e", "bob").out == "No change to user\n"
    assert sent.writes() == []
    # clearing a field removes it
    assert editor.world(world, ("city: Oslo", "city: ")).ok("rbac", "user", "-e", "bob").out == (
        'Updated user "bob"\n'
    )
    assert "city" not in api.get_user("bob")
    sent.take()
    # an unreadable edit offers a retry; no answer aborts
    broken = editor.world(world, ("email:", "bogus:"))
    result = broken.ok("rbac", "user", "-e", "bob")
    assert result.out == "\nAborting. No change made to user.\n"
    assert 'Error with your changes: unknown field "bogus"' in result.err
    assert sent.writes() == []
    # so does a change CloudAPI refuses
    refused = editor.world(world, ("email: bob@example.com", "email: not-an-email"))
    result = refused.ok("rbac", "user", "-e", "bob")
    assert "Error updating user with your changes: InvalidArgument" in result.err
    assert result.out.endswith("Aborting. No change made to user.\n")
    assert api.get_user("bob")["email"] == "bob@example.com"


def test_user_edit_matches_triton(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], editor: Editor
) -> None:
    seed(api, keys)
    for name, old, new in (("smartdc", "Smith", "Jones"), ("triton", "Jones", "Brown")):
        edited = editor.world(world, (f"lastName: {old}", f"lastName: {new}"))
        run = edited.run if name == "smartdc" else edited.triton
        result = run("rbac", "user", "-e", "bob")
        assert (result.status, result.out) == (0, 'Updated user "bob"\n'), name
        assert api.get_user("bob")["lastName"] == new


def test_user_delete_confirms(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    seed(api, keys)
    no = world.ok("rbac", "user", "-d", "bob", "carl", stdin="n\n")
    assert no.out == ""
    assert no.err == "Delete 2 users (bob, carl)? [y/n] \nAborting\n"
    assert sent.writes() == []
    yes = world.ok("rbac", "user", "-d", "bob", "carl", stdin="maybe\ny\n")
    assert yes.out == 'Deleted user "bob"\nDeleted user "carl"\n'
    assert 'Please enter "y", "yes", "n" or "no".' in yes.err
    assert sent.writes() == [
        ("DELETE", "/test/users/bob", None),
        ("DELETE", "/test/users/carl", None),
    ]
    assert world.ok("rbac", "user", "-d", "-y", "alice").out == 'Deleted user "alice"\n'
    assert api.list_users() == []
    # the deleted users left the roles they were in
    assert api.get_role("ops")["members"] == []
    gone = world.run("rbac", "user", "-d", "-y", "alice")
    assert gone.status == 1 and "ResourceNotFound" in gone.err


# --- role ------------------------------------------------------------------------------------


def test_role_add_sends_v9_shape(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    s = seed(api, keys)
    role = {
        "name": "devs",
        "members": ["bob", {"login": "carl", "default": True}],
        "policies": ["read"],
    }
    assert world.ok("rbac", "role", "-a", "-", stdin=json.dumps(role)).out == (
        'Created role "devs"\n'
    )
    assert sent.writes() == [
        (
            "POST",
            "/test/roles",
            {
                "name": "devs",
                "policies": [{"name": "read"}],
                "members": [
                    {"type": "subuser", "login": "bob"},
                    {"type": "subuser", "login": "carl", "default": True},
                ],
            },
        )
    ]
    made = api.get_role("devs")
    assert made["policies"] == [{"id": s["read"]["id"], "name": "read"}]
    assert [(m["login"], m.get("default", False)) for m in made["members"]] == [
        ("bob", False),
        ("carl", True),
    ]
    bad = world.run("rbac", "role", "-a", "-", stdin='{"members": []}')
    assert bad.err.startswith(
        "smartdc rbac role: error: invalid role data: 1 missing required field: name"
    )
    unknown = world.run("rbac", "role", "-a", "-", stdin='{"name": "x", "members": ["zed"]}')
    assert unknown.status == 1
    assert "InvalidArgument" in unknown.err and "Invalid subuser: zed" in unknown.err
    assert "x" not in role_names(api)


def test_role_edit(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], editor: Editor, sent: Sent
) -> None:
    s = seed(api, keys)
    before = world.ok("rbac", "role", "ops").out
    sent.take()
    edited = editor.world(
        world,
        ("default: false", "default: true"),
        ("    name:    read\n", "    name:    read\n  - name:    empty\n"),
    )
    out = edited.ok("rbac", "role", "-e", "ops").out
    assert out == f'Updated role "ops" ({s["ops"]["id"]})\n'
    assert editor.text() == before[:-1]
    assert sent.writes() == [
        (
            "POST",
            f"/test/roles/{s['ops']['id']}",
            {
                "name": "ops",
                "policies": [{"name": "read"}, {"name": "empty"}],
                "members": [
                    {"type": "subuser", "login": "bob", "default": True},
                    {"type": "subuser", "login": "alice", "default": True},
                ],
            },
        )
    ]
    ops = api.get_role("ops")
    assert [p["name"] for p in ops["policies"]] == ["read", "empty"]
    assert all(m.get("default") is True for m in ops["members"])
    refused = editor.world(world, ("members:", "members:\n  - type: subuser\n    login: nobody"))
    result = refused.ok("rbac", "role", "-e", "ops")
    assert (
        "Error updating role with your changes: InvalidArgument: Invalid subuser: nobody"
        in result.err
    )
    assert result.out.endswith("Aborting. No change made to role.\n")
    assert len(api.get_role("ops")["members"]) == 2


def test_role_delete_by_name_uses_the_id(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    s = seed(api, keys)
    assert world.ok("rbac", "role", "-d", "-y", "lonely", s["ops"]["id"]).out == (
        f'Deleted role "lonely"\nDeleted role "{s["ops"]["id"]}"\n'
    )
    deletes = [path for method, path, _ in sent.writes() if method == "DELETE"]
    assert deletes == [f"/test/roles/{s['lonely']['id']}", f"/test/roles/{s['ops']['id']}"]
    assert role_names(api) == {"administrator"}
    # the role tags naming a deleted role are gone with it
    assert api.get_role_tags(f"machines/{s['web']['id']}") == []


# --- policy ----------------------------------------------------------------------------------


def test_policy_add_edit_delete(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], editor: Editor, sent: Sent
) -> None:
    s = seed(api, keys)
    new = {"name": "boot", "rules": ["CAN rebootmachine"], "description": "reboots"}
    assert world.ok("rbac", "policy", "-a", "-", stdin=json.dumps(new)).out == (
        'Created policy "boot"\n'
    )
    assert sent.writes() == [("POST", "/test/policies", new)]
    edited = editor.world(
        world,
        ("    CAN getmachine\n", "    CAN getmachine\n    CAN rebootmachine\n"),
        ("description: read only", "description:"),
    )
    assert edited.ok("rbac", "policy", "-e", "read").out == (
        f'Updated policy "read" ({s["read"]["id"]})\n'
    )
    assert editor.text() == (
        "name: read\ndescription: read only\nrules:\n    CAN listmachines\n    CAN getmachine\n"
    )
    assert sent.writes() == [
        (
            "POST",
            f"/test/policies/{s['read']['id']}",
            {
                "name": "read",
                "rules": ["CAN listmachines", "CAN getmachine", "CAN rebootmachine"],
                "description": "",
            },
        )
    ]
    read = api.get_policy("read")
    assert read["rules"] == ["CAN listmachines", "CAN getmachine", "CAN rebootmachine"]
    assert "description" not in read
    # a missing description is edited as empty, not as "undefined" (as triton does)
    assert editor.world(world).ok("rbac", "policy", "-e", "empty").out == "No change to policy\n"
    assert "description: \n" in editor.text()
    assert world.ok("rbac", "policy", "-d", "-y", "empty").out == 'Deleted policy "empty"\n'
    assert sent.writes() == [("DELETE", f"/test/policies/{s['empty']['id']}", None)]
    assert {p["name"] for p in api.list_policies()} == {"read", "boot"}
    bad = world.run("rbac", "policy", "-a", "-", stdin='{"name": "junk", "rules": ["MAYBE x"]}')
    assert bad.status == 1 and "InvalidArgument" in bad.err


# --- keys ------------------------------------------------------------------------------------


def test_user_keys(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], tmp_path: Path, sent: Sent
) -> None:
    s = seed(api, keys)
    fp = s["key"]["fingerprint"]
    assert world.ok("rbac", "keys", "-H", "alice").out == f"{fp}  laptop\n"
    assert world.ok("rbac", "keys", "-j", "alice").ndjson() == api.list_user_keys("alice")
    pub = keys["ecdsa256"].pub_path
    added = world.ok("rbac", "key", "-a", "-n", "ci", "bob", str(pub))
    new_fp = md5_fingerprint(pub.read_text())
    assert added.out == f'Added user bob key "{new_fp}" (ci)\n'
    assert sent.writes() == [
        ("POST", "/test/users/bob/keys", {"key": pub.read_text().strip(), "name": "ci"})
    ]
    again = world.run("rbac", "key", "-a", "-n", "ci2", "bob", str(pub))
    assert again.status == 1 and "InvalidArgument" in again.err
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    result = world.run("rbac", "key", "-a", "bob", str(bad))
    assert result.status == 1
    assert result.err == (
        f"smartdc rbac key: error: Failed to parse {bad} as a valid ssh format key: "
        "Unknown algorithm not\n"
    )
    missing = world.run("rbac", "key", "-a", "bob", str(tmp_path / "nope.pub"))
    assert (
        f"error (ENOENT): ENOENT: no such file or directory, open '{tmp_path / 'nope.pub'}'"
        in missing.err
    )
    assert world.ok("rbac", "key", "-j", "bob", "ci").json()["fingerprint"] == new_fp
    sent.take()
    assert (
        world.ok("rbac", "key", "-d", "-y", "alice", fp).out == f'Deleted user alice key "{fp}"\n'
    )
    assert sent.writes() == [("DELETE", f"/test/users/alice/keys/{fp}", None)]
    assert api.list_user_keys("alice") == []


# --- access keys -----------------------------------------------------------------------------


def test_access_keys(api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent) -> None:
    seed(api, keys)
    created = world.ok("rbac", "accesskey", "-c", "bob").out.splitlines()
    assert created[0].startswith("Created access key ") and created[1].startswith("Secret: tdc_")
    akid = created[0].split()[-1]
    assert sent.writes() == [("POST", "/test/users/bob/accesskeys", None)]
    made = world.ok("rbac", "accesskey", "-c", "-j", "-s", "Inactive", "-D", "ci", "bob").json()
    assert made["accesskeysecret"].startswith("tdc_")
    assert (made["status"], made["description"]) == ("Inactive", "ci")
    assert sent.writes() == [
        ("POST", "/test/users/bob/accesskeys", {"status": "Inactive", "description": "ci"})
    ]
    listed = world.ok("rbac", "accesskeys", "bob")
    assert listed.out.splitlines()[0].split() == ["ACCESSKEYID", "STATUS", "UPDATED"]
    assert len(listed.out.splitlines()) == 3
    assert "tdc_" not in listed.out
    assert all(
        "accesskeysecret" not in k for k in world.ok("rbac", "accesskeys", "-j", "bob").ndjson()
    )
    got = world.ok("rbac", "accesskey", "-H", "-o", "ACCESSKEYID,status", "bob", akid)
    assert got.out == f"{akid}  Active\n"
    out = world.ok("rbac", "accesskey", "-u", "-s", "Inactive", "bob", akid).out
    assert out == f"Updated access key {akid} (fields: status)\n"
    assert sent.writes() == [("POST", f"/test/users/bob/accesskeys/{akid}", {"status": "Inactive"})]
    assert api.get_user_access_key("bob", akid)["status"] == "Inactive"
    assert world.ok("rbac", "accesskey", "-d", "bob", akid, stdin="n\n").out == ""
    assert sent.writes() == []
    assert (
        world.ok("rbac", "accesskey", "-d", "-f", "bob", akid).out
        == f'Deleted access key "{akid}"\n'
    )
    assert sent.writes() == [("DELETE", f"/test/users/bob/accesskeys/{akid}", None)]
    assert [k["accesskeyid"] for k in api.list_user_access_keys("bob")] == [made["accesskeyid"]]
    gone = world.run("rbac", "accesskey", "bob", akid)
    assert gone.status != 0 and "ResourceNotFound" in gone.err
    for args, message in [
        (["-c"], "missing USER argument"),
        (["bob"], "missing ACCESSKEYID argument"),
        (["-d", "bob"], "missing ACCESSKEYID argument(s)"),
        (["-g", "bob", "a", "b"], "incorrect number of arguments"),
        (["-c", "-d", "bob"], "only one action option may be used at once"),
    ]:
        result = world.run("rbac", "accesskey", *args)
        assert result.status == 1
        assert result.err.startswith(f"smartdc rbac accesskey: error (Usage): {message}\n"), args


# --- role tags -------------------------------------------------------------------------------


def test_instance_role_tags(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], editor: Editor, sent: Sent
) -> None:
    s = seed(api, keys)
    web = s["web"]["id"]
    path = f"/test/machines/{web}"
    assert world.ok("rbac", "instance-role-tags", "-j", web).out == '["ops"]\n'
    assert [(r.method, r.path) for r in sent.take()] == [("GET", path)]
    added = world.ok("rbac", "instance-role-tags", "-a", "lonely, ops", "-a", "administrator", web)
    assert added.out == f'Adding 2 role tags (lonely, administrator) to instance "{web}"\n'
    assert sent.writes() == [("PUT", path, {"role-tag": ["ops", "lonely", "administrator"]})]
    assert api.get_role_tags(f"machines/{web}") == ["ops", "lonely", "administrator"]
    assert world.ok("rbac", "instance-role-tags", "-a", "ops", web).out == ""
    assert sent.writes() == []
    out = world.ok("rbac", "instance-role-tags", "-d", "ops,nope", "web0", stdin="y\n").out
    assert out == 'Deleting 1 role tag (ops) from instance "web0"\n'
    assert sent.writes() == [("PUT", path, {"role-tag": ["lonely", "administrator"]})]
    assert world.ok("rbac", "instance-role-tags", "-s", "ops", web, stdin="n\n").out == ""
    assert sent.writes() == []
    out = world.ok("rbac", "instance-role-tags", "-s", "ops", "-y", web).out
    assert out == f'Setting role tags on instance "{web}"\n'
    assert sent.writes() == [("PUT", path, {"role-tag": ["ops"]})]
    assert api.get_role_tags(f"machines/{web}") == ["ops"]
    edited = editor.world(world, ("ops\n", "ops\n# a comment\nlonely\n"))
    out = edited.ok("rbac", "instance-role-tags", "-e", web).out
    assert out == f'Edited role tags on instance "{web}"\n'
    assert editor.text() == "ops\n"
    assert sent.writes() == [("PUT", path, {"role-tag": ["lonely", "ops"]})]
    assert same_as_triton(world, "rbac", "instance-role-tags", web).out == "lonely\nops\n"
    unknown = world.run("rbac", "instance-role-tags", "-a", "ghost", "-y", web)
    assert unknown.status == 1 and "Role(s) ghost not found" in unknown.err
    sent.take()
    out = world.ok("rbac", "instance-role-tags", "-D", "-y", web).out
    assert out == f'Deleting all role tags from instance "{web}"\n'
    assert sent.writes() == [("PUT", path, {"role-tag": []})]
    assert api.get_role_tags(f"machines/{web}") == []
    assert same_as_triton(world, "rbac", "instance-role-tags", web).out == ""
    gone = world.run("rbac", "instance-role-tags", "nosuch")
    assert gone.status == 3


def test_instance_role_tags_match_triton(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]
) -> None:
    s = seed(api, keys)
    web = s["web"]["id"]
    # triton only asks on a terminal; with -y both go ahead
    for run in (world.run, world.triton):
        api.set_role_tags(f"machines/{web}", ["ops"])
        added = run("rbac", "instance-role-tags", "-a", "lonely", "-a", "administrator", web)
        assert added.out == f'Adding 2 role tags (lonely, administrator) to instance "{web}"\n'
        assert api.get_role_tags(f"machines/{web}") == ["ops", "lonely", "administrator"]
        removed = run("rbac", "instance-role-tags", "-y", "-d", "ops", web)
        assert removed.out == f'Deleting 1 role tag (ops) from instance "{web}"\n'
        assert api.get_role_tags(f"machines/{web}") == ["lonely", "administrator"]
        cleared = run("rbac", "instance-role-tags", "-y", "-D", web)
        assert cleared.out == f'Deleting all role tags from instance "{web}"\n'
        assert api.get_role_tags(f"machines/{web}") == []


def test_other_role_tags(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey], sent: Sent
) -> None:
    seed(api, keys)
    image = max(api.list_images(name="base-64-lts"), key=lambda i: str(i["published_at"]))
    api.set_role_tags(f"images/{image['id']}", ["ops", "lonely"])
    assert same_as_triton(world, "rbac", "image-role-tags", "base-64-lts").out == "ops\nlonely\n"
    reqs = sent.take()
    assert (reqs[0].method, reqs[0].path) == ("GET", "/test/images")
    assert (reqs[-1].method, reqs[-1].path) == ("GET", f"/test/images/{image['id']}")
    package = next(p for p in api.list_packages() if p["name"] == PACKAGE)
    assert world.ok("rbac", "package-role-tags", "-a", "ops", package["id"]).out == (
        f'Adding 1 role tag (ops) to package "{package["id"]}"\n'
    )
    assert sent.writes() == [("PUT", f"/test/packages/{package['id']}", {"role-tag": ["ops"]})]
    assert same_as_triton(world, "rbac", "package-role-tags", PACKAGE).out == "ops\n"
    network = api.list_networks()[0]
    assert world.ok("rbac", "network-role-tags", "-a", "ops", network["id"]).out == (
        f'Adding 1 role tag (ops) to network "{network["id"]}"\n'
    )
    assert same_as_triton(world, "rbac", "network-role-tags", network["id"]).out == "ops\n"
    url = f"/test/packages/{package['id']}"
    assert same_as_triton(world, "rbac", "role-tags", url).out == "ops\n"
    sent.take()
    assert world.ok("rbac", "role-tags", "-D", "-y", url).out == (
        f'Deleting all role tags from resource "{url}"\n'
    )
    assert sent.writes() == [("PUT", url, {"role-tag": []})]
    assert api.get_role_tags(f"packages/{package['id']}") == []
    bad = world.run("rbac", "role-tags", "/test/bogus/x")
    assert bad.status == 1
    assert "resource type must be one of: machines, packages" in bad.err
    assert world.run("rbac", "role-tags", "bogus").err == (
        'smartdc rbac role-tags: error: invalid resource "bogus": must match "/:account/:type..."\n'
    )
    assert sent.take() == []


# --- as a sub-user ---------------------------------------------------------------------------


def test_subuser_answers_match_triton(
    api: CloudAPI, world: CliWorld, keys: dict[str, TestKey]
) -> None:
    """bob (default role ops: list and get machines; web0 and the collection tagged ops),
    signing with his own key, gets the same answers from both CLIs."""
    s = seed(api, keys)
    key = keys["ecdsa256"]
    for suffix in ("", ".pub"):
        (world.home / ".ssh" / f"bob_key{suffix}").write_bytes(
            Path(f"{key.path}{suffix}").read_bytes()
        )
    api.create_user_key("bob", key.pub_path.read_text(), "laptop")
    api.set_role_tags("machines", ["ops"])
    web = s["web"]["id"]
    bob = world.with_env(TRITON_USER="bob", TRITON_KEY_ID=key.md5)
    assert same_as_triton(bob, "inst", "get", "-j", web).json()["name"] == "web0"
    assert same_as_triton(bob, "inst", "list", "-H", "-o", "name").out == "web0\n"
    for args, message in [
        (("inst", "stop", web), f"{web} (stopmachine)"),
        (("rbac", "users"), "/test/users (listusers)"),
        (("rbac", "user", "bob"), "/test/users/bob (getuser)"),
        (("rbac", "instance-role-tags", "-a", "lonely", web), "(setroletags)"),
    ]:
        result = same_as_triton(bob, *args)
        assert result.status == 1
        assert message in result.err, args
    # triton also prints the error's body on stdout here; smartdc only reports it
    args = ("-r", "lonely", "inst", "get", web)
    ours, theirs = bob.run(*args), bob.triton(*args)
    assert ours.status == theirs.status == 1
    refused = "error (NotAuthorized): You do not have permission to access test\n"
    assert (ours.err, theirs.err) == (
        f"smartdc instance get: {refused}",
        f"triton instance get: {refused}",
    )
    assert (ours.out, json.loads(theirs.out)["code"]) == ("", "NotAuthorized")
    assert api.get_role_tags(f"machines/{web}") == ["ops"]
