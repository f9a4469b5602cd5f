"""Benchmark 5: many concurrent clients, mixed reads and writes, for a fixed time.

Each client is an asyncio task with its own :class:`smartdc.AsyncCloudAPI` (its own
keep-alive connection, signing with an Ed25519 key) and no retries, so every failure shows;
all the clients run in one event loop, in one process. Not threads: 50 threads of one
process queue for the GIL, and that wait, the load generator's own, would count as the
server's latency. Each client repeatedly picks an operation at random (seeded per client):
reads (GetAccount, GetMachine, ListMachines, ListPackages, ListFirewallRules) and writes
(CreateMachine, AddMachineTags, CreateFirewallRule, CreateUser). Every write answered 2xx is
remembered; when time is up, everything written is looked for (machines and rules listed,
tags read, users listed) and anything missing is a lost write.
``tests/emulator/test_load.py`` runs this for a few seconds and wants no failed request and
no lost write; ``bench/run.py --only load`` runs it longer and prints the request rate and
the latency percentiles, overall and for each operation.

With ``rate`` (requests a second, all clients together) the clients are paced instead: each
starts its requests on a fixed schedule (``clients / rate`` seconds apart, from a random
offset), and a request's latency counts from when it was due, so a server that falls
behind shows it (no coordinated omission). The closed loop measures how much the server can
take; the paced run how quickly it answers at a load it can take.

    python bench/load.py --clients 50 --seconds 20 [--rate 250]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartdc import AsyncCloudAPI, CloudAPI
from smartdc.emulator.heap import freeze_heap
from smartdc.transport import RetryPolicy

IMAGE_NAME = "base-64-lts"
PACKAGE_NAME = "g4-highcpu-128M"
#: Operation weights: mostly reads, as a dashboard and a deploy tool together would send.
WEIGHTS = {
    "GetAccount": 3,
    "GetMachine": 5,
    "ListMachines": 1,
    "ListPackages": 2,
    "ListFirewallRules": 2,
    "CreateMachine": 2,
    "AddMachineTags": 3,
    "CreateFirewallRule": 2,
    "CreateUser": 1,
}
#: How long tag writes (machine jobs) may take to land after the run.
SETTLE_SECONDS = 15.0


def _percentile(values: list[float], p: int) -> float:
    """The ``p``-th percentile of ``values`` (1 <= p <= 99); 0 for none."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass
