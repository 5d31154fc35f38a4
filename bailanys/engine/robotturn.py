"""One listening turn of the voice assistant: the caller's audio, speech barge-in, the turn's end.

The adapter side of :mod:`bailanys.robot.turns` (issue 18, turn-taking):
free-form Vosk and the voice-activity detector on the caller's 20 ms
frames, opened before the prompts that precede the turn. Sustained speech
(:class:`~bailanys.robot.turns.BargeIn`) stops the playback and those words
are the turn; a key ends it; silence for the ``Listen``'s time-out is no
input; voice followed by :data:`~bailanys.robot.turns.END_QUIET_S` of quiet
with no words recognised ends it as noise; ``max_s`` cuts a long one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bailanys.engine.ports import CallLeg
from bailanys.robot.assistant import Listen
from bailanys.robot.service_io import Digits, NoInput
from bailanys.robot.turns import END_QUIET_S, BargeIn
from bailanys.voice.grammar import SpeechResult
from bailanys.voice.vad import VoiceActivity, is_voiced

#: How often a listening turn looks at its deadlines (seconds): a few frames.
LISTEN_TICK_S = 0.05


class Turn:
    """One listening turn of the assistant: free-form Vosk on the caller's audio.

    Opened before the prompts that precede the turn, so that speech cuts
    them (barge-in, once :class:`~bailanys.robot.turns.BargeIn` hears
    sustained speech: not a cough, a click or the prompt's echo); the
    silence time-out counts from :meth:`wait`, and what was heard over the
    prompts without cutting them does not count as the turn.
    """

    def __init__(self, call: CallLeg, asr: Any, lang: str) -> None:
        self.call = call
        self.voice = VoiceActivity()
        self.barge = BargeIn()
        #: monotonic time the caller's speech cut the prompts (None: it did not)
        self.barged_at: float | None = None
        self._results: asyncio.Queue[SpeechResult] = asyncio.Queue()
        self._session = asr.transcription_session(lang, self._results.put_nowait)
        call.listen(self._feed)

    @property
    def barged(self) -> bool:
        return self.barged_at is not None

    def _feed(self, pcm: NDArray[np.int16]) -> None:
        self._session.feed(pcm)
        self.voice.push(pcm)
        if self.barge.push(is_voiced(pcm)) and self.barged_at is None:
            self.barged_at = time.monotonic()
            self.call.stop_playback()  # the caller speaks: the prompt gives way

    def _restart(self) -> None:
        """The prompts played to their end: noise over them is not the turn."""
        self.voice = VoiceActivity()
        self.barge = BargeIn()
        while not self._results.empty():
            self._results.get_nowait()

    async def _cut(self) -> str:
        """End the turn now: what Vosk makes of it so far ("" for nothing).

        The final job's results also reach the queue, with those of a job
        that was running when the turn was cut: all of them are the turn.
        """
        self.call.listen(None)
        final = await self._session.finish()
        phrases = []
        while not self._results.empty():
            phrase = self._results.get_nowait().phrase
            if phrase:
                phrases.append(phrase)
        if not phrases and final is not None and final.phrase:
            phrases.append(final.phrase)
        return " ".join(phrases)

    async def wait(self, act: Listen) -> Digits | NoInput | str:
        """A key, the turn's text (maybe empty), or silence for ``act.timeout_s``."""
        started = time.monotonic()
        if not self.barged:
            self._restart()
        key_task = asyncio.ensure_future(self.call.next_digit(act.max_s))
        try:
            while True:
                if key_task.done():
                    key = key_task.result()
                    if key is not None:
                        return Digits(key)
                while not self._results.empty():
                    result = self._results.get_nowait()
                    if result.phrase:
                        return result.phrase
                elapsed = time.monotonic() - started
                spoke = self.voice.started or self.barged
                if not spoke and elapsed >= act.timeout_s:
                    return NoInput()
                if spoke and self.barge.quiet_s >= END_QUIET_S:  # a noise: no words came
                    return await self._cut()
                if elapsed >= act.max_s:  # still speaking: cut, take what was said
                    return await self._cut()
                await asyncio.sleep(LISTEN_TICK_S)
        finally:
            if not key_task.done():
                key_task.cancel()
                await asyncio.gather(key_task, return_exceptions=True)

    def close(self) -> None:
        self.call.listen(None)
        self._session.close()
