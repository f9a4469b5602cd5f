"""Aperture, the policy rule language of Triton RBAC: parsing, validation and evaluation.

A rule reads ``[<principals>] CAN [NOT] <actions> [<resources>] [IF|WHEN|WHERE <conditions>]``
(TritonDataCenter/node-aperture ``lib/language.jison``). CloudAPI rules are normally just
``CAN <actions> [IF <conditions>]``: ``CAN listmachines and getmachine``,
``CAN rebootmachine IF time > 07:30:00``, ``CAN deletemachine IF tag_role::string = db``.

* Lists are English lists: ``a``, ``a and b``, ``a, b and c``, ``a, b, and c`` (two items need
  ``and``; a comma list needs three or more). ``*``, ``all``, ``everything`` and ``anything``
  match every name; a word with ``*`` in it is a fuzzy (unanchored) pattern, and
  ``/re/flags::regex`` a regular expression. Names are case-sensitive, keywords are not.
* A condition is ``<name>[::<type>] <operator> <value>`` or ``<name>[::<type>] in (v1, v2)``,
  joined with ``and``/``or``/``not`` and parentheses. Without ``::type`` the type comes from a
  type table (:data:`CLOUDAPI_TYPE_TABLE`); a condition whose type cannot be found, whose
  operator the type lacks or whose value does not fit the type makes the rule invalid.
* Types (``types/*.js``): ``string`` (``= < > <= >=`` and ``like /re/flags``), ``number``,
  ``date``, ``day`` (Monday = 1 ... Sunday = 7, or names such as ``Mon``), ``time``
  (``hh:mm:ss``), ``ip`` (``=``/``!=``, with CIDR ranges), ``boolean`` and ``array``
  (``contains``). Dates, days and times are compared in UTC.

Evaluation (``lib/evaluator.js``) is an OR over the rules, in order: the first rule whose
action (and principal and resource, when the rule names them) matches and whose conditions
hold gives the request its effect. ``CAN NOT`` rules therefore never allow anything, and they
do not deny either. A condition that cannot be evaluated -- a missing context value, a value of
the wrong kind such as a list of IPs for an ``ip`` condition -- raises
:class:`EvaluationError`, which ends the evaluation; :func:`allows` turns that into a denial,
as CloudAPI answers 403 when mahi's ``authorize`` throws.

Syntax errors carry the message node-aperture's jison parser gives (``Parse error on line 1:``
and the position, then ``Expecting 'EOF', 'IF', ..., got 'STRING'``), type errors its own
wording (``no type for "tag_role"``, ``unable to validate value "x" as type "ip": ...``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

#: The type table CloudAPI checks CreatePolicy/UpdatePolicy rules with: sdc-cloudapi
#: lib/policies.js passes ``require('aperture-config').config.typeTable`` to the parser
#: (TritonDataCenter/aperture-config etc/aperture.json). Conditions not in it -- ``ip``,
#: ``datacenter``, ``tag_<name>`` -- must name their type (``tag_role::string = db``).
CLOUDAPI_TYPE_TABLE: Mapping[str, str] = MappingProxyType(
    {
        "activeRoles": "array",
        "date": "date",
        "day": "day",
        "fromjob": "boolean",
        "method": "string",
        "owner": "string",
        "sourceip": "ip",
        "time": "time",
        "user-agent": "string",
        "overwrite": "boolean",
    }
)

#: The table sdc-cloudapi lib/app.js hands mahi for *evaluation* (etc/aperture.json, copied
#: from etc/aperture.json.in at zone setup). It is narrower than the validation table, so in
#: real CloudAPI an untyped ``day``/``time``/``date`` condition passes validation and then
#: fails evaluation; pass it as ``type_table`` to :func:`allows` to reproduce that.
CLOUDAPI_EVALUATION_TYPE_TABLE: Mapping[str, str] = MappingProxyType(
    {"ip": "ip", "sourceip": "ip", "user-agent": "string"}
)


class RuleSyntaxError(ValueError):
    """A rule the Aperture parser refuses; ``str(error)`` is the parser's message.

    ``kind`` says which check failed: ``lexical``, ``parse``, ``regex``, ``missing_type``,
    ``unknown_type``, ``unsupported_operation`` or ``validation``.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class EvaluationError(Exception):
    """A rule that cannot be evaluated against the request's conditions.

    ``kind`` is ``missing_type``, ``unknown_type``, ``unsupported_operation``,
    ``missing_condition`` (the context lacks the value), ``bad_context`` (a value of the wrong
    kind, e.g. a list for an ``ip`` condition) or ``bad_value`` (a rule value the type cannot
    read; only possible for rules parsed without a type table).
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# --- JavaScript semantics the types rely on ------------------------------------------------

# JavaScript's WhiteSpace and LineTerminator characters (what ``\s`` and ``trim`` know).
_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_JS_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_SPACE_CLASS = r"\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX_LITERAL = {"x": (16, "0123456789abcdef"), "o": (8, "01234567"), "b": (2, "01")}


def _js_number(text: str) -> float:
    """``Number(text)``: NaN when the text is not a number literal."""
    s = text.strip(_JS_SPACE)
    if not s:
        return 0.0
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    if len(s) > 2 and s[0] == "0" and s[1].lower() in _RADIX_LITERAL:
        radix, digits = _RADIX_LITERAL[s[1].lower()]
        body = s[2:].lower()
        return float(int(body, radix)) if all(c in digits for c in body) else math.nan
    return float(s) if _DECIMAL.fullmatch(s) else math.nan


def _js_string(value: object) -> str:
    """``String(value)`` for the values a context holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list | tuple):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if value is None:
        return "null"
    return str(value)


