"""Who ended a call, on the real engine (issue 13 defect 8, contracts 1 and 2).

A caller waiting in a queue who hangs up is the caller's abandon (a lost
call); one the engine hangs up on (no RTP, the call-length limit) is not:
``queue.abandoned`` and ``call.ended`` carry the engine's cause. A plain UDP
socket plays a caller whose phone sends no RTP at all.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.peers.conftest import (
    EngineFactory,
    EngineUnderTest,
    events_of,
    needs_sipp,
    sipp,
    wait_until_idle,
)
from tests.peers.sipp import make_ulaw_wav

pytestmark = pytest.mark.peer

FLOW = """
flow: causes-test
numbers: ["1417"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: ru
    next: queue
  queue:
    type: queue
    queue: support
    fallback: bye
  bye:
    type: hangup
"""

QUEUES = """
[queues.support]
skills = ["support"]
announce_interval_s = 30

[agents.1001]
skills = { ru = 10, support = 5 }
"""

SDP = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


async def _engine(engine_factory: EngineFactory, tmp_path: Path, **kw: object) -> EngineUnderTest:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(QUEUES, encoding="utf-8")
    return await engine_factory(ivr={"flow_dir": str(flows)}, queue={"file": str(queues)},
                                **kw)  # type: ignore[arg-type]


def _request(method: str, port: int, cseq: int, to_tag: str = "", body: str = "") -> bytes:
    tag = f";tag={to_tag}" if to_tag else ""
    head = [
        f"{method} sip:1417@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{method}{cseq};rport",
        "Max-Forwards: 70",
        f"From: <sip:7701@127.0.0.1:{port}>;tag=mute1",
        f"To: <sip:1417@127.0.0.1>{tag}",
        f"Call-ID: mute-{port}@127.0.0.1",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:7701@127.0.0.1:{port}>",
    ]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


async def _mute_caller(eng: EngineUnderTest, within: float) -> list[str]:
    """INVITE 1417, ACK the 200, send no RTP; returns what came within ``within`` s."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        port = sock.getsockname()[1]
        target = (eng.config.sip.host, eng.transport.port)
        sock.sendto(_request("INVITE", port, 1, body=SDP.format(port=port + 2)), target)
        got: list[str] = []
        end = loop.time() + within
        acked = False
        while (left := end - loop.time()) > 0:
            try:
                text = (await asyncio.wait_for(loop.sock_recv(sock, 65535), left)).decode()
            except TimeoutError:
                break
            got.append(text)
            if text.startswith("SIP/2.0 200") and " INVITE\r\n" in text and not acked:
                to = next(x for x in text.split("\r\n") if x.startswith("To:"))
                sock.sendto(_request("ACK", port, 1, to.split("tag=")[1]), target)
                acked = True
            elif text.startswith("BYE "):
                via = next(x for x in text.split("\r\n") if x.startswith("Via:"))
                heads = [x for x in text.split("\r\n")
                         if x.split(":")[0] in ("From", "To", "Call-ID", "CSeq")]
                ok = "\r\n".join(["SIP/2.0 200 OK", via, *heads, "Content-Length: 0"])
                sock.sendto((ok + "\r\n\r\n").encode(), target)
                break
        return got


async def _ends(eng: EngineUnderTest) -> tuple[list[tuple[str, str]], list[str]]:
    events = await events_of(eng)
    ended = [(e.data["cause"], e.data["reason"]) for e in events if e.type == "call.ended"]
    abandoned = [e.data["cause"] for e in events if e.type == "queue.abandoned"]
    return ended, abandoned


async def test_no_rtp_while_waiting_is_the_engines_hang_up_not_a_lost_call(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path, media={"rtp_timeout_s": 2})
    got = await _mute_caller(eng, 6.0)
    assert any(t.startswith("BYE ") for t in got), got
    assert await wait_until_idle(eng)
    assert await _ends(eng) == ([("rtp_timeout", "rtp_timeout")], ["rtp_timeout"])


async def test_the_call_length_limit_while_waiting_is_not_a_lost_call(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path, engine={"max_call_seconds": 2})
    got = await _mute_caller(eng, 6.0)
    assert any(t.startswith("BYE ") for t in got), got
    assert await wait_until_idle(eng)
    assert await _ends(eng) == ([("max_duration", "max_duration")], ["max_duration"])


@needs_sipp
async def test_a_caller_who_hangs_up_while_waiting_is_a_callers_abandon(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path)
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_load.wav", 1.0, 0.0)
    res = await sipp(eng, "load_call.xml", sipp_dir, timeout_s=20, service="1417",
                     duration_ms=3000)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    assert await _ends(eng) == ([("caller", "remote_bye")], ["caller"])


async def test_a_call_still_ringing_at_a_stop_gets_503_and_ends_with_engine_shutdown(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path, engine={"answer_delay_ms": 5000})
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        port = sock.getsockname()[1]
        sock.sendto(_request("INVITE", port, 1, body=SDP.format(port=port + 2)),
                    (eng.config.sip.host, eng.transport.port))
        got = [(await asyncio.wait_for(loop.sock_recv(sock, 65535), 2)).decode()]
        while not got[-1].startswith("SIP/2.0 180"):
            got.append((await asyncio.wait_for(loop.sock_recv(sock, 65535), 2)).decode())
        appended = eng.appended
        await eng.stop()
        final = (await asyncio.wait_for(loop.sock_recv(sock, 65535), 2)).decode()
    assert final.startswith("SIP/2.0 503") and "\r\nRetry-After: 5\r\n" in final, final
    ended = [(e.data["cause"], e.data["reason"]) for e in appended if e.type == "call.ended"]
    assert ended == [("engine_shutdown", "shutdown")]


async def test_a_second_stop_signal_cuts_the_notice_short_but_stops_whole(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """SIGTERM twice (the stop task cancelled during the notice): the calls
    still end with engine_shutdown and the engine still closes everything."""
    eng = await _engine(engine_factory, tmp_path, engine={"drain_seconds": 30})
    caller = asyncio.get_running_loop().create_task(_mute_caller(eng, 20.0))
    for _ in range(50):
        if any(e.type == "queue.joined" for e in eng.appended):
            break
        await asyncio.sleep(0.1)
    stopping = asyncio.get_running_loop().create_task(eng.stop())
    for _ in range(50):
        if any(e.type == "call.notice" for e in eng.appended):
            break
        await asyncio.sleep(0.1)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    got = await asyncio.wait_for(caller, 5)
    assert any(t.startswith("BYE ") for t in got), got
    assert not eng.started and not eng.calls and not eng.hub.sessions
    ends = [(e.type, e.data.get("cause")) for e in eng.appended
            if e.type in ("queue.abandoned", "call.ended", "engine.stopped")]
    assert ends == [("queue.abandoned", "engine_shutdown"), ("call.ended", "engine_shutdown"),
                    ("engine.stopped", None)]
