"""The media hub: every call's RTP sessions, driven by one media clock.

Each 20 ms tick, for all sessions at once:

1. receive side: one frame per session is taken from its jitter buffer,
   the G.711 payloads of all sessions are decoded in one table lookup into an
   ``(n, 160)`` array, and in-band DTMF is detected on the whole batch with one
   matrix product (:mod:`bailanys.media.goertzel`);
2. send side: each session's player hands its next pre-encoded frame and the
   session sends it (one ``sendto`` per call per tick);
3. recorders get both directions' frames.

A monitored bridge (issue 21: a supervisor listens, whispers or barges)
adds a third leg; :mod:`bailanys.media.mixer` says what each of the three
is sent each tick.

RTP ports come from the configured range: an even port for RTP and the
next odd one for RTCP (RFC 3550 §11), bound ahead of the calls by
:mod:`bailanys.media.sockpool`.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bailanys.errors import MediaError
from bailanys.media import g711
from bailanys.media.clock import LATE_THRESHOLD, PTIME, MediaClock
from bailanys.media.core import (
    FLAG_CANDIDATE,
    FLAG_INBAND,
    MediaCore,
    compiled_available,
    is_compiled,
    make_core,
)
from bailanys.media.goertzel import DEFAULT_CONFIG, InbandDtmfDetector, inband_gate
from bailanys.media.mixer import MODES, MonitorMix
from bailanys.media.recorder import Recorder
from bailanys.media.rtcp import REPORT_INTERVAL
from bailanys.media.session import RtpSession
from bailanys.media.sockpool import POOL_SIZE, SocketPool
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

MAX_SESSIONS = 8192  # in-band DTMF state rows; far above one core's capacity


@dataclass
class HubStats:
    sessions: int = 0
    frames_sent: int = 0
    late_frames: int = 0  # frames that left more than 10 ms after their due time
    inband_digits: int = 0
    send_seconds: float = 0.0  # time spent in the send loops (for benchmarks)


class MediaHub:
    """Owns RTP sockets and the media clock; calls get an :class:`RtpSession`."""

    def __init__(
        self,
        host: str,
        port_range: tuple[int, int],
        *,
        ptime: float = PTIME,
        inband_dtmf: bool = True,
        jitter_prefetch: int = 3,
        symmetric_rtp: bool = True,
        rtp_timeout_s: int = 0,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.host = host
        self.symmetric_rtp = symmetric_rtp
        self.rtp_timeout_s = rtp_timeout_s
        ticks_per_second = max(1, round(1.0 / ptime))
        self._checks: list[list[RtpSession]] = [[] for _ in range(ticks_per_second)]
        self._reports: list[list[RtpSession]] = [
            [] for _ in range(max(1, round(REPORT_INTERVAL / ptime)))
        ]
        self.pool = SocketPool(host, port_range, size=pool_size)
        # The lowest free slot first: the core's loops run up to the highest open one.
        self._free_slots: list[int] = list(range(MAX_SESSIONS))
        self._sessions: dict[int, RtpSession] = {}
        self._list: list[RtpSession] = []
        self._slot_arr = np.zeros(0, dtype=np.int32)  # the slots of _list, in order
        self._by_slot: dict[int, RtpSession] = {}
        self._pymode: set[RtpSession] = set()  # legs whose frames Python builds
        self.core: MediaCore = make_core(MAX_SESSIONS)
        if not is_compiled(self.core):
            log.info("media: the pure-Python core runs (%s)", "BAILANYS_PURE_MEDIA is set"
                     if compiled_available() else "the C extension is not built: pip install -e .")
        # pop()'s output rows, reused every tick.
        self._pcm = np.zeros((0, 160), dtype=np.int16)
        self._rows = np.zeros(0, dtype=np.int32)
        self._flags = np.zeros(0, dtype=np.uint8)
        self._gate = inband_gate(DEFAULT_CONFIG)  # (tone floor, energy fraction)
        self.inband_dtmf = inband_dtmf
        self._detector = InbandDtmfDetector(MAX_SESSIONS)
        self._jitter_prefetch = jitter_prefetch
        self.clock = MediaClock(self._tick, ptime=ptime)
        self.stats = HubStats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._recorders: set[Recorder] = set()
        self._recorded: set[RtpSession] = set()  # sessions with a recorder
        self._taps: set[RtpSession] = set()  # sessions whose received audio goes to on_audio
        self._bridged: set[RtpSession] = set()
        self._mixes: dict[RtpSession, MonitorMix] = {}  # by each of its three legs
        self._closing = TaskSet()  # recorders writing their files

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.clock.start()
        self.pool.start()

    async def stop(self) -> None:
        for session in list(self._list):
            self.close_session(session)
        await self._closing.join()
        await self.pool.stop()
        await self.clock.stop()
        self._executor.shutdown(wait=True)

    # ------------------------------------------------------------ sessions

    async def open_session(self) -> RtpSession:
        """A new leg on a pair of ports from the pool (raises MediaError when exhausted).

        Both ports are plain non-blocking sockets that the tick drains (never
        registered with the loop; the RTCP port is in the core's epoll set),
        bound ahead by :class:`~bailanys.media.sockpool.SocketPool`.
        """
        if not self._free_slots:
            raise MediaError("no media slot left")
        pair = await self.pool.take()
        if not self._free_slots:  # taken by another set-up while the pool bound a pair
            pair.close()
            self.pool.release(pair.port)
            raise MediaError("no media slot left")
        slot = heapq.heappop(self._free_slots)
        session = RtpSession(
            pair.port, slot, jitter_prefetch=self._jitter_prefetch, symmetric=self.symmetric_rtp,
            core=self.core, sock=pair.rtp, rtcp_sock=pair.rtcp,
        )
        self.core.set_inband(slot, self.inband_dtmf)
        session.on_pymode = self._pymode_changed
        self._detector.reset(slot)
        self._sessions[pair.port] = session
        self._by_slot[slot] = session
        self._list.append(session)
        self._slots_changed()
        self._checks[slot % len(self._checks)].append(session)
        self._reports[slot % len(self._reports)].append(session)
        self.stats.sessions = len(self._list)
        return session

    def close_session(self, session: RtpSession) -> None:
        if self._sessions.pop(session.port, None) is None:
            return
        self._list.remove(session)
        del self._by_slot[session.slot]
        self._slots_changed()
        self._checks[session.slot % len(self._checks)].remove(session)
        self._reports[session.slot % len(self._reports)].remove(session)
        self.stats.sessions = len(self._list)
        session.close()
        self.pool.release(session.port)
        heapq.heappush(self._free_slots, session.slot)
        self.untap(session)
        self.unbridge(session)
        self.stop_recording(session)
        self._pymode.discard(session)

    def record(self, session: RtpSession, path: Path) -> Recorder:
        """Start recording ``session`` (both directions, stereo) into ``path``.

        A session records into one file at a time: a recording already
        running is finished first.
        """
        self.stop_recording(session)
        recorder = Recorder(path, self._executor)
        session.recorder = recorder
        session.update_pymode()
        self._recorders.add(recorder)
        self._recorded.add(session)
        return recorder

    def stop_recording(self, session: RtpSession) -> None:
        """Stop recording ``session`` now; the file is finished in the background.

        The queue calls it when a bridge ends, so that a recording holds
        the bridged conversation only (not the survey after it).
        Idempotent; :meth:`stop` waits for the files to be closed.
        """
        recorder, session.recorder = session.recorder, None
        if recorder is None:
            return
        session.update_pymode()
        self._recorders.discard(recorder)
        self._recorded.discard(session)
        self._closing.spawn(recorder.close())

    def tap(self, session: RtpSession, on_audio: Callable[[NDArray[np.int16]], None]) -> None:
        """Hand every decoded received frame of ``session`` to ``on_audio`` (on the loop)."""
        session.on_audio = on_audio
        self._taps.add(session)

    def bridge(self, a: RtpSession, b: RtpSession) -> None:
        """Relay audio between two legs (a B2BUA's media path), one tick of delay.

        Each tick, what ``a`` received is sent to ``b`` and the other way
        round, re-encoded when the legs' codecs differ; a recorder on ``a``
        gets ``a``'s caller on the left and ``b``'s audio on the right.
        """
        self.unbridge(a)
        self.unbridge(b)
        a.bridge_peer, b.bridge_peer = b, a
        a.bridge_rx = b.bridge_rx = None
        self._bridged.update((a, b))
        a.update_pymode()
        b.update_pymode()

    def unbridge(self, session: RtpSession) -> None:
        self._end_mix(session)
        peer = session.bridge_peer
        for s in (session, peer):
            if s is not None:
                s.bridge_peer = None
                s.bridge_rx = None
                self._bridged.discard(s)
                s.update_pymode()

    def monitor(self, caller: RtpSession, agent: RtpSession, supervisor: RtpSession,
                mode: str, on_end: Callable[[], None] | None = None) -> MonitorMix:
        """A supervisor's leg joins the bridge of ``caller`` and ``agent`` in ``mode``
        (listen, whisper, barge: :mod:`bailanys.media.mixer`). ``on_end`` is called
        when any of the three legs is unbridged or closed."""
        if caller.bridge_peer is not agent:
            raise MediaError("the caller and the agent are not bridged")
        if mode not in MODES:
            raise MediaError(f"unknown monitor mode {mode!r}")
        if any(leg in self._mixes for leg in (caller, agent, supervisor)):
            raise MediaError("this bridge is monitored already")
        mix = MonitorMix(caller, agent, supervisor, mode, on_end)
        for leg in mix.legs():
            self._mixes[leg] = mix
        self._bridged.add(supervisor)  # its received frames are kept for the mix
        supervisor.mixed = True  # its frames come from the mix, built in Python
        supervisor.update_pymode()
        return mix

    def unmonitor(self, session: RtpSession) -> None:
        """The monitored bridge ``session`` (any of its three legs) is in goes back
        to a plain bridge; its ``on_end`` is called."""
        self._end_mix(session)

    def _end_mix(self, session: RtpSession) -> None:
        mix = self._mixes.get(session)
        if mix is None:
            return
        for leg in mix.legs():
            self._mixes.pop(leg, None)
        mix.supervisor.mixed = False
        if mix.supervisor.bridge_peer is None:
            mix.supervisor.bridge_rx = None
            self._bridged.discard(mix.supervisor)
        mix.supervisor.update_pymode()
        on_end, mix.on_end = mix.on_end, None
        if on_end is not None:
            on_end()

    def untap(self, session: RtpSession) -> None:
        session.on_audio = None
        self._taps.discard(session)

    @property
    def sessions(self) -> list[RtpSession]:
        return list(self._list)

    def _slots_changed(self) -> None:
        n = len(self._list)
        self._slot_arr = np.fromiter((s.slot for s in self._list), dtype=np.int32, count=n)
        if len(self._rows) < n:
            size = max(64, 2 * n)
            self._pcm = np.zeros((size, 160), dtype=np.int16)
            self._rows = np.zeros(size, dtype=np.int32)
            self._flags = np.zeros(size, dtype=np.uint8)

    # ------------------------------------------------------------ the tick

    def _tick(self, index: int) -> None:
        sessions = self._list
        if not sessions:
            return
        # Send first: the frames' due time is the tick's; receiving can wait.
        due = self.clock.due(index)
        t0 = time.monotonic()
        tx_frames = self._send(sessions)
        t1 = time.monotonic()
        rx_frames: dict[int, NDArray[np.int16]] = {}
        self._receive(rx_frames)
        n = len(sessions)
        stats = self.stats
        stats.frames_sent += n
        # Frame k of the send loop left at about t0 + (t1 - t0) * k / n; count
        # the frames that left more than LATE_THRESHOLD after the tick's due time.
        first_late = (due + LATE_THRESHOLD - t0) / max(t1 - t0, 1e-9)
        if first_late < 1.0:
            late = n if first_late <= 0 else n - int(first_late * n)
            stats.late_frames += late
        stats.send_seconds += t1 - t0
        self._housekeeping(index)
        if self._recorded:  # only the recorded legs, never a walk of every call
            for session in sorted(self._recorded, key=_slot_of):
                rec = session.recorder
                if rec is not None:
                    tx = tx_frames.get(session.slot) if tx_frames is not None else None
                    rec.write(rx_frames.get(session.slot),
                              tx if tx is not None else session.player.last_pcm)

    def _pymode_changed(self, session: RtpSession, on: bool) -> None:
        if on:
            self._pymode.add(session)
        else:
            self._pymode.discard(session)

    def _send(self, sessions: list[RtpSession]) -> dict[int, NDArray[np.int16]] | None:
        """Every session's frame of this tick: one core call, Python only for the rare legs.

        The core plays each player's prompt (or silence) by itself and names
        the legs whose prompt ended; legs that are bridged, recorded or
        sending RFC 4733 events get their frame from Python (``send_frame``).
        """
        finished = self.core.send_all(self._slot_arr)
        if finished:
            by_slot = self._by_slot
            for slot in finished:
                by_slot[slot].player.finished()
        if not self._pymode:
            return None
        tx: dict[int, NDArray[np.int16]] = {}
        mixed: dict[RtpSession, NDArray[np.int16] | None] = {}
        if self._mixes:  # monitored bridges (issue 21): three legs mixed
            for mix in set(self._mixes.values()):
                mixed.update(mix.frames())
        for session in sorted(self._pymode, key=_slot_of):
            if session in mixed:
                pcm = mixed[session]
            else:
                peer = session.bridge_peer
                pcm = None if peer is None else peer.bridge_rx
            if pcm is None:
                session.send_frame(session.player.next_frame())
                continue
            encode = g711.ulaw_encode if session.codec == "PCMU" else g711.alaw_encode
            session.send_frame(encode(pcm))
            tx[session.slot] = pcm
        return tx

    def _housekeeping(self, index: int) -> None:
        """Per-session chores, spread evenly over the ticks (never all in one tick).

        Each session is in one of ``_checks`` buckets (one per tick of a
        second) for the once-a-second inactivity check, and in one of
        ``_reports`` buckets (one per tick of REPORT_INTERVAL) for RTCP.
        """
        if self.rtp_timeout_s:
            for session in self._checks[index % len(self._checks)]:
                session.check_inactivity(self.rtp_timeout_s)
        for session in self._reports[index % len(self._reports)]:
            session.send_rtcp()

    def _receive(self, rx_frames: dict[int, NDArray[np.int16]]) -> None:
        """Drain every socket, pop one frame per session, decoded; detect in-band DTMF."""
        core = self.core
        core.drain()
        if core.has_rare:
            by_slot = self._by_slot
            for item in core.take_rare():
                session = by_slot.get(item[1])
                if session is not None:
                    session.rare(item)
        for session in self._bridged:
            session.bridge_rx = None  # no packet this tick: the peer hears silence
        n = core.pop(self._pcm, self._rows, self._flags, *self._gate)
        if n == 0:
            return
        pcm = self._pcm[:n]
        rows = self._rows[:n]
        if self._recorded or self._bridged or self._taps:
            self._hand_out(pcm, rows, rx_frames)
        if not self.inband_dtmf:
            return
        flags = self._flags[:n]
        detector = self._detector
        if detector.live:  # a slot's debounce remembers a tone: the gate's "none" counts
            quiet = flags == FLAG_INBAND  # in-band wanted, stopped by the gate
            if quiet.any():
                detector.quiet(rows[quiet])
        sel = np.flatnonzero(flags & FLAG_CANDIDATE)  # the core sets it on in-band rows only
        if not sel.size:
            return
        by_slot = self._by_slot
        for slot, digit in self._detector.feed(rows[sel], pcm[sel]):
            session = by_slot.get(slot)
            if session is None or session.rfc4733_seen:
                continue  # the peer signals RFC 4733: ignore its in-band echo of it
            self.stats.inband_digits += 1
            session.dtmf(digit, "inband")

    def _hand_out(self, pcm: NDArray[np.int16], rows: NDArray[np.int32],
                  rx_frames: dict[int, NDArray[np.int16]]) -> None:
        """The received frames of the recorded, bridged and tapped legs only.

        ``rows`` (the slots of ``pcm``'s rows) is ascending: the core pops
        in slot order, so each leg's row is found by binary search, never by
        a map of every call.
        """
        legs = sorted(self._recorded | self._bridged | self._taps, key=_slot_of)
        slots = np.fromiter((s.slot for s in legs), dtype=np.int32, count=len(legs))
        found = np.searchsorted(rows, slots).tolist()
        n = len(rows)
        bridged = self._bridged
        for session, i in zip(legs, found, strict=True):
            if i >= n or rows[i] != session.slot:
                continue  # no frame of this leg this tick
            if session.recorder is not None:
                rx_frames[session.slot] = pcm[i].copy()
            if session in bridged:  # a monitoring supervisor's leg too (issue 21)
                session.bridge_rx = pcm[i].copy()
            on_audio = session.on_audio
            if on_audio is not None:
                on_audio(pcm[i].copy())


def _slot_of(session: RtpSession) -> int:
    return session.slot
