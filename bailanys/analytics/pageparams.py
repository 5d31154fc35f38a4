"""The analysts' page's query parameters -> :class:`SearchQuery`, or a clear refusal.

Pure (no I/O): ``GET /api/analytics/search`` and ``/export.csv`` take the
same parameters (CONTRACTS.md, slice ``page``)::

    q             the query text (the search's language: words, "phrases",
                  AND/OR/NOT, NEAR, caller:/agent:), at most MAX_QUERY_CHARS
    since, until  local dates YYYY-MM-DD (or YYYY-MM-DDTHH:MM) in the engine's
                  time zone; ``until`` as a date includes that whole day
    queue, agent, language, topic, disposition   exact values
    outcome       answered, lost, robot, ivr
    channel       caller or agent (who said it)
    min_duration, max_duration   seconds, 0..MAX_DURATION_S
    sort          relevance, newest, oldest
    page          1..MAX_PAGE

A bad value raises :class:`ParamError` naming the parameter and the
accepted form; the route answers it as ``400 Bad Request`` with the code the
page translates. Unknown parameters are ignored (``lang`` is the CSV's).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bailanys.analytics.model import Channel
from bailanys.analytics.searchtypes import Filters, SearchQuery, Sort
from bailanys.errors import InputError

#: A query longer than a long sentence is a paste, not a search.
MAX_QUERY_CHARS = 500
#: Results per page of the list (a screen of snippets).
PER_PAGE = 20
#: 500 pages of 20 = 10,000 calls: past that, narrow the query or export.
MAX_PAGE = 500
#: A filter value (queue, agent, topic...) is a short name.
MAX_VALUE_CHARS = 100
#: A call lasts at most a day (engine.max_call_seconds is far lower).
MAX_DURATION_S = 86_400.0
#: The outcomes the search's call facts know (slice search, facts.py).
OUTCOMES = frozenset({"answered", "lost", "robot", "ivr"})
#: The languages the engine serves (config.LANGUAGES).
LANGUAGES = frozenset({"kk", "ru"})
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")


class ParamError(InputError):
    """A query parameter the page cannot take: ``code`` for the page, ``param`` named."""

    def __init__(self, param: str, code: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.code = code


def local_time(text: str, tz: ZoneInfo, param: str, *, end_of_day: bool) -> float:
    """``YYYY-MM-DD[THH:MM]`` in ``tz`` -> epoch seconds (a bare date's end: next midnight)."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ParamError(param, "bad_date", f"expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, "
                                            f"got {text[:40]!r}")
    year, month, day, hour, minute = match.groups()
    try:
        when = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                           tzinfo=tz)
    except ValueError as exc:
        raise ParamError(param, "bad_date", f"{exc} in {text[:40]!r}") from None
    if end_of_day and hour is None:
        when = when + dt.timedelta(days=1)
    return when.timestamp()


def _number(params: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise ParamError(name, "bad_number", f"expected a number of seconds from {low:g} "
                                             f"to {high:g}, got {text[:40]!r}")
    return value


def _value(params: Mapping[str, str], name: str,
           allowed: frozenset[str] | None = None) -> str | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_CHARS:
        raise ParamError(name, "too_long", f"at most {MAX_VALUE_CHARS} characters")
    if allowed is not None and text not in allowed:
        raise ParamError(name, "bad_choice", f"expected one of {', '.join(sorted(allowed))}, "
                                             f"got {text!r}")
    return text


def _page(params: Mapping[str, str]) -> int:
    text = params.get("page", "").strip() or "1"
    if not text.isascii() or not text.isdigit() or len(text) > 6 or not \
            1 <= int(text) <= MAX_PAGE:
        raise ParamError("page", "bad_page", f"expected a page from 1 to {MAX_PAGE}, "
                                             f"got {text[:40]!r}")
    return int(text)


def parse_filters(params: Mapping[str, str], tz: ZoneInfo) -> Filters:
    """The filters of the parameters (see the module's table)."""
    since_text, until_text = params.get("since", "").strip(), params.get("until", "").strip()
    since = local_time(since_text, tz, "since", end_of_day=False) if since_text else None
    until = local_time(until_text, tz, "until", end_of_day=True) if until_text else None
    if since is not None and until is not None and until <= since:
        raise ParamError("until", "bad_period", "the period ends before it starts")
    channel = _value(params, "channel", frozenset(Channel))
    low = _number(params, "min_duration", 0.0, MAX_DURATION_S)
    high = _number(params, "max_duration", 0.0, MAX_DURATION_S)
    if low is not None and high is not None and high < low:
        raise ParamError("max_duration", "bad_number", "the longest is shorter than the shortest")
    return Filters(
        since=since, until=until, queue=_value(params, "queue"), agent=_value(params, "agent"),
        language=_value(params, "language", LANGUAGES), topic=_value(params, "topic"),
        disposition=_value(params, "disposition"), outcome=_value(params, "outcome", OUTCOMES),
        channel=Channel(channel) if channel else None, min_duration=low, max_duration=high)


def parse_search(params: Mapping[str, str], tz: ZoneInfo, *,
                 per_page: int = PER_PAGE) -> SearchQuery:
    """The :class:`SearchQuery` the parameters ask for; :class:`ParamError` if one is bad."""
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ParamError("q", "query_too_long", f"at most {MAX_QUERY_CHARS} characters")
    sort = _value(params, "sort", frozenset(Sort)) or Sort.RELEVANCE
    return SearchQuery(text=text.strip(), filters=parse_filters(params, tz), sort=Sort(sort),
                       page=_page(params), per_page=per_page)


def offset_text(seconds: float) -> str:
    """Seconds into the recording as ``m:ss`` (``h:mm:ss`` past an hour)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
