"""What ``import smartdc`` offers, and what it must not drag in."""

from __future__ import annotations

import json
import subprocess
import sys

import smartdc

HEAVY = ("starlette", "uvicorn", "click", "smartdc.emulator", "smartdc.cli")


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout))


def test_importing_smartdc_does_not_import_server_or_cli_packages() -> None:
    # httpx itself imports click when click is installed (for its own command line), so the
    # check is on what smartdc adds beyond httpx.
    added = _modules_after("import smartdc") - _modules_after("import httpx")
    heavy = sorted(m for m in added if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    assert "smartdc.api" in _modules_after("import smartdc; smartdc.CloudAPI")


def test_importing_smartdc_loads_neither_httpx_nor_the_client_until_asked() -> None:
    # The CLI imports smartdc on every run; its start-up must not pay for httpx.
    loaded = _modules_after("import smartdc, smartdc.errors, smartdc.auth.signers")
    assert not {"httpx", "smartdc.api", "smartdc.objects"} & loaded


def test_public_names_are_exactly_the_documented_surface() -> None:
    assert set(smartdc.__all__) == {
        "AsyncCloudAPI",
        "CloudAPI",
        "CloudAPIError",
        "ConfigError",
        "ConnectError",
        "DEBUG_CONFIG",
        "DEFAULT_CONFIG",
        "DEFAULT_LOCATION",
        "DataCenter",
        "Disk",
        "FabricVlan",
        "FirewallRule",
        "Image",
        "KNOWN_LOCATIONS",
        "Machine",
        "MachineFailedError",
        "MachineGoneError",
        "Migration",
        "Nic",
        "ResourceNotFoundError",
        "SigningError",
        "SmartDCError",
        "Snapshot",
        "TransportError",
        "Volume",
        "WaitError",
        "WaitTimeoutError",
        "__version__",
        "prompt_passphrase",
        "wait_for",
    }
    assert len(smartdc.__all__) == len(set(smartdc.__all__))
    for name in smartdc.__all__:
        assert getattr(smartdc, name) is not None
    assert smartdc.CloudAPI.__module__ == "smartdc.api"
    assert smartdc.Volume.__module__ == "smartdc.objects.volume"
