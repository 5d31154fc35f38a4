"""Small report Documents for the renderers' tests (the builders are written
in parallel: these stand in for them), and a real chart PNG."""

from __future__ import annotations

import io

from bailanys.reports.document import Cell, CellKind, Chart, Document, Paragraph, Table

#: The letters of Kazakh that Russian has not: they must survive every format.
KAZAKH_LETTERS = "әғқңөұүһі"
KK_REGIONS = ("Абай облысы", "Ақмола облысы", "Ақтөбе облысы", "Алматы облысы",
              "Атырау облысы", "Батыс Қазақстан облысы", "Жамбыл облысы",
              "Жетісу облысы", "Қарағанды облысы", "Қостанай облысы",
              "Қызылорда облысы", "Маңғыстау облысы", "Павлодар облысы",
              "Солтүстік Қазақстан облысы", "Түркістан облысы", "Ұлытау облысы",
              "Шығыс Қазақстан облысы", "Астана қаласы", "Алматы қаласы",
              "Шымкент қаласы")


def chart_png(width_in: float = 6.0, height_in: float = 3.0) -> bytes:
    """A real bar chart drawn with matplotlib (Agg), as the builders draw them."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_in, height_in), dpi=80)
    ax = fig.add_subplot()
    ax.bar(["Абай", "Ақмола", "Ақтөбе"], [120, 80, 45], color="#4472c4")
    ax.set_title("Өтініштер саны")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def regions_table(rows: int = 20) -> Table:
    """A quarterly-like table: region, this quarter, previous, change %, with
    a SUM total row and a flagged change."""
    body = []
    for i in range(rows):
        name = KK_REGIONS[i % len(KK_REGIONS)] + ("" if i < len(KK_REGIONS) else f" {i}")
        now, before = 1000 + 90 * i, 1000 + 20 * i
        change = (now - before) / before * 100
        body.append((Cell(name), Cell(now, CellKind.COUNT), Cell(before, CellKind.COUNT),
                     Cell(round(change, 4), CellKind.PCT, flag=change > 30)))
    now_total = sum(1000 + 90 * i for i in range(rows))
    before_total = sum(1000 + 20 * i for i in range(rows))
    body.append((Cell("Барлығы", bold=True),
                 Cell(now_total, CellKind.COUNT, formula=f"=SUM(B2:B{rows + 1})", bold=True),
                 Cell(before_total, CellKind.COUNT, formula=f"=SUM(C2:C{rows + 1})",
                      bold=True),
                 Cell((now_total - before_total) / before_total * 100, CellKind.PCT,
                      formula=f"=(B{rows + 2}-C{rows + 2})/C{rows + 2}*100", bold=True)))
    return Table(id="regions", title="Өңірлер бойынша өтініштер саны",
                 sheet="Өңірлер бойынша", columns=("Өңір", "Осы тоқсан", "Алдыңғы тоқсан",
                                                   "Өзгерісі, %"),
                 rows=tuple(body), note="Өсімі 30 %-дан асқан тақырыптар белгіленген.")


def kinds_table() -> Table:
    """One row per cell kind, with the figures the tests expect."""
    return Table(id="kpi", title="Негізгі көрсеткіштер", sheet="Көрсеткіштер",
                 columns=("Көрсеткіш", "Мәні"),
                 rows=((Cell("Барлық өтініштер"), Cell(12345, CellKind.COUNT)),
                       (Cell("Бірінші өтініште шешілгені"), Cell(12.45, CellKind.PCT)),
                       (Cell("Орташа күту уақыты"), Cell(42.25, CellKind.SECONDS)),
                       (Cell("Өңдеудің орташа уақыты"), Cell(3.84, CellKind.MINUTES)),
                       (Cell("Қанағаттану деңгейі"), Cell(4.524, CellKind.SCORE)),
                       (Cell("Тапсыру мерзімі"), Cell("2027-01-15", CellKind.DATE)),
                       (Cell("Расталған шағымдар"), Cell(None, CellKind.COUNT)),
                       (Cell("=HYPERLINK(\"http://x\")"), Cell("<b>қ</b>"))))


def document(lang: str = "kk", *, rows: int = 20, charts: bool = True) -> Document:
    """A quarterly-like document: two tables, a chart, paragraphs."""
    blocks: list[Table | Chart | Paragraph] = [
        Paragraph("Талдау бөлімі", heading=True),
        Paragraph("Тоқсан ішінде 12 345 өтініш түсті, бұл алдыңғы тоқсаннан 12,5 % көп. "
                  "Әлеуметтік көмек, ғимарат, қызмет, өңір, ұлт, үй, шаһар, ақпарат. "
                  "Ә Ғ Қ Ң Ө Ұ Ү Һ І."),
        kinds_table(),
        regions_table(rows),
    ]
    if charts:
        blocks.append(Chart(id="by_region", title="Өңірлер бойынша", png=chart_png(),
                            alt="Өңірлер бойынша өтініштер бағандары"))
    blocks.append(Paragraph("<script>alert('x')</script> & «тырнақша»"))
    return Document(id="quarterly", language=lang, title="Өтініштерді тоқсандық талдау",
                    period="2026 жылғы III тоқсан", blocks=tuple(blocks),
                    subtitle="«Электрондық үкімет» 1414 бірыңғай байланыс орталығы",
                    meta={"Жасалған уақыты": "2026-10-05 09:00"})
