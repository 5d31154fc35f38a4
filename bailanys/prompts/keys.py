"""The key of every prompt a caller can hear, and its text per language (pure).

A recording is stored under a key and a language; the key names where the
prompt is said:

* a flow's prompt: ``<flow>.<node>`` for the node's own prompt (a say's,
  a menu's, a collect's, a hand-over's, a hang-up's), ``<flow>.<node>.<slot>``
  for its others (``no_input``, ``no_match``, ``invalid``, ``thanks``, a
  survey question's id). A prompt said in several places of one flow with
  the same texts (a shared ``"@name"``, the ``defaults``' ``no_input``) has
  one key: the first place it is said, in the file's order;
* the engine's own sentences, by their phrase table (``bailanys/voice/phrases``):
  ``keypad.0`` ... ``keypad.9``, ``keypad.star``, ``keypad.hash`` (the
  digit read-back's words), ``keypad.intro`` ("you pressed"),
  ``keypad.nothing``; ``demo.<id>``; ``waiting.callback_offer``,
  ``waiting.callback_confirmed``, ``waiting.callback_greeting``,
  ``waiting.queue_timeout``, ``waiting.survey_question``,
  ``waiting.survey_thanks``; ``queue.free_call``; ``queue.less_than_a_minute``;
  ``interruption.service_restarting``.

Queue announcements that carry a number (your place, the expected wait,
the time left before the limit) are whole sentences built from numbers,
so they are synthesised: only their fixed sentences above can be recorded.
A prompt given as a ``file:`` in a flow, and a read-back of the caller's
digits (assembled from the ``keypad.*`` words), have no key of their own.

At play time a recording replaces the TTS of its text: the engine's
prompt library is keyed by (language, text), so the key's text at import
time (kept in the manifest) is what it stands for. When a flow's text
changes later, the recording no longer matches and the new text is
synthesised (``bailanys prompts list`` says ``stale``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from bailanys.ivr.model import KEYPAD, Flow, Menu, Node, Prompt, Survey
from bailanys.voice.phrases import demo, interruption, keypad, queue, waiting

#: What a key looks like (flow and node names, dots between).
KEY_RE: Final = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
#: The key's "flow" for the engine's own sentences.
PHRASES: Final = "phrases"

_KEYPAD_NAMES: Final = {"*": "star", "#": "hash"}


@dataclass(frozen=True)
class PromptKey:
    """One recordable prompt: its key, where it is said, its text per language."""

    key: str
    flow: str  # the flow's name, or PHRASES
    texts: Mapping[str, str] = field(default_factory=dict)


def _slots(node: Node) -> list[tuple[str, Prompt | None]]:
    """(slot, prompt) of a node; slot "" is the node's own prompt."""
    prompts = node.prompts()
    if isinstance(node, Menu):
        names = ["", "no_input", "no_match"]
    elif isinstance(node, Survey):
        names = [*(q.id for q in node.questions), "thanks", "no_input", "no_match"]
    elif node.kind == "collect":
        names = ["", "invalid", "no_input", "no_match"]
    else:
        names = [""] + [f"p{i}" for i in range(1, len(prompts))]
    return list(zip(names, prompts, strict=False))


def flow_keys(flow: Flow) -> list[PromptKey]:
    """The keys of ``flow``'s spoken prompts, in the file's order."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    out: list[PromptKey] = []
    for node in flow.nodes.values():
        for slot, prompt in _slots(node):
            if prompt is None or not prompt.texts:
                continue
            texts = tuple(sorted(prompt.texts.items()))
            if texts in seen:
                continue
            seen.add(texts)
            key = f"{flow.name}.{node.id}" + (f".{slot}" if slot else "")
            out.append(PromptKey(key, flow.name, dict(prompt.texts)))
    return out


def phrase_keys(languages: Sequence[str]) -> list[PromptKey]:
    """The keys of the engine's fixed sentences (see the module's docstring)."""
    langs = [lang for lang in languages if lang in ("kk", "ru")]

    def key(name: str, text_of: Mapping[str, str] | None = None,
            make: object = None) -> PromptKey:
        texts = {lang: (text_of[lang] if text_of is not None else make(lang))  # type: ignore[operator]
                 for lang in langs}
        return PromptKey(name, PHRASES, texts)

    out = [key(f"demo.{pid}", demo.DEMO_PROMPTS[pid]) for pid in demo.DEMO_PROMPTS]
    for ch in KEYPAD:
        name = _KEYPAD_NAMES.get(ch, ch)
        out.append(key(f"keypad.{name}", make=lambda lang, ch=ch: keypad.digit_word(lang, ch)))
    out.append(key("keypad.intro", make=keypad.readback_intro))
    out.append(key("keypad.nothing", make=lambda lang: keypad.digits_readback(lang, "")))
    for name in ("CALLBACK_OFFER", "CALLBACK_CONFIRMED", "CALLBACK_GREETING", "QUEUE_TIMEOUT",
                 "SURVEY_QUESTION", "SURVEY_THANKS"):
        out.append(key(f"waiting.{name.lower()}", getattr(waiting, name)))
    out.append(key("queue.free_call", make=queue.free_call_announcement))
    out.append(key("queue.less_than_a_minute", _less_than_a_minute()))
    out.append(key("interruption.service_restarting", interruption.SERVICE_RESTARTING))
    return out


def _less_than_a_minute() -> Mapping[str, str]:
    return {lang: queue.wait_announcement(lang, 0) for lang in ("kk", "ru")}


def catalog(flows: Iterable[Flow], languages: Sequence[str]) -> dict[str, PromptKey]:
    """Every key: the flows' (in the order given), then the engine's sentences."""
    out: dict[str, PromptKey] = {}
    for flow in flows:
        for item in flow_keys(flow):
            out.setdefault(item.key, item)
    for item in phrase_keys(languages):
        out.setdefault(item.key, item)
    return out
