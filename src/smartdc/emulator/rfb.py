"""A sans-IO RFB (VNC) server that shows an emulated machine's console as a text screen.

The emulator has no real guest to show, so the ConnectMachineVNC websocket is answered by this
protocol engine: it speaks RFB 3.3, 3.7 and 3.8 (RFC 6143) with the None security type and
sends Raw-encoded framebuffer updates of a dark screen with a few lines of light text (the
machine's name, state and id), drawn with the built-in 5x7 font below.

No socket is touched here. The caller sends :meth:`RfbServer.initial_bytes` first, then feeds
whatever the client sends to :meth:`RfbServer.receive` (any chunking) and writes back what it
returns; :meth:`RfbServer.update` changes the picture and returns an update for a client that
is waiting for one. Once :attr:`RfbServer.closed` is true the caller should flush the last
bytes returned and close the connection.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

#: The ProtocolVersion the server offers.
PROTOCOL_VERSION = b"RFB 003.008\n"

#: Screen colours (red, green, blue): palette index 0 is the background, 1 the text.
BACKGROUND = (0x12, 0x16, 0x20)
FOREGROUND = (0xE8, 0xE8, 0xE0)
_PALETTE = (BACKGROUND, FOREGROUND)

SECURITY_NONE = 1
ENCODING_RAW = 0

# Client-to-server message types (RFC 6143 section 7.5).
_SET_PIXEL_FORMAT = 0
_SET_ENCODINGS = 2
_FRAMEBUFFER_UPDATE_REQUEST = 3
_KEY_EVENT = 4
_POINTER_EVENT = 5
_CLIENT_CUT_TEXT = 6

_VERSION_RE = re.compile(rb"RFB (\d{3})\.(\d{3})\n")

# 5x7 glyphs for ASCII 0x20..0x7E, in order: each is seven rows of two hex digits, top row
# first, bit 0x10 being the leftmost of the five columns.
_GLYPH_DATA = """
00000000000000 04040404040004 0A0A0A00000000 0A0A1F0A1F0A0A 040F140E051E04 18190204081303
0C12140815120D 04040800000000 02040808080402 08040202020408 0004150E150400 0004041F040400
000000000C0408 0000001F000000 00000000000C0C 00010204081000 0E11131519110E 040C040404040E
0E11010204081F 1F02040201110E 02060A121F0202 1F101E0101110E 0608101E11110E 1F010204080808
0E11110E11110E 0E11110F01020C 000C0C000C0C00 000C0C000C0408 02040810080402 00001F001F0000
08040201020408 0E110102040004 0E11010D15150E 0E1111111F1111 1E11111E11111E 0E11101010110E
1C12111111121C 1F10101E10101F 1F10101E101010 0E11101711110F 1111111F111111 0E04040404040E
0702020202120C 11121418141211 1010101010101F 111B1515111111 11111915131111 0E11111111110E
1E11111E101010 0E11111115120D 1E11111E141211 0F10100E01011E 1F040404040404 1111111111110E
11111111110A04 1111111515150A 11110A040A1111 1111110A040404 1F01020408101F 0E08080808080E
00100804020100 0E02020202020E 040A1100000000 0000000000001F 08040200000000 00000E010F110F
1010161911111E 00000E1010110E 01010D1311110F 00000E111F100E 0609081C080808 000F11110F010E
10101619111111 04000C0404040E 0200060202120C 10101214181412 0C04040404040E 00001A15151111
00001619111111 00000E1111110E 00001E111E1010 00000D130F0101 00001619101010 00000E100E011E
08081C08080906 0000111111130D 00001111110A04 0000111115150A 0000110A040A11 000011110F010E
00001F0204081F 02040408040402 04040404040404 08040402040408 00000815020000
"""


def _parse_glyphs(data: str) -> tuple[tuple[int, ...], ...]:
    glyphs = tuple(bytes.fromhex(cell) for cell in data.split())
    if len(glyphs) != 95 or any(len(rows) != 7 for rows in glyphs):
        raise ValueError("the glyph table must hold 95 glyphs of 7 rows")
    return tuple(tuple(rows) for rows in glyphs)


_GLYPHS = _parse_glyphs(_GLYPH_DATA)
_GLYPH_W = 5
_GLYPH_H = 7
_ADVANCE = _GLYPH_W + 1  # one blank column between characters
_LINE_PITCH = _GLYPH_H + 3  # blank rows between lines, in font pixels
_MARGIN = 16
_MAX_SCALE = 3


def glyph_rows(char: str) -> tuple[int, ...]:
    """The seven 5-bit rows of ``char``'s glyph (bit 0x10 is the leftmost column); characters
    outside printable ASCII are drawn as ``?``."""
    code = ord(char) if len(char) == 1 else 0
    if not 0x20 <= code <= 0x7E:
        code = ord("?")
    return _GLYPHS[code - 0x20]


def machine_lines(*, name: str, state: str, machine_id: str) -> list[str]:
    """The text lines the emulator's console shows for one machine."""
    return [f"name:  {name}", f"state: {state}", f"id:    {machine_id}"]


