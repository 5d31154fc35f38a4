"""Config: defaults, files, environment overrides and every error message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bailanys.config import (
    DEFAULT_CONFIG_PATH,
    PROJECT_ROOT,
    Config,
    MediaConfig,
    SipConfig,
    load_config,
)
from bailanys.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bailanys.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_builtin_defaults_equal_default_toml() -> None:
    from_file = load_config(DEFAULT_CONFIG_PATH, env={})
    builtin = Config()
    assert dataclasses.replace(
        from_file, source=None, registrar=builtin.registrar, console=builtin.console
    ) == builtin
    assert dataclasses.replace(from_file.console, users={}) == builtin.console
    assert list(from_file.console.users) == ["supervisor", "1001", "1002"]
    assert dict(from_file.registrar.users) == {
        "1001": "demo-1001-change-me",
        "1002": "demo-1002-change-me",
    }


def test_none_path_reads_project_default() -> None:
    config = load_config(env={})
    assert config.source == str(PROJECT_ROOT / "configs" / "default.toml")
    assert config.sip.listen == "127.0.0.1:5060"
    assert (config.sip.host, config.sip.port) == ("127.0.0.1", 5060)
    assert config.sip.transports == ("udp", "tcp")
    assert config.media.port_range == (20000, 29999)
    assert config.store.path == "var/bailanys.db"
    assert config.engine.numbers == ("1499",)
    assert config.log.level == "INFO"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={})
    assert dataclasses.replace(config, source=None) == Config()


def test_derived_hosts() -> None:
    config = Config(sip=SipConfig(listen="[::1]:5070"))
    assert (config.sip.host, config.sip.port) == ("::1", 5070)
    assert config.sip.effective_domain == "::1"
    assert config.rtp_host == "::1"
    assert config.realm == "::1"
    config = load_config(
        env={"BAILANYS_SIP_DOMAIN": "cc.kz", "BAILANYS_MEDIA_RTP_HOST": "10.1.1.1"}
    )
    assert (config.sip.effective_domain, config.realm, config.rtp_host) == (
        "cc.kz",
        "cc.kz",
        "10.1.1.1",
    )


def test_example_operators_file() -> None:
    config = load_config(PROJECT_ROOT / "configs" / "example-operators.toml", env={})
    assert config.registrar.users["1001"] == "change-me-1001"
    assert len(config.registrar.users) == 5
    assert config.media.port_range == (30000, 30999)


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sip.listen = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.registrar.users["x"] = "y"  # type: ignore[index]


def test_replace_validates() -> None:
    sip = SipConfig()
    assert dataclasses.replace(sip, listen="127.0.0.1:5070").port == 5070
    with pytest.raises(ConfigError, match="sip.listen: expected host:port"):
        dataclasses.replace(sip, listen="nope")


def test_env_overrides_convert_types(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "[media]\nrecord_calls = true\n"),
        env={
            "BAILANYS_SIP_LISTEN": "127.0.0.1:5070",
            "BAILANYS_SIP_MAX_CALLS": " 10 ",
            "BAILANYS_SIP_TRANSPORTS": "udp",
            "BAILANYS_MEDIA_RTP_PORTS": "30000-30999",
            "BAILANYS_MEDIA_RECORD_CALLS": "no",
            "BAILANYS_MEDIA_INBAND_DTMF": "0",
            "BAILANYS_STORE_PATH": "/tmp/x.db",
            "BAILANYS_ENGINE_NUMBERS": "1414, 1415",
            "BAILANYS_LOG_LEVEL": "debug",
            "BAILANYS_REGISTRAR_USERS": "2001=pw=1,2002=secret",
            "PATH": "/usr/bin",  # not ours: ignored
        },
    )
    assert config.sip.port == 5070
    assert config.sip.max_calls == 10
    assert config.sip.transports == ("udp",)
    assert config.media.port_range == (30000, 30999)
    assert config.media.record_calls is False  # env beats the file
    assert config.media.inband_dtmf is False
    assert config.store.path == "/tmp/x.db"
    assert config.engine.numbers == ("1414", "1415")
    assert config.log.level == "DEBUG"
    assert dict(config.registrar.users) == {"2001": "pw=1", "2002": "secret"}


def test_env_keys_with_underscores() -> None:
    config = load_config(env={"BAILANYS_SIP_MAX_NEW_CALLS_PER_SOURCE_PER_SECOND": "5"})
    assert config.sip.max_new_calls_per_source_per_second == 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"BAILANYS_SIP_LISTN": "x"},
            "environment: BAILANYS_SIP_LISTN: unknown setting "
            "(did you mean 'BAILANYS_SIP_LISTEN'?)",
        ),
        ({"BAILANYS_NOPE": "x"}, "environment: BAILANYS_NOPE: unknown setting"),
        (
            {"BAILANYS_SIP_MAX_CALLS": "many"},
            "environment: BAILANYS_SIP_MAX_CALLS: expected an integer, got 'many'",
        ),
        (
            {"BAILANYS_MEDIA_RECORD_CALLS": "maybe"},
            "environment: BAILANYS_MEDIA_RECORD_CALLS: expected true or false, got 'maybe'",
        ),
        (
            {"BAILANYS_SIP_LISTEN": "nonsense"},
            "environment: BAILANYS_SIP_LISTEN: expected host:port such as '127.0.0.1:5060', "
            "got 'nonsense'",
        ),
        (
            {"BAILANYS_MEDIA_RTP_PORTS": "30001-30999"},
            "environment: BAILANYS_MEDIA_RTP_PORTS: expected 'LO-HI' with 1024 <= LO < HI "
            "<= 65535 and LO even, got '30001-30999'",
        ),
        (
            {"BAILANYS_REGISTRAR_USERS": "1001"},
            "environment: BAILANYS_REGISTRAR_USERS: expected user=password,user=password, "
            "got '1001'",
        ),
        (
            {"BAILANYS_REGISTRAR_USERS": "bad user=x"},
            "environment: BAILANYS_REGISTRAR_USERS: expected a SIP user name of letters, "
            "digits and ._~+-, got 'bad user'",
        ),
    ],
)
def test_env_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[sip]\nlisten = "nonsense"\n',
            "FILE: sip.listen: expected host:port such as '127.0.0.1:5060', got 'nonsense'",
        ),
        (
            '[sip]\nlisten = "127.0.0.1:70000"\n',
            "FILE: sip.listen: expected a port between 1 and 65535, got 70000 in '127.0.0.1:70000'",
        ),
        ("[sip]\nlisten = 5060\n", "FILE: sip.listen: expected a string, got 5060"),
        (
            '[sip]\ntransports = ["udp", "sctp"]\n',
            "FILE: sip.transports: expected 'udp' or 'tcp', got 'sctp'",
        ),
        (
            "[sip]\ntransports = []\n",
            "FILE: sip.transports: expected at least one of 'udp', 'tcp', got []",
        ),
        (
            '[sip]\ntransports = ["udp", "udp"]\n',
            "FILE: sip.transports: duplicate transport in ['udp', 'udp']",
        ),
        (
            '[sip]\ntransports = "udp"\n',
            "FILE: sip.transports: expected a list of strings, got 'udp'",
        ),
        ('[sip]\nuser_agent = " "\n', "FILE: sip.user_agent: expected a non-empty string, got ''"),
        ("[sip]\nmax_calls = 0\n", "FILE: sip.max_calls: expected an integer at least 1, got 0"),
        ("[sip]\nmax_calls = true\n", "FILE: sip.max_calls: expected an integer, got True"),
        (
            "[sip]\nmax_new_calls_per_source_per_second = 1.5\n",
            "FILE: sip.max_new_calls_per_source_per_second: expected an integer, got 1.5",
        ),
        (
            "[sip]\nlistn = 1\n",
            "FILE: sip.listn: unknown key (did you mean 'sip.listen'?)",
        ),
        ("[sip]\nzzz = 1\n", "FILE: sip.zzz: unknown key"),
        ("[sipp]\n", "FILE: sipp: unknown section [sipp] (did you mean 'sip'?)"),
        ("sip = 1\n", "FILE: sip: expected a [sip] table, got 1"),
        (
            '[media]\nrtp_ports = "30000-20000"\n',
            "FILE: media.rtp_ports: expected 'LO-HI' with 1024 <= LO < HI <= 65535 and LO even, "
            "got '30000-20000'",
        ),
        (
            '[media]\nrtp_ports = "80-1000"\n',
            "FILE: media.rtp_ports: expected 'LO-HI' with 1024 <= LO < HI <= 65535 and LO even, "
            "got '80-1000'",
        ),
        (
            '[media]\nrtp_ports = "20000-70000"\n',
            "FILE: media.rtp_ports: expected 'LO-HI' with 1024 <= LO < HI <= 65535 and LO even, "
            "got '20000-70000'",
        ),
        (
            '[media]\nrecord_calls = "yes"\n',
            "FILE: media.record_calls: expected true or false, got 'yes'",
        ),
        (
            "[media]\nptime_ms = 25\n",
            "FILE: media.ptime_ms: expected a multiple of 10 between 10 and 200, got 25",
        ),
        (
            "[media]\njitter_prefetch = -1\n",
            "FILE: media.jitter_prefetch: expected an integer between 1 and 16, got -1",
        ),
        ('[media]\nrecord_dir = ""\n', "FILE: media.record_dir: expected a directory path, got ''"),
        ('[store]\npath = ""\n', "FILE: store.path: expected a file path, got ''"),
        (
            "[store]\nbatch_ms = 0\n",
            "FILE: store.batch_ms: expected an integer between 1 and 60000, got 0",
        ),
        (
            "[store]\nbatch_max = 0\n",
            "FILE: store.batch_max: expected an integer at least 1, got 0",
        ),
        ("[voice]\nrate = 5\n", "FILE: voice.rate: expected an integer between 50 and 500, got 5"),
        ('[voice]\nvoice_kk = ""\n', "FILE: voice.voice_kk: expected a voice name, got ''"),
        (
            "[registrar]\nmin_expires = 4000\n",
            "FILE: registrar.max_expires: expected at least min_expires (4000), got 3600",
        ),
        (
            "[registrar]\ndefault_expires = 10\n",
            "FILE: registrar.default_expires: expected between min_expires (60) and "
            "max_expires (3600), got 10",
        ),
        (
            "[registrar]\nnonce_ttl = 0\n",
            "FILE: registrar.nonce_ttl: expected an integer at least 1, got 0",
        ),
        (
            "[registrar.users]\n1001 = 1001\n",
            "FILE: registrar.users.1001: expected a non-empty password, got 1001",
        ),
        (
            '[registrar.users]\n"a b" = "x"\n',
            "FILE: registrar.users.a b: expected a SIP user name of letters, digits and ._~+-, "
            "got 'a b'",
        ),
        (
            '[registrar]\nusers = "x"\n',
            "FILE: registrar.users: expected a table of strings, got 'x'",
        ),
        (
            '[engine]\nnumbers = ["14a"]\n',
            "FILE: engine.numbers: expected dialled digits, got '14a'",
        ),
        (
            '[engine]\nlanguages = ["en"]\n',
            "FILE: engine.languages: expected 'kk' or 'ru', got 'en'",
        ),
        (
            "[engine]\nlanguages = []\n",
            "FILE: engine.languages: expected at least one of 'kk', 'ru', got []",
        ),
        (
            "[engine]\nno_input_seconds = 0\n",
            "FILE: engine.no_input_seconds: expected an integer at least 1, got 0",
        ),
        (
            '[log]\nlevel = "LOUD"\n',
            "FILE: log.level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
        ),
    ],
)
def test_file_errors(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = error(tmp_path, '[sip]\nlisten = "127.0.0.1:5060"\nmax_calls = \n')
    assert message.startswith("FILE: TOML syntax error: ")
    assert "line 3" in message


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", env={})
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: no such file"
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert str(info.value) == f"{tmp_path}: is a directory, expected a TOML file"
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[sip]\ndomain = "\xe9"\n')
    with pytest.raises(ConfigError, match="latin1.toml: "):
        load_config(bad, env={})


def test_media_port_range_property() -> None:
    assert MediaConfig(rtp_ports="30000-30001").port_range == (30000, 30001)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ivr]\nreload_seconds = -1\n", "ivr.reload_seconds"),
        ("[ivr]\nflow_dirs = 'x'\n", "flow_dirs"),
        ("[asr]\nworkers = 0\n", "asr.workers"),
        ("[asr]\nmin_confidence = 101\n", "asr.min_confidence"),
    ],
)
def test_ivr_and_asr_errors(tmp_path: Path, text: str, message: str) -> None:
    assert message in error(tmp_path, text)


def test_ivr_and_asr_from_env(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, ""),
        env={"BAILANYS_IVR_FLOW_DIR": "/srv/flows", "BAILANYS_ASR_MIN_CONFIDENCE": "75"},
    )
    assert config.ivr.flow_dir == "/srv/flows"
    assert config.asr.min_confidence == 75


def test_kpi_readings_are_options_of_the_console(tmp_path: Path) -> None:
    """docs/kpi.md "Readings": the requirement's by default, the others on request."""
    assert not load_config(write(tmp_path, ""), env={}).console.kpi_fcr_per_call
    path = write(tmp_path, "[console]\nkpi_wait_of_all = true\nkpi_fcr_per_call = true\n")
    console = load_config(path, env={}).console
    assert console.kpi_wait_of_all and console.kpi_fcr_per_call
    assert "console.kpi_fcr_per_call" in error(tmp_path, "[console]\nkpi_fcr_per_call = 1\n")
