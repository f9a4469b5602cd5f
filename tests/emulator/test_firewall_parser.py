"""The firewall rule language: canonical text, FWAPI's error messages, and rule matching."""

from __future__ import annotations

import pytest

from smartdc.emulator.fwrule import RuleSyntaxError, canonical, parse_rule

VM = "8a343ca8-b42a-4a27-a9c5-800f57d1e8ed"
OTHER_VM = "518908b6-8299-466d-8ea5-20a0ceff63ec"

CANONICAL = [
    # (what the user wrote, what FWAPI stores)
    ("FROM any TO all vms ALLOW tcp PORT 22", "FROM any TO all vms ALLOW tcp PORT 22"),
    ("from any to all vms allow TCP port 22", "FROM any TO all vms ALLOW tcp PORT 22"),
    ("FROM  any   TO (all vms) ALLOW udp port 53", "FROM any TO all vms ALLOW udp PORT 53"),
    ("FROM (any) TO tag www BLOCK tcp port 80", 'FROM any TO tag "www" BLOCK tcp PORT 80'),
    (
        f"FROM (vm {VM.upper()} OR tag db OR subnet 10.2.2.0/24 OR ip 10.3.0.1) TO all vms"
        " ALLOW tcp port 443",
        f'FROM (ip 10.3.0.1 OR subnet 10.2.2.0/24 OR tag "db" OR vm {VM}) TO all vms'
        " ALLOW tcp PORT 443",
    ),
    (
        "FROM (tag a OR tag a) TO all vms ALLOW tcp port 1",
        'FROM tag "a" TO all vms ALLOW tcp PORT 1',
    ),
    ("FROM tag role = db TO tag role=www ALLOW tcp port 5432", None),
    (
        'FROM all vms TO tag "VM type" = "LDAP server" ALLOW tcp PORT 389',
        'FROM all vms TO tag "VM type" = "LDAP server" ALLOW tcp PORT 389',
    ),
    (
        'FROM any TO tag "role" = "web" ALLOW tcp port 80',
        'FROM any TO tag "role" = "web" ALLOW tcp PORT 80',
    ),
    (
        "FROM any TO tag tier = 2 ALLOW tcp (port 443 AND port 80 AND PORT 80)",
        'FROM any TO tag "tier" = "2" ALLOW tcp (PORT 80 AND PORT 443)',
    ),
    (
        "FROM any TO all vms ALLOW tcp ports 1000 - 2000",
        "FROM any TO all vms ALLOW tcp PORTS 1000 - 2000",
    ),
    (
        "FROM any TO all vms ALLOW tcp ports 3000-4000, 22",
        "FROM any TO all vms ALLOW tcp PORTS 22, 3000 - 4000",
    ),
    (
        "FROM any TO all vms ALLOW tcp (port 22 AND ports 50 - 60)",
        "FROM any TO all vms ALLOW tcp PORTS 22, 50 - 60",
    ),
    ("FROM any TO all vms ALLOW tcp PORT all", "FROM any TO all vms ALLOW tcp PORT all"),
    ("FROM any TO all vms ALLOW udp ALL PORTS", "FROM any TO all vms ALLOW udp PORT all"),
    (
        "FROM any TO all vms ALLOW icmp type 8 code 0",
        "FROM any TO all vms ALLOW icmp TYPE 8 CODE 0",
    ),
    (
        "FROM any TO all vms ALLOW icmp (TYPE 8 CODE 0 AND type 3 code 11 AND type 3 code 1)",
        "FROM any TO all vms ALLOW icmp (TYPE 3 CODE 1 AND TYPE 3 CODE 11 AND TYPE 8 CODE 0)",
    ),
    ("FROM any TO all vms ALLOW icmp6 TYPE all", "FROM any TO all vms ALLOW icmp6 TYPE all"),
    (
        "FROM subnet 10.8.0.0/16 TO tag x BLOCK tcp port 25 priority 50",
        'FROM subnet 10.8.0.0/16 TO tag "x" BLOCK tcp PORT 25 PRIORITY 50',
    ),
    (
        "FROM ip fd00::0001 TO tag x ALLOW tcp port 25",
        'FROM ip fd00::1 TO tag "x" ALLOW tcp PORT 25',
    ),
    ("FROM any TO tag x ALLOW tcp port 25 PRIORITY 0", 'FROM any TO tag "x" ALLOW tcp PORT 25'),
]


@pytest.mark.parametrize(("written", "stored"), CANONICAL)
def test_canonical_text(written: str, stored: str | None) -> None:
    expected = stored or 'FROM tag "role" = "db" TO tag "role" = "www" ALLOW tcp PORT 5432'
    assert canonical(written) == expected
    assert canonical(expected) == expected  # the stored text parses back to itself


