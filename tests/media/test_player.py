"""Prompt player: pre-encoded G.711 frames, play futures, barge-in (no clock: frames on demand)."""

from __future__ import annotations

import numpy as np
import pytest

from bailanys.media import g711
from bailanys.media.player import SAMPLES_PER_FRAME, SILENCE_BYTE, EncodedAudio, Player

N = SAMPLES_PER_FRAME


def ramp(n: int, start: int = 1) -> np.ndarray:
    """Distinct non-zero samples, so every frame is recognisable."""
    return (np.arange(n, dtype=np.int64) * 37 % 20000 + start).astype(np.int16)


def audio(frames: float, start: int = 1) -> EncodedAudio:
    return EncodedAudio.from_pcm(ramp(int(frames * N), start))


# ------------------------------------------------------------ EncodedAudio


@pytest.mark.parametrize(("samples", "frames"), [(0, 1), (1, 1), (160, 1), (161, 2), (250, 2),
                                                 (480, 3)])
def test_encoded_audio_pads_to_whole_frames(samples: int, frames: int) -> None:
    pcm = ramp(samples)
    enc = EncodedAudio.from_pcm(pcm)
    assert enc.frames == frames
    assert len(enc.pcm) == frames * N
    assert enc.duration == pytest.approx(frames * 0.020)
    np.testing.assert_array_equal(enc.pcm[:samples], pcm)
    assert not enc.pcm[samples:].any()
    assert set(enc.encoded) == {"PCMU", "PCMA"}
    assert enc.encoded["PCMU"] == g711.ulaw_encode(enc.pcm)
    assert enc.encoded["PCMA"] == g711.alaw_encode(enc.pcm)
    assert len(enc.encoded["PCMU"]) == len(enc.encoded["PCMA"]) == frames * N
    tail = frames * N - samples
    assert enc.encoded["PCMU"][samples:] == bytes([SILENCE_BYTE["PCMU"]]) * tail
    assert enc.encoded["PCMA"][samples:] == bytes([SILENCE_BYTE["PCMA"]]) * tail


def test_silence_bytes_are_g711_zero() -> None:
    zero = np.zeros(1, np.int16)
    assert g711.ulaw_encode(zero) == bytes([SILENCE_BYTE["PCMU"]])
    assert g711.alaw_encode(zero) == bytes([SILENCE_BYTE["PCMA"]])


# ------------------------------------------------------------ Player


async def test_idle_player_sends_silence() -> None:
    for codec in ("PCMU", "PCMA"):
        player = Player(codec)
        assert not player.playing
        assert player.next_frame() == bytes([SILENCE_BYTE[codec]]) * N
        assert player.last_pcm is None
        assert player.frames_played == 0


async def test_frames_in_order_then_future_true_then_silence() -> None:
    player = Player()
    prompt = audio(2.5)  # 3 frames
    done = player.play(prompt)
    assert player.playing
    for i in range(3):
        frame = player.next_frame()
        assert frame == prompt.encoded["PCMU"][i * N : (i + 1) * N]
        assert player.last_pcm is not None
        np.testing.assert_array_equal(player.last_pcm, prompt.pcm[i * N : (i + 1) * N])
        assert not done.done()  # resolved when the tick after the last frame finds it ended
    assert player.next_frame() == bytes([0xFF]) * N
    assert done.done() and done.result() is True
    assert player.last_pcm is None
    assert not player.playing
    assert player.frames_played == 3


async def test_queued_prompts_play_back_to_back() -> None:
    player = Player()
    first, second = audio(1, start=1), audio(2, start=5)
    f1, f2 = player.play(first), player.play(second)
    frames = [player.next_frame() for _ in range(3)]
    assert frames == [first.encoded["PCMU"], second.encoded["PCMU"][:N], second.encoded["PCMU"][N:]]
    assert f1.result() is True  # resolved on the tick that moved on to the second
    assert not f2.done()
    player.next_frame()
    assert f2.result() is True


async def test_codec_switch_mid_prompt() -> None:
    player = Player("PCMU")
    prompt = audio(2)
    player.play(prompt)
    assert player.next_frame() == prompt.encoded["PCMU"][:N]
    player.set_codec("PCMA")
    assert player.codec == "PCMA"
    assert player.next_frame() == prompt.encoded["PCMA"][N:]
    assert player.next_frame() == bytes([0xD5]) * N  # silence in the new codec


