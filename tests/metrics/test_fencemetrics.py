"""``bailanys_fence_dropped_total{group}`` from the writer fence's counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bailanys.metrics.fencemetrics import FenceCollector
from bailanys.metrics.prometheus import render


def test_the_fence_counts_are_exported_per_group() -> None:
    counts: dict[str, int] = {}
    registry = CollectorRegistry()
    registry.register(FenceCollector(lambda: counts))
    assert b"bailanys_fence_dropped_total{" not in render(registry)
    counts.update({"egov": 2, "pensions": 1})
    text = render(registry).decode()
    assert 'bailanys_fence_dropped_total{group="egov"} 2.0' in text
    assert 'bailanys_fence_dropped_total{group="pensions"} 1.0' in text
