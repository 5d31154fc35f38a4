"""Fakes for the engine's SIP adapters: the call server, the dialer, a call leg.

A real :class:`~bailanys.sip.endpoint.Endpoint` on a fake transport (what
goes out is recorded as parsed messages), RTP sessions that bind no socket,
an event list, a task set, and a router/registrar that answer as told.  SIP
is written as text (``tests/siptext.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bailanys.engine.call import Call, CallPorts, FlowFactory
from bailanys.engine.calls import CallTable
from bailanys.engine.dialer import Dialer
from bailanys.engine.floodguard import FloodGuard
from bailanys.engine.ports import AudioTap
from bailanys.engine.registrar import Binding
from bailanys.engine.uac import UacSettings
from bailanys.engine.uas import CallServer, UasSettings
from bailanys.errors import MediaError
from bailanys.events import AnyEvent, encode
from bailanys.media.recorder import Recorder
from bailanys.media.session import RtpSession
from bailanys.sip.endpoint import Endpoint
from bailanys.sip.message import Request, Response, make_response, parse_message
from bailanys.sip.timers import Timers
from bailanys.sip.transport import Addr, Source
from bailanys.store.events import Event
from bailanys.tasks import TaskSet

FAST = Timers(t1=0.001, t2=0.004, t4=0.005, d=0.005)  # 64*T1 = 64 ms
PHONE = Source("UDP", ("192.0.2.10", 5062))
HOST = "198.51.100.1"
SIP_PORT = 5070

OFFER = (
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
)


class Wire:
    """The fake transport: what the endpoint sends, parsed back."""

    def __init__(self) -> None:
        self.out: list[tuple[Request | Response, Addr]] = []

    def send(self, data: bytes, addr: Addr, transport: str = "UDP") -> None:
        self.out.append((parse_message(data), addr))

    def responses(self, method: str = "INVITE") -> list[Response]:
        return [m for m, _ in self.out if isinstance(m, Response) and m.cseq[1] == method]

    def statuses(self, method: str = "INVITE") -> list[int]:
        return [r.status for r in self.responses(method)]

    def requests(self, method: str) -> list[Request]:
        return [m for m, _ in self.out if isinstance(m, Request) and m.method == method]


class Legs:
    """Media legs without sockets: sessions are counted open and closed."""

    def __init__(self) -> None:
        self.opened: list[RtpSession] = []
        self.closed: list[RtpSession] = []
        self.taps: dict[int, AudioTap] = {}
        self.fail: Exception | None = None

    @property
    def open_now(self) -> list[RtpSession]:
        return [s for s in self.opened if s not in self.closed]

    async def open_session(self) -> RtpSession:
        if self.fail is not None:
            raise self.fail
        session = RtpSession(40000 + 2 * len(self.opened), len(self.opened))
        self.opened.append(session)
        return session

    def close_session(self, session: RtpSession) -> None:
        if session not in self.closed:
            self.closed.append(session)

    def record(self, session: RtpSession, path: Path) -> Recorder:
        raise AssertionError("not recorded in these tests")

    def stop_recording(self, session: RtpSession) -> None:
        pass

    def tap(self, session: RtpSession, on_audio: AudioTap) -> None:
        self.taps[session.port] = on_audio

    def untap(self, session: RtpSession) -> None:
        self.taps.pop(session.port, None)

    def bridge(self, a: RtpSession, b: RtpSession) -> None:
        pass

    def unbridge(self, session: RtpSession) -> None:
        pass


class Events:
    """An event sink that keeps (type, call_id, fields)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []
        self.side_rows: list[Any] = []

    def append(self, type: str, call_id: str | None = None, **fields: Any) -> Event:
        self.seen.append((type, call_id, fields))
        return Event(None, 0.0, type, call_id, fields)

    def emit(self, event: AnyEvent, *, rows: Sequence[Any] = ()) -> Event:
        self.side_rows.extend(rows)
        type_, call_id, fields = encode(event)
        return self.append(type_, call_id, **fields)

    def emit_at(self, ts: float, event: AnyEvent) -> Event:
        return self.emit(event)

    def types(self) -> list[str]:
        return [t for t, _, _ in self.seen]

    def of(self, type: str) -> dict[str, Any]:
        return next(f for t, _, f in self.seen if t == type)


