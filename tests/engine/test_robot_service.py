"""RobotService on fakes: a self-service by keypad, the assistant's hand-back, refusals.

The service takes ports (events, prompts, the speech recogniser and the
store's database, both looked up when needed): fakes here, with the real
demo back end (SQLite in tmp_path) and no FAQ, no SMS gateway.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from bailanys.config import RobotConfig
from bailanys.engine.robot import RobotService
from bailanys.ivr.runner import HandedBack, StartRobot
from tests.engine.fakes import FakeEvents, FakeLeg, FakePrompts

ROOT = Path(__file__).resolve().parents[2]
IIN = "850315401013"  # demo back end: an ID card ready at ALA-1


class Speech:
    """A recogniser with no model for any language (counts the look-ups)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def available(self, lang: str) -> bool:
        self.asked.append(lang)
        return False


async def _robot(tmp_path: Path, speech: Any = None) -> tuple[RobotService, FakeEvents]:
    events = FakeEvents()
    robot = RobotService(
        settings=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""), events=events,
        prompts=FakePrompts(), speech=lambda: speech, database=lambda: None,
        languages=("ru", "kk"))
    await robot.start()
    return robot, events


async def test_document_readiness_by_keypad(tmp_path: Path) -> None:
    robot, events = await _robot(tmp_path)
    try:
        call = FakeLeg(silence_s=0.2)
        seen_secret: list[bool] = []
        real_next = call.next_digit

        async def next_digit(wait_s: float) -> str | None:
            seen_secret.append(call.secret_keys)
            return await real_next(wait_s)

        call.next_digit = next_digit  # type: ignore[method-assign]
        call.press(IIN)
        taken = await robot.run(call, StartRobot("document_readiness", None, {}))
        assert taken is True
        steps = [(f["step"], f["outcome"]) for f in events.of("robot.service")]
        assert steps == [("start", "started"), ("iin", "valid"), ("backend", "ready"),
                         ("done", "completed")], steps
        assert call.hangups and call.hangups[0][0].startswith("robot_")
        assert any(seen_secret) and call.secret_keys is False  # IIN keys masked, then not
        assert all(IIN not in str(f) for _, _, f in events.appended)
    finally:
        await robot.stop()


async def test_assistant_without_speech_hands_back_on_key_0(tmp_path: Path) -> None:
    speech = Speech()
    robot, events = await _robot(tmp_path, speech)
    try:
        call = FakeLeg(silence_s=0.2)
        call.press("0")
        back = await robot.run(call, StartRobot(None, "kk", {}))
        assert back == HandedBack("robot_operator_key", {})
        assert events.of("robot.handover") == [{"reason": "operator_key", "topic": ""}]
        assert call.hangups == []  # the flow's fallback goes on with the call
        assert speech.asked == []  # no FAQ: the recogniser is not even asked
    finally:
        await robot.stop()


async def test_refusals_give_the_call_to_the_fallback(tmp_path: Path) -> None:
    idle = RobotService(settings=RobotConfig(demo_db=str(tmp_path / "r.db"), faq=""),
                        events=FakeEvents(), prompts=FakePrompts(), speech=lambda: None,
                        database=lambda: None)
    assert await idle.run(FakeLeg(), StartRobot(None, "ru", {})) is False  # not started
    robot, _ = await _robot(tmp_path)
    try:
        assert await robot.run(FakeLeg(), StartRobot("teleport", "ru", {})) is False
    finally:
        await robot.stop()


class Texts:
    """The SMS outbox: keeps what the robot texts (the real one: tests/peers/test_case_sms.py)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.got = asyncio.Event()

    async def enqueue(self, to: str, text: str) -> int:
        self.sent.append((to, text))
        self.got.set()
        return len(self.sent)

    async def stop(self) -> None:
        return None


async def test_open_requests_read_the_requests_store(tmp_path: Path) -> None:
    """Issue 19: with ``[cases]`` on, "my open requests" reads the store's
    requests by the IIN's salted hash once the caller keys in the code texted
    to their number; the other services keep the demo back end."""
    import re

    from bailanys.cases import deadlines as dl
    from bailanys.cases.calendar import load_dir
    from bailanys.cases.model import Citizen, iin_hash
    from bailanys.cases.settings import CasesFileConfig, load_or_create_salt
    from bailanys.cases.store import CaseStore, connect
    from bailanys.store.db import Database
    from bailanys.store.migrations import MIGRATIONS, migrate
    from bailanys.timezone import ALMATY

    cases = CasesFileConfig(file=str(ROOT / "configs" / "cases.yaml"),
                            calendar_dir=str(ROOT / "configs" / "calendar"),
                            salt_file=str(tmp_path / "cases.salt"))
    store_path = tmp_path / "bailanys.db"
    db = await Database.open(store_path)
    await migrate(db, MIGRATIONS)
    await db.close()

    def register() -> None:
        conn = connect(store_path)
        store = CaseStore(conn, dl.load(cases.file), load_dir(Path(cases.calendar_dir)))
        who = Citizen("77011234567", iin_hash(IIN, load_or_create_salt(cases.salt_file)), "ru")
        store.create(citizen=who, topic="passport", description="паспорт", user="op1",
                     now=datetime(2026, 3, 20, 10, tzinfo=ALMATY))
        conn.close()

    await asyncio.to_thread(register)
    events, prompts = FakeEvents(), FakePrompts()
    robot = RobotService(
        settings=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""), events=events,
        prompts=prompts, speech=lambda: None, database=lambda: None, languages=("ru", "kk"),
        cases=cases, store_path=str(store_path))
    await robot.start()
    texts = Texts()
    robot.outbox = texts  # type: ignore[assignment]
    try:
        call = FakeLeg(silence_s=2.0)
        call.press(IIN)
        run = asyncio.create_task(robot.run(call, StartRobot("open_requests", "ru", {})))
        await asyncio.wait_for(texts.got.wait(), 10)
        ((to, sms),) = texts.sent
        code = re.search(r"\b(\d{6})\b", sms)
        assert to == "77011234567" and code is not None
        call.press(code.group(1))
        assert await run is True
        steps = [(f["step"], f["outcome"]) for f in events.of("robot.service")]
        assert ("backend", "found") in steps, steps
        said = " ".join(text for _lang, text in prompts.added) + " ".join(prompts.said.values())
        assert "У вас одно открытое обращение." in said and "зарегистрировано" in said
        assert "пятнадцатое апреля" in said
        call = FakeLeg(silence_s=0.2)
        call.press(IIN)
        assert await robot.run(call, StartRobot("document_readiness", "ru", {})) is True
        assert ("backend", "ready") in [(f["step"], f["outcome"])
                                        for f in events.of("robot.service")]
    finally:
        await robot.stop()
