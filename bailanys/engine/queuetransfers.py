"""The queue service's transfer hooks (issue 19), a mixin of
:class:`~bailanys.engine.queues.QueueService`.

The caller keeps its flow task and the queue service's holding loop
throughout a transfer; these hooks change its :class:`~bailanys.engine.waiter.Waiter`
and the media bridges, and tell the queue core (the agent wraps up as
after a call: ``call.completed``; the caller joins the target queue
again). :mod:`bailanys.engine.transfers` drives them.

Waiter states added: ``transferring`` (the bridge with the agent ended),
``transfer-ringing`` (music while a blind transfer's number rings),
``held`` (music while the agent consults, attended), ``external`` (the
caller talks to the number's leg until either hangs up).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from bailanys.engine.causes import Cause
from bailanys.engine.ports import Dialer, EventStore, MediaLegs, OutboundLeg
from bailanys.engine.waiter import HandOver, Requeue, StartLeg, Waiter
from bailanys.errors import MediaError, SipParseError
from bailanys.events import EventBase
from bailanys.queue.agents import QueueError
from bailanys.queue.core import QueueCore

__all__ = ["QueueTransfers", "StartLeg"]

log = logging.getLogger(__name__)


class QueueTransfers:
    """Transfer hooks; the queue service provides what is declared here."""

    core: QueueCore | None
    events: EventStore
    media: MediaLegs
    dialer: Dialer
    _waiters: dict[str, Waiter]

    if TYPE_CHECKING:  # QueueService's own, declared for the type checker only
        def _run(self, actions: list[Any]) -> None: ...

        def _spawn(self, coro: Coroutine[Any, Any, Any],
                   name: str = "queue") -> asyncio.Task[Any]: ...

        def _music(self, w: Waiter) -> None: ...

        def _stop_recording(self, w: Waiter) -> None: ...

        def _max_call_s(self) -> float: ...

    def transferable(self, call_id: str) -> tuple[str, str, OutboundLeg] | None:
        """(queue, agent, the agent's leg) of a caller talking to an agent (or held
        while the agent consults); None for any other call."""
        w = self._waiters.get(call_id)
        if w is None or w.state not in ("bridged", "held") or w.agent_call is None:
            return None
        return w.queue, str(w.agent), w.agent_call

    def call_of_leg(self, leg_id: str) -> str | None:
        """The caller's call id whose agent's leg is ``leg_id`` (a REFER's dialog)."""
        for w in self._waiters.values():
            if w.agent_call is not None and w.agent_call.id == leg_id:
                return w.key
        return None

    def _talking(self, call_id: str) -> Waiter:
        """The caller of a new transfer: talking to its agent, no consultation open."""
        w = self._waiters.get(call_id)
        if w is None or w.state != "bridged" or w.agent_call is None:
            raise QueueError("the caller is not talking to the agent (a consultation "
                             "open? complete or cancel it first)")
        return w

    def _release(self, w: Waiter, by: str = "agent") -> None:
        """The bridge with the agent ends for a transfer: the agent wraps up as
        after a call (``queue.completed``); the agent's leg stays up for the caller."""
        w.state = "transferring"
        self.media.unbridge(w.call.session)
        if w.agent_call is not None:
            self.media.unbridge(w.agent_call.session)
        self._stop_recording(w)
        if self.core is not None:
            self._run(self.core.call_ended(w.key, time.monotonic(), by=by))

    def blind_to_queue(self, call_id: str, queue: str) -> OutboundLeg:
        """Blind transfer: the caller waits in ``queue`` again (its language kept);
        returns the agent's leg, which the caller (the transfer adapter) hangs up."""
        w = self._talking(call_id)
        agent_leg = w.agent_call
        assert agent_leg is not None
        self._release(w)
        w.inbox.put_nowait(Requeue(queue))
        return agent_leg

    def blind_to_number(self, call_id: str, start: StartLeg, ring_s: float) -> OutboundLeg:
        """Blind transfer to a number: the caller hears music while ``start()``'s
        leg rings; answered, they talk; not answered, the caller waits in its
        queue again. Returns the agent's leg (see :meth:`blind_to_queue`)."""
        w = self._talking(call_id)
        agent_leg = w.agent_call
        assert agent_leg is not None
        self._release(w)
        w.state = "transfer-ringing"
        self._music(w)
        w.ringing = self._spawn(self._ring_number(w, start, ring_s), name="queue-transfer")
        return agent_leg

    def _requeue(self, w: Waiter, queue: str) -> None:
        if self.core is None:
            return
        w.queue, w.state, w.agent_call, w.agent, w.other = queue, "waiting", None, None, None
        language = w.languages[0] if len(w.languages) == 1 else None
        self._run(self.core.join(w.key, queue, language=language, now=time.monotonic()))
        self._music(w)

    async def _ring_number(self, w: Waiter, start: StartLeg, ring_s: float) -> None:
        answered = False
        try:
            w.other = await start()
            answered = await self.dialer.ring(w.other, ring_s)
        except asyncio.CancelledError:  # the caller left
            leg = w.other
            if leg is not None and not leg.ended.is_set():
                leg.cancel()
                await leg.hangup("ring_cancelled", Cause.CALLER)
            raise
        except (LookupError, SipParseError, MediaError) as exc:
            log.info("call %s: transfer number not reached: %s", w.key[:8], exc)
        w.ringing = None
        leg = w.other
        if not answered or leg is None:
            log.info("call %s: transfer not answered; back to queue %s", w.key[:8], w.queue)
            w.other = None
            w.inbox.put_nowait(Requeue(w.queue))
            return
        self._hand_over(w, leg)

    def _hand_over(self, w: Waiter, leg: OutboundLeg) -> None:
        """The caller talks to ``leg`` now (the hold loop waits for either to hang up)."""
        leg.limit_duration(self._max_call_s())
        w.state, w.other = "external", leg
        w.call.stop_playback()
        self.media.bridge(w.call.session, leg.session)
        w.inbox.put_nowait(HandOver(leg))

    async def _handed_over(self, w: Waiter, leg: OutboundLeg) -> None:
        await leg.ended.wait()
        w.state = "done"
        self.media.unbridge(w.call.session)
        await w.call.hangup("agent_hangup", leg.end_cause)

    async def consult(self, call_id: str, start: StartLeg, ring_s: float,
                      event: EventBase) -> bool:
        """Attended transfer: the caller is held (music) while ``start()``'s leg
        rings; answered, the agent talks to it (True; ``event`` is emitted when
        :meth:`complete` hands the caller over); not answered, the agent is
        back with the caller (False)."""
        w = self._talking(call_id)
        agent_leg = w.agent_call
        assert agent_leg is not None
        w.state, w.transferred = "held", event
        self.media.unbridge(w.call.session)
        self._music(w)
        answered = False
        try:
            w.other = await start()
            answered = await self.dialer.ring(w.other, ring_s)
        except (LookupError, SipParseError, MediaError) as exc:
            log.info("call %s: consultation not reached: %s", w.key[:8], exc)
        leg = w.other
        if w.state != "held" or leg is None or not answered:
            if leg is not None and answered and w.state != "held":
                await leg.hangup("caller_gone")
            if w.state == "held":
                self._back_to_caller(w)
            return False
        self.media.bridge(agent_leg.session, leg.session)
        self._spawn(self._consult_ends(w, leg), name="queue-consult")
        return True

    async def _consult_ends(self, w: Waiter, leg: OutboundLeg) -> None:
        await leg.ended.wait()
        if w.state == "held" and w.other is leg:  # the target hung up: back to the caller
            self._back_to_caller(w)

    def _back_to_caller(self, w: Waiter) -> None:
        w.other, w.transferred = None, None
        w.state = "bridged"
        if w.agent_call is not None and not w.agent_call.ended.is_set():
            w.call.stop_playback()
            self.media.bridge(w.call.session, w.agent_call.session)

    def complete(self, call_id: str) -> OutboundLeg:
        """Attended transfer done: the caller joins the consulted leg; returns the agent's leg."""
        w = self._waiters.get(call_id)
        if w is None:
            raise QueueError("no consultation to complete")
        leg, agent_leg = w.other, w.agent_call
        if w.state != "held" or leg is None or agent_leg is None:
            raise QueueError("no consultation to complete")
        self._release(w)
        self._hand_over(w, leg)
        if w.transferred is not None:
            self.events.emit(w.transferred)
        return agent_leg

    async def cancel_consult(self, call_id: str) -> None:
        """Attended transfer cancelled: the consulted leg hangs up; the agent has the caller."""
        w = self._waiters.get(call_id)
        leg = None if w is None else w.other
        if w is None or w.state != "held":
            raise QueueError("no consultation to cancel")
        self._back_to_caller(w)
        if leg is not None:
            leg.cancel()
            await leg.hangup("transfer_cancelled")

    def _agent_left_consulting(self, w: Waiter) -> bool:
        """The agent hung up while consulting: with the target on the line that
        completes the transfer (as on a PBX); True when it did."""
        leg = w.other
        if leg is None or leg.ended.is_set() or not leg.result.done() \
                or not leg.result.result():
            if leg is not None and not leg.ended.is_set():
                leg.cancel()
                self._spawn(leg.hangup("transfer_cancelled"))
            self._back_to_caller(w)  # then handled as the agent leaving
            return False
        self.complete(w.key)
        return True
