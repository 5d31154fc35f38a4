"""The IVR node kinds, registered in one table: :data:`NODE_KINDS`.

A node kind is a model class (:mod:`bailanys.ivr.model`: its fields, its
``kind`` name, its edges and prompts) plus one :class:`NodeKind` entry here,
which says everything the tools need to know about it:

* ``read``: how its YAML body becomes a node (:mod:`bailanys.ivr.loader`
  looks the ``type:`` up here; unknown types are refused with this table's
  names, in this order);
* ``may_end`` and ``edge_field``: what the graph checks need
  (:mod:`bailanys.ivr.checks`: a node with no way out is a dead end unless it
  may end the flow; where edge ``i`` is written, for the message);
* ``shape``, ``shown``, ``detail``: how :mod:`bailanys.ivr.draw` draws it.

How the runner starts a node of each kind is the runner's own table
(``_START`` at the end of :mod:`bailanys.ivr.runner`): the steps are the pure
state machine's private methods, so they stay there; a kind that waits for
the caller (menu, collect, survey) or hands the call over (queue, robot,
transfer) also has its branch in the runner's phase handlers.

Adding a node kind: its class in ``model.py``, its entry below, its start
step in the runner's ``_START``, its row in ``ivr_flows/README.md``;
``tests/ivr/test_kinds.py`` fails when one of them is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bailanys.ivr.model import (
    Branch,
    Collect,
    Goto,
    Hangup,
    Menu,
    Node,
    Prompt,
    QueueNode,
    Robot,
    Say,
    SetLanguage,
    Survey,
    Transfer,
)

if TYPE_CHECKING:
    from bailanys.ivr.loader import Fields

N = TypeVar("N", bound=Node)
#: A place in a flow file: keys and list indexes from the top (the YAML reader's ``Path_``).
Path_ = tuple[str | int, ...]


def _no_prompt(node: Node) -> Prompt | None:
    return None


def _no_detail(node: Node) -> str:
    return ""


def _no_edge_field(node: Node, index: int) -> Path_ | None:
    return None


@dataclass(frozen=True)
class NodeKind(Generic[N]):
    """Everything the loader, the checks and the drawing know about one kind."""

    cls: type[N]
    #: The node from its YAML body: (fields of the body, node id, line) -> node.
    read: Callable[[Fields, str, int], N]
    #: Graphviz attributes of the node's shape.
    shape: str
    #: The prompt whose text is written under the node in the drawing.
    shown: Callable[[N], Prompt | None] = _no_prompt
    #: A line under the node's name in the drawing ("" for none).
    detail: Callable[[N], str] = _no_detail
    #: Where edge ``index`` is written in the file, when not under its label.
    edge_field: Callable[[N, int], Path_ | None] = _no_edge_field
    #: The node may have no way out: it ends the flow (hang-up, hand-over).
    may_end: bool = False

    @property
    def name(self) -> str:
        return self.cls.kind


# ------------------------------------------------------------ reading a node's body


def _read_say(f: Fields, node_id: str, line: int) -> Say:
    prompt = f.b.say_prompt(f)
    return Say(node_id, line, prompt or Prompt(), f.node("next", True) or "",
               f.flag("barge_in", True))


def _read_menu(f: Fields, node_id: str, line: int) -> Menu:
    return Menu(node_id, line, f.prompt("prompt", True) or Prompt(), f.b.options(f),
                f.b.retry(f), f.node("fallback", True) or "")


def _read_collect(f: Fields, node_id: str, line: int) -> Collect:
    return f.b.collect(node_id, line, f)


def _read_set_language(f: Fields, node_id: str, line: int) -> SetLanguage:
    lang = f.text("language", True) or ""
    if lang and lang not in f.b.languages:
        f.b.err(f.path + ("language",), f"{lang!r} is not one of the flow's languages "
                f"({', '.join(f.b.languages)})")
    return SetLanguage(node_id, line, lang, f.node("next", True) or "")


def _read_branch(f: Fields, node_id: str, line: int) -> Branch:
    return Branch(node_id, line, f.b.cases(f), f.node("default", True) or "")


def _read_queue(f: Fields, node_id: str, line: int) -> QueueNode:
    return QueueNode(node_id, line, f.prompt("prompt", False), f.node("fallback", False),
                     queue=f.text("queue", True) or "", skills=tuple(f.str_list("skills")))


def _read_robot(f: Fields, node_id: str, line: int) -> Robot:
    return Robot(node_id, line, f.prompt("prompt", False), f.node("fallback", True),
                 service=f.text("service", False))


def _read_transfer(f: Fields, node_id: str, line: int) -> Transfer:
    return Transfer(node_id, line, f.prompt("prompt", False), f.node("fallback", True),
                    target=f.text("target", True) or "")


def _read_survey(f: Fields, node_id: str, line: int) -> Survey:
    return Survey(node_id, line, f.b.questions(f), f.prompt("thanks", False),
                  f.b.retry(f), f.node("next", True) or "")


def _read_hangup(f: Fields, node_id: str, line: int) -> Hangup:
    return Hangup(node_id, line, f.prompt("prompt", False),
                  f.text("cause", False) or "normal")


def _read_goto(f: Fields, node_id: str, line: int) -> Goto:
    return Goto(node_id, line, f.node("next", True) or "")


# ------------------------------------------------------------ drawing details


def _own_prompt(node: Say | Menu | Collect | QueueNode | Robot | Transfer | Hangup
                ) -> Prompt | None:
    return node.prompt


def _first_question(node: Survey) -> Prompt | None:
    return node.questions[0].prompt if node.questions else None


def dot_escape(text: str) -> str:
    """``text`` inside a quoted Graphviz string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _queue_detail(node: QueueNode) -> str:
    skills = f" {', '.join(node.skills)}" if node.skills else ""
    return f"\\nqueue {dot_escape(node.queue + skills)}"


