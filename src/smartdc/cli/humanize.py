"""The short human forms in triton's output: ages, durations, sizes, short ids and flags.

Each function matches node-triton 7.17 (``lib/common.js`` and the ``do_*/do_list.js`` files)
character for character, including its odd corners, so tables look the same. The
``add_*_fields`` helpers add the client-side columns (``shortid``, ``age``, ``flags`` ...) that
triton's list commands compute before printing.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli.table import UNDEFINED, Column, js_number, js_string

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "add_image_fields",
    "add_instance_fields",
    "add_network_fields",
    "add_package_fields",
    "age",
    "human_duration",
    "human_size_from_bytes",
    "image_flags",
    "image_name_version",
    "images_need_account",
    "instance_flags",
    "is_uuid",
    "long_ago",
    "norm_short_id",
    "package_columns",
    "parse_js_date",
    "short_id",
]

_UUID = re.compile(r"[a-f0-9]{8}(?:-[a-f0-9]{4}){3}-[a-f0-9]{12}", re.IGNORECASE)
_HEX = re.compile(r"[a-f0-9]+")
_ISO_DATE = re.compile(
    r"(?P<year>[+-][0-9]{6}|[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?)?",
    re.IGNORECASE,
)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (any case), as triton's ``isUUID``."""
    return _UUID.fullmatch(text) is not None


def short_id(uuid: str) -> str:
    """The ``shortid`` column: everything before the first ``-`` (8 hex digits of a UUID)."""
    return uuid.split("-", 1)[0]


def norm_short_id(text: str) -> str | None:
    """Normalize an id prefix the way triton does before matching it against ids.

    Dash-less hex (a Docker id or a bare prefix) gets dashes at the UUID positions; a prefix
    with dashes must have hex groups of the UUID's lengths. ``None`` if it is not a prefix.
    """
    # as node-triton lib/common.js normShortId
    if "-" not in text:
        if not _HEX.fullmatch(text):
            return None
        spans = (text[:8], text[8:12], text[12:16], text[16:20], text[20:32])
        return "-".join(spans).rstrip("-")
    out = ""
    remaining = text
    lengths = (8, 4, 4, 4, 12)
    for i, span in enumerate(lengths):
        head = remaining[:span]
        remaining = remaining[span + 1 :]
        if not _HEX.fullmatch(head):
            return None
        out += head
        if remaining and i + 1 < len(lengths):
            out += "-"
        else:
            break
    return out


def _js_round(value: float) -> float:
    if not math.isfinite(value):
        return value
    return float(math.floor(value + 0.5))


def _js_floor(value: float) -> float:
    if not math.isfinite(value):
        return value
    return float(math.floor(value))


def long_ago(when_ms: float, now_ms: float) -> str:
    """How long before ``now_ms`` the time ``when_ms`` was, in its largest whole unit:
    ``3y``, ``2w``, ``5d``, ``1h``, ``10m``, ``42s``; ``0s`` for the future or a bad date.
    """
    # as node-triton lib/common.js longAgo: weeks are counted only below a year, so
    # 400 days is "1y" and 20 days "2w"
    seconds = _js_round((now_ms - when_ms) / 1000)
    spans = (
        (seconds / 60 / 60 / 24 / 365, "y"),
        (seconds / 60 / 60 / 24 / 7, "w"),
        (seconds / 60 / 60 / 24, "d"),
        (seconds / 60 / 60, "h"),
        (seconds / 60, "m"),
        (seconds, "s"),
    )
    for span, unit in spans:
        whole = _js_floor(span)
        if whole > 0:
            return js_number(whole) + unit
    return "0s"


