"""A base for small immutable value classes that cost nothing to define.

``dataclasses`` and ``typing.NamedTuple`` generate each class's methods with ``exec`` at
import time, about 0.4 ms a class on a small machine, which the ``smartdc`` command pays on
every run. A :class:`Record` subclass lists its fields in ``__slots__`` and writes its own
typed ``__init__``; equality, hashing, ``repr`` and ``replace`` come from here.
"""

from __future__ import annotations

from typing import Any, Self


class Record:
    """Fields are the ``__slots__`` of the subclass, in order; set once, in ``__init__``."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__}.{name} cannot be changed")
        object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return type(self)(**values)
