"""Account operations: Ping, GetAccount, UpdateAccount, GetAccountLimits."""

from __future__ import annotations

from typing import Any

from smartdc.api._base import ApiBase, JSONObject, _check_names
from smartdc.api._operation import Call, operation
from smartdc.wire import ACCOUNT_FIELDS as ACCOUNT_FIELDS


class AccountMixin(ApiBase):
    """The account itself and its provisioning limits."""

    @operation
    def ping(self) -> Call[JSONObject]:
        """Ping: ``GET /--ping``; needs no authentication.

        Returns ``{"ping": "pong", "cloudapi": {"versions": [...]}}``.
        """
        return self._object("GET", "/--ping")

    @operation
    def get_account(self) -> Call[JSONObject]:
        """GetAccount: ``GET /:login``. Returns the account (``id``, ``login``, ``email`` ...)."""
        return self._object("GET", "")

    @operation
    def update_account(self, /, **fields: Any) -> Call[JSONObject]:
        """UpdateAccount: ``POST /:login``. Returns the updated account.

        Fields: ``email``, ``companyName``, ``firstName``, ``lastName``, ``address``,
        ``postalCode``, ``city``, ``state``, ``country``, ``phone``, ``triton_cns_enabled``
        (bool). CloudAPI ignores empty values, so a field cannot be cleared this way.
        """
        _check_names("update_account", fields, ACCOUNT_FIELDS)
        return self._object("POST", "", json={k: v for k, v in fields.items() if v is not None})

    @operation
    def get_account_limits(self) -> Call[list[JSONObject]]:
        """GetAccountLimits: ``GET /:login/limits``.

        Returns the provisioning limits (``[]`` when the datacenter enforces none); each has
        ``value`` (0 unlimited, -1 forbidden), ``used`` and optionally ``by``/``check``.
        """
        return self._objects("GET", "limits")
