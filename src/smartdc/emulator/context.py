"""What an emulator route handler sees and returns.

Handlers are plain functions ``(call: Call) -> Reply``. They parse inputs from ``call``,
ask the store to do the work, and return a :class:`Reply`; they never touch HTTP objects.
Errors are raised as :class:`EmulatorError` and rendered by the app as CloudAPI renders them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smartdc.emulator.faults import FaultPlan
from smartdc.operations import operation

if TYPE_CHECKING:
    from smartdc.emulator.db import Database

#: Every API version the emulated CloudAPI serves, ascending.
API_VERSIONS: tuple[str, ...] = ("7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0")
SERVER_VERSION = "cloudapi/9.20.0"
#: Seconds a provision takes unless told otherwise: about what a SmartOS container takes on
#: a real Triton datacenter (power actions take half, updates a fifth; see lifecycle).
DEFAULT_PROVISION_DELAY = 15.0


class EmulatorError(Exception):
    """An error response: ``{"code", "message"}`` with ``status``.

    ``body`` replaces the default body when set (410 Gone carries the machine object;
    backend errors may add ``errors``). ``code=None`` renders ``{"message"}`` only.
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.headers = dict(headers or {})

    def render_body(self) -> Any:
        if self.body is not None:
            return self.body
        if self.code is None:
            return {"message": self.message}
        return {"code": self.code, "message": self.message}


def not_found(message: str) -> EmulatorError:
    return EmulatorError(404, "ResourceNotFound", message)


def invalid_argument(message: str) -> EmulatorError:
    return EmulatorError(409, "InvalidArgument", message)


def missing_parameter(message: str) -> EmulatorError:
    return EmulatorError(409, "MissingParameter", message)


def validation_failed(
    errors: Sequence[Mapping[str, str]], message: str = "Invalid Parameters"
) -> EmulatorError:
    """VMAPI's 409 ``ValidationFailed`` with its per-field ``errors`` list."""
    body = {"code": "ValidationFailed", "message": message, "errors": [dict(e) for e in errors]}
    return EmulatorError(409, "ValidationFailed", message, body=body)


def invalid_parameters(errors: Sequence[Mapping[str, str]]) -> EmulatorError:
    """The 422 ``InvalidParameters`` NAPI and FWAPI answer, with one entry per bad field."""
    message = "Invalid parameters"
    body = {"code": "InvalidParameters", "message": message, "errors": [dict(e) for e in errors]}
    return EmulatorError(422, "InvalidParameters", message, body=body)


