"""The quarterly analysis of citizens' requests (the 2024 methodology; issue 17, report 2).

The methodology (``domain/kz-methodology-request-analysis-2024.ru.txt``)
asks for counts this quarter and the previous one, by region (the oblasts,
the cities of republican significance, the capital) and by topic; a plan
for every topic that grew by more than 30 %; the ten questions that
interest citizens most, for the country and for each region; the callers'
social portrait (age 18-30 ... 81-90, sex, social status); new topics; and
questions for the FAQ. Its "справка" has a statistical and an analytical
part: :func:`build` returns both as one :class:`~bailanys.reports.document.Document`.

The figures are SQL aggregates (:mod:`bailanys.reports.quarterlyfigures`),
the labels and the analytical text in :mod:`bailanys.reports.quarterlytext`,
the charts in :mod:`bailanys.reports.charts`; this module lays the tables out.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bailanys.errors import InputError
from bailanys.reports import charts
from bailanys.reports.document import Block, Cell, CellKind, Document, Table
from bailanys.reports.model import REGIONS, UNKNOWN_REGION
from bailanys.reports.quarterlyfigures import (
    FaqQuestions,
    Figures,
    change_pct,
    figures,
    grew,
    new_topics,
    parse_quarter,
    share,
    top,
)
from bailanys.reports.quarterlyprose import analysis
from bailanys.reports.quarterlytext import (
    LABELS,
    TopicNames,
    period_name,
    portrait_rows,
    region_name,
    topic_name,
)
from bailanys.robot.faq import load as load_faq
from bailanys.robot.gapcalls import (
    MIN_TERMS,
    QUESTION_WINDOW_S,
    MatcherAnswers,
    from_calls,
    from_robot,
)
from bailanys.robot.gapcluster import Cluster

if TYPE_CHECKING:
    from bailanys.config import Config

log = logging.getLogger(__name__)


def build(conn: sqlite3.Connection, quarter: str, lang: str, topics: TopicNames | None,
          config: Config) -> Document:
    """The quarterly analysis of ``quarter`` ("2026-Q3") in ``lang`` (kk or ru)."""
    if lang not in LABELS:
        raise InputError(f"expected a language of {sorted(LABELS)}, got {lang!r}")
    period = parse_quarter(quarter)
    faq, titles = faq_entries(config.robot.faq)
    answers = MatcherAnswers(config.robot.faq, config.robot.faq_cache) if faq else None
    return document(figures(conn, period, faq, answers), lang, topics,
                    config.reports.growth_flag_pct, titles)


def faq_entries(path: str) -> tuple[FaqQuestions, Mapping[str, Mapping[str, str]]]:
    """The robot's FAQ (``[robot] faq``): its questions and titles, for the FAQ
    candidates' nearest entry as ``bailanys faq gaps`` shows it; none when the
    file is not set or has problems (the candidates still help without)."""
    if not path:
        return {}, {}
    kb, problems = load_faq(Path(path))
    if problems:
        log.warning("%s: %d problem(s); FAQ candidates without their nearest entry",
                    path, len(problems))
        return {}, {}
    return {e.id: e.questions for e in kb.entries}, {e.id: e.title for e in kb.entries}


def document(fig: Figures, lang: str, topics: TopicNames | None, flag_pct: int,
             faq_titles: Mapping[str, Mapping[str, str]] | None = None) -> Document:
    """The document of :func:`figures`' numbers (pure)."""
    t = LABELS[lang]
    blocks: list[Block] = [
        _regions_table(fig, lang),
        _topics_table(fig, lang, topics, flag_pct),
        _top_table(fig, lang, topics),
        _region_top_table(fig, lang, topics),
        *_portrait_tables(fig, lang),
        _new_topics_table(fig, lang, topics),
        _faq_table(fig, lang, faq_titles or {}),
        charts.regions(fig.regions, lang),
        charts.portrait(fig.portrait, lang),
        charts.trend(fig.months, fig.quarter.first.isoformat()[:7], lang),
        *analysis(fig, lang, topics, flag_pct),
    ]
    return Document(id="quarterly", language=lang, title=t["title"],
                    period=period_name(fig.quarter.year, fig.quarter.number, lang),
                    blocks=tuple(blocks), meta={"quarter": str(fig.quarter)})


def _count(n: int) -> Cell:
    return Cell(n, CellKind.COUNT)


def _pct(v: float | None, flag: bool = False) -> Cell:
    return Cell(v, CellKind.PCT, flag=flag)


def _sum_formula(col: int, rows: int) -> str:
    """``=SUM(..)`` over a column of the table's data rows (document.Cell.formula:
    the table's first column is A, its first data row 2)."""
    letter = chr(ord("A") + col)
    return f"=SUM({letter}2:{letter}{rows + 1})"


def _regions_table(fig: Figures, lang: str) -> Table:
    t = LABELS[lang]
    ids = [r.id for r in REGIONS] + [UNKNOWN_REGION]
    rows = [(_count(i + 1) if rid != UNKNOWN_REGION else Cell(""), Cell(region_name(rid, lang)),
             _count(fig.regions[rid][0]), _count(fig.regions[rid][1]),
             _pct(change_pct(*fig.regions[rid])), _pct(share(fig.regions[rid][0], fig.total)))
            for i, rid in enumerate(ids)]
    total = (Cell(""), Cell(t["total"], bold=True),
             Cell(fig.total, CellKind.COUNT, formula=_sum_formula(2, len(rows)), bold=True),
             Cell(fig.previous_total, CellKind.COUNT, formula=_sum_formula(3, len(rows)),
                  bold=True),
             _pct(change_pct(fig.total, fig.previous_total)), _pct(share(fig.total, fig.total)))
    unknown = fig.regions[UNKNOWN_REGION][0]
    return Table("regions", t["regions_title"], t["regions_sheet"],
                 (t["no"], t["region"], t["this_q"], t["prev_q"], t["change"], t["share"]),
                 (*rows, total),
                 note=t["unknown_note"].format(share=_fmt_share(share(unknown, fig.total))))


