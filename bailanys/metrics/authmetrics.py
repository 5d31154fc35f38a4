"""Prometheus counters of authentication failures and refusals (bailanys.authguard).

``bailanys_auth_failures_total{kind}``: passwords checked and found wrong
(``kind`` "sip": REGISTER digests; "console": console logins).
``bailanys_auth_blocked_total{kind, scope}``: attempts refused without
checking, because their source address or their account was banned
(``scope`` "source" or "account").  Both only grow while the engine runs,
so ``rate()`` applies (Prometheus naming: counters end in ``_total``).
A collector of its own, registered beside the KPI collector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bailanys.authguard import AuthGuard, Scope

#: Every kind is exported, at 0 when it has no guard (a console that is off).
KINDS = ("sip", "console")


class AuthCollector(Collector):
    """Reads the counters of the guards ``guards()`` returns at each scrape."""

    def __init__(self, guards: Callable[[], Iterable[AuthGuard]]) -> None:
        self._guards = guards

    def collect(self) -> Iterator[Metric]:
        failures = CounterMetricFamily(
            "bailanys_auth_failures", "Passwords checked and found wrong, by kind of login.",
            labels=["kind"])
        blocked = CounterMetricFamily(
            "bailanys_auth_blocked",
            "Logins refused unchecked because their source or account was banned.",
            labels=["kind", "scope"])
        guards = list(self._guards())
        for kind in KINDS:
            mine = [g for g in guards if g.kind == kind]
            failures.add_metric([kind], float(sum(g.failures for g in mine)))
            for scope in Scope:
                blocked.add_metric([kind, scope.value], float(sum(g.blocked[scope] for g in mine)))
        yield failures
        yield blocked
