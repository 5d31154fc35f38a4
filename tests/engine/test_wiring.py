"""The wiring: the config read in one place, each adapter given its ports."""

from __future__ import annotations

from pathlib import Path

from bailanys.config import Config, EngineConfig, MediaConfig, SipConfig
from bailanys.engine.call import Call, FlowFactory
from bailanys.engine.flowfiles import LINE_TEST_FLOW, load_builtin
from bailanys.engine.routing import NumberRouter
from bailanys.engine.wiring import sip_endpoint, uac_settings, uas_settings
from bailanys.ivr.model import Flow
from bailanys.media.session import RtpSession
from tests.engine.corefakes import Rig


def test_the_transport_feeds_the_endpoint_directly() -> None:
    transport, endpoint = sip_endpoint(Config())
    assert transport.on_message == endpoint.receive
    assert transport.on_bad_message == endpoint.bad_message


def test_settings_come_from_the_config() -> None:
    cfg = Config(
        sip=SipConfig(listen="127.0.0.1:5070", max_calls=7),
        engine=EngineConfig(answer_delay_ms=250),
        media=MediaConfig(record_calls=True, record_dir="/var/rec"),
    )
    uas = uas_settings(cfg)
    assert (uas.sip_host, uas.max_calls, uas.answer_delay_s) == ("127.0.0.1", 7, 0.25)
    assert uas.record_dir == Path("/var/rec")
    assert uas_settings(Config()).record_dir is None
    assert uac_settings(cfg).sip_host == "127.0.0.1"


class Flows:
    """One flow, on 1414."""

    def __init__(self, flow: Flow, factory: FlowFactory) -> None:
        self.flow, self._factory = flow, factory

    def for_number(self, number: str) -> Flow | None:
        return self.flow if number == "1414" else None

    def factory(self, flow: Flow) -> FlowFactory:
        assert flow is self.flow
        return self._factory


async def test_the_router_answers_the_flows_numbers_and_only_inbound_calls() -> None:
    async def run(call: Call) -> None:
        pass

    flow = load_builtin(LINE_TEST_FLOW)
    router = NumberRouter(flows=Flows(flow, run))
    assert router.answers("1414") and not router.answers("1499")
    rig = Rig()
    call = Call(rig.ports, dialog=None, session=RtpSession(40000, 0), peer=("192.0.2.1", 5060),
                transport="UDP")
    call.number = "1414"
    assert router.flow_for(call) is run
    call.number = "999"
    assert router.flow_for(call) is None
    out = Call(rig.ports, dialog=None, session=RtpSession(40002, 1), peer=("192.0.2.1", 5060),
               transport="UDP", direction="outbound")
    out.number = "1414"
    assert router.flow_for(out) is None
