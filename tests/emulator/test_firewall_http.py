"""Firewall rule routes over HTTP: FWAPI's statuses, bodies and errors.

A private emulator with two accounts and two datacenters keeps the rule and machine lists
these tests check free of other modules' objects.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartdc.emulator.db import Database
from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import firewall
from tests.conftest import TestKey
from tests.emulator.own_emulator import two_account_server
from tests.emulator.signing import SignedClient, Signer

RIVAL = "rival"
DC1, DC2 = "fw-dc-1", "fw-dc-2"
PACKAGE = "g4-highcpu-128M"


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    data_dir = tmp_path_factory.mktemp("firewall-data")
    with two_account_server(keys, data_dir, other=RIVAL, datacenters=[DC1, DC2]) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    signed = SignedClient(server.urls[DC1], Signer(keys["rsa"]))
    yield signed
    signed.close()


@pytest.fixture(scope="module")
def rival(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    signed = SignedClient(server.urls[DC1], Signer(keys["ed25519"], login=RIVAL))
    yield signed
    signed.close()


@pytest.fixture(scope="module")
def dc2(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    signed = SignedClient(server.urls[DC2], Signer(keys["rsa"]))
    yield signed
    signed.close()


def create(client: SignedClient, rule: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/my/fwrules", json={"rule": rule, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def invalid(field: str, message: str) -> dict[str, Any]:
    return {
        "code": "InvalidParameters",
        "message": "Invalid parameters",
        "errors": [{"field": field, "code": "InvalidParameter", "message": message}],
    }


FORBIDDEN = {
    "code": "Forbidden",
    "message": "owner does not match",
    "errors": [
        {"field": "owner_uuid", "code": "InvalidParameter", "message": "owner_uuid does not match"}
    ],
}


def machine(client: SignedClient, name: str, **tags: Any) -> dict[str, Any]:
    images = client.get("/my/images", params={"name": "base-64-lts"}).json()
    image = max(images, key=lambda i: i["published_at"])["id"]
    body = {"image": image, "package": PACKAGE, "name": name}
    body.update({f"tag.{k}": v for k, v in tags.items()})
    response = client.post("/my/machines", json=body)
    assert response.status_code == 201, response.text
    time.sleep(0.01)  # the zero-delay provision job lands after 1 ms
    made: dict[str, Any] = client.get(f"/my/machines/{response.json()['id']}").json()
    assert made["state"] == "running"
    return made


@pytest.fixture(scope="module")
def web(client: SignedClient) -> dict[str, Any]:
    return machine(client, "web0", role="web", tier=2)


@pytest.fixture(scope="module")
def db(client: SignedClient) -> dict[str, Any]:
    return machine(client, "db0", role="db")


@pytest.fixture(scope="module")
def global_rule(server: EmulatorServer) -> dict[str, Any]:
    return firewall.create_global_rule(
        server.db,
        DC1,
        "FROM any TO all vms ALLOW icmp TYPE 8 CODE 0",
        enabled=True,
        description="operator ping",
        now=time.time(),
    )


# --- create --------------------------------------------------------------------------------


def test_create_answers_201_with_the_canonical_rule_and_defaults(client: SignedClient) -> None:
    response = client.post("/my/fwrules", json={"rule": "from any to tag www allow TCP port 80"})
    assert response.status_code == 201
    assert "Location" not in response.headers
    rule = response.json()
    assert uuid.UUID(rule["id"])
    assert rule == {
        "id": rule["id"],
        "rule": 'FROM any TO tag "www" ALLOW tcp PORT 80',
        "enabled": False,
        "log": False,
    }


def test_create_keeps_enabled_log_and_description(client: SignedClient) -> None:
    rule = create(
        client, "FROM any TO all vms ALLOW tcp PORT 22", enabled=True, log=True, description="ssh"
    )
    assert (rule["enabled"], rule["log"], rule["description"]) == (True, True, "ssh")
    assert client.get(f"/my/fwrules/{rule['id']}").json() == rule


@pytest.mark.parametrize("body", [{}, {"rule": ""}, {"enabled": True}])
def test_create_without_rule_is_missing_parameter(client: SignedClient, body: Any) -> None:
    response = client.post("/my/fwrules", json=body)
    assert error(response) == (
        409,
        {"code": "MissingParameter", "message": "rule is a required argument"},
    )


def test_create_with_bad_syntax_is_fwapi_invalid_parameters(client: SignedClient) -> None:
    response = client.post("/my/fwrules", json={"rule": "FROM foo TO all vms ALLOW tcp port 1"})
    message = (
        "Error at character 4: 'foo', expected: '(', 'all', 'any', 'ip', 'subnet', 'tag', 'vm',"
        " found: word"
    )
    assert error(response) == (422, invalid("rule", message))


def test_create_refuses_rules_that_affect_no_vms_and_bad_flags(client: SignedClient) -> None:
    response = client.post("/my/fwrules", json={"rule": "FROM any TO any ALLOW tcp port 1"})
    assert error(response) == (422, invalid("rule", "rule does not affect VMs"))
    response = client.post(
        "/my/fwrules", json={"rule": "FROM any TO all vms ALLOW tcp port 1", "enabled": "yes"}
    )
    assert error(response) == (422, invalid("enabled", "enabled must be true or false"))


# --- get, list -----------------------------------------------------------------------------


def test_get_errors(client: SignedClient, rival: SignedClient) -> None:
    missing = str(uuid.uuid4())
    assert error(client.get(f"/my/fwrules/{missing}")) == (
        404,
        {"code": "ResourceNotFound", "message": "Rule not found"},
    )
    assert error(client.get("/my/fwrules/not-a-uuid")) == (422, invalid("uuid", "Invalid UUID"))
    theirs = create(rival, "FROM any TO all vms ALLOW tcp PORT 8080")
    assert error(client.get(f"/my/fwrules/{theirs['id']}")) == (403, FORBIDDEN)


def test_list_shows_own_and_global_rules_of_this_datacenter_only(
    client: SignedClient, rival: SignedClient, dc2: SignedClient, global_rule: dict[str, Any]
) -> None:
    mine = create(client, "FROM any TO tag listed ALLOW udp PORT 53")
    theirs = create(rival, "FROM any TO tag listed ALLOW udp PORT 54")
    listed = {r["id"]: r for r in client.get("/my/fwrules").json()}
    assert listed[mine["id"]] == mine
    assert listed[global_rule["id"]] == {
        "id": global_rule["id"],
        "rule": "FROM any TO all vms ALLOW icmp TYPE 8 CODE 0",
        "enabled": True,
        "log": False,
        "global": True,
        "description": "operator ping",
    }
    assert theirs["id"] not in listed
    assert client.get(f"/my/fwrules/{global_rule['id']}").json() == listed[global_rule["id"]]
    other_dc = {r["id"] for r in dc2.get("/my/fwrules").json()}
    assert mine["id"] not in other_dc and global_rule["id"] not in other_dc
    assert dc2.get(f"/my/fwrules/{mine['id']}").status_code == 404
    head = client.head("/my/fwrules")
    assert head.status_code == 200 and head.content == b""


def test_list_is_oldest_first_with_global_rules_in_their_place(
    client: SignedClient, rival: SignedClient, server: EmulatorServer
) -> None:
    made: list[str] = []
    for port in range(1000, 1030):
        made.append(create(client, f"FROM any TO tag ordered ALLOW tcp PORT {port}")["id"])
        create(rival, f"FROM any TO tag ordered ALLOW tcp PORT {port}")
        if port == 1015:
            rule = firewall.create_global_rule(
                server.db, DC1, "FROM any TO all vms ALLOW tcp PORT 1015", now=time.time()
            )
            made.append(rule["id"])
    listed = [r["id"] for r in client.get("/my/fwrules").json()]
    assert [i for i in listed if i in made] == made
    assert listed.index(made[-1]) == len(listed) - 1


def test_the_lists_content_md5_is_its_bodys_as_rules_come_and_go(client: SignedClient) -> None:
    def listed() -> list[dict[str, Any]]:
        response = client.get("/my/fwrules")
        assert response.status_code == 200
        digest = base64.b64encode(hashlib.md5(response.content).digest()).decode()
        assert response.headers["content-md5"] == digest
        rules: list[dict[str, Any]] = response.json()
        return rules

    before = len(listed())
    first = create(client, "FROM any TO tag md5 ALLOW tcp PORT 1")
    second = create(client, "FROM any TO tag md5 ALLOW tcp PORT 2")
    assert [r["id"] for r in listed()[before:]] == [first["id"], second["id"]]
    third = create(client, "FROM any TO tag md5 ALLOW tcp PORT 3")
    assert listed()[-1] == third
    assert client.post(f"/my/fwrules/{first['id']}/enable").status_code == 200
    assert next(r for r in listed() if r["id"] == first["id"])["enabled"] is True
    assert client.delete(f"/my/fwrules/{second['id']}").status_code == 204
    assert second["id"] not in {r["id"] for r in listed()}


def test_list_of_a_datacenter_without_rules_is_an_empty_array(server: EmulatorServer) -> None:
    scope = firewall.Scope(datacenter="nowhere-1", account=str(uuid.uuid4()))
    assert firewall.list_rules(server.db, scope) == b"[]"


def test_rule_text_is_escaped_as_json_stringify_escapes_it(client: SignedClient) -> None:
    description = 'say "hi" \\ tab\there\nnew line \x01 é \u2028 😀'
    rule = create(client, "FROM any TO tag escaped ALLOW tcp PORT 7", description=description)
    assert rule["description"] == description
    listed = client.get("/my/fwrules")
    assert [r for r in listed.json() if r["id"] == rule["id"]] == [rule]
    # Compact, non-ASCII as UTF-8, control characters as JSON.stringify writes them.
    assert json.dumps(rule, separators=(",", ":"), ensure_ascii=False).encode() in listed.content
    assert b"tab\\there\\nnew line \\u0001 \xc3\xa9" in listed.content


# --- update, enable, disable, delete -------------------------------------------------------


def test_update_changes_only_the_given_fields(client: SignedClient) -> None:
    rule = create(client, "FROM any TO tag app ALLOW tcp PORT 80", description="web")
    response = client.post(
        f"/my/fwrules/{rule['id']}",
        json={"rule": "from any to tag app block tcp (port 443 and port 80)"},
    )
    assert response.status_code == 200
    assert response.json() == {
        **rule,
        "rule": 'FROM any TO tag "app" BLOCK tcp (PORT 80 AND PORT 443)',
    }
    updated = client.post(
        f"/my/fwrules/{rule['id']}", json={"enabled": True, "log": True, "description": "tls"}
    ).json()
    assert (updated["enabled"], updated["log"], updated["description"]) == (True, True, "tls")
    assert updated["rule"] == 'FROM any TO tag "app" BLOCK tcp (PORT 80 AND PORT 443)'
    assert client.get(f"/my/fwrules/{rule['id']}").json() == updated


def test_update_with_bad_rule_leaves_the_rule_alone(client: SignedClient) -> None:
    rule = create(client, "FROM any TO tag app ALLOW tcp PORT 81")
    response = client.post(
        f"/my/fwrules/{rule['id']}", json={"rule": "FROM any TO tag app ALLOW tcp PORT 0"}
    )
    assert error(response) == (422, invalid("rule", 'Port number "0" is invalid'))
    assert client.get(f"/my/fwrules/{rule['id']}").json() == rule


def test_global_and_foreign_rules_cannot_be_changed(
    client: SignedClient, rival: SignedClient, global_rule: dict[str, Any]
) -> None:
    path = f"/my/fwrules/{global_rule['id']}"
    assert error(client.post(path, json={"description": "mine now"})) == (
        409,
        {"code": "InvalidArgument", "message": "global rules cannot be modified"},
    )
    assert error(client.post(f"{path}/disable")) == (403, FORBIDDEN)
    assert error(client.delete(path)) == (403, FORBIDDEN)
    assert client.get(path).json()["enabled"] is True
    theirs = create(rival, "FROM any TO all vms ALLOW tcp PORT 9090")
    for response in (
        client.post(f"/my/fwrules/{theirs['id']}", json={"enabled": True}),
        client.post(f"/my/fwrules/{theirs['id']}/enable"),
        client.delete(f"/my/fwrules/{theirs['id']}"),
    ):
        assert error(response) == (403, FORBIDDEN)
    assert rival.get(f"/my/fwrules/{theirs['id']}").json() == theirs


def test_enable_disable_and_delete(client: SignedClient) -> None:
    rule = create(client, "FROM any TO tag toggled ALLOW tcp PORT 25")
    enabled = client.post(f"/my/fwrules/{rule['id']}/enable")
    assert enabled.status_code == 200 and enabled.json() == {**rule, "enabled": True}
    disabled = client.post(f"/my/fwrules/{rule['id']}/disable")
    assert disabled.status_code == 200 and disabled.json() == rule
    deleted = client.delete(f"/my/fwrules/{rule['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/my/fwrules/{rule['id']}").status_code == 404
    assert client.post(f"/my/fwrules/{rule['id']}/enable").status_code == 404
    assert rule["id"] not in {r["id"] for r in client.get("/my/fwrules").json()}


# --- rules and machines --------------------------------------------------------------------


def test_machine_rules_are_the_rules_that_name_it(
    client: SignedClient,
    web: dict[str, Any],
    db: dict[str, Any],
    global_rule: dict[str, Any],
) -> None:
    by_vm = create(client, f"FROM any TO vm {web['id']} ALLOW tcp PORT 443")
    by_tag = create(client, "FROM any TO tag role = web ALLOW tcp PORT 80", enabled=True)
    by_typed_tag = create(client, "FROM tag tier = 2 TO tag role = db ALLOW tcp PORT 5432")
    other_tag = create(client, "FROM any TO tag role = cache ALLOW tcp PORT 6379")
    response = client.get(f"/my/machines/{web['id']}/fwrules")
    assert response.status_code == 200
    ids = {r["id"] for r in response.json()}
    assert {by_vm["id"], by_tag["id"], by_typed_tag["id"], global_rule["id"]} <= ids
    assert other_tag["id"] not in ids
    db_ids = {r["id"] for r in client.get(f"/my/machines/{db['id']}/fwrules").json()}
    assert by_typed_tag["id"] in db_ids and global_rule["id"] in db_ids
    assert not {by_vm["id"], by_tag["id"], other_tag["id"]} & db_ids


def test_machine_rules_errors(client: SignedClient) -> None:
    assert error(client.get(f"/my/machines/{uuid.uuid4()}/fwrules")) == (
        404,
        {"code": "ResourceNotFound", "message": "VM not found"},
    )
    assert client.get("/my/machines/nope/fwrules").status_code == 409


def test_rule_machines_lists_the_machines_a_rule_applies_to(
    client: SignedClient, web: dict[str, Any], db: dict[str, Any]
) -> None:
    rule = create(client, "FROM tag tier = 2 TO tag role = db BLOCK udp PORT 53")
    response = client.get(f"/my/fwrules/{rule['id']}/machines")
    assert response.status_code == 200
    assert response.headers["x-resource-count"] == "2"
    assert sorted(m["name"] for m in response.json()) == ["db0", "web0"]
    shown = {m["id"]: m for m in response.json()}
    assert shown[web["id"]]["tags"] == {"role": "web", "tier": 2}
    nobody = create(client, "FROM any TO tag role = cache BLOCK udp PORT 53")
    empty = client.get(f"/my/fwrules/{nobody['id']}/machines")
    assert empty.json() == [] and empty.headers["x-resource-count"] == "0"
    assert client.get(f"/my/fwrules/{uuid.uuid4()}/machines").status_code == 404


def test_rule_machines_leave_out_destroyed_machines(client: SignedClient) -> None:
    doomed = machine(client, "doomed0", role="doomed")
    rule = create(client, "FROM any TO tag role = doomed ALLOW tcp PORT 1")
    assert [m["id"] for m in client.get(f"/my/fwrules/{rule['id']}/machines").json()] == [
        doomed["id"]
    ]
    assert client.delete(f"/my/machines/{doomed['id']}").status_code == 204
    time.sleep(0.01)
    assert client.get(f"/my/fwrules/{rule['id']}/machines").json() == []
    # A deleted machine's own rules can still be read.
    listed = client.get(f"/my/machines/{doomed['id']}/fwrules")
    assert listed.status_code == 200
    assert rule["id"] in {r["id"] for r in listed.json()}


def test_rules_of_a_database_from_before_stored_docs_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE fwrules (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " owner TEXT, datacenter TEXT NOT NULL, rule TEXT NOT NULL, enabled INTEGER NOT NULL,"
        " log INTEGER NOT NULL, description TEXT, created_ms INTEGER NOT NULL,"
        " updated_ms INTEGER NOT NULL)"
    )
    rule_id = str(uuid.uuid4())
    old.execute(
        "INSERT INTO fwrules VALUES (1, ?, 'acct', 'dc', 'FROM any TO all vms ALLOW tcp PORT 80',"
        " 1, 0, 'web', 0, 0)",
        (rule_id,),
    )
    old.commit()
    old.close()
    db = Database(path)
    try:
        scope = firewall.Scope("acct", "dc")
        expected = {
            "id": rule_id,
            "rule": "FROM any TO all vms ALLOW tcp PORT 80",
            "enabled": True,
            "log": False,
            "description": "web",
        }
        assert json.loads(firewall.list_rules(db, scope)) == [expected]
        assert firewall.get_rule(db, scope, rule_id) == expected
    finally:
        db.close()