def parse_js_date(value: Any) -> float:
    """Milliseconds since the epoch for ``new Date(value)``, or NaN if it is not a date.

    Takes a number (already milliseconds) or an ISO 8601 text: ``2015-05-12T20:25:26.123Z``,
    an offset such as ``+02:00``, a space instead of ``T``; a date alone is UTC, a date and
    time without a zone is local time (as in JavaScript). Extra fraction digits are cut to
    milliseconds. Other text gives NaN.
    """
    if isinstance(value, bool) or value is None or value is UNDEFINED:
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "timestamp"):  # a datetime (not imported: it is slow to load)
        return float(value.timestamp()) * 1000
    if not isinstance(value, str):
        return math.nan
    m = _ISO_DATE.fullmatch(value.strip())
    if not m:
        return math.nan
    year = int(m["year"])
    month = int(m["month"] or 1)
    day = int(m["day"] or 1)
    hour = int(m["hour"] or 0)
    minute = int(m["minute"] or 0)
    second = int(m["second"] or 0)
    millis = int((m["fraction"] or "0")[:3].ljust(3, "0"))
    # like V8: any day up to 31 is taken and rolls over (February 30 is March 2)
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute < 60 and second < 60):
        return math.nan
    if hour > 24 or (hour == 24 and (minute or second or millis)):
        return math.nan
    zone = m["zone"]
    if zone is None and m["hour"] is not None:
        try:
            local = time.mktime((year, month, day, hour, minute, second, 0, 0, -1))
        except (OverflowError, ValueError):
            return math.nan
        return local * 1000 + millis
    days = _days_from_civil(year, month, 1) + day - 1
    seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
        if int(digits[:2]) > 23 or int(digits[2:]) > 59:
            return math.nan
        seconds -= offset if zone[0] == "+" else -offset
    return float(seconds * 1000 + millis)


def _days_from_civil(year: int, month: int, day: int) -> int:
    # days since 1970-01-01 in the proleptic Gregorian calendar, any year
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _now_ms(now: datetime | float | None) -> float:
    if now is None:
        return time.time() * 1000
    if hasattr(now, "timestamp"):
        return float(now.timestamp()) * 1000
    return float(now)


def age(created: Any, now: datetime | float | None = None) -> str:
    """The instance list ``AGE`` column for a ``created`` timestamp (see :func:`long_ago`).

    ``now`` is a datetime or epoch milliseconds (default: the current time).
    """
    return long_ago(parse_js_date(created), _now_ms(now))


def human_duration(ms: float) -> str:
    """A duration in its two largest units: ``0ms``, ``999ms``, ``1m1s``, ``1h1m``, ``2w``.

    Weeks are the largest unit; milliseconds show only when nothing larger does.
    """
    # as node-triton lib/common.js humanDurationFromMs (JavaScript % keeps the sign of
    # the dividend, hence fmod)
    if isinstance(ms, bool) or not math.isfinite(ms):
        raise ValueError(f"ms must be a finite number: {ms!r}")
    if ms == 0:
        return "0ms"
    units = (("ms", 1000, "s"), ("s", 60, "m"), ("m", 60, "h"), ("h", 24, "d"), ("d", 7, "w"))
    bits: list[str] = []
    n = float(ms)
    for i, (unit, size, bigger) in enumerate(units):
        remainder = math.fmod(n, size)
        bits.insert(0, "" if remainder == 0 else js_number(remainder) + unit)
        n = float(math.floor(n / size))
        if n == 0:
            break
        if i == len(units) - 1:
            bits.insert(0, js_number(n) + bigger)
            break
    if len(bits) > 1 and bits[-1].endswith("ms"):
        bits.pop()
    return "".join(bits[:2])


_SIZES = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_NARROW_SIZES = ("B", "K", "M", "G", "T", "P")


def human_size_from_bytes(nbytes: float, *, precision: int = 1, narrow: bool = False) -> str:
    """A byte count in binary units: ``1.5 GiB``, or with ``narrow`` ``1.5G`` / ``512M``.

    Decimals are cut, not rounded (1023.99 MiB is ``1023.9 MiB``). ``narrow`` drops them
    when the value is whole (``1G``, not ``1.0G``). Zero is ``0 B`` in both styles, as in
    triton.
    """
    # as node-triton lib/common.js humanSizeFromBytes
    if isinstance(nbytes, bool) or not math.isfinite(nbytes):
        raise ValueError(f"bytes must be a finite number: {nbytes!r}")
    if precision < 0:
        raise ValueError("precision must not be negative")
    if nbytes == 0:
        return "0 B"
    sign = "-" if nbytes < 0 else ""
    value = abs(float(nbytes))
    exponent = math.floor(math.log(value) / math.log(1024))
    text = js_number(value / 1024.0**exponent)
    has_decimal = "." in text
    if precision == 0:
        if has_decimal:
            text = text[: text.index(".")]
    elif not (narrow and not has_decimal):
        if not has_decimal:
            text += "."
        places = len(text) - text.index(".") - 1
        if places < precision:
            text += "0" * (precision - places)
        elif places > precision:
            text = text[: len(text) - places + precision]
    units = _NARROW_SIZES if narrow else _SIZES
    unit = units[exponent] if 0 <= exponent < len(units) else "undefined"
    return f"{sign}{text}{unit}" if narrow else f"{sign}{text} {unit}"


