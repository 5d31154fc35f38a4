"""The prompts a call can hear, rendered before the first call needs them.

At start-up :meth:`PromptLibrary.prepare` renders (or finds in the cache)
every prompt of the line test (``ivr_flows/linetest.yaml``) and every
keypad word in Kazakh and Russian, decodes them
once and keeps them pre-encoded for G.711 (:class:`EncodedAudio`).  A call
then only slices bytes: no TTS, no file I/O and no codec work on the call
path.  Digit read-back is assembled from the pre-rendered words.

Recorded prompts (issue 21, :mod:`bailanys.prompts`) win over synthesis:
:meth:`PromptLibrary.set_recorded` (called by
:class:`~bailanys.engine.recorded.RecordedPrompts` at start-up and after
every import) maps a (language, text) to a voice talent's recording, and
:meth:`~PromptLibrary.text` and the read-back's words look there first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from bailanys.errors import VoiceError
from bailanys.media.player import EncodedAudio
from bailanys.voice import phrases
from bailanys.voice.audio import concat, load_prompt, silence
from bailanys.voice.tts import PromptRenderer

log = logging.getLogger(__name__)

KEYPAD = "0123456789*#"
WORD_GAP_MS = 120  # pause between read-back words


class PromptLibrary:
    """Texts → pre-encoded audio, per language."""

    def __init__(self, renderer: PromptRenderer, languages: Iterable[str] = ("kk", "ru")) -> None:
        self._renderer = renderer
        self.languages = tuple(languages)
        self._audio: dict[tuple[str, str], EncodedAudio] = {}
        self._pcm: dict[tuple[str, str], np.ndarray] = {}
        #: Recordings by (language, text): they win over the rendered prompts.
        self._recorded: dict[tuple[str, str], EncodedAudio] = {}
        self._recorded_pcm: dict[tuple[str, str], np.ndarray] = {}

    def set_recorded(self, recordings: Mapping[tuple[str, str], np.ndarray]) -> None:
        """Replace the recordings (8 kHz int16 by (language, text)); calls already
        playing a prompt keep the audio they hold."""
        self._recorded = {k: EncodedAudio.from_pcm(pcm) for k, pcm in recordings.items()}
        self._recorded_pcm = dict(recordings)

    def recorded(self) -> frozenset[tuple[str, str]]:
        """The (language, text) pairs that play a recording."""
        return frozenset(self._recorded)

    def texts(self) -> list[tuple[str, str]]:
        """Every (language, text) of the line test and its digit read-back."""
        items: list[tuple[str, str]] = []
        for lang in self.languages:
            for prompt_id in phrases.DEMO_PROMPTS:
                items.append((lang, phrases.demo_prompt(prompt_id, lang)))
            items.append((lang, phrases.readback_intro(lang)))
            items.append((lang, phrases.digits_readback(lang, "")))
            for key in KEYPAD:
                items.append((lang, phrases.digit_word(lang, key)))
        return items

    async def prepare(self) -> None:
        """Render what is missing from the cache, then load everything into memory."""
        items = self.texts()
        paths = await self._renderer.render_all(items)
        loaded = await asyncio.to_thread(_load_all, paths)
        for (lang, text), pcm in zip(items, loaded, strict=True):
            self._pcm[(lang, text)] = pcm
            self._audio[(lang, text)] = EncodedAudio.from_pcm(pcm)
        log.info("%d prompts ready in %s", len(self._audio), ", ".join(self.languages))

    async def add(self, items: Iterable[tuple[str, str]]) -> int:
        """Render and load ``(language, text)`` items not yet in memory (a flow's prompts).

        Rendering runs in the TTS worker process and decoding in a thread:
        the loop is never blocked.  Returns how many were new.
        """
        new = [item for item in dict.fromkeys(items) if item not in self._audio]
        if not new:
            return 0
        paths = await self._renderer.render_all(new)
        loaded = await asyncio.to_thread(_load_all, paths)
        for item, pcm in zip(new, loaded, strict=True):
            self._pcm[item] = pcm
            self._audio[item] = EncodedAudio.from_pcm(pcm)
        return len(new)

    async def add_files(self, paths: Iterable[str]) -> int:
        """Load recorded prompts (WAV, any rate: resampled to 8 kHz) not yet in memory."""
        new = [p for p in dict.fromkeys(paths) if ("file", p) not in self._audio]
        if not new:
            return 0
        loaded = await asyncio.to_thread(_load_all, [Path(p) for p in new])
        for p, pcm in zip(new, loaded, strict=True):
            self._audio[("file", p)] = EncodedAudio.from_pcm(pcm)
        return len(new)

    def file(self, path: str) -> EncodedAudio:
        try:
            return self._audio[("file", path)]
        except KeyError:
            raise VoiceError(f"recorded prompt not loaded: {path}") from None

    def text(self, lang: str, text: str) -> EncodedAudio:
        recorded = self._recorded.get((lang, text))
        if recorded is not None:
            return recorded
        try:
            return self._audio[(lang, text)]
        except KeyError:
            raise VoiceError(f"prompt not prepared: [{lang}] {text!r}") from None

    def prompt(self, prompt_id: str, lang: str) -> EncodedAudio:
        return self.text(lang, phrases.demo_prompt(prompt_id, lang))

    def readback(self, lang: str, digits: str) -> EncodedAudio:
        """"You pressed: one, two, three" from the pre-rendered words."""
        if not digits:
            return self.text(lang, phrases.digits_readback(lang, ""))
        parts = [self._word(lang, phrases.readback_intro(lang))]
        for key in digits:
            if key in KEYPAD:
                parts.append(self._word(lang, phrases.digit_word(lang, key)))
        return EncodedAudio.from_pcm(concat(*parts, gap_ms=WORD_GAP_MS))

    def _word(self, lang: str, text: str) -> np.ndarray:
        recorded = self._recorded_pcm.get((lang, text))
        return recorded if recorded is not None else self._pcm[(lang, text)]

    def silence(self, ms: float) -> EncodedAudio:
        return EncodedAudio.from_pcm(silence(ms))


def _load_all(paths: list[Path]) -> list[np.ndarray]:
    return [load_prompt(p) for p in paths]
