"""The quarterly analysis' figures: SQL aggregates over ``contacts`` (issue 17, report 2).

Every count is an SQL ``GROUP BY`` over ``contacts`` (schema v6): three
queries (:func:`figures`), two of them answered from the ``(day, topic)``
and ``(day, region)`` indexes alone (in index order: no sort), the third one
pass over the quarter's rows. Python only adds up the groups, never rows.
The rest of this module is pure arithmetic on those groups (change in %,
the >30 % flag, top 10).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from bailanys.errors import InputError
from bailanys.reports.model import REGIONS, UNKNOWN_REGION
from bailanys.robot.gapcalls import Answers, call_questions, candidates
from bailanys.robot.gapcluster import MAX_QUESTIONS, Cluster, Question, cluster
from bailanys.store.syncdb import SyncConnection, has_tables

#: The methodology: "a list of the 10 questions that interest citizens most".
TOP_N: Final = 10
#: FAQ candidates listed: the largest clusters of the robot's unanswered
#: questions and the operator calls' questions (``bailanys faq gaps`` lists
#: them all; the report keeps a page).
FAQ_CANDIDATES: Final = 15
#: Questions clustered at most for the report (as ``faq gaps``): the operator
#: calls' (``gapcalls.MAX_CALLS``), then the robot's up to this total.
MAX_GAP_QUESTIONS: Final = MAX_QUESTIONS
_QUARTER: Final = re.compile(r"(\d{4})-[Qq]([1-4])")


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int  # 1-4

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> date:
        nxt = date(self.year + 1, 1, 1) if self.number == 4 else date(self.year,
                                                                       3 * self.number + 1, 1)
        return nxt - timedelta(days=1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year,
                                                                          self.number - 1)

    def months(self) -> tuple[str, str, str]:
        m = 3 * self.number - 2
        return (f"{self.year}-{m:02d}", f"{self.year}-{m + 1:02d}", f"{self.year}-{m + 2:02d}")

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def parse_quarter(text: str) -> Quarter:
    """``2026-Q3`` -> Quarter(2026, 3); anything else is an :class:`InputError`."""
    m = _QUARTER.fullmatch(text.strip())
    if not m or not 2000 <= int(m[1]) <= 2100:
        raise InputError(f"expected a quarter such as 2026-Q3, got {text!r}")
    return Quarter(int(m[1]), int(m[2]))


@dataclass(frozen=True)
class Figures:
    """Every number of the report, as the SQL aggregates gave them.

    ``regions`` and ``topics`` map to (this quarter, previous quarter);
    the topic ``""`` is "not classified"; ``region_topics`` is this
    quarter's classified contacts per region and topic; ``portrait`` maps
    (age_band, sex, social_status) (None: not known) to a count.
    """

    quarter: Quarter
    total: int
    previous_total: int
    regions: Mapping[str, tuple[int, int]]
    topics: Mapping[str, tuple[int, int]]
    region_topics: Mapping[str, Mapping[str, int]]
    months: Mapping[str, int]
    portrait: Mapping[tuple[str | None, str | None, str | None], int]
    gap_questions: int  # the robot's and the operator calls' questions clustered
    gap_clusters: int  # all the clusters; ``gaps`` keeps the largest candidates
    gaps: tuple[Cluster, ...]
    call_questions: int = 0  # of gap_questions, from operator calls' transcripts
    answered_clusters: int = 0  # left out: the FAQ answers them (gapcalls.candidates)


#: A FAQ as :func:`bailanys.robot.gapcluster.cluster` takes it: entry -> language -> questions.
FaqQuestions = Mapping[str, Mapping[str, Sequence[str]]]


def figures(conn: SyncConnection, quarter: Quarter, faq: FaqQuestions | None = None,
            answers: Answers | None = None) -> Figures:
    """The quarter's and the previous quarter's aggregates from ``contacts``;
    ``faq`` gives each cluster of questions its nearest entry, ``answers`` leaves
    out the clusters of operator calls the FAQ answers (:func:`gapcalls.candidates`)."""
    prev = quarter.previous()
    span = (prev.first.isoformat(), quarter.last.isoformat())
    this = (quarter.first.isoformat(), quarter.last.isoformat())
    split = quarter.first.isoformat()
    topics: dict[str, list[int]] = {}
    months: dict[str, int] = dict.fromkeys(prev.months() + quarter.months(), 0)
    for day, topic, n in conn.execute(
            "SELECT day, topic, COUNT(*) FROM contacts"
            " WHERE day BETWEEN ? AND ? GROUP BY day, topic", span):
        pair = topics.setdefault(topic or "", [0, 0])
        pair[0 if day >= split else 1] += n
        months[day[:7]] = months.get(day[:7], 0) + n
    regions: dict[str, list[int]] = {r.id: [0, 0] for r in REGIONS}
    regions[UNKNOWN_REGION] = [0, 0]
    for day, region, n in conn.execute(
            "SELECT day, region, COUNT(*) FROM contacts"
            " WHERE day BETWEEN ? AND ? GROUP BY day, region", span):
        regions.setdefault(region, [0, 0])[0 if day >= split else 1] += n
    region_topics: dict[str, dict[str, int]] = {}
    portrait: dict[tuple[str | None, str | None, str | None], int] = {}
    # One pass over the quarter's rows for both: the groups are at most
    # regions x topics x portraits seen (~150,000 for a 1414 quarter).
    for region, topic, age, sex, status, n in conn.execute(
            "SELECT region, topic, age_band, sex, social_status, COUNT(*) FROM contacts"
            " WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4, 5", this):
        if topic:
            by_topic = region_topics.setdefault(region, {})
            by_topic[topic] = by_topic.get(topic, 0) + n
        portrait[(age, sex, status)] = portrait.get((age, sex, status), 0) + n
    calls = call_questions(conn, quarter.first, quarter.last)
    questions = calls + _gap_questions(conn, quarter, MAX_GAP_QUESTIONS - len(calls))
    clusters = cluster(questions, faq) if questions else []
    listed, answered = candidates(clusters, questions, answers, FAQ_CANDIDATES)
    return Figures(
        quarter=quarter,
        total=sum(a for a, _ in regions.values()),
        previous_total=sum(b for _, b in regions.values()),
        regions={k: (a, b) for k, (a, b) in regions.items()},
        topics={k: (a, b) for k, (a, b) in topics.items()},
        region_topics=region_topics,
        months=months,
        portrait=portrait,
        gap_questions=len(questions),
        gap_clusters=len(clusters),
        gaps=tuple(listed),
        call_questions=len(calls),
        answered_clusters=answered,
    )


def _gap_questions(conn: SyncConnection, quarter: Quarter, limit: int) -> list[Question]:
    """The robot's unanswered questions of the quarter (``faq_gaps``, schema v4),
    as ``bailanys faq gaps --period`` reads them; none when the table is absent."""
    if not has_tables(conn, "faq_gaps"):
        return []
    rows = conn.execute(
        "SELECT text, language, call_id, outcome FROM faq_gaps WHERE day BETWEEN ? AND ?"
        " ORDER BY ts DESC LIMIT ?",
        (quarter.first.isoformat(), quarter.last.isoformat(), limit)).fetchall()
    return [Question(str(t), str(la), str(c), str(o)) for t, la, c, o in rows]


def change_pct(now: int, before: int) -> float | None:
    """The change in % (one decimal); None when there was nothing before."""
    return None if before == 0 else round(100.0 * (now - before) / before, 1)


def grew(now: int, before: int, flag_pct: int) -> bool:
    """More than ``flag_pct`` % growth (exact integers: 130 of 100 is not > 30 %)."""
    return before > 0 and now * 100 > before * (100 + flag_pct)


def share(n: int, of: int) -> float | None:
    return None if of == 0 else round(100.0 * n / of, 1)


def top(counts: Mapping[str, int], n: int = TOP_N) -> list[tuple[str, int]]:
    """The ``n`` largest, ties broken by the topic id in alphabetical order."""
    return sorted(((k, v) for k, v in counts.items() if k and v > 0),
                  key=lambda kv: (-kv[1], kv[0]))[:n]


def new_topics(fig: Figures) -> list[tuple[str, int]]:
    """Topics with contacts this quarter and none the previous one, the largest first."""
    return sorted(((k, now) for k, (now, before) in fig.topics.items()
                   if k and now > 0 and before == 0), key=lambda kv: (-kv[1], kv[0]))


def top_regions(fig: Figures, n: int = 3) -> Sequence[tuple[str, int]]:
    """The regions with most contacts this quarter ("not determined" aside)."""
    return sorted(((k, a) for k, (a, _) in fig.regions.items()
                   if k != UNKNOWN_REGION and a > 0), key=lambda kv: (-kv[1], kv[0]))[:n]
