"""A demo :class:`~bailanys.robot.backend.ServiceBackend` on SQLite (aiosqlite).

The database is created and filled with sample data on first open, so the
robot can be tried without any state system. The sample IINs all pass
:func:`bailanys.iin.validate_iin` (see :data:`SAMPLE_IINS`).

Slots: each branch has opening hours, a slot length and working weekdays;
a slot is free when no active booking holds it. Sundays are closed
everywhere.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from types import TracebackType
from typing import Final

import aiosqlite

from bailanys.robot.backend import (
    BackendError,
    Booking,
    Branch,
    CallerInfo,
    Certificate,
    CertificateKind,
    DocumentState,
    DocumentStatus,
    Request,
    RequestStatus,
    SlotTakenError,
)

#: Sample IINs (all valid): what each one has in the demo data.
SAMPLE_IINS: Final = {
    "850315410002": "passport READY at AST-1; two open requests",
    "920723410006": "ID card IN_PROGRESS; one open request",
    "771102310003": "no document; one overdue request",
    "010630510007": "passport REJECTED; no requests",
    "551201310006": "ID card ISSUED; no requests",
    # No two equal digits side by side: SIPp's recorded RFC 2833 pcaps replay
    # one timestamp, so a repeated key would read as a retransmission.
    "850315401013": "ID card READY at ALA-1; no requests (keyed by SIPp in tests)",
}
#: Where certificate links point in the demo.
DEMO_LINK_BASE: Final = "https://egov.example.kz/cert/"
#: Days a demo certificate stays valid.
CERT_VALID_DAYS: Final = 30

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS branches (
    id TEXT PRIMARY KEY, city TEXT, name_kk TEXT, name_ru TEXT, address TEXT,
    open_min INTEGER, close_min INTEGER, slot_min INTEGER, weekdays TEXT);
CREATE TABLE IF NOT EXISTS documents (
    iin TEXT PRIMARY KEY, state TEXT, service_code TEXT, branch_id TEXT, ready_on TEXT);
CREATE TABLE IF NOT EXISTS bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, iin TEXT, branch_id TEXT, day TEXT,
    time TEXT, active INTEGER DEFAULT 1);
CREATE UNIQUE INDEX IF NOT EXISTS bookings_slot ON bookings(branch_id, day, time)
    WHERE active = 1;
CREATE TABLE IF NOT EXISTS certificates (
    token TEXT PRIMARY KEY, iin TEXT, kind TEXT, issued_on TEXT, valid_until TEXT);
CREATE TABLE IF NOT EXISTS services (
    code TEXT, lang TEXT, text TEXT, PRIMARY KEY (code, lang));
CREATE TABLE IF NOT EXISTS people (
    iin TEXT PRIMARY KEY, region TEXT, social_status TEXT);
CREATE TABLE IF NOT EXISTS requests (
    number TEXT PRIMARY KEY, iin TEXT, topic TEXT, status TEXT,
    registered_on TEXT, due_on TEXT);
"""

#: Region and social status of the sample IINs' holders (issue 17: the
#: back end's answer the reports' region and social portrait read).
_PEOPLE: Final = [
    ("850315410002", "astana", "employee"),
    ("920723410006", "almaty_city", "self_employed"),
    ("771102310003", "shymkent", "unemployed"),
    ("010630510007", "karaganda", "student"),
    ("551201310006", "pavlodar", "pensioner"),
    ("850315401013", "almaty_city", "large_family"),
]

# weekdays: ISO numbers (1 = Monday) the branch works.
_BRANCHES: Final = [
    ("AST-1", "Astana", "Астана қаласы, №1 ХҚКО", "ЦОН №1 города Астаны",
     "Astana, Mangilik El 55", 9 * 60, 18 * 60, 30, "123456"),
    ("ALA-1", "Almaty", "Алматы қаласы, Алмалы ауданының ХҚКО", "ЦОН Алмалинского района Алматы",
     "Almaty, Abylai Khan 1", 9 * 60, 18 * 60, 30, "12345"),
    ("SHY-1", "Shymkent", "Шымкент қаласы, №1 ХҚКО", "ЦОН №1 города Шымкента",
     "Shymkent, Tauke Khan 10", 9 * 60, 13 * 60, 60, "12345"),
]

