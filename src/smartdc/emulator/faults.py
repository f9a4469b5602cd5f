"""Faults the emulator injects on request, and CloudAPI's own request-rate throttle.

A :class:`FaultPlan` holds three things, shared by every datacenter of an emulator and kept
in memory only (a restart forgets them; the control plane's reset and ``DELETE
/__emulator/faults`` cancel the faults, not the rate limit).

**Counted faults** (:meth:`FaultPlan.set`), per kind, how many of the coming events go wrong:

``fail_provision``
    The next N CreateMachine requests that create a machine queue a provision job that
    fails: the machine ends ``failed`` and its audit says ``provision`` ``success: "no"``,
    as when a datacenter runs out of capacity. CreateVolume uses the same count: the volume
    ends ``failed``. Refused creates do not use one up.
``throttle``
    The next N authenticated CloudAPI requests answer 429 ``TooManyRequestsError`` "You have
    exceeded your request rate of 10 r/s.", as CloudAPI's throttle does, with no
    ``Retry-After``.
``unavailable``
    The next N authenticated CloudAPI requests answer 503 ``ServiceUnavailableError`` with
    ``Retry-After: <retry_after>`` (default 1 second), as CloudAPI in maintenance (read-only)
    mode does.

**Rules** (:meth:`FaultPlan.add_rule`) pick the requests they hit: by ``operation`` (a
CloudAPI operation name), ``method`` and ``path`` (a glob on the path as sent, e.g.
``/*/machines/*``); all given must match, none given matches every CloudAPI request. Each
matching request counts as a match; the first ``after`` matches are let through, then each
match fires with ``probability`` (drawn from a generator seeded with ``seed``, 0 unless given,
so a run repeats exactly), until the rule has fired ``count`` times (no count: for ever).
Kinds:

``throttle`` / ``unavailable``
    The counted faults' 429 and 503 (``retry_after`` seconds, default 1).
``slow``
    The request is handled, and its response held back ``seconds`` (default 1).
``drop_request``
    The connection is closed before the request is handled: nothing happens.
``drop_response``
    The request is handled (whatever it changes stays changed), then the connection is
    closed instead of answering.
``fail_job``
    The job the request queues fails. ``job`` (a glob, default ``*``) names the kind of job;
    provisions (CreateMachine, CreateVolume) are ``provision``, and DeleteVolume's job is
    matched as its storage VM's ``destroy``: the volume is ``deleting``, then as it was.

When several rules of a kind match a request, the first one that fires wins and the later
ones are not consulted for it.

**The rate limit** (:attr:`FaultPlan.rate_limiter`, off unless configured) is CloudAPI's
per-account throttle: a token bucket per account login (sub-users share their account's),
``burst`` 30 and ``rate`` 10 requests a second by default, answering 429
``TooManyRequestsError`` "You have exceeded your request rate of N r/s." (as restify's
throttle plugin, which sdc-cloudapi lib/throttle.js configures).

Where each applies, in request order:

1. the server's front door (:meth:`FaultPlan.connection_faults`): ``drop_request``, then
   ``slow`` and ``drop_response`` around the handling;
2. right after authentication (``take_request_fault(THROTTLE)``): counted ``throttle``, then
   ``throttle`` rules;
3. just before the handler, after RBAC (``take_request_fault(UNAVAILABLE)``): counted
   ``unavailable``, ``unavailable`` rules, then the rate limit, which CloudAPI applies per
   route after its read-only check;
4. when a job is queued (:meth:`FaultPlan.take`, :meth:`FaultPlan.take_job_failure`):
   counted ``fail_provision``, then ``fail_job`` rules.

Ping (signed or not) and requests that fail before authentication completes never reach
steps 2-3, and a throttled request does not also use up an ``unavailable`` fault. Rules that
name an operation, method or path, and the rate limit, read the request from
:func:`current_request`, which the server's front door sets for each request
(:func:`handling`); outside it (an app called directly) only rules that name nothing apply.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

FAIL_PROVISION = "fail_provision"
THROTTLE = "throttle"
UNAVAILABLE = "unavailable"
#: The counted fault kinds, in the order requests meet them.
KINDS: tuple[str, ...] = (FAIL_PROVISION, THROTTLE, UNAVAILABLE)
RETRY_AFTER = "retry_after"
DEFAULT_RETRY_AFTER = 1
#: The rate CloudAPI names in its throttling message (its default: 10 requests/s).
THROTTLE_RATE = 10

SLOW = "slow"
DROP_REQUEST = "drop_request"
DROP_RESPONSE = "drop_response"
FAIL_JOB = "fail_job"
#: Every rule kind.
RULE_KINDS: tuple[str, ...] = (THROTTLE, UNAVAILABLE, SLOW, DROP_REQUEST, DROP_RESPONSE, FAIL_JOB)
#: The job name a provision (CreateMachine, CreateVolume) is matched as.
PROVISION_JOB = "provision"
DEFAULT_SLOW_SECONDS = 1.0
#: A slow response is held back at most this long, so a typo cannot hang a test run.
MAX_SLOW_SECONDS = 300.0
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
_COMMON_FIELDS = ("kind", "operation", "method", "path", "count", "probability", "seed", "after")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    THROTTLE: (),
    UNAVAILABLE: (RETRY_AFTER,),
    SLOW: ("seconds",),
    DROP_REQUEST: (),
    DROP_RESPONSE: (),
    FAIL_JOB: ("job",),
}


@dataclass(frozen=True)
class RequestFault:
    """The error response an authenticated request meets instead of its answer."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str]


