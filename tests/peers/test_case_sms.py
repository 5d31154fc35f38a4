"""A request's SMS through a real Kannel and its fakesmsc (issue 19: "the SMS
goes through Kannel's fakesmsc; a status update ... sends the second SMS"),
with the delivery reports from Kannel. The rig is test_kannel's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen
from bailanys.cases.notify import CaseNotifier
from bailanys.cases.store import CaseStore, Result, connect
from bailanys.cases.templates import render
from bailanys.robot.kannel import HttpKannel, KannelConfig
from bailanys.robot.sms import DlrServer, SmsConfig, SmsOutbox, SmsState
from bailanys.store.db import Database
from bailanys.store.migrations import migrate
from bailanys.timezone import ALMATY
from tests.peers.test_kannel import KannelRig, free_port, states, until

pytestmark = pytest.mark.peer

ROOT = Path(__file__).resolve().parents[2]
TO = "77011234567"
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
    outbox = SmsOutbox(db, kannel, config=SmsConfig(backoff_base_s=0.1, backoff_cap_s=0.4))
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
