"""The flows the engine runs itself, and how a flow's prompt becomes audio.

Besides the flows of ``ivr.flow_dir`` (answered by their numbers), two
flows ship in ``ivr_flows/`` and are run by the engine on its own
occasions, with the same runner as every flow:

* ``survey.yaml``: the after-call survey a queue with ``survey = true``
  runs when the agent hangs up first (the queue service loads it);
* ``linetest.yaml``: the line test answering ``engine.numbers`` (1499).

:func:`prompt_audio` is the one way a flow prompt is turned into
pre-rendered audio (a recorded file, else the TTS text), for the flow
service and the queue service alike.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from bailanys.engine.ports import PromptBook
from bailanys.errors import ConfigError
from bailanys.ivr.loader import load_flow
from bailanys.ivr.model import Collect, Flow, Menu, Node, Prompt, Survey
from bailanys.media.player import EncodedAudio

#: Where the engine's own flows live: the checkout's flow folder, or in an
#: installed venv (``make install``) the copy pyproject.toml's data-files put
#: under ``<venv>/share/bailanys/ivr_flows``.
_CHECKOUT_FLOWS = Path(__file__).resolve().parents[2] / "ivr_flows"
FLOW_DIR = (_CHECKOUT_FLOWS if (_CHECKOUT_FLOWS / "survey.yaml").is_file()
            else Path(sys.prefix) / "share" / "bailanys" / "ivr_flows")
SURVEY_FLOW = FLOW_DIR / "survey.yaml"
LINE_TEST_FLOW = FLOW_DIR / "linetest.yaml"


def load_builtin(path: Path) -> Flow:
    """Load one of the engine's own flows; a broken file is a :class:`ConfigError`
    naming its first problem (blocking I/O: run it in a thread)."""
    flow, problems = load_flow(path)
    if flow is None or problems:
        raise ConfigError(str(problems[0]) if problems else f"{path}: not loaded")
    return flow


def with_waits(flow: Flow, seconds: float) -> Flow:
    """``flow`` with every wait for the caller (a menu's, a survey's, an entry's
    first key and the keys between) set to ``seconds``: the line test waits
    ``engine.no_input_seconds``, whatever its file says."""
    nodes: dict[str, Node] = {}
    for node_id, node in flow.nodes.items():
        if isinstance(node, Menu | Collect | Survey):
            node = replace(node, retry=replace(node.retry, timeout_s=seconds))
        if isinstance(node, Collect):
            node = replace(node, interdigit_s=seconds)
        nodes[node_id] = node
    return replace(flow, nodes=nodes)


def prompt_audio(prompts: PromptBook, prompt: Prompt, lang: str) -> EncodedAudio:
    """``prompt`` in ``lang``: digits read back, its recorded file, or its rendered text."""
    if prompt.digits is not None:
        return prompts.readback(lang, prompt.digits)
    if lang in prompt.files:
        return prompts.file(prompt.files[lang])
    return prompts.text(lang, prompt.texts[lang])


def prompt_texts(flow: Flow) -> list[tuple[str, str]]:
    """Every (language, text) of ``flow``'s prompts, to render before a call needs them."""
    return [(lang, text) for p in flow.prompts() for lang, text in p.texts.items()]
