"""The Grafana dashboard names only series the engine exports.

Every expression of ``deploy/grafana/bailanys.json`` (panel targets and the
queue variable's ``label_values``) is read as PromQL: string literals,
label matchers, ``by``/``without`` groupings and range selectors taken out,
every remaining name that is not a PromQL function or keyword must be a
series of the engine's registry (the KPI collector's families as scraped:
counters with ``_total``, and the authentication collector's), and every
``kpi``, ``count`` and ``state`` label value matched must be one the engine
writes. ``promtool check rules`` (Debian's prometheus package) then parses
every expression, with the dashboard's variables filled in, as a recording
rule.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bailanys.authguard import AuthGuard
from bailanys.metrics.authmetrics import AuthCollector
from bailanys.metrics.formulas import KPI_NAMES
from bailanys.metrics.prometheus import KpiCollector, count_family, kpi_family, make_registry
from bailanys.metrics.snapshot import AGENT_STATES, COUNT_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "bailanys.json"
#: PromQL's functions, aggregations and keywords used or usable in a dashboard.
PROMQL_WORDS = frozenset("""
    sum min max avg count stddev stdvar topk bottomk quantile count_values group
    by without on ignoring group_left group_right bool and or unless offset
    rate irate increase delta idelta deriv predict_linear histogram_quantile
    abs ceil floor round clamp clamp_min clamp_max exp ln log2 log10 sqrt
    time timestamp vector scalar sort sort_desc label_replace label_join
    avg_over_time min_over_time max_over_time sum_over_time count_over_time
    last_over_time changes resets absent absent_over_time label_values
""".split())
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(by|without|on|ignoring)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL = re.compile(r'\b(kpi|count|state)\s*(=~?|!=)\s*"([^"]*)"')


def exported_series() -> set[str]:
    """The series names a scrape of the engine's registry shows."""
    registry = make_registry(KpiCollector(lambda: {}, calls_in_progress=lambda: 0,
                                          rtp_late_frames=lambda: 0,
                                          event_writer_lag=lambda: 0.0))
    registry.register(AuthCollector(lambda: [AuthGuard(kind="sip")]))
    names = set()
    for family in registry.collect():
        names.add(family.name + ("_total" if family.type == "counter" else ""))
        names.update(s.name for s in family.samples)
    return names


def expressions(dashboard: dict[str, object]) -> list[tuple[str, str]]:
    """(where, expr) of every panel target and query variable."""
    out = []
    for panel in dashboard["panels"]:  # type: ignore[attr-defined]
        for target in panel.get("targets", []):
            out.append((f"panel {panel['id']} {panel['title']!r}", target["expr"]))
    for var in dashboard["templating"]["list"]:  # type: ignore[index]
        if var["type"] == "query":
            out.append((f"variable {var['name']}", var["query"]["query"]))
    return out


def names_in(expr: str) -> set[str]:
    if expr.startswith("label_values("):  # Grafana's: label_values(SELECTOR, LABEL)
        expr = expr[len("label_values("):].rsplit(",", 1)[0]
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGE.sub("", text)
    text = re.sub(r"\$\w+", "", text)
    text = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b", "", text)
    return {n for n in _NAME.findall(text) if n not in PROMQL_WORDS}


def test_every_expression_names_an_exported_series() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = exported_series()
    assert {"bailanys_kpi_seconds", "bailanys_kpi_counted_total", "bailanys_agents",
            "bailanys_rtp_late_frames_total", "bailanys_event_writer_lag_seconds",
            "bailanys_auth_failures_total"} <= exported
    known = {"kpi": {kpi_family(k)[1] for k in (*KPI_NAMES, "occupancy_pct")},
             "count": {count_family(c)[1] for c in COUNT_FIELDS},
             "state": set(AGENT_STATES)}
    exprs = expressions(dashboard)
    assert len(exprs) >= 25
    used: set[str] = set()
    for where, expr in exprs:
        names = names_in(expr)
        assert names, f"{where}: no series in {expr!r}"
        unknown = names - exported
        assert not unknown, f"{where}: {sorted(unknown)} not exported by the engine ({expr!r})"
        used |= names
        for label, op, value in _LABEL.findall(expr):
            values = value.split("|") if op == "=~" else [value]
            wrong = [v for v in values if v not in known[label]]
            assert not wrong, f"{where}: {label} {wrong} never written by the engine"
    # The list: KPIs, queues, agents, calls, RTP lateness, event-writer lag.
    assert {"bailanys_kpi_ratio", "bailanys_queue_longest_wait_seconds", "bailanys_queue_waiting",
            "bailanys_agents", "bailanys_calls_in_progress", "bailanys_rtp_late_frames_total",
            "bailanys_event_writer_lag_seconds"} <= used
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()  # the panels tile Grafana's 24-column grid
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not mine & cells, f"{panel['title']!r} overlaps another panel"
        cells |= mine


def test_promtool_parses_every_expression(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian: apt install prometheus)")
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    fill = {"$window": "today", "$queue": ".*", "$__rate_interval": "5m"}
    lines = ["groups:", "  - name: bailanys_dashboard", "    rules:"]
    for n, (_, expr) in enumerate(expressions(dashboard)):
        if expr.startswith("label_values("):
            expr = expr[len("label_values("):].split(",")[0]
        for var, value in fill.items():
            expr = expr.replace(var, value)
        assert "$" not in expr, expr
        lines += [f"      - record: bailanys:dashboard_{n}", f"        expr: {json.dumps(expr)}"]
    rules = tmp_path / "rules.yml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr
