"""QA per agent and per team over ISO weeks, the criteria failed most, and CSV.

Issue 16, "Per agent and per team: scores over weeks, the criteria failed
most, with links to the calls. Export as CSV." A team is a queue (agents
serve queues; the call's queue in ``qa_scores``). For each agent (or
queue) and ISO week of the call's local day:

* ``scored``, ``auto_total`` (mean automatic total), ``auto_pass_pct``
  (share with no failed critical criterion: KPI 2 over auto-scored
  contacts);
* ``reviewed`` (calls with a counted final review), ``reviewed_total``,
  ``kpi2_pct`` (share of reviewed contacts with no failed critical
  criterion: KPI 2, Appendix 1 item 2, target 80-85 %);
* the criteria failed most, each with the calls (ids, for links): a call's
  outcome of a criterion is its counted review's when it has one (manual
  answers, overrides), else the automatic one.

A call counts once, with its latest score. Synchronous and read-only on a
``SyncConnection``; ``since``/``until`` are the calls' local dates,
both included (:func:`period`). CSV: :func:`csv_rows` / :func:`export_csv`
(``analytics.csvexport``'s choices: BOM, Excel's separator per language,
formula injection guarded).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bailanys.analytics.csvexport import BOM, SEPARATORS, guard
from bailanys.qa.answers import ReviewError
from bailanys.qa.model import Names, Outcome
from bailanys.qa.reviews import CardLoader, load_card
from bailanys.store.syncdb import SyncConnection

log = logging.getLogger(__name__)

#: Longest period a report covers: a year (the regulator's reports are
#: quarterly and yearly; Appendix 1).
MAX_PERIOD_DAYS: Final = 366
#: Criteria listed as "failed most" per agent/team (and per week).
TOP_FAILED: Final = 5
#: Calls linked per failed criterion (the page lists them; more: the search).
MAX_CALL_LINKS: Final = 20


def period(since: str | dt.date, until: str | dt.date) -> tuple[dt.date, dt.date]:
    """(first, last) local dates, both included; ``bad_period`` when a date is
    not YYYY-MM-DD, ``until`` is before ``since`` or the span exceeds
    :data:`MAX_PERIOD_DAYS`."""
    try:
        first = since if isinstance(since, dt.date) else dt.date.fromisoformat(str(since)[:10])
        last = until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until)[:10])
    except ValueError:
        raise ReviewError("bad_period", "dates are YYYY-MM-DD") from None
    if last < first or (last - first).days >= MAX_PERIOD_DAYS:
        raise ReviewError("bad_period", f"at most {MAX_PERIOD_DAYS} days, since <= until")
    return first, last


def iso_week(day: str) -> str:
    """``YYYY-Www`` of a ``YYYY-MM-DD`` day (as ``qa_queue.week``)."""
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class FailedCriterion:
    criterion: str
    failed: int  # calls
    calls: tuple[str, ...]  # the first MAX_CALL_LINKS, oldest first
    names: Names | None = None

    def to_json(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "failed": self.failed, "calls": list(self.calls),
                "names": self.names.to_json() if self.names else None}


@dataclass(frozen=True, slots=True)
class Stats:
    """One agent's (or team's) figures over a week (``week``) or the period (None)."""

    week: str | None
    scored: int
    auto_total: float | None
    auto_pass_pct: float | None
    reviewed: int
    reviewed_total: float | None
    kpi2_pct: float | None
    failed_most: tuple[FailedCriterion, ...]

    def to_json(self) -> dict[str, Any]:
        return {"week": self.week, "scored": self.scored, "auto_total": self.auto_total,
                "auto_pass_pct": self.auto_pass_pct, "reviewed": self.reviewed,
                "reviewed_total": self.reviewed_total, "kpi2_pct": self.kpi2_pct,
                "failed_most": [f.to_json() for f in self.failed_most]}


@dataclass(frozen=True, slots=True)
class Group:
    key: str | None  # the agent (or queue); None: calls without one
    weeks: tuple[Stats, ...]  # in week order
    overall: Stats

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "weeks": [w.to_json() for w in self.weeks],
                "overall": self.overall.to_json()}


@dataclass(frozen=True, slots=True)
class Report:
    by: str  # agent / team
    since: str
    until: str
    groups: tuple[Group, ...]

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "since": self.since, "until": self.until,
                "groups": [g.to_json() for g in self.groups]}


@dataclass(frozen=True, slots=True)
class _Call:
    call_id: str
    week: str
    agent: str | None
    queue: str | None
    card: tuple[str, int]
    auto_total: float | None
    auto_passed: bool
    review_total: float | None
    review_passed: bool | None  # None: not reviewed (counted)
    failed: tuple[str, ...]


_SCORES = """
SELECT s.call_id, s.day, s.agent, s.queue, s.scorecard, s.version, s.total,
       s.critical_failed, s.results, r.total, r.critical_failed, r.answers
