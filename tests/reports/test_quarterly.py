"""The quarterly analysis (issue 17, report 2) over a fixture of ``contacts`` rows.

The fixture, 2026-Q3 against 2026-Q2 (and rows just outside both, which
must not count), with every expected figure worked out by hand below:

previous quarter (2026-Q2), 170 contacts:
  04-01 unknown   (no topic) 10      04-10 astana     pension   40
  05-10 almaty_c  pension    20      05-20 karaganda  id_card   30
  06-15 astana    passport   50 (5 of them aged 18-30)
  06-30 unknown   benefits   20
this quarter (2026-Q3), 254 contacts:
  07-01 astana    pension    50      07-15 almaty_c  pension 28 (8 imported chats)
  08-03 astana    passport   66 (20: 31-40 f employee; 10: 61-70 m pensioner)
  08-20 karaganda id_card    30 (4: 18-30 m; 2: "other" age f)
  09-01 unknown   benefits   10      09-10 shymkent ecp 12 (1: student only), astana ecp 12
  09-20 aktobe    army bus court land school tax visa zhkh: 5 each (40)
  09-30 unknown   (no topic)  6
  (almaty_c pension: 8 of the 28 aged 61-70 f pensioner)
outside: 03-31 and 10-01, astana pension 7 each.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bailanys.config import Config, RobotConfig
from bailanys.errors import InputError
from bailanys.reports import quarterly
from bailanys.reports.document import Cell, Chart, Document, Paragraph, Table
from bailanys.reports.model import REGIONS
from bailanys.reports.quarterlyfigures import figures, grew, parse_quarter, top
from bailanys.reports.settings import ReportsConfig
from bailanys.store.migrations import SCHEMA_V4_FAQ_GAPS, SCHEMA_V6_REPORTS, SCHEMA_V8_CALLER

ROOT = Path(__file__).resolve().parents[2]
#: The robot's FAQ for the candidates' nearest entry: none in most tests (loading the
#: real one takes a second), the real one where that column is checked.
NO_FAQ = Config(robot=RobotConfig(faq=""))
REAL_FAQ = Config(robot=RobotConfig(faq=str(ROOT / "knowledge/faq.yaml")))
FIVES = ("zhkh", "visa", "tax", "school", "land", "court", "bus", "army")  # 5 each, aktobe


def _rows(day: str, region: str, topic: str | None, n: int,
          portrait: tuple[str | None, str | None, str | None] = (None, None, None),
          channel: str = "operator") -> list[tuple[object, ...]]:
    return [(day, channel, topic, region, *portrait)] * n


def _fixture() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    # previous quarter
    rows += _rows("2026-04-01", "unknown", None, 10)
    rows += _rows("2026-04-10", "astana", "pension", 40)
    rows += _rows("2026-05-10", "almaty_city", "pension", 20)
    rows += _rows("2026-05-20", "karaganda", "id_card", 30)
    rows += _rows("2026-06-15", "astana", "passport", 45)
    rows += _rows("2026-06-15", "astana", "passport", 5, ("18-30", "m", None))
    rows += _rows("2026-06-30", "unknown", "benefits", 20)
    # this quarter
    rows += _rows("2026-07-01", "astana", "pension", 50)
    rows += _rows("2026-07-15", "almaty_city", "pension", 12)
    rows += _rows("2026-07-15", "almaty_city", "pension", 8, ("61-70", "f", "pensioner"))
    rows += _rows("2026-07-15", "almaty_city", "pension", 8, channel="chat")
    rows += _rows("2026-08-03", "astana", "passport", 36)
    rows += _rows("2026-08-03", "astana", "passport", 20, ("31-40", "f", "employee"))
    rows += _rows("2026-08-03", "astana", "passport", 10, ("61-70", "m", "pensioner"))
    rows += _rows("2026-08-20", "karaganda", "id_card", 24)
    rows += _rows("2026-08-20", "karaganda", "id_card", 4, ("18-30", "m", None))
    rows += _rows("2026-08-20", "karaganda", "id_card", 2, ("other", "f", None))
    rows += _rows("2026-09-01", "unknown", "benefits", 10)
    rows += _rows("2026-09-10", "shymkent", "ecp", 11)
    rows += _rows("2026-09-10", "shymkent", "ecp", 1, (None, None, "student"))
    rows += _rows("2026-09-10", "astana", "ecp", 12)
    for topic in FIVES:
        rows += _rows("2026-09-20", "aktobe", topic, 5)
    rows += _rows("2026-09-30", "unknown", None, 6)
    # outside both quarters
    rows += _rows("2026-03-31", "astana", "pension", 7)
    rows += _rows("2026-10-01", "astana", "pension", 7, ("18-30", "f", "student"))
    return rows


def _schema(conn: sqlite3.Connection, gaps: bool = True) -> None:
    for sql in SCHEMA_V6_REPORTS + SCHEMA_V8_CALLER + (SCHEMA_V4_FAQ_GAPS if gaps else ()):
        conn.execute(sql)


def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO contacts (call_id, started, day, channel, topic, region, age_band, sex,"
        " social_status) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
        [(None if r[1] == "chat" else f"c{i}", *r) for i, r in enumerate(rows)])


GAPS = (("2026-07-05", "ru", "где получить справку о несудимости"),
        ("2026-08-05", "ru", "где получить справку о несудимости"),
        ("2026-09-05", "ru", "где получить справку о несудимости"),
        ("2026-09-06", "kk", "соттылығы жоқ туралы анықтама қайдан аламын"),
        ("2026-06-30", "ru", "когда придёт пенсия"))  # the previous quarter: not counted


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:")
    _schema(c)
    _insert(c, _fixture())
    c.executemany("INSERT INTO faq_gaps (ts, day, call_id, language, text, terms, candidates,"
                  " outcome, attempt) VALUES (?, ?, ?, ?, ?, ?, '[]', 'no_match', 1)",
                  [(float(i), d, f"g{i}", la, t, t) for i, (d, la, t) in enumerate(GAPS)])
    yield c
    c.close()


class Names:
    """A classifier with names for some topics (the rest show their ids)."""

    NAMES = {"passport": {"kk": "Төлқұжат", "ru": "Загранпаспорт"},
             "pension": {"kk": "Зейнетақы", "ru": "Пенсия"}}

    def names(self, topic: str, lang: str) -> str:
        return self.NAMES[topic][lang]


_BUILT: dict[tuple[int, str, str, bool], Document] = {}


def _build(conn: sqlite3.Connection, quarter: str, lang: str, names: bool = False) -> Document:
    """``quarterly.build`` without a FAQ, once per arguments (charts take time)."""
    key = (id(conn), quarter, lang, names)
    if key not in _BUILT:
        _BUILT[key] = quarterly.build(conn, quarter, lang, Names() if names else None, NO_FAQ)
    return _BUILT[key]


def _table(doc: Document, table_id: str) -> Table:
    return next(b for b in doc.blocks if isinstance(b, Table) and b.id == table_id)


def _values(row: tuple[Cell, ...]) -> list[object]:
    return [c.value for c in row]


def _text(doc: Document) -> str:
    return "\n".join(b.text for b in doc.blocks if isinstance(b, Paragraph))


def test_totals_regions_and_the_unknown_share(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "ru")
    t = _table(doc, "regions")
    by_name = {r[1].value: _values(r) for r in t.rows}
    assert len(t.rows) == 20 + 1 + 1  # the regions, "not determined", the total
    assert by_name["город Астана"] == [1, "город Астана", 128, 90, 42.2, 50.4]
    assert by_name["город Алматы"] == [2, "город Алматы", 28, 20, 40.0, 11.0]
    assert by_name["город Шымкент"] == [3, "город Шымкент", 12, 0, None, 4.7]
    assert by_name["Актюбинская область"][2:] == [40, 0, None, 15.7]
    assert by_name["Карагандинская область"][2:] == [30, 30, 0.0, 11.8]
    assert by_name["Регион не определён"] == ["", "Регион не определён", 16, 30, -46.7, 6.3]
    assert by_name["область Ұлытау"][2:] == [0, 0, None, 0.0]  # an empty region
    assert _values(t.rows[-1])[2:] == [254, 170, 49.4, 100.0]
    assert t.rows[-1][2].formula == "=SUM(C2:C22)"  # this quarter, column C
    assert t.rows[-1][3].formula == "=SUM(D2:D22)"
    assert "6,3 %" in t.note
    assert doc.period == "III квартал 2026 года"


def test_the_xlsx_formulas_point_at_the_figures(conn: sqlite3.Connection) -> None:
    from bailanys.reports.render import write
    from tests.reports.xlsxcheck import check_formulas

    assert check_formulas(write(_build(conn, "2026-Q3", "ru"), "xlsx")) >= 2


def test_topics_change_and_the_growth_flag(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "ru", names=True)
    t = _table(doc, "topics")
    got = [(r[2].value, r[3].value, r[4].value, r[5].value, r[5].flag) for r in t.rows]
    assert got[:5] == [
        ("pension", 78, 60, 30.0, False),  # exactly +30 %: not "more than 30 %"
        ("passport", 66, 50, 32.0, True),
        ("id_card", 30, 30, 0.0, False),
        ("ecp", 24, 0, None, False),  # new: in its own table, change undefined
        ("benefits", 10, 20, -50.0, False)]
    assert [g[0] for g in got[5:13]] == sorted(FIVES)
    assert got[13] == ("", 6, 10, -40.0, False)  # not classified, last
    assert t.rows[0][1].value == "Пенсия" and t.rows[1][1].value == "Загранпаспорт"
    assert t.rows[1][6].value == "нужен план" and t.rows[1][6].flag
    lower = dataclasses.replace(NO_FAQ, reports=ReportsConfig(growth_flag_pct=20))
    doc = quarterly.build(conn, "2026-Q3", "ru", None, lower)
    flagged = [r[2].value for r in _table(doc, "topics").rows if r[5].flag]
    assert flagged == ["pension", "passport"]


def test_grew_is_exact() -> None:
    assert not grew(130, 100, 30) and grew(131, 100, 30)
    assert not grew(5, 0, 30)  # nothing before: a new topic, not a growth
    assert not grew(0, 0, 30)


def test_top_ten_country_ties_alphabetical(conn: sqlite3.Connection) -> None:
    t = _table(_build(conn, "2026-Q3", "kk"), "top")
    assert [_values(r) for r in t.rows] == [
        [1, "pension", 78, 31.5], [2, "passport", 66, 26.6], [3, "id_card", 30, 12.1],
        [4, "ecp", 24, 9.7], [5, "benefits", 10, 4.0], [6, "army", 5, 2.0],
        [7, "bus", 5, 2.0], [8, "court", 5, 2.0], [9, "land", 5, 2.0], [10, "school", 5, 2.0]]
    assert "әліпби" in t.note


def test_top_ten_breaks_twelve_ties_by_id() -> None:
    counts = {f"t{i:02d}": 3 for i in range(12, 0, -1)} | {"": 99, "zero": 0}
    assert top(counts) == [(f"t{i:02d}", 3) for i in range(1, 11)]


def test_top_ten_per_region_and_empty_regions(conn: sqlite3.Connection) -> None:
    t = _table(_build(conn, "2026-Q3", "ru"), "region_top")
    rows = [_values(r) for r in t.rows]
    assert rows[:5] == [["город Астана", 1, "passport", 66], ["город Астана", 2, "pension", 50],
                        ["город Астана", 3, "ecp", 12], ["город Алматы", 1, "pension", 28],
                        ["город Шымкент", 1, "ecp", 12]]
    assert rows[5] == ["область Абай", None, "Запросов не поступало", None]
    aktobe = [r for r in rows if r[0] == "Актюбинская область"]
    assert aktobe == [["Актюбинская область", i + 1, k, 5] for i, k in enumerate(sorted(FIVES))]
    assert len(rows) == 3 + 1 + 1 + 8 + 1 + 15  # 15 regions without contacts: one row each
    assert sum(1 for r in rows if r[2] == "Запросов не поступало") == 15


def test_social_portrait(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "ru")
    age = [_values(r) for r in _table(doc, "portrait_age").rows]
    assert age == [["18-30", 4, 9.1], ["31-40", 20, 45.5], ["41-50", 0, 0.0], ["51-60", 0, 0.0],
                   ["61-70", 18, 40.9], ["71-80", 0, 0.0], ["81-90", 0, 0.0],
                   ["Младше 18 или старше 90 лет", 2, 4.5],
                   ["Запросы со сведениями", 44, 17.3], ["Запросы без сведений", 210, 82.7]]
    sex = [_values(r) for r in _table(doc, "portrait_sex").rows]
    assert sex == [["Женский", 30, 68.2], ["Мужской", 14, 31.8],
                   ["Запросы со сведениями", 44, 17.3], ["Запросы без сведений", 210, 82.7]]
    status = {r[0].value: _values(r)[1:] for r in _table(doc, "portrait_status").rows}
    assert status["Наёмные работники"] == [20, 51.3]
    assert status["Пенсионеры"] == [18, 46.2]
    assert status["Обучающиеся в организациях образования"] == [1, 2.6]
    assert status["Многодетные семьи"] == [0, 0.0]
    assert status["Запросы со сведениями"] == [39, 15.4]
    assert status["Запросы без сведений"] == [215, 84.6]
    assert len(status) == 9 + 2


def test_new_topics_and_faq_candidates(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "ru")
    new = [_values(r)[2:] for r in _table(doc, "new_topics").rows]
    assert new == [["ecp", 24]] + [[k, 5] for k in sorted(FIVES)]
    faq = _table(doc, "faq")
    assert [_values(r)[:6] for r in faq.rows] == [  # all from the robot, none from calls
        [1, "ru", 3, 3, 0, "где получить справку о несудимости"],
        [2, "kk", 1, 1, 0, "соттылығы жоқ туралы анықтама қайдан аламын"]]
    assert [r[7].value for r in faq.rows] == [None, None]  # no FAQ: no nearest entry
    # questions kept in the quarter (not the June one); no transcripts
    assert "Вопросов без ответа робота за квартал: 4; вопросов из звонков" in faq.note
    assert "(по расшифровкам): 0;" in faq.note


def test_faq_candidates_name_the_nearest_entry(conn: sqlite3.Connection) -> None:
    """knowledge/faq.yaml's criminal_record_certificate: "справка о несудимости"
    / "сотталмағандық туралы анықтама", the entry these questions miss."""
    for lang, title in (("ru", "справка о несудимости"), ("kk", "сотталмағандық туралы анықтама")):
        faq = _table(quarterly.build(conn, "2026-Q3", lang, None, REAL_FAQ), "faq")
        assert [r[7].value for r in faq.rows] == [title, title]
    broken = dataclasses.replace(REAL_FAQ, robot=RobotConfig(faq=str(ROOT / "no-such.yaml")))
    faq = _table(quarterly.build(conn, "2026-Q3", "ru", None, broken), "faq")
    assert [r[2].value for r in faq.rows] == [3, 1] and faq.rows[0][7].value is None


def test_months_and_figures(conn: sqlite3.Connection) -> None:
    fig = figures(conn, parse_quarter("2026-Q3"))
    assert dict(fig.months) == {"2026-04": 50, "2026-05": 50, "2026-06": 70,
                                "2026-07": 78, "2026-08": 96, "2026-09": 80}
    assert (fig.total, fig.previous_total) == (254, 170)
    assert fig.topics[""] == (6, 10)
    assert fig.gap_questions == 4 and fig.gap_clusters == 2


def test_charts_are_pngs_with_their_numbers_in_the_alt(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "ru")
    charts = {b.id: b for b in doc.blocks if isinstance(b, Chart)}
    assert set(charts) == {"regions", "portrait", "trend"}
    assert all(c.png.startswith(b"\x89PNG\r\n\x1a\n") and len(c.png) > 5000
               for c in charts.values())
    assert "июль 2026: 78" in charts["trend"].alt and "апрель 2026: 50" in charts["trend"].alt
    assert "город Астана: 128 (90)" in charts["regions"].alt
    assert "31-40: 20" in charts["portrait"].alt


def test_analytical_text_ru(conn: sqlite3.Connection) -> None:
    text = _text(_build(conn, "2026-Q3", "ru", names=True))
    assert "В III квартале 2026 года в контакт-центр поступило запросов: 254 " \
           "(в предыдущем квартале — 170), рост на 49,4 %." in text
    assert "По месяцам: июль 2026 — 78, август 2026 — 96, сентябрь 2026 — 80." in text
    assert "город Астана — 128 (50,4 %), Актюбинская область — 40 (15,7 %), " \
           "Карагандинская область — 30 (11,8 %)" in text
    assert "не определён: 16 (6,3 %)" in text
    assert "более чем на 30 % по темам: «Загранпаспорт» (+32,0 %)." in text
    assert "«Пенсия» (+" not in text
    assert "1) «Пенсия» — 78; 2) «Загранпаспорт» — 66;" in text
    assert "Новые темы, которых не было в предыдущем квартале: «ecp» — 24, «army» — 5" in text
    assert "таких запросов — 45 (17,7 %)" in text
    assert "в возрасте 31–40 лет (45,5 %)" in text
    assert "Женщины — 68,2 %, мужчины — 31,8 %." in text
    assert "наёмные работники (51,3 %)" in text
    assert ("Вопросов, на которые робот не ответил: 4; вопросов, с которыми заявители обратились"
            " к операторам (по расшифровкам звонков): 0; групп похожих вопросов: 2.") in text
    assert "[заполняется аналитиком]" in text


def test_analytical_text_kk(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2026-Q3", "kk", names=True)
    text = _text(doc)
    assert doc.period == "2026 жылғы III тоқсан"
    assert "2026 жылғы III тоқсанда байланыс орталығына 254 өтініш түсті (алдыңғы тоқсанда " \
           "— 170), яғни өтініштер саны 49,4 %-ға артты." in text
    assert "Айлар бойынша: шілде 2026 — 78, тамыз 2026 — 96, қыркүйек 2026 — 80." in text
    assert "30 %-дан астам артқан тақырыптар: «Төлқұжат» (+32,0 %)." in text
    assert "Өңірі анықталмаған өтініштер: 16 (6,3 %)." in text
    assert "Әйелдер — 68,2 %, ерлер — 31,8 %." in text
    assert "[талдаушы толтырады]" in text
    for table in (b for b in doc.blocks if isinstance(b, Table)):
        assert len(table.sheet) <= 31
    sheets = [b.sheet for b in doc.blocks if isinstance(b, Table)]
    assert len(set(sheets)) == len(sheets)


def test_a_quarter_with_no_data(conn: sqlite3.Connection) -> None:
    doc = _build(conn, "2025-Q1", "ru")
    regions = _table(doc, "regions")
    assert all(r[2].value == 0 and r[4].value is None for r in regions.rows)
    assert _values(regions.rows[-1])[2:] == [0, 0, None, None]
    assert _table(doc, "top").rows == () and _table(doc, "new_topics").rows == ()
    assert len(_table(doc, "region_top").rows) == len(REGIONS)
    age = _table(doc, "portrait_age").rows
    assert _values(age[-1]) == ["Запросы без сведений", 0, None]
    assert "В I квартале 2025 года запросов в контакт-центр не поступало." in _text(doc)
    assert _table(doc, "faq").rows == ()


def test_a_store_without_robot_questions() -> None:
    c = sqlite3.connect(":memory:")
    _schema(c, gaps=False)
    _insert(c, _fixture())
    doc = quarterly.build(c, "2026-Q3", "kk", None, NO_FAQ)
    assert _table(doc, "faq").rows == ()
    assert "Тоқсанда FAQ-қа ұсынылатын сұрақ жоқ." in _text(doc)


@pytest.mark.parametrize("bad", ["2026-Q5", "2026", "Q3-2026", "", "1999-Q1", "2026-Q3; DROP"])
def test_bad_quarter(bad: str) -> None:
    with pytest.raises(InputError, match="quarter"):
        parse_quarter(bad)


def test_bad_language(conn: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="language"):
        quarterly.build(conn, "2026-Q3", "en", None, NO_FAQ)


def test_quarter_boundaries() -> None:
    q1 = parse_quarter("2026-q1")
    assert (q1.first.isoformat(), q1.last.isoformat()) == ("2026-01-01", "2026-03-31")
    assert str(q1.previous()) == "2025-Q4" and q1.previous().last.isoformat() == "2025-12-31"
