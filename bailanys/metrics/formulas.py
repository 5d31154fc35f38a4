"""The KPI formulas, all in one place: counted quantities in, KPIs out.

Each function is a ratio of :class:`~bailanys.metrics.snapshot.Counts`
fields; its source (the standard's item, Asterisk's app_queue, the FCR
method) is given in ``docs/kpi.md``, section by section under the same
names. A ratio with an empty denominator is None ("no data"), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping

from bailanys.metrics.snapshot import BUSY_STATES, STAFFED_STATES, Counts, Kpi
from bailanys.metrics.targets import KpiTargets

#: The per-scope KPIs, in the order snapshots list them.
KPI_NAMES = (
    "wait_s",  # KPI 1: average wait after the voice menu (of the answered, by default)
    "abandoned_wait_s",  # beside it: the average wait of the callers who hung up
    "accuracy_pct",  # KPI 2: accurate, complete information, every step (reviewed calls)
    "accuracy_auto_pct",  # beside it: the same share over the automatically scored calls
    "satisfaction_score",  # KPI 3: mean score 1-5
    "csi_pct",  # KPI 3: share of 4-5
    "cdi_pct",  # share of 1-2 (1414 profile)
    "fcr_pct",  # KPI 4: first contact resolution
    "lost_pct",  # KPI 5: lost calls
    "lost_after_30s_pct",  # the 1414 plan's reading: lost after the menu and a 30 s wait
    "dropped_pct",  # callers the engine dropped (shutdown, crash, media loss): not lost
    "asa_s",  # average speed of answer
    "service_level_pct",  # Asterisk SL
    "sl2_pct",  # Asterisk SL2
    "aht_s",  # average handling time
)


def _mean(total: float, n: int) -> float | None:
    return total / n if n > 0 else None


def _pct(part: float, whole: int) -> float | None:
    return 100.0 * part / whole if whole > 0 else None


#: The 1414 plan counts calls "lost after the menu and a 30 s wait"
#: (domain/kz-1414-contact-center-profile.ru.txt): abandons within 30 s
#: are neither offered nor lost in ``lost_after_30s_pct``.
PLAN_LOST_AFTER_S = 30.0


def values(c: Counts, *, wait_of_all: bool = False) -> dict[str, tuple[float | None, int]]:
    """KPI name -> (value, samples): the formulas of docs/kpi.md.

    ``wait_of_all``: KPI 1 (``wait_s``) averages the wait of every caller
    who left the queue (answered, abandoned, dropped, timed out) instead of
    the answered only (the requirement's "waiting time for an answer").
    """
    not_short = c.offered - c.abandoned_short
    not_early = c.offered - c.abandoned_within_30s
    handling = c.talk_total + c.hold_total + c.wrap_up_total
    resolved_sl = c.answered_in_sl + c.abandoned_in_sl
    return {
        "wait_s": (_mean(c.wait_total, c.left), c.left) if wait_of_all
        else (_mean(c.answered_wait_total, c.answered), c.answered),
        "abandoned_wait_s": (_mean(c.abandoned_wait_total, c.abandoned), c.abandoned),
        "accuracy_pct": (_pct(c.reviewed_passed, c.reviewed), c.reviewed),
        "accuracy_auto_pct": (_pct(c.scored_passed, c.scored), c.scored),
        "satisfaction_score": (_mean(c.score_total, c.surveys), c.surveys),
        "csi_pct": (_pct(c.satisfied, c.surveys), c.surveys),
        "cdi_pct": (_pct(c.dissatisfied, c.surveys), c.surveys),
        "fcr_pct": (_pct(c.fcr, c.requests), c.requests),
        "lost_pct": (_pct(c.abandoned - c.abandoned_short, not_short), max(not_short, 0)),
        "lost_after_30s_pct": (_pct(c.abandoned - c.abandoned_within_30s, not_early),
                               max(not_early, 0)),
        "dropped_pct": (_pct(c.dropped, c.offered), c.offered),
        "asa_s": (_mean(c.answered_wait_total, c.answered), c.answered),
        "service_level_pct": (_pct(c.answered_in_sl, c.answered), c.answered),
        "sl2_pct": (_pct(resolved_sl, c.answered + c.abandoned), c.answered + c.abandoned),
        "aht_s": (_mean(handling, c.handled), c.handled),
    }


def kpi(name: str, value: float | None, samples: int, targets: KpiTargets) -> Kpi:
    target = targets.target(name)
    return Kpi(
        name,
        value,
        samples,
        targets.status(name, value),
        None if target is None else target.limit,
        None if target is None else target.goal,
    )


def kpis(c: Counts, targets: KpiTargets, *, wait_of_all: bool = False) -> tuple[Kpi, ...]:
    """Every per-scope KPI of ``c`` with its status."""
    table = values(c, wait_of_all=wait_of_all)
    return tuple(kpi(name, *table[name], targets) for name in KPI_NAMES)


def occupancy(seconds: Mapping[str, float], targets: KpiTargets) -> Kpi:
    """Busy (ringing, on a call, wrapping up) over staffed (logged in, not on
    a break) time, in %; ``samples`` is the staffed time in whole seconds."""
    busy = sum(seconds.get(s, 0.0) for s in BUSY_STATES)
    staffed = sum(seconds.get(s, 0.0) for s in STAFFED_STATES)
    value = 100.0 * busy / staffed if staffed > 0 else None
    return kpi("occupancy_pct", value, int(staffed), targets)
