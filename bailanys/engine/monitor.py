"""Listen, whisper, barge (issue 21): a supervisor's phone joins a live bridge.

:meth:`Monitors.start` (the console's ``monitor.start``) finds the caller
talking to the agent (by the agent or the caller's call id), rings the
supervisor's registered phone (``[monitor.phones]``) and returns at once;
when the phone answers, its leg joins the media hub's bridge in the mode
asked (:meth:`~bailanys.media.hub.MediaHub.monitor`; what each leg hears is
:mod:`bailanys.media.mixer`'s). :meth:`Monitors.set_mode` switches mode
mid-call, :meth:`Monitors.stop_monitor` hangs the supervisor's leg up.

The caller or the agent hanging up (or a transfer moving the call) ends
the monitor leg; the supervisor hanging up ends only the monitor. Every
use is an event: ``monitor.started``, ``monitor.mode_changed``,
``monitor.ended`` (with the time spent in each mode). Refusals are
:class:`~bailanys.monitor.refusals.MonitorRefused` with a code the page
translates.

The queues' recording goes on as before: the caller on the left, what the
caller hears on the right, so a barge's supervisor is recorded (mixed with
the agent) and a whisper never is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from bailanys.engine.causes import Cause
from bailanys.engine.ports import CallLeg, EventSink, OutboundLeg
from bailanys.errors import MediaError
from bailanys.events import MonitorEnded, MonitorModeChanged, MonitorStarted
from bailanys.media.mixer import MODES, MonitorMix
from bailanys.media.session import RtpSession
from bailanys.monitor.refusals import (
    ALREADY_MONITORED,
    BAD_REQUEST,
    MONITOR_BUSY,
    NO_PHONE,
    NOT_IN_CALL,
    NOT_MONITORING,
    PHONE_NOT_REGISTERED,
    MonitorRefused,
)
from bailanys.monitor.settings import MonitorConfig
from bailanys.tasks import TaskSet

__all__ = ["MonitorRefused", "Monitors"]

log = logging.getLogger(__name__)


class LiveBridges(Protocol):
    """The calls talking to an agent (:meth:`~bailanys.engine.queues.QueueService.live_bridge`)."""

    def live_bridge(self, *, call_id: str | None = None, agent: str | None = None
                    ) -> tuple[str, str, CallLeg, OutboundLeg] | None: ...


class PhoneDialer(Protocol):
    """Rings a registered phone (:class:`~bailanys.engine.dialer.Dialer`)."""

    def registered(self, user: str) -> bool: ...

    async def start_call_user(self, user: str) -> OutboundLeg: ...

    async def ring(self, leg: OutboundLeg, timeout_s: float) -> bool: ...


class MixingHub(Protocol):
    """The media hub's monitored bridges (:class:`~bailanys.media.hub.MediaHub`)."""

    def monitor(self, caller: RtpSession, agent: RtpSession, supervisor: RtpSession,
                mode: str, on_end: Callable[[], None] | None = None) -> MonitorMix: ...

    def unmonitor(self, session: RtpSession) -> None: ...


@dataclass(eq=False)
class _Monitor:
    supervisor: str
    phone: str
    call_id: str
    agent: str
    mode: str
    caller: CallLeg
    agent_leg: OutboundLeg
    leg: OutboundLeg
    asked: float  # monotonic: when the phone was rung
    joined: float | None = None
    mix: MonitorMix | None = None
    mode_since: float = 0.0
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODES, 0.0))
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    unmixed: asyncio.Event = field(default_factory=asyncio.Event)

    def as_dict(self) -> dict[str, Any]:
        return {"supervisor": self.supervisor, "agent": self.agent, "call_id": self.call_id,
                "mode": self.mode, "phone": self.phone,
                "state": "ringing" if self.joined is None else "joined"}


