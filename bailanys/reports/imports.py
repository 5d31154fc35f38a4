"""Contacts of the centre's other channels, imported from CSV per period (issue 17).

The engine sees its calls; chat, e-mail, letters and SMS written to the
centre live elsewhere. Appendix 2 row 14 (contacts per channel) and the
feedback procedure (contacts and complaints per channel, time to answer)
need them too, so an analyst imports each channel's records for a period:
``bailanys report import FILE --since --until`` or the Reports page.

The file: UTF-8 (Excel's "CSV UTF-8") or Windows-1251 (Excel's Russian
"CSV"), comma or semicolon separated, a header row first. Columns, by any
of their names (English, Kazakh, Russian; case and ``_`` ignored):

=====================  =========================================  ========
column                 values                                     required
=====================  =========================================  ========
date                   YYYY-MM-DD or DD.MM.YYYY, within the period  yes
channel                chat, email, letter, sms, other (or kk/ru)   yes
topic                  a classifier topic id                        no
region                 a region id or its kk/ru name                no
complaint              yes/no (1/0, иә/жоқ, да/нет)                 no
complaint_confirmed    yes/no: the verdict on the complaint         no
resolved               yes/no                                       no
answer_hours           hours from registration to the answer        no
language, age_band, sex, social_status, survey_score (1-5)          no
count                  how many such contacts (default 1)           no
=====================  =========================================  ========

No personal data: a column that looks like one (IIN, phone, name, e-mail
address, postal address, card) is refused, as is any unknown column.
Every problem is reported as ``file:line: column: message`` and nothing is
imported while one remains. One import is one ``contact_imports`` batch;
importing a file of the same name for the same period again replaces it.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Final

from bailanys.errors import InputError
from bailanys.reports.contacts import INSERT, row
from bailanys.reports.importtexts import (
    CHANNEL_NAMES,
    COLUMNS,
    NO,
    PERSONAL,
    REQUIRED,
    SEX_NAMES,
    YES,
    text,
)
from bailanys.reports.model import (
    AGE_BANDS,
    ENGINE_CHANNELS,
    OTHER_AGE,
    REGIONS,
    UNKNOWN_REGION,
    Contact,
    ContactChannel,
    RegionSource,
    Sex,
    SocialStatus,
    TopicSource,
)
from bailanys.store.syncdb import SyncConnection, scalar, write_transaction
from bailanys.yamlsrc import Problem

#: A file larger than this is refused before it is read (a quarter of a
#: busy chat channel, one row per contact, is a few tens of megabytes).
MAX_BYTES: Final = 64 * 1024 * 1024
#: Contacts one import may add (rows times ``count``): more than a year of
#: the 1414 centre's ~50,000 contacts a day across channels is a mistake.
MAX_CONTACTS: Final = 20_000_000
#: ``count`` of one row at most (a day's letters on one topic fit).
MAX_COUNT: Final = 100_000
#: Problems listed before the rest are summarised.
MAX_PROBLEMS: Final = 50
#: ``answer_hours`` at most: a year (the feedback procedure's answers take days).
MAX_ANSWER_HOURS: Final = 24 * 366.0

def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("\u2013", "-").casefold().split())


_BY_NAME: Final = {_norm(n): col for col, names in COLUMNS.items() for n in names}
_CHANNEL_BY_NAME: Final = {_norm(n): ContactChannel(c)
                           for c, ns in CHANNEL_NAMES.items() for n in ns}
_REGION_BY_NAME: Final = {_norm(n): r.id for r in REGIONS for n in (r.id, r.kk, r.ru)}


class ImportProblems(InputError):
    """The file cannot be imported: every problem found (``file:line: column: message``)."""

    def __init__(self, problems: list[Problem], more: int = 0, lang: str = "en") -> None:
        self.problems = tuple(problems)
        self.more = more
        lines = [str(p) for p in problems]
        if more:
            lines.append(text("more", lang, count=more))
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class ImportResult:
    batch: int  # contact_imports.id
    contacts: int  # rows written (each row times its count)
    replaced: int  # contacts of the earlier import of this name and period, removed


def decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else Windows-1251."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def parse(content: str, name: str, since: date, until: date, tz: tzinfo,
          topics: frozenset[str] | None = None, lang: str = "en",
          ) -> list[tuple[Contact, int]]:
    """The file's contacts with their counts; raises :class:`ImportProblems`
    (its messages in ``lang``: en, kk, ru)."""
    if until < since:
        raise ImportProblems([Problem(name, 0, "", text("period", lang, since=since,
                                                        until=until))], lang=lang)
    reader = csv.reader(io.StringIO(content), dialect=_dialect(content))
    problems: list[Problem] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportProblems([Problem(name, 1, "", text("not_csv", lang, detail=exc))],
                             lang=lang) from exc
    columns = _header(header or [], _Where(name, 1, problems, lang))
    if problems:
        raise ImportProblems(problems, lang=lang)
    out: list[tuple[Contact, int]] = []
    total = more = 0
    for line, cells in _lines(reader, _Where(name, 1, problems, lang)):
        at = _Where(name, line, problems, lang)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header or ()):
            at.bad("", "cells", cells=len(cells), header=len(header or ()))
            continue
        got = _row(cells, columns, at, since, until, tz, topics)
        if len(problems) > MAX_PROBLEMS:
            more += len(problems) - MAX_PROBLEMS
            del problems[MAX_PROBLEMS:]
        if got is not None:
            out.append(got)
            total += got[1]
            if total > MAX_CONTACTS:
                at.bad("count", "too_many", max=MAX_CONTACTS)
                break
    if problems:
        raise ImportProblems(problems, more, lang)
    if not out:
        raise ImportProblems([Problem(name, 0, "", text("empty", lang))], lang=lang)
    return out


def _lines(reader: Iterator[list[str]], at: _Where) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of the data rows; a broken CSV (a stray or unclosed
    quote) ends the file with a problem instead of a traceback."""
    line = 1
    try:
        for cells in reader:
            line = getattr(reader, "line_num", line + 1)
            yield line, cells
    except csv.Error as exc:
        at.line = line + 1
        at.bad("", "not_csv", detail=exc)


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    return _Semicolon if first.count(";") > first.count(",") else _Comma


