"""The flow runner's vocabulary: inputs it is fed and actions it returns.

Plain frozen dataclasses (sans-IO): the adapter (:mod:`bailanys.ivr.session`)
turns what happens on a call into inputs and executes the actions; tests do
the same with time as an input (:mod:`bailanys.ivr.testing`). The runner
itself is :mod:`bailanys.ivr.runner`, which re-exports these names.
``Emit`` (an event of the catalogue, :mod:`bailanys.events`) and ``HungUp``
are the ones shared with the queue and robot cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bailanys.events import Emit as Emit
from bailanys.events import HungUp as HungUp
from bailanys.ivr.model import Prompt

# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Digit:
    key: str


@dataclass(frozen=True)
class Speech:
    """A final speech result from the recognizer of ``lang``."""

    lang: str
    phrase: str | None  # the grammar phrase recognised, None for "[unk]"
    confidence: float
    accepted: bool = True  # over the confidence threshold


@dataclass(frozen=True)
class PlayDone:
    token: int
    completed: bool = True


@dataclass(frozen=True)
class TimerFired:
    token: int


@dataclass(frozen=True)
class HandoffFailed:
    """The hand-over did not take the call: the node's ``fallback`` runs.

    ``variables`` are set first (the voice robot hands back the ``topic`` it
    guessed, so the flow can route the caller to the right queue).
    """

    reason: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HandedBack:
    """What a hand-over returns when it gives the call back to the flow with variables."""

    reason: str
    variables: Mapping[str, str] = field(default_factory=dict)


Input = Digit | Speech | PlayDone | TimerFired | HandoffFailed | HungUp


# ------------------------------------------------------------------ actions


@dataclass(frozen=True)
class Play:
    prompt: Prompt
    lang: str
    token: int
    barge_in: bool


@dataclass(frozen=True)
class StopPlayback:
    pass


@dataclass(frozen=True)
class StartTimer:
    token: int
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class Listen:
    """Recognise these keywords (language -> phrases) until :class:`StopListening`."""

    words: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class StopListening:
    pass


@dataclass(frozen=True)
class SetCallLanguage:
    lang: str


@dataclass(frozen=True)
class EnterQueue:
    """Hand the call to a queue. The queue node's own prompt ("connecting
    you...") travels with it and is played by the queue, after the caller
    joined: the wait the standard measures starts when the menu ends
    (Appendix 1 item 1, docs/kpi.md), so a caller who hangs up during it is
    offered and lost, not unseen. It is payload, not identity (no compare)."""

    queue: str
    skills: tuple[str, ...]  # the node's skills plus the caller's language
    language: str | None
    variables: Mapping[str, str]
    prompt: Prompt | None = field(default=None, compare=False)


@dataclass(frozen=True)
class StartRobot:
    service: str | None
    language: str | None
    variables: Mapping[str, str]


@dataclass(frozen=True)
class TransferCall:
    target: str


@dataclass(frozen=True)
class HangUpCall:
    cause: str


Action = (
    Play | StopPlayback | StartTimer | CancelTimer | Listen | StopListening | SetCallLanguage
    | Emit | EnterQueue | StartRobot | TransferCall | HangUpCall
)
