"""Error responses become the right exceptions, carrying what CloudAPI said."""

from __future__ import annotations

import pytest

from smartdc.errors import (
    CannotDestroyMachineError,
    CloudAPIError,
    InvalidArgumentError,
    MachineGoneError,
    ResourceNotFoundError,
    ValidationFailedError,
    error_class_for,
    error_for_response,
)
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_api, reply

MID = "3f8c9a8e-6c0b-4a5e-9d7c-1a2b3c4d5e6f"


def test_not_found_carries_status_code_message_and_request_id(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(
        reply(404, {"code": "ResourceNotFound", "message": "VM not found"}, {"request-id": "r-9"})
    )
    with make_api(keys["rsa"], recorder) as api, pytest.raises(ResourceNotFoundError) as caught:
        api.get_machine(MID)
    error = caught.value
    assert (error.status, error.code, error.message, error.request_id) == (
        404,
        "ResourceNotFound",
        "VM not found",
        "r-9",
    )
    assert str(error) == "404 ResourceNotFound: VM not found (request r-9)"


def test_gone_carries_the_deleted_machine(keys: dict[str, TestKey]) -> None:
    machine = {"id": MID, "name": "web", "state": "deleted"}
    recorder = Recorder().add(reply(410, machine))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(MachineGoneError) as caught:
        api.get_machine(MID)
    assert caught.value.status == 410
    assert caught.value.machine == machine
    assert "deleted" in str(caught.value)


def test_backend_field_errors_are_rendered(keys: dict[str, TestKey]) -> None:
    body = {
        "code": "ValidationFailed",
        "message": "Invalid Parameters",
        "errors": [{"field": "limit", "code": "Invalid", "message": "invalid limit"}],
    }
    recorder = Recorder().add(reply(409, body))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(ValidationFailedError) as caught:
        api.list_machines(limit=5000)
    assert caught.value.errors == body["errors"]
    assert "\n  limit: Invalid: invalid limit" in str(caught.value)


def test_error_bodies_that_are_not_json(keys: dict[str, TestKey]) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1>\n" + b"x" * 1000 + b"</body></html>"
    recorder = Recorder().add(reply(502, page, {"content-type": "text/html"}), reply(500))
    with make_api(keys["rsa"], recorder, retries=0) as api:
        with pytest.raises(CloudAPIError) as caught:
            api.get_account()
        assert type(caught.value) is CloudAPIError
        assert caught.value.status == 502
        assert caught.value.code is None
        assert caught.value.message.startswith("<html><body><h1>502 Bad Gateway</h1> xxx")
        assert len(caught.value.message) <= 300
        assert caught.value.body == page.decode()
        with pytest.raises(CloudAPIError, match="HTTP 500"):
            api.get_account()


def test_code_suffixes_and_nested_bodies_map_to_the_same_class() -> None:
    suffixed = error_for_response(409, {"code": "CannotDestroyMachineError", "message": "no"})
    assert isinstance(suffixed, CannotDestroyMachineError)
    nested = error_for_response(409, {"error": {"code": "InvalidArgument", "message": "bad"}})
    assert isinstance(nested, InvalidArgumentError)
    assert nested.message == "bad"


def test_unknown_codes_and_plain_messages_keep_what_the_server_said() -> None:
    unknown = error_for_response(409, {"code": "ImageNotShared", "message": "not shared"})
    assert type(unknown) is CloudAPIError
    assert unknown.code == "ImageNotShared"
    plain = error_for_response(500, {"message": "request expired"})
    assert (plain.code, plain.message) == (None, "request expired")
    assert error_class_for(None) is CloudAPIError


def test_a_hint_is_kept_and_shown() -> None:
    error = error_for_response(
        401, {"code": "InvalidCredentials", "message": "bad"}, "r-1", hint="check the clock"
    )
    assert error.hint == "check the clock"
    assert str(error).endswith("(request r-1)\n  hint: check the clock")


def test_about_names_the_subject_and_keeps_everything_else() -> None:
    body = {"code": "ResourceNotFound", "message": "VM not found"}
    error = error_for_response(404, body, "r-7", hint="a hint")
    named = error.about("machine 1234")
    assert type(named) is type(error)
    assert isinstance(named, ResourceNotFoundError)
    assert (named.status, named.code, named.request_id, named.body, named.hint) == (
        404,
        "ResourceNotFound",
        "r-7",
        body,
        "a hint",
    )
    assert named.message == "machine 1234: VM not found"
    assert str(named).startswith("404 ResourceNotFound: machine 1234: VM not found (request r-7)")
