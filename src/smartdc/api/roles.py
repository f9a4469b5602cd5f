"""RBAC role, policy and role-tag operations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path, _str_list
from smartdc.api._operation import Call, operation
from smartdc.wire import ROLE_TAG_RESOURCES as ROLE_TAG_RESOURCES

#: A role member: a sub-user login, or ``{"type": "subuser"|"account", "id"|"login",
#: "default"?}``.
Member = str | Mapping[str, Any]


def _policy_ref(policy: Ref) -> dict[str, str]:
    """A role's policy entry: a name as ``{"name"}``, a policy dict as its ``id``/``name``."""
    if isinstance(policy, str):
        return {"name": _id_of(policy, "name")}
    entry = {key: policy[key] for key in ("id", "name") if isinstance(policy.get(key), str)}
    if not entry:
        raise TypeError(f"expected a policy name or a dict with 'id' or 'name', got {policy!r}")
    return {"id": entry["id"]} if "id" in entry else entry


def _member(member: Member) -> dict[str, Any]:
    """A role member entry: a login becomes a sub-user member; dicts are sent as given."""
    if isinstance(member, str):
        return {"type": "subuser", "login": _id_of(member, "login")}
    if not ({"id", "login"} & set(member)):
        raise TypeError(f"a role member needs 'id' or 'login', got {member!r}")
    return {"type": "subuser", **member}


def _role_fields(
    name: str | None, policies: Sequence[Ref] | None, members: Sequence[Member] | None
) -> JSONObject:
    return _fields(
        name=name,
        policies=None if policies is None else [_policy_ref(p) for p in policies],
        members=None if members is None else [_member(m) for m in members],
    )


def parse_role_tags(header: str | None) -> list[str]:
    """Role names from a ``role-tag`` response header (comma-separated; absent: none)."""
    return [name.strip() for name in (header or "").split(",") if name.strip()]


def role_tag_path(resource: str, account: str) -> str:
    """The relative path SetRoleTags writes to, checked: ``""`` is the account itself.

    ``resource`` is ``machines``, ``machines/<id>``, ``users/<login>/keys/<key>`` and so
    on, optionally starting with ``/my/`` or ``/<account>/``.
    """
    segments = [segment for segment in resource.split("/") if segment]
    if segments and segments[0] in ("my", account):
        segments = segments[1:]
    if not segments:
        return ""
    kind = segments[0]
    nested_key = kind == "users" and len(segments) in (3, 4) and segments[2] == "keys"
    if kind not in ROLE_TAG_RESOURCES or (len(segments) > 2 and not nested_key):
        raise ValueError(
            f"{resource!r} is not a resource that takes role tags; expected '' (the account), "
            "'<kind>' or '<kind>/<id>' with kind one of: "
            + ", ".join(sorted(ROLE_TAG_RESOURCES))
            + ", or 'users/<user>/keys[/<key>]'"
        )
    return _path(*segments)


