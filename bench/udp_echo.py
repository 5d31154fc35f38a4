"""The anchor of the capacity figures (issue 20): a uvloop UDP echo, one socket per stream.

    python bench/udp_echo.py serve N [--host 127.0.0.1]
    python bench/udp_echo.py drive HOST PORTS [--seconds S] [--pps 50] [--size 172]

``serve`` binds N UDP sockets (one per stream, as the engine has one RTP
socket per call) under uvloop and sends every datagram back to its sender,
in Python, one ``datagram_received`` and one ``sendto`` per packet. It
prints ``ready PORTS`` (the ports, comma-separated ranges) and then answers
each stdin line as ``bench/engine_runner.py`` does: ``stats`` prints one
JSON object (``time``, ``cpu``: the process's user + system seconds,
``packets`` echoed), ``quit`` stops it.

``drive`` sends ``--pps`` packets/s of ``--size`` bytes (a 20 ms G.711
frame with its RTP header) to every port of PORTS for ``--seconds``, from
one socket whose echoes are never read (the kernel drops them once its
buffer is full: the echo's own work is the same).

``bench/engine_capacity.py`` runs both, the echo pinned to the engine's CPU
and the driver on SIPp's, in the same minutes as the engine's own level, so
that "engine CPU per call / echo CPU per stream" compares like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import sys
import time

PACKET = 172  # 12-byte RTP header + 160 bytes of G.711 (20 ms)


class _Echo(asyncio.DatagramProtocol):
    __slots__ = ("transport", "counter")

    def __init__(self, counter: list[int]) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.counter = counter

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counter[0] += 1
        assert self.transport is not None
        self.transport.sendto(data, addr)


def ranges(ports: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3,7"`` (what ``serve`` prints, what ``drive`` reads)."""
    out: list[str] = []
    ordered = sorted(ports)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def parse_ranges(text: str) -> list[int]:
    """The inverse of :func:`ranges`."""
    out: list[int] = []
    for part in text.split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


async def serve(n: int, host: str) -> None:
    loop = asyncio.get_running_loop()
    counter = [0]
    transports = []
    for _ in range(n):
        t, _p = await loop.create_datagram_endpoint(lambda: _Echo(counter), local_addr=(host, 0))
        transports.append(t)
    ports = [t.get_extra_info("sockname")[1] for t in transports]
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(f"ready {ranges(ports)}", flush=True)
    try:
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                print(json.dumps({"time": time.monotonic(),
                                  "cpu": usage.ru_utime + usage.ru_stime,
                                  "packets": counter[0]}), flush=True)
            elif line in ("quit", ""):
                break
    finally:
        for t in transports:
            t.close()


def drive(host: str, ports: list[int], seconds: float, pps: float, size: int) -> int:
    """Paced sends to every port; returns the packets sent."""
    payload = bytes(size)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((host, 0))
    sock.setblocking(False)
    targets = [(host, p) for p in ports]
    send = sock.sendto
    period = 1.0 / pps
    start = time.monotonic()
    due = start
    sent = 0
    while due - start < seconds:
        for t in targets:
            try:
                send(payload, t)
                sent += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
        due += period
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    sock.close()
    return sent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("n", type=int)
    s.add_argument("--host", default="127.0.0.1")
    d = sub.add_parser("drive")
    d.add_argument("host")
    d.add_argument("ports")
    d.add_argument("--seconds", type=float, default=20.0)
    d.add_argument("--pps", type=float, default=50.0)
    d.add_argument("--size", type=int, default=PACKET)
    args = ap.parse_args()
    if args.cmd == "serve":
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        asyncio.run(serve(args.n, args.host))
        return 0
    sent = drive(args.host, parse_ranges(args.ports), args.seconds, args.pps, args.size)
    print(json.dumps({"sent": sent}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
