"""The assistant's listening turn on fakes: speech barge-in, the cut answer, noise turns.

``bailanys.engine.robotturn.Turn`` and ``RobotService``'s batch with a fake
call leg whose prompts play until stopped, and a fake recogniser: the
caller's 20 ms frames are handed to the turn as the media tap would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bailanys.config import RobotConfig
from bailanys.engine.robot import RobotService
from bailanys.engine.robotturn import Turn
from bailanys.media.player import EncodedAudio
from bailanys.robot.assistant import Heard, Listen
from bailanys.robot.service_io import Say
from bailanys.robot.turns import BARGE_IN_S, END_QUIET_S, FRAME_S, Interrupted
from bailanys.voice.grammar import SpeechResult
from tests.engine.fakes import FakeEvents, FakeLeg, FakePrompts

VOICE = (3000 * np.sin(np.arange(160) * 0.3)).astype(np.int16)  # ~-23 dBFS
QUIET = np.zeros(160, dtype=np.int16)
PROMPT_S = 3.0
ANSWER = EncodedAudio.from_pcm(np.zeros(int(PROMPT_S * 8000), dtype=np.int16))


class Prompts(FakePrompts):
    """Every sentence lasts PROMPT_S."""

    def text(self, lang: str, text: str) -> EncodedAudio:
        return ANSWER


class Leg(FakeLeg):
    """Prompts last PROMPT_S unless stopped; counts the stops."""

    def __init__(self) -> None:
        super().__init__(silence_s=5.0)
        self.stops = 0
        self._cut = asyncio.Event()

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool:
        self.played.append(audio)
        self._cut.clear()
        try:
            await asyncio.wait_for(self._cut.wait(), audio.duration)
        except TimeoutError:
            return True
        return False

    def stop_playback(self) -> None:
        self.stops += 1
        self._cut.set()

    def frames(self, pcm: np.ndarray, n: int) -> None:
        for _ in range(n):
            self.listening(pcm)


class Session:
    def __init__(self, on_result: Callable[[SpeechResult], None], final: str) -> None:
        self.on_result = on_result
        self.fed = 0
        self.final = final
        self.late = ""
        self.closed = False

    def feed(self, pcm: np.ndarray) -> None:
        self.fed += 1

    async def finish(self) -> SpeechResult | None:
        """As GrammarSession: the final job's results reach ``on_result`` too; a job
        that was running may deliver one (``late``) while the final one finds nothing."""
        if self.late:
            self.on_result(SpeechResult("kk", self.late, 0.9, self.late, True))
            return None
        result = SpeechResult("kk", self.final, 0.9, self.final or None, bool(self.final))
        if self.final:
            self.on_result(result)
        return result

    def close(self) -> None:
        self.closed = True


class Asr:
    def __init__(self, final: str = "") -> None:
        self.sessions: list[Session] = []
        self.final = final

    def available(self, lang: str) -> bool:
        return True

    def transcription_session(self, lang: str,
                              on_result: Callable[[SpeechResult], None]) -> Session:
        self.sessions.append(Session(on_result, self.final))
        return self.sessions[-1]


async def _robot(tmp_path: Path) -> RobotService:
    robot = RobotService(
        settings=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""), events=FakeEvents(),
        prompts=Prompts(), speech=lambda: None, database=lambda: None)
    await robot.start()
    return robot


async def test_a_cough_does_not_cut_the_prompt_and_is_not_the_turn() -> None:
    call, asr = Leg(), Asr()
    turn = Turn(call, asr, "kk")
    play = asyncio.ensure_future(call.play(EncodedAudio.from_pcm(np.zeros(4000, np.int16))))
    await asyncio.sleep(0)
    call.frames(VOICE, int(0.2 / FRAME_S))  # a 200 ms cough
    call.frames(QUIET, 20)
    assert await play is True and call.stops == 0 and not turn.barged
    said = await turn.wait(Listen(timeout_s=0.2))  # the cough over the prompt is forgotten
    assert type(said).__name__ == "NoInput"
    turn.close()
    assert call.listening is None and asr.sessions[0].closed


async def test_sustained_speech_cuts_the_prompt_at_300_ms() -> None:
    call, asr = Leg(), Asr()
    turn = Turn(call, asr, "kk")
    play = asyncio.ensure_future(call.play(ANSWER))
    await asyncio.sleep(0)
    call.frames(VOICE, round(BARGE_IN_S / FRAME_S) - 1)
    assert call.stops == 0
    call.frames(VOICE, 1)
    assert call.stops == 1 and turn.barged
    assert await play is False
    call.frames(VOICE, 20)  # still speaking: no second stop
    assert call.stops == 1
    asr.sessions[0].on_result(SpeechResult("kk", "паспорт", 0.9, "паспорт", True))
    assert await turn.wait(Listen()) == "паспорт"
    turn.close()


async def test_voice_then_quiet_with_no_words_ends_the_turn_as_noise() -> None:
    call, asr = Leg(), Asr(final="")
    turn = Turn(call, asr, "kk")
    waiting = asyncio.ensure_future(turn.wait(Listen(timeout_s=5.0, max_s=10.0)))
    await asyncio.sleep(0.06)
    call.frames(VOICE, 5)
    call.frames(QUIET, round(END_QUIET_S / FRAME_S))
    assert await asyncio.wait_for(waiting, 1.0) == ""
    assert call.listening is None  # the tap was released when the turn was cut
    turn.close()


async def test_words_delivered_while_the_turn_is_cut_are_the_turn() -> None:
    call, asr = Leg(), Asr()
    turn = Turn(call, asr, "kk")
    asr.sessions[0].late = "куәлік жоғалды"
    waiting = asyncio.ensure_future(turn.wait(Listen(timeout_s=5.0, max_s=10.0)))
    await asyncio.sleep(0.06)
    call.frames(VOICE, 50)
    call.frames(QUIET, round(END_QUIET_S / FRAME_S))
    assert await asyncio.wait_for(waiting, 1.0) == "куәлік жоғалды"
    turn.close()


@pytest.mark.parametrize(("final", "frames", "noise"), [("", 50, True),
                                                         ("когда пенсия", 50, False)])
async def test_the_batch_reports_the_cut_answer_then_the_turn(
    tmp_path: Path, final: str, frames: int, noise: bool
) -> None:
    robot = await _robot(tmp_path)
    robot.transcript_hook = lambda lang, text: text
    try:
        call, asr = Leg(), Asr(final=final)
        turn = Turn(call, asr, "kk")
        answer, more = Say("Жауап.", "kk"), Say("Тағы сұрағыңыз болса, қойыңыз.", "kk")
        batch = asyncio.ensure_future(robot._assistant_batch(
            call, "kk", [answer, more, Listen(timeout_s=5.0, max_s=10.0)], turn, ""))
        await asyncio.sleep(0.5)  # half a second of the answer is heard
        call.frames(VOICE, frames)
        call.frames(QUIET, round(END_QUIET_S / FRAME_S))
        inputs, back = await asyncio.wait_for(batch, 2.0)
        turn.close()
        assert back is None and len(call.played) == 1  # "more" was skipped
        cut, heard = inputs
        assert isinstance(cut, Interrupted) and cut.text == answer.text and cut.by == "speech"
        assert 0.5 <= cut.played_s <= 0.5 + 0.2 and cut.length_s == call.played[0].duration
        assert isinstance(heard, Heard) and heard.noise is noise
    finally:
        await robot.stop()


async def test_a_key_cut_is_reported_as_a_key(tmp_path: Path) -> None:
    robot = await _robot(tmp_path)
    try:
        call = Leg()
        saying = asyncio.ensure_future(robot._say_cut(call, Say("Жауап.", "kk"), None))
        await asyncio.sleep(0.3)
        call.press("3")
        call.stop_playback()  # what the call does with a key: the player's barge_in
        cut = await saying
        assert cut is not None and cut.by == "key" and 0.3 <= cut.played_s < 0.5
    finally:
        await robot.stop()
