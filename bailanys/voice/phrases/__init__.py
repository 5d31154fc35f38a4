"""What the caller hears, in Kazakh (``"kk"``) and Russian (``"ru"``).

Pure text: no audio, no I/O. Every text is written for espeak-ng's ``kk`` and
``ru`` voices, so numbers are spelled out as words, never digits.

Modules, one concern each:

* :mod:`.languages`: the language codes and their check.
* :mod:`.keypad`: keypad words and the digit read-back.
* :mod:`.demo`: prompts of the demo flow.
* :mod:`.numbers_ru`, :mod:`.numbers_kk`: cardinals, ordinals, agreement.
* :mod:`.durations`: exact and approximate durations.
* :mod:`.queue`: queue announcements (position, expected wait, free call).
* :mod:`.waiting`: fixed queue sentences (callback offer, survey, time-out).
* :mod:`.interruption`: the service is being restarted (said before a stop).

The names below are re-exported so that ``from bailanys.voice import phrases``
and ``phrases.demo_prompt(...)`` keep working as before the split.
"""

from __future__ import annotations

from bailanys.voice.phrases.demo import DEMO_PROMPTS, demo_prompt
from bailanys.voice.phrases.keypad import digit_word, digits_readback, readback_intro
from bailanys.voice.phrases.languages import LANGUAGES

__all__ = [
    "DEMO_PROMPTS",
    "LANGUAGES",
    "demo_prompt",
    "digit_word",
    "digits_readback",
    "readback_intro",
]