@dataclass
class Reply:
    """A handler's answer. ``body=None`` with status 202/204 sends no body; with status 101
    ``body`` is the WebSocket session to run (:mod:`smartdc.emulator.websockets`).

    ``content_type`` overrides the negotiated media type; ``body`` is then sent as it is
    (bytes), e.g. newline-delimited JSON as ``application/x-json-stream``.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


@dataclass(frozen=True)
class EmulatorConfig:
    """Process-wide emulator settings, shared by every datacenter of the region."""

    provision_delay: float = DEFAULT_PROVISION_DELAY
    #: datacenter name -> base URL, in order; the first is the default.
    datacenters: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    #: Faults to inject into coming requests and provisions (:mod:`smartdc.emulator.faults`).
    faults: FaultPlan = field(default_factory=FaultPlan, compare=False)
    #: How many processes serve the region (``--workers``); faults are then refused, since
    #: each process would keep its own.
    workers: int = 1


@dataclass
class Call:
    """One authenticated request, as a handler sees it.

    ``params`` merges the query string and the body (body keys win), as CloudAPI does.
    ``account`` is the account row the path names (after ``my`` is resolved).
    ``caller`` is the audit caller object, e.g. ``{"type": "signature", "ip": ..., "keyId": ...}``.
    ``user`` is the RBAC sub-user who signed, if one did, and ``active_roles`` the roles it acts
    with (:mod:`smartdc.emulator.rbac`).
    """

    method: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    body: Any
    params: dict[str, Any]
    headers: Mapping[str, str]
    version_range: str
    datacenter: str
    account: dict[str, Any]
    caller: dict[str, Any]
    db: Database
    config: EmulatorConfig
    now: float
    user: dict[str, Any] | None = None
    active_roles: list[dict[str, Any]] = field(default_factory=list)
    #: The request is a WebSocket upgrade (its handler may answer 101 with a session).
    websocket: bool = False

    @property
    def login(self) -> str:
        return str(self.account["login"])

    @property
    def account_uuid(self) -> str:
        return str(self.account["uuid"])


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class ActionErrors:
    """The 409 messages for a path served only by ``?action=`` routes when the request's
    action is missing (``MissingParameter``) or no route serves it (``InvalidArgument``;
    ``{action}`` is replaced). Machines and images word these differently."""

    missing: str = "action is required"
    unknown: str = "{action} is not a valid action"

    def error(self, action: Any) -> EmulatorError:
        """The error for this ``action`` (``None`` or ``""`` when none was given)."""
        if action in (None, ""):
            return missing_parameter(self.missing)
        return invalid_argument(self.unknown.format(action=action))


MACHINE_ACTION_ERRORS = ActionErrors()
IMAGE_ACTION_ERRORS = ActionErrors(
    missing="action is a required argument", unknown="action {action} is not a valid argument"
)


@dataclass(frozen=True)
class Route:
    """One CloudAPI route: operation name, method, path template, handler.

    Path templates use ``{name}`` placeholders and always start with ``/{login}``.
    ``versions`` lists the API versions the route serves.
    ``head`` also registers HEAD with GET's semantics and no body.
    ``query_action`` restricts a route to requests with ``?action=<value>`` (CloudAPI routes
    machine and image actions this way); routes without it match any action.
    ``content_types`` limits the request body types the route accepts (415 otherwise; a
    request without ``Content-Type`` counts as ``application/octet-stream``); empty: any.
    ``anonymous`` routes answer unsigned requests (a signature that is sent is still checked).
    ``action_errors`` words the 409s for an action no route on the path serves.
    ``blocking`` handlers may wait (sleep) before answering, so they run in a worker thread;
    the others may run on the server's event loop.
    """

    operation: str
    method: str
    path: str
    handler: Handler
    versions: tuple[str, ...] = API_VERSIONS
    head: bool = False
    query_action: str | None = None
    summary: str = ""
    content_types: tuple[str, ...] = ()
    anonymous: bool = False
    action_errors: ActionErrors = MACHINE_ACTION_ERRORS
    #: The upstream route name, for an operation CloudAPI serves on several routes.
    variant: str | None = None
    blocking: bool = False


_COLON_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


def cloudapi_route(
    name: str,
    handler: Handler,
    *,
    summary: str,
    head: bool = False,
    content_types: tuple[str, ...] = (),
    anonymous: bool = False,
    action_errors: ActionErrors = MACHINE_ACTION_ERRORS,
    since: str | None = None,
    path: str | None = None,
    variant: str | None = None,
    blocking: bool = False,
) -> Route:
    """The route serving CloudAPI operation ``name``: its method, path and ``?action=`` come
    from :data:`smartdc.operations.OPERATIONS`, so the route table cannot drift from it.

    ``since`` is the first API version that has the route (NICs and disks 7.2.0, fabrics
    7.3.0); without it the route serves every version. ``path`` replaces the listed path, for
    operations CloudAPI serves on several (SetRoleTags), each naming its ``variant``. RBAC
    paths are listed under ``:account``; routes name that segment ``{login}`` like every other.
    """
    listed = operation(name)
    versions = API_VERSIONS
    if since is not None:
        versions = tuple(v for v in API_VERSIONS if _version_key(v) >= _version_key(since))
    template = path or _COLON_PLACEHOLDER.sub(r"{\1}", listed.route_path)
    if template.startswith("/{account}"):
        template = "/{login}" + template[len("/{account}") :]
    return Route(
        name,
        listed.method,
        template,
        handler,
        head=head,
        query_action=listed.action,
        summary=summary,
        content_types=content_types,
        anonymous=anonymous,
        action_errors=action_errors,
        versions=versions,
        variant=variant,
        blocking=blocking,
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
