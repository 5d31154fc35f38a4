"""``bailanys.metrics.prometheus``: the /metrics text, parsed back."""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bailanys.metrics.prometheus import KpiCollector, make_registry, render
from bailanys.metrics.snapshot import KpiSnapshot
from bailanys.metrics.windows import KpiWindows
from tests.metrics.mhelpers import T0, Log

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: bytes) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def key(metric: str, /, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return metric, tuple(sorted(labels.items()))


@pytest.fixture
def windows() -> KpiWindows:
    log = Log()
    log.login(0, "1001", "1002")
    log.answered(10, "c1", agent="1001", wait=10, talk=100, wrap=20, resolved=True)
    log.abandoned(20, "c2", wait=40)
    log.arrive(100, "c3", "+77010000003", "pension", "ru")  # still waiting
    w = KpiWindows()
    for event in log.events:
        w.apply(event)
    return w


def test_exposition_parses(windows: KpiWindows) -> None:
    now = T0 + 200
    collector = KpiCollector(
        lambda: windows.snapshots(now),
        calls_in_progress=lambda: 3,
        rtp_late_frames=lambda: 17,
        event_writer_lag=lambda: 0.25,
    )
    samples = parse(render(make_registry(collector)))
    kpi = "bailanys_kpi"
    assert samples[key(kpi, window="live", scope="total", name="", kpi="lost_pct")] == (
        pytest.approx(100 / 3))  # c2 of the three offered
    assert samples[key(kpi, window="today", scope="queue", name="egov", kpi="wait_s")] == 25.0
    assert samples[key(kpi, window="live", scope="language", name="kk", kpi="fcr_pct")] == 100.0
    assert key(kpi, window="live", scope="total", name="", kpi="accuracy_pct") not in samples
    status = "bailanys_kpi_status"
    assert samples[key(status, window="live", scope="total", name="", kpi="lost_pct")] == 2
    assert samples[key(status, window="live", scope="total", name="", kpi="wait_s")] == 0
    assert key(status, window="live", scope="total", name="", kpi="asa_s") not in samples
    count = "bailanys_kpi_count"
    assert samples[key(count, window="interval", scope="total", name="", count="offered")] == 3
    assert samples[key("bailanys_queue_waiting", queue="pension")] == 1
    assert samples[key("bailanys_queue_waiting", queue="egov")] == 0
    assert samples[key("bailanys_queue_longest_wait_seconds", queue="pension")] == 95.0
    assert samples[key("bailanys_calls_waiting")] == 1
    assert samples[key("bailanys_agents", state="available")] == 2
    assert samples[key("bailanys_agents", state="break")] == 0
    assert samples[key("bailanys_calls_in_progress")] == 3
    assert samples[key("bailanys_rtp_late_frames_total")] == 17
    assert samples[key("bailanys_event_writer_lag_seconds")] == 0.25
    occupancy = samples[key("bailanys_agent_occupancy_percent", window="live", agent="1001")]
    assert occupancy == pytest.approx(100 * (2 + 100 + 20) / 200)


def test_types_in_the_text(windows: KpiWindows) -> None:
    text = render(make_registry(KpiCollector(lambda: windows.snapshots(T0 + 200),
                                             rtp_late_frames=lambda: 1))).decode()
    assert "# TYPE bailanys_kpi gauge" in text
    assert "# TYPE bailanys_rtp_late_frames_total counter" in text


def test_a_failing_provider_leaves_the_rest(
    windows: KpiWindows, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, KpiSnapshot]:
        raise RuntimeError("boom")

    collector = KpiCollector(broken, calls_in_progress=lambda: 2)
    registry = make_registry(collector)  # registering calls no provider
    with caplog.at_level(logging.ERROR, logger="bailanys.metrics.prometheus"):
        samples = parse(render(registry))
    assert samples[key("bailanys_calls_in_progress")] == 2
    assert not any(name == "bailanys_kpi" for name, _ in samples)
    assert "snapshots" in caplog.text


def test_no_providers_no_samples() -> None:
    samples = parse(render(make_registry(KpiCollector(dict))))
    assert samples == {}
