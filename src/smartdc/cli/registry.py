"""The top-level command table: every name ``smartdc`` answers to, and where it lives.

Kept as data so that ``smartdc --help``, completion and dispatch read one table and import
only the noun module of the command that runs. Names, aliases, grouping and which entries
are hidden follow ``triton --help`` (node-triton lib/cli.js ``helpSubcmds``).
"""

from __future__ import annotations

from smartdc._record import Record


class Entry(Record):
    """A top-level command: ``target`` is ``module:ATTRIBUTE`` of a :class:`Command` or
    :class:`Group` in ``smartdc.cli.commands``; ``path`` leads inside it (for shortcuts such
    as ``ls`` = ``instance list``)."""

    __slots__ = ("aliases", "hidden", "name", "path", "section", "summary", "target")
    name: str
    target: str
    summary: str
    path: tuple[str, ...]
    aliases: tuple[str, ...]
    hidden: bool
    section: str

    def __init__(
        self,
        name: str,
        target: str,
        summary: str,
        path: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
        section: str = "",
    ) -> None:
        self.name = name
        self.target = target
        self.summary = summary
        self.path = path
        self.aliases = aliases
        self.hidden = hidden
        self.section = section


_INSTANCES = "Instances (aka VMs/Machines/Containers)"
_RESOURCES = "Images, Packages, Networks, Firewall Rules, Volumes"
_OTHER = "Other Commands"

ENTRIES: tuple[Entry, ...] = (
    Entry("profile", "profile:TREE", "List, get, create and update Triton CLI profiles."),
    Entry("env", "profile:ENV", "Emit shell commands to setup environment."),
    Entry("completion", "completion:COMPLETION", "Emit bash, zsh or fish completion."),
    Entry(
        "instance",
        "instance:TREE",
        "List and manage Triton instances.",
        (),
        ("inst",),
        section=_INSTANCES,
    ),
    Entry(
        "instances",
        "instance:TREE",
        'A shortcut for "smartdc instance list".',
        ("list",),
        ("insts", "ls"),
        section=_INSTANCES,
    ),
    Entry(
        "create",
        "instance:TREE",
        'A shortcut for "smartdc instance create".',
        ("create",),
        section=_INSTANCES,
    ),
    Entry(
        "delete",
        "instance:TREE",
        'A shortcut for "smartdc instance delete".',
        ("delete",),
        ("rm",),
        section=_INSTANCES,
    ),
    Entry(
        "start",
        "instance:TREE",
        'A shortcut for "smartdc instance start".',
        ("start",),
        section=_INSTANCES,
    ),
    Entry(
        "stop",
        "instance:TREE",
        'A shortcut for "smartdc instance stop".',
        ("stop",),
        section=_INSTANCES,
    ),
    Entry(
        "reboot",
        "instance:TREE",
        'A shortcut for "smartdc instance reboot".',
        ("reboot",),
        section=_INSTANCES,
    ),
    Entry(
        "ssh",
        "instance:TREE",
        'A shortcut for "smartdc instance ssh".',
        ("ssh",),
        section=_INSTANCES,
    ),
    Entry(
        "ip", "instance:TREE", 'A shortcut for "smartdc instance ip".', ("ip",), section=_INSTANCES
    ),
    Entry(
        "image", "image:TREE", "List and manage Triton images.", (), ("img",), section=_RESOURCES
    ),
    Entry(
        "package", "package:TREE", "List and get Triton packages.", (), ("pkg",), section=_RESOURCES
    ),
    Entry("network", "network:TREE", "List and manage Triton networks.", section=_RESOURCES),
    Entry("fwrule", "fwrule:TREE", "List and manage Triton firewall rules.", section=_RESOURCES),
    Entry("vlan", "vlan:TREE", "List and manage Triton fabric VLANs.", section=_RESOURCES),
    Entry(
        "volume", "volume:TREE", "List and manage Triton volumes.", (), ("vol",), section=_RESOURCES
    ),
    Entry("info", "account:INFO", "Print an account summary.", section=_OTHER),
    Entry("account", "account:TREE", "Get and update your Triton account.", section=_OTHER),
    Entry("key", "key:TREE", "Account SSH key commands.", section=_OTHER),
    Entry("accesskey", "accesskey:TREE", "Account access key commands.", section=_OTHER),
    Entry("services", "account:SERVICES", "Show services information", section=_OTHER),
    Entry("datacenters", "account:DATACENTERS", "Show datacenters in this cloud.", section=_OTHER),
    Entry(
        "changefeed",
        "changefeed:CHANGEFEED",
        "Subscribe to CloudAPI feed of VMs changes.",
        section=_OTHER,
    ),
    # Hidden, as in triton: plural shortcuts, RBAC and the raw request.
    Entry(
        "images",
        "image:TREE",
        'A shortcut for "smartdc image list".',
        ("list",),
        ("imgs",),
        hidden=True,
    ),
    Entry(
        "packages",
        "package:TREE",
        'A shortcut for "smartdc package list".',
        ("list",),
        ("pkgs",),
        hidden=True,
    ),
    Entry(
        "networks", "network:TREE", 'A shortcut for "smartdc network list".', ("list",), hidden=True
    ),
    Entry(
        "fwrules", "fwrule:TREE", 'A shortcut for "smartdc fwrule list".', ("list",), hidden=True
    ),
    Entry(
        "volumes",
        "volume:TREE",
        'A shortcut for "smartdc volume list".',
        ("list",),
        ("vols",),
        hidden=True,
    ),
    Entry("keys", "key:TREE", 'A shortcut for "smartdc key list".', ("list",), hidden=True),
    Entry(
        "profiles", "profile:TREE", 'A shortcut for "smartdc profile list".', ("list",), hidden=True
    ),
    Entry("rbac", "rbac:TREE", "Role-based Access Control (RBAC) commands.", hidden=True),
    Entry("cloudapi", "cloudapi:CLOUDAPI", "Raw CloudAPI request.", hidden=True),
)


def find(name: str) -> Entry | None:
    """The entry called ``name`` or one of its aliases."""
    for entry in ENTRIES:
        if name == entry.name or name in entry.aliases:
            return entry
    return None
