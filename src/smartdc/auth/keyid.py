"""CloudAPI key ids: ``/<account>/keys/<key>`` and ``/<account>/users/<user>/keys/<key>``."""

from __future__ import annotations

from smartdc._record import Record


class KeyId(Record):
    """A parsed keyId. ``key`` is a key name or fingerprint; ``user`` names an RBAC sub-user."""

    __slots__ = ("account", "key", "user")
    account: str
    key: str
    user: str | None

    def __init__(self, account: str, key: str, user: str | None = None) -> None:
        self.account = account
        self.key = key
        self.user = user

    def __str__(self) -> str:
        if self.user is None:
            return f"/{self.account}/keys/{self.key}"
        return f"/{self.account}/users/{self.user}/keys/{self.key}"

    def with_key(self, key: str) -> KeyId:
        """The same account and user with another key part."""
        return KeyId(account=self.account, key=key, user=self.user)


def parse_key_id(text: str, *, strict: bool = False) -> KeyId:
    """Parse a keyId.

    Everything after ``.../keys/`` is the key, so a ``SHA256:`` fingerprint whose base64
    contains ``/`` parses. With ``strict=True`` the split must give exactly the 4 or 6
    segments CloudAPI itself demands (which rules such keys out).

    Raises:
        ValueError: the text is not a keyId of either form.
    """
    parts = text.split("/")
    expected = "expected /<account>/keys/<key> or /<account>/users/<user>/keys/<key>"
    if len(parts) < 4 or parts[0] != "":
        raise ValueError(f"invalid key id {text!r}: {expected}")
    if parts[2] == "keys":
        account, user, key_parts = parts[1], None, parts[3:]
    elif len(parts) >= 6 and parts[2] == "users" and parts[4] == "keys":
        account, user, key_parts = parts[1], parts[3], parts[5:]
    else:
        raise ValueError(f"invalid key id {text!r}: {expected}")
    if strict and len(key_parts) != 1:
        raise ValueError(f"invalid key id {text!r}: the key part contains '/'")
    key = "/".join(key_parts)
    if not account or not key or user == "":
        raise ValueError(f"invalid key id {text!r}: empty segment; {expected}")
    return KeyId(account=account, key=key, user=user)
