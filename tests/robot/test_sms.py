"""The SMS outbox and the Kannel client against a fake smsbox on loopback."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bailanys.errors import InputError
from bailanys.events import encode
from bailanys.robot.kannel import (
    HttpKannel,
    KannelConfig,
    KannelError,
    check_accepted,
    sendsms_target,
)
from bailanys.robot.sms import (
    DlrServer,
    SmsConfig,
    SmsEvent,
    SmsOutbox,
    SmsState,
    backoff_s,
    dlr_event,
    enqueue_on,
    mask_number,
    next_state,
)
from bailanys.store.db import Database
from bailanys.store.migrations import migrate

KAZ = "Сіздің анықтамаңыз дайын: https://egov.kz/x — қ ә ғ ү ұ ө і ң һ"
FAST = SmsConfig(max_attempts=4, backoff_base_s=0.02, backoff_cap_s=0.05)


# -- pure -------------------------------------------------------------------


def test_sendsms_target_is_ucs2_utf8_with_dlr() -> None:
    cfg = KannelConfig(username="u", password="p&w", dlr_url="http://127.0.0.1:9/dlr")
    target = sendsms_target(cfg, "+77011234567", KAZ, 42)
    url = urlsplit(target)
    assert url.path == "/cgi-bin/sendsms"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q == {
        "username": "u", "password": "p&w", "from": "1414", "to": "+77011234567",
        "text": KAZ, "coding": "2", "charset": "UTF-8", "dlr-mask": "31",
        "dlr-url": "http://127.0.0.1:9/dlr?id=42&status=%d&kid=%F",
    }  # fmt: skip
    assert target.isascii()


def test_sendsms_target_without_dlr_url() -> None:
    q = parse_qs(urlsplit(sendsms_target(KannelConfig(), "1", "x", 1)).query)
    assert "dlr-url" not in q and "dlr-mask" not in q


def test_check_accepted() -> None:
    assert check_accepted(202, "0: Accepted for delivery") == "0: Accepted for delivery"
    with pytest.raises(KannelError) as info:
        check_accepted(403, "Authorization failed")
    assert info.value.status == 403


def test_transitions() -> None:
    assert next_state(SmsState.QUEUED, SmsEvent.ACCEPTED) is SmsState.SENT
    assert next_state(SmsState.SENT, SmsEvent.DLR_DELIVERED) is SmsState.DELIVERED
    assert next_state(SmsState.SENT, SmsEvent.DLR_FAILED) is SmsState.FAILED
    assert next_state(SmsState.QUEUED, SmsEvent.DLR_DELIVERED) is SmsState.DELIVERED
    for final in (SmsState.DELIVERED, SmsState.FAILED):
        for event in SmsEvent:
            assert next_state(final, event) is None
    assert next_state(SmsState.SENT, SmsEvent.ACCEPTED) is None


@pytest.mark.parametrize(
    ("status", "event"),
    [(1, SmsEvent.DLR_DELIVERED), (2, SmsEvent.DLR_FAILED), (16, SmsEvent.DLR_FAILED),
     (4, None), (8, None), (0, None), (9, SmsEvent.DLR_DELIVERED)],
)  # fmt: skip
def test_dlr_event(status: int, event: SmsEvent | None) -> None:
    assert dlr_event(status) is event


def test_backoff_doubles_to_cap() -> None:
    assert [backoff_s(n, 2, 300) for n in range(0, 11)] == [
        0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]  # fmt: skip
    assert backoff_s(10_000, 2, 300) == 300


def test_mask_number() -> None:
    assert mask_number("+7 701 123 45 67") == "*******4567"
    assert mask_number("1414") == "****"


# -- fake smsbox ------------------------------------------------------------


class FakeSmsbox:
    """An HTTP server answering sendsms like smsbox; ``fail`` first N requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.answer: Callable[[int], tuple[str, str]] = lambda n: (
            "202 Accepted", "0: Accepted for delivery")  # fmt: skip
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ")[1].decode("ascii")
        q = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        self.requests.append(q)
        status, body = self.answer(len(self.requests))
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/html\r\n\r\n{body}".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    d = await Database.open(tmp_path / "sms.db")
    await migrate(d)
    yield d
    await d.close()


@pytest.fixture
async def smsbox() -> AsyncIterator[FakeSmsbox]:
    box = FakeSmsbox()
    await box.start()
    yield box
    await box.stop()


