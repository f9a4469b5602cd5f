"""CreateMachine's ``affinity`` rules, and their translation into a placement locality.

A rule is ``<key><op><value>``: the key ``instance`` (or ``container``) names machines, any
other key a tag; ``==`` asks to share a compute node with the matching machines, ``!=`` to
avoid theirs; a ``~`` after the operator makes the rule soft (a wish, not a requirement).
The value is an exact string, a ``*`` glob, or a ``/regex/``. Rules follow sdc-cloudapi
lib/triton-affinity.js: its syntax errors and its "cannot satisfy" errors, soft rules dropped
when hard ones are present, and a locality that names at most one machine to be near.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.params import is_uuid
from smartdc.emulator.store.placement import Locality

_OPERATORS = ("==", "!=")
_KEY = re.compile(r"^[a-z_][a-z0-9\-_.]+$", re.IGNORECASE)
_VALUE = re.compile(r"^[-a-z0-9:_\s.*/()?+\[\]\\^$|]+$", re.IGNORECASE)
#: The patterns as the error messages print them (JavaScript's notation).
_KEY_TEXT = r"/^[a-z_][a-z0-9\-_.]+$/i"
_VALUE_TEXT = r"/^[-a-z0-9:_\s.*/()?+[\]\\^$|]+$/i"
_INSTANCE_KEYS = frozenset({"instance", "container"})


class AffinityError(ValueError):
    """A rule that does not parse, or that no placement can satisfy."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule."""

    key: str
    operator: str
    value: str
    soft: bool
    #: ``exact``, ``glob`` or ``re``.
    kind: str

    def text(self) -> str:
        """The rule as written, for error messages."""
        return f"{self.key}{self.operator}{'~' if self.soft else ''}{self.value}"

    def _value_matches(self, text: str) -> bool:
        if self.kind == "re":
            return re.search(self.value[1:-1], text) is not None
        if self.kind == "glob":
            return fnmatch.fnmatchcase(text, self.value)
        return text == self.value

    def matches(self, vm: VmFacts) -> bool:
        """Whether the machine is one the rule names."""
        if self.key in _INSTANCE_KEYS:
            if self.kind == "exact" and is_uuid(self.value):
                return vm.id == self.value.lower()
            return self._value_matches(vm.name)
        for key in (self.key, f"docker:label:{self.key}"):
            if key in vm.tags and self._value_matches(_tag_text(vm.tags[key])):
                return True
        return False


@dataclass(frozen=True)
class VmFacts:
    """What the rules look at on one of the owner's active machines."""

    id: str
    name: str
    server: str | None
    tags: Mapping[str, Any]


def _tag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_rule(text: str) -> Rule:
    """Parse one rule; :class:`AffinityError` with CloudAPI's message when it is malformed."""
    if not any(op in text for op in _OPERATORS):
        raise AffinityError(
            'could not find operator in affinity rule: expected one of "==", "!=":'
            f" {json.dumps(text)}"
        )
    operator = next(op for op in _OPERATORS if op in text)
    at = text.find(operator)
    key = text[:at]
    if not _KEY.fullmatch(key):
        raise AffinityError(
            f"invalid key in affinity rule: {json.dumps(text)}: {json.dumps(key)}"
            f" does not match {_KEY_TEXT}"
        )
    value = text[at + len(operator) :]
    soft = value.startswith("~")
    if soft:
        value = value[1:]
    if not _VALUE.fullmatch(value):
        raise AffinityError(
            f"invalid value in affinity rule: {json.dumps(text)}: {json.dumps(value)}"
            f" does not match {_VALUE_TEXT}"
        )
    if len(value) >= 3 and value.startswith("/") and value.endswith("/"):
        try:
            re.compile(value[1:-1])
        except re.error as exc:
            raise AffinityError(f"invalid regular expression in affinity rule: {exc}") from None
        kind = "re"
    elif "*" in value:
        kind = "glob"
    else:
        kind = "exact"
    return Rule(key, operator, value, soft, kind)


def parse_rules(raw: Any) -> list[Rule]:
    """The rules of an ``affinity`` parameter: one string or an array of strings."""
    items = raw if isinstance(raw, list) else [raw]
    rules = []
    for item in items:
        if not isinstance(item, str):
            raise AffinityError('"affinity" must be a string or an array of strings')
        rules.append(parse_rule(item))
    return rules


def _near_server(rules: Sequence[Rule], vms: Sequence[VmFacts], far_servers: set[str]) -> str:
    """The one machine to be near to, for the ``==`` rules that can be met."""
    candidates: set[str] | None = None
    chosen: list[tuple[Rule, list[VmFacts]]] = []
    for rule in rules:
        matching = [vm for vm in vms if rule.matches(vm)]
        if not matching:
            if rule.soft:
                continue
            raise AffinityError(
                f'cannot satisfy affinity rule "{rule.text()}", it does not match any instances'
            )
        remaining = [vm for vm in matching if vm.server and vm.server not in far_servers]
        if not remaining:
            if rule.soft:
                continue
            raise AffinityError(
                f'cannot satisfy affinity rule "{rule.text()}", "!=" rules eliminate all'
                " its servers"
            )
        servers = {str(vm.server) for vm in remaining}
        if candidates is not None and not candidates & servers:
            if rule.soft:
                continue
            raise AffinityError(
                f'cannot satisfy affinity rule "{rule.text()}", its servers'
                f" ({', '.join(sorted(servers))}) do not intersect with servers from"
                f" previous rules ({', '.join(sorted(candidates))})"
            )
        candidates = servers if candidates is None else candidates & servers
        chosen.append((rule, remaining))
    if candidates is None:
        return ""
    server = sorted(candidates)[0]
    for _rule, remaining in chosen:
        for vm in remaining:
            if vm.server == server:
                return vm.id
    return ""


def locality_from_rules(rules: Sequence[Rule], vms: Sequence[VmFacts]) -> Locality | None:
    """The locality the rules ask for, given the owner's active machines; ``None`` for no
    rules. Raises :class:`AffinityError` when a hard rule cannot be met."""
    if not rules:
        return None
    hard = [r for r in rules if not r.soft]
    kept = hard or list(rules)  # with hard rules present, soft ones are dropped
    far_vms = [vm for r in kept if r.operator == "!=" for vm in vms if r.matches(vm)]
    far = tuple(dict.fromkeys(vm.id for vm in far_vms))
    far_servers = {vm.server for vm in far_vms if vm.server}
    near_id = _near_server([r for r in kept if r.operator == "=="], vms, far_servers)
    return Locality(strict=bool(hard), near=(near_id,) if near_id else (), far=far)
