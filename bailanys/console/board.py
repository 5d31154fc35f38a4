"""The supervisors' wallboard: one row per queue and per language (pure).

:func:`board` turns today's KPI snapshot (``bailanys.metrics``) and the
queues file (display names, thresholds) into the console's ``board`` part
(PROTOCOL.md): for the total, each queue and each language, the callers
waiting **now** and the longest of their waits (docs/kpi.md, "Live"), and
today's service level, average wait (KPI 1, of the answered) and lost calls
(KPI 5), each with its alert level against the queue's thresholds
(:mod:`bailanys.queue.thresholds`) and the row's worst level.

KPI 1 counts ended waits only (the standard's reading); the live longest
wait beside it is what tells a supervisor that callers are waiting long
now. Every configured queue has a row, also before its first caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bailanys.metrics.snapshot import KpiSnapshot, ScopeSnapshot
from bailanys.queue.settings import QueueConfig
from bailanys.queue.thresholds import Level, Thresholds, levels, worst

#: The KPIs a row shows (docs/kpi.md names).
ROW_KPIS = ("service_level_pct", "wait_s", "lost_pct")


def row(kind: str, name: str, scope: ScopeSnapshot | None, limits: Thresholds,
        label: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One row of the board; ``scope`` None: nothing counted yet."""
    values: dict[str, float | None] = {
        "waiting": float(scope.waiting) if scope is not None else 0.0,
        "longest_wait_s": scope.longest_wait if scope is not None else None,
    }
    for name_ in ROW_KPIS:
        values[name_] = scope.kpi(name_).value if scope is not None else None
    found = levels(values, limits)
    counts = scope.counts if scope is not None else None
    out: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "waiting": scope.waiting if scope is not None else 0,
        "longest_wait_s": _round(values["longest_wait_s"]),
        "offered": counts.offered if counts is not None else 0,
        "answered": counts.answered if counts is not None else 0,
        "abandoned": counts.abandoned if counts is not None else 0,
        **{k: _round(values[k]) for k in ROW_KPIS},
        "levels": {k: v.value for k, v in found.items()},
        "level": worst(found).value,
    }
    if label is not None:
        out["label"] = dict(label)
    return out


def board(today: KpiSnapshot | None, config: QueueConfig | None) -> dict[str, Any]:
    """The ``board`` part: total, queues (configured ones first, in the
    file's order) and languages, with ``thresholds`` per queue for the page."""
    defaults = config.thresholds if config is not None else Thresholds()
    scopes = today.scopes if today is not None else ()

    def scope(kind: str, name: str) -> ScopeSnapshot | None:
        return next((s for s in scopes if s.scope == (kind, name)), None)

    names = list(config.queues) if config is not None else []
    names += [s.scope[1] for s in scopes if s.scope[0] == "queue" and s.scope[1] not in names]
    queues = []
    for name in names:
        settings = config.queues.get(name) if config is not None else None
        limits = config.thresholds_of(name) if config is not None else defaults
        label = settings.display_names() if settings is not None else None
        queues.append({**row("queue", name, scope("queue", name), limits, label),
                       "thresholds": limits.to_json()})
    languages = [row("language", s.scope[1], s, defaults)
                 for s in scopes if s.scope[0] == "language"]
    total = {**row("total", "", scope("total", ""), defaults),
             "thresholds": defaults.to_json()}
    rows = [total, *queues, *languages]
    return {"total": total, "queues": queues, "languages": languages,
            "level": worst([Level(r["level"]) for r in rows]).value}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