async def test_barge_in_cuts_interruptible_prompts() -> None:
    player = Player()
    playing, queued = player.play(audio(3)), player.play(audio(3))
    player.next_frame()
    assert player.barge_in() is True
    assert playing.result() is False and queued.result() is False
    assert not player.playing
    assert player.next_frame() == bytes([0xFF]) * N


async def test_non_interruptible_prompt_survives_barge_in() -> None:
    player = Player()
    intro = player.play(audio(2, start=1))
    keep = audio(2, start=9)
    kept = player.play(keep, interruptible=False)
    after = player.play(audio(1, start=3))
    player.next_frame()
    assert player.barge_in() is True
    assert intro.result() is False and after.result() is False
    assert not kept.done()
    assert [player.next_frame() for _ in range(2)] == [keep.encoded["PCMU"][:N],
                                                       keep.encoded["PCMU"][N:]]
    player.next_frame()
    assert kept.result() is True


async def test_barge_in_with_nothing_to_cut() -> None:
    player = Player()
    assert player.barge_in() is False
    kept = player.play(audio(1), interruptible=False)
    assert player.barge_in() is False
    assert not kept.done()


async def test_barge_in_mid_non_interruptible_prompt_keeps_its_position() -> None:
    player = Player()
    prompt = audio(3)
    player.play(prompt, interruptible=False)
    player.next_frame()
    player.barge_in()
    assert player.next_frame() == prompt.encoded["PCMU"][N : 2 * N]


async def test_stop_cuts_everything() -> None:
    player = Player()
    a = player.play(audio(2))
    b = player.play(audio(2), interruptible=False)
    player.next_frame()
    player.stop()
    assert a.result() is False and b.result() is False
    assert not player.playing
    assert player.next_frame() == bytes([0xFF]) * N


async def test_cancelled_future_does_not_break_the_player() -> None:
    # A flow cancelled while awaiting play() cancels the future; the player goes on.
    player = Player()
    fut = player.play(audio(1))
    fut.cancel()
    player.next_frame()
    player.next_frame()
    player.play(audio(1)).cancel()
    player.barge_in()
    player.play(audio(1), interruptible=False).cancel()
    player.stop()
    assert not player.playing


class _Sink:
    """A media core's cursor, by hand: what was loaded, and how far it played."""

    def __init__(self) -> None:
        self.loaded: tuple[bytes | None, int, int] = (None, 0, 0)
        self.pos = 0

    def load(self, encoded: bytes | None, pos: int, frames: int) -> None:
        self.loaded = (encoded, pos, frames)
        self.pos = pos

    def position(self) -> int:
        return self.pos


async def test_a_bound_player_loads_its_sink_and_moves_on_when_told() -> None:
    one = EncodedAudio.from_pcm(np.full(480, 100, np.int16))  # 3 frames
    two = EncodedAudio.from_pcm(np.full(160, 200, np.int16))  # 1 frame
    player, sink = Player("PCMU"), _Sink()
    player.bind(sink)
    assert sink.loaded == (None, 0, 0)
    first = player.play(one)
    second = player.play(two, interruptible=False)
    assert sink.loaded == (one.encoded["PCMU"], 0, 3)
    sink.pos = 3  # the core sent the three frames
    player.finished()
    assert first.done() and first.result() is True
    assert sink.loaded == (two.encoded["PCMU"], 0, 1) and player.frames_played == 3
    player.set_codec("PCMA")  # reloads at the same place in the other law
    assert sink.loaded == (two.encoded["PCMA"], 0, 1)
    third = player.play(one)
    assert not player.barge_in() or not third.result()  # the non-interruptible head stays
    assert sink.loaded == (two.encoded["PCMA"], 0, 1)
    frame = player.next_frame()  # Python takes one frame: the sink is told where to go on
    assert frame == two.encoded["PCMA"][:160] and sink.loaded == (two.encoded["PCMA"], 1, 1)
    player.unbind()
    assert sink.loaded == (None, 0, 0) and not player.bound
    assert player.next_frame() == b"\xd5" * 160 and second.result() is True
