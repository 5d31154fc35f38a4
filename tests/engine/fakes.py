"""Fakes of the services' ports (bailanys.engine.ports): no sockets, no TTS, real asyncio.

A :class:`FakeLeg` plays each prompt for ``PLAY_S`` of loop time (or until
``stop_playback``), hands out keys the test pressed, and records what was
played and how it ended; :class:`FakeDialer` places :class:`FakeOutbound`
legs the test answers (``answer``) or lets ring, and rings them with the
real :func:`bailanys.engine.dialer.ring`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bailanys.engine.causes import Cause
from bailanys.engine.dialer import ring
from bailanys.events import AnyEvent, encode
from bailanys.media.player import EncodedAudio
from bailanys.store.events import Event

PLAY_S = 0.005  # how long a fake prompt lasts


async def wait_until(pred: Callable[[], object], within: float = 3.0) -> None:
    """Yield to the loop until ``pred()`` holds; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.002)


class FakeEvents:
    """An EventStore: appends kept in order; ``stored`` is what ``query`` finds."""

    def __init__(self, stored: Iterable[Event] = ()) -> None:
        self.appended: list[tuple[str, str | None, dict[str, Any]]] = []
        self.side_rows: list[Any] = []  # (sql, params) emitted with events
        self.stored = list(stored)
        self.listeners: list[Callable[[Event], None]] = []
        self.lag = 0.0

    def append(self, type: str, call_id: str | None = None, **fields: Any) -> Event:
        self.appended.append((type, call_id, fields))
        event = Event(len(self.appended), 0.0, type, call_id, fields)
        for listener in list(self.listeners):
            listener(event)
        return event

    def emit(self, event: AnyEvent, *, rows: Sequence[Any] = ()) -> Event:
        self.side_rows.extend(rows)
        type_, call_id, fields = encode(event)
        return self.append(type_, call_id, **fields)

    def emit_at(self, ts: float, event: AnyEvent) -> Event:
        return self.emit(event)

    def types(self) -> list[str]:
        return [t for t, _, _ in self.appended]

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [f for t, _, f in self.appended if t == type_]

    async def query(self, **filters: Any) -> list[Event]:
        return [e for e in self.stored if filters.get("type") in (None, e.type)]

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)


class FakePrompts:
    """A PromptBook whose audio remembers its text (``said``: audio -> text)."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str]] = []
        self._audio: dict[tuple[str, str], EncodedAudio] = {}
        self.said: dict[int, str] = {}

    def _make(self, key: tuple[str, str]) -> EncodedAudio:
        if key not in self._audio:
            audio = EncodedAudio.from_pcm(np.zeros(160, dtype=np.int16))
            self._audio[key] = audio
            self.said[id(audio)] = f"{key[0]}:{key[1]}"
        return self._audio[key]

    def text(self, lang: str, text: str) -> EncodedAudio:
        return self._make((lang, text))

    def prompt(self, prompt_id: str, lang: str) -> EncodedAudio:
        return self._make((lang, f"#{prompt_id}"))

    def file(self, path: str) -> EncodedAudio:
        return self._make(("file", path))

    def readback(self, lang: str, digits: str) -> EncodedAudio:
        return self._make((lang, f"readback {digits}"))

    def silence(self, ms: float) -> EncodedAudio:
        return self._make(("", f"silence {ms}"))

    async def add(self, items: Iterable[tuple[str, str]]) -> int:
        new = [i for i in items if i not in self.added]
        self.added += new
        return len(new)

    async def add_files(self, paths: Iterable[str]) -> int:
        return 0


class FakeMedia:
    """MediaLegs: what was bridged, recorded, closed (``log``)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    async def open_session(self) -> Any:
        return _session()

    def close_session(self, session: Any) -> None:
        self.log.append(("close", session))

    def record(self, session: Any, path: Path) -> Any:
        session.recorder = path
        self.log.append(("record", path))
        return path

    def stop_recording(self, session: Any) -> None:
        self.log.append(("stop_recording", session))

    def tap(self, session: Any, on_audio: Any) -> None:
        self.log.append(("tap", session))

    def untap(self, session: Any) -> None:
        self.log.append(("untap", session))

    def bridge(self, a: Any, b: Any) -> None:
        self.log.append(("bridge", (a, b)))

    def unbridge(self, session: Any) -> None:
        self.log.append(("unbridge", session))


