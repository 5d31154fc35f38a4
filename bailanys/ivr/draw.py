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
from bailanys.ivr.kinds import NODE_KINDS, dot_escape
from bailanys.ivr.model import Flow, Prompt

LABEL_CHARS = 48  # prompt text shown under a node's name


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
        kind = NODE_KINDS[node.kind]
        label = f"{node.id}\\n[{node.kind}]{kind.detail(node)}"
        text = _text(kind.shown(node), lang)
        if text:
            label += "\\n" + dot_escape(text)
        lines.append(f"  {_quote(node.id)} [{kind.shape}, label=\"{label}\"];")
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


def _text(prompt: Prompt | None, lang: str) -> str:
    if prompt is None:
        return ""
    text = prompt.texts.get(lang) or Path(prompt.files.get(lang, "")).name
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _quote(text: str) -> str:
    return f'"{dot_escape(text)}"'
