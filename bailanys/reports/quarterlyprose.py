"""The analytical part of the quarterly analysis, numbers filled in (the 2024 methodology).

The methodology: the analytical part is "in free form" and gives the nature
of the requests, their growth or decline by topic against the previous
period, possible reasons for new topics, the social portrait and the ten
questions. Each paragraph here is one of those, written from the figures;
the reasons, which only a person knows, are a marked gap
(``[талдаушы толтырады]`` / ``[заполняется аналитиком]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from bailanys.reports.document import Paragraph
from bailanys.reports.model import AGE_BANDS, UNKNOWN_REGION
from bailanys.reports.quarterlyfigures import (
    change_pct,
    grew,
    new_topics,
    share,
    top,
    top_regions,
)
from bailanys.reports.quarterlytext import (
    TopicNames,
    month_name,
    num,
    portrait_counts,
    portrait_rows,
    region_name,
    topic_name,
)

if TYPE_CHECKING:
    from bailanys.reports.quarterlyfigures import Figures

#: Topics named as the largest declines in the text.
DECLINES_SHOWN: Final = 3

_T: Final = {
    "kk": {
        "heading": "Аналитикалық бөлім",
        "in": "{year} жылғы {q} тоқсанда",
        "empty": "{period} байланыс орталығына өтініш түспеген.",
        "total": "{period} байланыс орталығына {n} өтініш түсті (алдыңғы тоқсанда — {p}), {trend}.",
        "up": "яғни өтініштер саны {c} %-ға артты", "down": "яғни өтініштер саны {c} %-ға азайды",
        "same": "өтініштер саны өзгерген жоқ", "no_prev": "алдыңғы тоқсанда өтініш болмаған",
        "months": "Айлар бойынша: {items}.",
        "regions": "Өтініштер ең көп түскен өңірлер: {items}. Өңірі анықталмаған өтініштер: "
                   "{n} ({s} %).",
        "grew": "Өтініштер саны {pct} %-дан астам артқан тақырыптар: {items}. Олар бойынша "
                "ақпараттық-түсіндіру жұмысының жоспарын әзірлеу қажет.",
        "no_grew": "Өтініштер саны {pct} %-дан астам артқан тақырып жоқ.",
        "declined": "Өтініштер саны ең көп азайған тақырыптар: {items}.",
        "top": "Азаматтарды ең көп қызықтыратын 10 сұрақ: {items}.",
        "new": "Алдыңғы тоқсанда болмаған жаңа тақырыптар: {items}. Олардың пайда болу "
               "себептері: [талдаушы толтырады].",
        "no_new": "Алдыңғы тоқсанмен салыстырғанда жаңа тақырып жоқ.",
        "reasons": "Өтініштер санының өсу немесе азаю себептері: [талдаушы толтырады].",
        "portrait": "Әлеуметтік портрет өтініш беруші туралы деректері бар өтініштер бойынша "
                    "жасалды: мұндай өтініштер — {n} ({s} %).",
        "age": "Ең көп жүгінгендер — {band} жастағы азаматтар ({s} %).",
        "sex": "Әйелдер — {f} %, ерлер — {m} %.",
        "status": "Ең жиі кездесетін әлеуметтік мәртебе — {status} ({s} %).",
        "no_portrait": "Тоқсанда әлеуметтік портретке деректер жоқ (өтініш берушілер ЖСН "
                       "енгізбеген).",
        "faq": "Робот жауап бере алмаған сұрақтар: {q}; қоңырау шалушылар операторларға қойған "
               "сұрақтар (қоңырау мәтіндері бойынша): {c}; ұқсас сұрақтар топтары: {k}. Оларды "
               "білім базасына және «Жиі қойылатын сұрақтар» бөліміне енгізу ұсынылады; ең "
               "үлкен топ: «{ex}» ({n}).",
        "no_faq": "Тоқсанда FAQ-қа ұсынылатын сұрақ жоқ.",
        "conclusions": "Қорытындылар мен ұсыныстар: [талдаушы толтырады].",
    },
    "ru": {
        "heading": "Аналитическая часть",
        "in": "В {q} квартале {year} года",
        "empty": "{period} запросов в контакт-центр не поступало.",
        "total": "{period} в контакт-центр поступило запросов: {n} (в предыдущем квартале — "
                 "{p}), {trend}.",
        "up": "рост на {c} %", "down": "снижение на {c} %", "same": "без изменений",
        "no_prev": "в предыдущем квартале запросов не было",
        "months": "По месяцам: {items}.",
        "regions": "Больше всего запросов поступило из регионов: {items}. Запросов, регион "
                   "которых не определён: {n} ({s} %).",
        "grew": "Количество запросов выросло более чем на {pct} % по темам: {items}. По этим "
                "темам необходимо разработать план информационно-разъяснительной работы.",
        "no_grew": "Тем, по которым количество запросов выросло более чем на {pct} %, нет.",
        "declined": "Наибольшее снижение количества запросов: {items}.",
        "top": "10 наиболее интересующих граждан вопросов: {items}.",
        "new": "Новые темы, которых не было в предыдущем квартале: {items}. Возможные причины "
               "их появления: [заполняется аналитиком].",
        "no_new": "Новых тем по сравнению с предыдущим кварталом нет.",
        "reasons": "Причины роста или снижения количества запросов: [заполняется аналитиком].",
        "portrait": "Социальный портрет составлен по запросам, в которых есть сведения о "
                    "заявителе: таких запросов — {n} ({s} %).",
        "age": "Чаще всего обращались граждане в возрасте {band} лет ({s} %).",
        "sex": "Женщины — {f} %, мужчины — {m} %.",
        "status": "Наиболее частый социальный статус — {status} ({s} %).",
        "no_portrait": "Сведений для социального портрета в квартале нет (заявители не вводили "
                       "ИИН).",
        "faq": "Вопросов, на которые робот не ответил: {q}; вопросов, с которыми заявители "
               "обратились к операторам (по расшифровкам звонков): {c}; групп похожих "
               "вопросов: {k}. Их "
               "предлагается рассмотреть для базы знаний и раздела «Часто задаваемые вопросы»; "
               "самая крупная группа: «{ex}» ({n}).",
        "no_faq": "Кандидатов в FAQ в квартале нет.",
        "conclusions": "Выводы и предложения: [заполняется аналитиком].",
    },
}
_ROMAN: Final = ("I", "II", "III", "IV")


def analysis(fig: Figures, lang: str, topics: TopicNames | None,
             flag_pct: int) -> list[Paragraph]:
    """The analytical part: a heading, then one paragraph per theme."""
    t = _T[lang]
    period = t["in"].format(year=fig.quarter.year, q=_ROMAN[fig.quarter.number - 1])
    out = [Paragraph(t["heading"], heading=True)]
    if fig.total == 0:
        out.append(Paragraph(t["empty"].format(period=period)))
        return [*out, Paragraph(t["reasons"]), Paragraph(t["conclusions"])]
    out.append(Paragraph(t["total"].format(period=period, n=num(fig.total),
                                           p=num(fig.previous_total), trend=_trend(fig, t))))
    months = [(m, n) for m, n in fig.months.items() if m >= fig.quarter.first.isoformat()[:7]]
    out.append(Paragraph(t["months"].format(items=", ".join(
        f"{month_name(m, lang)} — {num(n)}" for m, n in sorted(months)))))
    out.append(_regions(fig, lang))
    out += _topics(fig, lang, topics, flag_pct)
    out.append(Paragraph(t["reasons"]))
    out += _portrait(fig, lang)
    out.append(_faq(fig, lang))
    out.append(Paragraph(t["conclusions"]))
    return out


def _trend(fig: Figures, t: dict[str, str]) -> str:
    c = change_pct(fig.total, fig.previous_total)
    if c is None:
        return t["no_prev"]
    if c == 0:
        return t["same"]
    return t["up" if c > 0 else "down"].format(c=num(abs(c), 1))


def _regions(fig: Figures, lang: str) -> Paragraph:
    items = ", ".join(f"{region_name(r, lang)} — {num(n)} ({num(share(n, fig.total), 1)} %)"
                      for r, n in top_regions(fig))
    unknown = fig.regions.get(UNKNOWN_REGION, (0, 0))[0]
    return Paragraph(_T[lang]["regions"].format(items=items or "—", n=num(unknown),
                                                s=num(share(unknown, fig.total), 1)))


def _topics(fig: Figures, lang: str, topics: TopicNames | None,
            flag_pct: int) -> list[Paragraph]:
    t = _T[lang]

    def name(k: str) -> str:
        return f"«{topic_name(topics, k, lang)}»"

    flagged = sorted((k for k, (a, b) in fig.topics.items() if k and grew(a, b, flag_pct)),
                     key=lambda k: (-(change_pct(*fig.topics[k]) or 0.0), k))
    out = [Paragraph(t["grew"].format(pct=flag_pct, items=", ".join(
        f"{name(k)} (+{num(change_pct(*fig.topics[k]), 1)} %)" for k in flagged)))
        if flagged else Paragraph(t["no_grew"].format(pct=flag_pct))]
    fell = sorted((k for k, (a, b) in fig.topics.items() if k and a < b),
                  key=lambda k: ((change_pct(*fig.topics[k]) or 0.0), k))[:DECLINES_SHOWN]
    if fell:
        out.append(Paragraph(t["declined"].format(items=", ".join(
            f"{name(k)} ({num(change_pct(*fig.topics[k]), 1)} %)" for k in fell))))
    best = top({k: a for k, (a, _) in fig.topics.items()})
    if best:
        out.append(Paragraph(t["top"].format(items="; ".join(
            f"{i}) {name(k)} — {num(n)}" for i, (k, n) in enumerate(best, 1)))))
    new = new_topics(fig)
    out.append(Paragraph(t["new"].format(items=", ".join(f"{name(k)} — {num(n)}"
                                                         for k, n in new)))
               if new else Paragraph(t["no_new"]))
    return out


def _portrait(fig: Figures, lang: str) -> list[Paragraph]:
    t = _T[lang]
    none = fig.portrait.get((None, None, None), 0)
    known = fig.total - none
    if known == 0:
        return [Paragraph(t["no_portrait"])]
    parts = [t["portrait"].format(n=num(known), s=num(share(known, fig.total), 1))]
    ages = portrait_counts(fig.portrait, "age")
    age_known = sum(n for k, n in ages.items() if k is not None)
    bands = sorted(((b, ages.get(b, 0)) for b in AGE_BANDS if ages.get(b, 0)),
                   key=lambda bn: (-bn[1], bn[0]))
    if bands:
        parts.append(t["age"].format(band=bands[0][0].replace("-", "–"),
                                     s=num(share(bands[0][1], age_known), 1)))
    sexes = portrait_rows(fig.portrait, "sex", fig.total, lang)
    if sexes[-2][1]:  # the contacts whose sex is known
        parts.append(t["sex"].format(f=num(sexes[0][2], 1), m=num(sexes[1][2], 1)))
    statuses = portrait_rows(fig.portrait, "status", fig.total, lang)[:-2]
    if any(n for _, n, _ in statuses):
        label, n, s = sorted(statuses, key=lambda r: -r[1])[0]
        parts.append(t["status"].format(status=label.lower(),
                                        s=num(s, 1)))
    return [Paragraph(" ".join(parts))]


def _faq(fig: Figures, lang: str) -> Paragraph:
    t = _T[lang]
    if not fig.gaps:
        return Paragraph(t["no_faq"])
    first = fig.gaps[0]
    return Paragraph(t["faq"].format(q=num(fig.gap_questions - fig.call_questions),
                                     c=num(fig.call_questions), k=num(fig.gap_clusters),
                                     ex=first.representative, n=num(first.count)))