def _js_compare(context: object, policy: str) -> float | None:
    """Sign of ``context - policy`` under JavaScript's relational comparison; None: unordered."""
    left: object = _js_string(context) if isinstance(context, list | tuple) else context
    if isinstance(left, str):
        return (left > policy) - (left < policy)
    if isinstance(left, bool | int | float):
        a, b = float(left), _js_number(policy)
        if math.isnan(a) or math.isnan(b):
            return None
        return (a > b) - (a < b)
    return None


def _js_substring(text: str, start: int, end: int | None = None) -> str:
    """``text.substring(start, end)``: bounds clamped to the string and swapped if reversed."""
    end = len(text) if end is None else end
    start, end = (min(max(n, 0), len(text)) for n in (start, end))
    return text[min(start, end) : max(start, end)]


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ISO_DATE = re.compile(
    r"([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?"
)
_LEGACY_TOKEN = re.compile(
    r"(?P<time>(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)"
    r"|(?P<offset>[+-]\d{2}:?\d{2})|(?P<num>\d+)|(?P<word>[a-z]+)|(?P<sep>[\s,/.]+|[+\-]|\([^)]*\))"
)
_DEFAULT_YEAR = "2001"  # what V8 assumes when a date names no year
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIME_MS = 8.64e15


def _epoch_ms(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0
) -> int | None:
    """Milliseconds since the epoch (UTC); days past the month's end roll over as in JS."""
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute < 60 and second < 60):
        return None
    if hour == 24 and (minute or second or ms):
        return None
    try:
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        return None
    when = start + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)
    return (when - _EPOCH) // timedelta(milliseconds=1) + ms


def _parse_iso_date(text: str) -> int | None:
    m = _ISO_DATE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, tzh, tzm = m.groups()
    ms = int((frac + "00")[:3]) if frac else 0
    value = _epoch_ms(
        int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
        int(second or 0), ms,
    )  # fmt: skip
    if value is None or zulu or not sign:
        return value  # no offset: UTC (date-only forms are UTC; local time is UTC here)
    offset = (int(tzh) * 60 + int(tzm)) * 60_000
    return value - offset if sign == "+" else value + offset


def _parse_legacy_date(text: str) -> int | None:
    """The common forms of V8's fallback date parser: ``Aug 9, 1995``, ``9 Aug 1995``,
    ``Wed, 09 Aug 1995 00:00:00 GMT``, ``2013/06/07``, ``06/07/2013``, ``2013-06-07 21:00``,
    ``10:30 PM``, ``+0200``, and V8's reading of bare numbers (``5`` is May 2001)."""
    s = text.strip().lower()
    month: int | None = None
    numbers: list[str] = []
    clock: tuple[int, int, int, int] | None = None
    meridian: str | None = None
    offset_min = 0
    pos = 0
    while pos < len(s):
        m = _LEGACY_TOKEN.match(s, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group("time") is not None and clock is None:
            h, mi, sec, frac = m.group(2, 3, 4, 5)
            clock = (int(h), int(mi), int(sec or 0), int((frac or "0").ljust(3, "0")[:3]))
        elif m.group("offset") is not None and clock is not None:
            digits = m.group("offset")[1:].replace(":", "")
            size = int(digits[:2]) * 60 + int(digits[2:])
            offset_min = size if m.group("offset")[0] == "+" else -size
        elif m.group("num") is not None and clock is None:
            numbers.append(m.group("num"))
        elif (word := m.group("word")) is not None:
            if word in ("am", "pm"):
                meridian = word
            elif word[:3] in _MONTHS and month is None and len(word) >= 3:
                month = _MONTHS.index(word[:3]) + 1
            elif word[:3] in _WEEKDAYS or word in ("z", "ut", "utc", "gmt"):
                continue
            elif numbers or month is not None or clock is not None:
                return None  # V8 ignores words only before the date starts
        elif m.group("sep") is None:
            return None

    def yearish(number: str) -> bool:
        return len(number) >= 3 or int(number) > 31 or int(number) == 0

    year, day = _DEFAULT_YEAR, "1"
    if month is not None:  # a month name: the numbers are the day and/or the year
        if len(numbers) == 1:
            year, day = (numbers[0], "1") if yearish(numbers[0]) else (_DEFAULT_YEAR, numbers[0])
        elif len(numbers) == 2:
            year, day = numbers if yearish(numbers[0]) else numbers[::-1]
        else:
            return None
    elif len(numbers) == 1 and yearish(numbers[0]):
        year = numbers[0]
        month = 1
    elif len(numbers) == 1:
        month = int(numbers[0])
    elif len(numbers) == 2:
        year, mon = numbers if yearish(numbers[0]) else (_DEFAULT_YEAR, numbers[0])
        day = "1" if yearish(numbers[0]) else numbers[1]
        month = int(mon)
    elif len(numbers) == 3:
        year, mon, day = numbers if yearish(numbers[0]) else (numbers[2], numbers[0], numbers[1])
        month = int(mon)
    else:
        return None
    full_year = int(year)
    if len(year) <= 2:
        full_year += 2000 if full_year < 50 else 1900
    hour, minute, second, ms = clock or (0, 0, 0, 0)
    if meridian is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridian == "pm" else 0)
    value = _epoch_ms(full_year, month, int(day), hour, minute, second, ms)
    return None if value is None else value - offset_min * 60_000


def _js_date_parse(text: str) -> int | None:
    """``Date.parse(text)`` in milliseconds, None for NaN (local time is UTC, as on Triton)."""
    value = _parse_iso_date(text)
    if value is None:
        value = _parse_legacy_date(text)
    return value if value is not None and abs(value) <= _MAX_TIME_MS else None


# --- regular expressions written in JavaScript syntax --------------------------------------

_JS_FLAGS = "dgimsuvy"
_PY_ESCAPES = set("dDwWsSbBnrtfv0123456789xu")


class _RegexError(Exception):
    """A pattern JavaScript's RegExp constructor would reject; the message is V8's wording."""


