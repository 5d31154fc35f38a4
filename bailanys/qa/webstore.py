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

import importlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bailanys.qa import webshape
from bailanys.qa.model import Answer
from bailanys.qa.web import QaRefused

log = logging.getLogger(__name__)

#: Seconds a statement waits for another writer (the event writer, a worker).
BUSY_TIMEOUT_S = 5.0
#: Modules whose errors are refusals to show (not failures to log).
REFUSING_MODULES = ("bailanys.qa.", "bailanys.errors")


def _module(name: str) -> Any:
    """``bailanys.qa.<name>``, imported on first use (see the module's docstring)."""
    return importlib.import_module(f"bailanys.qa.{name}")


class StoreQa:
    """The page's data from the store file ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def _connect(self, *, write: bool = False) -> sqlite3.Connection:
        uri = self.db_path.resolve().as_uri() + ("?mode=rw" if write else "?mode=ro")
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=True)
        if not write:
            conn.execute("PRAGMA query_only = ON")
        return conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection for one action: committed when it returns, rolled back
        when it raises; the review store's own refusals become :class:`QaRefused`."""
        with closing(self._connect(write=True)) as conn:
            try:
                yield conn
                if conn.in_transaction:
                    conn.commit()
            except QaRefused:
                conn.rollback()
                raise
            except sqlite3.IntegrityError as exc:  # a trigger: a final review is immutable
                conn.rollback()
                raise QaRefused("immutable", str(exc)) from exc
            except Exception as exc:
                conn.rollback()
                if type(exc).__module__.startswith(REFUSING_MODULES) or isinstance(
                        exc, ValueError | LookupError | PermissionError):
                    raise QaRefused(str(getattr(exc, "code", "") or "refused"), str(exc),
                                    _status(exc)) from exc
                raise

    # --- reads ---------------------------------------------------------------

    def call(self, call_id: str) -> Mapping[str, Any] | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT scorecard, version, total, critical_failed, results, acoustics, agent,"
                " queue, language, ts FROM qa_scores WHERE call_id = ? ORDER BY ts DESC, id DESC"
                " LIMIT 1", (call_id,)).fetchone()
            if row is None:
                return None
            card_id, version = str(row[0]), int(row[1])
            card = _module("cardstore").load_version(conn, card_id, version)
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
    def _reasons(conn: sqlite3.Connection, call_id: str) -> list[dict[str, Any]]:
        return [{"reason": r, "detail": d, "state": s, "by": b} for r, d, s, b in conn.execute(
            "SELECT reason, detail, state, added_by FROM qa_queue WHERE call_id = ?"
            " ORDER BY added, id", (call_id,))]

    def queue(self, reviewer: str, limit: int, offset: int) -> Sequence[Mapping[str, Any]]:
        """The review store's queue (its order), each call's facts and reasons read here."""
        with closing(self._connect()) as conn:
            items = _module("reviews").queue(conn, reviewer=reviewer, limit=limit, offset=offset)
            out = []
            for item in items:
                data = webshape.plain(item)
                call_id = str(data["call_id"])
                out.append(self._queue_item(conn, call_id, reviewer))
        return out

    def _queue_item(self, conn: sqlite3.Connection, call_id: str,
                    reviewer: str) -> dict[str, Any]:
        facts = conn.execute(
            "SELECT started, agent, queue, language, topic, disposition, survey_score"
            " FROM analytics_calls WHERE call_id = ?", (call_id,)).fetchone() or (None,) * 7
        score = conn.execute(
            "SELECT total, critical_failed, agent, queue FROM qa_scores WHERE call_id = ?"
            " ORDER BY ts DESC LIMIT 1", (call_id,)).fetchone() or (None, "", None, None)
        mine = conn.execute("SELECT state FROM qa_reviews WHERE call_id = ? AND reviewer = ?"
                            " ORDER BY revision DESC LIMIT 1",
                            (call_id, reviewer)).fetchone()
        return {"call_id": call_id, "started": facts[0], "agent": facts[1] or score[2],
                "queue": facts[2] or score[3], "language": facts[3], "topic": facts[4],
                "disposition": facts[5], "survey_score": facts[6], "total": score[0],
                "critical_failed": webshape.ids(score[1]),
                "reasons": [r for r in self._reasons(conn, call_id) if r["state"] == "open"],
                "draft": mine is not None and mine[0] == "draft"}

    def calibration(self, since: float, until: float) -> Mapping[str, Any]:
        with closing(self._connect()) as conn:
            return webshape.calibration_json(_module("kappa").calibration(conn, since, until))

    def report(self, by: str, since: float, until: float) -> Sequence[Mapping[str, Any]]:
        reports = _module("reports")
        build = reports.by_agent if by == "agent" else reports.by_team
        with closing(self._connect()) as conn:
            return webshape.report_json(build(conn, since, until), by)

    def criterion_names(self) -> Mapping[str, Mapping[str, str]]:
        names: dict[str, Mapping[str, str]] = {}
        with closing(self._connect()) as conn:
            load = _module("cardstore").load_version
            for card_id, version in conn.execute(
                    "SELECT id, version FROM qa_scorecards ORDER BY id, version"):
                card = load(conn, card_id, version)
                for c in () if card is None else card.criteria:
                    names[c.id] = c.names.to_json()
        return names

    # --- actions -------------------------------------------------------------

    def _review(self, conn: sqlite3.Connection, review_id: int) -> Mapping[str, Any]:
        row = conn.execute(f"{webshape.SELECT_REVIEW} WHERE id = ?", (review_id,)).fetchone()
        if row is None:
            raise QaRefused("no_review", f"no review {review_id}", HTTPStatus.NOT_FOUND)
        return webshape.review_json(row)

    def _act(self, action: Callable[[sqlite3.Connection], Any],
             find: Callable[[sqlite3.Connection, Any], int]) -> Mapping[str, Any]:
        with self._writing() as conn:
            value = action(conn)
            review_id = find(conn, value)
            return self._review(conn, review_id)

    def open_review(self, call_id: str, reviewer: str, now: float) -> Mapping[str, Any]:
        def latest(conn: sqlite3.Connection, value: Any) -> int:
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
        def newer(conn: sqlite3.Connection, value: Any) -> int:
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
            return bool(_module("sampling").flag(conn, call_id, by, now, detail))


def _status(exc: Exception) -> HTTPStatus:
    """The answer for a refusal: 403 not yours, 404 not there, else 409."""
    if isinstance(exc, PermissionError) or getattr(exc, "code", "") in ("not_owner", "forbidden"):
        return HTTPStatus.FORBIDDEN
    if isinstance(exc, LookupError) or getattr(exc, "code", "") in ("not_found", "no_score"):
        return HTTPStatus.NOT_FOUND
    return HTTPStatus.CONFLICT
