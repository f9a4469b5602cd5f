"""Text tables and JSON text exactly as node-triton prints them.

Tables follow the ``tabula`` npm package (1.10) that ``triton`` uses for every ``list``
command; JSON follows node's ``JSON.stringify``. Values are JSON-like Python data (``dict``,
``list``, ``str``, ``int``, ``float``, ``bool``, ``None``). JavaScript tells a missing property
(``undefined``) from ``null``; a missing key plays ``undefined`` here and :data:`UNDEFINED` can
be used to say it explicitly. Both print as ``-`` in a table, but they sort differently.

Everything returned is text ready for ``sys.stdout.write``: a table ends with a newline
unless it is empty, and each JSON helper ends with one newline, as ``console.log`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cmp_to_key
from json.encoder import encode_basestring
from typing import Any, Final

from smartdc._record import Record

__all__ = [
    "JS_WHITESPACE",
    "UNDEFINED",
    "Column",
    "SortKey",
    "TableError",
    "choose_columns",
    "console_text",
    "dotted_get",
    "js_number",
    "js_string",
    "js_trim",
    "js_typeof",
    "json_array",
    "json_compact",
    "json_lines",
    "json_pretty",
    "json_stringify",
    "parse_columns",
    "parse_sort",
    "render_table",
    "sort_rows",
    "strictly_equal",
    "string_to_number",
    "to_number",
]


class _Undefined:
    """JavaScript's ``undefined``: a property that is not there."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"


#: Stands for a missing value (JavaScript ``undefined``), as opposed to ``None`` (``null``).
UNDEFINED: Final = _Undefined()


