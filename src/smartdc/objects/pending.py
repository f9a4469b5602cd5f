"""Writes the server has accepted but may not show yet, laid over what it does show.

CloudAPI answers a metadata or tag write at once and applies it in a job on the machine, so a
read made just after the write can still return the old values. :class:`PendingWrites`
remembers this client's own writes to one dict-valued field (a machine's ``metadata`` or
``tags``) until a read shows them, so that a cached copy never flips back to the old values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["DELETED", "PendingWrites"]


class _Deleted:
    """The marker of a key deleted by a pending write."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DELETED"


DELETED: Final = _Deleted()


class PendingWrites:
    """Writes to one field not yet seen in the server's answers; an immutable value.

    ``values`` maps each written key to its new value, or :data:`DELETED`. ``exclusive``
    means the field was replaced as a whole (ReplaceMachineTags, DeleteMachineTags): keys
    not in ``values`` are gone. ``expires`` is the ``time.monotonic()`` after which the
    writes are forgotten, so that a write the server never shows (a failed job, a later
    change by someone else) does not hide the server's data for ever.
    """

    __slots__ = ("exclusive", "expires", "values")

    def __init__(self, values: Mapping[str, Any], *, exclusive: bool, expires: float) -> None:
        self.values: dict[str, Any] = dict(values)
        self.exclusive = exclusive
        self.expires = expires

    @classmethod
    def setting(cls, values: Mapping[str, Any], *, expires: float) -> PendingWrites:
        """Keys added or changed, the others kept."""
        return cls(values, exclusive=False, expires=expires)

    @classmethod
    def deleting(cls, keys: Iterable[str], *, expires: float) -> PendingWrites:
        """Keys deleted, the others kept."""
        return cls(dict.fromkeys(keys, DELETED), exclusive=False, expires=expires)

    @classmethod
    def replacing(cls, content: Mapping[str, Any], *, expires: float) -> PendingWrites:
        """The whole field replaced by ``content``."""
        return cls(content, exclusive=True, expires=expires)

    def then(self, later: PendingWrites) -> PendingWrites:
        """These writes followed by ``later`` ones."""
        if later.exclusive:
            return later
        return PendingWrites(
            {**self.values, **later.values}, exclusive=self.exclusive, expires=later.expires
        )

    def view(self, server: Mapping[str, Any]) -> dict[str, Any]:
        """What the field holds once these writes are applied to ``server``'s data."""
        shown = {} if self.exclusive else dict(server)
        for key, value in self.values.items():
            if value is DELETED:
                shown.pop(key, None)
            else:
                shown[key] = value
        return shown

    def shown_by(self, server: Mapping[str, Any]) -> bool:
        """Whether ``server``'s data already reflects every one of these writes."""
        if self.exclusive:
            return dict(server) == self.view({})
        return all(
            (key not in server) if value is DELETED else (key in server and server[key] == value)
            for key, value in self.values.items()
        )

    def expired(self, now: float) -> bool:
        """Whether these writes are too old to keep laying over the server's data."""
        return now >= self.expires

    def __repr__(self) -> str:
        # Keys only: metadata values may be secrets (passwords, tokens).
        return f"PendingWrites(keys={sorted(self.values)!r}, exclusive={self.exclusive})"
