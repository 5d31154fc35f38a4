"""bailanys.robot.gapcalls: the operator calls' questions from the transcripts, clustered
with the robot's own unanswered questions as the quarterly analysis' FAQ candidates.

A small fixture of ``analytics_calls`` + ``utterances`` + ``faq_gaps`` rows; every
expected question, count and cell worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.reports import quarterly
from bailanys.reports.document import Table
from bailanys.reports.quarterlyfigures import figures, parse_quarter
from bailanys.robot import gapcalls
from bailanys.robot.gapcalls import FROM_CALL, MatcherAnswers, call_questions, candidates
from bailanys.robot.gapcluster import Question, cluster
from bailanys.store.migrations import (
    SCHEMA_V3_ANALYTICS,
    SCHEMA_V4_FAQ_GAPS,
    SCHEMA_V6_REPORTS,
    SCHEMA_V8_CALLER,
)
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
Q3 = (date(2026, 7, 1), date(2026, 9, 30))
#: The robot's default embedding cache (``[robot] faq_cache``), keyed by the FAQ's
#: content: shared with the other real-matcher tests, so the FAQ is embedded once.
FAQ_CACHE = ROOT / "var" / "faq_embeddings.npz"

#: call id -> (day, outcome, [(channel, start, text), ...]).
CALLS: dict[str, tuple[str, str, list[tuple[str, float, str]]]] = {
    # greeting at 2.0; "алло" at 1.0 is before it; "алло здравствуйте" has no topic
    # term; the question is the 5.0 one; the 8.0 one comes after it.
    "a": ("2026-08-10", "answered", [
        ("caller", 1.0, "алло"), ("agent", 2.0, "1414 здравствуйте меня зовут айгерим"),
        ("caller", 3.0, "алло здравствуйте"),
        ("caller", 5.0, "где получить справку о несудимости"),
        ("caller", 8.0, "мне для работы надо")]),
    # the whole call recorded (media.record_calls): the IVR part before the greeting
    # at 40.0 is not the operator's question; 42.0 is.
    "b": ("2026-09-01", "answered", [
        ("caller", 12.0, "справка о несудимости нужна"), ("agent", 40.0, "1414 сәлеметсіз бе"),
        ("caller", 42.0, "когда придёт пенсия по возрасту")]),
    # the only substantial utterance 70 s after the greeting: out of the 60 s window
    "c": ("2026-07-15", "answered", [
        ("agent", 0.5, "здравствуйте"), ("caller", 70.5, "где получить справку о несудимости")]),
    # the robot served it: not an operator call
    "d": ("2026-07-16", "robot", [
        ("agent", 0.5, "здравствуйте"), ("caller", 2.0, "где получить справку о несудимости")]),
    # no agent speech: no known bridge
    "e": ("2026-07-17", "answered", [("caller", 2.0, "где получить справку о несудимости")]),
    # the previous quarter
    "f": ("2026-06-30", "answered", [
        ("agent", 0.5, "здравствуйте"), ("caller", 2.0, "где получить справку о несудимости")]),
    # Kazakh; the greeting back has no topic term; a masked IIN stays masked
    "g": ("2026-09-20", "answered", [
        ("agent", 1.0, "1414 сәлеметсіз бе"), ("caller", 2.0, "сәлеметсіз бе"),
        ("caller", 4.0, "[IIN] соттылығы жоқ туралы анықтама қайдан аламын")]),
    # three short utterances first: the fourth is not looked at (FIRST_UTTERANCES)
    "h": ("2026-09-21", "answered", [
        ("agent", 1.0, "здравствуйте"), ("caller", 2.0, "алло"), ("caller", 3.0, "да"),
        ("caller", 4.0, "здравствуйте у меня вопрос"),
        ("caller", 6.0, "когда придёт пенсия по возрасту")]),
}
#: The robot's unanswered questions (faq_gaps): two in Q3 ask for the certificate,
#: one in Q3 about pension payments' date, one in Q2 (not counted).
GAPS = (("2026-07-05", "ru", "справку о несудимости где получить"),
        ("2026-08-05", "ru", "где получить справку о несудимости"),
        ("2026-09-05", "ru", "как открыть депозит в банке онлайн"),
        ("2026-06-30", "ru", "где получить справку о несудимости"))


def _ts(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=ALMATY).timestamp()


def _fill(conn: sqlite3.Connection) -> None:
    for sql in SCHEMA_V3_ANALYTICS + SCHEMA_V4_FAQ_GAPS + SCHEMA_V6_REPORTS \
            + SCHEMA_V8_CALLER:
        conn.execute(sql)
    for key, (call_id, (day, outcome, utts)) in enumerate(sorted(CALLS.items()), 1):
        conn.execute("INSERT INTO analytics_calls (id, call_id, started, day, outcome)"
                     " VALUES (?, ?, ?, ?, ?)", (key, call_id, _ts(day), day, outcome))
        seen = {"caller": 0, "agent": 0}
        for channel, start, text in utts:
            uid = key << 16 | (channel == "agent") << 15 | seen[channel]
            seen[channel] += 1
            lang = "kk" if call_id == "g" else "ru"
            conn.execute("INSERT INTO utterances (id, call_id, recording, channel, start, end,"
                         " language, text, words, terms) VALUES (?, ?, 'r.wav', ?, ?, ?, ?, ?,"
                         " '[]', '')", (uid, call_id, channel, start, start + 1.5, lang, text))
    conn.executemany(
        "INSERT INTO faq_gaps (ts, day, call_id, language, text, terms, candidates, outcome,"
        " attempt) VALUES (?, ?, ?, ?, ?, '', '[]', 'no_match', 1)",
        [(_ts(d), d, f"r{i}", la, t) for i, (d, la, t) in enumerate(GAPS)])


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:")
    _fill(c)
    yield c
    c.close()


def test_the_callers_question_after_the_greeting(conn: sqlite3.Connection) -> None:
    got = sorted((q.call_id, q.lang, q.text, q.outcome) for q in call_questions(conn, *Q3))
    assert got == [
        ("a", "ru", "где получить справку о несудимости", FROM_CALL),
        ("b", "ru", "когда придёт пенсия по возрасту", FROM_CALL),
        ("g", "kk", "[IIN] соттылығы жоқ туралы анықтама қайдан аламын", FROM_CALL)]


def test_the_newest_calls_first_and_no_tables() -> None:
    c = sqlite3.connect(":memory:")
    assert call_questions(c, *Q3) == []  # a store without transcripts (schema < 3)
    _fill(c)
    # the two newest answered calls of Q3: h (no question in its first three) and g
    assert [q.call_id for q in call_questions(c, *Q3, limit=2)] == ["g"]
    assert call_questions(c, *Q3, limit=0) == []
    assert [q.call_id for q in call_questions(c, date(2026, 6, 30), date(2026, 6, 30))] == ["f"]


def test_pick_takes_the_first_substantial_utterance_per_call() -> None:
    rows = [("x", "ru", "алло"), ("x", "ru", "пенсия"), ("x", "ru", "когда придёт пенсия"),
            ("x", "ru", "где получить справку о несудимости"), ("y", "ru", "да")]
    assert gapcalls.pick(rows) == [Question("когда придёт пенсия", "ru", "x", FROM_CALL)]


def _questions(conn: sqlite3.Connection) -> list[Question]:
    robot = [Question(t, la, f"r{i}", "no_match") for i, (d, la, t) in enumerate(GAPS)
             if d >= "2026-07-01"]
    return call_questions(conn, *Q3) + robot


def test_clustered_with_the_robots_questions(conn: sqlite3.Connection) -> None:
    qs = _questions(conn)
    got = {(c.lang, c.count, gapcalls.from_robot(c), gapcalls.from_calls(c))
           for c in cluster(qs)}
    # certificate: call a + two robot turns; pension: call b; deposit: robot; kk: call g
    assert got == {("ru", 3, 2, 1), ("ru", 1, 0, 1), ("ru", 1, 1, 0), ("kk", 1, 0, 1)}


def test_clusters_the_faq_answers_are_not_candidates(conn: sqlite3.Connection,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    qs = _questions(conn)
    asked: list[str] = []

    def answers(text: str) -> bool:
        asked.append(text)
        return "пенсия" in text

    listed, answered = candidates(cluster(qs), qs, answers, 10)
    assert answered == 1  # the pension question: the FAQ answers it
    assert sorted(c.representative for c in listed) == [
        "[IIN] соттылығы жоқ туралы анықтама қайдан аламын",
        "где получить справку о несудимости", "как открыть депозит в банке онлайн"]
    # the robot-only cluster (deposit) is never asked; the certificate's call text is
    assert sorted(asked) == sorted(["где получить справку о несудимости",
                                    "когда придёт пенсия по возрасту",
                                    "[IIN] соттылығы жоқ туралы анықтама қайдан аламын"])
    assert len(candidates(cluster(qs), qs, None, 2)[0]) == 2  # n bounds the list
    # past MAX_ASKED questions to the matcher the list ends: asked about the
    # certificate (no); the Kazakh cluster next would be a second question: the end
    monkeypatch.setattr(gapcalls, "MAX_ASKED", 1)
    listed, answered = candidates(cluster(qs), qs, lambda t: False, 10)
    assert [c.representative for c in listed] == ["где получить справку о несудимости"]
    assert answered == 0


def test_the_quarterly_table_counts_both_sources(conn: sqlite3.Connection) -> None:
    fig = figures(conn, parse_quarter("2026-Q3"), answers=lambda t: "пенсия" in t)
    assert (fig.gap_questions, fig.call_questions, fig.answered_clusters) == (6, 3, 1)
    for lang, heads, note in (
            ("kk", ("Роботқа қойылғаны", "Операторға қойылғаны"),
             "Тоқсанда робот жауап бере алмаған сұрақтар: 3; операторға жеткен қоңыраулардағы "
             "сұрақтар (қоңырау мәтіндері бойынша): 3;"),
            ("ru", ("Заданы роботу", "Заданы операторам"),
             "Вопросов без ответа робота за квартал: 3; вопросов из звонков, принятых "
             "операторами (по расшифровкам): 3;")):
        doc = quarterly.document(fig, lang, None, 30)
        table = next(b for b in doc.blocks if isinstance(b, Table) and b.id == "faq")
        assert isinstance(table, Table)
        assert table.columns[3:5] == heads
        assert note in table.note
        rows = [[c.value for c in r[:6]] for r in table.rows]
        assert rows == [
            [1, "ru", 3, 2, 1, "где получить справку о несудимости"],
            [2, "kk", 1, 0, 1, "[IIN] соттылығы жоқ туралы анықтама қайдан аламын"],
            [3, "ru", 1, 1, 0, "как открыть депозит в банке онлайн"]]


def test_no_faq_matcher_answers_nothing(tmp_path: Path) -> None:
    assert MatcherAnswers("", str(tmp_path / "e.npz"))("когда придёт пенсия") is False
    broken = MatcherAnswers(str(tmp_path / "no-such.yaml"), str(tmp_path / "e.npz"))
    assert broken("когда придёт пенсия") is False


@pytest.mark.peer
def test_the_real_matcher_leaves_out_what_the_faq_answers() -> None:
    """knowledge/faq.yaml answers «справка о несудимости» confidently; a fridge it does not."""
    answers = MatcherAnswers(str(ROOT / "knowledge/faq.yaml"), str(FAQ_CACHE))
    assert answers("где получить справку о несудимости") is True
    assert answers("у меня сломался холодильник что делать") is False


def test_faq_gaps_command_adds_the_calls(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``bailanys faq gaps --period 2026-Q3``: the fixture's three call questions and
    three robot questions; no FAQ configured, so nothing is left out."""
    db = tmp_path / "events.db"
    c = sqlite3.connect(db)
    _fill(c)
    c.commit()
    c.close()
    cfg = tmp_path / "bailanys.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[robot]\nfaq = ""\n', encoding="utf-8")
    assert cli.main(["faq", "gaps", "--period", "2026-Q3", "--config", str(cfg),
                     "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["language"], r["count"], r["from_robot"], r["from_calls"]) for r in rows] == [
        ("ru", "3", "2", "1"), ("kk", "1", "0", "1"), ("ru", "1", "1", "0"),
        ("ru", "1", "0", "1")]
    assert rows[0]["calls"].split()[0] == "/analytics#call=a"  # transcribed: a page link
    assert cli.main(["faq", "gaps", "--period", "2026-Q3", "--config", str(cfg),
                     "--labels", "ru", "--lang", "ru"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Вопросы без ответа за 2026-07-01..2026-09-30: всего 5; групп: 3\n"
                          "из них из расшифровок звонков операторам: 2; не включены группы,"
                          " на которые в FAQ уже есть уверенный ответ: 0\n")
    assert "   кому заданы: роботу 2, операторам 1\n" in out
