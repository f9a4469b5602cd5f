"""MigrateMachineEstimate: ``GET /:login/machines/:id/migrate``, a route outside CloudAPI's list."""

from __future__ import annotations

from smartdc.emulator.store import migrations
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import create_machine, settle
from tests.emulator.signing import SignedClient


def test_estimate_sizes_the_machine_disk(client: SignedClient) -> None:
    machine = create_machine(client)
    try:
        response = client.get(f"/my/machines/{machine['id']}/migrate")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"size", "eta_ms"}
        assert body["size"] == machine["disk"] * 1024 * 1024
        assert body["eta_ms"] == body["size"] * 1000 // migrations.ESTIMATE_RATE
    finally:
        client.delete(f"/my/machines/{machine['id']}")


def test_estimate_refused_while_a_migration_is_unfinished(client: SignedClient) -> None:
    machine = create_machine(client)
    try:
        begun = client.post(f"/my/machines/{machine['id']}/migrate", json={"action": "begin"})
        assert begun.status_code == 201, begun.text
        settle()
        refused = client.get(f"/my/machines/{machine['id']}/migrate")
        assert error_of(refused)[:2] == (412, "PreconditionFailed")
    finally:
        client.post(f"/my/machines/{machine['id']}/migrate", json={"action": "abort"})
        settle()
        client.delete(f"/my/machines/{machine['id']}")


def test_estimate_for_an_unknown_machine_is_404(client: SignedClient) -> None:
    missing = client.get("/my/machines/6a1b7c2d-0e3f-4a5b-8c9d-0e1f2a3b4c5d/migrate")
    assert error_of(missing)[0] == 404
