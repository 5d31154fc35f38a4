"""``/metrics``: the KPI snapshots and a few engine gauges for Prometheus.

:class:`KpiCollector` is a custom collector (prometheus_client's
``Collector``): at each scrape it calls the providers the engine passes and
turns what they return into metric families. Nothing is cached here; the
snapshots come from :class:`~bailanys.metrics.windows.KpiWindows`.

Names follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/):
base units (``_seconds``), ratios 0-1 as ``_ratio``, one unit per family,
and ``_total`` only on counters, which never go down while the engine runs
(so ``rate()`` works; they restart with the process, from the day's
replayed events). A window's
counts restart at each interval or day: they are gauges, apart from the
counters.

======================================  =======  ==========================================
metric                                  type     labels
======================================  =======  ==========================================
bailanys_kpi_seconds                    gauge    window, scope, name, kpi: the ``*_s`` KPIs
                                                 (kpi = wait, abandoned_wait, asa, aht)
bailanys_kpi_ratio                      gauge    window, scope, name, kpi: the ``*_pct``
                                                 KPIs as 0-1 (lost, lost_after_30s, fcr,
                                                 csi, cdi, service_level, sl2, dropped,
                                                 accuracy (KPI 2, reviewed calls),
                                                 accuracy_auto (auto-scored calls),
                                                 occupancy)
bailanys_kpi_score                      gauge    window, scope, name, kpi (satisfaction,
                                                 points 1-5)
bailanys_kpi_status                     gauge    window, scope, name, kpi: 0 within,
                                                 1 warning, 2 breach (absent: no data or
                                                 no target)
bailanys_kpi_counted                    gauge    window, scope, name, count: the whole-number
                                                 ``Counts`` fields of the window
bailanys_kpi_counted_seconds            gauge    window, scope, name, count: the ``Counts``
                                                 sums of seconds (wait, answered_wait,
                                                 abandoned_wait, talk, hold, wrap_up)
bailanys_kpi_counted_total              counter  scope, name, count: the same whole numbers
                                                 since the engine started (total, queue and
                                                 language scopes; not ``fcr``, which a
                                                 repeat takes back, nor
                                                 ``reviewed_passed``, which a corrected
                                                 review may take back)
bailanys_kpi_counted_seconds_total      counter  scope, name, count: the sums of seconds
                                                 since the engine started
bailanys_queue_waiting                  gauge    queue (callers on the line now)
bailanys_queue_longest_wait_seconds     gauge    queue
bailanys_calls_waiting                  gauge    (all queues)
bailanys_callbacks_pending              gauge
bailanys_agents                         gauge    state
bailanys_agent_occupancy_ratio          gauge    window, agent
bailanys_calls_in_progress              gauge    (provider)
bailanys_rtp_late_frames_total          counter  (provider)
bailanys_event_writer_lag_seconds       gauge    (provider: ``EventLog.lag``)
======================================  =======  ==========================================

``scope`` is total, queue, language or topic and ``name`` the queue,
language or topic (empty for total). The counters come from the ``live``
window (the day's stored events replayed at start-up, then every event);
callers the engine dropped (shutdown, crash, media loss) are
``count="dropped"``, apart from the lost (``abandoned``). Definitions:
``docs/kpi.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bailanys.metrics.snapshot import (
    AGENT_STATES,
    COUNT_FIELDS,
    INT_COUNT_FIELDS,
    Kpi,
    KpiSnapshot,
    Status,
)

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


def _counter(name: str, doc: str, *labels: str) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


_KPI_LABELS = ("window", "scope", "name", "kpi")
_COUNT_LABELS = ("window", "scope", "name", "count")
#: KPI name suffix -> (family, factor to the base unit).
_UNITS = {"_s": ("seconds", 1.0), "_pct": ("ratio", 0.01), "_score": ("score", 1.0)}
#: Scopes whose live counts only grow (a topic's move when a disposition
#: names another topic, and FCR's take-back, do not).
COUNTER_SCOPES = frozenset({"total", "queue", "language"})
#: Counts that a later event may lower (a repeat takes an FCR back; a
#: corrected QA review may fail a call that passed).
NOT_MONOTONIC = frozenset({"fcr", "reviewed_passed"})
#: The ``Counts`` fields that are sums of seconds (the others are whole numbers).
SECONDS_FIELDS = frozenset(COUNT_FIELDS) - INT_COUNT_FIELDS


def kpi_family(name: str) -> tuple[str, str, float]:
    """A KPI name -> (family unit, ``kpi`` label, factor): ``lost_pct`` ->
    ("ratio", "lost", 0.01)."""
    for suffix, (unit, factor) in _UNITS.items():
        if name.endswith(suffix):
            return unit, name[: -len(suffix)], factor
    return "score", name, 1.0


def count_family(name: str) -> tuple[bool, str]:
    """A ``Counts`` field -> (seconds?, ``count`` label): ``wait_total`` ->
    (True, "wait"), ``offered`` -> (False, "offered")."""
    if name in SECONDS_FIELDS:
        return True, name.removesuffix("_total")
    return False, name



class _Families:
    """The metric families of one scrape."""

    def __init__(self) -> None:
        doc = "KPI value per window and scope (docs/kpi.md)"
        self.kpi = {
            "seconds": _gauge("kpi_seconds", f"{doc}, in seconds", *_KPI_LABELS),
            "ratio": _gauge("kpi_ratio", f"{doc}, as a ratio 0-1", *_KPI_LABELS),
            "score": _gauge("kpi_score", f"{doc}, in points 1-5", *_KPI_LABELS),
        }
        self.kpi_status = _gauge(
            "kpi_status", "KPI against its target: 0 within, 1 warning, 2 breach", *_KPI_LABELS)
        self.counted = _gauge(
            "kpi_counted", "Counted quantities of the window (restart with it)", *_COUNT_LABELS)
        self.counted_seconds = _gauge(
            "kpi_counted_seconds", "Sums of seconds of the window (restart with it)",
            *_COUNT_LABELS)
        self.counted_total = _counter(
            "kpi_counted", "Counted quantities since the engine started", "scope", "name",
            "count")
        self.counted_seconds_total = _counter(
            "kpi_counted_seconds", "Sums of seconds since the engine started", "scope", "name",
            "count")
        self.queue_waiting = _gauge("queue_waiting", "Callers on the line now", "queue")
        self.queue_longest_wait = _gauge(
            "queue_longest_wait_seconds", "Longest current wait since the first join", "queue")
        self.calls_waiting = _gauge("calls_waiting", "Callers on the line now, all queues")
        self.callbacks_pending = _gauge("callbacks_pending", "Callers waiting for a callback")
        self.agents = _gauge("agents", "Agents per state", "state")
        self.agent_occupancy = _gauge(
            "agent_occupancy_ratio", "Busy over staffed time per agent, 0-1", "window", "agent")
        self.calls_in_progress = _gauge("calls_in_progress", "Calls the engine holds now")
        self.rtp_late_frames = _counter(
            "rtp_late_frames", "RTP frames that arrived too late to play")
        self.event_writer_lag = _gauge(
            "event_writer_lag_seconds", "Age of the oldest event not yet on disk")

    def all(self) -> list[Metric]:
        return [
            *self.kpi.values(), self.kpi_status, self.counted, self.counted_seconds,
            self.counted_total, self.counted_seconds_total, self.queue_waiting,
            self.queue_longest_wait, self.calls_waiting, self.callbacks_pending, self.agents,
            self.agent_occupancy, self.calls_in_progress, self.rtp_late_frames,
            self.event_writer_lag,
        ]

    def _kpi(self, window: str, kind: str, name: str, k: Kpi) -> None:
        unit, label, factor = kpi_family(k.name)
        labels = [window, kind, name, label]
        if k.value is not None:
            self.kpi[unit].add_metric(labels, k.value * factor)
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
                    seconds, label = count_family(count)
                    family = self.counted_seconds if seconds else self.counted
                    family.add_metric([window, kind, name, label], float(value))
            if snap.occupancy is not None:
                self._kpi(window, "total", "", snap.occupancy)
            for agent in snap.agents:
                if agent.occupancy is not None and agent.occupancy.value is not None:
                    self.agent_occupancy.add_metric([window, agent.agent],
                                                    agent.occupancy.value / 100.0)
        live = snapshots.get(LIVE_WINDOW) or next(iter(snapshots.values()), None)
        if live is None:
            return
        since_start = LIVE_WINDOW in snapshots  # only the live window never restarts
        for scope in live.scopes:
            kind, name = scope.scope
            if since_start and kind in COUNTER_SCOPES:
                for count, value in scope.counts.to_json().items():
                    if count in NOT_MONOTONIC:
                        continue
                    seconds, label = count_family(count)
                    total = self.counted_seconds_total if seconds else self.counted_total
                    total.add_metric([kind, name, label], float(value))
            if kind == "queue":
                self.queue_waiting.add_metric([name], scope.waiting)
                if scope.longest_wait is not None:
                    self.queue_longest_wait.add_metric([name], scope.longest_wait)
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
