"""The demo SQLite backend and the HTTP backend against a local server."""

from __future__ import annotations

import json
import threading
import time as _time
from collections.abc import Iterator
from datetime import date, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bailanys.iin import validate_iin
from bailanys.robot.backend import (
    BackendError,
    BackendTimeout,
    CallerInfo,
    CertificateKind,
    DocumentState,
    RequestStatus,
    SlotTakenError,
)
from bailanys.robot.backend_http import HttpBackend
from bailanys.robot.demo_backend import SAMPLE_IINS, SqliteDemoBackend
from bailanys.robot.service_io import (
    CallBackend,
    Digits,
    SmsResult,
)
from bailanys.robot.services import (
    Service,
    ServiceMachine,
    perform,
)

TODAY = date(2025, 3, 13)  # Thursday
FRIDAY, SUNDAY = date(2025, 3, 14), date(2025, 3, 16)


def test_sample_iins_are_valid() -> None:
    for iin in SAMPLE_IINS:
        validate_iin(iin, today=TODAY)


# ------------------------------------------------------------------ demo backend


async def test_demo_sample_data(tmp_path: Path) -> None:
    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        doc = await b.document_status("850315410002")
        assert doc is not None and doc.state is DocumentState.READY and doc.branch_id == "AST-1"
        assert await b.document_status("880808310001") is None
        cities = {br.city for br in await b.branches()}
        assert cities == {"Astana", "Almaty", "Shymkent"}
        reqs = await b.open_requests("850315410002")
        assert len(reqs) == 2 and reqs[0].status is RequestStatus.IN_PROGRESS
        assert await b.open_requests("010630510007") == []
        assert "фото" in await b.required_documents("passport", "ru")
        with pytest.raises(BackendError):
            await b.required_documents("nope", "ru")
        cert = await b.issue_certificate("850315410002", CertificateKind.PSYCHIATRIC)
        assert cert.link.startswith("https://")
    # reopening keeps the data and does not seed twice
    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        assert len(await b.branches()) == 3


async def test_demo_book_then_cancel(tmp_path: Path) -> None:
    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        slots = await b.free_slots("AST-1", FRIDAY)
        assert slots[0] == time(9, 0) and len(slots) == 18
        assert await b.free_slots("AST-1", SUNDAY) == []
        booking = await b.book("850315410002", "AST-1", FRIDAY, time(9, 0))
        assert booking.id.isdigit()
        assert time(9, 0) not in await b.free_slots("AST-1", FRIDAY)
        with pytest.raises(SlotTakenError):
            await b.book("920723410006", "AST-1", FRIDAY, time(9, 0))
        assert not await b.cancel(booking.id, "920723410006")  # someone else's
        assert await b.cancel(booking.id, "850315410002")
        assert not await b.cancel(booking.id, "850315410002")  # already cancelled
        assert time(9, 0) in await b.free_slots("AST-1", FRIDAY)
        with pytest.raises(BackendError):
            await b.free_slots("NOPE", FRIDAY)


async def test_machine_with_demo_backend(tmp_path: Path) -> None:
    """The document-status service end to end through ``perform``."""
    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        m = ServiceMachine(Service.DOCUMENT_STATUS, "ru", today=TODAY)
        actions = m.start(0.0) + m.handle(Digits("850315410002"), 1.0)
        while not m.done:
            calls = [a for a in actions if isinstance(a, CallBackend)]
            assert calls, actions
            actions = m.handle(await perform(calls[0], b), 2.0)
        assert m.outcome == "completed"


async def test_machine_booking_with_demo_backend(tmp_path: Path) -> None:
    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        m = ServiceMachine(Service.BOOKING, "kk", today=TODAY)
        m.start(0.0)
        m.handle(Digits("850315410002"), 1.0)
        keys = iter(["1", "3", "1", "2"])  # book, Shymkent, Friday, second slot
        actions = m.handle(Digits(next(keys)), 2.0)
        while not m.done:
            calls = [a for a in actions if isinstance(a, CallBackend)]
            if calls:
                actions = m.handle(await perform(calls[0], b), 3.0)
            elif m.step.value == "sms":
                actions = m.handle(SmsResult(True), 4.0)
            else:
                actions = m.handle(Digits(next(keys)), 4.0)
        assert m.outcome == "completed"
        assert time(10, 0) not in await b.free_slots("SHY-1", FRIDAY)


# ------------------------------------------------------------------ HTTP backend


class _Handler(BaseHTTPRequestHandler):
    routes: dict[tuple[str, str], tuple[int, Any]] = {}
    seen: list[tuple[str, str, dict[str, str], Any]] = []
    delay = 0.0

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((method, self.path, dict(self.headers), body))
        if self.delay:
            _time.sleep(self.delay)
        status, payload = self.routes.get((method, self.path), (404, {"error": "not found"}))
        raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {"routes": {}, "seen": [], "delay": 0.0})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/api", handler
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


