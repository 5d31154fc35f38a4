"""The media core, compiled (``_fastrtp.c``) against pure (``core.py``): same packets in, same out.

Every test runs on both implementations; the comparison tests feed one
packet sequence (a stream with reordering, duplicates, a sequence wrap, an
SSRC change, garbage, short packets, wrong versions, foreign addresses,
CSRC/extension/padding, RTCP multiplexed, telephone-events, random bytes)
to a pure core and a compiled one and compare, after every step, what each
exposes: counters, jitter-buffer statistics, reception statistics, the
latch, source validation, the rare packets handed to Python, and the
decoded frames of ``pop``.  Real sockets on loopback check ``send`` and
``drain``.
"""

from __future__ import annotations

import random
import socket
import struct
import time

import numpy as np
import pytest

from bailanys.media import g711
from bailanys.media.core import (
    FLAG_CANDIDATE,
    FLAG_INBAND,
    RARE_AUDIO_TS,
    RARE_EVENT,
    RARE_RTCP,
    RARE_RTCP_PORT,
    RARE_SOURCE,
    MediaCore,
    PureCore,
    compiled_available,
    is_compiled,
    make_core,
)
from bailanys.media.dtmf4733 import Rfc4733Sender
from bailanys.media.goertzel import classify_frames, dtmf_tone, inband_gate
from bailanys.media.rtcp import RtcpState

PEER = ("127.0.0.1", 40000)
OTHER = ("127.0.0.1", 40002)
HDR = struct.Struct("!BBHII")
FLOOR, FRACTION = inband_gate()

compiled = pytest.mark.skipif(not compiled_available(), reason="the C extension is not built")
KINDS = [pytest.param("pure", id="pure"), pytest.param("compiled", id="compiled", marks=compiled)]


def core_of(kind: str, capacity: int = 8) -> MediaCore:
    core = make_core(capacity, pure=kind == "pure")
    assert is_compiled(core) == (kind == "compiled")
    return core


def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False,
        b0: int = 0x80) -> bytes:
    return HDR.pack(b0, pt | (0x80 if marker else 0), seq & 0xFFFF, ts & 0xFFFFFFFF,
                    ssrc) + payload


def frame(seed: int) -> bytes:
    return bytes((seed * 7 + i) & 0xFF for i in range(160))


def state(core: MediaCore, slot: int) -> tuple[object, ...]:
    rx = list(core.rx_stats(slot))
    rx[5] = round(rx[5], 6)  # jitter (float)
    rx[6] = None if rx[6] is None else round(rx[6], 3)
    return (core.counters(slot), core.jitter(slot), tuple(rx), core.rx_ssrc(slot),
            core.source(slot), core.latched(slot), core.tx_state(slot))


def popped(core: MediaCore, rows: int = 8) -> tuple[object, ...]:
    pcm = np.zeros((rows, 160), np.int16)
    slots = np.zeros(rows, np.int32)
    flags = np.zeros(rows, np.uint8)
    n = core.pop(pcm, slots, flags, FLOOR, FRACTION)
    return n, pcm[:n].tobytes(), slots[:n].tolist(), flags[:n].tolist()


def twins() -> tuple[MediaCore, MediaCore]:
    pure, fast = make_core(8, pure=True), make_core(8, pure=False)
    for core in (pure, fast):
        for slot in (0, 3):
            core.open(slot, -1, 0x11223344, 100, 5000, 16, 3, True)
            core.configure(slot, 0, 101, slot == 3)
            core.set_inband(slot, True)
    return pure, fast


