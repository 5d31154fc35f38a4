"""Keeping the questions the assistant could not answer (bailanys.robot.gaps, issue 18).

The rows go through the real event log into a real migrated SQLite store,
in the transaction of the turn's ``robot.faq`` event.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bailanys.events import RobotFaq
from bailanys.robot.faq import Entry
from bailanys.robot.gaps import (
    DELETE_EXPIRED,
    INSERT_GAP,
    MAX_TEXT,
    decode_candidates,
    gap_rows,
    local_day,
    masked_question,
    resolution_rows,
)
from bailanys.robot.matcher import Candidate, MatchResult
from bailanys.store import Store

IIN = "850315401013"  # a valid IIN (the demo back end's sample)
IIN_SPOKEN_KK = "сегіз бес ноль үш бір бес төрт ноль бір ноль бір үш"
IIN_SPOKEN_RU = "восемь пять ноль три один пять четыре ноль один ноль один три"
TS = 1_793_000_000.0  # 2026-10-26 03:13 local (Asia/Almaty, UTC+5)


def _entry(eid: str) -> Entry:
    return Entry(id=eid, topic=eid, questions={"kk": ("сұрақ",), "ru": ("вопрос",)},
                 answer={"kk": "жауап.", "ru": "ответ."})


def _result(text: str) -> MatchResult:
    cands = (Candidate(_entry("tax_debt"), 0.41, 0.9), Candidate(_entry("tax_payment"), 0.33, 0.89),
             Candidate(_entry("fines"), 0.1, 0.8), Candidate(_entry("extra"), 0.01, 0.1))
    return MatchResult(text, "ru", cands, False)


def _rows(text: str, outcome: str = "no_match", lang: str = "ru",
          retention_days: int = 400) -> list[tuple[str, object]]:
    return list(gap_rows(call_id="call-7", ts=TS, lang=lang, text=text, result=_result(text),
                         outcome=outcome, attempt=2, retention_days=retention_days))


@pytest.mark.parametrize(("lang", "text"), [
    ("ru", f"мой иин {IIN} как узнать долг по налогам"),
    ("ru", f"мой иин {IIN_SPOKEN_RU} как узнать долг по налогам"),
    ("kk", f"менің жсн {IIN_SPOKEN_KK} салық қарызын қалай білемін"),
    ("kk", "жсн 850315 401013 салық қарызы"),  # dictated in two groups
])
def test_a_dictated_iin_is_masked_before_anything_is_kept(lang: str, text: str) -> None:
    rows = _rows(text, lang=lang)
    (sql, params), (delete, (cutoff,)) = rows  # type: ignore[misc]
    assert sql == INSERT_GAP and delete == DELETE_EXPIRED
    assert cutoff == TS - 400 * 86400
    stored = " ".join(str(p) for p in params)  # type: ignore[attr-defined]
    assert "[IIN]" in stored
    assert IIN not in stored and "850315" not in stored and "401013" not in stored
    assert "сегіз бес" not in stored and "восемь пять" not in stored


def test_what_a_row_holds() -> None:
    (_, params), _ = _rows("как узнать штраф за парковку", outcome="clarify")  # type: ignore[misc]
    ts, day, call, lang, text, terms, cands, outcome, attempt = params  # type: ignore[misc]
    assert (ts, day, call, lang, outcome, attempt) == (TS, "2026-10-26", "call-7", "ru",
                                                       "clarify", 2)
    assert text == "как узнать штраф за парковку"
    assert "штраф" in terms.split() and "парковк" in terms.split()
    assert json.loads(cands) == [["tax_debt", 0.41], ["tax_payment", 0.33], ["fines", 0.1]]
    assert decode_candidates(cands)[0] == ("tax_debt", 0.41)
    assert decode_candidates("not json") == ()


def test_answered_turns_empty_text_and_retention_0_keep_nothing() -> None:
    assert _rows("как получить паспорт", outcome="answered") == []
    assert _rows("э э", outcome="no_match") != []
    assert _rows("   ", outcome="no_match") == []
    assert _rows("как получить паспорт", retention_days=0) == []


def test_a_long_turn_is_cut_after_masking() -> None:
    text = "слово " * 200 + IIN
    masked = masked_question(text, "ru")
    assert len(masked) <= MAX_TEXT and IIN[:6] not in masked
    near_cut = "а" * (MAX_TEXT - 8) + " " + IIN  # the cut would split the IIN
    assert "850" not in masked_question(near_cut, "ru")


def test_local_day_is_almaty() -> None:
    assert local_day(1_798_743_600.0) == "2027-01-01"  # 2026-12-31T19:00Z = 00:00 UTC+5


async def test_rows_are_written_with_their_event_and_expire(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = await Store.open(path)
    try:
        old = gap_rows(call_id="old", ts=TS - 500 * 86400, lang="ru", text="старый вопрос",
                       result=_result("x"), outcome="no_match", attempt=1, retention_days=400)
        store.events.emit(RobotFaq(step="question", outcome="no_match", call_id="old"), rows=old)
        await store.events.flush()
        rows = _rows(f"мой иин {IIN} и штраф", outcome="clarify")
        event = RobotFaq(step="question", outcome="clarify", entry="tax_debt", confidence=0.41,
                         attempt=2, call_id="call-7")
        store.events.emit(event, rows=rows)  # type: ignore[arg-type]
        await store.events.flush()
        chose = RobotFaq(step="clarified", outcome="answered", entry="tax_payment",
                         call_id="call-7")
        store.events.emit(chose, rows=resolution_rows(call_id="call-7", outcome="answered",
                                                      entry="tax_payment"))
        await store.events.flush()
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT call_id, text, outcome FROM faq_gaps").fetchall()
        resolved = conn.execute("SELECT resolution FROM faq_gaps").fetchall()
        events = conn.execute("SELECT data FROM events WHERE type = 'robot.faq'").fetchall()
    assert kept == [("call-7", "мой иин [IIN] и штраф", "clarify")]  # the old row expired
    assert resolved == [("answered:tax_payment",)]
    assert len(events) == 3 and all("штраф" not in d for (d,) in events)
