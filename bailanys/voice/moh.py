"""Music on hold, generated here (no licensed audio).

A slow, quiet arpeggio over a I-vi-IV-V progression in C major, each note
a sine with its octave and a soft attack/decay envelope, at 8 kHz.  Pure
numpy, deterministic, and loop-seamless (the piece ends where it starts:
silence between notes).  Tones stay within the telephone band (300-3400
Hz, ITU-T G.711/G.712) and away from the DTMF frequencies' pairs, so the
in-band DTMF detector does not mistake the music for a key: every note is a
single pitch plus its octave, never two tones of the DTMF grid together.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 8000
LEVEL_DBFS = -20.0  # quieter than prompts (espeak-ng peaks near -3 dBFS)
NOTE_S = 0.42
#: I - vi - IV - V in C major, each chord arpeggiated up and down (Hz, octave 4-5).
_CHORDS = (
    (261.63, 329.63, 392.00, 523.25),
    (220.00, 261.63, 329.63, 440.00),
    (349.23, 440.00, 523.25, 698.46),
    (392.00, 493.88, 587.33, 783.99),
)


def music_on_hold(repeats: int = 2) -> NDArray[np.int16]:
    """About 13 s of music per repeat (4 chords x 8 notes x 0.42 s)."""
    n = int(NOTE_S * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    attack = np.minimum(1.0, t / 0.03)
    envelope = attack * np.exp(-t * 5.0)
    envelope[-80:] *= np.linspace(1.0, 0.0, 80)  # end each note at zero: no clicks
    notes: list[NDArray[np.float64]] = []
    for chord in _CHORDS:
        for f in (*chord, *reversed(chord)):
            tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t)
            notes.append(tone * envelope)
    piece = np.concatenate(notes * max(1, repeats))
    peak = float(np.max(np.abs(piece))) or 1.0
    scale = 32767.0 * 10 ** (LEVEL_DBFS / 20) / peak
    return np.round(piece * scale).astype(np.int16)
