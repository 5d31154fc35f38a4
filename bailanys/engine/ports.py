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
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bailanys.events import EventBase
from bailanys.media.player import EncodedAudio
from bailanys.media.recorder import Recorder
from bailanys.media.session import RtpSession
from bailanys.sip.message import Request, Response
from bailanys.sip.timers import Timers
from bailanys.sip.transport import Addr, Source
from bailanys.store.events import Event

AudioTap = Callable[[NDArray[np.int16]], None]


class EventSink(Protocol):
    """Where events go: the store's :class:`~bailanys.store.events.EventLog`.

    Events are the typed classes of :mod:`bailanys.events` (docs/events.md);
    ``emit_at`` dates one in the past (the start-up reconciliation).
    """

    def emit(self, event: EventBase) -> Event: ...

    def emit_at(self, ts: float, event: EventBase) -> Event: ...

    def append(self, type: str, call_id: str | None = None, **fields: Any) -> Event: ...


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
