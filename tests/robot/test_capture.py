"""Issue 17 at the source in the robot: the FAQ answer's topic and the IIN's portrait.

The pure machines say it (``call.topic`` from the assistant's answer, an
:class:`Identified` action at the valid IIN); the adapter's derivation is
:func:`bailanys.reports.portrait.identified_events`. The real call is
``tests/peers/test_robot_service.py``.
"""

from __future__ import annotations

from datetime import date

from bailanys.robot.assistant import AssistantMachine, Heard
from bailanys.robot.faq import Entry
from bailanys.robot.matcher import Candidate, MatchResult
from bailanys.robot.service_io import Digits, Emit, Identified
from bailanys.robot.services import Service, ServiceMachine

IIN = "850315410002"
PASSPORT = Entry(id="passport_get", topic="passport",
                 questions={"kk": ("төлқұжат",), "ru": ("паспорт",)},
                 answer={"kk": "жауап.", "ru": "ответ."})
EGOV = Entry(id="egov_login", topic="egov", questions={"kk": ("e",), "ru": ("e",)},
             answer={"kk": "жауап.", "ru": "ответ."})


def _topics(out: list[object]) -> list[dict[str, object]]:
    return [dict(a.fields) for a in out if isinstance(a, Emit) and a.type == "call.topic"]


def test_a_confident_answer_emits_its_entrys_topic() -> None:
    m = AssistantMachine("ru", threshold=0.79, speech=True)
    m.start(0.0)
    heard = Heard("паспорт", MatchResult("паспорт", "ru", (Candidate(PASSPORT, 0.93, 0.93),),
                                         False))
    assert _topics(list(m.handle(heard, 1.0))) == [{"topic": "passport", "source": "robot"}]


def test_a_clarified_answer_emits_the_chosen_topic_and_a_hand_over_none() -> None:
    m = AssistantMachine("ru", threshold=0.79, speech=True)
    m.start(0.0)
    cands = (Candidate(PASSPORT, 0.45, 0.45), Candidate(EGOV, 0.40, 0.40))
    out = list(m.handle(Heard("госуслуга", MatchResult("госуслуга", "ru", cands, False)), 1.0))
    assert _topics(out) == []  # not answered yet: no topic
    assert _topics(list(m.handle(Digits("2"), 2.0))) == [{"topic": "egov", "source": "robot"}]
    m2 = AssistantMachine("ru", threshold=0.79, speech=True)
    m2.start(0.0)
    m2.handle(Heard("госуслуга", MatchResult("госуслуга", "ru", cands, False)), 1.0)
    assert _topics(list(m2.handle(Digits("7"), 2.0))) == []  # handed over: the operator decides


def test_a_valid_iin_is_identified_once_and_never_shown() -> None:
    m = ServiceMachine(Service.DOCUMENT_STATUS, "ru", today=date(2025, 3, 13))
    m.start(0.0)
    bad = m.handle(Digits("850315410003"), 1.0)  # wrong check digit
    assert not [a for a in bad if isinstance(a, Identified)]
    out = m.handle(Digits(IIN), 2.0)
    found = [a for a in out if isinstance(a, Identified)]
    assert found == [Identified(IIN)]
    assert IIN not in repr(found[0]) and IIN not in str(found[0])
    # right after the "iin valid" event, before the back end is asked
    i = out.index(found[0])
    prev = out[i - 1]
    assert isinstance(prev, Emit) and prev.fields["step"] == "iin"
