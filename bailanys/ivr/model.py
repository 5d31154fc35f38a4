"""The flow model: what an IVR flow file (``ivr_flows/*.yaml``) means.

A flow is a graph of named nodes; each node has a kind.  Nodes that wait
for the caller (``menu``, ``collect``, ``survey``) have a timeout and a
retry count, then a ``fallback``; nodes that hand the call over (``queue``,
``robot``, ``transfer``) end the flow when the hand-over succeeds and go to
their ``fallback`` when it cannot happen (no queue manager, no robot, the
target did not answer).

Everything here is immutable: a call keeps the :class:`Flow` it started
with while a newer version of the file is loaded for new calls.  The
grammar of the file is in ``ivr_flows/README.md``; :mod:`bailanys.ivr.loader`
builds these objects and reports every problem with its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as dtime
from typing import ClassVar

#: Keys of a telephone keypad (RFC 4733 events 0-11).
KEYPAD = "0123456789*#"
#: Weekday names as written in flow files, Monday first (``datetime.weekday()``).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Prompt:
    """What the caller hears: a text per language (spoken by TTS), a recorded file,
    or a variable's digits read back ("you pressed: one, two, three")."""

    texts: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)  # language -> path (absolute)
    #: A say node's ``readback``: the variable whose digits are read back; the
    #: runner plays it as a prompt with those ``digits`` (pre-rendered keypad words).
    readback: str | None = None
    digits: str | None = None

    def languages(self) -> frozenset[str]:
        return frozenset(self.texts) | frozenset(self.files)


@dataclass(frozen=True)
class Node:
    """A node of a flow; each kind is a subclass registered in :mod:`bailanys.ivr.kinds`."""

    #: The ``type:`` of the node in the flow file.
    kind: ClassVar[str]

    id: str
    line: int

    def edges(self) -> list[tuple[str, str, bool]]:
        """(label, target, needs_input) for every way out of this node."""
        return []

    def prompts(self) -> list[Prompt | None]:
        """Every prompt this node may play (``None`` for an optional one not given)."""
        return []


@dataclass(frozen=True)
class Say(Node):
    kind: ClassVar[str] = "say"

    prompt: Prompt
    next: str
    barge_in: bool = True  # a key cuts the prompt (and is kept for the next menu)

    def edges(self) -> list[tuple[str, str, bool]]:
        return [("next", self.next, False)]

    def prompts(self) -> list[Prompt | None]:
        return [self.prompt]


@dataclass(frozen=True)
class Retry:
    """Waiting for the caller: timeout, retries and what is said between tries."""

    timeout_s: float
    retries: int  # tries after the first
    no_input: Prompt | None
    no_match: Prompt | None


@dataclass(frozen=True)
class MenuOption:
    key: str | None  # one keypad key, or None for a speech-only option
    words: Mapping[str, tuple[str, ...]]  # language -> spoken keywords
    next: str
    line: int = 0
    #: Issue 17: the contact's topic (configs/topics.yaml) when the caller
    #: chooses this option (``call.topic`` source ``ivr``) ...
    topic: str | None = None
    #: ... and the caller's region (reports.model.REGIONS) it sets as the
    #: flow variable ``region`` (``call.region`` source ``flow``).
    region: str | None = None


@dataclass(frozen=True)
class Menu(Node):
    kind: ClassVar[str] = "menu"

    prompt: Prompt
    options: tuple[MenuOption, ...]
    retry: Retry
    fallback: str

    def edges(self) -> list[tuple[str, str, bool]]:
        out = [(o.key or "/".join(w for ws in o.words.values() for w in ws[:1]), o.next, True)
               for o in self.options]
        out.append(("fallback", self.fallback, False))
        return out

    def prompts(self) -> list[Prompt | None]:
        return [self.prompt, self.retry.no_input, self.retry.no_match]

    def option_for_key(self, key: str) -> MenuOption | None:
        for option in self.options:
            if option.key == key:
                return option
        return None

    def option_for_phrase(self, lang: str, phrase: str) -> MenuOption | None:
        wanted = phrase.casefold()
        for option in self.options:
            if any(w.casefold() == wanted for w in option.words.get(lang, ())):
                return option
        return None

    def words(self, lang: str) -> tuple[str, ...]:
        return tuple(w for o in self.options for w in o.words.get(lang, ()))


