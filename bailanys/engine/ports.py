"""The small ports the engine's adapters take instead of the whole engine.

Each adapter in :mod:`bailanys.engine` (the flow, queue and robot services,
the console adapter, a :class:`~bailanys.engine.call.Call`) names only what
it uses, as one of these :class:`typing.Protocol` types; the wiring module
builds the real ones from the config and hands them over, and unit tests
hand over fakes.  Nothing here imports an adapter: this module sits below
all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bailanys.engine.causes import Cause
from bailanys.events import AnyEvent
from bailanys.ivr.actions import EnterQueue, HandedBack, StartRobot
from bailanys.media.player import EncodedAudio
from bailanys.media.recorder import Recorder
from bailanys.media.session import RtpSession
from bailanys.queuestate import QueueState
from bailanys.sip.message import Request, Response
from bailanys.sip.timers import Timers
from bailanys.sip.transport import Addr, Source
from bailanys.store.events import Event, SideRow

AudioTap = Callable[[NDArray[np.int16]], None]


class EventSink(Protocol):
    """Where events go: the store's :class:`~bailanys.store.events.EventLog`.

    Events are the typed classes of :mod:`bailanys.events` (docs/events.md);
    ``emit_at`` dates one in the past (the start-up reconciliation).
    ``rows``: side rows written in the event's transaction (the robot's
    kept questions, :mod:`bailanys.robot.gaps`).
    """

    def emit(self, event: AnyEvent, *, rows: Sequence[SideRow] = ()) -> Event: ...

    def emit_at(self, ts: float, event: AnyEvent) -> Event: ...


class TaskOwner(Protocol):
    """Runs a coroutine as a task someone owns and cancels on stop."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...


class Clock(Protocol):
    """Wall-clock seconds since the epoch (``time.time``)."""

    def __call__(self) -> float: ...


class PromptBook(Protocol):
    """The pre-rendered prompts (:class:`~bailanys.engine.prompts.PromptLibrary`)."""

    def text(self, lang: str, text: str) -> EncodedAudio: ...

    def prompt(self, prompt_id: str, lang: str) -> EncodedAudio: ...

    def file(self, path: str) -> EncodedAudio: ...

    def readback(self, lang: str, digits: str) -> EncodedAudio: ...

    def silence(self, ms: float) -> EncodedAudio: ...

    async def add(self, items: Iterable[tuple[str, str]]) -> int: ...

    async def add_files(self, paths: Iterable[str]) -> int: ...


class RecordingWatch(Protocol):
    """Announces finished recordings with their transcription jobs
    (:class:`~bailanys.engine.recordings.RecordingJobs`, issue 15)."""

    def watch(self, recorder: Recorder, call_id: str, language: Callable[[], str | None],
              *, agent: bool, provisional: bool = False,
              ended: asyncio.Event | None = None) -> None: ...

    def provisional(self, recorder: Recorder) -> bool: ...

    def discard(self, recorder: Recorder) -> None: ...


class MediaLegs(Protocol):
    """RTP sessions: open, close, record, tap, bridge (:class:`~bailanys.media.hub.MediaHub`)."""

    async def open_session(self) -> RtpSession: ...

    def close_session(self, session: RtpSession) -> None: ...

    def record(self, session: RtpSession, path: Path) -> Recorder: ...

    def stop_recording(self, session: RtpSession) -> None: ...

    def tap(self, session: RtpSession, on_audio: AudioTap) -> None: ...

    def untap(self, session: RtpSession) -> None: ...

    def bridge(self, a: RtpSession, b: RtpSession) -> None: ...

    def unbridge(self, session: RtpSession) -> None: ...


# --- core ports


