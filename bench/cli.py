"""Benchmark 4: ``smartdc`` commands against the same ``triton`` commands, 100 instances.

Whole commands as a user types them, each a fresh process: ``instance list`` (the default
table, which also fetches the images for its IMG column) and ``instance get NAME`` (a name,
so both resolve it with a listing before the get). Runs alternate smartdc / triton; each
side gets one untimed warm-up run first (it fills triton's image cache and Python's
bytecode cache). Every run's output is checked: the table must have a row per instance,
``get`` must print the instance asked for.

``PYTHONDONTWRITEBYTECODE`` is removed from the environment: an installed ``smartdc`` has
its bytecode cached, and timing a recompile on every run would measure the wrong thing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import peers
from emulator_host import EmulatorProcess
from measure import Samples
from report import Row
from sshkeys import KeyFile, client_environment

BENCHMARK = "4. CLI commands"
INSTANCES = 100
NAME = "bench-00042"


def smartdc_executable() -> str:
    """The ``smartdc`` console script next to this interpreter (the venv's)."""
    beside = Path(sys.executable).with_name("smartdc")
    found = str(beside) if beside.exists() else shutil.which("smartdc")
    if not found:
        raise RuntimeError("the smartdc command is not installed (pip install -e .)")
    return found


def _timed(command: Sequence[str], env: Mapping[str, str], check: Callable[[str], None]) -> float:
    begin = time.perf_counter()
    proc = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - begin
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.strip()}")
    check(proc.stdout)
    return seconds


def _check_table(count: int) -> Callable[[str], None]:
    def check(out: str) -> None:
        lines = out.splitlines()
        if not lines or not lines[0].startswith("SHORTID") or len(lines) != count + 1:
            raise RuntimeError(f"instance list printed {len(lines)} lines, not {count + 1}")

    return check


def _check_get(out: str) -> None:
    if json.loads(out).get("name") != NAME:
        raise RuntimeError(f"instance get {NAME} printed another instance")


def run(home: Path, key: KeyFile, reps: int) -> list[Row]:
    """Seed an emulator with 100 instances; time both CLIs' list and get, alternating."""
    smartdc = smartdc_executable()
    rows: list[Row] = []
    with EmulatorProcess("bench", key.pub_path, INSTANCES) as emulator:
        env = client_environment(home, emulator.url, emulator.account, key)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cases: dict[str, tuple[list[str], Callable[[str], None]]] = {
            "instance list": (["instance", "list"], _check_table(INSTANCES)),
            f"instance get {NAME}": (["instance", "get", NAME], _check_get),
        }
        for case, (args, check) in cases.items():
            sides = {
                "smartdc " + " ".join(args): [smartdc, *args],
                "node: triton " + " ".join(args): [str(peers.TRITON), *args],
            }
            timings: dict[str, list[float]] = {side: [] for side in sides}
            for command in sides.values():
                _timed(command, env, check)
            for _ in range(reps):
                for side, command in sides.items():
                    timings[side].append(_timed(command, env, check))
            label = f"{case}, {INSTANCES} instances"
            for index, side in enumerate(sides):
                samples = Samples.of(timings[side])
                rows.append(Row(BENCHMARK, label, side, samples, "command", peer=index == 1))
    return rows
