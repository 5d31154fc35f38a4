"""SIP behind a trunk or SBC (issue 21): the addresses the engine advertises,
and the configs ``bailanys config check`` refuses for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.cli import main
from bailanys.config import Config, MediaConfig, SipConfig, load_config
from bailanys.configcheck import _rtp_host_problems, check_files
from bailanys.errors import ConfigError


def test_contact_and_sdp_addresses() -> None:
    def addresses(listen: str, advertise: str = "", rtp_host: str = "") -> tuple[str, str, str]:
        config = Config(sip=SipConfig(listen=listen, advertise=advertise),
                        media=MediaConfig(rtp_host=rtp_host))
        return config.rtp_host, config.contact_host, config.realm

    assert addresses("10.0.0.5:5060") == ("10.0.0.5", "10.0.0.5", "10.0.0.5")
    assert addresses("0.0.0.0:5060", rtp_host="10.0.0.5") == ("10.0.0.5",) * 3
    assert addresses("0.0.0.0:5060", "sip.example.kz", "10.0.0.5") == (
        "10.0.0.5", "sip.example.kz", "sip.example.kz")
    assert addresses("[::]:5060", rtp_host="fd00::5") == ("fd00::5",) * 3


@pytest.mark.parametrize("listen", ["0.0.0.0:5060", "[::]:5060"])
def test_every_interface_without_rtp_host_is_refused(tmp_path: Path, listen: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "b.toml"
    config.write_text(f'[sip]\nlisten = "{listen}"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(config, env={})
    message = str(refused.value)
    assert message.startswith(f"{config}: media.rtp_host: sip.listen {listen} listens on "
                              "every interface, so it names no address to advertise: set "
                              "media.rtp_host to this machine's address"), message
    assert main(["config", "check", "--config", str(config)]) == 2
    assert "set media.rtp_host" in capsys.readouterr().err
    assert load_config(config, env={"BAILANYS_MEDIA_RTP_HOST": "127.0.0.1"}).rtp_host == \
        "127.0.0.1"


@pytest.mark.parametrize(("key", "value"), [("sip_advertise", "0.0.0.0"),
                                            ("media_rtp_host", "::"),
                                            ("media_rtp_host", "a b")])
def test_a_wildcard_or_garbage_is_no_address_to_advertise(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"BAILANYS_{key.upper()}: expected"):
        load_config(None, env={f"BAILANYS_{key.upper()}": value})


def test_config_check_binds_rtp_host() -> None:
    problems = check_files(Config(media=MediaConfig(rtp_host="192.0.2.1")))  # TEST-NET-1
    assert [p for p in problems if "rtp_host" in p] == [
        "<defaults>: media.rtp_host: cannot bind RTP to 192.0.2.1 (Cannot assign requested "
        "address): expected an address of this machine, the one the trunk or SBC sends RTP to"]
    assert _rtp_host_problems(Config(media=MediaConfig(rtp_host="127.0.0.1"))) == []