@dataclass(frozen=True)
class Collect(Node):
    kind: ClassVar[str] = "collect"

    prompt: Prompt
    into: str
    min_length: int
    max_length: int
    terminator: str | None
    validator: str | None
    invalid: Prompt | None
    interdigit_s: float
    retry: Retry
    next: str
    fallback: str

    def edges(self) -> list[tuple[str, str, bool]]:
        return [("next", self.next, True), ("fallback", self.fallback, False)]

    def prompts(self) -> list[Prompt | None]:
        return [self.prompt, self.invalid, self.retry.no_input, self.retry.no_match]


@dataclass(frozen=True)
class SetLanguage(Node):
    kind: ClassVar[str] = "set_language"

    language: str
    next: str

    def edges(self) -> list[tuple[str, str, bool]]:
        return [("next", self.next, False)]


@dataclass(frozen=True)
class Condition:
    """All given parts must hold (AND); an empty condition always holds."""

    time: tuple[dtime, dtime] | None = None  # [start, end); end < start spans midnight
    weekdays: frozenset[int] | None = None  # 0 = Monday
    var: str | None = None
    equals: str | None = None
    one_of: frozenset[str] | None = None
    language: str | None = None
    queue: str | None = None
    agents_available: bool | None = None  # at least one agent free for the queue
    waiting_at_most: int | None = None  # callers already waiting


@dataclass(frozen=True)
class Case:
    when: Condition
    next: str
    line: int = 0


@dataclass(frozen=True)
class Branch(Node):
    kind: ClassVar[str] = "branch"

    cases: tuple[Case, ...]
    default: str

    def edges(self) -> list[tuple[str, str, bool]]:
        out = [(f"case {i + 1}", c.next, False) for i, c in enumerate(self.cases)]
        out.append(("default", self.default, False))
        return out


@dataclass(frozen=True)
class Handoff(Node):
    """A node that hands the call to another component; ``fallback`` when it cannot."""

    prompt: Prompt | None
    fallback: str | None

    def edges(self) -> list[tuple[str, str, bool]]:
        return [] if self.fallback is None else [("fallback", self.fallback, False)]

    def prompts(self) -> list[Prompt | None]:
        return [self.prompt]


@dataclass(frozen=True)
class QueueNode(Handoff):
    kind: ClassVar[str] = "queue"

    queue: str = ""
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Robot(Handoff):
    kind: ClassVar[str] = "robot"

    service: str | None = None  # a self-service to start with; None = questions


@dataclass(frozen=True)
class Transfer(Handoff):
    kind: ClassVar[str] = "transfer"

    target: str = ""  # a SIP URI or a number


@dataclass(frozen=True)
class SurveyQuestion:
    id: str
    prompt: Prompt


@dataclass(frozen=True)
class Survey(Node):
    kind: ClassVar[str] = "survey"

    questions: tuple[SurveyQuestion, ...]
    thanks: Prompt | None
    retry: Retry
    next: str

    def edges(self) -> list[tuple[str, str, bool]]:
        return [("next", self.next, False)]

    def prompts(self) -> list[Prompt | None]:
        return [*(q.prompt for q in self.questions), self.thanks, self.retry.no_input,
                self.retry.no_match]


@dataclass(frozen=True)
class Hangup(Node):
    kind: ClassVar[str] = "hangup"

    prompt: Prompt | None
    cause: str = "normal"

    def prompts(self) -> list[Prompt | None]:
        return [self.prompt]


@dataclass(frozen=True)
class Goto(Node):
    kind: ClassVar[str] = "goto"

    next: str

    def edges(self) -> list[tuple[str, str, bool]]:
        return [("next", self.next, False)]


@dataclass(frozen=True)
class Flow:
    """One validated flow file."""

    name: str
    file: str
    version: str  # content hash: calls and events name the version they ran
    numbers: tuple[str, ...]
    languages: tuple[str, ...]
    timezone: str
    start: str
    nodes: Mapping[str, Node]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def prompts(self) -> list[Prompt]:
        """Every prompt of the flow (to render before the first call needs them)."""
        out: list[Prompt] = []
        for node in self.nodes.values():
            out.extend(node_prompts(node))
        return out

    def topic_uses(self) -> list[tuple[str, int, str, str]]:
        """(file, line, field, topic) of every menu option's ``topic``, for a
        check against the topic classifier (issue 17)."""
        return [(self.file, o.line, f"nodes.{node_id}.options[{i}].topic", o.topic)
                for node_id, node in self.nodes.items() if isinstance(node, Menu)
                for i, o in enumerate(node.options) if o.topic is not None]


def node_prompts(node: Node) -> list[Prompt]:
    return [p for p in node.prompts() if p is not None]
