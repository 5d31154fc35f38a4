"""A pyVoIP 1.6.8 softphone as a test peer: registers, auto-answers, records.

``PyVoipAgent`` registers to a registrar (ours, or a stub) with pyVoIP's
``VoIPPhone``, answers every incoming call, plays a tone (optional), and
counts the audio it receives. Events go to a ``queue.Queue`` so tests can
wait for them from any thread (``wait_for``).

pyVoIP quirks met here (read from ``pyVoIP/VoIP/VoIP.py`` and ``SIP.py``):

* It is a softphone, not a server: every reply it sends (180, 200, 486,
  ACK) goes to ``(server, port)`` given at construction, never to the
  request's Via. Only its 200 to a BYE goes to the Via address. So a caller
  other than the registrar never sees the 200 unless the registrar relays
  it, or the agent is ``retarget``-ed at the caller (see bench/pyvoip_baseline).
* ``start()`` registers synchronously (``register_timeout`` = 30 s per
  try, 3 tries) before the SIP receive loop starts, one second later
  (``threading.Timer(1, recv_loop)``). ``PyVoipAgent`` starts that loop as
  soon as the registration is done (:func:`_recv_loop_at_once`): the delay
  only keeps the loop off the socket while ``register()`` reads it, and a
  test need not wait it out before the phone takes or places calls.
* It answers through ``threading.Timer(1, callCallback)``: 180 goes out at
  once, the 200 at least one second later. ``PyVoipAgent(answer_after_s=...)``
  sets that delay per agent (:class:`_AnswerTimer`); the default keeps
  pyVoIP's second, and tests whose subject is not the ring time pass 0.
* One thread per RTP direction per call, polling every 10 ms; the send
  clock is ``sleep(20 ms - work)`` per packet, so it drifts slow under load.
* It takes the first offered codec it knows; its PCMA path encodes µ-law
  (``encode_packet`` calls ``encode_pcmu`` for PCMA), so offer PCMU only.
  ``pyVoIP.RTPCompatibleCodecs`` is narrowed to PCMU + telephone-event here.
* Audio in and out is 8-bit unsigned linear (silence 0x80), 160 bytes a
  20 ms frame; ``read_audio`` pads with 0x80 when nothing came.
* RTP ports are chosen at random from ``[rtp_low, rtp_high]`` and only
  freed when the range runs out: give it a range of a few hundred ports.
* ``stop()`` deregisters (waits for an answer up to 30 s) and hangs up
  calls; ``DEBUG = False`` keeps it quiet.
* Digest auth (``gen_authorization``) is RFC 2069 style: MD5, no ``qop``,
  no ``cnonce``/``nc``; ``uri`` is ``sip:<server>;transport=UDP`` with the
  host string it was given and no port, and the REGISTER Request-URI is
  ``sip:<server>`` (no port). A registrar must verify against the ``uri``
  parameter as sent and must not insist on ``qop``. ``RegistrarStub`` below
  checks exactly that.
* It answers a 401 once; a second 401 raises ``InvalidAccountInfoError``
  and after 3 failures the phone stops itself (status FAILED).
"""

from __future__ import annotations

import hashlib
import math
import queue
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pyVoIP
import pyVoIP.VoIP.VoIP as pyvoip_phone
from pyVoIP.RTP import PayloadType
from pyVoIP.VoIP import CallState, InvalidStateError, PhoneStatus, VoIPPhone

from tests.peers.udpthread import UdpThread

# PCMU only (plus RFC 2833 events): pyVoIP's PCMA sends µ-law bytes.
pyVoIP.RTPCompatibleCodecs = [PayloadType.PCMU, PayloadType.EVENT]

FRAME_BYTES = 160
"""One 20 ms frame of 8 kHz 8-bit audio (RFC 3551 §4.5)."""


@dataclass(frozen=True)
class AgentEvent:
    """Something that happened to the agent: ``kind`` is one of
    ``registered``, ``ringing``, ``answered``, ``ended``, ``failed``."""

    kind: str
    call_id: str = ""
    detail: str = ""
    at: float = field(default_factory=time.monotonic)


def tone_frames(freq_hz: float, seconds: float = 1.0) -> bytes:
    """8-bit unsigned linear tone (pyVoIP's ``write_audio`` format)."""
    n = int(seconds * 8000)
    return bytes(int(128 + 60 * math.sin(2 * math.pi * freq_hz * i / 8000)) for i in range(n))