def _truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    if isinstance(value, list | tuple | Mapping):
        return True  # empty arrays and objects are truthy in JavaScript
    return bool(value)


def instance_flags(inst: Mapping[str, Any]) -> str | None:
    """The instance ``FLAGS`` column, always in the order ``B D F K P``; ``None`` if none.

    ``B`` bhyve brand, ``D`` docker, ``F`` firewall enabled, ``K`` kvm brand,
    ``P`` deletion protection.
    """
    # as node-triton lib/do_instance/do_list.js
    flags = ""
    if inst.get("brand") == "bhyve":
        flags += "B"
    if _truthy(inst.get("docker")):
        flags += "D"
    if _truthy(inst.get("firewall_enabled")):
        flags += "F"
    if inst.get("brand") == "kvm":
        flags += "K"
    if _truthy(inst.get("deletion_protection")):
        flags += "P"
    return flags or None


def images_need_account(images: Iterable[Mapping[str, Any]]) -> bool:
    """Whether :func:`image_flags` needs the account id: some image has a non-empty ACL.

    triton fetches the account only then (and never for ``-j``).
    """
    return any(isinstance(img.get("acl"), list) and img["acl"] for img in images)


def image_flags(img: Mapping[str, Any], account_id: str | None = None) -> str | None:
    """The image ``FLAGS`` column, in triton's order ``I P X + S``; ``None`` if none.

    ``I`` incremental (has an origin), ``P`` public, ``X`` state other than active,
    ``+`` an image of ``account_id`` shared with others, ``S`` shared with ``account_id``.
    The last two need ``account_id`` and a non-empty ``acl``.
    """
    # as node-triton lib/do_image/do_list.js (its help lists the letters in another order)
    flags = ""
    if _truthy(img.get("origin")):
        flags += "I"
    if _truthy(img.get("public")):
        flags += "P"
    if img.get("state", UNDEFINED) != "active":
        flags += "X"
    acl = img.get("acl")
    if account_id is not None and isinstance(acl, list) and acl:
        if img.get("owner") == account_id:
            flags += "+"
        if account_id in acl:
            flags += "S"
    return flags or None


def _format_s(value: Any) -> str:
    return js_string(value)


def image_name_version(img: Mapping[str, Any]) -> str:
    """``name@version`` as in the instance ``IMG`` column (a missing part reads ``undefined``)."""
    return f"{_format_s(img.get('name', UNDEFINED))}@{_format_s(img.get('version', UNDEFINED))}"


def add_instance_fields(
    inst: Mapping[str, Any],
    images: Iterable[Mapping[str, Any]] | Mapping[str, str] = (),
    now: datetime | float | None = None,
) -> dict[str, Any]:
    """A copy of ``inst`` with triton's ``age``, ``img``, ``shortid`` and ``flags`` added.

    ``images`` is the image list (or a ready ``{id: "name@version"}`` map); ``img`` falls
    back to the image's short id. ``flags`` is left out when there are none. Unlike other
    lists, ``triton instance list -j`` prints these extra fields too, in this order.
    """
    # as node-triton lib/do_instance/do_list.js
    if isinstance(images, Mapping):
        names: Mapping[str, str] = images
    else:
        names = {img["id"]: image_name_version(img) for img in images if "id" in img}
    out = dict(inst)
    out["age"] = age(inst.get("created", UNDEFINED), now)
    image = inst.get("image")
    if isinstance(image, str):
        out["img"] = names.get(image) or short_id(image)
    else:
        out.pop("img", None)
    ident = inst.get("id")
    if isinstance(ident, str):
        out["shortid"] = short_id(ident)
    flags = instance_flags(inst)
    if flags is None:
        out.pop("flags", None)
    else:
        out["flags"] = flags
    return out


