"""Writing a report :class:`~bailanys.reports.document.Document` as XLSX, PDF
or a standalone HTML page (issue 17, "Formats").

``write(doc, fmt)`` is the one entry point the CLI (``bailanys report ...
--format``) and the console's ``/api/reports/{kind}`` call; ``FORMATS``,
``CONTENT_TYPES`` and ``EXTENSIONS`` say what they may ask for and how to
serve it. Each writer is imported when first asked for, so a console that
only shows HTML never loads XlsxWriter or reportlab.

The three formats show the same figures with the same rounding
(:mod:`bailanys.reports.render.numbers`).
"""

from __future__ import annotations

import struct
from typing import Final

from bailanys.reports.document import Document

#: The formats a report can be written in.
FORMATS: Final = ("xlsx", "pdf", "html")
CONTENT_TYPES: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
EXTENSIONS: Final = {"xlsx": ".xlsx", "pdf": ".pdf", "html": ".html"}


def write(doc: Document, fmt: str) -> bytes:
    """``doc`` as ``fmt`` (one of :data:`FORMATS`); a ValueError naming the
    formats for any other."""
    if fmt == "xlsx":
        from bailanys.reports.render.xlsx import write_xlsx
        return write_xlsx(doc)
    if fmt == "pdf":
        from bailanys.reports.render.pdf import write_pdf
        return write_pdf(doc)
    if fmt == "html":
        from bailanys.reports.render.html import write_html
        return write_html(doc).encode("utf-8")
    raise ValueError(f"format {fmt!r}: not one of {', '.join(FORMATS)}")


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk (PNG spec §11.2.2); None when
    the bytes are not a PNG (a chart is then shown as its alt text)."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", png[16:24])
    return (width, height) if width and height else None
