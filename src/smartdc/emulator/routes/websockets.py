"""The WebSocket routes: GetChangefeed and ConnectMachineVNC.

Each runs through the request pipeline like any route (signature, account, RBAC: the
``changefeed`` and ``connectmachinevnc`` actions) and answers a WebSocket upgrade with a
session (:mod:`smartdc.emulator.websockets`); without an upgrade they answer CloudAPI's errors.
"""

from __future__ import annotations

import dataclasses

from smartdc.emulator.changefeed import ChangefeedSession
from smartdc.emulator.context import Call, EmulatorError, Reply, cloudapi_route
from smartdc.emulator.routes import machine_common
from smartdc.emulator.vnc import VncSession
from smartdc.wire import HVM_BRANDS

#: Brands with a VNC console (the rest are containers).
#: The one API version CloudAPI serves ConnectMachineVNC under (sdc-cloudapi vnc.js).
VNC_VERSIONS = ("8.4.0",)


def get_changefeed(call: Call) -> Reply:
    """GetChangefeed: the account's machine changes as they happen (WebSocket only)."""
    if not call.websocket:
        # sdc-cloudapi lib/changefeed.js: a plain Error, which restify sends as a bare 500
        raise EmulatorError(500, None, "Connection Must Upgrade For WebSockets")
    return Reply(101, ChangefeedSession(call.db, call.account_uuid, call.datacenter))


def connect_machine_vnc(call: Call) -> Reply:
    """ConnectMachineVNC: a running kvm or bhyve machine's console (WebSocket only)."""
    machine = machine_common.fetch_live(call)
    # restCodes and messages as sdc-cloudapi lib/endpoints/vnc.js (2020: kvm and bhyve)
    if machine["brand"] not in HVM_BRANDS:
        raise EmulatorError(400, "MachineHasNoVNC", "Specified machine does not have a VNC console")
    if machine["state"] != "running":
        raise EmulatorError(
            400,
            "MachineStopped",
            "Specified machine is stopped and cannot be connected to",
        )
    if not call.websocket:
        raise EmulatorError(
            400,
            "UpgradeRequired",
            "VNC connect endpoint is a websocket and must be Upgraded",
        )
    return Reply(101, VncSession(call.db, call.account_uuid, call.datacenter, machine))


ROUTES = [
    cloudapi_route("GetChangefeed", get_changefeed, summary="Machine changes (WebSocket)"),
    dataclasses.replace(
        cloudapi_route(
            "ConnectMachineVNC", connect_machine_vnc, summary="A machine's console (WebSocket)"
        ),
        versions=VNC_VERSIONS,
    ),
]
