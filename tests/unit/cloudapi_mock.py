"""A recording ``httpx.MockTransport`` and a CloudAPI client wired to it, for unit tests."""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from smartdc import AsyncCloudAPI, CloudAPI
from smartdc.auth.signers import Signer, make_signer

if TYPE_CHECKING:
    from tests.conftest import TestKey

URL = "https://cloudapi.test"
ACCOUNT = "test"

Handler = Callable[[httpx.Request], httpx.Response]


def reply(
    status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A response with a JSON body (none when ``body`` is ``None``; raw when it is bytes)."""
    all_headers = {"request-id": "req-1", **(headers or {})}
    if body is None:
        return httpx.Response(status, headers=all_headers)
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=all_headers)
    return httpx.Response(status, json=body, headers=all_headers)


@dataclass
class Recorder:
    """Records every request and answers from a queue of responses (or exceptions).

    When the queue is empty, ``fallback`` answers (200 ``{}`` by default).
    """

    fallback: Handler = field(default=lambda request: reply(200, {}))
    requests: list[httpx.Request] = field(default_factory=list)
    queue: deque[httpx.Response | Exception] = field(default_factory=deque)

    def add(self, *answers: httpx.Response | Exception) -> Recorder:
        self.queue.extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.queue:
            return self.fallback(request)
        answer = self.queue.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    """The query string as ordered (name, value) pairs."""
    return list(request.url.params.multi_items())


def body_of(request: httpx.Request) -> Any:
    """The decoded JSON body, or ``None`` when the request had none."""
    return json.loads(request.content) if request.content else None


@functools.cache
def sha256_of(key: TestKey) -> str:
    return key.sha256


@functools.cache
def signer_for(key: TestKey) -> Signer:
    """One loaded signer per test key (loading RSA keys is slow enough to matter)."""
    return make_signer(None, key_file=key.path, passphrase=key.passphrase)


def _settings(key: TestKey, options: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {"key_id": sha256_of(key), "allow_agent": False}
    if "key_file" in options:
        settings["passphrase"] = key.passphrase
    elif "signer" not in options:
        settings["signer"] = signer_for(key)
    settings.update(options)
    return settings


def make_async_api(key: TestKey, recorder: Recorder, **options: Any) -> AsyncCloudAPI:
    """:func:`make_api`'s twin: an :class:`AsyncCloudAPI` over the same recording transport."""
    url = options.pop("url", URL)
    options.setdefault("transport", httpx.MockTransport(recorder))
    return AsyncCloudAPI(url, ACCOUNT, **_settings(key, options))


def make_api(key: TestKey, recorder: Recorder, **options: Any) -> CloudAPI:
    """A client for account ``test`` signing with ``key``, named by its SHA256 fingerprint.

    Unless ``key_file`` or ``signer`` is among ``options``, an already loaded signer is used.
    """
    url = options.pop("url", URL)
    options.setdefault("transport", httpx.MockTransport(recorder))
    return CloudAPI(url, ACCOUNT, **_settings(key, options))
