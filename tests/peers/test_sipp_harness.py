"""The SIPp harness checked against SIPp itself, before the engine exists.

Each UAC scenario in ``scenarios/`` runs against ``uas_test.xml`` (a SIPp
UAS standing in for the engine on 1414) or ``uas_reject.xml`` (the flood
guard's 503) on loopback.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# The repo root, so `tests.peers.sipp` imports however pytest was started.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.peers.sipp import (  # noqa: E402
    LOAD_AUDIO_NAME,
    SCENARIOS,
    WAVE_FORMAT_MULAW,
    RtpSink,
    find_sipp,
    free_media_port,
    free_port,
    late_share,
    make_ulaw_wav,
    prepare_load_audio,
    read_ulaw_wav,
    run_sipp,
    run_sipp_async,
    ulaw_encode,
)

needs_sipp = pytest.mark.skipif(find_sipp() is None, reason="sipp is not installed")


@contextmanager
def sipp_uas(
    tmp: Path, calls: int, scenario: str = "uas_test.xml", extra: tuple[str, ...] = ()
) -> Iterator[str]:
    """A SIPp UAS answering ``calls`` calls; yields its "host:port"."""
    sipp = find_sipp()
    assert sipp is not None
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    cmd = [
        sipp, "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port),
        "-mi", "127.0.0.1", "-mp", str(free_media_port()), "-m", str(calls),
        "-nostdin", "-timeout", "60s", "-trace_err", "-error_file", str(tmp / "uas_err.log"),
        *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(0.3)  # let it bind
    try:
        yield f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------ pure helpers


def test_ulaw_encode_known_values() -> None:
    # G.711 u-law: 0 -> 0xFF, full-scale positive -> 0x80, negative -> 0x00
    assert ulaw_encode([0, 32767, -32768, -1]) == bytes([0xFF, 0x80, 0x00, 0x7F])


def test_make_ulaw_wav_tone(tmp_path: Path) -> None:
    path = make_ulaw_wav(tmp_path / "t.wav", 1.01, 440.0)
    fmt, rate, data = read_ulaw_wav(path)
    assert (fmt, rate) == (WAVE_FORMAT_MULAW, 8000)
    assert len(data) == 8160  # rounded up to whole 160-byte packets
    assert len(set(data)) > 20  # a tone, not silence


def test_make_ulaw_wav_speech(tmp_path: Path) -> None:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    _, _, data = read_ulaw_wav(make_ulaw_wav(tmp_path / "s.wav", 2.0, "один два три"))
    assert len(data) == 16000
    assert sum(b not in (0xFF, 0x7F) for b in data) > 2000  # not all silence


def test_late_share_on_time_and_drifting() -> None:
    on_time = [(i * 0.02, i, i * 160) for i in range(100)]
    st = late_share(on_time)
    assert (st.packets, st.lost, st.late) == (100, 0, 0)
    assert st.packets_per_s == pytest.approx(50.0)
    # a sender 1 ms slow per packet: late beyond 20 ms from packet 21 on
    slow = [(i * 0.021, i, i * 160) for i in range(100)]
    assert late_share(slow, late_ms=20.5).late == 100 - 21
    # sequence gap and a timestamp wrap
    gap = [(0.0, 65535, 2**32 - 160), (0.02, 0, 0), (0.06, 2, 320)]
    st = late_share(gap)
    assert (st.packets, st.lost, st.late) == (3, 1, 0)


def test_rtp_sink_counts_streams() -> None:
    with RtpSink() as sink, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for i in range(10):
            for ssrc in (1, 2):
                tx.sendto(struct.pack("!BBHII", 0x80, 0, i, i * 160, ssrc) + bytes(160),
                          (sink.host, sink.port))  # fmt: skip
        tx.sendto(b"junk", (sink.host, sink.port))
        deadline = time.monotonic() + 2
        while sink.report()["packets"] < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        rep = sink.report(late_ms=1000)
    assert rep["streams"] == 2 and rep["packets"] == 20 and rep["late"] == 0


# ------------------------------------------------------------ SIPp flows


@pytest.mark.peer
@needs_sipp
@pytest.mark.parametrize(
    ("scenario", "min_s", "max_s"),
    [
        ("demo_dtmf.xml", 7.5, 14.0),  # the UAS hangs up 8 s after ACK
        ("demo_dtmf_caller_bye.xml", 5.0, 8.0),
    ],
)
def test_demo_dtmf_flows(tmp_path: Path, scenario: str, min_s: float, max_s: float) -> None:
    with sipp_uas(tmp_path / "uas", 1) as target:
        t0 = time.monotonic()
        res = run_sipp(SCENARIOS / scenario, target, cwd=tmp_path / "uac", timeout_s=30)
        took = time.monotonic() - t0
    assert res.ok, res.describe()
    assert res.successful == 1
    assert min_s <= took <= max_s


@pytest.mark.peer
@needs_sipp
def test_short_call_rate(tmp_path: Path) -> None:
    with sipp_uas(tmp_path / "uas", 20) as target:
        res = run_sipp(
            SCENARIOS / "short_call.xml", target, cwd=tmp_path / "uac", calls=20, rate=20,
            timeout_s=30,
        )  # fmt: skip
    assert res.ok, res.describe()
    assert res.successful == 20 and res.retransmissions == 0


@pytest.mark.peer
@needs_sipp
def test_load_call_streams(tmp_path: Path) -> None:
    uac = tmp_path / "uac"
    prepare_load_audio(uac, 1.0)
    assert (uac / LOAD_AUDIO_NAME).exists()
    with sipp_uas(tmp_path / "uas", 3) as target:
        t0 = time.monotonic()
        res = run_sipp(
            SCENARIOS / "load_call.xml", target, cwd=uac, calls=3, rate=10, duration_ms=2000,
            timeout_s=30,
        )  # fmt: skip
        took = time.monotonic() - t0
    assert res.ok, res.describe()
    assert res.successful == 3
    assert took >= 2.0
    assert res.counts.get("9_BYE_Sent") == 3, res.counts


@pytest.mark.peer
@needs_sipp
def test_load_call_sink_keys(tmp_path: Path) -> None:
    uac = tmp_path / "uac"
    prepare_load_audio(uac, 1.0)
    with RtpSink() as sink, sipp_uas(tmp_path / "uas", 1) as target:
        res = run_sipp(
            SCENARIOS / "load_call_sink.xml", target, cwd=uac, duration_ms=1000, timeout_s=30,
            extra_args=("-key", "rtp_sink_ip", sink.host, "-key", "rtp_sink_port", str(sink.port)),
        )  # fmt: skip
    assert res.ok, res.describe()


@pytest.mark.peer
@needs_sipp
def test_options_ping(tmp_path: Path) -> None:
    with sipp_uas(tmp_path / "uas", 1) as target:
        res = run_sipp(SCENARIOS / "options.xml", target, cwd=tmp_path / "uac", timeout_s=15)
    assert res.ok, res.describe()


@pytest.mark.peer
@needs_sipp
@pytest.mark.parametrize(("uas", "key"), [("uas_test.xml", "200"), ("uas_reject.xml", "503")])
def test_invite_flood_branches(tmp_path: Path, uas: str, key: str) -> None:
    with sipp_uas(tmp_path / "uas", 30, scenario=uas) as target:
        res = run_sipp(
            SCENARIOS / "invite_flood.xml", target, cwd=tmp_path / "uac", calls=30, rate=100,
            timeout_s=30,
        )  # fmt: skip
    assert res.ok, res.describe()
    got = {k: v for k, v in res.counts.items() if k.endswith("_Recv") and v}
    assert sum(v for k, v in got.items() if k.split("_")[1] == key) >= 30, got


@pytest.mark.peer
@needs_sipp
def test_tcp_transport(tmp_path: Path) -> None:
    with sipp_uas(tmp_path / "uas", 1, extra=("-t", "t1")) as target:
        res = run_sipp(
            SCENARIOS / "short_call.xml", target, cwd=tmp_path / "uac", transport="t1",
            timeout_s=15,
        )  # fmt: skip
    assert res.ok, res.describe()


@pytest.mark.peer
@needs_sipp
async def test_run_sipp_async_keeps_loop_free(tmp_path: Path) -> None:
    import asyncio

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    with sipp_uas(tmp_path / "uas", 1) as target:
        task = asyncio.create_task(ticker())
        try:
            res = await run_sipp_async(
                SCENARIOS / "short_call.xml", target, cwd=tmp_path / "uac", timeout_s=15
            )
        finally:
            task.cancel()
            with __import__("contextlib").suppress(asyncio.CancelledError):
                await task
    assert res.ok, res.describe()
    assert ticks >= 1


# ------------------------------------------------------------ pyVoIP peer


@pytest.mark.peer
def test_pyvoip_registers_with_digest() -> None:
    pytest.importorskip("pyVoIP")
    from tests.peers.softphone import PyVoipAgent, RegistrarStub

    with RegistrarStub(password="s3cret") as stub:
        agent = PyVoipAgent(stub.host, stub.port, "1001", "s3cret", free_port(), 31000, 31100)
        agent.start()
        try:
            assert agent.registered
            assert agent.wait_for("registered", 1).kind == "registered"
            assert (stub.challenges, stub.registrations, stub.bad_auth) == (1, 1, 0)
        finally:
            agent.stop()


@pytest.mark.peer
@needs_sipp
def test_pyvoip_answers_sipp_directly(tmp_path: Path) -> None:
    pytest.importorskip("pyVoIP")
    from tests.peers.softphone import PyVoipAgent, RegistrarStub

    sipp_port, agent_port = free_port(), free_port()
    prepare_load_audio(tmp_path, 1.0)
    with RegistrarStub() as stub:
        agent = PyVoipAgent(stub.host, stub.port, "1002", "x", agent_port, 31200, 31300)
        agent.start()
        try:
            agent.retarget("127.0.0.1", sipp_port)  # its 180/200 go to SIPp
            with RtpSink() as sink:
                res = run_sipp(
                    SCENARIOS / "load_call_sink.xml", f"127.0.0.1:{agent_port}", cwd=tmp_path,
                    local_port=sipp_port, duration_ms=2000, timeout_s=30,
                    extra_args=("-key", "rtp_sink_ip", sink.host,
                                "-key", "rtp_sink_port", str(sink.port)),
                )  # fmt: skip
                time.sleep(0.3)
                rep = sink.report(late_ms=200)
            assert res.ok, res.describe()
            assert agent.wait_for("ended", 5).kind == "ended"
            assert agent.answered_calls == 1
            assert agent.received_audio_bytes > 50 * 160  # SIPp's tone reached it
            assert rep["streams"] == 1 and rep["packets"] > 80  # ~2 s at 50/s
        finally:
            agent.stop(deregister=False)
