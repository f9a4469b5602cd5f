"""Declarative RBAC for ``smartdc rbac apply`` and ``rbac reset``: read a config, read the
account's RBAC state, plan the changes between them, confirm, apply.

The config format is node-triton's (lib/rbac.js, examples/rbac-simple/rbac.json)::

    {"users": [{"login": "emma", "email": "emma@example.com", "keys": [...]}],
     "policies": [{"name": "read", "description": "...", "rules": ["CAN compute:Get*"]}],
     "roles": [{"name": "ops", "members": ["emma"], "default_members": ["emma"],
                "policies": ["read"]}]}

Where this differs from triton 7.17, on purpose:

* CloudAPI returns roles in its v9 shape (member objects with a ``default`` flag, policy
  objects); triton compares them with the legacy shape and crashes. Roles are compared and
  sent in the v9 shape here, and members of another account (``type: "account"``, which
  the config cannot name) are kept.
* A user without ``keys`` (and no ``rbac-user-keys/<login>.pub``) keeps its keys; triton
  deletes them. ``"keys": []`` still deletes them all.
* Creates and updates run first (users, policies, roles) and deletions after, roles
  before policies before users, so nothing is deleted while still referenced.
* The config is checked before anything is sent: unknown fields, duplicate names, role
  members that are not users of the config, role policies that are not policies of it.
* Updating a user sends the fields that changed (triton crashes there); removing a
  policy's description sends ``""``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartdc.cli.commands.rbac import public_key_problem, read_file
from smartdc.cli.failures import CommandError
from smartdc.wire import USER_PROFILE_FIELDS

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.cli.config import Profile
    from smartdc.cli.context import Context

JSONObject = dict[str, Any]

#: Where a user's public keys are looked for when the config does not say
#: (``rbac-user-keys/<login>.pub``, relative to the current directory, as triton).
DEFAULT_KEYS_DIR = "rbac-user-keys"
#: How many user-key listings are in flight at once.
KEY_FETCH_WIDTH = 8

_USER_FIELDS = ("login", "email", "password", "keys", *USER_PROFILE_FIELDS)
_POLICY_FIELDS = ("name", "description", "rules")
_ROLE_FIELDS = ("name", "members", "default_members", "policies")
_ACTION_WORDS = {"create": "Create", "delete": "Delete", "update": "Update", "generate": "Generate"}


# --- the state of the account -----------------------------------------------------------------


@dataclass
class State:
    """The account's RBAC objects as CloudAPI returns them (users with their ``keys``)."""

    users: list[JSONObject]
    policies: list[JSONObject]
    roles: list[JSONObject]


def _map_parallel(call: Callable[[JSONObject], Any], items: Sequence[JSONObject]) -> list[Any]:
    from smartdc.cli.parallel import run_parallel

    results: list[Any] = []
    for start in range(0, len(items), KEY_FETCH_WIDTH):
        chunk = items[start : start + KEY_FETCH_WIDTH]
        results.extend(run_parallel(*(functools.partial(call, item) for item in chunk)))
    return results


def load_state(api: CloudAPI, *, with_keys: bool) -> State:
    """Users, policies and roles (fetched together), and each user's keys if asked."""
    from smartdc.cli.parallel import run_parallel

    users, policies, roles = run_parallel(api.list_users, api.list_policies, api.list_roles)
    if with_keys and users:
        keys = _map_parallel(lambda user: api.list_user_keys(str(user["id"])), users)
        for user, user_keys in zip(users, keys, strict=True):
            user["keys"] = user_keys
    return State(list(users), list(policies), list(roles))


# --- the config -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WantKey:
    """A public key a user should have."""

    fingerprint: str
    name: str | None
    key: str


@dataclass
class WantUser:
    """A user of the config: its fields (email, profile, password) and keys.

    ``keys`` is ``None`` when the config says nothing about them (leave them as they are).
    """

    login: str
    fields: dict[str, str]
    keys: list[WantKey] | None


@dataclass
class WantPolicy:
    """A policy of the config."""

    name: str
    rules: list[str]
    description: str | None


@dataclass
class WantRole:
    """A role of the config: member logins (default ones too) and policy names."""

    name: str
    members: list[str]
    default_members: list[str]
    policies: list[str]


