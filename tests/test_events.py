"""The typed event catalogue (bailanys/events/, issue 14 item 1)."""

from __future__ import annotations

import ast
import dataclasses
import json
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import bailanys
from bailanys import events as ev
from bailanys.events import (
    DOMAINS,
    Emit,
    EventBase,
    UnknownEvent,
    decode_parts,
    encode,
    event_of,
    fields_of,
    registry,
)

CLASSES = [cls for _, classes in DOMAINS for cls in classes]
PACKAGE = Path(bailanys.__file__).parent


def camel(type_: str) -> str:
    return "".join(part.capitalize() for part in type_.replace(".", "_").split("_"))


def sample(hint: Any, variant: int) -> Any:
    """A value of ``hint`` (variant 1: None where allowed)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, __import__("types").UnionType):
        if variant == 1 and type(None) in args:
            return None
        return sample(next(a for a in args if a is not type(None)), variant)
    if origin is tuple:
        return ("kk", "billing")
    if origin is not None and issubclass(origin, Mapping):
        return {k: 1.5 for k in ev.QUALITY_KEYS[:3]} | {"rtt_ms": None}
    return {str: "x", int: 7, float: 2.5, bool: True}[hint]


def instance(cls: type[EventBase], variant: int = 0) -> EventBase:
    hints = typing.get_type_hints(cls)
    kwargs = {s.name: sample(hints[s.name], variant) for s in fields_of(cls)}
    return cls(call_id="c1", **kwargs)


# --- the catalogue itself ------------------------------------------------------------


def test_every_class_has_a_unique_type_named_as_its_class() -> None:
    types = [cls.type for cls in CLASSES]
    assert len(types) == len(set(types))
    assert registry() == {cls.type: cls for cls in CLASSES}
    for cls in CLASSES:
        assert cls.__name__ == camel(cls.type), cls
        assert cls.version >= 1
        assert cls.writer and (cls.__doc__ or "").strip(), f"{cls.type}: document who and when"


def test_classes_are_frozen_slotted_and_keyword_only() -> None:
    for cls in CLASSES:
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, cls
        assert "__slots__" in cls.__dict__, cls
        assert all(f.kw_only for f in dataclasses.fields(cls)), cls
    event = ev.CallAnswered(call_id="c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.call_id = "d"  # type: ignore[misc]


def test_stored_keys_are_not_the_row_columns() -> None:
    for cls in CLASSES:
        keys = {s.key for s in fields_of(cls)} | {k for s in fields_of(cls) for k in s.flatten}
        assert not keys & {"id", "ts", "type", "call_id"}, cls


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.type)
@pytest.mark.parametrize("variant", [0, 1])
def test_round_trip_through_json(cls: type[EventBase], variant: int) -> None:
    event = instance(cls, variant)
    type_, call_id, data = encode(event)
    assert (type_, call_id) == (cls.type, "c1")
    stored = json.loads(json.dumps(data))
    assert decode_parts(type_, call_id, stored) == event


# --- the stored JSON is what the string appends wrote -----------------------------------


def stored(event: EventBase) -> str:
    return json.dumps(encode(event)[2], ensure_ascii=False, separators=(",", ":"))


def test_stored_json_is_unchanged() -> None:
    offered = ev.CallOffered(call_id="c", from_uri="sip:+77011234567@h", to_uri="sip:1414@h",
                             codec="PCMA", transport="UDP")
    assert stored(offered) == ('{"from":"sip:+77011234567@h","to":"sip:1414@h",'
                               '"codec":"PCMA","transport":"UDP"}')
    menu = ev.IvrInput(node="m", source="speech", value="портал", confidence=0.9, next="q")
    assert stored(menu) == ('{"node":"m","source":"speech","value":"портал",'
                            '"confidence":0.9,"next":"q"}')
    keyed = ev.IvrInput(node="m", source="dtmf", var="iin", value="****", confidence=1.0,
                        next="q")
    assert stored(keyed) == ('{"node":"m","source":"dtmf","var":"iin","value":"****",'
                             '"confidence":1.0,"next":"q"}')
    speech = ev.IvrNoMatch(node="m", source="speech", value="[unk]", attempt=1, confidence=0.2)
    assert stored(speech) == ('{"node":"m","source":"speech","value":"[unk]","attempt":1,'
                              '"confidence":0.2}')
    keys = ev.IvrNoMatch(node="m", source="dtmf", value="12", reason="short", attempt=2)
    assert stored(keys) == '{"node":"m","source":"dtmf","value":"12","reason":"short","attempt":2}'
    connected = ev.CallConnected(queue="q", agent="a", waited=1.0, orig_position=1)
    assert stored(connected) == '{"queue":"q","agent":"a","waited":1.0,"orig_position":1}'
    blocked = ev.AuthBlocked(kind="sip", scope="source", source="10.0.0.9", until=5.0,
                             ban_s=60.0, strikes=1, suppressed=0)
    assert stored(blocked) == ('{"kind":"sip","scope":"source","source":"10.0.0.9","until":5.0,'
                               '"ban_s":60.0,"strikes":1,"suppressed":0}')
    joined = ev.QueueJoined(queue="q", position=1, skills=("kk",), language=None, priority=0)
    assert encode(joined)[2]["skills"] == ["kk"]  # a list, as the producers wrote it
    assert stored(joined) == ('{"queue":"q","position":1,"skills":["kk"],"language":null,'
                              '"priority":0}')
    ended = ev.CallEnded(cause="caller", reason="bye", duration=3.0,
                         quality={"rtp_sent": 10, "peer_fraction_lost": None})
    assert stored(ended) == ('{"cause":"caller","reason":"bye","duration":3.0,"rtp_sent":10,'
                             '"peer_fraction_lost":null}')
    closed = ev.CallEnded(cause="engine_restart", reason="engine_restart", duration=0.0)
    assert stored(closed) == '{"cause":"engine_restart","reason":"engine_restart","duration":0.0}'
    started = ev.IvrStarted(flow="f", flow_version="abc")
    assert stored(started) == '{"flow":"f","version":"abc"}'


# --- unknown and bad rows: kept, never raised -------------------------------------------


def test_unknown_type_passes_through() -> None:
    got = decode_parts("call.transcribed", "c1", {"text": "...", "n": 1})
    assert got == UnknownEvent(type="call.transcribed", call_id="c1",
                               fields={"text": "...", "n": 1}, reason="unknown type")
    assert encode(got) == ("call.transcribed", "c1", {"text": "...", "n": 1})


def test_unknown_keys_are_kept_in_extra_and_written_back() -> None:
    data = {"language": "kk", "confidence": 0.8}
    got = decode_parts("call.language", "c1", data)
    assert got == ev.CallLanguage(call_id="c1", language="kk", extra={"confidence": 0.8})
    assert encode(got)[2] == data


@pytest.mark.parametrize(
    ("type_", "data", "reason"),
    [
        ("call.language", {}, "field 'language' missing"),
        ("call.language", {"language": 3}, "field 'language': expected string, got int"),
        ("queue.joined", {"queue": "q", "position": True, "skills": [], "language": None,
                          "priority": 0}, "field 'position': expected integer, got bool"),
        ("queue.joined", {"queue": "q", "position": 1, "skills": [1], "language": None,
                          "priority": 0}, "field 'skills': expected list of string, got list"),
        ("call.ended", {"cause": "x", "reason": "y", "duration": "long"},
         "field 'duration': expected number, got str"),
        ("call.language", ["kk"], "data is list, not an object"),
        ("dtmf", None, "data is NoneType, not an object"),
    ],
)
def test_a_bad_row_decodes_to_unknown_with_the_reason(type_: str, data: Any,
                                                     reason: str) -> None:
    got = decode_parts(type_, "c1", data)
    assert isinstance(got, UnknownEvent)
    assert (got.type, got.call_id, got.reason) == (type_, "c1", reason)


def test_bad_call_id_or_type_never_raises() -> None:
    assert isinstance(decode_parts("call.answered", 5, {}), UnknownEvent)  # type: ignore[arg-type]
    assert isinstance(decode_parts(None, None, {}), UnknownEvent)  # type: ignore[arg-type]


def test_old_call_offered_rows_without_caller_still_decode() -> None:
    got = decode_parts("call.offered", "c", {"from": "sip:1@h", "to": "sip:2@h",
                                             "codec": "PCMU", "transport": "UDP"})
    assert isinstance(got, ev.CallOffered) and got.caller is None


# --- Emit, the shared action ----------------------------------------------------------


def test_emit_reads_like_the_old_actions() -> None:
    action = Emit(ev.AgentRinging(call_id="c1", agent="a", queue="q", timeout=15.0))
    assert (action.type, action.call_id) == ("agent.ringing", "c1")
    assert action.fields == {"agent": "a", "queue": "q", "timeout": 15.0}
    assert Emit.of("agent.ringing", "c1", {"agent": "a", "queue": "q", "timeout": 15.0}) == action
    with pytest.raises(ValueError, match="field 'timeout' missing"):
        Emit.of("agent.ringing", "c1", {"agent": "a", "queue": "q"})
    with pytest.raises(ValueError, match="unknown type"):
        event_of("agent.danced", None, {})


def test_for_call_sets_the_call_id_only() -> None:
    event = ev.IvrNode(node="n", kind="menu")
    assert event.for_call("c9") == ev.IvrNode(call_id="c9", node="n", kind="menu")
    assert event.call_id is None


# --- every event type written in the code is in the catalogue --------------------------

_SINKS = {"append": 0, "append_at": 1}  # EventLog method -> index of the type argument


def _strings(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        yield ast.unparse(node)  # an f-string type: not typed, must fail


def written_types(root: Path = PACKAGE) -> dict[str, str]:
    """Event types given as strings to the event log, Emit, emit or Closing."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func, index = node.func, None
            if isinstance(func, ast.Attribute) and func.attr in _SINKS:
                if ast.unparse(func.value).endswith("events"):
                    index = _SINKS[func.attr]
            elif isinstance(func, ast.Name) and func.id in ("Emit", "Closing", "emit"):
                index = 1 if func.id == "emit" else 0
            if index is None or len(node.args) <= index:
                continue
            for text in _strings(node.args[index]):
                found[text] = f"{path.relative_to(root.parent)}:{node.lineno}"
    return found


