"""What every CloudAPI area mixin builds on: the request path and argument helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Unpack, cast
from urllib.parse import quote

from smartdc.transport import Closeable, HttpSession, RequestContent, RequestOptions, Response

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


def _check_names(operation: str, given: Mapping[str, Any], known: frozenset[str]) -> None:
    """Reject filter or field names the operation does not document, naming them."""
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        raise TypeError(
            f"{operation}() got unknown argument(s) {', '.join(unknown)}; "
            f"expected some of: {', '.join(sorted(known))}"
        )


class ApiBase(Closeable):
    """The request path shared by the area mixins; :class:`smartdc.CloudAPI` sets it up."""

    _session: HttpSession
    _account: str

    def _request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> Response:
        """Send a request; ``path`` is relative to ``/<account>`` unless it starts with ``/``."""
        if not path.startswith("/"):
            account = quote(self._account, safe="")
            path = f"/{account}/{path}" if path else f"/{account}"
        return self._session.request(method, path, **options)

    def request(self, method: str, path: str, **content: Unpack[RequestContent]) -> Any:
        """Send any CloudAPI request and return its decoded JSON body (``None`` if empty).

        ``path`` is relative to ``/<account>`` (``"machines"``) unless it starts with ``/``
        (``"/--ping"``). ``params`` (query parameters), ``json`` (the body) and ``headers``
        (extra request headers) are optional. Error statuses raise
        :class:`smartdc.errors.CloudAPIError`.
        """
        return self._request(method, path, **content).body

    def _object(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> JSONObject:
        return cast(JSONObject, self._request(method, path, params=params, json=json).body)

    def _objects(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> list[JSONObject]:
        return cast(list[JSONObject], self._request(method, path, params=params).body)

    def _none(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> None:
        self._request(method, path, params=params, json=json)

    @property
    def last_response(self) -> Response | None:
        """The last response received on this thread: status, headers, decoded body."""
        return self._session.last_response

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._session.close()
