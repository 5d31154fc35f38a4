"""bailanys_auth_* counters (bailanys.metrics.authmetrics)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bailanys.authguard import AuthGuard, Limits
from bailanys.metrics.authmetrics import AuthCollector


def scrape(*guards: AuthGuard) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AuthCollector(lambda: guards))
    return generate_latest(registry).decode()


def test_counters_by_kind_and_scope() -> None:
    sip = AuthGuard("sip", Limits(source_failures=2))
    for _ in range(2):
        sip.failure("192.0.2.1", "1001", 0.0)
    for _ in range(5):
        sip.check("192.0.2.1", "1001", 1.0)
    text = scrape(sip)
    assert "# TYPE bailanys_auth_failures_total counter" in text
    assert 'bailanys_auth_failures_total{kind="sip"} 2.0' in text
    assert 'bailanys_auth_failures_total{kind="console"} 0.0' in text
    assert 'bailanys_auth_blocked_total{kind="sip",scope="source"} 5.0' in text
    assert 'bailanys_auth_blocked_total{kind="sip",scope="account"} 0.0' in text
    assert 'bailanys_auth_blocked_total{kind="console",scope="source"} 0.0' in text


def test_without_guards_every_series_is_zero() -> None:
    text = scrape()
    assert text.count(" 0.0\n") == 2 + 4


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_counters() -> None:
    sip, console = AuthGuard("sip"), AuthGuard("console")
    sip.failure("192.0.2.1", "1001", 0.0)
    console.check("192.0.2.1", "aigerim", 0.0)
    done = subprocess.run(["promtool", "check", "metrics"], input=scrape(sip, console),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
