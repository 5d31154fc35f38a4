"""A request's SMS through a real Kannel and its fakesmsc (issue 19: "the SMS
goes through Kannel's fakesmsc; a status update ... sends the second SMS"),
with the delivery reports from Kannel; a status change made with the CLI
(another process's row, found by the sender's poll); and the robot's "my
open requests" reading the request back once the caller keys in the code
fakesmsc got. The rig is test_kannel's."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen, iin_hash
from bailanys.cases.notify import CaseNotifier
from bailanys.cases.settings import CasesFileConfig, load_or_create_salt
from bailanys.cases.store import CaseStore, Result, connect
from bailanys.cases.templates import render
from bailanys.cli import main
from bailanys.config import RobotConfig
from bailanys.engine.robot import RobotService
from bailanys.ivr.runner import StartRobot
from bailanys.robot.kannel import HttpKannel, KannelConfig
from bailanys.robot.sms import DlrServer, SmsConfig, SmsOutbox, SmsState
from bailanys.store.db import Database
from bailanys.store.migrations import migrate
from bailanys.timezone import ALMATY
from tests.engine.fakes import FakeEvents, FakeLeg, FakePrompts
from tests.peers.test_kannel import KannelRig, free_port, states, until

pytestmark = pytest.mark.peer

ROOT = Path(__file__).resolve().parents[2]
TO = "77011234567"  # tests.engine.fakes.FakeLeg calls from 87011234567
IIN = "850315410002"
NOW = datetime(2026, 3, 20, 10, tzinfo=ALMATY)


UDH_DATA = b" data "  # test_kannel's GOT reads "udh <UDH> data <DATA>" as the text


def joined(received: list[tuple[str, str, str]]) -> list[str]:
    """The concatenated SMS fakesmsc got, put together. test_kannel's rig
    decodes a part's ``udh %05%00%03.. data %04..`` as Latin-1 text; back
    to bytes, they are the UDH (IE 0: reference, total, part number), then
    the UCS-2 data."""
    parts: dict[int, dict[int, bytes]] = {}
    totals: dict[int, int] = {}
    for _, _, text in received:
        raw = text.encode("latin-1")
        udh, sep, data = raw[:6], raw[6:12], raw[12:]
        assert udh[:3] == b"\x05\x00\x03" and sep == UDH_DATA, raw
        ref, total, no = udh[3], udh[4], udh[5]
        totals[ref] = total
        parts.setdefault(ref, {})[no] = data
    return [b"".join(p[i] for i in sorted(p)).decode("utf-16-be")
            for ref, p in parts.items() if len(p) == totals[ref]]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[KannelRig, SmsOutbox, Path]]:
    path = tmp_path / "bailanys.db"
    db = await Database.open(path)
    await migrate(db)
    rig = KannelRig(tmp_path)
    dlr_port = free_port()
    cfg = rig.config()
    kannel = HttpKannel(KannelConfig(port=cfg.port, username=cfg.username,
                                     password=cfg.password, timeout_s=cfg.timeout_s,
                                     dlr_url=f"http://127.0.0.1:{dlr_port}/dlr"))
    outbox = SmsOutbox(db, kannel, config=SmsConfig(backoff_base_s=0.1, backoff_cap_s=0.4,
                                                    poll_s=0.2))
    server = DlrServer("127.0.0.1", dlr_port, outbox)
    await server.start()
    outbox.start()
    try:
        yield rig, outbox, path
    finally:
        await outbox.stop()
        await server.stop()
        await rig.stop()
        await db.close()


def _writes(path: Path) -> tuple[Result, Result]:
    """A request in Kazakh, then taken into work (the store's own thread)."""
    conn = connect(path)
    try:
        store = CaseStore(conn, dl.load(ROOT / "configs" / "cases.yaml"),
                          load_dir(ROOT / "configs" / "calendar"))
        made = store.create(citizen=Citizen(TO, None, "kk"), topic="passport",
                            description="Паспорт дайын ба?", user="op1", now=NOW)
        work = store.set_status(made.case.id, Status.IN_PROGRESS, user="dep",
                                now=NOW + timedelta(days=1))
        return made, work
    finally:
        conn.close()


async def test_creation_and_status_sms_reach_fakesmsc_and_are_delivered(
        world: tuple[KannelRig, SmsOutbox, Path]) -> None:
    rig, outbox, path = world
    await rig.start()
    made, work = await asyncio.to_thread(_writes, path)
    notifier = CaseNotifier(outbox)
    ids = await notifier.notify(made.case, made.events)
    ids += await notifier.notify(work.case, work.events)

    async def delivered() -> bool:
        return ((await states(outbox, ids)) == [SmsState.DELIVERED] * 2
                and len(joined(rig.received)) == 2)

    await until(delivered)
    due = made.case.deadline
    assert joined(rig.received) == [
        render("created", "kk", number=made.case.number, deadline=due),
        render("in_progress", "kk", number=made.case.number, deadline=due)]
    assert all(to == TO for _, to, _ in rig.received)
    assert len(rig.received) == 4  # two UCS-2 parts each (67 characters a part)


def _register(path: Path, salt_file: Path, iin: str | None = None) -> str:
    """A request in Kazakh from TO (with the IIN's hash when given)."""
    conn = connect(path)
    try:
        store = CaseStore(conn, dl.load(ROOT / "configs" / "cases.yaml"),
                          load_dir(ROOT / "configs" / "calendar"))
        key = iin_hash(iin, load_or_create_salt(salt_file)) if iin else None
        return store.create(citizen=Citizen(TO, key, "kk"), topic="passport",
                            description="Паспорт дайын ба?", user="op1",
                            now=datetime.now(ALMATY)).case.number
    finally:
        conn.close()


async def test_a_cli_status_change_is_sent_by_the_running_outbox(
        world: tuple[KannelRig, SmsOutbox, Path], tmp_path: Path) -> None:
    """``bailanys cases status`` runs without the engine: it queues the row,
    the engine's sender finds it by its poll and Kannel delivers it."""
    rig, outbox, path = world
    await rig.start()
    number = await asyncio.to_thread(_register, path, tmp_path / "cases.salt")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{path}"\n[reports]\ntopics = "{ROOT}/configs/topics.yaml"\n'
                   f'[cases]\nfile = "{ROOT}/configs/cases.yaml"\n'
                   f'calendar_dir = "{ROOT}/configs/calendar"\n'
                   f'[robot]\nkannel = "127.0.0.1:{rig.sendsms}"\n', encoding="utf-8")
    rc = await asyncio.to_thread(main, ["cases", "status", number, "in_progress", "--user",
                                        "sup1", "--config", str(cfg)])
    assert rc == 0

    async def got() -> bool:
        return len(joined(rig.received)) == 1

    await until(got)
    deadline = date(2000, 1, 1)
    conn = connect(path)
    try:
        case = CaseStore(conn, dl.load(ROOT / "configs" / "cases.yaml"),
                         load_dir(ROOT / "configs" / "calendar")).by_number(number)
        assert case is not None and case.deadline is not None
        deadline = case.deadline
        ((msg_id,),) = conn.execute("SELECT id FROM sms_outbox").fetchall()
    finally:
        conn.close()
    assert joined(rig.received) == [render("in_progress", "kk", number=number,
                                           deadline=deadline)]

    async def delivered() -> bool:
        return (await states(outbox, [msg_id])) == [SmsState.DELIVERED]

    await until(delivered)


