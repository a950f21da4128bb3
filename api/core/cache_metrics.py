"""Counters of the API's response cache, as prometheus_client metrics in the default registry.

Whatever serves the API's ``/metrics`` (prometheus_client's exposition of the default registry)
shows them; the labels are the cached endpoint (hits, misses, evictions) or why entries were
dropped (invalidations: ``dates`` of a build, ``goals`` of a user, ``all``).
"""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter

HITS = Counter("pulse_api_cache_hits", "Responses served from the API's response cache.", ["endpoint"])
MISSES = Counter("pulse_api_cache_misses", "Cacheable requests the response cache could not answer.", ["endpoint"])
EVICTIONS = Counter(
    "pulse_api_cache_evictions", "Entries evicted from the response cache by its size limit (LRU).", ["endpoint"]
)
INVALIDATED = Counter(
    "pulse_api_cache_invalidated_entries",
    "Entries dropped from the response cache because their data changed.",
    ["reason"],
)
LISTENER_LOST = Counter(
    "pulse_api_cache_listener_disconnects",
    "Times the cache's LISTEN connection was lost (the cache is bypassed until it is back).",
)


@cache
def counter(metric: Counter, label: str) -> Counter:
    """``metric``'s child for ``label``, looked up once (``labels()`` costs more than the cache hit itself)."""
    return metric.labels(label)