# --- pixel formats -----------------------------------------------------------------------


@dataclass(frozen=True)
class PixelFormat:
    """An RFB PIXEL_FORMAT (RFC 6143 section 7.4)."""

    bits_per_pixel: int = 32
    depth: int = 24
    big_endian: bool = False
    true_colour: bool = True
    red_max: int = 255
    green_max: int = 255
    blue_max: int = 255
    red_shift: int = 16
    green_shift: int = 8
    blue_shift: int = 0

    _STRUCT = struct.Struct(">BBBBHHHBBB3x")

    def pack(self) -> bytes:
        """The 16-byte wire form."""
        return self._STRUCT.pack(
            self.bits_per_pixel,
            self.depth,
            int(self.big_endian),
            int(self.true_colour),
            self.red_max,
            self.green_max,
            self.blue_max,
            self.red_shift,
            self.green_shift,
            self.blue_shift,
        )

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        """Read the 16-byte wire form."""
        bpp, depth, big, true_colour, rmax, gmax, bmax, rsh, gsh, bsh = cls._STRUCT.unpack(data)
        return cls(bpp, depth, big != 0, true_colour != 0, rmax, gmax, bmax, rsh, gsh, bsh)

    def encode(self, rgb: tuple[int, int, int], index: int) -> bytes:
        """One pixel of colour ``rgb`` (palette entry ``index``) in this format."""
        if self.true_colour:
            r, g, b = rgb
            value = (
                (_scale(r, self.red_max) << self.red_shift)
                | (_scale(g, self.green_max) << self.green_shift)
                | (_scale(b, self.blue_max) << self.blue_shift)
            )
        else:
            # Colour-map mode: the pixel is the palette index, and the map is sent with
            # SetColourMapEntries when the client picks this format.
            value = index
        size = self.bits_per_pixel // 8
        value &= (1 << self.bits_per_pixel) - 1
        return value.to_bytes(size, "big" if self.big_endian else "little")


def _scale(component: int, maximum: int) -> int:
    return (component * maximum + 127) // 255


class _Translator:
    """Turns palette-index bytes into pixel bytes of one format, one byte plane at a time."""

    def __init__(self, fmt: PixelFormat) -> None:
        self.size = fmt.bits_per_pixel // 8
        pixels = [fmt.encode(rgb, i) for i, rgb in enumerate(_PALETTE)]
        self.tables = []
        for plane in range(self.size):
            table = bytearray(256)
            for i, pixel in enumerate(pixels):
                table[i] = pixel[plane]
            self.tables.append(bytes(table))

    def convert(self, indices: bytes) -> bytes:
        if self.size == 1:
            return indices.translate(self.tables[0])
        out = bytearray(len(indices) * self.size)
        for plane, table in enumerate(self.tables):
            out[plane :: self.size] = indices.translate(table)
        return bytes(out)