def _translate_js_regex(source: str, multiline: bool) -> str:
    """Rewrite the JavaScript-only parts of a pattern into Python ``re`` syntax."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(source):
        c = source[i]
        if c == "\\" and i + 1 < len(source):
            n = source[i + 1]
            if n == "k" and source.startswith("<", i + 2) and not in_class:
                close = source.find(">", i + 3)
                if close > 0:
                    out.append(f"(?P={source[i + 3 : close]})")
                    i = close + 1
                    continue
            if n == "c" and i + 2 < len(source) and source[i + 2].isalpha():
                out.append(re.escape(chr(ord(source[i + 2]) % 32)))
                i += 3
                continue
            out.append(c + n if n in _PY_ESCAPES or not n.isalnum() else n)
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            # Python reads "[" and doubled "&", "~", "|" in a set as future set syntax.
            out.append("\\" + c if c in "[&~|" else c)
        elif c == "[":
            if source.startswith("[^]", i):
                out.append(r"[\s\S]")
                i += 3
                continue
            if source.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append(c)
        elif c == "$" and not multiline:
            out.append(r"\Z")
        elif source.startswith("(?<", i) and source[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


# Python's wording for common pattern errors -> V8's.
_V8_REGEX_REASONS = {
    "missing ), unterminated subpattern": "Unterminated group",
    "unbalanced parenthesis": "Unmatched ')'",
    "nothing to repeat": "Nothing to repeat",
    "multiple repeat": "Nothing to repeat",
    "unterminated character set": "Unterminated character class",
    "bad escape (end of pattern)": "\\ at end of pattern",
}


def _compile_js_regex(source: str, flags: str) -> re.Pattern[str]:
    """``new RegExp(source, flags)`` as a Python pattern; raises :class:`_RegexError`."""
    if any(f not in _JS_FLAGS for f in flags) or len(set(flags)) != len(flags):
        raise _RegexError(f"Invalid flags supplied to RegExp constructor '{flags}'")
    if "u" in flags and "v" in flags:
        raise _RegexError(f"Invalid flags supplied to RegExp constructor '{flags}'")
    options = 0
    options |= re.IGNORECASE if "i" in flags else 0
    options |= re.MULTILINE if "m" in flags else 0
    options |= re.DOTALL if "s" in flags else 0
    try:
        return re.compile(_translate_js_regex(source, "m" in flags), options)
    except (re.error, OverflowError, RecursionError) as exc:
        reason = re.sub(r" at position \d+.*$", "", str(exc), flags=re.S)
        reason = _V8_REGEX_REASONS.get(reason, reason[:1].upper() + reason[1:])
        raise _RegexError(f"Invalid regular expression: /{source}/{flags}: {reason}") from None


@dataclass(frozen=True)
class Pattern:
    """A regular expression a rule names instead of an exact principal, action or resource.

    ``str(pattern)`` is the ``/source/flags`` form node-aperture stores. Matching is a search
    (unanchored) unless the ``y`` flag asks for a match at the start.
    """

    source: str
    flags: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def compile(cls, source: str, flags: str) -> Pattern:
        """The pattern for ``new RegExp(source, flags)``; raises :class:`_RegexError`."""
        regex = _compile_js_regex(source, flags)
        return cls(source, "".join(f for f in _JS_FLAGS if f in flags), regex)

    def test(self, text: str) -> bool:
        """``regex.test(text)``."""
        if "y" in self.flags:
            return self.regex.match(text) is not None
        return self.regex.search(text) is not None

    def __str__(self) -> str:
        return f"/{self.source}/{self.flags}"


def _fuzzy_source(text: str) -> str:
    """The pattern source node-aperture makes of a name with ``*`` in it (``fuzzyToRegex``).

    Its string replaces touch only the first match, so a second ``*`` ends up matching a run of
    backslashes, and ``\\*`` at the very start yields an invalid pattern -- kept as upstream.
    """
    s = re.sub(r"[-/\\^$*+?.()|\[\]{}]", lambda m: "\\" + m.group(0), text)
    s = s.replace("\\\\\\*", "*", 1)
    s = s.replace("\\*", ".*", 1)
    return re.sub(r"([^.])\*", r"\1\\*", s, count=1)


# --- the parsed rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """The principals, actions or resources a rule names.

    ``everything`` is set for ``*``/``all``/``everything``/``anything``; otherwise a name matches
    when it is one of ``exact`` (case-sensitive) or one of ``patterns`` finds it.
    """

    exact: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    everything: bool = False

    def matches(self, name: str | None) -> bool:
        """Whether ``name`` is among these names (``None``, no name, matches only ``*``)."""
        if self.everything:
            return True
        if name is None:
            return False
        return name in self.exact or any(p.test(name) for p in self.patterns)


@dataclass(frozen=True)
class Comparison:
    """``name[::type] op value``; ``op`` is lower-cased, ``type`` None when left to the table."""

    name: str
    type: str | None
    op: str
    value: str


@dataclass(frozen=True)
class Membership:
    """``name[::type] in (v1, v2, ...)``: true when ``=`` holds for one of the values."""

    name: str
    type: str | None
    values: tuple[str, ...]


@dataclass(frozen=True)
class And:
    """``left and right``."""

    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or:
    """``left or right``."""

    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Condition


Condition = Comparison | Membership | And | Or | Not


@dataclass(frozen=True)
class Rule:
    """One parsed rule. ``effect`` is True for ``CAN``, False for ``CAN NOT``.

    ``principals`` and ``resources`` are None when the rule leaves them out (CloudAPI rules
    usually do: role tags stand in for both); ``conditions`` is None without an IF clause.
    """

    text: str
    effect: bool
    actions: Names
    principals: Names | None = None
    resources: Names | None = None
    conditions: Condition | None = None

    @property
    def names_resources(self) -> bool:
        """Whether the rule names resources (mahi then applies it without a role tag)."""
        return self.resources is not None


# --- types ---------------------------------------------------------------------------------


class _BadContext(Exception):
    """The context value is not of the kind the type compares (an assert-plus failure)."""


class _BadValue(Exception):
    """The rule's value cannot be read as the type; the message is the type's own."""


_OpFn = Callable[[object, str], bool]


@dataclass(frozen=True)
class _Type:
    ops: Mapping[str, _OpFn]
    validate: Callable[[str, str], None]


def _context_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadContext("context (number) is required")
    return float(value)


def _context_date(value: object) -> datetime:
    """A Date context: an aware datetime, or a naive one taken as UTC."""
    if not isinstance(value, datetime):
        raise _BadContext("context (Date) is required")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _context_string(value: object) -> str:
    if not isinstance(value, str):
        raise _BadContext("context (string) is required")
    return value


def _ordered(compare: Callable[[object, str], float | None]) -> dict[str, _OpFn]:
    """``= < > <= >=`` from a comparison returning the sign of context - value (None: NaN)."""

    def op(test: Callable[[float], bool]) -> _OpFn:
        def apply(context: object, value: str) -> bool:
            sign = compare(context, value)
            return sign is not None and test(sign)

        return apply

    return {
        "=": op(lambda s: s == 0),
        "<": op(lambda s: s < 0),
        ">": op(lambda s: s > 0),
        "<=": op(lambda s: s <= 0),
        ">=": op(lambda s: s >= 0),
    }


def _sign(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return None
    return (a > b) - (a < b)


# string: types/string.js -- JavaScript comparisons; ``like`` takes a /re/flags literal.
def _like_pattern(value: str) -> Pattern:
    last = value.rfind("/")
    return Pattern.compile(_js_substring(value, 1, last), _js_substring(value, last + 1))


def _string_compare(context: object, value: str) -> float | None:
    return _js_compare(context, value)


def _string_like(context: object, value: str) -> bool:
    try:
        return _like_pattern(value).test(_js_string(context))
    except _RegexError as exc:
        raise _BadValue(str(exc)) from None


def _string_validate(value: str, op: str) -> None:
    if op == "like":
        try:
            _like_pattern(value)
        except _RegexError as exc:
            raise _BadValue(str(exc)) from None


_STRING_OPS = _ordered(_string_compare)
_STRING_OPS["="] = lambda context, value: isinstance(context, str) and context == value


# number: types/number.js -- the context must be a number, the value any Number() literal.
def _number_compare(context: object, value: str) -> float | None:
    return _sign(_context_number(context), _js_number(value))


def _number_validate(value: str, op: str) -> None:
    if math.isnan(_js_number(value)):
        raise _BadValue("number: not a number")


# date: types/date.js -- epoch milliseconds against Date.parse(value).
def _date_compare(context: object, value: str) -> float | None:
    ms = (_context_date(context) - _EPOCH) // timedelta(milliseconds=1)
    parsed = _js_date_parse(value)
    return _sign(float(ms), None if parsed is None else float(parsed))


def _date_validate(value: str, op: str) -> None:
    if _js_date_parse(value) is None:
        raise _BadValue("date: unable to parse date")


# day: types/day.js -- ISO weekday in UTC against a name, a number or a date.
_DAY_NAMES = {
    "monday": 1, "mon": 1, "m": 1, "tuesday": 2, "tue": 2, "t": 2,
    "wednesday": 3, "wed": 3, "w": 3, "thursday": 4, "thu": 4, "th": 4,
    "friday": 5, "fri": 5, "f": 5, "saturday": 6, "sat": 6, "s": 6,
    "sunday": 7, "sun": 7, "su": 7,
}  # fmt: skip


def _day_of(value: str) -> float:
    if value.lower() in _DAY_NAMES:
        return float(_DAY_NAMES[value.lower()])
    number = _js_number(value)
    if not math.isnan(number):
        return number
    ms = _js_date_parse(value)
    return math.nan if ms is None else float((_EPOCH + timedelta(milliseconds=ms)).isoweekday())


def _day_compare(context: object, value: str) -> float | None:
    return _sign(float(_context_date(context).astimezone(UTC).isoweekday()), _day_of(value))


def _day_validate(value: str, op: str) -> None:
    day = _day_of(value)
    if math.isnan(day):
        raise _BadValue("day: unable to parse day")
    if day < 1 or day > 7:
        raise _BadValue("day: day must be between 1 (Monday) and 7 (Sunday)")


# time: types/time.js -- seconds since midnight UTC; the value is hh:mm:ss or a full date.
def _seconds_of_day(value: str) -> int | None:
    parts = value.split(":")
    if len(parts) == 3:
        numbers = [_js_number(p) for p in parts]
        if all(math.isfinite(n) for n in numbers):
            hours, minutes, seconds = (int(n) for n in numbers)  # setUTCHours() truncates
            total = 0.0
            for amount in (hours * 3_600_000, minutes * 60_000, seconds * 1000):
                total += amount
                if abs(total) > _MAX_TIME_MS - 2e12:  # the Date would become invalid
                    break
            else:
                return int(total // 1000) % 86_400
    ms = _js_date_parse(value)
    return None if ms is None else (ms // 1000) % 86_400


def _time_compare(context: object, value: str) -> float | None:
    when = _context_date(context).astimezone(UTC)
    seconds = when.hour * 3600 + when.minute * 60 + when.second
    policy = _seconds_of_day(value)
    return _sign(float(seconds), None if policy is None else float(policy))


def _time_validate(value: str, op: str) -> None:
    if _seconds_of_day(value) is None:
        raise _BadValue("time: invalid time")


# ip: types/ip.js with ipaddr.js 0.1 -- IPv4/IPv6 equality or CIDR membership.
_IPV4_PART = r"(0?\d+|0x[a-f0-9]+)"
_IPV4_FOUR = re.compile(r"\.".join([_IPV4_PART] * 4), re.I)
_IPV4_LONG = re.compile(_IPV4_PART, re.I)
_IPV6_PART = r"(?:[0-9a-f]+::?)+"
_IPV6_NATIVE = re.compile(rf"(::)?({_IPV6_PART})?([0-9a-f]+)?(::)?", re.I)
_IPV6_TRANSITIONAL = re.compile(
    rf"((?:{_IPV6_PART})|(?:::)(?:{_IPV6_PART})?)" + r"\.".join([_IPV4_PART] * 4), re.I
)


@dataclass(frozen=True)
class _Address:
    kind: str  # "ipv4" (four octets) or "ipv6" (eight 16-bit parts)
    parts: tuple[int, ...]

    def mapped(self) -> _Address:
        o = self.parts
        return _Address("ipv6", (0, 0, 0, 0, 0, 0xFFFF, o[0] << 8 | o[1], o[2] << 8 | o[3]))

    def unmapped(self) -> _Address | None:
        p = self.parts
        if p[:6] != (0, 0, 0, 0, 0, 0xFFFF):
            return None
        return _Address("ipv4", (p[6] >> 8, p[6] & 0xFF, p[7] >> 8, p[7] & 0xFF))


def _js_parse_int(text: str, radix: int = 10) -> int | None:
    """``parseInt``: the leading digits of the radix (``0x`` switches base 10 to 16)."""
    s = text.strip(_JS_SPACE)
    if radix == 10 and s[:2].lower() == "0x":
        s, radix = s[2:], 16
    digits = "0123456789abcdef"[:radix]
    end = 0
    while end < len(s) and s[end].lower() in digits:
        end += 1
    return int(s[:end], radix) if end else None


def _ipv4_int(text: str) -> int | None:
    if text[0] == "0" and text[1:2] != "x":
        return _js_parse_int(text, 8)
    return _js_parse_int(text)


def _parse_ipv4(text: str) -> _Address | None:
    if (m := _IPV4_FOUR.fullmatch(text)) is not None:
        octets = [_ipv4_int(g) for g in m.groups()]
    elif (m := _IPV4_LONG.fullmatch(text)) is not None:
        value = _ipv4_int(m.group(1))
        if value is None or value > 0xFFFFFFFF:
            return None
        octets = [(value >> shift) & 0xFF for shift in (24, 16, 8, 0)]
    else:
        return None
    if any(o is None or not 0 <= o <= 255 for o in octets):
        return None
    return _Address("ipv4", tuple(o for o in octets if o is not None))


def _expand_ipv6(text: str, count: int) -> list[int | None] | None:
    if text.find("::") != text.rfind("::"):
        return None
    colons = text.count(":") - (text[:1] == ":") - (text[-1:] == ":")
    if colons > count:
        return None
    text = text.replace("::", ":" + "0:" * (count - colons), 1)
    text = text[1:] if text[:1] == ":" else text
    text = text[:-1] if text[-1:] == ":" else text
    return [int(p, 16) if p else None for p in text.split(":")]


def _parse_ipv6(text: str) -> _Address | None:
    parts: list[int | None] | None = None
    if _IPV6_NATIVE.fullmatch(text):
        parts = _expand_ipv6(text, 8)
    elif (m := _IPV6_TRANSITIONAL.fullmatch(text)) is not None:
        parts = _expand_ipv6(m.group(1)[:-1], 6)
        if parts is not None:
            a, b, c, d = (_js_parse_int(g) or 0 for g in m.group(2, 3, 4, 5))
            parts += [a << 8 | b, c << 8 | d]
    if parts is None or len(parts) != 8 or any(p is None or not 0 <= p <= 0xFFFF for p in parts):
        return None
    return _Address("ipv6", tuple(p for p in parts if p is not None))


def _parse_address(text: str) -> _Address:
    address = _parse_ipv6(text) or _parse_ipv4(text)
    if address is None:
        raise _BadValue("ipaddr: the address has neither IPv6 nor IPv4 format")
    return address


def _match_prefix(a: _Address, b: _Address, bits: float) -> bool:
    size = 8 if a.kind == "ipv4" else 16
    part = 0
    while bits > 0 and part < len(a.parts):
        shift = int(max(size - bits, 0))
        if a.parts[part] >> shift != b.parts[part] >> shift:
            return False
        bits -= size
        part += 1
    return True


def _ip_equal(context: object, value: str) -> bool:
    target = _parse_address(_context_string(context))
    address, *rest = value.split("/")
    policy = _parse_address(address)
    prefix = rest[0] if rest else ""
    # A prefix that is not a number makes ipaddr.js compare no bits at all, as upstream.
    bits = _js_number(prefix) if prefix else (128.0 if policy.kind == "ipv6" else 32.0)
    if target.kind != policy.kind:
        converted = target.mapped() if target.kind == "ipv4" else target.unmapped()
        if converted is None:
            return False
        target = converted
    return _match_prefix(target, policy, bits)


def _ip_validate(value: str, op: str) -> None:
    address, *rest = value.split("/")
    upper = 128 if _parse_address(address).kind == "ipv6" else 32
    bits = _js_number(rest[0]) if rest else math.nan
    if bits < 0 or bits > upper:
        raise _BadValue(f"ip: prefix size must be between 0 and {upper}")


# boolean and array: the types aperture-config's table uses for Manta's conditions.
def _boolean_equal(context: object, value: str) -> bool:
    return context is (value == "true")  # strict equality: the string "true" is not true


def _boolean_validate(value: str, op: str) -> None:
    if value not in ("true", "false"):
        raise _BadValue('boolean: value must be "true" or "false"')


def _array_contains(context: object, value: str) -> bool:
    if not isinstance(context, list | tuple):
        raise _BadContext("context ([object]) is required")
    return value in context


def _anything(value: str, op: str) -> None:
    return None


_TYPES: Mapping[str, _Type] = MappingProxyType(
    {
        "array": _Type({"contains": _array_contains}, _anything),
        "boolean": _Type(
            {"=": _boolean_equal, "!=": lambda c, v: not _boolean_equal(c, v)}, _boolean_validate
        ),
        "date": _Type(_ordered(_date_compare), _date_validate),
        "day": _Type(_ordered(_day_compare), _day_validate),
        "ip": _Type({"=": _ip_equal, "!=": lambda c, v: not _ip_equal(c, v)}, _ip_validate),
        "number": _Type(_ordered(_number_compare), _number_validate),
        "string": _Type({**_STRING_OPS, "like": _string_like}, _string_validate),
        "time": _Type(_ordered(_time_compare), _time_validate),
    }
)

#: The type names conditions may use.
TYPE_NAMES: frozenset[str] = frozenset(_TYPES)


class _Refusal(Exception):
    """A condition whose type cannot be found or lacks the operator; ``kind`` as the errors'."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _type_for(name: str, explicit: str | None, type_table: Mapping[str, str], op: str) -> _Type:
    """The condition's type (lib/parser.js and lib/evaluator.js check it the same way)."""
    type_name = explicit or type_table.get(name)
    if not type_name:
        raise _Refusal(f'no type for "{name}"', "missing_type")
    spec = _TYPES.get(type_name)
    if spec is None:
        raise _Refusal(f'unknown type "{type_name}"', "unknown_type")
    if op not in spec.ops:
        raise _Refusal(
            f'unsupported operation "{op}" on type "{type_name}"', "unsupported_operation"
        )
    return spec


