"""Run SIPp scenarios as a subprocess and read back what it measured.

The scenarios live in ``tests/peers/scenarios/``; each documents its flow,
timeouts and the keywords it needs. SIPp runs in the foreground with
``-m calls`` and ``-timeout``; its results come from files, never the screen:

* ``-trace_stat -stf stats.csv`` — the cumulative ``(C)`` columns of the last
  row give successful / failed calls and retransmissions;
* ``-trace_err -error_file errors.log`` — unexpected messages and timeouts;
* ``-trace_counts`` — per scenario step message counts (which branch a call
  took, e.g. 200 vs 503 in ``invite_flood.xml``);
* ``-trace_screen`` — the final screen, for humans.

SIPp 3.6.1 keeps its RTP counters on the live screen only (not in the CSV
nor the final screen dump), and ``rtp_stream`` sends every call from the one
``-mp`` port. To count and time the far end's RTP, ``load_call_sink.xml``
points the SDP at an ``RtpSink`` (below) instead: one UDP socket for all
calls, streams told apart by (source address, SSRC); ``RtpSink.report()``
gives packets per stream and the late-frame share (``late_share``).

``make_ulaw_wav`` writes the audio ``<exec rtp_stream="file,-1,0"/>`` plays:
SIPp skips a RIFF/WAVE header and sends the rest as raw codec bytes, 160 bytes
per 20 ms packet for payload type 0, so the file must hold G.711 µ-law at
8 kHz (ITU-T G.711 §A; WAVE format tag 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.peers.udpthread import UdpThread

SCENARIOS = Path(__file__).with_name("scenarios")
"""Folder holding the scenario XML files."""

# WAVE_FORMAT_MULAW, the format tag of G.711 µ-law in a RIFF/WAVE file.
WAVE_FORMAT_MULAW = 7
SAMPLE_RATE = 8000
"""G.711 sample rate (ITU-T G.711)."""

# µ-law encoder constants from ITU-T G.711: bias 0x84 (132), clip at 32635.
_ULAW_BIAS = 0x84
_ULAW_CLIP = 32635


@dataclass(frozen=True)
class SippResult:
    """What one SIPp run measured.

    Call counts come from the last row of the ``-trace_stat`` CSV (cumulative
    columns). ``rtp_packets_sent`` / ``rtp_packets_received`` and the byte
    counters come from the final screen and are only non-zero for scenarios
    that use ``rtp_stream``.
    """

    returncode: int
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    created: int = 0
    failed_timeout: int = 0
    failed_unexpected: int = 0
    out_of_call: int = 0
    dead_call: int = 0
    stats: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: str = ""
    screen: str = ""
    stdout: str = ""
    stderr: str = ""
    command: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """All calls succeeded (SIPp exit code 0) and none failed."""
        return self.returncode == 0 and self.failed == 0 and self.successful > 0

    def describe(self) -> str:
        """A few lines fit for an assertion message."""
        return (
            f"rc={self.returncode} ok={self.successful} failed={self.failed} "
            f"retrans={self.retransmissions}\ncmd: {' '.join(self.command)}\n"
            f"errors:\n{self.errors[-3000:]}\nstderr:\n{self.stderr[-2000:]}"
        )


def find_sipp() -> str | None:
    """Path of the ``sipp`` binary, or None when it is not installed."""
    return shutil.which("sipp")


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now (racy by nature; fine on loopback)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_media_port(host: str = "127.0.0.1") -> int:
    """An even UDP port P with P..P+3 free: SIPp binds -mp and -mp+2."""
    for _ in range(200):
        p = free_port(socket.SOCK_DGRAM, host) & ~1
        if p > 65000:
            continue
        try:
            socks = []
            for off in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((host, p + off))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return p
    raise RuntimeError("no free media port block found")


# ---------------------------------------------------------------- audio


def _ulaw_byte(sample: int) -> int:
    """Encode one 16-bit linear sample to µ-law (ITU-T G.711 §A)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _ULAW_CLIP) + _ULAW_BIAS
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ulaw_encode(samples: Sequence[int]) -> bytes:
    """µ-law bytes for 16-bit linear samples."""
    return bytes(_ulaw_byte(int(s)) for s in samples)


