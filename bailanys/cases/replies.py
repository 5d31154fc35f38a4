"""Templates of replies to a citizen, in Kazakh and Russian, with placeholders (issue 19).

Issue 19, "Requests (cases)": "Templates of replies in kk/ru with
placeholders". ``[cases] replies`` (``configs/case_replies.yaml``) holds
the replies an operator or a department sends about a request (registered,
forwarded, answered, deadline extended with the reason, complaint
confirmed / not confirmed, a repeat request joined to the open one)::

    replies:
      registered:
        title: {kk: ..., ru: ...}
        kk: "... {number} ... {deadline} ..."
        ru: "..."

A text may name only :data:`PLACEHOLDERS` (``str.format`` fields): the
request's number, its registration date and answer deadline, the
responsible department's and the topic's names, the centre's number and a
``reason`` the writer gives. Never the IIN, the phone number or the
description (DOMAIN.md item 11: confidential data only to the right
person; a reply may be read by someone else). :func:`parse` never raises
and names every mistake as ``file:line: field: message``
(:mod:`bailanys.yamlsrc`); :func:`load` raises :class:`RepliesError` with
all of them. :func:`render` is pure.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from bailanys.cases.deadlines import Named
from bailanys.cases.model import Case, clean_text
from bailanys.cases.templates import DEFAULT_CENTRE, day
from bailanys.errors import ConfigError, InputError
from bailanys.reports.topics import Topics
from bailanys.timezone import ALMATY
from bailanys.yamlsrc import Path_, Problem, Source, load_file

DEFAULT_FILE: Final = "configs/case_replies.yaml"
LANGS: Final = ("kk", "ru")
#: The names a reply may use: what identifies the request, never the citizen.
PLACEHOLDERS: Final = frozenset({"number", "date", "deadline", "department", "topic",
                                 "centre", "reason"})
#: Names a reply must never use: personal data (said so, not just "unknown").
PERSONAL: Final = frozenset({"iin", "phone", "name", "citizen", "description", "address"})
#: What ``{reason}`` becomes when the writer gives none: a gap to fill in.
NO_REASON: Final = {"kk": "[себебін жазыңыз]", "ru": "[укажите причину]"}
#: The longest reply text: a letter's paragraph, not a letter.
MAX_TEXT: Final = 2000


class RepliesError(ConfigError):
    """The reply templates have problems (``problems``, one file:line a line)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Reply:
    id: str
    title: Mapping[str, str]  # lang -> title
    text: Mapping[str, str]  # lang -> template


@dataclass(frozen=True)
class Replies:
    items: tuple[Reply, ...]
    file: str = ""

    def get(self, reply_id: str) -> Reply | None:
        return next((r for r in self.items if r.id == reply_id), None)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.items]


def _fields(src: Source, text: str, path: Path_) -> None:
    """A problem for each field of ``text`` that is not a placeholder."""
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(text) if n is not None]
    except ValueError as exc:
        src.problem(path, f"bad placeholder syntax: {exc} (write {{{{ for a brace)")
        return
    for name in names:
        if name in PERSONAL:
            src.problem(path, f"{{{name}}}: personal data never goes into a reply")
        elif name not in PLACEHOLDERS:
            src.problem(path, f"unknown placeholder {{{name}}} (known: "
                        + ", ".join(sorted(PLACEHOLDERS)) + ")")


def _langs(src: Source, body: Any, path: Path_, what: str, limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang in LANGS:
        text = body.get(lang) if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            src.problem(path + (lang,), f"no {lang} {what}")
        elif len(text) > limit:
            src.problem(path + (lang,), f"longer than {limit} characters")
        else:
            out[lang] = " ".join(text.split())
    return out


def _reply(src: Source, rid: str, body: Any) -> Reply | None:
    path: Path_ = ("replies", rid)
    if not isinstance(body, dict):
        src.problem(path, "expected {title: {kk, ru}, kk: text, ru: text}")
        return None
    for key in sorted(set(body) - {"title", *LANGS}):
        src.problem(path + (key,), "unknown key (title, kk, ru)")
    title = _langs(src, body.get("title"), path + ("title",), "title", 120)
    text = _langs(src, body, path, "text", MAX_TEXT)
    for lang, t in text.items():
        _fields(src, t, path + (lang,))
    if len(title) < len(LANGS) or len(text) < len(LANGS):
        return None
    return Reply(rid, title, text)


def parse(src: Source) -> tuple[Replies | None, list[Problem]]:
    """The replies of a parsed file, or None and every problem."""
    data = src.data
    if not isinstance(data, dict) or not isinstance(data.get("replies"), dict):
        if not src.problems:
            src.problem((), "expected a mapping with `replies: {ID: {title, kk, ru}}`")
        return None, list(src.problems)
    for key in sorted(set(data) - {"replies"}):
        src.problem((key,), "unknown key")
    items: list[Reply] = []
    for rid, body in data["replies"].items():
        if not rid.replace("_", "").isalnum() or not rid.isascii():
            src.problem(("replies", rid), "an id is latin letters, digits and _")
            continue
        reply = _reply(src, rid, body)
        if reply is not None:
            items.append(reply)
    if not data["replies"]:
        src.problem(("replies",), "no replies")
    if src.problems:
        return None, list(src.problems)
    return Replies(tuple(items), src.file), []


def problems(path: str | Path) -> list[str]:
    """``bailanys cases check``: each problem as ``file:line: field: message``."""
    return [str(p) for p in parse(load_file(Path(path)))[1]]


def load(path: str | Path = DEFAULT_FILE) -> Replies:
    """The replies of ``path`` (blocking file I/O), or :class:`RepliesError`."""
    replies, found = parse(load_file(Path(path)))
    if replies is None:
        raise RepliesError(found)
    return replies


def _deadline(case: Case) -> date | None:
    return case.deadline or max((q.deadline for q in case.questions), default=None)


def _department(case: Case, departments: Mapping[str, Named], lang: str) -> str:
    q = next((q for q in case.questions if q.open), case.questions[0] if case.questions
             else None)
    if q is None:
        return ""
    named = departments.get(q.department)
    return q.department if named is None else (named.kk if lang == "kk" else named.ru)


def values(case: Case, lang: str, *, departments: Mapping[str, Named],
           topics: Topics | None = None, centre: str = DEFAULT_CENTRE,
           reason: str = "") -> dict[str, str]:
    """What each placeholder stands for in ``case``'s reply in ``lang``."""
    due = _deadline(case)
    return {
        "number": case.number,
        "date": day(case.created_at.astimezone(ALMATY).date()),
        "deadline": day(due) if due else "",
        "department": _department(case, departments, lang),
        "topic": topics.names(case.topic, lang) if topics is not None else case.topic,
        "centre": centre,
        "reason": " ".join(reason.split()) or NO_REASON[lang],
    }


def render(reply: Reply, case: Case, lang: str, *, departments: Mapping[str, Named],
           topics: Topics | None = None, centre: str = DEFAULT_CENTRE,
           reason: str = "") -> str:
    """``reply``'s text for ``case`` in ``lang`` (kk or ru, else
    :class:`InputError`); a reason given by the writer is masked like any
    free text (:func:`bailanys.cases.model.clean_text`)."""
    if lang not in LANGS:
        raise InputError(f"the reply's language must be kk or ru, not {lang!r}")
    why = clean_text(reason, "the reason", required=False)
    return reply.text[lang].format(**values(case, lang, departments=departments,
                                            topics=topics, centre=centre, reason=why))