async def test_http_all_methods(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    iin = "850315410002"
    h.routes.update({
        ("GET", f"/api/documents/{iin}"): (200, {"state": "ready", "service_code": "passport",
                                                 "branch_id": "AST-1", "ready_on": "2025-03-11"}),
        ("GET", "/api/branches"): (200, [{"id": "AST-1", "city": "Astana", "name_kk": "k",
                                          "name_ru": "r", "address": "a"}]),
        ("GET", "/api/branches/AST-1/slots?day=2025-03-14"): (200, {"slots": ["09:00", "09:30"]}),
        ("POST", "/api/bookings"): (201, {"id": "42", "branch_id": "AST-1", "day": "2025-03-14",
                                          "time": "09:30"}),
        ("POST", "/api/bookings/42/cancel"): (200, {"cancelled": True}),
        ("POST", "/api/certificates"): (201, {"kind": "psychiatric", "link": "https://x/y"}),
        ("GET", "/api/services/passport/documents?lang=kk"): (200, {"text": "тізім"}),
        ("GET", f"/api/citizens/{iin}/requests"): (200, [
            {"number": "1", "topic": "t", "status": "overdue", "registered_on": "2025-01-01",
             "due_on": "2025-02-01"}]),
    })
    b = HttpBackend(base + "/", "secret-token", timeout=2.0)
    doc = await b.document_status(iin)
    assert doc is not None and doc.ready_on == date(2025, 3, 11)
    assert await b.document_status("880808310001") is None  # 404
    assert (await b.branches())[0].id == "AST-1"
    assert await b.free_slots("AST-1", FRIDAY) == [time(9, 0), time(9, 30)]
    booking = await b.book(iin, "AST-1", FRIDAY, time(9, 30))
    assert booking.id == "42" and booking.time == time(9, 30)
    assert await b.cancel("42", iin) is True
    assert await b.cancel("43", iin) is False  # 404
    cert = await b.issue_certificate(iin, CertificateKind.PSYCHIATRIC)
    assert cert.link == "https://x/y" and cert.valid_until is None
    assert await b.required_documents("passport", "kk") == "тізім"
    (req,) = await b.open_requests(iin)
    assert req.status is RequestStatus.OVERDUE
    post = [s for s in h.seen if s[1] == "/api/bookings"][0]
    assert post[3] == {"iin": iin, "branch_id": "AST-1", "day": "2025-03-14", "time": "09:30"}
    assert all(s[2]["Authorization"] == "Bearer secret-token" for s in h.seen)


async def test_http_500_is_retryable_error(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    h.routes[("GET", "/api/branches")] = (500, {"error": "boom"})
    with pytest.raises(BackendError) as info:
        await HttpBackend(base, "t").branches()
    assert info.value.retryable and "HTTP 500" in str(info.value)


async def test_http_409_slot_taken(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    h.routes[("POST", "/api/bookings")] = (409, {})
    with pytest.raises(SlotTakenError):
        await HttpBackend(base, "t").book("850315410002", "AST-1", FRIDAY, time(9, 0))


async def test_http_timeout(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    h.delay = 0.5
    h.routes[("GET", "/api/branches")] = (200, [])
    with pytest.raises(BackendTimeout):
        await HttpBackend(base, "t", timeout=0.1).branches()


async def test_http_bad_json_and_shape(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    h.routes[("GET", "/api/branches")] = (200, b"not json")
    h.routes[("GET", "/api/citizens/850315410002/requests")] = (200, [{"number": "1"}])
    b = HttpBackend(base, "t")
    with pytest.raises(BackendError, match="not JSON"):
        await b.branches()
    with pytest.raises(BackendError, match="unexpected answer") as info:
        await b.open_requests("850315410002")
    assert "850315410002" not in str(info.value)


async def test_http_connection_refused() -> None:
    with pytest.raises(BackendError) as info:
        await HttpBackend("http://127.0.0.1:9", "t", timeout=1.0).branches()
    assert info.value.retryable


# ------------------------------------------------------------------ issue 17: caller info


async def test_demo_caller_info_for_every_sample_iin(tmp_path: Path) -> None:
    from bailanys.reports.portrait import social_status_of
    from bailanys.reports.regions import is_region

    async with SqliteDemoBackend(str(tmp_path / "demo.db"), today=TODAY) as b:
        for iin in SAMPLE_IINS:
            info = await b.caller_info(iin)
            assert info is not None and is_region(info.region), iin
            assert social_status_of(info.social_status) is not None, iin
        got = await b.caller_info("850315410002")
        assert got == CallerInfo("astana", "employee")
        assert await b.caller_info("880808310001") is None


async def test_demo_database_made_before_issue_17_gets_its_people(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "demo.db"
    async with SqliteDemoBackend(str(path), today=TODAY):
        pass
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM people")
    async with SqliteDemoBackend(str(path), today=TODAY) as b:
        assert await b.caller_info("551201310006") == CallerInfo("pavlodar", "pensioner")


async def test_http_caller_info(server: tuple[str, type[_Handler]]) -> None:
    base, h = server
    iin = "850315410002"
    h.routes[("GET", f"/api/people/{iin}")] = (200, {"region": "astana",
                                                     "social_status": "pensioner"})
    h.routes[("GET", "/api/people/551201310006")] = (200, {"region": 5})
    h.routes[("GET", "/api/people/771102310003")] = (200, ["not", "an", "object"])
    b = HttpBackend(base, "t", timeout=2.0)
    assert await b.caller_info(iin) == CallerInfo("astana", "pensioner")
    assert await b.caller_info("551201310006") == CallerInfo(None, None)  # wrong types dropped
    assert await b.caller_info("880808310001") is None  # 404
    with pytest.raises(BackendError) as info:
        await b.caller_info("771102310003")
    assert "771102310003" not in str(info.value)
