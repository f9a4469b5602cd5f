"""Authenticating CloudAPI requests: the emulator's side of HTTP Signature.

Three steps, run at the points of the request pipeline where CloudAPI runs them:

1. :func:`parse_credentials` reads the ``Authorization`` header and checks the clock skew
   (400 ``InvalidHeader``);
2. :func:`check_date` rejects a ``Date`` too far in the past (400 ``RequestExpired``);
3. :func:`authenticate` resolves the keyId to an account key and verifies the signature
   (401 ``InvalidCredentials``).

A sub-user keyId (``/<account>/users/<login>/keys/<key>``) is verified against that user's
keys; the request then acts on the parent account, as the user
(sdc-cloudapi lib/auth.js ``signatureAuth``). What a keyId names (account, user, key) is
remembered between requests until an account, user or key changes in the database (triggers
count every change in ``credential_changes``, which a request reads after any commit, and
every request reads when other processes write the database too), so a deleted key or user
still stops working at once.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartdc.auth import httpsig
from smartdc.auth.keyid import KeyId, parse_key_id
from smartdc.auth.keys import PublicKey, parse_public_key
from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database, register_schema
from smartdc.emulator.store import accounts, users
from smartdc.emulator.versions import reaches
from smartdc.errors import SmartDCError

#: Largest accepted difference between the request's Date and the server clock, seconds.
CLOCK_SKEW = httpsig.MAX_CLOCK_SKEW

#: Algorithms the verifier accepts once upper-cased.
SUPPORTED_ALGORITHMS = frozenset(
    {
        "RSA-SHA1",
        "RSA-SHA256",
        "RSA-SHA512",
        "DSA-SHA1",
        "DSA-SHA256",
        "ECDSA-SHA256",
        "ECDSA-SHA512",
        "ED25519-SHA512",
    }
)

_WATCHED = ("accounts", "account_keys", "users", "user_keys")
register_schema(
    """
    CREATE TABLE IF NOT EXISTS credential_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO credential_changes (id, counter)
    VALUES (1, abs(random()) % 1000000000000);
    """
    + "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_counted AFTER {event} ON {table}"
        " BEGIN UPDATE credential_changes SET counter = counter + 1; END;\n"
        for table in _WATCHED
        for event in ("INSERT", "UPDATE", "DELETE")
    )
)

MUST_AUTHENTICATE = "You must make authenticated requests to use CloudAPI"
BAD_CREDENTIALS = "Invalid authorization credentials supplied"


def invalid_credentials(message: str = BAD_CREDENTIALS) -> EmulatorError:
    return EmulatorError(401, "InvalidCredentials", message)


@dataclass(frozen=True)
class Authenticated:
    """Who made the request: the caller's account, the sub-user (if one signed) and the key."""

    account: dict[str, Any]
    key: dict[str, Any]
    key_id: str
    user: dict[str, Any] | None = None

    def caller(self, ip: str) -> dict[str, Any]:
        """The audit ``caller`` object CloudAPI records for signature auth."""
        return {"type": "signature", "ip": ip, "keyId": self.key_id}


def parse_credentials(headers: Mapping[str, str], now: float) -> httpsig.ParsedSignature | None:
    """Parse ``Authorization``; ``None`` when the request does not use Signature auth at all
    (which is refused later, after the Date check and body parsing, as CloudAPI does).

    ``headers`` has lower-case names. Raises 400 ``InvalidHeader`` for a malformed header
    or a ``Date`` more than :data:`CLOCK_SKEW` seconds away from ``now`` either way.
    """
    try:
        return httpsig.parse_authorization(
            headers.get("authorization"), headers, now=now, clock_skew=CLOCK_SKEW
        )
    except httpsig.AuthorizationSchemeError:
        return None
    except httpsig.SignatureParseError as exc:
        raise EmulatorError(exc.status, exc.code, exc.response_message) from None


def check_date(headers: Mapping[str, str], now: float) -> None:
    """restify's date check: a ``Date`` more than :data:`CLOCK_SKEW` seconds old is expired."""
    date = headers.get("date")
    if date is None:
        return
    try:
        sent = httpsig.parse_http_date(date)
    except ValueError:
        return
    if now - sent > CLOCK_SKEW:
        raise EmulatorError(400, "RequestExpired", f"Date header {date} is too old")


@functools.lru_cache(maxsize=1024)
def _strict_key_id(text: str) -> KeyId | None:
    """The keyId ``text`` names, ``None`` when it is malformed (a client sends the same
    keyId with every request)."""
    try:
        return parse_key_id(text, strict=True)
    except ValueError:
        return None


