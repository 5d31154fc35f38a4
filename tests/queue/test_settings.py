"""Queue settings: the TOML loader, defaults, and every error as one line
naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bailanys.config import PROJECT_ROOT
from bailanys.errors import ConfigError
from bailanys.queue.routing import required_skills
from bailanys.queue.settings import (
    DEFAULT_ANNOUNCE_INTERVAL_S,
    AgentSettings,
    QueueConfig,
    QueueSettings,
    Strategy,
    load_queue_config,
)

QUEUES_TOML = PROJECT_ROOT / "configs" / "queues.toml"

GOOD = """
[queues.consultation]
skills = ["public_services"]
strategy = "fewest_calls"
announce_interval_s = 30
max_wait_s = 900
overflow = "general"
callback_key = "#"
wrap_up_s = 0
ring_timeout_s = 20.5
max_no_answers = 0
priority = 2
survey = true

[queues.general]

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 8, public_services = 5 }

[agents.1002]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "queues.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_queue_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.path == str(path)
    return message.replace(str(path), "FILE")


def test_good_file(tmp_path: Path) -> None:
    config = load_queue_config(write(tmp_path, GOOD))
    assert list(config.queues) == ["consultation", "general"]
    c = config.queues["consultation"]
    assert c == QueueSettings(
        "consultation", ("public_services",), Strategy.FEWEST_CALLS, 30.0, 900.0, "general",
        True, "#", 0.0, 0.0, 20.5, 5.0, 0, 2, True,
    )
    assert isinstance(c.announce_interval_s, float) and isinstance(c.strategy, Strategy)
    assert config.queues["general"] == QueueSettings("general")
    assert config.agents["1001"] == AgentSettings(
        "1001", "Айгерим", {"kk": 10, "ru": 8, "public_services": 5}
    )
    assert config.agents["1001"].languages == ("kk", "ru")
    assert config.agents["1002"] == AgentSettings("1002")


def test_defaults() -> None:
    q = QueueSettings("q")
    assert q.strategy is Strategy.LONGEST_IDLE
    assert q.announce_interval_s == DEFAULT_ANNOUNCE_INTERVAL_S == 60.0
    assert (q.max_wait_s, q.overflow, q.callback, q.callback_key) == (None, None, True, "1")
    assert (q.wrap_up_s, q.short_abandon_s, q.ring_timeout_s) == (10.0, 0.0, 15.0)
    assert (q.retry_s, q.max_no_answers, q.priority, q.survey) == (5.0, 3, 0, False)


