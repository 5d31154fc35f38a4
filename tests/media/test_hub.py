"""Two real RTP sessions on loopback, driven by one media hub and its clock.

Session A sends to session B and back; keys sent as RFC 4733 events or as
in-band tones come out of B's detectors; audio is counted both ways.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bailanys.media.hub import MediaHub
from bailanys.media.session import RtpSession

_ports = itertools.count(0)


async def pair(*, dtmf_pt: int | None) -> tuple[MediaHub, RtpSession, RtpSession, list]:
    base = 52000 + (next(_ports) % 40) * 20
    hub = MediaHub("127.0.0.1", (base, base + 20))
    await hub.start()
    a = await hub.open_session()
    b = await hub.open_session()
    a.configure(remote=("127.0.0.1", b.port), codec="PCMU", audio_pt=0, dtmf_pt=dtmf_pt)
    b.configure(remote=("127.0.0.1", a.port), codec="PCMU", audio_pt=0, dtmf_pt=dtmf_pt)
    heard: list[tuple[str, str]] = []
    b.on_dtmf = lambda digit, source: heard.append((digit, source))
    return hub, a, b, heard


async def wait_for(cond, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)


async def test_rfc4733_keys_sent_by_one_session_are_read_by_the_other() -> None:
    hub, a, b, heard = await pair(dtmf_pt=101)
    try:
        await asyncio.sleep(0.1)
        a.send_dtmf("1*9#")
        await wait_for(lambda: len(heard) >= 4 and not a.sending_dtmf)
        assert heard == [("1", "rfc4733"), ("*", "rfc4733"), ("9", "rfc4733"), ("#", "rfc4733")]
        assert not a.sending_dtmf
        assert b.stats.received > 10 and a.stats.received > 10  # audio both ways
    finally:
        await hub.stop()


async def test_keys_become_tones_when_the_peer_has_no_telephone_event() -> None:
    hub, a, b, heard = await pair(dtmf_pt=None)
    try:
        await asyncio.sleep(0.1)
        a.send_dtmf("59")
        await wait_for(lambda: len(heard) >= 2)
        assert heard == [("5", "inband"), ("9", "inband")]
        assert hub.stats.inband_digits == 2
    finally:
        await hub.stop()


async def test_a_foreign_source_is_ignored_after_latching() -> None:
    hub, a, b, heard = await pair(dtmf_pt=101)
    try:
        await wait_for(lambda: b.latched is not None)
        assert b.latched == ("127.0.0.1", a.port)
        loop = asyncio.get_running_loop()
        intruder, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        for seq in range(20):
            intruder.sendto(bytes([0x80, 0, 0, seq, 0, 0, 0, 0, 0, 0, 0, 9]) + b"\xff" * 160,
                            ("127.0.0.1", b.port))
        await asyncio.sleep(0.1)
        intruder.close()
        assert b.stats.foreign == 20
        assert b.latched == ("127.0.0.1", a.port)
    finally:
        await hub.stop()


async def test_unknown_key_is_refused() -> None:
    session = RtpSession(50000, 0)
    with pytest.raises(ValueError, match="not a DTMF key"):
        session.send_dtmf("1x")


async def test_rtcp_reports_cross_between_sessions_on_the_odd_ports() -> None:
    hub, a, b, _ = await pair(dtmf_pt=101)
    try:
        await wait_for(lambda: a.stats.received > 20 and b.stats.received > 20)
        # (The hub also sends reports on its own every 5 s, spread by slot.)
        a.send_rtcp()  # a sender report, on port + 1
        await wait_for(lambda: b.rtcp.reports_received >= 1)
        assert b.rtcp_source == ("127.0.0.1", a.port + 1)
        b.send_rtcp()  # its report about a's stream, with LSR/DLSR
        await wait_for(lambda: a.rtcp.peer.rtt_ms is not None)
        assert a.rtcp.peer.fraction_lost == 0.0
        assert a.rtcp.peer.rtt_ms is not None and 0 <= a.rtcp.peer.rtt_ms < 100
        quality = b.quality()
        assert quality["rtp_received"] == b.stats.received and quality["rtp_lost"] == 0
        hub.close_session(a)  # a final report and BYE
        await wait_for(lambda: b.rtcp.bye_received)
        assert b.rtcp.bye_received
    finally:
        await hub.stop()
