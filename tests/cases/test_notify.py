"""The citizen's SMS about a request: templates, events -> texts, the real
SMS outbox store (issue 19: "SMS on creation (number, deadline), on each
status change and on the answer")."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases import templates as tpl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen, iin_hash
from bailanys.cases.notify import CaseNotifier, messages, to_tell
from bailanys.cases.store import CaseStore, connect
from bailanys.errors import InputError
from bailanys.reports import topics as tp
from bailanys.robot.sms import SmsOutbox, SmsState
from bailanys.store.db import Database
from bailanys.store.migrations import MIGRATIONS, migrate
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
CAL = load_dir(ROOT / "configs" / "calendar")
TOPICS = tp.load(ROOT / "configs" / "topics.yaml").ids
CFG = dl.load(ROOT / "configs" / "cases.yaml", TOPICS)
IIN = "991231400002"
PHONE = "77011234567"
NOW = datetime(2026, 3, 20, 10, tzinfo=ALMATY)
KAZAKH_ONLY = set("әғқңөұүһі")


# -- templates (pure) --------------------------------------------------------


def test_every_template_exists_in_both_languages_with_known_placeholders() -> None:
    assert tpl.check(tpl.TEMPLATES) == []
    for occasion, by_lang in tpl.TEMPLATES.items():
        assert set(by_lang) == {"kk", "ru"}, occasion
        assert KAZAKH_ONLY & set(by_lang["kk"].lower()), occasion  # written in Kazakh
        assert not KAZAKH_ONLY & set(by_lang["ru"].lower()), occasion
        assert "{number}" in by_lang["kk"] and "{number}" in by_lang["ru"], occasion


def test_check_finds_a_missing_language_an_unknown_placeholder_and_a_status() -> None:
    bad = {k: dict(v) for k, v in tpl.TEMPLATES.items()}
    del bad["created"]["kk"]
    bad["linked"]["ru"] = "Обращение {number} от {iin}"
    bad["closed"]["ru"] = "Обращение {number"
    del bad[Status.ESCALATED.value]
    problems = tpl.check(bad)
    assert "created: no kk text" in problems
    assert "linked/ru: unknown placeholder(s) iin" in problems
    assert any(p.startswith("closed/ru:") for p in problems)
    assert "no template for 'escalated'" in problems


def test_render_fills_the_number_and_the_date_and_refuses_nonsense() -> None:
    text = tpl.render("created", "ru", number="2026-000007", deadline=date(2026, 4, 15))
    assert "2026-000007" in text and "до 15.04.2026" in text and "1414" in text
    kk = tpl.render("created", "kk", number="2026-000007", deadline=date(2026, 4, 15))
    assert "15.04.2026 дейін" in kk
    assert "{" not in tpl.render("closed", "kk", number="1", deadline=None)
    with pytest.raises(InputError):
        tpl.render("in_progress", "ru", number="1", deadline=None)
    with pytest.raises(InputError):
        tpl.render("created", "en", number="1", deadline=date(2026, 1, 5))
    with pytest.raises(InputError):
        tpl.render("lost", "ru", number="1", deadline=date(2026, 1, 5))


# -- events -> SMS, through the real store and the real outbox table ----------


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    try:
        await migrate(db, MIGRATIONS)
    finally:
        await db.close()


class NeverSends:
    """The Kannel port; the outbox's sender is not started in these tests."""

    async def send(self, to: str, text: str, msg_id: int) -> str:
        raise AssertionError("not started")


