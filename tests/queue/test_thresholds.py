"""The wallboard's thresholds (issue 21): parsing, levels, the queues file's
``names`` and ``thresholds``, and ``bailanys config check`` on bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.errors import ConfigError
from bailanys.queue.settings import QueueSettings, load_queue_config
from bailanys.queue.thresholds import (
    FIGURES,
    Level,
    Thresholds,
    level,
    levels,
    parse_thresholds,
    worst,
)
from tests.test_cli import checked_config, run


def test_defaults_are_the_standards_and_the_plans() -> None:
    t = Thresholds()
    assert t.longest_wait_s == (30.0, 60.0)  # 1414 plan 30 s; Appendix 1 item 1: 60 s
    assert t.lost_pct == (5.0, 10.0)  # 1414 plan 5 %; Appendix 1 item 5: 10 %
    assert t.service_level_pct == (80.0, 70.0)
    assert set(t.to_json()) == set(FIGURES)


@pytest.mark.parametrize(("figure", "value", "expected"), [
    ("longest_wait_s", None, Level.OK),
    ("longest_wait_s", 29.9, Level.OK),
    ("longest_wait_s", 30.0, Level.WARN),  # at the threshold: crossed
    ("longest_wait_s", 59.0, Level.WARN),
    ("longest_wait_s", 60.0, Level.ALARM),
    ("waiting", 4, Level.OK),
    ("waiting", 5, Level.WARN),
    ("waiting", 12, Level.ALARM),
    ("service_level_pct", 95.0, Level.OK),  # lower is worse
    ("service_level_pct", 80.0, Level.WARN),
    ("service_level_pct", 70.0, Level.ALARM),
    ("service_level_pct", 0.0, Level.ALARM),
    ("lost_pct", 0.0, Level.OK),
    ("lost_pct", 7.5, Level.WARN),
    ("lost_pct", 100.0, Level.ALARM),
])
def test_level_of_each_figure(figure: str, value: float | None, expected: Level) -> None:
    assert level(figure, value, Thresholds()) is expected


def test_levels_and_worst() -> None:
    found = levels({"longest_wait_s": 36.0, "waiting": 1.0, "service_level_pct": None,
                    "other": 5.0}, Thresholds())
    assert found == {"longest_wait_s": Level.WARN, "waiting": Level.OK,
                     "service_level_pct": Level.OK}
    assert worst(found) is Level.WARN
    assert worst([Level.OK, Level.ALARM, Level.WARN]) is Level.ALARM
    assert worst([]) is Level.OK


def test_parse_overrides_figure_by_figure() -> None:
    base = parse_thresholds({"waiting": [2, 4]}, "thresholds")
    own = parse_thresholds({"longest_wait_s": [1, 2.5]}, "queues.q.thresholds", base)
    assert own == Thresholds(longest_wait_s=(1.0, 2.5), waiting=(2.0, 4.0))


@pytest.mark.parametrize(("table", "message"), [
    ({"longest": [1, 2]}, "t.longest: unknown figure (known: longest_wait_s, waiting, "
                          "service_level_pct, lost_pct)"),
    ({"waiting": 3}, "t.waiting: expected [warn, alarm], two numbers, got 3"),
    ({"waiting": [1, True]}, "t.waiting: expected [warn, alarm], two numbers, got [1, True]"),
    ({"lost_pct": [5, 120]}, "t.lost_pct: expected numbers between 0 and 100, got 120"),
    ({"longest_wait_s": [60, 30]}, "t.longest_wait_s: the warn level must be at or below "
                                   "the alarm level, got [60, 30]"),
    ({"service_level_pct": [70, 80]}, "t.service_level_pct: the warn level must be at or "
                                      "above the alarm level (lower is worse), got [70, 80]"),
    ("x", "t: expected a table of figure = [warn, alarm], got 'x'"),
])
def test_parse_refuses_bad_tables(table: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_thresholds(table, "t")
    assert str(err.value) == message


def test_queues_file_names_and_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "queues.toml"
    path.write_text('[thresholds]\nwaiting = [2, 4]\n\n'
                    '[queues.egov]\nnames = { kk = "eGov порталы", ru = "Портал eGov" }\n'
                    'thresholds = { longest_wait_s = [10, 20] }\n\n'
                    '[queues.general]\nnames = { ru = "Общие вопросы" }\n', encoding="utf-8")
    config = load_queue_config(path)
    assert config.queues["egov"].display_names() == {"kk": "eGov порталы", "ru": "Портал eGov"}
    # a language without a name falls back to the queue's id
    assert config.queues["general"].display_names() == {"kk": "general", "ru": "Общие вопросы"}
    assert config.thresholds_of("egov") == Thresholds(longest_wait_s=(10.0, 20.0),
                                                      waiting=(2.0, 4.0))
    assert config.thresholds_of("general") == config.thresholds == Thresholds(waiting=(2.0, 4.0))
    assert config.thresholds_of("gone") == config.thresholds


@pytest.mark.parametrize(("text", "expected"), [
    ('[queues.q]\nnames = "Кеңес"\n',
     'queues.q.names: expected a table such as { kk = "...", ru = "..." }, got \'Кеңес\''),
    ('[queues.q]\nnames = { en = "Advice" }\n',
     "queues.q.names.en: expected a display name in kk or ru (known: kk, ru)"),
    ('[queues.q]\nnames = { kk = " " }\n', "queues.q.names.kk: expected a non-empty string, "
                                            "got ' '"),
    ('[queues.q]\nnames = { ru = 5 }\n', "queues.q.names.ru: expected a non-empty string, got 5"),
    ('[queues.q]\nthresholds = { waiting = [9, 3] }\n',
     "queues.q.thresholds.waiting: the warn level must be at or below the alarm level, "
     "got [9, 3]"),
    ("[thresholds]\nlost_pct = [1]\n",
     "thresholds.lost_pct: expected [warn, alarm], two numbers, got [1]"),
])
def test_bad_names_and_thresholds_name_file_and_key(tmp_path: Path, text: str,
                                                    expected: str) -> None:
    path = tmp_path / "queues.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_queue_config(path)
    assert str(err.value) == f"{path}: {expected}"


def test_names_too_long_and_direct_construction() -> None:
    with pytest.raises(ConfigError, match=r"queues.q.names.kk: expected at most 80 characters"):
        QueueSettings("q", names={"kk": "ы" * 81})
    q = QueueSettings("q", thresholds={"waiting": [1, 2]})  # type: ignore[arg-type]
    assert q.thresholds == Thresholds(waiting=(1.0, 2.0))
    named = QueueSettings("q", names={"kk": "Кеңес"})
    assert len({named, QueueSettings("q")}) == 2  # still hashable, names compared


def test_config_check_names_a_bad_display_name(tmp_path: Path) -> None:
    config = checked_config(tmp_path, queues='[queues.general]\nnames = { kz = "Жалпы" }\n')
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == (f"{tmp_path / 'queues.toml'}: queues.general.names.kz: "
                             "expected a display name in kk or ru (known: kk, ru)\n")
