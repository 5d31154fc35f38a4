"""REFER from an operator's phone (RFC 3515) in bailanys/engine/refer.py, on
fakes: the 202 and the NOTIFY sipfrags (100, then 200 / 404 / 503), the
refusals (403 off an agent's bridged leg, 501 for Replaces, 400), Refer-Sub:
false (RFC 4488). The real-peer run is tests/peers/test_transfers.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bailanys.engine.refer import ReferHandler
from bailanys.engine.transfers import Transfers
from bailanys.sip.message import Request, Response, make_response, parse_message
from bailanys.tasks import TaskSet
from bailanys.transfers.settings import TransfersConfig
from tests.engine.fakes import FakeEvents, FakeOutbound


def refer(refer_to: str | None, *extra: str) -> Request:
    lines = ["REFER sip:bailanys@127.0.0.1:5060 SIP/2.0",
             "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr1",
             "From: <sip:1001@h>;tag=phone", "To: <sip:bailanys@h>;tag=engine",
             "Call-ID: leg@h", "CSeq: 7 REFER", "Max-Forwards: 70", *extra]
    if refer_to is not None:
        lines.append(f"Refer-To: {refer_to}")
    msg = parse_message(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())
    assert isinstance(msg, Request)
    return msg


@dataclass
class Handle:
    request: Request
    replies: list[tuple[int, str | None, list[tuple[str, str]]]] = field(default_factory=list)

    def reply(self, status: int, reason: str | None = None, **kw: Any) -> None:
        self.replies.append((status, reason, list(kw.get("extra", []))))


@dataclass
class Sent:
    method: str
    body: bytes
    headers: dict[str, str]


class FakeDialog:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def receive_request(self, request: Request) -> int | None:
        return None

    def create_request(self, method: str, *, via: str, body: bytes = b"",
                       content_type: str | None = None,
                       extra: list[tuple[str, str]] = ()) -> Sent:  # type: ignore[assignment]
        sent = Sent(method, body, {"Content-Type": content_type or "", **dict(extra)})
        self.sent.append(sent)
        return sent


class FakeSip:
    def via(self, transport: str = "UDP") -> str:
        return "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKn"

    def send_request(self, req: Any, dest: Any, callback: Callable[[Response | None], None],
                     *, transport: str = "UDP") -> None:
        ok = make_response(refer(None), 200)
        asyncio.get_running_loop().call_soon(callback, ok)


@dataclass
class FakePorts:
    sip: FakeSip = field(default_factory=FakeSip)


class AgentLeg(FakeOutbound):
    def __init__(self) -> None:
        super().__init__("agent-leg", "1001")
        self.dialog = FakeDialog()
        self.ports = FakePorts()
        self.transport = "UDP"

    def target_addr(self) -> tuple[str, int]:
        return ("127.0.0.1", 5070)


class FakeQueues:
    def __init__(self, leg: AgentLeg, bridged: bool = True) -> None:
        self.leg, self.bridged = leg, bridged
        self.moved: list[str] = []

    def transferable(self, call_id: str) -> tuple[str, str, AgentLeg] | None:
        return ("support", "1001", self.leg) if self.bridged else None

    def call_of_leg(self, leg_id: str) -> str | None:
        return "caller-1" if leg_id == self.leg.id else None

    def queue_state(self, name: str) -> object | None:
        return object() if name == "second" else None

    def blind_to_queue(self, call_id: str, queue: str) -> AgentLeg:
        self.moved.append(queue)
        return self.leg


class Rig:
    def __init__(self, bridged: bool = True) -> None:
        self.leg = AgentLeg()
        self.queues = FakeQueues(self.leg, bridged)
        self.events = FakeEvents()
        self.tasks = TaskSet()
        self.transfers = Transfers(
            config=TransfersConfig(targets={"second": "queue:second", "gone": "queue:gone"},
                                   kk={"second": "Е", "gone": "Ж"},
                                   ru={"second": "В", "gone": "Н"}),
            queues=self.queues, dialer=None, events=self.events)  # type: ignore[arg-type]
        self.handler = ReferHandler(lambda: self.transfers, self.queues,  # type: ignore[arg-type]
                                    self.tasks.spawn)

    async def refer(self, request: Request) -> Handle:
        handle = Handle(request)
        self.handler.on_refer(handle, self.leg)  # type: ignore[arg-type]
        for _ in range(50):
            await asyncio.sleep(0.002)
        await self.tasks.cancel_all()
        await self.transfers.stop()
        return handle

    def notifies(self) -> list[tuple[str, str, str]]:
        return [(s.body.decode().strip(), s.headers["Event"], s.headers["Subscription-State"])
                for s in self.leg.dialog.sent if s.method == "NOTIFY"]


async def test_refer_to_a_queue_target_202_trying_200_then_bye() -> None:
    rig = Rig()
    handle = await rig.refer(refer("<sip:second@127.0.0.1>"))
    assert [r[0] for r in handle.replies] == [202]
    assert rig.notifies() == [
        ("SIP/2.0 100 Trying", "refer;id=7", "active;expires=60"),
        ("SIP/2.0 200 OK", "refer;id=7", "terminated;reason=noresource")]
    assert rig.leg.dialog.sent[0].headers["Content-Type"] == "message/sipfrag;version=2.0"
    assert rig.queues.moved == ["second"]
    assert rig.leg.hangups and rig.leg.hangups[0][0] == "transferred"  # BYE after the NOTIFY
    assert rig.events.of("call.transferred")[0]["via"] == "phone"


@pytest.mark.parametrize("target, final", [
    ("<sip:nobody@127.0.0.1>", "SIP/2.0 404 Not Found"),
    ("<sip:gone@127.0.0.1>", "SIP/2.0 503 Service Unavailable"),  # no such queue
])
async def test_refer_to_what_cannot_be_reached(target: str, final: str) -> None:
    rig = Rig()
    handle = await rig.refer(refer(target))
    assert [r[0] for r in handle.replies] == [202]
    assert [n[0] for n in rig.notifies()] == ["SIP/2.0 100 Trying", final]
    assert rig.notifies()[-1][2].startswith("terminated")
    assert rig.queues.moved == [] and not rig.leg.hangups  # still with the caller
    assert rig.events.of("call.transferred") == []


@pytest.mark.parametrize("bridged, request_, status", [
    (False, refer("<sip:second@h>"), 403),  # the agent's leg is not bridged to a caller
    (True, refer(None), 400),
    (True, refer("<sip:second@h"), 400),
    (True, refer("<sip:1002@h?Replaces=c%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"), 501),
])
async def test_refused_refer(bridged: bool, request_: Request, status: int) -> None:
    rig = Rig(bridged)
    handle = await rig.refer(request_)
    assert [r[0] for r in handle.replies] == [status]
    assert rig.leg.dialog.sent == [] and rig.queues.moved == []


async def test_refer_sub_false_sends_no_notify() -> None:
    rig = Rig()
    handle = await rig.refer(refer("<sip:second@h>", "Refer-Sub: false"))
    assert handle.replies == [(202, None, [("Refer-Sub", "false")])]
    assert rig.notifies() == [] and rig.queues.moved == ["second"]


async def test_a_phone_not_answering_the_notify_still_gets_its_bye(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bailanys.engine.refer.NOTIFY_WAIT_S", 0.02)
    rig = Rig()
    monkeypatch.setattr(rig.leg.ports.sip, "send_request", lambda *a, **kw: None)
    await rig.refer(refer("<sip:second@h>"))
    assert [n[0] for n in rig.notifies()] == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    assert rig.leg.hangups and rig.leg.hangups[0][0] == "transferred"