def scripted_packets() -> list[tuple[int, bytes, tuple[str, int]]]:
    """(slot, datagram, source): the cases one by one."""
    out: list[tuple[int, bytes, tuple[str, int]]] = []
    seq = 65530  # wraps below
    for i in range(12):
        out.append((0, rtp(0, seq + i, 160 * i, 0xAAAA, frame(i)), PEER))
    out += [
        (0, rtp(0, seq + 14, 160 * 14, 0xAAAA, frame(14)), PEER),  # a gap, then reordered
        (0, rtp(0, seq + 13, 160 * 13, 0xAAAA, frame(13)), PEER),
        (0, rtp(0, seq + 13, 160 * 13, 0xAAAA, frame(13)), PEER),  # duplicate
        (0, b"\x80\x00\x01", PEER),  # short
        (0, rtp(0, 1, 0, 0xAAAA, frame(1), b0=0x40), PEER),  # version 1
        (0, rtp(0, seq + 15, 0, 0xBBBB, frame(2)), OTHER),  # foreign address
        (0, rtp(0, seq + 15, 160 * 15, 0xAAAA, b"\x01" * 80), PEER),  # short payload
        (0, rtp(0, seq + 16, 160 * 16, 0xAAAA, b"\x00\x00\x00\x05" + bytes([0x81, 0, 0, 1]) +
                frame(16), b0=0x81), PEER),  # one CSRC
        (0, rtp(0, seq + 17, 160 * 17, 0xAAAA, b"\xbe\xde\x00\x01" + b"\x00" * 4 + frame(17),
                b0=0x90), PEER),  # header extension
        (0, rtp(0, seq + 18, 160 * 18, 0xAAAA, b"\xbe\xde\x00\x09", b0=0x90), PEER),  # overrun
        (0, rtp(0, seq + 19, 160 * 19, 0xAAAA, frame(19) + b"\x00\x00\x03", b0=0xA0), PEER),
        (0, rtp(0, seq + 20, 160 * 20, 0xAAAA, b"\x00", b0=0xA0), PEER),  # padding count 0
        (0, rtp(13, seq + 21, 160 * 21, 0xAAAA, b"\x01\x02"), PEER),  # unknown PT (CN)
        (0, bytes([0x81, 201, 0, 7]) + b"\x00" * 28, PEER),  # RTCP RR, multiplexed
    ]
    n = seq + 22
    for payload, marker, ts in Rfc4733Sender().packets("5", start_timestamp=99_000,
                                                       duration_ms=60):
        out.append((0, rtp(101, n, ts, 0xAAAA, payload, marker), PEER))
        out.append((0, rtp(0, n + 1, ts + 80, 0xAAAA, frame(n)), PEER))  # audio while open
        n += 2
    out.append((0, rtp(101, n, 1, 0xAAAA, b"\x01\x02"), PEER))  # event payload too short
    # A new SSRC: one probation packet, then it takes over; the old one is a stranger.
    out += [(0, rtp(0, 7000, 0, 0xCCCC, frame(70)), PEER),
            (0, rtp(0, 7001, 160, 0xCCCC, frame(71)), PEER),
            (0, rtp(0, n + 1, 0, 0xAAAA, frame(1)), PEER)]
    # Slot 3 (PCMA): a jump beyond MAX_DROPOUT, one behind MAX_MISORDER.
    for s in (10, 11, 12, 13, 5000, 5001, 4800, 5002):
        out.append((3, rtp(0, s, s * 160, 0x3333, frame(s)), PEER))
    return out


@compiled
def test_scripted_cases_give_the_same_state_rare_packets_and_frames() -> None:
    pure, fast = twins()
    t = 1000.0
    for k, (slot, data, addr) in enumerate(scripted_packets()):
        t += 0.02
        pure.feed(slot, data, addr, t)
        fast.feed(slot, data, addr, t)
        assert state(pure, slot) == state(fast, slot), k
        if k % 3 == 0:
            assert popped(pure) == popped(fast), k
    rare_p, rare_f = pure.take_rare(), fast.take_rare()
    assert rare_p == rare_f
    kinds = {r[0] for r in rare_p}
    assert kinds == {RARE_RTCP, RARE_EVENT, RARE_AUDIO_TS, RARE_SOURCE}
    for _ in range(20):
        assert popped(pure) == popped(fast)
    c = dict(zip(("sent", "received", "rtcp", "garbage", "foreign", "unvalidated"),
                 fast.counters(0), strict=False))
    assert c["garbage"] >= 5 and c["foreign"] == 1 and c["unvalidated"] == 2
    assert fast.source(0)[1] == 1 and fast.rx_ssrc(0) == 0xCCCC


