"""Keypad injection (issue 13 defect 3) against a real engine and a real SIPp caller.

During a SIPp demo call that presses 2 1 2 3 # as RFC 4733 events, 5,000
RTP packets with random SSRC and payload type (a third of them
telephone-events with valid-looking payloads, the rest random audio) are
sent FROM THE CALLER'S OWN RTP ADDRESS, the one the engine latched (a raw
socket forges the source, as an attacker on the path would).  The engine
must log exactly the caller's five digits: 0 phantom ones.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct
from pathlib import Path

import pytest

from tests.peers.conftest import (
    EngineUnderTest,
    assert_demo_call,
    needs_sipp,
    session_watch,
    sipp,
    wait_until_idle,
)

pytestmark = [
    pytest.mark.peer,
    needs_sipp,
    pytest.mark.skipif(os.geteuid() != 0, reason="forging a source address needs a raw socket"),
]

GARBAGE = 5000
DTMF_PT = 101  # the telephone-event type demo_dtmf_caller_bye.xml offers


def _udp_from(src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> bytes:
    """An IPv4 + UDP datagram with a forged source (the kernel fills in the IP checksum)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload  # no UDP checksum
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    return ip + udp


def _garbage(rng: random.Random, i: int) -> bytes:
    if i % 3 == 0:  # a telephone-event, any key, end bit or not
        pt = DTMF_PT
        payload = struct.pack("!BBH", rng.randrange(16),
                              (0x80 if rng.random() < 0.5 else 0) | 10, rng.randrange(1, 2000))
    else:
        pt = rng.choice((0, 8, 13, rng.randrange(128)))
        payload = rng.randbytes(160)
    b1 = pt | (0x80 if rng.random() < 0.3 else 0)
    return struct.pack("!BBHII", 0x80, b1, rng.getrandbits(16), rng.getrandbits(32),
                       rng.getrandbits(32)) + payload


async def test_garbage_rtp_from_the_callers_address_keys_no_digit(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    call = asyncio.create_task(sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path))
    rng = random.Random(13)
    try:
        async with session_watch(engine) as sessions:
            for _ in range(500):  # the caller's first key latches its RTP address
                if sessions and sessions[0].latched is not None:
                    break
                await asyncio.sleep(0.01)
            session = sessions[0]
            peer = session.latched
            assert peer is not None
            dest = (engine.config.rtp_host, session.port)
            with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
                for i in range(GARBAGE):  # over ~2.5 s, while the caller presses 1 2 3 #
                    raw.sendto(_udp_from(peer, dest, _garbage(rng, i)), dest)
                    if i % 100 == 99:
                        await asyncio.sleep(0.05)
            res = await call
    finally:
        if not call.done():
            call.cancel()
    assert res.ok, res.describe()
    # Exactly the caller's own keys (2 1 2 3 #, RFC 4733): no phantom digit.
    await assert_demo_call(engine, cause="remote_bye")
    stats = session.stats
    assert session.latched == peer
    assert stats.unvalidated > GARBAGE // 3, stats  # really came from the latched address
    assert stats.foreign == 0, stats
    assert await wait_until_idle(engine)
