"""Tables, JSON and humanized values must be the very text node-triton prints.

Most tests render the same inputs with our code and with the real JavaScript (``tabula``,
node-triton's ``lib/common.js``, ``JSON.stringify``) in one node process per test, and compare
the text. The last test runs the real ``triton`` list commands against an emulator and
renders the same data with our helpers.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from smartdc.cli.humanize import (
    add_image_fields,
    add_instance_fields,
    add_network_fields,
    add_package_fields,
    age,
    human_duration,
    human_size_from_bytes,
    image_flags,
    image_name_version,
    images_need_account,
    instance_flags,
    long_ago,
    norm_short_id,
    package_columns,
    parse_js_date,
    short_id,
)
from smartdc.cli.table import (
    UNDEFINED,
    Column,
    SortKey,
    TableError,
    choose_columns,
    dotted_get,
    js_number,
    js_string,
    json_array,
    json_compact,
    json_lines,
    json_pretty,
    json_stringify,
    parse_columns,
    parse_sort,
    render_table,
    sort_rows,
)
from tests.conftest import ACCOUNT

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".node" / "node_modules"

# Reads [{"op": ..., ...}, ...] on stdin, answers [{"ok": text} | {"err": message}, ...].
# {"$js": "NaN"} stands for values JSON cannot carry; "undefined" removes an object key.
ORACLE = r"""
var root = process.argv[1];
var tabula = require(root + '/tabula');
var common = require(root + '/triton/lib/common.js');
var SPECIAL = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, undefined: undefined};
function revive(k, v) {
    if (v && typeof (v) === 'object' && !Array.isArray(v) &&
            Object.keys(v).length === 1 && v.hasOwnProperty('$js')) {
        return SPECIAL[v.$js];
    }
    return v;
}
var ops = {
    table: function (c) { return tabula.format(c.rows, c.opts); },
    stringify: function (c) { return JSON.stringify(c.value, null, c.indent); },
    string: function (c) { return String(c.value); },
    duration: function (c) { return common.humanDurationFromMs(c.ms); },
    size: function (c) { return common.humanSizeFromBytes(c.opts, c.bytes); },
    longAgo: function (c) { return common.longAgo(new Date(c.when), new Date(c.now)); },
    date: function (c) { return String(new Date(c.text).getTime()); },
    normShortId: function (c) { return String(common.normShortId(c.s)); },
    shortId: function (c) { return common.uuidToShortId(c.s); }
};
var cases = JSON.parse(require('fs').readFileSync(0, 'utf8'), revive);
process.stdout.write(JSON.stringify(cases.map(function (c) {
    try {
        return {ok: ops[c.op](c)};
    } catch (e) {
        return {err: e.message};
    }
})));
"""


def _wire(value: Any) -> Any:
    """Python data as JSON the oracle revives: NaN, infinities and UNDEFINED as markers."""
    if value is UNDEFINED:
        return {"$js": "undefined"}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$js": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def node_run(cases: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Evaluate every case in one node process."""
    if shutil.which("node") is None or not (NODE_MODULES / "tabula").is_dir():
        pytest.skip("node and the node peers are needed (run `make node-peers`)")
    proc = subprocess.run(
        ["node", "-e", ORACLE, str(NODE_MODULES)],
        input=json.dumps(_wire(cases)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results: list[dict[str, str]] = json.loads(proc.stdout)
    assert len(results) == len(cases)
    return results


def _ours(fn: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    try:
        return {"ok": fn(*args, **kwargs)}
    except (TableError, ValueError) as e:
        return {"err": str(e)}


def _assert_all_equal(
    cases: list[dict[str, Any]], ours: list[dict[str, str]], theirs: list[dict[str, str]]
) -> None:
    bad = [
        f"case {i}: {json.dumps(_wire(c))[:400]}\n  node: {t!r}\n  ours: {o!r}"
        for i, (c, o, t) in enumerate(zip(cases, ours, theirs, strict=True))
        if o != t
    ]
    assert not bad, f"{len(bad)} of {len(cases)} differ:\n" + "\n".join(bad[:15])


# ---- tables

UUID1 = "b6979942-7d5d-4fe6-a2ec-b812e950625a"
UUID2 = "a9d8c3c2-1e2f-4b55-9c2e-1f2a3b4c5d6e"

MIXED_ROWS: list[dict[str, Any]] = [
    {"id": UUID1, "name": "web-1", "memory": 1024, "tags": {"role": "web", "n": 3}, "ok": True},
    {"id": UUID2, "name": "db", "memory": 512.5, "tags": {}, "ok": False, "ips": ["10.0.0.1"]},
    {"id": "x", "name": None, "memory": 0, "nics": [{"ip": "1.2.3.4"}, {"ip": "5.6.7.8"}]},
    {"name": "", "memory": -0.0, "ips": [], "meta": {"2": "b", "a": 1, "1": None}},
    {"name": "名前", "memory": 1e21, "emoji": "😀😀", "desc": "a\ttab"},
    {"name": "\x1b[31mred\x1b[39m", "memory": 1e-7, "desc": "line\nbreak"},
    {"name": "long " * 12, "memory": 123456789012345678901, "desc": "e\u0301"},
    {"name": "nan", "memory": math.nan, "desc": "\x1b[1mbold\x1b[0m and more"},
    {"name": "\x1b[1\nm", "memory": True, "desc": "\x1b[2\u2028m\x1b[m\x1b["},
]


def _table_cases() -> list[dict[str, Any]]:
    cols = ["id", "name", "memory", "tags.role", "tags", "ok", "ips", "nics.0.ip", "emoji"]
    column_objects = [
        {"lookup": "name", "name": "The Name"},
        {"lookup": "memory", "align": "right"},
        {"lookup": "desc", "maxWidth": 6},
        {"lookup": "id", "width": 40},
        {"lookup": "emoji", "align": "right"},
    ]
    cases: list[dict[str, Any]] = []

    def add(rows: list[Any], **opts: Any) -> None:
        cases.append({"op": "table", "rows": rows, "opts": opts})

    for dotted in (False, True):
        add(MIXED_ROWS, columns=cols, dottedLookup=dotted)
        add(MIXED_ROWS, columns=cols, dottedLookup=dotted, skipHeader=True)
        add(
            MIXED_ROWS,
            columns=["nics.1.ip", "ips.length", "name.length", "name.0"],
            dottedLookup=dotted,
        )
        add(MIXED_ROWS, columns=["meta", "meta.1", "meta.2", "tags.n.x", ""], dottedLookup=dotted)
    add(MIXED_ROWS, columns=column_objects)
    add(MIXED_ROWS, columns=column_objects, skipHeader=True, sort=["-memory"])
    add(MIXED_ROWS, columns=["desc", {"lookup": "name", "align": "right"}])
    add(MIXED_ROWS, columns=["name", "desc", "emoji"], noAnsi=True)
    add(MIXED_ROWS[:3])  # no columns: the first row's keys
    add([{"b": 1, "10": 2, "2": 3, "a": None}, {"b": "x"}])  # index keys come first
    add([])
    add([], columns=["a", "b"])
    add([], columns=["a", "b"], skipHeader=True)
    add([{"a": 1}], columns=[])
    add([{"a": 1}, {"a": 2}], columns=[])
    add([{"a": 1}, {"a": 2}], columns=[], skipHeader=True)
    add([{"a": 0, "b": ""}, {"a": 0, "b": ""}], columns=["", "a", "b"])
    add([{"a": 0}], columns=[{"lookup": "a", "name": ""}, "a"])
    add([{"a": " x "}, {"a": "  "}], columns=["a", "a"])
    add(MIXED_ROWS, columns=["name", " name", "NAME", "name,", "ok"], sort=["ok"])
    add(MIXED_ROWS, columns=["name"], sort=["name", ""])  # error only if a tie reaches it
    add(MIXED_ROWS, columns=["name"], sort=[""])
    add(MIXED_ROWS, columns=["name"], sort=["-"])
    add(MIXED_ROWS[:1], columns=["name"], sort=[""])  # nothing to compare: no error
    add(MIXED_ROWS, columns=["name"], validFields=["name", "id"], sort=["-id"])
    add(MIXED_ROWS, columns=["name", "memory"], validFields=["name", "id"])
    add(MIXED_ROWS, columns=["name"], validFields=["name", "id"], sort=["-memory"])
    add(MIXED_ROWS, columns=[{"lookup": "name", "width": 2}])
    add(MIXED_ROWS, columns=[{"lookup": "name", "maxWidth": 9, "width": 10}])
    add(MIXED_ROWS, columns=[{"lookup": "name", "align": "center"}])
    add(MIXED_ROWS, columns=[{"lookup": "name", "width": 0}])
    return cases


def _render_from_case(case: dict[str, Any]) -> str:
    opts = case["opts"]
    return render_table(
        case["rows"],
        opts.get("columns"),
        headers=not opts.get("skipHeader", False),
        sort=opts.get("sort", ()),
        dotted_lookup=opts.get("dottedLookup", False),
        valid_fields=opts.get("validFields"),
        ansi=not opts.get("noAnsi", False),
    )


@pytest.mark.interop
def test_tables_match_tabula() -> None:
    cases = _table_cases()
    theirs = node_run(cases)
    ours = [_ours(_render_from_case, c) for c in cases]
    # tabula's own width checks die on a ReferenceError; we only need to refuse them too
    for i, c in enumerate(cases):
        if "is not defined" in theirs[i].get("err", ""):
            assert "err" in ours[i], c
            ours[i] = theirs[i]
    _assert_all_equal(cases, ours, theirs)


# Values chosen so that numbers, numeric strings, strings, null, missing fields, booleans,
# arrays and objects meet in every pairing, including the pairings JavaScript's comparison
# cannot order consistently.
SORT_POOL: list[Any] = [
    0, 1, 2, 9, 10, -3, 1.5, -0.0, 1e21, 0.1, "10", "9", " 7 ", "0x1f", "1e3", "", " ",
    "-2", "Infinity", "abc", "Abc", "abd", "b", "é", "😀", "\uffff", "z", "a b", None,
    UNDEFINED, True, False, [], [3], [1, 2], ["a"], {}, {"a": 1}, "2024-01-02T03:04:05Z",
    "2023-12-31T23:59:59.999Z",
]  # fmt: skip


def _random_rows(rng: random.Random, n: int, pool: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"i": i}
        for field in ("a", "b", "c"):
            value = rng.choice(pool)
            if value is not UNDEFINED:
                row[field] = value
        row["d"] = {"e": rng.choice(pool[:12])}
        rows.append(row)
    return rows


def _sort_cases() -> list[dict[str, Any]]:
    rng = random.Random(7117)
    strings = [v for v in SORT_POOL if isinstance(v, str)]
    numbers = [v for v in SORT_POOL if isinstance(v, int | float) and not isinstance(v, bool)]
    pools = [SORT_POOL, strings, numbers, [*strings, None, UNDEFINED]]
    sizes = [0, 1, 2, 3, 5, 8, 17, 33, 64, 65, 100, 257]
    cases: list[dict[str, Any]] = []
    for n in range(120):
        pool = pools[n % len(pools)]
        rows = _random_rows(rng, rng.choice(sizes), pool)
        fields = [rng.choice(["a", "-a", "b", "-b", "c", "-c", "d.e", "-d.e", "zz"])
                  for _ in range(rng.randint(1, 3))]  # fmt: skip
        cases.append(
            {
                "op": "table",
                "rows": rows,
                "opts": {"columns": ["i", "a", "d.e"], "sort": fields, "dottedLookup": n % 2 == 1},
            }
        )
    return cases


@pytest.mark.interop
def test_sorting_matches_tabula() -> None:
    cases = _sort_cases()
    theirs = node_run(cases)
    ours = [_ours(_render_from_case, c) for c in cases]
    _assert_all_equal(cases, ours, theirs)


def test_table_layout() -> None:
    rows = [
        {"name": "web", "memory": 1024, "state": "running"},
        {"name": "database", "memory": 512, "state": None},
    ]
    text = render_table(rows, ["name", Column("memory", align="right"), "state"])
    assert text == ("NAME      MEMORY  STATE\nweb         1024  running\ndatabase     512  -\n")
    assert (
        render_table(rows, ["name", "state"], headers=False) == "web       running\ndatabase  -\n"
    )
    assert render_table([], ["name"]) == "NAME\n"
    assert render_table([], ["name"], headers=False) == ""


def test_dotted_columns_need_dotted_lookup() -> None:
    rows = [{"name": "a", "tags": {"role": "db"}, "nics": [{"ip": "10.0.0.9"}]}]
    plain = render_table(rows, ["name", "tags.role"])
    assert plain == "NAME  TAGS.ROLE\na     -\n"
    dotted = render_table(rows, ["tags.role", "nics.0.ip"], dotted_lookup=True)
    assert dotted == "TAGS.ROLE  NICS.0.IP\ndb         10.0.0.9\n"
    assert dotted_get(rows[0], "tags.missing") is UNDEFINED
    assert dotted_get(rows[0], "nics.length") == 1


def test_sort_key_objects_and_missing_values() -> None:
    rows = [{"ip": "10.0.0.10"}, {"ip": "10.0.0.9"}, {"other": 1}, {"ip": None}]

    def ip_number(ip: Any) -> Any:
        if not isinstance(ip, str):
            return None
        a, b, c, d = (int(p) for p in ip.split("."))
        return ((a * 256 + b) * 256 + c) * 256 + d

    by_text = sort_rows(rows, ["ip"])
    # null equals any text (0 < NaN is false both ways), so it keeps its place
    assert [r.get("ip", "?") for r in by_text] == ["?", "10.0.0.10", "10.0.0.9", None]
    by_number = sort_rows(rows, [SortKey("ip", key=ip_number)])
    assert [r.get("ip", "?") for r in by_number] == ["?", None, "10.0.0.9", "10.0.0.10"]
    reverse = sort_rows(rows, [SortKey("ip", reverse=True, key=ip_number)])
    assert [r.get("ip", "?") for r in reverse] == ["10.0.0.10", "10.0.0.9", "?", None]


def test_dotted_sort_compares_a_missing_field_on_the_previous_one() -> None:
    rows = [{"a": "m", "i": 2}, {"a": "m", "b": "a", "i": 1}]
    assert [r["i"] for r in sort_rows(rows, ["a", "b"])] == [2, 1]  # missing sorts first
    # with dotted lookups tabula compares row 2's stale "m" (its "a") with "a"
    assert [r["i"] for r in sort_rows(rows, ["a", "b"], dotted_lookup=True)] == [1, 2]


def test_empty_sort_field_fails_like_triton() -> None:
    rows = [{"name": "b"}, {"name": "a"}]
    with pytest.raises(TableError) as info:
        render_table(rows, ["name"], sort=parse_sort(""))
    assert str(info.value) == "zero-length sort field: "
    assert info.value.code == "ERR_ASSERTION"
    # the second key is never needed, as in triton
    assert render_table(rows, ["name"], sort=parse_sort("name,")) == "NAME\na\nb\n"


def test_option_values() -> None:
    assert parse_columns("shortid,name,,tags.role, age") == [
        "shortid",
        "name",
        "",
        "tags.role",
        " age",
    ]
    assert parse_sort("-created,name") == ["-created", "name"]
    default, long_default = "shortid,name", "id,name,brand"
    assert choose_columns(None, default=default, long_default=long_default) == ["shortid", "name"]
    assert choose_columns("", long=True, default=default, long_default=long_default) == [
        "id",
        "name",
        "brand",
    ]
    assert choose_columns("x", long=True, default=default, long_default=long_default) == ["x"]
    assert choose_columns(None, long=True, default=default) == ["shortid", "name"]


# ---- JSON and JavaScript values


def _random_doubles(rng: random.Random, count: int) -> Iterator[float]:
    while count:
        (value,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(value):
            count -= 1
            yield value


NUMBERS: list[Any] = [
    0, -0.0, 1, -1, 1.0, 0.5, 0.1, 0.1 + 0.2, 1 / 3, 123.456, 1e6, 1e15, 1e16, 1e17, 1e20,
    1e21, 1.5e21, 1e22, 1e100, 1e308, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
    1e-5, 1e-6, 1.5e-6, 1e-7, 1.234e-7, 0.000123, 2**53, 2**53 + 1, -(2**53) - 1, 2**63,
    2**64 + 1, 12345678901234567890, 10**21, 10**22, 99999999999999999999, 10**400, -(10**400),
    math.nan, math.inf, -math.inf, 4.35, 0.000001, 9007199254740993.0, 100.0, 1e-300,
]  # fmt: skip

STRINGS: list[str] = [
    "",
    "plain",
    'quote " and \\ backslash',
    "slash / </script>",
    "\u2028\u2029",
    "\x7f\x80\x9f",
    "".join(chr(c) for c in range(32)),
    "é, 名前, 😀, e\u0301",
    "\ud800",
    "\udfff lone",
    "x\ud83d",
    "\ufeff\uffff\U0010ffff",
]

NESTED: list[Any] = [
    {},
    [],
    [[]],
    {"a": {}},
    {"a": [], "b": [{}], "c": {"d": []}},
    {"b": 1, "a": 2, "10": 3, "9": 4, "01": 5, "-1": 6, "4294967294": 7, "4294967295": 8},
    {"x": UNDEFINED, "y": [UNDEFINED, None], "z": None},
    [1, "two", None, True, False, 3.5, {"k": [1, {"m": "n"}]}],
    {"ünïcode": "värde", "emoji😀": ["😀"]},
    {"metadata": {"user-script": "#!/bin/sh\necho hi\n"}, "tags": {"role": "db", "n": 1.0}},
    ("a", "tuple"),
]


def _json_cases(rng: random.Random) -> list[dict[str, Any]]:
    values = [*NUMBERS, *_random_doubles(rng, 400), *STRINGS, *NESTED, True, False, None]
    cases = []
    for value in values:
        cases.append({"op": "stringify", "value": value, "indent": None})
        if isinstance(value, dict | list | tuple):
            cases.append({"op": "stringify", "value": value, "indent": 4})
    cases.append({"op": "stringify", "value": NESTED, "indent": 4})
    cases.append({"op": "stringify", "value": NESTED, "indent": 2})
    cases.append({"op": "stringify", "value": NESTED, "indent": 12})
    cases.append({"op": "stringify", "value": NESTED, "indent": "--"})
    return cases


@pytest.mark.interop
def test_json_matches_json_stringify() -> None:
    cases = _json_cases(random.Random(2028))
    theirs = node_run(cases)
    ours = [_ours(json_stringify, c["value"], c["indent"]) for c in cases]
    _assert_all_equal(cases, ours, theirs)


@pytest.mark.interop
def test_string_conversion_matches_javascript() -> None:
    values = [*NUMBERS, *_random_doubles(random.Random(99), 300), None, True, [1, [2, None]]]
    values += [{"a": 1}, [], [UNDEFINED, "x"], "text"]
    cases = [{"op": "string", "value": v} for v in values]
    theirs = node_run(cases)
    ours = [_ours(js_string, v) for v in values]
    _assert_all_equal(cases, ours, theirs)
    assert js_number(1.0) == "1" and js_number(1e21) == "1e+21" and js_number(-0.0) == "0"


def test_json_output_forms() -> None:
    items = [{"id": 1, "tags": {}}, {"id": 2, "n": 1.0, "s": "é/\u2028"}]
    assert json_lines(items) == '{"id":1,"tags":{}}\n{"id":2,"n":1,"s":"é/\u2028"}\n'
    assert json_lines([]) == ""
    assert json_compact({"a": [1, 2]}) == '{"a":[1,2]}\n'
    assert json_pretty({"a": [], "b": {"c": 1}}) == (
        '{\n    "a": [],\n    "b": {\n        "c": 1\n    }\n}\n'
    )
    assert json.loads(json_array(items)) == [
        {"id": 1, "tags": {}},
        {"id": 2, "n": 1, "s": items[1]["s"]},
    ]
    assert json_array([]) == "[]\n"
    assert json_stringify(MappingProxyType({"b": (1.5, 2.0), "1": UNDEFINED, "0": -0.0})) == (
        '{"0":0,"b":[1.5,2]}'
    )
    with pytest.raises(TypeError):
        json_stringify({"when": object()})


# ---- humanizers


@pytest.mark.interop
def test_humanizers_match_common_js() -> None:
    rng = random.Random(5)
    durations: list[float] = [0, 1, 999, 1000, 1001, 59999, 60000, 61000, 3599999, 3600000]
    durations += [3661000, 86399999, 86400000, 90061001, 604800000, 604800001, 1209600000]
    durations += [2.5e9, 1.5, 0.25, -1, -1500, -86400000, 1e21, 31536000000, 1e300]
    durations += [rng.randint(0, 10**10) for _ in range(150)]
    durations += [rng.uniform(0, 1e8) for _ in range(30)]
    sizes: list[float] = [0, 1, -1, 1023, 1024, 1025, 1536, 10**6, -(2**31), 0.5, 1e-3]
    sizes += [1024**k + d for k in range(8) for d in (-1, 0, 1)]
    sizes += [1024**k * f for k in range(1, 6) for f in (0.5, 1.5, 1.05, 1.999, 999.99)]
    sizes += [rng.randint(1, 2**60) for _ in range(200)]
    sizes += [rng.uniform(1, 1e15) for _ in range(100)]
    sizes += [m * 1024 * 1024 for m in (128, 256, 512, 768, 1024, 1536, 2048, 4096, 61440)]
    size_opts = [{}, {"narrow": True}, {"precision": 0}, {"precision": 3}]
    size_opts += [{"precision": 1, "narrow": True}, {"precision": 0, "narrow": True}]
    now = 1_700_000_000_123
    ago = [0, 1, 499, 500, 1499, 1500, 59_500, 60_000, 3_600_000, 86_399_999, 86_400_000]
    ago += [6 * 86_400_000, 7 * 86_400_000, 364 * 86_400_000, 365 * 86_400_000, 10**12, -5000]
    ago += [rng.randint(0, 10**11) for _ in range(100)]
    dates = [
        "2015-05-12T20:25:26.123Z",
        "2015-05-12T20:25:26Z",
        "2015-05-12T20:25:26.1Z",
        "2015-05-12T20:25:26.123456Z",
        "2015-05-12T20:25Z",
        "2015-05-12T20:25:26+02:00",
        "2015-05-12T20:25:26-0130",
        "2015-05-12",
        "2015-05",
        "2015",
        "2015-05-12T24:00:00Z",
        "2015-02-30T00:00:00Z",
        "2015-02-32T00:00:00Z",
        "2015-13-01T00:00:00Z",
        "2015-01-01T24:01Z",
        "2015-01-01T23:59:60Z",
        "0000-01-01",
        "+002015-01-01",
        "-000001-12-31T23:59:59.999Z",
        "2015-01-01t10:00:00.5+0100",
        "2015-01-01T10:00:00+01",
        "2015-05-12 20:25:26Z",
        "1969-07-20T20:17:40Z",
        "bogus",
        "",
    ]
    prefixes = ["b6979942", "b6979942-7d5d", "b69799427d5d4fe6", UUID1, UUID1.replace("-", "")]
    prefixes += [
        "b6979942-",
        "b69-7d5d",
        "B6979942",
        "xyz",
        "b6979942-7d5d-4fe6-a2ec-b812e950625a0",
    ]
    prefixes += ["a" * 64, "b6979942--7d5d"]

    cases: list[dict[str, Any]] = [{"op": "duration", "ms": ms} for ms in durations]
    cases += [{"op": "size", "opts": o, "bytes": b} for o in size_opts for b in sizes]
    cases += [{"op": "longAgo", "when": now - d, "now": now} for d in ago]
    cases += [{"op": "date", "text": t} for t in dates]
    cases += [{"op": "normShortId", "s": s} for s in prefixes]
    cases += [{"op": "shortId", "s": s} for s in (UUID1, UUID2)]
    theirs = node_run(cases)

    def ours(case: dict[str, Any]) -> dict[str, str]:
        op = case["op"]
        if op == "duration":
            return _ours(human_duration, case["ms"])
        if op == "size":
            o = case["opts"]
            return _ours(
                human_size_from_bytes,
                case["bytes"],
                precision=o.get("precision", 1),
                narrow=o.get("narrow", False),
            )
        if op == "longAgo":
            return _ours(long_ago, case["when"], case["now"])
        if op == "date":
            ms = parse_js_date(case["text"])
            return {"ok": "NaN" if ms != ms else js_number(ms)}
        if op == "normShortId":
            return {"ok": str(norm_short_id(case["s"])).replace("None", "undefined")}
        return {"ok": short_id(case["s"])}

    _assert_all_equal(cases, [ours(c) for c in cases], theirs)


def test_age_column() -> None:
    now = parse_js_date("2024-03-01T12:00:00.000Z")
    assert age("2024-03-01T11:59:50.000Z", now) == "10s"
    assert age("2024-02-29T12:00:00Z", now) == "1d"
    assert age("2024-02-10T12:00:00Z", now) == "2w"
    assert age("2022-01-01T00:00:00Z", now) == "2y"
    assert age("2024-03-02T00:00:00Z", now) == "0s"  # in the future
    assert age(None, now) == "0s"
    when = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert age("2024-03-01T12:00:00Z", when) == "5s"


def test_instance_flags_order() -> None:
    everything = {
        "brand": "bhyve",
        "docker": True,
        "firewall_enabled": True,
        "deletion_protection": True,
    }
    assert instance_flags(everything) == "BDFP"
    assert instance_flags({"brand": "kvm", "firewall_enabled": True}) == "FK"
    assert instance_flags({"brand": "kvm", "deletion_protection": True}) == "KP"
    assert instance_flags({"brand": "joyent", "docker": False}) is None


def test_image_flags_order() -> None:
    me = "0f6a3a2e-0000-4000-8000-000000000001"
    other = "0f6a3a2e-0000-4000-8000-000000000002"
    mine = {"origin": UUID1, "public": True, "state": "unactivated", "owner": me, "acl": [me]}
    assert image_flags(mine, me) == "IPX+S"
    assert image_flags(mine) == "IPX"  # without the account: no sharing flags
    shared = {"state": "active", "owner": other, "acl": [me]}
    assert image_flags(shared, me) == "S"
    assert image_flags({"state": "active", "owner": me, "acl": []}, me) is None
    assert image_flags({"public": False}) == "X"
    assert images_need_account([{"acl": []}, {"acl": [me]}])
    assert not images_need_account([{"acl": []}, {}])


def test_row_decorations() -> None:
    images = [{"id": UUID2, "name": "base-64", "version": "23.4.0"}]
    inst = {"id": UUID1, "name": "web", "image": UUID2, "created": "2024-03-01T11:00:00.000Z"}
    now = parse_js_date("2024-03-01T12:00:00.000Z")
    row = add_instance_fields(inst, images, now)
    assert list(row)[-3:] == ["age", "img", "shortid"]
    assert (row["age"], row["img"], row["shortid"]) == ("1h", "base-64@23.4.0", "b6979942")
    assert "flags" not in row and "age" not in inst
    unknown = add_instance_fields({**inst, "image": UUID1, "brand": "kvm"}, {}, now)
    assert (unknown["img"], unknown["flags"]) == ("b6979942", "K")
    assert image_name_version({"name": "x"}) == "x@undefined"

    img = add_image_fields(
        {
            "id": UUID2,
            "published_at": "2023-01-02T03:04:05.678Z",
            "state": "active",
            "files": [{"size": 1234}],
        }
    )
    assert (img["shortid"], img["pubdate"], img["pub"], img["size"]) == (
        "a9d8c3c2",
        "2023-01-02",
        "2023-01-02T03:04:05Z",
        1234,
    )

    pkg = {"id": UUID1, "name": "g4-highcpu-1G", "memory": 1024, "swap": 4096, "disk": 25600,
           "vcpus": 0, "lwps": 4000}  # fmt: skip
    human = add_package_fields(pkg)
    assert human["_groupPlus"] == "g4"
    assert (human["memoryHuman"], human["swapHuman"], human["diskHuman"]) == ("1G", "4G", "25G")
    assert human["vcpusHuman"] == "-"
    text = render_table([human], package_columns(["shortid", "name", "memory", "vcpus", "lwps"]))
    assert text.splitlines() == [
        "SHORTID   NAME           MEMORY  VCPUS  LWPS",
        "b6979942  g4-highcpu-1G      1G      -  4000",
    ]
    exact = package_columns(["memory", "disk"], exact=True)
    assert render_table([add_package_fields(pkg, exact=True)], exact) == (
        "MEMORY   DISK\n  1024  25600\n"
    )
    assert add_package_fields({"name": "small", "group": "", "memory": 512})["_groupPlus"] == ""

    net = add_network_fields({"id": UUID1, "name": "fabric", "vlan_id": 2})
    assert (net["shortid"], net["vlan"]) == ("b6979942", 2)


# ---- the real triton CLI against an emulator


def _table_lines(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line) for line in text.splitlines()]


@pytest.mark.interop
def test_list_commands_match_triton(keys: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.interop.node_peers import private_triton

    with private_triton(keys["rsa"], tmp_path_factory, "tables") as triton:

        def api(path: str) -> Any:
            return json.loads(triton.run("cloudapi", f"/{ACCOUNT}{path}").stdout)

        def check(args: list[str], expected: Callable[[float], str]) -> None:
            # AGE depends on when triton ran: accept any moment during the run
            before = time.time() * 1000
            out = triton.run(*args).stdout
            after = time.time() * 1000
            moments = [before + k * 100 for k in range(int((after - before) / 100) + 1)]
            wanted = {expected(now) for now in [*moments, after]}
            assert out in wanted, f"triton {' '.join(args)}:\n{out}\nours:\n{sorted(wanted)}"

        images = api("/images?state=all")
        packages = api("/packages")
        zone = next(i for i in images if i["type"] == "zone-dataset" and i["state"] == "active")
        for name, extra in (("zz-web", ["-t", "role=web", "--firewall"]), ("aa-db", [])):
            triton.run(
                "instance", "create", "-w", "-n", name, *extra, zone["id"], packages[0]["name"]
            )
        raw = api("/machines")

        def instances(now: float) -> list[dict[str, Any]]:
            return [add_instance_fields(i, images, now) for i in raw]

        inst_cols = choose_columns(None, default="shortid,name,img,state,flags,age")
        check(
            ["instance", "list"],
            lambda now: render_table(
                instances(now), inst_cols, sort=["created"], dotted_lookup=True
            ),
        )
        long_cols = "id,name,img,brand,package,state,flags,primaryIp,created"
        check(
            ["instance", "list", "-l", "-H"],
            lambda now: render_table(
                instances(now),
                choose_columns(None, long=True, default="x", long_default=long_cols),
                headers=False,
                sort=["created"],
                dotted_lookup=True,
            ),
        )
        cols = "name,tags.role,firewall_enabled,memory,ips,tags"
        check(
            ["instance", "list", "-o", cols, "-s", "-name"],
            lambda now: render_table(
                instances(now), parse_columns(cols), sort=["-name"], dotted_lookup=True
            ),
        )
        check(["instance", "list", "-j"], lambda now: json_lines(instances(now)))  # unsorted

        account = api("")["id"]
        listed = api("/images")
        check(
            ["image", "list"],
            lambda now: render_table(
                [add_image_fields(i, account) for i in listed],
                parse_columns("shortid,name,version,flags,os,type,pubdate"),
                sort=["published_at"],
            ),
        )
        check(
            ["image", "list", "-a", "-o", "name,pub,size,flags", "-s", "-name,version"],
            lambda now: render_table(
                [add_image_fields(i, account) for i in images],
                ["name", "pub", "size", "flags"],
                sort=["-name", "version"],
            ),
        )
        check(["image", "list", "-j"], lambda now: json_lines(listed))

        names = parse_columns("id,name,memory,swap,disk,vcpus,description")
        for exact in (False, True):
            rows = [add_package_fields(p, exact=exact) for p in packages]
            text = render_table(
                rows, package_columns(names, exact=exact), sort=["_groupPlus", "memory"]
            )
            check(["package", "list", "-l", *(["-p"] if exact else [])], _constant(text))
        check(["package", "list", "-j"], lambda now: json_lines(packages))

        networks = [add_network_fields(n) for n in api("/networks")]
        check(
            ["network", "list", "-H"],
            lambda now: render_table(
                networks,
                parse_columns("shortid,name,subnet,gateway,fabric,vlan,public"),
                headers=False,
                sort=["name"],
            ),
        )
        check(
            ["key", "list", "-o", "name,fingerprint", "-s", "-name"],
            lambda now: render_table(api("/keys"), ["name", "fingerprint"], sort=["-name"]),
        )
        check(
            ["instance", "get", "zz-web"],
            lambda now: json_pretty(api("/machines/" + raw_id(raw, "zz-web"))),
        )


def _constant(text: str) -> Callable[[float], str]:
    return lambda now: text


def raw_id(instances: list[dict[str, Any]], name: str) -> str:
    """The id of the instance called ``name``."""
    return next(str(i["id"]) for i in instances if i["name"] == name)
