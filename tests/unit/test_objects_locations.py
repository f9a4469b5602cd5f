"""Location resolution, key ids and the ``config`` dict of the object layer."""

from __future__ import annotations

import io
import sys

import pytest

from smartdc.errors import ConfigError
from smartdc.objects.config import DEBUG_CONFIG, DEFAULT_CONFIG, read_config
from smartdc.objects.datacenter import account_of
from smartdc.objects.locations import KNOWN_LOCATIONS, location_url


def test_full_urls_are_used_as_given() -> None:
    assert location_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert location_url("https://cloudapi.example.com/") == "https://cloudapi.example.com"


def test_known_names_map_to_their_urls() -> None:
    assert location_url("us-sw-1") == KNOWN_LOCATIONS["us-sw-1"]
    assert KNOWN_LOCATIONS["us-sw-1"].startswith("https://")


def test_callers_table_wins_over_the_built_in_one() -> None:
    mine = {"us-sw-1": "http://127.0.0.1:9000", "lab": "https://lab.internal"}
    assert location_url("us-sw-1", mine) == "http://127.0.0.1:9000"
    assert location_url("lab", mine) == "https://lab.internal"


def test_hostnames_get_https() -> None:
    assert location_url("cloudapi.example.com") == "https://cloudapi.example.com"
    assert location_url("cloudapi.example.com:8443") == "https://cloudapi.example.com:8443"
    assert location_url("localhost") == "https://localhost"


@pytest.mark.parametrize(
    "bad", ["", "   ", "ftp://example.com", "http://", "https://x.example.com/?a=1", "bad host!"]
)
def test_bad_locations_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"location|URL"):
        location_url(bad)


def test_built_in_table_cannot_be_changed_by_accident() -> None:
    with pytest.raises(TypeError):
        KNOWN_LOCATIONS["evil"] = "https://evil.example.com"  # type: ignore[index]


@pytest.mark.parametrize(
    ("key_id", "account"),
    [
        ("/test/keys/test_key", "test"),
        ("/acme/keys/aa:bb:cc", "acme"),
        ("/acme/users/bob/keys/SHA256:ab+/x", "acme"),
        ("/acme/users/bob/keys/laptop", "acme"),
    ],
)
def test_the_account_comes_from_the_key_id(key_id: str, account: str) -> None:
    assert account_of(key_id) == account


@pytest.mark.parametrize("bad", ["test/keys/k", "/test/key/k", "/test/keys/", "", "aa:bb:cc"])
def test_malformed_key_ids_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="/<account>/keys/"):
        account_of(bad)


def test_debug_config_echoes_to_stderr() -> None:
    assert read_config(DEBUG_CONFIG).debug is True  # resolved to sys.stderr at each request
    assert read_config(None).debug is None
    assert read_config(DEFAULT_CONFIG).timeout == 30.0


def test_config_accepts_streams_and_timeouts() -> None:
    stream = io.StringIO()
    settings = read_config({"verbose": stream, "timeout": 5})
    assert settings.debug is stream
    assert settings.timeout == 5.0
    assert read_config({"verbose": True}).debug is True
    assert read_config({"verbose": sys.__stderr__}).debug is True
    assert read_config({"verbose": False}).debug is None


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"verbos": sys.stderr}, "unknown config key.*'verbos'"),
        ({"verbose": "stderr"}, "writable stream"),
        ({"timeout": 0}, "positive"),
        ({"timeout": "30"}, "positive"),
    ],
)
def test_bad_config_is_refused(config: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        read_config(config)


def test_a_mistyped_datacenter_name_is_refused_with_close_names() -> None:
    with pytest.raises(ConfigError) as caught:
        location_url("us-est-1")
    message = str(caught.value)
    assert "unknown datacenter 'us-est-1'" in message
    assert "did you mean" in message and "us-east-1" in message
    assert "https://us-est-1" in message  # how to mean a host of that name


def test_a_callers_name_is_suggested_too() -> None:
    with pytest.raises(ConfigError, match="did you mean lab-east"):
        location_url("lab-eats", {"lab-east": "https://lab.internal"})


def test_single_word_hosts_still_work_with_a_port_or_as_a_url() -> None:
    assert location_url("cloudapi:8443") == "https://cloudapi:8443"
    assert location_url("https://cloudapi") == "https://cloudapi"
