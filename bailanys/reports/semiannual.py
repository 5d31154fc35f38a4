"""The semi-annual form (Appendix 2 of the 2023 requirements, form БОҚБЕ).

:func:`build` fills the form's 28 rows for a half-year ("2026-H2") in
Kazakh or Russian, in the original's layout (columns № / indicators /
units / actual data, lettered А Б В 1):

* rows 1-12 and 21-28 come from the organisation profile
  (``configs/organisation.toml``, :mod:`bailanys.reports.organisation`):
  the name, documents, premises, staff and software are facts no call
  event carries; row 8 lists the topic classifier's groups, row 12 the
  profile's operators (the form asks for the head count at the period's
  end, an HR figure, not who happened to log in);
* rows 13-14 and 20 count the ``contacts`` table (calls the engine saw and
  the other channels' imported contacts): total, per channel, complaints
  about the centre a supervisor confirmed;
* rows 15-19 are the metrics core's KPIs of the period, folded by
  :func:`bailanys.metrics.windows.recompute` over the stored events with
  the console's own KPI settings: one code path, so the form's figures are
  the console's figures for the same period and definitions (docs/kpi.md).

:func:`due` tells the console when the form is due (requirements item 36:
"by the 15th of the month after the half-year").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from datetime import date, datetime, time
from typing import Protocol

from bailanys.config import Config
from bailanys.metrics.fold import KpiConfig
from bailanys.metrics.snapshot import KpiSnapshot
from bailanys.metrics.windows import recompute
from bailanys.reports import formrows as fr
from bailanys.reports.document import Block, Cell, CellKind, Document, Paragraph, Table
from bailanys.reports.model import ENGINE_CHANNELS, ContactChannel
from bailanys.reports.organisation import Organisation, Text
from bailanys.store.events import Event, load_data
from bailanys.timezone import ALMATY

LANGS = ("kk", "ru")
_SECONDS_PER_MINUTE = 60.0
_ROMAN = {1: "I", 2: "II"}


class TopicTree(Protocol):
    """What the form reads of the topic classifier (``reports.topics.Topics``)."""

    @property
    def ids(self) -> Collection[str]: ...

    def names(self, id: str, lang: str) -> str: ...

    def group_of(self, id: str) -> str | None: ...


def parse_period(period: str) -> tuple[date, date]:
    """``"2026-H2"`` -> (first day, first day after); ValueError if malformed."""
    year_text, _, half = period.strip().upper().partition("-H")
    if not (year_text.isdigit() and len(year_text) == 4 and half in ("1", "2")):
        raise ValueError(f"expected a half-year like 2026-H2, got {period!r}")
    year = int(year_text)
    if half == "1":
        return date(year, 1, 1), date(year, 7, 1)
    return date(year, 7, 1), date(year + 1, 1, 1)


def period_label(period: str, lang: str) -> str:
    start, _ = parse_period(period)
    roman = _ROMAN[1 if start.month == 1 else 2]
    if lang == "kk":
        return f"{start.year} жылғы {roman} жартыжылдық"
    return f"{roman} полугодие {start.year} года"


def due(today: date, config: Config) -> tuple[str, date] | None:
    """The form to send now: (the half-year just ended, its due date), from
    the first day after the half-year up to the due date; else None."""
    day = config.reports.due_day
    if today.month == 1 and today.day <= day:
        return f"{today.year - 1}-H2", date(today.year, 1, day)
    if today.month == 7 and today.day <= day:
        return f"{today.year}-H1", date(today.year, 7, day)
    return None


def kpi_config(config: Config) -> KpiConfig:
    """The KPI settings the console folds with (engine/console.py)."""
    c = config.console
    return KpiConfig(service_level_s=float(c.service_level_s), wait_of_all=c.kpi_wait_of_all,
                     fcr_per_call=c.kpi_fcr_per_call)


def _epoch(day: date) -> float:
    return datetime.combine(day, time(0), ALMATY).timestamp()


def stored_events(conn: sqlite3.Connection, since: float, until: float) -> Iterator[Event]:
    """The stored events of [since, until) in the order they were appended."""
    cursor = conn.execute("SELECT id, ts, type, call_id, data FROM events "
                          "WHERE ts >= ? AND ts < ? ORDER BY id", (since, until))
    for row_id, ts, type_, call_id, data in cursor:
        yield Event(int(row_id), float(ts), type_, call_id, load_data(int(row_id), data))


def period_kpis(conn: sqlite3.Connection, period: str, config: Config) -> KpiSnapshot:
    """Rows 15-19's source: the metrics core's snapshot of the half-year.

    Events from one FCR window before the period are read for context only:
    a repeat contact takes back a resolution made before the period began
    (docs/kpi.md, FCR), calls in progress at midnight keep their queue."""
    first, after = parse_period(period)
    start, end = _epoch(first), _epoch(after)
    settings = kpi_config(config)
    return recompute(stored_events(conn, start - settings.fcr_window_s, end), start, end,
                     settings)


def channel_counts(conn: sqlite3.Connection, first: date, after: date) -> dict[str, int]:
    rows = conn.execute("SELECT channel, COUNT(*) FROM contacts WHERE day >= ? AND day < ? "
                        "GROUP BY channel", (first.isoformat(), after.isoformat()))
    return {str(channel): int(n) for channel, n in rows}


def confirmed_complaints(conn: sqlite3.Connection, first: date, after: date) -> int:
    row = conn.execute("SELECT COUNT(*) FROM contacts WHERE day >= ? AND day < ? "
                       "AND complaint = 1 AND complaint_confirmed = 1",
                       (first.isoformat(), after.isoformat())).fetchone()
    return int(row[0])


def topic_name(topics: TopicTree, id: str, lang: str) -> str:
    try:
        return topics.names(id, lang) or id
    except (KeyError, ValueError):
        return id


def topic_list(topics: TopicTree | None, lang: str, leave_out: frozenset[str]) -> str:
    """Row 8: the classifier's groups (its topics when it has no groups)."""
    if topics is None:
        return ""
    groups: list[str] = []
    loose: list[str] = []
    for topic in topics.ids:
        if topic in leave_out:
            continue
        group = topics.group_of(topic)
        if group is None:
            loose.append(topic_name(topics, topic, lang))
        elif group not in groups:
            groups.append(group)
    return "; ".join([topic_name(topics, g, lang) for g in groups] + loose)


