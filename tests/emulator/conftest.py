"""Clients for the shared emulator: signed, and plain for requests that must not be signed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from smartdc.emulator.db import Database
from smartdc.emulator.server import EmulatorServer
from tests.conftest import TestKey
from tests.emulator.clock import Clock
from tests.emulator.signing import SignedClient, Signer


@pytest.fixture(scope="session")
def signer(keys: dict[str, TestKey]) -> Signer:
    return Signer(keys["rsa"])


@pytest.fixture
def client(emulator: EmulatorServer, signer: Signer) -> Iterator[SignedClient]:
    signed = SignedClient(emulator.url, signer)
    yield signed
    signed.close()


@pytest.fixture
def plain(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        yield http


@pytest.fixture
def db() -> Database:
    """An empty in-memory emulator database."""
    return Database(None)


@pytest.fixture
def clock() -> Clock:
    """A clock at :data:`tests.emulator.clock.T0` that the test moves by hand."""
    return Clock()
