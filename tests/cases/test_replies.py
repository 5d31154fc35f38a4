"""Reply templates in kk/ru with placeholders (issue 19): the shipped file,
every mistake named with its file and line, and the rendering."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from bailanys.cases import replies as rp
from bailanys.cases.model import Citizen, Kind
from bailanys.cases.store import CaseStore, connect
from bailanys.errors import InputError
from bailanys.reports import topics as tp
from bailanys.store.db import Database
from bailanys.store.migrations import migrate
from bailanys.timezone import ALMATY
from bailanys.yamlsrc import load
from tests.cases.test_casestore import CAL, CFG, TOPICS

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "configs" / "case_replies.yaml"
KAZAKH_ONLY = set("әғқңөұүһі")
GOOD = """\
replies:
  registered:
    title: {kk: Тіркелді, ru: Зарегистрировано}
    kk: "{number} тіркелді"
    ru: "{number} зарегистрировано"
"""


def _problems(text: str) -> list[str]:
    return [str(p) for p in rp.parse(load(text, "r.yaml"))[1]]


def test_the_shipped_file_has_the_replies_the_issue_names() -> None:
    book = rp.load(FILE)
    assert set(book.ids) >= {"registered", "forwarded", "answered", "extended",
                             "complaint_confirmed", "complaint_not_confirmed",
                             "duplicate_joined"}
    for reply in book.items:
        assert KAZAKH_ONLY & set(reply.text["kk"].lower()), reply.id  # written in Kazakh
        assert not KAZAKH_ONLY & set(reply.text["ru"].lower()), reply.id
        assert "{number}" in reply.text["kk"] and "{number}" in reply.text["ru"], reply.id


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace('"{number} тіркелді"', '"{number} {deadlin}"'),
     "r.yaml:4: replies.registered.kk: unknown placeholder {deadlin}"),
    (GOOD.replace('"{number} зарегистрировано"', '"ИИН {iin}"'),
     "r.yaml:5: replies.registered.ru: {iin}: personal data never goes into a reply"),
    (GOOD.replace('    ru: "{number} зарегистрировано"\n', ""),
     "replies.registered.ru: no ru text"),
    (GOOD.replace("ru: Зарегистрировано", "ru: ''"), "r.yaml:3: replies.registered.title.ru"),
    (GOOD.replace('"{number} тіркелді"', '"{number"'),
     "r.yaml:4: replies.registered.kk: bad placeholder syntax"),
    (GOOD + "    extra: 1\n", "r.yaml:6: replies.registered.extra: unknown key"),
    (GOOD.replace("registered:", "бад-id:"), "an id is latin letters"),
    ("replies: [\n", "r.yaml:2: YAML syntax"),
    ("", "r.yaml:1: the file is empty"),
    ("replies: {}\n", "replies: no replies"),
    (GOOD + "  registered:\n    kk: x\n", "duplicate key"),
])
def test_every_mistake_is_named_with_file_and_line(text: str, expected: str) -> None:
    found = _problems(text)
    assert any(expected in p for p in found), found


def test_load_raises_with_all_problems(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text(GOOD.replace("{number} тіркелді", "{x} {y}"), encoding="utf-8")
    with pytest.raises(rp.RepliesError) as info:
        rp.load(bad)
    assert len(info.value.problems) == 2 and f"{bad}:4" in str(info.value)
    assert rp.problems(tmp_path / "missing.yaml")[0].startswith(f"{tmp_path}/missing.yaml")


def _case(tmp_path: Path, kind: Kind = Kind.REQUEST) -> tuple[CaseStore, int]:
    async def mig() -> None:
        db = await Database.open(tmp_path / "b.db")
        await migrate(db)
        await db.close()

    asyncio.run(mig())
    store = CaseStore(connect(tmp_path / "b.db"), CFG, CAL, TOPICS)
    res = store.create(citizen=Citizen("77011234567", None, "ru"), topic="pension",
                       description="Пенсия не пришла, ИИН 991231400002", user="op1",
                       now=datetime(2026, 3, 20, 10, tzinfo=ALMATY), kind=kind)
    return store, res.case.id


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_render_fills_every_placeholder_and_no_personal_data(tmp_path: Path,
                                                             lang: str) -> None:
    store, cid = _case(tmp_path)
    case = store.get(cid)
    assert case is not None
    topics = tp.load(ROOT / "configs" / "topics.yaml")
    depts = {d.id: d for d in CFG.departments}
    book = rp.load(FILE)
    for reply in book.items:
        text = rp.render(reply, case, lang, departments=depts, topics=topics)
        assert "{" not in text and "}" not in text, reply.id
        assert case.number in text and "991231400002" not in text and "4567" not in text
    registered = rp.render(book.get("registered"), case, lang,  # type: ignore[arg-type]
                           departments=depts, topics=topics)
    social = depts["social"].kk if lang == "kk" else depts["social"].ru
    assert "20.03.2026" in registered and "15.04.2026" in registered and social in registered
    assert topics.names("pension", lang) in registered
    extended = book.get("extended")
    assert extended is not None
    assert rp.NO_REASON[lang] in rp.render(extended, case, lang, departments=depts)
    why = rp.render(extended, case, lang, departments=depts, reason="звонить 87011112233")
    assert "87011112233" not in why  # the reason is masked like any free text
    with pytest.raises(InputError):
        rp.render(extended, case, "en", departments=depts)
    store.conn.close()
