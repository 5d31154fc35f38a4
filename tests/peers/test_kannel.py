"""The SMS outbox against a real Kannel (bearerbox + smsbox) and Kannel's fakesmsc.

Kannel's ``fake`` SMSC driver speaks to ``fakesmsc`` (kannel-extras), which
prints every message it gets as ``Got message N: <from to ucs-2 DATA>``
(DATA: the UCS-2 big-endian bytes, URL-encoded with ``+`` for 0x20). The
``fake`` driver itself creates the delivery reports (8 "SMSC submit", then
1 "delivered") as soon as fakesmsc has the message, and smsbox calls our
``dlr-url`` with them: the DLR in these tests comes from Kannel, not from us.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from bailanys.events import encode
from bailanys.robot.kannel import HttpKannel, KannelConfig
from bailanys.robot.sms import DlrServer, SmsConfig, SmsOutbox, SmsState
from bailanys.store.db import Database
from bailanys.store.migrations import migrate

pytestmark = pytest.mark.peer

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
KAZ = "Сіздің анықтамаңыз дайын: https://egov.kz/x — қ ә ғ ү ұ ө і ң һ"
TO = "77011234567"
USER, PASSWORD = "bailanys", "t3st"
GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>$")

if not all(Path(p).is_file() for p in (BEARERBOX, SMSBOX, FAKESMSC)):
    pytest.skip(
        "Kannel not installed: need bearerbox, smsbox (package kannel) and "
        f"{FAKESMSC} (package kannel-extras); see scripts/ensure-deps.sh",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kannel_conf(d: Path, admin: int, box: int, smsc: int, sendsms: int) -> str:
    """The whole kannel.conf for one test: core, one fake SMSC, smsbox, one user."""
    return f"""\
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = admin
admin-allow-ip = "127.0.0.1"
smsbox-port = {box}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-file = "{d}/bearerbox.log"
log-level = 0

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = {smsc}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{d}/smsbox.log"
log-level = 0

group = sendsms-user
username = {USER}
password = {PASSWORD}
max-messages = 4
concatenation = true
"""


def decode_fakesmsc(coding: str, data: str) -> str:
    """fakesmsc's DATA field back to text (``ucs-2``: URL-encoded UTF-16-BE)."""
    raw = unquote_to_bytes(data.replace("+", "%20"))
    return raw.decode("utf-16-be" if coding == "ucs-2" else "latin-1")


