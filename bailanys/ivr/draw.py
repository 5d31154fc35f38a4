"""Draw a flow: Graphviz DOT from the same model the engine runs, SVG by ``dot``.

Readable at a glance (issue 21): the flow runs top to bottom from its
start; node shapes say what a node does (a menu is a diamond, a hand-over
a double octagon, a hang-up a filled box); each edge is labelled with its
rule, as the caller meets it: a menu's key (and first keyword), "timeout /
no match" for a menu's fallback, a branch case's condition ("21:00–09:00",
"mon–fri", "topic ∈ {egov, eds}"), "otherwise", "queue unavailable"...;
edges taken without caller input are dashed, so loops that need input are
easy to tell from the ones the checker rejects. A node's label shows its
prompt in the chosen language (``--lang``, default the flow's first)
shortened; hovering it shows every prompt of the node in full (the SVG
tooltip, Graphviz's ``tooltip``: an ``xlink:title``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bailanys.errors import BailanysError
from bailanys.ivr.kinds import NODE_KINDS, dot_escape
from bailanys.ivr.model import (
    WEEKDAYS,
    Branch,
    Collect,
    Condition,
    Flow,
    Menu,
    Node,
    Prompt,
    QueueNode,
    Robot,
    Survey,
    Transfer,
)

LABEL_CHARS = 48  # prompt text shown under a node's name
#: What a hand-over's fallback means, by kind.
_FALLBACK = {QueueNode: "queue unavailable", Robot: "robot cannot help",
             Transfer: "not answered"}
#: The names of a node's prompts in its tooltip (after its own prompt).
_SLOT_NAMES = ("no input", "no match")


class DrawError(BailanysError):
    """The diagram could not be written."""


def to_dot(flow: Flow, lang: str | None = None) -> str:
    lang = lang if lang in flow.languages else flow.languages[0]
    title = f"{flow.name} ({flow.version}) numbers: {', '.join(flow.numbers)} [{lang}]"
    lines = [
        f"digraph {_quote(flow.name)} {{",
        "  rankdir=TB;",
        '  node [fontname="DejaVu Sans", fontsize=10];',
        '  edge [fontname="DejaVu Sans", fontsize=9];',
        f"  label={_quote(title)};",
        '  labelloc="t";',
        '  __start [shape=circle, label="", width=0.25, style=filled, fillcolor=black];',
        f"  __start -> {_quote(flow.start)};",
    ]
    for node in flow.nodes.values():
        kind = NODE_KINDS[node.kind]
        label = f"{node.id}\\n[{node.kind}]{kind.detail(node)}"
        text = _short(_text(kind.shown(node), lang))
        if text:
            label += "\\n" + dot_escape(text)
        tip = tooltip(node, lang)
        tip_attr = f', tooltip="{_multiline(tip)}"' if tip else ""
        lines.append(f"  {_quote(node.id)} [{kind.shape}{tip_attr}, label=\"{label}\"];")
        for edge_label, target, needs_input in edge_rules(node, lang):
            style = "" if needs_input else ", style=dashed"
            lines.append(
                f"  {_quote(node.id)} -> {_quote(target)} [label={_quote(edge_label)}{style}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def tooltip(node: Node, lang: str) -> str:
    """Every prompt of ``node`` in ``lang``, in full, one per line, named after the first."""
    prompts = node.prompts()
    if isinstance(node, Survey):
        names = [q.id for q in node.questions] + ["thanks", *_SLOT_NAMES]
    elif isinstance(node, Collect):
        names = ["", "invalid", *_SLOT_NAMES]
    else:
        names = ["", *_SLOT_NAMES]
    out: list[str] = []
    for name, prompt in zip(names, prompts, strict=False):
        text = _text(prompt, lang)
        if text:
            out.append(f"{name}: {text}" if name else text)
    return "\n".join(out)


def edge_rules(node: Node, lang: str) -> list[tuple[str, str, bool]]:
    """``node.edges()`` with each label saying the rule that takes the edge."""
    edges = node.edges()
    if isinstance(node, Menu):
        labels = [_option(o.key, o.words.get(lang, ())) for o in node.options]
        labels.append("timeout / no match")
    elif isinstance(node, Branch):
        labels = [condition_text(c.when) for c in node.cases] + ["otherwise"]
    elif isinstance(node, Collect):
        labels = [f"{node.validator or 'digits'} entered", "timeout / invalid"]
    elif isinstance(node, QueueNode | Robot | Transfer):
        labels = [_FALLBACK[type(node)]]
    elif isinstance(node, Survey):
        labels = ["answered or skipped"]
    else:
        labels = ["" for _ in edges]
    return [(label, target, needs) for label, (_, target, needs)
            in zip(labels, edges, strict=True)]


def condition_text(when: Condition) -> str:
    """A branch case's condition in a few words ("mon–fri, 09:00–18:00")."""
    parts: list[str] = []
    if when.weekdays is not None:
        parts.append(_weekdays(when.weekdays))
    if when.time is not None:
        start, end = when.time
        parts.append(f"{start:%H:%M}–{end:%H:%M}")
    if when.var is not None:
        if when.equals is not None:
            parts.append(f"{when.var} = {when.equals}")
        elif when.one_of is not None:
            parts.append(f"{when.var} ∈ {{{', '.join(sorted(when.one_of))}}}")
        else:
            parts.append(f"{when.var} set")
    if when.language is not None:
        parts.append(f"language {when.language}")
    if when.queue is not None:
        if when.agents_available is not None:
            free = "agents free" if when.agents_available else "no agent free"
            parts.append(f"{when.queue}: {free}")
        if when.waiting_at_most is not None:
            parts.append(f"{when.queue}: ≤ {when.waiting_at_most} waiting")
    return ", ".join(parts) or "always"


def _weekdays(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]}–{WEEKDAYS[ordered[-1]]}"
    return ", ".join(WEEKDAYS[d] for d in ordered)


def _option(key: str | None, words: tuple[str, ...]) -> str:
    word = f"«{words[0]}»" if words else ""
    return " ".join(x for x in (key, word) if x) or "?"


def write(flow: Flow, out_base: Path, lang: str | None = None) -> list[Path]:
    """Write ``<out_base>.dot`` and ``<out_base>.svg``; returns the files written."""
    dot_path = out_base.with_suffix(".dot")
    svg_path = out_base.with_suffix(".svg")
    dot_text = to_dot(flow, lang)
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
    if prompt.readback is not None:
        return f"(reads back {prompt.readback})"
    return prompt.texts.get(lang) or Path(prompt.files.get(lang, "")).name


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _multiline(text: str) -> str:
    """``text`` in a quoted Graphviz string, its line breaks as ``\\n``."""
    return dot_escape(text).replace("\n", "\\n")


def _quote(text: str) -> str:
    return f'"{dot_escape(text)}"'
