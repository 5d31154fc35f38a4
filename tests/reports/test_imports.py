"""CSV import of other channels' contacts: validation, batches, re-import."""

from __future__ import annotations

import sqlite3
import string
from datetime import date

import pytest

from bailanys.reports.imports import MAX_PROBLEMS, ImportProblems, import_csv
from bailanys.reports.importtexts import LANGUAGES, TEXTS
from bailanys.store.migrations import SCHEMA_V6_REPORTS, SCHEMA_V8_CALLER
from bailanys.timezone import ALMATY

SINCE, UNTIL = date(2026, 7, 1), date(2026, 9, 30)
TOPICS = frozenset({"passport", "pension", "complaint"})

GOOD = """date,channel,topic,region,complaint,complaint_confirmed,answer_hours,count
2026-07-01,chat,passport,astana,no,,1.5,1
02.07.2026,email,complaint,Алматы қаласы,yes,yes,"48,5",2
2026-09-30,letter,,,,,,3
"""


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:", isolation_level=None)
    for sql in SCHEMA_V6_REPORTS + SCHEMA_V8_CALLER:
        c.execute(sql)
    return c


def _import(conn: sqlite3.Connection, text: str, name: str = "chat.csv", *,
            encoding: str = "utf-8") -> tuple[int, int, int]:
    r = import_csv(conn, text.encode(encoding), name, SINCE, UNTIL, ALMATY, topics=TOPICS,
                   user="analyst", now=1.0)
    return r.batch, r.contacts, r.replaced


def _problems(conn: sqlite3.Connection, text: str) -> list[str]:
    with pytest.raises(ImportProblems) as info:
        _import(conn, text)
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    return [str(p) for p in info.value.problems]


def test_import_rows_and_counts(conn: sqlite3.Connection) -> None:
    assert _import(conn, GOOD) == (1, 6, 0)
    rows = conn.execute(
        "SELECT day, channel, topic, topic_source, region, region_source, complaint, "
        "complaint_confirmed, answer_s, import_batch, call_id FROM contacts ORDER BY id"
    ).fetchall()
    assert rows == [
        ("2026-07-01", "chat", "passport", "import", "astana", "import", 0, None, 5400.0, 1,
         None),
        ("2026-07-02", "email", "complaint", "import", "almaty_city", "import", 1, 1,
         174600.0, 1, None),
        ("2026-07-02", "email", "complaint", "import", "almaty_city", "import", 1, 1,
         174600.0, 1, None),
        *[("2026-09-30", "letter", None, None, "unknown", None, 0, None, None, 1, None)] * 3,
    ]
    started = conn.execute("SELECT started FROM contacts WHERE id = 1").fetchone()[0]
    assert started == 1_782_846_000.0  # 2026-07-01 00:00 in Almaty (UTC+5)
    assert conn.execute("SELECT name, since, until, rows, imported, user "
                        "FROM contact_imports").fetchall() == [
        ("chat.csv", "2026-07-01", "2026-09-30", 6, 1.0, "analyst")]


def test_reimport_of_the_same_name_and_period_replaces(conn: sqlite3.Connection) -> None:
    _import(conn, GOOD)
    _import(conn, GOOD, "letters.csv")
    again = "date,channel\n2026-08-01,sms\n"
    assert _import(conn, again) == (3, 1, 6)
    channels = sorted(r[0] for r in conn.execute("SELECT channel FROM contacts"))
    assert channels == ["chat", "email", "email", "letter", "letter", "letter", "sms"]
    assert [r[0] for r in conn.execute("SELECT name FROM contact_imports ORDER BY id")] == [
        "letters.csv", "chat.csv"]


def test_kazakh_and_russian_headers_semicolons_and_cp1251(conn: sqlite3.Connection) -> None:
    kk = "Күні;Арна;Тақырып;Шағым;Саны\n2026-07-05;хат;pension;жоқ;4\n"
    assert _import(conn, kk, "kk.csv")[1] == 4
    ru = "Дата;Канал;Регион;Жалоба;Возрастная группа;Пол\n05.08.2026;Письмо;" \
         "Карагандинская область;да;61-70;женский\n"
    assert _import(conn, ru, "ru.csv", encoding="cp1251")[1] == 1
    got = conn.execute("SELECT channel, region, complaint, age_band, sex FROM contacts "
                       "WHERE day = '2026-08-05'").fetchone()
    assert got == ("letter", "karaganda", 1, "61-70", "f")
    bom = "\ufeffdate,channel\n2026-07-09,Чат\n"
    assert _import(conn, bom, "bom.csv")[1] == 1