FROM qa_scores s
LEFT JOIN qa_reviews r ON r.call_id = s.call_id AND r.state = 'final' AND r.counted = 1
     AND r.scorecard = s.scorecard AND r.version = s.version
WHERE s.day BETWEEN ? AND ?
  AND s.id = (SELECT MAX(l.id) FROM qa_scores l WHERE l.call_id = s.call_id)
ORDER BY s.day, s.ts, s.id
"""


def _outcomes(results_json: str, answers_json: str | None) -> dict[str, str]:
    """Criterion -> outcome after the counted review's answers (``totals.
    final_outcomes`` on the stored JSON, without building the objects: a
    report reads thousands of calls)."""
    out = {str(r["criterion"]): str(r["outcome"]) for r in json.loads(results_json)}
    for a in json.loads(answers_json) if answers_json else ():
        out[str(a["criterion"])] = str(a["outcome"])
    return out


def _parse(row: Sequence[Any]) -> _Call:
    reviewed = row[11] is not None
    try:
        outcomes = _outcomes(row[8], row[11])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("qa: call %s: unreadable stored results, read as none: %s", row[0], exc)
        outcomes = {}
    return _Call(str(row[0]), iso_week(str(row[1])), row[2], row[3], (str(row[4]), int(row[5])),
                 row[6], not row[7], row[9], (not row[10]) if reviewed else None,
                 tuple(c for c, o in outcomes.items() if o == Outcome.FAIL.value))


def _calls(conn: SyncConnection, since: str | dt.date, until: str | dt.date
           ) -> tuple[str, str, list[_Call]]:
    first, last = period(since, until)
    rows = conn.execute(_SCORES, (first.isoformat(), last.isoformat())).fetchall()
    return first.isoformat(), last.isoformat(), [_parse(r) for r in rows]


def _mean(values: Iterable[float | None]) -> float | None:
    got = [float(v) for v in values if v is not None]
    return round(sum(got) / len(got), 1) if got else None


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class _Names:
    """Criterion names from the scorecard versions the calls used (cached)."""

    def __init__(self, conn: SyncConnection, load: CardLoader) -> None:
        self.conn, self.load = conn, load
        self.cache: dict[tuple[str, int], dict[str, Names]] = {}

    def __call__(self, card: tuple[str, int], criterion: str) -> Names | None:
        if card not in self.cache:
            found = self.load(self.conn, *card)
            self.cache[card] = {c.id: c.names for c in found.criteria} if found else {}
        return self.cache[card].get(criterion)


def _stats(week: str | None, calls: Sequence[_Call], names: _Names) -> Stats:
    reviewed = [c for c in calls if c.review_passed is not None]
    count: Counter[str] = Counter()
    links: dict[str, list[str]] = defaultdict(list)
    card: dict[str, tuple[str, int]] = {}
    for c in calls:
        for crit in c.failed:
            count[crit] += 1
            card.setdefault(crit, c.card)
            if len(links[crit]) < MAX_CALL_LINKS:
                links[crit].append(c.call_id)
    top = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FAILED]
    failed = tuple(FailedCriterion(k, n, tuple(links[k]), names(card[k], k)) for k, n in top)
    return Stats(week, len(calls), _mean(c.auto_total for c in calls),
                 _pct(sum(c.auto_passed for c in calls), len(calls)), len(reviewed),
                 _mean(c.review_total for c in reviewed),
                 _pct(sum(bool(c.review_passed) for c in reviewed), len(reviewed)), failed)


def _report(conn: SyncConnection, by: str, since: str | dt.date, until: str | dt.date,
            load: CardLoader) -> Report:
    first, last, calls = _calls(conn, since, until)
    groups: dict[str | None, list[_Call]] = defaultdict(list)
    for c in calls:
        groups[c.agent if by == "agent" else c.queue].append(c)
    names = _Names(conn, load)
    out = []
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        weeks: dict[str, list[_Call]] = defaultdict(list)
        for c in groups[key]:
            weeks[c.week].append(c)
        out.append(Group(key, tuple(_stats(w, weeks[w], names) for w in sorted(weeks)),
                         _stats(None, groups[key], names)))
    return Report(by, first, last, tuple(out))


def by_agent(conn: SyncConnection, since: str | dt.date, until: str | dt.date, *,
             load: CardLoader = load_card) -> Report:
    """Each agent's QA figures per ISO week over the period (local dates, included)."""
    return _report(conn, "agent", since, until, load)


