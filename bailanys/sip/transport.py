"""asyncio SIP transports: UDP and TCP on one host:port (RFC 3261 §18).

A thin adapter: bytes in → :func:`~bailanys.sip.message.parse_message` (TCP
frames cut by :class:`~bailanys.sip.framing.StreamFramer`) → the ``on_message``
callback with a :class:`Source`; bytes out through :meth:`SipTransport.send`.
A message that does not parse goes to ``on_bad_message`` with the raw bytes,
so the endpoint can answer 400 when a response can be formed.  Nothing a
peer sends can raise out of here into the loop.

Responses over TCP go back on the connection the request came in on
(§18.2.2); requests to a TCP destination open (and reuse) a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bailanys.errors import SipParseError
from bailanys.sip.framing import FramingError, Ping, StreamFramer
from bailanys.sip.message import Request, Response, parse_message
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

Addr = tuple[str, int]
TCP_IDLE_TIMEOUT = 600.0  # close a TCP connection idle this long (no RFC number; 10 min)


@dataclass(frozen=True)
class Source:
    """Where a message came from: transport name and the peer's address."""

    transport: str  # "UDP" or "TCP"
    addr: Addr


MessageHandler = Callable[[Request | Response, Source], None]
BadMessageHandler = Callable[[bytes, Source, SipParseError], None]


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.owner._received(data, Source("UDP", (addr[0], addr[1])), stream=False)

    def error_received(self, exc: Exception) -> None:
        log.debug("sip udp: %s", exc)


class _TcpConnection:
    """One TCP connection: a reader task framing messages, and a writer."""

    def __init__(
        self,
        owner: SipTransport,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        addr: Addr,
    ) -> None:
        self.owner = owner
        self.reader = reader
        self.writer = writer
        self.addr = addr
        self.framer = StreamFramer()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        source = Source("TCP", self.addr)
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(65536), TCP_IDLE_TIMEOUT)
                if not data:
                    break
                for item in self.framer.feed(data):
                    if isinstance(item, Ping):
                        self.writer.write(b"\r\n")  # RFC 5626 §4.4.1 pong
                    elif isinstance(item, FramingError):
                        self.owner._bad(item.raw, source, item.error)
                        if item.fatal:
                            return  # the stream cannot be re-synchronised: close it
                    else:
                        self.owner._dispatch(item, b"", source)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.owner._forget(self)
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    def send(self, data: bytes) -> None:
        self.writer.write(data)


class SipTransport:
    """UDP and TCP listeners on ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        on_message: MessageHandler,
        on_bad_message: BadMessageHandler,
        *,
        transports: tuple[str, ...] = ("udp", "tcp"),
    ) -> None:
        self.host = host
        self.port = port
        #: Where parsed messages and unparsable ones go (the endpoint's
        #: ``receive`` and ``bad_message``); set after construction when the
        #: endpoint is built on this transport.
        self.on_message = on_message
        self.on_bad_message = on_bad_message
        self._want = {t.lower() for t in transports}
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._conns: dict[Addr, _TcpConnection] = {}
        self._tasks = TaskSet()  # TCP connects and connections
        self.received = 0
        self.bad = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if "udp" in self._want:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self.port)
            )
            self._udp = transport
            if self.port == 0:
                self.port = transport.get_extra_info("sockname")[1]
        if "tcp" in self._want:
            self._server = await asyncio.start_server(self._accept, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns.values()):
            conn.writer.close()
        await self._tasks.cancel_all()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    # ------------------------------------------------------------ receiving

    def _received(self, data: bytes, source: Source, *, stream: bool) -> None:
        try:
            msg = parse_message(data, stream=stream)
        except SipParseError as exc:
            self._bad(data, source, exc)
            return
        except Exception as exc:  # a parser bug must not take the server down
            log.exception("parser failure on a message from %s", source.addr)
            self._bad(data, source, SipParseError(f"internal parser error: {exc}"))
            return
        self._dispatch(msg, data, source)

    def _dispatch(self, msg: Request | Response, raw: bytes, source: Source) -> None:
        self.received += 1
        try:
            self.on_message(msg, source)
        except SipParseError as exc:  # raised by deeper header validation
            self._bad(raw, source, exc)
        except Exception:
            log.exception("error handling a message from %s", source.addr)

    def _bad(self, data: bytes, source: Source, exc: SipParseError) -> None:
        self.bad += 1
        try:
            self.on_bad_message(data, source, exc)
        except Exception:
            log.exception("error answering a bad message from %s", source.addr)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        conn = _TcpConnection(self, reader, writer, (peer[0], peer[1]))
        self._conns[conn.addr] = conn
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # leaves the set when the connection ends
        await conn.run()

    def _forget(self, conn: _TcpConnection) -> None:
        if self._conns.get(conn.addr) is conn:
            del self._conns[conn.addr]

    # ------------------------------------------------------------ sending

    def send(self, data: bytes, addr: Addr, transport: str = "UDP") -> None:
        """Send raw bytes.  TCP reuses a connection to ``addr`` or opens one."""
        if transport.upper() == "TCP":
            conn = self._conns.get(addr)
            if conn is not None:
                conn.send(data)
                return
            self._tasks.spawn(self._connect_and_send(data, addr))
            return
        if self._udp is not None:
            self._udp.sendto(data, addr)

    async def _connect_and_send(self, data: bytes, addr: Addr) -> None:
        try:
            reader, writer = await asyncio.open_connection(addr[0], addr[1])
        except OSError as exc:
            log.warning("sip tcp connect to %s:%d failed: %s", addr[0], addr[1], exc)
            return
        conn = _TcpConnection(self, reader, writer, addr)
        self._conns[addr] = conn
        conn.send(data)
        await conn.run()