_SERVICES: Final = [
    ("passport", "kk", "Төлқұжат: жеке куәлік, 4 фото 3,5×4,5, мемлекеттік баж түбіртегі."),
    ("passport", "ru", "Паспорт: удостоверение личности, 4 фото 3,5×4,5, квитанция госпошлины."),
    ("id_card", "kk", "Жеке куәлік: ескі құжат, 4 фото, мемлекеттік баж түбіртегі."),
    ("id_card", "ru", "Удостоверение личности: прежний документ, 4 фото, квитанция госпошлины."),
    ("eds", "kk", "ЭЦҚ: жеке куәлік; eGov.kz арқылы онлайн алуға болады."),
    ("eds", "ru", "ЭЦП: удостоверение личности; можно получить онлайн на eGov.kz."),
    ("birth_allowance", "kk", "Туу жәрдемақысы: жеке куәлік, баланың туу туралы куәлігі, шот."),
    ("birth_allowance", "ru", "Пособие на рождение: удостоверение,"
     " свидетельство о рождении, счёт."),
    ("pension", "kk", "Зейнетақы: жеке куәлік, еңбек кітапшасы, банктік шот."),
    ("pension", "ru", "Пенсия: удостоверение личности, трудовая книжка, банковский счёт."),
]


def _sample_rows(today: date) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    d = today.isoformat
    docs: list[tuple[object, ...]] = [
        ("850315410002", "ready", "passport", "AST-1", (today - timedelta(days=2)).isoformat()),
        ("920723410006", "in_progress", "id_card", None, (today + timedelta(days=5)).isoformat()),
        ("010630510007", "rejected", "passport", None, None),
        ("551201310006", "issued", "id_card", "ALA-1", (today - timedelta(days=40)).isoformat()),
        ("850315401013", "ready", "id_card", "ALA-1", (today - timedelta(days=1)).isoformat()),
    ]
    reqs: list[tuple[object, ...]] = [
        ("20240001234", "850315410002", "pension", "in_progress", d(),
         (today + timedelta(days=10)).isoformat()),
        ("20240005678", "850315410002", "housing", "registered", d(),
         (today + timedelta(days=15)).isoformat()),
        ("20240009012", "920723410006", "id_card", "in_progress",
         (today - timedelta(days=3)).isoformat(), (today + timedelta(days=2)).isoformat()),
        ("20230004321", "771102310003", "allowance", "overdue",
         (today - timedelta(days=40)).isoformat(), (today - timedelta(days=10)).isoformat()),
    ]
    return docs, reqs


