"""The topic classifier: a YAML tree of groups and topics with kk/ru names (issue 17).

Issue 17, "Topic of each contact from a classifier (a YAML tree of topics
with kk/ru names, in ``configs/``, validated)"; the methodology of request
analysis (2024) counts contacts by topic, and the semi-annual form
(Appendix 2, row 8) lists the topics the centre consults on. The file::

    groups:
      - id: documents
        kk: Құжаттандыру және тіркеу
        ru: Документирование и регистрация
        topics:
          - {id: passport, kk: Шетелге шығу төлқұжаты, ru: Заграничный паспорт}

is read like a flow (:mod:`bailanys.yamlsrc`): :func:`parse` never raises and
names every mistake as ``file:line: field: message``; :func:`load` raises
:class:`TopicsError` with all of them. Ids are ``[a-z0-9_]+`` and unique
across groups and topics (a report keys its rows by them). Pure: no I/O but
the one file read in :func:`load_problems`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bailanys.errors import ConfigError
from bailanys.yamlsrc import Path_, Problem, Source, load_file

#: The languages every name is written in (reports are in Kazakh and Russian).
LANGS: Final = ("kk", "ru")
log = logging.getLogger(__name__)

_ID: Final = re.compile(r"^[a-z0-9_]+$")
_GROUP_FIELDS: Final = frozenset({"id", "kk", "ru", "topics"})
_TOPIC_FIELDS: Final = frozenset({"id", "kk", "ru"})


class TopicsError(ConfigError):
    """The classifier file has problems; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    kk: str
    ru: str
    group: str  # the id of its group

    def name(self, lang: str) -> str:
        """The name in ``lang`` (kk, ru); Russian for any other language."""
        return self.kk if lang == "kk" else self.ru


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    kk: str
    ru: str
    topics: tuple[str, ...]  # topic ids, in the file's order

    def name(self, lang: str) -> str:
        return self.kk if lang == "kk" else self.ru


@dataclass(frozen=True)
class Topics:
    """The classifier: groups and their topics, in the file's order."""

    groups: tuple[Group, ...]
    topics: tuple[Topic, ...]
    file: str = ""
    _by_id: dict[str, Topic] = field(init=False, repr=False, compare=False)
    _groups: dict[str, Group] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {t.id: t for t in self.topics})
        object.__setattr__(self, "_groups", {g.id: g for g in self.groups})

    @property
    def ids(self) -> frozenset[str]:
        """Every topic id (what events and ``contacts.topic`` may hold)."""
        return frozenset(self._by_id)

    def get(self, topic_id: str) -> Topic | None:
        return self._by_id.get(topic_id)

    def group(self, group_id: str) -> Group | None:
        return self._groups.get(group_id)

    def names(self, topic_id: str, lang: str) -> str:
        """The topic's name in ``lang``; a group id gives the group's name; an
        unknown id comes back as itself (an old id a report still meets)."""
        topic = self.get(topic_id)
        if topic is not None:
            return topic.name(lang)
        group = self.group(topic_id)
        return group.name(lang) if group is not None else topic_id

    def group_of(self, topic_id: str) -> str | None:
        """The id of the topic's group; ``None`` for an unknown topic."""
        topic = self.get(topic_id)
        return topic.group if topic is not None else None


def _name(src: Source, body: dict[str, Any], path: Path_, lang: str) -> str:
    value = body.get(lang)
    if not isinstance(value, str) or not value.strip():
        src.problem(path + (lang,), f"a non-empty {lang} name is required")
        return ""
    return value.strip()


def _ident(src: Source, body: dict[str, Any], path: Path_, seen: dict[str, int]) -> str:
    value = body.get("id")
    if not isinstance(value, str) or not _ID.match(value):
        src.problem(path + ("id",), "an id is lower-case latin letters, digits and _ "
                    "([a-z0-9_]+)")
        return ""
    if value in seen:
        src.problem(path + ("id",), f"duplicate id {value!r} (also on line {seen[value]})")
        return ""
    seen[value] = src.line(path + ("id",))
    return value


