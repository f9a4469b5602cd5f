"""Matching requests to :class:`Route` entries, with restify 4's routing errors.

Routing is the first step of every request. It yields either a
:class:`RouteGroup` — every route sharing the request's method and path, which differ only by
``?action=`` — or one of the early errors: 404 ``ResourceNotFound``, 405
``MethodNotAllowedError`` (with ``Allow``) or 400 ``InvalidVersion``. The final choice among
a group's routes waits for the body, because ``action`` may arrive there.

Besides the routes it serves, a router knows the CloudAPI operations the table leaves out
(:data:`smartdc.operations.OPERATIONS`, for a configuration that serves only some) and two
routes CloudAPI has beyond that list, ListForeignDatacenters and AddForeignDatacenter. It
routes them like the others, so they are authenticated and authorized as usual, and then
answers 501 ``NotImplementedError`` naming the operation rather than a 404 or 405 that reads
like the caller's mistake. The foreign-datacenter routes first answer as CloudAPI does
without a delegated token: 403 ``Forbidden`` (sdc-cloudapi lib/datacenters.js).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Handler,
    Reply,
    Route,
    cloudapi_route,
    not_found,
)
from smartdc.emulator.versions import best_version
from smartdc.operations import OPERATIONS

#: Resolutions kept (method, raw path, version range); a miss only costs the matching again.
_RESOLVED_PATHS = 4096
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    literal_segments: int
    order: int
    #: ``(position, text)`` of each path segment that is plain text, for a quick pre-check.
    literals: tuple[tuple[int, str], ...] = ()


def _compile(route: Route, order: int) -> _CompiledRoute:
    if not route.path.startswith("/"):
        raise ValueError(f"route {route.operation}: path must start with '/': {route.path!r}")
    parts: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(route.path):
        parts.append(re.escape(route.path[position : found.start()]))
        parts.append(f"(?P<{found.group(1)}>[^/]+)")
        position = found.end()
    parts.append(re.escape(route.path[position:]))
    segments = route.path.split("/")
    literal = sum(1 for seg in segments[1:] if not _PLACEHOLDER.fullmatch(seg))
    plain = tuple((i, seg) for i, seg in enumerate(segments) if not _PLACEHOLDER.search(seg))
    return _CompiledRoute(route, re.compile("".join(parts)), literal, order, plain)


def _second(compiled: _CompiledRoute) -> str | None:
    """The route's second path segment when it is plain text, else ``None``."""
    return next((text for i, text in compiled.literals if i == 2), None)


def _methods_of(route: Route) -> tuple[str, ...]:
    return (route.method, "HEAD") if route.head and route.method == "GET" else (route.method,)


@dataclass(frozen=True)
class RouteGroup:
    """The routes that share the request's method and path, best first."""

    routes: tuple[Route, ...]
    path_params: dict[str, str]
    #: Every method served on this path, for ``Access-Control-Allow-Methods``.
    allow_methods: tuple[str, ...]
    version_range: str

    @property
    def content_types(self) -> tuple[str, ...]:
        """Body content types the path accepts (empty: any)."""
        return self.routes[0].content_types

    def select(self, action: str | None) -> Route | None:
        """The route for this ``action``: an exact ``query_action`` match, else a route
        without one, else ``None`` (an action no route serves)."""
        fallback: Route | None = None
        for route in self.routes:
            if route.query_action is not None and route.query_action == action:
                return route
            if route.query_action is None and fallback is None:
                fallback = route
        return fallback


#: CloudAPI routes outside its operation list that the emulator does not serve:
#: (operation, method, path template).
UNLISTED_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("ListForeignDatacenters", "GET", "/{login}/foreigndatacenters"),
    ("AddForeignDatacenter", "POST", "/{login}/foreigndatacenters"),
)
DELEGATION_REQUIRED = "method requires HTTP signature auth token delegated authorization"


def not_implemented(name: str, method: str, path: str) -> EmulatorError:
    """The 501 for an operation the emulator knows of but does not serve."""
    return EmulatorError(
        501,
        "NotImplementedError",
        f"{name} ({method} {path}) is not implemented by this emulator",
    )


def _unserved(name: str, method: str, path: str) -> Handler:
    def answer(call: Call) -> Reply:
        raise not_implemented(name, method, path)

    return answer


def _needs_delegation(name: str, method: str, path: str) -> Handler:
    def answer(call: Call) -> Reply:
        if "x-auth-token" not in call.headers:
            raise EmulatorError(403, "Forbidden", DELEGATION_REQUIRED)
        raise not_implemented(name, method, path)

    return answer


