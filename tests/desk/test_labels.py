"""The screen pop names the options chosen and the FAQ entries (desk/labels.py)."""

from __future__ import annotations

from bailanys.config import PROJECT_ROOT
from bailanys.desk.labels import PopLabels
from bailanys.desk.pop import CallJournal, screen_pop
from bailanys.events import IvrFlow, IvrInput, IvrNode, RobotFaq
from bailanys.ivr.loader import load_flow
from bailanys.robot.faq import load_kb

FLOW, _ = load_flow(PROJECT_ROOT / "ivr_flows" / "1414.yaml")
FAQ = load_kb(PROJECT_ROOT / "knowledge" / "faq.yaml")


def labels() -> PopLabels:
    assert FLOW is not None
    return PopLabels(lambda: [FLOW], lambda: FAQ)


def test_a_key_names_its_option_in_both_languages() -> None:
    names = labels()
    assert names.option("hotline-1414", "language", "2") == {"kk": "орысша", "ru": "русский"}
    assert names.option("hotline-1414", "main_menu", "0") == {"kk": "оператор", "ru": "оператор"}
    # not a key of the menu, not a menu, another flow, nothing pressed
    assert names.option("hotline-1414", "main_menu", "8") is None
    assert names.option("hotline-1414", "queue_general", "1") is None
    assert names.option("other", "language", "2") is None
    assert names.option(None, "language", "2") is None


def test_an_faq_entry_names_its_title() -> None:
    entry = FAQ.entries[0]
    assert labels().faq(entry.id) == dict(entry.title)
    assert labels().faq("no_such_entry") is None
    assert PopLabels(lambda: [], lambda: None).faq(entry.id) is None


def test_the_pop_carries_the_names_and_leaves_the_journal_as_it_was() -> None:
    entry = FAQ.entries[0].id
    journal = CallJournal("c1")
    for event in (IvrFlow(call_id="c1", flow="hotline-1414", flow_version="v", number="1414"),
                  IvrNode(call_id="c1", node="language", kind="menu"),
                  IvrInput(call_id="c1", node="language", source="dtmf", value="2",
                           confidence=1.0, next="set_ru"),
                  RobotFaq(call_id="c1", step="answer", outcome="played", entry=entry,
                           confidence=0.99)):
        journal.apply(event, ts=1.0)
    pop = screen_pop(journal, None, agent="1001", now=2.0, show_number=False, labels=labels())
    (chosen,) = [s for s in pop["ivr"] if s["kind"] == "input"]
    assert chosen["label"] == {"kk": "орысша", "ru": "русский"}
    assert [t.get("title") for t in pop["robot"]] == [dict(FAQ.entries[0].title)]
    assert all("label" not in s for s in journal.ivr)
    bare = screen_pop(journal, None, agent="1001", now=2.0, show_number=False)
    assert all("label" not in s for s in bare["ivr"])