def test_every_written_event_type_is_in_the_catalogue() -> None:
    found = written_types()
    missing = {t: where for t, where in found.items() if t not in registry()}
    assert not missing, f"event types written but not in bailanys/events/: {missing}"


def test_the_engine_writes_only_catalogue_events() -> None:
    """No module writes an event by its type string: every event is a catalogue
    class given to ``emit`` (the pure reconciliation's ``Closing`` rows are
    decoded into catalogue classes before they are stored)."""
    appends = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if not (isinstance(node, ast.Call) and isinstance(func, ast.Attribute)
                    and func.attr in _SINKS and ast.unparse(func.value).endswith("events")):
                continue
            index = _SINKS[func.attr]
            typed = len(node.args) > index and not isinstance(node.args[index], ast.Constant)
            if not typed or node.keywords:  # a type string, or fields given by name
                appends.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not appends, f"untyped event writes (use emit(CatalogueClass(...))): {appends}"


def test_the_walk_catches_an_untyped_event(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        'self.engine.events.append("call.danced", call.id)\n'
        'events.append_at(ts, "call.hold" if x else "call.sang", None)\n'
        'out.append(Emit("ivr.sang", {}))\n'
        'emit(out, "queue.sang", "c1")\n'
        'lines.append("not an event")\n', encoding="utf-8")
    found = written_types(tmp_path / "pkg")
    assert set(found) == {"call.danced", "call.hold", "call.sang", "ivr.sang", "queue.sang"}
    assert found["ivr.sang"] == "pkg/mod.py:3"
