"""The line test (ivr_flows/linetest.yaml) on a fake call with a scripted timeline.

The flow runs in the ordinary flow runner; :func:`run_demo` below executes
its actions on the fake call as :class:`~bailanys.ivr.session.IvrSession`
does on a real one (prompts played in order, a key pressed before an
interruptible prompt starts cuts it, timers on the call's clock).

Prompts come from a real :class:`PromptLibrary` fed by a fake renderer that
writes one short tone per text (its frequency encodes the text's index), so
a read-back can be checked word by word without TTS.

The fake call keeps its own clock: ``play`` advances it by the prompt's
duration, ``next_digit`` by the wait.  A key scripted to arrive while an
interruptible prompt plays cuts it (``play`` returns False), as the real
player's barge-in does; a key that arrived and was not read yet is
``pending_digit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from bailanys.engine.flowfiles import LINE_TEST_FLOW, load_builtin, prompt_audio, with_waits
from bailanys.engine.prompts import WORD_GAP_MS, PromptLibrary
from bailanys.ivr.model import Collect, Menu
from bailanys.ivr.runner import (
    Action,
    CancelTimer,
    Digit,
    FlowRunner,
    HangUpCall,
    Play,
    PlayDone,
    SetCallLanguage,
    StartTimer,
    StopPlayback,
    TimerFired,
)
from bailanys.media.player import SAMPLES_PER_FRAME, EncodedAudio
from bailanys.voice import phrases
from bailanys.voice.audio import concat, tone, write_wav
from bailanys.voice.tts import PromptRenderer

TONE_MS = 40  # every fake prompt lasts 40 ms (two frames)
NO_INPUT = 10.0


def freq_of(index: int) -> float:
    return 200.0 + 10.0 * index


class ToneRenderer:
    """``render_all`` as PromptRenderer has it: one WAV per (lang, text), in order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.index: dict[tuple[str, str], int] = {}

    async def render_all(self, items: Iterable[tuple[str, str]]) -> list[Path]:
        paths = []
        for i, item in enumerate(items):
            self.index.setdefault(item, i)
            path = self.directory / f"{i}.wav"
            write_wav(path, tone(freq_of(self.index[item]), TONE_MS))
            paths.append(path)
        return paths

    def pcm(self, lang: str, text: str) -> np.ndarray:
        return tone(freq_of(self.index[(lang, text)]), TONE_MS)


@pytest.fixture
async def library(tmp_path: Path) -> tuple[PromptLibrary, ToneRenderer]:
    renderer = ToneRenderer(tmp_path)
    lib = PromptLibrary(cast(PromptRenderer, renderer))
    await lib.prepare()
    return lib, renderer


class FakeCall:
    """A CallControl whose keys arrive at scripted times on its own clock."""

    id = "call-demo"

    def __init__(self, keys: Iterable[tuple[float, str]] = ()) -> None:
        self.now = 0.0
        self.keys = sorted(keys, key=lambda k: k[0])  # (arrival time, key), not yet read
        self.played: list[tuple[EncodedAudio, bool, bool]] = []  # audio, interruptible, done
        self.waits: list[float] = []
        self.language: str | None = None
        self.hangups: list[str] = []

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool:
        end = self.now + audio.duration
        arriving = [t for t, _ in self.keys if self.now < t < end]
        if interruptible and arriving:
            self.now = arriving[0]
            self.played.append((audio, interruptible, False))
            return False
        self.now = end
        self.played.append((audio, interruptible, True))
        return True

    async def next_digit(self, wait_s: float) -> str | None:
        self.waits.append(wait_s)
        if self.keys and self.keys[0][0] <= self.now + wait_s:
            at, key = self.keys.pop(0)
            self.now = max(self.now, at)
            return key
        self.now += wait_s
        return None

    def pending_digit(self) -> str | None:
        if self.keys and self.keys[0][0] <= self.now:
            return self.keys[0][1]
        return None

    def set_language(self, lang: str) -> None:
        self.language = lang

    async def hangup(self, cause: str) -> None:
        self.hangups.append(cause)


