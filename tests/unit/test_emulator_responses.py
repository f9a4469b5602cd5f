"""The emulator's response helpers: content negotiation and request ids."""

from __future__ import annotations

import uuid

import pytest

from smartdc.emulator.responses import negotiate_media_type, request_id_for


@pytest.mark.parametrize(
    "accept, chosen",
    [
        (None, "application/json"),
        ("", "application/json"),
        ("application/json", "application/json"),
        ("application/json, */*", "application/json"),
        ("text/plain", "text/plain"),
        ("text/*;q=0.9, application/octet-stream", "application/octet-stream"),
        ("*/*;q=0.1, text/plain;q=0.5", "text/plain"),
        ("image/png", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiation_is_the_same_on_every_ask(accept: str | None, chosen: str | None) -> None:
    assert [negotiate_media_type(accept) for _ in range(3)] == [chosen] * 3


def test_a_fresh_request_id_is_a_random_version_4_uuid() -> None:
    made = [request_id_for({}) for _ in range(2000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    variants = {text[19] for text in made}
    assert variants == set("89ab")


def test_the_clients_request_id_is_kept() -> None:
    assert request_id_for({"request-id": "abc"}) == "abc"
    assert request_id_for({"x-request-id": "def"}) == "def"
