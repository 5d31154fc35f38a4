"""Wrong-password REGISTERs at a set rate from several addresses (a guessing attack).

Blocking sockets, for a thread beside the engine's loop (or for bench/).
Linux routes all of 127.0.0.0/8 to loopback, so ``127.0.0.x`` addresses are
distinct sources on one machine.  Each address asks for one challenge and
then repeats its answer, built with a wrong password: the engine's nonces
answer only from the address they were sent to, and a wrong digest is
wrong whatever its nonce count.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bailanys.sip.digest import build_authorization


@dataclass(frozen=True)
class FloodResult:
    sent: int
    seconds: float
    statuses: Counter[int]

    @property
    def checked(self) -> int:
        """Guesses the registrar checked (answered 403)."""
        return self.statuses[403]

    @property
    def refused(self) -> int:
        """Guesses refused unchecked (answered 503)."""
        return self.statuses[503]

    @property
    def guesses_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0


def register_text(target: tuple[str, int], local: tuple[str, int], user: str,
                  auth: str | None = None, *, contact: bool = False) -> bytes:
    """A REGISTER for ``user`` (no Contact: a query of the bindings, RFC 3261 §10.2.3)."""
    host, port = target
    lines = [
        f"REGISTER sip:{host}:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{host}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{user}@{host}>",
        f"Call-ID: {secrets.token_hex(8)}@{local[0]}",
        "CSeq: 1 REGISTER",
        *([f"Contact: <sip:{user}@{local[0]}:{local[1]}>"] if contact else []),
        *([f"Authorization: {auth}"] if auth else []),
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(data: bytes) -> int:
    try:
        return int(data.split(b" ", 2)[1]) if data.startswith(b"SIP/2.0 ") else 0
    except (IndexError, ValueError):
        return 0


def _header(data: bytes, name: str) -> str | None:
    for line in data.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def _ask(sock: socket.socket, target: tuple[str, int], data: bytes,
         timeout: float = 2.0) -> bytes:
    sock.settimeout(timeout)
    sock.sendto(data, target)
    while True:
        reply = sock.recv(65535)
        if _status(reply) >= 200:  # skip a 100 Trying, if any
            return reply


def register_once(target: tuple[str, int], source: str, user: str, password: str) -> int:
    """Challenge, then answer it from ``source``: the final status (401 challenge -> ...)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        local = sock.getsockname()[:2]
        first = _ask(sock, target, register_text(target, local, user))
        challenge = _header(first, "WWW-Authenticate")
        if _status(first) != 401 or challenge is None:
            return _status(first)
        auth = build_authorization(challenge, method="REGISTER", uri=f"sip:{target[0]}",
                                   username=user, password=password)
        return _status(_ask(sock, target, register_text(target, local, user, auth)))


def flood(target: tuple[str, int], user: str, sources: Sequence[str], *,
          per_second: float, seconds: float, password: str = "wrong-guess") -> FloodResult:
    """Send wrong digests for ``user`` round-robin from ``sources``; count the answers."""
    socks = []
    try:
        for address in sources:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(sock)
            sock.bind((address, 0))
        auths = []
        for sock in socks:
            first = _ask(sock, target, register_text(target, sock.getsockname()[:2], user))
            challenge = _header(first, "WWW-Authenticate")
            assert challenge is not None, first
            auths.append(build_authorization(challenge, method="REGISTER",
                                             uri=f"sip:{target[0]}", username=user,
                                             password=password))
            sock.setblocking(False)
        statuses: Counter[int] = Counter()

        def drain() -> None:
            for sock in socks:
                while True:
                    try:
                        statuses[_status(sock.recv(65535))] += 1
                    except BlockingIOError:
                        break

        total = int(per_second * seconds)
        start = time.monotonic()
        for i in range(total):
            delay = start + i / per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sock, auth = socks[i % len(socks)], auths[i % len(socks)]
            sock.sendto(register_text(target, sock.getsockname()[:2], user, auth), target)
            drain()
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + 2.0
        while sum(statuses.values()) < total and time.monotonic() < deadline:
            time.sleep(0.02)
            drain()
        return FloodResult(total, elapsed, statuses)
    finally:
        for sock in socks:
            sock.close()
