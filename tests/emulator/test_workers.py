"""``smartdc-emulator --workers N``: several processes over one data directory, as one region."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smartdc import CloudAPI
from smartdc.change_waits import machine_changes
from smartdc.wait import wait_for
from tests.conftest import TestKey

ACCOUNT = "work"
PACKAGE = "g4-highcpu-128M"


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "smartdc.emulator", *args]


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class Running:
    def __init__(self, proc: subprocess.Popen[str], url: str, data_dir: Path) -> None:
        self.proc = proc
        self.url = url
        self.data_dir = data_dir


@pytest.fixture
def region(keys: dict[str, TestKey], tmp_path: Path) -> Iterator[Running]:
    data_dir = tmp_path / "data"
    key = keys["ed25519"]
    proc = subprocess.Popen(
        _command(
            "--workers",
            "2",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--account",
            ACCOUNT,
            "--key",
            str(key.pub_path),
            "--provision-delay",
            "0.5",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
    url = line.split("listening on ", 1)[1].strip()
    try:
        yield Running(proc, url, data_dir)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        proc.stdout.close()


def _api(region: Running, key: TestKey) -> CloudAPI:
    return CloudAPI(region.url, ACCOUNT, key_file=key.path, allow_agent=False)


def test_workers_serve_one_region_and_the_feed_hears_every_worker(
    region: Running, keys: dict[str, TestKey]
) -> None:
    assert len(_children_of(region.proc.pid)) == 1  # the first worker and one more
    key = keys["ed25519"]
    with _api(region, key) as api:
        image = next(i for i in api.list_images() if i["name"] == "base-64-lts")["id"]
        feed = api.changefeed(["state"], timeout=20)

        def create(n: int) -> str:
            # A connection of its own each time: the kernel hands them to either worker.
            with _api(region, key) as client:
                made = client.create_machine(image=image, package=PACKAGE, name=f"w-{n}")
                return str(made["id"])

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            created = set(pool.map(create, range(16)))
        running: set[str] = set()
        with feed:
            while running != created:
                change = next(feed)
                if change["resourceState"] == "running":
                    running.add(change["changedResourceId"])
        listed = {m["id"] for m in api.list_machines()}
        assert created <= listed

        made = api.create_machine(image=image, package=PACKAGE)
        found = wait_for(
            lambda: api.get_machine(made["id"]),
            lambda m: m["state"] == "running",
            interval=60,  # only a change heard on the feed can end this in time
            timeout=15,
            changes=machine_changes(api, made["id"]),
        )
        assert found["state"] == "running"


def test_faults_are_refused_and_reset_reaches_every_worker(
    region: Running, keys: dict[str, TestKey]
) -> None:
    refused = httpx.post(f"{region.url}/__emulator/faults", json={"throttle": 1})
    assert refused.status_code == 409
    assert "--workers 2" in refused.json()["message"]
    assert httpx.get(f"{region.url}/__emulator/faults/rules").status_code == 409
    with _api(region, keys["ed25519"]) as api:
        api.create_firewall_rule("FROM any TO all vms ALLOW tcp PORT 80")
        assert httpx.post(f"{region.url}/__emulator/reset").status_code == 204
        for _ in range(6):  # several connections: whichever worker answers sees the reset
            with _api(region, keys["ed25519"]) as other:
                assert other.list_firewall_rules() == []


def test_another_emulator_cannot_take_the_data_directory(
    region: Running, keys: dict[str, TestKey]
) -> None:
    second = subprocess.run(
        _command("--data-dir", str(region.data_dir), "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert "data" in second.stderr.lower()


def test_sigterm_stops_every_worker(region: Running) -> None:
    children = _children_of(region.proc.pid)
    region.proc.send_signal(signal.SIGTERM)
    assert region.proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children):
        assert time.monotonic() < deadline, "a worker outlived the emulator"
        time.sleep(0.05)
    assert list((region.data_dir / ".bells").glob("*.sock")) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "give a data directory"),
        (("--data-dir", "{dir}", "--manual-clock"), "manual clock"),
        (("--data-dir", "{dir}", "--seed", "7"), "seed"),
        (("--data-dir", "{dir}", "--rate-limit"), "rate limit"),
    ],
)
def test_what_several_workers_cannot_share_is_refused(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    args = [part.replace("{dir}", str(tmp_path / "d")) for part in extra]
    done = subprocess.run(
        _command("--workers", "2", *args), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert message in done.stderr
