"""The engine's side of the queues: holding callers, ringing agents, bridging.

:class:`QueueService` owns the pure :class:`~bailanys.queue.core.QueueCore`
and executes its decisions ("queue never speaks SIP: it decides, the
engine bridges", ARCHITECTURE.md):

* a caller handed over by a flow's ``queue`` node waits in
  :meth:`QueueService.enter_queue`, which runs inside the call's flow task
  (so the call's end cancels it: an abandon): music on hold, announcements
  (position, expected wait, "the call is free", the callback offer), the
  callback key;
* ``Ring`` places a call to the agent's registered phone (the
  :class:`~bailanys.engine.ports.Dialer`) and owns the ring: the caller
  hanging up cancels it (CANCEL); on answer the two legs
  are bridged in the media hub and recorded (caller left, agent right)
  until the bridge ends: the recording holds the conversation only;
* the agent hanging up sends the caller to the after-call survey
  (``ivr_flows/survey.yaml``, run by the flow runner) when the queue asks
  for one; the caller hanging up hangs up the agent's leg;
* agents log in when their phone registers and out when it unregisters;
  the console's API (login, logout, pause, unpause, disposition) and the
  operators' desktop (also ``ready``) call the methods of the same names.

It takes ports, not the engine: the event log, the prompts, the media
legs, the dialer, and two views of the engine's state (whether it is
stopping, the agents' breaks a restart found open).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bailanys.analytics.pii import mask_text
from bailanys.config import (
    DEFAULT_LANGUAGES,
    DEFAULT_MAX_CALL_SECONDS,
    DEFAULT_QUEUE_TICK_MS,
    DEFAULT_RECORD_DIR,
)
from bailanys.configcheck import missing_file
from bailanys.engine.causes import Cause
from bailanys.engine.flowfiles import SURVEY_FLOW, load_builtin, prompt_audio, prompt_texts
from bailanys.engine.ports import (
    CallLeg,
    Dialer,
    MediaLegs,
    OutboundLeg,
    PromptBook,
    RecordingWatch,
)
from bailanys.engine.queuetransfers import QueueTransfers
from bailanys.engine.reconcile import Break
from bailanys.engine.waiter import AGENT_LEFT, MUSIC_STATES, HandOver, Requeue
from bailanys.engine.waiter import Waiter as _Waiter
from bailanys.errors import MediaError, SipParseError, StoreError
from bailanys.events import CallRecording, EventBase, QueueCallbackAnswered
from bailanys.ivr.digits import pump_digits
from bailanys.ivr.model import Flow, Prompt
from bailanys.ivr.runner import EnterQueue
from bailanys.ivr.session import IvrSession
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
from bailanys.tasks import TaskSet
from bailanys.timezone import ALMATY
from bailanys.voice.moh import music_on_hold
from bailanys.voice.phrases import waiting
from bailanys.voice.phrases.queue import (
    expected_wait_announcement,
    free_call_announcement,
    position_announcement,
)

if TYPE_CHECKING:
    from bailanys.config import Config
    from bailanys.engine.ports import EventStore

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
    events: EventStore, estimator: WaitEstimator, tz: tzinfo, now_ts: float
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


CALLBACK_RING_S = 30.0  # how long a called-back caller's phone rings


@dataclass(frozen=True)
class QueueSettings:
    """What the queue service reads of the config (``[queue]`` and a few others)."""

    file: str = ""  # queue.file: the queues and agents; "" runs without queues
    source: str = "<defaults>"  # the config file, named in errors
    tick_s: float = DEFAULT_QUEUE_TICK_MS / 1000.0  # queue.tick_ms
    record: bool = True  # queue.record: record bridged conversations
    record_dir: str = DEFAULT_RECORD_DIR  # media.record_dir
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # engine.languages
    max_call_seconds: float = DEFAULT_MAX_CALL_SECONDS  # engine.max_call_seconds (callbacks too)

    @classmethod
    def of(cls, config: Config) -> QueueSettings:
        return cls(file=config.queue.file, source=config.source or "<defaults>",
                   tick_s=config.queue.tick_ms / 1000.0, record=config.queue.record,
                   record_dir=config.media.record_dir,
                   languages=tuple(config.engine.languages),
                   max_call_seconds=float(config.engine.max_call_seconds))


class QueueService(QueueTransfers):
    """Holds callers, rings agents and bridges them, as the queue core decides."""

    def __init__(
        self,
        *,
        settings: QueueSettings,
        events: EventStore,
        prompts: PromptBook,
        media: MediaLegs,
        dialer: Dialer,
        stopping: Callable[[], bool],
        breaks: Callable[[], Mapping[str, Break]],
        recordings: RecordingWatch | None = None,
    ) -> None:
        self.settings = settings
        self.events = events
        self.prompts = prompts
        self.media = media
        self.dialer = dialer
        self._stopping = stopping
        self._breaks = breaks
        self.recordings = recordings  # announces recordings with their jobs (issue 15)
        self.core: QueueCore | None = None
        self.config: QueueConfig | None = None
        self._waiters: dict[str, _Waiter] = {}
        self._rings: dict[str, asyncio.Task[None]] = {}  # by caller call id
        self._tasks = TaskSet()
        self._ticker: asyncio.Task[None] | None = None
        self._moh: EncodedAudio | None = None
        self._survey: Flow | None = None
        self._callbacks: dict[str, _CallbackTarget] = {}

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the queues file and the survey, replay the agents' logins, start the clock."""
        st = self.settings
        if not st.file:
            log.info("no queues (queue.file is empty): queue nodes take their fallback")
            return
        missing = await asyncio.to_thread(missing_file, st.file, st.source)
        if missing is not None:  # not a contact centre with no operators
            raise missing
        self.config = await asyncio.to_thread(load_queue_config, Path(st.file))
        self._survey = await asyncio.to_thread(load_builtin, SURVEY_FLOW)
        estimator = WaitEstimator(calendar=wall_calendar(ALMATY))
        try:
            count = await replay_logins(self.events, estimator, ALMATY, time.time())
            log.info("wait estimator: %d agent logins of the last days replayed", count)
        except StoreError as exc:  # the estimate then learns from today on
            log.warning("wait estimator: stored logins not replayed: %s", exc)
        self.core = QueueCore(self.config, estimator, time.monotonic())
        self._moh = EncodedAudio.from_pcm(music_on_hold())
        texts = [(lang, waiting.text(t, lang)) for t in waiting.ALL for lang in st.languages]
        await self.prompts.add(texts + prompt_texts(self._survey))
        for user in self.config.agents:  # phones registered before a restart are still there
            if self.dialer.registered(user):
                self.registration_changed(user, True)
        self._resume_breaks()
        # The clock is not a call's task: it is owned apart (``_tasks`` empties when calls do).
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop(), name="queues")
        log.info("queues: %s; agents: %s", ", ".join(self.config.queues),
                 ", ".join(self.config.agents) or "none")

    def _resume_breaks(self) -> None:
        """Agents logged in again whose break a crash or a stop interrupted
        (the start-up's reconciliation found it open) go back on it, with its
        reason and start."""
        core = self.core
        if core is None or self.config is None:
            return
        mono, wall = time.monotonic(), time.time()
        for user, brk in self._breaks().items():
            if user in self.config.agents:
                since = mono - max(0.0, wall - brk.since)
                actions = core.resume_break(user, brk.reason, since, mono)
                if actions:
                    log.info("agent %s: back on the break %r of before the restart", user,
                             brk.reason)
                self._run(actions)

    async def stop(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            self._tasks.add(ticker)
        await self._tasks.cancel_all()

    def drain(self) -> None:
        """The engine stops: no caller is offered to an agent any more; every
        caller not talking to one leaves the queue with cause engine_shutdown
        (``queue.abandoned``: not a lost call) and the agents' phones stop
        ringing. The engine then tells them and hangs up."""
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
        return self._tasks.spawn(coro, name=name)

    def _max_call_s(self) -> float:
        return self.settings.max_call_seconds

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_s)
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

    def ready(self, user: str) -> None:
        """The operator is ready (the desktop's button, issue 19): wrap-up ends
        early, a break ends, a logged-out agent logs in (``QueueCore.ready``)."""
        if self.core is not None:
            self._run(self.core.ready(user, time.monotonic()))

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None,
                    outcome: str | None = None, notes: str | None = None,
                    case: str | None = None) -> None:
        """``call.disposition`` from the console or the desktop; the operator's
        ``notes`` are stored with personal data masked (``analytics/pii.py``)."""
        if self.core is not None:
            masked = (mask_text(notes).strip() or None) if notes else None
            self._run(self.core.disposition(call_id, agent, resolved, topic, time.monotonic(),
                                            outcome=outcome, notes=masked, case=case or None))

    def wrap_up_until(self, user: str) -> float | None:
        """When ``user``'s wrap-up ends (wall-clock seconds); None when not wrapping up."""
        core = self.core
        if core is None:
            return None
        until = core.pool.wrap_up_until(user)
        return None if until is None else time.time() + (until - time.monotonic())

    def undisposed(self, user: str) -> str | None:
        """``user``'s current or last call without a disposition (None: none)."""
        return None if self.core is None else self.core.pool.undisposed(user)

    def live_bridge(self, *, call_id: str | None = None, agent: str | None = None
                    ) -> tuple[str, str, CallLeg, OutboundLeg] | None:
        """(call id, agent, the caller's leg, the agent's leg) of a caller talking to
        an agent now, found by the caller's call id or by the agent (issue 21:
        listen, whisper, barge); None when there is no such bridge."""
        for w in self._waiters.values():
            if w.state != "bridged" or w.agent_call is None or w.agent is None:
                continue
            if (call_id is None or w.key == call_id) and (agent is None or w.agent == agent):
                return w.key, w.agent, w.call, w.agent_call
        return None

    def max_wrap_up_s(self) -> float:
        """The longest wrap-up of the queues (the desktop's ``hello``)."""
        if self.config is None:
            return 0.0
        return max((q.wrap_up_s for q in self.config.queues.values()), default=0.0)

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

    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool:
        """Hold ``call`` in ``action.queue`` until an agent takes it, it calls back,
        overflows or hangs up; False (the node's fallback) when there is no such queue.
        ``prior_wait``: seconds it already waited for the queue elsewhere (issue 22,
        ``engine/ownedqueues.py``): its place and wait count from then."""
        core = self.core
        if core is None or self.config is None or action.queue not in self.config.queues:
            return False
        langs = (action.language,) if action.language else self.settings.languages
        w = _Waiter(call.id, call, action.queue, langs)
        self._waiters[call.id] = w
        skills = tuple(s for s in action.skills if s != action.language)
        try:
            self._run(core.join(call.id, action.queue, skills=skills, language=action.language,
                                now=time.monotonic(), prior_wait=prior_wait))
            await self._hold(w, action.prompt)
            return True
        except asyncio.CancelledError:
            self._caller_gone(w)
            raise
        finally:
            self._waiters.pop(call.id, None)

    # ------------------------------------------------------------ holding a caller

    async def _hold(self, w: _Waiter, prompt: Prompt | None = None) -> None:
        call = w.call
        pump = self._spawn(pump_digits(call, lambda key: w.inbox.put_nowait(f"key:{key}")),
                           name="queue-keys")
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
                elif msg == AGENT_LEFT:
                    pump.cancel()  # the survey reads the keys now
                    await self._after_agent(w)
                    return
                elif isinstance(msg, Overflow):
                    if await self._overflow(w, msg):
                        return
                elif isinstance(msg, Requeue):
                    self._requeue(w, msg.queue)
                elif isinstance(msg, HandOver):
                    pump.cancel()
                    await self._handed_over(w, msg.leg)
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
            await w.call.play(prompt_audio(self.prompts, prompt, lang), interruptible=False)

    def _music(self, w: _Waiter) -> None:
        """Music on hold, looped until the next announcement or the bridge."""
        if self._moh is None or w.state not in MUSIC_STATES:
            return
        moh, state = self._moh, w.state

        async def loop() -> None:
            while w.state == state:
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
        await self.prompts.add(texts)  # rendered once, then cached
        if w.state != "waiting":
            return
        w.call.stop_playback()
        for lang, text in texts:
            w.call.session.player.play(self.prompts.text(lang, text), interruptible=True)
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
            await w.call.play(self.prompts.text(lang, waiting.text(table, lang)),
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
        if settings is not None and settings.survey and self._survey is not None:
            session = IvrSession(
                w.call, self._survey, audio_for=self._audio_for, emit=self._emit,
                language=w.languages[0] if len(w.languages) == 1 else None,
            )
            await session.run()
            return
        await w.call.hangup("agent_hangup", w.agent_cause)

    def _audio_for(self, prompt: Prompt, lang: str) -> EncodedAudio:
        return prompt_audio(self.prompts, prompt, lang)

    def _emit(self, event: EventBase) -> None:
        self.events.emit(event)

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
                self.media.unbridge(agent_call.session)
                self._spawn(agent_call.hangup("caller_hangup", cause))
        elif w.state == "held":  # consulting (attended transfer): as bridged
            self._release(w, by="caller")
            if w.agent_call is not None:
                self._spawn(w.agent_call.hangup("caller_hangup", cause))
        other, ringing = w.other, w.ringing
        if ringing is not None:
            ringing.cancel()  # it hangs its leg up itself
        elif other is not None and w.state != "done":
            self.media.unbridge(other.session)
            other.cancel()
            self._spawn(other.hangup("caller_hangup", cause))
        w.state = "done"

    def _end_cause(self, call: CallLeg) -> Cause:
        """Who ended ``call``: its own end cause; a leg still up whose task was
        cancelled is the engine stopping (or failing)."""
        if call.end_cause is not None:
            return call.end_cause
        return Cause.ENGINE_SHUTDOWN if self._stopping() else Cause.ERROR

    def _stop_recording(self, w: _Waiter) -> None:
        """The bridge ended: the queue's recording ends with it (not the survey)."""
        if w.recorded:
            w.recorded = False
            self.media.stop_recording(w.call.session)

    # ------------------------------------------------------------ the core's decisions

    def _run(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Emit):
                self.events.emit(action.event)
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
        """Ring ``action.agent`` for the caller; bridge on answer (see :meth:`_bridge`)."""
        core = self.core
        assert core is not None
        w = self._waiters.get(action.call_id)
        out: OutboundLeg | None = None
        try:
            try:
                out = await self.dialer.start_call_user(action.agent)
            except Exception as exc:  # not registered (LookupError), a bad contact
                log.info("agent %s cannot be rung: %s", action.agent, exc)
                self._rings.pop(action.call_id, None)
                self._run(core.ring_failed(action.call_id, time.monotonic()))
                return
            answered = await self.dialer.ring(out, action.timeout_s)
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
                if self._stopping():
                    cause = Cause.ENGINE_SHUTDOWN
                await out.hangup("ring_cancelled", cause)
            raise

    async def _bridge(self, w: _Waiter, out: OutboundLeg, agent: str) -> None:
        """Bridge (and record) the caller and the agent until the agent's leg ends."""
        core = self.core
        assert core is not None
        w.agent_call = out
        w.agent = agent
        w.state = "bridged"
        w.call.stop_playback()
        self.media.bridge(w.call.session, out.session)
        if self.settings.record:
            self._record(w, agent)
        else:
            self._stop_analytics_recording(w)
        self._run(core.ring_answered(w.key, time.monotonic(), leg=out.id))
        await out.ended.wait()
        if w.state == "held" and self._agent_left_consulting(w):
            return
        if w.state == "bridged":  # the agent hung up first
            w.state = "agent_left"
            w.agent_cause = out.end_cause
            self.media.unbridge(w.call.session)
            self._stop_recording(w)
            self._run(core.call_ended(w.key, time.monotonic(), by="agent"))
            w.inbox.put_nowait(AGENT_LEFT)

    def _stop_analytics_recording(self, w: _Waiter) -> None:
        """queue.record off: analytics' own recording of the call stops at the
        bridge (the conversation is not recorded; the part before is the
        caller's side of the IVR, announced as such)."""
        recorder = w.call.session.recorder
        if recorder is not None and self.recordings is not None \
                and self.recordings.provisional(recorder):
            self.media.stop_recording(w.call.session)

    def _record(self, w: _Waiter, agent: str) -> None:
        """Record the bridged conversation (caller left, agent right)."""
        w.bridges += 1  # after a transfer, the next conversation gets a file of its own
        name = w.key if w.bridges == 1 else f"{w.key}.{w.bridges}"
        path = Path(self.settings.record_dir) / f"{name}.wav"
        # With media.record_calls the whole call is recorded already (same
        # file name): that recording goes on; else the queue's recording
        # holds the bridged conversation only, and replaces analytics' own
        # provisional one (engine/recordings.py).
        watch = self.recordings
        recorder = w.call.session.recorder
        if recorder is None or (watch is not None and watch.provisional(recorder)):
            if recorder is not None and watch is not None:
                watch.discard(recorder)
            recorder = self.media.record(w.call.session, path)
            w.recorded = True
        if watch is not None:
            call = w.call
            watch.watch(recorder, w.key, lambda: call.language, agent=True, ended=call.ended)
        self.events.emit(CallRecording(call_id=w.key, path=str(path), agent=agent,
                                       channels="caller,agent"))

    async def _call_back(self, action: CallBack) -> None:
        """The caller's turn came: call it back; on answer, ring the reserved agent."""
        core = self.core
        assert core is not None
        target = self._callbacks.pop(action.call_id, None)
        try:
            if target is None or not target.contact:
                raise LookupError("no address to call back")
            leg = await self.dialer.start_call_back(target.contact, target.source,
                                                    target.transport)
        except (LookupError, SipParseError, MediaError) as exc:
            log.info("callback for %s failed: %s", action.call_id[:8], exc)
            self._run(core.callback_failed(action.call_id, time.monotonic(), Cause.ERROR.value))
            return
        leg.peer_role = Cause.CALLER  # the citizen is at the other end
        if not await self.dialer.ring(leg, CALLBACK_RING_S):
            log.info("callback for %s failed: not answered", action.call_id[:8])
            # Not answered: the citizen's, counted as before.
            self._run(core.callback_failed(action.call_id, time.monotonic(), Cause.CALLER.value))
            return
        leg.limit_duration(self.settings.max_call_seconds)
        w = _Waiter(action.call_id, leg, target.queue, target.languages)
        self._waiters[action.call_id] = w
        self.events.emit(QueueCallbackAnswered(call_id=action.call_id, leg=leg.id,
                                               agent=action.agent))
        try:
            await self._hold_called_back(w, leg)
        finally:
            self._waiters.pop(action.call_id, None)
            if not leg.ended.is_set():
                await leg.hangup("normal")

    async def _hold_called_back(self, w: _Waiter, leg: OutboundLeg) -> None:
        """A called-back caller: the greeting, then held for its agent until either ends."""
        core = self.core
        assert core is not None
        for lang in w.languages:
            await leg.play(self.prompts.text(
                lang, waiting.text(waiting.CALLBACK_GREETING, lang)), interruptible=False)
        self._run(core.callback_answered(w.key, time.monotonic()))
        tasks = TaskSet()
        hold = tasks.spawn(self._hold(w), name="queue-callback")
        gone = tasks.spawn(leg.ended.wait(), name="queue-callback-end")
        try:
            await asyncio.wait({hold, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await tasks.cancel_all()
        if leg.ended.is_set() and w.state in ("waiting", "bridged"):
            self._caller_gone(w)


@dataclass(frozen=True)
class _CallbackTarget:
    contact: str
    source: tuple[str, int]
    transport: str
    languages: tuple[str, ...]
    queue: str
