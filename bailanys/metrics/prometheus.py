"""``/metrics``: the KPI snapshots and a few engine gauges for Prometheus.

:class:`KpiCollector` is a custom collector (prometheus_client's
``Collector``): at each scrape it calls the providers the engine passes and
turns what they return into metric families. Nothing is cached here; the
snapshots come from :class:`~bailanys.metrics.windows.KpiWindows`.

=====================================  =======  ===========================================
metric                                 type     labels
=====================================  =======  ===========================================
bailanys_kpi                           gauge    window, scope, name, kpi (units in the kpi
                                                name: ``_s`` seconds, ``_pct`` percent)
bailanys_kpi_status                    gauge    window, scope, name, kpi: 0 within,
                                                1 warning, 2 breach (absent: no data or
                                                no target)
bailanys_kpi_count                     gauge    window, scope, name, count (``Counts``
                                                fields; gauges: windows restart)
bailanys_queue_waiting                 gauge    queue (callers on the line now)
bailanys_queue_longest_wait_seconds    gauge    queue
bailanys_calls_waiting                 gauge    (all queues)
bailanys_callbacks_pending             gauge
bailanys_agents                        gauge    state
bailanys_agent_occupancy_percent       gauge    window, agent
bailanys_calls_in_progress             gauge    (provider)
bailanys_rtp_late_frames_total         counter  (provider)
bailanys_event_writer_lag_seconds      gauge    (provider: ``EventLog.lag``)
=====================================  =======  ===========================================

``scope`` is total, queue, language or topic and ``name`` the queue,
language or topic (empty for total). Definitions: ``docs/kpi.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bailanys.metrics.snapshot import AGENT_STATES, Kpi, KpiSnapshot, Status

log = logging.getLogger(__name__)

PREFIX = "bailanys"
#: ``bailanys_kpi_status`` values.
STATUS_CODES = {Status.WITHIN: 0, Status.WARNING: 1, Status.BREACH: 2}
#: The window whose live state (waiting callers, agents) is exported.
LIVE_WINDOW = "live"

SnapshotProvider = Callable[[], Mapping[str, KpiSnapshot]]
_T = TypeVar("_T")


class KpiCollector(Collector):
    """Reads the providers at each scrape; a provider that fails is logged
    and its metrics are left out of that scrape, not the whole page."""

    def __init__(
        self,
        snapshots: SnapshotProvider,
        *,
        calls_in_progress: Callable[[], int] | None = None,
        rtp_late_frames: Callable[[], int] | None = None,
        event_writer_lag: Callable[[], float] | None = None,
    ) -> None:
        self._snapshots = snapshots
        self._calls_in_progress = calls_in_progress
        self._rtp_late_frames = rtp_late_frames
        self._event_writer_lag = event_writer_lag

    def describe(self) -> Iterator[Metric]:
        """The families' names, without calling the providers (registration)."""
        yield from _Families().all()

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        snapshots = _call(self._snapshots, "snapshots")
        if snapshots is not None:
            families.fill(snapshots)
        for family, provider, name in (
            (families.calls_in_progress, self._calls_in_progress, "calls_in_progress"),
            (families.rtp_late_frames, self._rtp_late_frames, "rtp_late_frames"),
            (families.event_writer_lag, self._event_writer_lag, "event_writer_lag"),
        ):
            value = _call(provider, name)
            if value is not None:
                family.add_metric([], float(value))
        yield from families.all()


def _gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


_KPI_LABELS = ("window", "scope", "name", "kpi")


class _Families:
    """The metric families of one scrape."""

    def __init__(self) -> None:
        self.kpi = _gauge("kpi", "KPI value per window and scope (docs/kpi.md)", *_KPI_LABELS)
        self.kpi_status = _gauge(
            "kpi_status", "KPI against its target: 0 within, 1 warning, 2 breach", *_KPI_LABELS)
        self.kpi_count = _gauge(
            "kpi_count", "Counted quantities per window and scope",
            "window", "scope", "name", "count")
        self.queue_waiting = _gauge("queue_waiting", "Callers on the line now", "queue")
        self.queue_longest_wait = _gauge(
            "queue_longest_wait_seconds", "Longest current wait since the first join", "queue")
        self.calls_waiting = _gauge("calls_waiting", "Callers on the line now, all queues")
        self.callbacks_pending = _gauge("callbacks_pending", "Callers waiting for a callback")
        self.agents = _gauge("agents", "Agents per state", "state")
        self.agent_occupancy = _gauge(
            "agent_occupancy_percent", "Busy over staffed time per agent", "window", "agent")
        self.calls_in_progress = _gauge("calls_in_progress", "Calls the engine holds now")
        self.rtp_late_frames = CounterMetricFamily(
            f"{PREFIX}_rtp_late_frames", "RTP frames that arrived too late to play")
        self.event_writer_lag = _gauge(
            "event_writer_lag_seconds", "Age of the oldest event not yet on disk")

    def all(self) -> list[Metric]:
        return [
            self.kpi, self.kpi_status, self.kpi_count, self.queue_waiting,
            self.queue_longest_wait, self.calls_waiting, self.callbacks_pending, self.agents,
            self.agent_occupancy, self.calls_in_progress, self.rtp_late_frames,
            self.event_writer_lag,
        ]

    def _kpi(self, window: str, kind: str, name: str, k: Kpi) -> None:
        labels = [window, kind, name, k.name]
        if k.value is not None:
            self.kpi.add_metric(labels, k.value)
        code = STATUS_CODES.get(k.status)
        if code is not None:
            self.kpi_status.add_metric(labels, code)

    def fill(self, snapshots: Mapping[str, KpiSnapshot]) -> None:
        for window, snap in snapshots.items():
            for scope in snap.scopes:
                kind, name = scope.scope
                for k in scope.kpis:
                    self._kpi(window, kind, name, k)
                for count, value in scope.counts.to_json().items():
                    self.kpi_count.add_metric([window, kind, name, count], float(value))
            if snap.occupancy is not None:
                self._kpi(window, "total", "", snap.occupancy)
            for agent in snap.agents:
                if agent.occupancy is not None and agent.occupancy.value is not None:
                    self.agent_occupancy.add_metric([window, agent.agent], agent.occupancy.value)
        live = snapshots.get(LIVE_WINDOW) or next(iter(snapshots.values()), None)
        if live is None:
            return
        for scope in live.scopes:
            if scope.scope[0] == "queue":
                self.queue_waiting.add_metric([scope.scope[1]], scope.waiting)
                if scope.longest_wait is not None:
                    self.queue_longest_wait.add_metric([scope.scope[1]], scope.longest_wait)
        self.calls_waiting.add_metric([], live.waiting)
        self.callbacks_pending.add_metric([], live.callbacks_pending)
        for state in AGENT_STATES:
            self.agents.add_metric([state], live.agents_by_state.get(state, 0))


def _call(provider: Callable[[], _T] | None, name: str) -> _T | None:
    if provider is None:
        return None
    try:
        return provider()
    except Exception:
        log.exception("metrics provider %s failed", name)
        return None


def make_registry(collector: KpiCollector) -> CollectorRegistry:
    """A registry of its own holding ``collector`` (not the process default)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format (``text/plain; version=0.0.4``) of ``registry``."""
    return bytes(generate_latest(registry))
