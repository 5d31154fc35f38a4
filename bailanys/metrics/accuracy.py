"""KPI 2 folded from the QA events: the calls reviewed and scored, and how many passed.

Appendix 1 item 2 of the requirements (``domain/kz-contact-center-
requirements-2023.kk.txt``): «Клиентке ақпарат берудің дәлдігі, толықтығы,
сондай-ақ контактіні жабу және клиент мәселесін шешу үшін қажетті
рәсімдердің, қадамдардың орындалуы сақталған қарым-қатынастардың үлесі»
(the share of contacts in which the information given was accurate and
complete and every procedure and step needed to close the contact and
solve the client's problem was followed), 80-85 %. A contact passes when
no critical criterion of its scorecard failed (``qa.totals.combine``).

* ``qa.scored`` (one per call, written with the score): ``scored + 1``,
  ``scored_passed + passed``: the share over every auto-scored call,
  shown beside KPI 2 (its manual criteria are still pending there).
* ``qa.reviewed`` with ``counted`` true (the review KPI 2 counts for the
  call; a calibration review is not): the call counts **once per window,
  per its latest counted review**. A window that counted an earlier review
  of the call (a correction, ``previous_passed`` set) has its
  ``reviewed_passed`` adjusted, ``reviewed`` unchanged; a window that did
  not (opened after it, or the original came before it) counts the call
  now: ``reviewed + 1``. A count never goes negative.

Scopes: total, the event's ``queue`` and its ``language`` (``unknown`` when
absent); the QA events carry no topic. Memory: one :class:`Review` per
reviewed call for ``memory_s`` (default 31 days); a correction of a review
already forgotten counts in the windows opened after the forgotten ones and
changes nothing in the others (they may have counted the original). Pure:
no I/O, no clock. docs/kpi.md, "KPI 2 method", has the same rules.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable

from bailanys.metrics.context import Delta, Period, Review, text
from bailanys.metrics.snapshot import TOTAL, UNKNOWN_LANGUAGE, Scope
from bailanys.store.events import Event

#: A correction within a month of the review it corrects adjusts it; the
#: QA cycle (weekly samples, monthly agent reports, calibration) is
#: monthly, and a record per reviewed call (a few per agent a week) is small.
DEFAULT_REVIEW_MEMORY_S = 31 * 86_400.0


def qa_scopes(event: Event) -> tuple[Scope, ...]:
    """Total, the event's queue (if named) and language (else ``unknown``)."""
    out: list[Scope] = [TOTAL]
    queue = text(event.data.get("queue"))
    if queue:
        out.append(("queue", queue))
    out.append(("language", text(event.data.get("language")) or UNKNOWN_LANGUAGE))
    return tuple(out)


def _add(period: Period, scopes: Iterable[Scope], delta: Delta, sign: int = 1) -> None:
    for scope in scopes:
        period.add(scope, delta, sign)


def _counts(period: Period, ts: float) -> bool:
    return period.start is not None and ts >= period.start


class AccuracyFold:
    """The QA part of the KPI fold: what ``qa.scored`` and ``qa.reviewed`` count."""

    def __init__(self, memory_s: float = DEFAULT_REVIEW_MEMORY_S) -> None:
        self.memory_s = memory_s
        self._reviews: OrderedDict[str, Review] = OrderedDict()  # oldest review first
        #: The latest ``ts`` of a review forgotten so far (-inf: none).
        self._forgotten = -math.inf

    def __len__(self) -> int:
        return len(self._reviews)

    def expire(self, ts: float) -> None:
        """Forget the reviews older than ``memory_s`` (amortised O(1))."""
        old = ts - self.memory_s
        while self._reviews:
            call, review = next(iter(self._reviews.items()))
            if review.ts >= old:
                break
            del self._reviews[call]
            self._forgotten = max(self._forgotten, review.ts)

    def scored(self, event: Event, periods: Iterable[Period]) -> None:
        delta = {"scored": 1, "scored_passed": int(event.data.get("passed") is True)}
        scopes = qa_scopes(event)
        for p in periods:
            if _counts(p, event.ts):
                _add(p, scopes, delta)

    def reviewed(self, event: Event, periods: Iterable[Period]) -> None:
        data = event.data
        if data.get("counted") is not True:
            return  # a calibration (second reviewer's) review: not KPI 2's
        call, ts = str(event.call_id), event.ts
        passed = data.get("passed") is True
        scopes = qa_scopes(event)
        new = {"reviewed": 1, "reviewed_passed": int(passed)}
        old = self._reviews.pop(call, None)
        # a correction whose original was forgotten: windows as old as it may have counted it
        unsure = -math.inf
        if old is None and isinstance(data.get("previous_passed"), bool):
            unsure = self._forgotten
        counted: list[int] = []
        for p in periods:
            if old is not None and p.pid in old.counted:
                _add(p, old.scopes, {"reviewed": 1, "reviewed_passed": int(old.passed)}, -1)
            elif not _counts(p, ts) or (p.start is not None and p.start <= unsure):
                continue
            _add(p, scopes, new)
            counted.append(p.pid)
        self._reviews[call] = Review(ts, scopes, tuple(counted), passed)
