"""Queue and agent settings: frozen dataclasses and their TOML loader.

``load_queue_config(path)`` reads a file such as ``configs/queues.toml``::

    [queues.consultation]          one table per queue, keyed by its name
    skills = ["public_services"]
    max_wait_s = 900
    overflow = "general"

    [agents.1001]                  one table per agent, keyed by SIP user
    name = "Айгерим"
    skills = { kk = 10, ru = 8, public_services = 5 }

Every value is checked once, here, at the edge. A bad one raises
:class:`~bailanys.errors.ConfigError` whose one-line message names the file,
the key (``queues.consultation.strategy``) and what is wrong: an unknown key,
a wrong type, a value out of range, an unknown strategy, an overflow to an
unknown queue, to itself, or round a cycle.

The knobs follow Asterisk's ``queues.conf`` where it has one: ``strategy``
(leastrecent, fewestcalls, rrmemory), ``timeout`` (ring time per agent),
``wrapuptime``, ``autopause``, ``announce-frequency``; and the ``Queue()``
application's timeout for ``max_wait_s``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from bailanys.config import read_toml
from bailanys.errors import ConfigError
from bailanys.queue.thresholds import Thresholds, parse_thresholds
from bailanys.tomlcheck import Kind, check

# --- defaults and limits, each with where the number comes from ---------------

#: DOMAIN.md item 12: the expected wait is announced at least every minute.
DEFAULT_ANNOUNCE_INTERVAL_S = 60.0
MAX_ANNOUNCE_INTERVAL_S = 60.0
#: An announcement takes about 5 s to say: a shorter period leaves no music.
MIN_ANNOUNCE_INTERVAL_S = 5.0
#: Asterisk's wrapuptime (default 0); 10 s lets an operator record the
#: disposition (resolved or not, topic) before the next call rings.
DEFAULT_WRAP_UP_S = 10.0
#: The grace period: callers who hang up sooner after joining are "short"
#: abandons, neither offered nor lost in KPI 5. The standard has none
#: (Appendix 1 item 5: every client who hung up before an operator
#: answered), so 0; 5 s was the industry's misdial allowance (docs/kpi.md).
DEFAULT_SHORT_ABANDON_S = 0.0
#: Asterisk's queues.conf ``timeout``: an agent's phone rings 15 s by default.
DEFAULT_RING_TIMEOUT_S = 15.0
#: Asterisk's queues.conf ``retry``: after every free agent failed to answer
#: a caller, wait 5 s before ringing them again.
DEFAULT_RETRY_S = 5.0
#: Asterisk's ``autopause`` pauses after one missed ring; three in a row is
#: kinder to an operator who reached for the headset a second late.
DEFAULT_MAX_NO_ANSWERS = 3
#: The DTMF key a waiting caller presses to be called back.
DEFAULT_CALLBACK_KEY = "1"

#: Skills named like these are language skills (DOMAIN.md: Kazakh, Russian).
LANGUAGE_SKILLS = ("kk", "ru")
#: Skill levels: 1 (basic) .. 10 (expert).
MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 1, 10

#: Languages a queue's display name may be given in (the console's kk and ru).
NAME_LANGUAGES = ("kk", "ru")
#: A display name longer than this does not fit the wallboard's row.
MAX_DISPLAY_NAME = 80

_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_USER = re.compile(r"[A-Za-z0-9._~+\-]+")  # a SIP user part, as in [registrar.users]
_DTMF_KEYS = "0123456789*#"


class Strategy(StrEnum):
    """How a queue picks among free qualified agents (Asterisk ``strategy``)."""

    #: The agent idle longest since their last call or login (``leastrecent``).
    LONGEST_IDLE = "longest_idle"
    #: The agent who answered fewest calls, then the longest idle (``fewestcalls``).
    FEWEST_CALLS = "fewest_calls"
    #: The next agent after the last one rung, in config order (``rrmemory``).
    ROUND_ROBIN = "round_robin"


def _bad(key: str, message: str) -> ConfigError:
    return ConfigError(message, key=key)


def _check_number(key: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise _bad(key, f"expected a number between {lo:g} and {hi:g}, got {value!r}")


@dataclass(frozen=True)
class QueueSettings:
    """One ``[queues.NAME]`` table."""

    #: The queue's name, as the flow's ``queue`` nodes name it.
    name: str
    #: Skills every agent of this queue has (the caller may require more).
    skills: tuple[str, ...] = ()
    #: How a free agent is chosen.
    strategy: Strategy = Strategy.LONGEST_IDLE
    #: Seconds between announcements of position and expected wait (5..60).
    announce_interval_s: float = DEFAULT_ANNOUNCE_INTERVAL_S
    #: Seconds a caller waits here before overflowing; None: no limit.
    max_wait_s: float | None = None
    #: Where a caller goes after ``max_wait_s``: another queue, or None to be
    #: told that all operators are busy and hung up.
    overflow: str | None = None
    #: Waiting callers may ask to be called back (and are told so).
    callback: bool = True
    #: The DTMF key that asks for a callback.
    callback_key: str = DEFAULT_CALLBACK_KEY
    #: Seconds of after-call work before the agent is offered another call.
    wrap_up_s: float = DEFAULT_WRAP_UP_S
    #: Grace period: callers hanging up sooner than this are short abandons,
    #: not lost calls (0: none, the standard's reading).
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S
    #: Seconds an agent's phone rings before it counts as a no-answer.
    ring_timeout_s: float = DEFAULT_RING_TIMEOUT_S
    #: Seconds before an agent who failed a caller is rung for it again, when
    #: no other free agent is left to try.
    retry_s: float = DEFAULT_RETRY_S
    #: No-answers in a row that pause the agent ("auto_pause"); 0 = never.
    max_no_answers: int = DEFAULT_MAX_NO_ANSWERS
    #: Queues of higher priority are served first when they compete for agents.
    priority: int = 0
    #: Offer the satisfaction survey (1-5 by keypad) after the call.
    survey: bool = False
    #: Display names for the console, per language (``kk``, ``ru``); a
    #: language without one shows the queue's name (issue 21).
    names: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}),
                                     hash=False)  # a mapping: the settings stay hashable
    #: The wallboard's alert thresholds (bailanys.queue.thresholds); None:
    #: the file's ``[thresholds]`` (or the defaults).
    thresholds: Thresholds | None = None

    def __post_init__(self) -> None:
        key = f"queues.{self.name}"
        self._check_names(key)
        if self.thresholds is not None and not isinstance(self.thresholds, Thresholds):
            try:
                object.__setattr__(self, "thresholds",
                                   parse_thresholds(self.thresholds, f"{key}.thresholds"))
            except ValueError as exc:
                where, _, message = str(exc).partition(": ")
                raise _bad(where, message) from None
        if not _NAME.fullmatch(self.name):
            raise _bad(key, f"expected a queue name of letters, digits, _ and -, got {self.name!r}")
        for skill in self.skills:
            if not _NAME.fullmatch(skill):
                raise _bad(f"{key}.skills", f"expected skill names, got {skill!r}")
        if len(set(self.skills)) != len(self.skills):
            raise _bad(f"{key}.skills", f"duplicate skill in {list(self.skills)}")
        try:
            object.__setattr__(self, "strategy", Strategy(self.strategy))
        except ValueError:
            choices = ", ".join(repr(s.value) for s in Strategy)
            raise _bad(
                f"{key}.strategy", f"expected one of {choices}, got {self.strategy!r}"
            ) from None
        _check_number(
            f"{key}.announce_interval_s",
            self.announce_interval_s,
            MIN_ANNOUNCE_INTERVAL_S,
            MAX_ANNOUNCE_INTERVAL_S,
        )
        if self.max_wait_s is not None:
            _check_number(f"{key}.max_wait_s", self.max_wait_s, 1, 86_400)
        if self.overflow is not None and self.overflow == self.name:
            raise _bad(f"{key}.overflow", "a queue cannot overflow to itself")
        if len(self.callback_key) != 1 or self.callback_key not in _DTMF_KEYS:
            got = self.callback_key
            raise _bad(f"{key}.callback_key", f"expected one DTMF key 0-9, * or #, got {got!r}")
        _check_number(f"{key}.wrap_up_s", self.wrap_up_s, 0, 3600)
        _check_number(f"{key}.short_abandon_s", self.short_abandon_s, 0, 600)
        _check_number(f"{key}.ring_timeout_s", self.ring_timeout_s, 1, 300)
        _check_number(f"{key}.retry_s", self.retry_s, 0, 300)
        _check_number(f"{key}.max_no_answers", self.max_no_answers, 0, 100)
        _check_number(f"{key}.priority", self.priority, 0, 100)

    def _check_names(self, key: str) -> None:
        if not isinstance(self.names, Mapping):
            raise _bad(f"{key}.names", f"expected {_TABLES['names']}, got {self.names!r}")
        for lang, text in self.names.items():
            if lang not in NAME_LANGUAGES:
                raise _bad(f"{key}.names.{lang}", "expected a display name in kk or ru "
                                                  f"(known: {', '.join(NAME_LANGUAGES)})")
            if not isinstance(text, str) or not text.strip():
                raise _bad(f"{key}.names.{lang}", f"expected a non-empty string, got {text!r}")
            if len(text) > MAX_DISPLAY_NAME:
                raise _bad(f"{key}.names.{lang}",
                           f"expected at most {MAX_DISPLAY_NAME} characters, got {len(text)}")
        object.__setattr__(self, "names", types.MappingProxyType(
            {lang: text.strip() for lang, text in self.names.items()}))

    def display_names(self) -> dict[str, str]:
        """The console's name per language (kk, ru), the queue's name where none is set."""
        return {lang: self.names.get(lang, self.name) for lang in NAME_LANGUAGES}


def _no_skills() -> Mapping[str, int]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class AgentSettings:
    """One ``[agents.USER]`` table: an operator and their skills."""

    #: SIP user of the operator's phone (as in ``[registrar.users]``).
    user: str
    #: Display name for the console.
    name: str = ""
    #: Skill -> level 1..10; ``kk`` and ``ru`` are language skills.
    skills: Mapping[str, int] = field(default_factory=_no_skills)

    def __post_init__(self) -> None:
        key = f"agents.{self.user}"
        if not _USER.fullmatch(self.user):
            raise _bad(key, f"expected a SIP user of letters, digits and ._~+-, got {self.user!r}")
        for skill, level in self.skills.items():
            if not _NAME.fullmatch(skill):
                raise _bad(f"{key}.skills", f"expected skill names, got {skill!r}")
            if isinstance(level, bool) or not isinstance(level, int):
                raise _bad(f"{key}.skills.{skill}", f"expected an integer level, got {level!r}")
            if not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
                raise _bad(
                    f"{key}.skills.{skill}",
                    f"expected a level between {MIN_SKILL_LEVEL} and {MAX_SKILL_LEVEL}, "
                    f"got {level}",
                )
        object.__setattr__(self, "skills", types.MappingProxyType(dict(self.skills)))

    @cached_property
    def skill_set(self) -> frozenset[str]:
        """The skill names, for subset tests when routing."""
        return frozenset(self.skills)

    @property
    def languages(self) -> tuple[str, ...]:
        """The language skills this agent has."""
        return tuple(s for s in self.skills if s in LANGUAGE_SKILLS)


@dataclass(frozen=True)
class QueueConfig:
    """All queues and agents; overflow targets checked (exist, no cycles)."""

    queues: Mapping[str, QueueSettings]
    agents: Mapping[str, AgentSettings]
    #: The file's ``[thresholds]``: the wallboard's alert levels of every
    #: queue without its own, and of the totals and languages.
    thresholds: Thresholds = field(default_factory=Thresholds)

    def thresholds_of(self, queue: str) -> Thresholds:
        """The alert thresholds of ``queue`` (its own, else the file's)."""
        settings = self.queues.get(queue)
        own = settings.thresholds if settings is not None else None
        return own if own is not None else self.thresholds

    def __post_init__(self) -> None:
        for name, queue in self.queues.items():
            if queue.name != name:
                raise _bad(f"queues.{name}", f"keyed as {name!r} but named {queue.name!r}")
            if queue.overflow is not None and queue.overflow not in self.queues:
                raise _bad(f"queues.{name}.overflow", f"unknown queue {queue.overflow!r}")
        for user, agent in self.agents.items():
            if agent.user != user:
                raise _bad(f"agents.{user}", f"keyed as {user!r} but has user {agent.user!r}")
        for name in self.queues:
            chain = [name]
            nxt = self.queues[name].overflow
            while nxt is not None:
                if nxt in chain:
                    path = " -> ".join([*chain[chain.index(nxt) :], nxt])
                    raise _bad(f"queues.{nxt}.overflow", f"overflow cycle {path}")
                chain.append(nxt)
                nxt = self.queues[nxt].overflow
        object.__setattr__(self, "queues", types.MappingProxyType(dict(self.queues)))
        object.__setattr__(self, "agents", types.MappingProxyType(dict(self.agents)))


# --- loading --------------------------------------------------------------------

_QUEUE_KEYS: dict[str, Kind] = {  # key -> kind of value expected in TOML
    "skills": Kind.STRINGS,
    "strategy": Kind.STRING,
    "announce_interval_s": Kind.NUMBER,
    "max_wait_s": Kind.NUMBER,
    "overflow": Kind.STRING,
    "callback": Kind.BOOLEAN,
    "callback_key": Kind.STRING,
    "wrap_up_s": Kind.NUMBER,
    "short_abandon_s": Kind.NUMBER,
    "ring_timeout_s": Kind.NUMBER,
    "retry_s": Kind.NUMBER,
    "max_no_answers": Kind.INTEGER,
    "priority": Kind.INTEGER,
    "survey": Kind.BOOLEAN,
    "names": Kind.TABLE,
    "thresholds": Kind.TABLE,
}
_AGENT_KEYS = {"name": Kind.STRING, "skills": Kind.TABLE}
assert set(_QUEUE_KEYS) == {f.name for f in fields(QueueSettings)} - {"name"}


#: What the tables of a queue or an agent hold, for the error message.
_TABLES = {"skills": "a table of skill = level",
           "names": 'a table such as { kk = "...", ru = "..." }',
           "thresholds": "a table of figure = [warn, alarm]"}


def _value(name: str, kind: Kind, value: Any) -> Any:
    """Check one TOML value; raise ValueError naming what was expected."""
    # The tables' contents are checked by the dataclasses (and thresholds.py).
    return check(kind, value, _TABLES.get(name) if kind is Kind.TABLE else None)


def _table(where: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"expected a table, got {value!r}", path=where, key=key)
    return value


def _read(where: str, key: str, table: Any, kinds: Mapping[str, Kind]) -> dict[str, Any]:
    """The keys of one ``[queues.NAME]`` or ``[agents.USER]`` table, checked."""
    out: dict[str, Any] = {}
    table = _table(where, key, table)
    for name, value in table.items():
        if name not in kinds:
            known = ", ".join(kinds)
            raise ConfigError(f"unknown key (known: {known})", path=where, key=f"{key}.{name}")
        try:
            out[name] = _value(name, kinds[name], value)
        except ValueError as exc:
            raise ConfigError(str(exc), path=where, key=f"{key}.{name}") from None
    return out


def load_queue_config(path: Path) -> QueueConfig:
    """Read and validate a queues file; raise ``ConfigError`` (one line)."""
    where = str(path)
    data = read_toml(Path(path))
    for section in data:
        if section not in ("queues", "agents", "thresholds"):
            raise ConfigError(
                "unknown section (expected [queues.NAME], [agents.USER] or [thresholds])",
                path=where, key=section)
    try:
        try:
            defaults = parse_thresholds(data.get("thresholds", {}), "thresholds")
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            raise ConfigError(message, path=where, key=key) from None
        queues = {
            name: _queue(where, name, t, defaults)
            for name, t in _table(where, "queues", data.get("queues", {})).items()
        }
        agents = {
            user: AgentSettings(user, **_read(where, f"agents.{user}", t, _AGENT_KEYS))
            for user, t in _table(where, "agents", data.get("agents", {})).items()
        }
        return QueueConfig(queues, agents, defaults)
    except ConfigError as exc:
        if exc.path is not None:
            raise
        message = str(exc).split(": ", 1)[1] if exc.key else str(exc)
        raise ConfigError(message, path=where, key=exc.key) from None


def _queue(where: str, name: str, table: Any, defaults: Thresholds) -> QueueSettings:
    """One ``[queues.NAME]``; its ``thresholds`` override the file's figure by figure."""
    values = _read(where, f"queues.{name}", table, _QUEUE_KEYS)
    if "thresholds" in values:
        try:
            values["thresholds"] = parse_thresholds(values["thresholds"],
                                                    f"queues.{name}.thresholds", defaults)
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            raise ConfigError(message, path=where, key=key) from None
    return QueueSettings(name, **values)
