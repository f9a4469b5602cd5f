"""``triton image create -w`` (node-triton 7.17) from a running instance, which is shut down,
imaged and booted again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.test_triton_cli import pytestmark as triton_marks
from tests.emulator.test_triton_cli import triton

pytestmark = triton_marks


@pytest.fixture(scope="module")
def slow(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=tmp_path_factory.mktemp("triton-image-data"),
        provision_delay=0.5,
    ) as emulator:
        yield emulator


def test_image_create_wait_from_a_running_instance(
    slow: EmulatorServer, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    key = keys["rsa"]
    made = json.loads(
        triton(
            slow,
            key,
            tmp_path,
            "instance",
            "create",
            "-w",
            "-j",
            "-n",
            "builder",
            "base-64-lts",
            "g4-highcpu-128M",
        ).splitlines()[-1]
    )
    assert made["state"] == "running"
    out = triton(slow, key, tmp_path, "image", "create", "-w", "builder", "snap", "1.0.0")
    assert out.startswith("Creating image snap@1.0.0 (")
    assert "Created image" in out
    image = json.loads(triton(slow, key, tmp_path, "image", "get", "snap@1.0.0"))
    assert image["state"] == "active"
    audit = json.loads(
        triton(slow, key, tmp_path, "instance", "audit", "-j", "builder").splitlines()[0]
    )
    assert (audit["action"], audit["success"]) == ("create_image", "yes")
    assert (
        json.loads(triton(slow, key, tmp_path, "instance", "get", "builder"))["state"] == "running"
    )