class _Comma(csv.excel):
    strict = True  # a stray quote is a problem to report, not a guess


class _Semicolon(_Comma):
    delimiter = ";"


def _header(cells: list[str], at: _Where) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = _norm(cell)
        col = _BY_NAME.get(key)
        where = cell.strip() or f"#{i + 1}"
        if col is None and any(p in key for p in PERSONAL):
            at.bad(where, "personal")
        elif col is None:
            at.bad(where, "unknown_column", columns=", ".join(COLUMNS))
        elif col in columns:
            at.bad(where, "twice", name=col)
        else:
            columns[col] = i
    for col in REQUIRED:
        if col not in columns and not at.problems:
            at.bad(col, "missing")
    return columns


@dataclass(slots=True)
class _Where:
    """Where problems go: the file, the line, the list, the analyst's language."""

    file: str
    line: int
    problems: list[Problem]
    lang: str = "en"

    def bad(self, column: str, key: str, **values: object) -> None:
        self.problems.append(Problem(self.file, self.line, column,
                                     text(key, self.lang, **values)))


def _row(cells: list[str], columns: Mapping[str, int], at: _Where, since: date, until: date,
         tz: tzinfo, topics: frozenset[str] | None) -> tuple[Contact, int] | None:
    value = {col: cells[i].strip() if i < len(cells) else "" for col, i in columns.items()}
    before = len(at.problems)
    day = _date(value["date"], at, since, until)
    channel = _channel(value["channel"], at)
    topic = value.get("topic") or None
    if topic is not None and topics is not None and topic not in topics:
        at.bad("topic", "not_topic", value=repr(topic))
    region = _region(value.get("region", ""), at)
    complaint = _bool(value.get("complaint", ""), "complaint", at) or False
    confirmed = _bool(value.get("complaint_confirmed", ""), "complaint_confirmed", at)
    if confirmed is not None and not complaint:
        at.bad("complaint_confirmed", "verdict")
    contact = Contact(
        started=0.0, day="", channel=channel or ContactChannel.OTHER,
        language=_choice(value.get("language", ""), ("kk", "ru", "en"), "language", at),
        topic=topic, topic_source=TopicSource.IMPORT if topic else None,
        region=region or UNKNOWN_REGION, region_source=RegionSource.IMPORT if region else None,
        age_band=_choice(value.get("age_band", ""), (*AGE_BANDS, OTHER_AGE), "age_band", at),
        sex=_sex(value.get("sex", ""), at),
        social_status=_status(value.get("social_status", ""), at),
        resolved=_bool(value.get("resolved", ""), "resolved", at),
        complaint=complaint, complaint_confirmed=confirmed,
        survey_score=_int(value.get("survey_score", ""), "survey_score", 1, 5, at),
        answer_s=_hours(value.get("answer_hours", ""), at),
    )
    count = _int(value.get("count", ""), "count", 1, MAX_COUNT, at) or 1
    if len(at.problems) > before or day is None:
        return None
    started = datetime.combine(day, datetime.min.time(), tz).timestamp()
    return replace(contact, started=started, day=day.isoformat()), count


