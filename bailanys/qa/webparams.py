"""The reviewers' page's input: pure parsing of what the page sends.

Issue 16, "The reviewers' workspace": a review's answers (manual criteria,
overrides of automatic results with their reason, comments), the report
period and grouping. Everything a
browser sends is checked here before it reaches the store: bounded sizes,
known outcomes, ids that are ids; a bad value is a
:class:`~bailanys.analytics.pageparams.ParamError` (400 with a code the
page translates), never a crash. No I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bailanys.analytics.pageparams import ParamError
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
#: The longest report period: a year (as ``qa/reports.py``'s ``MAX_PERIOD_DAYS``).
MAX_REPORT_DAYS = 366
#: How a report groups calls (issue 16: "per agent and per team"; team = queue).
REPORT_BY = frozenset({"agent", "team"})
#: What a reviewer may answer (pending is what an unanswered criterion is).
ANSWER_OUTCOMES = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.NA})

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
        raise ParamError(criterion, "no_reason", "an override needs a reason")
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


def _day(params: Mapping[str, str], name: str) -> dt.date | None:
    text = params.get(name, "")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_period(params: Mapping[str, str], tz: ZoneInfo, now: float
                 ) -> tuple[dt.date, dt.date]:
    """``since`` / ``until``: the calls' local dates, both included (as the
    review store's reports read them); the last :data:`DEFAULT_REPORT_DAYS`
    days up to today when absent."""
    since, until = _day(params, "since"), _day(params, "until")
    for name, day in (("since", since), ("until", until)):
        if params.get(name) and day is None:
            raise ParamError(name, "bad_date", "expected YYYY-MM-DD")
    last = until or dt.datetime.fromtimestamp(now, tz).date()
    first = since or last - dt.timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if last < first:
        raise ParamError("until", "bad_period", "the period ends before it starts")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise ParamError("since", "bad_period", f"at most {MAX_REPORT_DAYS} days")
    return first, last


def parse_by(params: Mapping[str, str]) -> str:
    by = params.get("by", "agent")
    if by not in REPORT_BY:
        raise ParamError("by", "bad_choice", "by: agent or team")
    return by