# --- rectangles --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersect(self, other: _Rect) -> _Rect:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.w, other.x + other.w)
        y1 = min(self.y + self.h, other.y + other.h)
        return _Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def union(self, other: _Rect | None) -> _Rect:
        if other is None or other.empty:
            return self
        if self.empty:
            return other
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.y + self.h, other.y + other.h)
        return _Rect(x0, y0, x1 - x0, y1 - y0)

    def contains(self, other: _Rect) -> bool:
        return self.intersect(other) == other


# --- the picture -------------------------------------------------------------------------


def render(lines: Sequence[str], width: int, height: int) -> bytes:
    """The screen as one palette-index byte per pixel, row by row (0 background, 1 text).

    The font is scaled up (at most 3x) as far as the longest line and all lines still fit;
    what does not fit at 1x is clipped."""
    fb = bytearray(width * height)
    longest = max((len(line) for line in lines), default=0)
    scale = _MAX_SCALE
    while scale > 1 and (
        _MARGIN * 2 + longest * _ADVANCE * scale > width
        or _MARGIN * 2 + len(lines) * _LINE_PITCH * scale > height
    ):
        scale -= 1
    avail = max(0, width - 2 * _MARGIN)
    bottom = height - _MARGIN
    for n, line in enumerate(lines):
        top = _MARGIN + n * _LINE_PITCH * scale
        for r in range(_GLYPH_H):
            row = b"".join(_glyph_span(ch, r, scale) for ch in line)[:avail]
            if not row.strip(b"\x00"):
                continue
            for y in range(top + r * scale, min(top + (r + 1) * scale, bottom)):
                start = y * width + _MARGIN
                fb[start : start + len(row)] = row
    return bytes(fb)


_SPAN_CACHE: dict[tuple[str, int, int], bytes] = {}


def _glyph_span(char: str, row: int, scale: int) -> bytes:
    key = (char, row, scale)
    span = _SPAN_CACHE.get(key)
    if span is None:
        bits = glyph_rows(char)[row]
        cells = bytes(1 if bits & (0x10 >> c) else 0 for c in range(_GLYPH_W)) + b"\x00"
        span = b"".join(bytes([cell]) * scale for cell in cells)
        if len(_SPAN_CACHE) < 4096:
            _SPAN_CACHE[key] = span
    return span


# --- the protocol ------------------------------------------------------------------------


class _Phase(Enum):
    VERSION = "version"
    SECURITY = "security"
    CLIENT_INIT = "client-init"
    NORMAL = "normal"
    CLOSED = "closed"


