"""The reviewers' page's real port (bailanys/qa/webstore.py) over a real SQLite store.

Schema v5 rows written as the workers write them (``tests/qa/scoredstore.py``),
read by the adapter's own queries, changed by the real review store. A refusal of the store
(its error, or a trigger of schema v5) is a :class:`QaRefused`, and its
transaction is rolled back; the page can never write through a read.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from http import HTTPStatus
from pathlib import Path
from types import SimpleNamespace

import pytest

from bailanys.qa import webstore
from bailanys.qa.model import Answer, Outcome
from bailanys.qa.web import QaRefused
from bailanys.qa.webstore import StoreQa
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, connect_sync
from tests.qa import scoredstore

NOW = 1_796_380_000.0


@pytest.fixture
def port(store_url: str) -> StoreQa:
    """Issue 22: an SQLite file (given as a path, as the engine does) or PostgreSQL."""
    scoredstore.new_store(store_url)
    with closing(connect_sync(store_url)) as conn, conn:
        scoredstore.scored(conn, "c1", NOW)
        scoredstore.scored(conn, "c2", NOW + 1, agent="1002", reason="critical")
    return StoreQa(store_url if store_url.startswith("postgresql:") else Path(store_url))


def test_a_scored_call_with_its_scorecard_and_reasons(port: StoreQa) -> None:
    call = port.call("c1")
    assert call is not None and port.call("nope") is None
    assert call["score"]["version"] == 2 and call["score"]["total"] == 66.7
    assert call["score"]["results"][0]["evidence"][0]["start"] == scoredstore.GREETING_AT
    assert [c["id"] for s in call["card"]["sections"] for c in s["criteria"]] == [
        "greeting", "closing", "talk_ratio", "accurate", "politeness"]
    assert call["reasons"] == [{"reason": "sample", "detail": "", "state": "open", "by": None}]
    assert call["reviews"] == []


def test_a_review_from_draft_to_final_to_correction(port: StoreQa) -> None:
    draft = port.open_review("c1", "dana", NOW)
    assert draft["state"] == "draft" and draft["revision"] == 1
    assert port.open_review("c1", "dana", NOW)["id"] == draft["id"]  # resumed, not another
    with pytest.raises(QaRefused) as unanswered:
        port.finalise(draft["id"], "dana", NOW)
    assert (unanswered.value.code, unanswered.value.detail) == ("unanswered",
                                                                "accurate,politeness")
    saved = port.save(draft["id"], "dana", (Answer("accurate", Outcome.PASS),
                                            Answer("politeness", Outcome.PASS, 4.0)), "ok")
    assert saved["answers"][1] == {"criterion": "politeness", "outcome": "pass", "value": 4.0}
    final = port.finalise(draft["id"], "dana", NOW + 60)
    assert (final["state"], final["counted"], final["total"]) == ("final", True, 80.0)
    assert port.call("c1")["reasons"][0]["state"] == "done"  # type: ignore[index]
    with pytest.raises(QaRefused) as immutable:
        port.save(draft["id"], "dana", (), "changed")
    assert immutable.value.code == "final" and immutable.value.status == HTTPStatus.CONFLICT
    fixed = port.correct(draft["id"], "dana", NOW + 120)
    assert (fixed["revision"], fixed["supersedes"], fixed["state"]) == (2, draft["id"], "draft")
    assert [r["revision"] for r in port.call("c1")["reviews"]] == [1, 2]  # type: ignore[index]


def test_a_refusal_rolls_back_and_a_trigger_is_a_refusal(port: StoreQa) -> None:
    draft = port.open_review("c1", "dana", NOW)
    with pytest.raises(QaRefused) as other:
        port.save(draft["id"], "bolat", (), "mine now")
    assert other.value.code == "not_owner" and other.value.status == HTTPStatus.FORBIDDEN
    with pytest.raises(QaRefused) as missing:
        port.open_review("c-none", "dana", NOW)
    assert missing.value.code == "no_score" and missing.value.status == HTTPStatus.NOT_FOUND
    port.save(draft["id"], "dana", (Answer("accurate", Outcome.FAIL),
                                    Answer("politeness", Outcome.NA)), "")
    port.finalise(draft["id"], "dana", NOW)
    with closing(connect_sync(port.db_path, autocommit=True)) as conn:
        with pytest.raises(webstore.FINAL_ERRORS):  # schema v5 itself
            conn.execute("UPDATE qa_reviews SET total = 100 WHERE id = ?", (draft["id"],))
        events = conn.execute("SELECT call_id, data FROM events WHERE type = 'qa.reviewed'"
                              ).fetchall()
    assert [(c, json.loads(d)["passed"]) for c, d in events] == [("c1", False)]


def test_the_queue_is_the_review_stores(port: StoreQa) -> None:
    draft = port.open_review("c2", "dana", NOW)
    items = port.queue("dana", 10, 0)
    assert [i["call_id"] for i in items] == ["c2", "c1"]  # a failed critical first
    assert [(r["reason"], r["by"]) for r in items[0]["reasons"]] == [("critical", None)]
    assert (items[0]["draft"], items[1]["draft"]) == (draft["id"], None)


def test_supervisors_requests_and_a_call_never_scored(port: StoreQa) -> None:
    assert port.flag("c1", "aigerim", NOW, "rude") is True
    assert port.flag("c1", "aigerim", NOW, "again") is False
    assert port.calibrate("c1", "aigerim", NOW) is True
    reasons = {(r["reason"], r["by"]) for r in port.call("c1")["reasons"]}  # type: ignore[index]
    assert reasons == {("sample", None), ("flag", "aigerim"), ("calibration", "aigerim")}
    with pytest.raises(QaRefused) as never:
        port.flag("c-none", "aigerim", NOW, "")
    assert never.value.code == "not_scored" and never.value.status == HTTPStatus.NOT_FOUND


def test_reports_calibration_and_csv_are_the_review_stores(port: StoreQa) -> None:
    week = (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    report = port.report("team", *week)
    assert report["since"] == "2026-11-30" and [g["key"] for g in report["groups"]] == [
        "support"]
    assert report["groups"][0]["overall"]["failed_most"][0]["calls"] == ["c1", "c2"]
    for reviewer, accurate in (("dana", Outcome.PASS), ("saule", Outcome.FAIL)):
        review = port.open_review("c1", reviewer, NOW)
        port.save(review["id"], reviewer, (Answer("accurate", accurate),
                                           Answer("politeness", Outcome.PASS, 4.0)), "")
        port.finalise(review["id"], reviewer, NOW + 1)
    agreement = {c["criterion"]: c["agreement_pct"]
                 for c in port.calibration(*week)["criteria"]}
    assert (agreement["accurate"], agreement["politeness"]) == (0.0, 100.0)
    lines = port.export_csv("agent", *week, "ru").decode().splitlines()
    assert lines[0].startswith("\ufeff") and len(lines) > 2
    rows = {tuple(line.split(";")[:2]) for line in lines[1:]}
    assert {("1001", "2026-W49"), ("1002", "2026-W49"), ("1001", "Весь период")} <= rows


def test_an_unreadable_scorecard_leaves_the_results_by_id(
        port: StoreQa, monkeypatch: pytest.MonkeyPatch) -> None:
    from bailanys.errors import ConfigError

    def broken(conn: SyncConnection, card_id: str, version: int) -> None:
        raise ConfigError("not a scorecard")

    real = webstore._module
    stand_ins = {"cardstore": SimpleNamespace(load_version=broken)}
    monkeypatch.setattr(webstore, "_module", lambda name: stand_ins.get(name) or real(name))
    call = port.call("c1")
    assert call is not None and call["card"] is None and len(call["score"]["results"]) == 5


def test_reads_never_write(port: StoreQa) -> None:
    with closing(port._connect()) as conn, pytest.raises(STORE_ERRORS):
        conn.execute("DELETE FROM qa_queue")


def test_a_missing_or_old_store_is_a_503_not_a_crash(
        tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with closing(sqlite3.connect(old)) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    for path in (tmp_path / "none.db", old):
        for action in (lambda p: p.call("c1"), lambda p: p.open_review("c1", "dana", NOW)):
            with pytest.raises(QaRefused) as failed:
                action(StoreQa(path))
            assert (failed.value.code, failed.value.status) == (
                "failed", HTTPStatus.SERVICE_UNAVAILABLE)
