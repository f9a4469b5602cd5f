"""The Aperture rule language: node-aperture's parser messages and its evaluation semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smartdc.emulator import aperture
from smartdc.emulator.aperture import (
    CLOUDAPI_EVALUATION_TYPE_TABLE,
    CLOUDAPI_TYPE_TABLE,
    Comparison,
    EvaluationError,
    Membership,
    Not,
    Or,
    RuleSyntaxError,
    allows,
    cloudapi_conditions,
    evaluate,
    parse_rule,
    rules_error,
)

# Thursday 24 October 2013, 12:00:00 UTC.
NOON = datetime(2013, 10, 24, 12, 0, 0, tzinfo=UTC)


def at(when: datetime, **extra: object) -> dict[str, object]:
    """Conditions for a request made at ``when``, plus ``extra``."""
    return {"date": when, "day": when, "time": when, **extra}


def check(texts: str | Sequence[str], action: str, conditions: Mapping[str, object]) -> bool:
    rules = [parse_rule(t) for t in ([texts] if isinstance(texts, str) else texts)]
    return allows(rules, action, conditions)


# --- parsing: what a rule means ------------------------------------------------------------


def test_cloudapi_rule_with_action_list_and_no_conditions() -> None:
    rule = parse_rule("CAN listmachines and getmachine")
    assert rule.effect is True
    assert rule.actions.exact == ("listmachines", "getmachine")
    assert rule.principals is None and rule.resources is None and rule.conditions is None


@pytest.mark.parametrize(
    "text",
    [
        "CAN a, b and c",
        "CAN a, b, and c",
        "can a, b, AND c",
        "  CAN\n a,\tb and c  ",
    ],
)
def test_english_lists_with_and_without_serial_comma(text: str) -> None:
    assert parse_rule(text).actions.exact == ("a", "b", "c")


@pytest.mark.parametrize("text", ["CAN *", "CAN all", "CAN Everything", "CAN anything"])
def test_everything_matches_any_action(text: str) -> None:
    rule = parse_rule(text)
    assert rule.actions.everything
    assert allows([rule], "deletemachine", {})


def test_conditions_keep_and_or_not_precedence() -> None:
    rule = parse_rule(
        "CAN x WHERE NOT method = get OR sourceip in (10.0.0.0/8, 192.168.0.0/16) and day = Mon"
    )
    assert isinstance(rule.conditions, Or)
    assert isinstance(rule.conditions.left, Not)
    assert rule.conditions.left.operand == Comparison("method", None, "=", "get")
    right = rule.conditions.right
    assert isinstance(right, aperture.And)
    assert right.left == Membership("sourceip", None, ("10.0.0.0/8", "192.168.0.0/16"))


def test_type_suffix_quotes_and_operator_case() -> None:
    rule = parse_rule('CAN x WHEN tag_owner::string LIKE /^ops-/i and user-agent = "triton 7"')
    assert isinstance(rule.conditions, aperture.And)
    assert rule.conditions.left == Comparison("tag_owner", "string", "like", "/^ops-/i")
    assert rule.conditions.right == Comparison("user-agent", None, "=", "triton 7")


def test_principals_resources_and_patterns() -> None:
    rule = parse_rule("Fred and Bob CAN NOT read *.js, /b[a]*z/i::regex, and foo")
    assert rule.effect is False
    assert rule.principals is not None and rule.principals.exact == ("Fred", "Bob")
    assert rule.resources is not None and rule.resources.exact == ("foo",)
    assert [str(p) for p in rule.resources.patterns] == ["/.*\\.js/", "/b[a]*z/i"]
    assert rule.names_resources


# --- parsing: the messages CreatePolicy answers 409 with -----------------------------------

SYNTAX_ERRORS = [
    (
        "",
        "Parse error on line 1:\n\n^\nExpecting 'CAN', 'STRING', 'STRING_LITERAL', "
        "'FUZZY_STRING', 'REGEX_LITERAL', 'ALL', 'EVERYTHING', 'ANYTHING', '*', got 'EOF'",
    ),
    (
        "CANNOT getmachine",
        "Parse error on line 1:\nCANNOT getmachine\n-------^\nExpecting 'CAN', got 'STRING'",
    ),
    (
        "CAN",
        "Parse error on line 1:\nCAN\n---^\nExpecting 'NOT', 'STRING', 'STRING_LITERAL', "
        "'FUZZY_STRING', 'REGEX_LITERAL', 'ALL', 'EVERYTHING', 'ANYTHING', '*', got 'EOF'",
    ),
    (
        "CAN getmachine foo bar",
        "Parse error on line 1:\nCAN getmachine foo bar\n-------------------^\n"
        "Expecting 'EOF', 'IF', 'WHEN', 'WHERE', got 'STRING'",
    ),
    (
        "can getmachine if",
        "Parse error on line 1:\ncan getmachine if\n-----------------^\n"
        "Expecting 'NOT', '(', 'STRING', 'STRING_LITERAL', 'FUZZY_STRING', '*', got 'EOF'",
    ),
    (  # an IPv6 address needs quotes: "::" is a token of its own
        "CAN getmachine IF sourceip = fe80::1",
        "Parse error on line 1:\n...e IF sourceip = fe80::1\n-----------------------^\n"
        "Expecting 'EOF', 'AND', 'OR', ')', got '::'",
    ),
    (  # two items need "and"; a comma list needs three
        "CAN getmachine, listmachines",
        "Parse error on line 1:\n...achine, listmachines\n-----------------------^\n"
        "Expecting 'AND', ',', got 'EOF'",
    ),
    (
        "CAN a, and b",
        "Parse error on line 1:\nCAN a, and b\n-------^\n"
        "Expecting 'STRING', 'STRING_LITERAL', 'FUZZY_STRING', 'REGEX_LITERAL', got 'AND'",
    ),
    (
        "CAN * and getmachine",
        "Parse error on line 1:\nCAN * and getmachine\n------^\nExpecting 'EOF', 'CAN', 'IF', "
        "'WHEN', 'WHERE', 'STRING', 'STRING_LITERAL', 'FUZZY_STRING', 'REGEX_LITERAL', 'ALL', "
        "'EVERYTHING', 'ANYTHING', '*', got 'AND'",
    ),
    (  # "to" is a keyword of the lexer that no rule uses
        "CAN getmachine IF to = 1",
        "Parse error on line 1:\nCAN getmachine IF to = 1\n------------------^\n"
        "Expecting 'NOT', '(', 'STRING', 'STRING_LITERAL', 'FUZZY_STRING', '*', got 'TO'",
    ),
    (
        "CAN getmachine IF (sourceip = 10.0.0.1",
        "Parse error on line 1:\n...(sourceip = 10.0.0.1\n-----------------------^\n"
        "Expecting 'OR', ')', got 'EOF'",
    ),
    (
        "CAN getmachine IF sourceip = 10.0.0.1)",
        "Parse error on line 1:\n... sourceip = 10.0.0.1)\n-----------------------^\n"
        "Expecting 'EOF', 'OR', got ')'",
    ),
    (
        "CAN getmachine IF sourceip in 10.0.0.1",
        "Parse error on line 1:\n...hine IF sourceip in 10.0.0.1\n-----------------------^\n"
        "Expecting '(', got 'STRING'",
    ),
    (
        "CAN x IF method = get get",
        "Parse error on line 1:\n...N x IF method = get get\n-----------------------^\n"
        "Expecting 'EOF', 'AND', 'OR', ')', got 'STRING'",
    ),
    (
        "CAN getmachine\nIF day = Mon\nAND time >",
        "Parse error on line 3:\n...day = MonAND time >\n----------------------^\n"
        "Expecting 'STRING', 'STRING_LITERAL', 'FUZZY_STRING', '*', got 'EOF'",
    ),
    (
        "CAN x IF a : b",
        "Lexical error on line 1. Unrecognized text.\nCAN x IF a : b\n-----------^",
    ),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_ERRORS)
def test_syntax_errors_read_like_the_jison_parser(text: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert str(caught.value) == message
    assert caught.value.kind in ("parse", "lexical")


TYPE_ERRORS = [
    ("CAN deletemachine IF tag_role = db", 'no type for "tag_role"', "missing_type"),
    ("CAN getmachine IF ip = 10.0.0.0/8", 'no type for "ip"', "missing_type"),
    ("CAN x IF method::strin = get", 'unknown type "strin"', "unknown_type"),
    (
        "CAN x IF method =~ get",
        'unsupported operation "=~" on type "string"',
        "unsupported_operation",
    ),
    (
        "CAN x IF sourceip like 10.0.0.1",
        'unsupported operation "like" on type "ip"',
        "unsupported_operation",
    ),
    (
        "CAN x IF sourceip > 10.0.0.1",
        'unsupported operation ">" on type "ip"',
        "unsupported_operation",
    ),
    (
        "CAN x IF sourceip = 300.1.2.3",
        'unable to validate value "300.1.2.3" as type "ip": '
        "ipaddr: the address has neither IPv6 nor IPv4 format",
        "validation",
    ),
    (
        "CAN x IF sourceip = 10.0.0.0/33",
        'unable to validate value "10.0.0.0/33" as type "ip": '
        "ip: prefix size must be between 0 and 32",
        "validation",
    ),
    (
        "CAN x IF day in (Mon, Funday)",
        'unable to validate value "Funday" as type "day": day: unable to parse day',
        "validation",
    ),
    (
        "CAN x IF day = 8",
        'unable to validate value "8" as type "day": '
        "day: day must be between 1 (Monday) and 7 (Sunday)",
        "validation",
    ),
    (
        "CAN x IF time > 20:00",
        'unable to validate value "20:00" as type "time": time: invalid time',
        "validation",
    ),
    (
        "CAN x IF date > 12:00:00",
        'unable to validate value "12:00:00" as type "date": date: unable to parse date',
        "validation",
    ),
    (
        "CAN x IF user-agent like curl",
        'unable to validate value "curl" as type "string": '
        "Invalid flags supplied to RegExp constructor 'curl'",
        "validation",
    ),
    (
        "CAN x IF tag_n::number = asdf",
        'unable to validate value "asdf" as type "number": number: not a number',
        "validation",
    ),
    ("CAN /a/x::regex", "Invalid flags supplied to RegExp constructor 'x'", "regex"),
    ("CAN /a(/::regex", "Invalid regular expression: /a(/: Unterminated group", "regex"),
]


@pytest.mark.parametrize(("text", "message", "kind"), TYPE_ERRORS)
def test_condition_checks_use_node_aperture_wording(text: str, message: str, kind: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert (str(caught.value), caught.value.kind) == (message, kind)


@pytest.mark.parametrize(
    "text",
    [
        "CAN rebootmachine IF time > 07:30:00 and time < 18:30:00",
        "CAN x IF day in (Mon, Tue, Wed, THu, Fri)",
        "CAN x IF day in (1, 7, SU, thu, 2013-06-04)",
        "CAN x IF time >= 2013-06-01T13:00:00",
        'CAN x IF date < 2013-06-07 or date > "Wed, 09 Aug 1995 00:00:00 GMT"',
        'CAN x IF date = "Aug 9, 1995"',
        'CAN x IF sourceip = "::ffff:192.168.1.1/128" or sourceip != 0.0.0.0',
        "CAN x IF tag_n::number in (3, 010, 0x1F, 9.9)",
        "CAN x IF user-agent like /curl*/",
        "CAN x IF activeRoles contains 0b7e0a8c-1f1a-4f4e-9a0e-3d7a5f3c1e2d",
        "CAN x IF datacenter::string = us-east-1",
    ],
)
def test_well_formed_conditions_pass_validation(text: str) -> None:
    parse_rule(text)


def test_without_a_type_table_conditions_are_not_checked() -> None:
    rule = parse_rule("CAN x IF tag_role = db and sourceip = nonsense", type_table=None)
    assert rule.conditions is not None


def test_rules_error_joins_every_message_like_create_policy() -> None:
    assert rules_error(["CAN getmachine", "CAN listmachines"]) is None
    assert rules_error(["CAN x IF tag_a = 1", "CAN y", "CAN z IF ip = 1.2.3.4"]) == (
        'no type for "tag_a", no type for "ip"'
    )


# --- evaluation: actions, effects, rule order ----------------------------------------------


def test_action_must_match_exactly_and_case_sensitively() -> None:
    assert check("CAN listmachines and getmachine", "getmachine", {})
    assert not check("CAN listmachines and getmachine", "stopmachine", {})
    assert not check("CAN GetMachine", "getmachine", {})


def test_fuzzy_action_is_an_unanchored_pattern() -> None:
    assert check("CAN get*", "getmachine", {})
    assert check("CAN get*", "forgetit", {})
    assert not check("CAN get*", "listmachines", {})
    assert check("CAN /^list/::regex", "listmachines", {})
    assert not check("CAN /^list/::regex", "getmachinelist", {})


def test_can_not_neither_allows_nor_denies() -> None:
    assert not check("CAN NOT getmachine", "getmachine", {})
    assert check(["CAN NOT getmachine", "CAN getmachine"], "getmachine", {})
    assert check(["CAN getmachine", "CAN NOT getmachine"], "getmachine", {})


def test_any_rule_allowing_is_enough() -> None:
    rules = ["CAN stopmachine", "CAN getmachine IF method = post", "CAN getmachine IF method = get"]
    assert check(rules, "getmachine", {"method": "get"})
    assert not check(rules, "getmachine", {"method": "delete"})
    assert not allows([], "getmachine", {})


def test_missing_condition_is_an_error_that_denies() -> None:
    rule = parse_rule("CAN getmachine IF user-agent like /^triton/")
    with pytest.raises(EvaluationError) as caught:
        evaluate([rule], "getmachine", {})
    assert str(caught.value) == 'missing condition in context: "user-agent"'
    assert caught.value.kind == "missing_condition"
    assert not allows([rule], "getmachine", {"user-agent": None})
    assert allows([rule], "getmachine", {"user-agent": "triton/7.17.0"})


def test_an_evaluation_error_stops_later_rules() -> None:
    failing = "CAN getmachine IF tag_role::string = db"  # not a machine request: no tag_role
    assert not check([failing, "CAN getmachine"], "getmachine", {})
    assert check(["CAN getmachine", failing], "getmachine", {})


def test_or_and_and_short_circuit_before_missing_conditions() -> None:
    either = "CAN x IF sourceip = 10.0.0.0/8 or tag_x::string = y"
    both = "CAN x IF sourceip = 10.0.0.0/8 and tag_x::string = y"
    assert check(either, "x", {"sourceip": "10.1.1.1"})
    assert not check(both, "x", {"sourceip": "9.9.9.9"})
    assert not check(either, "x", {"sourceip": "9.9.9.9"})  # tag_x is needed, and missing


def test_rules_naming_principals_apply_only_to_that_principal() -> None:
    rule = parse_rule("Fred can getmachine")
    assert not allows([rule], "getmachine", {})  # mahi passes no principal
    assert allows([rule], "getmachine", {}, principal="Fred")
    assert allows([parse_rule("* can getmachine")], "getmachine", {})


def test_rules_naming_resources_are_matched_against_the_path() -> None:
    rule = parse_rule("CAN getmachine /my/machines/*")
    assert not allows([rule], "getmachine", {})
    assert allows([rule], "getmachine", {}, resource="/my/machines/abc")
    assert not parse_rule("CAN getmachine").names_resources


# --- evaluation: each type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (NOON.replace(hour=7, minute=29, second=59), False),
        (NOON.replace(hour=7, minute=30, second=1), True),
        (NOON.replace(hour=18, minute=30), False),
        # 09:00 in UTC+02:00 is 07:00 UTC: times are compared in UTC
        (datetime(2013, 10, 24, 9, 0, tzinfo=timezone(timedelta(hours=2))), False),
        (datetime(2013, 10, 24, 9, 0), True),  # naive: taken as UTC
    ],
)
def test_time_of_day_in_utc(when: datetime, expected: bool) -> None:
    rule = "CAN rebootmachine IF time > 07:30:00 and time < 18:30:00"
    assert check(rule, "rebootmachine", at(when)) is expected


def test_time_operators() -> None:
    assert check("CAN x IF time = 12:00:00", "x", at(NOON))
    assert check("CAN x IF time >= 12:00:00 and time <= 12:00:00", "x", at(NOON))
    assert not check("CAN x IF time < 12:00:00", "x", at(NOON))
    assert check("CAN x IF time = 2001-01-01T12:00:00", "x", at(NOON))  # only the time counts


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("CAN x IF day = Thursday", True),
        ("CAN x IF day in (Mon, Tue, Wed, THu, Fri)", True),
        ("CAN x IF day = th", True),
        ("CAN x IF day = 4", True),
        ("CAN x IF day = 2013-10-31", True),  # a date on the same weekday
        ("CAN x IF day < Friday and day > Wednesday", True),
        ("CAN x IF day = t", False),  # t is Tuesday
        ("CAN x IF day in (Sat, Sun)", False),
    ],
)
def test_day_of_week(rule: str, expected: bool) -> None:
    assert check(rule, "x", at(NOON)) is expected


def test_day_counts_from_monday_in_utc() -> None:
    sunday = datetime(2013, 10, 27, 12, tzinfo=UTC)
    assert check("CAN x IF day > Monday", "x", at(sunday))
    assert check("CAN x IF day = 7", "x", at(sunday))
    # Sunday 23:30 at UTC-05:00 is already Monday in UTC
    late = datetime(2013, 10, 27, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert check("CAN x IF day = Monday", "x", at(late))


def test_date_compares_instants() -> None:
    day = datetime(2013, 10, 24, tzinfo=UTC)
    assert check("CAN x IF date = 2013-10-24", "x", at(day))
    assert check("CAN x IF date > 2013-10-23 and date < 2013-10-25", "x", at(day))
    assert check("CAN x IF date >= 2013-10-24T00:00:00Z", "x", at(day))
    assert not check("CAN x IF date = 1000-10-10", "x", at(day))
    assert check('CAN x IF date > "Oct 23, 2013"', "x", at(day))
    assert check("CAN x IF date < 2013-10-24T01:00:00+00:30", "x", at(day))


@pytest.mark.parametrize(
    ("source_ip", "policy", "expected"),
    [
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("192.168.1.1", "192.168.1.1", True),
        ("192.168.1.1", "192.168.1.2", False),
        ("192.168.1.1", '"::ffff:c0a8:101"', True),  # IPv4 against its mapped IPv6 form
        ("192.168.1.1", '"::ffff:c0a8:0/112"', True),
        ("::ffff:c0a8:101", "192.168.1.0/24", True),
        ("::ffff:c0a8:101", "192.168.2.0/24", False),
        ("fe80::1", "10.0.0.0/8", False),  # not an IPv4-mapped address
        ("fe80::1", '"fe80::/10"', True),
    ],
)
def test_sourceip_with_cidr_ranges(source_ip: str, policy: str, expected: bool) -> None:
    assert check(f"CAN x IF sourceip = {policy}", "x", {"sourceip": source_ip}) is expected


def test_sourceip_not_equal_and_in() -> None:
    rule = "CAN x IF sourceip in (10.0.0.0/8, 192.168.0.0/16)"
    assert check(rule, "x", {"sourceip": "192.168.9.9"})
    assert not check(rule, "x", {"sourceip": "172.16.0.1"})
    assert check("CAN x IF sourceip != 10.0.0.0/8", "x", {"sourceip": "172.16.0.1"})


def test_machine_ip_list_cannot_be_compared() -> None:
    # CloudAPI passes a machine's IPs as a list; the ip type only reads one address, so the
    # evaluation fails and the request is denied (as mahi throws and CloudAPI answers 403).
    rule = parse_rule("CAN getmachine IF ip::ip = 10.0.0.0/8")
    with pytest.raises(EvaluationError) as caught:
        evaluate([rule], "getmachine", {"ip": ["10.0.0.5", "192.168.1.9"]})
    assert caught.value.kind == "bad_context"
    assert not allows([rule], "getmachine", {"ip": ["10.0.0.5"]})
    assert allows([rule], "getmachine", {"ip": "10.0.0.5"})


def test_string_comparisons_and_like() -> None:
    assert check("CAN x IF method = get", "x", {"method": "get"})
    assert not check("CAN x IF method = GET", "x", {"method": "get"})
    assert check("CAN x IF user-agent like /^triton/", "x", {"user-agent": "triton/7.17"})
    assert check("CAN x IF user-agent like /CURL/i", "x", {"user-agent": "curl/8.1"})
    assert not check("CAN x IF user-agent like /^curl/", "x", {"user-agent": "triton/7.17"})
    assert check("CAN x IF method < post and method >= delete", "x", {"method": "get"})


def test_tag_conditions() -> None:
    tags = cloudapi_conditions(
        now=NOON,
        method="DELETE",
        active_roles=[],
        machine_tags={"role": "db", "count": 7, "env": "production", "on": True},
    )
    assert check("CAN deletemachine IF tag_role::string = db", "deletemachine", tags)
    assert not check("CAN deletemachine IF tag_role::string = web", "deletemachine", tags)
    assert check("CAN x IF tag_env::string like /^prod/ and tag_count::number > 5", "x", tags)
    assert check("CAN x IF tag_on::boolean = true", "x", tags)
    # tag values keep their JSON type: a number is not the string "7"
    assert not check("CAN x IF tag_count::string = 7", "x", tags)
    assert not check("CAN x IF tag_missing::string = 7", "x", tags)


def test_number_needs_a_number_in_the_context() -> None:
    rule = parse_rule("CAN x IF tag_n::number >= 0x1F")
    assert allows([rule], "x", {"tag_n": 31})
    assert not allows([rule], "x", {"tag_n": 30.5})
    with pytest.raises(EvaluationError) as caught:
        evaluate([rule], "x", {"tag_n": "31"})
    assert str(caught.value) == "context (number) is required"


def test_active_roles_contains() -> None:
    rule = "CAN x IF activeRoles contains 6d2a3c1e-1111-2222-3333-444455556666"
    assert check(rule, "x", {"activeRoles": ["6d2a3c1e-1111-2222-3333-444455556666"]})
    assert not check(rule, "x", {"activeRoles": []})


def test_not_negates() -> None:
    rule = "CAN x IF not (method = get or method = head)"
    assert check(rule, "x", {"method": "post"})
    assert not check(rule, "x", {"method": "head"})


def test_evaluation_table_lacking_a_type_denies() -> None:
    rule = parse_rule("CAN x IF day = Thursday")  # valid: the validation table types "day"
    assert allows([rule], "x", at(NOON))
    with pytest.raises(EvaluationError) as caught:
        evaluate([rule], "x", at(NOON), type_table=CLOUDAPI_EVALUATION_TYPE_TABLE)
    assert (str(caught.value), caught.value.kind) == ('no type for "day"', "missing_type")


# --- the CloudAPI context ------------------------------------------------------------------


def test_cloudapi_type_table() -> None:
    assert CLOUDAPI_TYPE_TABLE["sourceip"] == "ip"
    assert CLOUDAPI_TYPE_TABLE["activeRoles"] == "array"
    assert {"date", "day", "time", "method", "user-agent"} <= set(CLOUDAPI_TYPE_TABLE)
    assert "ip" not in CLOUDAPI_TYPE_TABLE


def test_cloudapi_conditions_for_a_machine_request() -> None:
    found = cloudapi_conditions(
        now=NOON,
        method="POST",
        active_roles=["r1"],
        user_agent="triton/7.17",
        source_ip="10.0.0.9",
        machine_ips=["10.0.0.5"],
        machine_tags={"role": "db"},
    )
    assert found["method"] == "post"
    assert found["date"] is found["day"] is found["time"] is NOON
    assert found["ip"] == ["10.0.0.5"] and found["tag_role"] == "db"
    assert found["activeRoles"] == ["r1"]
    assert check(
        "CAN rebootmachine IF sourceip = 10.0.0.0/8 and method = post and day = Thu",
        "rebootmachine",
        found,
    )
    plain = cloudapi_conditions(now=NOON, method="GET", active_roles=[])
    assert "ip" not in plain and not any(k.startswith("tag_") for k in plain)
