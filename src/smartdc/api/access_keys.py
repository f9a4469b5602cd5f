"""Access key operations: the account's and its sub-users' access keys (CloudAPI 9.11+)."""

from __future__ import annotations

from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.api.users import user_ref


def _key_id(key: Ref) -> str:
    return _id_of(key, "accesskeyid")


def _update_body(operation: str, status: str | None, description: str | None) -> JSONObject:
    body = _fields(status=status, description=description)
    if not body:
        raise ValueError(f"{operation}() needs status or description")
    return body


class AccessKeysMixin(ApiBase):
    """Access keys (an id and a secret) for services that authenticate that way.

    ``status`` is ``"Active"`` or ``"Inactive"``; ``description`` is free text. CloudAPI
    ignores an empty value for either (sdc-cloudapi lib/endpoints/accesskeys.js only copies
    non-empty ones), so a description cannot be cleared once set.
    """

    @operation
    def list_access_keys(self) -> Call[list[JSONObject]]:
        """ListAccessKeys: ``GET /:account/accesskeys``."""
        return self._objects("GET", "accesskeys")

    @operation
    def get_access_key(self, accesskeyid: Ref) -> Call[JSONObject]:
        """GetAccessKey: ``GET /:account/accesskeys/:accesskeyid``."""
        return self._object("GET", _path("accesskeys", _key_id(accesskeyid)))

    @operation
    def create_access_key(
        self, *, status: str | None = None, description: str | None = None
    ) -> Call[JSONObject]:
        """CreateAccessKey: ``POST /:account/accesskeys``, optionally with ``status`` and
        ``description`` (as ``triton accesskey create -s/-d`` sends them).

        Returns the new key: ``accesskeyid``, ``accesskeysecret`` (shown only now),
        ``created`` and ``status``. Without fields no body is sent.
        """
        body = _fields(status=status, description=description) or None
        return self._object("POST", "accesskeys", json=body)

    @operation
    def update_access_key(
        self, accesskeyid: Ref, *, status: str | None = None, description: str | None = None
    ) -> Call[JSONObject]:
        """UpdateAccessKey: ``POST /:account/accesskeys/:accesskeyid`` with ``status`` and/or
        ``description``, as ``triton accesskey update`` sends them.

        Returns the updated key (without its secret). CloudAPI 9.20 and older have no such
        route and answer 405 (:class:`~smartdc.errors.MethodNotAllowedError`).
        """
        body = _update_body("update_access_key", status, description)
        return self._object("POST", _path("accesskeys", _key_id(accesskeyid)), json=body)

    @operation
    def delete_access_key(self, accesskeyid: Ref) -> Call[None]:
        """DeleteAccessKey: ``DELETE /:account/accesskeys/:accesskeyid``."""
        return self._none("DELETE", _path("accesskeys", _key_id(accesskeyid)))

    @operation
    def list_user_access_keys(self, user: Ref) -> Call[list[JSONObject]]:
        """ListUserAccessKeys: ``GET /:account/users/:user/accesskeys``."""
        return self._objects("GET", _path("users", user_ref(user), "accesskeys"))

    @operation
    def get_user_access_key(self, user: Ref, accesskeyid: Ref) -> Call[JSONObject]:
        """GetUserAccessKey: ``GET /:account/users/:user/accesskeys/:accesskeyid``."""
        path = _path("users", user_ref(user), "accesskeys", _key_id(accesskeyid))
        return self._object("GET", path)

    @operation
    def create_user_access_key(
        self, user: Ref, *, status: str | None = None, description: str | None = None
    ) -> Call[JSONObject]:
        """CreateUserAccessKey: ``POST /:account/users/:user/accesskeys``, optionally with
        ``status`` and ``description``.

        Returns the new key, with its ``accesskeysecret`` (shown only now).
        """
        body = _fields(status=status, description=description) or None
        return self._object("POST", _path("users", user_ref(user), "accesskeys"), json=body)

    @operation
    def update_user_access_key(
        self,
        user: Ref,
        accesskeyid: Ref,
        *,
        status: str | None = None,
        description: str | None = None,
    ) -> Call[JSONObject]:
        """UpdateUserAccessKey: ``POST /:account/users/:user/accesskeys/:accesskeyid`` with
        ``status`` and/or ``description``.

        Returns the updated key (without its secret).
        """
        body = _update_body("update_user_access_key", status, description)
        path = _path("users", user_ref(user), "accesskeys", _key_id(accesskeyid))
        return self._object("POST", path, json=body)

    @operation
    def delete_user_access_key(self, user: Ref, accesskeyid: Ref) -> Call[None]:
        """DeleteUserAccessKey: ``DELETE /:account/users/:user/accesskeys/:accesskeyid``."""
        return self._none(
            "DELETE", _path("users", user_ref(user), "accesskeys", _key_id(accesskeyid))
        )