class Router:
    """Answers the numbers it is given; each confirmed call runs ``flow``."""

    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers
        self.started: list[Call] = []
        self.hold = asyncio.Event()

    def answers(self, number: str) -> bool:
        return number in self.numbers

    def flow_for(self, call: Call) -> FlowFactory | None:
        async def flow(c: Call) -> None:
            self.started.append(c)
            await self.hold.wait()

        return flow if call.direction == "inbound" else None


class Registrar:
    """A registrar that answers 200 and knows the bindings it is given."""

    def __init__(self) -> None:
        self.bindings: dict[str, list[Binding]] = {}

    def handle(self, request: Request, source: Source, now: float) -> Response:
        return make_response(request, 200, to_tag="reg")

    def lookup(self, user: str, now: float) -> list[Binding]:
        return self.bindings.get(user, [])


class Rig:
    """A call server and a dialer on fakes, sharing one endpoint and call table."""

    def __init__(self, *, answer_delay_s: float = 0.0, max_calls: int = 10) -> None:
        self.wire = Wire()
        self.endpoint = Endpoint(self.wire, HOST, SIP_PORT, timers=FAST)
        self.legs = Legs()
        self.events = Events()
        self.tasks = TaskSet()
        self.table = CallTable()
        self.ports = CallPorts(sip=self.endpoint, legs=self.legs, events=self.events,
                               tasks=self.tasks, register=self.table.register,
                               forget=self.table.forget)
        self.router = Router({"1414"})
        self.registrar = Registrar()
        self.uas = CallServer(
            table=self.table, ports=self.ports, router=self.router, registrar=self.registrar,
            flood=FloodGuard(100),
            settings=UasSettings(rtp_host=HOST, sip_host=HOST, max_calls=max_calls,
                                 answer_delay_s=answer_delay_s, max_call_s=3600.0,
                                 record_dir=None),
        )
        self.endpoint.user = self.uas
        self.dialer = Dialer(ports=self.ports, bindings=self.registrar, max_call_s=3600.0,
                             settings=UacSettings(rtp_host=HOST, sip_host=HOST,
                                                  domain="example.kz"))

    def feed(self, raw: bytes, source: Source = PHONE) -> None:
        msg = parse_message(raw)
        self.endpoint.receive(msg, source)

    async def settle(self, rounds: int = 5) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        await self.tasks.cancel_all()
        self.endpoint.close()


def sip(text: str, body: str = "") -> bytes:
    """SIP text (one header a line, leading spaces ignored) and a body -> wire bytes."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def invite(*, number: str = "1414", body: str = OFFER, branch: str = "z9hG4bKinv1",
           to_tag: str = "", cseq: int = 1, call_id: str = "c1@192.0.2.10") -> bytes:
    to = f"<sip:{number}@{HOST}>" + (f";tag={to_tag}" if to_tag else "")
    ctype = "Content-Type: application/sdp\n" if body else ""
    return sip(f"""
        INVITE sip:{number}@{HOST} SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5062;branch={branch}
        Max-Forwards: 70
        From: "Alice" <sip:77011234567@192.0.2.10>;tag=a1
        To: {to}
        Call-ID: {call_id}
        CSeq: {cseq} INVITE
        Contact: <sip:alice@192.0.2.10:5062>
        {ctype}""", body)


def in_dialog(method: str, to_tag: str, *, cseq: int, branch: str,
              call_id: str = "c1@192.0.2.10") -> bytes:
    return sip(f"""
        {method} sip:bailanys@{HOST}:{SIP_PORT} SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5062;branch={branch}
        Max-Forwards: 70
        From: "Alice" <sip:77011234567@192.0.2.10>;tag=a1
        To: <sip:1414@{HOST}>;tag={to_tag}
        Call-ID: {call_id}
        CSeq: {cseq} {method}
    """)


def no_media() -> MediaError:
    return MediaError("no media slot left")