def _fmt_share(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}".replace(".", ",")


def _topic_order(fig: Figures) -> list[str]:
    """Topics by this quarter's count (then the previous one, then the id);
    "not classified" last."""
    return sorted((k for k in fig.topics if k),
                  key=lambda k: (-fig.topics[k][0], -fig.topics[k][1], k))


def _topics_table(fig: Figures, lang: str, topics: TopicNames | None, flag_pct: int) -> Table:
    t = LABELS[lang]
    rows: list[tuple[Cell, ...]] = []
    for i, k in enumerate(_topic_order(fig)):
        now, before = fig.topics[k]
        flagged = grew(now, before, flag_pct)
        rows.append((_count(i + 1), Cell(topic_name(topics, k, lang)), Cell(k),
                     _count(now), _count(before), _pct(change_pct(now, before), flagged),
                     Cell(t["flag_yes"] if flagged else "", flag=flagged)))
    if "" in fig.topics:
        now, before = fig.topics[""]
        rows.append((Cell(""), Cell(t["no_topic"]), Cell(""), _count(now), _count(before),
                     _pct(change_pct(now, before)), Cell("")))
    return Table("topics", t["topics_title"], t["topics_sheet"],
                 (t["no"], t["topic"], t["topic_id"], t["this_q"], t["prev_q"], t["change"],
                  t["campaign"]), tuple(rows),
                 note=t["flag_note"].format(pct=flag_pct))


def _top_table(fig: Figures, lang: str, topics: TopicNames | None) -> Table:
    t = LABELS[lang]
    counts = {k: now for k, (now, _) in fig.topics.items()}
    classified = sum(v for k, v in counts.items() if k)
    rows = tuple((_count(i + 1), Cell(topic_name(topics, k, lang)), _count(n),
                  _pct(share(n, classified)))
                 for i, (k, n) in enumerate(top(counts)))
    return Table("top", t["top_title"], t["top_sheet"],
                 (t["no"], t["topic"], t["this_q"], t["share_classified"]), rows,
                 note=t["tie_note"])


def _region_top_table(fig: Figures, lang: str, topics: TopicNames | None) -> Table:
    t = LABELS[lang]
    rows: list[tuple[Cell, ...]] = []
    for r in REGIONS:
        best = top(fig.region_topics.get(r.id, {}))
        if not best:
            rows.append((Cell(region_name(r.id, lang)), Cell(None), Cell(t["no_contacts"]),
                         Cell(None)))
        rows += [(Cell(region_name(r.id, lang)), _count(i + 1), Cell(topic_name(topics, k, lang)),
                  _count(n)) for i, (k, n) in enumerate(best)]
    return Table("region_top", t["region_top_title"], t["region_top_sheet"],
                 (t["region"], t["no"], t["topic"], t["this_q"]), tuple(rows),
                 note=t["tie_note"])


def _portrait_tables(fig: Figures, lang: str) -> list[Table]:
    t = LABELS[lang]
    out = []
    for dim in ("age", "sex", "status"):
        rows = tuple((Cell(label), _count(n), _pct(pct)) for label, n, pct in
                     portrait_rows(fig.portrait, dim, fig.total, lang))
        out.append(Table(f"portrait_{dim}", t[f"{dim}_title"], t[f"{dim}_sheet"],
                         (t[dim], t["contacts"], t["share_known"]), rows,
                         note=t["portrait_note"]))
    return out


def _new_topics_table(fig: Figures, lang: str, topics: TopicNames | None) -> Table:
    t = LABELS[lang]
    rows = tuple((_count(i + 1), Cell(topic_name(topics, k, lang)), Cell(k), _count(n))
                 for i, (k, n) in enumerate(new_topics(fig)))
    return Table("new_topics", t["new_title"], t["new_sheet"],
                 (t["no"], t["topic"], t["topic_id"], t["this_q"]), rows)


def _faq_table(fig: Figures, lang: str, titles: Mapping[str, Mapping[str, str]]) -> Table:
    t = LABELS[lang]

    def nearest(c: Cluster) -> Cell:
        if c.nearest is None:
            return Cell(None)
        return Cell(titles.get(c.nearest.entry, {}).get(lang) or c.nearest.entry)

    rows = tuple((_count(i + 1), Cell(c.lang), _count(c.count), _count(from_robot(c)),
                  _count(from_calls(c)), Cell(c.representative), Cell(", ".join(c.top_terms)),
                  nearest(c))
                 for i, c in enumerate(fig.gaps))
    note = t["faq_note"].format(robot=fig.gap_questions - fig.call_questions,
                                calls=fig.call_questions, answered=fig.answered_clusters,
                                window=int(QUESTION_WINDOW_S), terms=MIN_TERMS)
    return Table("faq", t["faq_title"], t["faq_sheet"],
                 (t["no"], t["language"], t["questions"], t["from_robot"], t["from_calls"],
                  t["example"], t["terms"], t["nearest"]), rows, note=note)
