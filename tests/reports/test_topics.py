"""The topic classifier (issue 17): the shipped tree, the loader's errors, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bailanys.reports import topics as tp
from bailanys.robot.faq import load_kb
from bailanys.yamlsrc import load

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "configs" / "topics.yaml"
KAZAKH_LETTERS = set("әғқңөұүһі")


def parse(text: str) -> tuple[tp.Topics, list[str]]:
    topics, problems = tp.parse(load(text, "t.yaml"))
    return topics, [str(p) for p in problems]


GOOD = """\
groups:
  - id: documents
    kk: Құжаттандыру
    ru: Документирование
    topics:
      - {id: passport, kk: Төлқұжат, ru: Паспорт}
      - {id: id_card, kk: Жеке куәлік, ru: Удостоверение личности}
  - id: centre
    kk: Орталық
    ru: Центр
    topics:
      - {id: complaint, kk: Шағым, ru: Жалоба}
"""


def test_the_shipped_tree_loads_and_covers_the_faq_and_complaints() -> None:
    topics = tp.load(SHIPPED)
    assert "complaint" in topics.ids  # [qa] complaint_topics' default
    faq = load_kb(ROOT / "knowledge" / "faq.yaml")
    assert {e.topic for e in faq.entries} <= topics.ids
    for t in topics.topics:
        assert t.kk and t.ru and t.kk != t.ru
        assert topics.group_of(t.id) in {g.id for g in topics.groups}
    # Written in Kazakh, not in Russian twice: Kazakh letters in most names.
    with_kk = [t for t in topics.topics if KAZAKH_LETTERS & set(t.kk.lower())]
    assert len(with_kk) >= len(topics.topics) * 2 // 3


def test_lookups() -> None:
    topics, problems = parse(GOOD)
    assert problems == []
    assert topics.ids == {"passport", "id_card", "complaint"}
    assert topics.names("id_card", "kk") == "Жеке куәлік"
    assert topics.names("id_card", "ru") == "Удостоверение личности"
    assert topics.names("documents", "ru") == "Документирование"  # a group's name
    assert topics.names("gone", "kk") == "gone"  # an old id a report still meets
    assert topics.group_of("complaint") == "centre"
    assert topics.group_of("gone") is None
    assert topics.get("passport") == tp.Topic("passport", "Төлқұжат", "Паспорт", "documents")
    assert topics.group("centre") is not None and topics.group("centre").topics == ("complaint",)


@pytest.mark.parametrize(("text", "expected"), [
    ("", "t.yaml:1: the file is empty"),
    ("groups: 3\n", "t.yaml:1: the file must be a mapping with a list under 'groups'"),
    ("groups: []\n", "t.yaml:1: groups: no topics"),
    ("groups: []\nextra: 1\n", "t.yaml:2: extra: unknown field (expected groups)"),
    ("groups:\n  - 5\n", "t.yaml:2: groups[0]: a group is a mapping"),
    ("groups:\n  - {id: Bad, kk: а, ru: б, topics: [{id: x, kk: а, ru: б}]}\n",
     "t.yaml:2: groups[0].id: an id is lower-case latin letters"),
    ("groups:\n  - {id: g, kk: а, ru: б}\n", "t.yaml:2: groups[0].topics: a group needs"),
    ("groups:\n  - {id: g, kk: '', ru: б, topics: [{id: x, kk: а, ru: б}]}\n",
     "t.yaml:2: groups[0].kk: a non-empty kk name is required"),
    ("groups:\n  - {id: g, kk: а, ru: б, topics: [{id: x, kk: а}]}\n",
     "t.yaml:2: groups[0].topics[0].ru: a non-empty ru name is required"),
    ("groups:\n  - {id: g, kk: а, ru: б, topics: [{id: x, kk: а, ru: б, en: c}]}\n",
     "t.yaml:2: groups[0].topics[0].en: unknown field"),
    ("groups:\n  - {id: g, kk: а, ru: б, topics: [x]}\n",
     "t.yaml:2: groups[0].topics[0]: a topic is a mapping"),
    ("groups:\n  - id: g\n    kk: а\n    ru: б\n    topics:\n      - {id: g, kk: а, ru: б}\n",
     "t.yaml:6: groups[0].topics[0].id: duplicate id 'g' (also on line 2)"),
    ("groups:\n  - {id: g, kk: а, ru: б, topics: [{id: x, kk: а, ru: б}]}\n"
     "  - {id: h, kk: а, ru: б, topics: [{id: x, kk: а, ru: б}]}\n",
     "t.yaml:3: groups[1].topics[0].id: duplicate id 'x' (also on line 2)"),
    ("groups: [\n", "t.yaml:2: YAML syntax"),
])
def test_every_mistake_names_file_line_and_field(text: str, expected: str) -> None:
    _, problems = parse(text)
    assert any(p.startswith(expected) for p in problems), problems


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "topics.yaml"
    bad.write_text("groups:\n  - {id: g, kk: '', ru: '', topics: [{id: x, kk: а, ru: б}]}\n",
                   encoding="utf-8")
    with pytest.raises(tp.TopicsError) as err:
        tp.load(bad)
    assert len(err.value.problems) == 2
    _, problems = tp.load_problems(tmp_path / "missing.yaml")
    assert "cannot read" in str(problems[0])


def test_unknown_topics_are_named_where_they_are_used() -> None:
    topics, _ = parse(GOOD)
    used = [("faq.yaml", 7, "entries[0].topic", "passport"),
            ("faq.yaml", 20, "entries[1].topic", "pasport")]
    assert [str(p) for p in tp.unknown_topics(topics, used)] == [
        "faq.yaml:20: entries[1].topic: unknown topic 'pasport' (not in t.yaml)"]


def test_cli_check(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bailanys", "topics", "check", *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    ok = run(str(SHIPPED))
    assert ok.returncode == 0 and ok.stdout.startswith(f"ok: {SHIPPED}: 6 groups, ")
    bad = tmp_path / "t.yaml"
    bad.write_text("groups:\n  - {id: G, kk: а, ru: б, topics: [{id: x, kk: а, ru: б}]}\n",
                   encoding="utf-8")
    res = run(str(bad))
    assert res.returncode == 1
    assert f"{bad}:2: groups[0].id: an id is" in res.stdout
    assert "1 problem" in res.stderr


def _faq_and_flow_with_typos(tmp_path: Path) -> tuple[Path, Path]:
    faq = tmp_path / "faq.yaml"
    faq.write_text((ROOT / "knowledge" / "faq.yaml").read_text(encoding="utf-8").replace(
        "topic: passport", "topic: pasport", 1), encoding="utf-8")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "1414.yaml").write_text((ROOT / "ivr_flows" / "1414.yaml").read_text(
        encoding="utf-8").replace("topic: egov", "topic: e_gov", 1), encoding="utf-8")
    return faq, flows


def test_config_check_checks_faq_and_flow_topics_against_the_tree(tmp_path: Path) -> None:
    from bailanys.config import load_config
    from bailanys.configcheck import check_files

    faq, flows = _faq_and_flow_with_typos(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'[queue]\nfile = ""\n[ivr]\nflow_dir = "{flows}"\n[robot]\nfaq = "{faq}"\n'
                      f'[qa]\nenabled = false\n[reports]\ntopics = "{SHIPPED}"\n',
                      encoding="utf-8")
    problems = check_files(load_config(config, env={}))
    assert [p.split(": ", 1)[1] for p in problems] == [
        "entries[2].topic: unknown topic 'pasport' (not in " + str(SHIPPED) + ")",
        "nodes.main_menu.options[1].topic: unknown topic 'e_gov' (not in " + str(SHIPPED) + ")"]
    assert problems[0].startswith(f"{faq}:") and problems[1].startswith(f"{flows / '1414.yaml'}:")
    # no classifier file: no topic check (and no problem)
    config.write_text(config.read_text(encoding="utf-8").replace(str(SHIPPED), "none.yaml"),
                      encoding="utf-8")
    assert check_files(load_config(config, env={})) == []


def test_faq_check_and_flows_check_name_unknown_topics(tmp_path: Path) -> None:
    faq, flows = _faq_and_flow_with_typos(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bailanys", *args, "--topics", str(SHIPPED)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    res = run("faq", "check", str(faq))
    assert res.returncode == 1
    line = next(i for i, text in enumerate(faq.read_text(encoding="utf-8").split("\n"), 1)
                if text.strip() == "- id: passport_get")  # the entry's line
    assert res.stdout == (f"{faq}:{line}: entries[2].topic: unknown topic 'pasport' "
                          f"(not in {SHIPPED})\n")
    res = run("flows", "check", str(flows))
    assert res.returncode == 1
    assert f"{flows / '1414.yaml'}:105: nodes.main_menu.options[1].topic: unknown topic " \
           "'e_gov'" in res.stdout
