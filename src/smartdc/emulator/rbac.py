"""Authorizing sub-user requests, as CloudAPI does with mahi and Aperture.

HTTP-free: the app calls :func:`authorize` once a request is authenticated and its account
known. The rules, with where each comes from:

1. The account owner may do everything on its own account (node-mahi ``authorize``). Checked
   here are sub-users, and accounts acting on another account (``triton --act-as``), whose
   roles there are the roles listing the calling account as a member (``type: "account"``).
2. The *active roles* are those named in ``as-role`` (comma-separated names), each of which the
   user must be a member of, else 403 "You do not have permission to access <account login>";
   without ``as-role`` they are the user's default roles (sdc-cloudapi lib/auth.js
   ``authorize``).
3. An active role named ``administrator`` allows everything on the account (node-mahi's
   ``ADMIN_ROLE_NAME``).
4. Otherwise the active roles that are among the *role tags of the resource* the request acts
   on are kept; with none left the request is denied (mahi ``NoMatchingRoleTagError``).
   The resource is named by :func:`resource_name` (sdc-cloudapi lib/resources.js
   ``resourceName``): a machine's sub-resources (tags, metadata, snapshots, ...) share the
   machine's tags.
5. The rules of those roles' policies are evaluated with Aperture for the route's action
   (:mod:`smartdc.emulator.rbac_actions`) and the request's conditions: ``date``, ``day`` and
   ``time`` (the request time), ``user-agent``, ``sourceip``, ``method`` (lower case),
   ``activeRoles``, and for machines ``ip`` (its IPs) and ``tag_<name>`` (its tags). No rule
   allowing → 403 "You do not have permission to access <path> (<action>)".
6. A resource created by a sub-user is tagged with the ``role-tag`` header's roles, else with
   the active roles; so is one the account creates with that header (sdc-cloudapi
   lib/resources.js ``updateResource``; machines get theirs from lib/machines.js at
   provision) — :data:`CREATED_ID_FIELD`, :data:`TAGGED_UPDATES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from smartdc.emulator import aperture
from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import policies, role_tags, roles

FORBIDDEN = "You do not have permission to access {}"


def forbidden(what: str) -> EmulatorError:
    """CloudAPI's 403 ``NotAuthorized``."""
    return EmulatorError(403, "NotAuthorized", FORBIDDEN.format(what))


def resource_name(path: str, login: str) -> str:
    """The name role tags are kept under for a request ``path`` (raw, as sent).

    The first segment becomes the real ``login`` (``my`` included); a user's keys keep their
    full path; anything below ``/machines/<id>`` is the machine; other paths keep at most
    three segments.
    """
    parts = path.strip("/").split("/")
    parts[0] = login
    if len(parts) >= 4 and parts[1] == "users" and parts[3] == "keys":
        kept = parts
    elif len(parts) >= 4:
        kept = parts[:3] if parts[1] == "machines" or len(parts) == 4 else parts[:4]
    else:
        kept = parts
    return unquote("/" + "/".join(kept))


def machine_id_of(resource: str) -> str | None:
    """The machine UUID a resource name points at, if it is one machine."""
    parts = resource.strip("/").split("/")
    return parts[2] if len(parts) == 3 and parts[1] == "machines" else None


@dataclass(frozen=True)
class Request:
    """What authorization needs to know about one sub-user request."""

    account: Mapping[str, Any]
    #: The sub-user who signed, or for a cross-account request the calling account.
    user: Mapping[str, Any]
    as_role: str | None
    path: str
    action: str
    method: str
    user_agent: str
    source_ip: str
    datacenter: str
    now: float
    #: An account acting on another (its roles there are those listing it as a member).
    cross_account: bool = False


def active_roles(db: Database, request: Request) -> list[dict[str, Any]]:
    """The roles the request acts with (rule 2)."""
    held = roles.roles_of_member(db, str(request.user["id"]), str(request.account["id"]))
    names = [n for n in (request.as_role or "").split(",") if n]
    if not names:
        return [role for role, is_default in held if is_default]
    by_name = {role["name"]: role for role, _ in held}
    chosen = []
    for name in names:
        if name not in by_name:
            raise forbidden(str(request.account["login"]))
        chosen.append(by_name[name])
    return chosen


def conditions(
    request: Request, active: Sequence[Mapping[str, Any]], machine: Mapping[str, Any] | None
) -> dict[str, object]:
    """The Aperture conditions CloudAPI evaluates policies with (rule 5)."""
    return aperture.cloudapi_conditions(
        now=datetime.fromtimestamp(request.now, UTC),
        method=request.method,
        active_roles=[str(r["id"]) for r in active],
        user_agent=request.user_agent,
        source_ip=request.source_ip,
        datacenter=request.datacenter,
        machine_ips=None if machine is None else list(machine.get("ips") or []),
        machine_tags=None if machine is None else dict(machine.get("tags") or {}),
    )


