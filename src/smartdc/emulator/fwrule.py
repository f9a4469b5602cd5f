"""The Cloud Firewall rule language: parsing, canonical text, and which machines a rule names.

A rule reads ``FROM <targets> TO <targets> ALLOW|BLOCK <protocol> <ports or types>
[PRIORITY n]``. Keywords are case-insensitive. :func:`parse_rule` returns a :class:`FwRule`
whose :meth:`FwRule.text` is the canonical form FWAPI stores: keywords ``FROM``, ``TO``,
``ALLOW``/``BLOCK``, ``PORT``/``TYPE`` in capitals, target types and protocol in lower case,
targets de-duplicated and sorted by type, ports and ICMP types sorted.

Bad input raises :class:`RuleSyntaxError` with FWAPI's wording, e.g. ``Error at character 4:
'foo', expected: ...`` or ``Port number "0" is invalid``.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from smartdc.emulator.params import is_number

#: Target kinds, in the order the canonical text lists them.
TARGET_ORDER = ("any", "all vms", "ip", "subnet", "tag", "vm")
ACTIONS = ("allow", "block")
PORT_PROTOCOLS = ("tcp", "udp")
ICMP_PROTOCOLS = ("icmp", "icmp6")
MAX_PRIORITY = 100
MAX_PORT = 65535
MAX_ICMP = 255
#: Tag names and values that need no quotes in the canonical text.
_TOKEN = re.compile(r'\s*(?:(?P<punct>[()=,])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()=,"]+))')


class RuleSyntaxError(ValueError):
    """A rule FWAPI would refuse; ``str(error)`` is FWAPI's message for the ``rule`` field."""


# --- the parsed rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One side's target: ``any``, ``all vms``, ``ip``, ``subnet``, ``tag`` or ``vm``.

    ``name`` is the address, subnet, machine UUID or tag name; ``value`` the tag value when
    the rule names one (``tag role = web``).
    """

    kind: str
    name: str = ""
    value: str | None = None

    def sort_key(self) -> tuple[int, str, str]:
        return (TARGET_ORDER.index(self.kind), self.name, self.value or "")

    def text(self) -> str:
        if self.kind in ("any", "all vms"):
            return self.kind
        if self.kind == "tag":  # fwrule 2.x quotes tag names and values
            shown = f"tag {_quote(self.name)}"
            return shown if self.value is None else f"{shown} = {_quote(self.value)}"
        return f"{self.kind} {self.name}"

    def matches(self, machine_id: str, tags: Mapping[str, Any]) -> bool:
        """Whether this target names the machine with that id and those tags."""
        if self.kind == "all vms":
            return True
        if self.kind == "vm":
            return self.name == machine_id.lower()
        if self.kind == "tag" and self.name in tags:
            return self.value is None or _tag_text(tags[self.name]) == self.value
        return False


@dataclass(frozen=True)
class PortRange:
    """``ports A - B``, both ends included."""

    start: int
    end: int

    def text(self) -> str:
        return f"{self.start} - {self.end}"


Port = int | PortRange


@dataclass(frozen=True)
class IcmpType:
    """``type N`` or ``type N code M``; ``type`` ``None`` is ``TYPE all``."""

    type: int | None
    code: int | None = None

    def text(self) -> str:
        shown = "TYPE all" if self.type is None else f"TYPE {self.type}"
        return shown if self.code is None else f"{shown} CODE {self.code}"


@dataclass(frozen=True)
class FwRule:
    """A parsed rule. ``ports`` is empty for ``PORT all`` and for ICMP rules."""

    sources: tuple[Target, ...]
    destinations: tuple[Target, ...]
    action: str
    protocol: str
    ports: tuple[Port, ...] = ()
    all_ports: bool = False
    types: tuple[IcmpType, ...] = ()
    priority: int | None = None

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every target of both sides."""
        return self.sources + self.destinations

    def text(self) -> str:
        """The canonical rule text (what FWAPI stores and returns)."""
        parts = [
            f"FROM {_side_text(self.sources)}",
            f"TO {_side_text(self.destinations)}",
            self.action.upper(),
            self.protocol,
            self._spec_text(),
        ]
        if self.priority:
            parts.append(f"PRIORITY {self.priority}")
        return " ".join(parts)

    def _spec_text(self) -> str:
        if self.protocol in ICMP_PROTOCOLS:
            shown = [t.text() for t in self.types]
            return shown[0] if len(shown) == 1 else f"({' AND '.join(shown)})"
        if self.all_ports:
            return "PORT all"
        if any(isinstance(p, PortRange) for p in self.ports):
            return "PORTS " + ", ".join(
                str(p) if isinstance(p, int) else p.text() for p in self.ports
            )
        shown = [f"PORT {p}" for p in self.ports]
        return shown[0] if len(shown) == 1 else f"({' AND '.join(shown)})"

    def affects(self, machine_id: str, tags: Mapping[str, Any]) -> bool:
        """Whether the rule applies to the machine with that id and those tags."""
        return any(t.matches(machine_id, tags) for t in self.targets)


