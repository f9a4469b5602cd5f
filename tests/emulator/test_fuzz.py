"""Schemathesis fuzzes a private emulator through the emulator's own ``/openapi.json``.

Every operation but the WebSocket upgrades gets generated requests, valid and invalid, each
signed with the account's key. Each answer must not be a 5xx and must match what the
document says of its operation: a documented status, its content type, its headers and its
body schema. The account holds one of each resource (:class:`Stock`, put back after an
operation destroyed something); path parameters and some bodies are drawn from those as
often as from the generator, so requests reach past the 404s. Emulator bugs found and not
yet fixed go in :data:`KNOWN_BUGS`; the ones found and fixed keep a test of their own.

A few examples per operation keep CI short; ``make fuzz`` sets ``SMARTDC_FUZZ_EXAMPLES`` for
a long run (``SMARTDC_FUZZ_SEED`` replays one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from schemathesis import Case, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from smartdc.auth.httpsig import format_http_date
from smartdc.emulator.openapi import build_openapi
from smartdc.emulator.routes import all_routes
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.signing import SignedClient, Signer

CI_EXAMPLES = 4
EXAMPLES = int(os.environ.get("SMARTDC_FUZZ_EXAMPLES", str(CI_EXAMPLES)))
SEED = os.environ.get("SMARTDC_FUZZ_SEED")
#: The WebSocket upgrades are not HTTP request/response pairs a fuzzer can judge.
NOT_FUZZED = ["GetChangefeed", "ConnectMachineVNC"]
#: Ranges real clients send, and one no route serves.
VERSION_RANGES = ["~9||~8", "~9", "~8", "~7.2", "7.0", "*", "~6"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: The account key the fuzzer may delete (the signing key is named after its file, ``rsa``).
SPARE_KEY = "spare"


#: Emulator bugs the fuzzer found that are not fixed yet: a case that meets one is not sent,
#: so that a run goes on looking for new problems. (None open.)
KNOWN_BUGS: tuple[Callable[[Case[Any]], bool], ...] = ()


class SignatureAuth(requests.auth.AuthBase):
    """Signs each prepared request as CloudAPI clients do: ``(request-target) date``."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        date = format_http_date()
        target = request.path_url
        request.headers["Date"] = date
        request.headers["Authorization"] = self.signer.sign(
            str(request.method), target, {"date": date}
        )
        return request


