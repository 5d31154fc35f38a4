"""A call leg on fake ports: SIP out through a fake sender, media legs, events, tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bailanys.engine.call import Call, CallPorts, CallState, FlowFactory
from bailanys.media.session import RtpSession
from bailanys.sip.dialog import Dialog
from bailanys.sip.message import Request, Response, make_response, parse_message
from bailanys.sip.timers import Timers
from bailanys.sip.transport import Addr
from bailanys.tasks import TaskSet
from tests.engine.corefakes import Events, Legs, invite


class Sender:
    """The SIP sender port: records requests and stateless sends."""

    port = 5070
    timers: Timers | None = None

    def __init__(self) -> None:
        self.requests: list[tuple[Request, Addr]] = []
        self.stateless: list[Request | Response] = []

    def send_request(self, request: Request, dest: Addr,
                     callback: Callable[[Response | None], None], *,
                     transport: str = "UDP") -> object:
        self.requests.append((request, dest))
        return None

    def send_stateless(self, message: Request | Response, dest: Addr, transport: str) -> None:
        self.stateless.append(message)

    def via(self, transport: str = "UDP") -> str:
        return "SIP/2.0/UDP 198.51.100.1:5070;branch=z9hG4bKx;rport"


class Flows:
    def __init__(self) -> None:
        self.ran: list[Call] = []

    def flow_for(self, call: Call) -> FlowFactory | None:
        async def flow(c: Call) -> None:
            self.ran.append(c)

        return flow


class Parts:
    def __init__(self) -> None:
        self.sip = Sender()
        self.legs = Legs()
        self.events = Events()
        self.tasks = TaskSet()
        self.forgotten: list[Call] = []
        self.ports = CallPorts(sip=self.sip, legs=self.legs, events=self.events,
                               tasks=self.tasks, register=lambda c: None,
                               forget=self.forgotten.append)

    def call(self, router: Flows | None = None) -> tuple[Call, Request]:
        req = parse_message(invite())
        assert isinstance(req, Request)
        dialog = Dialog.uas(req, "us1", "<sip:bailanys@198.51.100.1:5070>")
        session = RtpSession(40000, 0)
        self.legs.opened.append(session)
        return Call(self.ports, dialog=dialog, session=session, peer=("192.0.2.10", 5062),
                    transport="UDP", router=router), req


async def test_answered_then_acked_runs_the_flow_the_router_picks() -> None:
    parts, flows = Parts(), Flows()
    call, req = parts.call(flows)
    call.answered(make_response(req, 200, to_tag="us1"))
    assert call.state is CallState.ANSWERED
    call.on_ack(req)
    await asyncio.sleep(0)
    assert call.state.value == "confirmed" and flows.ran == [call]
    await call.end("test")
    await parts.tasks.cancel_all()


async def test_hangup_sends_bye_and_releases_everything() -> None:
    parts = Parts()
    call, req = parts.call()
    call.answered(make_response(req, 200, to_tag="us1"))
    call.on_ack(req)
    await call.hangup("flow_done")
    ((bye, dest),) = parts.sip.requests
    assert bye.method == "BYE" and dest == ("192.0.2.10", 5062)
    assert call.ended.is_set() and parts.forgotten == [call]
    assert parts.legs.open_now == []
    ended = parts.events.of("call.ended")
    assert ended["reason"] == "flow_done" and ended["cause"] == "flow"
    await call.hangup("again")  # idempotent: no second BYE
    assert len(parts.sip.requests) == 1


async def test_secret_keys_are_not_logged_and_listen_taps_the_leg() -> None:
    parts = Parts()
    call, _ = parts.call()
    call.secret_keys = True
    call.on_dtmf("7", "rfc4733")
    assert parts.events.of("dtmf") == {"digit": "", "source": "rfc4733", "masked": True}
    assert await call.next_digit(0.1) == "7"

    def heard(frame: NDArray[np.int16]) -> None:
        pass

    call.listen(heard)
    assert parts.legs.taps == {40000: heard}
    call.listen(None)
    assert parts.legs.taps == {}
    await call.end("test")
