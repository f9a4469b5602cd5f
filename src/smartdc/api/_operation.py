"""CloudAPI operations as descriptions, run by a sync or an async client.

Every method of :class:`smartdc.CloudAPI` is written once, as a function that builds a
description of the work without doing any I/O:

- a :class:`Call`: one request (method, path, query, body, headers) and how to read its
  answer;
- a flow: a generator that yields calls and receives each call's decoded answer, for
  operations of several steps (AddNic's redirect and follow-up GET), returning the result;
- a listing: a generator that yields one call per page and receives each page's response,
  for paged lists; the runner hands the page's items out before asking for the next;
- a :class:`Local`: work with no request, such as signing a WebSocket upgrade.

The :func:`operation` and :func:`listing` decorators turn such a function into a method whose
behaviour depends on the client it is read from: on a :class:`SyncRunner` it sends and
returns the result; on an :class:`AsyncRunner` it returns an awaitable (or an async iterator
for listings). Signing, retries, the debug echo and error decoding live in the runners'
session (:mod:`smartdc.transport`), once for both.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from smartdc.transport import Response

if TYPE_CHECKING:
    from typing import Self

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
U = TypeVar("U")


def _body(response: Response) -> Any:
    return response.body


class Call(Generic[R]):
    """One CloudAPI request and how to read its answer into ``R``.

    ``path`` is relative to ``/<account>`` unless it starts with ``/``. ``decode`` turns the
    :class:`~smartdc.transport.Response` into the operation's result; by default the decoded
    JSON body. A 3xx answer is a result rather than an error only with ``accept_redirect``.
    """

    __slots__ = ("accept_redirect", "decode", "headers", "json", "method", "params", "path")

    def __init__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept_redirect: bool = False,
        decode: Callable[[Response], R] = _body,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.json = json
        self.headers = headers
        self.accept_redirect = accept_redirect
        self.decode = decode

    def then(self, convert: Callable[[R], U]) -> Call[U]:
        """The same request, its result passed through ``convert``."""
        decode = self.decode
        return Call(
            self.method,
            self.path,
            params=self.params,
            json=self.json,
            headers=self.headers,
            accept_redirect=self.accept_redirect,
            decode=lambda response: convert(decode(response)),
        )

    def __repr__(self) -> str:
        # The body may hold secrets (a password, a key): the request line only.
        return f"Call({self.method} {self.path}, params={self.params!r})"


class Local(Generic[R]):
    """Work an operation does without a request; ``blocking`` when it may wait on I/O
    (signing through ssh-agent), so that an async client runs it in a thread."""

    __slots__ = ("blocking", "work")

    def __init__(self, work: Callable[[], R], *, blocking: bool = False) -> None:
        self.work = work
        self.blocking = blocking


#: A flow: yields calls, receives each call's decoded result, returns the operation's result.
Flow = Generator[Call[Any], Any, R]

#: What an operation's description is.
Plan = Call[R] | Flow[R] | Local[R]

#: A listing: yields one call per page (decoded into that page's items) and receives the
#: page's :class:`~smartdc.transport.Response`, to decide whether another page follows.
Pages = Generator[Call[list[T]], Response, None]


class SyncRunner:
    """A client that runs descriptions by sending their requests and waiting."""

    def _send(self, call: Call[Any]) -> Response:
        raise NotImplementedError

    def _run(self, plan: Plan[R]) -> R:
        if isinstance(plan, Call):
            return plan.decode(self._send(plan))
        if isinstance(plan, Local):
            return plan.work()
        return self._run_flow(plan)

    def _run_flow(self, flow: Flow[R]) -> R:
        try:
            call = next(flow)
            while True:
                try:
                    result = call.decode(self._send(call))
                except Exception as exc:  # the flow may handle it; else it propagates
                    call = flow.throw(exc)
                else:
                    call = flow.send(result)
        except StopIteration as stop:
            value: R = stop.value
            return value

    def _iterate(self, pages: Pages[T]) -> Iterator[T]:
        try:
            call = next(pages)
        except StopIteration:
            return
        while True:
            response = self._send(call)
            yield from call.decode(response)
            try:
                call = pages.send(response)
            except StopIteration:
                return
            # Only one page is held at a time: this one goes before the next is fetched.
            del response


class AsyncRunner:
    """A client that runs descriptions on an asyncio event loop."""

    async def _send(self, call: Call[Any]) -> Response:
        raise NotImplementedError

    async def _run(self, plan: Plan[R]) -> R:
        if isinstance(plan, Call):
            return plan.decode(await self._send(plan))
        if isinstance(plan, Local):
            if plan.blocking:
                import asyncio

                return await asyncio.to_thread(plan.work)
            return plan.work()
        try:
            call = next(plan)
            while True:
                try:
                    result = call.decode(await self._send(call))
                except Exception as exc:
                    call = plan.throw(exc)
                else:
                    call = plan.send(result)
        except StopIteration as stop:
            value: R = stop.value
            return value

    async def _iterate(self, pages: Pages[T]) -> AsyncIterator[T]:
        try:
            call = next(pages)
        except StopIteration:
            return
        while True:
            response = await self._send(call)
            for item in call.decode(response):
                yield item
            try:
                call = pages.send(response)
            except StopIteration:
                return
            del response  # one page at a time, as in SyncRunner._iterate


class _Described(Generic[P]):
    """What :class:`operation` and :class:`listing` share: the description function, its
    name and documentation, and a signature without ``self``."""

    def __init__(self, describe: Callable[Concatenate[Any, P], Any]) -> None:
        self.describe = describe
        self.__doc__ = describe.__doc__
        self.__name__ = describe.__name__
        self.__qualname__ = describe.__qualname__
        self.__module__ = describe.__module__
        self._name = describe.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __call__(self, client: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run on ``client``, as a plain function read from the class would be."""
        return getattr(client, self._name)(*args, **kwargs)

    def _bound(self, instance: Any, run: Callable[..., Any]) -> Callable[..., Any]:
        describe = self.describe

        def bound(*args: Any, **kwargs: Any) -> Any:
            return run(describe(instance, *args, **kwargs))

        functools.update_wrapper(bound, describe)
        # inspect.signature() follows __wrapped__: to the description bound to the client,
        # whose signature is the method's, without ``self``.
        bound.__wrapped__ = describe.__get__(instance, type(instance))  # type: ignore[attr-defined]
        # Cached on the instance (a non-data descriptor is looked up only once).
        instance.__dict__[self._name] = bound
        return bound


