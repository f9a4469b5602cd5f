"""Account routes: Ping, GetAccount, UpdateAccount, and the account's provisioning limits."""

from __future__ import annotations

from smartdc.emulator.context import (
    API_VERSIONS,
    Call,
    Reply,
    cloudapi_route,
    not_found,
)
from smartdc.emulator.store import accounts

DATACENTER_HEADER = "Triton-Datacenter-Name"


def ping(call: Call) -> Reply:
    """Ping: CloudAPI's versions, and the datacenter's name in a header; no signature needed
    (one that is sent must verify)."""
    body = {"ping": "pong", "cloudapi": {"versions": list(API_VERSIONS)}}
    return Reply(200, body, {DATACENTER_HEADER: call.datacenter})


def _load(call: Call) -> dict[str, object]:
    account = accounts.get_account(call.db, call.login)
    if account is None:
        raise not_found(f"{call.login} does not exist")
    return account


def get_account(call: Call) -> Reply:
    """GetAccount: the Account object."""
    return Reply(200, _load(call))


def update_account(call: Call) -> Reply:
    """UpdateAccount: change profile fields and ``triton_cns_enabled``."""
    return Reply(200, accounts.update_account(call.db, call.login, call.params, now=call.now))


def get_account_limits(call: Call) -> Reply:
    """GetAccountLimits: ``[]``, as CloudAPI answers without the provision-limits plugin."""
    _load(call)
    return Reply(200, [])


ROUTES = [
    cloudapi_route("Ping", ping, head=True, anonymous=True, summary="Check the service is up"),
    cloudapi_route("GetAccount", get_account, head=True, summary="Get the account"),
    cloudapi_route("UpdateAccount", update_account, summary="Update the account"),
    cloudapi_route("GetAccountLimits", get_account_limits, summary="List provisioning limits"),
]