def by_team(conn: SyncConnection, since: str | dt.date, until: str | dt.date, *,
            load: CardLoader = load_card) -> Report:
    """Each team's (queue's) QA figures per ISO week over the period."""
    return _report(conn, "team", since, until, load)


#: CSV column headers per page language (the first: the agent's or the team's).
CSV_HEADERS: Final = {
    "kk": ("Апта", "Автоматты бағаланды", "Орташа балл (авто)", "Сыни қатесіз (авто), %",
           "Тексерілді", "Орташа балл (тексерістен кейін)", "KPI 2, %",
           "Жиі орындалмаған критерийлер"),
    "ru": ("Неделя", "Оценено автоматически", "Средний балл (авто)",
           "Без критических ошибок (авто), %", "Проверено", "Средний балл (после проверки)",
           "KPI 2, %", "Чаще всего не выполнены"),
    "en": ("Week", "Auto-scored", "Mean total (auto)", "No critical failed (auto), %",
           "Reviewed", "Mean total (reviewed)", "KPI 2, %", "Criteria failed most"),
}
CSV_GROUP: Final = {"agent": {"kk": "Оператор", "ru": "Оператор", "en": "Agent"},
                    "team": {"kk": "Кезек", "ru": "Очередь", "en": "Team (queue)"}}
#: The row of a group's whole period, in the week column.
CSV_PERIOD: Final = {"kk": "Бүкіл кезең", "ru": "Весь период", "en": "Whole period"}


def _number(value: float | None, lang: str) -> str:
    """A figure as Excel reads it in ``lang``'s locale (kk-KZ, ru-RU: decimal comma)."""
    if value is None:
        return ""
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", ",") if lang in ("kk", "ru") else text


def _failed_text(failed: Sequence[FailedCriterion], lang: str) -> str:
    def name(f: FailedCriterion) -> str:
        return getattr(f.names, lang) if f.names else f.criterion
    return "; ".join(f"{name(f)} ({f.failed}: {' '.join(f.calls)})" for f in failed)


def csv_rows(report: Report, lang: str = "kk") -> list[list[str]]:
    """The header and one row per group and week (then the group's whole
    period), cells guarded against formula injection (``analytics.csvexport``)."""
    lang = lang if lang in CSV_HEADERS else "kk"
    rows = [[CSV_GROUP[report.by][lang], *CSV_HEADERS[lang]]]
    for g in report.groups:
        for s in (*g.weeks, g.overall):
            rows.append([guard(g.key or ""), s.week or CSV_PERIOD[lang], str(s.scored),
                         _number(s.auto_total, lang), _number(s.auto_pass_pct, lang),
                         str(s.reviewed), _number(s.reviewed_total, lang),
                         _number(s.kpi2_pct, lang), guard(_failed_text(s.failed_most, lang))])
    return rows


def export_csv(report: Report, lang: str = "kk") -> bytes:
    """The report as a CSV file for Excel (BOM, the language's separator)."""
    lang = lang if lang in CSV_HEADERS else "kk"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS[lang], lineterminator="\r\n")
    writer.writerows(csv_rows(report, lang))
    return (BOM + out.getvalue()).encode("utf-8")
