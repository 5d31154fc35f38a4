"""Pre-bound RTP/RTCP socket pairs, so that a call's set-up binds nothing.

Binding a leg's ports costs the event loop ~60-80 µs (two sockets, an
address lookup and an asyncio transport for RTCP) at the worst moment: on
the INVITE's path.  The pool keeps up to ``size`` pairs ready, taken from
the configured range (an even port for RTP, the next odd one for RTCP,
RFC 3550 §11), and refills itself in the background: an owned task binding
a few pairs per loop iteration, woken when a pair is taken or a port comes
back.  :meth:`SocketPool.take` hands a ready pair at once; with none ready
(the pool not started, or emptied by a burst) it binds one itself, as the
hub did before.

A closed leg's sockets are closed, never reused: its ports go to the back of
the free queue and are bound again only after every other free port, so that
a late packet of the previous call rarely meets the next one (and when it
does, the source latch and SSRC validation drop it, as before the pool).

Both are plain non-blocking sockets that the media core drains (the RTCP
port when its own epoll set says so): neither is registered with the event loop,
so a pair costs two binds and no transport; what arrives on a pair before
its call is read by the first drain (the source latch judges it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from dataclasses import dataclass

from bailanys.errors import MediaError

log = logging.getLogger(__name__)

POOL_SIZE = 32  # ready pairs: ~0.1 s of set-ups at 400/s
BATCH = 4  # pairs bound per loop iteration by the refill task
RETRY_S = 1.0  # every free port busy (another process): try again this much later


def bind_udp(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket bound to ``(host, port)``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(slots=True)
class ReadyPair:
    """An RTP port's socket and its RTCP socket (port + 1), bound and idle."""

    port: int
    rtp: socket.socket
    rtcp: socket.socket

    def close(self) -> None:
        self.rtp.close()
        self.rtcp.close()


class SocketPool:
    """The free RTP ports of a range and up to ``size`` pairs bound ahead."""

    def __init__(self, host: str, port_range: tuple[int, int], *,
                 size: int = POOL_SIZE, batch: int = BATCH) -> None:
        self.host = host
        lo, hi = port_range
        self._free: deque[int] = deque(range(lo + (lo % 2), hi, 2))
        self.size = max(0, size)
        self._batch = max(1, batch)
        self._ready: deque[ReadyPair] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.bound_ahead = 0  # pairs the refill task bound (for tests and benchmarks)
        self.bound_inline = 0  # pairs take() had to bind itself

    @property
    def ready(self) -> int:
        return len(self._ready)

    @property
    def free(self) -> int:
        """Ports neither in use nor in the pool."""
        return len(self._free)

    @property
    def settled(self) -> bool:
        """No pair being bound, and the pool full (or no port left to fill it)."""
        return len(self._ready) >= self.size or not self._free

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the refill task (on the running loop)."""
        if self._task is None and self.size:
            self._task = asyncio.get_running_loop().create_task(
                self._refill(), name="media-socket-pool")

    async def stop(self) -> None:
        """Stop refilling; the ready pairs are closed and their ports freed."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._ready:
            pair = self._ready.popleft()
            pair.close()
            self._free.append(pair.port)

    # ------------------------------------------------------------ ports

    async def take(self) -> ReadyPair:
        """A bound pair: a ready one at once, else one bound now (MediaError: none free)."""
        tries = len(self._free)  # each free port once, busy ones skipped
        while True:
            if self._ready:
                pair = self._ready.popleft()
                self._wake.set()
                return pair
            if self._free and tries > 0:
                tries -= 1
                inline = self._bind_next()
                if inline is not None:
                    self.bound_inline += 1
                    self._wake.set()
                    return inline
            else:
                raise MediaError(f"no free RTP port on {self.host}")

    def release(self, port: int) -> None:
        """A leg's sockets were closed: its port is free again (after all the others)."""
        self._free.append(port)
        if len(self._ready) < self.size:
            self._wake.set()

    def _bind_next(self) -> ReadyPair | None:
        """Bind the next free port and its RTCP neighbour; None when either is busy."""
        port = self._free.popleft()
        try:
            rtp = bind_udp(self.host, port)
        except OSError:
            self._free.append(port)  # in use by someone else: try it later
            return None
        try:
            rtcp_sock = bind_udp(self.host, port + 1)
        except OSError:
            rtp.close()
            self._free.append(port)
            return None
        return ReadyPair(port, rtp, rtcp_sock)

    async def _refill(self) -> None:
        failures = 0  # binds failed in a row: every free port busy means wait
        while True:
            if len(self._ready) >= self.size or not self._free:
                self._wake.clear()
                await self._wake.wait()
                continue
            for _ in range(min(self._batch, self.size - len(self._ready), len(self._free))):
                pair = self._bind_next()
                if pair is None:
                    failures += 1
                    continue
                failures = 0
                self.bound_ahead += 1
                self._ready.append(pair)
            if failures and failures >= len(self._free):
                log.warning("media: every free RTP port on %s is busy; retrying in %.0f s",
                            self.host, RETRY_S)
                failures = 0
                await asyncio.sleep(RETRY_S)
            else:
                await asyncio.sleep(0)  # one batch per loop iteration: set-ups come first