def unserved_routes(served: Sequence[Route]) -> list[Route]:
    """Routes answering 501 for every CloudAPI operation ``served`` leaves out, plus the
    foreign-datacenter routes."""
    names = {route.operation for route in served}
    missing = []
    for listed in OPERATIONS:
        if listed.name not in names:
            handler = _unserved(listed.name, listed.method, listed.route_path)
            missing.append(cloudapi_route(listed.name, handler, summary="Not implemented"))
    for name, method, path in UNLISTED_ROUTES:
        if name not in names:
            shown = path.replace("{login}", ":login")
            handler = _needs_delegation(name, method, shown)
            missing.append(Route(name, method, path, handler, summary="Not implemented"))
    return missing


def known_operations() -> frozenset[str]:
    """Every operation name a router may route to."""
    return frozenset(o.name for o in OPERATIONS) | {name for name, _, _ in UNLISTED_ROUTES}


class Router:
    """A route table compiled for matching.

    ``routes`` are what the emulator serves (and what :attr:`routes` lists); every CloudAPI
    operation they leave out is routed too, to a 501 (:func:`unserved_routes`), after them.
    """

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        table = [*routes, *unserved_routes(routes)]
        self._compiled = [_compile(route, order) for order, route in enumerate(table)]
        # Most literal segments first, so fixed paths beat placeholders; then table order.
        self._compiled.sort(key=lambda c: (-c.literal_segments, c.order))
        # A placeholder never spans a '/', so only routes with as many segments can match.
        by_length: dict[int, list[_CompiledRoute]] = {}
        for compiled in self._compiled:
            by_length.setdefault(compiled.route.path.count("/"), []).append(compiled)
        # The table never changes, so neither does a resolution; clients repeat paths.
        self._resolved = functools.lru_cache(maxsize=_RESOLVED_PATHS)(self._resolve)
        # Then by the second segment (``machines`` in /{login}/machines/{id}), keeping the
        # routes whose second segment is a placeholder in every list; key None: no such text.
        self._candidates: dict[tuple[int, str | None], list[_CompiledRoute]] = {}
        for length, group in by_length.items():
            texts = {text for c in group for i, text in c.literals if i == 2}
            for key in (*texts, None):
                self._candidates[(length, key)] = [
                    c for c in group if _second(c) in (key, None) or length < 2
                ]

    def _matches(self, path: str) -> list[tuple[_CompiledRoute, dict[str, str]]]:
        found: list[tuple[_CompiledRoute, dict[str, str]]] = []
        segments = path.split("/")
        # Many routes share one template (the actions of a path): match each template once.
        seen: dict[re.Pattern[str], dict[str, str] | None] = {}
        length = len(segments) - 1
        candidates = self._candidates.get((length, segments[2] if length >= 2 else None))
        if candidates is None:
            candidates = self._candidates.get((length, None), [])
        for compiled in candidates:
            pattern = compiled.pattern
            if pattern in seen:
                params = seen[pattern]
            elif any(segments[i] != text for i, text in compiled.literals):
                params = seen[pattern] = None
            else:
                hit = pattern.fullmatch(path)
                params = seen[pattern] = (
                    None
                    if hit is None
                    else {name: unquote(value) for name, value in hit.groupdict().items()}
                )
            if params is not None:
                found.append((compiled, params))
        return found

    def resolve(self, method: str, path: str, version_range: str) -> RouteGroup:
        """Find the routes for ``method`` on the raw ``path`` that serve ``version_range``
        (the group is shared by every request for the same three: do not change it).

        Raises :class:`EmulatorError` with CloudAPI's routing errors.
        """
        return self._resolved(method, path, version_range)

    def _resolve(self, method: str, path: str, version_range: str) -> RouteGroup:
        hits = self._matches(_normalise(path))
        if not hits:
            raise not_found(f"{path} does not exist")
        allow = _allowed_methods(hits)
        same_method = [(c, p) for c, p in hits if method in _methods_of(c.route)]
        if not same_method:
            raise EmulatorError(
                405,
                "MethodNotAllowedError",
                f"{method} is not allowed",
                headers={"Allow": ", ".join(allow)},
            )
        # The most specific path template decides which placeholders the request fills.
        best_shape = same_method[0][0].pattern.pattern
        candidates = [(c, p) for c, p in same_method if c.pattern.pattern == best_shape]
        serving = [(c, p) for c, p in candidates if best_version(version_range, c.route.versions)]
        if not serving:
            raise EmulatorError(
                400, "InvalidVersion", f"{version_range} is not supported by {method} {path}"
            )
        serving.sort(key=lambda h: h[0].order)
        return RouteGroup(
            routes=tuple(c.route for c, _ in serving),
            path_params=serving[0][1],
            allow_methods=allow,
            version_range=version_range,
        )


def _allowed_methods(hits: list[tuple[_CompiledRoute, dict[str, str]]]) -> tuple[str, ...]:
    """Every method the matched routes serve, in route-table order."""
    methods: list[str] = []
    for compiled, _ in sorted(hits, key=lambda h: h[0].order):
        for method in _methods_of(compiled.route):
            if method not in methods:
                methods.append(method)
    return tuple(methods)


def _normalise(path: str) -> str:
    """Drop one trailing slash, as restify's non-strict routing does."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path