class SipSender(Protocol):
    """The SIP endpoint as a call leg uses it (:class:`~bailanys.sip.endpoint.Endpoint`).

    Requests in client transactions (BYE, INVITE, CANCEL: RFC 3261 §17.1),
    stateless sends (the ACK of a 2xx and the 2xx retransmissions, §13.2.2.4,
    §13.3.1.4), a fresh Via for each request we originate (§8.1.1.7), the
    port we listen on (for Contact) and the timer values (T1, T2).
    """

    @property
    def port(self) -> int: ...

    @property
    def timers(self) -> Timers | None: ...

    def send_request(
        self,
        request: Request,
        dest: Addr,
        callback: Callable[[Response | None], None],
        *,
        transport: str = "UDP",
    ) -> object: ...

    def send_stateless(self, message: Request | Response, dest: Addr, transport: str) -> None: ...

    def via(self, transport: str = "UDP") -> str: ...


class RegisterHandler(Protocol):
    """Answers a REGISTER (RFC 3261 §10.3): :class:`~bailanys.engine.registrar.Registrar`."""

    def handle(self, request: Request, source: Source, now: float) -> Response: ...


# --- services ports


class CallLeg(Protocol):
    """What the services (flows, queues, robot) use of one call leg.

    :class:`~bailanys.engine.call.Call` provides it; it is a superset of
    :class:`~bailanys.ivr.session.IvrCall`, so a leg can run an IVR session.
    """

    id: str
    number: str  # the dialled number of an inbound call ("" otherwise)
    language: str | None
    secret_keys: bool  # keys are not logged while True (an IIN, a code)
    peer_role: Cause  # who is at the other end (a caller, an agent)
    end_cause: Cause | None
    session: RtpSession
    ended: asyncio.Event

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool: ...

    def stop_playback(self) -> None: ...

    def listen(self, on_audio: AudioTap | None) -> None: ...

    async def next_digit(self, wait_s: float) -> str | None: ...

    def pending_digit(self) -> str | None: ...

    def set_language(self, lang: str) -> None: ...

    async def hangup(self, reason: str, cause: Cause | None = None) -> None: ...

    async def end(self, reason: str, cause: Cause | None = None) -> None: ...

    def caller_uri(self) -> str: ...

    def callback_target(self) -> tuple[str, tuple[str, int], str]: ...

    def limit_duration(self, seconds: float) -> None: ...


class OutboundLeg(CallLeg, Protocol):
    """A leg the engine placed (:class:`~bailanys.engine.uac.OutboundCall`)."""

    result: asyncio.Future[bool]  # True once answered, False when refused or failed

    def cancel(self) -> None: ...


class Dialer(Protocol):
    """Places calls: registrar lookup + UAC + ring-with-timeout, written once.

    ``start_call_user`` raises :class:`LookupError` for a user not
    registered; ``start_call_back`` calls a caller's contact back (a queue
    callback). ``ring`` waits for the answer: True when answered within
    ``timeout_s``, else the INVITE is CANCELled (RFC 3261 §9.1), the leg
    ended with "no_answer", and False.
    """

    async def start_call_user(self, user: str) -> OutboundLeg: ...

    async def start_call_back(
        self, contact: str, source: tuple[str, int], transport: str
    ) -> OutboundLeg: ...

    async def ring(self, leg: OutboundLeg, timeout_s: float) -> bool: ...

    def registered(self, user: str) -> bool: ...


class QueueEntry(Protocol):
    """Where a flow's ``queue`` node hands its call (the queue service)."""

    async def enter_queue(self, call: CallLeg, action: EnterQueue) -> bool: ...

    def queue_state(self, name: str) -> QueueState | None: ...


class RobotEntry(Protocol):
    """Where a flow's ``robot`` node hands its call (the robot service)."""

    async def run(self, call: CallLeg, action: StartRobot) -> bool | HandedBack: ...


class EventStore(EventSink, Protocol):
    """The event log as the console reads it: query, live subscription, writer lag."""

    @property
    def lag(self) -> float: ...

    async def query(
        self, *, call_id: str | None = None, type: str | None = None,
        since: float | None = None, until: float | None = None, limit: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[Event]: ...

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...