def _yes_no(lang: str, items: tuple[Text, ...] = (), yes: bool | None = None) -> Cell:
    answer = bool(items) if yes is None else yes
    text = fr.YES[lang] if answer else fr.NO[lang]
    if answer and items:
        text += ": " + ", ".join(item.get(lang) for item in items)
    return Cell(text)


def _static_cells(org: Organisation, lang: str, topics_text: str) -> dict[int, Cell]:
    """Rows 1-12 and 21-28: the profile's answers."""
    cert = org.certification
    return {
        1: Cell(org.name.get(lang)),
        2: Cell(f"{org.document_no}, {org.document_date:%d.%m.%Y}"),
        3: Cell(org.address.get(lang)),
        4: _yes_no(lang, org.branches),
        5: Cell(org.phone),
        6: Cell(org.working_hours.get(lang)),
        7: _yes_no(lang, yes=org.weekends_and_holidays),
        8: Cell(topics_text or None),
        9: _yes_no(lang, yes=org.second_line),
        10: Cell(", ".join(c.get(lang) for c in org.channels)),
        11: Cell(org.staff, CellKind.COUNT),
        12: Cell(org.operators, CellKind.COUNT),
        21: _yes_no(lang, org.software),
        22: _yes_no(lang, org.integrations),
        23: Cell(f"{cert.name.get(lang)}, {cert.date:%d.%m.%Y}" if cert else fr.NO[lang]),
        24: Cell(f"{fr.YES[lang]}, {org.certified_managers}" if org.certified_managers
                 else fr.NO[lang]),
        25: _yes_no(lang, yes=org.workplaces_equipped),
        26: _yes_no(lang, org.auxiliary_rooms),
        27: _yes_no(lang, yes=org.knowledge_base),
        28: _yes_no(lang, yes=org.internal_rules),
    }


def _kpi_cells(snapshot: KpiSnapshot) -> dict[int, Cell]:
    """Rows 15-19 from the snapshot's total scope (docs/kpi.md KPIs 1, 3, 4, 5, AHT)."""
    total = snapshot.total
    aht = total.kpi("aht_s").value
    return {
        15: Cell(total.kpi("wait_s").value, CellKind.SECONDS),
        16: Cell(total.kpi("satisfaction_score").value, CellKind.SCORE),
        17: Cell(total.kpi("fcr_pct").value, CellKind.PCT),
        18: Cell(total.kpi("lost_pct").value, CellKind.PCT),
        19: Cell(None if aht is None else aht / _SECONDS_PER_MINUTE, CellKind.MINUTES),
    }


def _channels_shown(counts: dict[str, int]) -> list[str]:
    """The engine's channels always (0 is a figure), imported ones when present."""
    shown = [c.value for c in ENGINE_CHANNELS]
    shown += [c.value for c in ContactChannel if c not in ENGINE_CHANNELS and counts.get(c)]
    shown += sorted(c for c in counts if c not in shown)
    return shown


