"""ivr/session.py writes the runner's catalogue events with the call's id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np

from bailanys.events import EventBase, IvrHangupNode, IvrNode, IvrStarted
from bailanys.ivr.loader import load_flow_text
from bailanys.ivr.model import Prompt
from bailanys.ivr.runner import StartRobot, TransferCall
from bailanys.ivr.session import IvrCall, IvrSession
from bailanys.media.player import EncodedAudio

FLOW = """\
flow: t
languages: [kk, ru]
start: a
nodes:
  a:
    type: hangup
    cause: done
"""


class FakeCall:
    id = "call-7"

    def __init__(self) -> None:
        self.hung_up: list[str] = []

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool:
        return True

    def stop_playback(self) -> None:
        pass

    async def next_digit(self, wait_s: float) -> str | None:
        await asyncio.sleep(wait_s)
        return None

    def set_language(self, lang: str) -> None:
        pass

    async def hangup(self, reason: str) -> None:
        self.hung_up.append(reason)

    async def start_robot(self, call: IvrCall, action: StartRobot) -> bool:
        return False

    async def transfer(self, call: IvrCall, action: TransferCall) -> bool:
        return False


def silence(prompt: Prompt, lang: str) -> EncodedAudio:
    return EncodedAudio.from_pcm(np.zeros(160, dtype=np.int16))


async def test_events_carry_the_call_id() -> None:
    flow, problems = load_flow_text(FLOW, "t.yaml")
    assert flow is not None, problems
    written: list[EventBase] = []
    call = FakeCall()
    session = IvrSession(call, flow, audio_for=silence, emit=written.append,
                         clock=lambda: datetime(2026, 12, 4, 10, tzinfo=UTC))
    await asyncio.wait_for(session.run(), 5)
    assert written == [
        IvrStarted(call_id="call-7", flow="t", flow_version=flow.version),
        IvrNode(call_id="call-7", node="a", kind="hangup"),
        IvrHangupNode(call_id="call-7", node="a", cause="done"),
    ]
    assert call.hung_up == ["done"]