async def test_the_robot_reads_the_request_back_with_the_code_from_fakesmsc(
        world: tuple[KannelRig, SmsOutbox, Path], tmp_path: Path) -> None:
    """Issue 19: "the robot service reads that request back to a second
    call" by number + IIN + SMS code: the code reaches fakesmsc through
    Kannel and the caller keys it in."""
    rig, outbox, path = world
    await rig.start()
    cases = CasesFileConfig(file=str(ROOT / "configs" / "cases.yaml"),
                            calendar_dir=str(ROOT / "configs" / "calendar"),
                            salt_file=str(tmp_path / "cases.salt"))
    await asyncio.to_thread(_register, path, Path(cases.salt_file), IIN)
    events, prompts = FakeEvents(), FakePrompts()
    robot = RobotService(settings=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""),
                         events=events, prompts=prompts, speech=lambda: None,
                         database=lambda: None, languages=("kk", "ru"), cases=cases,
                         store_path=str(path))
    await robot.start()
    robot.outbox = outbox  # the engine's outbox on the store, sending through Kannel
    try:
        call = FakeLeg()
        call.press(IIN)
        run = asyncio.create_task(robot.run(call, StartRobot("open_requests", "kk", {})))

        async def texted() -> bool:
            return bool(rig.received)

        await until(texted)
        ((_, to, sms),) = rig.received
        code = re.search(r"\b(\d{6})\b", sms)
        assert to == TO and code is not None and "растау коды" in sms
        call.press(code.group(1))
        assert await asyncio.wait_for(run, 30) is True
    finally:
        robot.outbox = None
        await robot.stop()
    steps = [(f["step"], f["outcome"]) for f in events.of("robot.service")]
    assert ("code", "ok") in steps and ("backend", "found") in steps, steps
    said = " ".join(t for _, t in prompts.added) + " ".join(prompts.said.values())
    assert "Сізде бір ашық өтініш бар." in said and "тіркелді" in said
    assert all(IIN not in str(f) for _, _, f in events.appended)
