"""Benchmarks 7-10: the client's cost per call, waits, and listing memory.

7. **Async GetMachine, 64 in flight**: ``AsyncCloudAPI.get_machine`` under ``asyncio.gather``
   (a semaphore keeps 64 calls in flight) against node-triton's library client with 64
   callbacks in flight (``js/get_machine_concurrent.js``), Ed25519 key, same emulator. Two
   cases: client CPU per call (this process's CPU over the round / calls; the emulator runs
   in its own process) and wall time per call (1 / throughput).
8. **Sequential GetMachine against raw pre-signed httpx**: ``CloudAPI.get_machine`` against
   ``httpx.Client.get`` with headers signed once before the round: the floor a client
   that did nothing but send bytes would reach over httpx.
9. **Wait latency after a state change**: from the moment the machine becomes running (the
   instant a separate changefeed listener in this process hears it) to the moment the
   wait returns: ``Machine.poll_until("running")`` following the changefeed, the same wait
   polling every 2 s (``changefeed_waits = False``), and ``triton instance create -w``
   (its process exit; it polls every second).
10. **Listing memory**: peak traced memory (``tracemalloc``) while iterating a 6,000-machine
   listing with ``iter_machines()``, against the peak of fetching one 1,000-machine page.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import peers
from emulator_host import SeededEmulator
from getmachine import smartdc_round
from measure import Samples
from report import Row
from sshkeys import KeyFile

from smartdc import AsyncCloudAPI, CloudAPI, DataCenter
from smartdc.auth.signers import RequestSigner

ASYNC_BENCHMARK = "7. GetMachine, 64 in flight"
SEQUENTIAL_BENCHMARK = "8. sequential GetMachine vs pre-signed httpx"
WAIT_BENCHMARK = "9. wait latency after a state change"
MEMORY_BENCHMARK = "10. listing memory"
INFLIGHT = 64


# --- 7. async ---------------------------------------------------------------------------------


async def _async_rounds(
    emulator: SeededEmulator, key: KeyFile, calls: int, rounds: int
) -> tuple[list[float], list[float]]:
    ids = emulator.machine_ids
    cpu: list[float] = []
    wall: list[float] = []
    async with AsyncCloudAPI(
        emulator.url, emulator.account, key_id=key.md5, key_file=key.path, allow_agent=False
    ) as api:
        slots = asyncio.Semaphore(INFLIGHT)

        async def one(n: int) -> None:
            async with slots:
                wanted = ids[n % len(ids)]
                machine = await api.get_machine(wanted)
                if machine["id"] != wanted:
                    raise RuntimeError(f"asked for machine {wanted}, got {machine['id']}")

        await asyncio.gather(*(one(n) for n in range(INFLIGHT * 2)))  # warm: open the pool
        for _ in range(rounds):
            cpu_begin, wall_begin = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(calls)))
            cpu.append((time.process_time() - cpu_begin) / calls)
            wall.append((time.perf_counter() - wall_begin) / calls)
    return cpu, wall


def run_async(
    emulator: SeededEmulator,
    key: KeyFile,
    home: Path,
    env: Mapping[str, str],
    calls: int,
    rounds: int,
) -> list[Row]:
    """Benchmark 7: rows for CPU and for wall time per call, both sides."""
    ours_cpu: list[float] = []
    ours_wall: list[float] = []
    theirs_cpu: list[float] = []
    theirs_wall: list[float] = []
    with peers.Session("get_machine_concurrent.js", env) as node:
        node.ask(
            {
                "url": emulator.url,
                "account": emulator.account,
                "keyId": key.md5,
                "configDir": str(home / ".triton"),
                "ids": emulator.machine_ids,
                "inflight": INFLIGHT,
                "calls": calls,
            }
        )
        for _ in range(rounds):  # alternate sides, one round each
            cpu, wall = asyncio.run(_async_rounds(emulator, key, calls, 1))
            ours_cpu += cpu
            ours_wall += wall
            answer = node.ask("round")
            theirs_cpu.append(float(answer["cpu"]) / int(answer["calls"]))
            theirs_wall.append(float(answer["wall"]) / int(answer["calls"]))
    ours = "smartdc AsyncCloudAPI.get_machine"
    theirs = "node-triton cloudapi.getMachine"
    return [
        Row(ASYNC_BENCHMARK, "client CPU per call", ours, Samples.of(ours_cpu), "call"),
        Row(
            ASYNC_BENCHMARK,
            "client CPU per call",
            theirs,
            Samples.of(theirs_cpu),
            "call",
            peer=True,
        ),
        Row(ASYNC_BENCHMARK, "wall per call (1/throughput)", ours, Samples.of(ours_wall), "call"),
        Row(
            ASYNC_BENCHMARK,
            "wall per call (1/throughput)",
            theirs,
            Samples.of(theirs_wall),
            "call",
            peer=True,
        ),
    ]


# --- 8. sequential against pre-signed httpx ----------------------------------------------------


def run_sequential(emulator: SeededEmulator, key: KeyFile, calls: int, rounds: int) -> list[Row]:
    """Benchmark 8: per-call times of CloudAPI and of raw pre-signed httpx, alternating."""
    ids = emulator.machine_ids[:calls]
    ours: list[float] = []
    raw: list[float] = []
    with (
        CloudAPI(
            emulator.url, emulator.account, key_id=key.md5, key_file=key.path, allow_agent=False
        ) as api,
        httpx.Client(base_url=emulator.url) as client,
    ):
        signer = RequestSigner(api.signer, api.key_id)
        signed = {
            machine_id: {
                "Accept": "application/json",
                "Accept-Version": "~9||~8",
                **signer.headers_for("GET", f"/{emulator.account}/machines/{machine_id}"),
            }
            for machine_id in ids
        }
        for machine_id in ids[:10]:
            api.get_machine(machine_id)
            client.get(f"/{emulator.account}/machines/{machine_id}", headers=signed[machine_id])
        for _ in range(rounds):
            ours.extend(smartdc_round(api, ids))
            for machine_id in ids:
                begin = time.perf_counter()
                answer = client.get(
                    f"/{emulator.account}/machines/{machine_id}", headers=signed[machine_id]
                )
                answer.raise_for_status()
                found = answer.json()["id"]
                raw.append(time.perf_counter() - begin)
                if found != machine_id:
                    raise RuntimeError(f"asked for machine {machine_id}, got {found}")
    case = f"{rounds} rounds x {len(ids)} calls"
    return [
        Row(SEQUENTIAL_BENCHMARK, case, "smartdc CloudAPI.get_machine", Samples.of(ours), "call"),
        Row(
            SEQUENTIAL_BENCHMARK,
            case,
            "httpx.Client.get, pre-signed",
            Samples.of(raw),
            "call",
            peer=True,
        ),
    ]


# --- 9. wait latency ---------------------------------------------------------------------------


class RunningWatcher:
    """Notes when each machine is first seen ``running`` on the changefeed."""

    def __init__(self, api: CloudAPI) -> None:
        self.seen: dict[str, float] = {}
        self._feed = api.changefeed(["state"])
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        for change in self._feed:
            if change.get("resourceState") == "running":
                self.seen.setdefault(str(change["changedResourceId"]), time.monotonic())

    def when(self, machine_id: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while machine_id not in self.seen:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the changefeed never said {machine_id} was running")
            time.sleep(0.005)
        return self.seen[machine_id]

    def close(self) -> None:
        self._feed.close()


def _emulator_with_delay(key: KeyFile, delay: float) -> tuple[subprocess.Popen[str], str]:
    command = [
        str(Path(peers.REPO) / ".venv" / "bin" / "smartdc-emulator"),
        "--port",
        "0",
        "--account",
        "bench",
        "--key",
        str(key.pub_path),
        "--provision-delay",
        str(delay),
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "http://" in line:
            url = line[line.index("http://") :].split()[0].rstrip("/,")
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep it drained
            return proc, url
    proc.kill()
    raise RuntimeError("smartdc-emulator did not say where it serves")


def run_waits(key: KeyFile, home: Path, env: Mapping[str, str], reps: int) -> list[Row]:
    """Benchmark 9: latency of each kind of wait after the machine became running."""
    delay = 1.0
    proc, url = _emulator_with_delay(key, delay)
    feed_side: list[float] = []
    poll_side: list[float] = []
    triton_side: list[float] = []
    try:
        with DataCenter(location=url, key_id=key.md5, login="bench", secret=key.path) as dc:
            image = next(i for i in dc.api.list_images() if i["name"] == "base-64-lts")["id"]
            package = "g4-highcpu-128M"
            watcher = RunningWatcher(dc.api)
            try:
                for _ in range(reps):
                    for follow, samples in ((True, feed_side), (False, poll_side)):
                        dc.api.changefeed_waits = follow
                        machine = dc.create_machine(image=image, package=package)
                        machine.poll_until("running", timeout=60)
                        returned = time.monotonic()
                        samples.append(returned - watcher.when(machine.id))
                        machine.delete()
                    triton_side.append(_triton_create_wait(url, env, watcher, image, package))
            finally:
                watcher.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    case = f"{reps} machines per side, {delay:g} s provisions"
    return [
        Row(WAIT_BENCHMARK, case, "smartdc poll_until, changefeed", Samples.of(feed_side), "wait"),
        Row(WAIT_BENCHMARK, case, "smartdc poll_until, 2 s polls", Samples.of(poll_side), "wait"),
        Row(
            WAIT_BENCHMARK,
            case,
            "node: triton instance create -w",
            Samples.of(triton_side),
            "wait",
            peer=True,
        ),
    ]


def _triton_create_wait(
    url: str, env: Mapping[str, str], watcher: RunningWatcher, image: str, package: str
) -> float:
    command = [str(peers.TRITON), "-U", url, "instance", "create", "-w", "-j", image, package]
    proc = subprocess.run(
        command, env=dict(env), capture_output=True, text=True, check=False, timeout=120
    )
    returned = time.monotonic()
    if proc.returncode != 0:
        raise RuntimeError(f"triton instance create -w failed: {proc.stderr.strip()}")
    created = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    machine_id = str(created[-1]["id"])
    return returned - watcher.when(machine_id)


# --- 10. listing memory --------------------------------------------------------------------------


def _peak(action: Any) -> float:
    tracemalloc.start()
    try:
        action()
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def run_memory(emulator: SeededEmulator, key: KeyFile, reps: int) -> dict[str, float]:
    """Benchmark 10: median peak bytes of iterating the whole listing and of one page."""
    expected = len(emulator.machine_ids)
    whole: list[float] = []
    page: list[float] = []
    with CloudAPI(
        emulator.url, emulator.account, key_id=key.md5, key_file=key.path, allow_agent=False
    ) as api:

        def iterate() -> None:
            seen = sum(1 for _ in api.iter_machines())
            if seen != expected:
                raise RuntimeError(f"iter_machines gave {seen} machines, not {expected}")

        def one_page() -> None:
            if len(api.list_machines(limit=1000)) != min(1000, expected):
                raise RuntimeError("one page did not hold 1,000 machines")

        for _ in range(reps):
            whole.append(_peak(iterate))
            page.append(_peak(one_page))
    whole_median = Samples.of(whole).median
    page_median = Samples.of(page).median
    return {
        "machines": expected,
        "listing_peak_bytes": whole_median,
        "page_peak_bytes": page_median,
        "ratio": whole_median / page_median,
    }
