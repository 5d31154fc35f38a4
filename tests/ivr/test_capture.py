"""Issue 17 at the source in the voice menu: an option's ``topic`` and ``region``.

Choosing an option with ``topic`` emits ``call.topic`` (source ``ivr``); one
with ``region`` sets the flow variable ``region`` (a branch can test it) and
emits ``call.region`` (source ``flow``). The loader checks both.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bailanys.ivr.loader import load_flow, load_flow_text
from bailanys.ivr.testing import FlowHarness

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Almaty"))

FLOW = """\
flow: t
languages: [kk, ru]
start: region_menu
nodes:
  region_menu:
    type: menu
    prompt: {kk: Өңіріңізді таңдаңыз, ru: Выберите регион}
    options:
      - {key: "1", next: topic_menu, region: astana}
      - {key: "2", next: topic_menu, region: almaty_city}
      - {key: "3", next: topic_menu}
    fallback: topic_menu
  topic_menu:
    type: menu
    prompt: {kk: Тақырыпты таңдаңыз, ru: Выберите тему}
    options:
      - {key: "1", next: route, topic: pension}
      - {key: "2", next: route}
    fallback: route
  route:
    type: branch
    cases:
      - when: {var: region, one_of: [astana]}
        next: astana_end
    default: other_end
  astana_end: {type: hangup, cause: astana}
  other_end: {type: hangup, cause: other}
"""


def walk(*keys: str) -> FlowHarness:
    flow, problems = load_flow_text(FLOW, "t.yaml")
    assert flow is not None, [str(p) for p in problems]
    h = FlowHarness(flow, now=DAY, language="ru")
    h.start()
    for key in keys:
        h.finish_prompts()
        h.press(key)
    return h


def test_a_region_option_sets_the_variable_and_emits_call_region() -> None:
    h = walk("1", "1")
    assert [e.fields for e in h.events("call.region")] == [{"region": "astana",
                                                            "source": "flow"}]
    assert [e.fields for e in h.events("call.topic")] == [{"topic": "pension",
                                                           "source": "ivr"}]
    assert h.runner.variables["region"] == "astana"
    assert h.events("ivr.hangup_node")[-1].fields["cause"] == "astana"  # the branch saw it


def test_options_without_labels_emit_nothing() -> None:
    h = walk("3", "2")
    assert h.events("call.region") == [] and h.events("call.topic") == []
    assert "region" not in h.runner.variables
    assert h.events("ivr.hangup_node")[-1].fields["cause"] == "other"


def test_each_option_gives_its_own_region() -> None:
    h = walk("2")
    assert h.events("call.region")[0].fields["region"] == "almaty_city"


def test_the_loader_names_a_bad_topic_or_region() -> None:
    bad = FLOW.replace("region: almaty_city", "region: almaty_town").replace(
        "topic: pension", "topic: Pension")
    flow, problems = load_flow_text(bad, "t.yaml")
    messages = [str(p) for p in problems]
    assert flow is None
    assert any(m.startswith("t.yaml:10: nodes.region_menu.options[1].region: unknown region "
                            "'almaty_town' (expected one of astana, ") for m in messages)
    assert any(m.startswith("t.yaml:17: nodes.topic_menu.options[0].topic: a topic id is")
               for m in messages), messages


def test_1414_tags_the_egov_and_service_centre_options() -> None:
    flow, problems = load_flow(ROOT / "ivr_flows" / "1414.yaml")
    assert flow is not None, [str(p) for p in problems]
    h = FlowHarness(flow, now=DAY)
    h.start()
    h.finish_prompts()
    h.press("2")  # Russian
    h.finish_prompts()
    h.press("2")  # the e-government portal
    assert [e.fields for e in h.events("call.topic")] == [{"topic": "egov", "source": "ivr"}]
