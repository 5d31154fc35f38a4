"""Draw a flow: Graphviz DOT from the same model the engine runs, SVG by ``dot``.

Node shapes say what a node does (a menu is a diamond, a hand-over a
double octagon, a hang-up a filled box); edges carry their key or label;
edges taken without caller input are dashed, so loops that need input are
easy to tell from the ones the checker rejects.  Labels show the node's
first-language text (shortened) so a reviewer reads the flow as a caller
hears it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bailanys.errors import BailanysError
from bailanys.ivr.model import (
    Branch,
    Collect,
    Flow,
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

LABEL_CHARS = 48  # prompt text shown under a node's name

_SHAPES: dict[type, str] = {
    Say: 'shape=box, style="rounded"',
    Menu: 'shape=diamond, style="filled", fillcolor="#e8f0fe"',
    Collect: 'shape=parallelogram, style="filled", fillcolor="#e8f0fe"',
    Survey: 'shape=parallelogram, style="filled", fillcolor="#fef7e0"',
    SetLanguage: 'shape=cds',
    Branch: 'shape=hexagon',
    QueueNode: 'shape=doubleoctagon, style="filled", fillcolor="#e6f4ea"',
    Robot: 'shape=doubleoctagon, style="filled", fillcolor="#f3e8fd"',
    Transfer: 'shape=doubleoctagon, style="filled", fillcolor="#e6f4ea"',
    Hangup: 'shape=box, style="filled", fillcolor="#fce8e6"',
    Goto: 'shape=point',
}


class DrawError(BailanysError):
    """The diagram could not be written."""


def to_dot(flow: Flow) -> str:
    title = f"{flow.name} ({flow.version}) numbers: {', '.join(flow.numbers)}"
    lines = [
        f"digraph {_quote(flow.name)} {{",
        "  rankdir=LR;",
        '  node [fontname="DejaVu Sans", fontsize=10];',
        '  edge [fontname="DejaVu Sans", fontsize=9];',
        f"  label={_quote(title)};",
        '  labelloc="t";',
        '  __start [shape=circle, label="", width=0.25, style=filled, fillcolor=black];',
        f"  __start -> {_quote(flow.start)};",
    ]
    lang = flow.languages[0]
    for node in flow.nodes.values():
        label = f"{node.id}\\n[{node.kind}]{_detail(node)}"
        text = _text(_main_prompt(node), lang)
        if text:
            label += "\\n" + _escape(text)
        lines.append(f"  {_quote(node.id)} [{_SHAPES[type(node)]}, label=\"{label}\"];")
        for edge_label, target, needs_input in node.edges():
            style = "" if needs_input else ", style=dashed"
            lines.append(
                f"  {_quote(node.id)} -> {_quote(target)} [label={_quote(edge_label)}{style}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(flow: Flow, out_base: Path) -> list[Path]:
    """Write ``<out_base>.dot`` and ``<out_base>.svg``; returns the files written."""
    dot_path = out_base.with_suffix(".dot")
    svg_path = out_base.with_suffix(".svg")
    dot_text = to_dot(flow)
    try:
        dot_path.write_text(dot_text, encoding="utf-8")
    except OSError as exc:
        raise DrawError(f"cannot write {dot_path}: {exc}") from exc
    exe = shutil.which("dot")
    if exe is None:
        raise DrawError(f"wrote {dot_path}; for SVG install Graphviz (Debian: graphviz)")
    try:
        proc = subprocess.run(
            [exe, "-Tsvg", "-o", str(svg_path), str(dot_path)],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DrawError(f"dot failed: {exc}") from exc
    if proc.returncode != 0:
        raise DrawError(f"dot failed: {proc.stderr.strip()}")
    return [dot_path, svg_path]


def _main_prompt(node: Node) -> Prompt | None:
    if isinstance(node, Say | Menu | Collect):
        return node.prompt
    if isinstance(node, Survey):
        return node.questions[0].prompt if node.questions else None
    if isinstance(node, QueueNode | Robot | Transfer | Hangup):
        return node.prompt
    return None


def _detail(node: Node) -> str:
    if isinstance(node, QueueNode):
        skills = f" {', '.join(node.skills)}" if node.skills else ""
        return f"\\nqueue {_escape(node.queue + skills)}"
    if isinstance(node, Robot) and node.service:
        return f"\\n{_escape(node.service)}"
    if isinstance(node, Transfer):
        return f"\\n{_escape(node.target)}"
    if isinstance(node, SetLanguage):
        return f" {node.language}"
    if isinstance(node, Collect):
        extra = f" {node.validator}" if node.validator else ""
        return f"\\n{node.into}: {node.min_length}-{node.max_length} keys{extra}"
    return ""


def _text(prompt: Prompt | None, lang: str) -> str:
    if prompt is None:
        return ""
    text = prompt.texts.get(lang) or Path(prompt.files.get(lang, "")).name
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _quote(text: str) -> str:
    return f'"{_escape(text)}"'
