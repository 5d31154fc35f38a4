"""What the analysts' search takes and gives (the page and the CSV export use these).

The search itself is :func:`bailanys.analytics.search.search`; the query
language (words, "exact phrases", AND/OR/NOT, NEAR, ``caller:``/``agent:``)
is documented in :mod:`bailanys.analytics.query`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bailanys.analytics.model import Channel


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, slots=True)
class Filters:
    """Every filter is optional; None means any. Times are epoch seconds."""

    since: float | None = None
    until: float | None = None
    queue: str | None = None
    agent: str | None = None
    language: str | None = None
    topic: str | None = None
    disposition: str | None = None
    outcome: str | None = None  # answered, lost, robot, ivr
    channel: Channel | None = None  # who said it
    min_duration: float | None = None
    max_duration: float | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    filters: Filters = field(default_factory=Filters)
    sort: Sort = Sort.RELEVANCE
    page: int = 1  # from 1
    per_page: int = 20


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of a snippet; ``hit`` pieces are the words that matched."""

    text: str
    hit: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    call_id: str
    utterance_id: int
    channel: Channel
    offset: float  # seconds into the recording of the first matched word
    started: float  # the call's start, epoch seconds
    agent: str | None
    queue: str | None
    language: str
    snippet: tuple[Fragment, ...]
    score: float  # relevance: the call's matching utterances (0 when sorted by time)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int  # calls matched (hits are one per call, its best utterance)
    page: int
    per_page: int
    per_day: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, calls matched), oldest first
    #: A query that cannot be parsed: a code the page translates (kk/ru/en),
    #: e.g. ``unbalanced_quote``, ``empty``, ``dangling_operator``.
    error: str | None = None
    #: True when the query matched more utterances than one search reads
    #: (``bailanys.analytics.search.SCAN_LIMIT``): hits, ``total`` and
    #: ``per_day`` then cover the newest matches only ("at least").
    partial: bool = False
