"""An ``httpx.Auth`` that signs every request with HTTP Signature authentication."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from smartdc.auth.signers import RequestSigner


class HTTPSignatureAuth(httpx.Auth):
    """Sets fresh ``Date`` and ``Authorization`` headers on each request (retries included).

    The signed target is the request's path and query exactly as they go on the wire.
    """

    def __init__(self, request_signer: RequestSigner) -> None:
        self.request_signer = request_signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(
            self.request_signer.headers_for(request.method, target, extra=request.headers)
        )
        yield request

    def __repr__(self) -> str:
        return f"HTTPSignatureAuth({self.request_signer!r})"
