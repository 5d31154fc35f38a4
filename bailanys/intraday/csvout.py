"""The intraday exports as CSV for Excel: pure, no I/O.

As the analysts' export (``analytics/csvexport.py``): UTF-8 with a
byte-order mark, Excel's list separator and decimal sign for the language
(``;`` and ``,`` for Kazakh and Russian, ``,`` and ``.`` for English),
headers in the chosen language, RFC 4180 quoting, cells guarded against
formula injection. Numbers are written whole (no masking); the agents'
export has no callers' numbers at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Final

from bailanys.analytics.csvexport import BOM, SEPARATORS, guard
from bailanys.intraday.agentday import AgentPeriod
from bailanys.intraday.buckets import DaySeries, labels

LANGS: Final = ("kk", "ru", "en")
DECIMAL: Final = {"kk": ",", "ru": ",", "en": "."}
#: The queue column when every queue is counted.
ALL_QUEUES: Final = {"kk": "Барлық кезек", "ru": "Все очереди", "en": "All queues"}
INTERVAL_HEADERS: Final = {
    "kk": ("Күні", "Аралық", "Кезек", "Түскен", "Жауап берілген", "Жоғалған",
           "Орташа күту, с", "Жүйедегі операторлар", "Бос операторлар"),
    "ru": ("Дата", "Интервал", "Очередь", "Поступило", "Отвечено", "Потеряно",
           "Среднее ожидание, с", "Операторов в системе", "Свободных операторов"),
    "en": ("Date", "Interval", "Queue", "Offered", "Answered", "Lost",
           "Average wait, s", "Agents logged in", "Agents available"),
}
AGENT_HEADERS: Final = {
    "kk": ("Оператор", "Аты", "Кезең басы", "Кезең соңы", "Кезек", "Жауап берілген",
           "Аяқталған", "Сөйлесу, с", "Күттіру, с", "Өңдеу, с", "Орташа өңдеу уақыты, с",
           "Жүктеме, %", "Жүйеде, с", "Үзіліс, с", "Үзілістер саны"),
    "ru": ("Оператор", "Имя", "Начало периода", "Конец периода", "Очередь", "Отвечено",
           "Завершено", "Разговор, с", "Удержание, с", "Постобработка, с",
           "Среднее время обработки, с", "Занятость, %", "В системе, с", "Перерывы, с",
           "Число перерывов"),
    "en": ("Agent", "Name", "Period from", "Period to", "Queue", "Answered", "Handled",
           "Talk, s", "Hold, s", "Wrap-up, s", "AHT, s", "Occupancy, %", "Logged in, s",
           "Breaks, s", "Breaks"),
}


def number(value: float | int | None, lang: str, digits: int = 1) -> str:
    """A number as Excel reads it in ``lang`` ("" for no data)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}".replace(".", DECIMAL[lang])


def _write(header: Sequence[str], rows: Iterable[Sequence[str]], lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS[lang], lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([guard(cell) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")


def intervals_csv(series: Iterable[tuple[dt.date, DaySeries]], queue: str | None,
                  tz: dt.tzinfo, lang: str) -> bytes:
    """One row per interval of every day (the intervals not yet begun left out)."""
    queue_cell = queue if queue is not None else ALL_QUEUES[lang]

    def rows() -> Iterable[list[str]]:
        for day, s in series:
            names = labels(s.start, s.end, tz)
            for i, (label, slot) in enumerate(zip(names, s.slots, strict=True)):
                if s.elapsed[i] <= 0:
                    continue
                yield [day.isoformat(), label, queue_cell, number(slot.offered, lang),
                       number(slot.answered, lang), number(slot.lost, lang),
                       number(slot.average_wait(), lang),
                       number(s.agents(i, slot.logged_in_s), lang, 2),
                       number(s.agents(i, slot.available_s), lang, 2)]

    return _write(INTERVAL_HEADERS[lang], rows(), lang)


def agents_csv(periods: Iterable[AgentPeriod], names: dict[str, str], since: dt.date,
               until: dt.date, queue: str | None, lang: str) -> bytes:
    """One row per agent over the period: no callers' numbers."""
    queue_cell = queue if queue is not None else ALL_QUEUES[lang]

    def rows() -> Iterable[list[str]]:
        for p in periods:
            t = p.totals()
            yield [p.agent, names.get(p.agent, ""), since.isoformat(), until.isoformat(),
                   queue_cell, number(len(p.calls), lang), number(len(p.handled), lang),
                   number(t["talk"], lang), number(t["hold"], lang), number(t["wrap_up"], lang),
                   number(p.aht(), lang), number(p.occupancy(), lang),
                   number(p.logged_in_s, lang), number(sum(b.seconds for b in p.breaks), lang),
                   number(len(p.breaks), lang)]

    return _write(AGENT_HEADERS[lang], rows(), lang)