@compiled
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_streams_and_garbage_give_the_same_everything(seed: int) -> None:
    rng = random.Random(seed)
    pure, fast = twins()
    seqs = {0: rng.randrange(65536), 3: rng.randrange(65536)}
    ssrcs = {0: 1, 3: 2}
    t = 0.0
    for step in range(4000):
        slot = rng.choice((0, 3))
        r = rng.random()
        if r < 0.6:  # the stream, reordered and lossy
            s = (seqs[slot] + rng.choice((0, 0, 0, 1, -1, 2, -3, 40, -200))) & 0xFFFF
            seqs[slot] = (seqs[slot] + 1) & 0xFFFF
            data = rtp(0, s, s * 160, ssrcs[slot], bytes(rng.randbytes(160)))
        elif r < 0.65:
            ssrcs[slot] = rng.getrandbits(32)
            data = rtp(0, seqs[slot], 0, ssrcs[slot], frame(step))
        elif r < 0.75:  # mutate a valid packet
            raw = bytearray(rtp(rng.choice((0, 101, 8)), seqs[slot], 0, ssrcs[slot],
                                frame(step)))
            for _ in range(rng.randrange(1, 4)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            data = bytes(raw[: rng.randrange(1, len(raw) + 1)])
        elif r < 0.8:
            data = rng.randbytes(rng.randrange(0, 40))
        else:
            data = rtp(101, seqs[slot], rng.getrandbits(32), ssrcs[slot],
                       bytes([rng.randrange(20), rng.choice((0, 0x80)), 0, rng.randrange(256)]),
                       rng.random() < 0.3)
            seqs[slot] = (seqs[slot] + 1) & 0xFFFF
        addr = OTHER if rng.random() < 0.02 else PEER
        t += rng.random() * 0.03
        pure.feed(slot, data, addr, t)
        fast.feed(slot, data, addr, t)
        if step % 2:
            assert popped(pure) == popped(fast), step
        if step % 50 == 0:
            assert state(pure, 0) == state(fast, 0) and state(pure, 3) == state(fast, 3), step
            assert pure.take_rare() == fast.take_rare(), step
            w = rng.random() < 0.5
            for core in (pure, fast):
                core.set_watch(slot, w)
    assert state(pure, 0) == state(fast, 0) and state(pure, 3) == state(fast, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_pop_decodes_each_law_and_gates_frames_without_a_digit(kind: str) -> None:
    core = core_of(kind)
    digit = bytes(g711.ulaw_encode(dtmf_tone("5", 20.0)))
    hum = bytes(g711.ulaw_encode((8000 * np.sin(np.arange(160) / 3)).astype(np.int16)))
    cases = ((1, False, digit, True), (2, True, b"\xd5" * 160, True), (4, False, hum, True),
             (5, False, digit, False))
    for slot, alaw, payload, inband in cases:
        core.open(slot, -1, 1, 0, 0, 16, 1, True)
        core.configure(slot, 0, -1, alaw)
        core.set_inband(slot, inband)
        core.feed(slot, rtp(0, 1, 0, 9, payload), PEER, 0.0)
    n, pcm, slots, flags = popped(core)
    assert n == 4 and slots == [1, 2, 4, 5]
    rows = np.frombuffer(pcm, np.int16).reshape(4, 160)
    assert np.array_equal(rows[0], g711.ulaw_decode(np.frombuffer(digit, np.uint8)))
    assert np.array_equal(rows[1], g711.alaw_decode(np.full(160, 0xD5, np.uint8)))  # silence
    # The digit is a candidate; silence and a 424 Hz hum are not; slot 5 wants no detection.
    assert flags == [FLAG_INBAND | FLAG_CANDIDATE, FLAG_INBAND, FLAG_INBAND, 0]
    assert popped(core)[0] == 0  # nothing more held


@pytest.mark.parametrize("kind", KINDS)
def test_the_gate_never_stops_a_frame_the_detector_reads_as_a_digit(kind: str) -> None:
    """Digits at -6..-36 dBm0, twisted, partial, in noise: every frame that
    classify_frames accepts passed the gate (and most noise did not)."""
    rng = np.random.default_rng(20)
    frames = []
    for k in range(600):
        d = "0123456789*#ABCD"[k % 16]
        tone = dtmf_tone(d, 40.0, dbm0=float(rng.uniform(-36, -6))).astype(np.float64)
        start = int(rng.integers(0, 160))
        x = tone[start:start + 160] * (1.0 if k % 3 else rng.uniform(0.3, 1.0))
        x = x + rng.normal(0, rng.choice((1.0, 30.0, 300.0)), 160)
        if k % 5 == 0:
            x[: int(rng.integers(20, 90))] = 0.0  # a tone that starts inside the frame
        frames.append(np.clip(np.round(x), -32768, 32767).astype(np.int16))
    frames += [rng.normal(0, 2000, 160).astype(np.int16) for _ in range(200)]
    payloads = [bytes(g711.ulaw_encode(f)) for f in frames]
    decoded = np.stack([g711.ulaw_decode(np.frombuffer(p, np.uint8)) for p in payloads])
    digits = classify_frames(decoded) >= 0
    core = core_of(kind, capacity=len(payloads))
    for slot, payload in enumerate(payloads):
        core.open(slot, -1, 1, 0, 0, 16, 1, True)
        core.set_inband(slot, True)
        core.feed(slot, rtp(0, 1, 0, 9, payload), PEER, 0.0)
    pcm = np.zeros((len(payloads), 160), np.int16)
    slots = np.zeros(len(payloads), np.int32)
    flags = np.zeros(len(payloads), np.uint8)
    assert core.pop(pcm, slots, flags, FLOOR, FRACTION) == len(payloads)
    candidate = (flags & FLAG_CANDIDATE) != 0
    assert digits.sum() > 300
    assert not (digits & ~candidate).any()
    assert candidate[600:].sum() < 20  # loud noise: stopped


@pytest.mark.parametrize("kind", KINDS)
def test_send_and_drain_over_loopback(kind: str) -> None:
    core = core_of(kind)
    mine = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        mine.bind(("127.0.0.1", 0))
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        mine.setblocking(False)
        core.open(2, mine.fileno(), 0xDEADBEEF, 65535, 0xFFFFFF00, 16, 1, True)
        core.configure(2, 8, 101, True)
        assert core.send(np.array([2], np.int32), [b"\x01" * 160]) == 0  # nowhere to send
        core.set_remote(2, peer.getsockname())
        assert core.send(np.array([2, 2], np.int32), [b"\x02" * 160, None]) == 1
        core.send_raw(2, b"\x05\x0a\x00\xa0", 101, True, 1234)
        assert core.send_frame(2, b"\x03" * 160)
        core.set_sending(2, False)
        assert not core.send_frame(2, b"\x04" * 160)  # on hold: media time runs on
        got = [peer.recvfrom(2048)[0] for _ in range(3)]
        # The unsent first frame moved the timestamp on too (media time runs on).
        assert got[0] == rtp(8, 65535, 0xFFFFFFA0, 0xDEADBEEF, b"\x02" * 160, marker=True)
        assert got[1] == rtp(101, 0, 1234, 0xDEADBEEF, b"\x05\x0a\x00\xa0", marker=True)
        assert got[2] == rtp(8, 1, 0x40, 0xDEADBEEF, b"\x03" * 160)
        assert core.tx_state(2) == (2, 0x180)
        counters = core.counters(2)
        assert counters[0] == 3 and counters[7] == 1  # sent, events sent
        assert core.drain() == 0  # nothing arrived yet
        for i in range(5):
            peer.sendto(rtp(8, 10 + i, i * 160, 77, b"\xd5" * 160), mine.getsockname())
        peer.sendto(b"junk", mine.getsockname())
        deadline = time.monotonic() + 2
        total = 0
        while total < 6 and time.monotonic() < deadline:
            total += core.drain()
        assert total == 6
        assert core.latched(2) == peer.getsockname()
        assert core.counters(2)[1] == 5 and core.counters(2)[3] == 1
        assert popped(core)[0] == 1
    finally:
        core.close(2)
        mine.close()
        peer.close()


def test_the_pure_core_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAILANYS_PURE_MEDIA", "1")
    assert isinstance(make_core(4), PureCore)
    monkeypatch.setenv("BAILANYS_PURE_MEDIA", "0")
    assert is_compiled(make_core(4)) == compiled_available()


@pytest.mark.parametrize("kind", KINDS)
def test_a_closed_or_unknown_slot_is_an_index_error(kind: str) -> None:
    core = core_of(kind, capacity=2)
    with pytest.raises(IndexError):
        core.counters(1)
    with pytest.raises(IndexError):
        core.open(5, -1, 0, 0, 0, 16, 3, True)
    core.open(1, -1, 0, 0, 0, 16, 3, True)
    core.close(1)
    core.close(1)  # idempotent
    with pytest.raises(IndexError):
        core.feed(1, b"", PEER, 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_send_all_plays_the_loaded_prompt_then_silence(kind: str) -> None:
    core = core_of(kind)
    mine = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        mine.bind(("127.0.0.1", 0))
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        for slot in (1, 2):
            core.open(slot, mine.fileno(), slot, 0, 0, 16, 1, True)
            core.configure(slot, 8, -1, True)  # PCMA: its silence is 0xD5
            core.set_remote(slot, peer.getsockname())
        prompt = b"".join(bytes([k]) * 160 for k in range(5))
        core.load(1, prompt, 2, 4)  # frames 2 and 3
        core.set_pymode(2, True)  # Python sends slot 2's frames: skipped here
        slots = np.array([1, 2], np.int32)
        assert core.send_all(slots) == []
        assert core.position(1) == 3
        assert core.send_all(slots) == [1]  # the prompt ended with this frame
        assert core.send_all(slots) == []
        got = [peer.recvfrom(2048)[0][12:] for _ in range(3)]
        assert got == [b"\x02" * 160, b"\x03" * 160, b"\xd5" * 160]
        assert core.counters(2)[0] == 0 and core.counters(1)[0] == 3
        with pytest.raises(ValueError):
            core.load(1, prompt, 0, 6)  # more frames than the bytes hold
    finally:
        for slot in (1, 2):
            core.close(slot)
        mine.close()
        peer.close()


@compiled
def test_the_compiled_core_times_packets_by_their_kernel_arrival() -> None:
    """Ten packets 20 ms apart, drained at once: the RTCP jitter (RFC 3550 A.8)
    sees their real spacing (about 0), not the drain's single instant."""
    core = core_of("compiled")
    mine = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        mine.bind(("127.0.0.1", 0))
        peer.bind(("127.0.0.1", 0))
        core.open(0, mine.fileno(), 1, 0, 0, 16, 1, True)
        start = time.monotonic()
        for i in range(10):
            time.sleep(max(0.0, start + 0.02 * i - time.monotonic()))
            peer.sendto(rtp(0, i, i * 160, 5, frame(i)), mine.getsockname())
        time.sleep(0.01)
        assert core.drain() == 10
        jitter = core.rx_stats(0)[5]  # timestamp units (1/8000 s)
        assert jitter < 40, jitter  # the drain's one instant for all would give about 70
    finally:
        core.close(0)
        mine.close()
        peer.close()


@pytest.mark.parametrize("kind", KINDS)
def test_drain_reads_the_rtcp_ports_that_have_a_report_with_its_arrival_time(kind: str) -> None:
    """The RTCP ports are not on the loop: drain() reads those that have something (the
    core's own epoll set) and hands each report up with the time it arrived, not the
    time it was read."""
    core = core_of(kind)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    rtcp_a, rtcp_b, peer = socks
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        a, b = 1, 5
        for slot, s in ((a, rtcp_a), (b, rtcp_b)):
            core.open(slot, -1, slot, 0, 0, 16, 1, True)
            core.set_rtcp(slot, s.fileno())
        assert core.drain() == 0 and not core.has_rare
        report = RtcpState(9, "peer").report(time.time(), 0, 1, 160)
        sent_at = time.time()
        peer.sendto(report, rtcp_b.getsockname())
        time.sleep(0.05)
        assert core.drain() == 1
        (what, slot_b, data, addr, arrival), = core.take_rare()
        assert (what, slot_b, data, addr) == (RARE_RTCP_PORT, b, report, peer.getsockname())
        assert sent_at - 0.01 <= arrival < sent_at + 0.04  # not the drain's time (+50 ms)
        assert core.drain() == 0  # read empty
        core.set_rtcp(a, -1)  # a's port leaves the set: what arrives there waits
        peer.sendto(report + b"a", rtcp_a.getsockname())
        time.sleep(0.02)
        assert core.drain() == 0
        core.set_rtcp(a, rtcp_a.fileno())
        assert core.drain() == 1 and core.take_rare()[0][1:3] == (a, report + b"a")
        core.close(b)  # out of the set; the socket is the caller's, still open
        peer.sendto(report, rtcp_b.getsockname())
        time.sleep(0.02)
        assert core.drain() == 0 and rtcp_b.fileno() >= 0
    finally:
        core.close(a)
        for s in socks:
            s.close()