def _unknown(src: Source, body: dict[str, Any], path: Path_, known: frozenset[str]) -> None:
    for key in sorted(set(body) - known):
        src.problem(path + (key,), f"unknown field (expected {', '.join(sorted(known))})")


def _group(src: Source, body: Any, path: Path_, seen: dict[str, int],
           topics: list[Topic]) -> Group | None:
    if not isinstance(body, dict):
        src.problem(path, "a group is a mapping: {id: ..., kk: ..., ru: ..., topics: [...]}")
        return None
    _unknown(src, body, path, _GROUP_FIELDS)
    gid = _ident(src, body, path, seen)
    kk, ru = _name(src, body, path, "kk"), _name(src, body, path, "ru")
    raw = body.get("topics")
    if not isinstance(raw, list) or not raw:
        src.problem(path + ("topics",), "a group needs a list of topics")
        raw = []
    ids: list[str] = []
    for i, item in enumerate(raw):
        tp = path + ("topics", i)
        if not isinstance(item, dict):
            src.problem(tp, "a topic is a mapping: {id: ..., kk: ..., ru: ...}")
            continue
        _unknown(src, item, tp, _TOPIC_FIELDS)
        tid = _ident(src, item, tp, seen)
        tkk, tru = _name(src, item, tp, "kk"), _name(src, item, tp, "ru")
        if tid:
            topics.append(Topic(tid, tkk, tru, gid))
            ids.append(tid)
    return Group(gid, kk, ru, tuple(ids)) if gid else None


def parse(src: Source) -> tuple[Topics, list[Problem]]:
    """Validate a parsed YAML source into the classifier plus its problems."""
    empty = Topics((), (), src.file)
    if src.data is None:
        return empty, list(src.problems)
    if not isinstance(src.data, dict) or not isinstance(src.data.get("groups"), list):
        src.problem((), "the file must be a mapping with a list under 'groups'")
        return empty, list(src.problems)
    _unknown(src, src.data, (), frozenset({"groups"}))
    seen: dict[str, int] = {}
    groups: list[Group] = []
    topics: list[Topic] = []
    for i, body in enumerate(src.data["groups"]):
        group = _group(src, body, ("groups", i), seen, topics)
        if group is not None:
            groups.append(group)
    if not topics and not src.problems:
        src.problem(("groups",), "no topics")
    return Topics(tuple(groups), tuple(topics), src.file), list(src.problems)


def load_problems(path: str | Path) -> tuple[Topics, list[Problem]]:
    """Read and validate ``path``; never raises."""
    return parse(load_file(Path(path)))


def load(path: str | Path) -> Topics:
    """Read ``path``, raising :class:`TopicsError` if anything is wrong."""
    topics, problems = load_problems(path)
    if problems:
        raise TopicsError(problems)
    return topics


def topic_tree(path: str | Path) -> Topics | None:
    """The classifier for a check at the source (the console's disposition);
    ``None`` when there is no such file, or it has problems (logged:
    ``bailanys topics check`` names them), so nothing is refused."""
    if not Path(path).is_file():
        log.info("no topic classifier at %s: topics are not checked", path)
        return None
    topics, problems = load_problems(path)
    if problems:
        log.error("topic classifier %s not used (%d problems; bailanys topics check): %s",
                  path, len(problems), problems[0])
        return None
    return topics


def for_check(path: str | Path) -> tuple[Topics | None, list[Problem]]:
    """The classifier to check FAQ and flow topics against, and its own
    problems; ``(None, [])`` when no file is there (nothing to check)."""
    if not str(path) or not Path(path).is_file():
        return None, []
    topics, problems = load_problems(path)
    return (None if problems else topics), problems


def unknown_topics(topics: Topics, used: Iterable[tuple[str, int, str, str]]) -> list[Problem]:
    """Problems for the topic ids in ``used`` — (file, line, field, topic) from a
    FAQ or a flow — that the classifier does not have."""
    return [Problem(file, line, fld, f"unknown topic {topic!r} (not in {topics.file})")
            for file, line, fld, topic in used if topics.get(topic) is None]
