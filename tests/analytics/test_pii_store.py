"""A dictated IIN appears nowhere: not in the store, not in the index, not on the page (issue 15).

A worker (in this process) runs the real clean-up, transcript writer and
index on a call in which the caller dictates an IIN in Russian and the
agent reads it back in Kazakh (the recogniser is replaced by the words it
would give: the clean-up, not the recognition, is under test). Then every
text column of every table, every term of the FTS5 index, the raw database
file and what the analysts' page gets (search and call) are searched for
the IIN's digits.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

from bailanys.analytics.clean import clean_utterances
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.searchtypes import SearchQuery
from bailanys.analytics.steps import store_transcript
from bailanys.analytics.webstore import StoreAnalytics
from bailanys.analytics.worker import Steps
from tests.analytics.jobstore import add_jobs, new_store, write_wav
from tests.analytics.test_clean import IIN, KK_CALL, RU_CALL, _leaks, _words
from tests.analytics.test_worker import worker
from tests.analytics.workersteps import Result

SAID = {Channel.CALLER: (RU_CALL, "ru"), Channel.AGENT: (KK_CALL, "kk")}


def _transcribe(path: Path, channel: Channel, language: str | None,
                models: Mapping[str, Path]) -> Result:
    text, lang = SAID[channel]
    words: tuple[Word, ...] = tuple(_words(text, start=1.0))
    return Result((Utterance(channel, lang, words),), 30.0, 20.0, lang, 0.1)


def _strings(value: str) -> str:
    """A stored text value's words: a JSON value's strings (not its numbers:
    word times would read as digits), else the text itself."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    found: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, str):
            found.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(parsed)
    return " ".join(found)


def _all_text(db: Path) -> list[str]:
    """Every text value of every table (file paths aside), and every term of the FTS5 index."""
    out: list[str] = []
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (names from the schema)
                out.extend(_strings(v) for v in row if isinstance(v, str) and v[:1] != "/")
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, utterances_fts, row)")
        out.extend(r[0] for r in conn.execute("SELECT term FROM temp.vocab"))
    return out


def test_a_dictated_iin_is_nowhere_in_the_store_the_index_or_the_page(tmp_path: Path) -> None:
    db = Path(new_store(tmp_path / "s.db"))
    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    wav = write_wav(rec_dir / "c1.wav", 1.0)
    add_jobs(str(db), str(wav), call_id="c1")
    steps = Steps(transcribe=_transcribe, clean=clean_utterances, store=store_transcript)
    w = worker(str(db), steps)
    assert w.run(once=True) == 2 and w.done == 2

    values = _all_text(db)
    stored = "\n".join(values)
    assert stored.count("[IIN]") >= 4, "both sides' IIN masked, in text and words"
    assert "iin" in values  # the mask is a search term
    assert [v for v in values if _leaks(v)] == []  # no 4 digits of it, even split up
    assert IIN.encode() not in db.read_bytes()
    assert re.search(r"\d{9,}", stored) is None  # no other long number either

    page = StoreAnalytics(db, rec_dir)
    found = page.search(SearchQuery("справка"))
    assert [h.call_id for h in found.hits] == ["c1"]
    call = page.call("c1")
    assert call is not None and {u.channel for u in call.utterances} == set(SAID)
    # the hits' text fields (not their times: an epoch may contain four of the
    # IIN's digits by chance)
    hit_texts = [{k: v for k, v in asdict(h).items() if not isinstance(v, int | float)}
                 for h in found.hits]
    shown = json.dumps(hit_texts, ensure_ascii=False) + json.dumps(
        [[w.text for w in u.words] for u in call.utterances], ensure_ascii=False)
    assert "[IIN]" in shown
    assert _leaks(shown) == []
