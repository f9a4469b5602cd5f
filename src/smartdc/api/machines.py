"""Machine operations: list/count (paged), get, create, the POST actions, delete, audit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from smartdc import errors
from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path, as_objects
from smartdc.api._operation import Call, Flow, Pages, collect, listing, operation
from smartdc.transport import Response
from smartdc.wire import CREATE_MACHINE_EXTRAS as CREATE_MACHINE_EXTRAS
from smartdc.wire import MACHINE_FILTERS as MACHINE_FILTERS
from smartdc.wire import QUERY_LIMIT_HEADER as QUERY_LIMIT_HEADER
from smartdc.wire import RESOURCE_COUNT_HEADER as RESOURCE_COUNT_HEADER

#: The named arguments of :meth:`MachinesMixin.create_machine`, listed when one is mistyped.
CREATE_MACHINE_ARGUMENTS = frozenset(
    {
        "affinity",
        "brand",
        "deletion_protection",
        "firewall_enabled",
        "image",
        "metadata",
        "name",
        "networks",
        "package",
        "tags",
    }
)

#: CloudAPI's largest (and default) ListMachines page.
PAGE_SIZE = 1000


def machine_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """ListMachines query parameters from keyword filters, checked and flattened.

    ``tags={"k": "v"}`` becomes ``tag.k=v``; ``tags="*"`` is passed as is. ``tombstone`` and
    ``credentials`` are sent only when true, because CloudAPI treats any value as true.
    """
    query: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name.startswith("tag.") and len(name) > 4:
            query[name] = value
        elif name not in MACHINE_FILTERS:
            raise TypeError(
                f"list_machines() got unknown filter {name!r}; expected tag.<name> or one of: "
                + ", ".join(sorted(MACHINE_FILTERS))
            )
        elif name == "tags":
            query.update(_tag_filters(value))
        elif name in ("tombstone", "credentials"):
            if value:
                query[name] = True
        elif name == "image":
            query[name] = _id_of(value, "id")
        else:
            query[name] = value
    return query


def _tag_filters(tags: Any) -> dict[str, Any]:
    if tags == "*":
        return {"tags": "*"}
    if not isinstance(tags, Mapping):
        raise TypeError(f"tags must be a mapping of tag name to value, or '*', not {tags!r}")
    return {f"tag.{name}": value for name, value in tags.items()}


def _network_ref(network: Any) -> Any:
    """A CreateMachine ``networks`` entry: an id, or an ``{ipv4_uuid, ...}`` object as is."""
    if isinstance(network, Mapping) and "ipv4_uuid" in network:
        return dict(network)
    return _id_of(network, "id")


def _flatten(
    prefix: str, values: Mapping[str, Any] | None, convert: Callable[[Any], Any]
) -> dict[str, Any]:
    """``{"k": v}`` as CloudAPI's flat create fields ``{"<prefix>.k": convert(v)}``."""
    return {f"{prefix}.{key}": convert(value) for key, value in (values or {}).items()}


def _page_count(response: Response) -> tuple[int, int]:
    count = response.header_int(RESOURCE_COUNT_HEADER)
    if count is None:
        raise errors.SmartDCError(
            f"HEAD {response.url} answered without an {RESOURCE_COUNT_HEADER} header"
        )
    return count, response.header_int(QUERY_LIMIT_HEADER) or PAGE_SIZE


