"""The semi-annual form (Appendix 2, form БОҚБЕ): every cell from a fixture
of ``contacts`` rows and stored events, each expected figure worked out by
hand below; the labels of all 28 rows against the original in Kazakh and the
official Russian wording; rows 15-19 equal the metrics core's figures."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from bailanys.config import Config
from bailanys.metrics.windows import recompute
from bailanys.qa.settings import QaConfig
from bailanys.reports import formrows, semiannual
from bailanys.reports.document import Cell, CellKind, Paragraph, Table
from bailanys.reports.organisation import load
from bailanys.reports.settings import ReportsConfig
from bailanys.store.events import INSERT_EVENT
from bailanys.store.migrations import MIGRATIONS
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
ORG = load(ROOT / "configs" / "organisation.toml")
CONFIG = Config()

# The original's table (columns А, Б, В), copied from Appendix 2 of the 2023
# requirements (domain/kz-contact-center-requirements-2023.kk.txt), tabs as in
# the source; row 17 is split over two lines there (joined here), row 25's
# letter-spacing is the print's.
ORIGINAL_KK = (Path(__file__).parent / "appendix2_original.kk.tsv").read_text("utf-8")

# The Russian wording of the official Russian text of the order (its parallel
# version), row by row: label, unit.
RUSSIAN = {
    1: ("Наименование контакт-центра", "наименование"),
    2: ("№ и дата документа о начале работы контакт-центра", "№ и дата"),
    3: ("Адрес местонахождения контакт-центра", "адрес"),
    4: ("Наличие структурных подразделений, филиалов", "да или нет"),
    5: ("№ телефона контакт-центра", "номер"),
    6: ("Режим работы", ""),
    7: ("Работа в выходные, праздничные дни", "да или нет"),
    8: ("Вопросы консультирования, приема обращений", "укажите перечень вопросов"),
    9: ("Наличие второй линии сотрудников", "да или нет"),
    10: ("Каналы связи, используемые для взаимодействия с пользователями (перечислить)",
          "перечислите каналы связи"),
    11: ("Количество штатных / внештатных сотрудников, всего", "единиц"),
    12: ("Количество работающих операторов, всего", "единиц"),
    13: ("Общее количество принятых обращений, всего", "единиц"),
    14: ("Количество принятых обращений в разрезе каналов связи", "единиц"),
    15: ("Время ожидания при обращении клиента по телефонным каналам связи после "
         "прослушивания голосового меню, секунд", "секунды"),
    16: ("Уровень удовлетворенности клиентов по балльной шкале", "балл"),
    17: ("Доля обращений клиентов, проблема которых решена при первичном обращении, "
         "в процентах", "в процентах"),
    18: ("Доля потерянных звонков, в процентах", "в процентах"),
    19: ("Среднее время обработки заявки оператором, минут", "минуты"),
    20: ("Количество подтвержденных жалоб на деятельность контакт-центра и операторов "
          "контакт-центра", "единиц"),
    21: ("Наличие программных продуктов (перечислить) (при наличии)",
          "да или нет. При «да» перечислите программные продукты"),
    22: ("Интеграция с информационными системами государственных органов (перечислить)",
          "да или нет. При «да» перечислите информационные системы"),
    23: ("Информация о прохождении сертификационного аудита, сертификации контакт-центра",
          "дата"),
    24: ("Информация о прохождении сертификации менеджерами контакт-центра",
          "да или нет. При «да» укажите количество"),
    25: ("Оснащение рабочего места в соответствии с требованиями", "да или нет"),
    26: ("Оснащение необходимыми вспомогательными помещениями", "да или нет"),
    27: ("Наличие базы знаний", "да или нет"),
    28: ("Наличие внутренних нормативных документов, регламентирующих деятельность "
          "контакт-центра", "да или нет"),
}


def _unspace(text: str) -> str:
    """Row 25's "о р н ы н ы ң": single letters spaced out in the print."""
    words = text.split(" ")
    out: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    return " ".join(out + ([run] if run else []))


def test_every_label_is_the_originals_in_kazakh_and_the_official_russian() -> None:
    original = [line.split("\t") for line in ORIGINAL_KK.splitlines()]
    assert [int(n) for n, _, _ in original] == list(range(1, 29))
    assert len(formrows.ROWS) == 28
    for (number, label, unit), spec in zip(original, formrows.ROWS, strict=True):
        assert spec.number == int(number)
        assert spec.label("kk") == _unspace(label)
        assert spec.unit("kk") == unit
        assert (spec.label("ru"), spec.unit("ru")) == RUSSIAN[spec.number]


# --------------------------------------------------------------- the fixture

