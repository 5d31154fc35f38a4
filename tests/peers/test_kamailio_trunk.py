"""The README's Kamailio in front of the engine (issue 21, the SIP-trunk set-up):
the snippet is taken from README.md itself, its addresses moved to loopback,
and a SIPp "operator SBC" calls 1414 through it. Kamailio record-routes, so
the ACK and the BYE go through it too; a source it does not know gets 403.

Skipped where Kamailio is not installed (Debian's ``kamailio``: not in
``scripts/ensure-deps.sh``, since its package starts a proxy on port 5060).
rtpengine is not running here: Kamailio's ``rtpengine_manage`` fails and the
SDP passes unchanged, which is what a set-up without media anchoring does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bailanys.config import PROJECT_ROOT
from tests.peers.conftest import EngineFactory, events_of, needs_sipp
from tests.peers.sipp import SCENARIOS, free_port, run_sipp_async
from tests.peers.test_sip_advertise import invite_ok

KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").is_file() else None)
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
pytestmark = [pytest.mark.peer, needs_sipp,
              pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed")]

PUBLIC, PRIVATE, SBC, ENGINE = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.1"


def readme_snippet() -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    found = re.search(r"```\n(#!KAMAILIO\n.*?)```", text, re.S)
    assert found, "README.md has no Kamailio snippet"
    return found.group(1)


def on_loopback(snippet: str, public_port: int, private_port: int, engine_port: int) -> str:
    """The README's addresses moved to loopback ones."""
    return (snippet
            .replace("203.0.113.10:5060", f"{PUBLIC}:{public_port}")
            .replace("10.0.0.1:5060", f"{PRIVATE}:{private_port}")
            .replace("198.51.100.7", SBC)
            .replace("10.0.0.5:5060", f"{ENGINE}:{engine_port}")
            .replace("10.0.0.5", ENGINE))


def options_answer(port: int, source: str) -> str | None:
    """The status line Kamailio answers an OPTIONS from ``source`` with."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(0.3)
        local = sock.getsockname()[1]
        sock.sendto((f"OPTIONS sip:{PUBLIC}:{port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP {source}:{local};branch=z9hG4bK-probe{local}\r\n"
                     f"From: <sip:probe@{source}>;tag=p\r\nTo: <sip:{PUBLIC}>\r\n"
                     f"Call-ID: probe-{local}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                     "Content-Length: 0\r\n\r\n").encode(), (PUBLIC, port))
        try:
            return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return None


@contextlib.asynccontextmanager
async def kamailio(config: str, folder: Path, port: int) -> AsyncIterator[None]:
    cfg = folder / "kamailio.cfg"
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(cfg.write_text, config)
    assert KAMAILIO is not None
    proc = await asyncio.create_subprocess_exec(
        KAMAILIO, "-f", str(cfg), "-DD", "-E", "-n", "1", "-m", "32", "-M", "8",
        "-L", str(MODULES), "-Y", str(folder), "-P", str(folder / "kamailio.pid"),
        "-w", str(folder), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        for _ in range(100):
            if await asyncio.to_thread(options_answer, port, "127.0.0.9") is not None:
                break
            if proc.returncode is not None:
                break
        else:
            pytest.fail("kamailio did not answer within 30 s")
        if proc.returncode is not None:
            assert proc.stderr is not None
            pytest.fail(f"kamailio exited: {(await proc.stderr.read()).decode()[-2000:]}")
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_an_operator_call_reaches_the_engine_through_kamailio(
        engine_factory: EngineFactory, tmp_path: Path) -> None:
    engine = await engine_factory(media={"rtp_host": ENGINE})
    public, private = free_port(host=PUBLIC), free_port(host=PRIVATE)
    config = on_loopback(readme_snippet(), public, private, engine.transport.port)
    async with kamailio(config, tmp_path / "kamailio", public):
        # Not the operator's SBC nor the engine: refused at the edge.
        assert await asyncio.to_thread(options_answer, public, "127.0.0.9") == \
            "SIP/2.0 403 Forbidden"
        trace = tmp_path / "sipp" / "messages.log"
        result = await run_sipp_async(
            SCENARIOS / "trunk_call.xml", f"{PUBLIC}:{public}", cwd=tmp_path / "sipp",
            timeout_s=20, calls=1, local_ip=SBC,
            extra_args=["-trace_msg", "-message_file", str(trace)])
        assert result.ok, result.describe() + result.errors
    ok = invite_ok(trace.read_text(errors="replace"))
    # Kamailio record-routed (loose routing), so the ACK and BYE came through
    # it; the engine's SDP names its rtp_host and its Contact the engine itself.
    assert re.search(rf"^Record-Route: <sip:{PUBLIC}:{public};lr\b", ok, re.M), ok
    assert re.search(rf"^c=IN IP4 {ENGINE}\r?$", ok, re.M), ok
    contact = rf"^Contact: <sip:bailanys@{ENGINE}:{engine.transport.port}>"
    assert re.search(contact, ok, re.M), ok
    # SIPp sends only to Kamailio: the BYE reached the engine through it.
    ended = await events_of(engine, "call.ended")
    assert [(e.data["cause"], e.data["reason"]) for e in ended] == [("caller", "remote_bye")]
    offered = await events_of(engine, "call.offered")
    assert offered[0].data["dialled"] == "1414"
