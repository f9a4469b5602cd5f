"""``smartdc rbac`` against a small fake CloudAPI, and beside ``triton rbac`` on the same one.

The emulator has no RBAC yet, so :class:`FakeCloudAPI` here keeps users, roles, policies,
user keys, access keys and role tags in dicts, answers in CloudAPI's (v9) shapes and records
every request, so each command's method, path, query and body can be checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.cli.harness import CliWorld
from tests.conftest import ACCOUNT, TestKey

CREATED = "2024-05-06T07:08:09.000Z"
UPDATED = "2024-06-07T08:09:10.000Z"
PROFILE_FIELDS = (
    "companyName",
    "firstName",
    "lastName",
    "address",
    "postalCode",
    "city",
    "state",
    "country",
    "phone",
)
TAGGABLE = ("machines", "images", "packages", "networks")


def md5_fingerprint(public_key: str) -> str:
    """The MD5 colon-hex fingerprint of an OpenSSH public key line."""
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class Request:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeCloudAPI:
    """An HTTP/1.1 CloudAPI stand-in on 127.0.0.1 with RBAC state in dicts."""

    def __init__(self, account: str = ACCOUNT) -> None:
        self.account = account
        self.users: dict[str, dict[str, Any]] = {}
        self.user_keys: dict[str, list[dict[str, Any]]] = {}
        self.access_keys: dict[str, list[dict[str, Any]]] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in TAGGABLE}
        self.role_tags: dict[str, list[str]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                path = unquote(split.path)
                with fake.lock:
                    fake.requests.append(Request(self.command, path, query, body))
                    headers: dict[str, str] = {}
                    try:
                        if not str(self.headers.get("Authorization", "")).startswith("Signature "):
                            raise ApiError(401, "InvalidCredentials", "missing signature")
                        status, answer = fake.route(self.command, path, query, body, headers)
                    except ApiError as exc:
                        status, answer = exc.status, {"code": exc.code, "message": exc.message}
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", str(uuid.uuid4()))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle and inspection --------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeCloudAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Forget all state and recorded requests."""
        with self.lock:
            self.users.clear()
            self.user_keys.clear()
            self.access_keys.clear()
            self.roles.clear()
            self.policies.clear()
            for objects in self.objects.values():
                objects.clear()
            self.role_tags.clear()
            self.requests.clear()

    def take(self) -> list[Request]:
        """The requests received since the last call."""
        with self.lock:
            taken, self.requests = self.requests, []
        return taken

    def writes(self) -> list[tuple[str, str, Any]]:
        """``(method, path, body)`` of the non-GET requests since the last :meth:`take`."""
        return [(r.method, r.path, r.body) for r in self.take() if r.method != "GET"]

    # --- seeding -------------------------------------------------------------------------

    def add_user(self, login: str, **fields: Any) -> dict[str, Any]:
        user = {
            "id": str(uuid.uuid4()),
            "login": login,
            "email": fields.pop("email", f"{login}@example.com"),
            **fields,
            "created": CREATED,
            "updated": UPDATED,
        }
        self.users[user["id"]] = user
        self.user_keys[user["id"]] = []
        self.access_keys[user["id"]] = []
        return user

    def add_user_key(self, login: str, public_key: str, name: str | None = None) -> dict[str, Any]:
        user = self._user(login)
        fp = md5_fingerprint(public_key)
        key = {"name": name or fp, "fingerprint": fp, "key": public_key.strip()}
        self.user_keys[user["id"]].append(key)
        return key

    def add_policy(
        self, name: str, rules: list[str], description: str | None = None
    ) -> dict[str, Any]:
        policy: dict[str, Any] = {"id": str(uuid.uuid4()), "name": name, "rules": rules}
        if description is not None:
            policy["description"] = description
        self.policies[policy["id"]] = policy
        return policy

    def add_role(
        self,
        name: str,
        members: Sequence[tuple[str, bool]] = (),
        policies: Sequence[str] = (),
    ) -> dict[str, Any]:
        role: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": name,
            "members": [self._member({"login": m, "default": d}) for m, d in members],
            "policies": [self._policy_entry({"name": p}) for p in policies],
        }
        self.roles[role["id"]] = role
        return role

    def add_object(self, kind: str, **fields: Any) -> dict[str, Any]:
        obj = {"id": str(uuid.uuid4()), **fields}
        self.objects[kind][obj["id"]] = obj
        return obj

    # --- lookups -------------------------------------------------------------------------

    def _user(self, ref: str) -> dict[str, Any]:
        for user in self.users.values():
            if ref in (user["id"], user["login"]):
                return user
        raise ApiError(404, "ResourceNotFound", f"{ref} does not exist")

    def _find(self, table: dict[str, dict[str, Any]], ref: str, kind: str) -> dict[str, Any]:
        for item in table.values():
            if ref in (item["id"], item["name"]):
                return item
        raise ApiError(404, "ResourceNotFound", f"{kind} {ref} does not exist")

    def _member(self, given: Any) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise ApiError(409, "InvalidArgument", f"Invalid member: {given!r}")
        ref = given.get("id") or given.get("login")
        try:
            user = self._user(str(ref))
        except ApiError:
            raise ApiError(409, "InvalidArgument", f"Invalid subuser: {ref}") from None
        member = {"type": given.get("type", "subuser"), "id": user["id"], "login": user["login"]}
        if given.get("default"):
            member["default"] = True
        return member

    def _policy_entry(self, given: Any) -> dict[str, str]:
        if not isinstance(given, dict):
            raise ApiError(409, "InvalidArgument", f"Invalid policy: {given!r}")
        ref = given.get("id") or given.get("name")
        for policy in self.policies.values():
            if ref in (policy["id"], policy["name"]):
                return {"id": policy["id"], "name": policy["name"]}
        raise ApiError(409, "InvalidArgument", f"Invalid policy: {ref}")

    def _check_role_fields(self, body: dict[str, Any]) -> None:
        extra = set(body) - {"name", "members", "policies"}
        if extra:
            raise ApiError(409, "InvalidArgument", f"unknown role fields: {sorted(extra)}")

    # --- routing -------------------------------------------------------------------------

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in (self.account, "my"):
            raise ApiError(404, "ResourceNotFound", f"{path} does not exist")
        rest = parts[1:]
        head = rest[0] if rest else ""
        if head == "users":
            return self._users(method, rest[1:], query, body or {})
        if head == "roles":
            return self._roles(method, rest[1:], body or {})
        if head == "policies":
            return self._policies(method, rest[1:], body or {})
        if head in TAGGABLE:
            return self._objects(method, head, rest[1:], query, body or {}, headers)
        raise ApiError(404, "ResourceNotFound", f"{path} does not exist")

    def _users(
        self, method: str, rest: list[str], query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                return 200, list(self.users.values())
            if method == "POST":
                missing = [f for f in ("login", "email", "password") if not body.get(f)]
                if missing:
                    raise ApiError(409, "MissingParameter", f"missing {', '.join(missing)}")
                if any(u["login"] == body["login"] for u in self.users.values()):
                    raise ApiError(409, "InvalidArgument", "login is already taken")
                fields = {k: v for k, v in body.items() if k in PROFILE_FIELDS}
                return 201, self.add_user(body["login"], email=body["email"], **fields)
        user = self._user(rest[0])
        uid = user["id"]
        if len(rest) == 1:
            if method == "GET":
                out = dict(user)
                if query.get("membership") == "true":
                    mine = [
                        r for r in self.roles.values() if any(m["id"] == uid for m in r["members"])
                    ]
                    out["roles"] = [r["name"] for r in mine]
                    out["default_roles"] = [
                        r["name"]
                        for r in mine
                        if any(m["id"] == uid and m.get("default") for m in r["members"])
                    ]
                return 200, out
            if method == "POST":
                if rest[0] != uid:
                    raise ApiError(404, "ResourceNotFound", f"{rest[0]} does not exist")
                for key, value in body.items():
                    if key in ("login", "email", *PROFILE_FIELDS):
                        if value == "":
                            user.pop(key, None)
                        else:
                            user[key] = value
                return 200, user
            if method == "DELETE":
                del self.users[uid]
                for role in self.roles.values():
                    role["members"] = [m for m in role["members"] if m["id"] != uid]
                return 204, None
        kind = rest[1]
        if kind == "keys":
            keys = self.user_keys[uid]
            if len(rest) == 2:
                if method == "GET":
                    return 200, keys
                if method == "POST":
                    text = str(body.get("key", "")).strip()
                    fp = md5_fingerprint(text)
                    name = body.get("name") or (text.split()[2] if len(text.split()) > 2 else fp)
                    if any(k["fingerprint"] == fp or k["name"] == name for k in keys):
                        raise ApiError(409, "InvalidArgument", "key already exists or is invalid")
                    added = {"name": name, "fingerprint": fp, "key": text}
                    keys.append(added)
                    return 201, added
            else:
                for known in keys:
                    if rest[2] in (known["name"], known["fingerprint"]):
                        if method == "GET":
                            return 200, known
                        if method == "DELETE":
                            keys.remove(known)
                            return 204, None
                raise ApiError(404, "ResourceNotFound", f"{rest[2]} does not exist")
        if kind == "accesskeys":
            akeys = self.access_keys[uid]
            if len(rest) == 2:
                if method == "GET":
                    return 200, akeys
                if method == "POST":
                    akey = {
                        "accesskeyid": uuid.uuid4().hex,
                        "created": CREATED,
                        "updated": CREATED,
                        "status": body.get("status", "Active"),
                    }
                    if body.get("description"):
                        akey["description"] = body["description"]
                    akeys.append(akey)
                    return 201, {**akey, "accesskeysecret": "tdc_" + uuid.uuid4().hex}
            else:
                for akey in akeys:
                    if akey["accesskeyid"] == rest[2]:
                        if method == "GET":
                            return 200, akey
                        if method == "POST":
                            akey.update(body)
                            akey["updated"] = UPDATED
                            return 200, akey
                        if method == "DELETE":
                            akeys.remove(akey)
                            return 204, None
                raise ApiError(404, "ResourceNotFound", f"{rest[2]} does not exist")
        raise ApiError(404, "ResourceNotFound", "no such route")

    def _roles(self, method: str, rest: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                return 200, list(self.roles.values())
            if method == "POST":
                self._check_role_fields(body)
                if not body.get("name"):
                    raise ApiError(409, "MissingParameter", "missing name")
                role = {
                    "id": str(uuid.uuid4()),
                    "name": body["name"],
                    "members": [self._member(m) for m in body.get("members") or []],
                    "policies": [self._policy_entry(p) for p in body.get("policies") or []],
                }
                self.roles[role["id"]] = role
                return 201, role
        role = self._find(self.roles, rest[0], "role")
        if method == "GET":
            return 200, role
        if method == "POST":
            self._check_role_fields(body)
            if "name" in body:
                role["name"] = body["name"]
            if "members" in body:
                role["members"] = [self._member(m) for m in body["members"]]
            if "policies" in body:
                role["policies"] = [self._policy_entry(p) for p in body["policies"]]
            return 200, role
        if method == "DELETE":
            if rest[0] != role["id"]:
                raise ApiError(404, "ResourceNotFound", f"role {rest[0]} does not exist")
            del self.roles[role["id"]]
            return 204, None
        raise ApiError(405, "BadMethod", method)

    def _policies(self, method: str, rest: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                return 200, list(self.policies.values())
            if method == "POST":
                if not body.get("name"):
                    raise ApiError(409, "MissingParameter", "missing name")
                policy = self.add_policy(body["name"], list(body.get("rules") or []))
                if body.get("description"):
                    policy["description"] = body["description"]
                return 201, policy
        policy = self._find(self.policies, rest[0], "policy")
        if method == "GET":
            return 200, policy
        if method == "POST":
            for key in ("name", "rules", "description"):
                if key in body:
                    if body[key] == "" and key == "description":
                        policy.pop(key, None)
                    else:
                        policy[key] = body[key]
            return 200, policy
        if method == "DELETE":
            if rest[0] != policy["id"]:
                raise ApiError(404, "ResourceNotFound", f"policy {rest[0]} does not exist")
            del self.policies[policy["id"]]
            return 204, None
        raise ApiError(405, "BadMethod", method)

    def _objects(
        self,
        method: str,
        kind: str,
        rest: list[str],
        query: dict[str, str],
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        objects = self.objects[kind]
        if method == "PUT":
            tags: list[str] = list(body.get("role-tag") or [])
            unknown = [t for t in tags if not any(r["name"] == t for r in self.roles.values())]
            if unknown:
                raise ApiError(409, "InvalidArgument", f"Role(s) {','.join(unknown)} not found")
            if rest and rest[0] not in objects:
                raise ApiError(404, "ResourceNotFound", f"{rest[0]} does not exist")
            where = "/".join([kind, *rest])
            self.role_tags[where] = list(tags)
            return 200, {"name": f"/{self.account}/{where}", "role-tag": list(tags)}
        if not rest:
            found = [
                o
                for o in objects.values()
                if all(str(o.get(k)) == v for k, v in query.items() if k in ("name",))
            ]
            headers["x-resource-count"] = str(len(found))
            headers["x-query-limit"] = "1000"
            return 200, found
        if rest[0] not in objects:
            raise ApiError(404, "ResourceNotFound", f"{kind} {rest[0]} not found")
        current = self.role_tags.get(f"{kind}/{rest[0]}")
        if current:
            headers["role-tag"] = ", ".join(current)
        return 200, objects[rest[0]]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCloudAPI]:
    with FakeCloudAPI() as server:
        yield server


@pytest.fixture()
def api(fake: FakeCloudAPI) -> FakeCloudAPI:
    """The fake server, emptied for the test."""
    fake.reset()
    return fake


@pytest.fixture(scope="module")
def rworld(
    fake: FakeCloudAPI, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> CliWorld:
    home: Path = tmp_path_factory.mktemp("rbac-home")
    return CliWorld(home, fake.url, keys["rsa"])


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Editor:
    return Editor(tmp_path_factory.mktemp("rbac-editor"))


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
        import sys

        self.pairs.write_text(json.dumps(replacements))
        self.seen.unlink(missing_ok=True)
        return world.with_env(EDITOR=f"{sys.executable} {self.script} {self.pairs} {self.seen}")

    def text(self) -> str:
        return self.seen.read_text()


def seed(fake: FakeCloudAPI, keys: dict[str, TestKey]) -> dict[str, Any]:
    """Three users (alice with a key), two policies, three roles, one tagged instance."""
    bob = fake.add_user("bob", firstName="Bob", lastName="Smith")
    alice = fake.add_user("alice")
    carl = fake.add_user("carl", lastName="C")
    key = fake.add_user_key("alice", keys["ed25519"].pub_path.read_text(), "laptop")
    read = fake.add_policy("read", ["CAN listmachines", "CAN getmachine"], "read only")
    empty = fake.add_policy("empty", [])
    ops = fake.add_role("ops", [("bob", True), ("alice", False)], ["read"])
    admin = fake.add_role("administrator", [("alice", True)])
    lonely = fake.add_role("lonely")
    web = fake.add_object("machines", name="web0", state="running")
    fake.role_tags[f"machines/{web['id']}"] = ["ops"]
    fake.take()
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


def same_as_triton(world: CliWorld, *args: str) -> str:
    ours, theirs = world.run(*args), world.triton(*args)
    assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    return ours.out


# --- beside triton ---------------------------------------------------------------------------


def test_lists_match_triton(api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    out = same_as_triton(rworld, "rbac", "users")
    assert out.splitlines()[2].split() == ["bob", "bob@example.com", "Bob", "Smith", "2024-05-06"]
    same_as_triton(rworld, "rbac", "users", "-l")
    same_as_triton(rworld, "rbac", "users", "-H", "-o", "login,name,udate", "-s", "-login")
    out = same_as_triton(rworld, "rbac", "roles")
    assert "ops            read      test/alice*,test/bob" in out.splitlines()
    assert "administrator  *         test/alice" in out.splitlines()
    same_as_triton(rworld, "rbac", "policies")
    out = same_as_triton(rworld, "rbac", "policies", "-l")
    assert "CAN getmachine; CAN listmachines" in out
    for what in ("users", "roles", "policies"):
        ours = rworld.ok("rbac", what, "-j").ndjson()
        assert ours == rworld.triton("rbac", what, "-j").ndjson()
        assert len(ours) == 3 if what != "policies" else len(ours) == 2


def test_gets_match_triton(api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    out = same_as_triton(rworld, "rbac", "user", "-r", "-k", "alice")
    assert "roles:\n    ops\n    administrator\ndefault_roles:\n    administrator\nkeys:\n" in out
    same_as_triton(rworld, "rbac", "user", "-j", "bob")
    out = same_as_triton(rworld, "rbac", "role", "ops")
    assert out.startswith("name:    ops\nmembers:\n  - type:    subuser\n    default: true\n")
    assert out.endswith("    name:    read\n\n")
    same_as_triton(rworld, "rbac", "role", "-j", "ops")
    out = same_as_triton(rworld, "rbac", "policy", "read")
    assert out.endswith("rules:\n    CAN listmachines\n    CAN getmachine\n")
    same_as_triton(rworld, "rbac", "keys", "alice")
    same_as_triton(rworld, "rbac", "keys", "-A", "alice")
    same_as_triton(rworld, "rbac", "key", "alice", "laptop")
    same_as_triton(rworld, "rbac", "instance-role-tags", api.objects["machines"].popitem()[0])


def test_info_matches_triton_where_triton_reads_roles_right(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    # triton 7.17 misreads v9 role members and policies, so compare a state without them
    api.add_user("bob", firstName="Bob", lastName="Smith")
    api.add_user("alice")
    api.add_user_key("alice", keys["ed25519"].pub_path.read_text())
    api.add_policy("read", ["CAN listmachines", "CAN getmachine"], "read only")
    api.add_policy("empty", [])
    api.add_role("lonely")
    out = same_as_triton(rworld, "rbac", "info")
    assert out == (
        "users (2):\n"
        "    bob (Bob Smith, no ssh keys): no roles\n"
        "    alice: no roles\n"
        "roles (1):\n"
        "    lonely: no policies\n"
        "policies (2):\n"
        "    empty rules: no rules\n"
        "    read (read only) rules:\n"
        "        CAN listmachines\n"
        "        CAN getmachine\n"
    )


def test_errors_match_triton(api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    cases = [
        (["rbac", "user", "nobody"], 3),  # triton wraps "user not found"
        (["rbac", "role", "nope"], 1),  # ... but passes other 404s through
        (["rbac", "users", "foo", "bar"], 1),
        (["rbac", "keys"], 1),
        (["rbac", "key", "alice"], 1),
        (["rbac", "user", "-a", "-e", "bob"], 1),
        (["rbac", "instance-role-tags"], 1),
    ]
    for args, status in cases:
        ours, theirs = rworld.run(*args), rworld.triton(*args)
        assert ours.status == theirs.status == status, args
        assert ours.err.splitlines()[0] == theirs.err.splitlines()[0].replace("triton", "smartdc")


# --- info ------------------------------------------------------------------------------------


def test_info_reads_defaults_from_members(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    s = seed(api, keys)
    api.add_role("devs", [("alice", False)], ["read", "empty"])
    out = rworld.ok("rbac", "info").out
    assert out.splitlines()[:4] == [
        "users (3):",
        "    bob (Bob Smith, no ssh keys): role ops",
        "    alice: roles administrator[, devs, ops]",
        "    carl (C, no ssh keys): no roles",
    ]
    assert "    devs: policies read, empty\n    lonely: no policies\n    ops: policy read\n" in out
    paths = sorted(r.path for r in api.take())
    assert paths == sorted(
        ["/test/users", "/test/roles", "/test/policies"]
        + [f"/test/users/{s[u]['id']}/keys" for u in ("bob", "alice", "carl")]
    )
    assert rworld.run("rbac", "info", "extra").err.startswith(
        "smartdc rbac info: error (Usage): invalid args: extra"
    )


# --- user ----------------------------------------------------------------------------------


def test_user_show_with_roles_and_keys(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    s = seed(api, keys)
    user = rworld.ok("rbac", "user", "-j", "-k", "--membership", "alice").json()
    assert user["roles"] == ["ops", "administrator"]
    assert [k["fingerprint"] for k in user["keys"]] == [s["key"]["fingerprint"]]
    reqs = api.take()
    assert [(r.path, r.query) for r in reqs] == [
        ("/test/users/alice", {"membership": "true"}),
        (f"/test/users/{s['alice']['id']}/keys", {}),
    ]


def test_user_add_from_file_and_stdin(api: FakeCloudAPI, rworld: CliWorld, tmp_path: Path) -> None:
    data = {"login": "dan", "email": "dan@example.com", "password": "s3cret!x", "city": "Oslo"}
    path = tmp_path / "user.json"
    path.write_text(json.dumps(data))
    assert rworld.ok("rbac", "user", "-a", str(path)).out == 'Created user "dan"\n'
    assert api.writes() == [("POST", "/test/users", data)]
    other = {**data, "login": "eve"}
    assert rworld.ok("rbac", "user", "-a", "-", stdin=json.dumps(other)).out == (
        'Created user "eve"\n'
    )
    assert api.writes() == [("POST", "/test/users", other)]
    bad = rworld.run("rbac", "user", "-a", "-", stdin='{"login": "x", "foo": 1}')
    assert bad.status == 1
    assert bad.err == (
        "smartdc rbac user: error: invalid user data: 2 missing required fields: "
        "password, email; extraneous field: foo\n"
    )
    assert (
        "cannot interactively create a user: stdin is not a TTY"
        in rworld.run("rbac", "user", "-a").err
    )
    assert api.writes() == []


def test_user_edit_sends_what_changed(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey], editor: Editor
) -> None:
    s = seed(api, keys)
    world = editor.world(rworld, ("firstName: Bob", "firstName: Rob"), ("city: ", "city: Oslo"))
    assert world.ok("rbac", "user", "-e", "bob").out == 'Updated user "bob"\n'
    assert editor.text().startswith("email: bob@example.com\nfirstName: Bob\nlastName: Smith\n")
    assert api.writes() == [
        ("POST", f"/test/users/{s['bob']['id']}", {"firstName": "Rob", "city": "Oslo"})
    ]
    assert editor.world(rworld).ok("rbac", "user", "-e", "bob").out == "No change to user\n"
    assert api.writes() == []
    # an unreadable edit offers a retry; no answer aborts
    broken = editor.world(rworld, ("email:", "bogus:"))
    result = broken.ok("rbac", "user", "-e", "bob")
    assert result.out == "\nAborting. No change made to user.\n"
    assert 'Error with your changes: unknown field "bogus"' in result.err
    assert api.writes() == []


def test_user_delete_confirms(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    seed(api, keys)
    no = rworld.ok("rbac", "user", "-d", "bob", "carl", stdin="n\n")
    assert no.out == ""
    assert no.err == "Delete 2 users (bob, carl)? [y/n] \nAborting\n"
    assert api.writes() == []
    yes = rworld.ok("rbac", "user", "-d", "bob", "carl", stdin="maybe\ny\n")
    assert yes.out == 'Deleted user "bob"\nDeleted user "carl"\n'
    assert 'Please enter "y", "yes", "n" or "no".' in yes.err
    assert api.writes() == [
        ("DELETE", "/test/users/bob", None),
        ("DELETE", "/test/users/carl", None),
    ]
    assert rworld.ok("rbac", "user", "-d", "-y", "alice").out == 'Deleted user "alice"\n'


# --- role ------------------------------------------------------------------------------------


def test_role_add_sends_v9_shape(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    seed(api, keys)
    role = {
        "name": "devs",
        "members": ["bob", {"login": "carl", "default": True}],
        "policies": ["read"],
    }
    assert (
        rworld.ok("rbac", "role", "-a", "-", stdin=json.dumps(role)).out == 'Created role "devs"\n'
    )
    assert api.writes() == [
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
    bad = rworld.run("rbac", "role", "-a", "-", stdin='{"members": []}')
    assert bad.err.startswith(
        "smartdc rbac role: error: invalid role data: 1 missing required field: name"
    )


def test_role_edit(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey], editor: Editor
) -> None:
    s = seed(api, keys)
    before = rworld.ok("rbac", "role", "ops").out
    api.take()
    world = editor.world(
        rworld,
        ("default: false", "default: true"),
        ("    name:    read\n", "    name:    read\n  - name:    empty\n"),
    )
    out = world.ok("rbac", "role", "-e", "ops").out
    assert out == f'Updated role "ops" ({s["ops"]["id"]})\n'
    assert editor.text() == before[:-1]
    assert api.writes() == [
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
    api.take()
    refused = editor.world(rworld, ("members:", "members:\n  - type: subuser\n    login: nobody"))
    result = refused.ok("rbac", "role", "-e", "ops")
    assert (
        "Error updating role with your changes: InvalidArgument: Invalid subuser: nobody"
        in result.err
    )
    assert result.out.endswith("Aborting. No change made to role.\n")


def test_role_delete_by_name_uses_the_id(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]
) -> None:
    s = seed(api, keys)
    assert rworld.ok("rbac", "role", "-d", "-y", "lonely", s["ops"]["id"]).out == (
        f'Deleted role "lonely"\nDeleted role "{s["ops"]["id"]}"\n'
    )
    lonely = next(r for r in api.take() if r.method == "DELETE")
    assert lonely.path != "/test/roles/lonely" and lonely.path.startswith("/test/roles/")
    assert set(r["name"] for r in api.roles.values()) == {"administrator"}


# --- policy ----------------------------------------------------------------------------------


def test_policy_add_edit_delete(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey], editor: Editor
) -> None:
    s = seed(api, keys)
    new = {"name": "boot", "rules": ["CAN rebootmachine"], "description": "reboots"}
    assert rworld.ok("rbac", "policy", "-a", "-", stdin=json.dumps(new)).out == (
        'Created policy "boot"\n'
    )
    assert api.writes() == [("POST", "/test/policies", new)]
    world = editor.world(
        rworld,
        ("    CAN getmachine\n", "    CAN getmachine\n    CAN rebootmachine\n"),
        ("description: read only", "description:"),
    )
    assert world.ok("rbac", "policy", "-e", "read").out == (
        f'Updated policy "read" ({s["read"]["id"]})\n'
    )
    assert editor.text() == (
        "name: read\ndescription: read only\nrules:\n    CAN listmachines\n    CAN getmachine\n"
    )
    assert api.writes() == [
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
    # a missing description is edited as empty, not as "undefined" (as triton does)
    assert editor.world(rworld).ok("rbac", "policy", "-e", "empty").out == "No change to policy\n"
    assert "description: \n" in editor.text()
    assert rworld.ok("rbac", "policy", "-d", "-y", "empty").out == 'Deleted policy "empty"\n'
    assert api.writes() == [("DELETE", f"/test/policies/{s['empty']['id']}", None)]


# --- keys ------------------------------------------------------------------------------------


def test_user_keys(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    s = seed(api, keys)
    fp = s["key"]["fingerprint"]
    assert rworld.ok("rbac", "keys", "-H", "alice").out == f"{fp}  laptop\n"
    assert rworld.ok("rbac", "keys", "-j", "alice").ndjson() == [s["key"]]
    pub = keys["ecdsa256"].pub_path
    added = rworld.ok("rbac", "key", "-a", "-n", "ci", "bob", str(pub))
    new_fp = md5_fingerprint(pub.read_text())
    assert added.out == f'Added user bob key "{new_fp}" (ci)\n'
    assert api.writes() == [
        ("POST", "/test/users/bob/keys", {"key": pub.read_text().strip(), "name": "ci"})
    ]
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    result = rworld.run("rbac", "key", "-a", "bob", str(bad))
    assert result.status == 1
    assert result.err == (
        f"smartdc rbac key: error: Failed to parse {bad} as a valid ssh format key: "
        "Unknown algorithm not\n"
    )
    missing = rworld.run("rbac", "key", "-a", "bob", str(tmp_path / "nope.pub"))
    assert (
        f"error (ENOENT): ENOENT: no such file or directory, open '{tmp_path / 'nope.pub'}'"
        in missing.err
    )
    assert rworld.ok("rbac", "key", "-j", "bob", "ci").json()["fingerprint"] == new_fp
    assert (
        rworld.ok("rbac", "key", "-d", "-y", "alice", fp).out == f'Deleted user alice key "{fp}"\n'
    )
    assert api.writes() == [("DELETE", f"/test/users/alice/keys/{fp}", None)]


# --- access keys -----------------------------------------------------------------------------


def test_access_keys(api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    created = rworld.ok("rbac", "accesskey", "-c", "bob").out.splitlines()
    assert created[0].startswith("Created access key ") and created[1].startswith("Secret: tdc_")
    akid = created[0].split()[-1]
    assert api.writes() == [("POST", "/test/users/bob/accesskeys", None)]
    made = rworld.ok("rbac", "accesskey", "-c", "-j", "-s", "Inactive", "-D", "ci", "bob").json()
    assert made["accesskeysecret"].startswith("tdc_")
    assert api.writes() == [
        ("POST", "/test/users/bob/accesskeys", {"status": "Inactive", "description": "ci"})
    ]
    listed = rworld.ok("rbac", "accesskeys", "bob")
    assert listed.out.splitlines()[0].split() == ["ACCESSKEYID", "STATUS", "UPDATED"]
    assert "tdc_" not in listed.out
    assert all(
        "accesskeysecret" not in k for k in rworld.ok("rbac", "accesskeys", "-j", "bob").ndjson()
    )
    got = rworld.ok("rbac", "accesskey", "-H", "-o", "ACCESSKEYID,status", "bob", akid)
    assert got.out == f"{akid}  Active\n"
    out = rworld.ok("rbac", "accesskey", "-u", "-s", "Inactive", "bob", akid).out
    assert out == f"Updated access key {akid} (fields: status)\n"
    assert api.writes() == [("POST", f"/test/users/bob/accesskeys/{akid}", {"status": "Inactive"})]
    assert rworld.ok("rbac", "accesskey", "-d", "bob", akid, stdin="n\n").out == ""
    assert (
        rworld.ok("rbac", "accesskey", "-d", "-f", "bob", akid).out
        == f'Deleted access key "{akid}"\n'
    )
    assert api.writes() == [("DELETE", f"/test/users/bob/accesskeys/{akid}", None)]
    for args, message in [
        (["-c"], "missing USER argument"),
        (["bob"], "missing ACCESSKEYID argument"),
        (["-d", "bob"], "missing ACCESSKEYID argument(s)"),
        (["-g", "bob", "a", "b"], "incorrect number of arguments"),
        (["-c", "-d", "bob"], "only one action option may be used at once"),
    ]:
        result = rworld.run("rbac", "accesskey", *args)
        assert result.status == 1
        assert result.err.startswith(f"smartdc rbac accesskey: error (Usage): {message}\n"), args


# --- role tags -------------------------------------------------------------------------------


def test_instance_role_tags(
    api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey], editor: Editor
) -> None:
    s = seed(api, keys)
    web = s["web"]["id"]
    path = f"/test/machines/{web}"
    assert rworld.ok("rbac", "instance-role-tags", "-j", web).out == '["ops"]\n'
    assert [(r.method, r.path) for r in api.take()] == [("GET", path)]
    out = rworld.ok(
        "rbac", "instance-role-tags", "-a", "lonely, ops", "-a", "administrator", web
    ).out
    assert out == f'Adding 2 role tags (lonely, administrator) to instance "{web}"\n'
    assert api.writes() == [("PUT", path, {"role-tag": ["ops", "lonely", "administrator"]})]
    assert rworld.ok("rbac", "instance-role-tags", "-a", "ops", web).out == ""
    assert api.writes() == []
    out = rworld.ok("rbac", "instance-role-tags", "-d", "ops,nope", "web0", stdin="y\n").out
    assert out == 'Deleting 1 role tag (ops) from instance "web0"\n'
    assert api.writes() == [("PUT", path, {"role-tag": ["lonely", "administrator"]})]
    assert rworld.ok("rbac", "instance-role-tags", "-s", "ops", web, stdin="n\n").out == ""
    assert api.writes() == []
    out = rworld.ok("rbac", "instance-role-tags", "-s", "ops", "-y", web).out
    assert out == f'Setting role tags on instance "{web}"\n'
    assert api.writes() == [("PUT", path, {"role-tag": ["ops"]})]
    world = editor.world(rworld, ("ops\n", "ops\n# a comment\nlonely\n"))
    out = world.ok("rbac", "instance-role-tags", "-e", web).out
    assert out == f'Edited role tags on instance "{web}"\n'
    assert editor.text() == "ops\n"
    assert api.writes() == [("PUT", path, {"role-tag": ["lonely", "ops"]})]
    out = rworld.ok("rbac", "instance-role-tags", "-D", "-y", web).out
    assert out == f'Deleting all role tags from instance "{web}"\n'
    assert api.writes() == [("PUT", path, {"role-tag": []})]
    gone = rworld.run("rbac", "instance-role-tags", "nosuch")
    assert gone.status == 3


def test_other_role_tags(api: FakeCloudAPI, rworld: CliWorld, keys: dict[str, TestKey]) -> None:
    seed(api, keys)
    img = api.add_object("images", name="base", version="1.0", state="active")
    api.role_tags[f"images/{img['id']}"] = ["ops", "lonely"]
    api.take()
    assert rworld.ok("rbac", "image-role-tags", "base").out == "ops\nlonely\n"
    reqs = api.take()
    assert (reqs[0].method, reqs[0].path) == ("GET", "/test/images")
    assert (reqs[-1].method, reqs[-1].path) == ("GET", f"/test/images/{img['id']}")
    pkg = api.add_object("packages", name="small")
    assert rworld.ok("rbac", "package-role-tags", "-a", "ops", pkg["id"]).out == (
        f'Adding 1 role tag (ops) to package "{pkg["id"]}"\n'
    )
    assert api.writes() == [("PUT", f"/test/packages/{pkg['id']}", {"role-tag": ["ops"]})]
    url = f"/test/packages/{pkg['id']}"
    assert rworld.ok("rbac", "role-tags", url).out == "ops\n"
    assert rworld.ok("rbac", "role-tags", "-D", "-y", url).out == (
        f'Deleting all role tags from resource "{url}"\n'
    )
    assert api.writes() == [("PUT", url, {"role-tag": []})]
    bad = rworld.run("rbac", "role-tags", "/test/bogus/x")
    assert bad.status == 1
    assert "resource type must be one of: machines, packages" in bad.err
    assert rworld.run("rbac", "role-tags", "bogus").err == (
        'smartdc rbac role-tags: error: invalid resource "bogus": must match "/:account/:type..."\n'
    )
    assert api.take() == []
