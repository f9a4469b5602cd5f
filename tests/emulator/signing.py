"""A small signed HTTP client for emulator tests, with knobs to break the signature on purpose."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from smartdc.auth.httpsig import build_authorization, format_http_date, signing_string
from smartdc.auth.keys import (
    load_private_key,
    md5_fingerprint,
    sign_bytes,
    signature_algorithm,
)
from tests.conftest import ACCOUNT, TestKey


@dataclass
class Signer:
    """Signs requests as ``login`` with a test key (``(request-target) date`` by default)."""

    key: TestKey
    login: str = ACCOUNT
    headers: Sequence[str] = ("(request-target)", "date")
    algorithm: str | None = None
    key_id: str | None = None
    _private: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._private = load_private_key(self.key.path, self.key.passphrase)

    @property
    def fingerprint(self) -> str:
        return md5_fingerprint(self._private)

    def sign(self, method: str, target: str, values: Mapping[str, str]) -> str:
        """The Authorization value for a request with these header ``values``."""
        algorithm = self.algorithm or signature_algorithm(self._private)
        text = signing_string(self.headers, method, target, values)
        signature = sign_bytes(self._private, algorithm, text.encode())
        key_id = self.key_id or f"/{self.login}/keys/{self.fingerprint}"
        return build_authorization(key_id, algorithm, signature, self.headers)


def signed_headers(
    signer: Signer,
    method: str,
    target: str,
    *,
    date: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``Date`` and ``Authorization`` (plus ``extra``) for one request."""
    values = {"date": date or format_http_date()}
    values.update({k.lower(): v for k, v in (extra or {}).items()})
    headers = {"Date": values["date"], **(extra or {})}
    headers["Authorization"] = signer.sign(method, target, values)
    return headers


class SignedClient:
    """An httpx client that signs every request it sends with ``signer``."""

    def __init__(self, base_url: str, signer: Signer, version: str | None = "~9||~8") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.signer = signer
        self.version = version

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        date: str | None = None,
    ) -> httpx.Response:
        request = self.http.build_request(
            method, path, params=params, json=json, content=content, headers=headers
        )
        target = request.url.raw_path.decode("ascii")
        if self.version is not None and "accept-version" not in request.headers:
            request.headers["Accept-Version"] = self.version
        request.headers.update(signed_headers(self.signer, method, target, date=date))
        return self.http.send(request)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.http.close()
