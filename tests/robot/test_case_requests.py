"""The robot's "my open requests" read from the real requests' store
(issue 19): the IIN's salted hash, open requests only, status and deadline
said in kk and ru, only those made from the number the SMS code went to;
every other service still goes to the wrapped back end."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen, iin_hash
from bailanys.cases.settings import load_or_create_salt
from bailanys.cases.store import CaseStore, connect
from bailanys.reports import topics as tp
from bailanys.robot.backend import BackendError, Branch, RequestStatus
from bailanys.robot.case_requests import CaseRequests, read_open, to_request
from bailanys.robot.otp import OtpStore
from bailanys.robot.service_io import BackendResult, CallBackend, Digits, End, Say, SmsResult
from bailanys.robot.services import Service, ServiceMachine
from bailanys.store.db import Database
from bailanys.store.migrations import MIGRATIONS, migrate
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
CAL = load_dir(ROOT / "configs" / "calendar")
TOPICS = tp.load(ROOT / "configs" / "topics.yaml").ids
CFG = dl.load(ROOT / "configs" / "cases.yaml", TOPICS)
IIN = "850315410002"
PHONE = "77011234567"
OTHER_IIN = "991231400002"
NOW = datetime(2026, 3, 20, 10, tzinfo=ALMATY)
BRANCH = Branch("AST-1", "Astana", "Астана №1 ХҚКО", "ЦОН №1 Астаны", "addr")


class Inner:
    """The wrapped back end: only ``branches`` is asked of it here."""

    async def branches(self) -> list[Branch]:
        return [BRANCH]

    async def open_requests(self, iin: str, phone: str = "") -> list[object]:
        raise AssertionError("the store answers this one")


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    try:
        await migrate(db, MIGRATIONS)
    finally:
        await db.close()


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, bytes, dict[str, str]]:
    """Four requests of IIN (one answered, one escalated), one of the same
    IIN from another number, and one of another IIN."""
    path = tmp_path / "b.db"
    asyncio.run(_migrate(path))
    salt = load_or_create_salt(tmp_path / "cases.salt")
    mine = Citizen(PHONE, iin_hash(IIN, salt), "kk")
    conn = connect(path)
    store = CaseStore(conn, CFG, CAL, TOPICS)
    made = {}
    for topic in ("passport", "pension", "housing", "tax"):
        made[topic] = store.create(citizen=mine, topic=topic, description=topic, user="op1",
                                   now=NOW).case.number
    later = NOW + timedelta(days=1)
    cid = store.by_number(made["pension"]).id  # type: ignore[union-attr]
    store.set_status(cid, Status.IN_PROGRESS, user="dep", now=later)
    cid = store.by_number(made["housing"]).id  # type: ignore[union-attr]
    store.set_status(cid, Status.ESCALATED, user="system", now=later)
    cid = store.by_number(made["tax"]).id  # type: ignore[union-attr]
    store.answer_question(cid, 1, user="dep", now=later)
    store.set_status(cid, Status.ANSWERED, user="dep", now=later)
    store.create(citizen=Citizen("77770000000", iin_hash(OTHER_IIN, salt), "ru"),
                 topic="passport", description="x", user="op1", now=NOW)
    store.create(citizen=Citizen("77475550000", iin_hash(IIN, salt), "ru"),
                 topic="egov", description="from a relative's phone", user="op1", now=NOW)
    conn.close()
    return path, salt, made


def _opener(path: Path) -> CaseStore:
    return CaseStore(connect(path), CFG, CAL, TOPICS)


def test_read_open_gives_the_iins_open_requests_oldest_first(
        world: tuple[Path, bytes, dict[str, str]]) -> None:
    path, salt, made = world
    reqs = read_open(lambda: _opener(path), salt, IIN, PHONE)
    assert [(r.number, r.status) for r in reqs] == [
        (made["passport"].replace("-", ""), RequestStatus.REGISTERED),
        (made["pension"].replace("-", ""), RequestStatus.IN_PROGRESS),
        (made["housing"].replace("-", ""), RequestStatus.ESCALATED)]
    assert reqs[0].due_on == date(2026, 4, 15) and reqs[0].registered_on == NOW.date()
    assert read_open(lambda: _opener(path), salt, "123", PHONE) == []  # not an IIN
    assert read_open(lambda: _opener(path), b"another site's salt!", IIN, PHONE) == []
    assert read_open(lambda: _opener(path), salt, IIN, "") == []  # no number, no requests
    (other,) = read_open(lambda: _opener(path), salt, IIN, "77475550000")
    assert other.topic == "egov"  # the IIN's request from that number only


def test_a_broken_store_is_a_backend_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    with pytest.raises(BackendError):
        read_open(lambda: _opener(empty), b"0123456789abcdef", IIN, PHONE)  # schema v0


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_robot_says_status_and_deadline_from_the_store(
        world: tuple[Path, bytes, dict[str, str]], lang: str) -> None:
    path, salt, made = world
    backend = CaseRequests(Inner(), lambda: _opener(path), salt)  # type: ignore[arg-type]
    assert asyncio.run(backend.branches()) == [BRANCH]
    m = ServiceMachine(Service.OPEN_REQUESTS, lang, today=date(2026, 3, 21), phone=PHONE,
                       otp=OtpStore(generate=lambda n: "246810"))
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    m.handle(SmsResult(True), 2.0)
    (call,) = [a for a in m.handle(Digits("246810"), 3.0) if isinstance(a, CallBackend)]
    reqs = asyncio.run(backend.open_requests(*call.args))  # type: ignore[arg-type]
    out = m.handle(BackendResult(reqs), 4.0)
    said = " ".join(a.text for a in out if isinstance(a, Say))
    if lang == "ru":
        assert "У вас три открытых обращения." in said
        assert "зарегистрировано" in said and "на рассмотрении" in said
        assert "на контроле у руководителя" in said and "пятнадцатое апреля" in said
    else:
        assert "Сізде үш ашық өтініш бар." in said
        assert "тіркелді" in said and "қаралуда" in said and "басшының бақылауында" in said
    assert said.count("Срок ответа" if lang == "ru" else "Жауап беру мерзімі") == 2
    assert IIN not in said and not any(ch.isdigit() for ch in said)
    assert [a for a in out if isinstance(a, End)] == [End("completed")]


def test_to_request_keeps_digits_only(world: tuple[Path, bytes, dict[str, str]]) -> None:
    path, _salt, made = world
    store = _opener(path)
    try:
        case = store.by_number(made["housing"])
        assert case is not None
        req = to_request(case)
    finally:
        store.conn.close()
    assert req.number.isdigit() and req.status is RequestStatus.ESCALATED
