"""SSH wire-format encoding (RFC 4251 §5): the fields keys, signatures and ssh-agent use."""

from __future__ import annotations

import struct


class SSHReader:
    """Reads SSH wire-format fields from a byte string; ``ValueError`` when data runs out."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def byte(self) -> int:
        return self._take(1)[0]

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self._take(4))[0]
        return value

    def string(self) -> bytes:
        return self._take(self.uint32())

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def at_end(self) -> bool:
        return self._pos >= len(self._data)

    def _take(self, count: int) -> bytes:
        end = self._pos + count
        if end > len(self._data):
            raise ValueError("truncated SSH data")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk


def ssh_string(value: bytes) -> bytes:
    """``value`` prefixed with its length as a big-endian uint32."""
    return struct.pack(">I", len(value)) + value


def ssh_mpint(value: int) -> bytes:
    """An SSH ``mpint``: two's complement, big-endian, minimal (RFC 4251 section 5)."""
    if value == 0:
        return ssh_string(b"")
    length = (value.bit_length() + 8) // 8  # room for the sign bit
    return ssh_string(value.to_bytes(length, "big", signed=True))


def ssh_uint32(value: int) -> bytes:
    """A big-endian uint32."""
    return struct.pack(">I", value)
