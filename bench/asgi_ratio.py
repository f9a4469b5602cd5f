"""Benchmark 6: the emulator's signed GetMachine against a bare ASGI app on the same uvicorn.

Both servers run in the benchmark emulator's process (``emulator_host.py``), uvicorn set up
alike (:func:`smartdc.emulator.server.uvicorn_config`); the bare app answers every request
with the JSON of the same machine and does nothing else. The client is this process:
``--asgi-connections`` keep-alive connections (asyncio streams), each sending one request
after the other, the request bytes built once. The emulator's request is a real signed
GetMachine (RSA 2048, signed once over ``(request-target) date`` and sent again and again,
which CloudAPI accepts for as long as the Date is within the clock skew), so every request
still goes through the signature check, the key look-up, the store and the rendering.

Rounds of ``--asgi-seconds`` alternate between the two sides; a sample is one round's
time divided by the requests answered in it. Every response must be 200 and name the
machine asked for.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from emulator_host import SeededEmulator
from measure import Samples
from report import Row
from sshkeys import KeyFile

from smartdc.auth import PrivateKeySigner, RequestSigner, load_private_key

BENCHMARK = "6. GetMachine vs a bare ASGI app, same uvicorn"
EMULATOR_SIDE = "emulator signed GetMachine"
BARE_SIDE = "bare ASGI app (peer)"


def _request_bytes(url: str, target: str, headers: dict[str, str]) -> bytes:
    netloc = urlsplit(url).netloc
    lines = [f"GET {target} HTTP/1.1", f"Host: {netloc}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _one_connection(
    url: str, request: bytes, expect: bytes, stop_at: float, counts: list[int]
) -> None:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if status != b"200" or expect not in body:
                raise RuntimeError(f"{url}: answered {status!r} {body[:200]!r}")
            counts[0] += 1
    finally:
        writer.close()


async def _round(url: str, request: bytes, expect: bytes, seconds: float, clients: int) -> float:
    counts = [0]
    began = time.perf_counter()
    stop_at = began + seconds
    await asyncio.gather(
        *(_one_connection(url, request, expect, stop_at, counts) for _ in range(clients))
    )
    elapsed = time.perf_counter() - began
    if not counts[0]:
        raise RuntimeError(f"{url}: no request was answered in {seconds} s")
    return elapsed / counts[0]


def run(
    emulator: SeededEmulator, key: KeyFile, connections: int, seconds: float, rounds: int
) -> list[Row]:
    """Both rows; the bare app is the peer, so 'vs peer' is the emulator's share of its rate."""
    machine_id = emulator.machine_ids[0]
    target = f"/{emulator.account}/machines/{machine_id}"
    key_id = f"/{emulator.account}/keys/{key.md5}"
    signer = RequestSigner(PrivateKeySigner(load_private_key(key.path)), key_id)
    signed = _request_bytes(emulator.url, target, dict(signer.headers_for("GET", target)))
    bare = _request_bytes(emulator.bare_url, target, {})
    expect = machine_id.encode()
    ours: list[float] = []
    theirs: list[float] = []

    async def measure() -> None:
        await _round(emulator.url, signed, expect, 0.5, connections)  # warm-up
        await _round(emulator.bare_url, bare, expect, 0.5, connections)
        for _ in range(rounds):
            ours.append(await _round(emulator.url, signed, expect, seconds, connections))
            theirs.append(await _round(emulator.bare_url, bare, expect, seconds, connections))

    asyncio.run(measure())
    case = f"{connections} connections, {rounds} x {seconds:g} s"
    return [
        Row(BENCHMARK, case, EMULATOR_SIDE, Samples.of(ours), "request"),
        Row(BENCHMARK, case, BARE_SIDE, Samples.of(theirs), "request", peer=True),
    ]
