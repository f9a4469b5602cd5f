"""Access key operations: the account's and its sub-users' access keys (CloudAPI 9.11+)."""

from __future__ import annotations

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api.users import user_ref


def _key_id(key: Ref) -> str:
    return _id_of(key, "accesskeyid")


class AccessKeysMixin(ApiBase):
    """Access keys (an id and a secret) for services that authenticate that way."""

    def list_access_keys(self) -> list[JSONObject]:
        """ListAccessKeys: ``GET /:account/accesskeys``."""
        return self._objects("GET", "accesskeys")

    def get_access_key(self, accesskeyid: Ref) -> JSONObject:
        """GetAccessKey: ``GET /:account/accesskeys/:accesskeyid``."""
        return self._object("GET", _path("accesskeys", _key_id(accesskeyid)))

    def create_access_key(self) -> JSONObject:
        """CreateAccessKey: ``POST /:account/accesskeys``.

        Returns the new key: ``accesskeyid``, ``accesskeysecret`` (shown only now),
        ``created`` and ``status``.
        """
        return self._object("POST", "accesskeys")

    def delete_access_key(self, accesskeyid: Ref) -> None:
        """DeleteAccessKey: ``DELETE /:account/accesskeys/:accesskeyid``."""
        self._none("DELETE", _path("accesskeys", _key_id(accesskeyid)))

    def list_user_access_keys(self, user: Ref) -> list[JSONObject]:
        """ListUserAccessKeys: ``GET /:account/users/:user/accesskeys``."""
        return self._objects("GET", _path("users", user_ref(user), "accesskeys"))

    def get_user_access_key(self, user: Ref, accesskeyid: Ref) -> JSONObject:
        """GetUserAccessKey: ``GET /:account/users/:user/accesskeys/:accesskeyid``."""
        path = _path("users", user_ref(user), "accesskeys", _key_id(accesskeyid))
        return self._object("GET", path)

    def create_user_access_key(self, user: Ref) -> JSONObject:
        """CreateUserAccessKey: ``POST /:account/users/:user/accesskeys``.

        Returns the new key, with its ``accesskeysecret`` (shown only now).
        """
        return self._object("POST", _path("users", user_ref(user), "accesskeys"))

    def delete_user_access_key(self, user: Ref, accesskeyid: Ref) -> None:
        """DeleteUserAccessKey: ``DELETE /:account/users/:user/accesskeys/:accesskeyid``."""
        self._none("DELETE", _path("users", user_ref(user), "accesskeys", _key_id(accesskeyid)))
