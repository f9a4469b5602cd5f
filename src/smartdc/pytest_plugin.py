"""A pytest plugin for testing Triton automation against the emulator (or a real cloud).

Installed with smartdc (registered through the ``pytest11`` entry point); its fixtures need
the ``emulator`` extra unless ``--smartdc-profile`` points the tests at a real cloud.

Fixtures:

``smartdc_keypair``
    A throwaway Ed25519 key pair for the session (:class:`KeyPair`: ``private``, ``public``
    paths, ``md5`` fingerprint).
``smartdc_emulator``
    The session's emulator (an :class:`~smartdc.emulator.server.EmulatorServer` in a thread,
    instant jobs, account ``test`` on the throwaway key), reset before every test that uses
    it. Mark a test ``@pytest.mark.smartdc_datacenters("us-1", "us-2")`` for an emulator
    serving those datacenters (one per set of names, for the session).
``smartdc_api``
    A :class:`~smartdc.CloudAPI` signed in to it (or to the profile's cloud).
``smartdc_async_api``
    An :class:`~smartdc.AsyncCloudAPI` on the same, for async tests (pytest-asyncio,
    anyio) or ``asyncio.run`` in a test; it is closed after the test.
``smartdc_datacenter``
    A :class:`~smartdc.DataCenter` on the same.
``smartdc_faults``
    Fault injection as methods: ``fail_provision(n)``, ``throttle(n)``,
    ``unavailable(n, retry_after=1)``, ``rule(kind, **spec)`` (see the README's control
    plane), ``clear()``.
``smartdc_clock``
    Control of time: the test's emulator runs on a manual clock, and ``advance(seconds)``
    moves it (every job that becomes due runs then); ``now()`` reads it.

``--smartdc-profile NAME`` runs the same tests against the cloud a ``triton`` profile names
(``~/.triton/profiles.d/NAME.json``, or ``env`` for ``TRITON_*``/``SDC_*`` variables): the API
fixtures then talk to that cloud and the emulator-only fixtures skip their tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from smartdc import AsyncCloudAPI, CloudAPI, DataCenter
    from smartdc.emulator.clock import ManualClock
    from smartdc.emulator.server import EmulatorServer

#: The account the emulator fixtures create.
ACCOUNT = "test"
_PROFILE_OPTION = "--smartdc-profile"
_DATACENTERS_MARK = "smartdc_datacenters"
_EMULATOR_ONLY = "needs the emulator (the tests run against a real cloud: --smartdc-profile)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smartdc")
    group.addoption(
        _PROFILE_OPTION,
        metavar="NAME",
        default=None,
        help="run smartdc fixtures against the cloud of this triton profile (or 'env')",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_DATACENTERS_MARK}(*names): the smartdc emulator serves these datacenters",
    )


@dataclass(frozen=True)
class KeyPair:
    """An SSH key pair on disk: ``private`` and ``public`` paths, and the MD5 fingerprint."""

    private: Path
    public: Path
    md5: str


def _make_keypair(directory: Path) -> KeyPair:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = directory / "id_ed25519"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    public = directory / "id_ed25519.pub"
    public.write_bytes(line + b" smartdc-test\n")
    digest = hashlib.md5(b64decode(line.split()[1]), usedforsecurity=False).hexdigest()
    md5 = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return KeyPair(private, public, md5)


@pytest.fixture(scope="session")
def smartdc_keypair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """A throwaway Ed25519 key pair for the session."""
    return _make_keypair(tmp_path_factory.mktemp("smartdc-key"))


class _Emulators:
    """The session's emulators, one per set of datacenter names, started on first use."""

    def __init__(self, keypair: KeyPair) -> None:
        self._keypair = keypair
        self._running: dict[tuple[str, ...], tuple[EmulatorServer, ManualClock]] = {}

    def get(self, datacenters: tuple[str, ...]) -> tuple[EmulatorServer, ManualClock]:
        if datacenters not in self._running:
            try:
                from smartdc.emulator.clock import ManualClock
                from smartdc.emulator.server import EmulatorServer
            except ImportError as exc:  # pragma: no cover - depends on the installation
                pytest.skip(f"the smartdc emulator needs: pip install 'smartdc[emulator]' ({exc})")
            clock = ManualClock()
            server = EmulatorServer(
                accounts={ACCOUNT: [self._keypair.public]},
                datacenters=datacenters,
                provision_delay=0.0,
                clock=_Switchable(clock),
            )
            server.start()
            self._running[datacenters] = (server, clock)
        return self._running[datacenters]

    def stop(self) -> None:
        for server, _ in self._running.values():
            server.stop()


class _Switchable:
    """The emulator's clock: real time until a test asks for the manual clock."""

    def __init__(self, manual: ManualClock) -> None:
        self.manual = manual
        self.use_manual = False
        self._real = time.time

    def __call__(self) -> float:
        return self.manual() if self.use_manual else self._real()


@pytest.fixture(scope="session")
def _smartdc_emulators(smartdc_keypair: KeyPair) -> Iterator[_Emulators]:
    emulators = _Emulators(smartdc_keypair)
    yield emulators
    emulators.stop()


def _profile(request: pytest.FixtureRequest) -> str | None:
    value = request.config.getoption(_PROFILE_OPTION)
    return str(value) if value else None


@pytest.fixture
def smartdc_emulator(
    request: pytest.FixtureRequest, _smartdc_emulators: _Emulators
) -> EmulatorServer:
    """The emulator for this test, reset to its start-up state."""
    if _profile(request):
        pytest.skip(_EMULATOR_ONLY)
    mark = request.node.get_closest_marker(_DATACENTERS_MARK)
    names = tuple(mark.args) if mark and mark.args else ("us-test-1",)
    server, _ = _smartdc_emulators.get(names)
    switch = server.clock
    if isinstance(switch, _Switchable):
        switch.use_manual = False
    server.reset()
    return server


