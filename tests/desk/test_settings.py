"""``[desk]`` from the config file, and the operators' logins checked by
``bailanys config check`` against the agents of ``queue.file``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.config import load_config
from bailanys.configcheck import check_files
from bailanys.desk.settings import BREAK_LABELS, DeskConfig
from bailanys.errors import ConfigError
from bailanys.web.auth import hash_password

HASH = hash_password("pw", n=2)


def test_defaults_and_every_reason_named_in_kazakh_and_russian() -> None:
    desk = load_config(env={}).desk
    assert (desk.enabled, desk.history_days, desk.show_number) == (True, 90, False)
    assert [r["id"] for r in desk.reasons()] == ["lunch", "training", "technical", "personal"]
    for labels in BREAK_LABELS.values():
        assert labels["kk"] and labels["ru"] and labels["kk"] != labels["ru"]


@pytest.mark.parametrize(("text", "message"), [
    ("history_days = 0", "desk.history_days: expected an integer between 1 and 366, got 0"),
    ('break_reasons = ["nap"]', "desk.break_reasons: unknown break reason 'nap'"),
    ("break_reasons = []", "desk.break_reasons: expected at least one break reason"),
    ('break_reasons = ["lunch", "lunch"]', "desk.break_reasons: a break reason is listed twice"),
    ('show_number = "yes"', "desk.show_number: expected true or false"),
])
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(f"[desk]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: {message}")


def test_env_override() -> None:
    assert load_config(env={"BAILANYS_DESK_SHOW_NUMBER": "true"}).desk.show_number
    assert DeskConfig(break_reasons=("meeting",)).reasons()[0]["ru"] == "Совещание"


def test_config_check_names_an_operator_who_is_no_agent(tmp_path: Path) -> None:
    queues = tmp_path / "queues.toml"
    queues.write_text('[queues.general]\n\n[agents.1001]\nname = "A"\n', encoding="utf-8")
    main = tmp_path / "b.toml"
    main.write_text(
        f'[queue]\nfile = "{queues}"\n[ivr]\nflow_dir = "{tmp_path}"\n'
        f'[robot]\nfaq = ""\n[qa]\nenabled = false\n[cases]\nenabled = false\n'
        f'[reports]\ntopics = "{tmp_path}/none.yaml"\n'
        f'[console.users]\n1001 = "operator:{HASH}"\n1002 = "operator:{HASH}"\n'
        f'sup = "supervisor:{HASH}"\n', encoding="utf-8")
    problems = check_files(load_config(main, env={}))
    assert problems == [f"{main}: console.users.1002: an operator's login must be the SIP "
                        f"user of an agent ([agents.1002] in {queues})"]
