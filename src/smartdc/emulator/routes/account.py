"""Account routes: GetAccount (and the ``/--ping`` it doubles as), UpdateAccount, limits."""

from __future__ import annotations

from smartdc.emulator.context import API_VERSIONS, Call, EmulatorError, Reply, Route
from smartdc.emulator.store import accounts

#: ``GET /--ping`` is routed as GetAccount with this login and needs no authentication.
PING_LOGIN = "--ping"
DATACENTER_HEADER = "Triton-Datacenter-Name"


def ping(datacenter: str) -> Reply:
    """The ``/--ping`` answer: CloudAPI's versions, and the datacenter's name in a header."""
    body = {"ping": "pong", "cloudapi": {"versions": list(API_VERSIONS)}}
    return Reply(200, body, {DATACENTER_HEADER: datacenter})


def _load(call: Call) -> dict[str, object]:
    account = accounts.get_account(call.db, call.login)
    if account is None:
        raise EmulatorError(404, "ResourceNotFound", f"{call.login} does not exist")
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


ROUTES: list[Route] = [
    Route("GetAccount", "GET", "/{login}", get_account, head=True, summary="Get the account"),
    Route("UpdateAccount", "POST", "/{login}", update_account, summary="Update the account"),
    Route(
        "GetAccountLimits",
        "GET",
        "/{login}/limits",
        get_account_limits,
        summary="List provisioning limits",
    ),
]
