"""Turn-taking decisions (bailanys.robot.turns): when speech cuts a prompt, what is noise."""

from __future__ import annotations

import pytest

from bailanys.robot.turns import (
    BARGE_IN_S,
    FRAME_S,
    GAP_S,
    MIN_TURN_S,
    BargeIn,
    is_noise,
    played,
)

NEED = round(BARGE_IN_S / FRAME_S)  # 15 frames
GAP = round(GAP_S / FRAME_S)  # 10 frames


def _feed(b: BargeIn, pattern: str) -> int | None:
    """'v' voiced, '.' quiet; the index of the frame that fired, or None."""
    for i, c in enumerate(pattern):
        if b.push(c == "v"):
            return i
    return None


def test_sustained_speech_fires_on_the_frame_it_reaches_300_ms() -> None:
    assert _feed(BargeIn(), "..." + "v" * 40) == 3 + NEED - 1


def test_a_cough_or_a_click_never_fires() -> None:
    click = "vv" + "." * 20  # 40 ms
    cough = "v" * (NEED - 3) + "." * GAP  # 240 ms of voice, then a breath
    assert _feed(BargeIn(), (click + cough) * 20) is None


def test_dips_between_syllables_do_not_restart_the_count() -> None:
    syllables = ("vvvv" + "." * (GAP - 1)) * 4  # 80 ms voice, 180 ms dips
    assert _feed(BargeIn(), syllables) is not None


def test_a_long_gap_restarts_the_count() -> None:
    b = BargeIn()
    assert _feed(b, "v" * (NEED - 1) + "." * GAP + "v" * (NEED - 1)) is None
    assert b.push(True)  # the next voiced frame completes the second run
    assert b.voiced_s == pytest.approx((2 * NEED - 1) * FRAME_S)


def test_once_fired_it_stays_fired_and_counts_quiet() -> None:
    b = BargeIn()
    _feed(b, "v" * NEED)
    assert all([b.push(False) for _ in range(100)])
    assert b.quiet_s == pytest.approx(100 * FRAME_S)


@pytest.mark.parametrize(("text", "voiced_s", "noise"), [
    ("", 3.0, True),  # voice, but nothing recognised
    ("   ", 3.0, True),
    ("а", MIN_TURN_S / 2, True),  # a click recognised as a word
    ("когда пенсия", 1.2, False),
    ("иә", MIN_TURN_S, False),
    ("когда будет готов паспорт", 0.0, False),  # a quiet caller under the detector's level
])
def test_noise_turns(text: str, voiced_s: float, noise: bool) -> None:
    assert is_noise(text, voiced_s) is noise


def test_played_is_clamped_to_the_prompt() -> None:
    assert played(10.0, 12.345, 5.0) == 2.35
    assert played(10.0, 19.0, 5.0) == 5.0
    assert played(10.0, 9.0, 5.0) == 0.0