LINE_TEST = load_builtin(LINE_TEST_FLOW)
MENU_NODE = LINE_TEST.node("language")
KEYS_NODE = LINE_TEST.node("keys")
assert isinstance(MENU_NODE, Menu) and isinstance(KEYS_NODE, Collect)
MAX_TRIES = 1 + MENU_NODE.retry.retries
MAX_DIGITS = KEYS_NODE.max_length
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def run_demo(call: FakeCall, prompts: PromptLibrary, *, no_input: float) -> None:
    """Run the line test's flow on ``call`` to its hang-up (see the module docstring)."""
    runner = FlowRunner(with_waits(LINE_TEST, no_input))
    queued: list[Play] = []
    timer: StartTimer | None = None
    actions: list[Action] = runner.start(NOW)
    while True:
        for action in actions:
            if isinstance(action, Play):
                queued.append(action)
            elif isinstance(action, StopPlayback):
                queued.clear()
            elif isinstance(action, StartTimer):
                timer = action
            elif isinstance(action, CancelTimer):
                timer = None
            elif isinstance(action, SetCallLanguage):
                call.set_language(action.lang)
            elif isinstance(action, HangUpCall):
                await call.hangup(action.cause)
                return
        if call.pending_digit() is not None and (not queued or queued[0].barge_in):
            key = await call.next_digit(0.0)  # pressed before the prompt: it never starts
            assert key is not None
            actions = runner.handle(Digit(key), NOW)
        elif queued:
            play = queued.pop(0)
            done = await call.play(prompt_audio(prompts, play.prompt, play.lang),
                                   interruptible=play.barge_in)
            actions = runner.handle(PlayDone(play.token, done), NOW)
        else:
            assert timer is not None, "the flow waits for nothing"
            fired, timer = timer, None
            key = await call.next_digit(fired.seconds)
            timer = fired if key is not None else None
            actions = runner.handle(Digit(key) if key is not None else TimerFired(fired.token),
                                    NOW)


def names(call: FakeCall, lib: PromptLibrary) -> list[str]:
    """What was played, as "lang:prompt_id" (identity of the prepared audio) or "readback"."""
    known = {
        id(lib.prompt(p, lang)): f"{lang}:{p}"
        for p in phrases.DEMO_PROMPTS
        for lang in lib.languages
    }
    return [known.get(id(audio), "readback") for audio, _, _ in call.played]


