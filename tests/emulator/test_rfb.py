"""The emulator's RFB (VNC) console server, driven by a small hand-written RFB client."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from dataclasses import dataclass

import pytest

from smartdc.emulator.rfb import BACKGROUND, FOREGROUND, RfbServer, machine_lines

MACHINE_ID = "3f1c2b7e-5a4d-4c6b-9e8f-0a1b2c3d4e5f"
LINES = machine_lines(name="web-01", state="running", machine_id=MACHINE_ID)
STOPPED = machine_lines(name="web-01", state="stopped", machine_id=MACHINE_ID)

# The server's default format: 32 bpp, depth 24, little-endian, true colour, 8 bits a channel.
DEFAULT_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
RGB565_BE = struct.pack(">BBBBHHHBBB3x", 16, 16, 1, 1, 31, 63, 31, 11, 5, 0)
RGB565_LE = struct.pack(">BBBBHHHBBB3x", 16, 16, 0, 1, 31, 63, 31, 11, 5, 0)
BGR233 = struct.pack(">BBBBHHHBBB3x", 8, 8, 0, 1, 7, 7, 3, 0, 3, 6)
COLOUR_MAP_8 = struct.pack(">BBBBHHHBBB3x", 8, 8, 0, 0, 0, 0, 0, 0, 0, 0)


# --- client messages -----------------------------------------------------------------------


def set_pixel_format(fmt: bytes) -> bytes:
    return b"\x00\x00\x00\x00" + fmt


def set_encodings(*encodings: int) -> bytes:
    return struct.pack(f">BxH{len(encodings)}i", 2, len(encodings), *encodings)


def update_request(x: int, y: int, w: int, h: int, *, incremental: bool = False) -> bytes:
    return struct.pack(">BBHHHH", 3, int(incremental), x, y, w, h)


def key_event(key: int, down: bool) -> bytes:
    return struct.pack(">BBxxI", 4, int(down), key)


def pointer_event(mask: int, x: int, y: int) -> bytes:
    return struct.pack(">BBHH", 5, mask, x, y)


def cut_text(text: bytes) -> bytes:
    return struct.pack(">BxxxI", 6, len(text)) + text


# --- reading what the server sends ---------------------------------------------------------


@dataclass
class Rect:
    x: int
    y: int
    w: int
    h: int
    encoding: int
    pixels: bytes


def parse_server_init(data: bytes) -> tuple[int, int, bytes, str, bytes]:
    """(width, height, pixel format, name, rest)."""
    width, height = struct.unpack_from(">HH", data)
    fmt = data[4:20]
    (length,) = struct.unpack_from(">I", data, 20)
    name = data[24 : 24 + length].decode("utf-8")
    return width, height, fmt, name, data[24 + length :]


def parse_update(data: bytes, bytes_per_pixel: int) -> tuple[list[Rect], bytes]:
    """One FramebufferUpdate (Raw rectangles only) and what follows it."""
    kind, count = struct.unpack_from(">BxH", data)
    assert kind == 0
    offset = 4
    rects = []
    for _ in range(count):
        x, y, w, h, encoding = struct.unpack_from(">HHHHi", data, offset)
        offset += 12
        assert encoding == 0
        size = w * h * bytes_per_pixel
        assert len(data) >= offset + size, "truncated rectangle"
        rects.append(Rect(x, y, w, h, encoding, data[offset : offset + size]))
        offset += size
    return rects, data[offset:]


def connect(server: RfbServer, version: bytes = b"RFB 003.008\n") -> None:
    """Run the 3.8/3.7/3.3 handshake up to and including ServerInit."""
    assert server.initial_bytes() == b"RFB 003.008\n"
    reply = server.receive(version)
    if version != b"RFB 003.003\n":
        assert reply == b"\x01\x01"
        server.receive(b"\x01")
    reply = server.receive(b"\x01")
    assert reply[:4] == struct.pack(">HH", server.width, server.height)


def full_frame(server: RfbServer, bytes_per_pixel: int = 4) -> bytes:
    rects, rest = parse_update(
        server.receive(update_request(0, 0, server.width, server.height)), bytes_per_pixel
    )
    assert rest == b""
    assert [(r.x, r.y, r.w, r.h) for r in rects] == [(0, 0, server.width, server.height)]
    return rects[0].pixels


def pixel_at(frame: bytes, width: int, x: int, y: int, size: int = 4) -> bytes:
    offset = (y * width + x) * size
    return frame[offset : offset + size]


def bgrx(rgb: tuple[int, int, int]) -> bytes:
    """A colour in the default format (little-endian 0x00RRGGBB)."""
    return bytes([rgb[2], rgb[1], rgb[0], 0])


def text_box(frame: bytes, width: int, height: int) -> tuple[int, int, int, int]:
    """The bounding box (x0, y0, x1, y1, exclusive) of the non-background pixels."""
    background = bgrx(BACKGROUND)
    xs, ys = [], []
    for y in range(height):
        row = frame[y * width * 4 : (y + 1) * width * 4]
        if row == background * width:
            continue
        ys.append(y)
        for x in range(width):
            if row[x * 4 : x * 4 + 4] != background:
                xs.append(x)
    assert xs, "nothing is drawn"
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


# --- handshake -----------------------------------------------------------------------------


def test_handshake_3_8_and_server_init() -> None:
    server = RfbServer(name="wéb-01", lines=LINES)
    assert server.initial_bytes() == b"RFB 003.008\n"
    assert server.receive(b"RFB 003.008\n") == b"\x01\x01"  # one type: None
    assert server.receive(b"\x01") == b"\x00\x00\x00\x00"  # SecurityResult OK
    width, height, fmt, name, rest = parse_server_init(server.receive(b"\x00"))
    assert (width, height) == (800, 600)
    assert fmt == DEFAULT_FORMAT
    assert name == "wéb-01"  # the length counts UTF-8 bytes
    assert rest == b""
    assert server.version == (3, 8)
    assert server.shared is False
    assert not server.closed and server.error is None


def test_handshake_3_7_has_no_security_result_for_none() -> None:
    server = RfbServer(name="db", lines=LINES, width=640, height=400)
    reply = server.receive(b"RFB 003.007\n\x01\x01")
    assert reply[:2] == b"\x01\x01"
    width, height, fmt, name, rest = parse_server_init(reply[2:])
    assert (width, height, fmt, name, rest) == (640, 400, DEFAULT_FORMAT, "db", b"")
    assert server.version == (3, 7)
    assert server.shared is True


def test_handshake_3_3_server_picks_none() -> None:
    server = RfbServer(name="db", lines=LINES)
    assert server.receive(b"RFB 003.003\n") == struct.pack(">I", 1)
    width, height, _, name, rest = parse_server_init(server.receive(b"\x01"))
    assert (width, height, name, rest) == (800, 600, "db", b"")
    assert server.version == (3, 3)


@pytest.mark.parametrize(
    ("version", "reply", "negotiated"),
    [
        (b"RFB 003.889\n", b"\x00\x00\x00\x01", (3, 3)),  # Apple's, read as 3.3 (RFC 6143)
        (b"RFB 003.005\n", b"\x00\x00\x00\x01", (3, 3)),
        (b"RFB 003.009\n", b"\x00\x00\x00\x01", (3, 3)),
        (b"RFB 004.001\n", b"\x01\x01", (3, 8)),
    ],
)
def test_other_versions(version: bytes, reply: bytes, negotiated: tuple[int, int]) -> None:
    server = RfbServer(name="db", lines=LINES)
    assert server.receive(version) == reply
    assert server.version == negotiated


@pytest.mark.parametrize("version", [b"HTTP/1.1 200\n", b"RFB 3.8\nxxxx", b"RFB 002.000\n"])
def test_bad_version_closes(version: bytes) -> None:
    server = RfbServer(name="db", lines=LINES)
    assert server.receive(version) == b""
    assert server.closed
    assert server.error is not None
    assert server.receive(b"\x01\x01") == b""


def test_3_8_refused_security_type_sends_reason() -> None:
    server = RfbServer(name="db", lines=LINES)
    server.receive(b"RFB 003.008\n")
    reply = server.receive(b"\x02")  # VNC authentication, not offered
    status, length = struct.unpack_from(">II", reply)
    assert status == 1
    assert reply[8:].decode() == server.error
    assert length == len(reply) - 8
    assert "2" in reply[8:].decode()
    assert server.closed


def test_3_7_refused_security_type_just_closes() -> None:
    server = RfbServer(name="db", lines=LINES)
    server.receive(b"RFB 003.007\n")
    assert server.receive(b"\x10") == b""
    assert server.closed


# --- updates -------------------------------------------------------------------------------


def test_full_update_is_one_raw_rectangle() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    reply = server.receive(update_request(0, 0, 800, 600))
    assert len(reply) == 4 + 12 + 800 * 600 * 4
    assert reply[:16] == struct.pack(">BxHHHHHi", 0, 1, 0, 0, 800, 600, 0)
    frame = reply[16:]
    assert pixel_at(frame, 800, 0, 0) == bgrx(BACKGROUND)
    assert bgrx(FOREGROUND) in {pixel_at(frame, 800, x, y) for y in range(60) for x in range(200)}


def test_request_is_clipped_to_the_screen() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    rects, rest = parse_update(server.receive(update_request(700, 500, 500, 500)), 4)
    assert [(r.x, r.y, r.w, r.h) for r in rects] == [(700, 500, 100, 100)]
    assert rest == b""


def test_subrectangle_matches_the_full_frame() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    frame = full_frame(server)
    rects, _ = parse_update(server.receive(update_request(10, 20, 300, 50)), 4)
    expected = b"".join(frame[(y * 800 + 10) * 4 : (y * 800 + 310) * 4] for y in range(20, 70))
    assert rects[0].pixels == expected


def test_text_is_drawn_in_the_glyph_shape() -> None:
    server = RfbServer(name="db", lines=["A"], width=200, height=100)
    connect(server)
    frame = full_frame(server)
    x0, y0, x1, y1 = text_box(frame, 200, 100)
    scale = (x1 - x0) // 5
    assert scale >= 1
    assert (x1 - x0, y1 - y0) == (5 * scale, 7 * scale)
    drawn = [
        "".join(
            "#" if pixel_at(frame, 200, x0 + c * scale, y0 + r * scale) == bgrx(FOREGROUND) else "."
            for c in range(5)
        )
        for r in range(7)
    ]
    assert drawn == [".###.", "#...#", "#...#", "#...#", "#####", "#...#", "#...#"]


def test_blank_text_is_all_background() -> None:
    server = RfbServer(name="db", lines=["   "], width=64, height=32)
    connect(server)
    assert full_frame(server) == bgrx(BACKGROUND) * 64 * 32


def test_long_lines_are_shrunk_not_cut() -> None:
    server = RfbServer(name="db", lines=["H" * 40, "H"], width=640, height=400)
    connect(server)
    frame = full_frame(server)
    foreground = bgrx(FOREGROUND)
    counts = [0, 0]
    _, y0, _, y1 = text_box(frame, 640, 400)
    middle = (y0 + y1) // 2  # the blank gap between the two lines
    for y in range(y0, y1):
        row = frame[y * 640 * 4 : (y + 1) * 640 * 4]
        counts[y > middle] += sum(row[i : i + 4] == foreground for i in range(0, len(row), 4))
    assert counts[0] == 40 * counts[1] > 0


def test_first_incremental_request_gets_the_whole_screen() -> None:
    server = RfbServer(name="web-01", lines=LINES, width=320, height=200)
    connect(server)
    rects, _ = parse_update(server.receive(update_request(0, 0, 320, 200, incremental=True)), 4)
    assert [(r.x, r.y, r.w, r.h) for r in rects] == [(0, 0, 320, 200)]


def test_incremental_request_waits_for_update() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    full_frame(server)
    assert server.receive(update_request(0, 0, 800, 600, incremental=True)) == b""
    assert server.update(LINES) == b""  # same picture: still nothing to send
    reply = server.update(STOPPED)
    rects, rest = parse_update(reply, 4)
    assert rest == b"" and len(rects) == 1
    changed = rects[0]
    assert changed.w * changed.h < 800 * 600  # only what changed
    # The rectangle shows the new picture.
    now = full_frame(server)
    expected = b"".join(
        now[(y * 800 + changed.x) * 4 : (y * 800 + changed.x + changed.w) * 4]
        for y in range(changed.y, changed.y + changed.h)
    )
    assert changed.pixels == expected
    # Answered once: the next incremental request waits again.
    assert server.receive(update_request(0, 0, 800, 600, incremental=True)) == b""
    assert server.update(LINES) != b""


def test_change_before_the_request_is_sent_right_away() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    full_frame(server)
    assert server.update(STOPPED) == b""  # nobody is waiting
    rects, _ = parse_update(server.receive(update_request(0, 0, 800, 600, incremental=True)), 4)
    assert len(rects) == 1
    assert server.receive(update_request(0, 0, 800, 600, incremental=True)) == b""


def test_incremental_request_elsewhere_stays_pending() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    full_frame(server)
    # The bottom of the screen has no text, so a change of state does not touch it.
    assert server.receive(update_request(0, 560, 800, 40, incremental=True)) == b""
    assert server.update(STOPPED) == b""
    rects, _ = parse_update(server.receive(update_request(0, 0, 800, 600, incremental=True)), 4)
    assert len(rects) == 1 and rects[0].y < 560


def test_part_of_a_change_leaves_the_rest_to_send() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    full_frame(server)
    server.update(STOPPED)
    left, _ = parse_update(server.receive(update_request(0, 0, 100, 600, incremental=True)), 4)
    assert [(r.x, r.w) for r in left] == [(0, 100)]
    rest, _ = parse_update(server.receive(update_request(0, 0, 800, 600, incremental=True)), 4)
    assert len(rest) == 1 and rest[0].x + rest[0].w > 100


def test_update_during_handshake_is_shown_later() -> None:
    server = RfbServer(name="web-01", lines=LINES, width=320, height=200)
    server.receive(b"RFB 003.008\n")
    assert server.update(STOPPED) == b""
    server.receive(b"\x01\x01")
    stopped = full_frame(server)
    fresh = RfbServer(name="web-01", lines=STOPPED, width=320, height=200)
    connect(fresh)
    assert stopped == full_frame(fresh)


def test_full_update_is_fast() -> None:
    server = RfbServer(name="web-01", lines=LINES)
    connect(server)
    started = time.perf_counter()
    for _ in range(5):
        full_frame(server)
    assert (time.perf_counter() - started) / 5 < 0.25


# --- pixel formats -------------------------------------------------------------------------


def rgb565(value: int) -> tuple[int, int, int]:
    return (
        (value >> 11 & 31) * 255 // 31,
        (value >> 5 & 63) * 255 // 63,
        (value & 31) * 255 // 31,
    )


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 8) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def test_16_bpp_big_and_little_endian() -> None:
    server = RfbServer(name="db", lines=["A"], width=200, height=100)
    connect(server)
    assert server.receive(set_pixel_format(RGB565_BE)) == b""
    big = full_frame(server, 2)
    assert len(big) == 200 * 100 * 2
    assert close_to(rgb565(int.from_bytes(big[:2], "big")), BACKGROUND)
    values = {int.from_bytes(big[i : i + 2], "big") for i in range(0, len(big), 2)}
    assert len(values) == 2
    assert any(close_to(rgb565(v), FOREGROUND) for v in values)

    server.receive(set_pixel_format(RGB565_LE))
    little = full_frame(server, 2)
    assert little == bytes(b for i in range(0, len(big), 2) for b in (big[i + 1], big[i]))


def test_8_bpp_true_colour() -> None:
    server = RfbServer(name="db", lines=["A"], width=200, height=100)
    connect(server)
    server.receive(set_pixel_format(BGR233))
    frame = full_frame(server, 1)
    assert len(frame) == 200 * 100

    def bgr233(value: int) -> tuple[int, int, int]:
        return ((value & 7) * 255 // 7, (value >> 3 & 7) * 255 // 7, (value >> 6) * 255 // 3)

    assert close_to(bgr233(frame[0]), BACKGROUND, slack=43)
    assert len(set(frame)) == 2
    assert any(close_to(bgr233(v), FOREGROUND, slack=43) for v in set(frame))


def test_colour_map_mode_sends_the_map() -> None:
    server = RfbServer(name="db", lines=["A"], width=200, height=100)
    connect(server)
    reply = server.receive(set_pixel_format(COLOUR_MAP_8))
    kind, first, count = struct.unpack_from(">BxHH", reply)
    assert (kind, first, count) == (1, 0, 2)
    colours = [struct.unpack_from(">HHH", reply, 6 + 6 * i) for i in range(count)]
    assert [tuple(c >> 8 for c in colour) for colour in colours] == [BACKGROUND, FOREGROUND]
    assert len(reply) == 6 + 6 * count
    frame = full_frame(server, 1)
    assert set(frame) == {0, 1}
    assert frame[0] == 0


def test_pixel_format_change_redraws_on_incremental_request() -> None:
    server = RfbServer(name="db", lines=LINES, width=320, height=200)
    connect(server)
    full_frame(server)
    server.receive(set_pixel_format(RGB565_BE))
    rects, _ = parse_update(server.receive(update_request(0, 0, 320, 200, incremental=True)), 2)
    assert [(r.x, r.y, r.w, r.h) for r in rects] == [(0, 0, 320, 200)]


def test_unsupported_bits_per_pixel_closes() -> None:
    server = RfbServer(name="db", lines=LINES)
    connect(server)
    fmt = struct.pack(">BBBBHHHBBB3x", 24, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    server.receive(set_pixel_format(fmt))
    assert server.closed
    assert server.error is not None and "24" in server.error


# --- input framing -------------------------------------------------------------------------

SCRIPT = (
    b"RFB 003.008\n"
    + b"\x01"
    + b"\x01"
    + set_encodings(0, 1, -223, 16)
    + key_event(0xFF0D, True)
    + key_event(0xFF0D, False)
    + pointer_event(1, 100, 200)
    # A payload that would be read as an unknown message type if it were not skipped.
    + cut_text(b"\xff\x03\x00clipboard text")
    + set_pixel_format(RGB565_BE)
    + update_request(5, 6, 30, 20)
)


def test_split_and_combined_input_give_the_same_reply() -> None:
    whole = RfbServer(name="db", lines=LINES)
    at_once = whole.receive(SCRIPT)
    assert not whole.closed
    assert whole.encodings == (0, 1, -223, 16)

    byte_by_byte = RfbServer(name="db", lines=LINES)
    assert b"".join(byte_by_byte.receive(SCRIPT[i : i + 1]) for i in range(len(SCRIPT))) == at_once

    rng = random.Random(6143)
    for _ in range(20):
        chunked = RfbServer(name="db", lines=LINES)
        cuts = sorted(rng.sample(range(1, len(SCRIPT)), 8))
        pieces = [SCRIPT[a:b] for a, b in zip([0, *cuts], [*cuts, len(SCRIPT)], strict=True)]
        assert b"".join(chunked.receive(piece) for piece in pieces) == at_once

    assert at_once[:6] == b"\x01\x01\x00\x00\x00\x00"
    _, _, _, _, rest = parse_server_init(at_once[6:])
    rects, rest = parse_update(rest, 2)
    assert [(r.x, r.y, r.w, r.h) for r in rects] == [(5, 6, 30, 20)]
    assert rest == b""


def test_long_clipboard_text_split_across_chunks() -> None:
    server = RfbServer(name="db", lines=LINES)
    connect(server)
    message = cut_text(b"\x03" * 100_000) + update_request(0, 0, 8, 8)
    replies = [server.receive(message[i : i + 4096]) for i in range(0, len(message), 4096)]
    assert not server.closed
    rects, rest = parse_update(b"".join(replies), 4)
    assert [(r.w, r.h) for r in rects] == [(8, 8)] and rest == b""


def test_several_requests_in_one_chunk_get_several_updates() -> None:
    server = RfbServer(name="db", lines=LINES)
    connect(server)
    reply = server.receive(update_request(0, 0, 4, 4) + update_request(4, 4, 2, 2))
    first, rest = parse_update(reply, 4)
    second, rest = parse_update(rest, 4)
    assert [(r.x, r.w) for r in first + second] == [(0, 4), (4, 2)] and rest == b""


def test_unknown_message_type_closes() -> None:
    server = RfbServer(name="db", lines=LINES)
    connect(server)
    assert server.receive(b"\x09\x00\x00\x00") == b""
    assert server.closed
    assert server.error == "unknown client message type 9"
    assert server.receive(update_request(0, 0, 8, 8)) == b""
    assert server.update(STOPPED) == b""


# --- over TCP ------------------------------------------------------------------------------


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def test_tcp_session_end_to_end() -> None:
    async def main() -> None:
        sessions: list[tuple[RfbServer, asyncio.StreamWriter]] = []
        loop = asyncio.get_running_loop()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            rfb = RfbServer(name="web-01", lines=LINES)
            sessions.append((rfb, writer))
            writer.write(rfb.initial_bytes())
            while not rfb.closed:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(rfb.receive(data))
                await writer.drain()
            writer.close()

        def push_update() -> None:
            rfb, writer = sessions[0]
            writer.write(rfb.update(STOPPED))

        def client(port: int) -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                assert recv_exact(sock, 12) == b"RFB 003.008\n"
                sock.sendall(b"RFB 003.008\n")
                assert recv_exact(sock, 2) == b"\x01\x01"
                sock.sendall(b"\x01")
                assert recv_exact(sock, 4) == b"\x00\x00\x00\x00"
                sock.sendall(b"\x01")
                init = recv_exact(sock, 24)
                assert init[:4] == struct.pack(">HH", 800, 600)
                assert recv_exact(sock, struct.unpack_from(">I", init, 20)[0]) == b"web-01"
                sock.sendall(set_encodings(0) + update_request(0, 0, 800, 600))
                header = recv_exact(sock, 16)
                assert header == struct.pack(">BxHHHHHi", 0, 1, 0, 0, 800, 600, 0)
                recv_exact(sock, 800 * 600 * 4)
                sock.sendall(update_request(0, 0, 800, 600, incremental=True))
                loop.call_soon_threadsafe(push_update)
                w, h, encoding = struct.unpack(">8xHHi", recv_exact(sock, 16))
                assert encoding == 0 and 0 < w * h < 800 * 600
                recv_exact(sock, w * h * 4)
                sock.sendall(b"\xfe")  # not an RFB message: the server hangs up
                sock.settimeout(5)
                assert sock.recv(1) == b""

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            await asyncio.wait_for(asyncio.to_thread(client, port), 30)
        assert sessions[0][0].error == "unknown client message type 254"

    asyncio.run(main())
