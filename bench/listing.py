"""Benchmark 2: listing every machine of an account (3,000 by default: three pages).

Whole commands, like for like: ``smartdc instance list -j`` against ``triton instance list
-j`` (each: interpreter start, module loading, key lookup in ``~/.ssh``, ListMachines pages
plus a ListImages answered from the on-disk image cache both keep, NDJSON to stdout). Runs
alternate between the two; each side gets one untimed warm-up run first (it fills the image
cache and Python's bytecode cache). Every run's output
is checked: one JSON line per machine, the ids the emulator holds.

Also, for reference, ``CloudAPI.list_machines()`` timed warm inside this process (client
already made and connected): what a long-running Python program pays per listing.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence

import peers
from emulator_host import SeededEmulator
from measure import Samples
from report import Row
from sshkeys import KeyFile

from cli import smartdc_executable
from smartdc import CloudAPI

BENCHMARK = "2. list all machines"
SMARTDC_COLD = "smartdc instance list -j"
SMARTDC_WARM = "smartdc: CloudAPI.list_machines(), warm"
TRITON_SIDE = "node: triton instance list -j"


def _run_command(command: Sequence[str], env: Mapping[str, str], expected: set[str]) -> float:
    """Wall seconds for ``command``; its NDJSON output must list exactly ``expected``."""
    with tempfile.TemporaryFile() as out:
        begin = time.perf_counter()
        proc = subprocess.run(
            command, env=dict(env), stdout=out, stderr=subprocess.PIPE, check=False
        )
        seconds = time.perf_counter() - begin
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.decode().strip()}"
            )
        out.seek(0)
        ids = [json.loads(line)["id"] for line in out.read().splitlines() if line.strip()]
    if len(ids) != len(expected) or set(ids) != expected:
        raise RuntimeError(f"{' '.join(command)} listed {len(ids)} machines, not the seeded set")
    return seconds


def _warm(emulator: SeededEmulator, key: KeyFile, reps: int) -> Samples:
    expected = set(emulator.machine_ids)
    with CloudAPI(
        emulator.url, emulator.account, key_id=key.md5, key_file=key.path, allow_agent=False
    ) as api:
        api.list_machines()
        values = []
        for _ in range(reps):
            begin = time.perf_counter()
            listed = api.list_machines()
            values.append(time.perf_counter() - begin)
            if {str(m["id"]) for m in listed} != expected or len(listed) != len(expected):
                raise RuntimeError("CloudAPI.list_machines() did not return the seeded machines")
    return Samples.of(values)


def run(emulator: SeededEmulator, key: KeyFile, env: Mapping[str, str], reps: int) -> list[Row]:
    """Cold commands alternating smartdc/triton, then the warm in-process listing."""
    expected = set(emulator.machine_ids)
    env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    commands = {
        SMARTDC_COLD: [smartdc_executable(), "instance", "list", "-j"],
        TRITON_SIDE: [str(peers.TRITON), "instance", "list", "-j"],
    }
    timings: dict[str, list[float]] = {side: [] for side in commands}
    for command in commands.values():
        _run_command(command, env, expected)
    for _ in range(reps):
        for side, command in commands.items():
            timings[side].append(_run_command(command, env, expected))
    case = f"{len(expected):,} machines"
    return [
        Row(BENCHMARK, case, SMARTDC_COLD, Samples.of(timings[SMARTDC_COLD]), "command"),
        Row(BENCHMARK, case, SMARTDC_WARM, _warm(emulator, key, reps), "listing"),
        Row(BENCHMARK, case, TRITON_SIDE, Samples.of(timings[TRITON_SIDE]), "command", peer=True),
    ]
