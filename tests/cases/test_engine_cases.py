"""The requests' API and escalation inside a real engine (issue 19)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bailanys.cases.model import Citizen
from bailanys.cases.settings import CasesFileConfig
from bailanys.engine.core import Engine
from tests.engine.test_start_failure import config, free_port

TOKEN = "appeals-token-0123456789abcdef"


def _create(engine: Engine) -> str:
    cs = engine.cases.open_store()
    try:
        return cs.create(citizen=Citizen("77011234567", None, "ru"), topic="passport",
                         description="паспорт", user="op1",
                         now=datetime.now(UTC) - timedelta(days=120)).case.number
    finally:
        cs.conn.close()


async def test_the_engine_serves_the_api_and_escalates(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"appeals {TOKEN}\n", encoding="utf-8")
    console = free_port()
    cfg = config(tmp_path, sip_port=free_port(), console_port=console)
    cfg = dataclasses.replace(cfg, cases=CasesFileConfig(api_tokens=str(tokens)))
    engine = Engine(cfg)
    await engine.start()
    try:
        number = await asyncio.to_thread(_create, engine)
        auth = {"authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{console}") as http:
            missing = await http.get("/api/ext/cases/2026-999999", headers=auth)
            assert missing.status_code == 404 and missing.json()["error"] == "no_request"
            assert (await http.get(f"/api/ext/cases/{number}")).status_code == 401
            await engine.cases.tick(datetime.now(UTC))  # (or the task's own first pass)
            read = await http.get(f"/api/ext/cases/{number}", headers=auth)
            assert read.status_code == 200 and read.json()["status"] == "escalated"
            moved = await http.post(f"/api/ext/cases/{number}/status", headers=auth,
                                    json={"status": "in_progress", "note": "продлено"})
            assert moved.status_code == 200, moved.text
        await engine.events.flush()
        assert len(await engine.events.query(type="case.escalated")) == 1
        assert len(await engine.events.query(type="case.status")) == 2
    finally:
        await engine.stop(drain_s=0)