INVALID = [
    ("invalid", "Error at character 0: 'invalid', expected: 'FROM', found: word"),
    (
        "FROM foo TO ip 8.8.8.8 ALLOW udp port 53",
        "Error at character 4: 'foo', expected: '(', 'all', 'any', 'ip', 'subnet', 'tag', 'vm',"
        " found: word",
    ),
    (
        "FROM (any OR tag one) TO ip 10.0.0.1 ALLOW udp port 53",
        "Error at character 9: 'OR', expected: ')', found: OR",
    ),
    (
        "FROM ip 10.0.0.1 TO (all vms OR tag one) ALLOW udp port 53",
        "Error at character 28: 'OR', expected: ')', found: OR",
    ),
    (
        "FROM any TO all vms PERMIT tcp port 1",
        "Error at character 19: 'PERMIT', expected: 'ALLOW', 'BLOCK', found: word",
    ),
    (
        "FROM any TO all vms ALLOW sctp port 1",
        "Error at character 25: 'sctp', expected: 'TCP', 'UDP', 'ICMP', 'ICMP6', found: word",
    ),
    (
        "FROM any TO all vms ALLOW tcp port 22 extra",
        "Error at character 37: 'extra', expected: 'EOF', 'PRIORITY', found: word",
    ),
    (
        "FROM any TO all vms ALLOW tcp port",
        "Error at character 34: '', expected: 'WORD', found: EOF",
    ),
    (
        "FROM tag foo TO subnet 10.8.0.0/33 ALLOW udp port 53",
        'Subnet "10.8.0.0/33" is invalid (must be in CIDR format)',
    ),
    (
        "FROM tag foo TO subnet 10.8.0.0 ALLOW udp port 53",
        'Subnet "10.8.0.0" is invalid (must be in CIDR format)',
    ),
    (
        "FROM tag foo TO subnet 10.8.0.1/24 ALLOW udp port 53",
        'Subnet "10.8.0.1/24" is invalid (bits set to right of mask)',
    ),
    (
        "FROM tag foo TO subnet 10.8.0.0/024 ALLOW udp port 53",
        'Subnet "10.8.0.0/024" is invalid (must be in CIDR format)',
    ),
    (
        "FROM tag foo TO subnet 10.8.0.0/255.255.255.0 ALLOW udp port 53",
        'Subnet "10.8.0.0/255.255.255.0" is invalid (must be in CIDR format)',
    ),
    ("FROM tag foo TO ip 10.0.0.256 ALLOW udp port 53", 'IP address "10.0.0.256" is invalid'),
    ("FROM tag foo TO subnet 10.8.0.0/24 ALLOW udp port 0", 'Port number "0" is invalid'),
    ("FROM tag foo TO subnet 10.8.0.0/24 ALLOW udp port 65537", 'Port number "65537" is invalid'),
    (
        "FROM tag foo TO all vms ALLOW tcp ports 30 - 20",
        "The end of the range (20) cannot be less than the start (30)",
    ),
    ("FROM vm asdf TO subnet 10.8.0.0/24 ALLOW udp port 50", 'UUID "asdf" is invalid'),
    ("FROM any TO all vms ALLOW icmp type 256", 'ICMP type "256" is invalid'),
    ("FROM any TO all vms ALLOW icmp type 3 code 300", 'ICMP code "300" is invalid'),
    ("FROM any TO all vms ALLOW tcp port 1 PRIORITY 101", 'Priority "101" is invalid'),
    ("FROM any TO any ALLOW tcp port 53", "rule does not affect VMs"),
    ("FROM ip 10.8.0.1 TO subnet 10.9.0.0/16 ALLOW tcp port 53", "rule does not affect VMs"),
    (
        'FROM any TO tag "open ALLOW tcp port 1',
        "Error at character 15: '\"open ALLOW tcp port', found: unexpected text",
    ),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_rules_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert str(caught.value) == message


MATCHES = [
    # (rule, machine id, machine tags, applies?)
    ("FROM any TO all vms ALLOW tcp port 22", VM, {}, True),
    (f"FROM any TO vm {VM} ALLOW tcp port 22", VM, {}, True),
    (f"FROM any TO vm {VM} ALLOW tcp port 22", OTHER_VM, {}, False),
    (f"FROM vm {VM} TO ip 10.0.0.1 ALLOW tcp port 22", VM, {}, True),
    ("FROM any TO tag role ALLOW tcp port 22", VM, {"role": "web"}, True),
    ("FROM any TO tag role ALLOW tcp port 22", VM, {"other": "web"}, False),
    ("FROM any TO tag role = web ALLOW tcp port 22", VM, {"role": "web"}, True),
    ("FROM any TO tag role = web ALLOW tcp port 22", VM, {"role": "db"}, False),
    (
        'FROM any TO tag "my role" = "front end" ALLOW tcp port 1',
        VM,
        {"my role": "front end"},
        True,
    ),
    ("FROM any TO tag tier = 2 ALLOW tcp port 22", VM, {"tier": 2}, True),
    ("FROM any TO tag tier = 2 ALLOW tcp port 22", VM, {"tier": "2"}, True),
    ("FROM any TO tag tier = 2 ALLOW tcp port 22", VM, {"tier": 3}, False),
    ("FROM any TO tag public = true ALLOW tcp port 22", VM, {"public": True}, True),
    ("FROM any TO tag public = true ALLOW tcp port 22", VM, {"public": False}, False),
    ("FROM (tag a OR tag b) TO ip 10.0.0.1 BLOCK udp port 53", VM, {"b": "x"}, True),
    ("FROM ip 10.0.0.1 TO tag a ALLOW tcp port 22", VM, {}, False),
]


@pytest.mark.parametrize(("text", "machine_id", "tags", "applies"), MATCHES)
def test_rule_applies_to_machines_it_names(
    text: str, machine_id: str, tags: dict[str, object], applies: bool
) -> None:
    assert parse_rule(text).affects(machine_id, tags) is applies
