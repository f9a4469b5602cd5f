"""RBAC sub-user operations: users, their passwords and their SSH keys."""

from __future__ import annotations

from typing import TypedDict, Unpack

from smartdc.api._base import ApiBase, JSONObject, Ref, _check_names, _fields, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.api.keys import key_body, key_name
from smartdc.wire import USER_PROFILE_FIELDS


class UserProfile(TypedDict, total=False):
    """The optional profile fields of a sub-user, with CloudAPI's names (``None``: not sent)."""

    companyName: str | None
    firstName: str | None
    lastName: str | None
    address: str | None
    postalCode: str | None
    city: str | None
    state: str | None
    country: str | None
    phone: str | None


#: The profile fields CreateUser and UpdateUser accept (the keys of :class:`UserProfile`).
PROFILE_FIELDS = USER_PROFILE_FIELDS


def user_ref(user: Ref) -> str:
    """A user's path segment: its login or UUID, or the id (else login) of a user dict."""
    return _id_of(user, "id", "login")


class UsersMixin(ApiBase):
    """Sub-users of the account (RBAC), each with its own SSH keys."""

    def _users_path(self, *rest: str) -> str:
        return _path("users", *rest)

    # --- users -------------------------------------------------------------------------------

    @operation
    def list_users(self) -> Call[list[JSONObject]]:
        """ListUsers: ``GET /:account/users``."""
        return self._objects("GET", self._users_path())

    @operation
    def get_user(self, user: Ref, *, membership: bool = False) -> Call[JSONObject]:
        """GetUser: ``GET /:account/users/:user`` (``user`` is a login, UUID or user dict).

        ``membership=True`` adds ``roles`` and ``default_roles`` (role names).
        """
        params = {"membership": True} if membership else None
        return self._object("GET", self._users_path(user_ref(user)), params=params)

    @operation
    def create_user(
        self, *, login: str, email: str, password: str, **profile: Unpack[UserProfile]
    ) -> Call[JSONObject]:
        """CreateUser: ``POST /:account/users``.

        Required: ``login``, ``email``, ``password``. Profile fields: ``companyName``,
        ``firstName``, ``lastName``, ``address``, ``postalCode``, ``city``, ``state``,
        ``country``, ``phone``. Returns the new user.
        """
        _check_names("create_user", profile, PROFILE_FIELDS)
        body = _fields(login=login, email=email, password=password, **profile)
        return self._object("POST", self._users_path(), json=body)

    @operation
    def update_user(
        self,
        id: Ref,
        *,
        login: str | None = None,
        email: str | None = None,
        **profile: Unpack[UserProfile],
    ) -> Call[JSONObject]:
        """UpdateUser: ``POST /:account/users/:id``.

        ``id`` should be the user's UUID (or a user dict): CloudAPI looks the user up by
        UUID. Changes ``login``, ``email`` and the profile fields given (see
        :meth:`create_user`); ``""`` clears a profile field. The password is changed with
        :meth:`change_user_password`. Returns the updated user.
        """
        _check_names("update_user", profile, PROFILE_FIELDS)
        body = _fields(login=login, email=email, **profile)
        if not body:
            raise ValueError("update_user() needs at least one field to change")
        return self._object("POST", self._users_path(_id_of(id, "id")), json=body)

    @operation
    def change_user_password(
        self, user: Ref, password: str, password_confirmation: str | None = None
    ) -> Call[JSONObject]:
        """ChangeUserPassword: ``POST /:account/users/:user/change_password``.

        Sends ``password`` and ``password_confirmation`` (the same password unless given).
        Returns the user.
        """
        if not password:
            raise ValueError("change_user_password() needs a non-empty password")
        confirmation = password if password_confirmation is None else password_confirmation
        body = {"password": password, "password_confirmation": confirmation}
        return self._object("POST", self._users_path(user_ref(user), "change_password"), json=body)

    @operation
    def delete_user(self, user: Ref) -> Call[None]:
        """DeleteUser: ``DELETE /:account/users/:user``."""
        return self._none("DELETE", self._users_path(user_ref(user)))

    # --- a user's SSH keys --------------------------------------------------------------------

    @operation
    def list_user_keys(self, user: Ref) -> Call[list[JSONObject]]:
        """ListUserKeys: ``GET /:account/users/:user/keys``."""
        return self._objects("GET", self._users_path(user_ref(user), "keys"))

    @operation
    def get_user_key(self, user: Ref, key: Ref) -> Call[JSONObject]:
        """GetUserKey: ``GET /:account/users/:user/keys/:key`` (key name or MD5 fingerprint)."""
        return self._object("GET", self._users_path(user_ref(user), "keys", key_name(key)))

    @operation
    def create_user_key(self, user: Ref, key: str, name: str | None = None) -> Call[JSONObject]:
        """CreateUserKey: ``POST /:account/users/:user/keys`` with ``key`` and optional ``name``.

        ``key`` is an OpenSSH public key line. Returns the new key.
        """
        path = self._users_path(user_ref(user), "keys")
        return self._object("POST", path, json=key_body(key, name))

    @operation
    def delete_user_key(self, user: Ref, key: Ref) -> Call[None]:
        """DeleteUserKey: ``DELETE /:account/users/:user/keys/:key``."""
        return self._none("DELETE", self._users_path(user_ref(user), "keys", key_name(key)))
