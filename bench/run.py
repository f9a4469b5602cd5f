"""Run the smartdc benchmarks against their node peers and print one table.

    python bench/run.py [--only sign,list,get] [--json results.json]

Nothing here passes or fails on time: every number is printed next to the peer's number
measured in the same run, as a ratio (see bench/README.md for how to read it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asgi_ratio
import client
import getmachine
import listing
import load
import peers
import signing
from cryptography.hazmat.backends.openssl import backend as openssl_backend
from emulator_host import EmulatorProcess
from report import Row, as_json, table
from sshkeys import client_environment, make_home

import cli
from smartdc import __version__ as smartdc_version

BENCHMARKS = (
    "sign",
    "list",
    "get",
    "cli",
    "load",
    "asgi",
    "async",
    "presigned",
    "wait",
    "memory",
)
ACCOUNT = "bench"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="smartdc benchmarks against node peers")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument("--reps", type=int, default=7, help="signing batches per side")
    parser.add_argument("--list-reps", type=int, default=5, help="timed listings per side")
    parser.add_argument("--machines", type=int, default=3000, help="machines to list")
    parser.add_argument("--calls", type=int, default=200, help="GetMachine calls per round")
    parser.add_argument("--rounds", type=int, default=3, help="GetMachine rounds per side")
    parser.add_argument("--cli-reps", type=int, default=9, help="timed CLI commands per side")
    parser.add_argument("--load-clients", type=int, default=50, help="concurrent load clients")
    parser.add_argument("--load-seconds", type=float, default=15.0, help="how long the load runs")
    parser.add_argument(
        "--load-rate", type=float, default=200.0, help="requests/s of the paced load run"
    )
    parser.add_argument("--async-calls", type=int, default=1000, help="calls per async round")
    parser.add_argument("--wait-reps", type=int, default=5, help="machines per wait side")
    parser.add_argument(
        "--memory-machines", type=int, default=6000, help="machines in the memory listing"
    )
    parser.add_argument(
        "--asgi-connections", type=int, default=4, help="client connections of the asgi case"
    )
    parser.add_argument(
        "--asgi-seconds", type=float, default=2.0, help="length of one round of the asgi case"
    )
    parser.add_argument("--asgi-rounds", type=int, default=5, help="rounds per side, asgi case")
    args = parser.parse_args(argv)
    if args.load_seconds <= 0 or args.asgi_seconds <= 0 or args.load_rate <= 0:
        parser.error("--load-seconds, --load-rate and --asgi-seconds must be more than 0")
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {BENCHMARKS}")
    counts = ("reps", "list_reps", "machines", "calls", "rounds", "cli_reps", "load_clients")
    extra = ("asgi_connections", "asgi_rounds", "async_calls", "wait_reps", "memory_machines")
    for name in (*counts, *extra):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.calls + getmachine.WARMUP_CALLS > args.machines and "get" in args.only:
        args.machines = args.calls + getmachine.WARMUP_CALLS
    return args


def _context() -> dict[str, Any]:
    return {
        "smartdc": smartdc_version,
        "python": platform.python_version(),
        "python openssl": openssl_backend.openssl_version_text(),
        **peers.versions(),
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 0,
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    peers.node_executable()
    started = time.perf_counter()
    context = _context()
    print("smartdc benchmarks: " + ", ".join(f"{k} {v}" for k, v in context.items()), flush=True)
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="smartdc-bench-") as tmp:
        directory = Path(tmp)
        if "sign" in args.only:
            print("signing ...", flush=True)
            rows += signing.run(directory, args.reps)
        if {"list", "get", "asgi"} & set(args.only):
            home, key = make_home(directory / "home")
            print(f"seeding an emulator with {args.machines:,} machines ...", flush=True)
            with EmulatorProcess(ACCOUNT, key.pub_path, args.machines) as emulator:
                notes.append(
                    f"emulator: its own process, {len(emulator.machine_ids):,} machines "
                    f"seeded in {emulator.seed_seconds:.1f} s, at {emulator.url}"
                )
                env = client_environment(home, emulator.url, emulator.account, key)
                if "list" in args.only:
                    print("listing ...", flush=True)
                    rows += listing.run(emulator, key, env, args.list_reps)
                if "get" in args.only:
                    print("GetMachine ...", flush=True)
                    got, connections = getmachine.run(
                        emulator, key, home, env, args.calls, args.rounds
                    )
                    rows += got
                    notes.append(
                        "TCP connections opened during the timed GetMachine rounds: "
                        + ", ".join(f"{side} {count}" for side, count in connections.items())
                    )
                if "asgi" in args.only:
                    print("GetMachine against a bare ASGI app ...", flush=True)
                    rows += asgi_ratio.run(
                        emulator, key, args.asgi_connections, args.asgi_seconds, args.asgi_rounds
                    )
        if {"async", "presigned"} & set(args.only):
            home, key = make_home(directory / "client-home", ed25519=True)
            print(f"seeding an emulator with {args.calls:,} machines ...", flush=True)
            with EmulatorProcess(ACCOUNT, key.pub_path, args.calls) as emulator:
                env = client_environment(home, emulator.url, emulator.account, key)
                if "async" in args.only:
                    print(f"GetMachine, {client.INFLIGHT} in flight ...", flush=True)
                    rows += client.run_async(
                        emulator, key, home, env, args.async_calls, args.rounds
                    )
                if "presigned" in args.only:
                    print("GetMachine against pre-signed httpx ...", flush=True)
                    rows += client.run_sequential(emulator, key, args.calls, args.rounds)
        if "wait" in args.only:
            print(f"waits, {args.wait_reps} machines per side ...", flush=True)
            home, key = make_home(directory / "wait-home", ed25519=True)
            env = client_environment(home, "", ACCOUNT, key)
            rows += client.run_waits(key, home, env, args.wait_reps)
        if "memory" in args.only:
            home, key = make_home(directory / "memory-home", ed25519=True)
            print(f"seeding an emulator with {args.memory_machines:,} machines ...", flush=True)
            with EmulatorProcess(ACCOUNT, key.pub_path, args.memory_machines) as emulator:
                print("listing memory ...", flush=True)
                memory = client.run_memory(emulator, key, 3)
            context["listing memory"] = memory
            notes.append(
                f"listing memory: iter_machines() over {memory['machines']:,} machines peaked "
                f"at {memory['listing_peak_bytes'] / 1e6:.1f} MB, one 1,000-machine page at "
                f"{memory['page_peak_bytes'] / 1e6:.1f} MB: {memory['ratio']:.2f}x one page"
            )
        if "cli" in args.only:
            print(f"CLI commands, {cli.INSTANCES} instances ...", flush=True)
            home, key = make_home(directory / "cli-home")
            rows += cli.run(home, key, args.cli_reps)
        if "load" in args.only:
            runs = (
                ("load", None, 1),
                ("load, 2 workers", None, 2),
                ("paced load", args.load_rate, 1),
            )
            for label, rate, workers in runs:
                pace = "" if rate is None else f", paced at {rate:g} requests/s"
                print(
                    f"{label}, {args.load_clients} clients for {args.load_seconds:g} s{pace} ...",
                    flush=True,
                )
                report = load.run(
                    directory / f"{label.replace(' ', '-').replace(',', '')}-home",
                    args.load_clients,
                    args.load_seconds,
                    rate,
                    workers,
                )
                notes.append(f"{label}: {report.summary()}")
                notes += [f"  {line}" for line in report.operation_summary()]
                notes += [f"  {problem}" for problem in report.failures[:5] + report.lost[:5]]
                context[label] = {
                    "clients": report.clients,
                    "paced_rate": rate,
                    "workers": workers,
                    "seconds": round(report.seconds, 2),
                    "requests": report.requests,
                    "requests_per_second": round(report.rate, 1),
                    **{f"p{p}_ms": round(report.percentile(p) * 1000, 2) for p in (50, 90, 99)},
                    "failed_requests": len(report.failures),
                    "lost_writes": len(report.lost),
                    "client_cpu_seconds": round(report.client_cpu, 2),
                    "emulator_cpu_seconds": None
                    if report.server_cpu is None
                    else round(report.server_cpu, 2),
                    "by_operation": {
                        name: {
                            "count": len(values),
                            "p50_ms": round(report.operation_percentile(name, 50) * 1000, 2),
                            "p99_ms": round(report.operation_percentile(name, 99) * 1000, 2),
                        }
                        for name, values in report.latencies_by_operation.items()
                    },
                }
    elapsed = time.perf_counter() - started
    context["seconds"] = round(elapsed, 1)
    print()
    if rows:
        print(table(rows))
        print()
        print("vs peer = the reference row's median / this row's median: 2.00x means this row")
        print("took half the time, 0.50x twice as long. The reference is the peer client's row;")
        print("for [crypto only] rows it is node's crypto.sign. Times are per unit in 'rate'.")
    for note in notes:
        print(note)
    print(f"total benchmark time {elapsed:.1f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(rows, context), indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