#: Monday 3 August 2026, 10:00 in Almaty: inside 2026-H2.
T = datetime(2026, 8, 3, 10, 0, tzinfo=ALMATY).timestamp()
#: 30 June 2026, 23:00 in Almaty: H1, one hour before the period.
BEFORE = datetime(2026, 6, 30, 23, 0, tzinfo=ALMATY).timestamp()


def _db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "store.db")
    for _, statements in MIGRATIONS:
        for sql in statements:
            conn.execute(sql)
    return conn


def _event(conn: sqlite3.Connection, ts: float, type_: str, call_id: str | None,
           **data: Any) -> None:
    conn.execute(INSERT_EVENT, (ts, type_, call_id, json.dumps(data)))


def _call(conn: sqlite3.Connection, t: float, call: str, number: str, *, waited: float,
          outcome: str, talk: float = 0.0, resolved: bool = False, score: int | None = None,
          short: bool = False) -> None:
    """One call through queue egov: answered (talk, disposition, survey) or abandoned."""
    _event(conn, t, "call.offered", call, caller=number)
    _event(conn, t + 5, "queue.joined", call, queue="egov", language="kk")
    if outcome == "answered":
        _event(conn, t + 5 + waited, "call.connected", call, queue="egov", waited=waited)
        _event(conn, t + 5 + waited + talk, "call.completed", call, queue="egov", talk=talk)
        _event(conn, t + 6 + waited + talk, "call.disposition", call, queue="egov",
               resolved=resolved, topic="pension", agent="a1")
        if score is not None:
            _event(conn, t + 7 + waited + talk, "survey.answered", call, question="csat",
                   score=score)
    else:
        _event(conn, t + 5 + waited, "queue.abandoned", call, queue="egov", waited=waited,
               short=short, cause="caller")
    _event(conn, t + 60 + waited + talk, "call.ended", call)


def _contact(conn: sqlite3.Connection, day: str, channel: str, *, call_id: str | None = None,
             complaint: bool = False, confirmed: bool | None = None) -> None:
    conn.execute("INSERT INTO contacts (call_id, started, day, channel, complaint, "
                 "complaint_confirmed) VALUES (?, ?, ?, ?, ?, ?)",
                 (call_id, T, day, channel, int(complaint),
                  None if confirmed is None else int(confirmed)))


def _fixture(conn: sqlite3.Connection) -> None:
    # A: answered after 20 s, talk 300 s, resolved at first contact, score 5
    _call(conn, T, "A", "+77011111111", waited=20, outcome="answered", talk=300,
          resolved=True, score=5)
    # B: answered after 40 s, talk 180 s, not resolved, score 3
    _call(conn, T + 600, "B", "+77012222222", waited=40, outcome="answered", talk=180,
          score=3)
    # C: hung up after 50 s (lost); D: hung up after 3 s (a short abandon, not lost)
    _call(conn, T + 1200, "C", "+77013333333", waited=50, outcome="abandoned")
    _call(conn, T + 1800, "D", "+77014444444", waited=3, outcome="abandoned", short=True)
    # E: before the period (H1): context only, never counted
    _call(conn, BEFORE, "E", "+77015555555", waited=10, outcome="answered", talk=60,
          resolved=True, score=1)
    # contacts: 3 operator, 1 ivr, 2 robot, 1 imported chat in H2; one each side
    for call, channel in (("A", "operator"), ("B", "operator"), ("F", "operator"),
                          ("C", "ivr"), ("G", "robot"), ("H", "robot")):
        _contact(conn, "2026-08-03", channel, call_id=call,
                 complaint=call in ("B", "F"), confirmed={"B": True, "F": False}.get(call))
    _contact(conn, "2026-12-31", "chat", complaint=True)  # no verdict yet
    _contact(conn, "2026-06-30", "operator", call_id="E", complaint=True, confirmed=True)
    _contact(conn, "2027-01-01", "operator", call_id="Z", complaint=True, confirmed=True)
    conn.commit()


class FakeTopics:
    ids = ("pension", "allowance", "passport", "complaint", "loose")
    _groups = {"pension": "social", "allowance": "social", "passport": "documents",
               "complaint": "service"}
    _names = {("social", "kk"): "Әлеуметтік төлемдер", ("social", "ru"): "Социальные выплаты",
              ("documents", "kk"): "Құжаттар", ("documents", "ru"): "Документы",
              ("loose", "kk"): "Басқа", ("loose", "ru"): "Прочее"}

    def names(self, id: str, lang: str) -> str:
        return self._names[(id, lang)]

    def group_of(self, id: str) -> str | None:
        return self._groups.get(id)


