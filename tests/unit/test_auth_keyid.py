"""keyId parsing and formatting, and the names smartdc.auth exports."""

from __future__ import annotations

import pytest

from smartdc.auth import KeyId, parse_key_id

MD5 = "a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90"
SHA256_WITH_SLASH = "SHA256:ab/cdEFghIJklMNopQRstUVwxYZ0123456789+/abcd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/acct/keys/{MD5}", KeyId("acct", MD5)),
        ("/acct/keys/my key", KeyId("acct", "my key")),
        (f"/acct/users/bob/keys/{MD5}", KeyId("acct", MD5, user="bob")),
        (f"/acct/keys/{SHA256_WITH_SLASH}", KeyId("acct", SHA256_WITH_SLASH)),
        (f"/acct/users/bob/keys/{SHA256_WITH_SLASH}", KeyId("acct", SHA256_WITH_SLASH, "bob")),
    ],
)
def test_parse_and_format_round_trip(text: str, expected: KeyId) -> None:
    assert parse_key_id(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "acct/keys/k",
        "/acct/keys",
        "/acct/keys/",
        "/acct/key/k",
        "//keys/k",
        "/acct/users/bob/k",
        "/acct/users//keys/k",
        "/acct/users/bob/keys/",
        "/acct/roles/bob/keys/k",
        MD5,
    ],
)
def test_malformed_key_ids(text: str) -> None:
    with pytest.raises(ValueError, match="invalid key id"):
        parse_key_id(text)


def test_strict_matches_cloudapi_segment_counts() -> None:
    assert parse_key_id(f"/acct/keys/{MD5}", strict=True).key == MD5
    with pytest.raises(ValueError, match="contains '/'"):
        parse_key_id(f"/acct/keys/{SHA256_WITH_SLASH}", strict=True)


def test_with_key_keeps_account_and_user() -> None:
    key_id = KeyId("acct", "name", "bob").with_key(MD5)
    assert str(key_id) == f"/acct/users/bob/keys/{MD5}"


def test_public_names_resolve() -> None:
    import smartdc.auth

    assert len(set(smartdc.auth.__all__)) == len(smartdc.auth.__all__)
    for name in smartdc.auth.__all__:
        assert getattr(smartdc.auth, name) is not None, name