class RolesMixin(ApiBase):
    """Roles, the policies they grant, and role tags on resources (RBAC)."""

    # --- roles -------------------------------------------------------------------------------

    @operation
    def list_roles(self) -> Call[list[JSONObject]]:
        """ListRoles: ``GET /:account/roles``."""
        return self._objects("GET", "roles")

    @operation
    def get_role(self, role: Ref) -> Call[JSONObject]:
        """GetRole: ``GET /:account/roles/:role`` (``role`` is an id, a name or a role dict)."""
        return self._object("GET", _path("roles", _id_of(role, "id", "name")))

    @operation
    def create_role(
        self,
        *,
        name: str,
        policies: Sequence[Ref] | None = None,
        members: Sequence[Member] | None = None,
    ) -> Call[JSONObject]:
        """CreateRole: ``POST /:account/roles``.

        ``policies`` are policy names or policy dicts (sent as ``{"id"}`` or ``{"name"}``);
        ``members`` are sub-user logins or member dicts such as ``{"type": "subuser",
        "login": "bob", "default": True}`` (``type`` defaults to ``subuser``). Returns the new
        role.
        """
        if not name:
            raise ValueError("create_role() needs a non-empty name")
        return self._object("POST", "roles", json=_role_fields(name, policies, members))

    @operation
    def update_role(
        self,
        role: Ref,
        *,
        name: str | None = None,
        policies: Sequence[Ref] | None = None,
        members: Sequence[Member] | None = None,
    ) -> Call[JSONObject]:
        """UpdateRole: ``POST /:account/roles/:role``.

        Each field given (``name``, ``policies``, ``members``, as in :meth:`create_role`)
        replaces the old value; ``[]`` empties a list. Returns the updated role.
        """
        body = _role_fields(name, policies, members)
        if not body:
            raise ValueError("update_role() needs name, policies or members")
        return self._object("POST", _path("roles", _id_of(role, "id", "name")), json=body)

    @operation
    def delete_role(self, role: Ref) -> Call[None]:
        """DeleteRole: ``DELETE /:account/roles/:role``."""
        return self._none("DELETE", _path("roles", _id_of(role, "id", "name")))

    # --- policies ----------------------------------------------------------------------------

    @operation
    def list_policies(self) -> Call[list[JSONObject]]:
        """ListPolicies: ``GET /:account/policies``."""
        return self._objects("GET", "policies")

    @operation
    def get_policy(self, policy: Ref) -> Call[JSONObject]:
        """GetPolicy: ``GET /:account/policies/:policy`` (an id, a name or a policy dict)."""
        return self._object("GET", _path("policies", _id_of(policy, "id", "name")))

    @operation
    def create_policy(
        self, *, name: str, rules: str | Sequence[str], description: str | None = None
    ) -> Call[JSONObject]:
        """CreatePolicy: ``POST /:account/policies``.

        ``rules`` are Aperture sentences, such as ``"CAN listmachines and getmachine"``.
        Returns the new policy.
        """
        body = _fields(name=name, rules=_str_list(rules), description=description)
        return self._object("POST", "policies", json=body)

    @operation
    def update_policy(
        self,
        policy: Ref,
        *,
        name: str | None = None,
        rules: str | Sequence[str] | None = None,
        description: str | None = None,
    ) -> Call[JSONObject]:
        """UpdatePolicy: ``POST /:account/policies/:policy``.

        Changes the given ``name``, ``rules`` (replacing them all) or ``description``
        (``""`` removes it). Returns the updated policy.
        """
        body = _fields(name=name, rules=_str_list(rules), description=description)
        if not body:
            raise ValueError("update_policy() needs name, rules or description")
        return self._object("POST", _path("policies", _id_of(policy, "id", "name")), json=body)

    @operation
    def delete_policy(self, policy: Ref) -> Call[None]:
        """DeletePolicy: ``DELETE /:account/policies/:policy``."""
        return self._none("DELETE", _path("policies", _id_of(policy, "id", "name")))

    # --- role tags ---------------------------------------------------------------------------

    @operation
    def get_role_tags(self, resource: str) -> Call[list[str]]:
        """The role names ``resource`` is tagged with: ``GET /:account/<resource>``, read from
        the ``role-tag`` response header.

        ``resource`` is named as for :meth:`set_role_tags`. CloudAPI has no separate route:
        the resource's own GET carries the header (only when tags are set, hence ``[]``
        otherwise). GET rather than HEAD, as ``triton`` does, because RBAC grants the two
        separately (``getmachine`` vs ``headmachine``).
        """
        path = role_tag_path(resource, self._account)
        return self._call("GET", path).then(
            lambda response: parse_role_tags(response.headers.get("role-tag"))
        )

    @operation
    def set_role_tags(self, resource: str, role_tags: Sequence[str]) -> Call[JSONObject]:
        """SetRoleTags: ``PUT /:account/<resource>`` with ``{"role-tag": [role names]}``.

        ``resource`` names what to tag, relative to the account: ``""`` (the account),
        ``"machines"`` (the collection), ``"machines/<id>"``, ``"users/<login>/keys/<key>"``
        ... (see :data:`ROLE_TAG_RESOURCES`). ``[]`` clears the tags. Returns
        ``{"name": <resource path>, "role-tag": [names]}``.
        """
        if isinstance(role_tags, str):
            raise TypeError("role_tags must be a list of role names, not one string")
        path = role_tag_path(resource, self._account)
        return self._object("PUT", path, json={"role-tag": list(role_tags)})