def _side_text(targets: tuple[Target, ...]) -> str:
    shown = [t.text() for t in targets]
    return shown[0] if len(shown) == 1 else f"({' OR '.join(shown)})"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _tag_text(value: Any) -> str:
    """A machine tag value as rule text compares it (``true``, ``42``, ``web``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "(", ")", "=", ",", "EOF"
    text: str
    #: Where the token's match starts, the whitespace before it included (FWAPI counts so).
    at: int

    def keyword(self) -> str:
        return self.text.lower() if self.kind == "word" else ""

    def describe(self) -> str:
        if self.kind == "word":
            return self.text.upper() if self.text.lower() in _KEYWORDS else "word"
        return "string" if self.kind == "string" else self.kind


_KEYWORDS = frozenset(
    {"from", "to", "or", "and", "allow", "block", "port", "ports", "type", "code", "priority"}
    | {"all", "any", "vms", "ip", "subnet", "tag", "vm", *PORT_PROTOCOLS, *ICMP_PROTOCOLS}
)


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            rest = text[at:].lstrip()
            if not rest:
                break
            raise RuleSyntaxError(f"Error at character {at}: '{rest[:20]}', found: unexpected text")
        at = match.end()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        start = match.start()
        if kind == "punct":
            found.append(_Token(value, value, start))
        elif kind == "string":
            found.append(_Token("string", re.sub(r"\\(.)", r"\1", value[1:-1]), start))
        else:
            found.append(_Token("word", value, start))
    found.append(_Token("EOF", "", len(text)))
    return found


# --- the parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "EOF":
            self.index += 1
        return token

    def fail(self, *expected: str) -> RuleSyntaxError:
        token = self.current
        snippet = token.text if token.kind != "string" else f'"{token.text}"'
        wanted = ", ".join(f"'{e}'" for e in expected)
        return RuleSyntaxError(
            f"Error at character {token.at}: '{snippet}', expected: {wanted},"
            f" found: {token.describe()}"
        )

    def at_keyword(self, *words: str) -> bool:
        return self.current.keyword() in words

    def at_punct(self, punct: str) -> bool:
        return self.current.kind == punct

    def expect_keyword(self, *words: str) -> str:
        if not self.at_keyword(*words):
            raise self.fail(*(w.upper() for w in words))
        return self.advance().keyword()

    def expect_punct(self, punct: str, *also: str) -> None:
        if not self.at_punct(punct):
            raise self.fail(punct, *also)
        self.advance()

    def number(self, what: str, low: int, high: int) -> int:
        token = self.current
        if token.kind != "word":
            raise self.fail("WORD")
        self.advance()
        if not is_number(token.text) or not low <= int(token.text) <= high:
            raise RuleSyntaxError(f'{what} "{token.text}" is invalid')
        return int(token.text)

    # -- rule

    def rule(self) -> FwRule:
        self.expect_keyword("from")
        sources = self.side()
        self.expect_keyword("to")
        destinations = self.side()
        action = self.expect_keyword(*ACTIONS)
        protocol = self.expect_keyword(*PORT_PROTOCOLS, *ICMP_PROTOCOLS)
        if protocol in ICMP_PROTOCOLS:
            rule = FwRule(sources, destinations, action, protocol, types=self.icmp_types())
        else:
            ports = self.ports()
            rule = FwRule(sources, destinations, action, protocol, ports=ports, all_ports=not ports)
        if self.at_keyword("priority"):
            self.advance()
            rule = replace(rule, priority=self.number("Priority", 0, MAX_PRIORITY))
        if self.current.kind != "EOF":
            raise self.fail("EOF", "PRIORITY")
        if not any(t.kind in ("all vms", "tag", "vm") for t in rule.targets):
            raise RuleSyntaxError("rule does not affect VMs")
        return rule

    # -- targets

    def side(self) -> tuple[Target, ...]:
        if self.at_punct("("):
            self.advance()
            wildcard = self.wildcard()
            if wildcard is not None:
                self.expect_punct(")")
                return (wildcard,)
            found = [self.target("all", "any")]
            while self.at_keyword("or"):
                self.advance()
                found.append(self.target())
            self.expect_punct(")", "OR")
            return tuple(sorted(set(found), key=Target.sort_key))
        wildcard = self.wildcard()
        return (wildcard,) if wildcard is not None else (self.target("(", "all", "any"),)

    def wildcard(self) -> Target | None:
        if self.at_keyword("any"):
            self.advance()
            return Target("any")
        if self.at_keyword("all"):
            self.advance()
            self.expect_keyword("vms")
            return Target("all vms")
        return None

    def target(self, *also: str) -> Target:
        kinds = ("ip", "subnet", "tag", "vm")
        if not self.at_keyword(*kinds):
            raise self.fail(*also, *kinds)
        kind = self.advance().keyword()
        if kind == "tag":
            return self.tag()
        token = self.current
        if token.kind != "word":
            raise self.fail("WORD")
        self.advance()
        if kind == "ip":
            return Target("ip", _checked_ip(token.text))
        if kind == "subnet":
            return Target("subnet", _checked_subnet(token.text))
        return Target("vm", _checked_uuid(token.text))

    def tag(self) -> Target:
        name = self.tag_text()
        if not self.at_punct("="):
            return Target("tag", name)
        self.advance()
        return Target("tag", name, self.tag_text())

    def tag_text(self) -> str:
        token = self.current
        if token.kind not in ("word", "string"):
            raise self.fail("WORD", "STRING")
        self.advance()
        return token.text

    # -- ports and ICMP types

    def ports(self) -> tuple[Port, ...]:
        """The ports; empty for ``PORT all`` / ``ALL PORTS``."""
        if self.at_keyword("all"):
            self.advance()
            self.expect_keyword("ports")
            return ()
        if self.at_punct("("):
            self.advance()
            found = self.port_clause(in_list=True)
            while self.at_keyword("and"):
                self.advance()
                found += self.port_clause(in_list=True)
            self.expect_punct(")", "AND")
            return _sorted_ports(found)
        return _sorted_ports(self.port_clause(in_list=False))

    def port_clause(self, *, in_list: bool) -> list[Port]:
        word = self.expect_keyword("port", "ports")
        if word == "port":
            if not in_list and self.at_keyword("all"):
                self.advance()
                return []
            return [self.number("Port number", 1, MAX_PORT)]
        found = [self.port_or_range()]
        while not in_list and self.at_punct(","):
            self.advance()
            found.append(self.port_or_range())
        return found

    def port_or_range(self) -> Port:
        token = self.current
        if token.kind == "word" and re.fullmatch(r"\d+-\d+", token.text):
            self.advance()
            start_text, end_text = token.text.split("-")
            return _port_range(_port_number(start_text), _port_number(end_text))
        start = self.number("Port number", 1, MAX_PORT)
        if self.current.kind == "word" and self.current.text == "-":
            self.advance()
            return _port_range(start, self.number("Port number", 1, MAX_PORT))
        return start

    def icmp_types(self) -> tuple[IcmpType, ...]:
        if self.at_punct("("):
            self.advance()
            found = [self.icmp_type()]
            while self.at_keyword("and"):
                self.advance()
                found.append(self.icmp_type())
            self.expect_punct(")", "AND")
        else:
            found = [self.icmp_type()]
        unique = set(found)
        return tuple(sorted(unique, key=lambda t: (t.type is not None, t.type or 0, t.code or -1)))

    def icmp_type(self) -> IcmpType:
        self.expect_keyword("type")
        if self.at_keyword("all"):
            self.advance()
            return IcmpType(None)
        number = self.number("ICMP type", 0, MAX_ICMP)
        if not self.at_keyword("code"):
            return IcmpType(number)
        self.advance()
        return IcmpType(number, self.number("ICMP code", 0, MAX_ICMP))


def _port_number(text: str) -> int:
    if not 1 <= int(text) <= MAX_PORT:
        raise RuleSyntaxError(f'Port number "{text}" is invalid')
    return int(text)


def _port_range(start: int, end: int) -> PortRange:
    if end < start:
        raise RuleSyntaxError(
            f"The end of the range ({end}) cannot be less than the start ({start})"
        )
    return PortRange(start, end)


def _sorted_ports(ports: Iterable[Port]) -> tuple[Port, ...]:
    def key(port: Port) -> tuple[int, int]:
        return (port, port) if isinstance(port, int) else (port.start, port.end)

    return tuple(sorted(set(ports), key=key))


def _checked_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise RuleSyntaxError(f'IP address "{text}" is invalid') from None


def _checked_subnet(text: str) -> str:
    _, _, prefix = text.partition("/")
    try:
        # The prefix is a bit count in plain digits: ipaddress alone also reads "/024" and
        # netmasks ("/255.255.255.0") as prefixes.
        if not is_number(prefix) or prefix != str(int(prefix)):
            raise ValueError(text)
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise RuleSyntaxError(f'Subnet "{text}" is invalid (must be in CIDR format)') from None
    try:
        return str(ipaddress.ip_network(text))
    except ValueError:
        raise RuleSyntaxError(f'Subnet "{text}" is invalid (bits set to right of mask)') from None


def _checked_uuid(text: str) -> str:
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise RuleSyntaxError(f'UUID "{text}" is invalid') from None
    if str(parsed) != text.lower():
        raise RuleSyntaxError(f'UUID "{text}" is invalid')
    return str(parsed)


def parse_rule(text: str) -> FwRule:
    """Parse rule text; raise :class:`RuleSyntaxError` with FWAPI's message when it is bad."""
    return _Parser(text).rule()


def canonical(text: str) -> str:
    """The canonical form of rule text (see :meth:`FwRule.text`)."""
    return parse_rule(text).text()