def ulaw_wav_bytes(payload: bytes) -> bytes:
    """A RIFF/WAVE file around µ-law ``payload`` (mono, 8 kHz, format tag 7)."""
    fmt = struct.pack(
        "<HHIIHHH", WAVE_FORMAT_MULAW, 1, SAMPLE_RATE, SAMPLE_RATE, 1, 8, 0
    )  # 18-byte fmt chunk with cbSize=0, as non-PCM formats require
    fact = struct.pack("<I", len(payload))
    pad = b"\x00" if len(payload) % 2 else b""
    chunks = (
        b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<I", len(fact))
        + fact
        + b"data"
        + struct.pack("<I", len(payload))
        + payload
        + pad
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _espeak_samples(text: str, voice: str) -> list[int]:
    """16-bit samples of ``text`` spoken by espeak-ng, resampled to 8 kHz."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-w", str(out), text], check=True, capture_output=True)
        import wave  # local: only this path needs it

        with wave.open(str(out), "rb") as w:
            rate, width, frames = w.getframerate(), w.getsampwidth(), w.readframes(w.getnframes())
    if width != 2:
        raise RuntimeError(f"espeak-ng wrote {width}-byte samples, expected 2")
    src = struct.unpack(f"<{len(frames) // 2}h", frames)
    # Nearest-sample decimation; espeak-ng speaks at 22050 Hz and the speech
    # band is under 4 kHz, so this is good enough for a load-test signal.
    n = int(len(src) * SAMPLE_RATE / rate)
    return [src[int(i * rate / SAMPLE_RATE)] for i in range(n)]


def make_ulaw_wav(
    path: Path, seconds: float, freq_or_text: float | str = 440.0, *, voice: str = "ru"
) -> Path:
    """Write an 8 kHz µ-law WAV that SIPp's ``rtp_stream`` can play.

    ``freq_or_text`` is a tone frequency in Hz (amplitude -10 dBFS), or text
    that espeak-ng speaks (padded with silence or cut to ``seconds``). The
    length is rounded up to whole 20 ms packets (160 samples).
    """
    n = math.ceil(seconds * SAMPLE_RATE / 160) * 160
    if isinstance(freq_or_text, str):
        samples = _espeak_samples(freq_or_text, voice)[:n]
        samples += [0] * (n - len(samples))
    else:
        amp = 32767 * 10 ** (-10 / 20)
        w = 2 * math.pi * float(freq_or_text) / SAMPLE_RATE
        samples = [int(amp * math.sin(w * i)) for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ulaw_wav_bytes(ulaw_encode(samples)))
    return path


def read_ulaw_wav(path: Path) -> tuple[int, int, bytes]:
    """(format tag, sample rate, data) of a WAV file; raises ValueError if malformed."""
    raw = path.read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt_tag, rate, data = 12, -1, -1, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = raw[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt_tag, _ch, rate = struct.unpack("<HHI", body[:8])
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if data is None or fmt_tag < 0:
        raise ValueError(f"{path}: missing fmt or data chunk")
    return fmt_tag, rate, data


LOAD_AUDIO_NAME = "bailanys_load.wav"
"""File name load_call*.xml stream (SIPp does not expand keywords there)."""


def prepare_load_audio(cwd: Path, seconds: float = 2.0, freq_or_text: float | str = 440.0) -> Path:
    """Write ``LOAD_AUDIO_NAME`` into ``cwd``, the folder SIPp will run in."""
    return make_ulaw_wav(cwd / LOAD_AUDIO_NAME, seconds, freq_or_text)


# ---------------------------------------------------------------- RTP sink

LATE_MS = 20.0
"""Default lateness threshold: one 20 ms packet time (RFC 3551 §4.5 ptime)."""


@dataclass
class StreamStats:
    """One received RTP stream: packets, sequence gaps, lateness."""

    packets: int = 0
    lost: int = 0
    late: int = 0
    max_late_ms: float = 0.0
    duration_s: float = 0.0

    @property
    def late_share(self) -> float:
        return self.late / self.packets if self.packets else 0.0

    @property
    def packets_per_s(self) -> float:
        return (self.packets - 1) / self.duration_s if self.duration_s > 0 else 0.0


def late_share(
    arrivals: Sequence[tuple[float, int, int]],
    *,
    clock_hz: int = SAMPLE_RATE,
    late_ms: float = LATE_MS,
) -> StreamStats:
    """Fold one stream's ``(arrival_s, seq, rtp_ts)`` into ``StreamStats``.

    A packet's due time is ``t0 + (ts - ts0) / clock_hz``; the anchor
    ``t0 - ts0 / clock_hz`` is the earliest ``arrival - ts / clock_hz`` seen,
    so the best-placed packet is on time and a late first packet cannot make
    the rest look early. A packet is late when it arrives more than
    ``late_ms`` after its due time; a sender whose clock runs slow (fewer
    than 50 packets/s) drifts late cumulatively. Lost = sequence gaps
    (RFC 3550 §A.3, without wrap handling beyond 16 bits).
    """
    st = StreamStats()
    if not arrivals:
        return st
    # unwrap the 32-bit timestamp and 16-bit sequence relative to the first
    first_ts, first_seq = arrivals[0][2], arrivals[0][1]
    rel = [
        (t, ((seq - first_seq) & 0xFFFF), ((ts - first_ts) & 0xFFFFFFFF)) for t, seq, ts in arrivals
    ]
    anchor = min(t - ts / clock_hz for t, _, ts in rel)
    seqs = {seq for _, seq, _ in rel}
    st.packets = len(rel)
    st.lost = max(seqs) + 1 - len(seqs)
    for t, _, ts in rel:
        late = (t - (anchor + ts / clock_hz)) * 1000.0
        st.max_late_ms = max(st.max_late_ms, late)
        if late > late_ms:
            st.late += 1
    st.duration_s = rel[-1][0] - rel[0][0]
    return st


class RtpSink(UdpThread):
    """A UDP socket that timestamps every RTP packet it receives.

    Runs one reader thread (so it works beside blocking ``run_sipp`` and an
    asyncio loop alike); ``start()`` / ``stop()`` own it. Streams are keyed
    by (source address, SSRC).
    """

    name = "rtp-sink"
    bufsize = 2048

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port, rcvbuf=4 << 20)
        self._lock = threading.Lock()
        self._streams: dict[tuple[tuple[str, int], int], list[tuple[float, int, int]]] = {}

    def handle(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        if len(data) < 12 or data[0] >> 6 != 2:
            return  # not RTP version 2 (RFC 3550 §5.1)
        seq, ts, ssrc = struct.unpack("!HII", data[2:12])
        with self._lock:
            self._streams.setdefault((addr, ssrc), []).append((now, seq, ts))

    def streams(self) -> dict[tuple[tuple[str, int], int], list[tuple[float, int, int]]]:
        with self._lock:
            return {k: list(v) for k, v in self._streams.items()}

    def report(self, late_ms: float = LATE_MS) -> dict[str, float]:
        """Totals over all streams: streams, packets, lost, late, late_share,
        worst lateness (ms) and mean packets/s per stream."""
        per = [late_share(v, late_ms=late_ms) for v in self.streams().values()]
        packets = sum(p.packets for p in per)
        late = sum(p.late for p in per)
        rates = [p.packets_per_s for p in per if p.duration_s > 0]
        return {
            "streams": len(per),
            "packets": packets,
            "lost": sum(p.lost for p in per),
            "late": late,
            "late_share": late / packets if packets else 0.0,
            "max_late_ms": max((p.max_late_ms for p in per), default=0.0),
            "mean_pps": sum(rates) / len(rates) if rates else 0.0,
        }


# ---------------------------------------------------------------- SIPp runs


def build_command(
    scenario: Path,
    target: str,
    *,
    workdir: Path,
    service: str = "1414",
    calls: int = 1,
    rate: float | None = None,
    rate_period_ms: int = 1000,
    concurrent_limit: int | None = None,
    duration_ms: int | None = None,
    local_ip: str = "127.0.0.1",
    media_port: int | None = None,
    local_port: int | None = None,
    transport: str = "u1",
    timeout_s: float = 60,
    extra_args: Sequence[str] = (),
    sipp: str | None = None,
) -> list[str]:
    """The SIPp command line ``run_sipp`` uses (exposed for logging and tests)."""
    exe = sipp or find_sipp()
    if exe is None:
        raise FileNotFoundError("sipp is not installed")
    cmd = [
        exe,
        target,
        "-sf", str(scenario),
        "-s", service,
        "-i", local_ip,
        "-p", str(local_port if local_port is not None else free_port(
            socket.SOCK_STREAM if transport.startswith("t") else socket.SOCK_DGRAM, local_ip)),
        "-mi", local_ip,
        "-mp", str(media_port if media_port is not None else free_media_port(local_ip)),
        "-t", transport,
        "-m", str(calls),
        "-timeout", f"{int(math.ceil(timeout_s))}s",
        "-nostdin",
        "-trace_stat", "-stf", str(workdir / "stats.csv"), "-fd", "1",
        "-trace_err", "-error_file", str(workdir / "errors.log"),
        "-trace_screen", "-screen_file", str(workdir / "screen.log"),
        "-trace_counts",
    ]  # fmt: skip
    if rate is not None:
        cmd += ["-r", f"{rate:g}", "-rp", str(rate_period_ms)]
    if concurrent_limit is not None:
        cmd += ["-l", str(concurrent_limit)]
    if duration_ms is not None:
        cmd += ["-d", str(duration_ms)]
    cmd += list(extra_args)
    return cmd


def _int(v: str | None) -> int:
    try:
        return int(float(v or 0))
    except ValueError:
        return 0


def parse_results(
    workdir: Path,
    returncode: int,
    stdout: str = "",
    stderr: str = "",
    command: Sequence[str] = (),
) -> SippResult:
    """Read the files a ``build_command`` run left in ``workdir``."""
    stats: dict[str, str] = {}
    stat_file = workdir / "stats.csv"
    if stat_file.exists():
        rows = list(csv.reader(stat_file.read_text(errors="replace").splitlines(), delimiter=";"))
        if len(rows) >= 2:
            stats = dict(zip(rows[0], rows[-1], strict=False))
    counts: dict[str, int] = {}
    for f in sorted(workdir.glob("*_counts.csv")):
        rows = list(csv.reader(f.read_text(errors="replace").splitlines(), delimiter=";"))
        if len(rows) >= 2:
            counts = {k: _int(v) for k, v in zip(rows[0], rows[-1], strict=False) if k}
    errors = ""
    err_file = workdir / "errors.log"
    if err_file.exists():
        errors = err_file.read_text(errors="replace")
    screen = ""
    screen_file = workdir / "screen.log"
    if screen_file.exists():
        screen = screen_file.read_text(errors="replace")
    return SippResult(
        returncode=returncode,
        successful=_int(stats.get("SuccessfulCall(C)")),
        failed=_int(stats.get("FailedCall(C)")),
        retransmissions=_int(stats.get("Retransmissions(C)")),
        created=_int(stats.get("TotalCallCreated")),
        failed_timeout=_int(stats.get("FailedTimeoutOnRecv(C)")),
        failed_unexpected=_int(stats.get("FailedUnexpectedMessage(C)")),
        out_of_call=_int(stats.get("OutOfCallMsgs(C)")),
        dead_call=_int(stats.get("DeadCallMsgs(C)")),
        stats=stats,
        counts=counts,
        errors=errors,
        screen=screen,
        stdout=stdout,
        stderr=stderr,
        command=tuple(command),
    )


def _command(scenario: Path, target: str, cwd: Path, taskset_cpu: int | None,
             options: dict[str, Any]) -> list[str]:
    return _wrap_taskset(build_command(scenario, target, workdir=cwd, **options), taskset_cpu)


def run_sipp(
    scenario: Path,
    target: str,
    *,
    cwd: Path,
    timeout_s: float = 60,
    taskset_cpu: int | None = None,
    **options: Any,
) -> SippResult:
    """Run SIPp against ``target`` ("host:port") and wait for it to finish.

    ``options`` are :func:`build_command`'s (service, calls, rate,
    rate_period_ms, concurrent_limit, duration_ms, media_port, local_port,
    transport, extra_args).  ``cwd`` receives the trace files (one run per
    folder: the counts file is found by glob). SIPp stops after ``calls``
    calls or ``timeout_s``; the subprocess is killed ``timeout_s + 15`` s
    after start as a last resort.  Blocks: in async tests use ``run_sipp_async``.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = _command(scenario, target, cwd, taskset_cpu, {"timeout_s": timeout_s, **options})
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, errors="replace",
            timeout=timeout_s + 15, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = -9
        out = _text(exc.stdout)
        err = _text(exc.stderr) + "\n[run_sipp: killed after timeout]"
    return parse_results(cwd, rc, out, err, cmd)


