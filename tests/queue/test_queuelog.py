"""``bailanys.queue.queuelog`` (events -> Asterisk queue_log lines) and the
``bailanys export queue-log`` command on a real SQLite store."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from bailanys import cli
from bailanys.queue.queuelog import (
    FIELDS,
    QueueLog,
    caller_id,
    members_of,
    offered_caller,
    to_queue_log,
)
from bailanys.queue.settings import AgentSettings, QueueConfig, QueueSettings
from bailanys.store import Event, Store

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
CALL = "3f2a9c0d5b7e4e1a9f0c2d4b6a8e1f03"
ABANDONED = "0b5e7d1c9a3f4e2d8c6b4a2f0e1d3c5b"
TIMED_OUT = "9e8d7c6b5a4f4e3d2c1b0a9f8e7d6c5b"
AGENT_LEG = "5d41402abc4b2a76b9719d911017c592"

#: queue_log event -> how many data fields Asterisk writes after the event
#: name (docs.asterisk.org "Queue Logs"; ENTERQUEUE's position per app_queue.c),
#: and ours for the two custom callback events.
ASTERISK_DATA_FIELDS = {
    "ENTERQUEUE": 3,  # url|callerid|position
    "CONNECT": 3,  # holdtime|bridgedchanneluniqueid|ringtime
    "RINGNOANSWER": 1,  # ringtime in ms
    "RINGCANCELED": 1,  # ringtime in ms (app_queue.c wait_for_answer())
    "COMPLETECALLER": 3,  # holdtime|calltime|origposition
    "COMPLETEAGENT": 3,
    "ABANDON": 3,  # position|origposition|waittime
    "EXITWITHTIMEOUT": 3,
    "PAUSE": 1,  # reason
    "UNPAUSE": 1,
    "PAUSEALL": 1,  # reason (set_member_paused() with no queue name)
    "UNPAUSEALL": 1,
    "ADDMEMBER": 1,  # "" or PAUSED
    "REMOVEMEMBER": 1,
    "CALLBACKREQUEST": 4,
    "CALLBACK": 1,
}


def ev(at: float, type: str, call_id: str | None = None, **data: Any) -> Event:
    return Event(None, T0 + at, type, call_id, data)


def lines(events: Iterable[Event], **kwargs: Any) -> list[str]:
    return list(to_queue_log(events, **kwargs))


# --- scenarios: hand-built event lists and the exact lines they give ----------

FULL_CALL = [
    ev(0.25, "call.offered", CALL, **{"from": "sip:+77011234567@10.0.0.5;user=phone",
                                      "to": "sip:1414@10.0.0.1", "codec": "PCMA",
                                      "transport": "udp"}),
    ev(3.4, "queue.joined", CALL, queue="support", position=2, skills=["billing"],
       language="kk", priority=0),
    ev(10.0, "queue.announced", CALL, queue="support", position=1, estimate=30.0),
    ev(12.1, "agent.ringing", CALL, agent="1001", queue="support", timeout=15.0),
    ev(27.1, "agent.no_answer", CALL, agent="1001", queue="support", rang=15.0),
    ev(27.3, "agent.ringing", CALL, agent="1002", queue="support", timeout=15.0),
    ev(31.8, "call.connected", CALL, queue="support", agent="1002", waited=28.4,
       orig_position=2, leg=AGENT_LEG),
    ev(95.55, "call.completed", CALL, queue="support", agent="1002", waited=28.4, talk=63.75,
       by="caller", orig_position=2),
    ev(97.0, "call.disposition", CALL, queue="support", agent="1002", resolved=True,
       topic="billing"),
    ev(97.5, "call.ended", CALL, cause="bye", duration=97.25),
]
FULL_CALL_LINES = [
    # the caller ID is call.offered's one normalised number (bailanys/phone.py)
    f"1700000003|{CALL}|support|NONE|ENTERQUEUE||77011234567|2",
    f"1700000027|{CALL}|support|PJSIP/1001|RINGNOANSWER|15000",
    # hold: second 31 - second 3; the agent's leg (Asterisk: the peer's uniqueid);
    # ring 4.5 s -> 4
    f"1700000031|{CALL}|support|PJSIP/1002|CONNECT|28|{AGENT_LEG}|4",
    # talk 63.75 s from second 31 to second 95 counts 64, as time() - callstart does
    f"1700000095|{CALL}|support|PJSIP/1002|COMPLETECALLER|28|64|2",
]

ABANDON = [
    ev(100.0, "call.offered", ABANDONED, **{"from": "sip:1002@pbx.local", "to": "sip:1414@pbx"}),
    ev(100.5, "queue.joined", ABANDONED, queue="sales", position=1, skills=[], language="ru",
       priority=0),
    ev(103.0, "agent.ringing", ABANDONED, agent="1001", queue="sales", timeout=15.0),
    ev(108.2, "queue.abandoned", ABANDONED, queue="sales", position=1, orig_position=1,
       waited=7.7, short=False),
]
ABANDON_LINES = [
    f"1700000100|{ABANDONED}|sales|NONE|ENTERQUEUE||1002|1",
    # the caller hung up while 1001 rang (5.2 s), as app_queue's wait_for_answer() logs it
    f"1700000108|{ABANDONED}|sales|PJSIP/1001|RINGCANCELED|5200",
    f"1700000108|{ABANDONED}|sales|NONE|ABANDON|1|1|8",
]

TIMEOUT = [
    ev(200.0, "call.offered", TIMED_OUT, **{"from": "tel:+77172555000;phone-context=kz"}),
    ev(200.9, "queue.joined", TIMED_OUT, queue="support", position=3, skills=[], language="kk",
       priority=1),
    ev(500.9, "queue.timeout", TIMED_OUT, queue="support", position=1, orig_position=3,
       waited=300.0, overflow="general"),
]
TIMEOUT_LINES = [
    f"1700000200|{TIMED_OUT}|support|NONE|ENTERQUEUE||77172555000|3",
    f"1700000500|{TIMED_OUT}|support|NONE|EXITWITHTIMEOUT|1|3|300",
]

PAUSES = [
    ev(600.0, "agent.state", agent="1001", state="break", previous="available", reason="lunch"),
    ev(2400.7, "agent.state", agent="1001", state="available", previous="break", reason=None),
]
PAUSE_LINES = [
    "1700000600|NONE|NONE|PJSIP/1001|PAUSE|lunch",
    "1700002400|NONE|NONE|PJSIP/1001|UNPAUSE|",
]

LOGINS = [
    ev(3000.0, "agent.state", agent="1002", state="available", previous="logged_out",
       reason="login"),
    ev(3010.0, "agent.state", agent="1002", state="ringing", previous="available", reason=None),
    ev(3020.0, "agent.state", agent="1002", state="on_call", previous="ringing", reason=None),
    ev(3080.0, "agent.state", agent="1002", state="wrap_up", previous="on_call", reason=None),
    ev(3090.0, "agent.state", agent="1002", state="available", previous="wrap_up", reason=None),
    ev(3600.0, "agent.state", agent="1002", state="logged_out", previous="available",
       reason="logout"),
]
LOGIN_LINES = [
    "1700003000|NONE|NONE|PJSIP/1002|ADDMEMBER|",
    "1700003600|NONE|NONE|PJSIP/1002|REMOVEMEMBER|",
]


#: The queues each agent serves (``members_of`` the queues file).
MEMBERS = {"1001": ("sales", "support"), "1002": ("support",)}
#: With the queues known, as Asterisk writes a member of several queues and a
#: pause of all queues at once (set_member_paused() with no queue name).
PAUSE_LINES_PER_QUEUE = [
    "1700000600|NONE|NONE|PJSIP/1001|PAUSEALL|lunch",
    "1700000600|NONE|sales|PJSIP/1001|PAUSE|lunch",
    "1700000600|NONE|support|PJSIP/1001|PAUSE|lunch",
    "1700002400|NONE|NONE|PJSIP/1001|UNPAUSEALL|",
    "1700002400|NONE|sales|PJSIP/1001|UNPAUSE|",
    "1700002400|NONE|support|PJSIP/1001|UNPAUSE|",
]
LOGIN_LINES_PER_QUEUE = [
    "1700003000|NONE|support|PJSIP/1002|ADDMEMBER|",
    "1700003600|NONE|support|PJSIP/1002|REMOVEMEMBER|",
]


def test_member_and_pause_lines_are_written_per_queue() -> None:
    assert lines(PAUSES + LOGINS, members=MEMBERS) == PAUSE_LINES_PER_QUEUE + LOGIN_LINES_PER_QUEUE


def test_login_into_a_break_adds_the_member_paused() -> None:
    out = lines([
        ev(1.0, "agent.state", agent="1001", state="break", previous="logged_out",
           reason="training"),
        ev(9.0, "agent.state", agent="1001", state="logged_out", previous="break", reason=""),
    ], members=MEMBERS)
    assert out == [
        "1700000001|NONE|sales|PJSIP/1001|ADDMEMBER|PAUSED",
        "1700000001|NONE|support|PJSIP/1001|ADDMEMBER|PAUSED",
        "1700000001|NONE|NONE|PJSIP/1001|PAUSEALL|training",
        "1700000001|NONE|sales|PJSIP/1001|PAUSE|training",
        "1700000001|NONE|support|PJSIP/1001|PAUSE|training",
        "1700000009|NONE|NONE|PJSIP/1001|UNPAUSEALL|",
        "1700000009|NONE|sales|PJSIP/1001|UNPAUSE|",
        "1700000009|NONE|support|PJSIP/1001|UNPAUSE|",
        "1700000009|NONE|sales|PJSIP/1001|REMOVEMEMBER|",
        "1700000009|NONE|support|PJSIP/1001|REMOVEMEMBER|",
    ]


def test_every_agent_ringing_gets_a_ringcanceled() -> None:
    out = lines([
        ev(0.0, "queue.joined", "x", queue="q", position=1),
        ev(1.0, "agent.ringing", "x", agent="1001", queue="q", timeout=15.0),
        ev(2.0, "agent.no_answer", "x", agent="1001", queue="q", rang=1.0),
        ev(2.5, "agent.ringing", "x", agent="1002", queue="q", timeout=15.0),
        ev(3.25, "queue.abandoned", "x", queue="q", position=1, orig_position=1, waited=3.25,
           short=False, cause="caller"),
    ])
    assert out == [
        "1700000000|x|q|NONE|ENTERQUEUE|||1",
        "1700000002|x|q|PJSIP/1001|RINGNOANSWER|1000",
        "1700000003|x|q|PJSIP/1002|RINGCANCELED|750",
        "1700000003|x|q|NONE|ABANDON|1|1|3",
    ]


def test_a_timeout_while_nobody_rings_cancels_nothing() -> None:
    out = lines([ev(0.0, "queue.joined", "x", queue="q", position=1),
                 ev(1.0, "agent.ringing", "x", agent="1001", queue="q", timeout=15.0),
                 ev(2.0, "call.connected", "x", queue="q", agent="1001", waited=2.0,
                     orig_position=1),
                 ev(9.0, "queue.abandoned", "x", queue="q", position=1, waited=9.0)])
    assert [line.split("|")[4] for line in out] == ["ENTERQUEUE", "CONNECT", "ABANDON"]


def test_members_of_the_queues_file() -> None:
    config = QueueConfig(
        {"general": QueueSettings("general"),
         "egov": QueueSettings("egov", skills=("egov_portal",)),
         "complaints": QueueSettings("complaints", skills=("complaints",))},
        {"1001": AgentSettings("1001", skills={"kk": 10, "complaints": 7}),
         "1002": AgentSettings("1002", skills={"ru": 10, "egov_portal": 8})},
    )
    assert members_of(config) == {"1001": ("general", "complaints"),
                                  "1002": ("general", "egov")}


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(FULL_CALL, FULL_CALL_LINES, id="full-call"),
        pytest.param(ABANDON, ABANDON_LINES, id="abandon"),
        pytest.param(TIMEOUT, TIMEOUT_LINES, id="timeout"),
        pytest.param(PAUSES, PAUSE_LINES, id="pause-unpause"),
        pytest.param(LOGINS, LOGIN_LINES, id="login-logout"),
    ],
)
def test_scenarios(events: list[Event], expected: list[str]) -> None:
    assert lines(events) == expected


def test_scenarios_interleaved_keep_their_lines() -> None:
    every = sorted(FULL_CALL + ABANDON + TIMEOUT + PAUSES + LOGINS, key=lambda e: e.ts)
    expected = sorted(
        FULL_CALL_LINES + ABANDON_LINES + TIMEOUT_LINES + PAUSE_LINES + LOGIN_LINES,
        key=lambda line: int(line.split("|")[0]),
    )
    assert lines(every) == expected


def test_every_line_has_the_field_count_of_its_event() -> None:
    every = [*FULL_CALL, *ABANDON, *TIMEOUT, *PAUSES, *LOGINS, *CALLBACK,
             ev(5000.0, "agent.state", agent="7", state="break", previous="logged_out",
                reason="x|y"),
             ev(5001.0, "call.completed", "c", queue="q", agent="7", waited=1.0, talk=2.0,
                by="agent", orig_position=1)]
    seen: set[str] = set()
    for line in lines(every, members=MEMBERS):
        fields = line.split("|")
        verb = fields[4]
        seen.add(verb)
        assert len(fields) == 5 + ASTERISK_DATA_FIELDS[verb], line
        assert fields[0].isdigit() and all(fields[1:4]), line
    assert seen == set(ASTERISK_DATA_FIELDS)


def test_the_module_table_matches_asterisk() -> None:
    assert {verb: len(names) for verb, names in FIELDS.items()} == ASTERISK_DATA_FIELDS


# --- callbacks: custom events --------------------------------------------------

CALLBACK = [
    ev(700.0, "queue.joined", "cb", queue="support", position=4, skills=[], language="ru",
       priority=0),
    ev(760.5, "queue.callback_requested", "cb", queue="support", position=2, waited=60.5,
       number="+77011112233"),
    ev(900.0, "queue.callback", "cb", queue="support", agent="1001", waited=139.5),
]


def test_callback_request_and_callback_are_custom_events() -> None:
    assert lines(CALLBACK) == [
        "1700000700|cb|support|NONE|ENTERQUEUE|||4",
        "1700000760|cb|support|NONE|CALLBACKREQUEST|2|4|60|+77011112233",
        # 139.5 s from second 760 (the request) to second 900 counts 140
        "1700000900|cb|support|PJSIP/1001|CALLBACK|140",
    ]


# --- the details --------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "waited", "expected"),
    [
        (108.2, 7.9, 8),  # 100.3 .. 108.2 crosses 8 second boundaries
        (108.95, 7.9, 7),  # 101.05 .. 108.95 crosses 7
        (108.0, 8.0, 8),
        (108.5, 0.3, 0),
        (108.2, 0.3, 1),  # 107.9 .. 108.2: Asterisk's time() says 1
        (108.2, -5.0, 0),  # never negative
        (108.2, None, 0),  # missing
        (108.2, "nan", 0),
    ],
)
def test_without_the_join_seconds_count_back_from_waited(at: float, waited: Any,
                                                         expected: int) -> None:
    (line,) = lines([ev(at, "queue.abandoned", "x", queue="q", position=1, orig_position=1,
                        waited=waited)])
    assert line.split("|")[-1] == str(expected)


@pytest.mark.parametrize(
    ("rang", "ms"), [(15.0, "15000"), (0.0004, "0"), (2.0006, "2001"), (12.3456, "12346")]
)
def test_ringnoanswer_is_in_milliseconds(rang: float, ms: str) -> None:
    (line,) = lines([ev(1.0, "agent.no_answer", "x", agent="1", queue="q", rang=rang)])
    assert line.endswith(f"|RINGNOANSWER|{ms}")


@pytest.mark.parametrize(("rang", "ringtime"), [(4.999, "4"), (5.0, "5"), (0.2, "0")])
def test_connect_ringtime_is_truncated_seconds(rang: float, ringtime: str) -> None:
    events = [
        ev(10.0, "agent.ringing", "x", agent="1", queue="q", timeout=15.0),
        ev(10.0 + rang, "call.connected", "x", queue="q", agent="1", waited=12.0,
           orig_position=1),
    ]
    (line,) = lines(events)
    assert line.split("|")[-1] == ringtime


def test_connect_ringtime_comes_from_the_agent_that_answered() -> None:
    events = [
        ev(10.0, "agent.ringing", "x", agent="1", queue="q", timeout=15.0),
        ev(12.0, "agent.ringing", "x", agent="2", queue="q", timeout=15.0),
        ev(19.5, "call.connected", "x", queue="q", agent="2", waited=20.0, orig_position=1),
    ]
    assert lines(events)[-1].endswith("|PJSIP/2|CONNECT|20||7")


def test_without_earlier_events_the_remembered_fields_are_empty_or_zero() -> None:
    assert lines([
        ev(1.0, "queue.joined", "x", queue="q", position=1),
        ev(9.0, "call.connected", "x", queue="q", agent="1", waited=8.0, orig_position=1),
    ]) == [
        "1700000001|x|q|NONE|ENTERQUEUE|||1",  # no call.offered: no caller ID
        "1700000009|x|q|PJSIP/1|CONNECT|8||0",  # no agent.ringing: ringtime 0
    ]


def test_completed_by_agent() -> None:
    (line,) = lines([ev(100.0, "call.completed", "x", queue="q", agent="1001", waited=5.5,
                        talk=40.0, by="agent", orig_position=3)])
    assert line == "1700000100|x|q|PJSIP/1001|COMPLETEAGENT|6|40|3"


def test_the_clock_starts_at_this_queues_join() -> None:
    # Our waited (7.2, say from a monotonic clock) and the event times
    # disagree: Asterisk's qe->start is the ENTERQUEUE second, so the join wins.
    events = [
        ev(1.9, "queue.joined", "x", queue="q", position=5),
        ev(9.0, "queue.abandoned", "x", queue="q", position=2, orig_position=1, waited=7.2),
    ]
    assert lines(events)[-1] == "1700000009|x|q|NONE|ABANDON|2|5|8"


def test_overflow_starts_a_new_queue_entry() -> None:
    """Our waited counts from the first join; Asterisk's per queue entry."""
    events = [
        ev(0.0, "call.offered", "x", **{"from": "sip:555@h"}),
        ev(0.2, "queue.joined", "x", queue="sales", position=1),
        ev(300.2, "queue.timeout", "x", queue="sales", position=1, orig_position=1,
           waited=300.0, overflow="general"),
        ev(300.3, "queue.joined", "x", queue="general", position=4),
        ev(338.0, "agent.ringing", "x", agent="1003", queue="general", timeout=15.0),
        ev(341.1, "call.connected", "x", queue="general", agent="1003", waited=340.9,
           orig_position=1),
        ev(401.6, "call.completed", "x", queue="general", agent="1003", waited=340.9,
           talk=60.5, by="agent", orig_position=1),
    ]
    assert lines(events) == [
        "1700000000|x|sales|NONE|ENTERQUEUE||555|1",
        "1700000300|x|sales|NONE|EXITWITHTIMEOUT|1|1|300",
        "1700000300|x|general|NONE|ENTERQUEUE||555|4",
        "1700000341|x|general|PJSIP/1003|CONNECT|41||3",
        "1700000401|x|general|PJSIP/1003|COMPLETEAGENT|41|60|4",
    ]


