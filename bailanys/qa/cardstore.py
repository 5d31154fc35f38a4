"""Scorecard versions in the store: ``qa_scorecards`` (schema v5).

Issue 16: "a changed scorecard applies to new calls, and each score records
the version it used". A score names (card id, version); this module keeps
the body of every version that scored a call, so that a review opened a year
later reads the criteria it was scored with, and refuses a card whose
content changed while its version did not (the score would then name a
version whose criteria it was not scored with).

Synchronous functions on a :class:`SyncConnection`, run inside the
caller's transaction (the QA step writes the card, the score and its events
in one); nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bailanys.qa import scorecard
from bailanys.qa.model import Scorecard
from bailanys.qa.scorecard import ScorecardError
from bailanys.store.syncdb import SyncConnection
from bailanys.yamlsrc import Problem, load_file

INSERT = """
INSERT INTO qa_scorecards (id, version, digest, body, created) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id, version) DO NOTHING
"""
SELECT_ONE = "SELECT digest, created FROM qa_scorecards WHERE id = ? AND version = ?"
SELECT_BODY = "SELECT body FROM qa_scorecards WHERE id = ? AND version = ?"
SELECT_VERSIONS = "SELECT version, digest, created FROM qa_scorecards WHERE id = ?"


def register(conn: SyncConnection, card: Scorecard, now: float) -> None:
    """Record ``card``'s version (once); ScorecardError when the store already
    holds other content under the same id and version."""
    body = scorecard.canonical(card)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    conn.execute(INSERT, (card.id, card.version, digest, body, now))
    row = conn.execute(SELECT_ONE, (card.id, card.version)).fetchone()
    assert row is not None  # inserted just above, or there already
    stored, created = row
    if stored != digest:
        newest = max(v for v, _, _ in conn.execute(SELECT_VERSIONS, (card.id,)))
        raise ScorecardError([_changed(card, float(created), newest, line=0)])


def load_version(conn: SyncConnection, card_id: str, version: int) -> Scorecard | None:
    """The card as it was at ``version`` (None when no call used it);
    ScorecardError when the stored body is not a valid card."""
    row = conn.execute(SELECT_BODY, (card_id, version)).fetchone()
    if row is None:
        return None
    try:
        data = json.loads(row[0])
    except ValueError as exc:
        raise ScorecardError([Problem(f"<qa_scorecards {card_id} {version}>", 0, "",
                                      f"not JSON: {exc}")]) from None
    return scorecard.from_json(data)


def check_versions(conn: SyncConnection, cards: Sequence[Scorecard]) -> list[Problem]:
    """For ``bailanys qa check --store``: every card whose content differs from
    the stored body of its version, or whose version is new but lower than
    one already used (it would look older than what it replaces)."""
    problems: list[Problem] = []
    for card in cards:
        rows = {int(v): (d, float(c)) for v, d, c in conn.execute(SELECT_VERSIONS, (card.id,))}
        if not rows:
            continue
        newest = max(rows)
        line = _version_line(card)
        if card.version in rows:
            if rows[card.version][0] != scorecard.digest(card):
                problems.append(_changed(card, rows[card.version][1], newest, line))
        elif card.version < newest:
            problems.append(Problem(card.path or card.id, line, "version",
                                    f"version {card.version} is below version {newest} "
                                    f"already used by calls: a changed card needs "
                                    f"version {newest + 1}"))
    return problems


def stored_versions(conn: SyncConnection, card_id: str) -> list[int]:
    """The versions of ``card_id`` that scored calls, lowest first."""
    return sorted(int(v) for v, _, _ in conn.execute(SELECT_VERSIONS, (card_id,)))


def _changed(card: Scorecard, created: float, newest: int, line: int) -> Problem:
    day = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d")
    return Problem(card.path or card.id, line, "version",
                   f"scorecard {card.id} version {card.version} changed without a new "
                   f"version: calls scored since {day} used other content under it; "
                   f"raise version to {newest + 1}")


def _version_line(card: Scorecard) -> int:
    """The line of ``version:`` in the card's file (0 when it cannot be read)."""
    if not card.path or not Path(card.path).is_file():
        return 0
    return load_file(Path(card.path)).lines.get(("version",), 0)
