"""The KPI targets of the standard, and each KPI's status against them.

Source: the model requirements for contact centres of administrative bodies
(``domain/kz-contact-center-requirements-2023.kk.txt``), item 35 and its
Appendix 1 ("негізгі көрсеткіштер"), which gives each indicator a minimum
and a maximum column; and the 1414 centre's profile
(``domain/kz-1414-contact-center-profile.ru.txt``) for CSI and CDI. The
formulas are in ``docs/kpi.md``.

Reading the two columns: for an indicator where less is better (the wait,
lost calls) the maximum is the *limit* not to pass and the minimum the
*goal*; where more is better (accuracy, satisfaction, FCR) the minimum is
the limit to reach and the maximum the goal.

Status of a value (``Status``):

* ``breach``: past the limit (a wait over 60 s, FCR under 80 %);
* ``warning``: compliant, but within the warning band of the limit,
  ``warning_band`` (default 10 %) of the limit on the compliant side: a
  wait over 54 s up to 60 s, FCR from 80 % to under 88 %, satisfaction from
  4.25 to under 4.675; the limit itself is compliant (a warning);
* ``within``: compliant and clear of the band;
* ``no_data``: no sample in the window (``value`` None);
* ``no_target``: the standard sets none (ASA, service level, AHT,
  occupancy), unless one is configured here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bailanys.metrics.snapshot import Status

#: Default warning band: 10 % of the limit (see the module docs).
DEFAULT_WARNING_BAND = 0.10


class Direction(StrEnum):
    AT_MOST = "at_most"  # lower is better: the limit is a maximum
    AT_LEAST = "at_least"  # higher is better: the limit is a minimum


@dataclass(frozen=True)
class Target:
    """``limit``: the value not to pass; ``goal``: what to aim for (display only)."""

    limit: float
    direction: Direction
    goal: float | None = None
    #: Where the number comes from.
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))

    def status(self, value: float | None, band: float = DEFAULT_WARNING_BAND) -> Status:
        if value is None:
            return Status.NO_DATA
        margin = abs(self.limit) * band
        if self.direction is Direction.AT_MOST:
            if value > self.limit:
                return Status.BREACH
            return Status.WARNING if value > self.limit - margin else Status.WITHIN
        if value < self.limit:
            return Status.BREACH
        return Status.WARNING if value < self.limit + margin else Status.WITHIN


_MOST, _LEAST = Direction.AT_MOST, Direction.AT_LEAST
_APP1 = "requirements 2023, Appendix 1, item"

#: Appendix 1 item 1: waiting time after the voice menu, 40 (min) - 60 (max) s.
WAIT_S = Target(60.0, _MOST, 40.0, f"{_APP1} 1")
#: Item 2: share of contacts with accurate, complete information and every
#: step followed, 80 - 85 % (reviewed calls; the auto-scored share beside it).
ACCURACY_PCT = Target(80.0, _LEAST, 85.0, f"{_APP1} 2")
#: Item 3: customer satisfaction, 4.25 - 5 points ...
SATISFACTION_SCORE = Target(4.25, _LEAST, 5.0, f"{_APP1} 3 (points)")
#: ... and 85 - 100 % (the profile's CSI: at least 85 % satisfied).
CSI_PCT = Target(85.0, _LEAST, 100.0, f"{_APP1} 3 (%); 1414 profile, CSI")
#: The 1414 profile: at most 10 % dissatisfied (CDI).
CDI_PCT = Target(10.0, _MOST, None, "1414 profile, CDI")
#: Item 4: first contact resolution, 80 - 85 %.
FCR_PCT = Target(80.0, _LEAST, 85.0, f"{_APP1} 4")
#: Item 5: lost calls, 5 - 10 % (the 1414 plan: 5 %).
LOST_PCT = Target(10.0, _MOST, 5.0, f"{_APP1} 5")
#: The 1414 plan: 5 % lost after the menu and a 30 s wait.
LOST_AFTER_30S_PCT = Target(5.0, _MOST, None, "1414 profile, plan")


@dataclass(frozen=True)
class KpiTargets:
    """One target per KPI name (``formulas.KPI_NAMES``); None: no target."""

    wait_s: Target | None = WAIT_S
    accuracy_pct: Target | None = ACCURACY_PCT
    #: Shown beside KPI 2 (the share over auto-scored calls), against the same target.
    accuracy_auto_pct: Target | None = ACCURACY_PCT
    satisfaction_score: Target | None = SATISFACTION_SCORE
    csi_pct: Target | None = CSI_PCT
    cdi_pct: Target | None = CDI_PCT
    fcr_pct: Target | None = FCR_PCT
    lost_pct: Target | None = LOST_PCT
    lost_after_30s_pct: Target | None = LOST_AFTER_30S_PCT
    #: Not in the standard; configure e.g. Target(80, "at_least") for an 80/20 goal.
    asa_s: Target | None = None
    #: Shown beside KPI 1; the standard sets no target for it.
    abandoned_wait_s: Target | None = None
    dropped_pct: Target | None = None
    service_level_pct: Target | None = None
    sl2_pct: Target | None = None
    aht_s: Target | None = None
    occupancy_pct: Target | None = None
    #: Width of the warning band as a fraction of the limit.
    warning_band: float = DEFAULT_WARNING_BAND

    def __post_init__(self) -> None:
        if not 0.0 <= self.warning_band < 1.0:
            raise ValueError(f"warning_band must be in [0, 1), got {self.warning_band!r}")

    def target(self, kpi: str) -> Target | None:
        value = getattr(self, kpi, None)
        return value if isinstance(value, Target) else None

    def status(self, kpi: str, value: float | None) -> Status:
        """The status of ``value`` for the KPI named ``kpi``."""
        target = self.target(kpi)
        if value is None:
            return Status.NO_DATA
        if target is None:
            return Status.NO_TARGET
        return target.status(value, self.warning_band)
