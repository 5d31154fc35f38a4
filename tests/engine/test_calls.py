"""The call table: register, forget, the INVITE and awaiting-ACK indexes."""

from __future__ import annotations

from bailanys.engine.call import Call
from bailanys.engine.calls import CallTable
from bailanys.media.session import RtpSession
from bailanys.sip.dialog import Dialog
from bailanys.sip.message import Request, parse_message
from tests.engine.corefakes import Rig, invite


def a_call(rig: Rig) -> Call:
    req = parse_message(invite())
    assert isinstance(req, Request)
    dialog = Dialog.uas(req, "us1", "<sip:bailanys@198.51.100.1:5070>")
    return Call(rig.ports, dialog=dialog, session=RtpSession(40000, 0),
                peer=("192.0.2.10", 5062), transport="UDP")


async def test_register_then_forget_clears_every_index() -> None:
    rig = Rig()
    table = CallTable()
    call = a_call(rig)
    table.register(call)
    table.awaiting_ack["k"] = call
    assert call.dialog is not None
    assert table.by_dialog == {call.dialog.id: call} and len(table) == 1
    table.forget(call)
    table.forget(call)  # idempotent
    assert table.by_dialog == {} and table.awaiting_ack == {} and len(table) == 0


async def test_an_ended_call_is_never_registered() -> None:
    rig = Rig()
    table = CallTable()
    call = a_call(rig)
    await call.end("test")
    table.register(call)
    assert table.by_dialog == {}


async def test_ringing_calls_count_towards_the_limit() -> None:
    rig = Rig(answer_delay_s=5.0)  # the INVITE rings: in by_invite, not yet by dialog
    try:
        rig.feed(invite())
        await rig.settle(2)
        ((call, _handle),) = rig.table.by_invite.values()
        assert len(rig.table) == 1 and rig.table.by_dialog == {}
        rig.table.forget(call)
        assert rig.table.by_invite == {} and len(rig.table) == 0
    finally:
        await rig.close()
