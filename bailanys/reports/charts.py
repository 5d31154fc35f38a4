"""The quarterly analysis' charts (the methodology's statistical part), drawn with matplotlib.

Bars by region (this quarter against the previous one), the social
portrait (age bands and sex) and the trend by month over both quarters.
Matplotlib's object API on the Agg canvas: no pyplot, no global state, no
display; a chart is PNG bytes in a :class:`~bailanys.reports.document.Chart`
with an alt text that says its numbers. DejaVu Sans (matplotlib's own
font) has the Kazakh letters.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Final

from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bailanys.reports.document import Chart
from bailanys.reports.model import REGIONS, UNKNOWN_REGION
from bailanys.reports.quarterlytext import month_name, num, portrait_rows, region_name

#: 100 dpi: an A4 page's width of text (17 cm) is about 7 inches.
DPI: Final = 100
_THIS: Final = "#1f5fa8"  # this quarter
_PREV: Final = "#a9c4e4"  # the previous quarter
_LABELS: Final = {
    "kk": {"regions": "Өңірлер бойынша өтініштер", "this": "Есепті тоқсан",
           "prev": "Алдыңғы тоқсан", "portrait": "Өтініш берушілердің жасы мен жынысы",
           "age": "Жасы", "sex": "Жынысы", "trend": "Айлар бойынша өтініштер",
           "contacts": "Өтініштер саны"},
    "ru": {"regions": "Запросы по регионам", "this": "Отчётный квартал",
           "prev": "Предыдущий квартал", "portrait": "Возраст и пол заявителей",
           "age": "Возраст", "sex": "Пол", "trend": "Запросы по месяцам",
           "contacts": "Количество запросов"},
}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)  # attaches itself: Agg, no display
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _counts(axis: Axis) -> None:
    """Whole numbers on a count axis, written as the language writes them (12 345)."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: num(v)))


def regions(counts: Mapping[str, tuple[int, int]], lang: str) -> Chart:
    """Horizontal bars: each region's contacts, this quarter and the previous one."""
    t = _LABELS[lang]
    ids = [r.id for r in REGIONS] + [UNKNOWN_REGION]
    names = [region_name(i, lang) for i in ids]
    now = [counts.get(i, (0, 0))[0] for i in ids]
    before = [counts.get(i, (0, 0))[1] for i in ids]
    fig = Figure(figsize=(8, 7.5), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ys = range(len(ids))
    ax.barh([y + 0.2 for y in ys], before, height=0.4, color=_PREV, label=t["prev"])
    ax.barh([y - 0.2 for y in ys], now, height=0.4, color=_THIS, label=t["this"])
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(t["regions"])
    ax.legend(loc="best", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    _counts(ax.xaxis)
    alt = "; ".join(f"{n}: {num(a)} ({num(b)})" for n, a, b in zip(names, now, before,
                                                                  strict=True))
    return Chart("regions", t["regions"], _png(fig), f"{t['regions']}: {alt}")


def portrait(groups: Mapping[tuple[str | None, str | None, str | None], int],
             lang: str) -> Chart:
    """Two panels: contacts by age band, and by sex (those with the data)."""
    t = _LABELS[lang]
    ages = portrait_rows(groups, "age", 0, lang)[:-2]
    sexes = portrait_rows(groups, "sex", 0, lang)[:-2]
    fig = Figure(figsize=(8, 3.5), dpi=DPI, layout="constrained")
    ax_age, ax_sex = fig.subplots(1, 2, width_ratios=(3, 1))
    ax_age.bar(range(len(ages)), [n for _, n, _ in ages], color=_THIS)
    ax_age.set_xticks(range(len(ages)), [_short(label) for label, _, _ in ages], fontsize=8)
    ax_age.set_title(t["age"])
    _counts(ax_age.yaxis)
    ax_sex.bar(range(len(sexes)), [n for _, n, _ in sexes], color=[_THIS, _PREV])
    ax_sex.set_xticks(range(len(sexes)), [label for label, _, _ in sexes], fontsize=8)
    ax_sex.set_title(t["sex"])
    _counts(ax_sex.yaxis)
    fig.suptitle(t["portrait"])
    alt = "; ".join(f"{label}: {num(n)}" for label, n, _ in ages + sexes)
    return Chart("portrait", t["portrait"], _png(fig), f"{t['portrait']}: {alt}")


def _short(label: str) -> str:
    """The "under 18 or over 90" band's long label, shortened for an axis."""
    return label if len(label) <= 8 else "<18, >90"


def trend(months: Mapping[str, int], first_month: str, lang: str) -> Chart:
    """Bars by month over both quarters, this quarter's months darker."""
    t = _LABELS[lang]
    keys = sorted(months)
    fig = Figure(figsize=(8, 3.5), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(keys)), [months[k] for k in keys],
           color=[_THIS if k >= first_month else _PREV for k in keys])
    ax.set_xticks(range(len(keys)), [month_name(k, lang) for k in keys], fontsize=8)
    ax.set_ylabel(t["contacts"])
    ax.set_title(t["trend"])
    ax.grid(axis="y", alpha=0.3)
    _counts(ax.yaxis)
    alt = "; ".join(f"{month_name(k, lang)}: {num(months[k])}" for k in keys)
    return Chart("trend", t["trend"], _png(fig), f"{t['trend']}: {alt}")
