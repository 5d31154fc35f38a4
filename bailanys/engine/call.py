"""A call: one SIP dialog joined to one RTP session, plus the flow that runs on it.

State table (one transition function, :meth:`Call._move`)::

    OFFERED   --answer()-->     ANSWERED (200 sent; retransmitted until ACK)
    OFFERED   --CANCEL-->       ENDED (487)
    ANSWERED  --ACK-->          CONFIRMED (the flow starts)
    ANSWERED  --no ACK 64*T1--> ENDED (BYE sent)
    CONFIRMED --BYE either way--> ENDED
    any       --shutdown-->     ENDED

The flow talks to the call through ``play``, ``next_digit``, ``hangup``
(the IVR's call protocol); the SIP transaction user drives the SIP side
through ``answered``/``on_ack``/``end``.  A call holds no engine: it takes
:class:`CallPorts` (the SIP sender, the media legs, the event sink, the task
owner, the call table's register/forget) and, for an inbound call, a
:class:`FlowRouter` that picks its flow when the ACK confirms it.  Every
task and timer a call starts is owned by it and cancelled in :meth:`end`.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from bailanys.engine.causes import Cause, of_reason
from bailanys.engine.ports import EventSink, MediaLegs, SipSender, TaskOwner
from bailanys.events import CallAnswered, CallEnded, CallLanguage, Dtmf
from bailanys.media.player import EncodedAudio
from bailanys.media.session import RtpSession
from bailanys.sip.dialog import Dialog
from bailanys.sip.headers import SipUri, split_hostport
from bailanys.sip.ids import new_uuid_hex
from bailanys.sip.loop_timers import LoopTimers
from bailanys.sip.message import Request, Response
from bailanys.sip.transaction import (
    Action,
    Invite2xxRetransmitter,
    Send,
    StartTimer,
    Terminated,
    Timeout,
)
from bailanys.sip.transport import Addr

if TYPE_CHECKING:
    from bailanys.ownership.moveheaders import MoveRequest

log = logging.getLogger(__name__)


class CallState(enum.Enum):
    OFFERED = "offered"
    ANSWERED = "answered"
    CONFIRMED = "confirmed"
    ENDED = "ended"


_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.OFFERED: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.CONFIRMED, CallState.ENDED}),
    CallState.CONFIRMED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}

FlowFactory = Callable[["Call"], Awaitable[None]]
MAX_DURATION = "max-duration"  # the timer of engine.max_call_seconds


class FlowRouter(Protocol):
    """Picks the flow a confirmed inbound call runs (by its dialled number)."""

    def flow_for(self, call: Call) -> FlowFactory | None: ...


@dataclass(frozen=True)
class CallPorts:
    """What a call leg uses of the engine, shared by every call of one engine."""

    sip: SipSender  # BYE, ACK, 2xx retransmissions, Via, timer values
    legs: MediaLegs  # tap/untap the caller's audio, close the RTP session
    events: EventSink
    tasks: TaskOwner  # hang-ups started from timers and callbacks
    register: Callable[[Call], None]  # an answered outbound leg joins the call table
    forget: Callable[[Call], None]  # an ended call leaves the call table
    #: Every call's timers (2xx retransmission, no ACK, longest call) on one
    #: loop timer (issue 20); one per CallPorts, i.e. per engine.
    timers: LoopTimers[Call] = field(default_factory=lambda: LoopTimers(_fire_call_timer))


class Call:
    """One call leg handled by the engine (inbound from a caller, or outbound to an agent)."""

    def __init__(
        self,
        ports: CallPorts,
        *,
        dialog: Dialog | None,
        session: RtpSession,
        peer: Addr,
        transport: str,
        direction: str = "inbound",
        router: FlowRouter | None = None,
    ) -> None:
        self.id = new_uuid_hex()  # uuid4's form, from the ids' pool (issue 20)
        self.ports = ports
        self.router = router
        self.dialog = dialog
        self.session = session
        self.peer = peer  # where the request came from (used when the target is a name)
        self.transport = transport
        self.direction = direction
        self.state = CallState.OFFERED
        self.language: str | None = None
        self.number = ""  # the dialled number (Request-URI user part) of an inbound call
        self.created = time.monotonic()
        self.answered_at: float | None = None
        #: Who stands at the other end: a BYE from there is their hang-up
        #: (an agent's leg is ``agent``; an inbound call or a callback, ``caller``).
        self.peer_role = Cause.CALLER if direction == "inbound" else Cause.AGENT
        #: Who ended the call (:mod:`~bailanys.engine.causes`) and the detail, once ended.
        self.end_cause: Cause | None = None
        self.end_reason: str | None = None
        self.sdp_version = 0
        self.local_sdp: bytes = b""
        #: A call moved here from its anchor (issue 22, ``engine/movedin.py``):
        #: its ``call.answered``/``call.ended`` are the anchor's to write.
        self.moved: MoveRequest | None = None
        self._digits: asyncio.Queue[str] = asyncio.Queue()
        #: True while the robot reads an IIN or a one-time code: keys are not logged.
        self.secret_keys = False
        self._flow: asyncio.Task[None] | None = None
        self._retransmitter: Invite2xxRetransmitter | None = None
        self.ended = asyncio.Event()
        session.on_dtmf = self.on_dtmf
        session.on_timeout = self._rtp_timeout

    def __repr__(self) -> str:
        return f"<Call {self.id[:8]} {self.direction} {self.state.value}>"

    # ------------------------------------------------------------ state

    def _move(self, new: CallState) -> bool:
        if new not in _TRANSITIONS[self.state]:
            return False
        log.debug("call %s: %s -> %s", self.id[:8], self.state.value, new.value)
        self.state = new
        return True

    # ------------------------------------------------------------ SIP side (the UAS)

    def answered(self, response: Response) -> None:
        """The 200 OK was sent: retransmit it until the ACK comes (§13.3.1.4)."""
        if not self._move(CallState.ANSWERED):
            return
        self.answered_at = time.monotonic()
        if self.moved is None:
            self.ports.events.emit(CallAnswered(call_id=self.id))
        self._retransmitter = Invite2xxRetransmitter(response, self.ports.sip.timers)
        self._run_2xx(self._retransmitter.start())

    def connected(self) -> None:
        """An outbound call was answered and ACKed (UAC side)."""
        if self._move(CallState.ANSWERED):
            self.answered_at = time.monotonic()
            self.ports.events.emit(CallAnswered(call_id=self.id))
        self._move(CallState.CONFIRMED)

    def retransmit_until_ack(self, response: Response) -> None:
        """Retransmit the 2xx of a re-INVITE until its ACK (§13.3.1.4)."""
        self._retransmitter = Invite2xxRetransmitter(response, self.ports.sip.timers)
        self._run_2xx(self._retransmitter.start())

    def pending_2xx(self, request: Request) -> Response | None:
        """The 2xx still awaiting its ACK when ``request`` repeats its INVITE.

        The repeated INVITE has a transaction of its own (the first ended
        with the 2xx, §17.2.1); the UAS answers it with this same 2xx.
        """
        retransmitter = self._retransmitter
        if retransmitter is None or request.cseq[0] != retransmitter.response.cseq[0]:
            return None
        return retransmitter.response

    def on_ack(self, ack: Request) -> None:
        if self._retransmitter is not None:
            self._run_2xx(self._retransmitter.ack())
            self._retransmitter = None
        if self._move(CallState.CONFIRMED):
            self.start_flow()

    def _run_2xx(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self.ports.sip.send_stateless(action.message, self.peer, self.transport)
            elif isinstance(action, StartTimer):
                self.ports.timers.start(self, action.name, action.delay)
            elif isinstance(action, Timeout):
                log.info("call %s: no ACK for the 200 OK", self.id[:8])
                self.ports.tasks.spawn(self.hangup("no_ack"))
            elif isinstance(action, Terminated):
                for name in ("2xx-retransmit", "2xx-no-ack"):
                    self.ports.timers.cancel(self, name)

    def timer_fired(self, name: str) -> None:
        """One of this call's timers (``ports.timers``) is due."""
        if name == MAX_DURATION:
            self._too_long()
        elif self._retransmitter is not None:  # 2xx-retransmit, 2xx-no-ack
            self._run_2xx(self._retransmitter.timer(name))

    def running_timers(self) -> frozenset[str]:
        """The names of this call's running timers."""
        return self.ports.timers.running(self)

    def limit_duration(self, seconds: float) -> None:
        self.ports.timers.start(self, MAX_DURATION, seconds)

    def _rtp_timeout(self) -> None:
        log.info("call %s: no RTP from the peer; hanging up", self.id[:8])
        # A moved call's media comes from its anchor: silence there is the
        # anchor engine gone (issue 22), not the caller's line.
        cause = Cause.ENGINE_FAILURE if self.moved is not None else None
        self.ports.tasks.spawn(self.hangup("rtp_timeout", cause))

    def _too_long(self) -> None:
        self.ports.tasks.spawn(self.hangup("max_duration"))

    # ------------------------------------------------------------ media side

    def on_dtmf(self, digit: str, source: str) -> None:
        if self.state is CallState.ENDED:
            return
        if self.secret_keys:  # an IIN or a one-time code: the key is not logged
            self.ports.events.emit(Dtmf(call_id=self.id, digit="", source=source, masked=True))
        else:
            self.ports.events.emit(Dtmf(call_id=self.id, digit=digit, source=source))
        self._digits.put_nowait(digit)

    # ------------------------------------------------------------ flow side (CallControl)

    def start_flow(self) -> None:
        factory = None if self.router is None else self.router.flow_for(self)
        if factory is None or self._flow is not None:
            return
        self._flow = asyncio.get_running_loop().create_task(
            self._run_flow(factory), name=f"flow-{self.id[:8]}"
        )

    async def _run_flow(self, factory: FlowFactory) -> None:
        try:
            await factory(self)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s: the flow failed", self.id[:8])
            await self.hangup("flow_error")

    async def interrupt(self) -> None:
        """Stop the flow (its task cancelled and awaited) and every prompt,
        leaving the call up: the engine speaks to the caller itself (the
        notice before a stop, requirements item 34)."""
        self.stop_playback()
        await self._cancel_flow()

    async def _cancel_flow(self) -> None:
        """Cancel the flow's task and wait for it (not when the flow itself asks)."""
        flow, self._flow = self._flow, None
        if flow is not None and flow is not asyncio.current_task():
            flow.cancel()
            try:
                await flow
            except asyncio.CancelledError:
                pass

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool:
        if self.state is CallState.ENDED:
            return False
        return await self.session.player.play(audio, interruptible=interruptible)

    def stop_playback(self) -> None:
        """Cut every prompt queued or playing (the IVR moved on)."""
        self.session.player.stop()

    def listen(self, on_audio: Callable[[NDArray[np.int16]], None] | None) -> None:
        """Hand the caller's audio (decoded 20 ms frames) to ``on_audio``; None stops."""
        if self.state is CallState.ENDED:
            return
        if on_audio is None:
            self.ports.legs.untap(self.session)
        else:
            self.ports.legs.tap(self.session, on_audio)

    async def next_digit(self, wait_s: float) -> str | None:
        try:
            return await asyncio.wait_for(self._digits.get(), wait_s)
        except TimeoutError:
            return None

    def caller_uri(self) -> str:
        """The caller's address (From URI of an inbound call), for a callback."""
        return "" if self.dialog is None else self.dialog.remote_uri

    def callback_target(self) -> tuple[str, Addr, str]:
        """(Contact URI, source address, transport) to call this caller back."""
        target = self.dialog.remote_target if self.dialog is not None else ""
        return target, self.peer, self.transport

    def send_dtmf(self, digits: str) -> None:
        """Press keys towards the peer (RFC 4733 when negotiated, else tones)."""
        self.session.send_dtmf(digits)

    def pending_digit(self) -> str | None:
        return None if self._digits.empty() else "?"

    def set_language(self, lang: str) -> None:
        self.language = lang
        self.ports.events.emit(CallLanguage(call_id=self.id, language=lang))

    async def hangup(self, reason: str, cause: Cause | None = None) -> None:
        """End the call from our side: BYE when a dialog is confirmed or answered.

        ``reason`` is the detail (a flow's hang-up cause, "no_ack"...);
        ``cause`` who ended it, by default :func:`~bailanys.engine.causes.of_reason`.
        """
        if self.state is CallState.ENDED:
            return
        if self.state in (CallState.ANSWERED, CallState.CONFIRMED) and self.dialog is not None:
            bye = self.dialog.create_request("BYE", via=self.ports.sip.via(self.transport))
            call_id = self.id[:8]

            def on_response(resp: Response | None) -> None:
                if resp is None:
                    log.info("call %s: BYE timed out", call_id)
                elif resp.status >= 300:
                    log.info("call %s: BYE answered %d", call_id, resp.status)

            self.ports.sip.send_request(
                bye, self.target_addr(), on_response, transport=self.transport
            )
        await self.end(reason, cause)

    def target_addr(self) -> Addr:
        """Where in-dialog requests go: the first route, else the remote target (§12.2.1.1).

        Host names are not resolved here (no DNS on the call path): a target
        that is not an IP literal falls back to the address the call came from.
        """
        if self.transport != "UDP" or self.dialog is None:
            return self.peer
        uri_text = self.dialog.remote_target
        if self.dialog.route_set:
            uri_text = self.dialog.route_set[0].strip().strip("<>").split(">")[0]
        try:
            uri = SipUri.parse(uri_text)
            host, _ = split_hostport(uri.host)
        except Exception:
            return self.peer
        if not _is_ip(host):
            return self.peer
        return host.strip("[]"), uri.port or 5060

    # ------------------------------------------------------------ the end

    async def end(self, reason: str, cause: Cause | None = None) -> None:
        """Release everything; idempotent.  Emits ``call.ended`` with ``cause``
        (who ended it, :mod:`~bailanys.engine.causes`; default from ``reason`` and
        :attr:`peer_role`) and ``reason`` (the detail)."""
        if not self._move(CallState.ENDED):
            return
        if cause is None:
            cause = of_reason(reason, self.peer_role)
        self.end_cause, self.end_reason = cause, reason
        self.ports.timers.cancel_all(self)
        self._retransmitter = None
        duration = 0.0 if self.answered_at is None else time.monotonic() - self.answered_at
        if self.moved is None:
            self._emit_ended(cause, reason, duration)
        self.ports.forget(self)
        self.ports.legs.close_session(self.session)
        self.session.on_dtmf = None  # break the call <-> session cycles early
        self.session.on_timeout = None
        self.ended.set()
        await self._cancel_flow()
        log.info("call %s ended: %s (%s) after %.1f s", self.id[:8], cause.value, reason,
                 duration)

    def _emit_ended(self, cause: Cause, reason: str, duration: float) -> None:
        self.ports.events.emit(CallEnded(
            call_id=self.id,
            cause=cause.value,
            reason=reason,
            duration=round(duration, 3),
            quality=self.session.quality(),
        ))


def _fire_call_timer(call: Call, name: str) -> None:
    call.timer_fired(name)


def _is_ip(host: str) -> bool:
    """An IPv4 or IPv6 literal (a Contact's host comes from the network: never int() it)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