def _profile_api(name: str) -> CloudAPI:
    from smartdc import CloudAPI

    if name == "env":
        env = os.environ
        url = env.get("TRITON_URL") or env.get("SDC_URL")
        account = env.get("TRITON_ACCOUNT") or env.get("SDC_ACCOUNT")
        key_id = env.get("TRITON_KEY_ID") or env.get("SDC_KEY_ID")
        user = env.get("TRITON_USER") or env.get("SDC_USER")
        insecure = (env.get("TRITON_TLS_INSECURE") or env.get("SDC_TESTING") or "") not in ("", "0")
    else:
        path = Path("~/.triton/profiles.d").expanduser() / f"{name}.json"
        try:
            profile: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise pytest.UsageError(f"{_PROFILE_OPTION} {name}: cannot read {path}: {exc}") from exc
        url, account = profile.get("url"), profile.get("account")
        key_id, user = profile.get("keyId"), profile.get("user")
        insecure = bool(profile.get("insecure"))
    if not url or not account or not key_id:
        raise pytest.UsageError(f"{_PROFILE_OPTION} {name}: needs a url, an account and a keyId")
    return CloudAPI(url, account, key_id=key_id, user=user, insecure=insecure, allow_agent=True)


@pytest.fixture
def smartdc_api(request: pytest.FixtureRequest, smartdc_keypair: KeyPair) -> Iterator[CloudAPI]:
    """A CloudAPI client on the test's emulator (or the ``--smartdc-profile`` cloud)."""
    from smartdc import CloudAPI

    profile = _profile(request)
    if profile:
        client = _profile_api(profile)
    else:
        server: EmulatorServer = request.getfixturevalue("smartdc_emulator")
        client = CloudAPI(server.url, ACCOUNT, key_file=smartdc_keypair.private, allow_agent=False)
    with client:
        yield client


@pytest.fixture
def smartdc_async_api(
    request: pytest.FixtureRequest, smartdc_keypair: KeyPair
) -> Iterator[AsyncCloudAPI]:
    """An AsyncCloudAPI client on the test's emulator (or the ``--smartdc-profile`` cloud).

    It connects on first use, in whichever event loop the test runs.
    """
    import asyncio

    from smartdc import AsyncCloudAPI

    profile = _profile(request)
    if profile:
        sync = _profile_api(profile)
        sync.close()
        client = AsyncCloudAPI(
            sync.url, sync.account, signer=sync.signer, user=sync.user, allow_agent=True
        )
    else:
        server: EmulatorServer = request.getfixturevalue("smartdc_emulator")
        client = AsyncCloudAPI(
            server.url, ACCOUNT, key_file=smartdc_keypair.private, allow_agent=False
        )
    try:
        yield client
    finally:
        asyncio.run(client.aclose())


@pytest.fixture
def smartdc_datacenter(smartdc_api: CloudAPI) -> Iterator[DataCenter]:
    """The object layer (:class:`~smartdc.DataCenter`) on the same cloud as ``smartdc_api``."""
    from smartdc import DataCenter

    datacenter = DataCenter(location=smartdc_api.url, login=smartdc_api.account, api=smartdc_api)
    yield datacenter


class Faults:
    """Faults to inject into the test's emulator (see the README's control plane)."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server

    def fail_provision(self, count: int = 1) -> None:
        """The next ``count`` machines (or volumes) created end ``failed``."""
        self._server.inject(fail_provision=count)

    def throttle(self, count: int = 1) -> None:
        """The next ``count`` signed requests answer 429."""
        self._server.inject(throttle=count)

    def unavailable(self, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` signed requests answer 503 with ``Retry-After``."""
        self._server.inject(unavailable=count, retry_after=retry_after)

    def rule(self, kind: str, **spec: Any) -> dict[str, Any]:
        """A fault rule (``slow``, ``drop_response``, ``fail_job`` ...); returns it."""
        return self._server.add_fault(kind, **spec)

    def clear(self) -> None:
        """Cancel every pending fault and rule."""
        self._server.config.faults.clear()


@pytest.fixture
def smartdc_faults(smartdc_emulator: EmulatorServer) -> Faults:
    """Fault injection on the test's emulator."""
    return Faults(smartdc_emulator)


class Clock:
    """The test's emulator on a manual clock: time moves only when :meth:`advance` says."""

    def __init__(self, server: EmulatorServer, switch: _Switchable) -> None:
        self._server = server
        self._switch = switch
        switch.manual.advance(max(0.0, time.time() - switch.manual()))
        switch.use_manual = True

    def now(self) -> float:
        """The emulator's time (seconds since the epoch)."""
        return self._switch.manual()

    def advance(self, seconds: float) -> float:
        """Move time forward and run everything that became due; return the new time."""
        from smartdc.emulator.scheduler import settle_everything

        now = self._switch.manual.advance(seconds)
        settle_everything(self._server.db, now)
        return now


@pytest.fixture
def smartdc_clock(smartdc_emulator: EmulatorServer) -> Iterator[Clock]:
    """Manual time for the test's emulator (real time again after the test)."""
    switch = smartdc_emulator.clock
    assert isinstance(switch, _Switchable)
    yield Clock(smartdc_emulator, switch)
    switch.use_manual = False


__all__ = ["ACCOUNT", "Clock", "Faults", "KeyPair"]
