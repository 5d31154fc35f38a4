"""The quarterly analysis' words: labels (kk, ru) and the analytical part's skeleton.

The methodology's "справка" has a statistical part (the tables) and an
analytical part "в произвольной форме": trends against the previous period,
new topics and their possible reasons, the social portrait and the ten
questions. :func:`analysis` writes that part with every number filled in;
what only a person can say (the reasons) is left as a marked gap for the
analyst. The social statuses are the methodology's list, in its order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from bailanys.reports.model import AGE_BANDS, OTHER_AGE, REGIONS, UNKNOWN_REGION, Sex, SocialStatus
from bailanys.reports.quarterlyfigures import share


class TopicNames(Protocol):
    """The classifier as the report needs it (``reports.topics.Topics``)."""

    def names(self, topic: str, lang: str) -> str: ...


_ROMAN: Final = ("I", "II", "III", "IV")
_REGION_NAMES: Final = {r.id: {"kk": r.kk, "ru": r.ru} for r in REGIONS} | {
    UNKNOWN_REGION: {"kk": "Өңірі анықталмаған", "ru": "Регион не определён"}}
_MONTHS: Final = {
    "kk": ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
           "қыркүйек", "қазан", "қараша", "желтоқсан"),
    "ru": ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
           "сентябрь", "октябрь", "ноябрь", "декабрь"),
}
_SEX: Final[Mapping[str, Mapping[str, str]]] = {Sex.FEMALE: {"kk": "Әйел", "ru": "Женский"},
               Sex.MALE: {"kk": "Ер", "ru": "Мужской"}}
_STATUS: Final[Mapping[str, Mapping[str, str]]] = {
    SocialStatus.EMPLOYEE: {"kk": "Жалдамалы қызметкерлер", "ru": "Наёмные работники"},
    SocialStatus.SELF_EMPLOYED: {
        "kk": "Жеке кәсіпкерлер және жеке практикамен айналысатын тұлғалар",
        "ru": "Индивидуальные предприниматели и лица, занимающиеся частной практикой"},
    SocialStatus.PENSIONER: {"kk": "Зейнеткерлер", "ru": "Пенсионеры"},
    SocialStatus.DISABILITY: {"kk": "Мүгедектігі бар тұлғалар",
                              "ru": "Лица, имеющие группу инвалидности"},
    SocialStatus.LARGE_FAMILY: {"kk": "Көпбалалы отбасылар", "ru": "Многодетные семьи"},
    SocialStatus.STUDENT: {"kk": "Білім беру ұйымдарында оқитындар",
                           "ru": "Обучающиеся в организациях образования"},
    SocialStatus.EDUCATED: {"kk": "Білім алған тұлғалар", "ru": "Лица, получившие образование"},
    SocialStatus.NO_EDUCATION: {"kk": "Білімі жоқ тұлғалар", "ru": "Лица, не имеющие образования"},
    SocialStatus.UNEMPLOYED: {"kk": "Жұмыссыз ретінде тіркелгендер",
                              "ru": "Зарегистрированные безработные"},
}

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "kk": {
        "title": "Байланыс орталығына түскен азаматтардың өтініштерін талдау",
        "total": "Барлығы", "no": "№", "region": "Өңір", "topic": "Тақырып",
        "topic_id": "Коды", "this_q": "Есепті тоқсан", "prev_q": "Алдыңғы тоқсан",
        "change": "Өзгерісі, %", "share": "Үлесі, %", "contacts": "Өтініштер саны",
        "regions_title": "Өңірлер бойынша өтініштер саны", "regions_sheet": "Өңірлер",
        "unknown_note": "Өңірі анықталмаған өтініштер: {share} % (әдетте ұялы байланыс нөмірі "
                        "өңірді көрсетпейді, ал қоңырау шалушы оны атамаған).",
        "topics_title": "Тақырыптар бойынша өтініштер саны", "topics_sheet": "Тақырыптар",
        "campaign": "Түсіндіру жұмысы", "flag_yes": "жоспар қажет",
        "no_topic": "Тақырыбы анықталмаған",
        "flag_note": "Өтініштер саны алдыңғы тоқсанмен салыстырғанда {pct} %-дан астам артқан "
                     "тақырыптар белгіленген: олар бойынша ақпараттық-түсіндіру жұмысының "
                     "жоспары әзірленеді. Алдыңғы тоқсанда болмаған тақырыптар «Жаңа "
                     "тақырыптар» кестесінде.",
        "top_title": "Азаматтарды ең көп қызықтыратын 10 сұрақ (республика бойынша)",
        "top_sheet": "Ең көп қойылған 10 сұрақ",
        "share_classified": "Тақырыбы анықталған өтініштердегі үлесі, %",
        "tie_note": "Өтініштер саны тең болса, тақырып коды бойынша әліпби ретімен "
                    "орналастырылады.",
        "region_top_title": "Азаматтарды ең көп қызықтыратын 10 сұрақ (өңірлер бойынша)",
        "region_top_sheet": "Өңірлердегі 10 сұрақ", "no_contacts": "Өтініш түспеген",
        "age": "Жасы", "age_title": "Өтініш берушінің әлеуметтік портреті: жасы",
        "age_sheet": "Жасы", "sex": "Жынысы",
        "sex_title": "Өтініш берушінің әлеуметтік портреті: жынысы", "sex_sheet": "Жынысы",
        "status": "Әлеуметтік мәртебесі",
        "status_title": "Өтініш берушінің әлеуметтік портреті: әлеуметтік мәртебесі",
        "status_sheet": "Әлеуметтік мәртебесі",
        "share_known": "Үлесі, %", "other_age": "18 жасқа толмаған немесе 90 жастан асқан",
        "known": "Деректері бар өтініштер", "unknown": "Деректері жоқ өтініштер",
        "portrait_note": "Үлес деректері бар өтініштерден есептелген; «Деректері бар» және "
                         "«Деректері жоқ» жолдарындағы үлес тоқсандағы барлық өтініштерден. "
                         "Жасы мен жынысы қоңырау шалушы енгізген ЖСН-нен сол сәтте "
                         "анықталады, ЖСН сақталмайды.",
        "new_title": "Жаңа тақырыптар (алдыңғы тоқсанда болмаған)", "new_sheet": "Жаңа тақырыптар",
        "faq_title": "FAQ-қа ұсынылатын сұрақтар (робот жауап бере алмаған және операторларға "
                     "қойылған)",
        "faq_sheet": "FAQ-қа ұсыныстар", "language": "Тілі", "questions": "Сұрақтар саны",
        "from_robot": "Роботқа қойылғаны", "from_calls": "Операторға қойылғаны",
        "example": "Мысал", "terms": "Негізгі сөздер", "nearest": "Ең жақын FAQ жазбасы",
        "faq_note": "Тоқсанда робот жауап бере алмаған сұрақтар: {robot}; операторға жеткен "
                    "қоңыраулардағы сұрақтар (қоңырау мәтіндері бойынша): {calls}; ұқсастары "
                    "топталған (`bailanys faq gaps`). FAQ-та сенімді жауабы бар топтар тізімге "
                    "енгізілмеді: {answered}. Қоңыраудағы сұрақ — оператор сәлемдескеннен кейінгі "
                    "{window} секунд ішінде қоңырау шалушы айтқан, кемінде {terms} мағыналы сөзі "
                    "бар алғашқы сөйлем.",
    },
    "ru": {
        "title": "Анализ запросов граждан, поступивших в контакт-центр",
        "total": "Всего", "no": "№", "region": "Регион", "topic": "Тема",
        "topic_id": "Код", "this_q": "Отчётный квартал", "prev_q": "Предыдущий квартал",
        "change": "Изменение, %", "share": "Доля, %", "contacts": "Количество запросов",
        "regions_title": "Количество запросов по регионам", "regions_sheet": "Регионы",
        "unknown_note": "Регион не определён для {share} % запросов (как правило, номер мобильного "
                        "телефона не указывает регион, а заявитель его не назвал).",
        "topics_title": "Количество запросов по темам", "topics_sheet": "Темы",
        "campaign": "Разъяснительная работа", "flag_yes": "нужен план",
        "no_topic": "Тема не определена",
        "flag_note": "Отмечены темы, по которым количество запросов выросло более чем на {pct} % "
                     "по сравнению с предыдущим кварталом: по ним разрабатывается план "
                     "информационно-разъяснительной работы. Темы, которых не было в предыдущем "
                     "квартале, приведены в таблице «Новые темы».",
        "top_title": "10 наиболее интересующих граждан вопросов (по республике)",
        "top_sheet": "10 вопросов",
        "share_classified": "Доля среди запросов с определённой темой, %",
        "tie_note": "При равном количестве запросов темы расположены по коду в алфавитном "
                    "порядке.",
        "region_top_title": "10 наиболее интересующих граждан вопросов (по регионам)",
        "region_top_sheet": "10 вопросов по регионам", "no_contacts": "Запросов не поступало",
        "age": "Возраст", "age_title": "Социальный портрет заявителя: возраст",
        "age_sheet": "Возраст", "sex": "Пол",
        "sex_title": "Социальный портрет заявителя: пол", "sex_sheet": "Пол",
        "status": "Социальный статус",
        "status_title": "Социальный портрет заявителя: социальный статус",
        "status_sheet": "Социальный статус",
        "share_known": "Доля, %", "other_age": "Младше 18 или старше 90 лет",
        "known": "Запросы со сведениями", "unknown": "Запросы без сведений",
        "portrait_note": "Доли рассчитаны от запросов, по которым сведения есть; в строках "
                         "«со сведениями» и «без сведений» — от всех запросов квартала. Возраст "
                         "и пол определяются по ИИН, введённому заявителем, в момент ввода; "
                         "ИИН не хранится.",
        "new_title": "Новые темы (отсутствовавшие в предыдущем квартале)",
        "new_sheet": "Новые темы",
        "faq_title": "Кандидаты в FAQ (вопросы, на которые робот не ответил, и вопросы "
                     "операторам)",
        "faq_sheet": "Кандидаты в FAQ", "language": "Язык", "questions": "Вопросов",
        "from_robot": "Заданы роботу", "from_calls": "Заданы операторам",
        "example": "Пример", "terms": "Ключевые слова", "nearest": "Ближайшая статья FAQ",
        "faq_note": "Вопросов без ответа робота за квартал: {robot}; вопросов из звонков, "
                    "принятых операторами (по расшифровкам): {calls}; похожие объединены в "
                    "группы (`bailanys faq gaps`). Не включены группы, на которые в FAQ уже есть "
                    "уверенный ответ: {answered}. Вопрос из звонка — первая реплика заявителя "
                    "в течение {window} секунд после приветствия оператора, в которой не менее "
                    "{terms} значимых слов.",
    },
}


def period_name(year: int, number: int, lang: str) -> str:
    """"2026 жылғы III тоқсан" / "III квартал 2026 года"."""
    q = _ROMAN[number - 1]
    return f"{year} жылғы {q} тоқсан" if lang == "kk" else f"{q} квартал {year} года"


def month_name(month: str, lang: str) -> str:
    """"2026-07" -> "шілде 2026" / "июль 2026"."""
    return f"{_MONTHS[lang][int(month[5:7]) - 1]} {month[:4]}"


def region_name(region: str, lang: str) -> str:
    return _REGION_NAMES.get(region, {}).get(lang, region)


def topic_name(topics: TopicNames | None, topic: str, lang: str) -> str:
    """The classifier's name of ``topic``; its id when there is no classifier or
    the topic left it (a report of an old quarter still shows it)."""
    if topics is None:
        return topic
    try:
        name = topics.names(topic, lang)
    except (KeyError, LookupError, ValueError):
        return topic
    return name if isinstance(name, str) and name else topic


def _value_label(dim: str, value: str, lang: str) -> str:
    if dim == "age":
        return LABELS[lang]["other_age"] if value == OTHER_AGE else value
    table = _SEX if dim == "sex" else _STATUS
    return table.get(value, {}).get(lang, value)


def portrait_counts(portrait: Mapping[tuple[str | None, str | None, str | None], int],
                    dim: str) -> dict[str | None, int]:
    """One dimension's counts (``age``, ``sex``, ``status``) of the (age, sex, status) groups."""
    i = ("age", "sex", "status").index(dim)
    out: dict[str | None, int] = {}
    for key, n in portrait.items():
        out[key[i]] = out.get(key[i], 0) + n
    return out


def portrait_rows(portrait: Mapping[tuple[str | None, str | None, str | None], int], dim: str,
                  total: int, lang: str) -> list[tuple[str, int, float | None]]:
    """(label, count, share %) per value in the methodology's order, then the
    contacts with the data and those without (shares of all contacts)."""
    counts = portrait_counts(portrait, dim)
    order: tuple[str, ...] = ((*AGE_BANDS, OTHER_AGE) if dim == "age" else
                              tuple(Sex) if dim == "sex" else tuple(SocialStatus))
    order += tuple(sorted(k for k in counts if k is not None and k not in order))
    known = sum(n for k, n in counts.items() if k is not None)
    t = LABELS[lang]
    rows = [(_value_label(dim, v, lang), counts.get(v, 0), share(counts.get(v, 0), known))
            for v in order]
    rows.append((t["known"], known, share(known, total)))
    rows.append((t["unknown"], counts.get(None, 0), share(counts.get(None, 0), total)))
    return rows


def num(n: float | None, decimals: int = 0) -> str:
    """12 345 / 12,5 as kk and ru write them (a no-break space between thousands)."""
    if n is None:
        return "—"
    return f"{n:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")