@dataclass
class Config:
    """A checked RBAC config."""

    users: list[WantUser] = field(default_factory=list)
    policies: list[WantPolicy] = field(default_factory=list)
    roles: list[WantRole] = field(default_factory=list)


class _ConfigProblem(Exception):
    pass


def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _ConfigProblem(f'"{key}" must be an array')
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise _ConfigProblem(f"{key}[{index}] must be an object")
    return value


def _name(item: Mapping[str, Any], key: str, where: str, seen: set[str]) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise _ConfigProblem(f'{where}: "{key}" must be a non-empty string')
    if value in seen:
        raise _ConfigProblem(f'{where}: duplicate {key} "{value}"')
    seen.add(value)
    return value


def _unknown(item: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    extra = [key for key in item if key not in known]
    if extra:
        raise _ConfigProblem(
            f"{where}: unknown field{'s' if len(extra) > 1 else ''} "
            + ", ".join(f'"{k}"' for k in extra)
        )


def _strings(item: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _ConfigProblem(f'{where}: "{key}" must be an array of strings')
    return list(value)


def parse_key_line(line: str, source: str) -> WantKey:
    """A public key line as a :class:`WantKey` (MD5 fingerprint, comment as name)."""
    import base64
    import hashlib

    problem = public_key_problem(line)
    if problem:
        raise CommandError(f'invalid SSH public key in "{source}": {problem}')
    fields = line.split()
    digest = hashlib.md5(base64.b64decode(fields[1])).hexdigest()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return WantKey(fingerprint, " ".join(fields[2:]) or None, line.strip())


def _keys_from_path(login: str, given: str, implicit: bool) -> list[WantKey] | None:
    path = Path(given)
    try:
        if path.is_dir():
            path = path / f"{login}.pub"
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
    except OSError as exc:
        if implicit:
            return None
        raise CommandError(f'User {login} keys not found in "{given}": {exc}') from None
    if not path.is_file():
        if implicit:
            return None
        raise CommandError(f'Expected "{path}" to be a regular file')
    text = read_file(str(path))
    return [parse_key_line(line, str(path)) for line in text.splitlines() if line.strip()]


def _user_keys(user: Mapping[str, Any], login: str, where: str) -> list[WantKey] | None:
    if "keys" not in user:
        return _keys_from_path(login, DEFAULT_KEYS_DIR, implicit=True)
    given = user["keys"]
    if isinstance(given, str):
        return _keys_from_path(login, given, implicit=False)
    if not isinstance(given, list):
        raise _ConfigProblem(f'{where}: "keys" must be an array or a file path')
    keys = []
    for index, entry in enumerate(given):
        if isinstance(entry, str):
            entry = {"key": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise _ConfigProblem(f'{where}: keys[{index}] must be an object with a "key"')
        _unknown(entry, ("key", "name", "fingerprint"), f"{where}: keys[{index}]")
        key = parse_key_line(entry["key"], f"{where}: keys[{index}]")
        if entry.get("fingerprint") not in (None, key.fingerprint):
            raise _ConfigProblem(
                f'{where}: keys[{index}]: "fingerprint" is not the key\'s MD5 fingerprint '
                f"({key.fingerprint})"
            )
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise _ConfigProblem(f'{where}: keys[{index}]: "name" must be a string')
        keys.append(replace(key, name=name or key.name))
    return keys


def _parse_config(data: Any) -> Config:
    if not isinstance(data, Mapping):
        raise _ConfigProblem("expected a JSON object")
    _unknown(data, ("users", "policies", "roles"), "top level")
    config = Config()
    seen: set[str] = set()
    for index, user in enumerate(_items(data, "users")):
        where = f"users[{index}]"
        login = _name(user, "login", where, seen)
        where = f'user "{login}"'
        _unknown(user, _USER_FIELDS, where)
        fields = {}
        for key, value in user.items():
            if key in ("login", "keys"):
                continue
            if not isinstance(value, str):
                raise _ConfigProblem(f'{where}: "{key}" must be a string')
            fields[key] = value
        config.users.append(WantUser(login, fields, _user_keys(user, login, where)))
    seen = set()
    for index, policy in enumerate(_items(data, "policies")):
        name = _name(policy, "name", f"policies[{index}]", seen)
        where = f'policy "{name}"'
        _unknown(policy, _POLICY_FIELDS, where)
        description = policy.get("description")
        if description is not None and not isinstance(description, str):
            raise _ConfigProblem(f'{where}: "description" must be a string')
        rules = _strings(policy, "rules", where)
        config.policies.append(WantPolicy(name, rules, description or None))
    logins = {user.login for user in config.users}
    policy_names = {policy.name for policy in config.policies}
    seen = set()
    for index, role in enumerate(_items(data, "roles")):
        name = _name(role, "name", f"roles[{index}]", seen)
        where = f'role "{name}"'
        _unknown(role, _ROLE_FIELDS, where)
        defaults = _strings(role, "default_members", where)
        members = list(dict.fromkeys(_strings(role, "members", where) + defaults))
        for login in members:
            if login not in logins:
                raise _ConfigProblem(f'{where}: member "{login}" is not one of the users')
        policies = _strings(role, "policies", where)
        for policy_name in policies:
            if policy_name not in policy_names:
                raise _ConfigProblem(f'{where}: policy "{policy_name}" is not one of the policies')
        config.roles.append(WantRole(name, members, list(dict.fromkeys(defaults)), policies))
    return config


def load_config(path: str) -> Config:
    """Read and check the RBAC config file at ``path`` (and the key files it names)."""
    text = read_file(path)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"RBAC config file, {path}, is not valid JSON: {exc}") from None
    try:
        return _parse_config(data)
    except _ConfigProblem as exc:
        raise CommandError(f'invalid RBAC config file "{path}": {exc}') from None


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class Change:
    """One step of the plan.

    ``action`` is create, update, delete or generate; ``type`` user, key, policy, role or
    profile; ``id`` what the step is about (a login, a fingerprint, a name); ``diff`` maps
    each changed field to add, update or delete.
    """

    action: str
    type: str
    id: str
    desc: str | None = None
    user: str | None = None
    have: Any = None
    want: Any = None
    diff: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.desc or self.type

    def line(self) -> str:
        """The step as the confirmation lists it: ``Update policy read (update rules)``."""
        text = f"{_ACTION_WORDS[self.action]} {self.label} {self.id}"
        if self.action == "update" and self.diff:
            text += " (" + ", ".join(f"{how} {name}" for name, how in self.diff.items()) + ")"
        return text.rstrip()


def _role_view(role: Mapping[str, Any]) -> tuple[list[str], list[str], list[str], list[Any]]:
    """A live role's sub-user logins, default logins, policy names, and other members."""
    logins: list[str] = []
    defaults: list[str] = []
    others: list[Any] = []
    for member in role.get("members") or []:
        if isinstance(member, str):  # legacy shape
            logins.append(member)
        elif member.get("type", "subuser") == "subuser":
            logins.append(str(member.get("login")))
            if member.get("default") is True:
                defaults.append(str(member.get("login")))
        else:
            others.append({k: member[k] for k in ("type", "id", "login", "default") if k in member})
    for login in role.get("default_members") or []:
        if isinstance(login, str) and login not in defaults:
            defaults.append(login)
    policies = [
        str(p.get("name")) if isinstance(p, Mapping) else str(p) for p in role.get("policies") or []
    ]
    return sorted(logins), sorted(defaults), sorted(policies), others


def _key_changes(
    login: str, have: Sequence[Mapping[str, Any]], want: Sequence[WantKey]
) -> list[Change]:
    desc = f"user {login} key"
    have_by_fp = {str(k.get("fingerprint")): k for k in have}
    want_fps = {k.fingerprint for k in want}
    changes = []
    for key in want:
        old = have_by_fp.get(key.fingerprint)
        if old is None:
            changes.append(Change("create", "key", key.fingerprint, desc, login, want=key))
        elif key.name is not None and key.name != old.get("name"):
            changes.append(
                Change("update", "key", key.fingerprint, desc, login, old, key, {"name": "update"})
            )
    for fp, old in have_by_fp.items():
        if fp not in want_fps:
            changes.append(Change("delete", "key", fp, desc, login, have=old))
    return changes


def make_plan(config: Config, state: State) -> list[Change]:
    """The changes that turn ``state`` into ``config`` (see the module docstring for order)."""
    changes: list[Change] = []
    users = {str(u.get("login")): u for u in state.users}
    for want in config.users:
        have = users.get(want.login)
        if have is None:
            if "email" not in want.fields:
                raise CommandError(f'user "{want.login}" needs an "email" to be created')
            changes.append(Change("create", "user", want.login, "user", want=want))
            for key in want.keys or []:
                changes.append(
                    Change(
                        "create",
                        "key",
                        key.fingerprint,
                        f"user {want.login} key",
                        want.login,
                        want=key,
                    )
                )
            continue
        diff = {
            name: "update" if name in have else "add"
            for name, value in want.fields.items()
            if name != "password" and (have.get(name) or "") != value
        }
        if diff:
            changes.append(Change("update", "user", want.login, "user", None, have, want, diff))
        if want.keys is not None:
            changes.extend(_key_changes(want.login, have.get("keys") or [], want.keys))

    policies = {str(p.get("name")): p for p in state.policies}
    for wanted in config.policies:
        old = policies.get(wanted.name)
        if old is None:
            changes.append(Change("create", "policy", wanted.name, want=wanted))
            continue
        diff = {}
        if wanted.description != old.get("description"):
            if wanted.description is None:
                diff["description"] = "delete"
            else:
                diff["description"] = "update" if "description" in old else "add"
        if sorted(wanted.rules) != sorted(str(r) for r in old.get("rules") or []):
            diff["rules"] = "update"
        if diff:
            changes.append(Change("update", "policy", wanted.name, None, None, old, wanted, diff))

    roles = {str(r.get("name")): r for r in state.roles}
    for role in config.roles:
        live = roles.get(role.name)
        if live is None:
            changes.append(Change("create", "role", role.name, want=role))
            continue
        members, defaults, policy_names, _ = _role_view(live)
        diff = {}
        if sorted(role.members) != members:
            diff["members"] = "update"
        if sorted(role.default_members) != defaults:
            diff["default_members"] = "update"
        if sorted(role.policies) != policy_names:
            diff["policies"] = "update"
        if diff:
            changes.append(Change("update", "role", role.name, None, None, live, role, diff))

    wanted_roles = {r.name for r in config.roles}
    for name, live in roles.items():
        if name not in wanted_roles:
            changes.append(Change("delete", "role", name, have=live))
    wanted_policies = {p.name for p in config.policies}
    for name, old in policies.items():
        if name not in wanted_policies:
            changes.append(Change("delete", "policy", name, have=old))
    wanted_users = {u.login for u in config.users}
    for login, have in users.items():
        if login in wanted_users:
            continue
        for key in have.get("keys") or []:
            changes.append(
                Change(
                    "delete",
                    "key",
                    str(key.get("fingerprint")),
                    f"user {login} key",
                    login,
                    have=key,
                )
            )
        changes.append(Change("delete", "user", login, "user", have=have))
    return changes


def _dev_profile(
    name: str, url: str, account: str, key_id: str, insecure: bool | None, user: str | None
) -> Profile:
    from smartdc.cli.config import Profile

    return Profile(name=name, url=url, account=account, key_id=key_id, insecure=insecure, user=user)


def _dev_changes(context: Context, config: Config) -> list[Change]:
    """``--dev-create-keys-and-profiles``: keys for users without one, a profile for each."""
    from smartdc.cli.config import list_profiles

    current = context.settings.profile
    changes = [
        Change("generate", "key", "", f"user {user.login} key", user.login)
        for user in config.users
        if not user.keys
    ]
    existing = {p.name: p for p in list_profiles(context.config_dir, context.env)}
    for user in config.users:
        name = f"{current.name}-user-{user.login}"
        key_id = user.keys[0].fingerprint if user.keys else ""
        want = _dev_profile(
            name, current.url, current.account, key_id, current.insecure, user.login
        )
        have = existing.get(name)
        if have is None:
            changes.append(
                Change(
                    "create",
                    "profile",
                    name,
                    f"user {user.login} CLI profile",
                    user.login,
                    want=want,
                )
            )
        elif have != want:
            changes.append(
                Change(
                    "update",
                    "profile",
                    name,
                    f"user {user.login} CLI profile",
                    user.login,
                    have,
                    want,
                )
            )
    return changes


# --- carrying it out ----------------------------------------------------------------------------


def _generate_password() -> str:
    """A throw-away password of printable ASCII with a letter and a digit (UFDS requires
    both by default; as node-triton lib/common.js generatePassword)."""
    import secrets

    while True:
        password = "".join(chr(33 + secrets.randbelow(94)) for _ in range(20))
        if any(c.isalpha() for c in password) and any(c.isdigit() for c in password):
            return password


def _members_body(role: WantRole, others: Sequence[Any]) -> list[Any]:
    members: list[Any] = []
    for login in role.members:
        member: JSONObject = {"type": "subuser", "login": login}
        if login in role.default_members:
            member["default"] = True
        members.append(member)
    return members + list(others)


class _Runner:
    """Carries out changes, remembering keys it generated for the profiles that follow."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.api = context.api
        self.generated: dict[str, str] = {}

    def run(self, change: Change) -> None:
        getattr(self, f"_{change.action}_{change.type}")(change)

    def _out(self, text: str) -> None:
        self.context.out(text)

    # users

    def _create_user(self, change: Change) -> None:
        want: WantUser = change.want
        fields = dict(want.fields)
        generated = "password" not in fields
        password = fields.pop("password", None) or _generate_password()
        email = fields.pop("email")
        self.api.create_user(login=want.login, email=email, password=password, **fields)
        # triton suggests `triton rbac passwd`, which does not exist
        self._out(f"Created user {want.login}" + (" (with a random password)" if generated else ""))

    def _update_user(self, change: Change) -> None:
        want: WantUser = change.want
        fields = {name: want.fields[name] for name in change.diff}
        self.api.update_user(str(change.have["id"]), **fields)
        extra = ", ".join(f"{name}={value}" for name, value in fields.items())
        self._out(f"Updated user {want.login}: {extra}")

    def _delete_user(self, change: Change) -> None:
        self.api.delete_user(change.id)
        self._out(f"Deleted user {change.id}")

    # keys

    def _create_key(self, change: Change) -> None:
        key: WantKey = change.want
        made = self.api.create_user_key(str(change.user), key.key, key.name)
        name = f" ({made['name']})" if made.get("name") else ""
        self._out(f"Created user {change.user} key {made.get('fingerprint')}{name}")

    def _update_key(self, change: Change) -> None:
        key: WantKey = change.want
        self.api.delete_user_key(str(change.user), change.id)
        self.api.create_user_key(str(change.user), key.key, key.name)
        extra = ", ".join(f"{name}={getattr(key, name)}" for name in change.diff)
        self._out(f"Updated user {change.user} key {change.id}: {extra}")

    def _delete_key(self, change: Change) -> None:
        self.api.delete_user_key(str(change.user), change.id)
        self._out(f"Deleted user {change.user} key {change.id}")

    # policies

    def _create_policy(self, change: Change) -> None:
        want: WantPolicy = change.want
        made = self.api.create_policy(
            name=want.name, rules=want.rules, description=want.description
        )
        count = len(made.get("rules") or [])
        self._out(f"Created policy {made.get('name')} ({count} rule{'' if count == 1 else 's'})")

    def _update_policy(self, change: Change) -> None:
        want: WantPolicy = change.want
        rules = want.rules if "rules" in change.diff else None
        description = None
        if "description" in change.diff:
            description = want.description or ""  # "" removes it
        self.api.update_policy(str(change.have["id"]), rules=rules, description=description)
        extra = []
        for name in change.diff:
            value = ";".join(want.rules) if name == "rules" else (want.description or "")
            extra.append(f"{name}={value}")
        self._out(f"Updated policy {want.name}: {', '.join(extra)}")

    def _delete_policy(self, change: Change) -> None:
        self.api.delete_policy(str(change.have["id"]))
        self._out(f"Deleted policy {change.id}")

    # roles

    def _create_role(self, change: Change) -> None:
        want: WantRole = change.want
        made = self.api.create_role(
            name=want.name, members=_members_body(want, ()), policies=want.policies
        )
        count = len(made.get("members") or [])
        self._out(f"Created role {made.get('name')} ({count} member{'' if count == 1 else 's'})")

    def _update_role(self, change: Change) -> None:
        want: WantRole = change.want
        members = None
        if "members" in change.diff or "default_members" in change.diff:
            members = _members_body(want, _role_view(change.have)[3])
        policies = want.policies if "policies" in change.diff else None
        self.api.update_role(str(change.have["id"]), members=members, policies=policies)
        extra = ", ".join(f"{name}={','.join(getattr(want, name))}" for name in change.diff)
        self._out(f"Updated role {want.name}: {extra}")

    def _delete_role(self, change: Change) -> None:
        self.api.delete_role(str(change.have["id"]))
        self._out(f"Deleted role {change.id}")

    # --dev-create-keys-and-profiles

    def _generate_key(self, change: Change) -> None:
        import subprocess

        login = str(change.user)
        profile = self.context.settings.profile
        self._out(f"Generating and adding new SSH key for user {login}:")
        key_name = f"{profile.name} user {login}"
        home = Path(self.context.env.get("HOME") or os.path.expanduser("~"))
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path = ssh_dir / f"{profile.name}-user-{login}.id_rsa"
        for old in (key_path, key_path.with_name(key_path.name + ".pub")):
            old.unlink(missing_ok=True)
        self._out(f"    Generate 4096 bit RSA key: {key_path}[.pub]")
        argv = [
            "ssh-keygen",
            "-q",
            "-t",
            "rsa",
            "-m",
            "PEM",
            "-b",
            "4096",
            "-N",
            "",
            "-C",
            key_name,
            "-f",
            str(key_path),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode:
            raise CommandError(f"ssh-keygen failed: {done.stderr.strip() or done.returncode}")
        public = read_file(str(key_path) + ".pub")
        copy = Path(DEFAULT_KEYS_DIR) / f"{login}.pub"
        copy.parent.mkdir(parents=True, exist_ok=True)
        self._out(f"    Copy pubkey to {copy}")
        copy.write_text(public, encoding="utf-8")
        made = self.api.create_user_key(login, public, key_name)
        self.generated[login] = str(made.get("fingerprint"))
        name = f" ({made['name']})" if made.get("name") else ""
        self._out(f"    Created user {login} key {made.get('fingerprint')}{name}")

    def _save_profile(self, change: Change, verb: str) -> None:
        from smartdc.cli.config import save_profile

        want: Profile = change.want
        if not want.key_id:
            key_id = self.generated.get(str(change.user))
            if key_id is None:
                raise CommandError(f'no key for user "{change.user}" to put in profile {want.name}')
            want = _dev_profile(want.name, want.url, want.account, key_id, want.insecure, want.user)
        save_profile(self.context.config_dir, want)
        self._out(f'{verb} CLI profile "{want.name}"')

    def _create_profile(self, change: Change) -> None:
        self._save_profile(change, "Created")

    def _update_profile(self, change: Change) -> None:
        self._save_profile(change, "Updated")


def carry_out(context: Context, options: argparse.Namespace, changes: Sequence[Change]) -> None:
    """Confirm the plan (unless ``-y``), then apply it, or with ``-n`` only list it."""
    from smartdc.cli.prompt import ask_yes_no

    if not changes:
        return
    dry_run = bool(options.dry_run)
    if not options.yes:
        context.out()
        context.out("This will make the following RBAC config changes:")
        for change in changes:
            context.out(f"    {change.line()}")
        context.out()
        prompt = f"Would you like to continue{' (dry-run)' if dry_run else ''}? [y/N] "
        if not ask_yes_no(context, prompt, default="n"):
            context.out("Aborting update")
            return
        context.out()
    runner = None if dry_run else _Runner(context)
    for change in changes:
        if runner is None:
            context.out(f"[dry-run] {change.action} {change.label} {change.id}".rstrip())
        else:
            runner.run(change)


def apply(context: Context, options: argparse.Namespace) -> None:
    """``rbac apply``: plan from ``-f FILE`` (default ``./rbac.json``) and carry it out."""
    config = load_config(options.file or "./rbac.json")
    changes = make_plan(config, load_state(context.api, with_keys=True))
    if options.dev_create_keys_and_profiles:
        changes.extend(_dev_changes(context, config))
    carry_out(context, options, changes)


def reset(context: Context, options: argparse.Namespace) -> None:
    """``rbac reset``: plan the deletion of every RBAC object and carry it out."""
    carry_out(context, options, make_plan(Config(), load_state(context.api, with_keys=True)))
