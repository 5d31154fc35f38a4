"""Prometheus counter of the events the writer's fence left out (issue 22).

``bailanys_fence_dropped_total{group}``: events of a queue group this engine
wrote after it had lost the group's lease (a paused owner, another engine
took the group over), left out of the shared event log by
``ownership/writerfence.py``. Any value above 0 means an owner lived past
its lease: see the engine's log (``fence: ... left out``). A collector of
its own, registered beside the KPI collector; nothing while the fence is off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class FenceCollector(Collector):
    """Reads the fence's per-group count (``dropped()``) at each scrape."""

    def __init__(self, dropped: Callable[[], Mapping[str, int]]) -> None:
        self._dropped = dropped

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "bailanys_fence_dropped",
            "Events of a queue group written after its lease was lost, left out of the log.",
            labels=["group"])
        for group, n in sorted(self._dropped().items()):
            family.add_metric([group], float(n))
        yield family
