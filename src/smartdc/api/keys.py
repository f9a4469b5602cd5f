"""SSH key operations: ListKeys, GetKey, CreateKey, DeleteKey."""

from __future__ import annotations

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api._operation import Call, operation


def key_name(key: Ref) -> str:
    """A key's path segment: its name or MD5 fingerprint, or either from a key dict."""
    return _id_of(key, "fingerprint", "name")


def key_body(key: str, name: str | None) -> dict[str, str]:
    """The CreateKey / CreateUserKey body, after checking ``key`` looks like a public key."""
    if not isinstance(key, str) or len(key.split()) < 2:
        raise ValueError("key must be an OpenSSH public key line such as 'ssh-rsa AAAA...'")
    body = {"key": key.strip()}
    if name is not None:
        body["name"] = name
    return body


class KeysMixin(ApiBase):
    """The account's public SSH keys."""

    @operation
    def list_keys(self) -> Call[list[JSONObject]]:
        """ListKeys: ``GET /:login/keys``. Returns ``[{"name", "fingerprint", "key"}, ...]``."""
        return self._objects("GET", "keys")

    @operation
    def get_key(self, name_or_fp: Ref) -> Call[JSONObject]:
        """GetKey: ``GET /:login/keys/:key``.

        ``name_or_fp`` is the key's name or MD5 fingerprint (``aa:bb:...``), or a key dict.
        """
        return self._object("GET", _path("keys", key_name(name_or_fp)))

    @operation
    def create_key(self, key: str, name: str | None = None) -> Call[JSONObject]:
        """CreateKey: ``POST /:login/keys`` with ``key`` and optional ``name``.

        ``key`` is the public key in OpenSSH form (``ssh-ed25519 AAAA... comment``). Without a
        name CloudAPI uses the key's comment, else its fingerprint. Returns the new key.
        """
        return self._object("POST", "keys", json=key_body(key, name))

    @operation
    def delete_key(self, name_or_fp: Ref) -> Call[None]:
        """DeleteKey: ``DELETE /:login/keys/:key`` by name or MD5 fingerprint (or a key dict)."""
        return self._none("DELETE", _path("keys", key_name(name_or_fp)))
