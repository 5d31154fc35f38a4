"""The QA acoustic pass (bailanys.qa.acoustic, vad, echo) on calls with known talk.

Issue 16, "Tests: acoustic measures on synthetic stereo files with known
talk, silence and overtalk (exact within 20 ms)". The calls are made by
``tests/qa/acoustic_scene.py`` from espeak-ng Russian and Kazakh words
placed one by one with pauses between them, and human Russian prompts of
``asterisk-core-sounds-ru-wav`` when installed, over a line with the other
side's echo at -20 dB, drifting comfort noise, a mains hum and G.711.
That module's docstring defines the ground truth: each utterance runs from
the first to the last 1 ms of its clean clips' sound (25 dB under the
speaker's active level), pauses inside it (all <= 0.35 s) included.

"Exact within 20 ms" is checked as: every utterance's start and end on each
channel, every overtalk span's start and end, and the longest silence's
start and end are each within 20 ms of the truth; each channel's talk (and
the overtalk) in all is within 20 ms per utterance (per span) it holds.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from bailanys.errors import AcousticError, VoiceError
from bailanys.qa import acoustic, echo
from bailanys.qa.acoustic import MIN_SILENCE_S, measure, measure_pcm, talk_pcm
from bailanys.qa.model import Measure
from bailanys.voice.audio import to_int16, tone
from tests.qa import acoustic_scene as sc

TOL = 0.020  # s: issue 16, "exact within 20 ms"
needs_espeak = pytest.mark.skipif(not sc.HAVE_ESPEAK, reason="espeak-ng missing")


@pytest.fixture(scope="module")
def bank() -> dict[str, list[sc.Clip]]:
    """Every clip rendered once (about 0.5 s)."""
    return sc.clip_bank()


def assert_spans(got: list[tuple[float, float]], want: list[tuple[float, float]],
                 what: str) -> None:
    assert len(got) == len(want), (what, got, want)
    for g, w in zip(got, want, strict=True):
        assert abs(g[0] - w[0]) <= TOL and abs(g[1] - w[1]) <= TOL, (what, g, w)
    total = sum(b - a for a, b in got) - sum(b - a for a, b in want)
    assert abs(total) <= TOL * max(1, len(want)), (what, total)


def assert_near(got: tuple[tuple[float, float], ...] | list[tuple[float, float]],
                want: list[tuple[float, float]], tol: float) -> None:
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, abs=tol), (g, w)


@needs_espeak
@pytest.mark.parametrize(("line", "seed"), [(name, i + 1) for i, name in enumerate(sc.LINES)])
def test_talk_overtalk_and_silence_exact_within_20_ms(
        bank: dict[str, list[sc.Clip]], line: str, seed: int) -> None:
    scene = sc.dialogue(bank, seed)
    truth = scene.truth()
    left, right = scene.line(seed, **sc.LINES[line])
    caller, agent = talk_pcm(left, right)
    assert_spans(caller, truth.caller, "caller")
    assert_spans(agent, truth.agent, "agent")
    got = measure_pcm(left, right)
    assert_spans(list(got.overtalk), truth.overtalk, "overtalk")
    assert len(got.overtalk) == 2
    for measured, spans in ((got.caller_talk_s, truth.caller), (got.agent_talk_s, truth.agent)):
        assert abs(measured - sum(b - a for a, b in spans)) <= TOL * len(spans)
    lo, hi = truth.longest
    assert hi - lo > 5.9  # the hold, or the quiet end of the recording
    assert got.longest_silence_at is not None
    assert abs(got.longest_silence_at - lo) <= TOL
    assert abs(got.longest_silence_s - (hi - lo)) <= 2 * TOL
    want_quiet = [s for s in truth.silences if s[1] - s[0] >= MIN_SILENCE_S]
    assert_spans(list(got.silences), want_quiet, "silences")
    assert got.duration_s == pytest.approx(45.0)


def test_tones_are_found_to_the_sample_frame() -> None:
    """Tones with sharp edges on a silent line: every edge within 4 ms."""
    left = np.zeros(8000 * 10, dtype=np.int16)
    right = np.zeros_like(left)
    for at, ms in ((0.5, 1500), (4.0, 2000)):
        left[int(at * 8000): int(at * 8000) + ms * 8] = tone(440.0, ms, -16.0)
    for at, ms in ((1.7, 1000), (5.5, 2500)):
        right[int(at * 8000): int(at * 8000) + ms * 8] = tone(1000.0, ms, -20.0)
    got = measure_pcm(left, right)
    assert got.caller_talk_s == pytest.approx(3.5, abs=0.008)
    assert got.agent_talk_s == pytest.approx(3.5, abs=0.008)
    assert_near(got.overtalk, [(1.7, 2.0), (5.5, 6.0)], 0.004)
    assert got.overtalk_s == pytest.approx(0.8, abs=0.008)
    assert_near(got.silences, [(2.7, 4.0), (8.0, 10.0)], 0.004)  # 0-0.5 s: under 1 s
    assert got.longest_silence_s == pytest.approx(2.0, abs=0.008)
    assert got.longest_silence_at == pytest.approx(8.0, abs=0.004)
    assert got.talk_ratio == pytest.approx(0.5, abs=0.01)


def test_a_pause_between_words_is_talk_and_a_longer_one_is_not() -> None:
    """The bridge: 0.4 s between two words is inside the talk; 0.6 s is not."""
    word = tone(300.0, 300, -18.0)
    gap = np.zeros(8 * 400, dtype=np.int16)
    long_gap = np.zeros(8 * 600, dtype=np.int16)
    pad = np.zeros(8000, dtype=np.int16)
    left = np.concatenate([pad, word, gap, word, pad, word, long_gap, word, pad])
    caller, agent = talk_pcm(left, None)
    assert agent == []
    assert [round(b - a, 2) for a, b in caller] == [1.0, 0.3, 0.3]


def test_a_click_is_not_talk_but_a_release_after_a_closure_is() -> None:
    """A 5 ms click alone, or 300 ms after a word, is not talk; 100 ms after
    a word (a final stop's release after its closure) it ends the word."""
    word = tone(300.0, 400, -18.0)
    click = np.full(40, 12000, dtype=np.int16)
    pad = np.zeros(8000, dtype=np.int16)

    def gap(ms: int) -> np.ndarray:
        return np.zeros(8 * ms, dtype=np.int16)

    left = np.concatenate([pad, word, gap(300), click, pad, click, pad,
                           word, gap(100), click, pad])
    caller, _ = talk_pcm(left, None)
    # the word; the word, its closure and the 5 ms release (+ the high-pass's ring)
    assert [b - a for a, b in caller] == pytest.approx([0.4, 0.505], abs=0.01)


@needs_espeak
def test_echo_alone_is_not_talk(bank: dict[str, list[sc.Clip]]) -> None:
    """The agent listens (no speech) while the caller's speech comes back on
    the agent's channel at -20 dB (and -14 dB): no agent talk, no overtalk.
    Without the echo canceller the same echo would be taken for the agent's
    talk."""
    scene = sc.Scene(12.0)
    t = scene.say(0, 1.0, [bank["caller"][0]], [])
    scene.say(0, t + 1.0, [bank["caller"][2]], [])
    for loudness in (-20.0, -14.0):
        left, right = scene.line(5, echo_db=loudness, echo_sides=(1,))
        got = measure_pcm(left, right)
        assert got.agent_talk_s == 0.0, loudness
        assert got.overtalk == ()
        assert got.caller_talk_s == pytest.approx(
            sum(b - a for a, b in scene.utterances[0]), abs=2 * TOL)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(echo, "MAX_ECHO_GAIN_DB", -100.0)  # every path refused
        assert measure_pcm(left, right).agent_talk_s > 0.5


def test_noise_hum_and_digital_silence_are_not_talk() -> None:
    rng = np.random.default_rng(3)
    n = 8000 * 8
    t = np.arange(n) / 8000
    hum = to_int16(32768 * 10 ** (-40 / 20) * np.sin(2 * np.pi * 50 * t))
    noise = to_int16(rng.standard_normal(n) * 32768 * 10 ** (-45 / 20))
    for left, right in ((hum, noise), (np.zeros(n, np.int16), np.zeros(n, np.int16))):
        got = measure_pcm(left, right)
        assert (got.caller_talk_s, got.agent_talk_s, got.overtalk_s) == (0.0, 0.0, 0.0)
        assert got.silences == ((0.0, 8.0),)
        assert (got.longest_silence_s, got.longest_silence_at) == (8.0, 0.0)
        assert got.talk_ratio is None
        assert got.measures()[Measure.SPEECH_RATE] is None


@needs_espeak
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_speech_rate_counts_syllables(lang: str) -> None:
    """Syllable nuclei (de Jong & Wempe 2009) against the vowels of the text
    (a Russian or Kazakh syllable has one vowel), at three espeak speeds:
    within -20 %..+30 % of the count, and the rate rises with the speed."""
    text = {"ru": "Здравствуйте, вы позвонили в единый контакт-центр. Меня зовут "
                  "Айгерим, чем могу помочь?",
            "kk": "Сәлеметсіз бе, бірыңғай байланыс орталығына хабарластыңыз. "
                  "Менің атым Айгерім, сізге қалай көмектесе аламын?"}[lang]
    syllables = sum(ch in "аеёиоуыэюяәіөүұ" for ch in text.lower())
    rates = []
    for speed in (110, 160, 220):
        clip = sc.make_clip(sc.espeak(text, lang, speed), sc.AGENT_DBFS)
        scene = sc.Scene(clip.pcm.size / 8000 + 2)
        scene.tracks[1][8000: 8000 + clip.pcm.size] += clip.pcm
        got = measure_pcm(*scene.line(speed))
        nuclei = got.agent_speech_rate * got.agent_talk_s
        assert 0.8 * syllables <= nuclei <= 1.3 * syllables, (speed, nuclei, syllables)
        rates.append(got.agent_speech_rate)
    assert rates == sorted(rates) and rates[-1] > 1.2 * rates[0]


def test_file_and_arrays_agree_block_by_block(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """measure(path) reads blocks (1 s here): the same result as the arrays."""
    rng = np.random.default_rng(9)
    n = 8000 * 7
    left = to_int16(rng.standard_normal(n) * 30)
    right = left.copy()
    left[8000:24000] += tone(440.0, 2000, -18.0)
    right[20000:44000] += tone(700.0, 3000, -22.0)
    path = tmp_path / "call.wav"
    sc.write_wav(path, left, right)
    whole = measure_pcm(left, right)
    monkeypatch.setattr(acoustic, "BLOCK_S", 1)
    assert measure(path) == whole
    assert_near(whole.overtalk, [(2.5, 3.0)], 0.004)


def test_mono_is_the_caller_alone(tmp_path: Path) -> None:
    left = np.zeros(8000 * 5, dtype=np.int16)
    left[8000:20000] = tone(440.0, 1500, -18.0)
    path = tmp_path / "mono.wav"
    sc.write_wav(path, left, None)
    got = measure(path)
    assert got.caller_talk_s == pytest.approx(1.5, abs=0.008)
    assert (got.agent_talk_s, got.overtalk, got.agent_speech_rate) == (0.0, (), 0.0)
    assert got.talk_ratio == 0.0
    assert got.longest_silence_s == pytest.approx(2.5, abs=0.008)


def _wav(path: Path, *, channels: int = 2, width: int = 2, rate: int = 8000,
         seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x00" * int(seconds * rate) * channels * width)
    return path


def test_bad_recordings_get_a_clear_reason(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    good = _wav(tmp_path / "good.wav", seconds=2.0)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:3000])
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_bytes(b"this is not a recording at all\n" * 10)
    (tmp_path / "header.wav").write_bytes(good.read_bytes()[:20])
    (tmp_path / "dir.wav").mkdir()
    cases = {
        "missing.wav": "no such recording",
        "dir.wav": "not a regular file",
        "empty.wav": "empty file",
        "text.wav": "not a WAV file",
        "truncated.wav": "truncated WAV",
        "header.wav": "truncated WAV",
        _wav(tmp_path / "u8.wav", width=1).name: "not 16-bit PCM",
        _wav(tmp_path / "cd.wav", rate=44100).name: "not 8 or 16 kHz (44100 Hz)",
        _wav(tmp_path / "three.wav", channels=3).name: "not mono or stereo (3 channels)",
    }
    for name, reason in cases.items():
        with pytest.raises(AcousticError) as caught:
            measure(tmp_path / name)
        assert caught.value.reason == reason, name
        assert isinstance(caught.value, VoiceError)
    monkeypatch.setattr(acoustic, "MAX_SECONDS", 1)
    with pytest.raises(AcousticError, match=r"recording too long \(0\.0 h\)"):
        measure(good)
    with pytest.raises(AcousticError, match="not 8 or 16 kHz"):
        measure_pcm(np.zeros(10, np.int16), None, rate=11025)
    with pytest.raises(AcousticError, match="different lengths"):
        measure_pcm(np.zeros(10, np.int16), np.zeros(11, np.int16))


def test_empty_and_tiny_recordings(tmp_path: Path) -> None:
    got = measure(_wav(tmp_path / "zero.wav", seconds=0.0))
    assert (got.duration_s, got.caller_talk_s, got.silences, got.longest_silence_at) == (
        0.0, 0.0, (), None)
    got = measure_pcm(np.full(5, 20000, np.int16), np.zeros(5, np.int16))
    assert got.caller_talk_s == 0.0 and got.duration_s == pytest.approx(5 / 8000)


def test_wideband_16_khz_measures_like_8_khz() -> None:
    """The same tones at 16 kHz and at 8 kHz: the same spans (frames are in
    seconds), near the tones' edges (a tone cut dead rings a few ms in the
    200 Hz high-pass)."""
    rate = 16000
    t = np.arange(rate * 6) / rate
    left = to_int16(np.where((t >= 0.5) & (t < 2.5), 8000 * np.sin(2 * np.pi * 440 * t), 0.0))
    right = to_int16(np.where((t >= 2.0) & (t < 4.0), 6000 * np.sin(2 * np.pi * 700 * t), 0.0))
    wide = measure_pcm(left, right, rate)
    narrow = measure_pcm(left[::2], right[::2], 8000)
    for got in (wide, narrow):
        assert got.caller_talk_s == pytest.approx(2.0, abs=0.012)
        assert got.agent_talk_s == pytest.approx(2.0, abs=0.012)
        assert_near(got.overtalk, [(2.0, 2.5)], 0.012)
        assert_near(got.silences, [(4.0, 6.0)], 0.012)
    assert_near(wide.overtalk, list(narrow.overtalk), 0.002)
    assert wide.caller_talk_s == pytest.approx(narrow.caller_talk_s, abs=0.004)
