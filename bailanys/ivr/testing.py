"""A harness for flow-runner tests: typed inputs in, actions out, time as an input.

Shipped in the package (as pipecat ships its test utilities) so that people
who write flows can test them too::

    h = FlowHarness(flow, now=datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY))
    h.start()            # plays the greeting, in every language
    h.finish_prompts()   # the prompts end: the menu's no-input timer starts
    h.press("2")         # Russian
    assert h.node == "main_menu"
    h.timeout()          # silence: "no input", the prompt again

The harness keeps what a call would have seen: every action, the events,
the prompts played (language, text) and the nodes entered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bailanys.ivr.model import Flow
from bailanys.ivr.runner import (
    Action,
    CancelTimer,
    Digit,
    Emit,
    EnterQueue,
    FlowRunner,
    HandoffFailed,
    HangUpCall,
    HungUp,
    Input,
    Listen,
    Phase,
    Play,
    PlayDone,
    QueueStates,
    Speech,
    StartRobot,
    StartTimer,
    StopListening,
    StopPlayback,
    TimerFired,
    TransferCall,
)


class FlowHarness:
    def __init__(
        self,
        flow: Flow,
        *,
        now: datetime,
        language: str | None = None,
        queues: QueueStates | None = None,
    ) -> None:
        self.runner = FlowRunner(flow, language=language, queues=queues)
        self.now = now
        self.actions: list[Action] = []
        self._playing: list[Play] = []
        self._timer: StartTimer | None = None
        self.listening: dict[str, tuple[str, ...]] | None = None

    # ------------------------------------------------------------ inputs

    def start(self) -> list[Action]:
        return self._take(self.runner.start(self.now))

    def feed(self, inp: Input) -> list[Action]:
        return self._take(self.runner.handle(inp, self.now))

    def press(self, keys: str) -> list[Action]:
        out: list[Action] = []
        for key in keys:
            out += self.feed(Digit(key))
        return out

    def say(self, lang: str, phrase: str | None, confidence: float = 0.9,
            accepted: bool = True) -> list[Action]:
        return self.feed(Speech(lang, phrase, confidence, accepted))

    def finish_prompts(self) -> list[Action]:
        """Every queued prompt plays to its end."""
        out: list[Action] = []
        while self._playing:
            play = self._playing.pop(0)
            out += self.feed(PlayDone(play.token, True))
        return out

    def timeout(self) -> list[Action]:
        """The running timer fires (time advances by its length)."""
        timer = self._timer
        assert timer is not None, "no timer is running"
        self._timer = None
        self.now += timedelta(seconds=timer.seconds)
        return self.feed(TimerFired(timer.token))

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def handoff_failed(
        self, reason: str = "unavailable", variables: Mapping[str, str] | None = None
    ) -> list[Action]:
        return self.feed(HandoffFailed(reason, dict(variables or {})))

    def hangup(self) -> list[Action]:
        return self.feed(HungUp())

    def silent(self, rounds: int) -> list[Action]:
        """The caller says nothing: prompts end and timers fire, ``rounds`` times."""
        out: list[Action] = []
        for _ in range(rounds):
            out += self.finish_prompts()
            if self._timer is None:
                break
            out += self.timeout()
        return out

    # ------------------------------------------------------------ what happened

    @property
    def node(self) -> str | None:
        return None if self.runner.node is None else self.runner.node.id

    @property
    def phase(self) -> Phase:
        return self.runner.phase

    @property
    def timer_running(self) -> bool:
        return self._timer is not None

    def events(self, type_: str | None = None) -> list[Emit]:
        return [
            a for a in self.actions if isinstance(a, Emit) and (type_ is None or a.type == type_)
        ]

    def nodes_entered(self) -> list[str]:
        return [str(e.fields["node"]) for e in self.events("ivr.node")]

    def played(self) -> list[tuple[str, str]]:
        """(language, text) of every prompt started, in order."""
        out: list[tuple[str, str]] = []
        for a in self.actions:
            if isinstance(a, Play):
                text = a.prompt.texts.get(a.lang) or a.prompt.files.get(a.lang, "")
                out.append((a.lang, text))
        return out

    def final(self) -> Action | None:
        """The hang-up or hand-over that ended the flow, if any."""
        for a in reversed(self.actions):
            if isinstance(a, HangUpCall | EnterQueue | StartRobot | TransferCall):
                return a
        return None

    def _take(self, actions: Iterable[Action]) -> list[Action]:
        out = list(actions)
        for a in out:
            if isinstance(a, Play):
                self._playing.append(a)
            elif isinstance(a, StopPlayback):
                self._playing.clear()
            elif isinstance(a, StartTimer):
                self._timer = a
            elif isinstance(a, CancelTimer):
                self._timer = None
            elif isinstance(a, Listen):
                self.listening = dict(a.words)
            elif isinstance(a, StopListening):
                self.listening = None
        self.actions += out
        return out
