"""``[monitor]`` (issue 21): the supervisors' phones, checked at load and by config check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.config import load_config
from bailanys.configcheck import check_files
from bailanys.errors import ConfigError
from bailanys.monitor.settings import MonitorConfig, monitor_problems

HASH = "scrypt$16384$8$1$c2FsdA$aGFzaA"


def test_defaults_and_a_good_table() -> None:
    assert MonitorConfig().phones == {} and MonitorConfig().ring_s == 20
    assert dict(MonitorConfig(phones={"aigerim": " 2001 "}).phones) == {"aigerim": "2001"}


@pytest.mark.parametrize(("kw", "message"), [
    ({"ring_s": 2}, "monitor.ring_s: expected 5 to 120 seconds, got 2"),
    ({"phones": {"a": "20 01"}}, "monitor.phones.a: expected the SIP user of a phone"),
    ({"phones": {"a": "2001", "b": "2001"}}, "monitor.phones.b: phone 2001 is a's already"),
])
def test_bad_values_are_one_clear_line(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MonitorConfig(**kw)  # type: ignore[arg-type]


def test_problems_name_the_role_and_the_sip_user() -> None:
    config = MonitorConfig(phones={"aigerim": "2001", "dana": "2002", "erlan": "2003"})
    users = {"aigerim": f"supervisor:{HASH}", "dana": f"analyst:{HASH}"}
    problems = monitor_problems(config, users, {"2001": "pw", "2002": "pw"}, "c.toml")
    assert problems == [
        "c.toml: monitor.phones.dana: dana has the role analyst; only a supervisor or an "
        "admin may listen, whisper or barge",
        "c.toml: monitor.phones.erlan: erlan is not in [console.users]; only a supervisor or "
        "an admin may listen, whisper or barge",
        "c.toml: monitor.phones.erlan: no SIP user '2003' in [registrar.users] (the phone "
        "could never register)",
    ]


def test_config_check_reports_them(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[queue]\nfile = ""\n[registrar.users]\n2001 = "pw"\n'
                    '[monitor.phones]\naigerim = "2009"\n', encoding="utf-8")
    problems = check_files(load_config(path))
    assert [p for p in problems if "monitor.phones" in p] == [
        f"{path}: monitor.phones.aigerim: aigerim is not in [console.users]; only a "
        "supervisor or an admin may listen, whisper or barge",
        f"{path}: monitor.phones.aigerim: no SIP user '2009' in [registrar.users] (the phone "
        "could never register)",
    ]
