"""The feedback analysis (the feedback procedure, item 4.2; quarterly).

From the ``contacts`` table of a period (calls the engine saw and the other
channels' imported contacts), with SQL aggregates:

1. contacts and complaints per channel, with shares in %;
2. the main reasons of the contacts: the ten most frequent topics;
3. counts per group of the topic classifier;
4. the time to answer (registration to answer; for calls the wait):
   median, mean and the share within the norm, per channel;
5. complaints: upheld ("satisfied": a supervisor confirmed them), refused
   ("unsatisfied"), not yet decided, each with its share of all complaints;
6. the survey: the distribution of scores 1-5, the mean, CSI and CDI.

A complaint is a contact whose disposition topic is one of ``[qa]
complaint_topics`` (``contacts.complaint``); its verdict is the last
``complaint.confirmed`` (``contacts.complaint_confirmed``).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Final

from bailanys.reports import formrows as fr
from bailanys.reports.document import Block, Cell, CellKind, Document, Paragraph, Table
from bailanys.reports.model import ENGINE_CHANNELS, ContactChannel
from bailanys.reports.semiannual import TopicTree, topic_name

LANGS = ("kk", "ru")
#: The main reasons: how many topics the table lists (the most frequent).
TOP_REASONS: Final = 10
#: Calls: Appendix 1, item 1 of the 2023 requirements, the longest wait
#: after the voice menu (60 s).
CALL_NORM_S: Final = 60.0
#: E-mails and letters: the 15 working days the Administrative Procedural
#: Code of the Republic of Kazakhstan gives an appeal, counted here as 15
#: calendar days (stricter: never more time than the law gives).
WRITTEN_NORM_S: Final = 15 * 86_400.0
NORMS: Final = {c.value: CALL_NORM_S for c in (ContactChannel.IVR, ContactChannel.ROBOT,
                                               ContactChannel.OPERATOR,
                                               ContactChannel.CALLBACK)} | {
    ContactChannel.EMAIL.value: WRITTEN_NORM_S, ContactChannel.LETTER.value: WRITTEN_NORM_S}
_CALLS = frozenset(c.value for c in ENGINE_CHANNELS if c != ContactChannel.SMS)


def _w(lang: str, kk: str, ru: str) -> str:
    return kk if lang == "kk" else ru


def parse_day(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value[:40]!r}") from None


def bounds(period: str) -> tuple[date, date]:
    """``2026-Q3`` or ``2026-H2`` -> (first day, last day), inclusive."""
    text = period.strip().upper()
    year, _, part = text.partition("-")
    spans = {"Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12), "H1": (1, 6),
             "H2": (7, 12)}
    if not (year.isdigit() and len(year) == 4 and part in spans):
        raise ValueError(f"expected a quarter like 2026-Q3 or a half-year like 2026-H2, "
                         f"got {period[:40]!r}")
    first, last = spans[part]
    end = date(int(year) + 1, 1, 1) if last == 12 else date(int(year), last + 1, 1)
    return date(int(year), first, 1), end - timedelta(days=1)


def _pct(part: int, whole: int) -> Cell:
    return Cell(100.0 * part / whole if whole else None, CellKind.PCT)


class _Period:
    """SQL over the period's contacts (``day`` between first and last, inclusive)."""

    def __init__(self, conn: sqlite3.Connection, first: date, last: date) -> None:
        self.conn = conn
        self.where = "day >= ? AND day <= ?"
        self.args: tuple[str, ...] = (first.isoformat(), last.isoformat())

    def rows(self, select: str, extra: str = "", args: tuple[object, ...] = (),
             tail: str = "") -> list[tuple[object, ...]]:
        sql = f"SELECT {select} FROM contacts WHERE {self.where} {extra} {tail}"
        return [tuple(r) for r in self.conn.execute(sql, (*self.args, *args))]

    def one(self, select: str, extra: str = "", args: tuple[object, ...] = ()) -> int:
        value = self.rows(select, extra, args)[0][0]
        return int(value) if isinstance(value, int | float) else 0

    def median(self, channel: str) -> float | None:
        extra = "AND channel = ? AND answer_s IS NOT NULL"
        n = self.one("COUNT(*)", extra, (channel,))
        if n == 0:
            return None
        offset, limit = ((n - 1) // 2, 1) if n % 2 else (n // 2 - 1, 2)
        values = [float(str(r[0])) for r in self.rows(
            "answer_s", extra, (channel,), f"ORDER BY answer_s LIMIT {limit} OFFSET {offset}")]
        return sum(values) / len(values)


def _order(channels: list[str]) -> list[str]:
    known = [c.value for c in ContactChannel]
    return sorted(channels, key=lambda c: (known.index(c) if c in known else len(known), c))


def channels_table(p: _Period, lang: str) -> Table:
    found = {str(c): (int(str(n)), int(str(k))) for c, n, k in p.rows(
        "channel, COUNT(*), SUM(complaint)", tail="GROUP BY channel")}
    total = sum(n for n, _ in found.values())
    complaints = sum(k for _, k in found.values())
    rows: list[tuple[Cell, ...]] = []
    for channel in _order(list(found)):
        n, k = found[channel]
        rows.append((Cell(fr.channel_name(channel, lang)), Cell(n, CellKind.COUNT),
                     _pct(n, total), Cell(k, CellKind.COUNT), _pct(k, complaints)))
    last = len(rows) + 1
    rows.append((Cell(_w(lang, "Барлығы", "Всего"), bold=True),
                 Cell(total, CellKind.COUNT, formula=f"=SUM(B2:B{last})", bold=True),
                 _pct(total, total),
                 Cell(complaints, CellKind.COUNT, formula=f"=SUM(D2:D{last})", bold=True),
                 _pct(complaints, complaints)))
    return Table(
        id="channels", sheet=_w(lang, "Арналар", "Каналы"),
        title=_w(lang, "Байланыс арналары бойынша өтініштер мен шағымдар",
                 "Обращения и жалобы по каналам связи"),
        columns=(_w(lang, "Байланыс арнасы", "Канал связи"), _w(lang, "Өтініштер", "Обращения"),
                 _w(lang, "Үлесі, %", "Доля, %"), _w(lang, "Шағымдар", "Жалобы"),
                 _w(lang, "Шағымдар үлесі, %", "Доля жалоб, %")),
        rows=tuple(rows))


def _name(topics: TopicTree | None, topic: str, lang: str) -> str:
    return topic if topics is None else topic_name(topics, topic, lang)


def reasons_table(p: _Period, lang: str, topics: TopicTree | None) -> Table:
    total = p.one("COUNT(*)")
    top = p.rows("topic, COUNT(*) AS n", "AND topic IS NOT NULL",
                 tail=f"GROUP BY topic ORDER BY n DESC, topic LIMIT {TOP_REASONS}")
    rows: list[tuple[Cell, ...]] = []
    for rank, (topic, n) in enumerate(top, start=1):
        group = topics.group_of(str(topic)) if topics is not None else None
        rows.append((Cell(rank, CellKind.COUNT), Cell(_name(topics, str(topic), lang)),
                     Cell(None if group is None else _name(topics, group, lang)),
                     Cell(int(str(n)), CellKind.COUNT), _pct(int(str(n)), total)))
    untyped = p.one("COUNT(*)", "AND topic IS NULL")
    rows.append((Cell(""), Cell(_w(lang, "Тақырыбы анықталмаған", "Тема не определена")),
                 Cell(None), Cell(untyped, CellKind.COUNT), _pct(untyped, total)))
    return Table(
        id="reasons", sheet=_w(lang, "Себептер", "Причины"),
        title=_w(lang, f"Өтініштердің негізгі себептері (ең жиі {TOP_REASONS} тақырып)",
                 f"Основные причины обращений ({TOP_REASONS} самых частых тем)"),
        columns=("№", _w(lang, "Тақырып", "Тема"), _w(lang, "Топ", "Группа"),
                 _w(lang, "Өтініштер", "Обращения"), _w(lang, "Үлесі, %", "Доля, %")),
        rows=tuple(rows),
        note=_w(lang, "Тең болғанда тақырыптар идентификаторы бойынша әліпби ретімен берілген.",
                "При равенстве темы упорядочены по идентификатору в алфавитном порядке."))


def groups_table(p: _Period, lang: str, topics: TopicTree | None) -> Table:
    total = p.one("COUNT(*)")
    counts: dict[str | None, int] = {}
    for topic, n in p.rows("topic, COUNT(*)", tail="GROUP BY topic"):
        key = None if topic is None else (
            topics.group_of(str(topic)) if topics is not None else None) or str(topic)
        counts[key] = counts.get(key, 0) + int(str(n))
    named = sorted(((k, n) for k, n in counts.items() if k is not None),
                   key=lambda kn: (-kn[1], kn[0]))
    rows: list[tuple[Cell, ...]] = [
        (Cell(_name(topics, key, lang)), Cell(n, CellKind.COUNT), _pct(n, total))
        for key, n in named]
    rows.append((Cell(_w(lang, "Тақырыбы анықталмаған", "Тема не определена")),
                 Cell(counts.get(None, 0), CellKind.COUNT), _pct(counts.get(None, 0), total)))
    rows.append((Cell(_w(lang, "Барлығы", "Всего"), bold=True),
                 Cell(total, CellKind.COUNT, formula=f"=SUM(B2:B{len(rows) + 1})", bold=True),
                 _pct(total, total)))
    return Table(
        id="groups", sheet=_w(lang, "Топтар", "Группы"),
        title=_w(lang, "Жіктеуіш топтары бойынша өтініштер саны",
                 "Количество обращений по группам классификатора"),
        columns=(_w(lang, "Топ", "Группа"), _w(lang, "Өтініштер", "Обращения"),
                 _w(lang, "Үлесі, %", "Доля, %")),
        rows=tuple(rows))


def answer_table(p: _Period, lang: str) -> Table:
    rows: list[tuple[Cell, ...]] = []
    found = [str(c) for (c,) in p.rows("DISTINCT channel", "AND answer_s IS NOT NULL")]
    for channel in _order(found):
        extra, args = "AND channel = ? AND answer_s IS NOT NULL", (channel,)
        n = p.one("COUNT(*)", extra, args)
        mean = float(str(p.rows("AVG(answer_s)", extra, args)[0][0]))
        median = p.median(channel)
        norm = NORMS.get(channel)
        call = channel in _CALLS
        scale, kind = (1.0, CellKind.SECONDS) if call else (60.0, CellKind.MINUTES)
        within = (p.one("COUNT(*)", extra + " AND answer_s <= ?", (channel, norm))
                  if norm is not None else None)
        rows.append((Cell(fr.channel_name(channel, lang)), Cell(n, CellKind.COUNT),
                     Cell(_w(lang, "секунд", "секунды") if call else _w(lang, "минут", "минуты")),
                     Cell(None if median is None else median / scale, kind),
                     Cell(mean / scale, kind),
                     Cell(None if norm is None else norm / scale, kind),
                     _pct(within, n) if within is not None else Cell(None, CellKind.PCT)))
    return Table(
        id="answer_time", sheet=_w(lang, "Жауап уақыты", "Время ответа"),
        title=_w(lang, "Жауап күту уақыты (тіркелгеннен жауапқа дейін)",
                 "Время ожидания ответа (от регистрации до ответа)"),
        columns=(_w(lang, "Байланыс арнасы", "Канал связи"),
                 _w(lang, "Өтініштер", "Обращения"), _w(lang, "Өлшем бірлігі", "Единица"),
                 _w(lang, "Медиана", "Медиана"), _w(lang, "Орташа", "Среднее"),
                 _w(lang, "Норма", "Норматив"), _w(lang, "Нормада, %", "В нормативе, %")),
        rows=tuple(rows),
        note=_w(lang, "Қоңыраулар: дауыстық мәзірден кейінгі күту, норма 60 секунд (Талаптардың "
                      "1-қосымшасы, 1-тармақ). Электрондық пошта мен хаттар: 15 күн.",
                "Звонки: ожидание после голосового меню, норматив 60 секунд (приложение 1 "
                "к Требованиям, пункт 1). Электронная почта и письма: 15 дней."))


def complaints_table(p: _Period, lang: str) -> Table:
    total = p.one("COUNT(*)", "AND complaint = 1")
    upheld = p.one("COUNT(*)", "AND complaint = 1 AND complaint_confirmed = 1")
    refused = p.one("COUNT(*)", "AND complaint = 1 AND complaint_confirmed = 0")
    pending = total - upheld - refused
    rows = (
        (Cell(_w(lang, "Барлық шағымдар", "Всего жалоб"), bold=True),
         Cell(total, CellKind.COUNT, bold=True), _pct(total, total)),
        (Cell(_w(lang, "Қанағаттандырылған (расталған)", "Удовлетворенные (подтвержденные)")),
         Cell(upheld, CellKind.COUNT), _pct(upheld, total)),
        (Cell(_w(lang, "Қанағаттандырусыз қалдырылған (бас тартылған)",
                 "Неудовлетворенные (отказано)")),
         Cell(refused, CellKind.COUNT), _pct(refused, total)),
        (Cell(_w(lang, "Шешім әлі қабылданбаған", "Решение еще не принято")),
         Cell(pending, CellKind.COUNT), _pct(pending, total)),
    )
    return Table(
        id="complaints", sheet=_w(lang, "Шағымдар", "Жалобы"),
        title=_w(lang, "Шағымдарды қарау нәтижелері", "Результаты рассмотрения жалоб"),
        columns=(_w(lang, "Көрсеткіш", "Показатель"), _w(lang, "Саны", "Количество"),
                 _w(lang, "Үлесі, %", "Доля, %")),
        rows=rows)


def survey_table(p: _Period, lang: str) -> Table:
    scores = {int(str(s)): int(str(n)) for s, n in p.rows(
        "survey_score, COUNT(*)", "AND survey_score BETWEEN 1 AND 5", tail="GROUP BY survey_score")}
    total = sum(scores.values())
    mean = sum(s * n for s, n in scores.items()) / total if total else None
    rows: list[tuple[Cell, ...]] = [
        (Cell(_w(lang, f"{s} балл", f"{s} балл" if s == 1 else f"{s} балла" if s < 5
                 else f"{s} баллов")), Cell(scores.get(s, 0), CellKind.COUNT),
         _pct(scores.get(s, 0), total)) for s in (5, 4, 3, 2, 1)]
    rows.append((Cell(_w(lang, "Барлық бағалар", "Всего оценок"), bold=True),
                 Cell(total, CellKind.COUNT, formula="=SUM(B2:B6)", bold=True),
                 _pct(total, total)))
    satisfied = scores.get(4, 0) + scores.get(5, 0)
    unhappy = scores.get(1, 0) + scores.get(2, 0)
    rows += [(Cell(_w(lang, "Орташа баға", "Средняя оценка")), Cell(mean, CellKind.SCORE),
              Cell(None)),
             (Cell(_w(lang, "Қанағаттанғандар (4-5 балл), CSI", "Удовлетворенные (4-5 баллов), "
                                                                  "CSI")),
              Cell(satisfied, CellKind.COUNT), _pct(satisfied, total)),
             (Cell(_w(lang, "Қанағаттанбағандар (1-2 балл), CDI",
                      "Неудовлетворенные (1-2 балла), CDI")),
              Cell(unhappy, CellKind.COUNT), _pct(unhappy, total))]
    return Table(
        id="survey", sheet=_w(lang, "Сауалнама", "Опрос"),
        title=_w(lang, "Сауалнама нәтижелері", "Результаты опроса"),
        columns=(_w(lang, "Баға", "Оценка"), _w(lang, "Саны", "Количество"),
                 _w(lang, "Үлесі, %", "Доля, %")),
        rows=tuple(rows))


def period_label(first: date, last: date, lang: str) -> str:
    return f"{first:%d.%m.%Y} – {last:%d.%m.%Y}"


def build(conn: sqlite3.Connection, since: date | str, until: date | str, lang: str,
          topics: TopicTree | None) -> Document:
    """The feedback analysis of the days ``since`` to ``until`` (both included)."""
    if lang not in LANGS:
        raise ValueError(f"expected a language of {LANGS}, got {lang!r}")
    first, last = parse_day(since), parse_day(until)
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    p = _Period(conn, first, last)
    label = period_label(first, last, lang)
    intro = _w(lang,
               f"Кезең: {label}. Дереккөз: орталық қабылдаған қоңыраулар мен SMS, сондай-ақ "
               "басқа арналардан импортталған өтініштер. Шағым — орталықтың қызметіне "
               "шағым ретінде белгіленген өтініш; оны бақылаушы растайды немесе қабылдамайды.",
               f"Период: {label}. Источник: звонки и SMS, принятые центром, а также "
               "обращения, импортированные из других каналов. Жалоба — обращение, отмеченное "
               "как жалоба на работу центра; ее подтверждает или отклоняет супервизор.")
    blocks: tuple[Block, ...] = (
        Paragraph(intro), channels_table(p, lang), reasons_table(p, lang, topics),
        groups_table(p, lang, topics), answer_table(p, lang), complaints_table(p, lang),
        survey_table(p, lang))
    return Document(id="feedback", language=lang,
                    title=_w(lang, "Кері байланысты талдау", "Анализ обратной связи"),
                    period=label, blocks=blocks,
                    meta={"since": first.isoformat(), "until": last.isoformat()})
