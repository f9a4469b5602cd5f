"""Firewall rule operations (Cloud Firewall)."""

from __future__ import annotations

from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path
from smartdc.api._operation import Call, operation


class FirewallMixin(ApiBase):
    """Firewall rules and the machines they apply to.

    Rules read ``FROM <targets> TO <targets> ALLOW|BLOCK <protocol> <ports>``, for example
    ``FROM any TO tag role=web ALLOW tcp PORT 443``.
    """

    def _rule_path(self, id: Ref, *rest: str) -> str:
        return _path("fwrules", _id_of(id, "id"), *rest)

    @operation
    def list_firewall_rules(self) -> Call[list[JSONObject]]:
        """ListFirewallRules: ``GET /:login/fwrules``.

        Returns ``[{"id", "rule", "enabled", "log", "global"?, "description"?}, ...]``.
        """
        return self._objects("GET", "fwrules")

    @operation
    def get_firewall_rule(self, id: Ref) -> Call[JSONObject]:
        """GetFirewallRule: ``GET /:login/fwrules/:id``."""
        return self._object("GET", self._rule_path(id))

    @operation
    def create_firewall_rule(
        self,
        rule: str,
        *,
        enabled: bool | None = None,
        log: bool | None = None,
        description: str | None = None,
    ) -> Call[JSONObject]:
        """CreateFirewallRule: ``POST /:login/fwrules``.

        ``rule`` is the rule text; ``enabled`` and ``log`` default to false on the server.
        Returns the new rule.
        """
        if not rule or not rule.strip():
            raise ValueError("create_firewall_rule() needs the rule text, e.g. 'FROM any TO ...'")
        body = _fields(rule=rule, enabled=enabled, log=log, description=description)
        return self._object("POST", "fwrules", json=body)

    @operation
    def update_firewall_rule(
        self,
        id: Ref,
        *,
        rule: str | None = None,
        enabled: bool | None = None,
        log: bool | None = None,
        description: str | None = None,
    ) -> Call[JSONObject]:
        """UpdateFirewallRule: ``POST /:login/fwrules/:id``.

        Changes the given fields (``rule``, ``enabled``, ``log``, ``description``). Global
        rules cannot be changed. Returns the updated rule.
        """
        body = _fields(rule=rule, enabled=enabled, log=log, description=description)
        if not body:
            raise ValueError("update_firewall_rule() needs at least one field to change")
        return self._object("POST", self._rule_path(id), json=body)

    @operation
    def enable_firewall_rule(self, id: Ref) -> Call[JSONObject]:
        """EnableFirewallRule: ``POST /:login/fwrules/:id/enable``. Returns the rule."""
        return self._object("POST", self._rule_path(id, "enable"))

    @operation
    def disable_firewall_rule(self, id: Ref) -> Call[JSONObject]:
        """DisableFirewallRule: ``POST /:login/fwrules/:id/disable``. Returns the rule."""
        return self._object("POST", self._rule_path(id, "disable"))

    @operation
    def delete_firewall_rule(self, id: Ref) -> Call[None]:
        """DeleteFirewallRule: ``DELETE /:login/fwrules/:id``."""
        return self._none("DELETE", self._rule_path(id))

    @operation
    def list_firewall_rule_machines(self, id: Ref) -> Call[list[JSONObject]]:
        """ListFirewallRuleMachines: ``GET /:login/fwrules/:id/machines``.

        Returns the machines the rule applies to.
        """
        return self._objects("GET", self._rule_path(id, "machines"))

    @operation
    def list_machine_firewall_rules(self, id: Ref) -> Call[list[JSONObject]]:
        """ListMachineFirewallRules: ``GET /:login/machines/:instance_id/fwrules``.

        Returns the rules that apply to the machine ``id`` (id or machine dict).
        """
        return self._objects("GET", _path("machines", _id_of(id, "id"), "fwrules"))