def test_call_ended_forgets_the_call() -> None:
    mapper = QueueLog()
    for event in [
        ev(0.0, "call.offered", "x", **{"from": "sip:777@h"}),
        ev(0.5, "queue.joined", "x", queue="q", position=1),
        ev(1.0, "agent.ringing", "x", agent="1", queue="q", timeout=15.0),
        ev(2.0, "call.ended", "x", cause="cancel", duration=2.0),
    ]:
        mapper.feed(event)
    assert mapper.feed(ev(3.0, "queue.joined", "x", queue="q", position=1)) == [
        "1700000003|x|q|NONE|ENTERQUEUE|||1"
    ]
    assert mapper.feed(ev(4.0, "call.connected", "x", queue="q", agent="1", waited=1.0,
                          orig_position=1))[0].endswith("|CONNECT|1||0")


@pytest.mark.parametrize(
    ("previous", "state", "verbs"),
    [
        ("logged_out", "available", ["ADDMEMBER"]),
        ("available", "logged_out", ["REMOVEMEMBER"]),
        ("available", "break", ["PAUSE"]),
        ("break", "available", ["UNPAUSE"]),
        ("logged_out", "break", ["ADDMEMBER", "PAUSE"]),
        ("break", "logged_out", ["UNPAUSE", "REMOVEMEMBER"]),
        ("wrap_up", "break", ["PAUSE"]),
        ("available", "ringing", []),
        ("ringing", "on_call", []),
        ("on_call", "wrap_up", []),
        ("wrap_up", "available", []),
        ("break", "break", []),
    ],
)
def test_agent_state_transitions(previous: str, state: str, verbs: list[str]) -> None:
    out = lines([ev(1.0, "agent.state", agent="1001", state=state, previous=previous,
                    reason="meeting")])
    assert [line.split("|")[4] for line in out] == verbs
    for line in out:
        assert line.startswith("1700000001|NONE|NONE|PJSIP/1001|")


