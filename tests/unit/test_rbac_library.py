"""RBAC in the library: roles and act-as on the wire, access-key fields, role tags, 403s.

Requests are captured by a :class:`smartdc.transport.Sender` that records what it is given
(method, target as signed, headers, body) and answers from a queue, so the checks see exactly
the bytes a server would.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from smartdc import CloudAPI
from smartdc.auth.httpsig import parse_authorization, verify_request
from smartdc.auth.keys import parse_public_key
from smartdc.errors import CloudAPIError, InvalidArgumentError, NotAuthorizedError
from smartdc.objects import DataCenter, Machine
from smartdc.transport import Headers, RawResponse
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import signer_for

URL = "https://cloudapi.test"
NOWHERE = "http://127.0.0.1:9"
MID = "b6979942-7d5d-4fe6-a2ec-b812e950625a"
UID = "4fc13ac6-1e7d-cd79-f3d2-96276af0d638"
AKID = "e4ab3c4e1e4fb12f8b34f9f3eb8d5d63"
RBAC_403 = f"You do not have permission to access /test/machines/{MID} (getmachine)"


@dataclass
class Sent:
    """One request as the sender got it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes | None

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def json(self) -> Any:
        return None if self.body is None else json.loads(self.body)


@dataclass
class RecordingSender:
    """A :class:`~smartdc.transport.Sender` that records requests and answers from a queue
    (``200 {}`` once the queue is empty)."""

    sent: list[Sent] = field(default_factory=list)
    answers: deque[RawResponse] = field(default_factory=deque)

    def answer(
        self, status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> RecordingSender:
        content = b"" if body is None else json.dumps(body).encode()
        items = [("Content-Type", "application/json"), ("Request-Id", "req-1")]
        self.answers.append(
            RawResponse(status, Headers([*items, *(headers or {}).items()]), content)
        )
        return self

    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        self.sent.append(Sent(method, target, {k.lower(): v for k, v in headers.items()}, body))
        if self.answers:
            return self.answers.popleft()
        return RawResponse(200, Headers([("Content-Type", "application/json")]), b"{}")

    def close(self) -> None:
        pass

    @property
    def last(self) -> Sent:
        return self.sent[-1]


@pytest.fixture
def key(keys: dict[str, TestKey]) -> TestKey:
    return keys["ed25519"]


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


def client(key: TestKey, sender: RecordingSender, **options: Any) -> CloudAPI:
    options.setdefault("account", "test")
    return CloudAPI(URL, signer=signer_for(key), sender=sender, retries=0, **options)


def signature_covers(key: TestKey, method: str, target: str, headers: Mapping[str, str]) -> bool:
    parsed = parse_authorization(headers["authorization"], headers)
    public = parse_public_key(key.pub_path.read_text())
    return verify_request(parsed, public, method, target, headers)


# --- as-role and act-as ------------------------------------------------------------------------


def test_roles_go_on_every_request_as_a_signed_as_role_parameter(
    key: TestKey, sender: RecordingSender
) -> None:
    api = client(key, sender, roles=["ops", " dev "])
    assert api.roles == ("ops", "dev")
    # one call per way a request is built: query, body, each method, an absolute path
    api.get_machine(MID, credentials=True)
    api.list_keys()
    api.rename_machine(MID, "web-2")
    api.delete_machine(MID)
    api.request("HEAD", "machines")
    api.ping()
    api.set_role_tags(f"machines/{MID}", ["ops"])
    api.update_access_key(AKID, status="Inactive")
    assert [s.method for s in sender.sent] == [
        "GET",
        "GET",
        "POST",
        "DELETE",
        "HEAD",
        "GET",
        "PUT",
        "POST",
    ]
    assert sender.sent[0].query == "credentials=true&as-role=ops%2Cdev"
    assert sender.sent[1].target == "/test/keys?as-role=ops%2Cdev"
    assert sender.sent[5].target == "/--ping?as-role=ops%2Cdev"
    for sent in sender.sent:
        assert sent.query.endswith("as-role=ops%2Cdev"), sent.target
        assert signature_covers(key, sent.method, sent.target, sent.headers), sent.target
        # the query is part of what is signed: without it the signature does not hold
        assert not signature_covers(key, sent.method, sent.path, sent.headers), sent.target


def test_websocket_upgrades_carry_the_roles_in_their_signed_url(
    key: TestKey, sender: RecordingSender
) -> None:
    api = client(key, sender, roles=["ops"])
    for upgrade in (api.get_changefeed(), api.connect_machine_vnc(MID)):
        target = upgrade.url.removeprefix("wss://cloudapi.test")
        assert target.endswith("?as-role=ops"), upgrade.url
        headers = {k.lower(): v for k, v in upgrade.headers.items()}
        assert signature_covers(key, "GET", target, headers)
        assert not signature_covers(key, "GET", target.partition("?")[0], headers)
    assert sender.sent == []


def test_without_roles_no_as_role_is_sent(key: TestKey, sender: RecordingSender) -> None:
    api = client(key, sender, roles=["", "  "])
    assert api.roles == ()
    api.list_keys()
    assert "as-role" not in sender.last.target
    assert "as-role" not in api.get_changefeed().url


def test_act_as_paths_name_the_other_account_and_the_key_id_the_signer(
    key: TestKey, sender: RecordingSender
) -> None:
    api = client(key, sender, account="ops-admin", act_as="corp", roles=["auditor"])
    api.list_keys()
    assert sender.last.target == "/corp/keys?as-role=auditor"
    assert f'keyId="/ops-admin/keys/{key.md5}"' in sender.last.headers["authorization"]


def test_datacenter_passes_user_roles_and_act_as_to_its_client(key: TestKey) -> None:
    dc = DataCenter(
        location=NOWHERE,
        key_id=key.md5,
        login="acme",
        user="bob",
        secret=key.path,
        roles=["ops", "dev"],
        act_as="corp",
    )
    assert (dc.login, dc.act_as) == ("corp", "corp")
    assert dc.api.account == "corp"
    assert dc.api.key_id == f"/acme/users/bob/keys/{key.md5}"
    assert (dc.api.user, dc.api.roles) == ("bob", ("ops", "dev"))
    assert dc.url == f"{NOWHERE}/corp/"


def test_another_datacenter_keeps_the_user_roles_and_act_as(key: TestKey) -> None:
    dc = DataCenter(
        location=NOWHERE,
        key_id=f"/acme/users/bob/keys/{key.md5}",
        secret=key.path,
        roles=["ops"],
        act_as="corp",
        known_locations={"lab-2": "http://127.0.0.1:10"},
    )
    lab = dc.datacenter("lab-2")
    assert lab.base_url == "http://127.0.0.1:10"
    assert (lab.login, lab.act_as) == ("corp", "corp")
    assert (lab.api.account, lab.api.user, lab.api.roles) == ("corp", "bob", ("ops",))
    assert lab.api.key_id == dc.api.key_id
    plain = DataCenter(location=NOWHERE, key_id=f"/acme/keys/{key.md5}", secret=key.path)
    other = plain.datacenter("http://127.0.0.1:11")
    assert (other.login, other.act_as, other.api.account, other.api.roles) == (
        "acme",
        None,
        "acme",
        (),
    )


def test_roles_must_be_a_list(key: TestKey) -> None:
    with pytest.raises(TypeError, match="list of role names"):
        DataCenter(location=NOWHERE, key_id=f"/acme/keys/{key.md5}", secret=key.path, roles="ops")


# --- access keys -------------------------------------------------------------------------------


def test_create_access_key_sends_status_and_description_only_when_given(
    key: TestKey, sender: RecordingSender
) -> None:
    created = {"accesskeyid": AKID, "accesskeysecret": "tdc_s3cret", "status": "Inactive"}
    sender.answer(201, created).answer(201, created).answer(201, created)
    api = client(key, sender)
    api.create_access_key()
    assert (sender.last.method, sender.last.target, sender.last.body) == (
        "POST",
        "/test/accesskeys",
        None,
    )
    assert "content-type" not in sender.last.headers
    assert api.create_access_key(status="Inactive", description="ci robot") == created
    assert sender.last.json() == {"status": "Inactive", "description": "ci robot"}
    assert sender.last.headers["content-type"] == "application/json"
    api.create_user_access_key({"id": UID, "login": "bob"}, description="bob's robot")
    assert sender.last.target == f"/test/users/{UID}/accesskeys"
    assert sender.last.json() == {"description": "bob's robot"}


def test_update_access_key_posts_the_fields_to_the_key(
    key: TestKey, sender: RecordingSender
) -> None:
    updated = {"accesskeyid": AKID, "status": "Inactive", "description": "old"}
    sender.answer(201, updated)
    api = client(key, sender)
    assert api.update_access_key(AKID, status="Inactive") == updated
    assert (sender.last.method, sender.last.target) == ("POST", f"/test/accesskeys/{AKID}")
    assert sender.last.json() == {"status": "Inactive"}

    api.update_user_access_key("bob", {"accesskeyid": AKID}, status="Active", description="d")
    assert (sender.last.method, sender.last.target) == (
        "POST",
        f"/test/users/bob/accesskeys/{AKID}",
    )
    assert sender.last.json() == {"status": "Active", "description": "d"}


def test_an_update_without_fields_is_refused_before_sending(
    key: TestKey, sender: RecordingSender
) -> None:
    api = client(key, sender)
    with pytest.raises(ValueError, match="status or description"):
        api.update_access_key(AKID)
    with pytest.raises(ValueError, match="status or description"):
        api.update_user_access_key("bob", AKID, status=None)
    assert sender.sent == []


# --- 403 NotAuthorized -------------------------------------------------------------------------


def test_an_rbac_refusal_names_the_action_and_the_resource(
    key: TestKey, sender: RecordingSender
) -> None:
    sender.answer(403, {"code": "NotAuthorized", "message": RBAC_403})
    with pytest.raises(NotAuthorizedError) as caught:
        client(key, sender, roles=["ops"]).get_machine(MID)
    error = caught.value
    assert (error.status, error.code) == (403, "NotAuthorized")
    assert (error.resource, error.action) == (f"/test/machines/{MID}", "getmachine")
    assert error.message == RBAC_403  # CloudAPI's wording is kept
    assert error.hint is None
    text = str(error)
    assert text.startswith(
        f"403 NotAuthorized: not allowed to getmachine /test/machines/{MID} (request req-1)"
    )
    assert "role-tagged" in text and "as-role" in text and "allows getmachine" in text


def test_an_unknown_requested_role_names_the_account(key: TestKey, sender: RecordingSender) -> None:
    message = "You do not have permission to access test"
    sender.answer(403, {"code": "NotAuthorized", "message": message})
    with pytest.raises(NotAuthorizedError) as caught:
        client(key, sender, roles=["nope"]).list_machines()
    error = caught.value
    assert (error.resource, error.action) == ("test", None)
    assert str(error).startswith("403 NotAuthorized: not allowed to act on account test")
    assert "as-role" in str(error)


@pytest.mark.parametrize(
    "message",
    ["Account or user is disabled", "Forbidden (ask support)", "Quota exceeded; contact Support"],
)
def test_other_refusals_have_no_resource_or_action(message: str) -> None:
    error = NotAuthorizedError(message, status=403, request_id="r-9")
    assert (error.resource, error.action) == (None, None)
    assert str(error) == f"403 NotAuthorized: {message} (request r-9)"


def test_a_refusal_keeps_its_parts_when_a_subject_is_added() -> None:
    error = NotAuthorizedError(RBAC_403, status=403).about(f"machine {MID}")
    assert isinstance(error, NotAuthorizedError)
    assert (error.resource, error.action) == (f"/test/machines/{MID}", "getmachine")
    assert str(error).startswith(
        f"403 NotAuthorized: machine {MID}: not allowed to getmachine /test/machines/{MID}\n"
    )


def test_a_given_hint_replaces_the_advice() -> None:
    error = NotAuthorizedError(RBAC_403, status=403, hint="ask the account owner")
    assert str(error).endswith("\n  hint: ask the account owner")
    assert str(error).count("hint:") == 1


def test_the_error_code_with_an_error_suffix_is_the_same_class(
    key: TestKey, sender: RecordingSender
) -> None:
    sender.answer(403, {"code": "NotAuthorizedError", "message": RBAC_403})
    with pytest.raises(NotAuthorizedError) as caught:
        client(key, sender).get_machine(MID)
    assert caught.value.action == "getmachine"


# --- role tags ---------------------------------------------------------------------------------


def test_role_tags_are_read_from_the_role_tag_header_of_a_get(
    key: TestKey, sender: RecordingSender
) -> None:
    sender.answer(200, {"id": MID}, {"role-tag": "ops, dev,,"}).answer(200, {"login": "test"})
    sender.answer(200, {"name": "k"}, {"Role-Tag": "keys-admin"})
    api = client(key, sender)
    assert api.get_role_tags(f"machines/{MID}") == ["ops", "dev"]
    assert (sender.last.method, sender.last.target) == ("GET", f"/test/machines/{MID}")
    assert api.get_role_tags("") == []  # no header: no tags
    assert sender.last.target == "/test"
    assert api.get_role_tags("/my/users/bob/keys/k1") == ["keys-admin"]
    assert sender.last.target == "/test/users/bob/keys/k1"


def test_role_tags_of_something_untaggable_are_refused_before_sending(
    key: TestKey, sender: RecordingSender
) -> None:
    api = client(key, sender)
    with pytest.raises(ValueError, match="not a resource that takes role tags"):
        api.get_role_tags("volumes/v1")
    assert sender.sent == []


def datacenter_on(key: TestKey, sender: RecordingSender) -> DataCenter:
    return DataCenter(key_id=f"/test/keys/{key.md5}", api=client(key, sender))


def test_machine_role_tag_helpers(key: TestKey, sender: RecordingSender) -> None:
    dc = datacenter_on(key, sender)
    machine = Machine(dc, data={"id": MID, "name": "web"})
    sender.answer(200, {"id": MID}, {"role-tag": "ops"})
    assert machine.role_tags() == ["ops"]
    assert (sender.last.method, sender.last.target) == ("GET", f"/test/machines/{MID}")

    answer = {"name": f"/test/machines/{MID}", "role-tag": ["ops", "dev"]}
    sender.answer(200, answer).answer(200, {"name": f"/test/machines/{MID}", "role-tag": []})
    assert machine.set_role_tags(["ops", "dev"]) == ["ops", "dev"]
    assert (sender.last.method, sender.last.target) == ("PUT", f"/test/machines/{MID}")
    assert sender.last.json() == {"role-tag": ["ops", "dev"]}
    assert machine.set_role_tags([]) == []
    assert sender.last.json() == {"role-tag": []}


def test_datacenter_set_role_tags_on_any_resource(key: TestKey, sender: RecordingSender) -> None:
    dc = datacenter_on(key, sender)
    sender.answer(200, {"name": "/test/machines", "role-tag": ["ops"]})
    assert dc.set_role_tags("machines", ["ops"]) == ["ops"]
    assert (sender.last.method, sender.last.target) == ("PUT", "/test/machines")
    sender.answer(200, {"name": "/test", "role-tag": []})
    assert dc.set_role_tags("", []) == []
    assert sender.last.target == "/test"
    sender.answer(200, {}, {"role-tag": "ops"})
    assert dc.role_tags("/test/machines") == ["ops"]
    assert sender.last.target == "/test/machines"
    with pytest.raises(TypeError, match="list of role names"):
        dc.set_role_tags("machines", "ops")


def test_an_unknown_role_in_a_tag_is_an_invalid_argument(
    key: TestKey, sender: RecordingSender
) -> None:
    message = "Role(s) nope not found"
    sender.answer(409, {"code": "InvalidArgument", "message": message})
    with pytest.raises(InvalidArgumentError, match=r"Role\(s\) nope not found"):
        datacenter_on(key, sender).set_role_tags("machines", ["nope"])


def test_users_roles_and_policies_are_listed_as_dicts(
    key: TestKey, sender: RecordingSender
) -> None:
    user = {"id": UID, "login": "bob", "email": "bob@example.com"}
    role = {"id": "r1", "name": "ops", "members": [], "policies": [{"name": "read"}]}
    policy = {"id": "p1", "name": "read", "rules": ["CAN getmachine"]}
    sender.answer(200, [user]).answer(200, [role]).answer(200, [policy])
    dc = datacenter_on(key, sender)
    assert dc.users() == [user]
    assert dc.roles() == [role]
    assert dc.policies() == [policy]
    assert [s.target for s in sender.sent] == ["/test/users", "/test/roles", "/test/policies"]


def test_an_error_from_a_role_helper_is_a_cloudapi_error(
    key: TestKey, sender: RecordingSender
) -> None:
    sender.answer(404, {"code": "ResourceNotFound", "message": "/test/users does not exist"})
    with pytest.raises(CloudAPIError, match="does not exist"):
        datacenter_on(key, sender).users()
