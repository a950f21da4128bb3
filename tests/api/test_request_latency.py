"""The request latency histogram tallied in plain Python reads exactly as prometheus_client's own Histogram."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from api.core.metrics import LATENCY_BUCKETS, LATENCY_HELP, LATENCY_NAME, REQUEST_LABELS, RequestLatency

CREATED = re.compile(rf"^({LATENCY_NAME}_created\{{.*\}}) (\S+)$", re.MULTILINE)
# On bounds, just above them, below the first and above the last: each lands in the bucket Prometheus means.
OBSERVATIONS = [0.0, 0.0003, 0.005, 0.0050001, 0.01, 0.024, 0.7, 1.0, 2.5, 10.0, 10.5, 42.0]


@pytest.mark.parametrize("generate", [generate_latest, generate_openmetrics], ids=["prometheus", "openmetrics"])
def test_the_tallies_read_as_prometheus_clients_histogram(generate: Callable[[CollectorRegistry], bytes]) -> None:
    began = time.time()
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    latency = RequestLatency()
    ours.register(latency)
    histogram = Histogram(LATENCY_NAME, LATENCY_HELP, REQUEST_LABELS, buckets=LATENCY_BUCKETS, registry=theirs)
    for i, seconds in enumerate(OBSERVATIONS):
        status = 404 if i % 3 == 0 else 200
        for handler in ("/api/v1/goals/{goal_id}", "other"):
            latency.tally(handler, "GET", status).add(seconds)
            histogram.labels(handler, "GET", str(status)).observe(seconds)
    text, expected = generate(ours).decode(), generate(theirs).decode()
    # The same text but for the creation times, which are when each series saw its first request.
    assert CREATED.sub(r"\1 T", text) == CREATED.sub(r"\1 T", expected)
    created = [float(value) for _, value in CREATED.findall(text)]
    assert len(created) == 4 and all(began <= value <= time.time() for value in created)


def test_an_unseen_series_is_not_written() -> None:
    registry = CollectorRegistry()
    registry.register(RequestLatency())
    assert f"{LATENCY_NAME}_bucket" not in generate_latest(registry).decode()
