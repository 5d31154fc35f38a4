"""The call table: register, forget, the INVITE and awaiting-ACK indexes.

Issue 20 ("call setup cost flat in the call rate") gave the table reverse
indexes; the exhaustive test drives it through every short sequence of its
operations beside the table as it was before (plain dicts, scanned), and
checks that both hold the same entries and find the same calls.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bailanys.engine.call import Call, CallState
from bailanys.engine.calls import CallTable
from bailanys.engine.registrar import Binding
from bailanys.media.session import RtpSession
from bailanys.sip.dialog import Dialog
from bailanys.sip.headers import NameAddr
from bailanys.sip.message import Request, make_response, parse_message
from bailanys.sip.transport import Source
from tests.engine.corefakes import Rig, in_dialog, invite, sip
from tests.engine.test_dialer import PHONE_ADDR, answer


def a_call(rig: Rig, *, local_tag: str = "us1", call_id: str = "c1@192.0.2.10") -> Call:
    req = parse_message(invite(call_id=call_id))
    assert isinstance(req, Request)
    dialog = Dialog.uas(req, local_tag, "<sip:bailanys@198.51.100.1:5070>")
    return Call(rig.ports, dialog=dialog, session=RtpSession(40000, 0),
                peer=("192.0.2.10", 5062), transport="UDP")


def assert_empty(table: CallTable) -> None:
    assert table.by_dialog == {} and table.by_invite == {} and table.awaiting_ack == {}
    assert len(table) == 0 and not table.__dict__["_acking"] and not table.__dict__["_by_call_id"]
    for name in ("_dialog_of", "_ringing_key", "_ack_key"):
        assert table.__dict__[name] == {}, name


async def test_register_then_forget_clears_every_index() -> None:
    rig = Rig()
    table = CallTable()
    call = a_call(rig)
    table.register(call)
    table.ringing("k", call, None)  # type: ignore[arg-type]
    table.stop_ringing("k")
    table.await_ack("k", call)
    assert call.dialog is not None
    assert table.by_dialog == {call.dialog.id: call} and len(table) == 1
    assert list(table.acking("c1@192.0.2.10", "a1")) == [call]
    assert list(table.with_call_id("c1@192.0.2.10")) == [call]
    table.forget(call)
    table.forget(call)  # idempotent
    assert_empty(table)


async def test_an_ended_call_is_never_registered() -> None:
    rig = Rig()
    table = CallTable()
    call = a_call(rig)
    await call.end("test")
    table.register(call)
    assert table.by_dialog == {}
    assert_empty(table)


async def test_ringing_calls_count_towards_the_limit() -> None:
    rig = Rig(answer_delay_s=5.0)  # the INVITE rings: in by_invite, not yet by dialog
    try:
        rig.feed(invite())
        await rig.settle(2)
        ((call, _handle),) = rig.table.by_invite.values()
        assert len(rig.table) == 1 and rig.table.by_dialog == {}
        rig.table.forget(call)  # forgotten while ringing: the 200 never goes
        assert_empty(rig.table)
        await rig.settle(2)
    finally:
        await rig.close()


# ---------------------------------------------------------------- exhaustive


@dataclass
class OldTable:
    """The table before issue 20: plain dicts, every removal a scan."""

    by_dialog: dict[object, Call] = field(default_factory=dict)
    by_invite: dict[object, tuple[Call, object]] = field(default_factory=dict)
    awaiting_ack: dict[object, Call] = field(default_factory=dict)

    def register(self, call: Call) -> None:
        assert call.dialog is not None
        if call.state is not CallState.ENDED:
            self.by_dialog[call.dialog.id] = call

    def forget(self, call: Call) -> None:
        assert call.dialog is not None
        if self.by_dialog.get(call.dialog.id) is call:
            del self.by_dialog[call.dialog.id]
        for key, (c, _) in list(self.by_invite.items()):
            if c is call:
                del self.by_invite[key]
        self.drop_awaiting_ack(call)

    def drop_awaiting_ack(self, call: Call) -> None:
        for key, c in list(self.awaiting_ack.items()):
            if c is call:
                del self.awaiting_ack[key]


def _apply(op: tuple[str, ...], new: CallTable, old: OldTable, calls: dict[str, Call]) -> None:
    name, *args = op
    if name == "register":
        new.register(calls[args[0]])
        old.register(calls[args[0]])
    elif name == "ringing":
        new.ringing(args[0], calls[args[1]], args[1])  # type: ignore[arg-type]
        old.by_invite[args[0]] = (calls[args[1]], args[1])
    elif name == "stop_ringing":
        got = new.stop_ringing(args[0])
        assert got == old.by_invite.pop(args[0], None)
    elif name == "await_ack":
        new.await_ack(args[0], calls[args[1]])
        old.awaiting_ack[args[0]] = calls[args[1]]
    elif name == "drop_awaiting_ack":
        new.drop_awaiting_ack(calls[args[0]])
        old.drop_awaiting_ack(calls[args[0]])
    elif name == "forget":
        new.forget(calls[args[0]])
        old.forget(calls[args[0]])
    else:  # "end": what Call.end does to the table
        calls[args[0]].state = CallState.ENDED
        new.forget(calls[args[0]])
        old.forget(calls[args[0]])


def _same(new: CallTable, old: OldTable) -> None:
    assert new.by_dialog == old.by_dialog and new.by_invite == old.by_invite
    assert new.awaiting_ack == old.awaiting_ack
    assert len(new) == len(old.by_dialog) + len(old.by_invite)
    # What the call server looked up by scanning, found through the indexes.
    acking = list(dict.fromkeys(
        c for c in old.awaiting_ack.values() if c.dialog and c.dialog.id[0] == "c1@x"
        and c.dialog.id[2] == "a1"))
    assert list(new.acking("c1@x", "a1")) == acking
    established = [c for c in old.by_dialog.values() if c.dialog and c.dialog.id[0] == "c1@x"]
    assert list(new.with_call_id("c1@x")) == established


async def test_every_sequence_of_four_operations_matches_the_scanning_table() -> None:
    """Add, ring, answer, ACK, forget and end in every order (two calls of one
    Call-ID and From tag, two INVITE keys), each call under one key."""
    rig = Rig()
    names, keys = ("A", "B"), ("k1", "k2")
    ops: list[tuple[str, ...]] = []
    for c in names:
        ops += [("register", c), ("drop_awaiting_ack", c), ("forget", c), ("end", c)]
        ops += [(verb, k, c) for verb in ("ringing", "await_ack") for k in keys]
    ops += [("stop_ringing", k) for k in keys]
    calls = {c: a_call(rig, local_tag=f"us{c}", call_id="c1@x") for c in names}
    checked = 0
    for seq in itertools.product(ops, repeat=4):
        used = {(op[2], op[1]) for op in seq if op[0] in ("ringing", "await_ack")}
        if len({c for c, _ in used}) != len(used):
            continue  # a call's INVITE has one server transaction key (§17.2.3)
        for c in calls.values():
            c.state = CallState.OFFERED
        new, old = CallTable(), OldTable()
        for op in seq:
            _apply(op, new, old, calls)
            _same(new, old)
        for c in calls.values():
            new.forget(c)
        assert_empty(new)
        checked += 1
    assert checked > 40_000


# ---------------------------------------------------------------- on the call server


async def test_a_repeated_invite_after_the_200_gets_the_same_200_and_no_second_call() -> None:
    """RFC 3261 §13.3.1.4: the INVITE again (a new transaction, §17.2.1) after a lost 200."""
    rig = Rig()
    try:
        rig.feed(invite())
        await rig.settle()
        first = rig.wire.responses()[-1]
        assert first.status == 200 and len(rig.table.awaiting_ack) == 1
        rig.feed(invite())  # the 2xx ended the INVITE's transaction: this is a new one
        await rig.settle()
        again = rig.wire.responses()[-1]
        assert again.status == 200 and again.headers.get("To") == first.headers.get("To")
        assert len(rig.table) == 1 and len(rig.legs.opened) == 1
    finally:
        await rig.close()


async def test_an_ack_with_a_foreign_to_tag_confirms_the_call_by_call_id_from_tag_cseq() -> None:
    rig = Rig()
    try:
        rig.feed(invite())
        await rig.settle()
        ok = rig.wire.responses()[-1]
        assert NameAddr.parse(ok.headers.get("To") or "").tag
        (call,) = rig.table.by_dialog.values()
        rig.feed(in_dialog("ACK", "invented", cseq=2, branch="z9hG4bKack0"))  # wrong CSeq
        await rig.settle(1)
        assert call.state is CallState.ANSWERED and rig.table.awaiting_ack
        rig.feed(in_dialog("ACK", "invented", cseq=1, branch="z9hG4bKack1"))
        await rig.settle(1)
        assert call.state is CallState.CONFIRMED and not rig.table.awaiting_ack
        assert list(rig.table.acking("c1@192.0.2.10", "a1")) == []
    finally:
        await rig.close()


async def test_cancel_while_ringing_leaves_the_table_empty() -> None:
    """§9.2: the CANCEL finds the INVITE by its key; 487, and every index is cleared."""
    rig = Rig(answer_delay_s=5.0)
    try:
        rig.feed(invite())
        await rig.settle(2)
        rig.feed(sip("""
            CANCEL sip:1414@198.51.100.1 SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKinv1
            Max-Forwards: 70
            From: "Alice" <sip:77011234567@192.0.2.10>;tag=a1
            To: <sip:1414@198.51.100.1>
            Call-ID: c1@192.0.2.10
            CSeq: 1 CANCEL
        """))
        await rig.settle()
        assert 487 in rig.wire.statuses("INVITE")
        assert_empty(rig.table)
    finally:
        await rig.close()


async def test_a_retransmitted_2xx_to_our_invite_is_acked_again_by_its_call_id() -> None:
    """§13.2.2.4: the 2xx again after the INVITE client transaction ended (a stray
    response): the outbound leg found by its Call-ID sends its ACK again."""
    rig = Rig()
    rig.registrar.bindings["1001"] = [
        Binding("1001", "sip:1001@192.0.2.20:5060", 1e12, PHONE_ADDR, "UDP", "phone")
    ]
    try:
        leg = await rig.dialer.start_call_user("1001")
        answer(rig)
        assert await rig.dialer.ring(leg, 1.0) is True
        acks = len(rig.wire.requests("ACK"))
        assert leg.dialog is not None and list(rig.table.with_call_id(leg.dialog.call_id)) == [leg]
        answer(rig)  # the same 2xx: its transaction is gone
        await rig.settle(1)
        assert len(rig.wire.requests("ACK")) == acks + 1
        ok = rig.wire.requests("INVITE")[0]
        other = make_response(ok, 200, to_tag="p9")
        other.headers.set("Call-ID", "someone-else@192.0.2.20")
        rig.endpoint.receive(other, Source("UDP", PHONE_ADDR))
        await rig.settle(1)
        assert len(rig.wire.requests("ACK")) == acks + 1  # not ours: no ACK
    finally:
        await rig.close()
