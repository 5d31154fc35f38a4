"""SIP behind a trunk or SBC (issue 21): an engine listening on every interface
advertises ``media.rtp_host`` in its SDP and ``sip.advertise`` in its Contact,
never 0.0.0.0; without ``media.rtp_host`` it does not start at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bailanys.config import Config, MediaConfig, SipConfig, StoreConfig
from bailanys.engine.core import Engine
from bailanys.errors import ConfigError
from tests.peers.conftest import EngineFactory, free_sip_port, needs_sipp
from tests.peers.sipp import SCENARIOS, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]


def invite_ok(trace: str) -> str:
    """The 200 OK to the INVITE in SIPp's ``-trace_msg`` file."""
    for block in trace.split("----------------------------------------------- "):
        head, _, message = block.partition("\n\n")
        if "received" in head and message.startswith("SIP/2.0 200") and \
                re.search(r"^CSeq:\s*1 INVITE", message, re.M | re.I):
            return message
    raise AssertionError(f"no 200 OK to the INVITE in:\n{trace[:3000]}")


async def test_an_engine_on_every_interface_advertises_its_addresses(
        engine_factory: EngineFactory, tmp_path: Path) -> None:
    port = free_sip_port("0.0.0.0")
    engine = await engine_factory(sip={"listen": f"0.0.0.0:{port}", "advertise": "127.0.0.2"},
                                  media={"rtp_host": "127.0.0.1"})
    assert engine.config.sip.wildcard
    cwd = tmp_path / "sipp"
    trace = cwd / "messages.log"
    result = await run_sipp_async(
        SCENARIOS / "short_call.xml", f"127.0.0.1:{port}", cwd=cwd, timeout_s=20, calls=1,
        extra_args=["-trace_msg", "-message_file", str(trace)])
    assert result.ok, result.describe()
    ok = invite_ok(trace.read_text(errors="replace"))
    assert re.search(r"^c=IN IP4 127\.0\.0\.1\r?$", ok, re.M), ok
    assert re.search(r"^o=\S+ \d+ \d+ IN IP4 127\.0\.0\.1\r?$", ok, re.M), ok
    contact = re.search(r"^Contact:\s*(.+)$", ok, re.M | re.I)
    assert contact and f"@127.0.0.2:{port}" in contact.group(1), ok
    assert "0.0.0.0" not in ok  # nowhere: neither SDP nor headers
    # The ACK and the BYE went to the advertised Contact and were answered.
    assert result.successful == 1


async def test_no_rtp_host_on_every_interface_is_refused_at_start(tmp_path: Path) -> None:
    config = Config(sip=SipConfig(listen=f"0.0.0.0:{free_sip_port('0.0.0.0')}"),
                    media=MediaConfig(record_dir=str(tmp_path / "rec")),
                    store=StoreConfig(path=str(tmp_path / "b.db")))
    engine = Engine(config)
    with pytest.raises(ConfigError, match=r"media\.rtp_host: sip\.listen 0\.0\.0\.0:\d+ "
                                          r"listens on every interface.*set media\.rtp_host"):
        await engine.start()
    assert engine.store is None  # refused before anything opened
