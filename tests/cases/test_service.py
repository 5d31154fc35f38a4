"""The engine's escalation task on a real store and event log (issue 19)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases.model import Citizen
from bailanys.cases.service import CasesService
from bailanys.config import Config
from bailanys.errors import StoreError
from bailanys.store import Store
from bailanys.store.db import MEMORY

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "appeals-token-0123456789abcdef"


def _config(tmp_path: Path, tokens: str = "") -> Config:
    base = Config()
    cases = dataclasses.replace(base.cases, file=str(ROOT / "configs/cases.yaml"),
                                calendar_dir=str(ROOT / "configs/calendar"), api_tokens=tokens)
    reports = dataclasses.replace(base.reports, topics=str(ROOT / "configs/topics.yaml"))
    return dataclasses.replace(base, cases=cases, reports=reports)


async def test_a_tick_escalates_what_is_overdue_at_that_time(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    store = await Store.open(db)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"appeals {TOKEN}\n", encoding="utf-8")
    created = datetime(2026, 3, 20, 10, tzinfo=UTC)
    service = CasesService(_config(tmp_path, str(tokens)), store.events, interval_s=3600,
                           clock=lambda: created)  # the task's own pass finds nothing due
    try:
        await service.start(str(db))
        assert service.tokens.client(f"Bearer {TOKEN}") is not None
        cs = service.open_store()
        try:
            number = cs.create(citizen=Citizen("77011234567", None, "ru"), topic="passport",
                               description="паспорт", user="op1", now=created).case.number
        finally:
            cs.conn.close()
        assert await service.tick(created + timedelta(days=1)) == []  # route stage not yet over
        events = await service.tick(created + timedelta(days=60))
        assert {e.type for e in events} == {"case.escalated", "case.status"}
        assert await service.tick(created + timedelta(days=61)) == []  # escalated once only
        await store.events.flush()
        stored = [e.type for e in await store.events.query()]
        assert stored.count("case.escalated") == 1 and stored.count("case.status") == 1
        cs = service.open_store()
        try:
            case = cs.by_number(number)
            assert case is not None and case.status.value == "escalated"
            assert case.history[-1].user == "system"
        finally:
            cs.conn.close()
    finally:
        await service.stop()
        await store.close()


async def test_an_escalation_texts_the_citizen(tmp_path: Path) -> None:
    from bailanys.cases.notify import CaseNotifier
    from tests.cases.test_api import _Outbox

    db = tmp_path / "b.db"
    store = await Store.open(db)
    outbox = _Outbox()
    created = datetime(2026, 3, 20, 10, tzinfo=UTC)
    service = CasesService(_config(tmp_path), store.events, interval_s=3600,
                           clock=lambda: created, notifier=lambda: CaseNotifier(outbox))
    try:
        await service.start(str(db))
        cs = service.open_store()
        try:
            number = cs.create(citizen=Citizen("77011234567", None, "kk"), topic="passport",
                               description="паспорт", user="op1", now=created).case.number
        finally:
            cs.conn.close()
        assert await service.tick(created + timedelta(days=60))
        assert [(to, number in text) for to, text in outbox.sent] == [("77011234567", True)]
        assert await service.tick(created + timedelta(days=61)) == []  # told once
        assert len(outbox.sent) == 1
    finally:
        await service.stop()
        await store.close()


async def test_the_task_runs_every_interval_and_stops(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    store = await Store.open(db)
    service = CasesService(_config(tmp_path), store.events, interval_s=0.01)
    try:
        await service.start(str(db))
        for _ in range(200):
            if service.passes >= 2:
                break
            await asyncio.sleep(0.01)
        assert service.passes >= 2
    finally:
        await service.stop()
        await store.close()
    passes = service.passes
    await asyncio.sleep(0.05)
    assert service.passes == passes
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "cases-escalation"]


async def test_no_task_on_an_in_memory_store_or_with_a_bad_file(
        tmp_path: Path) -> None:
    store = await Store.open(MEMORY)
    try:
        idle = CasesService(_config(tmp_path), store.events, interval_s=0.01)
        await idle.start(MEMORY)
        await asyncio.sleep(0.03)
        assert idle.passes == 0
        with pytest.raises(StoreError, match="not enabled"):
            idle.open_store()
        await idle.stop()
        bad = tmp_path / "tokens"
        bad.write_text("appeals short\n", encoding="utf-8")
        broken = CasesService(_config(tmp_path, str(bad)), store.events, interval_s=0.01)
        await broken.start(str(tmp_path / "b.db"))  # logged; the calls still run
        await asyncio.sleep(0.03)
        assert broken.passes == 0 and broken.tokens.client("Bearer x" * 30) is None
        with pytest.raises(StoreError, match="not enabled"):
            broken.open_store()
        await broken.stop()
    finally:
        await store.close()
