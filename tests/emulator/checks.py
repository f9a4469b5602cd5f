"""Assertions on emulator responses shared by the HTTP tests."""

from __future__ import annotations

import httpx


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """``(status, code, message)`` of a CloudAPI error response."""
    body = response.json()
    return response.status_code, body["code"], body["message"]


def assert_reduced_headers(response: httpx.Response) -> None:
    """Early errors carry no CloudAPI headers."""
    for name in (
        "server",
        "request-id",
        "api-version",
        "response-time",
        "access-control-allow-origin",
    ):
        assert name not in response.headers, name
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


def assert_early_error(response: httpx.Response, expected: tuple[int, str, str]) -> None:
    """The response is this error, sent before CloudAPI adds its headers."""
    assert error_of(response) == expected
    assert_reduced_headers(response)
