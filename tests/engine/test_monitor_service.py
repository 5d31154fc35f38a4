"""The engine's Monitors service (issue 21) over fakes: refusals, ringing, ends.

The media and the real phones are in tests/media/test_mixer.py and
tests/peers/test_monitor.py; here, the rules: who may monitor what, and
which ``monitor.ended`` reason each ending gets.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bailanys.engine.monitor import MonitorRefused, Monitors
from bailanys.media.mixer import MonitorMix
from bailanys.monitor.settings import MonitorConfig
from tests.engine.fakes import FakeDialer, FakeEvents, FakeLeg, FakeOutbound, wait_until


class Bridges:
    def __init__(self) -> None:
        self.caller = FakeLeg("call-1")
        self.agent_leg = FakeOutbound("agent-leg", "1001")

    def live_bridge(self, *, call_id: str | None = None, agent: str | None = None
                    ) -> tuple[str, str, Any, Any] | None:
        if self.caller.ended.is_set() or call_id not in (None, "call-1") \
                or agent not in (None, "1001"):
            return None
        return "call-1", "1001", self.caller, self.agent_leg


class Hub:
    def __init__(self) -> None:
        self.mixes: list[MonitorMix] = []
        self.unmonitored: list[Any] = []

    def monitor(self, caller: Any, agent: Any, supervisor: Any, mode: str,
                on_end: Any = None) -> MonitorMix:
        mix = MonitorMix(caller, agent, supervisor, mode, on_end)
        self.mixes.append(mix)
        return mix

    def unmonitor(self, session: Any) -> None:
        self.unmonitored.append(session)


def make(phones: dict[str, str] | None = None, registered: tuple[str, ...] = ("2001", "2002")
         ) -> tuple[Monitors, FakeDialer, FakeEvents, Bridges, Hub]:
    dialer, events, bridges, hub = FakeDialer(registered), FakeEvents(), Bridges(), Hub()
    config = MonitorConfig(phones=phones or {"aigerim": "2001", "bolat": "2002",
                                             "dana": "2003"}, ring_s=5)
    monitors = Monitors(config=config, bridges=bridges, dialer=dialer, media=hub,  # type: ignore[arg-type]
                        events=events)
    return monitors, dialer, events, bridges, hub


async def refused(code: str, coro: Any) -> None:
    with pytest.raises(MonitorRefused) as exc:
        await coro
    assert exc.value.code == code, str(exc.value)


def ended(events: FakeEvents) -> list[dict[str, Any]]:
    return [f for t, _, f in events.appended if t == "monitor.ended"]


async def test_refusals_say_why() -> None:
    monitors, dialer, _, _, _ = make()
    await refused("bad_field", monitors.start("aigerim", "spy", agent="1001"))
    await refused("bad_field", monitors.start("aigerim", "listen"))
    await refused("no_phone", monitors.start("erlan", "listen", agent="1001"))
    await refused("not_in_call", monitors.start("aigerim", "listen", agent="1002"))
    await refused("phone_not_registered", monitors.start("dana", "listen", agent="1001"))
    await monitors.start("aigerim", "listen", agent="1001")
    await refused("monitor_busy", monitors.start("aigerim", "barge", call_id="call-1"))
    await refused("already_monitored", monitors.start("bolat", "listen", call_id="call-1"))
    with pytest.raises(MonitorRefused, match="not monitoring"):
        monitors.set_mode("bolat", "barge")
    assert [leg.target for leg in dialer.legs] == ["2001"]
    await monitors.stop()


async def test_stop_while_ringing_cancels_the_phone() -> None:
    monitors, dialer, events, _, hub = make()
    result = await monitors.start("aigerim", "whisper", agent="1001")
    assert result["state"] == "ringing" and monitors.active()[0]["mode"] == "whisper"
    monitors.stop_monitor("aigerim")
    leg = dialer.legs[0]
    assert leg.cancelled
    leg.refuse()  # the phone's 487 after the CANCEL
    await wait_until(lambda: ended(events))
    assert ended(events)[0]["reason"] == "stopped" and ended(events)[0]["duration_s"] == 0
    assert not hub.mixes and monitors.active() == []
    await monitors.stop()


async def test_answered_joins_switches_and_ends_with_the_call() -> None:
    monitors, dialer, events, bridges, hub = make()
    await monitors.start("aigerim", "listen", agent="1001")
    dialer.legs[0].answer()
    await wait_until(lambda: hub.mixes)
    assert monitors.active()[0]["state"] == "joined"
    monitors.set_mode("aigerim", "barge")
    assert hub.mixes[0].mode == "barge"
    bridges.caller.ended.set()  # the caller hangs up
    await wait_until(lambda: ended(events))
    assert ended(events)[0]["reason"] == "call_ended"
    assert dialer.legs[0].hangups  # the supervisor's leg was hung up
    types = [t for t, _, _ in events.appended]
    assert types == ["monitor.started", "monitor.mode_changed", "monitor.ended"]
    await monitors.stop()


async def test_a_refused_ring_is_no_answer() -> None:
    monitors, dialer, events, _, _ = make()
    await monitors.start("aigerim", "listen", agent="1001")
    dialer.legs[0].refuse()
    await wait_until(lambda: ended(events))
    assert ended(events)[0]["reason"] == "no_answer"
    await asyncio.sleep(0)
    await monitors.stop()