def test_created_status_and_answer_queue_sms_in_the_citizens_language(
        tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    asyncio.run(_migrate(path))
    conn = connect(path)
    store = CaseStore(conn, CFG, CAL, TOPICS)
    who = Citizen(PHONE, iin_hash(IIN, b"a secret salt of the site"), "kk")
    created = store.create(citizen=who, topic="passport",
                           description=f"Паспорт дайын ба? ЖСН {IIN}", user="op1", now=NOW)
    case = created.case
    later = NOW + timedelta(days=1)
    work = store.set_status(case.id, Status.IN_PROGRESS, user="dep", now=later)
    store.answer_question(case.id, 1, user="dep", now=later)
    answered = store.set_status(case.id, Status.ANSWERED, user="dep", now=later)
    promise = store.promise(case.id, text="қоңырау шаламыз", deadline=date(2026, 4, 1),
                            user="op1", now=later)
    repeat = store.create(citizen=Citizen(PHONE, None, "ru"), topic="pension",
                          description="Где пенсия?", user="op1", now=later)
    conn.close()
    assert messages(promise.case, promise.events) == []  # a promise is not an SMS

    async def go() -> list[tuple[str, str, SmsState]]:
        db = await Database.open(path)
        try:
            outbox = SmsOutbox(db, NeverSends())
            notifier = CaseNotifier(outbox)
            ids: list[int] = []
            for res in (created, work, answered, repeat):
                ids += await notifier.notify(res.case, res.events)
            recs = [await outbox.get(i) for i in ids]
            return [(r.to_number, r.text, r.state) for r in recs if r is not None]
        finally:
            await db.close()

    rows = asyncio.run(go())
    assert [r[0] for r in rows] == [PHONE] * 4 and {r[2] for r in rows} == {SmsState.QUEUED}
    texts = [r[1] for r in rows]
    n = re.escape(case.number)
    assert re.search(rf"{n}\. Жауап беру мерзімі: 15\.04\.2026 дейін", texts[0])
    assert "қарауға алынды" in texts[1] and "15.04.2026" in texts[1]
    assert "жауап дайын" in texts[2]
    assert texts[3].startswith("Ваше обращение зарегистрировано под номером 2026-")
    for text in texts:
        assert IIN not in text and "Паспорт" not in text and PHONE not in text


def test_no_number_no_sms_and_foreign_events_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    asyncio.run(_migrate(path))
    conn = connect(path)
    store = CaseStore(conn, CFG, CAL, TOPICS)
    silent = store.create(citizen=Citizen("", None, "ru"), topic="passport",
                          description="без номера", user="op1", now=NOW)
    other = store.create(citizen=Citizen(PHONE, None, "ru"), topic="pension",
                         description="b", user="op1", now=NOW)
    dup = store.create(citizen=Citizen(PHONE, None, "kk"), topic="pension",
                       description="тағы", user="op1", now=NOW)
    conn.close()
    assert dup.linked
    [joined] = messages(dup.case, dup.events)
    # in the open request's language (the one the citizen chose first)
    assert joined.text.startswith("Ваше повторное обращение") and other.case.number in joined.text
    assert messages(silent.case, silent.events) == []
    assert messages(other.case, silent.events) == []  # another request's event
    [sms] = messages(other.case, other.events, centre="1417")
    assert sms.to == PHONE and "1417" in sms.text and PHONE not in repr(sms)


def test_escalations_tell_the_citizen_of_each_escalated_request(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    asyncio.run(_migrate(path))
    conn = connect(path)
    store = CaseStore(conn, CFG, CAL, TOPICS)
    a = store.create(citizen=Citizen(PHONE, None, "ru"), topic="passport", description="a",
                     user="op1", now=NOW).case
    b = store.create(citizen=Citizen("77770000000", None, "kk"), topic="pension",
                     description="b", user="op1", now=NOW).case
    events = store.escalate_overdue(NOW + timedelta(days=60))
    assert to_tell(events) == [a.number, b.number]  # case.escalated itself says nothing new
    sms = []
    for number in to_tell(events):
        case = store.by_number(number)
        assert case is not None
        sms += messages(case, events)
    conn.close()
    assert [m.to for m in sms] == [PHONE, "77770000000"]
    assert sms[0].text.startswith(f"Срок рассмотрения обращения № {a.number} истёк")
    assert sms[1].text.startswith(f"{b.number} нөмірлі өтінішіңізді қарау мерзімі өтті")
