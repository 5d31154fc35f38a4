"""Bailanys metrics layer (see ``docs/architecture.md``): the regulator's KPIs folded
live from the event stream. Definitions and sources: ``docs/kpi.md``.

The Prometheus exposition is ``bailanys.metrics.prometheus`` (not imported
here: the pure core needs no prometheus-client).
"""

from bailanys.metrics.fold import KpiConfig, KpiFold
from bailanys.metrics.snapshot import Counts, Kpi, KpiSnapshot, Scope, ScopeSnapshot, Status
from bailanys.metrics.targets import KpiTargets, Target
from bailanys.metrics.windows import KpiWindows, recompute

__all__ = [
    "Counts",
    "Kpi",
    "KpiConfig",
    "KpiFold",
    "KpiSnapshot",
    "KpiTargets",
    "KpiWindows",
    "Scope",
    "ScopeSnapshot",
    "Status",
    "Target",
    "recompute",
]
