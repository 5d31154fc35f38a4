"""Bad input from outside: the engine answers or drops it, keeps serving, loses no event.

* RFC 4475 torture messages over UDP in the middle of a SIPp demo call;
* an INVITE flood from one address against the per-source flood guard,
  then a call from another address;
* garbage and foreign RTP aimed at a live call's RTP port.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from pathlib import Path

import pytest

from tests.peers.conftest import (
    EngineFactory,
    EngineUnderTest,
    assert_demo_call,
    events_of,
    needs_sipp,
    session_watch,
    sipp,
    spy_sends,
    statuses,
    wait_until_idle,
)

pytestmark = [pytest.mark.peer, needs_sipp]

TORTURE = Path(__file__).resolve().parents[1] / "sip" / "torture"


async def assert_store_complete(engine: EngineUnderTest) -> None:
    """The event log stored exactly the events that were appended, in order."""
    stored = await events_of(engine)
    assert len(stored) == len(engine.appended)
    assert [(e.type, e.call_id) for e in stored] == [(e.type, e.call_id) for e in engine.appended]


async def wait_for_call(engine: EngineUnderTest, within: float = 10.0) -> None:
    """Until the engine has a confirmed call whose RTP source is latched."""
    for _ in range(int(within / 0.02)):
        for call in engine.calls.values():
            if call.state.value == "confirmed" and call.session.latched is not None:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("no confirmed call with latched RTP")


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.replies.append(data)


async def test_torture_messages_during_a_call(engine: EngineUnderTest, tmp_path: Path) -> None:
    """All 49 RFC 4475 messages mid-call: invalid requests get their 4xx/5xx, the call lives on."""
    from tests.sip.test_torture import EXPECT, PARSE, VALID

    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        _Collector, local_addr=("127.0.0.1", 0)
    )
    call = asyncio.create_task(sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path / "sipp"))
    answered: dict[str, list[int]] = {}
    try:
        await wait_for_call(engine)
        for name in sorted(EXPECT):
            with spy_sends(engine) as sent:
                transport.sendto((TORTURE / f"{name}.sip").read_bytes(), engine_addr(engine))
                await asyncio.sleep(0.03)
            answered[name] = statuses(sent)
        res = await call
    finally:
        transport.close()
        if not call.done():
            call.cancel()
    assert res.ok, res.describe()
    await assert_demo_call(engine, cause="remote_bye")
    assert await wait_until_idle(engine)
    for name, (_, kind, status) in EXPECT.items():
        if kind != VALID and status is not None:
            # (A later window may also hold retransmitted 404s of earlier INVITEs.)
            assert status in answered[name], (name, answered[name])
            assert not any(200 <= c < 300 for c in answered[name]), (name, answered[name])
    assert 500 not in {code for codes in answered.values() for code in codes}, answered
    # Valid but unservable (RFC 4475 §3.3): unknown Request-URI schemes get 416,
    # an unknown Require 420, a re-INVITE outside any dialog 481.
    assert 416 in answered["unkscm"] and 416 in answered["novelsc"], answered
    assert 420 in answered["bext01"] and 481 in answered["wsinv"], answered
    # The parser's rejects are answered statelessly to the source address (our
    # socket); validate_request's go where the Via says (§18.2.2), not here.
    # mpart01 (a MESSAGE, Via with rport) gets its 405 here too.
    codes = sorted(int(r.split(b" ", 2)[1]) for r in collector.replies if r.startswith(b"SIP/2.0"))
    parse_rejects = [st for _, kind, st in EXPECT.values() if kind == PARSE and st is not None]
    assert codes == sorted([*parse_rejects, 405]), codes
    await assert_store_complete(engine)


def engine_addr(engine: EngineUnderTest) -> tuple[str, int]:
    return engine.config.sip.host, engine.transport.port


async def test_invite_flood_then_another_caller(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """400 INVITEs at 200/s from one address: some 503, none leaked; others still served."""
    engine = await engine_factory(sip={"max_new_calls_per_source_per_second": 20})
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    res = await sipp(
        engine, "invite_flood.xml", tmp_path / "flood", calls=400, rate=200, timeout_s=30
    )
    took = loop.time() - t0
    assert res.ok, res.describe()
    got = {k: v for k, v in res.counts.items() if k.endswith("_Recv") and v}
    # The INVITE's 200 is the first "<step>_200_Recv" (the BYE's 200 comes later).
    first_200 = min(
        (k for k in got if k.split("_")[1] == "200"), key=lambda k: int(k.split("_")[0])
    )
    ok_200 = got[first_200]
    busy = sum(v for k, v in got.items() if k.split("_")[1] == "503")
    assert ok_200 + busy == 400, got
    # A bucket of 20 refilled at 20/s admits 20 + 20/s over the ~2 s flood.
    assert 20 <= ok_200 <= 20 + 20 * took and busy > 0, (got, took)
    assert engine.flood.refused == busy
    # Another source address (127.0.0.0/8 all routes to lo) is not throttled.
    other = ("-i", "127.0.0.2", "-mi", "127.0.0.2")
    res2 = await sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path / "other", extra_args=other)
    assert res2.ok, res2.describe()
    assert await wait_until_idle(engine)
    offered = await events_of(engine, "call.offered")
    ended = await events_of(engine, "call.ended")
    assert len(offered) == ok_200 + 1, got
    assert sorted(e.call_id or "" for e in offered) == sorted(e.call_id or "" for e in ended)
    last = offered[-1]
    assert last.data["from"].startswith("sip:sipp@127.0.0.2")
    dtmf = [e.data["digit"] for e in await events_of(engine, "dtmf") if e.call_id == last.call_id]
    assert dtmf == ["2", "1", "2", "3", "#"]
    assert not engine.calls
    await assert_store_complete(engine)


def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + payload


async def test_garbage_and_foreign_rtp(engine: EngineUnderTest, tmp_path: Path) -> None:
    """Random bytes and RTP from a stranger at a live call's port: counted, dropped, no harm."""
    call = asyncio.create_task(sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path))
    try:
        async with session_watch(engine) as sessions:
            await wait_for_call(engine)
            session = sessions[0]
            dest = (engine.config.rtp_host, session.port)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(100):
                    s.sendto(os.urandom(i % 40), dest)  # short and random: not RTP
                    s.sendto(b"\x00" * 12 + os.urandom(160), dest)  # version 0
                    s.sendto(rtp(0, i, i * 160, 0xBAD, b"\x00" * 160), dest)  # foreign audio
                    # a foreign RFC 4733 '9' (event 9, end bit) must not become a digit
                    s.sendto(rtp(101, 1000 + i, 5000, 0xBAD, bytes([9, 0x8A, 0, 160])), dest)
                    if i % 10 == 0:
                        await asyncio.sleep(0.02)
            res = await call
    finally:
        if not call.done():
            call.cancel()
    assert res.ok, res.describe()
    await assert_demo_call(engine, cause="remote_bye")
    stats = session.stats
    assert stats.garbage >= 100, stats
    assert stats.foreign >= 200, stats
    await assert_store_complete(engine)
