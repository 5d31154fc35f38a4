"""Turn-taking: when the caller's speech cuts the robot, and when a turn was only noise.

Issue 18, "Turn-taking": the robot's answers can be interrupted by speech
(before, only by keys), the partial answer is logged, and a turn cut by
noise gets one re-ask. Pure, O(1) per 20 ms frame; the engine's adapter
(``bailanys.engine.robot``) feeds it the frame-level voicing of
:func:`bailanys.voice.vad.is_voiced` and stops the playback when
:meth:`BargeIn.push` says so.

Why a sustained-speech threshold and not the first voiced frames:

* a cough lasts 200-300 ms in all, of which its loud burst is 100-150 ms,
  and a line click or a handset knock under 60 ms: neither may cut an
  answer the caller is listening to. :data:`BARGE_IN_S` = 300 ms of voiced
  frames is shorter than any real question (one word of Kazakh or Russian
  is 300-600 ms) and longer than a cough's voiced part;
* the robot's own voice comes back on the caller's channel only as
  acoustic echo of the phone, which 3GPP TS 26.131 (§5.7, TCLw ≥ 46 dB)
  keeps 46 dB or more under the prompt: a prompt near -10 dBFS echoes at
  -56 dBFS or lower, 20 dB under the voicing level
  (:data:`bailanys.voice.vad.LEVEL`, -36 dBFS), which this module keeps as
  the threshold;
* syllables of one utterance are separated by dips of 50-150 ms, so a dip
  shorter than :data:`GAP_S` does not start the count again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: One RTP frame (G.711, 20 ms packetisation, RFC 3551 §4.5).
FRAME_S: Final = 0.02
#: Voiced speech that stops a prompt (see the module docstring: coughs, clicks, echo).
BARGE_IN_S: Final = 0.3
#: Unvoiced run that starts the count again: longer than a pause between syllables.
GAP_S: Final = 0.2
#: A turn with less voiced speech than this was noise (a click, a breath, a cough):
#: the shortest question word ("иә", "жоқ", "да") has 200 ms or more of voice.
MIN_TURN_S: Final = 0.2
#: Quiet after some voice with no words recognised: the turn ends as noise. Vosk's
#: endpointer closes an utterance after 0.5-1.0 s of trailing silence (Kaldi's
#: default endpoint rules 2 and 3), so twice the longer one means "no words".
END_QUIET_S: Final = 2.0


@dataclass(frozen=True)
class Interrupted:
    """A prompt was cut: by ``by`` ("speech" or "key"), after ``played_s`` of ``length_s``."""

    text: str
    played_s: float
    length_s: float
    by: str


class BargeIn:
    """Feed each frame's voicing; :meth:`push` turns True once the caller really speaks.

    Voiced frames add up; a run of :data:`GAP_S` unvoiced frames resets the
    count, so isolated bursts (coughs, clicks) never reach :data:`BARGE_IN_S`.
    :attr:`voiced_s` counts every voiced frame of the turn (for :func:`is_noise`).
    """

    def __init__(self, barge_in_s: float = BARGE_IN_S, gap_s: float = GAP_S) -> None:
        self.need = max(1, round(barge_in_s / FRAME_S))
        self.gap = max(1, round(gap_s / FRAME_S))
        self.fired = False
        self.voiced_frames = 0  # in the whole turn
        self._count = 0  # voiced frames since the last long gap
        self._quiet = 0  # unvoiced frames in a row

    @property
    def voiced_s(self) -> float:
        return self.voiced_frames * FRAME_S

    @property
    def quiet_s(self) -> float:
        """Seconds since the last voiced frame."""
        return self._quiet * FRAME_S

    def push(self, voiced: bool) -> bool:
        """One 20 ms frame; returns :attr:`fired` (True from the frame speech is sustained)."""
        if voiced:
            self.voiced_frames += 1
            self._count += 1
            self._quiet = 0
        else:
            self._quiet += 1
            if self._quiet >= self.gap:
                self._count = 0
        if not self.fired and self._count >= self.need:
            self.fired = True
        return self.fired


def is_noise(text: str, voiced_s: float, min_turn_s: float = MIN_TURN_S) -> bool:
    """Was this turn cut by noise: nothing recognised, or one word in too little
    voice (a click or a cough read as a word)? Several words recognised are
    speech whatever the energy detector measured: a quiet caller on a weak
    line may stay under its level and must still be heard."""
    words = text.split()
    return not words or (len(words) == 1 and voiced_s < min_turn_s)


def played(started: float, stopped: float, length_s: float) -> float:
    """Seconds of a prompt the caller heard: wall time from its start, at most its length."""
    return round(min(max(0.0, stopped - started), length_s), 2)