class Written:
    """Everything the clients were told was written."""

    machines: list[str] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """What one load run did: requests, failures, latencies (seconds) and lost writes."""

    clients: int
    seconds: float
    latencies: list[float]
    by_operation: dict[str, int]
    failures: list[str]
    lost: list[str]
    written: int
    #: CPU seconds the clients' process used during the run (every thread).
    client_cpu: float = 0.0
    #: The paced rate asked for (requests a second), ``None`` for the closed loop.
    paced: float | None = None
    #: CPU seconds the emulator's process used during the run, when it has its own.
    server_cpu: float | None = None
    #: Each operation's latencies (seconds) of the requests answered without an error.
    latencies_by_operation: dict[str, list[float]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """Requests sent, answered or failed."""
        return len(self.latencies) + len(self.failures)

    @property
    def rate(self) -> float:
        """Requests a second over the timed run."""
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        """The ``p``-th percentile latency in seconds (1 <= p <= 99)."""
        return _percentile(self.latencies, p)

    def operation_percentile(self, name: str, p: int) -> float:
        """The ``p``-th percentile latency in seconds of operation ``name`` (1 <= p <= 99)."""
        return _percentile(self.latencies_by_operation.get(name, []), p)

    def operation_summary(self) -> list[str]:
        """One line an operation: how many were answered, and their p50 and p99."""
        width = max((len(name) for name in self.latencies_by_operation), default=0)
        lines = []
        for name, values in self.latencies_by_operation.items():
            p50, p99 = (self.operation_percentile(name, p) * 1000 for p in (50, 99))
            lines.append(f"{name:<{width}} {len(values):>7,}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
        return lines

    def summary(self) -> str:
        """One line: rate, percentiles, failures and lost writes."""
        ms = {p: self.percentile(p) * 1000 for p in (50, 90, 99)}
        cpu = f"; CPU: clients {self.client_cpu / self.seconds:.0%} of a core"
        if self.server_cpu is not None:
            per_request = self.server_cpu / max(self.requests, 1) * 1000
            cpu += (
                f", emulator {self.server_cpu / self.seconds:.0%} of a core"
                f" ({per_request:.2f} ms a request)"
            )
        pacing = "" if self.paced is None else f" paced at {self.paced:g}/s"
        return (
            f"{self.clients} clients{pacing}, {self.seconds:.1f} s: {self.requests:,} requests "
            f"({self.rate:,.0f}/s), latency p50 {ms[50]:.1f} ms, p90 {ms[90]:.1f} ms, "
            f"p99 {ms[99]:.1f} ms; {self.written:,} writes, {len(self.failures)} failed "
            f"requests, {len(self.lost)} lost writes{cpu}"
        )


class _Client:
    """One simulated user: its own connection, its own machine, its own random stream."""

    def __init__(self, api: AsyncCloudAPI, index: int, image: str, written: Written) -> None:
        self.api = api
        self.index = index
        self.image = image
        self.written = written
        self.random = random.Random(index)
        self.mine: list[str] = []
        self.latencies: dict[str, list[float]] = {name: [] for name in WEIGHTS}
        self.failures: list[str] = []
        self.ops: dict[str, Callable[[], Awaitable[object]]] = {
            "GetAccount": lambda: self.api.get_account(),
            "GetMachine": self._get_machine,
            "ListMachines": lambda: self.api.list_machines(limit=25),
            "ListPackages": lambda: self.api.list_packages(),
            "ListFirewallRules": lambda: self.api.list_firewall_rules(),
            "CreateMachine": self._create_machine,
            "AddMachineTags": self._add_tags,
            "CreateFirewallRule": self._create_rule,
            "CreateUser": self._create_user,
        }

    def _name(self) -> str:
        return f"c{self.index}-{uuid.uuid4().hex[:10]}"

    async def _get_machine(self) -> None:
        if self.mine:
            await self.api.get_machine(self.random.choice(self.mine))
        else:
            await self.api.get_account()

    async def _create_machine(self) -> None:
        created = await self.api.create_machine(
            image=self.image, package=PACKAGE_NAME, name=self._name()
        )
        self.mine.append(str(created["id"]))
        self.written.machines.append(str(created["id"]))

    async def _add_tags(self) -> None:
        if not self.mine:
            return await self._create_machine()
        machine = self.random.choice(self.mine)
        key, value = f"k{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
        await self.api.add_machine_tags(machine, {key: value})
        self.written.tags.setdefault(machine, {})[key] = value
        return None

    async def _create_rule(self) -> None:
        port = self.random.randrange(1, 65536)
        rule = await self.api.create_firewall_rule(f"FROM any TO all vms ALLOW tcp PORT {port}")
        self.written.rules.append(str(rule["id"]))

    async def _create_user(self) -> None:
        login = f"user{uuid.uuid4().hex[:12]}"
        await self.api.create_user(login=login, email=f"{login}@example.com", password="Pw-123456!")
        self.written.users.append(login)

    async def run(self, until: float, interval: float | None = None) -> None:
        """Send requests until ``until`` (a :func:`time.perf_counter` time): each as soon as
        the last is answered, or, with ``interval``, one every ``interval`` seconds."""
        names = list(WEIGHTS)
        weights = [WEIGHTS[n] for n in names]
        due = time.perf_counter() + (self.random.uniform(0, interval) if interval else 0.0)
        while time.perf_counter() < until:
            name = self.random.choices(names, weights)[0]
            if interval is not None:
                pause = due - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                began = due  # latency from when the request was due
                due += interval
            else:
                began = time.perf_counter()
            try:
                await self.ops[name]()
            except Exception as error:  # every failure is counted and reported
                self.failures.append(f"{name}: {type(error).__name__}: {error}")
                continue
            self.latencies[name].append(time.perf_counter() - began)


def _lost_writes(api: CloudAPI, written: Written) -> list[str]:
    """Each remembered write the emulator does not show (tags get time to land)."""
    lost: list[str] = []
    machines = {str(m["id"]) for m in api.iter_machines()}
    lost += [f"machine {m}" for m in written.machines if m not in machines]
    rules = {str(r["id"]) for r in api.list_firewall_rules()}
    lost += [f"firewall rule {r}" for r in written.rules if r not in rules]
    users = {str(u["login"]) for u in api.list_users()}
    lost += [f"user {u}" for u in written.users if u not in users]
    deadline = time.monotonic() + SETTLE_SECONDS
    for machine, tags in written.tags.items():
        while True:
            stored = api.list_machine_tags(machine)
            missing = [k for k, v in tags.items() if stored.get(k) != v]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        lost += [f"tag {k} of machine {machine}" for k in missing]
    return lost


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user and system) process ``pid`` and its child processes (the
    emulator's other workers) have used, where /proc tells."""
    fields = _stat(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(entry.name)
            if child is not None and int(child[1]) == pid:
                ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class _Timed:
    """What the clients' run measured, besides what the clients themselves kept."""

    elapsed: float
    client_cpu: float
    server_cpu: float | None


async def _run_clients(
    users: list[_Client], seconds: float, interval: float | None, server_pid: int | None
) -> _Timed:
    """Start every client at once and wait until each has sent its last request."""
    began = time.perf_counter()
    until = began + seconds
    client_then = time.process_time()
    server_then = None if server_pid is None else process_cpu(server_pid)
    await asyncio.gather(*(user.run(until, interval) for user in users))
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_then
    server_cpu = None
    if server_pid is not None and server_then is not None:
        server_now = process_cpu(server_pid)
        server_cpu = None if server_now is None else server_now - server_then
    return _Timed(elapsed, client_cpu, server_cpu)


def run_load(
    url: str,
    account: str,
    key_file: Path,
    *,
    clients: int = 50,
    seconds: float = 5.0,
    server_pid: int | None = None,
    rate: float | None = None,
) -> LoadReport:
    """Run ``clients`` concurrent clients against ``url`` for ``seconds``, then look for
    every write they were answered for; with ``server_pid``, also what CPU the server used
    while the clients ran.

    The clients are asyncio tasks in an event loop of their own (:func:`asyncio.run`), so
    this may be called while a server runs in another thread of the same process."""
    written = Written()
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    interval = None if rate is None else clients / rate

    async def drive(image: str) -> tuple[list[_Client], _Timed]:
        apis: list[AsyncCloudAPI] = []
        try:
            for _ in range(clients):
                api = AsyncCloudAPI(url, account, key_file=key_file, allow_agent=False, timeout=30)
                api.retry_policy = RetryPolicy(retries=0)
                apis.append(api)
            users = [_Client(api, n, image, written) for n, api in enumerate(apis)]
            return users, await _run_clients(users, seconds, interval, server_pid)
        finally:
            for api in apis:
                await api.aclose()

    with CloudAPI(url, account, key_file=key_file, allow_agent=False, timeout=30) as checker:
        checker.retry_policy = RetryPolicy(retries=0)
        images = [i for i in checker.list_images() if i["name"] == IMAGE_NAME]
        users, timed = asyncio.run(drive(str(images[-1]["id"])))
        lost = _lost_writes(checker, written)
    by_operation = {name: [value for u in users for value in u.latencies[name]] for name in WEIGHTS}
    return LoadReport(
        clients=clients,
        seconds=timed.elapsed,
        latencies=[value for values in by_operation.values() for value in values],
        by_operation={name: len(values) for name, values in by_operation.items()},
        failures=[failure for u in users for failure in u.failures],
        lost=lost,
        written=len(written.machines)
        + sum(len(t) for t in written.tags.values())
        + len(written.rules)
        + len(written.users),
        client_cpu=timed.client_cpu,
        server_cpu=timed.server_cpu,
        paced=rate,
        latencies_by_operation=by_operation,
    )


def run(
    directory: Path,
    clients: int,
    seconds: float,
    rate: float | None = None,
    workers: int = 1,
    on_disk: bool = False,
) -> LoadReport:
    """The bench run: an emulator in its own process (``workers`` processes over a data
    directory), ``clients`` asyncio tasks in this one, signing with an Ed25519 key."""
    from emulator_host import EmulatorProcess
    from sshkeys import make_home

    _, key = make_home(directory, ed25519=True)
    # This process only generates load from here on: its start-up objects would otherwise
    # be walked by every full collection while the clients' requests wait on it.
    freeze_heap()
    process = EmulatorProcess("bench", key.pub_path, 0, workers=workers, on_disk=on_disk)
    with process as emulator:
        return run_load(
            emulator.url,
            emulator.account,
            key.path,
            clients=clients,
            seconds=seconds,
            server_pid=process.pid,
            rate=rate,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=None, help="pace to this many requests/s")
    parser.add_argument("--workers", type=int, default=1, help="emulator processes")
    parser.add_argument("--on-disk", action="store_true", help="the emulator keeps a data dir")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smartdc-load-") as tmp:
        report = run(Path(tmp), args.clients, args.seconds, args.rate, args.workers, args.on_disk)
    print(report.summary())
    for line in report.operation_summary():
        print(f"  {line}")
    for failure in report.failures[:10] + report.lost[:10]:
        print(f"  {failure}")
    return 1 if report.failures or report.lost else 0


if __name__ == "__main__":
    sys.exit(main())