class operation(_Described[P], Generic[P, R]):
    """Makes a description function a client method: on :class:`smartdc.CloudAPI` it returns
    the result, on :class:`smartdc.AsyncCloudAPI` an awaitable of it."""

    def __init__(self, describe: Callable[Concatenate[Any, P], Plan[R]]) -> None:
        super().__init__(describe)

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(self, instance: SyncRunner, owner: type) -> Callable[P, R]: ...

    @overload
    def __get__(self, instance: AsyncRunner, owner: type) -> Callable[P, Awaitable[R]]: ...

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is None:
            return self
        if isinstance(instance, AsyncRunner | SyncRunner):
            return self._bound(instance, instance._run)
        raise TypeError(f"{self._name}() needs a CloudAPI or AsyncCloudAPI client")


class listing(_Described[P], Generic[P, T]):
    """Makes a paged listing's description a client method: an iterator on
    :class:`smartdc.CloudAPI`, an async iterator on :class:`smartdc.AsyncCloudAPI`.

    The description runs when the method is called, so bad arguments raise at once; the
    requests go out as the iterator is consumed, one page at a time.
    """

    def __init__(self, describe: Callable[Concatenate[Any, P], Pages[T]]) -> None:
        super().__init__(describe)

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(self, instance: SyncRunner, owner: type) -> Callable[P, Iterator[T]]: ...

    @overload
    def __get__(self, instance: AsyncRunner, owner: type) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is None:
            return self
        if isinstance(instance, AsyncRunner | SyncRunner):
            return self._bound(instance, instance._iterate)
        raise TypeError(f"{self._name}() needs a CloudAPI or AsyncCloudAPI client")


def collect(pages: Pages[T]) -> Flow[list[T]]:
    """A flow that runs a listing to its end and returns every item (``list_*`` methods)."""
    items: list[T] = []
    try:
        call = next(pages)
    except StopIteration:
        return items
    while True:
        response: Response = yield raw(call)
        items.extend(call.decode(response))
        try:
            call = pages.send(response)
        except StopIteration:
            return items


def _response(response: Response) -> Response:
    return response


def raw(call: Call[Any]) -> Call[Response]:
    """The same request, its result the whole :class:`~smartdc.transport.Response`."""
    return Call(
        call.method,
        call.path,
        params=call.params,
        json=call.json,
        headers=call.headers,
        accept_redirect=call.accept_redirect,
        decode=_response,
    )