class PyVoipAgent:
    """Registers ``user`` to ``server_host:server_port`` and answers calls.

    ``registered``, ``answered_calls``, ``ended_calls`` and
    ``received_audio_bytes`` (non-silent bytes read from answered calls) are
    safe to read from any thread.
    """

    def __init__(
        self,
        server_host: str,
        server_port: int,
        user: str,
        password: str,
        local_port: int,
        rtp_low: int,
        rtp_high: int,
        *,
        local_ip: str = "127.0.0.1",
        tone_hz: float | None = 440.0,
        answer: bool = True,
        talk_s: float | None = None,
        ignore: bool = False,
        keep_audio: bool = False,
        answer_after_s: float = 1.0,
    ) -> None:
        self.user = user
        #: Seconds from the ring (180) to the answer: pyVoIP's Timer(1, ...) (module docstring).
        self.answer_after_s = answer_after_s
        self.ignore = ignore  # let calls ring unanswered (no 486): the caller's timeout ends them
        self.talk_s = talk_s  # hang up this long after answering (None: the far end hangs up)
        self.tone = tone_frames(tone_hz) if tone_hz else b""
        self.answer = answer
        self.events: queue.Queue[AgentEvent] = queue.Queue()
        self._lock = threading.Lock()
        self._answered = 0
        self._ended = 0
        self._rx_bytes = 0
        self._rx_frames = 0
        # Issue 21: every byte read from calls, in order (silence included), for
        # tests that analyse what the phone heard (``heard``).
        self.keep_audio = keep_audio
        self._heard = bytearray()
        self._stopping = threading.Event()
        self._call_threads: list[threading.Thread] = []
        self.phone = VoIPPhone(
            server_host,
            server_port,
            user,
            password,
            myIP=local_ip,
            callCallback=self._on_call,
            sipPort=local_port,
            rtpPortLow=rtp_low,
            rtpPortHigh=rtp_high,
        )
        _recv_loop_at_once(self.phone.sip)

    # ---------------------------------------------------------------- state

    @property
    def registered(self) -> bool:
        return bool(self.phone.get_status() == PhoneStatus.REGISTERED)

    @property
    def answered_calls(self) -> int:
        with self._lock:
            return self._answered

    @property
    def ended_calls(self) -> int:
        with self._lock:
            return self._ended

    @property
    def received_audio_bytes(self) -> int:
        with self._lock:
            return self._rx_bytes

    @property
    def received_frames(self) -> int:
        with self._lock:
            return self._rx_frames

    def heard(self, start: int = 0) -> bytes:
        """The 8-bit audio read since byte ``start`` (``keep_audio``); ``len(heard())``
        marks a point in it."""
        with self._lock:
            return bytes(self._heard[start:])

    def talk(self, call: Any) -> None:
        """Play the tone into ``call`` and read what comes back until it ends
        (for a call this phone placed; answered calls get it on their own)."""
        self._media_loop(call)

    # ---------------------------------------------------------------- control

    def start(self) -> None:
        """Register (blocks until the registrar answers, or raises)."""
        self.phone.start()
        if self.registered:
            self._emit("registered")
        else:
            self._emit("failed", detail=str(self.phone.get_status()))

    def stop(self, *, deregister: bool = True) -> None:
        """Hang up, deregister (unless told not to) and join call threads."""
        self._stopping.set()
        if not deregister and self.phone.sip.registerThread is not None:
            self.phone.sip.registerThread.cancel()
            self.phone.sip.registerThread = None  # SIPClient.stop skips deregister
        self.phone.stop()
        for t in list(self._call_threads):
            t.join(timeout=2)

    def retarget(self, host: str, port: int) -> None:
        """Send all further replies to ``host:port`` instead of the registrar.

        pyVoIP addresses every reply to its server; a caller that is not the
        registrar (SIPp in the baseline benchmark) only sees the 180/200 if
        the agent is pointed at it. Re-registration is cancelled (it would go
        to the new target)."""
        sip = self.phone.sip
        if sip.registerThread is not None:
            sip.registerThread.cancel()
            sip.registerThread = None
        self.phone.server, self.phone.port = host, port
        sip.server, sip.port = host, port

    def wait_for(self, kind: str, timeout: float = 10.0) -> AgentEvent:
        """Next event of ``kind`` (others are dropped); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind!r} event within {timeout} s")
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev.kind == kind:
                return ev

    def __enter__(self) -> PyVoipAgent:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- calls

    def _emit(self, kind: str, call_id: str = "", detail: str = "") -> None:
        self.events.put(AgentEvent(kind, call_id, detail))

    def _on_call(self, call: Any) -> None:
        """pyVoIP's callCallback, run on its 1 s Timer thread per call."""
        call_id = str(call.call_id)
        self._emit("ringing", call_id)
        if self.ignore:
            return
        if not self.answer:
            try:
                call.deny()
            except InvalidStateError:
                pass
            return
        try:
            call.answer()
        except InvalidStateError as exc:
            self._emit("failed", call_id, str(exc))
            return
        with self._lock:
            self._answered += 1
        self._call_threads.append(threading.current_thread())
        self._emit("answered", call_id)
        self._media_loop(call)
        with self._lock:
            self._ended += 1
        self._emit("ended", call_id)

    def _media_loop(self, call: Any) -> None:
        """Feed the tone a frame ahead and drain received audio every 20 ms."""
        pos = 0
        next_t = time.monotonic()
        until = None if self.talk_s is None else next_t + self.talk_s
        if self.tone:
            call.write_audio(self.tone[:FRAME_BYTES])
            pos = FRAME_BYTES
        while call.state == CallState.ANSWERED and not self._stopping.is_set():
            if until is not None and time.monotonic() >= until:
                break
            if self.tone:
                frame = self.tone[pos : pos + FRAME_BYTES]
                if len(frame) < FRAME_BYTES:
                    pos = 0
                    frame = self.tone[:FRAME_BYTES]
                pos += FRAME_BYTES
                call.write_audio(frame)
            data = call.read_audio(FRAME_BYTES, blocking=False)
            if self.keep_audio:
                with self._lock:
                    self._heard += data
            live = sum(1 for b in data if abs(b - 0x80) > 2)
            if live:
                with self._lock:
                    self._rx_bytes += len(data)
                    self._rx_frames += 1
            next_t += 0.02
            time.sleep(max(0.0, next_t - time.monotonic()))
        if call.state == CallState.ANSWERED:
            try:
                call.hangup()
            except InvalidStateError:
                pass


