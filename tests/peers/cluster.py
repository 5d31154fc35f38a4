"""A cluster on loopback for tests and ``bench/cluster.py`` (issue 22).

Kamailio (Debian's, foreground ``-DD -E``, its own pid file, runtime dir and
control socket) with the configuration ``bailanys cluster kamailio-config``
generates, its usrloc tables made in a PostgreSQL database from Kamailio's
own SQL (``/usr/share/kamailio/postgres/``), and engines as ``bailanys
serve`` subprocesses behind it, each with its own config and SQLite store
(``[store]`` passes through: another store is one line of ``store_toml``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bailanys.cluster.kamailio import render
from bailanys.cluster.settings import Cluster
from bailanys.store.syncdb import connect_sync
from tests.peers.conftest import PROMPT_DIR, free_sip_port, next_rtp_range

ROOT = Path(__file__).resolve().parents[2]
KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").is_file() else None)
KAMCMD = shutil.which("kamcmd") or (
    "/usr/sbin/kamcmd" if Path("/usr/sbin/kamcmd").is_file() else None)
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
KAMAILIO_SQL = Path("/usr/share/kamailio/postgres")
START_S = 60.0  # an engine's first start may render prompts (espeak-ng)


def create_usrloc_tables(pg_url: str) -> None:
    """Kamailio's ``version``, ``location`` and ``subscriber`` tables, from its own
    schema files (README, "The cluster set-up")."""
    with psycopg.connect(pg_url, autocommit=True) as db:
        for name in ("standard-create.sql", "usrloc-create.sql", "auth_db-create.sql"):
            db.execute((KAMAILIO_SQL / name).read_text())  # type: ignore[arg-type]


def options_status(host: str, port: int, timeout: float = 0.3) -> str | None:
    """The status line an OPTIONS to ``host:port`` is answered with, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local = sock.getsockname()[1]
        sock.sendto((f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-probe{local}\r\n"
                     f"From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:{host}>\r\n"
                     f"Call-ID: probe-{local}-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\n"
                     "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), (host, port))
        try:
            return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return None


def register_status(port: int, user: str) -> str | None:
    """The status line of a REGISTER for ``user`` without credentials."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2.0)
        local = sock.getsockname()[1]
        sock.sendto((f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-reg{local}\r\n"
                     f"From: <sip:{user}@127.0.0.1>;tag=r\r\nTo: <sip:{user}@127.0.0.1>\r\n"
                     f"Call-ID: reg-{local}\r\nCSeq: 1 REGISTER\r\n"
                     f"Contact: <sip:{user}@127.0.0.1:{local}>\r\nExpires: 60\r\n"
                     "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                    ("127.0.0.1", port))
        try:
            return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return None


class Kamailio:
    """One Kamailio in ``folder`` in front of ``engines``."""

    def __init__(self, folder: Path, engines: list[str], pg_url: str, *,
                 port: int | None = None, health_check_s: int = 1,
                 engine_timeout_ms: int = 500) -> None:
        self.folder = folder
        self.port = port or free_sip_port()
        self.ctl = folder / "ctl.sock"
        self.cluster = Cluster(
            listen=f"127.0.0.1:{self.port}", engines=tuple(engines), db_url=pg_url,
            health_check_s=health_check_s, engine_timeout_ms=engine_timeout_ms,
            # One UDP worker: two can pass an engine's 180 and 200 on out of
            # order, and SIPp's scenarios abort a call on a 180 after its 200
            # (a phone ignores it, RFC 3261 §17.1.1.2).
            control=f"unix:{self.ctl}", children=1)
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert KAMAILIO is not None
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        files = render(self.cluster, str(self.folder / "dispatcher.list"), source="test")
        (self.folder / "kamailio.cfg").write_text(files.cfg)
        (self.folder / "dispatcher.list").write_text(files.dispatcher_list)
        log = (self.folder / "kamailio.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            KAMAILIO, "-f", str(self.folder / "kamailio.cfg"), "-DD", "-E", "-m", "64",
            "-M", "8", "-L", str(MODULES), "-Y", str(self.folder),
            "-P", str(self.folder / "kamailio.pid"), "-w", str(self.folder),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.returncode is None:
            if await asyncio.to_thread(options_status, "127.0.0.1", self.port) is not None:
                return
        raise AssertionError(f"kamailio did not start: {self.log()}")

    def log(self) -> str:
        return (self.folder / "kamailio.log").read_text(errors="replace")[-3000:]

    def dispatcher(self) -> dict[str, str]:
        """Each engine's dispatcher flags (``AP`` active, ``IP`` inactive probing...)."""
        assert KAMCMD is not None
        out = subprocess.run([KAMCMD, "-s", f"unix:{self.ctl}", "dispatcher.list"],
                             capture_output=True, text=True, timeout=5, check=False).stdout
        found = re.findall(r"URI:\s*sip:([\d.]+:\d+)\s+FLAGS:\s*(\w+)", out)
        return dict(found)

    async def wait_active(self, within_s: float = 15.0) -> None:
        """Until the dispatcher counts every engine active (an engine probed
        before it listened is inactive until its next OPTIONS is answered)."""
        deadline = time.monotonic() + within_s
        flags: dict[str, str] = {}
        while time.monotonic() < deadline:
            flags = await asyncio.to_thread(self.dispatcher)
            if len(flags) == len(self.cluster.engines) and all(
                    f.startswith("A") for f in flags.values()):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"engines not all active after {within_s} s: {flags}")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


FLOW = """
flow: cluster-queue
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
ring_timeout_s = 8
wrap_up_s = 0

[agents.1001]
skills = { ru = 10, support = 5 }
"""


class EngineProc:
    """One ``bailanys serve`` behind the proxy, its config and store in ``folder``."""

    store: Path | str

    def __init__(self, folder: Path, proxy: str, locations_url: str, *,
                 store_toml: str | None = None, rtp_ports: str | None = None,
                 cluster_toml: str = "", media_toml: str = "",
                 console_toml: str = 'listen = ""') -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_sip_port()
        self.store = folder / "bailanys.db"
        flows = folder / "flows"
        flows.mkdir(exist_ok=True)
        (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
        (folder / "queues.toml").write_text(QUEUES, encoding="utf-8")
        store = store_toml or f'path = "{self.store}"\nbatch_ms = 20'
        self.config = folder / "bailanys.toml"
        self.config.write_text(f"""
[sip]
listen = "127.0.0.1:{self.sip_port}"
max_calls = 2000
[media]
rtp_ports = "{rtp_ports or next_rtp_range()}"
record_dir = "{folder / 'rec'}"
{media_toml}
[store]
{store}
[voice]
prompt_dir = "{PROMPT_DIR}"
[engine]
numbers = ["1414"]
drain_seconds = 0
[ivr]
flow_dir = "{flows}"
reload_seconds = 0
[queue]
file = "{folder / 'queues.toml'}"
[console]
{console_toml}
[robot]
demo_db = "{folder / 'robot.db'}"
faq = ""
[asr]
model_dir = "{flows}"
[analytics]
enabled = false
workers = 0
[cluster]
proxy = "{proxy}"
locations_url = "{locations_url}"
locations_poll_ms = 200
{cluster_toml}
""", encoding="utf-8")
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    async def start(self) -> None:
        log = (self.folder / "engine.log").open("ab")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bailanys", "serve", "--config", str(self.config),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline and self.proc.returncode is None:
            if await asyncio.to_thread(options_status, "127.0.0.1", self.sip_port) is not None:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"engine did not start: {self.log()}")

    def log(self) -> str:
        return (self.folder / "engine.log").read_text(errors="replace")[-3000:]

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Stored events, oldest first (read-only: the engine may be running);
        ``self.store`` is the SQLite file or the shared store's URL."""
        where, params = ("", ()) if type_ is None else (" WHERE type = ?", (type_,))
        with contextlib.closing(connect_sync(self.store, readonly=True)) as db:
            rows = db.execute("SELECT ts, type, call_id, data FROM events"
                              f"{where} ORDER BY id", params).fetchall()
        return [{"ts": ts, "type": t, "call_id": c, **json.loads(d)} for ts, t, c, d in rows]

    async def wait_events(self, type_: str, count: int, within: float = 10.0) -> list[Any]:
        deadline = time.monotonic() + within
        while True:
            found = await asyncio.to_thread(self.events, type_)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