def test_agent_prefix_option() -> None:
    assert lines(PAUSES, agent_prefix="SIP/") == [
        "1700000600|NONE|NONE|SIP/1001|PAUSE|lunch",
        "1700002400|NONE|NONE|SIP/1001|UNPAUSE|",
    ]


def test_separators_in_text_cannot_split_a_line() -> None:
    (line,) = lines([ev(1.0, "agent.state", agent="10|01", state="break",
                        previous="available", reason="tea|\nbreak")])
    assert line == "1700000001|NONE|NONE|PJSIP/10_01|PAUSE|tea__break"


def test_events_of_no_queue_meaning_give_no_line() -> None:
    assert lines([
        ev(1.0, "call.answered", "x"),
        ev(2.0, "ivr.input", "x", source="dtmf", value="1"),
        ev(3.0, "queue.announced", "x", queue="q", position=1, estimate=20.0),
        ev(4.0, "call.disposition", "x", queue="q", agent="1", resolved=False, topic=""),
        ev(5.0, "agent.ringing", "x", agent="1", queue="q", timeout=15.0),
        ev(6.0, "call.offered", "x", **{"from": "sip:1@h"}),
    ]) == []


def test_a_queue_event_without_call_id_or_queue_writes_none() -> None:
    (line,) = lines([ev(9.0, "queue.abandoned", None, position=1, orig_position=1, waited=1)])
    assert line == "1700000009|NONE|NONE|NONE|ABANDON|1|1|1"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:+77011234567@10.0.0.5;user=phone", "+77011234567"),
        ("sips:1001@pbx.example.kz:5061", "1001"),
        ("sip:anonymous@anonymous.invalid", "anonymous"),
        ("sip:%2B7701@h", "+7701"),
        ("tel:+77172555000;phone-context=kz", "+77172555000"),
        ("sip:pbx.example.kz", ""),
        ("not a uri", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_caller_id_is_the_user_part(uri: Any, expected: str) -> None:
    assert caller_id(uri) == expected


# --- the command, end to end on a SQLite store ------------------------------------


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("BAILANYS_"):
            monkeypatch.delenv(key)


async def _fill(db: Path | str, events: list[Event]) -> None:
    times = iter([e.ts for e in events])
    store = await Store.open(db, clock=lambda: next(times))
    for e in events:
        store.events.append(e.type, e.call_id, **e.data)
    await store.close()


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Path:
    """The events in an SQLite file or a PostgreSQL database (issue 22: ``[store] url``)."""
    db = store_url
    asyncio.run(_fill(db, [*FULL_CALL, *ABANDON, *TIMEOUT, *PAUSES, *LOGINS]))
    queues = tmp_path / "queues.toml"
    queues.write_text('[queues.sales]\n[queues.support]\nskills = ["billing"]\n'
                      '[agents.1001]\nskills = { billing = 5 }\n'
                      '[agents.1002]\nskills = { billing = 3 }\n', encoding="utf-8")
    path = tmp_path / "c.toml"
    key = "url" if db.startswith("postgresql:") else "path"
    path.write_text(f'[store]\n{key} = "{db}"\n[queue]\nfile = "{queues}"\n',
                    encoding="utf-8")
    return path


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["export", "queue-log", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


#: The command reads the queues file: 1001 serves sales and support, 1002 both too.
ALL_LINES = FULL_CALL_LINES + ABANDON_LINES + TIMEOUT_LINES + PAUSE_LINES_PER_QUEUE + [
    "1700003000|NONE|sales|PJSIP/1002|ADDMEMBER|",
    *LOGIN_LINES_PER_QUEUE[:1],
    "1700003600|NONE|sales|PJSIP/1002|REMOVEMEMBER|",
    *LOGIN_LINES_PER_QUEUE[1:],
]


def test_command_writes_the_log_to_stdout(config: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = export(capsys, "--config", str(config))
    assert (status, err) == (0, "")
    assert out == "".join(line + "\n" for line in ALL_LINES)


def test_command_since_until(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 22:15:00Z is T0 + 100 s: from the abandoned call on, before the pause.
    status, out, _ = export(capsys, "--config", str(config),
                            "--since", "2023-11-14T22:15:00Z", "--until", str(T0 + 600))
    assert status == 0
    assert out.splitlines() == ABANDON_LINES + TIMEOUT_LINES


def test_command_out_file_and_agent_prefix(config: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "queue_log"
    status, out, err = export(capsys, "--config", str(config), "--out", str(target),
                              "--agent-prefix", "SIP/")
    assert (status, err) == (0, "")
    assert out == f"{target}: {len(ALL_LINES)} lines\n"
    written = target.read_bytes().decode("utf-8")
    assert written == "".join(line.replace("PJSIP/", "SIP/") + "\n" for line in ALL_LINES)


def test_command_missing_store_is_one_line(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "absent.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
    status, out, err = export(capsys, "--config", str(cfg))
    assert (status, out) == (1, "")
    assert err.startswith(f"bailanys: no event store at {db}") and err.count("\n") == 1
    assert not db.exists()


def test_command_unwritable_out_is_one_line(config: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "dir" / "queue_log"
    status, _, err = export(capsys, "--config", str(config), "--out", str(target))
    assert status == 1
    assert err.startswith(f"bailanys: {target}: cannot write") and err.count("\n") == 1


def test_command_since_after_until_is_a_usage_error(config: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = export(capsys, "--config", str(config), "--since", str(T0 + 10),
                              "--until", str(T0))
    assert (status, out) == (2, "")
    assert err == "bailanys: --since must be before --until\n"


def test_command_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    assert "queue-log" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"caller": "77011234567", "from": "sip:+77011234567@h"}, "77011234567"),
        ({"from": "sip:+77011234567@h;user=phone"}, "77011234567"),  # stored before `caller`
        ({"from": "sip:87011234567@h"}, "77011234567"),
        ({"from": "sip:anonymous@anonymous.invalid"}, "anonymous"),
        ({"caller": "anonymous"}, "anonymous"),
        ({}, "anonymous"),
    ],
)
def test_caller_id_is_call_offered_caller(data: dict[str, Any], expected: str) -> None:
    assert offered_caller(data) == expected