def authorize(
    db: Database,
    request: Request,
    resource: str,
    machine: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Allow the request or raise 403; return the active roles (for tagging new resources).

    ``machine`` is the machine a ``/machines/<id>`` request acts on, for ``ip`` and
    ``tag_<name>`` conditions.
    """
    active = active_roles(db, request)
    denied = forbidden(f"{request.path} ({request.action})")
    # The administrator role allows everything on its own account only (node-mahi).
    if not request.cross_account and any(r["name"] == roles.ADMINISTRATOR for r in active):
        return active
    tagged = set(role_tags.tag_uuids(db, str(request.account["id"]), resource))
    matching = [role for role in active if role["id"] in tagged]
    if not matching:
        raise denied
    texts: list[str] = []
    for role in matching:
        texts.extend(policies.policy_rules(db, roles.policy_uuids(db, str(role["id"]))))
    rules = [aperture.parse_rule(text) for text in texts]
    if not rules or not aperture.allows(
        rules, request.action, conditions(request, active, machine)
    ):
        raise denied
    return active


#: Creations after which CloudAPI tags the new resource, with the field of the answer that
#: names it below the request's resource (sdc-cloudapi lib/resources.js ``updateResource``
#: and the create handlers that retarget it; CreateMachine passes ``role_tags`` to VMAPI).
CREATED_ID_FIELD: Mapping[str, str] = {
    "CreateUser": "id",
    "CreateRole": "id",
    "CreatePolicy": "id",
    "CreateKey": "fingerprint",
    "CreateUserKey": "fingerprint",
    "CreateAccessKey": "accesskeyid",
    "CreateUserAccessKey": "accesskeyid",
    "CreateFirewallRule": "id",
    "CreateImageFromMachine": "id",
    "CreateMachine": "id",
}
#: Updates after which the request's own resource is tagged.
TAGGED_UPDATES = frozenset(
    {
        "UpdateUser",
        "UpdateRole",
        "UpdatePolicy",
        "UpdateAccessKey",
        "UpdateUserAccessKey",
        "UpdateAccount",
        "UpdateFirewallRule",
    }
)
#: Reads whose answer names the resource's role tags in a ``role-tag`` header (the handlers
#: that call lib/resources.js ``getRoleTags``); for lists, the collection's tags.
TAG_HEADER_OPERATIONS = frozenset(
    {
        "GetAccount",
        "ListUsers",
        "GetUser",
        "ListRoles",
        "GetRole",
        "ListPolicies",
        "GetPolicy",
        "ListKeys",
        "GetKey",
        "ListUserKeys",
        "GetUserKey",
        "ListAccessKeys",
        "GetAccessKey",
        "ListUserAccessKeys",
        "GetUserAccessKey",
        "ListMachines",
        "GetMachine",
        "ListImages",
        "GetImage",
        "ListPackages",
        "GetPackage",
        "ListNetworks",
        "GetNetwork",
        "ListFirewallRules",
        "GetFirewallRule",
        "ListServices",
    }
)


def requested_tags(db: Database, account_uuid: str, header: str | None) -> list[str] | None:
    """Role UUIDs the ``role-tag`` header names; ``None`` without one, or when a name is
    unknown (CloudAPI then logs the error and leaves the resource untagged)."""
    if not header:
        return None
    names = [n for n in header.split(",") if n]
    try:
        return [str(r["id"]) for r in roles.roles_by_name(db, account_uuid, names)]
    except EmulatorError:
        return None


def source_ip(forwarded_for: str | None, peer: str) -> str:
    """The ``sourceip`` condition: the last ``X-Forwarded-For`` entry, else the peer."""
    if forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return peer


@dataclass(frozen=True)
class Outcome:
    """A successful (200/201) answer, as role tagging after the handler needs it."""

    account_uuid: str
    operation: str
    method: str
    body: Any
    resource: str
    role_tag_header: str | None
    active_roles: Sequence[Mapping[str, Any]]


def tag_after(db: Database, outcome: Outcome) -> str | None:
    """Tag what a create or update made (rule 6); for a read that names role tags, the
    ``role-tag`` header value (``None``: no header)."""
    account_uuid, resource = outcome.account_uuid, outcome.resource
    if outcome.operation in TAG_HEADER_OPERATIONS and outcome.method in ("GET", "HEAD"):
        return ",".join(role_tags.tag_names(db, account_uuid, resource)) or None
    field = CREATED_ID_FIELD.get(outcome.operation)
    if field is None and outcome.operation not in TAGGED_UPDATES:
        return None
    wanted = requested_tags(db, account_uuid, outcome.role_tag_header)
    if field is not None:
        created = outcome.body.get(field) if isinstance(outcome.body, dict) else None
        if not created:
            return None
        resource = f"{resource}/{created}"
    elif wanted is None and role_tags.tag_uuids(db, account_uuid, resource):
        return None  # an update keeps the tags the resource has
    if wanted is None and outcome.active_roles:
        wanted = [str(role["id"]) for role in outcome.active_roles]
    if wanted is not None:
        role_tags.set_tags(db, account_uuid, resource, wanted)
    return None