def test_personal_data_and_unknown_columns_refused(conn: sqlite3.Connection) -> None:
    got = _problems(conn, "date,channel,ИИН,Телефон,E-mail,ФИО,colour\n2026-07-01,chat,1,2,3,4,5\n")
    assert got == [
        "chat.csv:1: ИИН: personal data is not imported: remove this column",
        "chat.csv:1: Телефон: personal data is not imported: remove this column",
        "chat.csv:1: E-mail: personal data is not imported: remove this column",
        "chat.csv:1: ФИО: personal data is not imported: remove this column",
        "chat.csv:1: colour: unknown column; expected date, channel, topic, region, "
        "complaint, complaint_confirmed, resolved, answer_hours, language, age_band, sex, "
        "social_status, survey_score, count",
    ]
    assert _problems(conn, "date,topic\n2026-07-01,passport\n") == [
        "chat.csv:1: channel: missing column"]


def test_every_bad_cell_named_with_its_line(conn: sqlite3.Connection) -> None:
    text = ("date,channel,topic,region,complaint,complaint_confirmed,answer_hours,"
            "survey_score,count,sex,social_status\n"
            "2026-07-01,chat,,,,,,,,,\n"
            "2026-06-30,operator,weather,mars,maybe,,-1,6,0,x,king\n"
            "31.02.2026,fax,,,no,yes,nan,,,,\n"
            "2026-07-02,chat,,,,,,,,,,extra\n")
    assert _problems(conn, text) == [
        "chat.csv:3: date: 2026-06-30 is outside the period 2026-07-01..2026-09-30",
        "chat.csv:3: channel: 'operator': the engine counts its own calls",
        "chat.csv:3: topic: 'weather' is not a topic of the classifier",
        "chat.csv:3: region: 'mars' is not one of the 17 regions and 3 cities",
        "chat.csv:3: complaint: 'maybe': expected yes or no (1/0, иә/жоқ, да/нет)",
        "chat.csv:3: sex: 'x': expected f or m (әйел/ер, женский/мужской)",
        "chat.csv:3: social_status: 'king' is not one of employee, self_employed, "
        "pensioner, disability, large_family, student, educated, no_education, unemployed",
        "chat.csv:3: survey_score: '6': expected a whole number from 1 to 5",
        "chat.csv:3: answer_hours: '-1': expected hours from 0 to 8784",
        "chat.csv:3: count: '0': expected a whole number from 1 to 100000",
        "chat.csv:4: date: '31.02.2026' is not a date (YYYY-MM-DD or DD.MM.YYYY)",
        "chat.csv:4: channel: 'fax' is not one of chat, email, letter, sms, other",
        "chat.csv:4: complaint_confirmed: a verdict needs complaint = yes",
        "chat.csv:4: answer_hours: 'nan': expected hours from 0 to 8784",
        "chat.csv:5: 12 cells, the header has 11",
    ]


def test_nonsense_files_get_clear_answers(conn: sqlite3.Connection) -> None:
    assert _problems(conn, "") == ["chat.csv:1: date: missing column"]
    assert _problems(conn, "date,channel\n") == ["chat.csv: no contacts in the file"]
    assert _problems(conn, 'date,channel\n2026-07-01,"chat"x\n')[0].startswith(
        "chat.csv:2: not a valid CSV")
    many = "date,channel\n" + "bad,chat\n" * (MAX_PROBLEMS + 30)
    with pytest.raises(ImportProblems) as info:
        _import(conn, many)
    assert len(info.value.problems) == MAX_PROBLEMS
    assert str(info.value).endswith("... and 30 more problems")
    with pytest.raises(ImportProblems, match="ends"):
        import_csv(conn, b"date,channel\n", "x.csv", UNTIL, SINCE, ALMATY)


def test_problems_in_kazakh_and_russian(conn: sqlite3.Connection) -> None:
    text = "date,channel,ЖСН,complaint_confirmed\n2026-06-01,fax,,да\n"
    got = {}
    for lang in ("kk", "ru"):
        with pytest.raises(ImportProblems) as info:
            import_csv(conn, text.encode(), "f.csv", SINCE, UNTIL, ALMATY, lang=lang)
        got[lang] = str(info.value)
    assert got["kk"] == "f.csv:1: ЖСН: дербес деректер импортталмайды: бұл бағанды алып тастаңыз"
    assert got["ru"] == ("f.csv:1: ЖСН: персональные данные не импортируются: "
                         "удалите этот столбец")
    rows = "date,channel,complaint_confirmed\n2026-06-01,fax,да\n"
    with pytest.raises(ImportProblems) as info:
        import_csv(conn, rows.encode(), "f.csv", SINCE, UNTIL, ALMATY, lang="ru")
    assert str(info.value).split("\n") == [
        "f.csv:2: date: 2026-06-01 вне периода 2026-07-01..2026-09-30",
        "f.csv:2: channel: 'fax': допустимые значения — chat, email, letter, sms, other",
        "f.csv:2: complaint_confirmed: решение по жалобе указывается только при «жалоба = да»",
    ]


def test_every_text_in_three_languages_with_the_same_fields() -> None:
    for key, entry in TEXTS.items():
        assert set(entry) == set(LANGUAGES), key
        fields = {lang: {f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                  for lang in LANGUAGES}
        assert fields["kk"] == fields["ru"] == fields["en"], key
