"""bailanys.robot.faq: validation with file:line: field, CSV round trip, the real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.robot.faq import FaqError, export_csv, import_csv, load, load_kb

REAL = Path(__file__).resolve().parents[2] / "knowledge" / "faq.yaml"

GOOD = """\
entries:
  - id: a
    topic: t
    title: {kk: тақырып, ru: тема}
    about: {kk: тақырып туралы, ru: о теме}
    questions:
      kk: [бір, екі, үш]
      ru: [раз, два, три]
    answer: {kk: жауап, ru: ответ}
    sms: {kk: "1 2", ru: "1 2"}
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    p = tmp_path / "faq.yaml"
    p.write_text(text, encoding="utf-8")
    return [str(x) for x in load(p)[1]]


def test_good_file_loads(tmp_path: Path) -> None:
    p = tmp_path / "faq.yaml"
    p.write_text(GOOD, encoding="utf-8")
    kb, problems = load(p)
    assert problems == []
    assert kb.entries[0].questions["kk"] == ("бір", "екі", "үш")
    assert kb.entries[0].sms == {"kk": "1 2", "ru": "1 2"}


def test_missing_language_names_line(tmp_path: Path) -> None:
    text = GOOD.replace("      ru: [раз, два, три]\n", "")
    assert any(p.endswith(":6: entries[0].questions: missing language 'ru'")
               for p in _problems(tmp_path, text))


def test_digits_in_spoken_answer(tmp_path: Path) -> None:
    text = GOOD.replace("ru: ответ}", "ru: звоните 1414}")
    (msg,) = _problems(tmp_path, text)
    assert ":9: entries[0].answer.ru: digits in a spoken answer" in msg


def test_empty_variants_and_duplicate_id(tmp_path: Path) -> None:
    second = GOOD.split("entries:\n")[1].replace("kk: [бір, екі, үш]", "kk: []")
    msgs = _problems(tmp_path, GOOD + second)
    assert any(":16: entries[1].questions.kk: empty variants" in m for m in msgs)
    assert any(":11: entries[1].id: duplicate id 'a' (also on line 2)" in m for m in msgs)


def test_too_few_variants_and_bad_yaml(tmp_path: Path) -> None:
    assert any("give at least 3" in m
               for m in _problems(tmp_path, GOOD.replace("[бір, екі, үш]", "[бір]")))
    assert _problems(tmp_path, "entries: [")[0].startswith(str(tmp_path / "faq.yaml") + ":")


def test_load_kb_raises(tmp_path: Path) -> None:
    p = tmp_path / "faq.yaml"
    p.write_text("entries: []\n", encoding="utf-8")
    with pytest.raises(FaqError, match="no entries"):
        load_kb(p)


def test_csv_round_trip(tmp_path: Path) -> None:
    kb = load_kb(REAL)
    export_csv(kb, tmp_path / "faq.csv")
    back, problems = import_csv(tmp_path / "faq.csv")
    assert problems == []
    assert [(e.id, e.topic, dict(e.questions), dict(e.answer), e.sms) for e in back.entries] == \
        [(e.id, e.topic, dict(e.questions), dict(e.answer), e.sms) for e in kb.entries]
    assert back.content_hash() == kb.content_hash()


def test_csv_problems_name_the_row(tmp_path: Path) -> None:
    p = tmp_path / "faq.csv"
    p.write_text("id,topic,questions_kk,questions_ru,answer_kk,answer_ru,sms_kk,sms_ru,"
                 "title_kk,title_ru,about_kk,about_ru\n"
                 "a,t,бір | екі | үш,раз | два | три,жауап 5,ответ,,,"
                 "тақырып,тема,тақырып туралы,о теме\n", encoding="utf-8")
    _, problems = import_csv(p)
    assert [str(x) for x in problems] == [
        f"{p}:2: row2.answer.kk: digits in a spoken answer: write numbers as words "
        "(espeak-ng reads digits unpredictably)"]


def test_real_file() -> None:
    kb = load_kb(REAL)
    assert len(kb) >= 50
    assert "SAMPLE CONTENT" in REAL.read_text(encoding="utf-8")
    for e in kb.entries:
        assert len(e.questions["kk"]) >= 3 and len(e.questions["ru"]) >= 3
