"""The reviewers' page's port for real: the review store over the store file.

:class:`StoreQa` is :class:`~bailanys.qa.web.QaPort` over ``[store] path``.
Reads (a call's score, its scorecard version, its reviews and queue
reasons) are plain queries on schema v5 (``store/migrations.py``) over a
``mode=ro`` connection; every change goes through the review store
(``qa/reviews.py``: open, save, finalise, correct, the queue order;
``qa/sampling.py``: a supervisor's flag; ``qa/kappa.py``, ``qa/reports.py``),
which writes the rows and their events (``qa.reviewed``, ``qa.queued``) in
one transaction, committed here. Those modules are imported when first
used, so the page starts even where they are absent.

Like ``analytics/webstore.py``, each call opens its own connection in the
worker thread it runs in and closes it. What the review store refuses (its
own errors: not the owner, already final, no score...) comes back as
:class:`~bailanys.qa.web.QaRefused` with the error's ``code`` when it has one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import psycopg

from bailanys.errors import BailanysError
from bailanys.qa import webshape
from bailanys.qa.model import Answer, Scorecard
from bailanys.qa.web import QaRefused
from bailanys.store.backend import INTEGRITY_ERRORS
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, connect_sync, dialect_of

log = logging.getLogger(__name__)

#: Schema v5's refusals: SQLite's trigger aborts with a constraint error,
#: PostgreSQL's trigger function raises (SQLSTATE P0001).
FINAL_ERRORS: tuple[type[Exception], ...] = (*INTEGRITY_ERRORS, psycopg.errors.RaiseException)

#: Seconds a statement waits for another writer (the event writer, a worker).
BUSY_TIMEOUT_S = 5.0


def _module(name: str) -> Any:
    """``bailanys.qa.<name>``, imported on first use (see the module's docstring)."""
    return importlib.import_module(f"bailanys.qa.{name}")


class StoreQa:
    """The page's data from the store file ``db_path``."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = db_path

    def _connect(self, *, write: bool = False) -> SyncConnection:
        """The store (its file, never created here, or a PostgreSQL URL);
        a write connection is autocommit: the review store begins its own
        transactions (``store.syncdb.write_transaction``)."""
        if write and isinstance(self.db_path, Path):
            uri = self.db_path.resolve().as_uri() + "?mode=rw"
            lite = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
            return lite
        conn = connect_sync(self.db_path, readonly=not write, autocommit=write,
                            timeout=BUSY_TIMEOUT_S)
        if not write and dialect_of(conn) == "sqlite":
            conn.execute("PRAGMA query_only = ON")
        return conn

    @contextmanager
    def _writing(self) -> Iterator[SyncConnection]:
        """A connection for one action: committed when it returns (the review
        store commits its own ``BEGIN IMMEDIATE``; anything left open is
        committed here), rolled back when it raises; refusals as :func:`_refusals`."""
        with _refusals(), closing(self._connect(write=True)) as conn:
            try:
                yield conn
                if conn.in_transaction:
                    conn.commit()
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise

    # --- reads ---------------------------------------------------------------

    def call(self, call_id: str) -> Mapping[str, Any] | None:
        with _refusals(), closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT scorecard, version, total, critical_failed, results, acoustics, agent,"
                " queue, language, ts FROM qa_scores WHERE call_id = ? ORDER BY ts DESC, id DESC"
                " LIMIT 1", (call_id,)).fetchone()
            if row is None:
                return None
            card_id, version = str(row[0]), int(row[1])
            card = _card(conn, card_id, version)
            reviews = [webshape.review_json(r) for r in conn.execute(
                f"{webshape.SELECT_REVIEW} WHERE call_id = ? ORDER BY created, id", (call_id,))]
            reasons = self._reasons(conn, call_id)
        return {
            "call_id": call_id,
            "score": {"scorecard": card_id, "version": version, "total": row[2],
                      "critical_failed": webshape.ids(row[3]),
                      "results": webshape.loads(row[4], []),
                      "acoustics": webshape.loads(row[5], {}), "agent": row[6],
                      "queue": row[7], "language": row[8], "scored": row[9]},
            "card": None if card is None else webshape.card_json(card),
            "reviews": reviews, "reasons": reasons,
        }

    @staticmethod
    def _reasons(conn: SyncConnection, call_id: str) -> list[dict[str, Any]]:
        return [{"reason": r, "detail": d, "state": s, "by": b} for r, d, s, b in conn.execute(
            "SELECT reason, detail, state, added_by FROM qa_queue WHERE call_id = ?"
            " ORDER BY added, id", (call_id,))]

    def queue(self, reviewer: str, limit: int, offset: int) -> Sequence[Mapping[str, Any]]:
        """The review store's queue (``reviewqueue.queue``): urgent first, then oldest."""
        with _refusals(), closing(self._connect()) as conn:
            items = _module("reviews").queue(conn, reviewer=reviewer, limit=limit, offset=offset)
            return [webshape.plain(item) for item in items]

    def calibration(self, since: dt.date, until: dt.date) -> Mapping[str, Any]:
        with _refusals(), closing(self._connect()) as conn:
            return dict(webshape.plain(_module("kappa").calibration(conn, since, until)))

    def _report(self, conn: SyncConnection, by: str, since: dt.date, until: dt.date) -> Any:
        reports = _module("reports")
        build = reports.by_agent if by == "agent" else reports.by_team
        return build(conn, since, until)

    def report(self, by: str, since: dt.date, until: dt.date) -> Mapping[str, Any]:
        with _refusals(), closing(self._connect()) as conn:
            return dict(webshape.plain(self._report(conn, by, since, until)))

    def export_csv(self, by: str, since: dt.date, until: dt.date, lang: str) -> bytes:
        """``reports.export_csv``: BOM, Excel's separator per language, formulas guarded."""
        with _refusals(), closing(self._connect()) as conn:
            report = self._report(conn, by, since, until)
        return bytes(_module("reports").export_csv(report, lang))

    # --- actions -------------------------------------------------------------

    def _review(self, conn: SyncConnection, review_id: int) -> Mapping[str, Any]:
        row = conn.execute(f"{webshape.SELECT_REVIEW} WHERE id = ?", (review_id,)).fetchone()
        if row is None:
            raise QaRefused("no_review", f"no review {review_id}", HTTPStatus.NOT_FOUND)
        return webshape.review_json(row)

    def _act(self, action: Callable[[SyncConnection], Any],
             find: Callable[[SyncConnection, Any], int]) -> Mapping[str, Any]:
        with self._writing() as conn:
            value = action(conn)
            review_id = find(conn, value)
            return self._review(conn, review_id)

    def open_review(self, call_id: str, reviewer: str, now: float) -> Mapping[str, Any]:
        def latest(conn: SyncConnection, value: Any) -> int:
            if isinstance(getattr(value, "id", None), int):
                return int(value.id)
            row = conn.execute("SELECT id FROM qa_reviews WHERE call_id = ? AND reviewer = ?"
                               " ORDER BY revision DESC LIMIT 1", (call_id, reviewer)).fetchone()
            if row is None:
                raise QaRefused("no_review", "the review was not opened")
            return int(row[0])

        return self._act(lambda c: _module("reviews").open_review(c, call_id, reviewer, now),
                         latest)

    def save(self, review_id: int, reviewer: str, answers: Sequence[Answer],
             comment: str) -> Mapping[str, Any]:
        return self._act(lambda c: _module("reviews").save(c, review_id, reviewer, answers,
                                                           comment),
                         lambda c, v: review_id)

    def finalise(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]:
        return self._act(lambda c: _module("reviews").finalise(c, review_id, reviewer, now),
                         lambda c, v: review_id)

    def correct(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]:
        def newer(conn: SyncConnection, value: Any) -> int:
            if isinstance(getattr(value, "id", None), int):
                return int(value.id)
            row = conn.execute("SELECT id FROM qa_reviews WHERE supersedes = ?"
                               " ORDER BY id DESC LIMIT 1", (review_id,)).fetchone()
            if row is None:
                raise QaRefused("no_review", "the correction was not written")
            return int(row[0])

        return self._act(lambda c: _module("reviews").correct(c, review_id, reviewer, now), newer)

    def flag(self, call_id: str, by: str, now: float, detail: str) -> bool:
        with self._writing() as conn:
            return bool(_not_scored(lambda: _module("sampling").flag(conn, call_id, by, now,
                                                                     detail)))

    def calibrate(self, call_id: str, by: str, now: float) -> bool:
        with self._writing() as conn:
            return bool(_not_scored(lambda: _module("sampling").calibrate(conn, call_id, by,
                                                                          now)))


def _card(conn: SyncConnection, card_id: str, version: int) -> Scorecard | None:
    """The scorecard version the call was scored with (``cardstore.load_version``);
    None, logged, when its stored body cannot be read: the page still shows
    the results, by criterion id."""
    try:
        card: Scorecard | None = _module("cardstore").load_version(conn, card_id, version)
    except (BailanysError, ImportError) as exc:
        log.warning("qa: scorecard %s version %d cannot be read: %s", card_id, version, exc)
        return None
    return card


def _not_scored(request: Callable[[], Any]) -> Any:
    """A queue request (``sampling.flag`` / ``calibrate``); its refusal without
    a code is the call's missing score (what ``sampling`` refuses)."""
    try:
        return request()
    except (ValueError, LookupError) as exc:
        if getattr(exc, "code", None):
            raise
        raise QaRefused("not_scored", str(exc), HTTPStatus.NOT_FOUND) from exc


@contextmanager
def _refusals() -> Iterator[None]:
    """The review store's refusals as :class:`QaRefused`: its errors (``code``,
    ``detail``: ``answers.ReviewError``), any input error, schema v5's
    triggers (a finalised review is immutable); a failing store is 503."""
    try:
        yield
    except QaRefused:
        raise
    except FINAL_ERRORS as exc:
        raise QaRefused("final", str(exc)) from exc
    except STORE_ERRORS as exc:  # locked past the busy timeout, a damaged file, no server
        log.warning("qa: the store failed: %s", exc)
        raise QaRefused("failed", "the store failed", HTTPStatus.SERVICE_UNAVAILABLE) from exc
    except (ValueError, LookupError, PermissionError) as exc:
        code = str(getattr(exc, "code", "") or "refused")
        raise QaRefused(code, str(exc), _status(exc),
                        str(getattr(exc, "detail", "") or "")) from exc


#: ``answers.ReviewError`` codes by answer: the rest (final, not_final,
#: superseded, unanswered) are 409 Conflict with the review's state.
FORBIDDEN_CODES = frozenset({"not_owner"})
NOT_FOUND_CODES = frozenset({"not_found", "no_score", "no_scorecard", "not_scored"})
BAD_INPUT_CODES = frozenset({"unknown_criterion", "duplicate", "bad_outcome", "bad_value",
                             "no_reason", "too_long", "bad_period"})


def _status(exc: Exception) -> HTTPStatus:
    """The answer for a refusal: 403 not yours, 404 not there, 400 bad input, else 409."""
    code = getattr(exc, "code", "")
    if isinstance(exc, PermissionError) or code in FORBIDDEN_CODES:
        return HTTPStatus.FORBIDDEN
    if isinstance(exc, LookupError) or code in NOT_FOUND_CODES:
        return HTTPStatus.NOT_FOUND
    if code in BAD_INPUT_CODES:
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.CONFLICT