# --- lexer (the %lex section of lib/language.jison) ----------------------------------------

_REGEX_BODY_ESCAPE = r"\\[^\n\r]"
_REGEX_CLASS = rf"\[(?:[^\n\r\]\\]|{_REGEX_BODY_ESCAPE})*\]"
_REGEX_FIRST = rf"(?:[^\n\r*\\/\[]|{_REGEX_BODY_ESCAPE}|{_REGEX_CLASS})"
_REGEX_CHAR = rf"(?:[^\n\r\\/\[]|{_REGEX_BODY_ESCAPE}|{_REGEX_CLASS})"
_KEYWORDS = (
    "AND", "OR", "NOT", "CAN", "TO", "IF", "WHEN", "WHERE", "ALL", "EVERYTHING", "ANYTHING", "IN"
)  # fmt: skip
# First match wins, in this order (jison's lexer without the flex option).
_LEX_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    *((kw, re.compile(rf"{kw}\b", re.I | re.A)) for kw in _KEYWORDS),
    ("::", re.compile("::")),
    (",", re.compile(",")),
    ("(", re.compile(r"\(")),
    (")", re.compile(r"\)")),
    ("REGEX_LITERAL", re.compile(rf"/{_REGEX_FIRST}{_REGEX_CHAR}*/[a-z]*::regexp?", re.I | re.A)),
    # The jison source puts its {esc} macro inside brackets, so quoted strings cannot hold
    # an unescaped "(" or ")" either.
    (
        "STRING_LITERAL",
        re.compile(r'"(?:\\["bfnrt/(\\)]|\\u[a-fA-F0-9]{4}|[^"(\\)])*"', re.I | re.A),
    ),
    ("STRING", re.compile(rf"(?:[^{_JS_SPACE_CLASS},():](?::(?!:))?)+")),
)
_SPACE = re.compile(rf"[{_JS_SPACE_CLASS}]+")
_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str  # after the rule's action: quotes and the ::regex suffix removed
    start: int
    end: int
    line: int  # the lexer's line count once this token is read (0-based)


