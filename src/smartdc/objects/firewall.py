"""``FirewallRule``: one Cloud Firewall rule of the account.

A rule has no life cycle to wait for: CloudAPI answers each change with the rule as it now
is, so every action here returns the rule already up to date::

    rule = dc.create_firewall_rule("FROM any TO tag role=web ALLOW tcp PORT 443")
    rule.enable()
    [m.name for m in rule.machines()]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.objects.refs import ref_value

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.datacenter import DataCenter
    from smartdc.objects.machine import Machine

__all__ = ["FirewallRule"]


class FirewallRule:
    """A firewall rule in a :class:`~smartdc.DataCenter`.

    Made by ``DataCenter.firewall_rules()``, ``firewall_rule()``, ``create_firewall_rule()``
    and ``Machine.firewall_rules()``. Built by hand, ``FirewallRule(dc, rule_id)`` fetches
    it. Rules compare equal by id.
    """

    def __init__(
        self,
        datacenter: DataCenter,
        rule_id: str | Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Wrap ``data``, or fetch the rule ``rule_id`` (an id or a rule dict).

        Raises:
            TypeError: neither ``rule_id`` nor ``data`` with an ``id`` was given.
        """
        self.datacenter = datacenter
        if data is None:
            if rule_id is None:
                raise TypeError("FirewallRule needs a rule_id or data")
            data = datacenter.api.get_firewall_rule(ref_value(rule_id, "id", what="rule"))
        self.id: str = ref_value(data, "id", what="firewall rule")
        self._data: dict[str, Any] = dict(data)

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of this rule's datacenter."""
        return self.datacenter.api

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the rule as CloudAPI last returned it."""
        return dict(self._data)

    @property
    def rule(self) -> str:
        """The rule text (``FROM ... TO ... ALLOW|BLOCK ...``)."""
        return str(self._data.get("rule") or "")

    @property
    def enabled(self) -> bool:
        """Whether the rule is in force."""
        return bool(self._data.get("enabled"))

    @property
    def log(self) -> bool:
        """Whether connections the rule matches are logged."""
        return bool(self._data.get("log"))

    @property
    def is_global(self) -> bool:
        """True for an operator's rule that applies to every account (read-only)."""
        return bool(self._data.get("global"))

    @property
    def description(self) -> str | None:
        """The rule's description."""
        value = self._data.get("description")
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        status = "enabled" if self.enabled else "disabled"
        return f"<FirewallRule {self.id} {status}: {self.rule}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FirewallRule):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def refresh(self) -> Self:
        """Fetch the rule again (``GetFirewallRule``)."""
        self._data = dict(self.api.get_firewall_rule(self.id))
        return self

    def enable(self) -> Self:
        """Put the rule in force."""
        self._data = dict(self.api.enable_firewall_rule(self.id))
        return self

    def disable(self) -> Self:
        """Stop applying the rule."""
        self._data = dict(self.api.disable_firewall_rule(self.id))
        return self

    def update(
        self,
        *,
        rule: str | None = None,
        enabled: bool | None = None,
        log: bool | None = None,
        description: str | None = None,
    ) -> Self:
        """Change the rule text, ``enabled``, ``log`` or ``description`` (at least one)."""
        answer = self.api.update_firewall_rule(
            self.id, rule=rule, enabled=enabled, log=log, description=description
        )
        self._data = dict(answer)
        return self

    def delete(self) -> None:
        """Delete the rule."""
        self.api.delete_firewall_rule(self.id)

    def machines(self) -> list[Machine]:
        """The machines the rule applies to (``ListFirewallRuleMachines``)."""
        from smartdc.objects.machine import Machine  # machine.py imports this module

        found = self.api.list_firewall_rule_machines(self.id)
        return [Machine(self.datacenter, data=m) for m in found]
