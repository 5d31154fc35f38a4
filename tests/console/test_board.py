"""The wallboard's ``board`` part (issue 21; bailanys/console/board.py) from a
real KPI fold: live waits per queue and language, today's SL, wait and lost
calls per row, the queues file's names and thresholds, the alert levels."""

from __future__ import annotations

from pathlib import Path

from bailanys.console.board import board
from bailanys.metrics.fold import KpiFold
from bailanys.queue.settings import load_queue_config
from tests.metrics.mhelpers import T0, Log

QUEUES = """
[thresholds]
waiting = [2, 3]

[queues.egov]
names = { kk = "eGov порталы", ru = "Портал eGov" }
thresholds = { longest_wait_s = [10, 30] }

[queues.general]

[queues.quiet]
names = { ru = "Тихая" }
"""


def test_board_rows_levels_and_names(tmp_path: Path) -> None:
    path = tmp_path / "queues.toml"
    path.write_text(QUEUES, encoding="utf-8")
    config = load_queue_config(path)
    log = Log()
    log.login(0, "a1")
    log.answered(0, "c1", queue="egov", lang="kk", wait=12)
    log.abandoned(100, "c2", queue="general", lang="ru")
    log.arrive(200, "c3", "+77012223344", "egov", "ru")  # joins at 205, waits on
    log.arrive(210, "c4", "+77015556677", "general", "kk")  # joins at 215, waits on
    fold = KpiFold()
    for event in log.events:
        fold.apply(event)
    now = T0 + 245.0  # c3 has waited 40 s, c4 30 s
    out = board(fold.snapshot(now), config)

    total = out["total"]
    assert (total["waiting"], total["longest_wait_s"]) == (2, 40.0)
    assert (total["offered"], total["answered"], total["abandoned"]) == (4, 1, 1)
    # the file's [thresholds] for the total: 2 waiting is the warn level; 40 s
    # is over the default 30 s warn level, under the 60 s alarm
    assert total["levels"]["waiting"] == "warn"
    assert total["levels"]["longest_wait_s"] == "warn"
    # KPI 5 over the offered (those waiting included): 1 of 4
    assert total["lost_pct"] == 25.0 and total["levels"]["lost_pct"] == "alarm"
    assert total["thresholds"]["waiting"] == [2.0, 3.0]

    queues = {q["name"]: q for q in out["queues"]}
    assert list(queues) == ["egov", "general", "quiet"]  # the file's order, all of them
    egov = queues["egov"]
    assert egov["label"] == {"kk": "eGov порталы", "ru": "Портал eGov"}
    assert (egov["waiting"], egov["longest_wait_s"]) == (1, 40.0)
    assert egov["levels"]["longest_wait_s"] == "alarm"  # its own 30 s alarm level
    assert egov["level"] == "alarm"
    assert egov["wait_s"] == 12.0 and egov["lost_pct"] == 0.0
    assert egov["thresholds"]["longest_wait_s"] == [10.0, 30.0]
    general = queues["general"]
    assert general["label"] == {"kk": "general", "ru": "general"}
    assert (general["waiting"], general["longest_wait_s"]) == (1, 30.0)
    assert general["levels"]["longest_wait_s"] == "warn"  # the default 30 s warn level
    assert general["lost_pct"] == 50.0 and general["level"] == "alarm"
    quiet = queues["quiet"]  # configured, no caller yet: a row of zeros, ok
    assert quiet["label"]["ru"] == "Тихая"
    assert (quiet["waiting"], quiet["longest_wait_s"]) == (0, None)
    assert quiet["service_level_pct"] is None
    assert quiet["level"] == "ok"

    languages = {row["name"]: row for row in out["languages"]}
    assert set(languages) == {"kk", "ru"}
    assert (languages["ru"]["waiting"], languages["ru"]["longest_wait_s"]) == (1, 40.0)
    assert (languages["kk"]["waiting"], languages["kk"]["longest_wait_s"]) == (1, 30.0)
    assert out["level"] == "alarm"

    # The callers leave: the live figures fall back, today's KPIs stay.
    log.ev(250, "call.connected", "c3", queue="egov", agent="a1", waited=45, orig_position=1)
    log.ev(251, "queue.abandoned", "c4", queue="general", waited=36, short=False,
           cause="caller", position=1)
    for event in log.events[-2:]:
        fold.apply(event)
    later = board(fold.snapshot(T0 + 260), config)
    assert (later["total"]["waiting"], later["total"]["longest_wait_s"]) == (0, None)
    egov = next(q for q in later["queues"] if q["name"] == "egov")
    assert egov["levels"]["longest_wait_s"] == "ok"
    assert egov["wait_s"] == 28.5  # KPI 1: the answered callers' waits, 12 and 45 s


def test_board_without_queues_or_events() -> None:
    out = board(None, None)
    assert out["queues"] == [] and out["languages"] == []
    assert out["total"]["waiting"] == 0 and out["total"]["level"] == "ok"
    assert out["level"] == "ok"
    # a queue seen in the events but gone from the file still has a row
    log = Log()
    log.arrive(0, "c1", "+77012223344", "old", "kk")
    fold = KpiFold()
    for event in log.events:
        fold.apply(event)
    out = board(fold.snapshot(T0 + 20), None)
    assert [(q["name"], q["waiting"], "label" in q) for q in out["queues"]] == [("old", 1, False)]


def test_the_fold_remembers_the_callers_number_for_the_mask() -> None:
    from bailanys.cases.model import mask_number

    log = Log()
    log.arrive(0, "c1", "+77012223344", "egov", "kk")
    log.arrive(1, "c2", None, "egov", "ru")  # anonymous
    fold = KpiFold()
    for event in log.events:
        fold.apply(event)
    assert mask_number(fold.number_of("c1")) == "*******3344"
    assert fold.number_of("c2") == "" and fold.number_of("nobody") == ""