def _position(source: str, start: int, end: int) -> str:
    """jison's ``showPosition``: the text around an error and a caret under it."""
    past = source[:start]
    pre = ("..." if len(past) > 20 else "") + past[-20:].replace("\n", "")
    upcoming = source[start:end]
    if len(upcoming) < 20:
        upcoming += source[end : end + 20 - len(upcoming)]
    shown = (upcoming[:20] + ("..." if len(upcoming) > 20 else "")).replace("\n", "")
    return f"{pre}{shown}\n{'-' * len(pre)}^"


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.line = 0

    def next(self) -> _Token:
        src = self.source
        space = _SPACE.match(src, self.pos)
        if space is not None:
            self.line += len(_NEWLINE.findall(space.group()))
            self.pos = space.end()
        start = self.pos
        if start == len(src):
            return _Token("EOF", "", start, start, self.line)
        for kind, pattern in _LEX_RULES:
            m = pattern.match(src, start)
            if m is None:
                continue
            raw = m.group()
            self.pos = m.end()
            self.line += len(_NEWLINE.findall(raw))
            if kind == "REGEX_LITERAL":
                text = raw[: raw.rfind("::")]
            elif kind == "STRING_LITERAL":
                text = raw[1:-1]
            else:
                text = raw
                if kind == "STRING" and "*" in raw:
                    kind = "*" if raw == "*" else "FUZZY_STRING"
            return _Token(kind, text, start, self.pos, self.line)
        raise RuleSyntaxError(
            f"Lexical error on line {self.line + 1}. Unrecognized text.\n"
            + _position(src, start, start),
            "lexical",
        )