def _session() -> Any:
    played: list[EncodedAudio] = []
    player = SimpleNamespace(played=played, play=lambda audio, interruptible=True:
                             played.append(audio))
    return SimpleNamespace(recorder=None, player=player)


class FakeLeg:
    """A CallLeg: prompts last PLAY_S; keys come from :meth:`press`; hang-ups are recorded."""

    def __init__(self, call_id: str = "caller-1", *, number: str = "1414",
                 peer_role: Cause = Cause.CALLER, silence_s: float = 3600.0) -> None:
        self.id = call_id
        self.number = number
        self.language: str | None = None
        self.secret_keys = False
        self.peer_role = peer_role
        self.end_cause: Cause | None = None
        self.session = _session()
        self.ended = asyncio.Event()
        self.played: list[EncodedAudio] = []
        self.hangups: list[tuple[str, Cause | None]] = []
        self.listening: Any = None
        self.limit: float | None = None
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._silence_s = silence_s  # a wait for a key ends (None) after this, at most
        self._stop = asyncio.Event()

    def press(self, keys: str) -> None:
        for key in keys:
            self._keys.put_nowait(key)

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool:
        self.played.append(audio)
        self._stop.clear()
        try:
            await asyncio.wait_for(self._stop.wait(), PLAY_S)
        except TimeoutError:
            return True
        return False

    def stop_playback(self) -> None:
        self._stop.set()

    def listen(self, on_audio: Any) -> None:
        self.listening = on_audio

    async def next_digit(self, wait_s: float) -> str | None:
        try:
            return await asyncio.wait_for(self._keys.get(), min(wait_s, self._silence_s))
        except TimeoutError:
            return None

    def pending_digit(self) -> str | None:
        return None if self._keys.empty() else "?"

    def set_language(self, lang: str) -> None:
        self.language = lang

    async def hangup(self, reason: str, cause: Cause | None = None) -> None:
        self.hangups.append((reason, cause))
        await self.end(reason, cause)

    async def end(self, reason: str, cause: Cause | None = None) -> None:
        if not self.ended.is_set():
            self.end_cause = cause or self.peer_role
            self.ended.set()

    def caller_uri(self) -> str:
        return "sip:87011234567@192.0.2.10"

    def callback_target(self) -> tuple[str, tuple[str, int], str]:
        return "sip:87011234567@192.0.2.10:5062", ("192.0.2.10", 5062), "UDP"

    def limit_duration(self, seconds: float) -> None:
        self.limit = seconds


class FakeOutbound(FakeLeg):
    """An OutboundLeg: ``answer()`` / ``refuse()`` decide ``result``; ``cancel`` is recorded."""

    def __init__(self, call_id: str, target: str) -> None:
        super().__init__(call_id, number="", peer_role=Cause.AGENT)
        self.target = target
        self.result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.cancelled = False

    def answer(self) -> None:
        self.result.set_result(True)

    def refuse(self) -> None:
        self.result.set_result(False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeDialer:
    """A Dialer over fake legs; ``registered_users`` are the phones that can be rung."""

    def __init__(self, registered_users: Iterable[str] = ()) -> None:
        self.registered_users = set(registered_users)
        self.legs: list[FakeOutbound] = []
        self.rings: list[tuple[str, float]] = []

    def registered(self, user: str) -> bool:
        return user in self.registered_users

    async def start_call_user(self, user: str) -> FakeOutbound:
        if user not in self.registered_users:
            raise LookupError(f"{user} is not registered")
        leg = FakeOutbound(f"agent-leg-{len(self.legs) + 1}", user)
        self.legs.append(leg)
        return leg

    async def start_call_back(self, contact: str, source: tuple[str, int],
                              transport: str) -> FakeOutbound:
        leg = FakeOutbound(f"callback-leg-{len(self.legs) + 1}", contact)
        self.legs.append(leg)
        return leg

    async def ring(self, leg: Any, timeout_s: float) -> bool:
        self.rings.append((leg.target, timeout_s))
        return await ring(leg, timeout_s)

    def leg_to(self, target: str) -> FakeOutbound | None:
        return next((leg for leg in self.legs if leg.target == target), None)


def mapping_of(fields: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: fields.get(k) for k in keys}