def _robot_detail(node: Robot) -> str:
    return f"\\n{dot_escape(node.service)}" if node.service else ""


def _transfer_detail(node: Transfer) -> str:
    return f"\\n{dot_escape(node.target)}"


def _language_detail(node: SetLanguage) -> str:
    return f" {node.language}"


def _collect_detail(node: Collect) -> str:
    extra = f" {node.validator}" if node.validator else ""
    return f"\\n{node.into}: {node.min_length}-{node.max_length} keys{extra}"


# ------------------------------------------------------------ where edges are written


def _option_field(node: Menu, index: int) -> Path_ | None:
    return ("options", index, "next") if index < len(node.options) else None


def _case_field(node: Branch, index: int) -> Path_ | None:
    return ("cases", index, "next") if index < len(node.cases) else None


# ------------------------------------------------------------ the table

_HANDOFF_FILL = 'shape=doubleoctagon, style="filled", fillcolor="#e6f4ea"'

#: Every node kind, by its ``type:`` name, in the order error messages list them.
NODE_KINDS: Mapping[str, NodeKind[Any]] = {k.name: k for k in (
    NodeKind(Say, _read_say, 'shape=box, style="rounded"', shown=_own_prompt),
    NodeKind(Menu, _read_menu, 'shape=diamond, style="filled", fillcolor="#e8f0fe"',
             shown=_own_prompt, edge_field=_option_field),
    NodeKind(Collect, _read_collect, 'shape=parallelogram, style="filled", fillcolor="#e8f0fe"',
             shown=_own_prompt, detail=_collect_detail),
    NodeKind(SetLanguage, _read_set_language, "shape=cds", detail=_language_detail),
    NodeKind(Branch, _read_branch, "shape=hexagon", edge_field=_case_field),
    NodeKind(QueueNode, _read_queue, _HANDOFF_FILL, shown=_own_prompt, detail=_queue_detail,
             may_end=True),
    NodeKind(Robot, _read_robot, 'shape=doubleoctagon, style="filled", fillcolor="#f3e8fd"',
             shown=_own_prompt, detail=_robot_detail, may_end=True),
    NodeKind(Survey, _read_survey, 'shape=parallelogram, style="filled", fillcolor="#fef7e0"',
             shown=_first_question),
    NodeKind(Transfer, _read_transfer, _HANDOFF_FILL, shown=_own_prompt,
             detail=_transfer_detail, may_end=True),
    NodeKind(Hangup, _read_hangup, 'shape=box, style="filled", fillcolor="#fce8e6"',
             shown=_own_prompt, may_end=True),
    NodeKind(Goto, _read_goto, "shape=point"),
)}


def kind_of(node: Node) -> NodeKind[Any] | None:
    """The registered kind of ``node``; ``None`` for a class no kind registers."""
    return NODE_KINDS.get(getattr(node, "kind", ""))
