"""The anchor's side of a call moved to its queue's owner (issue 22,
docs/architecture.md "Moving a call to the owner").

:class:`SipMover` is the real :class:`~bailanys.engine.ownedqueues.CallMover`.
The engine that answered the call (the anchor) places a second leg, an
INVITE to ``sip:<queue>@<owner>`` sent to Kamailio (which relays it to the
owner and record-routes), carrying the ``X-Bailanys-*`` headers of
:mod:`bailanys.ownership.moveheaders`: the call id of the events, the queue,
the seconds already waited, the language, the skills. Once the owner
answers, the anchor bridges the caller's RTP to that leg in its media hub
(a B2BUA leg, not the re-INVITE of RFC 3725: see the architecture doc for
why) until one side ends:

* the caller hangs up: the owner's leg is sent a BYE (cause ``caller``), so
  the owner writes the caller's abandon or the end of the conversation;
* the owner ends its leg (the agent's conversation and survey are over, or
  the queue let the caller go): the caller is hung up with the owner's cause;
* the owner's leg dies without a BYE (no RTP for ``[media] rtp_timeout_s``:
  the owner was killed): the caller is unbridged, still here, and
  :meth:`SipMover.move` answers False, so the caller hears music and is
  moved again to whoever holds the lease now, with its wait so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bailanys.engine.causes import Cause
from bailanys.engine.dialer import ring
from bailanys.engine.ports import CallLeg, MediaLegs
from bailanys.engine.registrar import Binding
from bailanys.engine.uac import OutboundCall
from bailanys.errors import MediaError, SipParseError
from bailanys.ivr.runner import EnterQueue
from bailanys.ownership.moveheaders import MoveRequest
from bailanys.ownership.route import Move
from bailanys.sip.transport import Addr

log = logging.getLogger(__name__)

#: How long the owner has to answer a move: it answers at once (no ringing).
DEFAULT_ANSWER_S = 5.0
#: The reason of an owner's leg that carried no RTP any more (``engine/call.py``).
DEAD_LEG = "rtp_timeout"


class StartLeg(Protocol):
    """Places the INVITE (``engine/uac.py`` ``start_call`` with the headers)."""

    async def __call__(self, binding: Binding,
                       headers: Sequence[tuple[str, str]] = ()) -> OutboundCall: ...


class SipMover:
    """See the module docs. ``start``: places a leg (``uac.start_call``
    bound to the engine's ports); ``proxy``: Kamailio's address."""

    def __init__(self, *, start: StartLeg, media: MediaLegs, proxy: Addr,
                 answer_s: float = DEFAULT_ANSWER_S) -> None:
        self._start = start
        self._media = media
        self._proxy = proxy
        self._answer_s = answer_s

    async def move(self, call: CallLeg, action: EnterQueue, to: Move, waited: float) -> bool:
        language = action.language or call.language
        request = MoveRequest(
            call.id, action.queue, waited,
            language=language if language in ("kk", "ru") else None,
            skills=tuple(s for s in action.skills if s != language))
        binding = Binding(action.queue, f"sip:{action.queue}@{to.uri}", 0.0, self._proxy,
                          "UDP", "")
        try:
            leg = await self._start(binding, request.headers())
        except (MediaError, SipParseError) as exc:  # no RTP port free, a bad address
            log.warning("call %s: no leg to the owner %s: %s", call.id[:8], to.uri, exc)
            return False
        try:
            if not await ring(leg, self._answer_s):
                log.info("call %s: the owner %s did not take it (%s)", call.id[:8], to.uri,
                         leg.final_status)
                return False
            if call.ended.is_set():
                await leg.hangup("caller_gone", Cause.CALLER)
                return True
            return await self._bridged(call, leg)
        except asyncio.CancelledError:
            if not leg.ended.is_set():
                leg.cancel()
                await leg.hangup("caller_gone", Cause.CALLER)
            raise

    async def _bridged(self, call: CallLeg, leg: OutboundCall) -> bool:
        """Caller <-> owner until one ends; False when the owner's leg died."""
        call.stop_playback()
        self._media.bridge(call.session, leg.session)
        either = [asyncio.ensure_future(call.ended.wait()), asyncio.ensure_future(leg.ended.wait())]
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in either:
                waiter.cancel()
            await asyncio.gather(*either, return_exceptions=True)
        if call.ended.is_set():
            await leg.hangup("caller_gone", call.end_cause or Cause.CALLER)
            return True
        self._media.unbridge(call.session)
        if leg.end_reason == DEAD_LEG:
            log.warning("call %s: the owner's leg died; moving it again", call.id[:8])
            return False
        await call.hangup(leg.end_reason or "owner_ended", leg.end_cause)
        return True
