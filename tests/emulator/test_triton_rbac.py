"""The official ``triton rbac`` (node-triton 7.17), and triton acting as a sub-user, against the
emulator: one private emulator with two accounts, ``test`` (rsa key) and ``other`` (ed25519).

Every test starts from an emptied emulator. Sub-users sign with their own keys, all kept in
the one HOME triton runs with: ecdsa256 for ``test``'s sub-users, rsa_pem for ``other``'s
(triton 7.17 cannot sign with ecdsa384).

triton 7.17 prompts for confirmations on ``/dev/tty`` even when stdin is a pipe, so the
commands run with ``-y``/``-f``; :func:`on_terminal` answers one prompt through a
pseudo-terminal. ``rbac user -a``/``policy -a``/``role -a`` read JSON from a file or stdin,
``-e`` runs ``$EDITOR``; only their prompt-for-each-field form (no file) is left out.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.own_emulator import OTHER, PACKAGE, two_account_server

TRITON = Path(__file__).resolve().parents[2] / ".node" / "node_modules" / ".bin" / "triton"
PASSWORD = "s3cret!x1"
#: The keys in triton's HOME, by who signs with them.
ACCOUNT_KEY, OTHER_KEY, SUBUSER_KEY, OTHER_SUBUSER_KEY = "rsa", "ed25519", "ecdsa256", "rsa_pem"
SPARE_KEY = "ecdsa521"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not TRITON.exists() or shutil.which("node") is None, reason="no triton"),
]


@dataclass(frozen=True)
class Result:
    """A finished ``triton`` run."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class Triton:
    """Runs ``triton`` with a HOME holding every test key, as an account or a sub-user."""

    def __init__(self, home: Path, url: str, keys: dict[str, TestKey]) -> None:
        self.home, self.url, self.keys = home, url, keys
        ssh = home / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        for name in (ACCOUNT_KEY, OTHER_KEY, SUBUSER_KEY, OTHER_SUBUSER_KEY, SPARE_KEY):
            shutil.copy(keys[name].path, ssh / name)
            shutil.copy(keys[name].pub_path, ssh / f"{name}.pub")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "SDC_"))}
        base.pop("SSH_AUTH_SOCK", None)
        self.base_env = {**base, "HOME": str(home)}

    def env(self, account: str = ACCOUNT, key: str | None = None, **extra: str) -> dict[str, str]:
        """The environment for ``account`` signing with ``key`` (its own key by default)."""
        name = key or (ACCOUNT_KEY if account == ACCOUNT else OTHER_KEY)
        return {
            **self.base_env,
            "TRITON_URL": self.url,
            "TRITON_ACCOUNT": account,
            "TRITON_KEY_ID": self.keys[name].md5,
            **extra,
        }

    def run(
        self,
        *args: str,
        account: str = ACCOUNT,
        key: str | None = None,
        stdin: str = "",
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """``triton ARGS`` as ``account`` (or a sub-user, with ``-u`` in ``args``)."""
        proc = subprocess.run(
            [str(TRITON), *args],
            env={**self.env(account, key), **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Like :meth:`run`, failing the test unless triton exits 0."""
        result = self.run(*args, **kwargs)
        if result.status != 0:
            pytest.fail(f"triton {' '.join(args)} exited {result.status}\n{result.err}")
        return result

    def as_user(self, login: str, *args: str, **kwargs: Any) -> Result:
        """``triton -u LOGIN ARGS`` signing with the sub-user key of the account."""
        account = kwargs.get("account", ACCOUNT)
        kwargs.setdefault("key", SUBUSER_KEY if account == ACCOUNT else OTHER_SUBUSER_KEY)
        return self.run("-u", login, *args, **kwargs)


def on_terminal(triton: Triton, typed: str, *args: str, cwd: Path | None = None) -> Result:
    """Run triton on a pseudo-terminal (its controlling terminal) and type ``typed`` at the
    first ``[y/n]``-style prompt, one key at a time as triton reads them in raw mode."""
    env = triton.env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec triton, never return into pytest
        if cwd is not None:
            os.chdir(cwd)
        os.execve(str(TRITON), [str(TRITON), *args], env)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"? [" in output:
                time.sleep(0.3)  # triton puts the terminal in raw mode after the prompt
                for char in typed:
                    seen = len(output)
                    os.write(fd, char.encode())
                    # wait for triton to take the key before sending the next
                    until = time.monotonic() + 5
                    while len(output) == seen and time.monotonic() < until:
                        if select.select([fd], [], [], 0.1)[0]:
                            output += os.read(fd, 4096)
                answered = True
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = output.decode().replace("\r\n", "\n")
    return Result(os.waitstatus_to_exitcode(status), text, "")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with two_account_server(keys, tmp_path_factory.mktemp("triton-rbac")) as running:
        yield running


@pytest.fixture(scope="module")
def triton(
    server: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Triton:
    return Triton(tmp_path_factory.mktemp("triton-rbac-home"), server.url, keys)


def _client(server: EmulatorServer, key: TestKey, login: str) -> CloudAPI:
    return CloudAPI(server.url, login, key_id=key.md5, key_file=key.path, allow_agent=False)


@pytest.fixture(scope="module")
def owner(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    """The library as ``test``, to set things up and look at what triton did."""
    with _client(server, keys[ACCOUNT_KEY], ACCOUNT) as client:
        yield client


@pytest.fixture(scope="module")
def other(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    """The library as ``other``."""
    with _client(server, keys[OTHER_KEY], OTHER) as client:
        yield client


@pytest.fixture(autouse=True)
def clean(server: EmulatorServer) -> None:
    server.reset()


class Editor:
    """An ``$EDITOR`` making text replacements; :meth:`env` is the variable for one run."""

    def __init__(self, directory: Path) -> None:
        self.script = directory / "editor.py"
        self.pairs = directory / "pairs.json"
        self.script.write_text(
            "import json, sys\n"
            "pairs, target = sys.argv[1:3]\n"
            "text = open(target).read()\n"
            "for old, new in json.load(open(pairs)):\n"
            "    text = text.replace(old, new)\n"
            "open(target, 'w').write(text)\n"
        )

    def env(self, *replacements: tuple[str, str]) -> dict[str, str]:
        self.pairs.write_text(json.dumps(replacements))
        return {"EDITOR": f"{sys.executable} {self.script} {self.pairs}"}


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Editor:
    return Editor(tmp_path_factory.mktemp("triton-rbac-editor"))


# --- helpers ---------------------------------------------------------------------------------


def add_user(api: CloudAPI, login: str, key: TestKey | None = None) -> dict[str, Any]:
    user = dict(api.create_user(login=login, email=f"{login}@example.com", password=PASSWORD))
    if key is not None:
        api.create_user_key(login, key.pub_path.read_text(), "laptop")
    return user


def member(login: str, default: bool = True) -> dict[str, Any]:
    return {"type": "subuser", "login": login, "default": default}


def add_machine(api: CloudAPI, name: str) -> str:
    """A running base-64-lts instance's id."""
    images = api.list_images(name="base-64-lts")
    image = max(images, key=lambda i: str(i["published_at"]))
    made = api.create_machine(image=str(image["id"]), package=PACKAGE, name=name)
    machine_id = str(made["id"])
    until = time.monotonic() + 10
    while api.get_machine(machine_id)["state"] != "running" and time.monotonic() < until:
        time.sleep(0.02)
    return machine_id


def denied(path: str, action: str) -> str:
    return f"(NotAuthorized): You do not have permission to access {path} ({action})"


BAD_CREDENTIALS = "(InvalidCredentials): Invalid authorization credentials supplied"


# --- users, policies, roles ------------------------------------------------------------------


def test_users(triton: Triton, owner: CloudAPI, editor: Editor, tmp_path: Path) -> None:
    data = {
        "login": "bob",
        "email": "bob@example.com",
        "password": PASSWORD,
        "firstName": "Bob",
        "lastName": "Smith",
    }
    path = tmp_path / "bob.json"
    path.write_text(json.dumps(data))
    assert triton.ok("rbac", "user", "-a", str(path)).out == 'Created user "bob"\n'
    alice = {"login": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert triton.ok("rbac", "user", "-a", "-", stdin=json.dumps(alice)).out == (
        'Created user "alice"\n'
    )
    assert triton.ok("rbac", "users", "-j").ndjson() == owner.list_users()
    table = triton.ok("rbac", "users").out.splitlines()
    assert [row.split()[:4] for row in table] == [
        ["LOGIN", "EMAIL", "NAME", "CDATE"],
        ["alice", "alice@example.com", "-", table[1].split()[3]],
        ["bob", "bob@example.com", "Bob", "Smith"],
    ]
    assert triton.ok("rbac", "user", "-j", "bob").json() == owner.get_user("bob")
    shown = triton.ok("rbac", "user", "bob").out
    user = owner.get_user("bob")
    assert shown == "".join(f"{k}: {v}\n" for k, v in user.items())
    # -e edits the user in $EDITOR and sends the change
    edited = triton.ok(
        "rbac", "user", "-e", "bob", env=editor.env(("firstName: Bob", "firstName: Rob"))
    )
    assert edited.out == 'Updated user "bob"\n'
    assert owner.get_user("bob")["firstName"] == "Rob"
    # triton's own checks, then CloudAPI's
    bad = triton.run("rbac", "user", "-a", "-", stdin='{"login": "x"}')
    assert bad.status == 1 and "invalid user data: 2 missing required fields" in bad.err
    weak = triton.run(
        "rbac", "user", "-a", "-", stdin=json.dumps({**alice, "login": "weak", "password": "abc"})
    )
    assert weak.status == 1
    assert weak.err == "triton rbac user: error (InvalidArgument): passwordTooShort\n"
    taken = triton.run("rbac", "user", "-a", "-", stdin=json.dumps(alice))
    assert taken.err == "triton rbac user: error (InvalidArgument): Login is already taken\n"
    missing = triton.run("rbac", "user", "nobody")
    assert missing.status == 3 and "ResourceNotFound" in missing.err
    assert triton.ok("rbac", "user", "-d", "-y", "alice", "bob").out == (
        'Deleted user "alice"\nDeleted user "bob"\n'
    )
    assert owner.list_users() == []


def test_policies(triton: Triton, owner: CloudAPI, editor: Editor, tmp_path: Path) -> None:
    path = tmp_path / "read.json"
    path.write_text(json.dumps({"name": "read", "rules": ["CAN listmachines"]}))
    assert triton.ok("rbac", "policy", "-a", str(path)).out == 'Created policy "read"\n'
    boot = {"name": "boot", "description": "reboots", "rules": ["CAN rebootmachine"]}
    assert triton.ok("rbac", "policy", "-a", "-", stdin=json.dumps(boot)).out == (
        'Created policy "boot"\n'
    )
    assert triton.ok("rbac", "policies", "-j").ndjson() == owner.list_policies()
    assert triton.ok("rbac", "policies", "-H", "-o", "name,nrules").out == ("boot  1\nread  1\n")
    read = owner.get_policy("read")
    assert triton.ok("rbac", "policy", "read").out == (
        f"name: read\nid: {read['id']}\nrules:\n    CAN listmachines\n"
    )
    out = triton.ok(
        "rbac",
        "policy",
        "-e",
        "read",
        env=editor.env(
            ("    CAN listmachines\n", "    CAN listmachines\n    CAN getmachine\n"),
            ("rules:", "description: read only\nrules:"),
        ),
    ).out
    assert out == f'Updated policy "read" ({read["id"]})\n'
    after = owner.get_policy("read")
    assert (after["rules"], after["description"]) == (
        ["CAN listmachines", "CAN getmachine"],
        "read only",
    )
    junk = triton.run("rbac", "policy", "-a", "-", stdin='{"name": "junk", "rules": ["MAYBE x"]}')
    assert junk.status == 1 and "(InvalidArgument)" in junk.err
    assert triton.ok("rbac", "policy", "-d", "-y", "read", "boot").out == (
        'Deleted policy "read"\nDeleted policy "boot"\n'
    )
    assert owner.list_policies() == []


def test_roles(triton: Triton, owner: CloudAPI, editor: Editor) -> None:
    for login in ("bob", "alice"):
        add_user(owner, login)
    owner.create_policy(name="read", rules=["CAN listmachines"])
    role = {
        "name": "ops",
        "members": [member("bob"), member("alice", default=False)],
        "policies": [{"name": "read"}],
    }
    assert triton.ok("rbac", "role", "-a", "-", stdin=json.dumps(role)).out == (
        'Created role "ops"\n'
    )
    assert triton.ok("rbac", "roles", "-j").ndjson() == owner.list_roles()
    # triton stars the members that do not hold the role by default
    assert triton.ok("rbac", "roles", "-H").out == "ops   read      test/alice*,test/bob\n"
    ops = owner.get_role("ops")
    shown = triton.ok("rbac", "role", "ops").out
    assert shown.startswith("name:    ops\nmembers:\n  - type:    subuser\n    default: true\n")
    assert shown.endswith(
        f"policies:\n  - id:      {ops['policies'][0]['id']}\n    name:    read\n\n"
    )
    user = triton.ok("rbac", "user", "--membership", "-j", "alice").json()
    assert (user["roles"], user["default_roles"]) == (["ops"], [])
    out = triton.ok(
        "rbac", "role", "-e", "ops", env=editor.env(("default: false", "default: true"))
    ).out
    assert out == f'Updated role "ops" ({ops["id"]})\n'
    assert all(m.get("default") is True for m in owner.get_role("ops")["members"])
    bad = {"name": "bad", "members": [member("zed")]}
    refused = triton.run("rbac", "role", "-a", "-", stdin=json.dumps(bad))
    assert refused.err == "triton rbac role: error (InvalidArgument): Invalid subuser: zed\n"
    # an administrator role takes no policies
    admin = {"name": "administrator", "members": [member("bob")], "policies": [{"name": "read"}]}
    assert triton.run("rbac", "role", "-a", "-", stdin=json.dumps(admin)).status == 1
    assert {r["name"] for r in owner.list_roles()} == {"ops"}
    assert triton.ok("rbac", "role", "-d", "-y", "ops").out == 'Deleted role "ops"\n'
    assert owner.list_roles() == []


def test_user_keys(triton: Triton, owner: CloudAPI, keys: dict[str, TestKey]) -> None:
    add_user(owner, "bob")
    key = keys[SUBUSER_KEY]
    fp = key.md5
    out = triton.ok("rbac", "key", "-a", "-n", "laptop", "bob", str(key.pub_path)).out
    assert out == f'Added user bob key "{fp}" (laptop)\n'
    # (triton prints the header even with -H)
    assert triton.ok("rbac", "keys", "bob").out.splitlines()[1:] == [f"{fp}  laptop"]
    assert triton.ok("rbac", "keys", "-j", "bob").ndjson() == owner.list_user_keys("bob")
    assert triton.ok("rbac", "keys", "-A", "bob").out.strip() == key.pub_path.read_text().strip()
    assert triton.ok("rbac", "key", "-j", "bob", "laptop").json()["fingerprint"] == fp
    assert triton.ok("rbac", "key", "-j", "bob", fp).json()["name"] == "laptop"
    again = triton.run("rbac", "key", "-a", "bob", str(key.pub_path))
    assert again.status == 1 and "(InvalidArgument)" in again.err
    assert triton.ok("rbac", "key", "-d", "-y", "bob", fp).out == (f'Deleted user bob key "{fp}"\n')
    assert owner.list_user_keys("bob") == []
    assert triton.run("rbac", "key", "bob", fp).status == 1


def test_info(triton: Triton, owner: CloudAPI, keys: dict[str, TestKey]) -> None:
    owner.create_user(
        login="bob", email="bob@example.com", password=PASSWORD, firstName="Bob", lastName="Smith"
    )
    add_user(owner, "alice", keys[SUBUSER_KEY])
    owner.create_policy(name="read", rules=["CAN listmachines", "CAN getmachine"], description="ro")
    owner.create_role(name="lonely")
    assert triton.ok("rbac", "info").out == (
        "users (2):\n"
        "    bob (Bob Smith, no ssh keys): no roles\n"
        "    alice: no roles\n"
        "roles (1):\n"
        "    lonely: no policies\n"
        "policies (1):\n"
        "    read (ro) rules:\n"
        "        CAN listmachines\n"
        "        CAN getmachine\n"
    )


# --- role tags -------------------------------------------------------------------------------


def test_role_tags(triton: Triton, owner: CloudAPI) -> None:
    add_user(owner, "bob")
    for name in ("ops", "devs"):
        owner.create_role(name=name)
    web = add_machine(owner, "web0")
    assert triton.ok("rbac", "instance-role-tags", "web0").out == ""
    out = triton.ok("rbac", "instance-role-tags", "-a", "ops,devs", "web0").out
    assert out == 'Adding 2 role tags (ops, devs) to instance "web0"\n'
    assert owner.get_role_tags(f"machines/{web}") == ["ops", "devs"]
    assert triton.ok("rbac", "instance-role-tags", "-j", web).out == '["ops","devs"]\n'
    out = triton.ok("rbac", "instance-role-tags", "-y", "-d", "devs", web).out
    assert out == f'Deleting 1 role tag (devs) from instance "{web}"\n'
    assert owner.get_role_tags(f"machines/{web}") == ["ops"]
    out = triton.ok("rbac", "instance-role-tags", "-y", "-s", "devs", "web0").out
    assert out == 'Setting role tags on instance "web0"\n'
    assert owner.get_role_tags(f"machines/{web}") == ["devs"]
    out = triton.ok("rbac", "instance-role-tags", "-y", "-D", "web0").out
    assert out == 'Deleting all role tags from instance "web0"\n'
    assert owner.get_role_tags(f"machines/{web}") == []
    ghost = triton.run("rbac", "instance-role-tags", "-a", "ghost", "web0")
    assert (
        ghost.err
        == "triton rbac instance-role-tags: error (InvalidArgument): Role(s) ghost not found\n"
    )
    # images, packages, networks by name, and raw resource URLs
    assert triton.ok("rbac", "image-role-tags", "-a", "ops", "base-64-lts").out.startswith(
        "Adding 1 role tag (ops) to image"
    )
    assert triton.ok("rbac", "image-role-tags", "base-64-lts").out == "ops\n"
    triton.ok("rbac", "package-role-tags", "-a", "devs", PACKAGE)
    assert triton.ok("rbac", "package-role-tags", PACKAGE).out == "devs\n"
    network = owner.list_networks()[0]
    triton.ok("rbac", "network-role-tags", "-a", "ops", str(network["name"]))
    assert owner.get_role_tags(f"networks/{network['id']}") == ["ops"]
    for url in ("/test/machines", "/test/users/bob", "/test/users", "/test/roles"):
        out = triton.ok("rbac", "role-tags", "-a", "ops", url).out
        assert out == f'Adding 1 role tag (ops) to resource "{url}"\n'
        assert triton.ok("rbac", "role-tags", url).out == "ops\n"
    assert owner.get_role_tags("machines") == ["ops"]
    assert owner.get_role_tags("users/bob") == ["ops"]
    # deleting a role takes it off everything it tagged
    owner.delete_role(owner.get_role("ops"))
    assert triton.ok("rbac", "role-tags", "/test/machines").out == ""
    assert triton.ok("rbac", "image-role-tags", "base-64-lts").out == ""
    assert triton.ok("rbac", "package-role-tags", PACKAGE).out == "devs\n"


# --- apply and reset -------------------------------------------------------------------------


def sample_config(directory: Path, keys: dict[str, TestKey]) -> Path:
    """An rbac.json with users (keys inline and in ``rbac-user-keys/``), policies and roles.

    triton 7.17 compares roles in the legacy shape (``members``, ``default_members`` and
    ``policies`` as names, each required) and sends them so; CloudAPI 9, which triton asks
    for, takes only member and policy objects. So the roles here are empty: roles with
    members are :func:`test_apply_cannot_send_role_members_to_cloudapi_9`.
    """
    (directory / "rbac-user-keys").mkdir()
    shutil.copy(keys[SUBUSER_KEY].pub_path, directory / "rbac-user-keys" / "bill.pub")
    (directory / "keys").mkdir()
    shutil.copy(keys[OTHER_SUBUSER_KEY].pub_path, directory / "keys" / "jill.pub")
    config = {
        "users": [
            {"login": "bill", "email": "bill@example.com", "firstName": "Bill"},
            {
                "login": "jill",
                "email": "jill@example.com",
                "keys": "keys",
            },
        ],
        "policies": [
            {
                "name": "readonly",
                "description": "read only",
                "rules": ["CAN listmachines", "CAN getmachine"],
            }
        ],
        "roles": [
            {"name": name, "members": [], "default_members": [], "policies": []}
            for name in ("ops", "devs")
        ],
    }
    path = directory / "rbac.json"
    path.write_text(json.dumps(config))
    return path


def test_apply_again_is_a_no_op_and_reset_removes_all(
    triton: Triton, owner: CloudAPI, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    path = sample_config(tmp_path, keys)
    planned = triton.ok("rbac", "apply", "-n", "-y", cwd=tmp_path).out
    bill_fp, jill_fp = keys[SUBUSER_KEY].md5, keys[OTHER_SUBUSER_KEY].md5
    assert planned.splitlines() == [
        "[dry-run] create user bill",
        f"[dry-run] create user bill key {bill_fp}",
        "[dry-run] create user jill",
        f"[dry-run] create user jill key {jill_fp}",
        "[dry-run] create policy readonly",
        "[dry-run] create role ops",
        "[dry-run] create role devs",
    ]
    assert owner.list_users() == []
    applied = triton.ok("rbac", "apply", "-y", cwd=tmp_path).out.splitlines()
    assert applied[0].startswith("Created user bill (use `triton rbac passwd bill`")
    assert applied[1].startswith(f"Created user bill key {bill_fp}")
    assert applied[3].startswith(f"Created user jill key {jill_fp}")
    assert applied[4:] == [
        "Created policy readonly (2 rules)",
        "Created role ops (0 members)",
        "Created role devs (0 members)",
    ]
    assert [u["login"] for u in owner.list_users()] == ["bill", "jill"]
    assert owner.get_user("bill")["firstName"] == "Bill"
    assert [k["fingerprint"] for k in owner.list_user_keys("jill")] == [jill_fp]
    assert owner.get_policy("readonly")["rules"] == ["CAN listmachines", "CAN getmachine"]
    assert [r["name"] for r in owner.list_roles()] == ["ops", "devs"]
    # the same config again has nothing to do
    again = triton.ok("rbac", "apply", "-y", cwd=tmp_path)
    assert (again.out, again.err) == ("", "")
    # a changed config changes just that (not a user's fields: triton 7.17's apply crashes
    # on its own plan for those, "Cannot convert undefined or null to object")
    config = json.loads(path.read_text())
    config["policies"][0]["description"] = "look only"
    config["roles"].pop()
    path.write_text(json.dumps(config))
    # (key paths are relative to the working directory, not to the file)
    changed = triton.ok("rbac", "apply", "-y", "-f", str(path), cwd=tmp_path).out.splitlines()
    assert changed == [
        "Updated policy readonly: description=look only",
        "Deleted role devs",
    ]
    assert owner.get_policy("readonly")["description"] == "look only"
    assert [r["name"] for r in owner.list_roles()] == ["ops"]
    # reset deletes every user (and key), policy and role
    assert triton.ok("rbac", "reset", "-y").out.splitlines() == [
        f"Deleted user bill key {bill_fp}",
        "Deleted user bill",
        f"Deleted user jill key {jill_fp}",
        "Deleted user jill",
        "Deleted policy readonly",
        "Deleted role ops",
    ]
    assert (owner.list_users(), owner.list_policies(), owner.list_roles()) == ([], [], [])
    assert triton.ok("rbac", "reset", "-y").out == ""


def test_apply_cannot_send_role_members_to_cloudapi_9(
    triton: Triton, owner: CloudAPI, tmp_path: Path
) -> None:
    """triton 7.17 sends rbac.json's role members and policies as names; CloudAPI 9 refuses
    them as it refuses any legacy role input (and triton asks for ``~9||~8``)."""
    config = {
        "users": [{"login": "bill", "email": "bill@example.com"}],
        "policies": [{"name": "readonly", "rules": ["CAN listmachines"]}],
        "roles": [
            {
                "name": "ops",
                "members": ["bill"],
                "default_members": ["bill"],
                "policies": ["readonly"],
            }
        ],
    }
    (tmp_path / "rbac.json").write_text(json.dumps(config))
    result = triton.run("rbac", "apply", "-y", cwd=tmp_path)
    assert result.status == 1
    assert result.err == (
        'triton rbac apply: error (InvalidArgument): Role "policies" must be an array of objects\n'
    )
    assert [u["login"] for u in owner.list_users()] == ["bill"]
    assert owner.list_roles() == []


def test_prompts_answered_on_a_terminal(
    triton: Triton, owner: CloudAPI, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    add_user(owner, "zed")
    kept = on_terminal(triton, "n\r", "rbac", "user", "-d", "zed")
    assert kept.out.startswith('Delete user "zed"? [y/n] ')
    assert [u["login"] for u in owner.list_users()] == ["zed"]
    gone = on_terminal(triton, "y\r", "rbac", "user", "-d", "zed")
    assert gone.status == 0 and gone.out.endswith('Deleted user "zed"\n')
    assert owner.list_users() == []
    sample_config(tmp_path, keys)
    applied = on_terminal(triton, "y\r", "rbac", "apply", cwd=tmp_path)
    assert "This will make the following RBAC config changes:\n    Create user bill\n" in (
        applied.out
    )
    assert "Would you like to continue? [y/N] " in applied.out
    assert applied.out.endswith("Created role devs (0 members)\n")
    assert len(owner.list_users()) == 2


# --- acting as a sub-user --------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """``bob`` of ``test`` (ecdsa256 key): ``ops`` by default, ``spare`` on request, both
    with the ``read`` policy; ``stranger`` is not his. ``web0`` and the machine collection
    are tagged ``ops``; ``web1`` is untagged."""

    web0: str
    web1: str
    read: str


@pytest.fixture()
def bob(owner: CloudAPI, keys: dict[str, TestKey]) -> Setup:
    add_user(owner, "bob", keys[SUBUSER_KEY])
    add_user(owner, "carl")
    read = owner.create_policy(name="read", rules=["CAN listmachines and getmachine"])
    owner.create_role(name="ops", members=[member("bob")], policies=["read"])
    owner.create_role(name="spare", members=[member("bob", default=False)], policies=["read"])
    owner.create_role(name="stranger", members=[member("carl")], policies=["read"])
    web0, web1 = add_machine(owner, "web0"), add_machine(owner, "web1")
    owner.set_role_tags(f"machines/{web0}", ["ops"])
    owner.set_role_tags("machines", ["ops"])
    return Setup(web0, web1, str(read["id"]))


def test_subuser_allowed_operations(triton: Triton, bob: Setup) -> None:
    listed = triton.as_user("bob", "inst", "list", "-H", "-o", "name")
    assert (listed.status, listed.out) == (0, "web0\nweb1\n")
    assert triton.as_user("bob", "inst", "get", "-j", "web0").json()["id"] == bob.web0
    assert triton.as_user("bob", "-r", "ops", "inst", "get", "-j", bob.web0).json()["name"] == (
        "web0"
    )
    # the same through the environment
    env = {"TRITON_USER": "bob", "TRITON_ROLE": "ops"}
    by_env = triton.run("inst", "get", "-j", bob.web0, key=SUBUSER_KEY, env=env)
    assert by_env.status == 0 and by_env.json()["id"] == bob.web0


def test_subuser_denied_as_cloudapi_denies(triton: Triton, owner: CloudAPI, bob: Setup) -> None:
    machine = f"/{ACCOUNT}/machines"
    # no role tag on the resource
    untagged = triton.as_user("bob", "inst", "get", bob.web1)
    assert untagged.status == 1
    assert untagged.err.endswith(denied(f"{machine}/{bob.web1}", "getmachine") + "\n")
    # a role he holds, but not one the resource is tagged with
    wrong = triton.as_user("bob", "-r", "spare", "inst", "get", bob.web0)
    assert wrong.err.endswith(denied(f"{machine}/{bob.web0}", "getmachine") + "\n")
    # -r naming a role he does not hold, or one that does not exist
    for role in ("stranger", "nosuch"):
        foreign = triton.as_user("bob", "-r", role, "inst", "get", bob.web0)
        assert foreign.status == 1
        assert foreign.err.endswith(
            f"(NotAuthorized): You do not have permission to access {ACCOUNT}\n"
        ), role
    # a policy without the action
    stop = triton.as_user("bob", "inst", "stop", bob.web0)
    assert stop.status == 1
    assert f"You do not have permission to access {machine}/{bob.web0} (stopmachine)" in stop.err
    assert owner.get_machine(bob.web0)["state"] == "running"
    # nor may he look at the RBAC setup, or change it
    users = triton.as_user("bob", "rbac", "users")
    assert users.err.endswith(denied(f"/{ACCOUNT}/users", "listusers") + "\n")
    tag = triton.as_user("bob", "rbac", "instance-role-tags", "-a", "spare", bob.web0)
    assert tag.status == 1 and "(setroletags)" in tag.err
    assert owner.get_role_tags(f"machines/{bob.web0}") == ["ops"]
    # once the policy has the action, the same stop goes through
    owner.update_policy(bob.read, rules=["CAN listmachines and getmachine", "CAN stopmachine"])
    stopped = triton.as_user("bob", "inst", "stop", "-w", bob.web0)
    assert stopped.status == 0, stopped.err
    assert owner.get_machine(bob.web0)["state"] == "stopped"


def test_subuser_deleted_key_or_user(
    triton: Triton, owner: CloudAPI, keys: dict[str, TestKey], bob: Setup
) -> None:
    assert triton.as_user("bob", "inst", "get", bob.web0).status == 0
    owner.delete_user_key("bob", keys[SUBUSER_KEY].md5)
    gone = triton.as_user("bob", "inst", "get", bob.web0)
    assert (gone.status, gone.err.splitlines()[-1]) == (
        1,
        f"triton instance get: error {BAD_CREDENTIALS}",
    )
    owner.create_user_key("bob", keys[SUBUSER_KEY].pub_path.read_text(), "laptop")
    assert triton.as_user("bob", "inst", "get", bob.web0).status == 0
    owner.delete_user("bob")
    assert BAD_CREDENTIALS in triton.as_user("bob", "inst", "get", bob.web0).err
    # nor does the account's own key sign for a sub-user
    assert BAD_CREDENTIALS in triton.as_user("carl", "inst", "list", key=ACCOUNT_KEY).err


def test_subuser_administrator_may_do_everything(
    triton: Triton, owner: CloudAPI, bob: Setup
) -> None:
    owner.create_role(name="administrator", members=[member("bob", default=False)])
    assert triton.as_user("bob", "rbac", "users").status == 1
    admin = ("-r", "administrator")
    listed = triton.as_user("bob", *admin, "rbac", "users", "-H", "-o", "login")
    assert (listed.status, listed.out) == (0, "bob\ncarl\n")
    stopped = triton.as_user("bob", *admin, "inst", "stop", "-w", bob.web1)
    assert stopped.status == 0, stopped.err
    assert owner.get_machine(bob.web1)["state"] == "stopped"


# --- two accounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoAccounts:
    mine: str
    theirs: str


@pytest.fixture()
def two(owner: CloudAPI, other: CloudAPI, keys: dict[str, TestKey]) -> TwoAccounts:
    """``test`` with ``bob`` (its administrator, ecdsa256); ``other`` with ``sam`` (its
    administrator, rsa_pem) and a ``bob`` of its own (ecdsa521); a machine in each."""
    add_user(owner, "bob", keys[SUBUSER_KEY])
    owner.create_role(name="administrator", members=[member("bob")])
    add_user(other, "sam", keys[OTHER_SUBUSER_KEY])
    add_user(other, "bob", keys[SPARE_KEY])
    other.create_role(name="administrator", members=[member("sam")])
    return TwoAccounts(add_machine(owner, "mine"), add_machine(other, "theirs"))


def test_subusers_never_reach_the_other_account(
    triton: Triton, owner: CloudAPI, other: CloudAPI, two: TwoAccounts
) -> None:
    theirs = f"/{OTHER}/machines"
    # bob administers test ...
    assert triton.as_user("bob", "inst", "get", two.mine).status == 0
    # ... but not other, whose paths he can name with --act-as
    act = ("--act-as", OTHER)
    for args, path, action in [
        (("inst", "list"), theirs, "listmachines"),
        (("inst", "get", two.theirs), f"{theirs}/{two.theirs}", "getmachine"),
        (("rbac", "users"), f"/{OTHER}/users", "listusers"),
        (("rbac", "roles"), f"/{OTHER}/roles", "listroles"),
    ]:
        result = triton.as_user("bob", *act, *args)
        assert result.status == 1
        assert result.err.endswith(denied(path, action) + "\n"), args
    stop = triton.as_user("bob", *act, "inst", "stop", two.theirs)
    assert stop.status == 1
    assert f"You do not have permission to access {theirs}/{two.theirs} (stopmachine)" in stop.err
    delete = triton.as_user("bob", *act, "inst", "delete", "-f", two.theirs)
    assert delete.status == 1
    tag = triton.as_user("bob", *act, "rbac", "role-tags", "-a", "administrator", theirs)
    assert tag.status == 1
    user = json.dumps({"login": "mole", "email": "mole@example.com", "password": PASSWORD})
    assert triton.as_user("bob", *act, "rbac", "user", "-a", "-", stdin=user).status == 1
    assert other.get_machine(two.theirs)["state"] == "running"
    assert other.get_role_tags("machines") == []
    assert [u["login"] for u in other.list_users()] == ["sam", "bob"]
    # nor when other grants a role to the account test: that is for test itself, not for
    # test's sub-users
    other.create_policy(name="read", rules=["CAN listmachines and getmachine"])
    partners = {"type": "account", "login": ACCOUNT, "default": True}
    other.create_role(name="partners", members=[partners], policies=["read"])
    other.set_role_tags(f"machines/{two.theirs}", ["partners"])
    other.set_role_tags("machines", ["partners"])
    for role in ((), ("-r", "partners")):
        get = triton.as_user("bob", *act, *role, "inst", "get", two.theirs)
        assert get.status == 1 and "(NotAuthorized)" in get.err, role
    # in his own account, the other's machine does not exist
    missing = triton.as_user("bob", "inst", "get", two.theirs)
    assert missing.status == 3 and "ResourceNotFound" in missing.err
    # other's bob is someone else: test's bob's key does not sign for him, his own does
    assert (
        BAD_CREDENTIALS in triton.as_user("bob", "inst", "list", account=OTHER, key=SUBUSER_KEY).err
    )
    own = triton.as_user("bob", "inst", "list", account=OTHER, key=SPARE_KEY)
    assert own.err.endswith(denied(theirs, "listmachines") + "\n")
    # the same the other way round
    sam = triton.as_user("sam", "--act-as", ACCOUNT, "inst", "stop", two.mine, account=OTHER)
    assert sam.status == 1
    assert owner.get_machine(two.mine)["state"] == "running"
    assert triton.as_user("sam", "inst", "get", two.mine, account=OTHER).status == 3
    assert triton.as_user("sam", "inst", "get", two.theirs, account=OTHER).status == 0
    # while the account test itself, a member of other's "partners" role, may list them
    listed = triton.run("--act-as", OTHER, "inst", "list", "-H", "-o", "id")
    assert listed.status == 0 and two.theirs in listed.out