async def wait_port(port: int, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            try:
                _, w = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            w.close()
            with contextlib.suppress(OSError):
                await w.wait_closed()
            return


async def until(cond: Callable[[], Any], within: float = 10.0) -> None:
    """Poll ``cond`` until true; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await cond():
                return
            await asyncio.sleep(0.05)


@dataclass
class KannelRig:
    """bearerbox, smsbox and fakesmsc on free loopback ports; ``start``/``stop``."""

    dir: Path
    admin: int = field(default_factory=free_port)
    box: int = field(default_factory=free_port)
    smsc: int = field(default_factory=free_port)
    sendsms: int = field(default_factory=free_port)
    received: list[tuple[str, str, str]] = field(default_factory=list)  # from, to, text
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def config(self) -> KannelConfig:
        return KannelConfig(port=self.sendsms, username=USER, password=PASSWORD, timeout_s=3)

    async def start(self) -> None:
        conf = self.dir / "kannel.conf"
        conf.write_text(kannel_conf(self.dir, self.admin, self.box, self.smsc, self.sendsms))
        await self._spawn("bearerbox", BEARERBOX, str(conf))
        await wait_port(self.box)
        await wait_port(self.smsc)
        fake = await self._spawn(
            "fakesmsc", FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc), "-i", "0.1", "-m", "0",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert fake.stdout is not None
        self.reader = asyncio.create_task(self._read(fake.stdout))
        await self._spawn("smsbox", SMSBOX, str(conf))
        await wait_port(self.sendsms)

    async def _spawn(self, name: str, *argv: str, **kw: Any) -> asyncio.subprocess.Process:
        out = (self.dir / f"{name}.out").open("ab")
        kw.setdefault("stdout", out)
        proc = await asyncio.create_subprocess_exec(
            *argv, stderr=asyncio.subprocess.STDOUT, cwd=self.dir, **kw
        )
        out.close()
        self.procs.append(proc)
        return proc

    async def _read(self, stream: asyncio.StreamReader) -> None:
        with (self.dir / "fakesmsc.out").open("a", encoding="utf-8") as log:
            while line := await stream.readline():
                text = line.decode("utf-8", "replace").rstrip("\n")
                log.write(text + "\n")
                m = GOT.search(text)
                if m:
                    self.received.append((m[1], m[2], decode_fakesmsc(m[3], m[4])))

    async def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs.clear()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
            self.reader = None


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[KannelRig]:
    r = KannelRig(tmp_path)
    yield r
    await r.stop()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    d = await Database.open(tmp_path / "sms.db")
    await migrate(d)
    yield d
    await d.close()


@pytest.fixture
async def outbox_and_dlr(
    db: Database, rig: KannelRig
) -> AsyncIterator[tuple[SmsOutbox, list[tuple[str, dict[str, Any]]]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    dlr_port = free_port()
    cfg = rig.config()
    kannel = HttpKannel(
        KannelConfig(port=cfg.port, username=cfg.username, password=cfg.password,
                     timeout_s=cfg.timeout_s, dlr_url=f"http://127.0.0.1:{dlr_port}/dlr")
    )  # fmt: skip
    outbox = SmsOutbox(
        db, kannel, config=SmsConfig(max_attempts=1000, backoff_base_s=0.1, backoff_cap_s=0.4),
        emit=lambda e: events.append(encode(e)[::2]),
    )  # fmt: skip
    server = DlrServer("127.0.0.1", dlr_port, outbox)
    await server.start()
    outbox.start()
    yield outbox, events
    await outbox.stop()
    await server.stop()


async def states(outbox: SmsOutbox, ids: list[int]) -> list[SmsState | None]:
    return [(r.state if (r := await outbox.get(i)) else None) for i in ids]


async def test_kazakh_sms_arrives_intact_and_is_delivered(
    rig: KannelRig, outbox_and_dlr: tuple[SmsOutbox, list[tuple[str, dict[str, Any]]]]
) -> None:
    outbox, events = outbox_and_dlr
    await rig.start()
    msg = await outbox.enqueue(TO, KAZ)

    async def delivered() -> bool:
        return (await states(outbox, [msg])) == [SmsState.DELIVERED] and bool(rig.received)

    await until(delivered)
    assert rig.received == [("1414", TO, KAZ)]
    rec = await outbox.get(msg)
    assert rec is not None and rec.attempts == 1 and rec.kannel_id  # the fake SMSC's id (%F)
    assert [t for t, _ in events] == ["sms.queued", "sms.sent", "sms.delivered"] or [
        t for t, _ in events] == ["sms.queued", "sms.delivered"]  # DLR beat our UPDATE  # fmt: skip


async def test_kannel_down_then_up_loses_nothing(
    rig: KannelRig, outbox_and_dlr: tuple[SmsOutbox, list[tuple[str, dict[str, Any]]]]
) -> None:
    outbox, _ = outbox_and_dlr
    ids = [await outbox.enqueue(TO, f"{KAZ} #{n}") for n in range(3)]

    async def retried() -> bool:
        rec = await outbox.get(ids[0])
        return rec is not None and rec.attempts >= 3

    await until(retried)
    assert await states(outbox, ids) == [SmsState.QUEUED] * 3
    rec = await outbox.get(ids[0])
    assert rec is not None and rec.last_error and "Connection refused" in rec.last_error

    await rig.start()

    async def all_delivered() -> bool:
        # The fake SMSC makes its DLR as it writes to fakesmsc, so the DLR
        # may come before fakesmsc's line: wait for both.
        done = await states(outbox, ids) == [SmsState.DELIVERED] * 3
        return done and len(rig.received) >= 3

    await until(all_delivered, 15)
    assert [text for _, _, text in rig.received] == [f"{KAZ} #{n}" for n in range(3)]
