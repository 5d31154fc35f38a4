"""The language review of what callers hear (../shared/review/language-review.md,
2026-12, 36 items; issue 18): each fixed text, where it lives, and the wrong
text that must not come back.

One row per item: (item, where, the text now, a fragment of the old text).
Items with their own tests elsewhere are named at the end of this docstring.
The queue phrases (7-9) are checked exhaustively in
tests/voice/test_queue_phrases.py, the booking line's dative (11) also in
tests/robot/test_services.py, the titles' grammar (19) below for every FAQ
entry, and the TTS lexicon (36) in tests/voice/test_lexicon.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bailanys.robot import assistant, demo_backend, service_texts
from bailanys.robot.faq import Entry, about_problem, load_kb
from bailanys.robot.matcher import Action, Decision, clarify_prompt
from bailanys.voice.phrases import waiting
from bailanys.voice.phrases.queue import position_announcement, wait_announcement

ROOT = Path(__file__).resolve().parents[1]
FLOW: dict[str, Any] = yaml.safe_load((ROOT / "ivr_flows" / "1414.yaml").read_text("utf-8"))
KB = load_kb(ROOT / "knowledge" / "faq.yaml")


def _flow(node: str, lang: str) -> Callable[[], str]:
    def text() -> str:
        n = FLOW["nodes"][node]
        return str((n.get("prompt") or n["text"])[lang])
    return text


def _faq(entry_id: str, lang: str) -> Callable[[], str]:
    def text() -> str:
        entry = KB.get(entry_id)
        assert entry is not None, entry_id
        return entry.answer[lang]
    return text


def _service(key: str, lang: str, **values: str) -> Callable[[], str]:
    return lambda: service_texts._T[key][lang].format(**values)


def _demo_sms(service: str, lang: str) -> Callable[[], str]:
    return lambda: next(t for s, lg, t in demo_backend._SERVICES if (s, lg) == (service, lang))


_BOOKED_KK = ("Сіз " + service_texts.date_words("kk", date(2026, 3, 14), dative=True) + ", "
              + service_texts.time_words("kk", time(10, 30), dative=True) + " жазылдыңыз.")

ROWS: list[tuple[int, Callable[[], str], str, str]] = [
    # (a) the IVR flow
    (1, _flow("night_closed", "kk"), "Таңғы сағат тоғыздан кейін қайта қоңырау шалыңыз.",
     "Сағат тоғыздан кейін"),
    (2, _flow("complaint", "kk"), "Оператор шағымыңызды санаты бойынша тіркеп, оның нөмірі "
     "мен қарау мерзімін сізге хабарлайды.", "Шағымыңызды оператор санаты"),
    (3, _flow("main_menu", "ru"), "Для технической помощи по порталу электронного "
     "правительства нажмите два.", ": нажмите"),
    (4, _flow("main_menu", "kk"), "мекенжайлары мен жұмыс уақытын білу үшін үшті басыңыз.",
     "жұмыс уақыты үшін"),
    (5, _flow("service_centres", "kk"), "Ең жақын орталықтың мекенжайын", ". Жақын орталықтың"),
    (6, _faq("con_hours", "kk"), "Сенбі күні сағат тоғыздан он үшке дейін ашық.",
     "Кейбір орталықтар"),
    (6, _faq("con_hours", "ru"), "В субботу — с девяти до тринадцати часов.", "Некоторые центры"),
    # (b) queue phrases
    (7, lambda: wait_announcement("ru", 120), "Примерное время ожидания — около двух минут.",
     "Ожидаемое время ожидания"),
    (8, lambda: wait_announcement("ru", 62 * 60), "Примерное время ожидания — около часа.",
     "одной минуты"),
    (8, lambda: wait_announcement("kk", 122 * 60 + 20), "Шамамен екі сағат күтесіз.",
     "екі минут"),
    (9, lambda: position_announcement("ru", 3), "Ваш звонок — третий в очереди.", "Вы третий"),
    (10, lambda: waiting.CALLBACK_GREETING["kk"], "сіз кері қоңырау шалуды сұрадыңыз",
     "қайта қоңырау шалуды"),
    # (c) robot and service texts
    (11, lambda: _BOOKED_KK, "Сіз он төртінші наурызға, сағат он отызға жазылдыңыз.",
     "наурыз, сағат он отыз жазылдыңыз"),
    (12, _service("sms_booked", "kk", branch="Астана №1 ХҚКО", day="14.03.2026", time="10:30",
                  id="42"),
     "1414: Жазылу: Астана №1 ХҚКО, 14.03.2026, 10:30. Жазылу нөмірі 42.", "жазылдыңыз"),
    (13, lambda: service_texts._T["doc_none"]["kk"].format(
        who=service_texts._T["iin_tail"]["kk"].format(d="бір екі үш төрт")),
     "соңғы цифрлары бір екі үш төрт болып аяқталатын ЖСН бойынша құжат табылмады.",
     "төрт нөмір бойынша"),
    (14, _service("req_one", "ru", d="один два", status="на рассмотрении"),
     "Обращение с номером, оканчивающимся на один два: на рассмотрении.", "номером на"),
    (15, _service("slot_taken", "kk"), "Бұл уақыт енді бос емес.", "болып қалды"),
    (16, _service("code_sent", "kk"), "Алты таңбалы кодты теріңіз.", "цифрлы"),
    (17, lambda: assistant._T["menu"]["kk"], "Немесе қызмет нөмірін басыңыз: бір – "
     "құжаттардың дайындығы;", "Немесе басыңыз"),
    (18, lambda: assistant._T["rephrase"]["ru"], "я не понял вопрос", "поняла"),
    (20, _demo_sms("passport", "kk"), "Төлқұжат: жеке куәлік, 4 фото 3,5×4,5,", "x"),
    (20, _demo_sms("passport", "ru"), "4 фото 3,5×4,5,", "x"),
    # (d) FAQ answers
    (21, _faq("id_card_get", "kk"), "eGov порталы арқылы рәсімдеуге болады.", "ресімде"),
    (21, _faq("passport_get", "kk"), "eGov порталында рәсімдейсіз.", "ресімде"),
    (22, _faq("citizenship", "kk"), "Азаматтыққа өтініш көші-қон қызметіне беріледі.",
     "көші қон"),
    (23, _faq("disability_establish", "kk"), "медициналық-әлеуметтік сараптама",
     "медициналық әлеуметтік"),
    (23, _faq("disability_establish", "ru"), "медико-социальная экспертиза", "медико социальная"),
    (24, _faq("egov_register", "kk"), "Нөміріңіз мобильді азаматтар базасында тіркелген болуы "
     "керек.", "базалық"),
    (25, _faq("disability_benefit", "kk"), "Мүгедектігі бар баланы күтетін адамға",
     "Мүгедек баланы"),
    (26, _faq("name_change", "kk"), "Тегіңізді, атыңызды немесе әкеңіздің атын өзгерту үшін АХАЖ "
     "органына немесе eGov порталына өтініш бересіз.", "Тегін,"),
    (27, _faq("id_card_lost", "kk"), "Жоғалған құжат жарамсыз деп танылады.", "есептеледі"),
    (28, _faq("military_registration", "kk"), "қорғаныс істері жөніндегі басқармаға",
     "істері басқармасына"),
    (29, _faq("death_registration", "kk"), "қайтыс болу туралы медициналық куәлікпен",
     "медициналық анықтамамен"),
    (30, _faq("divorce", "ru"), "брак расторгается в органе ЗАГС.", "расторгается в ЗАГС"),
    (30, _faq("birth_registration", "ru"), "или в органе ЗАГС.", "или в ЗАГС"),
    (31, _faq("hotline_contact", "ru"), "единый контакт-центр", "контакт центр"),
    (32, _faq("housing_queue", "ru"), "Там же виден ваш номер в очереди.", "видно"),
    (33, _faq("business_close", "ru"), "погасите налоговую задолженность", "погасите налоги"),
    (34, _faq("egov_password", "ru"), "Нажмите на портале кнопку «Восстановить пароль».",
     "портале восстановить"),
    (35, _faq("eds_get", "kk"), "тегін немесе eGov порталында биометрия арқылы онлайн алуға "
     "болады.", ", немесе"),
    (35, _faq("birth_allowance", "kk"), "Сондай-ақ eGov порталы не орталық арқылы",
     "немесе eGov порталы немесе"),
    (35, _faq("business_registration", "kk"), "немесе банк қосымшасында бірнеше минутта",
     "бірнеше банктің"),
    (35, _faq("hotline_contact", "ru"), "Задайте свой вопрос", "ваш вопрос"),
]


@pytest.mark.parametrize(("item", "where", "now", "old"), ROWS,
                         ids=[f"item{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_item(item: int, where: Callable[[], str], now: str, old: str) -> None:
    text = where()
    assert now in text, (item, text)
    assert old not in text, (item, text)


def test_every_item_is_covered() -> None:
    """1-36: a row here, or (19) the tests below, or (36) tests/voice/test_lexicon.py."""
    assert {r[0] for r in ROWS} | {19, 36} == set(range(1, 37))


def test_saturday_hours_agree_between_the_flow_and_the_faq() -> None:
    """Item 6: the flow and the FAQ say the same Saturday hours."""
    assert "сенбі күні сағат тоғыздан он үшке дейін" in _flow("service_centres", "kk")()
    assert "в субботу с девяти до тринадцати часов" in _flow("service_centres", "ru")()


# ---------------------------------------------------------------- item 19: titles


def _clarify(a: Entry, b: Entry, lang: str) -> str:
    return clarify_prompt(Decision(Action.CLARIFY, options=(a, b)), lang)


def test_the_reviewed_clarify_line() -> None:
    lost, get = KB.get("id_card_lost"), KB.get("id_card_get")
    assert lost is not None and get is not None
    assert _clarify(lost, get, "ru") == (
        "Если вопрос об утере удостоверения личности, нажмите один; если о получении "
        "удостоверения личности — нажмите два.")
    assert _clarify(lost, get, "kk") == (
        "Сұрағыңыз жеке куәлікті жоғалту туралы болса, бірді, жеке куәлік алу туралы болса, "
        "екіні басыңыз.")


def test_every_entry_has_titles_that_render() -> None:
    """Every entry: a title in both languages for the console and reports; the
    clarify phrase agrees (об before a vowel, "туралы"), never a caller's
    first-person phrasing; every pair of entries renders as one sentence."""
    pronouns = {"я", "мне", "мой", "моё", "маған", "менің"}  # kk "мен" is also "and"
    for e in KB.entries:
        for lang in ("kk", "ru"):
            assert e.title[lang] and e.title[lang] == e.title[lang].strip(), e.id
            assert e.title_or_id(lang) == e.title[lang]
            assert about_problem(lang, e.about[lang]) is None, (e.id, e.about[lang])
            words = e.about[lang].lower().split()
            assert not pronouns & set(words), (e.id, lang)
            assert not any(w.endswith(("мын", "мін")) for w in words), (e.id, lang)
            assert e.about[lang] not in {q.lower() for q in e.questions[lang]}, e.id
        assert e.about["kk"].startswith(e.title["kk"] + " "), e.id
    for a, b in itertools.permutations(KB.entries[:8], 2):
        ru = _clarify(a, b, "ru")
        assert ru == (f"Если вопрос {a.about['ru']}, нажмите один; если {b.about['ru']} — "
                      "нажмите два.")
        kk = _clarify(a, b, "kk")
        assert kk == (f"Сұрағыңыз {a.about['kk']} болса, бірді, {b.about['kk']} болса, "
                      "екіні басыңыз.")


@pytest.mark.parametrize(
    ("lang", "about", "problem"),
    [
        ("ru", "об утере удостоверения", None),
        ("ru", "о получении ЭЦП", None),
        ("ru", "о едином контакт-центре", None),
        ("ru", "обо всём", None),
        ("ru", "о утере удостоверения", '"об", not "о", before "утере"'),
        ("ru", "об получении", '"о", not "об", before "получении"'),
        ("ru", "утеря удостоверения", 'must start with "о", "об" or "обо"'),
        ("kk", "жеке куәлікті жоғалту туралы", None),
        ("kk", "еңбек өтілі туралы анықтама жөнінде", None),
        ("kk", "жеке куәлікті жоғалту", 'must end with "туралы"'),
    ],
)
def test_about_problem(lang: str, about: str, problem: str | None) -> None:
    found = about_problem(lang, about)
    assert found == problem if problem is None else (found is not None and problem in found)


def test_entry_without_title_clarifies_neutrally() -> None:
    """An entry built in code has no title: no caller phrasing is read back."""
    bare = [Entry(i, "t", {"kk": ("мен сұраймын",), "ru": ("я спрашиваю",)},
                  {"kk": "жауап", "ru": "ответ"}) for i in ("a", "b")]
    assert _clarify(bare[0], bare[1], "ru") == (
        "Если вопрос о первой теме, нажмите один; если о второй теме — нажмите два.")
    assert "мен сұраймын" not in _clarify(bare[0], bare[1], "kk")
    assert bare[0].title_or_id("ru") == "a"