class RfbServer:
    """One RFB session serving a text screen (see the module docstring)."""

    def __init__(
        self, *, name: str, lines: Sequence[str], width: int = 800, height: int = 600
    ) -> None:
        if not (0 < width <= 0xFFFF and 0 < height <= 0xFFFF):
            raise ValueError("framebuffer size must be 1..65535 in each direction")
        self.name = name
        self.width = width
        self.height = height
        self._lines = list(lines)
        self._fb = render(self._lines, width, height)
        self._phase = _Phase.VERSION
        self._buffer = bytearray()
        self._skip = 0  # ClientCutText bytes still to discard
        self._error: str | None = None
        self._version: tuple[int, int] | None = None
        self._shared: bool | None = None
        self._format = PixelFormat()
        self._translator = _Translator(self._format)
        self._encodings: tuple[int, ...] = ()
        # What the client has not been sent since it last changed, and what it asked for
        # incrementally that has not been answered yet.
        self._dirty: _Rect | None = self._screen
        self._pending: _Rect | None = None

    # -- state --

    @property
    def closed(self) -> bool:
        """True once the session is over (after a protocol error)."""
        return self._phase is _Phase.CLOSED

    @property
    def error(self) -> str | None:
        """Why the session was closed, if it was."""
        return self._error

    @property
    def version(self) -> tuple[int, int] | None:
        """The negotiated protocol version, ``(3, 3)``, ``(3, 7)`` or ``(3, 8)``."""
        return self._version

    @property
    def shared(self) -> bool | None:
        """The ClientInit shared flag, once received."""
        return self._shared

    @property
    def pixel_format(self) -> PixelFormat:
        """The pixel format updates are sent in."""
        return self._format

    @property
    def encodings(self) -> tuple[int, ...]:
        """The encodings the client last listed with SetEncodings. Only Raw is ever sent (RFC 6143
        lets a server use Raw whatever the list says); pseudo-encodings are not acted on."""
        return self._encodings

    @property
    def lines(self) -> list[str]:
        """The text currently shown."""
        return list(self._lines)

    @property
    def pixels(self) -> bytes:
        """The screen as palette indices (0 background, 1 text), ``width`` bytes per row."""
        return self._fb

    @property
    def _screen(self) -> _Rect:
        return _Rect(0, 0, self.width, self.height)

    # -- I/O --

    def initial_bytes(self) -> bytes:
        """The ProtocolVersion message, to send as soon as the client connects."""
        return PROTOCOL_VERSION

    def receive(self, data: bytes) -> bytes:
        """Take bytes from the client, however they are split, and return the reply bytes."""
        if self.closed:
            return b""
        self._buffer += data
        out = bytearray()
        while not self.closed:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                if self._skip:
                    break
            step = self._step()
            if step is None:
                break
            out += step
        if self.closed:
            self._buffer.clear()
        return bytes(out)

    def update(self, lines: Sequence[str]) -> bytes:
        """Show ``lines`` instead; return an update for a request the client left waiting."""
        new = render(lines, self.width, self.height)
        self._lines = list(lines)
        changed = self._changed_rows(self._fb, new)
        self._fb = new
        if changed is None:
            return b""
        self._dirty = changed.union(self._dirty)
        if self._phase is not _Phase.NORMAL or self._pending is None:
            return b""
        return self._answer_pending()

    # -- handshake --

    def _step(self) -> bytes | None:
        """Handle one message from the buffer; None when more bytes are needed."""
        if self._phase is _Phase.VERSION:
            return self._on_version()
        if self._phase is _Phase.SECURITY:
            return self._on_security_choice()
        if self._phase is _Phase.CLIENT_INIT:
            return self._on_client_init()
        return self._on_message()

    def _take(self, n: int) -> bytes | None:
        if len(self._buffer) < n:
            return None
        chunk = bytes(self._buffer[:n])
        del self._buffer[:n]
        return chunk

    def _close(self, reason: str, farewell: bytes = b"") -> bytes:
        self._phase = _Phase.CLOSED
        self._error = reason
        return farewell

    def _on_version(self) -> bytes | None:
        message = self._take(12)
        if message is None:
            return None
        match = _VERSION_RE.fullmatch(message)
        if match is None:
            return self._close(f"bad ProtocolVersion {message!r}")
        major, minor = int(match[1]), int(match[2])
        if major < 3:
            return self._close(f"unsupported RFB version {major}.{minor}")
        # RFC 6143 section 7.1.1: 3.x versions other than 3.7 and 3.8 (such as Apple's 3.889)
        # are read as 3.3; a client asking for a later major version gets 3.8, all we speak.
        if major > 3 or minor == 8:
            self._version = (3, 8)
        elif minor == 7:
            self._version = (3, 7)
        else:
            self._version = (3, 3)
        if self._version == (3, 3):
            # 3.3: the server picks the security type and there is no SecurityResult for None.
            self._phase = _Phase.CLIENT_INIT
            return struct.pack(">I", SECURITY_NONE)
        self._phase = _Phase.SECURITY
        return bytes([1, SECURITY_NONE])

    def _on_security_choice(self) -> bytes | None:
        choice = self._take(1)
        if choice is None:
            return None
        if choice[0] != SECURITY_NONE:
            reason = f"security type {choice[0]} was not offered"
            if self._version == (3, 8):
                # Only 3.8 carries a reason after a failed SecurityResult.
                return self._close(reason, struct.pack(">II", 1, len(reason)) + reason.encode())
            return self._close(reason)
        self._phase = _Phase.CLIENT_INIT
        # 3.7 goes straight to initialisation after None; 3.8 always sends SecurityResult.
        return struct.pack(">I", 0) if self._version == (3, 8) else b""

    def _on_client_init(self) -> bytes | None:
        flag = self._take(1)
        if flag is None:
            return None
        self._shared = flag[0] != 0
        self._phase = _Phase.NORMAL
        name = self.name.encode("utf-8")
        return (
            struct.pack(">HH", self.width, self.height)
            + self._format.pack()
            + struct.pack(">I", len(name))
            + name
        )

    # -- normal phase --

    def _on_message(self) -> bytes | None:
        if not self._buffer:
            return None
        kind = self._buffer[0]
        if kind == _SET_PIXEL_FORMAT:
            message = self._take(20)
            return None if message is None else self._on_set_pixel_format(message[4:])
        if kind == _SET_ENCODINGS:
            if len(self._buffer) < 4:
                return None
            (count,) = struct.unpack_from(">H", self._buffer, 2)
            message = self._take(4 + 4 * count)
            if message is None:
                return None
            self._encodings = struct.unpack(f">{count}i", message[4:])
            return b""
        if kind == _FRAMEBUFFER_UPDATE_REQUEST:
            message = self._take(10)
            if message is None:
                return None
            incremental, x, y, w, h = struct.unpack(">xBHHHH", message)
            return self._on_update_request(incremental != 0, _Rect(x, y, w, h))
        if kind == _KEY_EVENT:
            return None if self._take(8) is None else b""
        if kind == _POINTER_EVENT:
            return None if self._take(6) is None else b""
        if kind == _CLIENT_CUT_TEXT:
            header = self._take(8)
            if header is None:
                return None
            (self._skip,) = struct.unpack_from(">I", header, 4)
            return b""
        return self._close(f"unknown client message type {kind}")

    def _on_set_pixel_format(self, data: bytes) -> bytes:
        fmt = PixelFormat.unpack(data)
        if fmt.bits_per_pixel not in (8, 16, 32):
            return self._close(f"unsupported bits-per-pixel {fmt.bits_per_pixel}")
        self._format = fmt
        self._translator = _Translator(fmt)
        # What the client holds is in the old format: let an incremental request redraw it.
        self._dirty = self._screen
        if fmt.true_colour:
            return b""
        entries = b"".join(struct.pack(">HHH", r * 257, g * 257, b * 257) for r, g, b in _PALETTE)
        return struct.pack(">BxHH", 1, 0, len(_PALETTE)) + entries

    def _on_update_request(self, incremental: bool, area: _Rect) -> bytes:
        area = area.intersect(self._screen)
        if not incremental:
            if self._dirty is not None and area.contains(self._dirty):
                self._dirty = None
            return self._framebuffer_update(area)
        if area.empty:
            return b""
        self._pending = area.union(self._pending)
        if self._dirty is None or self._dirty.intersect(self._pending).empty:
            return b""
        return self._answer_pending()

    def _answer_pending(self) -> bytes:
        if self._pending is None or self._dirty is None:
            return b""
        area = self._pending.intersect(self._dirty)
        if area.empty:
            return b""
        if self._pending.contains(self._dirty):
            self._dirty = None
        self._pending = None
        return self._framebuffer_update(area)

    def _framebuffer_update(self, area: _Rect) -> bytes:
        if area.empty:
            return struct.pack(">BxH", 0, 0)
        header = struct.pack(">BxHHHHHi", 0, 1, area.x, area.y, area.w, area.h, ENCODING_RAW)
        return header + self._translator.convert(self._indices(area))

    def _indices(self, area: _Rect) -> bytes:
        if area.x == 0 and area.w == self.width:
            return self._fb[area.y * self.width : (area.y + area.h) * self.width]
        rows = (
            self._fb[row * self.width + area.x : row * self.width + area.x + area.w]
            for row in range(area.y, area.y + area.h)
        )
        return b"".join(rows)

    def _changed_rows(self, old: bytes, new: bytes) -> _Rect | None:
        """The full-width band of rows that differ between two screens."""
        w = self.width
        changed = [
            y for y in range(self.height) if old[y * w : y * w + w] != new[y * w : y * w + w]
        ]
        if not changed:
            return None
        return _Rect(0, changed[0], w, changed[-1] - changed[0] + 1)