class Monitors:
    """The supervisors' monitor legs: one per supervisor, one per call."""

    def __init__(self, *, config: MonitorConfig, bridges: LiveBridges, dialer: PhoneDialer,
                 media: MixingHub, events: EventSink,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._bridges = bridges
        self._dialer = dialer
        self._media = media
        self._events = events
        self._clock = clock
        self._by_supervisor: dict[str, _Monitor] = {}
        self._tasks = TaskSet()

    def active(self) -> list[dict[str, Any]]:
        """The monitors now (ringing or joined), for the console."""
        return [m.as_dict() for m in self._by_supervisor.values()]

    async def start(self, supervisor: str, mode: str, *, agent: str | None = None,
                    call_id: str | None = None) -> dict[str, Any]:
        """Ring ``supervisor``'s phone to join the call of ``agent`` (or ``call_id``)
        in ``mode``; returns at once (``state`` ``ringing``)."""
        _check_mode(mode)
        if not agent and not call_id:
            raise MonitorRefused(BAD_REQUEST, "monitor.start needs an agent or a call_id")
        phone = self.config.phones.get(supervisor)
        if phone is None:
            raise MonitorRefused(NO_PHONE, f"{supervisor} has no phone in [monitor.phones]")
        if supervisor in self._by_supervisor:
            busy = self._by_supervisor[supervisor]
            raise MonitorRefused(MONITOR_BUSY, f"{supervisor} is monitoring agent "
                                 f"{busy.agent} already; stop that first")
        found = self._bridges.live_bridge(call_id=call_id or None, agent=agent or None)
        if found is None:
            who = f"agent {agent}" if agent else f"call {str(call_id)[:8]}"
            raise MonitorRefused(NOT_IN_CALL, f"{who} is not talking to a caller")
        cid, agent_name, caller, agent_leg = found
        for other in self._by_supervisor.values():
            if other.call_id == cid:
                raise MonitorRefused(ALREADY_MONITORED, f"{other.supervisor} is monitoring "
                                     f"agent {agent_name}'s call already")
        if not self._dialer.registered(phone):
            raise MonitorRefused(PHONE_NOT_REGISTERED, f"{supervisor}'s phone {phone} is "
                                 "not registered")
        try:
            leg = await self._dialer.start_call_user(phone)
        except LookupError:  # unregistered between the check and the INVITE
            raise MonitorRefused(PHONE_NOT_REGISTERED, f"{supervisor}'s phone {phone} is "
                                 "not registered") from None
        m = _Monitor(supervisor, phone, cid, agent_name, mode, caller, agent_leg, leg,
                     asked=self._clock())
        self._by_supervisor[supervisor] = m
        self._tasks.spawn(self._run(m), name=f"monitor-{supervisor}")
        log.info("monitor: %s rings %s to %s agent %s (call %s)", supervisor, phone, mode,
                 agent_name, cid[:8])
        return m.as_dict()

    def set_mode(self, supervisor: str, mode: str) -> dict[str, Any]:
        """Switch ``supervisor``'s monitor to ``mode`` (before or after the phone answers)."""
        _check_mode(mode)
        m = self._mine(supervisor)
        if mode != m.mode:
            previous, m.mode = m.mode, mode
            if m.joined is not None:
                now = self._clock()
                m.spent[previous] += now - m.mode_since
                m.mode_since = now
                if m.mix is not None:
                    m.mix.mode = mode
                self._events.emit(MonitorModeChanged(
                    call_id=m.call_id, supervisor=supervisor, agent=m.agent, mode=mode,
                    previous=previous, after_s=round(now - m.joined, 3)))
        return m.as_dict()

    def stop_monitor(self, supervisor: str) -> dict[str, Any]:
        """Hang up ``supervisor``'s monitor leg (ringing or joined)."""
        m = self._mine(supervisor)
        m.stop.set()
        if not m.leg.result.done():
            m.leg.cancel()  # still ringing: CANCEL (the ring then ends unanswered)
        return m.as_dict()

    async def stop(self) -> None:
        await self._tasks.cancel_all()

    def _mine(self, supervisor: str) -> _Monitor:
        m = self._by_supervisor.get(supervisor)
        if m is None:
            raise MonitorRefused(NOT_MONITORING, f"{supervisor} is not monitoring a call")
        return m

    # ------------------------------------------------------------ one monitor leg

    async def _run(self, m: _Monitor) -> None:
        reason = "engine_stopping"
        try:
            reason = await self._ring_and_join(m)
        finally:
            self._by_supervisor.pop(m.supervisor, None)
            if m.mix is not None:
                self._media.unmonitor(m.leg.session)
            if not m.leg.ended.is_set():
                if not m.leg.result.done():
                    m.leg.cancel()
                await asyncio.shield(m.leg.hangup("monitor_ended", Cause.FLOW))
            self._ended(m, reason)

    async def _ring_and_join(self, m: _Monitor) -> str:
        answered = await self._dialer.ring(m.leg, float(self.config.ring_s))
        if not answered:
            return "stopped" if m.stop.is_set() else "no_answer"
        if m.stop.is_set():
            return "stopped"
        if m.caller.ended.is_set() or m.agent_leg.ended.is_set():
            return "call_ended"
        try:
            m.mix = self._media.monitor(m.caller.session, m.agent_leg.session, m.leg.session,
                                        m.mode, on_end=m.unmixed.set)
        except MediaError as exc:  # the bridge ended, or another monitor got there first
            log.info("monitor: %s cannot join call %s: %s", m.supervisor, m.call_id[:8], exc)
            return "call_ended"
        m.joined = m.mode_since = self._clock()
        self._events.emit(MonitorStarted(
            call_id=m.call_id, supervisor=m.supervisor, phone=m.phone, agent=m.agent,
            mode=m.mode, ring_s=round(m.joined - m.asked, 3)))
        await _first(m.stop.wait(), m.leg.ended.wait(), m.unmixed.wait(),
                     m.caller.ended.wait(), m.agent_leg.ended.wait())
        if m.stop.is_set():
            return "stopped"
        # The supervisor's leg closing drops the mix too: its hang-up wins.
        return "supervisor_hangup" if m.leg.ended.is_set() else "call_ended"

    def _ended(self, m: _Monitor, reason: str) -> None:
        duration = 0.0
        if m.joined is not None:
            now = self._clock()
            m.spent[m.mode] += now - m.mode_since
            duration = now - m.joined
        self._events.emit(MonitorEnded(
            call_id=m.call_id, supervisor=m.supervisor, agent=m.agent, mode=m.mode,
            reason=reason, duration_s=round(duration, 3),
            listen_s=round(m.spent["listen"], 3), whisper_s=round(m.spent["whisper"], 3),
            barge_s=round(m.spent["barge"], 3)))
        log.info("monitor: %s left agent %s's call %s (%s, %.1f s)", m.supervisor, m.agent,
                 m.call_id[:8], reason, duration)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise MonitorRefused(BAD_REQUEST, f"unknown mode {mode!r} (expected "
                             f"{', '.join(MODES)})")


async def _first(*aws: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``aws`` finishes; the others are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
