"""Fakes for the Reports page and CLI: builders and a renderer that record what
they were asked, a store at the current schema with ``contacts`` rows.

The builders and renderer (slices form, quarterly, render) and the import
(slice contacts) are written in parallel; these stand in for them by the
contract's names (CONTRACTS17.md), through :class:`~bailanys.reports.produce.Parts`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from bailanys.config import Config
from bailanys.errors import BailanysError
from bailanys.reports.document import Cell, CellKind, Document, Paragraph, Table
from bailanys.reports.produce import Parts
from bailanys.store import Store
from bailanys.store.syncdb import SyncConnection, connect_sync, write_transaction

_P = TypeVar("_P", Path, str)

#: What the fake semi-annual form's first data row says, per language.
ROW13 = {"kk": "Жүгінулердің жалпы саны", "ru": "Общее количество обращений"}


def document(kind: str, period: str, lang: str) -> Document:
    table = Table("form", f"{kind} {period}", "Нысан", ("№", "Көрсеткіш", "Нақты деректер"),
                  ((Cell(13, CellKind.COUNT), Cell(ROW13[lang]), Cell(1234, CellKind.COUNT)),
                   (Cell(14, CellKind.COUNT), Cell("қ ә ө <b>"), Cell(12.5, CellKind.PCT))))
    return Document(kind, lang, f"{kind} report", period,
                    (table, Paragraph("Талдау мәтіні")))


def render(doc: Document, fmt: str) -> bytes:
    if fmt == "html":
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c.value))}</td>" for c in row)
                       + "</tr>" for b in doc.blocks if isinstance(b, Table) for row in b.rows)
        return (f"<!doctype html><html lang='{doc.language}'><head><meta charset='utf-8'>"
                f"<style>td{{border:1px solid #999}}</style></head><body>"
                f"<h1>{html.escape(doc.title)}</h1><p class='period'>{html.escape(doc.period)}"
                f"</p><table id='form'>{rows}</table></body></html>").encode()
    head = b"PK\x03\x04" if fmt == "xlsx" else b"%PDF-1.7\n"
    return head + f"{doc.id}|{doc.period}|{doc.language}".encode()


class ProfileError(BailanysError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass
class FakeParts:
    """The contract's modules as fakes; ``calls`` records every build and write."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    bad_profile: bool = False
    due: tuple[str, dt.date] | None = ("2026-H2", dt.date(2027, 1, 15))
    imported: list[tuple[Any, ...]] = field(default_factory=list)

    def parts(self) -> Parts:
        return Parts(find=self.find)

    def find(self, name: str) -> Any:
        return getattr(self, f"_{name}")()

    def _topics(self) -> Any:
        return SimpleNamespace(load=lambda path: ("topics", str(path)))

    def _organisation(self) -> Any:
        def load(path: Path) -> Any:
            if self.bad_profile:
                raise ProfileError([f"{path}:3: name: missing"])
            return ("org", str(path))

        return SimpleNamespace(load=load)

    def _semiannual(self) -> Any:
        def build(conn: SyncConnection, period: str, lang: str, org: Any, topics: Any,
                  config: Config) -> Document:
            conn.execute("SELECT count(*) FROM contacts").fetchone()  # a real read
            self.calls.append(("semiannual", period, lang, org[0], topics[0]))
            return document("semiannual", period, lang)

        return SimpleNamespace(build=build, due=lambda today, config: self.due)

    def _quarterly(self) -> Any:
        def build(conn: SyncConnection, quarter: str, lang: str, topics: Any,
                  config: Config) -> Document:
            self.calls.append(("quarterly", quarter, lang))
            return document("quarterly", quarter, lang)

        return SimpleNamespace(build=build)

    def _feedback(self) -> Any:
        def build(conn: SyncConnection, since: dt.date, until: dt.date, lang: str,
                  topics: Any) -> Document:
            self.calls.append(("feedback", since, until, lang))
            return document("feedback", f"{since}..{until}", lang)

        return SimpleNamespace(build=build)

    def _render(self) -> Any:
        def write(doc: Document, fmt: str) -> bytes:
            self.calls.append(("render", doc.id, fmt))
            return render(doc, fmt)

        return SimpleNamespace(write=write)

    def _imports(self) -> Any:
        def import_csv(conn: SyncConnection, data: bytes, name: str, since: dt.date,
                       until: dt.date, tz: Any, *, topics: frozenset[str] | None, user: str,
                       lang: str) -> Any:
            lines = data.decode().splitlines()
            if not lines[0].startswith("date,"):
                raise ProfileError([f"{name}:1: date: no such column ({lang})"])
            with write_transaction(conn):  # the import holds its own transaction
                batch = conn.execute(
                    "INSERT INTO contact_imports (name, since, until, rows, imported,"
                    ' "user") VALUES (?, ?, ?, ?, 1.0, ?) RETURNING id',
                    (name, str(since), str(until), len(lines) - 1, user)).fetchone()[0]
            self.imported.append((name, since, until, user, len(lines) - 1, tz, topics, lang))
            return SimpleNamespace(batch=batch, contacts=len(lines) - 1, replaced=0)

        return SimpleNamespace(import_csv=import_csv)

    def _projector(self) -> Any:
        return SimpleNamespace(
            connect=lambda path: connect_sync(path, autocommit=True),
            classifier_ids=lambda path: frozenset({"pension", "complaint"}))


def new_store(path: _P) -> _P:
    """A store at the current schema (the engine's own migrations)."""

    async def open_close() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(open_close())
    return path


def add_contact(db: Path | str, call_id: str, started: float, day: str, *, complaint: bool = True,
                confirmed: bool | None = None, agent: str = "1001") -> None:
    with closing(connect_sync(db)) as conn, conn:
        conn.execute("INSERT INTO contacts (call_id, started, day, channel, queue, agent, topic,"
                     " answered, complaint, complaint_confirmed) VALUES"
                     " (?, ?, ?, 'operator', 'support', ?, 'complaint', 1, ?, ?)",
                     (call_id, started, day, agent, int(complaint),
                      None if confirmed is None else int(confirmed)))
