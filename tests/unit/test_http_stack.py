"""The emulator's server stack helpers: header names that keep their case, the loop runner."""

from __future__ import annotations

import asyncio

from smartdc.emulator.http_stack import CasedHeaderName, run_event_loop, wire_headers


def test_a_framing_name_keeps_its_case_and_compares_as_its_lowercase() -> None:
    written = CasedHeaderName(b"Content-Length").lower()
    assert bytes(written) == b"Content-Length"  # what reaches the wire
    assert written == b"content-length"
    assert written != b"content-type"
    assert written in {b"content-length"}


def test_other_names_keep_their_case_and_compare_as_written() -> None:
    written = CasedHeaderName(b"Request-Id").lower()
    assert type(written) is bytes
    assert written == b"Request-Id"
    assert written != b"request-id"


def test_wire_headers_keep_names_and_values() -> None:
    encoded = wire_headers([(b"Request-Id", b"abc"), (b"Content-Type", b"application/json")])
    assert [(k.lower(), v) for k, v in encoded] == [
        (b"Request-Id", b"abc"),
        (b"Content-Type", b"application/json"),
    ]


def test_run_event_loop_returns_the_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run_event_loop(answer()) == 42
