"""The node-kind registry (bailanys.ivr.kinds): every kind is registered once, and
each place that dispatches on kinds (the loader, the checks, the drawing, the
runner, the grammar in ivr_flows/README.md) knows every registered kind."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from bailanys.ivr import model, runner
from bailanys.ivr.kinds import NODE_KINDS, kind_of
from bailanys.ivr.loader import load_flow_text
from bailanys.ivr.model import Node, Prompt, Say

ROOT = Path(__file__).resolve().parents[2]

#: The kinds and their order, as flow authors and error messages have always listed them.
KINDS = ("say", "menu", "collect", "set_language", "branch", "queue", "robot", "survey",
         "transfer", "hangup", "goto")


def _model_kinds() -> dict[str, type[Node]]:
    """Every concrete node class of the model (one with a ``kind``), by kind."""
    return {cls.kind: cls for _, cls in inspect.getmembers(model, inspect.isclass)
            if issubclass(cls, Node) and "kind" in vars(cls)}


def test_the_registry_lists_the_kinds_in_their_order() -> None:
    assert tuple(NODE_KINDS) == KINDS
    for name, kind in NODE_KINDS.items():
        assert kind.name == name == kind.cls.kind


def test_every_node_class_of_the_model_is_registered() -> None:
    assert {name: k.cls for name, k in NODE_KINDS.items()} == _model_kinds()


def test_the_runner_starts_every_registered_kind() -> None:
    assert set(runner._START) == {k.cls for k in NODE_KINDS.values()}


def test_the_flow_grammar_documents_every_kind() -> None:
    readme = (ROOT / "ivr_flows" / "README.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `(\w+)` \|", readme.split("## Nodes", 1)[1], re.M)
    assert tuple(documented[:len(KINDS)]) == KINDS


def test_an_unknown_type_is_refused_with_the_registered_names() -> None:
    text = ("flow: t\nlanguages: [kk]\nstart: a\nnodes:\n  a:\n    type: nope\n"
            "  b:\n    type: [say]\n")
    flow, problems = load_flow_text(text, "t.yaml")
    assert flow is None
    messages = [p.message for p in problems if p.field.endswith(".type")]
    assert messages == [
        f"unknown node type 'nope'; expected one of: {', '.join(KINDS)}",
        f"unknown node type ['say']; expected one of: {', '.join(KINDS)}",
    ]


def test_a_node_of_no_registered_kind_has_no_kind() -> None:
    assert kind_of(Node("b", 1)) is None
    assert kind_of(Say("a", 1, Prompt(texts={"kk": "Сәлем"}), "b")) is NODE_KINDS["say"]