class TableError(ValueError):
    """A bad table or sort specification.

    ``code`` is the code node-triton shows in ``error (CODE): ...`` for the same mistake
    (``ERR_ASSERTION`` for an empty sort field), or ``None``.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Column(Record):
    """One table column, as tabula's column objects.

    ``lookup`` is the key (or dotted path) read from each row; ``name`` is the header text
    (default: ``lookup`` uppercased); ``align`` is ``"left"`` or ``"right"``; ``width`` fixes
    the width; ``max_width`` caps a width computed from the data (longer cells are not cut,
    they just push the rest of their row right, as in tabula).
    """

    __slots__ = ("align", "lookup", "max_width", "name", "width")
    lookup: str
    name: str | None
    align: str
    width: int | None
    max_width: int | None

    def __init__(
        self,
        lookup: str,
        name: str | None = None,
        align: str = "left",
        width: int | None = None,
        max_width: int | None = None,
    ) -> None:
        self.lookup = lookup
        self.name = name
        self.align = align
        self.width = width
        self.max_width = max_width


class SortKey(Record):
    """One sort field with options, for when a ``"-field"`` string is not enough.

    ``key`` turns a row's value (``None`` when missing) into the value compared, like tabula's
    ``keyFunc`` (``triton network ip list`` sorts ``ip`` by its numeric value this way). A
    ``None`` result sorts before everything else.
    """

    __slots__ = ("field", "key", "reverse")
    field: str
    reverse: bool
    key: Callable[[Any], Any] | None

    def __init__(
        self,
        field: str,
        reverse: bool = False,
        key: Callable[[Any], Any] | None = None,
    ) -> None:
        self.field = field
        self.reverse = reverse
        self.key = key


ColumnSpec = str | Column | Mapping[str, Any]
SortSpec = str | SortKey


# ---- option values


def parse_columns(text: str) -> list[str]:
    """Split an ``-o a,b,c`` value the way triton does: on every comma, nothing trimmed.

    Empty names are kept (``"a,,b"`` has an empty middle column with an empty header) and
    unknown names are not an error: triton prints ``-`` in every row of such a column.
    When ``-o`` is repeated only the last value counts; that is the option parser's job.
    """
    return text.split(",")


def parse_sort(text: str) -> list[str]:
    """Split an ``-s a,-b`` value: each field sorts after the previous, ``-`` reverses it.

    Like triton, nothing is validated here. An empty field (``-s ''``, ``-s a,``) fails only
    when a sort actually reaches it, with the :class:`TableError` that :func:`render_table`
    raises; unknown fields compare as missing in every row and so change nothing.
    """
    return text.split(",")


def choose_columns(
    o: str | None, *, long: bool = False, default: str, long_default: str | None = None
) -> list[str]:
    """The columns a ``list`` command shows: ``-o`` if given and not empty, else the
    ``-l`` set when asked for (and the command has one), else the default set.
    """
    if o:
        text = o
    elif long and long_default is not None:
        text = long_default
    else:
        text = default
    return parse_columns(text)


# ---- JavaScript value semantics

_MAX_SAFE = 2**53
_DIGITS = frozenset("0123456789")
_ARRAY_INDEX_LIMIT = 2**32 - 1
_ANSI_SGR = re.compile("\x1b\\[[^\n\r\u2028\u2029]*?m")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
#: The characters JavaScript's ``String.prototype.trim`` removes.
JS_WHITESPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def _float_of_int(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _format_float(value: float) -> str:
    # Number.prototype.toString: the shortest round-trip digits (which repr also finds),
    # laid out with JavaScript's rules for when to switch to exponent form.
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        body = digits + "0" * (point - k)
    elif 0 < point <= 21:
        body = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        body = "0." + "0" * -point + digits
    else:
        exp = point - 1
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        body = f"{head}e{'+' if exp >= 0 else '-'}{abs(exp)}"
    return sign + body


def js_number(value: float) -> str:
    """``String(n)`` for a number: ``1.0`` → ``1``, ``1e21`` → ``1e+21``, ``1e-7`` → ``1e-7``.

    Integers beyond 2**53 print as the nearest double, as they would after node's
    ``JSON.parse`` (``12345678901234567890`` → ``12345678901234567000``).
    """
    if isinstance(value, int):
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return str(int(value))
        return _format_float(_float_of_int(value))
    return _format_float(value)


def js_string(value: Any) -> str:
    """``String(value)`` for JSON-like data: ``null``, ``true``, ``1,2`` for ``[1, 2]``,
    ``[object Object]`` for a dict.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list | tuple):
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _js_length(text: str) -> int:
    # String.prototype.length counts UTF-16 code units: a character beyond U+FFFF is two.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16(text: str) -> str | bytes:
    # JavaScript compares strings by UTF-16 code units, which orders U+10000 and above
    # before U+E000..U+FFFF, unlike Python's code point order. Big-endian UTF-16 bytes
    # compare in code unit order.
    if text.isascii() or max(text) < "\U00010000":
        return text
    return text.encode("utf-16-be", "surrogatepass")


def string_to_number(text: str) -> float:
    """``Number(text)``: ``""`` is 0, ``0x10`` is 16, ``Infinity`` counts, other text is NaN."""
    text = text.strip(JS_WHITESPACE)
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        if text.endswith("Infinity"):
            return -math.inf if text[0] == "-" else math.inf
        return float(text)
    radix = _JS_RADIX.fullmatch(text)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1)[0].lower()]
        return _float_of_int(int(radix.group(1)[1:], base))
    return math.nan


