"""The transcript's data model, shared by the transcriber, the text clean-up and search.

A recording has two channels (caller left, agent right; see
:mod:`bailanys.media.recorder`); each channel's speech is a list of
utterances, each a list of recognised words with their times (seconds from
the recording's start) and the recogniser's confidence (0-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """Who spoke: the recording's left channel is the caller, the right the agent."""

    CALLER = "caller"
    AGENT = "agent"

    @property
    def wav_channel(self) -> int:
        """The channel's index in the stereo WAV (0 left, 1 right)."""
        return 0 if self is Channel.CALLER else 1


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word (or, after clean-up, a number or a mask such as ``[IIN]``)."""

    text: str
    start: float
    end: float
    conf: float = 1.0


@dataclass(frozen=True, slots=True)
class Utterance:
    """One stretch of speech of one channel, in one language."""

    channel: Channel
    language: str
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start if self.words else 0.0

    @property
    def end(self) -> float:
        return self.words[-1].end if self.words else 0.0

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)
