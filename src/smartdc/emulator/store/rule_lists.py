"""ListFirewallRules' body for each account, kept between requests and extended in place.

CloudAPI lists every rule an account sees at once, so the body grows with the rules: at a
thousand rules a listing read and joined some 300 KB and hashed it for ``Content-MD5``
each time. Here the body of each (datacenter, account) is kept with its running MD5 and
checked before use against three figures the database gives from keys and indexes (the
tables and triggers are :mod:`.firewall`'s): the count of rule changes (bumped on every
update or deletion of anyone's rule), and the number and highest ``seq`` of the rules the
account sees. Unchanged, the body is sent as it is; with new rules only (``seq`` only
grows), their docs are appended and the MD5 carried on; otherwise it is built afresh. The
figures live in the database, so several worker processes keep their bodies right, and a
reset (every row deleted) changes the count of rules seen.
"""

from __future__ import annotations

import hashlib
import sqlite3
import weakref
from dataclasses import dataclass

from smartdc._bounded import drop_oldest
from smartdc.emulator.db import Database
from smartdc.emulator.responses import DigestedBody

#: The rules a (datacenter, account) sees, oldest first.
VISIBLE = "FROM fwrules WHERE datacenter = ? AND (owner = ? OR owner IS NULL)"
#: The figures, each from a primary key or an index seek: the count of changes, the count
#: of the rules seen (:mod:`.firewall` keeps a count for each owner), their highest seq.
_STATE = (
    "SELECT (SELECT n FROM fwrule_changes),"
    " (SELECT coalesce(sum(n), 0) FROM fwrule_counts WHERE datacenter = ?1 AND owner IN (?2, '')),"
    " max((SELECT coalesce(max(seq), 0) FROM fwrules WHERE datacenter = ?1 AND owner = ?2),"
    " (SELECT coalesce(max(seq), 0) FROM fwrules WHERE datacenter = ?1 AND owner IS NULL))"
)
_ALL = f"SELECT group_concat(doc, ',') FROM (SELECT doc {VISIBLE} ORDER BY seq)"
#: The rules seen that are newer than a seq, from two index ranges (SQLite reads the whole
#: datacenter for the OR of :data:`VISIBLE` with a seq bound).
_AFTER = (
    "SELECT count(*), group_concat(doc, ',') FROM ("
    " SELECT seq, doc FROM fwrules WHERE datacenter = ?1 AND owner = ?2 AND seq > ?3"
    " UNION ALL"
    " SELECT seq, doc FROM fwrules WHERE datacenter = ?1 AND owner IS NULL AND seq > ?3"
    " ORDER BY seq)"
)
#: Bodies kept per database (one a datacenter and account), the oldest dropped first.
KEPT_LISTS = 64


@dataclass(frozen=True)
class _Kept:
    """One account's body and the figures it was made at."""

    changes: int
    count: int
    last_seq: int
    body: DigestedBody
    #: The MD5 of the body without its closing bracket, to carry on.
    md5: hashlib._Hash

    def extended(self, docs: str, changes: int, count: int, last_seq: int) -> _Kept:
        """This body with ``docs`` (joined rule docs) appended."""
        joint = b"," if self.count else b""
        more = joint + docs.encode()
        md5 = self.md5.copy()
        md5.update(more)
        return _made(changes, count, last_seq, self.body[:-1] + more, md5)


def _made(changes: int, count: int, last_seq: int, opened: bytes, md5: hashlib._Hash) -> _Kept:
    """A kept body from its bytes without the closing bracket and their MD5."""
    closed = md5.copy()
    closed.update(b"]")
    body = DigestedBody.of(opened + b"]", closed.digest())
    return _Kept(changes, count, last_seq, body, md5)


_BODIES: weakref.WeakKeyDictionary[Database, dict[tuple[str, str], _Kept]] = (
    weakref.WeakKeyDictionary()
)


def rule_list(db: Database, conn: sqlite3.Connection, datacenter: str, account: str) -> bytes:
    """The JSON array of the rules ``account`` sees in ``datacenter``, read through ``conn``
    (a read of ``db``), from the kept body when it is still right."""
    where = (datacenter, account)
    if db.writing_here:  # a write under way may yet roll back: nothing is kept from it
        (docs,) = conn.execute(_ALL, where).fetchone()
        return f"[{docs or ''}]".encode()
    changes, count, last_seq = conn.execute(_STATE, where).fetchone()
    bodies = _BODIES.setdefault(db, {})
    kept = bodies.get(where)
    if kept is not None and kept.changes == changes:
        if (kept.count, kept.last_seq) == (count, last_seq):
            return kept.body
        if last_seq > kept.last_seq:
            added, docs = conn.execute(_AFTER, (*where, kept.last_seq)).fetchone()
            if kept.count + added == count:
                return _keep(bodies, where, kept.extended(docs, changes, count, last_seq))
    (docs,) = conn.execute(_ALL, where).fetchone()
    opened = f"[{docs or ''}".encode()
    return _keep(bodies, where, _made(changes, count, last_seq, opened, hashlib.md5(opened)))


def _keep(bodies: dict[tuple[str, str], _Kept], where: tuple[str, str], kept: _Kept) -> bytes:
    bodies.pop(where, None)
    bodies[where] = kept
    drop_oldest(bodies, KEPT_LISTS)
    return kept.body
