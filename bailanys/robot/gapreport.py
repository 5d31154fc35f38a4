"""``bailanys faq gaps``: the period's unanswered questions, clustered, as FAQ candidates.

Issue 18 (:mod:`bailanys.robot.gaps` keeps the questions, masked;
:mod:`bailanys.robot.gapcluster` groups them). Here: the period argument,
reading the ``faq_gaps`` table (read-only SQLite; the CLI's own process,
no event loop), and the text and CSV output with Kazakh, Russian or English
labels. A call whose transcript exists (the analytics ``utterances``
table, schema v3) is given as the analysts' page link ``/analytics#call=ID``.
The period's operator calls add their callers' questions from the
transcripts (:mod:`bailanys.robot.gapcalls`, issue 17), clustered with the
robot's; the clusters of calls the FAQ answers confidently are left out
(:func:`~bailanys.robot.gapcalls.candidates`, by the command).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from bailanys.errors import InputError
from bailanys.robot.gapcalls import call_questions, from_calls, from_robot
from bailanys.robot.gapcluster import MAX_QUESTIONS, Cluster, Question
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, connect_sync, has_tables
from bailanys.storeurl import redact

#: The longest period: ten years (a typo such as 2062 gets a clear answer).
MAX_PERIOD_DAYS: Final = 3660
#: Example calls given per cluster (the nearest its centroid first).
EXAMPLE_CALLS: Final = 3
#: The analysts' page shows a call at this link (console/static/analytics.js).
CALL_LINK: Final = "/analytics#call={}"
_QUARTER: Final = re.compile(r"(\d{4})-[Qq]([1-4])")

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {"title": "Unanswered questions {start}..{end}: {n} in all; clusters: {k}",
           "questions": "questions", "example": "example", "terms": "terms",
           "nearest": "nearest FAQ entry", "none": "none", "outcomes": "outcomes",
           "calls": "calls", "empty": "No unanswered questions kept in {start}..{end}.",
           "lang": "language", "sources": "asked: robot {r}, operators {c}",
           "from_calls": "of them from operator calls' transcripts: {c}; clusters the FAQ already"
                    " answers, left out: {a}"},
    "kk": {"title": "{start}..{end} аралығында жауапсыз қалған сұрақтар: барлығы {n}; топтар: {k}",
           "questions": "сұрақ саны", "example": "мысал", "terms": "негізгі сөздер",
           "nearest": "ең жақын FAQ жазбасы", "none": "жоқ", "outcomes": "нәтижелер",
           "calls": "қоңыраулар", "empty": "{start}..{end} аралығында жауапсыз сұрақ жоқ.",
           "lang": "тіл", "sources": "кімге қойылған: роботқа {r}, операторға {c}",
           "from_calls": "оның ішінде операторға жеткен қоңыраулардың мәтіндерінен: {c}; FAQ-та"
                    " сенімді жауабы бар топтар енгізілмеді: {a}"},
    "ru": {"title": "Вопросы без ответа за {start}..{end}: всего {n}; групп: {k}",
           "questions": "вопросов", "example": "пример", "terms": "ключевые слова",
           "nearest": "ближайшая статья FAQ", "none": "нет", "outcomes": "исходы",
           "calls": "звонки", "empty": "За {start}..{end} вопросов без ответа нет.",
           "lang": "язык", "sources": "кому заданы: роботу {r}, операторам {c}",
           "from_calls": "из них из расшифровок звонков операторам: {c}; не включены группы, на"
                    " которые в FAQ уже есть уверенный ответ: {a}"},
}
CSV_HEADER: Final = ("rank", "language", "count", "representative", "terms", "nearest_entry",
                     "nearest_title", "similarity", "outcomes", "calls", "from_robot",
                     "from_calls")


class PeriodError(InputError):
    """A ``--period`` that is not START..END (ISO dates) or YYYY-Qn."""


def parse_period(text: str) -> tuple[date, date]:
    """``2026-10-01..2026-12-31`` (both days included) or ``2026-Q4`` -> (first, last day)."""
    text = text.strip()
    quarter = _QUARTER.fullmatch(text)
    if quarter:
        year, q = int(quarter[1]), int(quarter[2])
        first = date(year, 3 * q - 2, 1)
        last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return first, date.fromordinal(last.toordinal() - 1)
    start, sep, end = text.partition("..")
    if not sep:
        raise PeriodError(f"expected START..END such as 2026-10-01..2026-12-31, or 2026-Q4;"
                          f" got {text!r}")
    try:
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        raise PeriodError(f"expected dates as YYYY-MM-DD in {text!r}") from None
    if last < first:
        raise PeriodError(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise PeriodError(f"the period is longer than {MAX_PERIOD_DAYS} days: {text!r}")
    return first, last


@dataclass(frozen=True)
class Kept:
    """The period's kept questions and the calls among them that have a transcript;
    ``calls``: how many questions came from operator calls (first in ``questions``)."""

    questions: list[Question]
    transcribed: frozenset[str]
    calls: int = 0


def read_gaps(path: str, first: date, last: date, lang: str | None = None) -> Kept:
    """The questions kept from ``first`` to ``last`` (local days, both included), read-only.

    ``path``: the store file or a ``postgresql://`` URL (``store.syncdb``). A
    failing store and one without the table (schema < 4) raise LookupError.
    """
    try:
        conn = connect_sync(path, readonly=True)
    except STORE_ERRORS as exc:
        raise LookupError(f"{redact(path)}: {exc}") from None
    try:
        if not has_tables(conn, "faq_gaps"):
            raise LookupError(f"{redact(path)} keeps no questions yet (schema older than 4): "
                              "start `bailanys serve` once to upgrade it")
        sql = ("SELECT text, language, call_id, outcome, resolution FROM faq_gaps"
               " WHERE day BETWEEN ? AND ?"
               + (" AND language = ?" if lang else "") + " ORDER BY ts DESC LIMIT ?")
        params: list[object] = [first.isoformat(), last.isoformat()]
        params += [lang] if lang else []
        calls = [q for q in call_questions(conn, first, last) if not lang or q.lang == lang]
        rows = conn.execute(sql, [*params, MAX_QUESTIONS - len(calls)]).fetchall()
        questions = calls + [Question(str(t), str(la), str(c), _outcome(str(o), str(r)))
                             for t, la, c, o, r in rows]
        return Kept(questions, _transcribed(conn, {q.call_id for q in questions}), len(calls))
    except STORE_ERRORS as exc:
        raise LookupError(f"{redact(path)}: {exc}") from None
    finally:
        conn.close()


def _outcome(outcome: str, resolution: str) -> str:
    """``clarify/answered`` (the caller chose an entry), ``clarify/no_input``..., or
    the outcome alone."""
    return f"{outcome}/{resolution.split(':', 1)[0]}" if resolution else outcome


def _transcribed(conn: SyncConnection, calls: set[str]) -> frozenset[str]:
    if not calls or not has_tables(conn, "utterances"):
        return frozenset()
    found: set[str] = set()
    ids = sorted(calls)
    for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        found |= {str(r[0]) for r in conn.execute(
            f"SELECT DISTINCT call_id FROM utterances WHERE call_id IN ({marks})", part)}
    return frozenset(found)


def example_calls(cluster: Cluster, kept: Kept) -> list[str]:
    """Up to :data:`EXAMPLE_CALLS` calls of the cluster, transcribed ones as page links."""
    out: list[str] = []
    for i in cluster.members:
        call = kept.questions[i].call_id
        shown = CALL_LINK.format(call) if call in kept.transcribed else call
        if call and shown not in out:
            out.append(shown)
        if len(out) == EXAMPLE_CALLS:
            break
    return out


def _nearest(c: Cluster, titles: Mapping[str, Mapping[str, str]]) -> tuple[str, str, str]:
    if c.nearest is None:
        return "", "", ""
    title = titles.get(c.nearest.entry, {}).get(c.lang, "")
    return c.nearest.entry, title, f"{c.nearest.similarity:.2f}"


def format_text(clusters: Sequence[Cluster], kept: Kept, period: tuple[date, date],
                titles: Mapping[str, Mapping[str, str]], labels: str = "en",
                answered: int = 0) -> Iterator[str]:
    """The report for an editor, one block per cluster, the largest first."""
    t = LABELS[labels]
    start, end = period
    if not kept.questions:
        yield t["empty"].format(start=start, end=end)
        return
    yield t["title"].format(start=start, end=end, n=len(kept.questions), k=len(clusters))
    yield t["from_calls"].format(c=kept.calls, a=answered)
    for rank, c in enumerate(clusters, 1):
        entry, title, sim = _nearest(c, titles)
        yield ""
        yield f"{rank}. [{c.lang}] {t['questions']}: {c.count}"
        yield f"   {t['example']}: {c.representative}"
        yield f"   {t['terms']}: {', '.join(c.top_terms) or '-'}"
        nearest = f"{entry} «{title or entry}» {sim}" if entry else t["none"]
        yield f"   {t['nearest']}: {nearest}"
        yield "   " + t["sources"].format(r=from_robot(c), c=from_calls(c))
        yield f"   {t['outcomes']}: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(c.outcomes.items()))
        yield f"   {t['calls']}: {', '.join(example_calls(c, kept))}"


def format_csv(clusters: Sequence[Cluster], kept: Kept,
               titles: Mapping[str, Mapping[str, str]]) -> str:
    """One row per cluster (:data:`CSV_HEADER`), for a spreadsheet."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for rank, c in enumerate(clusters, 1):
        entry, title, sim = _nearest(c, titles)
        outcomes = " ".join(f"{k}:{v}" for k, v in sorted(c.outcomes.items()))
        w.writerow((rank, c.lang, c.count, c.representative, " ".join(c.top_terms), entry, title,
                    sim, outcomes, " ".join(example_calls(c, kept)), from_robot(c),
                    from_calls(c)))
    return buf.getvalue()
