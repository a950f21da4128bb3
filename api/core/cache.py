"""The API's response cache: analytics responses kept per process, dropped exactly when their data changes.

Entries are keyed by user and normalised parameters (a ``7d`` range and the explicit dates it
means are one key: ranges are resolved through the user's local today, read from the database's
``analytics.user_local_today``). Each entry remembers the local dates its figures read, whether it
holds goal progress, and the instant until which it may be served: the user's next local midnight,
computed by the database, since a range ending "today" and every goal status move at it.

The cache is only used while ``ready``: the invalidation listener (api/core/invalidation.py) sets it
ready once its ``LISTEN`` is in place and suspends it (clearing every entry) when that connection is
lost, so a change announced while nobody listened is never served stale. A ``generation`` counter,
taken before a response is computed and checked when it is stored, keeps a response computed before
an invalidation out of the cache.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from api.core import cache_metrics

# Bounds of "every local date": an entry whose figures reach back through all history (the streak).
EARLIEST = date.min
LATEST = date.max

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

CacheKey = tuple[Hashable, ...]
AliasKey = tuple[UUID, str, bytes]  # user, path, raw query string


@dataclass(frozen=True, slots=True)
class UserToday:
    """A user's local date and the instant (epoch seconds, the database's clock) at which it ends."""

    local_today: date
    valid_until: float


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """One stored response: its JSON body (None for the export, whose ETag alone is kept) and headers.

    ``first_date``..``last_date`` (inclusive) are the local dates its figures read; ``local_today``
    is the user's date it was computed on (None when it does not depend on it) and ``valid_until``
    the instant (epoch seconds, database clock) after which it must not be served; ``headers`` the
    caching headers it is answered with (``ETag``, ``Last-Modified``...), formatted when it is stored.
    """

    endpoint: str
    body: bytes | None
    etag: str
    data_as_of: datetime | None
    first_date: date
    last_date: date
    goals: bool
    local_today: date | None
    valid_until: float = math.inf
    headers: Mapping[str, str] = field(default_factory=dict)  # its caching headers, formatted once


@dataclass(frozen=True, slots=True)
class RequestAlias:
    """What one exact request (user, path, raw query string) was answered with: its cache key and route.

    Learnt from a request the route validated and normalised, so the fast path
    (api/core/cached_hits.py) can answer the same request again without either; ``local_today``
    is the user's date the key was resolved on (a ``7d`` range means other dates tomorrow).
    """

    key: CacheKey
    route: Any
    local_today: date


class LruStore(Generic[K, V]):
    """A dict bounded to ``max_entries`` that evicts the least recently used entry."""

    def __init__(self, max_entries: int, on_evict: Callable[[V], None] | None = None) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.on_evict = on_evict

    def get(self, key: K) -> V | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            _, evicted = self.entries.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(evicted)

    def pop(self, key: K) -> None:
        self.entries.pop(key, None)

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


class ResponseCache:
    """Responses of one API process, keyed by ``(user_id, endpoint, normalised parameters...)``."""

    def __init__(self, max_entries: int, enabled: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.enabled = enabled
        self.ready = False
        self.generation = 0
        self.clock = clock
        self.clock_skew = 0.0  # the database's clock minus ours, measured by the listener
        self.listener_retry_seconds = 1.0  # pause between attempts to (re)connect the listener
        self.responses: LruStore[CacheKey, CachedResponse] = LruStore(max_entries, self._evicted)
        self.todays: LruStore[UUID, UserToday] = LruStore(max_entries)
        self.aliases: LruStore[AliasKey, RequestAlias] = LruStore(max_entries)
        self.alias_paths: set[str] = set()  # paths some alias names (the fast path ignores the others)
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def active(self) -> bool:
        """Whether reads go through the cache: turned on and its invalidation listener connected."""
        return self.enabled and self.ready

    def now(self) -> float:
        """The current instant on the database's clock (epoch seconds), which computed ``valid_until``."""
        return self.clock() + self.clock_skew

    def _evicted(self, entry: CachedResponse) -> None:
        self.evictions += 1
        cache_metrics.counter(cache_metrics.EVICTIONS, entry.endpoint).inc()

    # Reads

    def today(self, user_id: UUID) -> UserToday | None:
        """The user's local today while it lasts (None: ask the database)."""
        if not self.active:
            return None
        today = self.todays.get(user_id)
        if today is None or self.now() >= today.valid_until:
            return None
        return today

    def alias(self, key: AliasKey) -> RequestAlias | None:
        """What the exact request ``key`` was answered with, while the cache is active."""
        return self.aliases.get(key) if self.active else None

    def get(self, key: CacheKey, today: UserToday | None, count_miss: bool = True) -> CachedResponse | None:
        """The stored response for ``key``, unless it was computed on another local date or has expired.

        A hit is counted; a miss too unless ``count_miss`` is false (the fast path, which hands a miss on
        to the route, where it is counted).
        """
        endpoint = str(key[1])
        entry = self.responses.get(key) if self.active else None
        if entry is not None and (
            self.now() >= entry.valid_until
            or (entry.local_today is not None and (today is None or entry.local_today != today.local_today))
        ):
            self.responses.pop(key)
            entry = None
        if entry is None:
            if not count_miss:
                return None
            self.misses += 1
            cache_metrics.counter(cache_metrics.MISSES, endpoint).inc()
            return None
        self.hits += 1
        cache_metrics.counter(cache_metrics.HITS, endpoint).inc()
        return entry

    # Writes (each refused when an invalidation happened since ``generation`` was taken)

    def put_today(self, user_id: UUID, today: UserToday, generation: int) -> None:
        if self.active and generation == self.generation:
            self.todays.put(user_id, today)

    def put(self, key: CacheKey, entry: CachedResponse, generation: int) -> None:
        if self.active and generation == self.generation:
            self.responses.put(key, entry)

    def put_alias(self, key: AliasKey, alias: RequestAlias, generation: int) -> None:
        if self.active and generation == self.generation:
            self.aliases.put(key, alias)
            self.alias_paths.add(key[1])

    # Invalidation

    def _invalidated(self) -> None:
        self.generation += 1

    def drop_all(self) -> None:
        """Forget every entry (a change of unknown extent)."""
        self._invalidated()
        self._drop(lambda entry: True, reason="all")
        self.todays.clear()
        self.aliases.clear()

    def drop_dates(self, start_date: date, end_date: date) -> None:
        """Forget the entries that read a local date in ``[start_date, end_date)`` (a ranged build's dates).

        The users' todays are read again too: a build follows every change of a user's time zone.
        """
        self._invalidated()
        self._drop(lambda entry: entry.first_date < end_date and entry.last_date >= start_date, reason="dates")
        self.todays.clear()

    def drop_user_goals(self, user_id: UUID) -> None:
        """Forget the entries of ``user_id`` that hold goal progress (a goal was created, changed or deleted)."""
        self._invalidated()
        self._drop(lambda entry: entry.goals, user_id=user_id, reason="goals")

    def _drop(self, affected: Callable[[CachedResponse], bool], reason: str, user_id: UUID | None = None) -> None:
        doomed = [
            key
            for key, entry in self.responses.entries.items()
            if (user_id is None or key[0] == user_id) and affected(entry)
        ]
        for key in doomed:
            self.responses.pop(key)
        cache_metrics.INVALIDATED.labels(reason).inc(len(doomed))

    def resume(self, clock_skew: float) -> None:
        """The listener is in place: start caching, from empty."""
        self.clock_skew = clock_skew
        self.drop_all()
        self.ready = True

    def suspend(self) -> None:
        """The listener is gone: bypass the cache and forget everything until it is back."""
        self.ready = False
        self.drop_all()