def expected_readback(renderer: ToneRenderer, lang: str, digits: str) -> np.ndarray:
    words = [renderer.pcm(lang, phrases.readback_intro(lang))]
    words += [renderer.pcm(lang, phrases.digit_word(lang, d)) for d in digits]
    pcm = concat(*words, gap_ms=WORD_GAP_MS)
    frames = -(-len(pcm) // SAMPLES_PER_FRAME)
    return np.concatenate([pcm, np.zeros(frames * SAMPLES_PER_FRAME - len(pcm), np.int16)])


MENU = ["kk:greeting", "ru:greeting", "kk:choose_language", "ru:choose_language"]
MENU_END = 4 * TONE_MS / 1000  # the four menu prompts end here


async def test_press_2_russian_digits_read_back(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, renderer = library
    call = FakeCall([(1.0, "2"), (2.0, "1"), (2.5, "2"), (3.0, "3"), (3.5, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == [*MENU, "ru:enter_digits", "readback", "ru:goodbye"]
    assert call.language == "ru"
    readback = call.played[-2][0]
    np.testing.assert_array_equal(readback.pcm, expected_readback(renderer, "ru", "123"))
    assert [(i, done) for _, i, done in call.played[-2:]] == [(False, True), (False, True)]
    assert call.hangups == ["normal"]
    assert call.keys == []


async def test_press_1_kazakh_and_immediate_pound_says_nothing_pressed(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, renderer = library
    call = FakeCall([(1.0, "1"), (1.5, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == [*MENU, "kk:enter_digits", "readback", "kk:goodbye"]
    assert call.language == "kk"
    nothing = lib.text("kk", phrases.digits_readback("kk", ""))
    assert call.played[-2][0] is nothing
    assert call.hangups == ["normal"]


async def test_kazakh_read_back_uses_kazakh_words_and_star(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, renderer = library
    call = FakeCall([(1.0, "1"), (2.0, "0"), (2.1, "*"), (2.2, "9"), (2.3, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    np.testing.assert_array_equal(call.played[-2][0].pcm, expected_readback(renderer, "kk", "0*9"))


async def test_silence_while_collecting_digits_ends_the_collection(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, renderer = library
    call = FakeCall([(1.0, "2"), (2.0, "4"), (2.5, "5")])
    await run_demo(call, lib, no_input=NO_INPUT)
    np.testing.assert_array_equal(call.played[-2][0].pcm, expected_readback(renderer, "ru", "45"))
    assert call.waits[-1] == NO_INPUT
    assert call.hangups == ["normal"]


async def test_digits_are_capped(library: tuple[PromptLibrary, ToneRenderer]) -> None:
    lib, renderer = library
    keys = [(1.0, "2")] + [(2.0 + i * 0.1, "7") for i in range(MAX_DIGITS + 5)]
    call = FakeCall(keys)
    await run_demo(call, lib, no_input=NO_INPUT)
    expected = expected_readback(renderer, "ru", "7" * MAX_DIGITS)
    np.testing.assert_array_equal(call.played[-2][0].pcm, expected)
    assert len(call.keys) == 5  # left unread


async def test_invalid_key_then_valid(library: tuple[PromptLibrary, ToneRenderer]) -> None:
    lib, _ = library
    call = FakeCall([(1.0, "5"), (2.0, "2"), (3.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == [
        *MENU,
        "kk:invalid_choice", "ru:invalid_choice",
        "kk:choose_language", "ru:choose_language",  # no greeting the second time
        "ru:enter_digits", "readback", "ru:goodbye",
    ]
    assert call.language == "ru"


async def test_three_no_inputs_say_goodbye_in_both_languages(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, _ = library
    call = FakeCall()
    await run_demo(call, lib, no_input=NO_INPUT)
    again = ["kk:invalid_choice", "ru:invalid_choice", "kk:choose_language", "ru:choose_language"]
    assert names(call, lib) == [
        *MENU,
        *again,
        *again,
        "kk:invalid_choice", "ru:invalid_choice",
        "kk:goodbye", "ru:goodbye",
    ]
    assert call.waits == [NO_INPUT] * MAX_TRIES
    assert [i for _, i, _ in call.played[-2:]] == [False, False]  # goodbyes are not cut
    assert call.language is None
    assert call.hangups == ["no_input"]


async def test_three_wrong_keys_end_the_call(library: tuple[PromptLibrary, ToneRenderer]) -> None:
    lib, _ = library
    call = FakeCall([(1.0, "9"), (2.0, "*"), (3.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib)[-2:] == ["kk:goodbye", "ru:goodbye"]
    assert call.hangups == ["no_input"]


async def test_key_during_greeting_skips_the_remaining_prompts(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, _ = library
    call = FakeCall([(0.01, "2"), (1.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == ["kk:greeting", "ru:enter_digits", "readback", "ru:goodbye"]
    assert call.played[0][2] is False  # the greeting was cut
    assert call.language == "ru"


async def test_key_during_choice_prompt_cuts_it(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, _ = library
    call = FakeCall([(MENU_END - 0.01, "1"), (1.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib)[:4] == MENU
    assert [done for _, _, done in call.played[:4]] == [True, True, True, False]
    assert call.language == "kk"


async def test_key_typed_ahead_after_a_wrong_one_skips_invalid_choice(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    # "5" then "2" at once: the caller already corrected the choice.
    lib, _ = library
    call = FakeCall([(1.0, "5"), (1.0, "2"), (3.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == [*MENU, "ru:enter_digits", "readback", "ru:goodbye"]


async def test_digits_typed_ahead_skip_the_enter_digits_prompt(
    library: tuple[PromptLibrary, ToneRenderer],
) -> None:
    lib, renderer = library
    call = FakeCall([(1.0, "2"), (1.0, "4"), (1.0, "2"), (1.0, "#")])
    await run_demo(call, lib, no_input=NO_INPUT)
    assert names(call, lib) == [*MENU, "readback", "ru:goodbye"]
    np.testing.assert_array_equal(call.played[-2][0].pcm, expected_readback(renderer, "ru", "42"))