def throttled(rate: float = THROTTLE_RATE) -> RequestFault:
    """CloudAPI's 429 for a caller over its request rate (restify sends no Retry-After)."""
    message = f"You have exceeded your request rate of {rate:g} r/s."
    return RequestFault(429, "TooManyRequestsError", message, {})


def unavailable(retry_after: int) -> RequestFault:
    """CloudAPI's 503 in maintenance mode, telling the client when to come back."""
    message = "CloudAPI is in maintenance mode; try again later"
    return RequestFault(503, "ServiceUnavailableError", message, {"Retry-After": str(retry_after)})


class FaultSpecError(ValueError):
    """A fault request that names an unknown fault or gives a count that is not one."""


# --- the request being handled ---------------------------------------------------------------


class RequestFacts:
    """What rules and the rate limit may ask of the request being handled.

    ``login`` is the account login in the request's keyId (the rate limit is only consulted
    once the signature is verified). The operation is worked out on first use by
    ``resolve_operation``, as routing it costs a little.
    """

    def __init__(
        self,
        method: str,
        path: str,
        *,
        login: str | None = None,
        resolve_operation: Callable[[], str | None] | None = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.login = login
        self._resolve = resolve_operation
        self._operation: str | None = None
        self._resolved = resolve_operation is None
        #: ``fail_job`` rules fired for this request, newest last, for :meth:`FaultPlan.give_back`.
        self.fired_job_rules: list[tuple[str, _Rule]] = []

    @property
    def operation(self) -> str | None:
        """The CloudAPI operation the request routes to, or ``None``."""
        if not self._resolved:
            self._resolved = True
            assert self._resolve is not None
            self._operation = self._resolve()
        return self._operation


_CURRENT: ContextVar[RequestFacts | None] = ContextVar("smartdc_emulator_request", default=None)


@contextmanager
def handling(facts: RequestFacts) -> Iterator[RequestFacts]:
    """Make ``facts`` the :func:`current_request` for the code run inside (worker threads
    started from it with a copied context, as anyio's are, see it too)."""
    token = _CURRENT.set(facts)
    try:
        yield facts
    finally:
        _CURRENT.reset(token)


def current_request() -> RequestFacts | None:
    """The request being handled, when the server's front door recorded one."""
    return _CURRENT.get()


# --- rules -----------------------------------------------------------------------------------


@dataclass
class _Rule:
    id: str
    kind: str
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    job: str | None = None
    count: int | None = None
    probability: float | None = None
    seed: int = 0
    after: int = 0
    retry_after: int = DEFAULT_RETRY_AFTER
    seconds: float = DEFAULT_SLOW_SECONDS
    matched: int = 0
    fired: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def applies(self, facts: RequestFacts | None, job: str | None = None) -> bool:
        if job is not None and not fnmatch.fnmatchcase(job, self.job or "*"):
            return False
        if self.operation is None and self.method is None and self.path is None:
            return True
        if facts is None:
            return False
        if self.method is not None and facts.method != self.method:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(facts.path, self.path):
            return False
        return self.operation is None or facts.operation == self.operation

    def fire(self) -> bool:
        """Count a match; whether the rule fires on it."""
        if self.exhausted:
            return False
        self.matched += 1
        if self.matched <= self.after:
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for name in ("operation", "method", "path", "count", "probability"):
            if getattr(self, name) is not None:
                shown[name] = getattr(self, name)
        if self.probability is not None:
            shown["seed"] = self.seed
        if self.after:
            shown["after"] = self.after
        if self.kind == UNAVAILABLE:
            shown[RETRY_AFTER] = self.retry_after
        elif self.kind == SLOW:
            shown["seconds"] = self.seconds
        elif self.kind == FAIL_JOB:
            shown["job"] = self.job or "*"
        shown["matched"] = self.matched
        shown["fired"] = self.fired
        return shown


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultSpecError(f"{name} must be a whole number {minimum} or more, not {value!r}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{name} must be a number, not {value!r}")
    return float(value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"{name} must be a non-empty string, not {value!r}")
    return value


def parse_rule(spec: Mapping[str, Any], operations: Collection[str] = ()) -> dict[str, Any]:
    """A rule's settings, checked; :class:`FaultSpecError` names the first problem.
    ``operations`` (when given) lists the operation names a rule may name."""
    kind = spec.get("kind")
    if kind not in RULE_KINDS:
        raise FaultSpecError(f"kind must be one of {', '.join(RULE_KINDS)}, not {kind!r}")
    allowed = (*_COMMON_FIELDS, *_KIND_FIELDS[kind])
    for name in spec:
        if name not in allowed:
            raise FaultSpecError(
                f"unknown field {name!r} for a {kind} rule: expected {', '.join(allowed)}"
            )
    settings: dict[str, Any] = {"kind": kind}
    if "operation" in spec:
        operation = _text("operation", spec["operation"])
        if operations and operation not in operations:
            raise FaultSpecError(f"unknown operation {operation!r} (CloudAPI operation names)")
        settings["operation"] = operation
    if "method" in spec:
        method = _text("method", spec["method"]).upper()
        if method not in _METHODS:
            raise FaultSpecError(f"method must be one of {', '.join(_METHODS)}, not {method!r}")
        settings["method"] = method
    if "path" in spec:
        path = _text("path", spec["path"])
        if not path.startswith(("/", "*")):
            raise FaultSpecError(
                f"path must be a glob on the request path, like /*/machines*, not {path!r}"
            )
        settings["path"] = path
    if "count" in spec:
        settings["count"] = _whole("count", spec["count"], 1)
    if "probability" in spec:
        probability = _number("probability", spec["probability"])
        if not 0 < probability <= 1:
            raise FaultSpecError(f"probability must be above 0 and at most 1, not {probability}")
        settings["probability"] = probability
    if "seed" in spec:
        if "probability" not in spec:
            raise FaultSpecError("seed only applies with a probability")
        settings["seed"] = _whole("seed", spec["seed"], 0)
    if "after" in spec:
        settings["after"] = _whole("after", spec["after"], 0)
    if RETRY_AFTER in spec:
        settings[RETRY_AFTER] = _whole(RETRY_AFTER, spec[RETRY_AFTER], 0)
    if "seconds" in spec:
        seconds = _number("seconds", spec["seconds"])
        if not 0 <= seconds <= MAX_SLOW_SECONDS:
            raise FaultSpecError(f"seconds must be 0 to {MAX_SLOW_SECONDS:g}, not {seconds}")
        settings["seconds"] = seconds
    if "job" in spec:
        settings["job"] = _text("job", spec["job"])
    return settings


@dataclass(frozen=True)
class ConnectionFaults:
    """What the server's front door does to one request's connection."""

    drop_request: bool = False
    #: Seconds to hold the response back.
    delay: float = 0.0
    drop_response: bool = False


# --- the rate limit --------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """A per-account token bucket: ``burst`` requests at once, refilled at ``rate`` a second
    (CloudAPI's defaults)."""

    burst: int = 30
    rate: float = 10.0

    def __post_init__(self) -> None:
        _whole("burst", self.burst, 1)
        if _number("rate", self.rate) <= 0:
            raise FaultSpecError(f"rate must be above 0, not {self.rate}")


class RateLimiter:
    """Token buckets by key, as restify's throttle keeps them: a new key starts full; each
    request takes a token if one is there; tokens come back at ``rate`` a second up to
    ``burst``. ``clock`` is monotonic seconds."""

    def __init__(
        self, limit: RateLimit | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def limit(self) -> RateLimit | None:
        """The limit in force, or ``None`` when off."""
        return self._limit

    def configure(self, limit: RateLimit | None) -> None:
        """Switch to ``limit`` (``None``: off) with every bucket full again."""
        with self._lock:
            self._limit = limit
            self._buckets.clear()

    def refill(self) -> None:
        """Forget every bucket (each key starts full again)."""
        with self._lock:
            self._buckets.clear()

    def admit(self, key: str) -> bool:
        """Take a token from ``key``'s bucket: whether there was one (always, when off)."""
        limit = self._limit
        if limit is None:
            return True
        with self._lock:
            now = self._clock()
            tokens, since = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + limit.rate * max(0.0, now - since))
            admitted = tokens >= 1
            self._buckets[key] = (tokens - 1 if admitted else tokens, now)
            return admitted


# --- the plan --------------------------------------------------------------------------------


class FaultPlan:
    """Pending faults: a thread-safe counter per kind, the 503 ``Retry-After``, rules, and
    the rate limiter."""

    def __init__(self, rate_limit: RateLimit | None = None) -> None:
        self._lock = threading.Lock()
        self._pending = dict.fromkeys(KINDS, 0)
        self._retry_after = DEFAULT_RETRY_AFTER
        self._rules: list[_Rule] = []
        self._next_rule = 1
        #: CloudAPI's per-account throttle (off unless configured).
        self.rate_limiter = RateLimiter(rate_limit)

    # --- counted faults -----------------------------------------------------------------------

    def set(self, **counts: int) -> dict[str, int]:
        """Set the named counts (and ``retry_after``); the others stay. Returns
        :meth:`pending`. Raises :class:`FaultSpecError` for unknown names or bad values."""
        checked = validate(counts)
        with self._lock:
            for name, value in checked.items():
                if name == RETRY_AFTER:
                    self._retry_after = value
                else:
                    self._pending[name] = value
            return self._snapshot()

    def clear(self) -> None:
        """Cancel every pending fault and rule, and restore the default ``Retry-After``."""
        with self._lock:
            self._pending = dict.fromkeys(KINDS, 0)
            self._retry_after = DEFAULT_RETRY_AFTER
            self._rules = []

    def pending(self) -> dict[str, int]:
        """``{kind: count, ..., "retry_after": seconds}``."""
        with self._lock:
            return self._snapshot()

    def _take_counted(self, kind: str) -> bool:
        if not self._pending[kind]:  # the common case, without the lock
            return False
        with self._lock:
            if self._pending[kind] <= 0:
                return False
            self._pending[kind] -= 1
            return True

    def take(self, kind: str) -> bool:
        """Use up one fault of ``kind``: whether one was pending. For ``fail_provision`` a
        ``fail_job`` rule for ``provision`` jobs counts too."""
        if self._take_counted(kind):
            return True
        return kind == FAIL_PROVISION and self.take_job_failure(PROVISION_JOB)

    def give_back(self, kind: str) -> None:
        """Return a fault taken for an event that did not happen after all."""
        if kind == FAIL_PROVISION and self._give_back_rule(PROVISION_JOB):
            return
        with self._lock:
            self._pending[kind] += 1

    def take_request_fault(self, kind: str) -> RequestFault | None:
        """The error a request meets at the hook ``kind`` names, using its fault up, or
        ``None``: ``throttle`` (after authentication) and ``unavailable`` (before the
        handler, where the rate limit also applies)."""
        if self._take_counted(kind):
            return throttled() if kind == THROTTLE else unavailable(self._retry_after)
        facts = current_request()
        rule = self._fire_first(kind, facts) if self._rules else None
        if rule is not None:
            return throttled() if kind == THROTTLE else unavailable(rule.retry_after)
        limit = self.rate_limiter.limit
        if kind != UNAVAILABLE or limit is None or facts is None or not facts.login:
            return None
        return None if self.rate_limiter.admit(facts.login) else throttled(limit.rate)

    def _snapshot(self) -> dict[str, int]:
        return {**self._pending, RETRY_AFTER: self._retry_after}

    # --- rules ----------------------------------------------------------------------------------

    def add_rule(self, spec: Mapping[str, Any], operations: Collection[str] = ()) -> dict[str, Any]:
        """Add a rule (see the module docstring); returns it with its ``id``. Raises
        :class:`FaultSpecError` for a bad one."""
        settings = parse_rule(spec, operations)
        with self._lock:
            rule = _Rule(id=f"rule-{self._next_rule}", **settings)
            self._next_rule += 1
            self._rules.append(rule)
            return rule.describe()

    @property
    def has_rules(self) -> bool:
        """Whether any rule is in place (the front door then records more of each request)."""
        return bool(self._rules)

    def rules(self) -> list[dict[str, Any]]:
        """Every rule, oldest first, with how often it matched and fired."""
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def rule(self, rule_id: str) -> dict[str, Any] | None:
        """One rule, or ``None``."""
        with self._lock:
            found = [rule.describe() for rule in self._rules if rule.id == rule_id]
        return found[0] if found else None

    def remove_rule(self, rule_id: str) -> bool:
        """Remove one rule: whether it existed."""
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            return removed

    def clear_rules(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules = []

    def _fire_first(
        self, kind: str, facts: RequestFacts | None, job: str | None = None
    ) -> _Rule | None:
        # Resolve the operation outside the lock: it routes the request.
        candidates = [r for r in tuple(self._rules) if r.kind == kind and not r.exhausted]
        matching = [r for r in candidates if r.applies(facts, job)]
        with self._lock:
            for rule in matching:
                if rule in self._rules and rule.fire():
                    return rule
        return None

    def connection_faults(self, facts: RequestFacts | None = None) -> ConnectionFaults:
        """What to do to the connection of the request ``facts`` describe (default: the
        current one): drop it before handling, or hold back or drop its response."""
        if not self._rules:
            return ConnectionFaults()
        facts = facts or current_request()
        if self._fire_first(DROP_REQUEST, facts) is not None:
            return ConnectionFaults(drop_request=True)
        slow = self._fire_first(SLOW, facts)
        dropped = self._fire_first(DROP_RESPONSE, facts) is not None
        return ConnectionFaults(delay=slow.seconds if slow else 0.0, drop_response=dropped)

    def take_job_failure(self, job: str) -> bool:
        """Whether the ``job`` the current request queues must fail (a ``fail_job`` rule
        fired for it). Stores call this where they queue a job; a job that is not queued
        after all must be handed back with :meth:`give_back_job_failure`."""
        if not self._rules:
            return False
        facts = current_request()
        rule = self._fire_first(FAIL_JOB, facts, job)
        if rule is None:
            return False
        if facts is not None:
            facts.fired_job_rules.append((job, rule))
        return True

    def give_back_job_failure(self, job: str) -> None:
        """Undo the last :meth:`take_job_failure` for ``job`` in the current request."""
        self._give_back_rule(job)

    def _give_back_rule(self, job: str) -> bool:
        facts = current_request()
        if facts is None:
            return False
        for index in range(len(facts.fired_job_rules) - 1, -1, -1):
            name, rule = facts.fired_job_rules[index]
            if name == job:
                del facts.fired_job_rules[index]
                with self._lock:
                    rule.fired -= 1
                return True
        return False


def validate(spec: Mapping[str, Any]) -> dict[str, int]:
    """The spec's counts as ints; :class:`FaultSpecError` names the first problem."""
    known = (*KINDS, RETRY_AFTER)
    checked: dict[str, int] = {}
    for name, value in spec.items():
        if name not in known:
            raise FaultSpecError(f"unknown fault {name!r}: expected one of {', '.join(known)}")
        checked[name] = _whole(name, value, 0)
    return checked
