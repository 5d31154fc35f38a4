"""``bailanys.metrics.targets``: the standard's limits and the warning band."""

from __future__ import annotations

import pytest

from bailanys.metrics.snapshot import Status
from bailanys.metrics.targets import Direction, KpiTargets, Target

W, A, B = Status.WITHIN, Status.WARNING, Status.BREACH


@pytest.mark.parametrize(
    ("kpi", "value", "status"),
    [
        # item 1: wait after the voice menu, at most 60 s; warning above 54 s
        ("wait_s", 18.0, W), ("wait_s", 53.9, W), ("wait_s", 54.1, A), ("wait_s", 60.0, A),
        ("wait_s", 60.1, B),
        # item 5: lost calls, at most 10 %; warning above 9 %
        ("lost_pct", 5.0, W), ("lost_pct", 9.5, A), ("lost_pct", 10.0, A), ("lost_pct", 10.5, B),
        # item 4: FCR, at least 80 %; warning under 88 %
        ("fcr_pct", 87.7, A), ("fcr_pct", 88.5, W), ("fcr_pct", 80.0, A), ("fcr_pct", 79.9, B),
        # item 3: satisfaction at least 4.25 points and 85 % satisfied
        ("satisfaction_score", 4.84, W), ("satisfaction_score", 4.6, A),
        ("satisfaction_score", 4.2, B), ("csi_pct", 94.6, W), ("csi_pct", 90.0, A),
        ("csi_pct", 84.0, B),
        # the 1414 profile: at most 10 % dissatisfied
        ("cdi_pct", 4.4, W), ("cdi_pct", 12.0, B),
        # item 2: accuracy at least 80 %
        ("accuracy_pct", 95.0, W), ("accuracy_pct", 70.0, B),
    ],
)
def test_standard_targets(kpi: str, value: float, status: Status) -> None:
    assert KpiTargets().status(kpi, value) is status


def test_no_data_and_no_target() -> None:
    targets = KpiTargets()
    assert targets.status("fcr_pct", None) is Status.NO_DATA
    assert targets.status("asa_s", 12.0) is Status.NO_TARGET
    assert targets.status("asa_s", None) is Status.NO_DATA
    assert targets.target("no_such_kpi") is None


def test_targets_are_configurable() -> None:
    targets = KpiTargets(
        lost_pct=Target(5.0, Direction.AT_MOST, source="1414 plan"),
        service_level_pct=Target(80.0, "at_least"),  # type: ignore[arg-type]
        warning_band=0.0,
    )
    assert targets.status("lost_pct", 7.0) is B
    assert targets.status("lost_pct", 5.0) is W  # no band: at the limit is within
    assert targets.status("service_level_pct", 79.0) is B
    assert targets.status("service_level_pct", 80.0) is W
    with pytest.raises(ValueError):
        KpiTargets(warning_band=1.5)


def test_defaults_cite_the_standard() -> None:
    targets = KpiTargets()
    for kpi, item in (("wait_s", 1), ("accuracy_pct", 2), ("satisfaction_score", 3),
                      ("fcr_pct", 4), ("lost_pct", 5)):
        target = targets.target(kpi)
        assert target is not None and target.source.endswith(f"item {item}") or (
            target is not None and f"item {item} " in target.source)
    wait = targets.target("wait_s")
    assert wait is not None and (wait.limit, wait.goal) == (60.0, 40.0)