def to_number(value: Any) -> float:
    """``Number(value)``: NaN for missing values, dicts and text that is not a number."""
    if value is UNDEFINED:
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return _float_of_int(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return string_to_number(value)
    if isinstance(value, list | tuple):
        return string_to_number(js_string(value))
    return math.nan


def js_trim(text: str) -> str:
    """``text.trim()``: JavaScript's whitespace (which is not Python's) removed at both ends."""
    return text.strip(JS_WHITESPACE)


def js_typeof(value: Any) -> str:
    """JavaScript's ``typeof`` of a decoded JSON value (``null`` is ``"object"``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return "object"


def strictly_equal(a: Any, b: Any) -> bool:
    """JavaScript's ``a === b`` for JSON values (``true`` is not ``1``; two objects never are)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return type(a) is type(b) and a == b


def console_text(value: Any) -> str:
    """``value`` as ``console.log(value)`` shows a JSON value (objects as indented JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json_stringify(value, 4)
    return js_string(value)


def _to_primitive(value: Any) -> Any:
    if isinstance(value, list | tuple | Mapping):
        return js_string(value)
    return value


def _js_less(a: Any, b: Any) -> bool:
    """JavaScript's ``a < b`` for two values that are not ``undefined``."""
    a = _to_primitive(a)
    b = _to_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        ka, kb = _utf16(a), _utf16(b)
        if type(ka) is not type(kb):
            ka = a.encode("utf-16-be", "surrogatepass")
            kb = b.encode("utf-16-be", "surrogatepass")
        return ka < kb  # type: ignore[operator]
    return to_number(a) < to_number(b)


def _is_array_index(key: str) -> bool:
    return (
        key.isdigit()
        and key.isascii()
        and (key == "0" or key[0] != "0")
        and int(key) < _ARRAY_INDEX_LIMIT
    )


def _own_keys(obj: Mapping[Any, Any]) -> list[Any]:
    # Object.keys order: array-index keys first in numeric order, then the rest as inserted.
    keys = list(obj)
    for key in keys:
        if type(key) is not str or key[:1] in _DIGITS:
            break
    else:
        return keys
    index = sorted((k for k in keys if isinstance(k, str) and _is_array_index(k)), key=int)
    if not index:
        return keys
    seen = set(index)
    return index + [k for k in keys if k not in seen]


def dotted_get(obj: Any, path: str) -> Any:
    """Look up ``path`` (``"tags.role"``, ``"nics.0.ip"``) as tabula's ``dottedLookup`` does.

    Each step must be an own property: a dict key, a list index or ``length``, a string
    index or ``length``. Anything else gives :data:`UNDEFINED`.
    """
    current = obj
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return UNDEFINED
            current = current[part]
        elif isinstance(current, list | tuple):
            if part == "length":
                current = len(current)
            elif _is_array_index(part) and int(part) < len(current):
                current = current[int(part)]
            else:
                return UNDEFINED
        elif isinstance(current, str):
            if part == "length":
                current = _js_length(current)
            elif _is_array_index(part) and int(part) < _js_length(current):
                if current.isascii():
                    current = current[int(part)]
                else:
                    units = current.encode("utf-16-le", "surrogatepass")
                    pos = 2 * int(part)
                    current = units[pos : pos + 2].decode("utf-16-le", "surrogatepass")
            else:
                return UNDEFINED
        else:
            return UNDEFINED
    return current


def _getter(dotted: bool) -> Callable[[Any, str], Any]:
    if dotted:
        return dotted_get

    def plain(row: Any, field: str) -> Any:
        if isinstance(row, Mapping):
            return row.get(field, UNDEFINED)
        return UNDEFINED

    return plain


# ---- sorting


def _sort_label(fields: Sequence[SortSpec]) -> str:
    return ",".join(f if isinstance(f, str) else "[object Object]" for f in fields)


def _row_comparator(fields: Sequence[SortSpec], dotted: bool) -> Callable[[Any, Any], int]:
    get = _getter(False)
    specs: list[tuple[str, bool, Callable[[Any], Any] | None]] = []
    for spec in fields:
        if isinstance(spec, str):
            if spec.startswith("-"):
                specs.append((spec[1:], True, None))
            else:
                specs.append((spec, False, None))
        else:
            specs.append((spec.field, spec.reverse, spec.key))
    label = _sort_label(fields)
    # A sort compares each row O(log n) times; parse each string's number only once.
    numbers: dict[str, float] = {}

    def number(value: Any) -> Any:
        if isinstance(value, str):
            found = numbers.get(value)
            if found is None:
                found = numbers[value] = to_number(value)
            return found
        return to_number(value)

    def compare(a: Any, b: Any) -> int:
        a_val: Any = UNDEFINED
        b_val: Any = UNDEFINED
        for field, invert, key in specs:
            if not field:
                # tabula asserts lazily, so this only fails once a sort reaches the field
                raise TableError(f"zero-length sort field: {label}", code="ERR_ASSERTION")
            if dotted:
                # tabula's failed dotted lookup leaves its variable as it was, so a row
                # missing this field is compared on its value for the previous sort field
                found = dotted_get(a, field)
                if found is not UNDEFINED:
                    a_val = found
                found = dotted_get(b, field)
                if found is not UNDEFINED:
                    b_val = found
            else:
                a_val = get(a, field)
                b_val = get(b, field)
            if key is not None:
                a_cmp = key(None if a_val is UNDEFINED else a_val)
                b_cmp = key(None if b_val is UNDEFINED else b_val)
                if a_cmp is None:
                    a_cmp = UNDEFINED
                if b_cmp is None:
                    b_cmp = UNDEFINED
            else:
                a_cmp = number(a_val)
                b_cmp = number(b_val)
                if a_cmp != a_cmp or b_cmp != b_cmp:
                    a_cmp, b_cmp = a_val, b_val
            if a_cmp is UNDEFINED and b_cmp is UNDEFINED:
                continue
            if a_cmp is UNDEFINED:
                return 1 if invert else -1
            if b_cmp is UNDEFINED:
                return -1 if invert else 1
            if _js_less(a_cmp, b_cmp):
                return 1 if invert else -1
            if _js_less(b_cmp, a_cmp):
                return -1 if invert else 1
        return 0

    return compare


def sort_rows(
    rows: Iterable[Any], sort: Sequence[SortSpec], *, dotted_lookup: bool = False
) -> list[Any]:
    """Return ``rows`` sorted like tabula's ``sortArrayOfObjects`` (stable).

    Two values compare as numbers when both convert to one (``"10"`` after ``"9"``, ``null``
    as 0, ``true`` as 1); otherwise with JavaScript's ``<`` (strings by UTF-16 code units,
    a string against a number never less nor greater). A missing value sorts first, or last
    when reversed; but with ``dotted_lookup`` a row missing a later sort field is compared
    on its value for the field before (tabula's lookup leaves a stale variable behind).
    """
    items = list(rows)
    if sort and len(items) > 1:
        items.sort(key=cmp_to_key(_row_comparator(sort, dotted_lookup)))
    return items


# ---- tables


def _positive_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", js_string(value)):
        raise TableError(f"{what} is not a positive integer")
    number = int(js_string(value))
    if number == 0:
        raise TableError(f"{what} is not a positive integer")
    return number


def _normalize_column(spec: ColumnSpec, idx: int) -> Column:
    if isinstance(spec, str):
        return Column(spec, spec.upper())
    where = f"columns[{idx}]"
    lookup: Any
    name: Any
    align: Any
    if isinstance(spec, Column):
        lookup, name, align = spec.lookup, spec.name, spec.align
        width, max_width = spec.width, spec.max_width
    elif isinstance(spec, Mapping):
        lookup, name = spec.get("lookup"), spec.get("name")
        align = spec.get("align", "left")
        width = spec.get("width")
        max_width = spec.get("max_width", spec.get("maxWidth"))
    else:
        raise TableError(f"{where} (object) is required")
    if not isinstance(lookup, str):
        raise TableError(f"{where}.lookup (string) is required")
    if name is not None and not isinstance(name, str):
        raise TableError(f"{where}.name (string) is required")
    width = _positive_int(width, f"{where}.width")
    max_width = _positive_int(max_width, f"{where}.maxWidth")
    if name is None:
        name = lookup.upper()
    if width is not None and width < _js_length(name):
        raise TableError(f'{where}.width, {width}, is shorter than the column name, "{name}"')
    if max_width is not None:
        if max_width < _js_length(name):
            raise TableError(
                f'{where}.maxWidth, {max_width}, is shorter than the column name, "{name}"'
            )
        if width is not None and width > max_width:
            raise TableError(
                f"{where}.width, {width}, cannot be greater than maxWidth, {max_width}"
            )
    if align not in ("left", "right"):
        raise TableError(f'invalid column "align": {align}')
    return Column(lookup, name, align, width, max_width)


def _display_width(text: str, ansi: bool) -> int:
    if ansi and "\x1b[" in text:
        text = _ANSI_SGR.sub("", text)
    return _js_length(text)


def _cell(value: Any) -> Any:
    # What tabula keeps from a looked-up value: numbers and strings as they are, missing
    # values as None, anything else as its JSON text.
    if value is None or value is UNDEFINED:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        return json_stringify(value)
    except TypeError:
        return str(value)


def render_table(
    rows: Iterable[Any],
    columns: Sequence[ColumnSpec] | None = None,
    *,
    headers: bool = True,
    sort: Sequence[SortSpec] = (),
    dotted_lookup: bool = False,
    valid_fields: Sequence[str] | None = None,
    ansi: bool = True,
) -> str:
    """Format ``rows`` as tabula does and return the text (with a final newline).

    Columns are separated by two spaces and are as wide as their widest cell or header;
    the last column is not padded unless right-aligned.
    A missing or ``None`` value prints ``-``; numbers print as JavaScript prints them;
    booleans, lists and dicts print as compact JSON. Widths count UTF-16 code units (not
    terminal cells) and ignore ANSI ``ESC[...m`` codes unless ``ansi`` is false.

    ``columns`` are names (header = name uppercased, dots and all: ``TAGS.ROLE``),
    :class:`Column` objects or dicts of the same fields; without them the first row's keys
    are used and no rows give ``""``. With columns but no rows only the header is printed.
    ``headers=False`` is triton's ``-H``. ``sort`` takes :func:`parse_sort` fields or
    :class:`SortKey` objects (see :func:`sort_rows`). ``dotted_lookup`` lets ``a.b`` read
    nested values; triton turns it on only for some commands (instances, datacenters,
    services, audit, fwrule instances); elsewhere a dotted column shows ``-``.
    ``valid_fields`` (never used by triton) rejects other columns and sort fields.

    Raises :class:`TableError` for a bad column spec, a field outside ``valid_fields``, or
    an empty sort field that the sort has to use.
    """
    items = list(rows)
    if columns is None:
        if not items:
            return ""
        first = items[0]
        columns = [str(k) for k in _own_keys(first)] if isinstance(first, Mapping) else []
    cols = [_normalize_column(c, i) for i, c in enumerate(columns)]

    if valid_fields is not None:
        for col in cols:
            if col.lookup not in valid_fields:
                raise TableError(f'invalid output field: "{col.lookup}"')
        for s in sort:
            if isinstance(s, str):
                name = s[1:] if s.startswith("-") else s
                if name not in valid_fields:
                    raise TableError(f'invalid sort field: "{name}"')

    get = _getter(dotted_lookup)
    cells = [[_cell(get(item, col.lookup)) for col in cols] for item in items]

    widths: list[int] = []
    for c, col in enumerate(cols):
        if col.width:
            widths.append(col.width)
            continue
        width = _display_width(col.name or "", ansi)
        for row in cells:
            value = row[c]
            if value is None or not value or value != value:
                continue  # tabula counts 0, NaN and "" as zero width
            width = max(width, _display_width(js_string(value), ansi))
        if col.max_width:
            width = min(width, col.max_width)
        widths.append(width)

    if sort and len(items) > 1:
        order = sorted(
            range(len(items)), key=cmp_to_key(_index_comparator(items, sort, dotted_lookup))
        )
        cells = [cells[i] for i in order]

    last = len(cols) - 1

    def render(texts: list[str]) -> str:
        bits = []
        for i, text in enumerate(texts):
            pad = widths[i] - _display_width(text, ansi)
            if cols[i].align == "right":
                bits.append(" " * pad + text if pad > 0 else text)
            elif i == last or pad <= 0:
                bits.append(text)
            else:
                bits.append(text + " " * pad)
        return "  ".join(bits)

    lines = []
    if headers:
        lines.append(render([col.name or "" for col in cols]))
    for row in cells:
        lines.append(render(["-" if v is None else js_string(v) for v in row]))
    table = "\n".join(lines)
    return table + "\n" if table else table


def _index_comparator(
    items: Sequence[Any], sort: Sequence[SortSpec], dotted: bool
) -> Callable[[int, int], int]:
    compare = _row_comparator(sort, dotted)
    return lambda i, j: compare(items[i], items[j])


# ---- JSON


def _escape_string(text: str) -> str:
    out = encode_basestring(text)
    if _SURROGATE.search(out):
        # JSON.stringify writes a lone surrogate as a \u escape; a pair is one character.
        out = _SURROGATE_PAIR.sub(
            lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"), out
        )
        out = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return out


def _json_number(value: int | float) -> str:
    if isinstance(value, int):
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return str(int(value))
        value = _float_of_int(value)
    if value != value or value in (math.inf, -math.inf):
        return "null"
    return _format_float(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int | float):
        return js_number(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def json_stringify(value: Any, indent: int | str | None = None) -> str:
    """``JSON.stringify(value, null, indent)``, byte for byte.

    Differences from :func:`json.dumps` that this takes care of: numbers are written as
    JavaScript writes them (``1.0`` → ``1``, ``1e-7``, ``1e+21``, NaN and infinities →
    ``null``, integers past 2**53 rounded to a double); keys that are array indexes
    (``"0"``, ``"17"``) come first in numeric order, as in a JavaScript object; non-ASCII,
    ``/`` and U+2028 are written raw while control characters and lone surrogates are
    ``\\u`` escaped; :data:`UNDEFINED` members are left out of objects and are ``null`` in
    arrays. ``indent`` is a number of spaces (at most 10) or a string (its first 10
    characters); without it the text is compact, with no spaces.
    """
    if isinstance(indent, bool):
        raise TypeError("indent must be an int, a str or None")
    if isinstance(indent, int):
        gap = " " * max(0, min(10, indent))
    elif isinstance(indent, str):
        gap = indent[:10]
    else:
        gap = ""
    if value is UNDEFINED:
        raise TypeError("undefined has no JSON text")
    chunks: list[str] = []
    _write_json(value, chunks, gap, "\n" if gap else "")
    return "".join(chunks)


def _write_json(value: Any, out: list[str], gap: str, newline: str) -> None:
    append = out.append
    colon = ": " if gap else ":"

    def write(v: Any, newline: str) -> None:
        kind = type(v)
        if kind is str:
            append(encode_basestring(v) if v.isascii() else _escape_string(v))
        elif kind is dict:
            inner = newline + gap
            sep = "{" + inner
            for key in _own_keys(v) if v else ():
                item = v[key]
                if item is UNDEFINED:
                    continue
                append(sep)
                sep = "," + inner
                if type(key) is not str:
                    key = _json_key(key)
                append(encode_basestring(key) if key.isascii() else _escape_string(key))
                append(colon)
                write(item, inner)
            append("{}" if sep[0] == "{" else newline + "}")
        elif kind is list or kind is tuple:
            if not v:
                append("[]")
                return
            inner = newline + gap
            sep = "[" + inner
            for item in v:
                append(sep)
                sep = "," + inner
                write(item, inner)
            append(newline + "]")
        elif kind is int or kind is float:
            append(_json_number(v))
        elif v is None or v is UNDEFINED:
            append("null")
        elif v is True:
            append("true")
        elif v is False:
            append("false")
        elif isinstance(v, str):
            write(str(v), newline)
        elif isinstance(v, int | float):
            append(_json_number(v))
        elif isinstance(v, Mapping):
            write(dict(v.items()), newline)
        elif isinstance(v, list | tuple):
            write(list(v), newline)
        else:
            raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")

    write(value, newline)


def json_lines(items: Iterable[Any]) -> str:
    """What triton's ``list -j`` prints: one compact JSON document per line (NDJSON)."""
    return "".join(json_stringify(item) + "\n" for item in items)


def json_compact(value: Any) -> str:
    """What triton's ``get -j`` prints: compact JSON and a newline."""
    return json_stringify(value) + "\n"


def json_pretty(value: Any) -> str:
    """What triton's ``get`` prints without ``-j``: JSON indented by 4 spaces, a newline."""
    return json_stringify(value, 4) + "\n"


def json_array(items: Iterable[Any]) -> str:
    """One indented JSON array of ``items`` (not a triton format; for ``jq`` users)."""
    return json_stringify(list(items), 4) + "\n"
