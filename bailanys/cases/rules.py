"""The requests' rules as the engine and the CLI load them (issue 19).

``[cases] file`` (the routing table, :mod:`bailanys.cases.deadlines`),
``[cases] calendar_dir`` (the working-day calendar,
:mod:`bailanys.cases.calendar`) and ``[reports] topics`` (the topic ids the
routing table may name). :func:`problems` is ``bailanys cases check`` and
the ``[cases]`` part of ``bailanys config check``: every problem as one line
``file[:line]: key: message``; the systems' tokens file (``[cases]
api_tokens``, :mod:`bailanys.cases.apitokens`) and the replies' templates
(``[cases] replies``, :mod:`bailanys.cases.replies`) are read too. Blocking file
I/O: call it from a thread when an event loop runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bailanys.cases import apitokens, replies
from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import Calendar, load_dir
from bailanys.config import Config
from bailanys.errors import ConfigError
from bailanys.yamlsrc import load_file


@dataclass(frozen=True, slots=True)
class Rules:
    """What a :class:`~bailanys.cases.store.CaseStore` needs besides its connection."""

    cases: dl.CasesConfig
    calendar: Calendar
    topics: frozenset[str] | None  # None: no topics file, topics not checked


def _topics(config: Config) -> tuple[frozenset[str] | None, list[str]]:
    from bailanys.reports.topics import for_check

    topics, own = for_check(config.reports.topics)
    return (None if topics is None else frozenset(topics.ids)), [str(p) for p in own]


def problems(config: Config, *, with_replies: bool = True) -> list[str]:
    """Every problem of the routing table and the calendar (and the replies'
    templates unless ``with_replies`` is false); [] when all is well."""
    if not config.cases.enabled:
        return []
    topics, out = _topics(config)
    path = Path(config.cases.file)
    where = config.source or "<defaults>"
    if not path.is_file():
        out.append(f"{where}: cases.file: no such file: {path}")
    else:
        out += [str(p) for p in dl.parse(load_file(path), topics)[1]]
    cal_dir = Path(config.cases.calendar_dir)
    if not cal_dir.is_dir():
        out.append(f"{where}: cases.calendar_dir: no such directory: {cal_dir}")
    else:
        try:
            load_dir(cal_dir)
        except ConfigError as exc:
            out.append(str(exc))
    try:
        apitokens.load(config.cases.api_tokens)
    except ConfigError as exc:
        out.append(str(exc))
    if with_replies and config.cases.replies:
        out += replies.problems(config.cases.replies)
    return out


def load(config: Config) -> Rules:
    """The rules, or :class:`ConfigError` with the first problem."""
    found = problems(config, with_replies=False)  # a bad reply stops no request
    if found:
        raise ConfigError("; ".join(found), key="cases.file")
    topics, _ = _topics(config)
    return Rules(dl.load(config.cases.file, topics), load_dir(Path(config.cases.calendar_dir)),
                 topics)