def _key_id(parsed: httpsig.ParsedSignature, version_range: str) -> KeyId:
    key_id = _strict_key_id(parsed.key_id)
    # Sub-user keyIds exist from API 7.2.0 on; older ranges see them as malformed.
    if key_id is None or (key_id.user is not None and not reaches(version_range, "7.2.0")):
        raise invalid_credentials(f"Invalid KeyId {parsed.key_id} in authorization header")
    return key_id


#: The signature checks passed so far (a client's requests of one second share a signature).
_VERIFIED = httpsig.SignatureMemo()


@functools.lru_cache(maxsize=256)
def _public_key(openssh_line: str) -> PublicKey:
    """The parsed account key; every signed request needs one, and keys rarely change."""
    return parse_public_key(openssh_line)


@dataclass(frozen=True)
class _Credentials:
    account: dict[str, Any]
    user: dict[str, Any] | None
    key: dict[str, Any]


class _CredentialCache:
    """What keyIds resolved to, while ``credential_changes`` stays at ``counter``."""

    LIMIT = 1024

    def __init__(self) -> None:
        self.counter: int | None = None
        #: ``Database.commits`` when ``counter`` was read.
        self.commits = -1
        self.entries: dict[str, _Credentials | None] = {}


_CACHES: weakref.WeakKeyDictionary[Database, _CredentialCache] = weakref.WeakKeyDictionary()


def _credential_cache(db: Database) -> _CredentialCache:
    """The database's cache, emptied first if any account, user or key changed since.

    Where this process alone writes the database, nothing can have changed while it
    committed nothing, so the counter is read again only after a commit."""
    cache = _CACHES.get(db)
    if cache is None:
        cache = _CACHES[db] = _CredentialCache()
    commits = db.commits
    if commits == cache.commits and cache.counter is not None and not db.shared:
        if len(cache.entries) > cache.LIMIT:
            cache.entries = {}
        return cache
    row = db.one("SELECT counter FROM credential_changes")
    cache.commits = commits
    counter = None if row is None else int(row[0])
    if counter is None or counter != cache.counter or len(cache.entries) > cache.LIMIT:
        cache.entries = {}
        cache.counter = counter
    return cache


def _look_up(db: Database, key_id: KeyId) -> _Credentials | None:
    account = accounts.get_account(db, key_id.account)
    if account is None:
        return None
    user: dict[str, Any] | None = None
    if key_id.user is None:
        key = accounts.get_key(db, account["id"], key_id.key)
    else:
        user = users.find_user(db, account["id"], key_id.user)
        if user is None or user["login"] != key_id.user:
            return None
        key = accounts.get_key(db, user["id"], key_id.key, table=accounts.USER_KEYS)
    return None if key is None else _Credentials(account, user, key)


def _credentials(db: Database, raw_key_id: str, key_id: KeyId) -> _Credentials | None:
    """The account, user and key a keyId names (``None``: none), remembered while no
    account, user or key changes."""
    cache = _credential_cache(db)
    if raw_key_id in cache.entries:
        found = cache.entries[raw_key_id]
    else:
        found = _look_up(db, key_id)
        if cache.counter is not None:
            cache.entries[raw_key_id] = found
    if found is None:
        return None
    # Copies: callers may add to what they are given.
    user = None if found.user is None else dict(found.user)
    return _Credentials(dict(found.account), user, dict(found.key))


def authenticate(
    db: Database,
    parsed: httpsig.ParsedSignature | None,
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    version_range: str,
) -> Authenticated:
    """Verify the request's signature against the account key its keyId names.

    ``target`` is the raw request URL including the query string. Raises 401
    ``InvalidCredentials`` in every case CloudAPI does.
    """
    if parsed is None:
        raise invalid_credentials(MUST_AUTHENTICATE)
    algorithm = parsed.algorithm.upper()
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise invalid_credentials(f"{algorithm} is not a supported signing algorithm")
    key_id = _key_id(parsed, version_range)
    found = _credentials(db, parsed.key_id, key_id)
    if found is None:
        raise invalid_credentials()
    account, user, key = found.account, found.user, found.key
    try:
        public_key = _public_key(key["key"])
    except (ValueError, SmartDCError):
        raise invalid_credentials() from None
    if not httpsig.verify_request(parsed, public_key, method, target, headers, memo=_VERIFIED):
        raise invalid_credentials()
    return Authenticated(account=account, key=key, key_id=parsed.key_id, user=user)