async def run_sipp_async(
    scenario: Path,
    target: str,
    *,
    cwd: Path,
    timeout_s: float = 60,
    taskset_cpu: int | None = None,
    **options: Any,
) -> SippResult:
    """``run_sipp`` on an asyncio subprocess: the loop keeps running meanwhile,
    so an engine served on the same loop can answer SIPp. Cancelling kills
    SIPp and waits for it."""
    await asyncio.to_thread(cwd.mkdir, parents=True, exist_ok=True)
    cmd = _command(scenario, target, cwd, taskset_cpu, {"timeout_s": timeout_s, **options})
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(timeout_s + 15):
            out_b, err_b = await proc.communicate()
        rc = proc.returncode if proc.returncode is not None else -1
        out, err = _text(out_b), _text(err_b)
    except TimeoutError:
        await _kill(proc)
        rc, out, err = -9, "", "[run_sipp_async: killed after timeout]"
    except BaseException:
        await _kill(proc)
        raise
    return await asyncio.to_thread(parse_results, cwd, rc, out, err, cmd)


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _wrap_taskset(cmd: list[str], cpu: int | None) -> list[str]:
    """Pin SIPp to one CPU with ``taskset -c`` when asked and available."""
    if cpu is None or shutil.which("taskset") is None or cpu >= (os.cpu_count() or 1):
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


def _text(b: bytes | str | None) -> str:
    if b is None:
        return ""
    return b if isinstance(b, str) else b.decode(errors="replace")
