"""CloudAPI's operations: every name, HTTP method and path, as CloudAPI's reference lists them.

Paths use CloudAPI's own notation: ``:name`` placeholders, and ``?action=<value>`` for the
operations CloudAPI selects by the ``action`` parameter on a shared method and path. The
first segment is ``:login`` for account resources and ``:account`` for RBAC resources; both
stand for the account login.
"""

from __future__ import annotations

from typing import NamedTuple


class Operation(NamedTuple):
    """One CloudAPI operation."""

    name: str
    method: str
    #: The path template, with ``?action=<value>`` for action-selected operations.
    path: str

    @property
    def route_path(self) -> str:
        """The path without the ``?action=`` selector."""
        return self.path.split("?", 1)[0]

    @property
    def action(self) -> str | None:
        """The ``action`` parameter value that selects this operation, if any."""
        _, _, query = self.path.partition("?")
        return query.removeprefix("action=") if query.startswith("action=") else None


#: Every CloudAPI operation, in name order.
OPERATIONS: tuple[Operation, ...] = (
    Operation("AddMachineTags", "POST", "/:login/machines/:id/tags"),
    Operation("AddNic", "POST", "/:login/machines/:id/nics"),
    Operation("ChangeUserPassword", "POST", "/:account/users/:user/change_password"),
    Operation("CloneImage", "POST", "/:login/images/:id?action=clone"),
    Operation("ConnectMachineVNC", "GET", "/:login/machines/:id/vnc"),
    Operation("CreateAccessKey", "POST", "/:account/accesskeys"),
    Operation("CreateFabricNetwork", "POST", "/:login/fabrics/default/vlans/:vlan_id/networks"),
    Operation("CreateFabricVLAN", "POST", "/:login/fabrics/default/vlans"),
    Operation("CreateFirewallRule", "POST", "/:login/fwrules"),
    Operation("CreateImageFromMachine", "POST", "/:login/images"),
    Operation("CreateKey", "POST", "/:login/keys"),
    Operation("CreateMachine", "POST", "/:login/machines"),
    Operation("CreateMachineDisk", "POST", "/:login/machines/:id/disks"),
    Operation("CreateMachineSnapshot", "POST", "/:login/machines/:id/snapshots"),
    Operation("CreatePolicy", "POST", "/:account/policies"),
    Operation("CreateRole", "POST", "/:account/roles"),
    Operation("CreateUser", "POST", "/:account/users"),
    Operation("CreateUserAccessKey", "POST", "/:account/users/:user/accesskeys"),
    Operation("CreateUserKey", "POST", "/:account/users/:user/keys"),
    Operation("CreateVolume", "POST", "/:login/volumes"),
    Operation("DeleteAccessKey", "DELETE", "/:account/accesskeys/:accesskeyid"),
    Operation("DeleteAllMachineMetadata", "DELETE", "/:login/machines/:id/metadata"),
    Operation(
        "DeleteFabricNetwork", "DELETE", "/:login/fabrics/default/vlans/:vlan_id/networks/:id"
    ),
    Operation("DeleteFabricVLAN", "DELETE", "/:login/fabrics/default/vlans/:vlan_id"),
    Operation("DeleteFirewallRule", "DELETE", "/:login/fwrules/:id"),
    Operation("DeleteImage", "DELETE", "/:login/images/:id"),
    Operation("DeleteKey", "DELETE", "/:login/keys/:key"),
    Operation("DeleteMachine", "DELETE", "/:login/machines/:id"),
    Operation("DeleteMachineDisk", "DELETE", "/:login/machines/:id/disks/:disk_id"),
    Operation("DeleteMachineMetadata", "DELETE", "/:login/machines/:id/metadata/:key"),
    Operation("DeleteMachineSnapshot", "DELETE", "/:login/machines/:id/snapshots/:name"),
    Operation("DeleteMachineTag", "DELETE", "/:login/machines/:id/tags/:tag"),
    Operation("DeleteMachineTags", "DELETE", "/:login/machines/:id/tags"),
    Operation("DeletePolicy", "DELETE", "/:account/policies/:policy"),
    Operation("DeleteRole", "DELETE", "/:account/roles/:role"),
    Operation("DeleteUser", "DELETE", "/:account/users/:user"),
    Operation("DeleteUserAccessKey", "DELETE", "/:account/users/:user/accesskeys/:accesskeyid"),
    Operation("DeleteUserKey", "DELETE", "/:account/users/:user/keys/:key"),
    Operation("DeleteVolume", "DELETE", "/:login/volumes/:id"),
    Operation("DisableFirewallRule", "POST", "/:login/fwrules/:id/disable"),
    Operation(
        "DisableMachineDeletionProtection",
        "POST",
        "/:login/machines/:id?action=disable_deletion_protection",
    ),
    Operation("DisableMachineFirewall", "POST", "/:login/machines/:id?action=disable_firewall"),
    Operation("EnableFirewallRule", "POST", "/:login/fwrules/:id/enable"),
    Operation(
        "EnableMachineDeletionProtection",
        "POST",
        "/:login/machines/:id?action=enable_deletion_protection",
    ),
    Operation("EnableMachineFirewall", "POST", "/:login/machines/:id?action=enable_firewall"),
    Operation("ExportImage", "POST", "/:login/images/:id?action=export"),
    Operation("GetAccessKey", "GET", "/:account/accesskeys/:accesskeyid"),
    Operation("GetAccount", "GET", "/:login"),
    Operation("GetAccountLimits", "GET", "/:login/limits"),
    Operation("GetChangefeed", "GET", "/:login/changefeed"),
    Operation("GetConfig", "GET", "/:login/config"),
    Operation("GetDatacenter", "GET", "/:login/datacenters/:name"),
    Operation("GetFabricNetwork", "GET", "/:login/fabrics/default/vlans/:vlan_id/networks/:id"),
    Operation("GetFabricVLAN", "GET", "/:login/fabrics/default/vlans/:vlan_id"),
    Operation("GetFirewallRule", "GET", "/:login/fwrules/:id"),
    Operation("GetImage", "GET", "/:login/images/:id"),
    Operation("GetKey", "GET", "/:login/keys/:key"),
    Operation("GetMachine", "GET", "/:login/machines/:id"),
    Operation("GetMachineDisk", "GET", "/:login/machines/:id/disks/:disk_id"),
    Operation("GetMachineMetadata", "GET", "/:login/machines/:id/metadata/:key"),
    Operation("GetMachineSnapshot", "GET", "/:login/machines/:id/snapshots/:name"),
    Operation("GetMachineTag", "GET", "/:login/machines/:id/tags/:tag"),
    Operation("GetMigration", "GET", "/:login/migrations/:id"),
    Operation("GetNetwork", "GET", "/:login/networks/:id"),
    Operation("GetNetworkIP", "GET", "/:login/networks/:id/ips/:ip_address"),
    Operation("GetNic", "GET", "/:login/machines/:id/nics/:mac"),
    Operation("GetPackage", "GET", "/:login/packages/:id"),
    Operation("GetPolicy", "GET", "/:account/policies/:policy"),
    Operation("GetRole", "GET", "/:account/roles/:role"),
    Operation("GetUser", "GET", "/:account/users/:user"),
    Operation("GetUserAccessKey", "GET", "/:account/users/:user/accesskeys/:accesskeyid"),
    Operation("GetUserKey", "GET", "/:account/users/:user/keys/:key"),
    Operation("GetVolume", "GET", "/:login/volumes/:id"),
    Operation("ImportImageFromDatacenter", "POST", "/:login/images?action=import-from-datacenter"),
    Operation("ListAccessKeys", "GET", "/:account/accesskeys"),
    Operation("ListDatacenters", "GET", "/:login/datacenters"),
    Operation("ListFabricNetworks", "GET", "/:login/fabrics/default/vlans/:vlan_id/networks"),
    Operation("ListFabricVLANs", "GET", "/:login/fabrics/default/vlans"),
    Operation("ListFirewallRuleMachines", "GET", "/:login/fwrules/:id/machines"),
    Operation("ListFirewallRules", "GET", "/:login/fwrules"),
    Operation("ListImages", "GET", "/:login/images"),
    Operation("ListKeys", "GET", "/:login/keys"),
    Operation("ListMachineDisks", "GET", "/:login/machines/:id/disks"),
    Operation("ListMachineFirewallRules", "GET", "/:login/machines/:instance_id/fwrules"),
    Operation("ListMachineMetadata", "GET", "/:login/machines/:id/metadata"),
    Operation("ListMachineSnapshots", "GET", "/:login/machines/:id/snapshots"),
    Operation("ListMachineTags", "GET", "/:login/machines/:id/tags"),
    Operation("ListMachines", "GET", "/:login/machines"),
    Operation("ListMigrations", "GET", "/:login/migrations"),
    Operation("ListNetworkIPs", "GET", "/:login/networks/:id/ips"),
    Operation("ListNetworks", "GET", "/:login/networks"),
    Operation("ListNics", "GET", "/:login/machines/:id/nics"),
    Operation("ListPackages", "GET", "/:login/packages"),
    Operation("ListPolicies", "GET", "/:account/policies"),
    Operation("ListRoles", "GET", "/:account/roles"),
    Operation("ListServices", "GET", "/:login/services"),
    Operation("ListUserAccessKeys", "GET", "/:account/users/:user/accesskeys"),
    Operation("ListUserKeys", "GET", "/:account/users/:user/keys"),
    Operation("ListUsers", "GET", "/:account/users"),
    Operation("ListVolumeSizes", "GET", "/:login/volumesizes"),
    Operation("ListVolumes", "GET", "/:login/volumes"),
    Operation("MachineAudit", "GET", "/:login/machines/:id/audit"),
    Operation("Migrate", "POST", "/:login/machines/:id/migrate"),
    Operation("Ping", "GET", "/--ping"),
    Operation("RebootMachine", "POST", "/:login/machines/:id?action=reboot"),
    Operation("RemoveNic", "DELETE", "/:login/machines/:id/nics/:mac"),
    Operation("RenameMachine", "POST", "/:login/machines/:id?action=rename"),
    Operation("ReplaceMachineTags", "PUT", "/:login/machines/:id/tags"),
    Operation("ResizeMachine", "POST", "/:login/machines/:id?action=resize"),
    Operation("ResizeMachineDisk", "POST", "/:login/machines/:id/disks/:disk_id"),
    Operation("SetRoleTags", "PUT", "/:resource_path"),
    Operation("StartMachine", "POST", "/:login/machines/:id?action=start"),
    Operation("StartMachineFromSnapshot", "POST", "/:login/machines/:id/snapshots/:name"),
    Operation("StopMachine", "POST", "/:login/machines/:id?action=stop"),
    Operation("UpdateAccount", "POST", "/:login"),
    Operation("UpdateConfig", "PUT", "/:login/config"),
    Operation("UpdateFabricNetwork", "PUT", "/:login/fabrics/default/vlans/:vlan_id/networks/:id"),
    Operation("UpdateFabricVLAN", "PUT", "/:login/fabrics/default/vlans/:vlan_id"),
    Operation("UpdateFirewallRule", "POST", "/:login/fwrules/:id"),
    Operation("UpdateImage", "POST", "/:login/images/:id?action=update"),
    Operation("UpdateMachineMetadata", "POST", "/:login/machines/:id/metadata"),
    Operation("UpdateNetworkIP", "PUT", "/:login/networks/:id/ips/:ip_address"),
    Operation("UpdatePolicy", "POST", "/:account/policies/:policy"),
    Operation("UpdateRole", "POST", "/:account/roles/:role"),
    Operation("UpdateUser", "POST", "/:account/users/:id"),
    Operation("UpdateVolume", "POST", "/:login/volumes/:id"),
)

_BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}


def operation(name: str) -> Operation:
    """The operation called ``name``; ``KeyError`` naming it when CloudAPI has no such one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not a CloudAPI operation") from None