class Stock:
    """One of each resource on the fuzzed account, put back when fuzzing destroyed or moved
    it; :data:`KNOWN` gets the path values that name them."""

    def __init__(self, client: SignedClient, spare_key: str) -> None:
        self.client = client
        self.spare_key = spare_key
        self.ids: dict[str, str] = {}
        self.serial = 0

    def _name(self, stem: str) -> str:
        self.serial += 1
        return f"{stem}{self.serial}"

    def _ok(self, path: str) -> dict[str, Any] | None:
        response = self.client.get(path)
        return response.json() if response.status_code == 200 else None

    def _created(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        assert response.status_code in (200, 201), (path, response.text)
        created: dict[str, Any] = response.json()
        return created

    def _until(self, path: str, state: str) -> None:
        for _ in range(200):
            found = self._ok(path)
            if found is None or found.get("state") == state:
                return
            time.sleep(0.01)

    def _machine(self, key: str, body: dict[str, Any], state: str) -> str:
        """The machine ``key`` in ``state``, created from ``body`` if it is gone."""
        path = f"/my/machines/{self.ids.get(key)}"
        found = self._ok(path) if key in self.ids else None
        if found is None:
            self.ids[key] = self._created("/my/machines", body)["id"]
            path = f"/my/machines/{self.ids[key]}"
            self._until(path, "running")
            found = self._ok(path)
        if found is not None and found["state"] != state:
            action = "stop" if state == "stopped" else "start"
            self.client.post(path, params={"action": action})
            self._until(path, state)
        return self.ids[key]

    def _keep(self, key: str, path: str, create: str, body: dict[str, Any] | None) -> str:
        """The id of resource ``key`` (``path`` + id to read it), created at ``create``."""
        if key not in self.ids or self._ok(f"{path}/{self.ids[key]}") is None:
            created = self._created(create, body)
            self.ids[key] = str(created.get("id") or created.get("accesskeyid"))
        return self.ids[key]

    def fill(self) -> None:
        """Put back whatever is missing, then publish the path values."""
        images = self.client.get("/my/images").json()
        base = max((i for i in images if i["name"] == "base-64-lts"), key=lambda i: i["version"])
        hvm = next(i for i in images if i["type"] == "zvol" and i["requirements"].get("brand"))
        machine = self._machine(
            "machine",
            {
                "image": base["id"],
                "package": "g4-highcpu-128M",
                "tag.role": "web",
                "metadata.backup": "nightly",
            },
            "running",
        )
        bhyve = self._machine(
            "bhyve", {"image": hvm["id"], "package": "b1-flex-1G", "brand": "bhyve"}, "stopped"
        )
        if self._ok(f"/my/machines/{machine}/snapshots/first") is None:
            self.client.post(f"/my/machines/{machine}/snapshots", json={"name": "first"})
        image = self._keep(
            "image",
            "/my/images",
            "/my/images",
            {"machine": bhyve, "name": self._name("img"), "version": "1.0.0"},
        )
        if self._ok(f"/my/keys/{SPARE_KEY}") is None:
            self.client.post("/my/keys", json={"name": SPARE_KEY, "key": self.spare_key})
        user_body = {
            "login": self._name("fuzzer"),
            "email": "f@example.com",
            "password": "Fuzz-1234",
        }
        user = self._keep("user", "/my/users", "/my/users", user_body)
        login = str((self._ok(f"/my/users/{user}") or {}).get("login", user))
        if self._ok(f"/my/users/{user}/keys/uk") is None:
            self.client.post(f"/my/users/{user}/keys", json={"key": self.spare_key, "name": "uk"})
        user_keys = self.client.get(f"/my/users/{user}/accesskeys").json()
        if not user_keys:
            user_keys = [self._created(f"/my/users/{user}/accesskeys")]
        policy = self._keep(
            "policy", "/my/policies", "/my/policies", {"name": self._name("p"), "rules": ["CAN x"]}
        )
        role = self._keep("role", "/my/roles", "/my/roles", {"name": self._name("r")})
        access = self._keep("access", "/my/accesskeys", "/my/accesskeys", None)
        rule = self._keep(
            "rule", "/my/fwrules", "/my/fwrules", {"rule": "FROM any TO all vms ALLOW tcp PORT 22"}
        )
        vlans = "/my/fabrics/default/vlans"
        for vlan_id in (10, 11):
            if self._ok(f"{vlans}/{vlan_id}") is None:
                self.client.post(vlans, json={"vlan_id": vlan_id, "name": f"fuzz{vlan_id}"})
        network = self._keep(
            "network",
            f"{vlans}/10/networks",
            f"{vlans}/10/networks",
            {
                "name": self._name("net"),
                "subnet": f"10.{50 + self.serial % 100}.0.0/24",
                "provision_start_ip": f"10.{50 + self.serial % 100}.0.10",
                "provision_end_ip": f"10.{50 + self.serial % 100}.0.200",
            },
        )
        volume = self._keep(
            "volume", "/my/volumes", "/my/volumes", {"type": "tritonnfs", "name": self._name("v")}
        )
        networks = self.client.get("/my/networks").json()
        private = next(n["id"] for n in networks if not n["public"] and not n.get("fabric"))
        found = self._ok(f"/my/machines/{machine}") or {"ips": []}
        nics = self.client.get(f"/my/machines/{machine}/nics").json()
        disks = self.client.get(f"/my/machines/{bhyve}/disks").json()
        for disk in disks[1:2]:
            if disk["size"] > 10240:  # leave room for CreateMachineDisk
                self.client.post(
                    f"/my/machines/{bhyve}/disks/{disk['id']}",
                    json={"size": 10240, "dangerous_allow_shrink": True},
                )
        machines = [machine, bhyve]
        KNOWN.clear()
        KNOWN.update(
            {
                "login": ["my", ACCOUNT],
                "machines/{id}": machines,
                "machines/{instance_id}": machines,
                "migrations/{id}": machines,
                "images/{id}": [image, base["id"]],
                "packages/{id}": ["g4-highcpu-128M"],
                "networks/{id}": [private, network],
                "ips/{ip_address}": found["ips"][-1:] or ["10.64.0.10"],
                "fwrules/{id}": [rule],
                "volumes/{id}": [volume],
                "users/{user}": [login, user],
                "keys/{key}": [SPARE_KEY, "uk"],
                "roles/{role}": [role],
                "policies/{policy}": [policy],
                "accesskeys/{accesskeyid}": [access, user_keys[0]["accesskeyid"]],
                "datacenters/{name}": ["fuzz-2"],
                "vlans/{vlan_id}": [10, 11],
                "fabric/{id}": [network],
                "nics/{mac}": [n["mac"].replace(":", "") for n in nics] or ["90b8d0000000"],
                "disks/{disk_id}": [d["id"] for d in disks if isinstance(d, dict)],
                "snapshots/{name}": ["first"],
                "tags/{tag}": ["role"],
                "metadata/{key}": ["backup", "root_authorized_keys"],
            }
        )
        role_name = str((self._ok(f"/my/roles/{role}") or {}).get("name", "r"))
        fresh = self._name("x")
        BODIES.clear()
        BODIES.update(
            {
                "SetRoleTags": [{"role-tag": [role_name]}, {"role-tag": []}],
                "MachineAction": [
                    {"action": "rename", "name": fresh},
                    {"action": "resize", "package": "g4-highcpu-256M"},
                    {"action": "stop"},
                    {"action": "start"},
                ],
                "ImageAction": [
                    {"action": "update", "description": fresh},
                    {"action": "export", "manta_path": f"/{ACCOUNT}/stor/{fresh}"},
                    {"action": "clone"},
                ],
                "CreateOrImportImage": [
                    {"machine": bhyve, "name": fresh, "version": "1.0.0"},
                    {"action": "import-from-datacenter", "datacenter": "fuzz-2", "id": image},
                ],
                "ChangeUserPassword": [
                    {"password": "Fuzz-5678", "password_confirmation": "Fuzz-5678"}
                ],
                "CreateUserKey": [{"key": self.spare_key, "name": fresh}],
                "AddNic": [{"network": network}, {"network": private}],
                "CreateMachineDisk": [{"size": 1024}, {"size": 1024, "pci_slot": "0:4:7"}],
                "ResizeMachineDisk": [
                    {"size": 12288},
                    {"size": 8192, "dangerous_allow_shrink": True},
                ],
                "UpdateNetworkIP": [{"reserved": True}, {"reserved": False}],
                "CreateFabricVLAN": [{"vlan_id": 12, "name": fresh}],
                "UpdateVolume": [{"name": fresh}],
                "Migrate": [{"action": a} for a in ("begin", "sync", "pause", "abort", "watch")],
            }
        )


@pytest.fixture(scope="module")
def fuzz_server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    """A private emulator (the fuzzer fills it with junk), two datacenters for imports."""
    server = EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        datacenters=["fuzz-1", "fuzz-2"],
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        provision_delay=0.0,
    )
    with server:
        yield server