def test_mappings_are_frozen(tmp_path: Path) -> None:
    config = load_queue_config(write(tmp_path, GOOD))
    with pytest.raises(TypeError):
        config.agents["1001"].skills["kk"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        config.queues["x"] = QueueSettings("x")  # type: ignore[index]


def test_empty_file_has_no_queues(tmp_path: Path) -> None:
    assert load_queue_config(write(tmp_path, "")) == QueueConfig({}, {})


def test_project_file_serves_every_queue_node_of_the_1414_flow() -> None:
    config = load_queue_config(QUEUES_TOML)
    assert set(config.queues) == {"consultation", "egov", "complaints", "general"}
    assert set(config.agents) == {"1001", "1002"}
    flow = yaml.safe_load((PROJECT_ROOT / "ivr_flows" / "1414.yaml").read_text("utf-8"))
    nodes = [n for n in flow["nodes"].values() if n["type"] == "queue"]
    assert len(nodes) == 5
    for node in nodes:
        queue = config.queues[node["queue"]]
        for language in flow["languages"]:
            need = required_skills(queue.skills, node.get("skills", ()), language)
            served = [a for a in config.agents.values() if need <= set(a.skills)]
            assert served, (node, language)
    for agent in config.agents.values():
        assert set(agent.languages) == {"kk", "ru"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[queue.x]\n", "FILE: queue: unknown section "
         "(expected [queues.NAME], [agents.USER] or [thresholds])"),
        ("queues = 1\n", "FILE: queues: expected a table, got 1"),
        ("[queues]\nx = 1\n", "FILE: queues.x: expected a table, got 1"),
        ("[queues.q]\nstrategi = 'x'\n", "FILE: queues.q.strategi: unknown key (known: "
         "skills, strategy, announce_interval_s, max_wait_s, overflow, callback, "
         "callback_key, wrap_up_s, short_abandon_s, ring_timeout_s, retry_s, "
         "max_no_answers, priority, survey, names, thresholds)"),
        ("[queues.q]\nstrategy = 1\n", "FILE: queues.q.strategy: expected a string, got 1"),
        ("[queues.q]\nstrategy = 'ringall'\n", "FILE: queues.q.strategy: expected one of "
         "'longest_idle', 'fewest_calls', 'round_robin', got 'ringall'"),
        ("[queues.q]\nskills = 'a'\n", "FILE: queues.q.skills: expected a list of strings, "
         "got 'a'"),
        ("[queues.q]\nskills = ['a', 'a']\n", "FILE: queues.q.skills: duplicate skill in "
         "['a', 'a']"),
        ("[queues.q]\nskills = ['a b']\n", "FILE: queues.q.skills: expected skill names, "
         "got 'a b'"),
        ("[queues.q]\nannounce_interval_s = 61\n", "FILE: queues.q.announce_interval_s: "
         "expected a number between 5 and 60, got 61.0"),
        ("[queues.q]\nannounce_interval_s = 4.5\n", "FILE: queues.q.announce_interval_s: "
         "expected a number between 5 and 60, got 4.5"),
        ("[queues.q]\nannounce_interval_s = '60'\n", "FILE: queues.q.announce_interval_s: "
         "expected a number, got '60'"),
        ("[queues.q]\nmax_wait_s = 0\n", "FILE: queues.q.max_wait_s: expected a number "
         "between 1 and 86400, got 0.0"),
        ("[queues.q]\nmax_wait_s = true\n", "FILE: queues.q.max_wait_s: expected a number, "
         "got True"),
        ("[queues.q]\noverflow = 'r'\n", "FILE: queues.q.overflow: unknown queue 'r'"),
        ("[queues.q]\noverflow = 'q'\n", "FILE: queues.q.overflow: a queue cannot overflow "
         "to itself"),
        ("[queues.a]\noverflow = 'b'\n[queues.b]\noverflow = 'c'\n[queues.c]\noverflow = 'b'\n",
         "FILE: queues.b.overflow: overflow cycle b -> c -> b"),
        ("[queues.q]\ncallback = 'yes'\n", "FILE: queues.q.callback: expected true or false, "
         "got 'yes'"),
        ("[queues.q]\ncallback_key = '12'\n", "FILE: queues.q.callback_key: expected one DTMF "
         "key 0-9, * or #, got '12'"),
        ("[queues.q]\nwrap_up_s = -1\n", "FILE: queues.q.wrap_up_s: expected a number between "
         "0 and 3600, got -1.0"),
        ("[queues.q]\nshort_abandon_s = 601\n", "FILE: queues.q.short_abandon_s: expected a "
         "number between 0 and 600, got 601.0"),
        ("[queues.q]\nring_timeout_s = 0\n", "FILE: queues.q.ring_timeout_s: expected a number "
         "between 1 and 300, got 0.0"),
        ("[queues.q]\nretry_s = 301\n", "FILE: queues.q.retry_s: expected a number between "
         "0 and 300, got 301.0"),
        ("[queues.q]\nmax_no_answers = 1.5\n", "FILE: queues.q.max_no_answers: expected an "
         "integer, got 1.5"),
        ("[queues.q]\npriority = true\n", "FILE: queues.q.priority: expected an integer, "
         "got True"),
        ("[queues.q]\npriority = 101\n", "FILE: queues.q.priority: expected a number between "
         "0 and 100, got 101"),
        ("[queues.'a b']\n", "FILE: queues.a b: expected a queue name of letters, digits, _ "
         "and -, got 'a b'"),
        ("[agents.1001]\nskill = {}\n", "FILE: agents.1001.skill: unknown key (known: name, "
         "skills)"),
        ("[agents.1001]\nname = 5\n", "FILE: agents.1001.name: expected a string, got 5"),
        ("[agents.1001]\nskills = ['kk']\n", "FILE: agents.1001.skills: expected a table of "
         "skill = level, got ['kk']"),
        ("[agents.1001]\nskills = { kk = 11 }\n", "FILE: agents.1001.skills.kk: expected a "
         "level between 1 and 10, got 11"),
        ("[agents.1001]\nskills = { kk = 0 }\n", "FILE: agents.1001.skills.kk: expected a "
         "level between 1 and 10, got 0"),
        ("[agents.1001]\nskills = { kk = 'high' }\n", "FILE: agents.1001.skills.kk: expected "
         "an integer level, got 'high'"),
        ("[agents.1001]\nskills = { kk = true }\n", "FILE: agents.1001.skills.kk: expected "
         "an integer level, got True"),
        ("[agents.'a b']\n", "FILE: agents.a b: expected a SIP user of letters, digits and "
         "._~+-, got 'a b'"),
        ("[agents]\n1001 = 'x'\n", "FILE: agents.1001: expected a table, got 'x'"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert error(tmp_path, text) == expected


def test_toml_syntax_error(tmp_path: Path) -> None:
    message = error(tmp_path, "[queues.q\n")
    assert message.startswith("FILE: TOML syntax error: ")
    assert "line 1" in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^.*nope\.toml: no such file$"):
        load_queue_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_queue_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "queues.toml"
    path.write_bytes(b"[agents.1001]\nname = '\xff'\n")
    with pytest.raises(ConfigError) as info:
        load_queue_config(path)
    assert str(info.value).startswith(str(path) + ": ")
    assert "\n" not in str(info.value)


def test_errors_in_code_name_the_key_without_a_file() -> None:
    with pytest.raises(ConfigError) as info:
        QueueSettings("q", strategy="nope")  # type: ignore[arg-type]
    assert info.value.key == "queues.q.strategy" and info.value.path is None
    with pytest.raises(ConfigError, match=r"^queues\.x: keyed as 'x' but named 'q'$"):
        QueueConfig({"x": QueueSettings("q")}, {})
    with pytest.raises(ConfigError, match=r"^agents\.1: keyed as '1' but has user '2'$"):
        QueueConfig({}, {"1": AgentSettings("2")})