def _table(doc: Any) -> Table:
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert len(tables) == 1
    return tables[0]


def _by_number(table: Table) -> dict[str, Cell]:
    return {str(r[0].value): r[3] for r in table.rows[1:]}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_form_of_a_half_year_cell_by_cell(tmp_path: Path, lang: str) -> None:
    conn = _db(tmp_path)
    _fixture(conn)
    doc = semiannual.build(conn, "2026-H2", lang, ORG, FakeTopics(), CONFIG)
    table = _table(doc)
    assert table.columns == formrows.COLUMNS[lang]
    assert [c.value for c in table.rows[0]] == ["А", "Б", "В", "1"]
    labels = [str(r[1].value) for r in table.rows[1:] if isinstance(r[0].value, int)]
    assert labels == [spec.label(lang) for spec in formrows.ROWS]
    cells = _by_number(table)
    yes, no = ("иә", "жоқ") if lang == "kk" else ("да", "нет")
    # static rows, from configs/organisation.toml
    assert cells["1"].value == ORG.name.get(lang)
    assert cells["2"].value == "№ 1, 01.01.2013"
    assert cells["4"].value == f"{yes}: " + ", ".join(b.get(lang) for b in ORG.branches)
    assert cells["5"].value == "1414"
    assert cells["7"].value == yes
    # row 8: the classifier's groups in order, the loose topic, no complaint group
    assert cells["8"].value == ("Әлеуметтік төлемдер; Құжаттар; Басқа" if lang == "kk"
                                else "Социальные выплаты; Документы; Прочее")
    assert cells["11"] == Cell(520, CellKind.COUNT)
    assert cells["12"] == Cell(500, CellKind.COUNT)
    assert cells["22"].value == no  # no integrations listed
    assert cells["23"].value == no  # no certification table
    assert cells["24"].value == no  # 0 certified managers
    assert cells["28"].value == yes
    # row 13/14: 3 operator + 1 ivr + 2 robot + 1 chat = 7 (30 June, 1 Jan out), in
    # thousands as the filling instructions ask ("көрсетіледі, мың")
    assert cells["13"] == Cell(0.007, CellKind.THOUSANDS, formula="=D16")
    assert cells["14"].value == 0.007 and cells["14"].kind == CellKind.THOUSANDS
    names = {str(r[1].value): r[3].value for r in table.rows if str(r[0].value).startswith("14.")}
    assert names == {formrows.channel_name(c, lang): n / 1000 for c, n in (
        ("ivr", 1), ("robot", 2), ("operator", 3), ("callback", 0), ("sms", 0), ("chat", 1))}
    # sheet rows: 1 titles, 2 letters, 3..15 rows 1-13, 16 row 14, 17..22 its six channels
    assert cells["13"].formula == "=D16"
    assert cells["14"].formula == "=SUM(D17:D22)"
    # row 15: waits of the answered A and B: (20 + 40) / 2 = 30 s (E is in H1)
    assert cells["15"] == Cell(30.0, CellKind.SECONDS)
    # row 16: scores 5 and 3: 4.0
    assert cells["16"] == Cell(4.0, CellKind.SCORE)
    # row 17: two requests, A resolved at first contact: 50 %
    assert cells["17"] == Cell(50.0, CellKind.PCT)
    # row 18: offered A B C D = 4, short abandon D left out: C lost of 3 = 33.3 %
    assert cells["18"].kind == CellKind.PCT
    assert cells["18"].value == pytest.approx(100 / 3)
    # row 19: talk 300 + 180 over 2 handled = 240 s = 4 minutes
    assert cells["19"] == Cell(4.0, CellKind.MINUTES)
    # row 20: B confirmed; F refused, the chat's has no verdict, E and Z outside
    assert cells["20"] == Cell(1, CellKind.COUNT)
    assert doc.period == ("2026 жылғы II жартыжылдық" if lang == "kk" else
                          "II полугодие 2026 года")
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert any(formrows.INDEX in t for t in texts)
    assert any(doc.period in t for t in texts)


def test_the_xlsx_formulas_point_at_the_figures(tmp_path: Path) -> None:
    from bailanys.reports.render import write
    from tests.reports.xlsxcheck import check_formulas

    conn = _db(tmp_path)
    _fixture(conn)
    doc = semiannual.build(conn, "2026-H2", "kk", ORG, FakeTopics(), CONFIG)
    assert check_formulas(write(doc, "xlsx")) == 2  # rows 13 and 14