@pytest.fixture(scope="module")
def stock(fuzz_server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[Stock]:
    client = SignedClient(fuzz_server.url, Signer(keys["rsa"]))
    filled = Stock(client, keys["ed25519"].pub_path.read_text().strip())
    filled.fill()
    yield filled
    client.close()


@pytest.fixture
def restocked(stock: Stock) -> Stock:
    """The stock, refilled when the previous operation changed something."""
    if CHANGED:
        stock.fill()
        CHANGED.clear()
    return stock


@pytest.fixture(scope="module")
def fuzz_session(keys: dict[str, TestKey]) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = SignatureAuth(Signer(keys["rsa"]))
    yield session
    session.close()


def _known_key(path: str, name: str) -> str:
    """The ``known`` key for path parameter ``name`` of ``path``."""
    segments = path.split("/")
    index = segments.index(f"{{{name}}}")
    before = segments[index - 1]
    if "fabrics" in segments and name == "id":
        return "fabric/{id}"
    return f"{before}/{{{name}}}" if name != "login" else "login"


def _schema() -> Any:
    """The document the emulator serves, loaded by schemathesis, with hooks that mix the
    seeded resources into path parameters and realistic ranges into ``Accept-Version``."""
    generation: dict[str, Any] = {"max-examples": EXAMPLES, "mode": "all"}
    options: dict[str, Any] = {
        "generation": generation,
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
    if SEED is not None:
        options["seed"] = int(SEED)
    elif EXAMPLES <= CI_EXAMPLES:
        generation["deterministic"] = True  # the same requests on every CI run
    config = SchemathesisConfig.from_dict(options)
    loaded = schemathesis.openapi.from_dict(DOCUMENT, config=config)

    @loaded.hook("flatmap_path_parameters")
    def real_resources(context: HookContext, values: dict[str, Any] | None) -> Any:
        if not values or context.operation is None:
            return st.just(values)
        path = context.operation.path
        choices: dict[str, st.SearchStrategy[Any]] = {}
        for name, generated in values.items():
            seeded = KNOWN.get(_known_key(path, name), [])
            choices[name] = st.sampled_from([generated, *seeded, *seeded])
        return st.fixed_dictionaries(choices)

    @loaded.hook("flatmap_body")
    def real_bodies(context: HookContext, body: Any) -> Any:
        operation = context.operation
        if operation is None or not isinstance(body, dict | None):
            return st.just(body)
        name = str(operation.definition.raw.get("operationId", "")).split("_")[0]
        return st.sampled_from([body, *BODIES.get(name, [])])

    @loaded.hook("flatmap_headers")
    def real_versions(context: HookContext, headers: dict[str, Any] | None) -> Any:
        if not headers or "Accept-Version" not in headers:
            return st.just(headers)
        wanted = st.sampled_from([headers["Accept-Version"], *VERSION_RANGES])
        return wanted.map(lambda version: {**headers, "Accept-Version": version})

    return loaded.exclude(operation_id=NOT_FUZZED)


#: The document every emulator serves at /openapi.json (less its ``servers``).
DOCUMENT = build_openapi(all_routes())
#: Path values naming the seeded resources, filled in by :class:`Stock`.
KNOWN: dict[str, list[Any]] = {}
#: Request bodies that name the stock, by operation id (SetRoleTags: every variant).
BODIES: dict[str, list[dict[str, Any]]] = {}
#: Set when an answer says something changed (the stock may need refilling).
CHANGED: set[str] = set()
schema = _schema()
fuzzed: Callable[[Callable[..., None]], Callable[..., None]] = schema.parametrize()


@fuzzed
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_document(
    case: Case[Any],
    fuzz_server: EmulatorServer,
    fuzz_session: requests.Session,
    restocked: Stock,
) -> None:
    assume(not any(bug(case) for bug in KNOWN_BUGS))
    response = case.call_and_validate(
        base_url=fuzz_server.url,
        session=fuzz_session,
        checks=CHECKS,
        allow_redirects=False,
        timeout=30,
    )
    if case.method not in ("GET", "HEAD") and response.status_code < 300:
        CHANGED.add(case.operation.label)


def test_the_fuzzed_document_is_the_one_the_emulator_serves(fuzz_server: EmulatorServer) -> None:
    served = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=10).json()
    assert served["servers"] == [{"url": fuzz_server.url}]
    assert {k: v for k, v in served.items() if k != "servers"} == DOCUMENT


def test_the_stock_names_real_resources(stock: Stock) -> None:
    # Without real identifiers every path-parameter request would stop at a 404.
    for path, key in (("/my/machines", "machine"), ("/my/images", "image"), ("/my/users", "user")):
        assert stock.client.get(f"{path}/{stock.ids[key]}").status_code == 200
    assert KNOWN["nics/{mac}"] and KNOWN["disks/{disk_id}"]


def test_found_legacy_range_image_create_answers_201(stock: Stock) -> None:
    body = {"machine": stock.ids["bhyve"], "name": "legacy", "version": "1.0.0"}
    response = stock.client.post("/my/images", json=body, headers={"Accept-Version": "~7.2"})
    assert response.status_code == 201


def test_found_huge_vlan_id_answers_404(stock: Stock) -> None:
    response = stock.client.get(f"/my/fabrics/default/vlans/{2**63}")
    assert response.status_code == 404