# --- parser --------------------------------------------------------------------------------

# Terminals in the order jison numbers them; "Expecting" lists follow this order.
_TERMINAL_ORDER = (
    "EOF", "AND", ",", "CAN", "NOT", "IF", "WHEN", "WHERE", "OR", "IN", "(", ")", "::",
    "STRING", "STRING_LITERAL", "FUZZY_STRING", "REGEX_LITERAL", "ALL", "EVERYTHING",
    "ANYTHING", "*",
)  # fmt: skip


def _set(*kinds: str | frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for k in kinds:
        out |= k if isinstance(k, frozenset) else {k}
    return frozenset(out)


# Each set below is the lookahead set of one or more states of the LALR(1) automaton jison
# builds from the grammar; checking a token against the right set at the right moment yields
# the same "Expecting ..." list jison reports.
_ID_START = _set("STRING", "STRING_LITERAL", "FUZZY_STRING", "REGEX_LITERAL")
_ALL = _set("ALL", "EVERYTHING", "ANYTHING", "*")
_LIST_START = _set(_ID_START, _ALL)
_IF = _set("IF", "WHEN", "WHERE")
_LIST_FOLLOW = _set("EOF", "CAN", _IF, _LIST_START)
_IDENT_FOLLOW = _set(_LIST_FOLLOW, "AND", ",")
_STR_START = _set("STRING", "STRING_LITERAL", "FUZZY_STRING", "*")
_STRING_FOLLOW = _set("EOF", "AND", ",", "OR", "IN", ")", "::", _STR_START)
_COND_START = _set("NOT", "(", _STR_START)
_COND_FOLLOW = _set("EOF", "AND", "OR", ")")
_AFTER_ACTIONS = _set("EOF", _IF, _LIST_START)
_AFTER_RESOURCES = _set("EOF", _IF)


class _Parser:
    def __init__(self, text: str, type_table: Mapping[str, str] | None) -> None:
        self.text = text
        self.type_table = type_table
        self.lexer = _Lexer(text)
        self.ahead: _Token | None = None
        self.line = 0  # the line jison reports: the lexer's count at the last shift

    # tokens

    def peek(self) -> _Token:
        if self.ahead is None:
            self.ahead = self.lexer.next()
        return self.ahead

    def shift(self) -> _Token:
        token = self.peek()
        self.ahead = None
        self.line = token.line
        return token

    def check(self, allowed: frozenset[str]) -> _Token:
        token = self.peek()
        if token.kind not in allowed:
            expected = ", ".join(f"'{k}'" for k in _TERMINAL_ORDER if k in allowed)
            raise RuleSyntaxError(
                f"Parse error on line {self.line + 1}:\n"
                f"{_position(self.text, token.start, token.end)}\n"
                f"Expecting {expected}, got '{token.kind}'",
                "parse",
            )
        return token

    # Rule

    def rule(self) -> Rule:
        principals: Names | None = None
        if self.check(_set("CAN", _LIST_START)).kind != "CAN":
            principals = self.names()
            self.check(_set("CAN"))
        effect = self.effect()
        actions = self.names()
        resources: Names | None = None
        if self.check(_AFTER_ACTIONS).kind in _LIST_START:
            resources = self.names()
            self.check(_AFTER_RESOURCES)
        conditions: Condition | None = None
        if self.peek().kind in _IF:
            self.shift()
            self.check(_COND_START)
            conditions = self.disjunction()
            self.check(_set("EOF", "OR"))
        self.check(_set("EOF"))
        return Rule(self.text, effect, actions, principals, resources, conditions)

    def effect(self) -> bool:
        self.shift()  # CAN
        if self.check(_set("NOT", _LIST_START)).kind == "NOT":
            self.shift()
            self.check(_LIST_START)
            return False
        return True

    # lists: "a", "a and b", "a, b and c", "a, b, and c", or * / all / everything / anything

    def names(self) -> Names:
        if self.peek().kind in _ALL:
            self.shift()
            self.check(_LIST_FOLLOW)
            return Names(everything=True)
        items = [self.identifier()]
        if self.peek().kind == "AND":
            self.shift()
            self.check(_ID_START)
            items.append(self.identifier())
            self.check(_LIST_FOLLOW)
        elif self.peek().kind == ",":
            self.shift()
            self.check(_ID_START)
            items.append(self.identifier())
            while self.check(_set("AND", ",")).kind == ",":
                self.shift()
                if self.check(_set("AND", _ID_START)).kind in _ID_START:
                    items.append(self.identifier())
                    continue
                break
            self.shift()  # AND
            self.check(_ID_START)
            items.append(self.identifier())
            self.check(_LIST_FOLLOW)
        exact = tuple(dict.fromkeys(i for i in items if isinstance(i, str)))
        return Names(exact, tuple(i for i in items if isinstance(i, Pattern)))

    def identifier(self) -> str | Pattern:
        token = self.shift()
        self.check(_IDENT_FOLLOW)
        try:
            if token.kind == "FUZZY_STRING":
                return Pattern.compile(_fuzzy_source(token.text), "")
            if token.kind == "REGEX_LITERAL":
                last = token.text.rfind("/")
                return Pattern.compile(token.text[1:last], token.text[last + 1 :])
        except _RegexError as exc:
            raise RuleSyntaxError(str(exc), "regex") from None
        return token.text

    # conditions

    def disjunction(self) -> Condition:
        left = self.conjunction()
        while self.peek().kind == "OR":
            self.shift()
            self.check(_COND_START)
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.peek().kind == "AND":
            self.shift()
            self.check(_COND_START)
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.peek().kind == "NOT":
            self.shift()
            self.check(_COND_START)
            return Not(self.negation())
        return self.condition()

    def condition(self) -> Condition:
        if self.peek().kind == "(":
            self.shift()
            self.check(_COND_START)
            inner = self.disjunction()
            self.check(_set("OR", ")"))
            self.shift()
            self.check(_COND_FOLLOW)
            return inner
        name = self.string()
        type_name: str | None = None
        if self.check(_set("IN", "::", _STR_START)).kind == "::":
            self.shift()
            self.check(_STR_START)
            type_name = self.string()
            self.check(_set("IN", _STR_START))
        if self.peek().kind == "IN":
            self.shift()
            self.check(_set("("))
            self.shift()
            self.check(_STR_START)
            values = [self.string()]
            while self.check(_set(",", ")")).kind == ",":
                self.shift()
                self.check(_STR_START)
                values.append(self.string())
            self.shift()
            self.check(_COND_FOLLOW)
            for value in values:
                self.validate("=", name, value, type_name)
            return Membership(name, type_name, tuple(values))
        op = self.string().lower()
        self.check(_STR_START)
        value = self.string()
        self.check(_COND_FOLLOW)
        self.validate(op, name, value, type_name)
        return Comparison(name, type_name, op, value)

    def string(self) -> str:
        token = self.shift()
        self.check(_STRING_FOLLOW)
        return token.text

    def validate(self, op: str, name: str, value: str, type_name: str | None) -> None:
        """lib/parser.js ``yy.validate``, run as jison reduces each condition."""
        if self.type_table is None:
            return
        try:
            spec = _type_for(name, type_name, self.type_table, op)
        except _Refusal as exc:
            raise RuleSyntaxError(str(exc), exc.kind) from None
        try:
            spec.validate(value, op)
        except _BadValue as exc:
            resolved = type_name or self.type_table[name]
            raise RuleSyntaxError(
                f'unable to validate value "{value}" as type "{resolved}": {exc}', "validation"
            ) from None


def parse_rule(text: str, *, type_table: Mapping[str, str] | None = CLOUDAPI_TYPE_TABLE) -> Rule:
    """Parse one rule; raise :class:`RuleSyntaxError` with node-aperture's message.

    Conditions are checked against ``type_table`` (names without ``::type`` take their type
    from it); ``None`` skips those checks, as a parser created without types does.
    """
    return _Parser(text, type_table).rule()


def rules_error(
    texts: Iterable[str], *, type_table: Mapping[str, str] | None = CLOUDAPI_TYPE_TABLE
) -> str | None:
    """Every refused rule's message joined with ``", "`` (sdc-cloudapi lib/policies.js
    ``validApertureRules``, the 409 ``InvalidArgument`` message), or None when all parse."""
    errors: list[str] = []
    for text in texts:
        try:
            parse_rule(text, type_table=type_table)
        except RuleSyntaxError as exc:
            errors.append(str(exc))
    return ", ".join(errors) if errors else None


# --- evaluation ----------------------------------------------------------------------------


def _holds(condition: Condition, context: Mapping[str, object], table: Mapping[str, str]) -> bool:
    if isinstance(condition, And):
        return _holds(condition.left, context, table) and _holds(condition.right, context, table)
    if isinstance(condition, Or):
        return _holds(condition.left, context, table) or _holds(condition.right, context, table)
    if isinstance(condition, Not):
        return not _holds(condition.operand, context, table)
    if isinstance(condition, Membership):
        return any(
            _holds(Comparison(condition.name, condition.type, "=", value), context, table)
            for value in condition.values
        )
    try:
        spec = _type_for(condition.name, condition.type, table, condition.op)
    except _Refusal as exc:
        raise EvaluationError(str(exc), exc.kind) from None
    value = context.get(condition.name)
    if value is None:
        raise EvaluationError(
            f'missing condition in context: "{condition.name}"', "missing_condition"
        )
    try:
        return spec.ops[condition.op](value, condition.value)
    except _BadContext as exc:
        raise EvaluationError(str(exc), "bad_context") from None
    except _BadValue as exc:
        raise EvaluationError(str(exc), "bad_value") from None


def _applies(
    rule: Rule,
    action: str,
    conditions: Mapping[str, object],
    principal: str | None,
    resource: str,
    type_table: Mapping[str, str],
) -> bool:
    for names, name in ((rule.principals, principal), (rule.actions, action)):
        if names is not None and not names.matches(name):
            return False
    if rule.resources is not None and not rule.resources.matches(resource):
        return False
    if rule.conditions is None:
        return rule.effect
    return _holds(rule.conditions, conditions, type_table) and rule.effect


def evaluate(
    rules: Iterable[Rule],
    action: str,
    conditions: Mapping[str, object],
    *,
    resource: str | None = None,
    principal: str | None = None,
    type_table: Mapping[str, str] = CLOUDAPI_TYPE_TABLE,
) -> bool:
    """Whether one of ``rules`` allows ``action`` under ``conditions`` (lib/evaluator.js).

    Rules are tried in order and the first that allows wins. A rule naming principals matches
    only ``principal`` (mahi passes none, so such rules never apply); a rule naming resources
    is matched against ``resource`` (CloudAPI passes the request path; ``None`` is the empty
    string). Raises :class:`EvaluationError` from the first rule that cannot be evaluated.
    """
    return any(
        _applies(rule, action, conditions, principal, resource or "", type_table) for rule in rules
    )


def allows(
    rules: Sequence[Rule],
    action: str,
    conditions: Mapping[str, object],
    *,
    resource: str | None = None,
    principal: str | None = None,
    type_table: Mapping[str, str] = CLOUDAPI_TYPE_TABLE,
) -> bool:
    """:func:`evaluate`, with an evaluation error counting as a denial (CloudAPI's 403)."""
    try:
        return evaluate(
            rules, action, conditions, resource=resource, principal=principal,
            type_table=type_table,
        )  # fmt: skip
    except EvaluationError:
        return False


def cloudapi_conditions(
    *,
    now: datetime,
    method: str,
    active_roles: Sequence[str],
    user_agent: str | None = None,
    source_ip: str | None = None,
    datacenter: str | None = None,
    machine_ips: Sequence[str] | None = None,
    machine_tags: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The conditions sdc-cloudapi lib/auth.js ``authorize`` gives mahi for a request.

    ``date``, ``day`` and ``time`` are all the request time; ``activeRoles`` the active roles'
    UUIDs; for a machine request ``ip`` is the machine's IP list and each tag ``t`` becomes
    ``tag_t`` with the tag's value as it is (string, number or boolean).
    """
    found: dict[str, object] = {
        "date": now,
        "day": now,
        "time": now,
        "user-agent": user_agent,
        "sourceip": source_ip,
        "method": method.lower(),
        "activeRoles": list(active_roles),
        "datacenter": datacenter,
    }
    if machine_ips is not None:
        found["ip"] = list(machine_ips)
    for name, value in (machine_tags or {}).items():
        found[f"tag_{name}"] = value
    return found
