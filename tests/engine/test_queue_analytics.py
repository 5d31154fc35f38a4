"""The queue and analytics' own recording of a call (issue 15, engine/recordings.py).

With analytics on, a call is recorded from its start (provisionally); when
the queue bridges it, that recording gives way to the queue's bridge-only
recording (issue 13), or just stops when ``queue.record`` is off; a
recording of the whole call (``media.record_calls``) goes on and gains the
agent's side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bailanys.engine.causes import Cause
from bailanys.engine.queues import QueueService, QueueSettings
from tests.engine.fakes import FakeDialer, FakeEvents, FakeLeg, FakeMedia, FakePrompts, wait_until
from tests.engine.test_queue_service import QUEUES, enter


class Watch:
    """A RecordingWatch that notes what the queue asked of it."""

    def __init__(self, provisional: set[object]) -> None:
        self._provisional = provisional
        self.log: list[tuple[Any, ...]] = []

    def watch(self, recorder: Any, call_id: str, language: Callable[[], str | None], *,
              agent: bool, provisional: bool = False, ended: Any = None) -> None:
        assert ended is not None  # announced once the caller's call has ended
        self.log.append(("watch", recorder, call_id, language(), agent))

    def provisional(self, recorder: Any) -> bool:
        return recorder in self._provisional

    def discard(self, recorder: Any) -> None:
        self.log.append(("discard", recorder))


async def bridged(tmp_path: Path, *, record: bool, existing: str,
                  provisional: bool) -> tuple[FakeMedia, Watch, FakeLeg]:
    path = tmp_path / "queues.toml"
    path.write_text(QUEUES.format(ring=6, survey="false"), encoding="utf-8")
    media, watch = FakeMedia(), Watch({existing} if provisional else set())
    service = QueueService(
        settings=QueueSettings(file=str(path), tick_s=0.01, record=record,
                               record_dir=str(tmp_path / "rec"), languages=("kk", "ru")),
        events=FakeEvents(), prompts=FakePrompts(), media=media, dialer=FakeDialer(("1001",)),
        stopping=lambda: False, breaks=dict, recordings=watch)
    await service.start()
    try:
        caller = FakeLeg()
        caller.language = "ru"
        caller.session.recorder = existing  # the call server recorded it from its start
        held = enter(service, caller)
        await wait_until(lambda: service.dialer.legs)  # type: ignore[attr-defined]
        agent = service.dialer.legs[0]  # type: ignore[attr-defined]
        agent.answer()
        await wait_until(lambda: any(e[0] == "bridge" for e in media.log))
        await agent.hangup("remote_bye", Cause.AGENT)
        await asyncio.wait_for(held, 2)
    finally:
        await service.stop()
    return media, watch, caller


@pytest.mark.parametrize("record", [True, False])
async def test_a_provisional_recording_gives_way_at_the_bridge(
        tmp_path: Path, record: bool) -> None:
    media, watch, caller = await bridged(tmp_path, record=record, existing="whole",
                                         provisional=True)
    if record:
        new = tmp_path / "rec" / "caller-1.wav"
        assert watch.log == [("discard", "whole"), ("watch", new, "caller-1", "ru", True)]
        assert ("record", new) in media.log
    else:  # no conversation recordings: analytics' stops, the IVR part is the caller's side
        assert watch.log == []
        assert not any(e[0] == "record" for e in media.log)
        assert ("stop_recording", caller.session) in media.log


async def test_a_whole_call_recording_goes_on_and_gains_the_agent(tmp_path: Path) -> None:
    media, watch, _ = await bridged(tmp_path, record=True, existing="whole", provisional=False)
    assert watch.log == [("watch", "whole", "caller-1", "ru", True)]
    assert not any(e[0] == "record" for e in media.log)
