"""A say node's ``readback``: the digits a collect node stored, read back word by word."""

from __future__ import annotations

from datetime import UTC, datetime

from bailanys.ivr.loader import load_flow_text
from bailanys.ivr.model import Prompt, Say
from bailanys.ivr.runner import Play
from bailanys.ivr.testing import FlowHarness

FLOW = """
flow: readback
languages: [kk, ru]
start: keys
nodes:
  keys:
    type: collect
    prompt: {kk: Сандарды теріңіз., ru: Введите цифры.}
    into: keys
    next: back
    fallback: back
  back:
    type: say
    readback: keys
    barge_in: false
    next: bye
  bye:
    type: hangup
"""


def test_loader_takes_readback_instead_of_a_text() -> None:
    flow, problems = load_flow_text(FLOW, "readback.yaml")
    assert problems == [] and flow is not None
    node = flow.node("back")
    assert isinstance(node, Say) and node.prompt == Prompt(readback="keys")


def test_readback_needs_a_variable_name_and_no_text() -> None:
    both = FLOW.replace("    readback: keys\n", "    readback: keys\n    text: {kk: а, ru: а}\n")
    _, problems = load_flow_text(both, "readback.yaml")
    assert [p.message for p in problems] == [
        "a say node needs exactly one of 'text' or 'file' (or 'readback')"]
    _, problems = load_flow_text(FLOW.replace("readback: keys", "readback: 'a b'"), "r.yaml")
    assert [p.field for p in problems] == ["nodes.back.readback"]


def test_the_runner_plays_the_collected_digits() -> None:
    flow, _ = load_flow_text(FLOW, "readback.yaml")
    assert flow is not None
    h = FlowHarness(flow, now=datetime(2026, 12, 4, 9, 0, tzinfo=UTC), language="ru")
    h.start()
    h.finish_prompts()
    h.press("42#")
    plays = [a for a in h.actions if isinstance(a, Play)]
    assert plays[-1].prompt == Prompt(digits="42") and plays[-1].lang == "ru"
    assert plays[-1].barge_in is False


def test_nothing_collected_reads_back_nothing() -> None:
    flow, _ = load_flow_text(FLOW, "readback.yaml")
    assert flow is not None
    h = FlowHarness(flow, now=datetime(2026, 12, 4, 9, 0, tzinfo=UTC), language="kk")
    h.start()
    h.silent(3)  # no key at all: the fallback reads back an empty entry
    plays = [a for a in h.actions if isinstance(a, Play)]
    assert plays[-1].prompt == Prompt(digits="")