async def until(cond: Callable[[], Any], within: float = 5.0) -> None:
    """Poll ``cond`` until true; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await cond():
                return
            await asyncio.sleep(0.01)


def outbox_for(db: Database, port: int, events: list[tuple[str, dict[str, Any]]]) -> SmsOutbox:
    cfg = KannelConfig(port=port, username="u", password="p", dlr_url="http://127.0.0.1:1/dlr",
                       timeout_s=2)  # fmt: skip
    return SmsOutbox(db, HttpKannel(cfg), config=FAST, emit=lambda e: events.append(encode(e)[::2]))


async def state_of(outbox: SmsOutbox, msg_id: int) -> SmsState | None:
    rec = await outbox.get(msg_id)
    return rec.state if rec else None


async def test_send_in_order_then_dlr(db: Database, smsbox: FakeSmsbox) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = outbox_for(db, smsbox.port, events)
    ids = [await outbox.enqueue("+77011234567", f"{KAZ} {n}") for n in range(3)]
    assert [await state_of(outbox, i) for i in ids] == [SmsState.QUEUED] * 3
    outbox.start()
    try:

        async def all_sent() -> bool:
            return all([await state_of(outbox, i) is SmsState.SENT for i in ids])

        await until(all_sent)
    finally:
        await outbox.stop()
    assert [r["text"] for r in smsbox.requests] == [f"{KAZ} {n}" for n in range(3)]
    assert {r["coding"] for r in smsbox.requests} == {"2"}
    assert smsbox.requests[0]["dlr-url"] == f"http://127.0.0.1:1/dlr?id={ids[0]}&status=%d&kid=%F"
    assert await outbox.handle_dlr({"id": str(ids[0]), "status": "8", "kid": "k-1"}) is (
        SmsState.SENT)  # fmt: skip
    assert await outbox.handle_dlr({"id": str(ids[0]), "status": "1", "kid": "k-1"}) is (
        SmsState.DELIVERED)  # fmt: skip
    assert await outbox.handle_dlr({"id": str(ids[1]), "status": "16"}) is SmsState.FAILED
    assert await outbox.handle_dlr({"id": "999", "status": "1"}) is None
    rec = await outbox.get(ids[0])
    assert rec is not None and rec.kannel_id == "k-1" and rec.attempts == 1
    types = [t for t, _ in events]
    assert types.count("sms.queued") == 3 and types.count("sms.sent") == 3
    assert types[-2:] == ["sms.delivered", "sms.failed"]
    for _, fields in events:
        assert fields["to"] == "*******4567"
        assert all(KAZ not in str(v) and "7011234567" not in str(v) for v in fields.values())


async def test_retries_on_errors_then_sends(db: Database, smsbox: FakeSmsbox) -> None:
    smsbox.answer = lambda n: (
        ("503 Service Unavailable", "down") if n < 3 else ("202 Accepted", "0: Accepted"))
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = outbox_for(db, smsbox.port, events)
    first = await outbox.enqueue("87011234567", "a")
    second = await outbox.enqueue("87011234567", "b")
    outbox.start()
    try:

        async def done() -> bool:
            return await state_of(outbox, second) is SmsState.SENT

        await until(done)
    finally:
        await outbox.stop()
    assert [r["text"] for r in smsbox.requests] == ["a", "a", "a", "b"]
    rec = await outbox.get(first)
    assert rec is not None and rec.attempts == 3 and rec.state is SmsState.SENT
    assert rec.last_error is not None and "503" in rec.last_error


async def test_gives_up_after_max_attempts(db: Database, smsbox: FakeSmsbox) -> None:
    smsbox.answer = lambda n: ("403 Forbidden", "Authorization failed for sendsms")
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = outbox_for(db, smsbox.port, events)
    msg = await outbox.enqueue("87011234567", "a")
    outbox.start()
    try:

        async def failed() -> bool:
            return await state_of(outbox, msg) is SmsState.FAILED

        await until(failed)
    finally:
        await outbox.stop()
    rec = await outbox.get(msg)
    assert rec is not None and rec.attempts == FAST.max_attempts == len(smsbox.requests)
    assert rec.last_error is not None and "Authorization failed" in rec.last_error
    assert events[-1] == ("sms.failed", {"sms_id": msg, "to": "*******4567", "attempts": 4})


async def test_a_message_kannel_refuses_fails_at_once(db: Database, smsbox: FakeSmsbox) -> None:
    """400 (the message itself is refused): no retry; the next message still goes."""
    smsbox.answer = lambda n: (
        ("400 Bad Request", "Number(s) has/have been denied by white- and/or black-lists.")
        if n == 1 else ("202 Accepted", "0: Accepted"))
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = outbox_for(db, smsbox.port, events)
    bad = await outbox.enqueue("87011234567", "a")
    good = await outbox.enqueue("87011234568", "b")
    outbox.start()
    try:

        async def done() -> bool:
            return await state_of(outbox, good) is SmsState.SENT

        await until(done)
    finally:
        await outbox.stop()
    rec = await outbox.get(bad)
    assert rec is not None and rec.state is SmsState.FAILED and rec.attempts == 1
    assert rec.last_error is not None and "denied" in rec.last_error
    assert len(smsbox.requests) == 2


async def test_kannel_down_keeps_queued_then_sends(db: Database) -> None:
    box = FakeSmsbox()
    await box.start()
    port = box.port
    await box.stop()  # nothing listens there now: connection refused
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = SmsOutbox(
        db, HttpKannel(KannelConfig(port=port, timeout_s=1)),
        config=SmsConfig(max_attempts=1000, backoff_base_s=0.02, backoff_cap_s=0.05),
        emit=lambda e: events.append(encode(e)[::2]),
    )  # fmt: skip
    msg = await outbox.enqueue("87011234567", KAZ)
    outbox.start()
    try:

        async def tried() -> bool:
            rec = await outbox.get(msg)
            return rec is not None and rec.attempts >= 3

        await until(tried)
        assert await state_of(outbox, msg) is SmsState.QUEUED
        await box.start(port)

        async def sent() -> bool:
            return await state_of(outbox, msg) is SmsState.SENT

        await until(sent)
    finally:
        await outbox.stop()
        await box.stop()
    assert [r["text"] for r in box.requests] == [KAZ]


@pytest.mark.parametrize(
    ("raw", "status", "body"),
    [
        (b"HTTP/1.1 202 Accepted\r\nContent-Type: text/html\r\n\r\n0: Accepted for delivery",
         202, "0: Accepted for delivery"),
        (b"HTTP/1.0 403 Forbidden\r\n\r\nAuthorization failed for sendsms", 403,
         "Authorization failed for sendsms"),
        (b"HTTP/1.0 200 OK\n\nSent.", 200, "Sent."),
        (b"HTTP/1.0 503 X\r\n\r\n", 503, ""),
    ],
)  # fmt: skip
async def test_smsbox_answers_are_read(raw: bytes, status: int, body: str) -> None:
    """What smsbox says reaches the outbox: the text when accepted, the status when not."""
    async with raw_server(raw) as port:
        kannel = HttpKannel(KannelConfig(port=port, timeout_s=2))
        if 200 <= status < 300:
            assert await kannel.send("1", "x", 1) == body
        else:
            with pytest.raises(KannelError) as info:
                await kannel.send("1", "x", 1)
            assert info.value.status == status and body in str(info.value)


@pytest.mark.parametrize("raw", [b"", b"garbage\r\n\r\n", b"HTTP/1.0 abc\r\n\r\n",
                                 b"SIP/2.0 200 OK\r\n\r\n"])
async def test_an_answer_that_is_not_http_is_a_kannel_error(raw: bytes) -> None:
    async with raw_server(raw) as port:
        with pytest.raises(KannelError) as info:
            await HttpKannel(KannelConfig(port=port, timeout_s=2)).send("1", "x", 1)
    assert info.value.status is None


async def test_a_silent_smsbox_is_a_timeout() -> None:
    async with raw_server(None) as port:
        with pytest.raises(KannelError, match="no answer in 0.3 s") as info:
            await HttpKannel(KannelConfig(port=port, timeout_s=0.3)).send("1", "x", 1)
    assert info.value.status is None


@asynccontextmanager
async def raw_server(raw: bytes | None) -> AsyncIterator[int]:
    """A TCP server answering every request with ``raw`` and closing (None: never answers)."""
    handlers: list[asyncio.Event] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(finished := asyncio.Event())
        try:
            await reader.readuntil(b"\r\n\r\n")
            if raw is None:
                await reader.read()  # until the client gives up
            else:
                writer.write(raw)
                await writer.drain()
        finally:
            writer.close()
            finished.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        async with asyncio.timeout(5):
            for finished in handlers:
                await finished.wait()


async def test_enqueue_rejects_non_number(db: Database) -> None:
    outbox = SmsOutbox(db, HttpKannel(KannelConfig()))
    with pytest.raises(InputError):
        await outbox.enqueue("abc", "x")


async def test_stored_before_start_survives_restart(db: Database, smsbox: FakeSmsbox) -> None:
    first = SmsOutbox(db, HttpKannel(KannelConfig(port=smsbox.port)), config=FAST)
    msg = await first.enqueue("87011234567", "kept")
    # No sender ever ran for ``first``; a new outbox on the same table sends it.
    second = SmsOutbox(db, HttpKannel(KannelConfig(port=smsbox.port)), config=FAST)
    second.start()
    try:

        async def sent() -> bool:
            return await state_of(second, msg) is SmsState.SENT

        await until(sent)
    finally:
        await second.stop()
    assert [r["text"] for r in smsbox.requests] == ["kept"]


# -- DLR receiver -------------------------------------------------------------


async def http_get(port: int, raw: bytes) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line = data.split(b"\r\n", 1)[0].split()
    return int(status_line[1]), data.partition(b"\r\n\r\n")[2].decode()


async def test_dlr_server(db: Database) -> None:
    outbox = SmsOutbox(db, HttpKannel(KannelConfig()))
    msg = await outbox.enqueue("87011234567", "x")
    server = DlrServer("127.0.0.1", 0, outbox)
    await server.start()
    try:
        get = lambda target: http_get(  # noqa: E731
            server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())  # fmt: skip
        assert (await get(f"/dlr?id={msg}&status=8&kid=%25F"))[0] == 200
        assert await state_of(outbox, msg) is SmsState.QUEUED
        assert (await get(f"/dlr?id={msg}&status=1&kid=abc-1"))[0] == 200
        assert await state_of(outbox, msg) is SmsState.DELIVERED
        rec = await outbox.get(msg)
        assert rec is not None and rec.kannel_id == "abc-1"
        assert (await get("/dlr?id=x&status=1"))[0] == 400
        assert (await get("/dlr?status=1"))[0] == 400
        assert (await get("/other?id=1&status=1"))[0] == 404
        assert (await get("/dlr?id=12345&status=1"))[0] == 200  # unknown id: do not retry
        status, _ = await http_get(server.port, b"POST /dlr HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 405
        status, _ = await http_get(server.port, b"GET /dlr?id=1&status=1 HTTP/1.1\r\n\r\n")
        assert status == 400  # HTTP/1.1 without Host (RFC 9112 §3.2)
        status, _ = await http_get(server.port, b"garbage\r\n\r\n")
        assert status == 400
    finally:
        await server.stop()


async def test_a_row_moved_while_the_sender_is_stopped_still_gets_its_event(
        db: Database, smsbox: FakeSmsbox) -> None:
    """``stop`` may cancel the sender while its UPDATE runs: the row moves, so
    its event is written before the cancellation goes on (no state change
    without its event)."""
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = outbox_for(db, smsbox.port, events)
    msg_id = await outbox.enqueue("+77011234567", KAZ)
    record = await outbox.get(msg_id)
    assert record is not None
    move = asyncio.ensure_future(outbox._move(record, SmsState.SENT, last_error=None,
                                              attempts=1))
    await asyncio.sleep(0)  # the UPDATE is on its way to the database thread
    move.cancel()
    with pytest.raises(asyncio.CancelledError):
        await move
    assert await state_of(outbox, msg_id) is SmsState.SENT
    assert [t for t, _ in events] == ["sms.queued", "sms.sent"]


async def test_rows_another_process_queued_are_sent_by_the_poll(
        db: Database, smsbox: FakeSmsbox) -> None:
    """Issue 19: ``bailanys cases status`` queues its SMS on a plain
    connection (``enqueue_on``) while the engine's sender idles; the sender's
    poll finds the row without being woken."""
    events: list[tuple[str, dict[str, Any]]] = []
    outbox = SmsOutbox(db, HttpKannel(KannelConfig(port=smsbox.port, timeout_s=2)),
                       config=replace(FAST, poll_s=0.1),
                       emit=lambda e: events.append(encode(e)[::2]))
    outbox.start()
    try:
        await asyncio.sleep(0.05)  # the sender is idle, waiting
        conn = sqlite3.connect(db.path, isolation_level=None, timeout=5)
        try:
            msg_id, queued = enqueue_on(conn, "77011234567", KAZ, 1.0)
            with pytest.raises(InputError):
                enqueue_on(conn, "nobody", KAZ, 1.0)
        finally:
            conn.close()
        assert encode(queued)[::2] == ("sms.queued", {"sms_id": msg_id, "to": "*******4567"})

        async def sent() -> bool:
            return await state_of(outbox, msg_id) is SmsState.SENT

        await until(sent, within=3.0)
    finally:
        await outbox.stop()
    assert [r["text"] for r in smsbox.requests] == [KAZ]
    assert [t for t, _ in events] == ["sms.sent"]  # queued was the other process's to log
