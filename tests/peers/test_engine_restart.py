"""Restarts that lose nothing (issue 13 defects 6 to 9), on ``bailanys serve`` processes.

* ``kill -9`` with callers waiting and an operator on a console break: the
  next start closes every call (one ``call.ended`` each, cause
  engine_restart) and every waiting caller (``queue.abandoned``, cause
  engine_restart); ``/metrics`` shows nobody waiting and no wait that grows;
  the operator is still on the break, with its reason and start.
* SIGTERM with a caller waiting: a new INVITE meanwhile gets 503 with
  Retry-After; the caller hears that the service is being restarted (the
  notice lasts until the BYE), its abandon and its end say engine_shutdown;
  the process exits 0.

The engine runs as a subprocess with its own config (ports, store, queue
file, console user) in ``tmp_path``; SIPp plays the callers, a plain UDP
socket the operator's phone (REGISTER with digest) and the late caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bailanys.console.auth import COOKIE_NAME, hash_password
from bailanys.sip.digest import build_authorization
from tests.console.helpers import get, session_token
from tests.peers.conftest import PROMPT_DIR, free_sip_port, needs_sipp, next_rtp_range
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_PASSWORD = "Kezek-1414"
START_S = 60.0  # the first start may render the prompts (espeak-ng)

FLOW = """
flow: restart-test
numbers: ["1417"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: ru
    next: queue
  queue:
    type: queue
    queue: support
    fallback: bye
  bye:
    type: hangup
"""

QUEUES = """
[queues.support]
skills = ["support"]
announce_interval_s = 30

[agents.1001]
skills = { ru = 10, support = 5 }
"""


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """One engine's config and store in ``tmp_path``, and its processes."""

    def __init__(self, tmp_path: Path, drain_s: int) -> None:
        self.dir = tmp_path
        self.sip_port = free_sip_port()
        self.console_port = _free_tcp_port()
        self.store = tmp_path / "bailanys.db"
        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
        (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
        supervisor = hash_password(CONSOLE_PASSWORD)
        self.config = tmp_path / "bailanys.toml"
        self.config.write_text(f"""
[sip]
listen = "127.0.0.1:{self.sip_port}"
[media]
rtp_ports = "{next_rtp_range()}"
record_dir = "{tmp_path / 'rec'}"
[store]
path = "{self.store}"
batch_ms = 20
[voice]
prompt_dir = "{PROMPT_DIR}"
[registrar.users]
1001 = "pw1001"
[engine]
numbers = []
drain_seconds = {drain_s}
[ivr]
flow_dir = "{flows}"
reload_seconds = 0
[queue]
file = "{tmp_path / 'queues.toml'}"
[console]
listen = "127.0.0.1:{self.console_port}"
[console.users]
aigerim = "supervisor:{supervisor}"
[robot]
demo_db = "{tmp_path / 'robot.db'}"
faq = ""
[asr]
model_dir = "{flows}"
""", encoding="utf-8")
        self.runs = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    async def start(self) -> asyncio.subprocess.Process:
        self.runs += 1
        log = (self.dir / f"engine{self.runs}.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bailanys", "serve", "--config", str(self.config),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                break
            if await asyncio.to_thread(_options_ok, self.sip_port):
                return proc
            await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise AssertionError(f"engine did not start: {self.log(self.runs)}")

    def log(self, run: int) -> str:
        return (self.dir / f"engine{run}.log").read_text(errors="replace")[-3000:]

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Stored events, oldest first (read-only: the engine may be running)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT ts, type, call_id, data FROM events ORDER BY id").fetchall()
        out = [{"ts": ts, "type": t, "call_id": c, **json.loads(d)} for ts, t, c, d in rows]
        return [e for e in out if type_ is None or e["type"] == type_]

    async def wait_events(self, type_: str, count: int, within: float = 20.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(await asyncio.to_thread(self.events, type_)) >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {count} {type_} within {within} s")


def _udp(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(2.0)
    return sock


def _final(sock: socket.socket) -> str:
    while True:
        text = sock.recv(65535).decode()
        if text.startswith("SIP/2.0 ") and not text.startswith("SIP/2.0 1"):
            return text


def _options_ok(sip_port: int) -> bool:
    with _udp() as sock:
        port = sock.getsockname()[1]
        sock.settimeout(0.3)
        sock.sendto((
            f"OPTIONS sip:127.0.0.1:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKopt{time.monotonic_ns()}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\n"
            f"To: <sip:127.0.0.1>\r\nCall-ID: probe-{port}\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", sip_port))
        try:
            return _final(sock).startswith("SIP/2.0 200")
        except OSError:
            return False


def _header(text: str, name: str) -> str:
    for line in text.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def register(sip_port: int, user: str, password: str) -> int:
    """REGISTER ``user`` with digest; returns the contact's port (nobody answers there)."""
    with _udp() as sock:
        port = sock.getsockname()[1]
        uri = f"sip:127.0.0.1:{sip_port}"

        def request(cseq: int, auth: str = "") -> bytes:
            lines = [
                f"REGISTER {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKreg{cseq}{port};rport",
                "Max-Forwards: 70", f"From: <sip:{user}@127.0.0.1>;tag=reg{user}",
                f"To: <sip:{user}@127.0.0.1>", f"Call-ID: reg-{user}-{port}@127.0.0.1",
                f"CSeq: {cseq} REGISTER", f"Contact: <sip:{user}@127.0.0.1:{port}>",
                "Expires: 3600",
            ]
            if auth:
                lines.append(f"Authorization: {auth}")
            return ("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode()

        sock.sendto(request(1), ("127.0.0.1", sip_port))
        challenge = _final(sock)
        assert challenge.startswith("SIP/2.0 401"), challenge
        auth = build_authorization(_header(challenge, "WWW-Authenticate"), method="REGISTER",
                                   uri=uri, username=user, password=password)
        sock.sendto(request(2, auth), ("127.0.0.1", sip_port))
        ok = _final(sock)
        assert ok.startswith("SIP/2.0 200"), ok
        return port


def invite_status(sip_port: int) -> tuple[int, str]:
    """A new call to 1417: (final status, Retry-After)."""
    with _udp() as sock:
        port = sock.getsockname()[1]
        sdp = ("v=0\r\no=late 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        sock.sendto((
            f"INVITE sip:1417@127.0.0.1:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKlate{port}\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:7709@127.0.0.1>;tag=late\r\n"
            f"To: <sip:1417@127.0.0.1>\r\nCall-ID: late-{port}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:7709@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}").encode(), ("127.0.0.1", sip_port))
        final = _final(sock)
        return int(final.split(" ", 2)[1]), _header(final, "Retry-After")


async def console_snapshot(port: int, action: dict[str, Any] | None = None) -> dict[str, Any]:
    """The console's snapshot (after ``action``, if one is given and acknowledged)."""
    token = await session_token_for(port)
    async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5,
                       additional_headers={"Cookie": f"{COOKIE_NAME}={token}"}) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "snapshot", first
        snapshot: dict[str, Any] = first["data"]
        if action is not None:
            await ws.send(json.dumps({"type": "action", "id": 1, "action": action}))
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if reply.get("type") in ("ack", "error"):
                    assert reply["type"] == "ack", reply
                    break
        return snapshot


async def session_token_for(port: int) -> str:
    return await session_token(port, "aigerim")


def waiting_samples(metrics: str) -> dict[str, float]:
    """Every sample about callers on a line or waiting for a callback."""
    out: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        if any(k in name for k in ("waiting", "longest_wait", "callbacks_pending")):
            out[name] = float(value)
    return out


@contextlib.asynccontextmanager
async def callers(site: Site, count: int) -> AsyncIterator[asyncio.Task[Any]]:
    """``count`` SIPp callers to 1417 who stay on the line until hung up (or killed)."""
    sipp_dir = site.dir / f"sipp{count}-{site.runs}"
    make_ulaw_wav(sipp_dir / "bailanys_silence.wav", 1.0, 0.0)
    task = asyncio.get_running_loop().create_task(run_sipp_async(
        SCENARIOS / "ivr_silent.xml", site.target, cwd=sipp_dir, timeout_s=60,
        service="1417", calls=count, rate=20, concurrent_limit=count))
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> int:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
    try:
        return await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        return await proc.wait()


async def test_kill_9_with_callers_waiting_and_an_agent_on_a_break(tmp_path: Path) -> None:
    site = Site(tmp_path, drain_s=1)
    first = await site.start()
    try:
        await asyncio.to_thread(register, site.sip_port, "1001", "pw1001")
        await site.wait_events("agent.state", 1)  # the phone logged the agent in
        await console_snapshot(site.console_port,
                               {"name": "agent_pause", "agent": "1001", "reason": "lunch"})
        await site.wait_events("agent.state", 2)
        paused_at = (await asyncio.to_thread(site.events, "agent.state"))[-1]["ts"]
        async with callers(site, 3):
            await site.wait_events("queue.joined", 3)
            await asyncio.sleep(0.5)
            first.kill()  # kill -9, the calls up and the callers on the line
            await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    crashed = await asyncio.to_thread(site.events)
    joined = {e["call_id"] for e in crashed if e["type"] == "queue.joined"}
    assert len(joined) == 3
    assert not [e for e in crashed if e["type"] == "call.ended"]  # what the crash left

    second = await site.start()
    try:
        metrics = (await get(site.console_port, "/metrics")).body.decode()
        waiting = waiting_samples(metrics)
        assert waiting and all(v == 0 for v in waiting.values()), waiting
        await asyncio.sleep(1.2)  # no ghost whose wait keeps growing
        later = waiting_samples((await get(site.console_port, "/metrics")).body.decode())
        assert later == waiting, later
        snapshot = await console_snapshot(site.console_port)
        assert [q["waiting"] for q in snapshot["queues"]] == [[]]
        (agent,) = snapshot["agents"]
        assert (agent["user"], agent["state"], agent["reason"]) == ("1001", "break", "lunch")
        assert abs(agent["since"] - paused_at) < 1.0, (agent, paused_at)  # the break's start
    finally:
        assert await _stop(second) == 0, site.log(2)

    events = await asyncio.to_thread(site.events)
    for call_id in joined:
        mine = [e for e in events if e["call_id"] == call_id]
        ended = [e for e in mine if e["type"] == "call.ended"]
        assert [(e["cause"], e["reason"]) for e in ended] == [
            ("engine_restart", "engine_restart")], mine
        before = [e["ts"] for e in mine if e not in ended and e["type"] != "queue.abandoned"]
        assert ended[0]["ts"] == max(before)  # at the call's last known time
        abandoned = [e for e in mine if e["type"] == "queue.abandoned"]
        assert [e["cause"] for e in abandoned] == ["engine_restart"], mine
    states = [(e["state"], e["reason"]) for e in events
              if e["type"] == "agent.state" and e["agent"] == "1001"]
    assert states == [("available", ""), ("break", "lunch"), ("logged_out", "engine_restart"),
                      ("available", ""), ("break", "lunch")], states


async def test_sigterm_tells_the_waiting_caller_and_refuses_new_calls(tmp_path: Path) -> None:
    site = Site(tmp_path, drain_s=15)
    proc = await site.start()
    try:
        async with callers(site, 1) as caller:
            await site.wait_events("queue.joined", 1)
            proc.send_signal(signal.SIGTERM)
            await site.wait_events("call.notice", 1, within=5.0)
            status, retry_after = await asyncio.to_thread(invite_status, site.sip_port)
            assert (status, retry_after) == (503, "5")
            res = await asyncio.wait_for(caller, 30)  # the engine's BYE ends it
            assert res.ok, res.describe()
        assert await _stop(proc) == 0, site.log(1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    events = await asyncio.to_thread(site.events)
    (notice,) = [e for e in events if e["type"] == "call.notice"]
    assert (notice["notice"], notice["languages"]) == ("service_restarting", "ru")
    (abandoned,) = [e for e in events if e["type"] == "queue.abandoned"]
    assert abandoned["cause"] == "engine_shutdown"
    (ended,) = [e for e in events if e["type"] == "call.ended"]
    assert (ended["cause"], ended["reason"]) == ("engine_shutdown", "shutdown")
    assert ended["call_id"] == notice["call_id"] == abandoned["call_id"]
    assert ended["ts"] - notice["ts"] > 3.0  # the sentence was played to its end