class SqliteDemoBackend:
    """Sample data; ``async with SqliteDemoBackend(path) as b`` or :meth:`open` / :meth:`close`."""

    def __init__(self, path: str, *, today: date | None = None,
                 link_base: str = DEMO_LINK_BASE) -> None:
        self.path = path
        self.link_base = link_base
        self._today = today  # sample dates are relative to it (default: date.today() at open)
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self.path)
        await self._db.executescript(_SCHEMA)
        async with self._db.execute("SELECT COUNT(*) FROM branches") as cur:
            row = await cur.fetchone()
        if row is None or row[0] == 0:
            await self._seed()
        async with self._db.execute("SELECT COUNT(*) FROM people") as cur:
            row = await cur.fetchone()
        if row is None or row[0] == 0:  # also a demo database made before issue 17
            await self._db.executemany("INSERT INTO people VALUES (?,?,?)", _PEOPLE)
        await self._db.commit()

    async def _seed(self) -> None:
        db = self._conn
        docs, reqs = _sample_rows(self._today or date.today())
        await db.executemany("INSERT INTO branches VALUES (?,?,?,?,?,?,?,?,?)", _BRANCHES)
        await db.executemany("INSERT INTO documents VALUES (?,?,?,?,?)", docs)
        await db.executemany("INSERT INTO services VALUES (?,?,?)", _SERVICES)
        await db.executemany("INSERT INTO requests VALUES (?,?,?,?,?,?)", reqs)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def __aenter__(self) -> SqliteDemoBackend:
        await self.open()
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise BackendError("the demo backend is not open")
        return self._db

    async def _all(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        try:
            async with self._conn.execute(sql, args) as cur:
                return [tuple(r) for r in await cur.fetchall()]
        except aiosqlite.Error as exc:
            raise BackendError(f"demo database: {type(exc).__name__}") from exc

    # ------------------------------------------------------------ ServiceBackend

    async def document_status(self, iin: str) -> DocumentStatus | None:
        rows = await self._all(
            "SELECT state, service_code, branch_id, ready_on FROM documents WHERE iin = ?", iin)
        if not rows:
            return None
        state, code, branch, ready = rows[0]
        return DocumentStatus(DocumentState(str(state)), str(code),
                              str(branch) if branch else None,
                              date.fromisoformat(str(ready)) if ready else None)

    async def branches(self) -> list[Branch]:
        rows = await self._all(
            "SELECT id, city, name_kk, name_ru, address FROM branches ORDER BY rowid")
        return [Branch(*(str(v) for v in r)) for r in rows]

    async def free_slots(self, branch_id: str, day: date) -> list[time]:
        rows = await self._all(
            "SELECT open_min, close_min, slot_min, weekdays FROM branches WHERE id = ?", branch_id)
        if not rows:
            raise BackendError("unknown branch")
        open_min, close_min, step, weekdays = rows[0]
        if str(day.isoweekday()) not in str(weekdays):
            return []
        taken = {str(r[0]) for r in await self._all(
            "SELECT time FROM bookings WHERE branch_id = ? AND day = ? AND active = 1",
            branch_id, day.isoformat())}
        out = []
        for m in range(int(str(open_min)), int(str(close_min)), int(str(step))):
            t = time(m // 60, m % 60)
            if t.isoformat("minutes") not in taken:
                out.append(t)
        return out

    async def book(self, iin: str, branch_id: str, day: date, time: time) -> Booking:
        if time not in await self.free_slots(branch_id, day):
            raise SlotTakenError()
        try:
            cur = await self._conn.execute(
                "INSERT INTO bookings (iin, branch_id, day, time) VALUES (?,?,?,?)",
                (iin, branch_id, day.isoformat(), time.isoformat("minutes")))
            await self._conn.commit()
        except aiosqlite.IntegrityError as exc:
            raise SlotTakenError() from exc
        return Booking(str(cur.lastrowid), branch_id, day, time)

    async def cancel(self, booking_id: str, iin: str) -> bool:
        if not booking_id.isdigit():
            return False
        cur = await self._conn.execute(
            "UPDATE bookings SET active = 0 WHERE id = ? AND iin = ? AND active = 1",
            (int(booking_id), iin))
        await self._conn.commit()
        return cur.rowcount == 1

    async def issue_certificate(self, iin: str, kind: CertificateKind) -> Certificate:
        token = secrets.token_urlsafe(16)
        today = self._today or datetime.now().date()
        until = today + timedelta(days=CERT_VALID_DAYS)
        await self._conn.execute(
            "INSERT INTO certificates VALUES (?,?,?,?,?)",
            (token, iin, kind.value, today.isoformat(), until.isoformat()))
        await self._conn.commit()
        return Certificate(kind, self.link_base + token, until)

    async def required_documents(self, service_code: str, lang: str) -> str:
        rows = await self._all(
            "SELECT text FROM services WHERE code = ? AND lang = ?", service_code, lang)
        if not rows:
            raise BackendError("unknown service code or language")
        return str(rows[0][0])

    async def open_requests(self, iin: str, phone: str = "") -> list[Request]:
        rows = await self._all(
            "SELECT number, topic, status, registered_on, due_on FROM requests "
            "WHERE iin = ? AND status != 'answered' ORDER BY registered_on, number", iin)
        return [Request(str(n), str(t), RequestStatus(str(s)), date.fromisoformat(str(r)),
                        date.fromisoformat(str(d)) if d else None)
                for n, t, s, r, d in rows]

    async def caller_info(self, iin: str) -> CallerInfo | None:
        rows = await self._all("SELECT region, social_status FROM people WHERE iin = ?", iin)
        if not rows:
            return None
        region, status = rows[0]
        return CallerInfo(str(region) if region else None, str(status) if status else None)