def form_table(lang: str, values: dict[int, Cell], per_channel: dict[str, int]) -> Table:
    """The 28 rows (row 14 with a sub-row per channel), in the original's layout.

    XLSX layout: titles in row 1, the letters А Б В 1 in row 2, data from
    row 3; the figures in column D (rows 13 and 14 are formulas over 14's
    sub-rows).
    """
    rows: list[tuple[Cell, ...]] = [tuple(Cell(x, bold=True) for x in fr.COLUMN_LETTERS)]
    channels = _channels_shown(per_channel)
    first_sub = 2 + 14 + 1  # sheet row of 14.1: titles, letters, rows 1-13, row 14
    last_sub = first_sub + len(channels) - 1
    total = sum(per_channel.values())
    for spec in fr.ROWS:
        cell = values.get(spec.number, Cell(None))
        if spec.number == 13:
            cell = Cell(total / 1000, CellKind.THOUSANDS, formula=f"=D{first_sub - 1}")
        elif spec.number == 14:
            cell = Cell(total / 1000, CellKind.THOUSANDS,
                        formula=f"=SUM(D{first_sub}:D{last_sub})")
        rows.append((Cell(spec.number), Cell(spec.label(lang)), Cell(spec.unit(lang)), cell))
        if spec.number == 14:
            for i, channel in enumerate(channels, start=1):
                rows.append((Cell(f"14.{i}"), Cell(fr.channel_name(channel, lang)),
                             Cell(spec.unit(lang)),
                             Cell(per_channel.get(channel, 0) / 1000, CellKind.THOUSANDS)))
    return Table(id="semiannual", title=fr.TITLE[lang],
                 sheet="Есеп" if lang == "kk" else "Отчет",
                 columns=fr.COLUMNS[lang], rows=tuple(rows), note=_NOTE[lang], freeze=2)


_NOTE = {
    "kk": "13-14-жолдар толтыру түсініктемесі сұрағандай мыңмен берілген (нысанның "
          "В бағанында «дана» деп жазылған). 15-19-жолдар "
          "оқиғалар журналынан консольдегі көрсеткіштер есептелетін тәсілмен шығарылған; "
          "8-жол тақырыптар жіктеуішінен, 1-7, 9-12 және 21-28-жолдар ұйым профилінен "
          "(configs/organisation.toml) алынған.",
    "ru": "Строки 13-14 приведены в тысячах, как требует пояснение по заполнению "
          "(в графе В формы указано «единиц»). Строки 15-19 "
          "рассчитаны по журналу событий тем же способом, что и показатели консоли; "
          "строка 8 — из классификатора тем, строки 1-7, 9-12 и 21-28 — из профиля "
          "организации (configs/organisation.toml).",
}


def _header(lang: str, period: str) -> tuple[Paragraph, ...]:
    label = period_label(period, lang)
    return tuple(Paragraph(line.format(period=label)) for line in fr.HEADER[lang])


def _footer(lang: str, org: Organisation) -> tuple[Paragraph, ...]:
    name, address, phone, email, executor, head, seal = fr.FOOTER[lang]
    return (Paragraph(f"{name}: {org.name.get(lang)}"),
            Paragraph(f"{address}: {org.address.get(lang)}"),
            Paragraph(f"{phone}: {org.phone}"),
            Paragraph(f"{email}: {org.email or '____________________'}"),
            Paragraph(executor), Paragraph(head), Paragraph(seal))


def build(conn: sqlite3.Connection, period: str, lang: str, org: Organisation,
          topics: TopicTree | None, config: Config) -> Document:
    """The form of ``period`` ("2026-H2") in ``lang`` ("kk" or "ru")."""
    if lang not in LANGS:
        raise ValueError(f"expected a language of {LANGS}, got {lang!r}")
    first, after = parse_period(period)
    values = _static_cells(org, lang, topic_list(topics, lang, config.qa.complaints))
    values.update(_kpi_cells(period_kpis(conn, period, config)))
    values[20] = Cell(confirmed_complaints(conn, first, after), CellKind.COUNT)
    table = form_table(lang, values, channel_counts(conn, first, after))
    blocks: tuple[Block, ...] = (*_header(lang, period), table, *_footer(lang, org))
    return Document(id="semiannual", language=lang, title=fr.TITLE[lang],
                    period=period_label(period, lang), blocks=blocks,
                    subtitle=org.name.get(lang),
                    meta={"period": period, "index": fr.INDEX})
