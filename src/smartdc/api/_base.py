"""What every CloudAPI area mixin builds on: the request path and argument helpers."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Unpack, cast
from urllib.parse import quote

from smartdc.api._operation import Call, operation
from smartdc.transport import RequestContent, Response

#: A decoded JSON object as CloudAPI returns it.
JSONObject = dict[str, Any]

#: An identifier, or a dict returned by the API that carries it (``{"id": ...}``).
Ref = str | Mapping[str, Any]


def _id_of(value: Any, *keys: str) -> str:
    """The identifier in ``value``: a non-empty string as is, or the first of ``keys`` found.

    Dicts returned by the API (and objects with such attributes) may be passed wherever an
    id is expected, as in ``api.get_machine(api.list_machines()[0])``.
    """
    if isinstance(value, str):
        if not value:
            raise ValueError(f"an empty string is not a valid {keys[0]}")
        return value
    for key in keys:
        found = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
        if isinstance(found, str) and found:
            return found
    wanted = " or ".join(repr(k) for k in keys)
    raise TypeError(f"expected a {keys[0]} string or an object with {wanted}, got {value!r}")


def _path(*segments: str) -> str:
    """A relative path with every segment URL-quoted (``/`` and ``:`` included)."""
    return "/".join(quote(segment, safe="") for segment in segments)


def _fields(**fields: Any) -> JSONObject:
    """The given fields without those that are ``None`` (not given)."""
    return {name: value for name, value in fields.items() if value is not None}


def _ids(values: Sequence[Ref], *keys: str) -> list[str]:
    """Each value's identifier, as :func:`_id_of` finds it."""
    return [_id_of(value, *keys) for value in values]


def _str_list(value: str | Sequence[str] | None) -> list[str] | None:
    """A list of strings from one string or several (``None`` stays ``None``)."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _check_names(operation: str, given: Mapping[str, Any], known: Collection[str]) -> None:
    """Reject filter or field names the operation does not document, naming them."""
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        raise TypeError(
            f"{operation}() got unknown argument(s) {', '.join(unknown)}; "
            f"expected some of: {', '.join(sorted(known))}"
        )


def as_object(response: Response) -> JSONObject:
    """The decoded body, a JSON object."""
    return cast(JSONObject, response.body)


def as_objects(response: Response) -> list[JSONObject]:
    """The decoded body, a JSON array of objects (``[]`` when empty)."""
    return cast(list[JSONObject], response.body if response.body is not None else [])


def as_none(response: Response) -> None:
    """Nothing: the operation's answer has no content worth returning."""
    return None


def whole_response(response: Response) -> Response:
    """The response itself, for operations that read its status or headers."""
    return response


class ApiBase:
    """What the area mixins build on: request descriptions, and the generic :meth:`request`.

    Nothing here does I/O; :class:`smartdc.CloudAPI` and :class:`smartdc.AsyncCloudAPI`
    send what the operations describe (see :mod:`smartdc.api._operation`).
    """

    _account: str

    def _full_path(self, path: str) -> str:
        """``path`` under ``/<account>`` unless it starts with ``/``."""
        if path.startswith("/"):
            return path
        account = quote(self._account, safe="")
        return f"/{account}/{path}" if path else f"/{account}"

    @operation
    def request(self, method: str, path: str, **content: Unpack[RequestContent]) -> Call[Any]:
        """Send any CloudAPI request and return its decoded JSON body (``None`` if empty).

        ``path`` is relative to ``/<account>`` (``"machines"``) unless it starts with ``/``
        (``"/--ping"``). ``params`` (query parameters), ``json`` (the body) and ``headers``
        (extra request headers) are optional. Error statuses raise
        :class:`smartdc.errors.CloudAPIError`.
        """
        return Call(
            method,
            path,
            params=content.get("params"),
            json=content.get("json"),
            headers=content.get("headers"),
        )

    @staticmethod
    def _call(
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept_redirect: bool = False,
    ) -> Call[Response]:
        """A request whose result is the whole response (status, headers, body)."""
        return Call(
            method,
            path,
            params=params,
            json=json,
            accept_redirect=accept_redirect,
            decode=whole_response,
        )

    @staticmethod
    def _object(
        method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Call[JSONObject]:
        return Call(method, path, params=params, json=json, decode=as_object)

    @staticmethod
    def _objects(
        method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Call[list[JSONObject]]:
        return Call(method, path, params=params, decode=as_objects)

    @staticmethod
    def _none(
        method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Call[None]:
        return Call(method, path, params=params, json=json, decode=as_none)