def metadata_value(value: Any) -> Any:
    """A metadata value CloudAPI stores: objects and arrays are sent as JSON text."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value)
    return value


class MachinesMixin(ApiBase):
    """Machines (instances) and their lifecycle."""

    # --- listing -----------------------------------------------------------------------------

    @operation
    def list_machines(self, /, **filters: Any) -> Flow[list[JSONObject]]:
        """ListMachines: ``GET /:login/machines``, every page.

        Filters (exact matches, combined with AND):

        ``type`` (``smartmachine``/``virtualmachine``), ``brand``, ``name``, ``image`` (id or
        image dict), ``state`` (``running``, ``stopped``, ``active``, ``destroyed`` ...),
        ``memory`` (MiB), ``docker`` (bool), ``tombstone`` (bool: include deleted machines),
        ``credentials`` (bool: add ``metadata.credentials``), ``tags={"k": "v"}`` or raw
        ``**{"tag.k": "v"}`` (``tags="*"``: every tagged machine), ``limit``, ``offset``.

        Without ``limit`` the list is fetched with ``limit=1000&offset=N`` until a page holds
        fewer than ``x-query-limit`` machines. With ``limit`` only that one page is fetched.
        Results come in CloudAPI's order (uuid descending).
        """
        return collect(self._machine_pages(machine_query(filters)))

    @listing
    def iter_machines(self, /, **filters: Any) -> Pages[JSONObject]:
        """ListMachines page by page: like :meth:`list_machines` but yields as pages arrive,
        holding one page at a time.

        Filters are checked at once; requests are sent as the iterator is consumed.
        """
        return self._machine_pages(machine_query(filters))

    @staticmethod
    def _machine_pages(query: dict[str, Any]) -> Pages[JSONObject]:
        if "limit" in query or query.get("tags") == "*":
            yield Call("GET", "machines", params=query, decode=as_objects)
            return
        offset = int(query.pop("offset", 0))
        while True:
            params = {"limit": PAGE_SIZE, "offset": offset, **query}
            response = yield Call("GET", "machines", params=params, decode=as_objects)
            page_length = len(response.body or ())
            limit = response.header_int(QUERY_LIMIT_HEADER) or PAGE_SIZE
            count = response.header_int(RESOURCE_COUNT_HEADER)
            del response  # not kept while the next page is fetched
            if not page_length or (page_length if count is None else count) < limit:
                return
            offset += page_length

    @operation
    def count_machines(self, /, **filters: Any) -> Flow[int]:
        """How many machines match: ``HEAD /:login/machines``, reading ``x-resource-count``.

        CloudAPI counts only the page a HEAD selects (at most 1000), so without ``limit``
        this sends one HEAD per thousand machines (offsets 0, 1000, ...) and adds the counts.
        With ``limit``/``offset`` it returns the count of that one page. Filters are those of
        :meth:`list_machines`.
        """
        return self._count(machine_query(filters))

    def _count(self, query: dict[str, Any]) -> Flow[int]:
        if "limit" in query or query.get("tags") == "*":
            only: int = (yield self._head_count(query))[0]
            return only
        offset = int(query.pop("offset", 0))
        total: int = 0
        while True:
            count, limit = yield self._head_count({"limit": PAGE_SIZE, "offset": offset, **query})
            total += count
            if count == 0 or count < limit:
                return total
            offset += count

    @staticmethod
    def _head_count(params: Mapping[str, Any]) -> Call[tuple[int, int]]:
        """``x-resource-count`` and ``x-query-limit`` of one HEAD ListMachines."""
        return Call("HEAD", "machines", params=params, decode=_page_count)

    # --- one machine ---------------------------------------------------------------------------

    @operation
    def get_machine(self, id: Ref, credentials: bool = False) -> Call[JSONObject]:
        """GetMachine: ``GET /:login/machines/:id``.

        ``credentials=True`` adds ``metadata.credentials``. A deleted machine raises
        :class:`smartdc.errors.MachineGoneError` (410), whose ``machine`` is its last state.
        """
        params = {"credentials": True} if credentials else None
        return self._object("GET", _path("machines", _id_of(id, "id")), params=params)

    @operation
    def create_machine(
        self,
        /,
        *,
        image: Ref,
        package: Ref,
        name: str | None = None,
        networks: Sequence[Ref] | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        firewall_enabled: bool | None = None,
        deletion_protection: bool | None = None,
        affinity: str | Sequence[str] | None = None,
        brand: str | None = None,
        **extra: Any,
    ) -> Call[JSONObject]:
        """CreateMachine: ``POST /:login/machines``. Returns the new machine (``provisioning``).

        ``image`` is an image id; ``package`` a package id or name (dicts work too).
        ``networks`` lists network ids or ``{"ipv4_uuid", "ipv4_ips"}`` objects. ``metadata``
        and ``tags`` are sent as flat ``metadata.<key>`` and ``tag.<key>`` fields.
        ``affinity`` rules look like ``"instance!=db*"``. ``brand`` is ``bhyve`` or ``kvm``.
        Other CloudAPI inputs go in ``extra``: ``locality``, ``volumes``, ``disks``,
        ``bootrom``, ``encrypted``, ``delegate_dataset``, ``allow_shared_images``,
        ``password`` (or ``administrator_pw``), ``credentials``, ``default_networks``, and
        flat ``**{"metadata.<key>": ..., "tag.<key>": ...}`` fields.

        Raises:
            TypeError: an argument CloudAPI does not take (a typo would otherwise be sent
                and silently ignored by the server), or a field given twice.
        """
        body: dict[str, Any] = {
            "image": _id_of(image, "id"),
            "package": _id_of(package, "id", "name"),
        }
        optional = {
            "name": name,
            "networks": None if networks is None else [_network_ref(n) for n in networks],
            "firewall_enabled": firewall_enabled,
            "deletion_protection": deletion_protection,
            "affinity": [affinity] if isinstance(affinity, str) else affinity,
            "brand": brand,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        body.update(_flatten("metadata", metadata, metadata_value))
        body.update(_flatten("tag", tags, lambda value: value))
        unknown = sorted(
            key
            for key in extra
            if key not in CREATE_MACHINE_EXTRAS and not key.startswith(("metadata.", "tag."))
        )
        if unknown:
            raise TypeError(
                f"create_machine() got unknown argument(s) {', '.join(unknown)}; expected "
                "metadata.<key>, tag.<key> or some of: "
                + ", ".join(sorted(CREATE_MACHINE_ARGUMENTS | CREATE_MACHINE_EXTRAS))
            )
        for key, value in extra.items():
            if key in body:
                raise TypeError(f"create_machine() got {key!r} twice")
            if value is not None:
                body[key] = value
        return self._object("POST", "machines", json=body)

    @operation
    def delete_machine(self, id: Ref) -> Call[None]:
        """DeleteMachine: ``DELETE /:login/machines/:id``.

        Raises ``CannotDestroyMachineError`` while deletion protection is on, and
        :class:`smartdc.errors.MachineGoneError` if the machine is already deleted.
        """
        return self._none("DELETE", _path("machines", _id_of(id, "id")))

    @operation
    def machine_audit(self, id: Ref) -> Call[list[JSONObject]]:
        """MachineAudit: ``GET /:login/machines/:id/audit``.

        Returns the finished jobs, newest first: ``[{"action", "success", "time", "caller"}]``.
        """
        return self._objects("GET", _path("machines", _id_of(id, "id"), "audit"))

    # --- actions: POST /:login/machines/:id?action=... -> 202, no body -------------------------

    def _machine_action(self, id: Ref, action: str, **inputs: str) -> Call[None]:
        return self._none(
            "POST",
            _path("machines", _id_of(id, "id")),
            params={"action": action},
            json=inputs or None,
        )

    @operation
    def stop_machine(self, id: Ref) -> Call[None]:
        """StopMachine: ``POST /:login/machines/:id?action=stop``. Asynchronous."""
        return self._machine_action(id, "stop")

    @operation
    def start_machine(self, id: Ref) -> Call[None]:
        """StartMachine: ``POST /:login/machines/:id?action=start``. Asynchronous."""
        return self._machine_action(id, "start")

    @operation
    def reboot_machine(self, id: Ref) -> Call[None]:
        """RebootMachine: ``POST /:login/machines/:id?action=reboot``. Asynchronous."""
        return self._machine_action(id, "reboot")

    @operation
    def resize_machine(self, id: Ref, package: Ref) -> Call[None]:
        """ResizeMachine: ``POST /:login/machines/:id?action=resize`` with ``package``.

        ``package`` is a package id or name (or dict). Asynchronous.
        """
        return self._machine_action(id, "resize", package=_id_of(package, "id", "name"))

    @operation
    def rename_machine(self, id: Ref, name: str) -> Call[None]:
        """RenameMachine: ``POST /:login/machines/:id?action=rename`` with ``name``."""
        if not name:
            raise ValueError("rename_machine() needs a non-empty name")
        return self._machine_action(id, "rename", name=name)

    @operation
    def enable_machine_firewall(self, id: Ref) -> Call[None]:
        """EnableMachineFirewall: ``POST /:login/machines/:id?action=enable_firewall``."""
        return self._machine_action(id, "enable_firewall")

    @operation
    def disable_machine_firewall(self, id: Ref) -> Call[None]:
        """DisableMachineFirewall: ``POST /:login/machines/:id?action=disable_firewall``."""
        return self._machine_action(id, "disable_firewall")

    @operation
    def enable_machine_deletion_protection(self, id: Ref) -> Call[None]:
        """EnableMachineDeletionProtection:
        ``POST /:login/machines/:id?action=enable_deletion_protection``."""
        return self._machine_action(id, "enable_deletion_protection")

    @operation
    def disable_machine_deletion_protection(self, id: Ref) -> Call[None]:
        """DisableMachineDeletionProtection:
        ``POST /:login/machines/:id?action=disable_deletion_protection``."""
        return self._machine_action(id, "disable_deletion_protection")
