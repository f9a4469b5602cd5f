"""Fixtures for CLI tests: an emulator of their own and a world (HOME, key, env) on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import CliWorld
from tests.conftest import ACCOUNT, TestKey


@pytest.fixture(scope="module")
def cli_emulator(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    """An emulator for one test module: account ``test`` on the rsa key, instant jobs."""
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=tmp_path_factory.mktemp("cli-data"),
        provision_delay=0.0,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def world(
    cli_emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> CliWorld:
    """smartdc and triton configured by environment for the module's emulator."""
    home: Path = tmp_path_factory.mktemp("cli-home")
    return CliWorld(home, cli_emulator.url, keys["rsa"])


@pytest.fixture(scope="module")
def api(world: CliWorld) -> Iterator[CloudAPI]:
    """The library on the module's emulator, as the world's account and key: for setting
    things up and for looking at what a command did."""
    with CloudAPI(
        world.url, ACCOUNT, key_id=world.key.md5, key_file=world.key.path, allow_agent=False
    ) as client:
        yield client