def _date(value: str, at: _Where, since: date, until: date) -> date | None:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if not since <= day <= until:
            at.bad("date", "outside", value=value, since=since, until=until)
            return None
        return day
    at.bad("date", "not_date", value=repr(value))
    return None


def _channel(value: str, at: _Where) -> ContactChannel | None:
    channel = _CHANNEL_BY_NAME.get(_norm(value))
    if channel is None and _norm(value) in {c.value for c in ENGINE_CHANNELS}:
        at.bad("channel", "engine_channel", value=repr(value))
    elif channel is None:
        at.bad("channel", "one_of", value=repr(value), allowed=", ".join(CHANNEL_NAMES))
    return channel


def _region(value: str, at: _Where) -> str | None:
    if not value or _norm(value) == UNKNOWN_REGION:
        return None
    region = _REGION_BY_NAME.get(_norm(value))
    if region is None:
        at.bad("region", "region", value=repr(value))
    return region


def _bool(value: str, column: str, at: _Where) -> bool | None:
    key = _norm(value)
    if not key:
        return None
    if key in YES or key in NO:
        return key in YES
    at.bad(column, "yes_no", value=repr(value))
    return None


def _int(value: str, column: str, low: int, high: int, at: _Where) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        at.bad(column, "whole", value=repr(value), low=low, high=high)
        return None
    return number


def _hours(value: str, at: _Where) -> float | None:
    if not value:
        return None
    try:
        hours = float(value.replace(",", ".").replace(" ", ""))
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= MAX_ANSWER_HOURS:  # NaN fails too
        at.bad("answer_hours", "hours", value=repr(value), max=f"{MAX_ANSWER_HOURS:.0f}")
        return None
    return round(hours * 3600.0, 3)


def _choice(value: str, allowed: tuple[str, ...], column: str, at: _Where) -> str | None:
    key = _norm(value)
    if not key:
        return None
    if key not in allowed:
        at.bad(column, "one_of", value=repr(value), allowed=", ".join(allowed))
        return None
    return key


def _sex(value: str, at: _Where) -> Sex | None:
    key = _norm(value)
    if key and key not in SEX_NAMES:
        at.bad("sex", "sex", value=repr(value))
    return SEX_NAMES.get(key)


def _status(value: str, at: _Where) -> SocialStatus | None:
    key = _norm(value).replace(" ", "_")
    if not key:
        return None
    if key not in {s.value for s in SocialStatus}:
        at.bad("social_status", "one_of", value=repr(value), allowed=", ".join(SocialStatus))
        return None
    return SocialStatus(key)


def store(conn: SyncConnection, contacts: list[tuple[Contact, int]], name: str,
          since: date, until: date, user: str, now: float) -> ImportResult:
    """One batch in one transaction, replacing an earlier import of ``name``
    for the same period (its rows deleted explicitly: the store does not
    enable SQLite's foreign keys)."""
    with write_transaction(conn):
        old = [r[0] for r in conn.execute(
            "SELECT id FROM contact_imports WHERE name = ? AND since = ? AND until = ?",
            (name, since.isoformat(), until.isoformat()))]
        replaced = 0
        for batch in old:
            replaced += conn.execute("DELETE FROM contacts WHERE import_batch = ?",
                                     (batch,)).rowcount
            conn.execute("DELETE FROM contact_imports WHERE id = ?", (batch,))
        total = sum(n for _, n in contacts)
        batch_id = int(scalar(
            conn, 'INSERT INTO contact_imports (name, since, until, rows, imported, "user") '
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (name, since.isoformat(), until.isoformat(), total, now, user)))
        conn.executemany(INSERT, _rows(contacts, batch_id))
    return ImportResult(batch_id, total, replaced)


def _rows(contacts: list[tuple[Contact, int]], batch: int) -> Iterator[tuple[object, ...]]:
    for contact, count in contacts:
        values = row(replace(contact, import_batch=batch))
        for _ in range(count):
            yield values


def import_csv(conn: SyncConnection, data: bytes, name: str, since: date, until: date,
               tz: tzinfo, *, topics: frozenset[str] | None = None, user: str = "",
               now: float | None = None, lang: str = "en") -> ImportResult:
    """Validate ``data`` (the file's bytes) and store it as one batch (what
    the CLI and the Reports page call); raises :class:`ImportProblems`,
    its messages in ``lang`` (en, kk, ru: the analyst's)."""
    if len(data) > MAX_BYTES:
        raise ImportProblems([Problem(name, 0, "", text("too_big", lang,
                                                        mib=MAX_BYTES // 2**20))], lang=lang)
    contacts = parse(decode(data), name, since, until, tz, topics, lang)
    return store(conn, contacts, name, since, until, user, time.time() if now is None else now)
