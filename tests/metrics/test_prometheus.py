"""``bailanys.metrics.prometheus``: the /metrics text, parsed back."""

from __future__ import annotations

import logging
import shutil
import subprocess

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
    ratio, seconds = "bailanys_kpi_ratio", "bailanys_kpi_seconds"
    assert samples[key(ratio, window="live", scope="total", name="", kpi="lost")] == (
        pytest.approx(1 / 3))  # c2 of the three offered, as a ratio
    assert samples[key(seconds, window="today", scope="queue", name="egov", kpi="wait")] == 10.0
    assert samples[key(seconds, window="today", scope="queue", name="egov",
                       kpi="abandoned_wait")] == 40.0
    assert samples[key(ratio, window="live", scope="language", name="kk", kpi="fcr")] == 1.0
    assert key(ratio, window="live", scope="total", name="", kpi="accuracy") not in samples
    status = "bailanys_kpi_status"
    assert samples[key(status, window="live", scope="total", name="", kpi="lost")] == 2
    assert samples[key(status, window="live", scope="total", name="", kpi="wait")] == 0
    assert key(status, window="live", scope="total", name="", kpi="asa") not in samples
    counted = "bailanys_kpi_counted"
    assert samples[key(counted, window="interval", scope="total", name="", count="offered")] == 3
    assert samples[key("bailanys_kpi_counted_seconds", window="live", scope="total", name="",
                       count="wait")] == 50.0
    total = "bailanys_kpi_counted_total"
    assert samples[key(total, scope="total", name="", count="offered")] == 3
    assert samples[key(total, scope="queue", name="egov", count="abandoned")] == 1
    assert samples[key(total, scope="total", name="", count="dropped")] == 0
    assert key(total, scope="total", name="", count="fcr") not in samples  # may go down
    assert not any(n == total and dict(labels)["scope"] == "topic" for n, labels in samples)
    assert samples[key("bailanys_kpi_counted_seconds_total", scope="total", name="",
                       count="talk")] == 100.0
    assert samples[key("bailanys_queue_waiting", queue="pension")] == 1
    assert samples[key("bailanys_queue_waiting", queue="egov")] == 0
    assert samples[key("bailanys_queue_longest_wait_seconds", queue="pension")] == 95.0
    assert samples[key("bailanys_calls_waiting")] == 1
    assert samples[key("bailanys_agents", state="available")] == 2
    assert samples[key("bailanys_agents", state="break")] == 0
    assert samples[key("bailanys_calls_in_progress")] == 3
    assert samples[key("bailanys_rtp_late_frames_total")] == 17
    assert samples[key("bailanys_event_writer_lag_seconds")] == 0.25
    occupancy = samples[key("bailanys_agent_occupancy_ratio", window="live", agent="1001")]
    assert occupancy == pytest.approx((2 + 100 + 20) / 200)


def test_counters_never_go_down(windows: KpiWindows) -> None:
    """``_total`` families only grow while events come, across interval and
    day roll-overs (rate() needs it), FCR take-backs and topic moves."""
    log = Log(T0 + 300)
    log.login(0, "1003")
    log.answered(0, "r1", agent="1003", number="+77011234567", resolved=True, topic="passport")
    log.answered(86_400, "r2", agent="1003", number="+77011234567", resolved=False,
                 topic="passport")  # the next day: a repeat (takes the first one back)
    before: Samples = {}
    for event in log.events:
        windows.apply(event)
        now = event.ts
        collector = KpiCollector(lambda now=now: windows.snapshots(now))
        samples = parse(render(make_registry(collector)))
        counters = {k: v for k, v in samples.items() if k[0].endswith("_total")}
        assert counters
        for k, v in before.items():
            assert counters.get(k, 0.0) >= v, k
        before = counters


def test_promtool_check_metrics_finds_nothing(windows: KpiWindows) -> None:
    """``promtool check metrics`` (Debian package prometheus, in
    scripts/ensure-deps.sh) on a populated page: no problem reported."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (scripts/ensure-deps.sh installs prometheus)")
    log = Log(T0 + 1000)
    log.ev(0, "queue.joined", "d1", queue="egov", language="ru")
    log.ev(30, "queue.abandoned", "d1", queue="egov", waited=30.0, cause="engine_shutdown")
    for event in log.events:
        windows.apply(event)
    collector = KpiCollector(lambda: windows.snapshots(T0 + 1100 + 900),
                             calls_in_progress=lambda: 3, rtp_late_frames=lambda: 17,
                             event_writer_lag=lambda: 0.25)
    page = render(make_registry(collector))
    assert b"previous_interval" in page and b"dropped" in page
    done = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True,
                          timeout=30, check=False)
    assert (done.returncode, done.stdout + done.stderr) == (0, b"")


def test_types_in_the_text(windows: KpiWindows) -> None:
    text = render(make_registry(KpiCollector(lambda: windows.snapshots(T0 + 200),
                                             rtp_late_frames=lambda: 1))).decode()
    assert "# TYPE bailanys_kpi_ratio gauge" in text
    assert "# TYPE bailanys_kpi_counted gauge" in text
    assert "# TYPE bailanys_kpi_counted_total counter" in text
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
    assert not any(name.startswith("bailanys_kpi") for name, _ in samples)
    assert "snapshots" in caplog.text


def test_no_providers_no_samples() -> None:
    samples = parse(render(make_registry(KpiCollector(dict))))
    assert samples == {}
