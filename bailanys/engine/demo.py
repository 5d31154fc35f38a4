"""The demo flow on 1414 (issue 2; full YAML flows come with the IVR issue).

1. A bilingual greeting, then "Қазақ тілі үшін бірді басыңыз" /
   "для русского языка нажмите два" (keys barge in).
2. 1 → Kazakh, 2 → Russian; anything else or silence: "invalid choice" in
   both languages and the question again, up to ``MAX_TRIES`` times.
3. "Enter digits, then #"; the keys are collected until ``#`` (or until
   the caller is silent for ``no_input`` seconds).
4. The keys are read back in the chosen language, a goodbye is said, and the
   engine hangs up (BYE).

The flow talks to the call only through :class:`CallControl`, so tests can
drive it with a fake call and time as an input.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bailanys.engine.prompts import PromptLibrary
from bailanys.media.player import EncodedAudio

log = logging.getLogger(__name__)

MAX_TRIES = 3
MAX_DIGITS = 32
LANGUAGE_KEYS = {"1": "kk", "2": "ru"}


class CallControl(Protocol):
    """What a flow may do with a call."""

    id: str

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool: ...

    async def next_digit(self, wait_s: float) -> str | None: ...

    def pending_digit(self) -> str | None: ...

    def set_language(self, lang: str) -> None: ...

    async def hangup(self, reason: str) -> None: ...


async def run_demo(call: CallControl, prompts: PromptLibrary, *, no_input: float = 10.0) -> None:
    """Run the demo flow to its end (the caller may hang up at any time: cancellation)."""
    lang = await _choose_language(call, prompts, no_input)
    if lang is None:
        for code in prompts.languages:
            await call.play(prompts.prompt("goodbye", code), interruptible=False)
        await call.hangup("no_input")
        return
    call.set_language(lang)
    if call.pending_digit() is None:  # keys typed ahead barge in before the prompt starts
        await call.play(prompts.prompt("enter_digits", lang))
    digits = ""
    while len(digits) < MAX_DIGITS:
        key = await call.next_digit(no_input)
        if key is None or key == "#":
            break
        digits += key
    log.info("call %s: keys %r read back in %s", call.id, digits, lang)
    await call.play(prompts.readback(lang, digits), interruptible=False)
    await call.play(prompts.prompt("goodbye", lang), interruptible=False)
    await call.hangup("normal")


async def _choose_language(
    call: CallControl, prompts: PromptLibrary, no_input: float
) -> str | None:
    langs = prompts.languages
    for attempt in range(MAX_TRIES):
        queue = ["greeting", "choose_language"] if attempt == 0 else ["choose_language"]
        for prompt_id in queue:
            for code in langs:
                if call.pending_digit() is None:
                    await call.play(prompts.prompt(prompt_id, code))
        key = await call.next_digit(no_input)
        if key in LANGUAGE_KEYS and LANGUAGE_KEYS[key] in langs:
            return LANGUAGE_KEYS[key]
        for code in langs:
            if call.pending_digit() is None:
                await call.play(prompts.prompt("invalid_choice", code))
    return None
