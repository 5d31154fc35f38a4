"""The reviewers' page's input and CSV: pure parsing of what the page sends.

Issue 16, "The reviewers' workspace": a review's answers (manual criteria,
overrides of automatic results with their reason, comments), the report
period and grouping, and the report as CSV for a spreadsheet. Everything a
browser sends is checked here before it reaches the store: bounded sizes,
known outcomes, ids that are ids; a bad value is a
:class:`~bailanys.analytics.pageparams.ParamError` (400 with a code the
page translates), never a crash. No I/O.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bailanys.analytics.csvexport import BOM, SEPARATORS, guard
from bailanys.analytics.pageparams import ParamError, local_time
from bailanys.qa.model import Answer, Outcome

#: Criteria per scorecard are a few dozen; a review naming more is not ours.
MAX_ANSWERS = 200
#: A reviewer's comment on the whole call: a paragraph. A review's body must
#: fit the web layer's 8 KiB (``web/limits.py``): 1000 Cyrillic letters are
#: 2 KiB of UTF-8, leaving room for the answers.
MAX_COMMENT_CHARS = 1000
#: A criterion's comment or an override's reason: a sentence or two.
MAX_REASON_CHARS = 300
#: Criterion ids as scorecards write them (``[a-z0-9_]+``, bounded).
CRITERION_ID = re.compile(r"[a-z0-9_]{1,64}")
#: A report covers this many days when no period is given: eight ISO weeks,
#: two months of trend for a coaching talk.
DEFAULT_REPORT_DAYS = 56
#: The longest report period: a year of weeks.
MAX_REPORT_DAYS = 366
#: How a report groups calls (issue 16: "per agent and per team"; team = queue).
REPORT_BY = frozenset({"agent", "team"})
#: What a reviewer may answer (pending is what an unanswered criterion is).
ANSWER_OUTCOMES = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.NA})

CSV_HEADERS = {
    "kk": {"agent": "Оператор", "team": "Кезек", "week": "Апта", "scored": "Автоматты бағаланды",
           "auto_pct": "Автоматты бағалау бойынша KPI 2, %", "reviewed": "Тексерілді",
           "kpi_pct": "KPI 2, %", "mean_total": "Орташа балл",
           "failed": "Жиі орындалмаған критерийлер"},
    "ru": {"agent": "Оператор", "team": "Очередь", "week": "Неделя",
           "scored": "Оценено автоматически", "auto_pct": "KPI 2 по автоматической оценке, %",
           "reviewed": "Проверено", "kpi_pct": "KPI 2, %", "mean_total": "Средний балл",
           "failed": "Чаще всего не выполнено"},
    "en": {"agent": "Agent", "team": "Queue", "week": "Week", "scored": "Auto-scored",
           "auto_pct": "KPI 2 over auto-scored, %", "reviewed": "Reviewed", "kpi_pct": "KPI 2, %",
           "mean_total": "Mean score", "failed": "Most failed criteria"},
}
CSV_COLUMNS = ("week", "scored", "auto_pct", "reviewed", "kpi_pct", "mean_total", "failed")


def _text(data: Mapping[str, Any], key: str, limit: int, param: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParamError(param, "bad_answer", f"{key} must be text")
    if len(value) > limit:
        raise ParamError(param, "too_long", f"{key} is longer than {limit} characters")
    return value.strip()


def _answer(data: Any) -> Answer:
    if not isinstance(data, Mapping):
        raise ParamError("answers", "bad_answer", "an answer is an object")
    criterion = data.get("criterion")
    if not isinstance(criterion, str) or not CRITERION_ID.fullmatch(criterion):
        raise ParamError("answers", "bad_answer", "an answer names no criterion")
    try:
        outcome = Outcome(str(data.get("outcome")))
    except ValueError:
        raise ParamError(criterion, "bad_answer", "outcome: pass, fail or na") from None
    if outcome not in ANSWER_OUTCOMES:
        raise ParamError(criterion, "bad_answer", "outcome: pass, fail or na")
    value = data.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not 1 <= value <= 5):
        raise ParamError(criterion, "bad_answer", "a value is a number from 1 to 5")
    override = data.get("override", False)
    if not isinstance(override, bool):
        raise ParamError(criterion, "bad_answer", "override is true or false")
    reason = _text(data, "reason", MAX_REASON_CHARS, criterion)
    if override and not reason:
        raise ParamError(criterion, "reason_needed", "an override needs a reason")
    return Answer(criterion=criterion, outcome=outcome,
                  value=None if value is None else float(value),
                  comment=_text(data, "comment", MAX_REASON_CHARS, criterion),
                  override=override, reason=reason)


def parse_review(body: bytes) -> tuple[tuple[Answer, ...], str]:
    """A ``PUT /api/qa/reviews/{id}`` body: ``{"answers": [...], "comment": "..."}``."""
    try:
        data = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ParamError("body", "bad_json", "the body is not JSON") from None
    if not isinstance(data, Mapping):
        raise ParamError("body", "bad_json", "the body is a JSON object")
    raw = data.get("answers", [])
    if not isinstance(raw, list):
        raise ParamError("answers", "bad_answer", "answers is a list")
    if len(raw) > MAX_ANSWERS:
        raise ParamError("answers", "too_long", f"more than {MAX_ANSWERS} answers")
    answers = tuple(_answer(a) for a in raw)
    seen = [a.criterion for a in answers]
    if len(set(seen)) != len(seen):
        raise ParamError("answers", "bad_answer", "a criterion is answered twice")
    return answers, _text(data, "comment", MAX_COMMENT_CHARS, "comment")


def parse_period(params: Mapping[str, str], tz: ZoneInfo, now: float
                 ) -> tuple[float, float]:
    """``since`` / ``until`` (local dates, ``until`` inclusive) as epoch seconds;
    the last :data:`DEFAULT_REPORT_DAYS` days when absent."""
    until = (local_time(params["until"], tz, "until", end_of_day=True) if params.get("until")
             else (dt.datetime.fromtimestamp(now, tz).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
                   + dt.timedelta(days=1)).timestamp())
    since = (local_time(params["since"], tz, "since", end_of_day=False) if params.get("since")
             else until - DEFAULT_REPORT_DAYS * 86_400)
    if until <= since:
        raise ParamError("until", "bad_period", "the period ends before it starts")
    if until - since > MAX_REPORT_DAYS * 86_400 + 3600:
        raise ParamError("since", "bad_period", f"at most {MAX_REPORT_DAYS} days")
    return since, until


def parse_by(params: Mapping[str, str]) -> str:
    by = params.get("by", "agent")
    if by not in REPORT_BY:
        raise ParamError("by", "bad_choice", "by: agent or team")
    return by


def _number(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def report_csv(rows: Iterable[Mapping[str, Any]], by: str, lang: str = "kk",
               names: Mapping[str, str] | None = None) -> bytes:
    """The report (``qa.web`` report rows) as CSV for Excel: BOM, the
    language's separator, formula guard (as the analysts' export, ``csvexport``).
    ``names``: criterion id -> its name in ``lang``."""
    lang = lang if lang in CSV_HEADERS else "kk"
    heads = CSV_HEADERS[lang]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS[lang], lineterminator="\r\n")
    writer.writerow([heads[by], *(heads[c] for c in CSV_COLUMNS)])
    for row in rows:
        failed = "; ".join(f"{(names or {}).get(f['criterion'], f['criterion'])} ({f['count']})"
                           for f in row.get("failed", ()))
        cells: Sequence[Any] = (row.get("key") or "—", row.get("week", ""), row.get("scored"),
                                row.get("auto_pct"), row.get("reviewed"), row.get("kpi_pct"),
                                row.get("mean_total"), failed)
        writer.writerow([guard(_number(c)) for c in cells])
    return (BOM + out.getvalue()).encode("utf-8")