def add_image_fields(img: Mapping[str, Any], account_id: str | None = None) -> dict[str, Any]:
    """A copy of ``img`` with the table-only fields of ``triton image list``.

    ``shortid``; ``pubdate`` (date of ``published_at``) and ``pub`` (``published_at``
    without milliseconds); ``size`` (of the first file); ``flags`` (see :func:`image_flags`).
    """
    # as node-triton lib/do_image/do_list.js
    out = dict(img)
    ident = img.get("id")
    if isinstance(ident, str):
        out["shortid"] = short_id(ident)
    published = img.get("published_at")
    if isinstance(published, str) and published:
        out["pubdate"] = published[:10]
        out["pub"] = re.sub(r"\.[0-9]+Z\Z", "Z", published)
    files = img.get("files")
    if isinstance(files, list) and files and _truthy(files[0]):
        first = files[0]
        size = first.get("size", UNDEFINED) if isinstance(first, Mapping) else UNDEFINED
        if size is UNDEFINED:
            out.pop("size", None)
        else:
            out["size"] = size
    flags = image_flags(img, account_id)
    if flags is None:
        out.pop("flags", None)
    else:
        out["flags"] = flags
    return out


def _mebibytes_human(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    nbytes = value * 1024 * 1024
    if not math.isfinite(nbytes):
        return None
    return human_size_from_bytes(nbytes, precision=1, narrow=True)


def add_package_fields(pkg: Mapping[str, Any], *, exact: bool = False) -> dict[str, Any]:
    """A copy of ``pkg`` with the table-only fields of ``triton package list``.

    ``shortid`` and ``_groupPlus`` (the default sort: ``group``, else the name's part before
    a ``-``); unless ``exact`` (``-p``), ``memoryHuman``, ``swapHuman``, ``diskHuman``
    (megabytes shown as ``512M``, ``1G``, ``1.5T``) and ``vcpusHuman`` (``-`` for 0).
    """
    # as node-triton lib/do_package/do_list.js
    out = dict(pkg)
    ident = pkg.get("id")
    if isinstance(ident, str):
        out["shortid"] = short_id(ident)
    group = pkg.get("group")
    name = pkg.get("name")
    if _truthy(group):
        out["_groupPlus"] = group
    elif isinstance(name, str) and "-" in name:
        out["_groupPlus"] = name.split("-", 1)[0]
    else:
        out["_groupPlus"] = ""
    if not exact:
        for field in ("memory", "swap", "disk"):
            human = _mebibytes_human(pkg.get(field))
            if human is None:
                out.pop(field + "Human", None)
            else:
                out[field + "Human"] = human
        vcpus = pkg.get("vcpus", UNDEFINED)
        is_zero = isinstance(vcpus, int | float) and not isinstance(vcpus, bool) and vcpus == 0
        out["vcpusHuman"] = "-" if is_zero else vcpus
    return out


_PACKAGE_RIGHT = frozenset(("memory", "disk", "swap", "vcpus", "lwps"))
_PACKAGE_HUMAN = {
    "memory": Column("memoryHuman", "MEMORY", "right"),
    "swap": Column("swapHuman", "SWAP", "right"),
    "disk": Column("diskHuman", "DISK", "right"),
    "vcpus": Column("vcpusHuman", "VCPUS", "right"),
}


def package_columns(names: Sequence[str], *, exact: bool = False) -> list[str | Column]:
    """The column specs ``triton package list`` uses for ``names``: numeric columns
    right-aligned and, unless ``exact`` (``-p``), shown through the ``*Human`` fields.
    """
    cols: list[str | Column] = []
    for name in names:
        if not exact and name in _PACKAGE_HUMAN:
            cols.append(_PACKAGE_HUMAN[name])
        elif name in _PACKAGE_RIGHT:
            cols.append(Column(name, align="right"))
        else:
            cols.append(name)
    return cols


def add_network_fields(net: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``net`` with ``shortid`` and ``vlan`` (= ``vlan_id``) for the table."""
    # as node-triton lib/do_network/do_list.js
    out = dict(net)
    ident = net.get("id")
    if isinstance(ident, str):
        out["shortid"] = short_id(ident)
    if "vlan_id" in net:
        out["vlan"] = net["vlan_id"]
    else:
        out.pop("vlan", None)
    return out
