"""Assertions on emulator responses shared by the HTTP tests."""

from __future__ import annotations

import httpx


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """``(status, code, message)`` of a CloudAPI error response."""
    body = response.json()
    return response.status_code, body["code"], body["message"]


def assert_reduced_headers(response: httpx.Response) -> None:
    """Early errors carry no CORS headers, but can be traced like every response."""
    for name in ("access-control-allow-origin", "access-control-allow-methods", "content-md5"):
        assert name not in response.headers, name
    assert response.headers["server"] == "cloudapi/9.20.0"
    assert response.headers["api-version"] == "9.0.0"
    assert response.headers["request-id"]
    assert int(response.headers["response-time"]) >= 0
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


def assert_early_error(response: httpx.Response, expected: tuple[int, str, str]) -> None:
    """The response is this error, sent before CloudAPI adds its headers."""
    assert error_of(response) == expected
    assert_reduced_headers(response)
