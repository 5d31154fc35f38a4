"""The engine's side of the queues: holding callers, ringing agents, bridging.

:class:`QueueService` owns the pure :class:`~bailanys.queue.core.QueueCore`
and executes its decisions ("queue never speaks SIP: it decides, the
engine bridges", ARCHITECTURE.md):

* a caller handed over by a flow's ``queue`` node waits in
  :meth:`QueueService.enter_queue`, which runs inside the call's flow task
  (so the call's end cancels it: an abandon): music on hold, announcements
  (position, expected wait, "the call is free", the callback offer), the
  callback key;
* ``Ring`` places a call to the agent's registered phone (UAC) and owns the
  ring: the caller hanging up cancels it (CANCEL); on answer the two legs
  are bridged in the media hub and recorded (caller left, agent right)
  until the bridge ends: the recording holds the conversation only;
* the agent hanging up sends the caller to the satisfaction survey when the
  queue asks for one; the caller hanging up hangs up the agent's leg;
* agents log in when their phone registers and out when it unregisters;
  the console's API (login, logout, pause, unpause, disposition) calls the
  methods of the same names.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bailanys.configcheck import missing_queue_file
from bailanys.engine.call import Call
from bailanys.engine.causes import Cause
from bailanys.engine.registrar import Binding
from bailanys.errors import ConfigError, MediaError, SipParseError, StoreError
from bailanys.events import EventBase
from bailanys.ivr.model import Flow, Hangup, Prompt, Retry, Survey, SurveyQuestion
from bailanys.ivr.runner import EnterQueue, StartRobot, TransferCall
from bailanys.ivr.session import IvrCall, IvrSession
from bailanys.media.player import EncodedAudio
from bailanys.queue.agents import QueueError
from bailanys.queue.core import (
    Announce,
    CallBack,
    CancelRing,
    Connected,
    Emit,
    Overflow,
    QueueCore,
    Ring,
)
from bailanys.queue.estimator import Calendar, WaitEstimator
from bailanys.queue.logins import DAYS as LOGIN_DAYS
from bailanys.queue.settings import QueueConfig, load_queue_config
from bailanys.queuestate import QueueState
from bailanys.timezone import ALMATY
from bailanys.voice.moh import music_on_hold
from bailanys.voice.phrases import waiting
from bailanys.voice.phrases.queue import (
    expected_wait_announcement,
    free_call_announcement,
    position_announcement,
)

if TYPE_CHECKING:
    from bailanys.engine.core import Engine
    from bailanys.engine.uac import OutboundCall
    from bailanys.store.events import EventLog

log = logging.getLogger(__name__)


def wall_calendar(tz: tzinfo) -> Calendar:
    """The queue core's ``now`` (``time.monotonic()``) as (local day number,
    seconds since local midnight) in ``tz``: when agents usually log in."""

    def at(now: float) -> tuple[int, float]:
        return local_day_time(time.time() - (time.monotonic() - now), tz)

    return at


def local_day_time(ts: float, tz: tzinfo) -> tuple[int, float]:
    """Epoch ``ts`` as (local day number, seconds since local midnight) in ``tz``."""
    local = datetime.fromtimestamp(ts, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.toordinal(), (local - midnight).total_seconds()


async def replay_logins(
    events: EventLog, estimator: WaitEstimator, tz: tzinfo, now_ts: float
) -> int:
    """Agents' logins of the last :data:`~bailanys.queue.logins.DAYS` days from
    the event log into ``estimator``, oldest first: a restart does not make
    the shift that starts at 13:00 a surprise again.  Returns how many."""
    found = await events.query(
        type="agent.state", since=now_ts - (LOGIN_DAYS + 1) * 86_400.0,
        fields={"state": "available", "previous": "logged_out"},
    )
    habits = estimator.logins
    for event in found:
        user = event.data.get("agent")
        if isinstance(user, str) and user:
            habits.record(user, *local_day_time(event.ts, tz))
    return len(found)


SURVEY_TIMEOUT_S = 8.0
CALLBACK_RING_S = 30.0  # how long a called-back caller's phone rings


@dataclass(eq=False)
class _Waiter:
    """One caller held by the queue service (``key``: the caller's id in the queue)."""

    key: str
    call: Call
    queue: str
    languages: tuple[str, ...]
    inbox: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    state: str = "waiting"  # waiting -> ringing-agent -> bridged -> done
    agent_call: OutboundCall | None = None
    agent: str | None = None
    recorded: bool = False  # the queue records this bridge (stopped when it ends)
    callback_offered: bool = False
    #: Who ended the agent's leg, when it ended first (the caller's leg then ends with it).
    agent_cause: Cause | None = None


class QueueService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.core: QueueCore | None = None
        self.config: QueueConfig | None = None
        self._waiters: dict[str, _Waiter] = {}
        self._rings: dict[str, asyncio.Task[None]] = {}  # by caller call id
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._moh: EncodedAudio | None = None
        self._callbacks: dict[str, _CallbackTarget] = {}

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        cfg = self.engine.config.queue
        if not cfg.file:
            log.info("no queues (queue.file is empty): queue nodes take their fallback")
            return
        missing = await asyncio.to_thread(missing_queue_file, self.engine.config)
        if missing is not None:  # not a contact centre with no operators (issue 13 item 4)
            raise missing
        path = Path(cfg.file)
        try:
            self.config = await asyncio.to_thread(load_queue_config, path)
        except ConfigError:
            raise
        estimator = WaitEstimator(calendar=wall_calendar(ALMATY))
        try:
            count = await replay_logins(self.engine.events, estimator, ALMATY, time.time())
            log.info("wait estimator: %d agent logins of the last days replayed", count)
        except StoreError as exc:  # the estimate then learns from today on
            log.warning("wait estimator: stored logins not replayed: %s", exc)
        self.core = QueueCore(self.config, estimator, time.monotonic())
        self._moh = EncodedAudio.from_pcm(music_on_hold())
        texts = [(lang, waiting.text(t, lang)) for t in waiting.ALL
                 for lang in self.engine.config.engine.languages]
        await self.engine.prompts.add(texts)
        registrar = self.engine.registrar
        if registrar is not None:  # phones registered before a restart are still there
            for user in self.config.agents:
                if registrar.lookup(user, time.time()):
                    self.registration_changed(user, True)
        self._resume_breaks()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop(), name="queues")
        log.info("queues: %s; agents: %s", ", ".join(self.config.queues),
                 ", ".join(self.config.agents) or "none")

    def _resume_breaks(self) -> None:
        """Agents logged in again whose break a crash or a stop interrupted
        (``Engine.recovered``) go back on it, with its reason and start."""
        core = self.core
        if core is None or self.config is None:
            return
        mono, wall = time.monotonic(), time.time()
        for user, brk in self.engine.recovered.breaks.items():
            if user in self.config.agents:
                since = mono - max(0.0, wall - brk.since)
                actions = core.resume_break(user, brk.reason, since, mono)
                if actions:
                    log.info("agent %s: back on the break %r of before the restart", user,
                             brk.reason)
                self._run(actions)

    async def stop(self) -> None:
        ticker, self._ticker = self._ticker, None
        tasks = [t for t in (ticker, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def drain(self) -> None:
        """The engine stops: no caller is offered to an agent any more; every
        caller not talking to one leaves the queue with cause engine_shutdown
        (``queue.abandoned``; issue 13 contract 2: not a lost call) and the
        agents' phones stop ringing. The engine then tells them and hangs up."""
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            self._tasks.add(ticker)  # awaited in stop()
        if self.core is None:
            return
        for w in self._waiters.values():
            if w.state == "waiting":
                w.state = "done"
        self._run(self.core.drop_all(time.monotonic(), Cause.ENGINE_SHUTDOWN.value))

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str = "queue") -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _tick_loop(self) -> None:
        interval = self.engine.config.queue.tick_ms / 1000.0
        while True:
            await asyncio.sleep(interval)
            if self.core is not None:
                self._run(self.core.tick(time.monotonic()))

    # ------------------------------------------------------------ queries and the console API

    def queue_state(self, name: str) -> QueueState | None:
        if self.core is None or self.config is None or name not in self.config.queues:
            return None
        return self.core.queue_state(name)

    def login(self, user: str) -> None:
        if self.core is not None:
            self._run(self.core.login(user, time.monotonic()))

    def logout(self, user: str) -> None:
        if self.core is not None:
            self._run(self.core.logout(user, time.monotonic()))

    def pause(self, user: str, reason: str) -> None:
        if self.core is not None:
            self._run(self.core.pause(user, reason, time.monotonic()))

    def unpause(self, user: str) -> None:
        if self.core is not None:
            self._run(self.core.unpause(user, time.monotonic()))

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None) -> None:
        if self.core is not None:
            self._run(self.core.disposition(call_id, agent, resolved, topic, time.monotonic()))

    def registration_changed(self, user: str, registered: bool) -> None:
        """A phone (un)registered: its agent logs in or out (if it is an agent)."""
        if self.core is None or self.config is None or user not in self.config.agents:
            return
        try:
            if registered:
                self.login(user)
            else:
                self.logout(user)
        except Exception as exc:  # a state that does not allow it (e.g. on a call)
            log.info("agent %s: %s ignored: %s", user,
                     "login" if registered else "logout", exc)

    # ------------------------------------------------------------ hand-overs from flows

    async def enter_queue(self, call: IvrCall, action: EnterQueue) -> bool:
        core = self.core
        if core is None or self.config is None or action.queue not in self.config.queues:
            return False
        if not isinstance(call, Call):
            return False
        real = call
        langs = (action.language,) if action.language else tuple(
            self.engine.config.engine.languages)
        w = _Waiter(call.id, real, action.queue, langs)
        self._waiters[call.id] = w
        skills = tuple(s for s in action.skills if s != action.language)
        try:
            self._run(core.join(call.id, action.queue, skills=skills, language=action.language,
                                now=time.monotonic()))
            await self._hold(w, action.prompt)
            return True
        except asyncio.CancelledError:
            self._caller_gone(w)
            raise
        finally:
            self._waiters.pop(call.id, None)

    async def start_robot(self, call: IvrCall, action: StartRobot) -> bool:
        return False  # the voice robot comes with its own issue

    async def transfer(self, call: IvrCall, action: TransferCall) -> bool:
        return False

    # ------------------------------------------------------------ holding a caller

    async def _hold(self, w: _Waiter, prompt: Prompt | None = None) -> None:
        call = w.call
        pump = self._spawn(self._pump_digits(w), name="queue-keys")
        try:
            await self._node_prompt(w, prompt)
            self._music(w)
            while True:
                msg = await w.inbox.get()
                if isinstance(msg, Announce):
                    await self._announce(w, msg)
                elif isinstance(msg, str) and msg.startswith("key:"):
                    if await self._key(w, msg[4:]):
                        return
                elif isinstance(msg, Connected):
                    w.state = "bridged"
                    call.stop_playback()
                elif msg == "agent_left":
                    pump.cancel()  # the survey reads the keys now
                    await self._after_agent(w)
                    return
                elif isinstance(msg, Overflow):
                    if await self._overflow(w, msg):
                        return
        finally:
            pump.cancel()

    async def _node_prompt(self, w: _Waiter, prompt: Prompt | None) -> None:
        """The queue node's own prompt, said after the join (an answer cuts it)."""
        if prompt is None:
            return
        for lang in w.languages:
            if w.state != "waiting" or lang not in prompt.languages():
                continue
            await w.call.play(self.engine.ivr.audio_for(prompt, lang), interruptible=False)

    async def _pump_digits(self, w: _Waiter) -> None:
        while True:
            key = await w.call.next_digit(3600.0)
            if key is not None:
                w.inbox.put_nowait(f"key:{key}")

    def _music(self, w: _Waiter) -> None:
        """Music on hold, looped until the next announcement or the bridge."""
        if self._moh is None or w.state != "waiting":
            return
        moh = self._moh

        async def loop() -> None:
            while w.state == "waiting":
                if not await w.call.play(moh, interruptible=False):
                    return

        self._spawn(loop(), name="queue-moh")

    async def _announce(self, w: _Waiter, msg: Announce) -> None:
        if w.state != "waiting":
            return
        texts: list[tuple[str, str]] = []
        for lang in w.languages:
            texts.append((lang, position_announcement(lang, msg.position)))
            wait = expected_wait_announcement(lang, msg.estimate_s, msg.limit_s, msg.at_limit)
            if wait is not None:
                texts.append((lang, wait))
            texts.append((lang, free_call_announcement(lang)))
            if msg.callback_offered:
                texts.append((lang, waiting.text(waiting.CALLBACK_OFFER, lang)))
        w.callback_offered = w.callback_offered or msg.callback_offered
        await self.engine.prompts.add(texts)  # rendered once, then cached
        if w.state != "waiting":
            return
        w.call.stop_playback()
        for lang, text in texts:
            w.call.session.player.play(self.engine.prompts.text(lang, text), interruptible=True)
        self._music(w)

    async def _key(self, w: _Waiter, key: str) -> bool:
        """A key while waiting; True when the caller leaves the line (callback)."""
        settings = self.config.queues[w.queue] if self.config else None
        if (w.state != "waiting" or settings is None or not w.callback_offered
                or key != settings.callback_key or self.core is None):
            return False
        number = w.call.caller_uri() or "unknown"
        try:
            actions = self.core.request_callback(w.key, number, time.monotonic())
        except QueueError as exc:  # e.g. an agent is being rung for this caller
            log.info("call %s: callback not taken: %s", w.key[:8], exc)
            return False
        target, source, transport = w.call.callback_target()
        self._callbacks[w.key] = _CallbackTarget(target, source, transport, w.languages,
                                                 w.queue)
        self._run(actions)
        w.state = "callback"
        await self._say_and_hang_up(w, waiting.CALLBACK_CONFIRMED, "callback_requested")
        return True

    async def _say_and_hang_up(self, w: _Waiter, table: Mapping[str, str], cause: str) -> None:
        """A last sentence in the caller's language(s), then BYE."""
        w.call.stop_playback()
        for lang in w.languages:
            await w.call.play(self.engine.prompts.text(lang, waiting.text(table, lang)),
                              interruptible=False)
        await w.call.hangup(cause)

    async def _overflow(self, w: _Waiter, msg: Overflow) -> bool:
        if msg.target is not None and self.core is not None:
            w.queue = msg.target
            return False  # the core moved the caller; keep holding
        w.state = "done"
        await self._say_and_hang_up(w, waiting.QUEUE_TIMEOUT, "queue_timeout")
        return True

    async def _after_agent(self, w: _Waiter) -> None:
        """The agent hung up: the survey if the queue asks for one, then goodbye."""
        settings = self.config.queues[w.queue] if self.config else None
        w.state = "done"
        if settings is not None and settings.survey:
            flow = _survey_flow(w.languages)
            session = IvrSession(
                w.call, flow, audio_for=self._audio_for, emit=self._emit,
                language=w.languages[0] if len(w.languages) == 1 else None,
            )
            await session.run()
            return
        await w.call.hangup("agent_hangup", w.agent_cause)

    def _audio_for(self, prompt: Prompt, lang: str) -> EncodedAudio:
        return self.engine.prompts.text(lang, prompt.texts[lang])

    def _emit(self, event: EventBase) -> None:
        self.engine.events.emit(event)

    def _caller_gone(self, w: _Waiter) -> None:
        """The caller's leg ended (hang-up) while held or bridged."""
        core = self.core
        if core is None:
            return
        now = time.monotonic()
        cause = self._end_cause(w.call)
        if w.state == "waiting":
            self._run(core.abandon(w.key, now, cause.value))
        elif w.state == "bridged":
            w.state = "done"
            self._run(core.call_ended(w.key, now, by="caller"))
            self._stop_recording(w)
            agent_call = w.agent_call
            if agent_call is not None:
                self.engine.hub.unbridge(agent_call.session)
                self._spawn(agent_call.hangup("caller_hangup", cause))

    def _end_cause(self, call: Call) -> Cause:
        """Who ended ``call`` (issue 13 contract 2): its own end cause; a leg
        still up whose task was cancelled is the engine stopping (or failing)."""
        if call.end_cause is not None:
            return call.end_cause
        return Cause.ENGINE_SHUTDOWN if self.engine.stopping else Cause.ERROR

    def _stop_recording(self, w: _Waiter) -> None:
        """The bridge ended: the queue's recording ends with it (not the survey)."""
        if w.recorded:
            w.recorded = False
            self.engine.hub.stop_recording(w.call.session)

    # ------------------------------------------------------------ the core's decisions

    def _run(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Emit):
                self.engine.events.emit(action.event)
            elif isinstance(action, Ring):
                task = self._spawn(self._ring(action), name="queue-ring")
                self._rings[action.call_id] = task
            elif isinstance(action, CancelRing):
                ring = self._rings.pop(action.call_id, None)
                if ring is not None:
                    ring.cancel()
            elif isinstance(action, Announce | Connected | Overflow):
                w = self._waiters.get(action.call_id)
                if w is not None:
                    w.inbox.put_nowait(action)
            elif isinstance(action, CallBack):
                self._spawn(self._call_back(action), name="queue-callback")

    async def _ring(self, action: Ring) -> None:
        core = self.core
        assert core is not None
        w = self._waiters.get(action.call_id)
        out: OutboundCall | None = None
        try:
            try:
                out = await self.engine.start_call_user(action.agent)
            except (LookupError, Exception) as exc:  # not registered, bad contact
                log.info("agent %s cannot be rung: %s", action.agent, exc)
                self._rings.pop(action.call_id, None)
                self._run(core.ring_failed(action.call_id, time.monotonic()))
                return
            try:
                answered = await asyncio.wait_for(asyncio.shield(out.result), action.timeout_s)
            except TimeoutError:
                answered = False
                out.cancel()
                await out.end("no_answer")
            self._rings.pop(action.call_id, None)
            w = self._waiters.get(action.call_id)
            if not answered or w is None or w.call.ended.is_set():
                if answered:
                    await out.hangup("caller_gone")
                    return
                self._run(core.ring_failed(action.call_id, time.monotonic()))
                return
            await self._bridge(w, out, action.agent)
        except asyncio.CancelledError:  # the caller left, or the engine stops
            if out is not None and not out.ended.is_set():
                out.cancel()
                cause = self._end_cause(w.call) if w is not None else Cause.CALLER
                if self.engine.stopping:
                    cause = Cause.ENGINE_SHUTDOWN
                await out.hangup("ring_cancelled", cause)
            raise

    async def _bridge(self, w: _Waiter, out: OutboundCall, agent: str) -> None:
        core = self.core
        assert core is not None
        w.agent_call = out
        w.agent = agent
        w.state = "bridged"
        w.call.stop_playback()
        hub = self.engine.hub
        hub.bridge(w.call.session, out.session)
        if self.engine.config.queue.record:
            rec_dir = Path(self.engine.config.media.record_dir)
            path = rec_dir / f"{w.key}.wav"
            # With media.record_calls the whole call is recorded already
            # (same file name): that recording goes on; else the queue's
            # recording holds the bridged conversation only.
            if w.call.session.recorder is None:
                hub.record(w.call.session, path)
                w.recorded = True
            self.engine.events.append("call.recording", w.key, path=str(path),
                                      agent=agent, channels="caller,agent")
        self._run(core.ring_answered(w.key, time.monotonic(), leg=out.id))
        await out.ended.wait()
        if w.state == "bridged":  # the agent hung up first
            w.state = "agent_left"
            w.agent_cause = out.end_cause
            hub.unbridge(w.call.session)
            self._stop_recording(w)
            self._run(core.call_ended(w.key, time.monotonic(), by="agent"))
            w.inbox.put_nowait("agent_left")

    async def _call_back(self, action: CallBack) -> None:
        """The caller's turn came: call it back; on answer, ring the reserved agent."""
        core = self.core
        assert core is not None
        target = self._callbacks.pop(action.call_id, None)
        leg: OutboundCall | None = None
        try:
            if target is None or not target.contact:
                raise LookupError("no address to call back")
            binding = Binding("callback", target.contact, 0.0, target.source, target.transport,
                              "")
            leg = await self.engine.dialer.start_call(binding)
            leg.peer_role = Cause.CALLER  # the citizen is at the other end
            answered = await asyncio.wait_for(asyncio.shield(leg.result), CALLBACK_RING_S)
        except (LookupError, TimeoutError, SipParseError, MediaError) as exc:
            log.info("callback for %s failed: %s", action.call_id[:8], exc)
            if leg is not None and not leg.ended.is_set():
                leg.cancel()
                await leg.end("no_answer")
            # Not answered: the citizen's (counted as before); not placed: ours.
            cause = Cause.CALLER if isinstance(exc, TimeoutError) else Cause.ERROR
            self._run(core.callback_failed(action.call_id, time.monotonic(), cause.value))
            return
        if not answered:
            self._run(core.callback_failed(action.call_id, time.monotonic()))
            return
        assert target is not None
        leg.limit_duration(self.engine.config.engine.max_call_seconds)
        w = _Waiter(action.call_id, leg, target.queue, target.languages)
        self._waiters[action.call_id] = w
        self.engine.events.append("queue.callback_answered", action.call_id, leg=leg.id,
                                  agent=action.agent)
        try:
            for lang in w.languages:
                await leg.play(self.engine.prompts.text(
                    lang, waiting.text(waiting.CALLBACK_GREETING, lang)), interruptible=False)
            self._run(core.callback_answered(action.call_id, time.monotonic()))
            hold = asyncio.get_running_loop().create_task(self._hold(w), name="queue-callback")
            gone = asyncio.get_running_loop().create_task(leg.ended.wait())
            try:
                await asyncio.wait({hold, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (hold, gone):
                    task.cancel()
                await asyncio.gather(hold, gone, return_exceptions=True)
            if leg.ended.is_set() and w.state in ("waiting", "bridged"):
                self._caller_gone(w)
        finally:
            self._waiters.pop(action.call_id, None)
            if not leg.ended.is_set():
                await leg.hangup("normal")


@dataclass(frozen=True)
class _CallbackTarget:
    contact: str
    source: tuple[str, int]
    transport: str
    languages: tuple[str, ...]
    queue: str


def _survey_flow(languages: tuple[str, ...]) -> Flow:
    def prompt(table: Any) -> Prompt:
        return Prompt(texts={lang: waiting.text(table, lang) for lang in languages})

    question = SurveyQuestion("satisfaction", prompt(waiting.SURVEY_QUESTION))
    retry = Retry(SURVEY_TIMEOUT_S, 1, None, None)
    nodes = {
        "survey": Survey("survey", 0, (question,), prompt(waiting.SURVEY_THANKS), retry, "bye"),
        "bye": Hangup("bye", 0, None, "survey_done"),
    }
    return Flow("survey", "<queue>", "1", (), languages, "Asia/Almaty", "survey", nodes)
