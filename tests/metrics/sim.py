"""Random but realistic event streams: a small contact centre simulated
around the real queue core (``bailanys.queue.core.QueueCore``), so the
queue and agent events have exactly the fields, order and timing the engine
writes. The engine's own events (call.offered, call.language, call.ended,
surveys, the agents' legs) are added the way ``bailanys/engine`` adds them.

``simulate(seed)`` is deterministic for a seed.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bailanys.queue.agents import QueueError
from bailanys.queue.core import (
    Action,
    CallBack,
    CancelRing,
    Connected,
    Emit,
    Overflow,
    QueueCore,
    Ring,
)
from bailanys.queue.settings import AgentSettings, QueueConfig, QueueSettings
from bailanys.store.events import Event

QUEUES = ("egov", "pension", "general")
TOPICS = ("passport", "id_card", "eds", "benefit", None)


@dataclass
class Sim:
    rng: random.Random
    now: float
    core: QueueCore
    events: list[Event] = field(default_factory=list)
    heap: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)
    state: dict[str, str] = field(default_factory=dict)  # caller -> waiting/ringing/...
    numbers: dict[str, str] = field(default_factory=dict)
    legs: dict[str, str] = field(default_factory=dict)  # caller -> agent leg id

    def at(self, t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self.heap, (t, next(self.seq), fn))

    def ev(self, type_: str, call_id: str | None, **data: object) -> None:
        self.events.append(Event(None, self.now, type_, call_id, data))

    def run(self, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, Emit):
                self.ev(a.type, a.call_id, **dict(a.fields))
            elif isinstance(a, Ring):
                self.ring(a)
            elif isinstance(a, CallBack):
                self.call_back(a)
            elif isinstance(a, Overflow) and a.target is None:
                call = a.call_id
                self.state[call] = "gone"
                self.at(self.now + 4.0, lambda c=call: self.ev(
                    "call.ended", c, cause="queue_timeout", duration=1.0))
            elif isinstance(a, Connected | CancelRing):
                pass

    def safe(self, fn: Callable[[], list[Action]]) -> None:
        try:
            self.run(fn())
        except QueueError:
            pass  # the simulated person was too late (state moved on)

    # --- callers ----------------------------------------------------------------------

    def arrive(self, call: str) -> None:
        rng = self.rng
        number = self.numbers[call]
        self.ev("call.offered", call, **{"from": f"sip:{number}@trunk.kz",
                                         "to": "sip:1414@bailanys", "codec": "PCMA",
                                         "transport": "UDP"})
        lang = rng.choice(("kk", "ru", "kk"))
        queue = rng.choice(QUEUES)

        def language() -> None:
            self.ev("call.language", call, language=lang)
            self.ev("ivr.input", call, node="menu", source="dtmf", value="1")

        def join() -> None:
            self.state[call] = "waiting"
            self.safe(lambda: self.core.join(call, queue, language=lang, now=self.now))
            patience = rng.expovariate(1 / 90.0) if rng.random() < 0.75 else rng.uniform(200, 900)
            self.at(self.now + patience, lambda: self.hang_up_waiting(call))
            if rng.random() < 0.15:
                self.at(self.now + rng.uniform(8, 40), lambda: self.ask_callback(call))

        self.at(self.now + rng.uniform(1, 3), language)
        self.at(self.now + rng.uniform(4, 12), join)

    def hang_up_waiting(self, call: str) -> None:
        if self.state.get(call) not in ("waiting", "ringing"):
            return
        self.state[call] = "gone"
        # mostly the caller; sometimes the engine ends the call (CONTRACTS item 2)
        cause = "caller" if self.rng.random() < 0.85 else self.rng.choice(ENGINE_CAUSES)
        self.ev("call.ended", call, cause=cause, duration=1.0)

        def abandon() -> list[Action]:
            return [Emit.of(a.type, a.call_id, {**a.fields, "cause": cause})
                    if isinstance(a, Emit) and a.type == "queue.abandoned" else a
                    for a in self.core.abandon(call, self.now)]

        self.safe(abandon)

    def ask_callback(self, call: str) -> None:
        if self.state.get(call) != "waiting":
            return
        try:
            actions = self.core.request_callback(call, self.numbers[call], self.now)
        except QueueError:
            return
        self.state[call] = "callback"
        self.run(actions)
        self.ev("call.ended", call, cause="callback_requested", duration=1.0)

    def call_back(self, a: CallBack) -> None:
        call = a.call_id

        def outcome() -> None:
            if self.rng.random() < 0.8:
                self.ev("queue.callback_answered", call, leg=f"cb-{call}", agent=a.agent)
                self.state[call] = "ringing"
                self.safe(lambda: self.core.callback_answered(call, self.now))
            else:
                self.state[call] = "gone"
                self.safe(lambda: self.core.callback_failed(call, self.now))

        self.at(self.now + self.rng.uniform(3, 20), outcome)

    # --- agents' phones -----------------------------------------------------------------

    def ring(self, a: Ring) -> None:
        call = a.call_id
        if self.state.get(call) == "waiting":
            self.state[call] = "ringing"
        delay = self.rng.uniform(1, 20)

        def outcome() -> None:
            if self.state.get(call) != "ringing":
                return
            if delay >= a.timeout_s or self.rng.random() < 0.1:
                self.state[call] = "waiting"
                self.safe(lambda: self.core.ring_failed(call, self.now))
                return
            self.state[call] = "connected"
            self.legs[call] = f"leg-{call}"
            self.ev("call.answered", self.legs[call])
            self.safe(lambda: self.core.ring_answered(call, self.now))
            talk = self.rng.uniform(20, 400)
            self.at(self.now + talk, lambda: self.end_call(call, a.agent))

        self.at(self.now + min(delay, a.timeout_s), outcome)

    def end_call(self, call: str, agent: str) -> None:
        rng = self.rng
        self.state[call] = "done"
        by = "agent" if rng.random() < 0.6 else "caller"
        leg = self.legs.pop(call)
        if by == "caller":
            self.ev("call.ended", call, cause="bye", duration=1.0)
        self.safe(lambda: self.core.call_ended(call, self.now, by=by))
        self.ev("call.ended", leg, cause="normal", duration=1.0)
        if by == "agent":
            scores = [rng.randint(1, 5)] if rng.random() < 0.6 else []

            def survey() -> None:
                for s in scores:
                    self.ev("survey.answered", call, node="survey",
                            question="satisfaction", score=s)
                self.ev("call.ended", call, cause="survey_done", duration=1.0)

            self.at(self.now + rng.uniform(2, 8), survey)
        if rng.random() < 0.9:
            resolved = rng.random() < 0.8
            topic = rng.choice(TOPICS)
            self.at(self.now + rng.uniform(1, 25), lambda: self.safe(
                lambda: self.core.disposition(call, agent, resolved, topic, self.now)))

    def agent_whim(self, user: str, until: float) -> None:
        if self.now >= until:
            return
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            self.safe(lambda: self.core.pause(user, "break", self.now))
            self.at(self.now + rng.uniform(60, 600), lambda: self.safe(
                lambda: self.core.unpause(user, self.now)))
        elif roll < 0.5:
            self.safe(lambda: self.core.logout(user, self.now))
            self.at(self.now + rng.uniform(60, 900), lambda: self.safe(
                lambda: self.core.login(user, self.now)))
        self.at(self.now + rng.uniform(300, 1500), lambda: self.agent_whim(user, until))

    def tick(self, until: float) -> None:
        self.run(self.core.tick(self.now))
        if self.now + 2.0 < until:
            self.at(self.now + 2.0, lambda: self.tick(until))


#: ``queue.abandoned`` causes that are the engine's doing, not the caller's.
ENGINE_CAUSES = ("engine_shutdown", "engine_restart", "rtp_timeout", "max_duration", "error")


def config(rng: random.Random, agents: int) -> QueueConfig:
    queues = {
        "egov": QueueSettings("egov", max_wait_s=240.0, overflow="general", wrap_up_s=15.0,
                              survey=True),
        "pension": QueueSettings("pension", max_wait_s=300.0, wrap_up_s=20.0, survey=True,
                                 short_abandon_s=8.0),
        "general": QueueSettings("general", wrap_up_s=5.0, max_wait_s=600.0),
    }
    users = {
        f"10{i:02d}": AgentSettings(f"10{i:02d}", f"Agent {i}",
                                    {"kk": rng.randint(1, 10), "ru": rng.randint(1, 10)})
        for i in range(agents)
    }
    return QueueConfig(queues, users)


def simulate(
    seed: int, start: float, *, calls: int = 150, agents: int = 5, minutes: float = 90.0,
    callers: int = 40,
) -> list[Event]:
    """``calls`` calls from ``callers`` numbers (repeats!) over ``minutes``."""
    rng = random.Random(seed)
    qconfig = config(rng, agents)
    sim = Sim(rng, start, QueueCore(qconfig))
    end = start + minutes * 60.0
    pool = [f"+7701{rng.randrange(10**7):07d}" for _ in range(callers)]
    for i, user in enumerate(qconfig.agents):
        sim.at(start + i * 5.0, lambda u=user: sim.safe(lambda: sim.core.login(u, sim.now)))
        sim.at(start + rng.uniform(300, 1500), lambda u=user: sim.agent_whim(u, end))
    for i in range(calls):
        call = f"call-{seed}-{i:04d}"
        sim.numbers[call] = rng.choice(pool)
        sim.at(start + rng.uniform(0, end - start - 600), lambda c=call: sim.arrive(c))
    sim.at(start, lambda: sim.tick(end + 1800))
    while sim.heap:
        t, _, fn = heapq.heappop(sim.heap)
        sim.now = max(sim.now, t)
        fn()
    return sim.events
