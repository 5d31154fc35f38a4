"""The feedback analysis (feedback procedure, item 4.2) from a fixture of
``contacts`` rows; every expected cell is worked out by hand in the comments."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bailanys.reports import feedback
from bailanys.reports.document import Cell, CellKind, Document, Paragraph, Table
from bailanys.reports.formrows import channel_name
from bailanys.store.migrations import MIGRATIONS

DAY = 86_400.0


class FakeTopics:
    ids = ("pension", "allowance", "passport", "complaint")
    _groups = {"pension": "social", "allowance": "social", "passport": "documents",
               "complaint": "service"}
    _names = {"kk": {"pension": "Зейнетақы", "allowance": "Жәрдемақы", "passport": "Паспорт",
                     "complaint": "Қызметке шағым", "social": "Әлеуметтік төлемдер",
                     "documents": "Құжаттар", "service": "Орталықтың қызметі"},
              "ru": {"pension": "Пенсия", "allowance": "Пособие", "passport": "Паспорт",
                     "complaint": "Жалоба на обслуживание", "social": "Социальные выплаты",
                     "documents": "Документы", "service": "Работа центра"}}

    def names(self, id: str, lang: str) -> str:
        return self._names[lang][id]

    def group_of(self, id: str) -> str | None:
        return self._groups.get(id)


def _db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "store.db")
    for _, statements in MIGRATIONS:
        for sql in statements:
            conn.execute(sql)
    return conn


def _add(conn: sqlite3.Connection, day: str, channel: str, topic: str | None, *,
         answer_s: float | None = None, score: int | None = None,
         confirmed: bool | None = None, complaint: bool = False) -> None:
    complaint = complaint or topic == "complaint"
    conn.execute("INSERT INTO contacts (started, day, channel, topic, complaint, "
                 "complaint_confirmed, survey_score, answer_s) VALUES (0, ?, ?, ?, ?, ?, ?, ?)",
                 (day, channel, topic, int(complaint),
                  None if confirmed is None else int(confirmed), score, answer_s))


def _fixture(conn: sqlite3.Connection) -> None:
    d = "2026-08-03"
    _add(conn, d, "operator", "pension", answer_s=20, score=5)
    _add(conn, d, "operator", "pension", answer_s=40, score=4)
    _add(conn, d, "operator", "complaint", answer_s=90, score=1, confirmed=True)
    _add(conn, "2026-09-30", "operator", "passport", answer_s=10, score=2)
    _add(conn, "2026-07-01", "ivr", "passport")
    _add(conn, d, "ivr", None)
    _add(conn, d, "robot", "allowance", score=5)
    _add(conn, d, "email", "pension", answer_s=3 * DAY)
    _add(conn, d, "email", "complaint", answer_s=20 * DAY, confirmed=False)
    _add(conn, d, "chat", "complaint", answer_s=30, score=3)
    # outside the quarter: never counted
    _add(conn, "2026-06-30", "operator", "complaint", answer_s=1, score=1, confirmed=True)
    _add(conn, "2026-10-01", "letter", "complaint", answer_s=1, score=1, confirmed=True)
    conn.commit()


def _tables(doc: Document) -> dict[str, Table]:
    return {b.id: b for b in doc.blocks if isinstance(b, Table)}


def _values(table: Table) -> list[list[Any]]:
    return [[c.value for c in row] for row in table.rows]


def _approx(rows: list[list[Any]]) -> list[list[Any]]:
    return [[pytest.approx(v) if isinstance(v, float) else v for v in row] for row in rows]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_quarter_cell_by_cell(tmp_path: Path, lang: str) -> None:
    conn = _db(tmp_path)
    _fixture(conn)
    doc = feedback.build(conn, date(2026, 7, 1), "2026-09-30", lang, FakeTopics())
    assert doc.language == lang and doc.period == "01.07.2026 – 30.09.2026"
    assert doc.title == ("Кері байланысты талдау" if lang == "kk" else "Анализ обратной связи")
    t = _tables(doc)
    assert list(t) == ["channels", "reasons", "groups", "answer_time", "complaints", "survey"]
    third = 100 / 3
    every = "Барлығы" if lang == "kk" else "Всего"

    def ch(c: str) -> str:
        return channel_name(c, lang)

    # 10 contacts: ivr 2, robot 1, operator 4, chat 1, email 2 (the form's channel
    # order); complaints: operator 1, chat 1, email 1 = 3
    assert _values(t["channels"]) == _approx([
        [ch("ivr"), 2, 20.0, 0, 0.0], [ch("robot"), 1, 10.0, 0, 0.0],
        [ch("operator"), 4, 40.0, 1, third], [ch("chat"), 1, 10.0, 1, third],
        [ch("email"), 2, 20.0, 1, third], [every, 10, 100.0, 3, 100.0]])
    assert t["channels"].rows[-1][1].formula == "=SUM(B2:B6)"
    assert t["channels"].rows[-1][3].formula == "=SUM(D2:D6)"
    # topics: complaint 3 and pension 3 (tie: by id), passport 2, allowance 1; 1 without
    names = FakeTopics._names[lang]
    no_topic = "Тақырыбы анықталмаған" if lang == "kk" else "Тема не определена"
    assert _values(t["reasons"]) == _approx([
        [1, names["complaint"], names["service"], 3, 30.0],
        [2, names["pension"], names["social"], 3, 30.0],
        [3, names["passport"], names["documents"], 2, 20.0],
        [4, names["allowance"], names["social"], 1, 10.0],
        ["", no_topic, None, 1, 10.0]])
    # groups: social 3 + 1 = 4, service 3, documents 2, none 1
    assert _values(t["groups"]) == _approx([
        [names["social"], 4, 40.0], [names["service"], 3, 30.0],
        [names["documents"], 2, 20.0], [no_topic, 1, 10.0], [every, 10, 100.0]])
    assert t["groups"].rows[-1][1].formula == "=SUM(B2:B5)"
    # answer time: operator 10 20 40 90: median 30, mean 40, 3 of 4 within 60 s;
    # chat 30 s = 0.5 min, no norm; email 3 and 20 days: median = mean = 11.5 days
    # = 16 560 min, norm 15 days = 21 600 min, 1 of 2 within
    sec, mins = ("секунд", "минут") if lang == "kk" else ("секунды", "минуты")
    assert _values(t["answer_time"]) == _approx([
        [ch("operator"), 4, sec, 30.0, 40.0, 60.0, 75.0],
        [ch("chat"), 1, mins, 0.5, 0.5, None, None],
        [ch("email"), 2, mins, 16_560.0, 16_560.0, 21_600.0, 50.0]])
    assert t["answer_time"].rows[0][3].kind == CellKind.SECONDS
    assert t["answer_time"].rows[2][3].kind == CellKind.MINUTES
    # complaints: 3; upheld 1 (operator), refused 1 (email), undecided 1 (chat)
    assert [r[1:] for r in _values(t["complaints"])] == _approx(
        [[3, 100.0], [1, third], [1, third], [1, third]])
    # survey: 5 5 4 3 2 1 -> mean 20 / 6; CSI 3 of 6, CDI 2 of 6
    survey = _values(t["survey"])
    assert [r[1:] for r in survey[:6]] == _approx(
        [[2, third], [1, 100 / 6], [1, 100 / 6], [1, 100 / 6], [1, 100 / 6], [6, 100.0]])
    assert survey[6][1] == pytest.approx(20 / 6)
    assert t["survey"].rows[6][1].kind == CellKind.SCORE
    assert survey[7][1:] == _approx([[3, 50.0]])[0]
    assert survey[8][1:] == _approx([[2, third]])[0]
    if lang == "ru":
        assert [r[0] for r in survey[:5]] == ["5 баллов", "4 балла", "3 балла", "2 балла",
                                              "1 балл"]
    assert isinstance(doc.blocks[0], Paragraph) and doc.period in doc.blocks[0].text


def test_the_xlsx_formulas_point_at_the_figures(tmp_path: Path) -> None:
    from bailanys.reports.render import write
    from tests.reports.xlsxcheck import check_formulas

    conn = _db(tmp_path)
    _fixture(conn)
    doc = feedback.build(conn, date(2026, 7, 1), "2026-09-30", "kk", FakeTopics())
    assert check_formulas(write(doc, "xlsx")) >= 4


def test_a_period_with_no_data(tmp_path: Path) -> None:
    t = _tables(feedback.build(_db(tmp_path), "2025-01-01", "2025-03-31", "ru", None))
    assert _values(t["channels"]) == [["Всего", 0, None, 0, None]]
    assert _values(t["reasons"]) == [["", "Тема не определена", None, 0, None]]
    assert _values(t["answer_time"]) == []
    assert [r[1:] for r in _values(t["complaints"])] == [[0, None]] * 4
    assert _values(t["survey"])[6][1] is None  # no mean: "—", never 0


def test_without_a_classifier_topics_are_their_own_groups(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    _fixture(conn)
    t = _tables(feedback.build(conn, "2026-07-01", "2026-09-30", "kk", None))
    assert [r[0] for r in _values(t["groups"])][:4] == ["complaint", "pension", "passport",
                                                         "allowance"]


def test_bounds_and_bad_input() -> None:
    assert feedback.bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert feedback.bounds("2026-q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert feedback.bounds("2026-H1") == (date(2026, 1, 1), date(2026, 6, 30))
    for bad in ("2026", "2026-Q5", "Q3-2026", "x" * 5000):
        with pytest.raises(ValueError, match="expected a quarter like 2026-Q3"):
            feedback.bounds(bad)
    with pytest.raises(ValueError, match="expected a date YYYY-MM-DD"):
        feedback.parse_day("yesterday")
    conn = sqlite3.connect(":memory:")
    with pytest.raises(ValueError, match="ends"):
        feedback.build(conn, "2026-02-01", "2026-01-01", "kk", None)
    with pytest.raises(ValueError, match="language"):
        feedback.build(conn, "2026-01-01", "2026-02-01", "en", None)


def test_cells_are_typed() -> None:
    assert feedback._pct(1, 4) == Cell(25.0, CellKind.PCT)
    assert feedback._pct(0, 0) == Cell(None, CellKind.PCT)


def test_a_reasons_rank_is_a_number(tmp_path: Path) -> None:
    """The rank is a figure, as in the quarterly analysis (not text: Excel
    would flag "a number stored as text" on every row)."""
    conn = _db(tmp_path)
    _fixture(conn)
    reasons = _tables(feedback.build(conn, "2026-07-01", "2026-09-30", "ru", None))["reasons"]
    assert [row[0] for row in reasons.rows[:-1]] == [Cell(i, CellKind.COUNT) for i in (1, 2, 3, 4)]
    assert reasons.rows[-1][0] == Cell("")  # "not classified" has no rank
