"""Scorecard versions in the store (issue 16: "a changed scorecard applies to
new calls, and each score records the version it used"): a real SQLite store
brought to the current schema by the engine's own migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bailanys.qa import cardstore, scorecard
from bailanys.qa.scorecard import ScorecardError
from tests.analytics.jobstore import new_store
from tests.qa.cards import DEFAULT_CARD, SMALL, write

DAY = 1_790_000_000.0  # 2026-09-21 UTC


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(new_store(tmp_path_factory.mktemp("store") / "s.db"))


@pytest.fixture
def conn(store_file: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    copy = tmp_path / "s.db"
    copy.write_bytes(store_file.read_bytes())
    with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as c:
        yield c


def rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute("SELECT id, version, digest, created FROM qa_scorecards "
                        "ORDER BY id, version").fetchall()


def test_register_once_and_read_back(conn: sqlite3.Connection) -> None:
    card = scorecard.load(DEFAULT_CARD)
    cardstore.register(conn, card, DAY)
    cardstore.register(conn, card, DAY + 60)  # the next call: nothing new
    assert rows(conn) == [("default", card.version, card.digest, DAY)]
    body = conn.execute("SELECT body FROM qa_scorecards").fetchone()[0]
    assert body == scorecard.canonical(card)
    again = cardstore.load_version(conn, "default", card.version)
    assert again is not None and scorecard.to_json(again) == scorecard.to_json(card)
    assert again.digest == card.digest
    assert cardstore.load_version(conn, "default", card.version + 1) is None
    assert cardstore.load_version(conn, "other", 1) is None


def test_a_change_needs_a_new_version(conn: sqlite3.Connection, tmp_path: Path) -> None:
    old = scorecard.load(write(tmp_path, "small.yaml", SMALL))
    cardstore.register(conn, old, DAY)
    changed = scorecard.load(write(tmp_path, "small.yaml", SMALL.replace("max: 60", "max: 40")))
    with pytest.raises(ScorecardError) as caught:
        cardstore.register(conn, changed, DAY + 86400)
    assert str(caught.value) == (
        f"{tmp_path / 'small.yaml'}: version: scorecard small version 1 changed without a new "
        "version: calls scored since 2026-09-21 used other content under it; raise version to 2")
    assert rows(conn) == [("small", 1, old.digest, DAY)]
    assert cardstore.check_versions(conn, [changed])[0].line == 2  # `version:` in the file

    bumped = scorecard.load(write(tmp_path, "small.yaml", SMALL.replace(
        "max: 60", "max: 40").replace("version: 1", "version: 2")))
    cardstore.register(conn, bumped, DAY + 86400)
    assert [r[:2] for r in rows(conn)] == [("small", 1), ("small", 2)]
    assert cardstore.stored_versions(conn, "small") == [1, 2]
    v1, v2 = cardstore.load_version(conn, "small", 1), cardstore.load_version(conn, "small", 2)
    assert v1 is not None and v2 is not None
    assert v1.digest == old.digest and v2.digest == bumped.digest
    assert {c.id: c.max for c in v1.criteria}["answered"] == 60.0  # the old card stays
    assert {c.id: c.max for c in v2.criteria}["answered"] == 40.0


def test_register_writes_inside_the_callers_transaction(conn: sqlite3.Connection) -> None:
    card = scorecard.load(DEFAULT_CARD)
    conn.execute("BEGIN IMMEDIATE")
    cardstore.register(conn, card, DAY)
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert rows(conn) == []


def test_check_versions(conn: sqlite3.Connection, tmp_path: Path) -> None:
    v2 = scorecard.load(write(tmp_path, "small.yaml", SMALL.replace("version: 1", "version: 2")))
    cardstore.register(conn, v2, DAY)
    assert cardstore.check_versions(conn, [v2, scorecard.load(DEFAULT_CARD)]) == []
    same_v2 = scorecard.load(write(tmp_path, "small.yaml", SMALL.replace(
        "version: 1", "version: 2").replace("weight: 5", "weight: 4")))
    older = scorecard.load(write(tmp_path, "small.yaml", SMALL.replace("weight: 5", "weight: 4")))
    assert [str(p) for p in cardstore.check_versions(conn, [same_v2, older])] == [
        f"{tmp_path / 'small.yaml'}:2: version: scorecard small version 2 changed without a "
        "new version: calls scored since 2026-09-21 used other content under it; raise "
        "version to 3",
        f"{tmp_path / 'small.yaml'}:2: version: version 1 is below version 2 already used "
        "by calls: a changed card needs version 3"]
    newer = replace(same_v2, version=3)
    assert cardstore.check_versions(conn, [newer]) == []


def test_a_corrupt_body_is_a_clear_error(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO qa_scorecards VALUES ('x', 1, 'd', '{not json', 0)")
    conn.execute("INSERT INTO qa_scorecards VALUES ('y', 1, 'd', '{\"id\": \"y\"}', 0)")
    with pytest.raises(ScorecardError, match="not JSON"):
        cardstore.load_version(conn, "x", 1)
    with pytest.raises(ScorecardError, match="version: missing"):
        cardstore.load_version(conn, "y", 1)