class _AnswerTimer(threading.Timer):
    """pyVoIP's ``Timer(1, callCallback, [call])`` (its only Timer in ``VoIP.py``):
    a :class:`PyVoipAgent`'s call callback waits the agent's ``answer_after_s``."""

    def __init__(self, interval: float, function: Any, args: Any = None,
                 kwargs: Any = None) -> None:
        agent = getattr(function, "__self__", None)
        if isinstance(agent, PyVoipAgent):
            interval = agent.answer_after_s
        super().__init__(interval, function, args, kwargs)


pyvoip_phone.Timer = _AnswerTimer  # type: ignore[misc]


def _recv_loop_at_once(sip: Any) -> None:
    """``sip.start()`` as pyVoIP 1.6.8's ``SIPClient.start``, but its receive
    loop starts when ``register()`` returns rather than a second later.

    The loop is pyVoIP's ``recv_loop`` except that the socket is blocking again
    before the lock is released: pyVoIP's ``acquired_lock_and_unblocked_socket``
    releases the lock first, and a ``phone.call()`` taking the lock in between
    reads a non-blocking socket (``BlockingIOError`` from ``SIPClient.invite``).
    """

    def recv_loop() -> None:
        while sip.NSD:
            with sip.recvLock:
                sip.s.setblocking(False)
                try:
                    sip.recv()
                    idle = False
                except BlockingIOError:
                    idle = True
                finally:
                    sip.s.setblocking(True)
            if idle:
                time.sleep(0.01)

    def start() -> None:
        if sip.NSD:
            raise RuntimeError("Attempted to start already started SIPClient")
        sip.NSD = True
        sip.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sip.s.bind((sip.myIP, sip.myPort))
        sip.out = sip.s
        sip.register()
        threading.Thread(target=recv_loop, name="SIP Recieve").start()

    sip.start = start


class RegistrarStub(UdpThread):
    """A UDP registrar for pyVoIP: REGISTER -> 200 OK, everything else ignored.

    With ``password`` set it first answers 401 with an MD5 digest challenge
    (RFC 3261 §22.4, no qop, as pyVoIP speaks it) and checks the response;
    ``registrations`` / ``challenges`` / ``bad_auth`` count what happened.
    """

    REALM = "bailanys"

    name = "registrar-stub"

    def __init__(self, host: str = "127.0.0.1", password: str | None = None) -> None:
        super().__init__(host)
        self.password = password
        self.registrations = 0
        self.challenges = 0
        self.bad_auth = 0
        self._nonce = secrets.token_hex(8)

    def handle(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode(errors="replace")
        if text.startswith("REGISTER "):
            self.sock.sendto(self._answer(text).encode(), addr)

    def _answer(self, text: str) -> str:
        lines = text.split("\r\n")
        keep: list[str] = []
        auth = ""
        for line in lines[1:]:
            name = line.split(":", 1)[0].strip().lower()
            if name in ("via", "from", "call-id", "cseq", "contact"):
                keep.append(line)
            elif name == "to":
                keep.append(line + ";tag=stub")
            elif name == "authorization":
                auth = line.split(":", 1)[1]
        if self.password is not None:
            if not auth:
                self.challenges += 1
                chal = (
                    f'WWW-Authenticate: Digest realm="{self.REALM}",'
                    f'nonce="{self._nonce}",algorithm=MD5'
                )
                return "\r\n".join(
                    ["SIP/2.0 401 Unauthorized", *keep, chal, "Content-Length: 0", "", ""]
                )
            if not self._check(auth):
                self.bad_auth += 1
                return "\r\n".join(["SIP/2.0 403 Forbidden", *keep, "Content-Length: 0", "", ""])
        self.registrations += 1
        return "\r\n".join(["SIP/2.0 200 OK", *keep, "Expires: 3600", "Content-Length: 0", "", ""])

    def _check(self, auth: str) -> bool:
        """RFC 2617 §3.2.2.1 without qop: md5(HA1:nonce:HA2)."""
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', auth))
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1 = md5(f"{p.get('username', '')}:{self.REALM}:{self.password}")
        ha2 = md5(f"REGISTER:{p.get('uri', '')}")
        return p.get("nonce") == self._nonce and p.get("response") == md5(
            f"{ha1}:{self._nonce}:{ha2}"
        )
