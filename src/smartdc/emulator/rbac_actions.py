"""The RBAC action CloudAPI authorizes each operation as.

CloudAPI checks a sub-user's request against the lower-cased name of the restify route that
matched it (sdc-cloudapi lib/app.js, ``req.routename``). Restify drops every character that is
not a letter, digit or ``_`` from a route name and lower-cases it. Three rules on top:

* ``POST /:login/machines/:id`` (route ``UpdateMachine``) is authorized as the ``action``
  parameter followed by ``machine`` (``startmachine``), except that the firewall actions become
  ``enablemachinefirewall`` / ``disablemachinefirewall``. The deletion-protection actions keep
  their underscores: ``enable_deletion_protectionmachine``.
* The six role-tag ``PUT`` routes of lib/resources.js are all authorized as ``setroletags``.
* Every other route is authorized as its own name, which is not always the operation's name:
  UpdateMachineMetadata is ``addmachinemetadata``, GetAccountLimits ``getprovisioninglimits``,
  the image actions share ``updateimage``, and so on (see :data:`RBAC_ACTIONS`).

``HEAD`` routes have names of their own (:data:`HEAD_ACTIONS`), mostly ``head...``, but a few
reuse the ``GET`` route's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: The action every role-tag route is authorized as (sdc-cloudapi lib/app.js).
SET_ROLE_TAGS_ACTION: Final = "setroletags"

# Names of the routes sdc-cloudapi mounts, lower-cased, keyed by operation name. Where an
# operation has several upstream routes or is selected by ``?action=``, the value is what
# lib/app.js hands to authorize().
_ACTIONS: dict[str, str] = {
    # lib/account.js
    "GetAccount": "getaccount",
    "UpdateAccount": "updateaccount",
    "GetAccountLimits": "getprovisioninglimits",
    # GET /--ping is served by the GetAccount route; authorize() skips it.
    "Ping": "getaccount",
    # lib/keys.js
    "ListKeys": "listkeys",
    "GetKey": "getkey",
    "CreateKey": "createkey",
    "DeleteKey": "deletekey",
    "ListUserKeys": "listuserkeys",
    "GetUserKey": "getuserkey",
    "CreateUserKey": "createuserkey",
    "DeleteUserKey": "deleteuserkey",
    # lib/users.js
    "ListUsers": "listusers",
    "GetUser": "getuser",
    "CreateUser": "createuser",
    "UpdateUser": "updateuser",
    "ChangeUserPassword": "changeuserpassword",
    "DeleteUser": "deleteuser",
    # lib/roles.js
    "ListRoles": "listroles",
    "GetRole": "getrole",
    "CreateRole": "createrole",
    "UpdateRole": "updaterole",
    "DeleteRole": "deleterole",
    # lib/policies.js
    "ListPolicies": "listpolicies",
    "GetPolicy": "getpolicy",
    "CreatePolicy": "createpolicy",
    "UpdatePolicy": "updatepolicy",
    "DeletePolicy": "deletepolicy",
    # lib/endpoints/accesskeys.js (the update routes are newer than CloudAPI's own list)
    "ListAccessKeys": "listaccesskeys",
    "GetAccessKey": "getaccesskey",
    "CreateAccessKey": "createaccesskey",
    "UpdateAccessKey": "updateaccesskey",
    "DeleteAccessKey": "deleteaccesskey",
    "ListUserAccessKeys": "listuseraccesskeys",
    "GetUserAccessKey": "getuseraccesskey",
    "CreateUserAccessKey": "createuseraccesskey",
    "UpdateUserAccessKey": "updateuseraccesskey",
    "DeleteUserAccessKey": "deleteuseraccesskey",
    # lib/resources.js: six routes, one action
    "SetRoleTags": SET_ROLE_TAGS_ACTION,
    # lib/endpoints/config.js
    "GetConfig": "getconfig",
    "UpdateConfig": "updateconfig",
    # lib/datacenters.js, lib/services.js
    "ListDatacenters": "listdatacenters",
    "GetDatacenter": "getdatacenter",
    "ListServices": "listservices",
    # lib/datasets.js: clone and export are actions of the UpdateImage route, import one of
    # CreateImageFromMachine; only machine actions get their own RBAC action.
    "ListImages": "listimages",
    "GetImage": "getimage",
    "CreateImageFromMachine": "createimagefrommachine",
    "ImportImageFromDatacenter": "createimagefrommachine",
    "UpdateImage": "updateimage",
    "ExportImage": "updateimage",
    "CloneImage": "updateimage",
    "DeleteImage": "deleteimage",
    # lib/packages.js
    "ListPackages": "listpackages",
    "GetPackage": "getpackage",
    # lib/endpoints/networks.js
    "ListNetworks": "listnetworks",
    "GetNetwork": "getnetwork",
    "ListNetworkIPs": "listnetworkips",
    "GetNetworkIP": "getnetworkip",
    "UpdateNetworkIP": "updatenetworkip",
    "ListFabricVLANs": "listfabricvlans",
    "CreateFabricVLAN": "createfabricvlan",
    "GetFabricVLAN": "getfabricvlan",
    "UpdateFabricVLAN": "updatefabricvlan",
    "DeleteFabricVLAN": "deletefabricvlan",
    "ListFabricNetworks": "listfabricnetworks",
    "CreateFabricNetwork": "createfabricnetwork",
    "GetFabricNetwork": "getfabricnetwork",
    "UpdateFabricNetwork": "updatefabricnetwork",
    "DeleteFabricNetwork": "deletefabricnetwork",
    # lib/machines.js
    "ListMachines": "listmachines",
    "GetMachine": "getmachine",
    "CreateMachine": "createmachine",
    "DeleteMachine": "deletemachine",
    "StartMachine": "startmachine",
    "StopMachine": "stopmachine",
    "RebootMachine": "rebootmachine",
    "ResizeMachine": "resizemachine",
    "RenameMachine": "renamemachine",
    "EnableMachineFirewall": "enablemachinefirewall",
    "DisableMachineFirewall": "disablemachinefirewall",
    "EnableMachineDeletionProtection": "enable_deletion_protectionmachine",
    "DisableMachineDeletionProtection": "disable_deletion_protectionmachine",
    "ListFirewallRuleMachines": "listfirewallrulemachines",
    # lib/audit.js
    "MachineAudit": "machineaudit",
    # lib/metadata.js
    "UpdateMachineMetadata": "addmachinemetadata",
    "ListMachineMetadata": "listmachinemetadata",
    "GetMachineMetadata": "getmachinemetadata",
    "DeleteMachineMetadata": "deletemachinemetadata",
    "DeleteAllMachineMetadata": "deleteallmachinemetadata",
    # lib/tags.js
    "AddMachineTags": "addmachinetags",
    "ReplaceMachineTags": "replacemachinetags",
    "ListMachineTags": "listmachinetags",
    "GetMachineTag": "getmachinetag",
    "DeleteMachineTag": "deletemachinetag",
    "DeleteMachineTags": "deletemachinetags",
    # lib/snapshots.js
    "CreateMachineSnapshot": "createmachinesnapshot",
    "StartMachineFromSnapshot": "startmachinefromsnapshot",
    "ListMachineSnapshots": "listmachinesnapshots",
    "GetMachineSnapshot": "getmachinesnapshot",
    "DeleteMachineSnapshot": "deletemachinesnapshot",
    # lib/nics.js
    "AddNic": "addnic",
    "ListNics": "listnics",
    "GetNic": "getnic",
    "RemoveNic": "removenic",
    # lib/endpoints/disks.js
    "CreateMachineDisk": "createmachinedisk",
    "ListMachineDisks": "listmachinedisks",
    "GetMachineDisk": "getmachinedisk",
    "ResizeMachineDisk": "resizemachinedisk",
    "DeleteMachineDisk": "deletemachinedisk",
    # lib/rules.js
    "ListFirewallRules": "listfirewallrules",
    "GetFirewallRule": "getfirewallrule",
    "CreateFirewallRule": "createfirewallrule",
    "UpdateFirewallRule": "updatefirewallrule",
    "EnableFirewallRule": "enablefirewallrule",
    "DisableFirewallRule": "disablefirewallrule",
    "DeleteFirewallRule": "deletefirewallrule",
    "ListMachineFirewallRules": "listmachinefirewallrules",
    # lib/migrations.js (the POST route's ``action`` does not change its RBAC action)
    "ListMigrations": "listmigrations",
    "GetMigration": "getmigration",
    "Migrate": "migrate",
    "MigrateMachineEstimate": "migratemachineestimate",
    # lib/endpoints/volumes.js
    "ListVolumes": "listvolumes",
    "GetVolume": "getvolume",
    "CreateVolume": "createvolume",
    "UpdateVolume": "updatevolume",
    "DeleteVolume": "deletevolume",
    "ListVolumeSizes": "listvolumesizes",
    # lib/endpoints/vnc.js, lib/changefeed.js
    "ConnectMachineVNC": "connectmachinevnc",
    "GetChangefeed": "changefeed",
}

# The names of the HEAD routes, keyed by the operation of the GET route on the same path.
# NICs, disks and single fabric VLANs/networks reuse the GET route's name; the audit HEAD route
# is ``HeadAudit``. HEAD of one metadata key has no route upstream: its name duplicates the
# HEAD route of the metadata list, and restify skips a second route of the same name.
_HEAD_ACTIONS: dict[str, str] = {
    "GetAccount": "headaccount",
    "Ping": "headaccount",
    "ListKeys": "headkeys",
    "GetKey": "headkey",
    "ListUserKeys": "headuserkeys",
    "GetUserKey": "headuserkey",
    "ListUsers": "headusers",
    "GetUser": "headuser",
    "ListRoles": "headroles",
    "GetRole": "headrole",
    "ListPolicies": "headpolicies",
    "GetPolicy": "headpolicy",
    "ListAccessKeys": "headaccesskeys",
    "GetAccessKey": "headaccesskey",
    "ListUserAccessKeys": "headuseraccesskeys",
    "GetUserAccessKey": "headuseraccesskey",
    "GetConfig": "headconfig",
    "ListImages": "headimages",
    "GetImage": "headimage",
    "ListPackages": "headpackages",
    "GetPackage": "headpackage",
    "ListNetworks": "headnetworks",
    "GetNetwork": "headnetwork",
    "ListNetworkIPs": "headnetworkips",
    "GetNetworkIP": "headnetworkip",
    "ListFabricVLANs": "headfabricvlans",
    "GetFabricVLAN": "getfabricvlan",
    "ListFabricNetworks": "headfabricnetworks",
    "GetFabricNetwork": "getfabricnetwork",
    "ListMachines": "headmachines",
    "GetMachine": "headmachine",
    "ListFirewallRuleMachines": "headfirewallrulemachines",
    "MachineAudit": "headaudit",
    "ListMachineMetadata": "headmachinemetadata",
    "ListMachineTags": "headmachinetags",
    "GetMachineTag": "headmachinetag",
    "ListMachineSnapshots": "headmachinesnapshots",
    "GetMachineSnapshot": "headmachinesnapshot",
    "ListNics": "listnics",
    "GetNic": "getnic",
    "ListMachineDisks": "listmachinedisks",
    "GetMachineDisk": "getmachinedisk",
    "ListFirewallRules": "headfirewallrules",
    "GetFirewallRule": "headfirewallrule",
    "ListMachineFirewallRules": "headmachinefirewallrules",
}

#: Operation name → the RBAC action of its own method.
RBAC_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(_ACTIONS)

#: Operation name (of a GET operation) → the RBAC action of the HEAD route on its path.
HEAD_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(_HEAD_ACTIONS)

# The literal first segments of the other PUT routes CloudAPI mounts before lib/resources.js.
_OTHER_PUT_COLLECTIONS = frozenset({"config"})


def rbac_action(operation: str, method: str = "GET") -> str:
    """The RBAC action CloudAPI authorizes ``operation`` as when requested with ``method``.

    ``HEAD`` gives the HEAD route's action; an operation without an upstream HEAD route falls
    back to its own action. An operation this table does not know is authorized as its name in
    lower case, which is how CloudAPI names nearly every route.
    """
    if method.upper() == "HEAD" and operation in _HEAD_ACTIONS:
        return _HEAD_ACTIONS[operation]
    return _ACTIONS.get(operation, operation.lower())


def machine_action(action: str | None) -> str:
    """The RBAC action of ``POST /:login/machines/:id?action=<action>`` (lib/app.js).

    Any action gets ``machine`` appended, even an unknown one; without an action the request
    is authorized as ``undefinedmachine`` before the handler rejects it.
    """
    if action == "enable_firewall":
        return "enablemachinefirewall"
    if action == "disable_firewall":
        return "disablemachinefirewall"
    return f"{'undefined' if action is None else action}machine"


def _segments(path: str) -> list[str]:
    return [part for part in path.split("?", 1)[0].split("/") if part]


def role_tag_route(path: str) -> str | None:
    """The lib/resources.js route (lower-cased name) that serves ``PUT path``.

    ``None`` when the path belongs to another PUT route (UpdateConfig, ReplaceMachineTags, the
    fabric and network-IP updates) or to none. Restify picks the first matching route in mount
    order, so ``/:login/machines/:id`` is ``replaceresourceroletags``, not
    ``replacemachineroletags``.
    """
    parts = _segments(path)
    if len(parts) == 1:
        return "replaceaccountroletags"
    if len(parts) == 2:
        return None if parts[1] in _OTHER_PUT_COLLECTIONS else "replaceresourcesroletags"
    if len(parts) == 3:
        return "replaceresourceroletags"
    if len(parts) == 4 and parts[1] == "users":
        return "replaceuserkeysresourcesroletags"
    if len(parts) == 5 and parts[1] == "users" and parts[3] == "keys":
        return "replaceuserkeysresourceroletags"
    return None


def role_tag_action(path: str) -> str | None:
    """The RBAC action of ``PUT path`` when a role-tag route serves it, else ``None``."""
    return SET_ROLE_TAGS_ACTION if role_tag_route(path) is not None else None