def test_rows_15_to_19_are_the_metrics_cores_figures(tmp_path: Path) -> None:
    """One code path: the same events through recompute give the same values."""
    conn = _db(tmp_path)
    _fixture(conn)
    start = datetime(2026, 7, 1, tzinfo=ALMATY).timestamp()
    end = datetime(2027, 1, 1, tzinfo=ALMATY).timestamp()
    config = replace(CONFIG, console=replace(CONFIG.console, kpi_wait_of_all=True))
    events = list(semiannual.stored_events(conn, 0, end))
    total = recompute(events, start, end, semiannual.kpi_config(config)).total
    cells = _by_number(_table(semiannual.build(conn, "2026-H2", "ru", ORG, None, config)))
    assert cells["15"].value == total.kpi("wait_s").value
    # wait of every caller who left: (20 + 40 + 50 + 3) / 4 = 28.25 s
    assert cells["15"].value == pytest.approx(28.25)
    assert cells["16"].value == total.kpi("satisfaction_score").value
    assert cells["17"].value == total.kpi("fcr_pct").value
    assert cells["18"].value == total.kpi("lost_pct").value
    assert cells["19"].value == pytest.approx(total.kpi("aht_s").value / 60)
    assert cells["8"].value is None  # no classifier configured


def test_a_period_with_no_data(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    cells = _by_number(_table(semiannual.build(conn, "2025-H1", "kk", ORG, None, CONFIG)))
    assert cells["13"].value == 0 and cells["20"].value == 0
    for row in ("15", "16", "17", "18", "19"):
        assert cells[row].value is None  # "—", never 0
    assert cells["1"].value == ORG.name.kk


def test_complaint_topics_come_from_qa_settings(tmp_path: Path) -> None:
    config = replace(CONFIG, qa=QaConfig(complaint_topics="complaint,passport"))
    cells = _by_number(_table(semiannual.build(_db(tmp_path), "2026-H1", "ru", ORG,
                                               FakeTopics(), config)))
    assert cells["8"].value == "Социальные выплаты; Прочее"


@pytest.mark.parametrize("period", ["2026", "2026-H3", "26-H1", "2026-Q1", "", "x" * 10_000])
def test_a_bad_period_is_refused_clearly(period: str) -> None:
    with pytest.raises(ValueError, match="expected a half-year like 2026-H2"):
        semiannual.parse_period(period)


def test_periods_and_labels() -> None:
    assert semiannual.parse_period("2026-h1") == (date(2026, 1, 1), date(2026, 7, 1))
    assert semiannual.parse_period("2026-H2") == (date(2026, 7, 1), date(2027, 1, 1))
    assert semiannual.period_label("2026-H1", "kk") == "2026 жылғы I жартыжылдық"
    assert semiannual.period_label("2026-H1", "ru") == "I полугодие 2026 года"


@pytest.mark.parametrize(("today", "expected"), [
    (date(2027, 1, 1), ("2026-H2", date(2027, 1, 15))),
    (date(2027, 1, 15), ("2026-H2", date(2027, 1, 15))),
    (date(2027, 1, 16), None),
    (date(2026, 6, 30), None),
    (date(2026, 7, 1), ("2026-H1", date(2026, 7, 15))),
    (date(2026, 7, 15), ("2026-H1", date(2026, 7, 15))),
    (date(2026, 12, 31), None),
])
def test_due(today: date, expected: tuple[str, date] | None) -> None:
    assert semiannual.due(today, CONFIG) == expected


def test_due_day_from_the_settings() -> None:
    config = replace(CONFIG, reports=ReportsConfig(due_day=10))
    assert semiannual.due(date(2027, 1, 10), config) == ("2026-H2", date(2027, 1, 10))
    assert semiannual.due(date(2027, 1, 11), config) is None


def test_certification_and_managers_when_the_profile_has_them(tmp_path: Path) -> None:
    from bailanys.reports.organisation import Certification, Text

    org = replace(ORG, certification=Certification(date(2026, 5, 20), Text(
        "Сертификаттау аудиті", "Сертификационный аудит")), certified_managers=3,
        integrations=(Text("ЭҮП", "ПЭП"),), second_line=False)
    conn = _db(tmp_path)
    kk = _by_number(_table(semiannual.build(conn, "2026-H1", "kk", org, None, CONFIG)))
    assert (kk["22"].value, kk["23"].value, kk["24"].value, kk["9"].value) == (
        "иә: ЭҮП", "Сертификаттау аудиті, 20.05.2026", "иә, 3", "жоқ")
    ru = _by_number(_table(semiannual.build(conn, "2026-H1", "ru", org, None, CONFIG)))
    assert (ru["22"].value, ru["23"].value, ru["24"].value, ru["9"].value) == (
        "да: ПЭП", "Сертификационный аудит, 20.05.2026", "да, 3", "нет")
