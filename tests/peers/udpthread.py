"""A UDP socket served by one reader thread: the base of the test peers' stubs.

Threads, not asyncio, so a stub works beside blocking SIPp runs and beside
an asyncio loop alike; ``start()`` / ``stop()`` (or ``with``) own the thread.
"""

from __future__ import annotations

import socket
import threading
from typing import Self


class UdpThread:
    """Calls ``handle(data, addr)`` for every datagram received on ``host:port``."""

    name = "udp-thread"
    bufsize = 8192

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, rcvbuf: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.host, self.port = self.sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, data: bytes, addr: tuple[str, int]) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(self.bufsize)
            except TimeoutError:
                continue
            except OSError:
                return
            self.handle(data, addr)
