"""Is the caller speaking? A frame-energy voice-activity detector for turn-taking.

The voice assistant listens for a question: it must tell "nobody spoke"
(no input after a few seconds) from "someone is still speaking" (wait for
the end of the utterance, up to a limit). Vosk tells where an utterance
ends; this tells that one began. Pure, O(1) per 20 ms frame.

Speech starts when :data:`START_FRAMES` frames in a row have an RMS level of
at least :data:`LEVEL` (int16 units, about -36 dBFS): telephone speech sits
20-30 dB above that, while G.711 silence and comfort noise sit below it; a
click shorter than 60 ms does not count. A key tone does count as voice,
which is harmless: the key itself arrives first and ends the turn.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

#: RMS level (int16) a frame needs to count as voiced: ~-36 dBFS.
LEVEL: Final = 500.0
#: Voiced frames in a row that mean speech began (60 ms).
START_FRAMES: Final = 3


def is_voiced(pcm: NDArray[np.int16], level: float = LEVEL) -> bool:
    """Is this frame voiced: its RMS level reaches ``level``? (False for an empty frame.)"""
    if pcm.size == 0:
        return False
    x = pcm.astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) >= level


class VoiceActivity:
    """Feed 8 kHz frames; :attr:`started` turns True once speech begins."""

    def __init__(self, level: float = LEVEL, start_frames: int = START_FRAMES) -> None:
        self.level = level
        self.start_frames = start_frames
        self.started = False
        self._run = 0

    def push(self, pcm: NDArray[np.int16]) -> bool:
        """One frame; returns :attr:`started`."""
        if self.started or pcm.size == 0:
            return self.started
        self._run = self._run + 1 if is_voiced(pcm, self.level) else 0
        if self._run >= self.start_frames:
            self.started = True
        return self.started
